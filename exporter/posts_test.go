package exporter

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

func TestCadenceAndPostBook(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	b := NewPostBook()
	young, mid, old := now.Add(-time.Hour), now.Add(-24*time.Hour), now.Add(-72*time.Hour)
	ids := []string{"young", "mid", "old", "new"}
	// Nothing polled yet: every post is due.
	if got := b.Due(ids, DefaultCadence, now); len(got) != 4 {
		t.Fatalf("first refresh due = %v", got)
	}
	for id, pub := range map[string]time.Time{"young": young, "mid": mid, "old": old} {
		b.Store(id, pub, now, []Sample{PostViews.Sample(1, "c", "k", "p", id)})
	}
	for _, tc := range []struct {
		after time.Duration
		want  []string
	}{
		{time.Minute, []string{"new", "young"}},
		{5 * time.Minute, []string{"young", "mid", "new"}},
		{15 * time.Minute, []string{"young", "mid", "old", "new"}},
	} {
		got := b.Due(ids, DefaultCadence, now.Add(tc.after))
		if !sameSet(got, tc.want) {
			t.Errorf("after %s due = %v, want %v", tc.after, got, tc.want)
		}
	}
	if got := len(b.Samples(nil)); got != 3 {
		t.Errorf("samples = %d, want 3", got)
	}
	if got := len(b.Samples(map[string]bool{"young": true})); got != 1 {
		t.Errorf("samples after forgetting = %d, want 1", got)
	}
}

func TestCadenceValidate(t *testing.T) {
	cfg := &Config{file: "c.yml", pos: map[string]position{}}
	bad := Cadence{{Age: 0, Every: model.Duration(time.Minute)}, {Age: 0, Every: model.Duration(time.Hour)}}
	if err := bad.Validate(cfg, "collectors[0].options.post_refresh"); err == nil || err.Error() != "c.yml: collectors[0].options.post_refresh[1].age: steps must be sorted by age, 0s is not after 0s" {
		t.Errorf("got %v", err)
	}
	if err := DefaultCadence.Validate(cfg, "x"); err != nil {
		t.Error(err)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		if !m[x] {
			return false
		}
	}
	return true
}

func TestAccountMatch(t *testing.T) {
	a := AccountRef{Account: &Account{Match: "#Spring"}}
	for text, want := range map[string]bool{
		"New drop! #spring #ad":   true,
		"#SPRING!":                true,
		"#springtime is here":     false,
		"spring without the hash": false,
	} {
		if got := a.Matches(text); got != want {
			t.Errorf("Matches(%q) = %t", text, got)
		}
	}
	kw := AccountRef{Account: &Account{Match: "Spring Kit"}}
	if !kw.Matches("my new spring kit review") || kw.Matches("spring") {
		t.Error("keyword match")
	}
	start, end := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	w := AccountRef{Start: &start, End: &end}
	if !w.InWindow(start) || w.InWindow(end) || w.InWindow(start.Add(-time.Second)) {
		t.Error("InWindow")
	}
}

func TestPostsConfig(t *testing.T) {
	cfg := `collectors:
  - type: fake
campaigns:
  - name: spring
    start: 2026-05-01T00:00:00Z
    end: 2026-04-01T00:00:00Z
    creators:
      - name: alice
        posts:
          - {collector: fake, id: "123"}
          - {collector: fake, id: "123"}
        accounts:
          - {collector: fake, id: "", match: "#"}
`
	_, err := ParseConfig("posts.yml", []byte(cfg))
	for _, want := range []string{
		`posts.yml:6:5: campaigns[0].end: campaign ends (2026-04-01T00:00:00Z) before it starts (2026-05-01T00:00:00Z)`,
		`posts.yml:11:31: campaigns[0].creators[0].posts[1].id: duplicate post "123" (first at campaigns[0].creators[0].posts[0])`,
		`posts.yml:13:31: campaigns[0].creators[0].accounts[0].id: account id is empty`,
		`posts.yml:13:39: campaigns[0].creators[0].accounts[0].match: invalid match "#": a hashtag like #spring or a keyword`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

// bookCollector polls posts through a PostBook as the social collectors
// do: each refresh reads the due posts, and returns the book's samples.
type bookCollector struct {
	book *PostBook
	now  time.Time
	pub  map[string]time.Time
	read []string // posts read by the last refresh
}

func (c *bookCollector) Poll(context.Context) ([]Sample, error) {
	ids := []string{"young", "old"}
	c.read = c.book.Due(ids, DefaultCadence, c.now)
	for _, id := range c.read {
		c.book.Store(id, c.pub[id], c.now, []Sample{PostViews.Sample(float64(c.now.Unix()), "spring", "alice", "fake", id)})
	}
	return c.book.Samples(nil), nil
}

// TestPostsNotDueAreExported: a post the cadence does not poll on a
// refresh keeps its last values in the book's samples, so coverage counts
// it exported, not skipped or missing.
func TestPostsNotDueAreExported(t *testing.T) {
	cfg, err := ParseConfig("posts.yml", []byte(`
collectors:
  - type: fake
    name: social
campaigns:
  - name: spring
    creators:
      - name: alice
        posts:
          - {collector: social, id: young}
          - {collector: social, id: old}
`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	col := &bookCollector{book: NewPostBook(), now: now, pub: map[string]time.Time{"young": now.Add(-time.Hour), "old": now.Add(-72 * time.Hour)}}
	inst := &Instance{Name: "social", Type: "fake", Interval: time.Minute, Config: cfg.Collectors[0], Collector: col}
	cache := NewCache()
	s := &Scheduler{Cache: cache}
	s.Refresh(context.Background(), inst)
	col.now = now.Add(time.Minute)
	s.Refresh(context.Background(), inst)
	if len(col.read) != 1 || col.read[0] != "young" {
		t.Fatalf("second refresh read %v, want the young post only", col.read)
	}
	st := cache.Status()[0]
	if len(st.Gaps) != 0 || st.Objects[StateExported] != 2 {
		t.Errorf("objects %v, gaps %+v: want both posts exported", st.Objects, st.Gaps)
	}
	// The old post's series carries its value of the first refresh.
	for _, smp := range cache.samplesOf("social") {
		if smp.Label("post") == "old" && smp.Value != float64(now.Unix()) {
			t.Errorf("old post = %g, want its last value %d", smp.Value, now.Unix())
		}
	}
}

// PolledAt is the read time given to Store, whether or not later refreshes
// repeat the post's values.
func TestPostBookPolledAt(t *testing.T) {
	b := NewPostBook()
	if _, ok := b.PolledAt("p"); ok {
		t.Error("an empty book knows a poll")
	}
	read := time.Date(2026, 6, 1, 12, 0, 30, 0, time.UTC)
	b.Store("p", read.Add(-time.Hour), read, []Sample{PostViews.Sample(1, "spring", "alice", "fake", "p")})
	if due := b.Due([]string{"p"}, DefaultCadence, read.Add(30*time.Second)); len(due) != 0 {
		t.Fatalf("due %v, want none", due)
	}
	b.Samples(nil)
	if at, ok := b.PolledAt("p"); !ok || !at.Equal(read) {
		t.Errorf("PolledAt = %s, %v; want %s", at, ok, read)
	}
	b.Samples(map[string]bool{})
	if _, ok := b.PolledAt("p"); ok {
		t.Error("a post the book forgot still has a poll")
	}
}

package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestSplitLinkID checks both id forms: SplitLinkID wants host/path, and
// SplitRootLinkID also takes a domain's root link (host or host/).
func TestSplitLinkID(t *testing.T) {
	for _, tc := range []struct {
		root           bool
		id, host, path string
		ok             bool
	}{
		{false, "bit.ly/Abc", "bit.ly", "Abc", true},
		{false, "Dub.SH/spring/alice", "dub.sh", "spring/alice", true},
		{false, "bit.ly/", "", "", false},
		{false, "/abc", "", "", false},
		{false, "bit.ly", "", "", false},
		{false, "bit.ly/a?b=c", "", "", false},
		{true, "bit.ly/Abc", "bit.ly", "Abc", true},
		{true, "Short.GY/", "short.gy", "", true},
		{true, "short.gy", "short.gy", "", true},
		{true, " short.gy ", "short.gy", "", true},
		{true, "/abc", "", "", false},
		{true, "/", "", "", false},
		{true, "", "", "", false},
		{true, "short.gy?a=b", "", "", false},
		{true, "short.gy/a?b=c", "", "", false},
	} {
		split, name := SplitLinkID, "SplitLinkID"
		if tc.root {
			split, name = SplitRootLinkID, "SplitRootLinkID"
		}
		host, path, ok := split(tc.id)
		if host != tc.host || path != tc.path || ok != tc.ok {
			t.Errorf("%s(%q) = %q, %q, %t", name, tc.id, host, path, ok)
		}
	}
}

func TestLinkReport(t *testing.T) {
	alice := LinkRef{Campaign: "spring", Creator: "alice", Link: &Link{ID: "bit.ly/a", URL: "https://go.example/a", Expect: &Expect{Host: "shop.example"}}}
	bob := LinkRef{Campaign: "spring", Creator: "bob", Link: &Link{ID: "bit.ly/b"}}
	emmaTag := TagRef{Campaign: "summer", Creator: "emma", Tag: &Tag{Tag: "emma"}}

	r := NewLinkReport("bitly")
	r.Configured(alice, "https://bit.ly/a", "https://shop.example/a", 10)
	r.Configured(bob, "https://bit.ly/b", "", 3)
	r.Discovered(emmaTag, "BIT.LY/a", "https://bit.ly/a", "", 99) // configured wins
	r.Discovered(emmaTag, "bit.ly/e", "https://bit.ly/e", "https://shop.example/e", 7)
	if !r.Seen("Bit.ly/e") || r.Seen("bit.ly/E") {
		t.Error("Seen: host is case-insensitive, path is not")
	}
	r.Skip("spring", "carol", "bit.ly/gone", fmt.Errorf(`bitly: link "bit.ly/gone": %w`, ErrNotFound))
	r.Discovered(emmaTag, "bit.ly/gone", "https://bit.ly/gone", "", 1) // skipped: not reported by tag
	r.Note(errors.New(`bitly: tag "x": cannot be resolved`))

	set := NewLinkSet()
	samples, err := r.Finish(set, "bitly-eu")
	if !IsPartial(err) || !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"bit.ly/gone"`) || !strings.Contains(err.Error(), `tag "x"`) {
		t.Errorf("err = %v, want a partial error", err)
	}
	var oe *ObjectError
	if !errors.As(err, &oe) || oe.Skipped || oe.Object != (Object{Kind: KindLink, Campaign: "spring", Creator: "carol", ID: "bit.ly/gone"}) {
		t.Errorf("object error = %+v, want link bit.ly/gone of carol missing", oe)
	}
	want := `
# HELP influencer_link_clicks_total Clicks on a creator's tracking link, as the link shortener reports its lifetime total.
# TYPE influencer_link_clicks_total counter
influencer_link_clicks_total{campaign="spring",creator="alice",link="bit.ly/a",provider="bitly"} 10
influencer_link_clicks_total{campaign="spring",creator="bob",link="bit.ly/b",provider="bitly"} 3
influencer_link_clicks_total{campaign="summer",creator="emma",link="bit.ly/e",provider="bitly"} 7
`
	if err := testutil.CollectAndCompare(SamplesCollector(samples), strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	pub := set.All()
	if len(pub) != 3 {
		t.Fatalf("published %d links, want 3", len(pub))
	}
	if pub[0].URL != "https://go.example/a" || pub[0].Destination != "https://shop.example/a" || pub[0].Expect == nil || pub[0].Expect.Host != "shop.example" {
		t.Errorf("url override, destination or expect lost: %+v", pub[0])
	}
	if pub[2].Creator != "emma" || pub[2].URL != "https://bit.ly/e" || pub[2].Destination != "https://shop.example/e" {
		t.Errorf("discovered link: %+v", pub[2])
	}

	// A refresh that runs out of time defers links: they are skipped, not
	// missing, and stay published as they were.
	r = NewLinkReport("bitly")
	r.Configured(bob, "https://bit.ly/b", "", 4)
	r.Defer("spring", "alice", "bit.ly/a")
	r.Defer("summer", "emma", "bit.ly/e")
	r.Discovered(emmaTag, "bit.ly/e", "https://bit.ly/e", "", 8) // deferred: not reported
	r.Defer("summer", "emma", "bit.ly/new")                      // never published: nothing to keep
	samples, err = r.Finish(set, "bitly-eu")
	if len(samples) != 1 || samples[0].Value != 4 {
		t.Errorf("samples = %v, want bob's only", samples)
	}
	var pe *PartialError
	if !errors.As(err, &pe) || len(pe.Errs) != 3 {
		t.Fatalf("err = %v, want a partial error of 3 deferred links", err)
	}
	for i, id := range []string{"bit.ly/a", "bit.ly/e", "bit.ly/new"} {
		if !errors.As(pe.Errs[i], &oe) || !oe.Skipped || oe.ID != id || !errors.Is(oe, ErrOutOfTime) || !strings.Contains(oe.Error(), `bitly: link "`+id+`"`) {
			t.Errorf("error %d = %v, want link %s skipped out of time", i, pe.Errs[i], id)
		}
	}
	if pub := set.All(); len(pub) != 3 || pub[0].ID != "bit.ly/a" || pub[0].URL != "https://go.example/a" || pub[2].ID != "bit.ly/e" || pub[2].Destination != "https://shop.example/e" {
		t.Errorf("deferred links not kept published as they were: %+v", pub)
	}
}

func TestLinkTargets(t *testing.T) {
	links := []LinkRef{{Campaign: "spring", Creator: "alice", Link: &Link{ID: "bit.ly/a", URL: "https://go.example/a"}}}
	emmaTag := TagRef{Campaign: "summer", Creator: "emma", Tag: &Tag{Tag: "emma"}}
	targets := LinkTargets(links, []TaggedLink{{Tag: emmaTag, ID: "bit.ly/e"}})
	if len(targets) != 2 || targets[0].Ref != &links[0] || targets[0].ID() != "bit.ly/a" || targets[1].Key() != "bit.ly/e" {
		t.Fatalf("targets = %+v, want the configured link, then the tagged one", targets)
	}
	if camp, cr, _ := targets[1].Owner(); camp != "summer" || cr != "emma" {
		t.Errorf("owner of the tagged link = %s/%s, want summer/emma", camp, cr)
	}

	r := NewLinkReport("bitly")
	targets[0].Report(r, "https://bit.ly/a", "https://shop.example/a", 10)
	targets[1].Report(r, "https://bit.ly/e", "", 7)
	set := NewLinkSet()
	samples, err := r.Finish(set, "bitly")
	if err != nil || len(samples) != 2 {
		t.Fatalf("Finish = %v, %v; want 2 samples", samples, err)
	}
	if pub := set.All(); len(pub) != 2 || pub[0].URL != "https://go.example/a" || pub[1].Creator != "emma" {
		t.Errorf("published %+v: want alice's url override and emma's tagged link", pub)
	}
}

func TestReadTargets(t *testing.T) {
	links := []LinkRef{
		{Campaign: "spring", Creator: "alice", Link: &Link{ID: "bit.ly/a"}},
		{Campaign: "spring", Creator: "bob", Link: &Link{ID: "bit.ly/gone"}},
		{Campaign: "spring", Creator: "carol", Link: &Link{ID: "bit.ly/c"}},
	}
	targets := LinkTargets(links, nil)
	rot := NewRotation()
	ctx, cancel := context.WithCancel(context.Background())
	var calls []string
	read := func(tg LinkTarget) (LinkRead, error) {
		calls = append(calls, tg.ID())
		switch tg.ID() {
		case "bit.ly/gone":
			return LinkRead{}, ErrNotFound
		case "bit.ly/c":
			cancel() // the deadline passes during this call
			return LinkRead{}, ctx.Err()
		}
		return LinkRead{ShortURL: "https://bit.ly/a", Clicks: 5}, nil
	}
	r := NewLinkReport("bitly")
	if err := r.ReadTargets(ctx, rot, targets, func(LinkTarget) bool { return true }, read); err != nil {
		t.Fatalf("ReadTargets: %v", err)
	}
	samples, err := r.Finish(nil, "bitly")
	if len(samples) != 1 || samples[0].Value != 5 {
		t.Errorf("samples = %v, want alice's only", samples)
	}
	var pe *PartialError
	if !errors.As(err, &pe) || len(pe.Errs) != 2 {
		t.Fatalf("err = %v, want bob missing and carol skipped", err)
	}
	var oe *ObjectError
	if !errors.As(pe.Errs[0], &oe) || oe.Skipped || oe.ID != "bit.ly/gone" || !errors.Is(oe, ErrNotFound) || !strings.Contains(oe.Error(), `bitly: link "bit.ly/gone"`) {
		t.Errorf("error 0 = %v, want bob's link missing", pe.Errs[0])
	}
	if !errors.As(pe.Errs[1], &oe) || !oe.Skipped || oe.ID != "bit.ly/c" || !errors.Is(oe, ErrOutOfTime) {
		t.Errorf("error 1 = %v, want carol's link skipped", pe.Errs[1])
	}

	// Out of time from the start: costly links are deferred unread, and
	// carol's, never read, stays first for the next refresh.
	calls = nil
	r = NewLinkReport("bitly")
	costly := func(tg LinkTarget) bool { return tg.ID() != "bit.ly/a" }
	if err := r.ReadTargets(ctx, rot, targets, costly, read); err != nil {
		t.Fatalf("ReadTargets out of time: %v", err)
	}
	if strings.Join(calls, " ") != "bit.ly/a" {
		t.Errorf("calls out of time = %v, want the free link only", calls)
	}
	if got := Rotate(rot, targets, LinkTarget.Key); got[0].ID() != "bit.ly/c" {
		t.Errorf("next refresh starts with %s, want bit.ly/c", got[0].ID())
	}

	// Any other error fails the refresh.
	boom := errors.New("boom")
	r = NewLinkReport("bitly")
	err = r.ReadTargets(context.Background(), rot, targets, costly, func(LinkTarget) (LinkRead, error) { return LinkRead{}, boom })
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}

	// A link whose value cannot be read (SkipLink) is missing; the
	// others are read.
	r = NewLinkReport("bitly")
	bad := fmt.Errorf("clicks \"n/a\": %w", ErrBadResponse)
	err = r.ReadTargets(context.Background(), NewRotation(), targets, costly, func(tg LinkTarget) (LinkRead, error) {
		if tg.ID() == "bit.ly/c" {
			return LinkRead{}, fmt.Errorf("wrapped: %w", SkipLink(bad))
		}
		return LinkRead{Clicks: 1}, nil
	})
	if err != nil {
		t.Fatalf("ReadTargets with an unreadable link: %v", err)
	}
	samples, err = r.Finish(nil, "bitly")
	if len(samples) != 2 || !errors.As(err, &oe) || oe.Skipped || oe.ID != "bit.ly/c" || !errors.Is(oe, ErrBadResponse) || !strings.Contains(oe.Error(), `"n/a"`) {
		t.Errorf("samples %v, err %v: want carol's link missing with the reason", samples, err)
	}
}

func TestTaggedLinks(t *testing.T) {
	emma := TagRef{Campaign: "summer", Creator: "emma", Tag: &Tag{Tag: "emma"}}
	ids := func(found []TaggedLink) string {
		var out []string
		for _, d := range found {
			out = append(out, d.ID)
		}
		return strings.Join(out, " ")
	}
	var tl TaggedLinks
	got := tl.Update([]TaggedLink{{emma, "bit.ly/z"}, {emma, "bit.ly/b"}}, map[string]bool{"bit.ly/z": true, "bit.ly/b": true}, true)
	if ids(got) != "bit.ly/b bit.ly/z" {
		t.Errorf("complete listing = %q, want it sorted", ids(got))
	}
	// A listing cut short keeps the links the last one found, but not
	// those known otherwise (configured, or found again).
	known := map[string]bool{"bit.ly/a": true, "bit.ly/z": true}
	got = tl.Update([]TaggedLink{{emma, "bit.ly/a"}}, known, false)
	if ids(got) != "bit.ly/a bit.ly/b" || !known["bit.ly/b"] {
		t.Errorf("cut listing = %q (known %v), want bit.ly/a bit.ly/b", ids(got), known)
	}
	if got = tl.Update(nil, map[string]bool{}, false); ids(got) != "bit.ly/a bit.ly/b" {
		t.Errorf("second cut listing = %q, want what the last one returned", ids(got))
	}
	if got = tl.Update(nil, map[string]bool{}, true); len(got) != 0 {
		t.Errorf("complete empty listing = %q, want none", ids(got))
	}
}

func TestCheckShortener(t *testing.T) {
	cfg, err := ParseConfig("short.yml", []byte(`collectors:
  - type: fake
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: fake, id: fk.io/alice}
          - {collector: fake, id: other.io/alice}
          - {collector: fake, id: fk.io}
        tags:
          - {collector: fake, tag: Spring}
      - name: bob
        tags:
          - {collector: fake, tag: spring}
`))
	if err != nil {
		t.Fatal(err)
	}
	cc := cfg.Collectors[0]
	refs, errs := CheckShortener(cc, ShortenerRules{Form: "domain/key, like fk.io/abc", Domain: "fk.io", FoldTags: true})
	got := errors.Join(errs...).Error()
	for _, want := range []string{
		"short.yml:2:5: collectors[0].token: fake needs an API token: set token, token_env or token_file",
		`short.yml:9:31: campaigns[0].creators[0].links[1].id: link "other.io/alice" is not on domain fk.io, the only one collector "fake" reads`,
		`short.yml:10:31: campaigns[0].creators[0].links[2].id: fake link id "fk.io" must be domain/key, like fk.io/abc`,
		`short.yml:15:31: campaigns[0].creators[1].tags[0].tag: tag "spring" is already used by creator "alice" in campaign "spring" (campaigns[0].creators[0].tags[0])`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if len(refs.Links) != 1 || refs.Links[0].ID != "fk.io/alice" || len(refs.Tags) != 1 || refs.Tags[0].Creator != "alice" {
		t.Errorf("refs = %+v", refs)
	}
	// Without folding, tags differing in case are two tags.
	if refs, _ := CheckShortener(cc, ShortenerRules{}); len(refs.Tags) != 2 {
		t.Errorf("FoldTags false: %d tags, want 2", len(refs.Tags))
	}
}

func TestCheckShortenerAllowRoot(t *testing.T) {
	cfg, err := ParseConfig("short.yml", []byte(`collectors:
  - type: fake
    token: t
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: fake, id: fk.io/alice}
          - {collector: fake, id: fk.io/}
          - {collector: fake, id: fk.io}
          - {collector: fake, id: other.io}
          - {collector: fake, id: "fk.io?x=1"}
`))
	if err != nil {
		t.Fatal(err)
	}
	cc := cfg.Collectors[0]
	tests := []struct {
		name  string
		rules ShortenerRules
		links []string
		errs  []string
	}{
		{
			name:  "root refused by default",
			rules: ShortenerRules{Form: "domain/key, like fk.io/abc", Domain: "fk.io"},
			links: []string{"fk.io/alice"},
			errs: []string{
				`campaigns[0].creators[0].links[1].id: fake link id "fk.io/" must be domain/key`,
				`campaigns[0].creators[0].links[2].id: fake link id "fk.io" must be domain/key`,
				`campaigns[0].creators[0].links[3].id: fake link id "other.io" must be domain/key`,
				`campaigns[0].creators[0].links[4].id: fake link id "fk.io?x=1" must be domain/key`,
			},
		},
		{
			name:  "root allowed",
			rules: ShortenerRules{Form: "domain/key or the bare domain, like fk.io/abc or fk.io/", Domain: "fk.io", AllowRoot: true},
			links: []string{"fk.io/alice", "fk.io/", "fk.io"},
			errs: []string{
				`campaigns[0].creators[0].links[3].id: link "other.io" is not on domain fk.io`,
				`campaigns[0].creators[0].links[4].id: fake link id "fk.io?x=1" must be domain/key or the bare domain`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refs, errs := CheckShortener(cc, tt.rules)
			if len(errs) != len(tt.errs) {
				t.Errorf("%d errors, want %d: %v", len(errs), len(tt.errs), errs)
			}
			got := errors.Join(errs...)
			for _, want := range tt.errs {
				if got == nil || !strings.Contains(got.Error(), want) {
					t.Errorf("missing %q in %v", want, got)
				}
			}
			var ids []string
			for _, l := range refs.Links {
				ids = append(ids, l.ID)
			}
			if strings.Join(ids, " ") != strings.Join(tt.links, " ") {
				t.Errorf("links %q, want %q", ids, tt.links)
			}
		})
	}
}

func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&APIError{StatusCode: http.StatusForbidden, kind: ErrUnauthorized}, true},
		{fmt.Errorf("batch: %w", &APIError{StatusCode: http.StatusNotFound, kind: ErrNotFound}), true},
		{&APIError{StatusCode: http.StatusNotImplemented, kind: ErrServer}, true},
		{&APIError{StatusCode: http.StatusUnauthorized, kind: ErrUnauthorized}, false},
		{&APIError{StatusCode: http.StatusInternalServerError, kind: ErrServer}, false},
		{&APIError{StatusCode: http.StatusTooManyRequests, kind: ErrRateLimited}, false},
		{ErrNotFound, false},
		{nil, false},
	} {
		if got := Refused(tc.err); got != tc.want {
			t.Errorf("Refused(%v) = %t, want %t", tc.err, got, tc.want)
		}
	}
}

func TestFallbacksLogOncePerChange(t *testing.T) {
	var buf strings.Builder
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var f Fallbacks
	refused := errors.New("batch: HTTP 404")
	other := errors.New("batch: HTTP 403")
	steps := []struct {
		err  error
		want string // the line logged, "" for none
	}{
		{nil, ""},
		{refused, "level=WARN msg=\"optional call refused, falling back\" call=batch err=\"batch: HTTP 404\""},
		{refused, ""},
		{refused, ""},
		{other, "level=WARN msg=\"optional call refused, falling back\" call=batch err=\"batch: HTTP 403\""},
		{nil, "level=INFO msg=\"optional call answers again\" call=batch"},
		{nil, ""},
	}
	for i, s := range steps {
		buf.Reset()
		f.Update(logger, "batch", s.err)
		got := strings.TrimSpace(buf.String())
		if _, rest, ok := strings.Cut(got, " "); ok {
			got = rest // drop the time
		}
		if got != s.want {
			t.Errorf("step %d: logged %q, want %q", i, got, s.want)
		}
	}
}

package exporter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// coverageConfig asks collector "fake" for two links and a code of alice,
// and a post of bruno.
const coverageConfig = `
collectors:
  - type: fake
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: fake, id: fk.io/a}
          - {collector: fake, id: fk.io/gone}
        codes:
          - {collector: fake, code: ALICE10}
      - name: bruno
        posts:
          - {collector: fake, id: "p1"}
`

func coverageInstance(t *testing.T) (*Instance, *testCollector) {
	t.Helper()
	cfg, err := ParseConfig("coverage.yml", []byte(coverageConfig))
	if err != nil {
		t.Fatal(err)
	}
	col := &testCollector{}
	return &Instance{Name: "fake", Type: "fake", Interval: time.Minute, Config: cfg.Collectors[0], Collector: col}, col
}

func code(v float64, c string) Sample {
	return CodeRedemptions.Sample(v, "spring", "alice", "fake", c)
}

func TestCoverageStates(t *testing.T) {
	gone := Object{Kind: KindLink, Campaign: "spring", Creator: "alice", ID: "fk.io/gone"}
	tests := []struct {
		name    string
		samples []Sample
		err     error
		want    string // formatCoverage
	}{{
		name:    "everything exported",
		samples: []Sample{clicks(1, "fk.io/a"), clicks(2, "fk.io/gone"), code(3, "ALICE10"), PostViews.Sample(4, "spring", "bruno", "fake", "p1")},
		want:    "exported link=2 code=1 post=1",
	}, {
		name:    "missing with and without a reason",
		samples: []Sample{clicks(1, "fk.io/a"), code(3, "ALICE10")},
		err:     Partial([]error{Missing(gone, errors.New(`fake: link "fk.io/gone": not found`))}),
		want:    `link/fk.io/gone=missing(fake: link "fk.io/gone": not found) post/p1=missing(not in the provider's answer) exported link=1 code=1`,
	}, {
		name:    "discovered objects count as exported",
		samples: []Sample{clicks(1, "fk.io/a"), clicks(5, "FK.io/tagged"), clicks(2, "fk.io/gone"), code(3, "ALICE10"), PostViews.Sample(4, "spring", "bruno", "fake", "p1")},
		want:    "exported link=3 code=1 post=1",
	}, {
		name:    "skipped",
		samples: []Sample{clicks(1, "fk.io/a"), code(3, "ALICE10"), PostViews.Sample(4, "spring", "bruno", "fake", "p1")},
		err:     Partial([]error{Skipped(gone, ErrOutOfTime)}),
		want:    "link/fk.io/gone=skipped(" + ErrOutOfTime.Error() + ") exported link=1 code=1 post=1",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst, col := coverageInstance(t)
			cache := NewCache()
			col.set(tt.samples, tt.err)
			(&Scheduler{Cache: cache}).Refresh(context.Background(), inst)
			// Every object's state, as the scheduler works it out; the
			// cache keeps the objects not exported, and the counts.
			objErrs, _ := objectErrors(tt.err)
			cov := coverageOf(inst, tt.samples, objErrs, 0)
			if g := formatCoverage(cov); g != tt.want {
				t.Errorf("coverage:\n got %s\nwant %s", g, tt.want)
			}
			st := cache.Status()[0]
			if !st.Up {
				t.Errorf("a partial refresh must stay up: %+v", st)
			}
			if g, w := formatStatuses(st.Gaps), formatStatuses(cov.gaps); g != w {
				t.Errorf("gaps on the landing page:\n got %s\nwant %s", g, w)
			}
			wantCounts := cov.states()
			if !maps.Equal(st.Objects, wantCounts) {
				t.Errorf("objects by state: got %v, want %v", st.Objects, wantCounts)
			}
		})
	}
}

// formatCoverage writes the objects not exported as formatStatuses does,
// then "exported" and how many objects of each kind were.
func formatCoverage(c coverage) string {
	out := formatStatuses(c.gaps)
	if out != "" {
		out += " "
	}
	out += "exported"
	for _, k := range Kinds {
		if n := c.counts[[2]string{k, StateExported}]; n > 0 {
			out += fmt.Sprintf(" %s=%d", k, n)
		}
	}
	return out
}

// formatStatuses writes each object's state as kind/id=state(reason).
func formatStatuses(sts []ObjectStatus) string {
	var out []string
	for _, st := range sts {
		s := st.Kind + "/" + st.ID + "=" + st.State
		if st.Reason != "" {
			s += "(" + st.Reason + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestCoverageMetricAndLandingPage(t *testing.T) {
	inst, col := coverageInstance(t)
	cache := NewCache()
	gone := Object{Kind: KindLink, Campaign: "spring", Creator: "alice", ID: "fk.io/gone"}
	col.set([]Sample{clicks(1, "fk.io/a"), code(3, "ALICE10")},
		Partial([]error{Missing(gone, fmt.Errorf(`fake: link "fk.io/gone": %w`, ErrNotFound))}))
	(&Scheduler{Cache: cache}).Refresh(context.Background(), inst)

	want := `
# HELP influencer_collector_objects Objects the collector was asked to watch in its last refresh, by kind and state: exported (read by that refresh), skipped (not read by it, previous values kept) or missing (not exported at all; the landing page says why).
# TYPE influencer_collector_objects gauge
influencer_collector_objects{collector="fake",kind="code",state="exported"} 1
influencer_collector_objects{collector="fake",kind="code",state="missing"} 0
influencer_collector_objects{collector="fake",kind="code",state="skipped"} 0
influencer_collector_objects{collector="fake",kind="link",state="exported"} 1
influencer_collector_objects{collector="fake",kind="link",state="missing"} 1
influencer_collector_objects{collector="fake",kind="link",state="skipped"} 0
influencer_collector_objects{collector="fake",kind="post",state="exported"} 0
influencer_collector_objects{collector="fake",kind="post",state="missing"} 1
influencer_collector_objects{collector="fake",kind="post",state="skipped"} 0
`
	if err := testutil.CollectAndCompare(cache, strings.NewReader(want), "influencer_collector_objects"); err != nil {
		t.Error(err)
	}

	rec := httptest.NewRecorder()
	(&StatusPage{Cache: cache, MetricsPath: "/metrics"}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body := rec.Body.String()
	for _, s := range []string{
		`<h2 id="not-covered">Not covered</h2>`,
		`<tr><td>spring</td><td>alice</td><td>link</td><td>fk.io/gone</td><td><a href="#collector-fake">fake</a></td><td class="down">missing</td><td class="err">fake: link &#34;fk.io/gone&#34;: not found</td></tr>`,
		`<tr><td>spring</td><td>bruno</td><td>post</td><td>p1</td>`,
		`<span class="partial">partial</span>`,
		`2 exported, <span class="down">2 missing</span>`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("landing page lacks %s\n%s", s, body)
		}
	}
}

// A refresh that runs out of time keeps the previous values of the objects
// it skipped, and the objects it read advance.
func TestSkippedObjectsKeepPreviousValues(t *testing.T) {
	inst, col := coverageInstance(t)
	cache := NewCache()
	s := &Scheduler{Cache: cache}
	col.set([]Sample{clicks(1, "fk.io/a"), clicks(10, "fk.io/gone"), code(3, "ALICE10")}, nil)
	s.Refresh(context.Background(), inst)

	gone := Object{Kind: KindLink, Campaign: "spring", Creator: "alice", ID: "fk.io/gone"}
	col.set([]Sample{clicks(2, "fk.io/a"), code(4, "ALICE10")}, Partial([]error{Skipped(gone, ErrOutOfTime)}))
	s.Refresh(context.Background(), inst)
	want := `
# HELP influencer_link_clicks_total Clicks on a creator's tracking link, as the link shortener reports its lifetime total.
# TYPE influencer_link_clicks_total counter
influencer_link_clicks_total{campaign="spring",creator="alice",link="fk.io/a",provider="fake"} 2
influencer_link_clicks_total{campaign="spring",creator="alice",link="fk.io/gone",provider="fake"} 10
`
	if err := testutil.CollectAndCompare(cache, strings.NewReader(want), "influencer_link_clicks_total"); err != nil {
		t.Error(err)
	}
	if st := cache.Status()[0]; st.Objects[StateSkipped] != 1 || !st.Partial() {
		t.Errorf("status = %+v", st)
	}

	// Skipped again: the value carried over is carried over once more.
	s.Refresh(context.Background(), inst)
	if err := testutil.CollectAndCompare(cache, strings.NewReader(want), "influencer_link_clicks_total"); err != nil {
		t.Error(err)
	}
}

type coverReporter struct {
	testCollector
	st []ObjectStatus
}

func (c *coverReporter) Coverage() []ObjectStatus { return c.st }

func TestCoverageReporterWins(t *testing.T) {
	inst, _ := coverageInstance(t)
	col := &coverReporter{st: []ObjectStatus{{Object: Object{Kind: KindProbe, Campaign: "spring", Creator: "alice", ID: "fk.io/a"}, State: StateSkipped, Reason: "round ran late"}}}
	inst.Collector = col
	cache := NewCache()
	(&Scheduler{Cache: cache}).Refresh(context.Background(), inst)
	gaps := cache.Status()[0].Gaps
	if len(gaps) != 1 || gaps[0].Kind != KindProbe || gaps[0].Reason != "round ran late" {
		t.Errorf("gaps = %+v", gaps)
	}
}

func TestProgressReplacesSnapshotDuringRefresh(t *testing.T) {
	cache := NewCache()
	inst := &Instance{Name: "slow", Type: "fake", Interval: time.Minute}
	seen := make(chan float64, 1)
	var took time.Duration
	inst.Collector = pollFunc(func(ctx context.Context) ([]Sample, error) {
		took = Progress(ctx, []Sample{clicks(7, "fk.io/a")})
		ms := testutil.ToFloat64(SamplesCollector(cache.samplesOf("slow")))
		seen <- ms
		return []Sample{clicks(8, "fk.io/a")}, nil
	})
	if d := Progress(context.Background(), []Sample{clicks(1, "fk.io/a")}); d != 0 || cache.samplesOf("slow") != nil {
		t.Errorf("outside a refresh, Progress took %s and stored %v, want 0 and nothing", d, cache.samplesOf("slow"))
	}
	(&Scheduler{Cache: cache}).Refresh(context.Background(), inst)
	if v := <-seen; v != 7 {
		t.Errorf("during the refresh, the snapshot held %v, want 7", v)
	}
	if took <= 0 {
		t.Errorf("Progress reported storing took %s, want the time it took", took)
	}
	if v := testutil.ToFloat64(SamplesCollector(cache.samplesOf("slow"))); v != 8 {
		t.Errorf("after the refresh, %v, want 8", v)
	}
}

type pollFunc func(ctx context.Context) ([]Sample, error)

func (f pollFunc) Poll(ctx context.Context) ([]Sample, error) { return f(ctx) }

func TestRotateReadsLeastRecentFirst(t *testing.T) {
	r := NewRotation()
	id := func(s string) string { return s }
	items := []string{"a", "b", "c", "d"}
	// A refresh that reads only two.
	for _, k := range Rotate(r, items, id)[:2] {
		r.Done(k)
	}
	if got := strings.Join(Rotate(r, items, id), ""); got != "cdab" {
		t.Errorf("second order = %s, want cdab", got)
	}
	for _, k := range []string{"c", "d", "a"} {
		r.Done(k)
	}
	if got := strings.Join(Rotate(r, items, id), ""); got != "bcda" {
		t.Errorf("third order = %s, want bcda", got)
	}
	// Keys no longer asked for are forgotten; new ones come first.
	if got := strings.Join(Rotate(r, []string{"d", "e"}, id), ""); got != "ed" {
		t.Errorf("order = %s, want ed", got)
	}
}

type plannedCollector struct {
	testCollector
	plan Plan
}

func (p *plannedCollector) Plan() Plan { return p.plan }

func TestPlans(t *testing.T) {
	cc := &CollectorConfig{HTTP: HTTPConfig{RateLimit: 5, Burst: 5}}
	insts := []*Instance{
		{Name: "bitly", Type: "bitly", Interval: 15 * time.Second, Config: cc, Collector: &plannedCollector{plan: Plan{Calls: 121, Note: "1 per link"}}},
		{Name: "dub", Type: "dub", Interval: 15 * time.Second, Config: cc, Collector: &plannedCollector{plan: Plan{Calls: 1}}},
		{Name: "other", Type: "fake", Interval: time.Minute, Config: cc, Collector: &testCollector{}},
	}
	got := Plans(insts)
	if len(got) != 2 {
		t.Fatalf("plans = %+v", got)
	}
	if !got[0].Over || got[0].Takes != 23200*time.Millisecond {
		t.Errorf("bitly plan = %+v", got[0])
	}
	want := "bitly (bitly): 121 API calls per refresh (1 per link), 23s at rate_limit 5/s; interval 15s\n" +
		"  WARNING: a refresh cannot finish within its interval; each refresh resumes where the last stopped, so every object refreshes about every 2 intervals. Raise interval or http.rate_limit, or watch fewer objects."
	if s := got[0].String(); s != want {
		t.Errorf("line:\n%s\nwant\n%s", s, want)
	}
	if got[1].Over || got[1].String() != "dub (dub): 1 API calls per refresh, 0s at rate_limit 5/s; interval 15s" {
		t.Errorf("dub = %q", got[1].String())
	}
}

func TestDefaultIntervalPerProvider(t *testing.T) {
	if !IsRegistered("fake-probe") {
		Register("fake-probe", func(Settings) (Collector, error) { return &testCollector{}, nil })
	}
	SetDefaultInterval("fake-probe", 45*time.Second)
	cfg, err := ParseConfig("x.yml", []byte("collectors:\n  - type: fake-probe\n  - type: fake\n  - {type: fake-probe, name: p2, interval: 2m}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []time.Duration{45 * time.Second, 5 * time.Minute, 2 * time.Minute} {
		if got := time.Duration(cfg.Collectors[i].Interval); got != want {
			t.Errorf("collectors[%d].interval = %s, want %s", i, got, want)
		}
	}
}

func TestSiteObjects(t *testing.T) {
	creators := []CreatorRef{{Campaign: "spring", Creator: "alice", UTMValue: "alice"}, {Campaign: "autumn", Creator: "bob"}}
	got := SiteObjects(creators, "shop.example")
	want := []Object{
		{Kind: KindSite, Campaign: "spring", Creator: "alice", ID: "shop.example"},
		{Kind: KindSite, Campaign: "autumn", Creator: "bob", ID: "shop.example"},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("SiteObjects = %+v, want %+v", got, want)
	}
}

// objectKey must tell objects apart exactly as key does, whatever their
// strings hold: case, spaces, root links, NUL bytes.
func TestObjectKeyMatchesKey(t *testing.T) {
	var objs []Object
	for _, kind := range []string{KindLink, KindProbe, KindCode, KindSite, "odd\x00kind", ""} {
		for _, cc := range [][2]string{{"spring", "alice"}, {"spring\x00alice", ""}, {"spring", "\x00alice"}, {"", ""}} {
			for _, id := range []string{"", "fk.io/a", "FK.io/a", " fk.io/a", "fk.io/a?x", "short.gy", "short.gy/", "SHORT.gy", "a\x00b", "alice\x00fk.io/a", "é.io/a", "fk.io//a"} {
				objs = append(objs, Object{Kind: kind, Campaign: cc[0], Creator: cc[1], ID: id})
			}
		}
	}
	for _, a := range objs {
		for _, b := range objs {
			if (a.objectKey() == b.objectKey()) != (a.key() == b.key()) {
				t.Errorf("%q and %q: objectKeys equal %v, keys equal %v", a, b, a.objectKey() == b.objectKey(), a.key() == b.key())
			}
		}
	}
}

// Coverage and carried-over samples come out as the string keys of key and
// seriesKey would have them, duplicates and discovered objects included.
func TestInferCoverageMatchesKeys(t *testing.T) {
	expected := []Object{
		{Kind: KindLink, Campaign: "spring", Creator: "alice", ID: "FK.io/a"},
		{Kind: KindLink, Campaign: "spring", Creator: "alice", ID: "fk.io/a"},
		{Kind: KindCode, Campaign: "spring", Creator: "alice", ID: "ALICE10"},
		{Kind: KindSite, Campaign: "spring", Creator: "alice", ID: "shop.example"},
		{Kind: KindPost, Campaign: "spring", Creator: "bruno", ID: "p1"},
		{Kind: KindLink, Campaign: "spring", Creator: "bruno", ID: "fk.io/b"},
	}
	skipped := Object{Kind: KindLink, Campaign: "spring", Creator: "bruno", ID: "FK.io/b"}
	missing := Object{Kind: KindPost, Campaign: "spring", Creator: "carla", ID: "p9"}
	errs := map[string]*ObjectError{}
	for _, oe := range []*ObjectError{{Object: skipped, Skipped: true, Err: ErrOutOfTime}, {Object: missing, Err: ErrNotFound}} {
		errs[oe.key()] = oe
	}
	prev := []Sample{clicks(1, "fk.io/a"), LinkClicks.Sample(5, "spring", "bruno", "fake", "fk.io/b"), LinkUp.Sample(1, "spring", "bruno", "fake", "fk.io/b")}
	fresh := []Sample{
		clicks(2, "fk.io/a"), LinkUp.Sample(1, "spring", "bruno", "fake", "fk.io/b"), code(3, "ALICE10"),
		ReferralVisitors.Sample(4, "spring", "alice", "fake", "other"), clicks(6, "fk.io/found"), clicks(7, "FK.io/found"),
	}
	merged := carryOver(prev, fresh, errs)
	var got []string
	for _, s := range merged {
		got = append(got, seriesKey(s))
	}
	want := []string{}
	for _, s := range fresh {
		want = append(want, seriesKey(s))
	}
	want = append(want, seriesKey(prev[1]))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("carried over:\n%q\nwant\n%q", got, want)
	}
	cov := inferCoverage(expected, merged, errs, 0)
	var states []string
	for _, st := range cov.gaps {
		states = append(states, st.Kind+"/"+st.ID+"="+st.State)
	}
	for _, k := range Kinds {
		if n := cov.counts[[2]string{k, StateExported}]; n > 0 {
			states = append(states, fmt.Sprintf("%s=%d", k, n))
		}
	}
	wantStates := "link/fk.io/b=skipped post/p1=missing post/p9=missing link=2 code=1 site=1"
	if g := strings.Join(states, " "); g != wantStates {
		t.Errorf("coverage:\n got %s\nwant %s", g, wantStates)
	}
}

// objectSet tells objects apart by key even when every probe meets the
// same hash tag: objects whose keys are equal (a link in another case, a
// root link with a slash, a site of another id) find the slot of the first, the others the next
// free one, past the end of the slots and back to the start.
func TestObjectSetSameHash(t *testing.T) {
	objs := []Object{
		{Kind: KindLink, Campaign: "spring", Creator: "alice", ID: "fk.io/a"},
		{Kind: KindLink, Campaign: "spring", Creator: "alice\x00fk.io/a"},
		{Kind: KindProbe, Campaign: "spring", Creator: "alice", ID: "short.gy"},
		{Kind: KindSite, Campaign: "spring", Creator: "alice", ID: "shop.example"},
		{Kind: KindLink, Campaign: "spring\x00alice", Creator: "", ID: "fk.io/a"},
		{Kind: KindCode, Campaign: "spring", Creator: "alice", ID: "a\x00b"},
	}
	same := []Object{
		{Kind: KindLink, Campaign: "spring", Creator: "alice", ID: "FK.io/a"},
		{Kind: KindLink, Campaign: "spring", Creator: "alice\x00fk.io/a"},
		{Kind: KindProbe, Campaign: "spring", Creator: "alice", ID: " SHORT.gy/"},
		{Kind: KindSite, Campaign: "spring", Creator: "alice", ID: "other.example"},
		{Kind: KindLink, Campaign: "spring\x00alice", Creator: "", ID: "FK.io/a"},
		{Kind: KindCode, Campaign: "spring", Creator: "alice", ID: "a\x00b"},
	}
	others := []Object{
		{Kind: KindLink, Campaign: "spring", Creator: "alice", ID: "fk.io/A"},
		{Kind: KindProbe, Campaign: "spring", Creator: "alice", ID: "short.gy/x"},
		{Kind: KindLink, Campaign: "spring\x00alice\x00fk.io/a"},
		{Kind: KindCode, Campaign: "spring", Creator: "alice", ID: "fk.io/a"},
		{Kind: KindSite, Campaign: "spring", Creator: "bruno", ID: "shop.example"},
		{Kind: KindCode, Campaign: "spring", Creator: "alice", ID: "A\x00b"},
	}
	set := newObjectSet(len(objs), objs, nil)
	const h = 13 // every object starts at slot 5 of 8
	for i, o := range objs {
		j := set.probe(o, o.objectKey(), h)
		if set.slots[j] != 0 {
			t.Fatalf("%q found in slot %d before it was added", o, j)
		}
		if want := (5 + i) % len(set.slots); j != want {
			t.Errorf("%q goes to slot %d, want %d", o, j, want)
		}
		set.add(j, h, i, stateMissing)
	}
	if len(set.slots) != 8 {
		t.Fatalf("%d slots, want 8 for %d objects", len(set.slots), len(objs))
	}
	for i, o := range same {
		j := set.probe(o, o.objectKey(), h)
		if got := int(uint32(set.slots[j])) - 1; got != i || slotState(set.slots[j]) != stateMissing {
			t.Errorf("%q found object %d in state %d, want %d in state %d", o, got, slotState(set.slots[j]), i, stateMissing)
		}
	}
	for _, o := range others {
		if j := set.probe(o, o.objectKey(), h); j != (5+len(objs))%len(set.slots) {
			t.Errorf("%q found slot %d (object %d), want the free slot %d", o, j, int(uint32(set.slots[j]))-1, (5+len(objs))%len(set.slots))
		}
	}
	// Growing places them by their own hashes; each is found again.
	set.expected = append(objs, others[0])
	set.add(set.probe(others[0], others[0].objectKey(), h), h, len(objs), stateMissing)
	if len(set.slots) != 16 {
		t.Fatalf("%d slots after growing, want 16", len(set.slots))
	}
	for i, o := range append(same, others[0]) {
		if j, _, _ := set.find(o); int(uint32(set.slots[j]))-1 != i {
			t.Errorf("after growing, %q found object %d, want %d", o, int(uint32(set.slots[j]))-1, i)
		}
	}
}

// Of objects with the same key, inferCoverage shows the first listed,
// with the state and reason of its object error; objects sortStatuses
// ranks the same keep the order they were listed in.
func TestInferCoverageFirstListed(t *testing.T) {
	odd := Object{Kind: "odd", Campaign: "spring", Creator: "alice", ID: "fk.io/a"}
	link := Object{Kind: KindLink, Campaign: "spring", Creator: "alice", ID: "fk.io/a"}
	nul := Object{Kind: KindPost, Campaign: "spring", Creator: "al\x00ice", ID: "p1"}
	expected := []Object{
		odd, link,
		{Kind: KindLink, Campaign: "spring", Creator: "alice", ID: "FK.io/a"},
		{Kind: KindLink, Campaign: "spring", Creator: "bruno", ID: "FK.io/b"},
		{Kind: KindLink, Campaign: "spring", Creator: "bruno", ID: "fk.io/b"},
		nul, nul,
		{Kind: KindSite, Campaign: "spring", Creator: "bruno", ID: "shop.example"},
	}
	errs := map[string]*ObjectError{}
	for _, oe := range []*ObjectError{
		{Object: Object{Kind: KindLink, Campaign: "spring", Creator: "bruno", ID: "fk.IO/b"}, Skipped: true, Err: ErrOutOfTime},
		{Object: Object{Kind: KindSite, Campaign: "spring", Creator: "bruno", ID: "other.example"}, Err: ErrNotFound},
		{Object: Object{Kind: KindCode, Campaign: "spring", Creator: "carla", ID: "C10"}, Err: ErrNotFound},
		{Object: Object{Kind: KindPost, Campaign: "spring", Creator: "carla", ID: "p9"}, Skipped: true, Err: ErrOutOfTime},
	} {
		errs[oe.key()] = oe
	}
	samples := []Sample{
		LinkClicks.Sample(1, "spring", "bruno", "fake", "fk.io/b"),
		CodeRedemptions.Sample(2, "spring", "carla", "fake", "C10"),
		CodeRedemptions.Sample(2, "spring", "carla", "fake", "C10"),
		PostViews.Sample(3, "spring", "carla", "fake", "p9"),
		ReferralVisitors.Sample(4, "spring", "bruno", "fake", "other"),
		PostViews.Sample(5, "spring", "al\x00ice", "fake", "p1"),
		LinkClicks.Sample(6, "spring", "dana", "fake", "FK.io/d"),
		LinkUp.Sample(1, "spring", "dana", "fake", "fk.io/d"),
		LinkClicks.Sample(7, "spring", "dana", "fake", "fk.io/e"),
	}
	for _, hint := range []int{0, 100} {
		cov := inferCoverage(expected, samples, errs, hint)
		var gaps []string
		for _, st := range cov.gaps {
			gaps = append(gaps, fmt.Sprintf("%s %q %s(%s)", st.Kind, st.Creator+"/"+st.ID, st.State, st.Reason))
		}
		want := []string{
			`odd "alice/fk.io/a" missing(not in the provider's answer)`,
			`link "alice/fk.io/a" missing(not in the provider's answer)`,
			`link "bruno/FK.io/b" skipped(` + ErrOutOfTime.Error() + `)`,
			`code "carla/C10" missing(` + ErrNotFound.Error() + `)`,
			`post "carla/p9" skipped(` + ErrOutOfTime.Error() + `)`,
			`site "bruno/shop.example" missing(` + ErrNotFound.Error() + `)`,
		}
		if strings.Join(gaps, "\n") != strings.Join(want, "\n") {
			t.Errorf("hint %d: gaps\n%s\nwant\n%s", hint, strings.Join(gaps, "\n"), strings.Join(want, "\n"))
		}
		wantCounts := map[[2]string]int{
			{"odd", StateExported}: 0, {"odd", StateMissing}: 1, {"odd", StateSkipped}: 0,
			{KindLink, StateExported}: 2, {KindLink, StateMissing}: 1, {KindLink, StateSkipped}: 1,
			{KindCode, StateExported}: 0, {KindCode, StateMissing}: 1, {KindCode, StateSkipped}: 0,
			{KindPost, StateExported}: 0, {KindPost, StateMissing}: 0, {KindPost, StateSkipped}: 1,
			{KindSite, StateExported}: 0, {KindSite, StateMissing}: 1, {KindSite, StateSkipped}: 0,
			// A key with a NUL is kept whole, and counted as its own kind.
			{nul.key(), StateExported}: 1, {nul.key(), StateMissing}: 0, {nul.key(), StateSkipped}: 0,
		}
		if !maps.Equal(cov.counts, wantCounts) {
			t.Errorf("hint %d: counts\n%v\nwant\n%v", hint, cov.counts, wantCounts)
		}
	}
}

// inferCoverageByKeys is inferCoverage as its doc says, with a key
// string per object: what inferCoverage must agree with.
func inferCoverageByKeys(expected []Object, samples []Sample, errs map[string]*ObjectError) coverage {
	type entry struct {
		ObjectStatus
		listed bool
	}
	var entries []entry
	byKey := map[string]int{}
	add := func(o Object, listed bool) int {
		k := o.key()
		if i, ok := byKey[k]; ok {
			return i
		}
		e := entry{ObjectStatus: ObjectStatus{Object: o, State: StateExported}, listed: listed}
		if listed {
			e.State, e.Reason = StateMissing, "not in the provider's answer"
		}
		if oe, ok := errs[k]; ok {
			e.State, e.Reason = StateMissing, oe.Err.Error()
			if oe.Skipped {
				e.State = StateSkipped
			}
		}
		byKey[k] = len(entries)
		entries = append(entries, e)
		return len(entries) - 1
	}
	for _, o := range expected {
		add(o, true)
	}
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		add(errs[k].Object, true)
	}
	for _, s := range samples {
		if o, ok := sampleObject(s); ok {
			if e := &entries[add(o, false)]; e.Reason == "not in the provider's answer" {
				e.State, e.Reason = StateExported, ""
			}
		}
	}
	cov := coverage{counts: map[[2]string]int{}}
	for _, e := range entries {
		kind := e.objectKey().kind
		for _, st := range States {
			cov.counts[[2]string{kind, st}] += 0
		}
		cov.counts[[2]string{kind, e.State}]++
		if e.State != StateExported {
			cov.gaps = append(cov.gaps, e.ObjectStatus)
		}
	}
	sortStatuses(cov.gaps)
	return cov
}

// inferCoverage agrees with inferCoverageByKeys on objects whose keys
// are equal or not in every way: case, spaces and slashes of link ids,
// NUL bytes, sites of other ids, listed once or more, in expected, errs
// and samples or some of them, with the set grown from its smallest size
// or made large enough at once.
func TestInferCoverageMatchesByKeys(t *testing.T) {
	var pool []Object
	for _, kind := range []string{KindLink, KindCode, KindPost, KindSite} {
		for _, campaign := range []string{"spring", "spr\x00ing"} {
			for _, creator := range []string{"alice", "bob", "al\x00ice"} {
				for _, id := range []string{"fk.io/a", "FK.io/a", "fk.io/A", "fk.io/a#x", "p1", "a\x00b", "short.gy", " SHORT.gy/"} {
					pool = append(pool, Object{Kind: kind, Campaign: campaign, Creator: creator, ID: id})
				}
			}
		}
	}
	metrics := map[string]*Metric{KindLink: LinkClicks, KindCode: CodeRedemptions, KindPost: PostViews, KindSite: ReferralVisitors}
	sample := func(o Object) Sample {
		last := o.ID
		if o.Kind == KindSite {
			last = "other"
		}
		return metrics[o.Kind].Sample(1, o.Campaign, o.Creator, "fake", last)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(n int) []Object {
		out := make([]Object, n)
		for i := range out {
			out[i] = pool[rng.IntN(len(pool))]
		}
		return out
	}
	for round := range 200 {
		expected := pick(rng.IntN(60))
		errs := map[string]*ObjectError{}
		for _, o := range append(pick(rng.IntN(20)), expected[:rng.IntN(len(expected)+1)/3]...) {
			oe := &ObjectError{Object: o, Skipped: rng.IntN(2) == 0, Err: fmt.Errorf("reason %d", rng.IntN(5))}
			errs[oe.key()] = oe
		}
		var samples []Sample
		for _, o := range append(pick(rng.IntN(60)), expected[:rng.IntN(len(expected)+1)]...) {
			for range 1 + rng.IntN(3) {
				samples = append(samples, sample(o))
			}
		}
		rng.Shuffle(len(samples)/2, func(i, j int) { samples[i], samples[j] = samples[j], samples[i] })
		want := inferCoverageByKeys(expected, samples, errs)
		for _, hint := range []int{0, 200} {
			got := inferCoverage(expected, samples, errs, hint)
			if !maps.Equal(got.counts, want.counts) {
				t.Fatalf("round %d, hint %d: counts\n%v\nwant\n%v", round, hint, got.counts, want.counts)
			}
			if !slices.Equal(got.gaps, want.gaps) {
				t.Fatalf("round %d, hint %d: gaps\n%q\nwant\n%q", round, hint, got.gaps, want.gaps)
			}
		}
	}
}

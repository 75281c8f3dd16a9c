package exporter

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
)

// curvePublished is when the test posts were published.
var curvePublished = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// curvePostSamples are one poll of a post published at published: its views,
// its saves and shares, and likes and comments, which are not recorded at
// age.
func curvePostSamples(campaign, post string, published time.Time, views, saves, shares float64) []Sample {
	return []Sample{
		PostPublished.Sample(float64(published.Unix()), campaign, "alice", "instagram", post),
		PostViews.Sample(views, campaign, "alice", "instagram", post),
		PostEngagements.Sample(views/2, campaign, "alice", "instagram", post, "likes"),
		PostEngagements.Sample(1, campaign, "alice", "instagram", post, "comments"),
		PostEngagements.Sample(saves, campaign, "alice", "instagram", post, "saves"),
		PostEngagements.Sample(shares, campaign, "alice", "instagram", post, "shares"),
	}
}

// curveObserve feeds one refresh of collector "ig" returning samples, at
// curvePublished+age.
func curveObserve(e *EarlyCurve, age time.Duration, samples []Sample) {
	e.Observe("ig", nil, curvePublished.Add(age), samples, samples)
}

// curveValue returns the series of metric m whose labels contain all of
// labels ("name=value"), and whether there is one.
func curveValue(t *testing.T, e *EarlyCurve, m string, labels ...string) (float64, bool) {
	t.Helper()
	assertRenderedMatches(t, e)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != m {
			continue
		}
	metrics:
		for _, x := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range x.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for _, l := range labels {
				name, value, _ := strings.Cut(l, "=")
				if have[name] != value {
					continue metrics
				}
			}
			return x.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// curveExposition returns what c exports, in the text format.
func curveExposition(t *testing.T, c prometheus.Collector) []byte {
	t.Helper()
	if rc, ok := c.(RenderedCollector); ok {
		assertRenderedMatches(t, rc)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestEarlyCurveRule(t *testing.T) {
	type poll struct {
		age   time.Duration
		views float64
	}
	const none = -1 // no recorded value
	for _, tc := range []struct {
		name  string
		polls []poll
		state string
		// views and polled (age of the poll) of the recorded value.
		views  float64
		polled time.Duration
	}{
		{"before the age is nearer", []poll{{50 * time.Minute, 50}, {58 * time.Minute, 58}, {63 * time.Minute, 63}}, "recorded", 58, 58 * time.Minute},
		{"at or after the age is nearer", []poll{{50 * time.Minute, 50}, {58 * time.Minute, 58}, {61 * time.Minute, 61}}, "recorded", 61, 61 * time.Minute},
		{"a tie goes to the later poll", []poll{{58 * time.Minute, 58}, {62 * time.Minute, 62}}, "recorded", 62, 62 * time.Minute},
		{"exactly at the age", []poll{{40 * time.Minute, 40}, {time.Hour, 60}}, "recorded", 60, time.Hour},
		{"later polls never change it", []poll{{59 * time.Minute, 59}, {61*time.Minute + 30*time.Second, 61}, {62 * time.Minute, 1000}, {2 * time.Hour, 5000}}, "recorded", 59, 59 * time.Minute},
		{"the poll before kept across a gap", []poll{{59 * time.Minute, 59}, {3 * time.Hour, 180}}, "recorded", 59, 59 * time.Minute},
		{"tolerance is inclusive", []poll{{54 * time.Minute, 54}, {70 * time.Minute, 70}}, "recorded", 54, 54 * time.Minute},
		{"first seen after the age", []poll{{61 * time.Minute, 61}, {62 * time.Minute, 62}}, "missed", none, 0},
		{"first seen exactly at the age", []poll{{time.Hour, 60}}, "missed", none, 0},
		{"no poll within tolerance", []poll{{50 * time.Minute, 50}, {67 * time.Minute, 67}}, "missed", none, 0},
		{"younger than the age", []poll{{10 * time.Minute, 10}, {59 * time.Minute, 59}}, "pending", none, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEarlyCurve([]time.Duration{time.Hour}, "", nil)
			for _, p := range tc.polls {
				curveObserve(e, p.age, curvePostSamples("spring", "p1", curvePublished, p.views, p.views/10, 1))
			}
			for _, state := range curveStates {
				want := 0.0
				if state == tc.state {
					want = 1
				}
				if got, _ := curveValue(t, e, "influencer_early_curve_posts", "age=1h", "state="+state); got != want {
					t.Errorf("posts in state %s = %g, want %g", state, got, want)
				}
			}
			views, ok := curveValue(t, e, "influencer_post_views_at_age", "post=p1", "age=1h")
			polled, _ := curveValue(t, e, "influencer_post_at_age_polled_timestamp_seconds", "post=p1", "age=1h")
			saves, _ := curveValue(t, e, "influencer_post_engagements_at_age", "post=p1", "type=saves", "age=1h")
			switch {
			case tc.views == none && ok:
				t.Errorf("views at 1h = %g, want no series", views)
			case tc.views == none:
			case !ok || views != tc.views:
				t.Errorf("views at 1h = %g (exported %v), want %g", views, ok, tc.views)
			case polled != float64(curvePublished.Add(tc.polled).Unix()):
				t.Errorf("polled at %s, want %s", time.Unix(int64(polled), 0).UTC(), curvePublished.Add(tc.polled))
			case saves != tc.views/10:
				t.Errorf("saves at 1h = %g, want %g (the same poll as views)", saves, tc.views/10)
			}
		})
	}
}

// Several ages are decided by one poll when the exporter polled nothing in
// between.
func TestEarlyCurveSeveralAgesOnePoll(t *testing.T) {
	e := NewEarlyCurve([]time.Duration{time.Hour, 3 * time.Hour, 6 * time.Hour}, "", nil)
	curveObserve(e, 55*time.Minute, curvePostSamples("spring", "p1", curvePublished, 55, 1, 1))
	curveObserve(e, 3*time.Hour+10*time.Minute, curvePostSamples("spring", "p1", curvePublished, 190, 2, 2))
	for _, tc := range []struct {
		age   string
		views float64
		ok    bool
	}{{"1h", 55, true}, {"3h", 190, true}, {"6h", 0, false}} {
		v, ok := curveValue(t, e, "influencer_post_views_at_age", "age="+tc.age)
		if ok != tc.ok || v != tc.views {
			t.Errorf("views at %s = %g (exported %v), want %g (%v)", tc.age, v, ok, tc.views, tc.ok)
		}
	}
	if n, _ := curveValue(t, e, "influencer_early_curve_posts", "age=6h", "state=pending"); n != 1 {
		t.Errorf("pending at 6h = %g, want 1", n)
	}
}

// The samples of objects a refresh skipped are carried over from the
// previous snapshot: they were not read then, so they are no poll.
func TestEarlyCurveIgnoresCarriedOverSamples(t *testing.T) {
	e := NewEarlyCurve([]time.Duration{time.Hour}, "", nil)
	now := curvePublished
	s := &Scheduler{Cache: NewCache(), Observer: e.Observe, Now: func() time.Time { return now }}
	inst, col := newTestInstance("ig")
	both := func(views float64) []Sample {
		return append(curvePostSamples("spring", "a", curvePublished, views, 0, 0), curvePostSamples("spring", "b", curvePublished, views, 0, 0)...)
	}

	now = curvePublished.Add(50 * time.Minute)
	col.set(both(50), nil)
	s.Refresh(context.Background(), inst)

	// b is skipped: its samples of 50m stay in the snapshot.
	now = curvePublished.Add(time.Hour)
	col.set(curvePostSamples("spring", "a", curvePublished, 60, 0, 0),
		Partial([]error{Skipped(Object{Kind: KindPost, Campaign: "spring", Creator: "alice", ID: "b"}, ErrOutOfTime)}))
	s.Refresh(context.Background(), inst)
	if got := testutil.CollectAndCount(s.Cache, "influencer_post_views"); got != 2 {
		t.Fatalf("snapshot has %d view series, want 2 (b carried over)", got)
	}

	now = curvePublished.Add(64 * time.Minute)
	col.set(both(64), nil)
	s.Refresh(context.Background(), inst)

	for _, tc := range []struct {
		post  string
		views float64
		at    time.Duration
	}{{"a", 60, time.Hour}, {"b", 64, 64 * time.Minute}} {
		v, _ := curveValue(t, e, "influencer_post_views_at_age", "post="+tc.post)
		at, _ := curveValue(t, e, "influencer_post_at_age_polled_timestamp_seconds", "post="+tc.post)
		if v != tc.views || at != float64(curvePublished.Add(tc.at).Unix()) {
			t.Errorf("post %s: views at 1h = %g polled %s, want %g polled %s", tc.post, v, time.Unix(int64(at), 0).UTC(), tc.views, curvePublished.Add(tc.at))
		}
	}
}

// bookRepeater returns every post of its book on each refresh, as the
// social collectors do: those read on this refresh, and the others with
// the values of their last read.
type bookRepeater struct{ book *PostBook }

func (c bookRepeater) Poll(context.Context) ([]Sample, error) { return c.book.Samples(nil), nil }

func (c bookRepeater) PolledAt(post string) (time.Time, bool) { return c.book.PolledAt(post) }

// A collector that says when it read each post: the poll time is the read,
// not the end of the refresh, and a post it repeats from an earlier read
// is no new poll.
func TestEarlyCurvePollTimes(t *testing.T) {
	const repeat = 0
	type step struct {
		end  time.Duration // when the refresh returned
		read time.Duration // when it read the post; repeat: not due
	}
	for _, tc := range []struct {
		name  string
		steps []step
		state string
		// views (the minutes of the read) and polled of the recorded value
		views  float64
		polled time.Duration
	}{
		{"the read time, not the refresh end", []step{{50*time.Minute + 30*time.Second, 50 * time.Minute}, {61 * time.Minute, 59 * time.Minute}, {62 * time.Minute, 62 * time.Minute}},
			"recorded", 59, 59 * time.Minute},
		{"a repeat is not the poll after the age", []step{{55 * time.Minute, 55 * time.Minute}, {65 * time.Minute, repeat}},
			"pending", 0, 0},
		{"the poll after a repeat decides", []step{{55 * time.Minute, 55 * time.Minute}, {65 * time.Minute, repeat}, {66 * time.Minute, 66 * time.Minute}},
			"recorded", 55, 55 * time.Minute},
		{"a repeat is not the poll before the age", []step{{58 * time.Minute, 58 * time.Minute}, {59*time.Minute + 30*time.Second, repeat}, {61 * time.Minute, 61 * time.Minute}},
			"recorded", 61, 61 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEarlyCurve([]time.Duration{time.Hour}, "", nil)
			book := NewPostBook()
			var now time.Time
			s := &Scheduler{Cache: NewCache(), Observer: e.Observe, Now: func() time.Time { return now }}
			inst := &Instance{Name: "ig", Type: "instagram", Interval: time.Minute, Collector: bookRepeater{book}}
			for _, st := range tc.steps {
				if st.read != repeat {
					book.Store("p", curvePublished, curvePublished.Add(st.read), curvePostSamples("spring", "p", curvePublished, st.read.Minutes(), 0, 0))
				}
				now = curvePublished.Add(st.end)
				s.Refresh(context.Background(), inst)
			}
			if n, _ := curveValue(t, e, "influencer_early_curve_posts", "state="+tc.state); n != 1 {
				t.Errorf("post not %s", tc.state)
			}
			views, ok := curveValue(t, e, "influencer_post_views_at_age", "post=p")
			polled, _ := curveValue(t, e, "influencer_post_at_age_polled_timestamp_seconds", "post=p")
			switch {
			case tc.state != "recorded":
				if ok {
					t.Errorf("views at 1h = %g, want no series", views)
				}
			case views != tc.views || polled != float64(curvePublished.Add(tc.polled).Unix()):
				t.Errorf("views at 1h = %g polled %s, want %g polled %s (the read)", views, time.Unix(int64(polled), 0).UTC(), tc.views, curvePublished.Add(tc.polled))
			}
		})
	}
}

// A post absent from its collector's snapshot is forgotten: seen again, it
// is a new post; a post of another collector is never mixed with it.
func TestEarlyCurveForgetsPostsGoneFromTheSnapshot(t *testing.T) {
	e := NewEarlyCurve([]time.Duration{time.Hour}, "", nil)
	a := curvePostSamples("spring", "a", curvePublished, 60, 0, 0)
	b := curvePostSamples("spring", "b", curvePublished, 60, 0, 0)
	ab := append(append([]Sample(nil), a...), b...)
	e.Observe("ig", nil, curvePublished.Add(59*time.Minute), ab, ab)
	e.Observe("ig2", nil, curvePublished.Add(70*time.Minute), a, a)
	e.Observe("ig", nil, curvePublished.Add(61*time.Minute), a, a)
	if _, ok := curveValue(t, e, "influencer_post_views_at_age", "post=a"); !ok {
		t.Error("a not recorded")
	}
	if n, _ := curveValue(t, e, "influencer_early_curve_posts", "state=recorded"); n != 1 {
		t.Errorf("recorded = %g, want 1 (b forgotten, ig2's a missed)", n)
	}
	if n, _ := curveValue(t, e, "influencer_early_curve_posts", "state=missed"); n != 1 {
		t.Errorf("missed = %g, want 1 (ig2 first saw a after 1h)", n)
	}
	e.Observe("ig", nil, curvePublished.Add(62*time.Minute), ab, ab)
	if n, _ := curveValue(t, e, "influencer_early_curve_posts", "state=missed"); n != 2 {
		t.Errorf("missed = %g, want 2 (b back, first seen after 1h)", n)
	}

	e.Forget(map[string]bool{"ig": true})
	if n, _ := curveValue(t, e, "influencer_early_curve_posts", "state=missed"); n != 1 {
		t.Errorf("missed = %g, want 1 once ig2 is forgotten", n)
	}
	e.Observe("ig", nil, curvePublished.Add(63*time.Minute), nil, nil)
	if got := testutil.CollectAndCount(e); got != 0 {
		t.Errorf("%d series after every post left, want 0", got)
	}
}

// The rendered at-age series follow the posts part by part: ages recorded
// by some posts, posts gone, a collector forgotten, new ages.
func TestEarlyCurveRenderedParts(t *testing.T) {
	e := NewEarlyCurve([]time.Duration{time.Hour, 2 * time.Hour}, "", nil)
	poll := func(collector string, age time.Duration, from, to int) {
		t.Helper()
		var s []Sample
		for i := from; i < to; i++ {
			// Posts published a minute apart: each poll records some.
			published := curvePublished.Add(-time.Duration(i) * time.Minute)
			s = append(s, curvePostSamples(collector, fmt.Sprintf("p%03d", i), published, float64(i)+age.Minutes(), float64(i%7), 1)...)
		}
		e.Observe(collector, nil, curvePublished.Add(age), s, s)
		assertRenderedMatches(t, e)
	}
	for m := 0; m <= 150; m += 10 {
		poll("ig", time.Duration(m)*time.Minute, 0, 200)
		poll("ig2", time.Duration(m)*time.Minute, 100, 150)
	}
	if n := testutil.CollectAndCount(e, "influencer_post_views_at_age"); n < 100 {
		t.Fatalf("%d views at age, want most posts recorded", n)
	}
	poll("ig", 160*time.Minute, 50, 120) // the others go
	e.Forget(map[string]bool{"ig": true})
	assertRenderedMatches(t, e)
	e.SetAges([]time.Duration{time.Hour, 90 * time.Minute})
	assertRenderedMatches(t, e)
	poll("ig", 170*time.Minute, 0, 10)
}

// The platform may correct a post's publish time: recorded values stay,
// pending ages move.
func TestEarlyCurvePublishedTimeCorrected(t *testing.T) {
	e := NewEarlyCurve([]time.Duration{time.Hour, 2 * time.Hour}, "", nil)
	curveObserve(e, 59*time.Minute, curvePostSamples("spring", "p", curvePublished, 59, 0, 0))
	curveObserve(e, 61*time.Minute, curvePostSamples("spring", "p", curvePublished, 61, 0, 0))
	// Published 20 minutes earlier: 2h is now at 1h40m.
	earlier := curvePublished.Add(-20 * time.Minute)
	curveObserve(e, 95*time.Minute, curvePostSamples("spring", "p", earlier, 95, 0, 0))
	curveObserve(e, 102*time.Minute, curvePostSamples("spring", "p", earlier, 102, 0, 0))
	for _, tc := range []struct {
		age   string
		views float64
	}{{"1h", 61}, {"2h", 102}} {
		if v, ok := curveValue(t, e, "influencer_post_views_at_age", "age="+tc.age); !ok || v != tc.views {
			t.Errorf("views at %s = %g (exported %v), want %g", tc.age, v, ok, tc.views)
		}
	}
}

// A post whose publish time is not known yet keeps its last poll until it
// is; the first poll still counts as when it was first seen.
func TestEarlyCurvePublishedLate(t *testing.T) {
	e := NewEarlyCurve([]time.Duration{time.Hour}, "", nil)
	noPub := curvePostSamples("spring", "p", curvePublished, 59, 0, 0)[1:]
	curveObserve(e, 59*time.Minute, noPub)
	if n, _ := curveValue(t, e, "influencer_early_curve_posts", "state=pending"); n != 1 {
		t.Errorf("pending = %g, want 1", n)
	}
	curveObserve(e, 70*time.Minute, curvePostSamples("spring", "p", curvePublished, 70, 0, 0))
	if v, ok := curveValue(t, e, "influencer_post_views_at_age"); !ok || v != 59 {
		t.Errorf("views at 1h = %g (exported %v), want 59", v, ok)
	}
}

func TestEarlyCurveSetAges(t *testing.T) {
	e := NewEarlyCurve([]time.Duration{time.Hour}, "", nil)
	curveObserve(e, 30*time.Minute, curvePostSamples("spring", "p", curvePublished, 30, 0, 0))
	curveObserve(e, 60*time.Minute, curvePostSamples("spring", "p", curvePublished, 60, 0, 0))

	e.SetAges([]time.Duration{2 * time.Hour, time.Hour, 90 * time.Minute})
	curveObserve(e, 115*time.Minute, curvePostSamples("spring", "p", curvePublished, 115, 0, 0))
	curveObserve(e, 121*time.Minute, curvePostSamples("spring", "p", curvePublished, 121, 0, 0))
	for _, tc := range []struct {
		age, state string
		views      float64
	}{{"1h", "recorded", 60}, {"1h30m", "missed", 0}, {"2h", "recorded", 121}} {
		if n, _ := curveValue(t, e, "influencer_early_curve_posts", "age="+tc.age, "state="+tc.state); n != 1 {
			t.Errorf("age %s: not %s", tc.age, tc.state)
		}
		if v, _ := curveValue(t, e, "influencer_post_views_at_age", "age="+tc.age); v != tc.views {
			t.Errorf("views at %s = %g, want %g", tc.age, v, tc.views)
		}
	}

	e.SetAges([]time.Duration{2 * time.Hour})
	if _, ok := curveValue(t, e, "influencer_post_views_at_age", "age=1h"); ok {
		t.Error("an age no longer configured is still exported")
	}
	if v, _ := curveValue(t, e, "influencer_post_views_at_age", "age=2h"); v != 121 {
		t.Errorf("views at 2h = %g after a reload, want 121", v)
	}
}

func TestEarlyCurveExposition(t *testing.T) {
	e := NewEarlyCurve([]time.Duration{24 * time.Hour, time.Hour}, "", nil)
	curveObserve(e, 58*time.Minute, append(
		curvePostSamples("spring", "p1", curvePublished, 1200, 30, 12),
		curvePostSamples("summer", "p2", curvePublished.Add(-2*time.Hour), 5000, 80, 40)...))
	curveObserve(e, 63*time.Minute, append(
		curvePostSamples("spring", "p1", curvePublished, 1300, 35, 14),
		curvePostSamples("summer", "p2", curvePublished.Add(-2*time.Hour), 5100, 81, 41)...))

	want := `
# HELP influencer_early_curve_posts Posts by early-curve state per age since publishing: recorded, pending (not decided yet: younger than the age, or waiting for the poll after it) or missed (first seen after the age, or no poll within max(10% of the age, 5m) of it). Ages print as Prometheus durations: 24h is 1d.
# TYPE influencer_early_curve_posts gauge
influencer_early_curve_posts{age="1d",campaign="spring",state="missed"} 0
influencer_early_curve_posts{age="1d",campaign="spring",state="pending"} 1
influencer_early_curve_posts{age="1d",campaign="spring",state="recorded"} 0
influencer_early_curve_posts{age="1d",campaign="summer",state="missed"} 0
influencer_early_curve_posts{age="1d",campaign="summer",state="pending"} 1
influencer_early_curve_posts{age="1d",campaign="summer",state="recorded"} 0
influencer_early_curve_posts{age="1h",campaign="spring",state="missed"} 0
influencer_early_curve_posts{age="1h",campaign="spring",state="pending"} 0
influencer_early_curve_posts{age="1h",campaign="spring",state="recorded"} 1
influencer_early_curve_posts{age="1h",campaign="summer",state="missed"} 1
influencer_early_curve_posts{age="1h",campaign="summer",state="pending"} 0
influencer_early_curve_posts{age="1h",campaign="summer",state="recorded"} 0
# HELP influencer_post_at_age_polled_timestamp_seconds Unix time of the poll whose values influencer_post_views_at_age and influencer_post_engagements_at_age carry for that age.
# TYPE influencer_post_at_age_polled_timestamp_seconds gauge
influencer_post_at_age_polled_timestamp_seconds{age="1h",campaign="spring",creator="alice",post="p1",provider="instagram"} 1.74083388e+09
# HELP influencer_post_engagements_at_age Saves and shares of a creator's post by type at a fixed age since publishing, from the poll nearest that age; absent if the post was first seen after it, or if its platform does not report the type.
# TYPE influencer_post_engagements_at_age gauge
influencer_post_engagements_at_age{age="1h",campaign="spring",creator="alice",post="p1",provider="instagram",type="saves"} 30
influencer_post_engagements_at_age{age="1h",campaign="spring",creator="alice",post="p1",provider="instagram",type="shares"} 12
# HELP influencer_post_views_at_age Views of a creator's post at a fixed age since publishing, from the poll nearest that age; absent if the post was first seen after it.
# TYPE influencer_post_views_at_age gauge
influencer_post_views_at_age{age="1h",campaign="spring",creator="alice",post="p1",provider="instagram"} 1200
`
	if err := testutil.CollectAndCompare(e, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(e); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err != nil {
		t.Errorf("pedantic gather: %v", err)
	}
}

func TestEarlyCurveStateFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "early-curve.json")
	ages := []time.Duration{time.Hour, 3 * time.Hour}
	e := NewEarlyCurve(ages, file, nil)
	curveObserve(e, 58*time.Minute, append(curvePostSamples("spring", "p1", curvePublished, 58, 5, 1),
		curvePostSamples("spring", "p2", curvePublished.Add(time.Hour), 1, 0, 0)...))
	// Nothing decided yet: no file.
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("state written before anything was decided: %v", err)
	}
	curveObserve(e, 3*time.Hour-10*time.Second, append(curvePostSamples("spring", "p1", curvePublished, 179, 9, 2),
		curvePostSamples("spring", "p2", curvePublished.Add(time.Hour), 119, 3, 0)...))
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	before := curveExposition(t, e)

	// A restart: what was recorded is back, and so is the poll before 3h
	// of p1, which the first poll after the restart is compared with.
	r := NewEarlyCurve(ages, file, nil)
	if len(before) == 0 {
		t.Fatal("nothing exported before the restart")
	}
	if err := testutil.CollectAndCompare(r, bytes.NewReader(before)); err != nil {
		t.Errorf("after a restart: %v", err)
	}
	curveObserve(r, 3*time.Hour+time.Minute, append(curvePostSamples("spring", "p1", curvePublished, 181, 10, 3),
		curvePostSamples("spring", "p2", curvePublished.Add(time.Hour), 121, 3, 0)...))
	if v, _ := curveValue(t, r, "influencer_post_views_at_age", "post=p1", "age=3h"); v != 179 {
		t.Errorf("p1 views at 3h = %g after a restart, want 179 (the poll before it)", v)
	}
	if v, _ := curveValue(t, r, "influencer_post_engagements_at_age", "post=p1", "age=1h", "type=saves"); v != 5 {
		t.Errorf("p1 saves at 1h = %g after a restart, want 5", v)
	}
	entries, err := os.ReadDir(filepath.Dir(file))
	if err != nil || len(entries) != 1 {
		t.Errorf("state dir holds %v (%v), want the state file only", entries, err)
	}
}

func TestEarlyCurveBadStateFile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, file string)
	}{
		{"corrupt", func(t *testing.T, file string) {
			if err := os.WriteFile(file, []byte(`{"version":1,"posts":[{`), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"unknown version", func(t *testing.T, file string) {
			if err := os.WriteFile(file, []byte(`{"version":99,"posts":[]}`), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"unreadable", func(t *testing.T, file string) {
			if err := os.Mkdir(file, 0o700); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "early-curve.json")
			tc.setup(t, file)
			var logs bytes.Buffer
			e := NewEarlyCurve([]time.Duration{time.Hour}, file, slog.New(slog.NewTextHandler(&logs, nil)))
			if !strings.Contains(logs.String(), "ignoring early curve state file") {
				t.Errorf("logs = %q, want a warning", logs.String())
			}
			curveObserve(e, 59*time.Minute, curvePostSamples("spring", "p", curvePublished, 59, 0, 0))
			curveObserve(e, 61*time.Minute, curvePostSamples("spring", "p", curvePublished, 61, 0, 0))
			if v, ok := curveValue(t, e, "influencer_post_views_at_age"); !ok || v != 61 {
				t.Errorf("views at 1h = %g (exported %v), want 61", v, ok)
			}
		})
	}
}

// A runner builds its tracker before it reads the config: the state file
// set by the first load is read, not overwritten.
func TestEarlyCurveSetStateFileFirstLoad(t *testing.T) {
	file := filepath.Join(t.TempDir(), "curve.json")
	e := NewEarlyCurve([]time.Duration{time.Hour}, file, nil)
	curveObserve(e, 59*time.Minute, curvePostSamples("spring", "p", curvePublished, 59, 3, 1))
	curveObserve(e, 61*time.Minute, curvePostSamples("spring", "p", curvePublished, 61, 4, 2))

	r := NewEarlyCurve(nil, "", nil)
	r.SetAges([]time.Duration{time.Hour})
	r.SetStateFile(file)
	if err := testutil.CollectAndCompare(r, bytes.NewReader(curveExposition(t, e))); err != nil {
		t.Errorf("after the first load: %v", err)
	}
}

func TestEarlyCurveSetStateFile(t *testing.T) {
	dir := t.TempDir()
	e := NewEarlyCurve([]time.Duration{time.Hour}, "", nil)
	curveObserve(e, 59*time.Minute, curvePostSamples("spring", "p", curvePublished, 59, 0, 0))
	curveObserve(e, 61*time.Minute, curvePostSamples("spring", "p", curvePublished, 61, 0, 0))
	file := filepath.Join(dir, "curve.json")
	e.SetStateFile(file)
	r := NewEarlyCurve([]time.Duration{time.Hour}, file, nil)
	if v, ok := curveValue(t, r, "influencer_post_views_at_age"); !ok || v != 61 {
		t.Errorf("views at 1h = %g (exported %v) from the new file, want 61", v, ok)
	}
}

// BenchmarkEarlyCurveObserve measures one refresh of a collector watching
// 40,000 posts published over the last two days, polled every minute.
func BenchmarkEarlyCurveObserve(b *testing.B) {
	const posts = 40000
	start := curvePublished.Add(48 * time.Hour)
	samples := make([]Sample, 0, 6*posts)
	for i := range posts {
		published := start.Add(-time.Duration(i) * 48 * time.Hour / posts)
		camp, creator, post := fmt.Sprintf("camp-%d", i%10), fmt.Sprintf("creator-%d", i%500), fmt.Sprintf("post-%05d", i)
		samples = append(samples,
			PostPublished.Sample(float64(published.Unix()), camp, creator, "instagram", post),
			PostViews.Sample(float64(i), camp, creator, "instagram", post))
		for _, typ := range []string{"likes", "comments", "saves", "shares"} {
			samples = append(samples, PostEngagements.Sample(float64(i%97), camp, creator, "instagram", post, typ))
		}
	}
	e := NewEarlyCurve([]time.Duration{time.Hour, 3 * time.Hour, 6 * time.Hour, 24 * time.Hour}, "", nil)
	at := start
	e.Observe("ig", nil, at, samples, samples)
	b.ReportAllocs()
	for b.Loop() {
		at = at.Add(time.Minute)
		e.Observe("ig", nil, at, samples, samples)
	}
}

// BenchmarkEarlyCurveRender measures rendering the at-age series of a
// collector of 40,000 posts with every age recorded (640,000 series):
// "all" after a reload that changes the ages, "part" what a refresh
// renders when one of its posts records an age.
func BenchmarkEarlyCurveRender(b *testing.B) {
	const posts = 40000
	ages := []time.Duration{time.Hour, 3 * time.Hour, 6 * time.Hour, 24 * time.Hour}
	e := NewEarlyCurve(ages, "", nil)
	byKey := map[string]*curvePost{}
	for i := range posts {
		p := &curvePost{
			campaign: fmt.Sprintf("camp-%d", i%10), creator: fmt.Sprintf("creator-%d", i%500), provider: "instagram", post: fmt.Sprintf("1789%013d", i),
			published: curvePublished.UnixNano(), types: []string{"saves", "shares"}, ages: make([]curveRecord, len(ages)),
		}
		for j, a := range ages {
			p.ages[j] = curveRecord{state: curveRecorded, curvePoll: curvePoll{at: curvePublished.Add(a).UnixNano(), vals: []float64{float64(i * j), float64(i % 97), float64(i % 13)}}}
		}
		key := string(curveKey(nil, []string{p.campaign, p.creator, p.provider, p.post}))
		p.shard = curveShard(key)
		byKey[key] = p
	}
	e.posts["ig"] = byKey
	e.render(true, nil)
	b.Run("all", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.render(false, curveDirty{"ig": nil})
		}
		b.ReportMetric(float64(e.rendered().series), "series")
		b.ReportMetric(float64(e.rendered().bytes())/float64(e.rendered().series), "rendered-B/series")
	})
	b.Run("part", func(b *testing.B) {
		var one [curveShards]bool
		one[7] = true
		b.ReportAllocs()
		for b.Loop() {
			e.render(false, curveDirty{"ig": &one})
		}
	})
}

// TestEarlyCurvePostOfTwoCollectors: a post two collectors report has its
// at-age series exported once.
func TestEarlyCurvePostOfTwoCollectors(t *testing.T) {
	e := NewEarlyCurve([]time.Duration{time.Hour}, "", nil)
	for m := 0; m <= 90; m += 10 {
		s := curvePostSamples("spring", "p1", curvePublished, float64(100+m), 4, 2)
		for _, c := range []string{"ig", "ig-agency"} {
			e.Observe(c, nil, curvePublished.Add(time.Duration(m)*time.Minute), s, s)
		}
	}
	seen := map[string]bool{}
	n := 0
	for _, l := range renderedLines(t, e) {
		if !strings.Contains(l, "_at_age{") {
			continue
		}
		n++
		if seen[l] {
			t.Errorf("exported twice: %s", l)
		}
		seen[l] = true
	}
	if n == 0 {
		t.Fatal("no at-age series recorded")
	}
}

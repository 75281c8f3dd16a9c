package exportertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// What the tests of the social and analytics collectors check of
// coverage: a refresh whose time runs out part way, the object errors of
// a partial refresh, and what the scheduler then shows (gaps and
// influencer_collector_objects).

// Cutoff wraps a fake provider so that a test decides when a refresh's
// time runs out: after Within(n), the fake serves n more requests, and
// the next one ends the refresh's context and is held until the client
// gives up, as a call in flight at the deadline is. No clock, no sleep:
// the cut falls on the same call on every run.
type Cutoff struct {
	next http.Handler

	mu     sync.Mutex
	left   int // requests to serve before the cut; -1: no cut
	cancel context.CancelFunc
}

// NewCutoff wraps next; it cuts nothing until Within is called.
func NewCutoff(next http.Handler) *Cutoff { return &Cutoff{next: next, left: -1} }

// ServeHTTP serves the request, or cuts the refresh on it.
func (c *Cutoff) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	var cancel context.CancelFunc
	switch {
	case c.left == 0:
		cancel, c.left, c.cancel = c.cancel, -1, nil
	case c.left > 0:
		c.left--
	}
	c.mu.Unlock()
	if cancel == nil {
		c.next.ServeHTTP(w, r)
		return
	}
	cancel()
	// net/http notices a client hanging up only once the body is read.
	_, _ = io.Copy(io.Discard, r.Body)
	<-r.Context().Done()
}

// SetPublicURL tells the wrapped fake its URL, if it wants it (see Serve).
func (c *Cutoff) SetPublicURL(u string) {
	if p, ok := c.next.(interface{ SetPublicURL(string) }); ok {
		p.SetPublicURL(u)
	}
}

// Within returns a context whose time runs out on the fake's (n+1)th
// request from now: n calls are answered, the next is cut. With n < 0 the
// context does not run out. Call the cancel function when done.
func (c *Cutoff) Within(n int) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	c.mu.Lock()
	defer c.mu.Unlock()
	c.left, c.cancel = -1, nil
	if n >= 0 {
		c.left, c.cancel = n, cancel
	}
	return ctx, cancel
}

// PollWithin polls the named collector with a context that runs out after
// n answered calls (see Cutoff.Within).
func (e *Env) PollWithin(t testing.TB, name string, cut *Cutoff, n int) ([]exporter.Sample, error) {
	t.Helper()
	ctx, cancel := cut.Within(n)
	defer cancel()
	return e.Instance(t, name).Collector.Poll(ctx)
}

// RefreshWithin refreshes the named collector through the real scheduler
// into cache, its time running out after n answered calls (n < 0: never).
// Refreshes into the same cache carry skipped objects' values over.
func (e *Env) RefreshWithin(t testing.TB, cache *exporter.Cache, name string, cut *Cutoff, n int) {
	t.Helper()
	ctx, cancel := cut.Within(n)
	defer cancel()
	(&exporter.Scheduler{Cache: cache}).Refresh(ctx, e.Instance(t, name))
}

// ObjectErrors returns the object errors of a partial refresh's error, in
// order, and its other errors. Anything but a partial error fails the
// test.
func ObjectErrors(t testing.TB, err error) ([]*exporter.ObjectError, []error) {
	t.Helper()
	var pe *exporter.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a partial error", err)
	}
	var (
		objs []*exporter.ObjectError
		rest []error
	)
	for _, e := range pe.Errs {
		var oe *exporter.ObjectError
		if errors.As(e, &oe) {
			objs = append(objs, oe)
			continue
		}
		rest = append(rest, e)
	}
	return objs, rest
}

// ObjectKey names an object error as the tests compare it: "state kind
// campaign/creator/id", state being missing or skipped.
func ObjectKey(oe *exporter.ObjectError) string {
	state := exporter.StateMissing
	if oe.Skipped {
		state = exporter.StateSkipped
	}
	return fmt.Sprintf("%s %s %s/%s/%s", state, oe.Kind, oe.Campaign, oe.Creator, oe.ID)
}

// ObjectKeys returns the sorted ObjectKey of each object error of err, a
// partial error, and its other errors.
func ObjectKeys(t testing.TB, err error) ([]string, []error) {
	t.Helper()
	objs, rest := ObjectErrors(t, err)
	out := make([]string, len(objs))
	for i, oe := range objs {
		out[i] = ObjectKey(oe)
	}
	sort.Strings(out)
	return out, rest
}

// GapKeys returns the gaps of the named collector in cache as "state kind
// campaign/creator/id", sorted, with the reason of each by key.
func GapKeys(t testing.TB, cache *exporter.Cache, name string) ([]string, map[string]string) {
	t.Helper()
	for _, st := range cache.Status() {
		if st.Name != name {
			continue
		}
		var keys []string
		reasons := map[string]string{}
		for _, g := range st.Gaps {
			k := fmt.Sprintf("%s %s %s/%s/%s", g.State, g.Kind, g.Campaign, g.Creator, g.ID)
			keys = append(keys, k)
			reasons[k] = g.Reason
		}
		sort.Strings(keys)
		return keys, reasons
	}
	t.Fatalf("no collector %q in the cache", name)
	return nil, nil
}

// PostResume is a social collector's resume test, run by
// Env.CheckPostResume: every post is creator alice's of campaign spring,
// and a refresh cut short leaves Skipped of them.
type PostResume struct {
	// Collector is the collector's name.
	Collector string
	Cut       *Cutoff
	Clock     *ManualClock
	// IDs are the posts.
	IDs []string
	// Calls are the calls answered before the time runs out.
	Calls int
	// Skipped is how many posts a refresh cut short leaves unread.
	Skipped int
	// Objects are more influencer_collector_objects counts, by "kind
	// state", each refresh cut short leaves (accounts).
	Objects map[string]float64
	// Views returns the views the fake reports for a post now.
	Views func(id string) float64
}

// CheckPostResume runs a complete refresh of r.Collector into a new
// cache, then two a minute apart whose time runs out after r.Calls calls.
// After each of those, the collector's only gaps are r.Skipped of alice's
// posts, skipped for lack of time, and influencer_collector_objects
// counts them so (and r.Objects); a post read shows its views of now, one
// skipped by the first its views of the complete refresh; no post is
// skipped twice in a row; and after both, no post shows its views of the
// complete refresh. It returns the posts the last refresh skipped.
func (e *Env) CheckPostResume(t testing.TB, r PostResume) map[string]bool {
	t.Helper()
	cache := exporter.NewCache()
	cached := func() map[string]float64 { return CachedValues(t, cache, exporter.PostViews, "post") }
	e.RefreshWithin(t, cache, r.Collector, r.Cut, -1)
	first := cached()
	if len(first) != len(r.IDs) {
		t.Fatalf("first refresh exported %d posts, want %d", len(first), len(r.IDs))
	}
	var before map[string]bool
	for refresh := 2; refresh <= 3; refresh++ {
		r.Clock.Advance(time.Minute)
		e.RefreshWithin(t, cache, r.Collector, r.Cut, r.Calls)
		gaps, reasons := GapKeys(t, cache, r.Collector)
		skipped := map[string]bool{}
		for _, g := range gaps {
			id, ok := strings.CutPrefix(g, "skipped post spring/alice/")
			if !ok || !strings.Contains(reasons[g], exporter.ErrOutOfTime.Error()) {
				t.Errorf("refresh %d: gap %s (%s), want a post skipped for lack of time", refresh, g, reasons[g])
			}
			skipped[id] = true
		}
		if len(skipped) != r.Skipped {
			t.Fatalf("refresh %d: %d posts skipped, want %d", refresh, len(skipped), r.Skipped)
		}
		want := map[string]float64{"post exported": float64(len(r.IDs) - r.Skipped), "post skipped": float64(r.Skipped)}
		maps.Copy(want, r.Objects)
		AssertObjects(t, cache, r.Collector, want)
		now := cached()
		for _, id := range r.IDs {
			switch {
			case skipped[id] && before[id]:
				t.Errorf("refresh %d: post %s skipped twice in a row: not read first", refresh, id)
			case skipped[id] && refresh == 2 && now[id] != first[id]:
				t.Errorf("refresh %d: skipped post %s shows %g, want its last value %g", refresh, id, now[id], first[id])
			case !skipped[id] && now[id] != r.Views(id):
				t.Errorf("refresh %d: post %s shows %g, want %g", refresh, id, now[id], r.Views(id))
			case refresh == 3 && now[id] == first[id]:
				t.Errorf("post %s still shows %g, its value of the first refresh", id, now[id])
			}
		}
		before = skipped
	}
	return before
}

// AssertSkippedPost checks the error of a poll cut short: a partial
// error whose first object error is a post of creator alice of campaign
// spring skipped for lack of time, not one of notAgain (the posts the
// refresh before skipped, which it read first).
func AssertSkippedPost(t testing.TB, err error, notAgain map[string]bool) {
	t.Helper()
	var oe *exporter.ObjectError
	if !errors.As(err, &oe) || !oe.Skipped || oe.Kind != exporter.KindPost || oe.Campaign != "spring" || oe.Creator != "alice" ||
		notAgain[oe.ID] || !errors.Is(err, exporter.ErrOutOfTime) {
		t.Errorf("object error %+v, want a post of spring/alice skipped for lack of time", oe)
	}
}

// AssertSkippedGaps checks that the gaps of the named collector in cache
// are want (see GapKeys), each with ErrOutOfTime's reason, and stops the
// test if not; step names the refresh in the error.
func AssertSkippedGaps(t testing.TB, cache *exporter.Cache, name, step string, want []string) {
	t.Helper()
	gaps, reasons := GapKeys(t, cache, name)
	ok := slices.Equal(gaps, want)
	for _, g := range gaps {
		ok = ok && strings.Contains(reasons[g], exporter.ErrOutOfTime.Error())
	}
	if !ok {
		t.Fatalf("%s: gaps %v (%v), want %v, skipped for lack of time", step, gaps, reasons, want)
	}
}

// AssertObjects checks the counts of influencer_collector_objects of the
// named collector in cache that want lists, by "kind state"; others are
// not checked.
func AssertObjects(t testing.TB, cache *exporter.Cache, name string, want map[string]float64) {
	t.Helper()
	objects := CollectorObjects(t, cache, name)
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if objects[k] != want[k] {
			t.Errorf("influencer_collector_objects{%s} = %g, want %g (all: %v)", k, objects[k], want[k], objects)
		}
	}
}

// CollectorObjects returns influencer_collector_objects of the named
// collector as cache exports it, by "kind state".
func CollectorObjects(t testing.TB, cache *exporter.Cache, name string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, s := range cachedSeries(t, cache, "influencer_collector_objects") {
		if s.labels["collector"] == name {
			out[s.labels["kind"]+" "+s.labels["state"]] = s.value
		}
	}
	return out
}

// CachedValues returns the value of each series of metric m the cache
// exports, by the values of the given labels joined with "/" (post;
// creator/source; ...).
func CachedValues(t testing.TB, cache *exporter.Cache, m *exporter.Metric, labels ...string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, s := range cachedSeries(t, cache, m.Name) {
		key := make([]string, len(labels))
		for i, l := range labels {
			key[i] = s.labels[l]
		}
		out[strings.Join(key, "/")] = s.value
	}
	return out
}

// series is one counter or gauge series as a cache exports it.
type series struct {
	labels map[string]string
	value  float64
}

// cachedSeries returns the counter and gauge series of the named metric
// that cache exports.
func cachedSeries(t testing.TB, cache *exporter.Cache, name string) []series {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(cache); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var out []series
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			s := series{labels: map[string]string{}}
			for _, lp := range m.GetLabel() {
				s.labels[lp.GetName()] = lp.GetValue()
			}
			switch {
			case m.GetCounter() != nil:
				s.value = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				s.value = m.GetGauge().GetValue()
			default:
				continue
			}
			out = append(out, s)
		}
	}
	return out
}

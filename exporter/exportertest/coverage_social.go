package exportertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

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

// CollectorObjects returns influencer_collector_objects of the named
// collector as cache exports it, by "kind state".
func CollectorObjects(t testing.TB, cache *exporter.Cache, name string) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(cache); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "influencer_collector_objects" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			if l["collector"] == name {
				out[l["kind"]+" "+l["state"]] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// CachedValues returns the value of each series of metric m the cache
// exports, by the values of the given labels joined with "/" (post;
// creator/source; ...).
func CachedValues(t testing.TB, cache *exporter.Cache, m *exporter.Metric, labels ...string) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(cache); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != m.Name {
			continue
		}
		for _, x := range mf.GetMetric() {
			byName := map[string]string{}
			for _, lp := range x.GetLabel() {
				byName[lp.GetName()] = lp.GetValue()
			}
			key := make([]string, len(labels))
			for i, l := range labels {
				key[i] = byName[l]
			}
			switch {
			case x.GetCounter() != nil:
				out[strings.Join(key, "/")] = x.GetCounter().GetValue()
			case x.GetGauge() != nil:
				out[strings.Join(key, "/")] = x.GetGauge().GetValue()
			}
		}
	}
	return out
}

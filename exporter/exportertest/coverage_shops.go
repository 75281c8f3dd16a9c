package exportertest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// What the shop collectors' tests check of coverage beyond
// coverage_social.go: refreshes under a real deadline until a count
// completes, and the values a scrape then sees.

// CompareCache compares the series of metricNames the cache exports (the
// values a scrape sees, carried-over ones included) with want, an
// exposition such as Exposition of a complete refresh.
func CompareCache(t testing.TB, cache *exporter.Cache, want string, metricNames ...string) {
	t.Helper()
	if err := testutil.CollectAndCompare(cache, bytes.NewReader([]byte(want)), metricNames...); err != nil {
		t.Error(err)
	}
}

// RefreshUntilCovered refreshes the named collector through the scheduler
// into cache, each refresh with budget before its deadline, until one
// leaves no gap, at most max times. It returns the gaps each refresh left
// (see GapKeys). A refresh that fails rather than running out of time
// fails the test, as does reaching max.
func (e *Env) RefreshUntilCovered(t testing.TB, cache *exporter.Cache, name string, budget time.Duration, max int) [][]string {
	t.Helper()
	sched := &exporter.Scheduler{Cache: cache}
	var out [][]string
	for range max {
		ctx, cancel := context.WithTimeout(context.Background(), budget)
		sched.Refresh(ctx, e.Instance(t, name))
		cancel()
		for _, st := range cache.Status() {
			if st.Name == name && !st.Up {
				t.Fatalf("refresh %d failed: %s", len(out)+1, st.LastError)
			}
		}
		keys, _ := GapKeys(t, cache, name)
		out = append(out, keys)
		if len(keys) == 0 {
			return out
		}
	}
	t.Fatalf("%d refreshes of %s left gaps: %v", max, budget, out[len(out)-1])
	return nil
}

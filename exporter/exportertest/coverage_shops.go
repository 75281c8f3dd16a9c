package exportertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
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

// CodeMetrics are the names of the shop collectors' per-code series.
var CodeMetrics = []string{exporter.CodeRedemptions.Name, exporter.CodeRevenue.Name, exporter.CodeRefunds.Name, exporter.CodeRefundedRevenue.Name, exporter.CodePendingOrders.Name}

// AssertOneMissing checks that err, a partial error, names exactly one
// object and nothing else: want, missing (not skipped), matching
// exporter.ErrNotFound, with a reason that contains each of contains.
func AssertOneMissing(t testing.TB, err error, want exporter.Object, contains ...string) {
	t.Helper()
	objs, rest := ObjectErrors(t, err)
	if len(objs) != 1 || len(rest) != 0 {
		t.Fatalf("object errors %v, others %v; want one", objs, rest)
	}
	oe := objs[0]
	if oe.Object != want || oe.Skipped || !errors.Is(oe, exporter.ErrNotFound) {
		t.Errorf("object error %+v (%v), want %+v missing, not found", oe, oe, want)
	}
	for _, c := range contains {
		if !strings.Contains(oe.Error(), c) {
			t.Errorf("reason %q does not contain %q", oe, c)
		}
	}
}

// AssertAllSkipped checks what a poll cut short before any count
// completed returns: no samples, and a partial error naming the objects
// keys (ObjectKeys, as fmt.Sprint prints them) and nothing else, the first
// skipped for lack of time.
func AssertAllSkipped(t testing.TB, samples []exporter.Sample, err error, keys string) {
	t.Helper()
	got, rest := ObjectKeys(t, err)
	if fmt.Sprint(got) != keys || len(rest) != 0 || len(samples) != 0 {
		t.Fatalf("object errors %v, others %v, %d samples; want %s", got, rest, len(samples), keys)
	}
	if objs, _ := ObjectErrors(t, err); !errors.Is(objs[0], exporter.ErrOutOfTime) {
		t.Errorf("reason %v, want out of time", objs[0])
	}
}

// Codes is what a shop collector's refreshes left in a cache, as
// CheckCodes compares it; an empty field is not checked.
type Codes struct {
	// Redemptions are influencer_code_redemptions_total by code, as
	// fmt.Sprint prints the map ("map[alice:7 bob:3]").
	Redemptions string
	// Gaps are the collector's gaps (GapKeys), as fmt.Sprint prints them.
	Gaps string
	// Reasons are texts the reason of every gap contains.
	Reasons []string
	// Objects are its influencer_collector_objects (CollectorObjects),
	// as fmt.Sprint prints the map.
	Objects string
}

// CheckCodes compares what the named collector's refreshes left in cache
// with want; step names the refresh in errors.
func CheckCodes(t testing.TB, cache *exporter.Cache, name, step string, want Codes) {
	t.Helper()
	if want.Redemptions != "" {
		if v := fmt.Sprint(CachedValues(t, cache, exporter.CodeRedemptions, "code")); v != want.Redemptions {
			t.Errorf("%s: redemptions %s, want %s", step, v, want.Redemptions)
		}
	}
	keys, reasons := GapKeys(t, cache, name)
	if want.Gaps != "" && fmt.Sprint(keys) != want.Gaps {
		t.Errorf("%s: gaps %v, want %s", step, keys, want.Gaps)
	}
	for _, k := range keys {
		for _, c := range want.Reasons {
			if !strings.Contains(reasons[k], c) {
				t.Errorf("%s: reason of %s %q does not contain %q", step, k, reasons[k], c)
			}
		}
	}
	if want.Objects != "" {
		if o := fmt.Sprint(CollectorObjects(t, cache, name)); o != want.Objects {
			t.Errorf("%s: influencer_collector_objects %s, want %s", step, o, want.Objects)
		}
	}
}

// RefreshSlowly makes every call to the fake behind faults slow and
// refreshes the named collector with a short deadline until a refresh
// leaves no gap (see RefreshUntilCovered): a first count that cannot
// finish in one refresh. It checks that the first refresh left the gaps
// firstGaps (as fmt.Sprint prints them), makes the fake fast again and
// returns the cache and the number of refreshes.
func (e *Env) RefreshSlowly(t testing.TB, faults *fakeapi.Faults, name, firstGaps string) (*exporter.Cache, int) {
	t.Helper()
	faults.SetDelay(20 * time.Millisecond)
	faults.Set(fakeapi.Slow, -1)
	cache := exporter.NewCache()
	gaps := e.RefreshUntilCovered(t, cache, name, 150*time.Millisecond, 200)
	faults.Set(fakeapi.None, 0)
	if g := fmt.Sprint(gaps[0]); g != firstGaps {
		t.Errorf("first refresh: gaps %s, want %s", g, firstGaps)
	}
	t.Logf("counted in %d refreshes", len(gaps))
	return cache, len(gaps)
}

// CompareCacheToPoll compares the series of metricNames in cache (see
// CompareCache) with those of a complete poll of the named collector of
// fresh, a new build of the same config: what refreshes cut short add up
// to is what one full count reads.
func CompareCacheToPoll(t testing.TB, cache *exporter.Cache, fresh *Env, name string, metricNames ...string) {
	t.Helper()
	want, err := fresh.Poll(t, name)
	if err != nil {
		t.Fatal(err)
	}
	CompareCache(t, cache, string(Exposition(t, want)), metricNames...)
}

// ShopFigures sums a shop's code series as the cross-shop tests compare
// them: every shop plays the same order stream against its fake and must
// give the same figures (docs/metrics.md, "Shop metrics: one definition").
// Amounts are rounded to cents, per currency.
func ShopFigures(samples []exporter.Sample) string {
	var redemptions, pending, refunds float64
	revenue, refunded := map[string]float64{}, map[string]float64{}
	for _, s := range samples {
		switch s.Metric {
		case exporter.CodeRedemptions:
			redemptions += s.Value
		case exporter.CodePendingOrders:
			pending += s.Value
		case exporter.CodeRefunds:
			refunds += s.Value
		case exporter.CodeRevenue:
			revenue[s.Label("currency")] += math.Round(s.Value*100) / 100
		case exporter.CodeRefundedRevenue:
			refunded[s.Label("currency")] += math.Round(s.Value*100) / 100
		}
	}
	return fmt.Sprintf("redemptions=%g revenue=%v pending=%g refunds=%g refunded=%v", redemptions, revenue, pending, refunds, refunded)
}

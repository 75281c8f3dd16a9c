package agency

import (
	"context"
	"flag"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// Latency is how long the fakes take to answer in the cold-start
// benchmarks: a provider API's round trip from a server near it.
const Latency = 50 * time.Millisecond

// full runs the cold-start benchmarks at full agency size (see the
// package comment).
var full = flag.Bool("agency.full", false, "run the cold-start benchmarks at full agency size, not a tenth of it")

// BenchSize returns n with -agency.full, else n/Reduced: at a tenth of
// the agency, every cold-start benchmark takes well under a minute, as
// CI runs it (-benchtime 1x); at full size Bitly's takes minutes.
func BenchSize(n int) int {
	if *full {
		return n
	}
	return max(1, n/Reduced)
}

// Slow delays each answer of h by d, or until the request ends.
func Slow(h http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return h
	}
	return &slow{next: h, delay: d}
}

type slow struct {
	next  http.Handler
	delay time.Duration
}

func (s *slow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := time.NewTimer(s.delay)
	defer t.Stop()
	select {
	case <-t.C:
		s.next.ServeHTTP(w, r)
	case <-r.Context().Done():
	}
}

// SetPublicURL tells the wrapped fake its URL, if it wants it (see Serve).
func (s *slow) SetPublicURL(u string) {
	if p, ok := s.next.(interface{ SetPublicURL(string) }); ok {
		p.SetPublicURL(u)
	}
}

// ColdStart starts the exporter's scheduler on env's collectors, as the
// exporter does at startup (max_concurrent_refreshes of them at once, each
// refresh bounded by the collector's interval), and returns the time until
// every collector stored its first snapshot. The test fails if a snapshot
// is not complete: its collector down, or objects missing or skipped.
func ColdStart(tb testing.TB, env *exportertest.Env) time.Duration {
	tb.Helper()
	var (
		mu    sync.Mutex
		seen  = map[string]bool{}
		last  time.Time
		ready = make(chan struct{})
	)
	cache := exporter.NewCache()
	s := &exporter.Scheduler{
		Cache:         cache,
		MaxConcurrent: env.Config.Global.MaxConcurrentRefreshes,
		Observer: func(name string, _ exporter.Collector, at time.Time, _, _ []exporter.Sample) {
			mu.Lock()
			defer mu.Unlock()
			if seen[name] {
				return
			}
			seen[name] = true
			if at.After(last) {
				last = at
			}
			if len(seen) == len(env.Instances) {
				close(ready)
			}
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(stopped)
		s.Run(ctx, env.Instances)
	}()
	defer func() {
		cancel()
		<-stopped
	}()

	// Wait for every first refresh; a failed one ends the wait, as no
	// second one comes before its interval.
	check := time.NewTicker(time.Second)
	defer check.Stop()
	for waiting := true; waiting; {
		select {
		case <-ready:
			waiting = false
		case <-check.C:
			for _, st := range cache.Status() {
				if st.Attempted && !st.Up {
					tb.Fatalf("%s: first refresh failed: %s", st.Name, st.LastError)
				}
			}
		}
	}
	for _, st := range cache.Status() {
		if !st.Up || st.Partial() {
			tb.Fatalf("%s: first snapshot incomplete: up %t, %d objects missing or skipped (%v)", st.Name, st.Up, len(st.Gaps), st.LastError)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return last.Sub(start)
}

// RunColdStart measures the cold start of the collectors setup
// builds against srv, whose fake answers after Latency: seconds to the
// first complete snapshot (cold-start-s), the most connections the
// collectors held at once (peak-conns) and the API calls they made
// (calls), averaged over b.N cold starts, each with a new setup.
func RunColdStart(b *testing.B, setup func(b *testing.B) (*Server, *exportertest.Env)) {
	var (
		took  time.Duration
		peak  int
		calls int
	)
	for range b.N {
		b.StopTimer()
		srv, env := setup(b)
		srv.Calls() // the setup's own, if any
		b.StartTimer()
		took += ColdStart(b, env)
		b.StopTimer()
		peak = max(peak, srv.PeakConns())
		calls += srv.Calls().Total()
	}
	b.ReportMetric(took.Seconds()/float64(b.N), "cold-start-s")
	b.ReportMetric(float64(peak), "peak-conns")
	b.ReportMetric(float64(calls)/float64(b.N), "calls")
}

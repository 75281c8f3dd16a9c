package exporter

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A refresh gives way to the /metrics scrapes being served. Its work
// (decoding each API response, rendering the new snapshot) stops at
// checkpoints a fraction of a millisecond apart, and while a scrape is
// being served it waits there until the scrape ends. A lowered priority
// (inBackground) only orders the threads that wait for a CPU: on two
// cores scraped back to back a refresh still ran beside every scrape, on
// the other core or in the time slices the kernel gave it, and the
// scrapes' p99 during refreshes stayed at 1.3-1.7x idle. Waiting leaves
// the scrape the CPUs, caches and memory bandwidth it has between
// refreshes.
//
// A refresh never waits long: at most maxScrapeWait at a checkpoint, and
// after waiting it runs for a share of that before it waits again, so a
// refresh scraped back to back takes at most 1+scrapeWaitShare times as
// long as unscraped. At a scrape every 15 s, of a few milliseconds, it
// waits a few milliseconds a refresh. The waits are counted on /metrics
// (influencer_refresh_scrape_waits_total and _seconds_total).
var scrapes = newScrapeGate(maxScrapeWait, scrapeWaitShare)

const (
	// maxScrapeWait is the longest a refresh waits at one checkpoint.
	maxScrapeWait = 20 * time.Millisecond
	// scrapeWaitShare bounds the waits: after waiting d, a refresh runs
	// for d/scrapeWaitShare before it waits again.
	scrapeWaitShare = 3
)

// YieldToScrapes turns the refreshes' waits for scrapes on or off
// (--refresh.yield-to-scrapes); they are on by default.
func YieldToScrapes(on bool) { scrapes.off.Store(!on) }

// scrapeGate counts the scrapes being served and lets refreshes wait for
// them.
type scrapeGate struct {
	maxWait time.Duration
	share   int64
	off     atomic.Bool

	serving atomic.Int32
	mu      sync.Mutex
	quiet   chan struct{} // closed when serving falls to 0
	// notBefore is when, in Unix nanoseconds, a refresh may wait next.
	notBefore atomic.Int64

	waits  atomic.Uint64
	waited atomic.Int64 // nanoseconds
}

func newScrapeGate(maxWait time.Duration, share int64) *scrapeGate {
	return &scrapeGate{maxWait: maxWait, share: share}
}

// enter counts a scrape in; exit counts it out.
func (g *scrapeGate) enter() {
	g.mu.Lock()
	if g.serving.Add(1) == 1 {
		g.quiet = make(chan struct{})
	}
	g.mu.Unlock()
}

func (g *scrapeGate) exit() {
	g.mu.Lock()
	if g.serving.Add(-1) == 0 {
		close(g.quiet)
	}
	g.mu.Unlock()
}

// wait is a refresh's checkpoint: it returns when no scrape is being
// served, after at most maxWait, or at once while the refresh is owed
// its share of running after its last wait. Without a scrape it costs
// one atomic load.
func (g *scrapeGate) wait() {
	if g.serving.Load() == 0 || g.off.Load() {
		return
	}
	start := time.Now()
	if start.UnixNano() < g.notBefore.Load() {
		return
	}
	g.mu.Lock()
	quiet, serving := g.quiet, g.serving.Load() > 0
	g.mu.Unlock()
	if !serving {
		return
	}
	t := time.NewTimer(g.maxWait)
	select {
	case <-quiet:
	case <-t.C:
	}
	t.Stop()
	end := time.Now()
	d := end.Sub(start)
	g.notBefore.Store(end.UnixNano() + int64(d)/g.share)
	g.waits.Add(1)
	g.waited.Add(int64(d))
}

var (
	scrapeWaitsDesc = prometheus.NewDesc("influencer_refresh_scrape_waits_total",
		"Times a refresh waited for /metrics scrapes being served to end (--refresh.yield-to-scrapes).",
		nil, nil)
	scrapeWaitSecondsDesc = prometheus.NewDesc("influencer_refresh_scrape_wait_seconds_total",
		"Time refreshes waited for /metrics scrapes being served to end (--refresh.yield-to-scrapes).",
		nil, nil)
)

// scrapeGateMetrics exports a gate's waits.
type scrapeGateMetrics struct{ g *scrapeGate }

func (m scrapeGateMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- scrapeWaitsDesc
	ch <- scrapeWaitSecondsDesc
}

func (m scrapeGateMetrics) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(scrapeWaitsDesc, prometheus.CounterValue, float64(m.g.waits.Load()))
	ch <- prometheus.MustNewConstMetric(scrapeWaitSecondsDesc, prometheus.CounterValue, time.Duration(m.g.waited.Load()).Seconds())
}

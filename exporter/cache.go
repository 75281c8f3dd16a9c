package exporter

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Cache holds the last good snapshot of every collector and its refresh
// state. It is the prometheus.Collector a scrape reads: Collect only copies
// stored metrics and never calls a provider.
type Cache struct {
	mu    sync.RWMutex
	state map[string]*collectorState
}

type collectorState struct {
	typ         string
	metrics     []prometheus.Metric
	up          bool
	attempted   bool
	lastSuccess time.Time
	lastAttempt time.Time
	lastError   string
	nextRefresh time.Time
	duration    time.Duration
	findings    map[string]string
	// samples are what metrics were built from: a refresh that skips
	// objects carries their previous samples over.
	samples []Sample
	// coverage is the state of every object of the last refresh that
	// returned samples; nil for collectors that watch no objects.
	coverage []ObjectStatus
	// counts are coverage counted by kind and state, once per refresh,
	// so a scrape only copies them.
	counts map[[2]string]int
	// posts are the publish times of the snapshot's posts by campaign and
	// creator, taken once per snapshot for per-post fees.
	posts publishedPosts
}

// CollectorStatus is what the landing page shows of one collector.
type CollectorStatus struct {
	Name        string
	Type        string
	Up          bool
	Attempted   bool
	Series      int
	LastSuccess time.Time
	LastAttempt time.Time
	LastError   string
	NextRefresh time.Time
	Duration    time.Duration
	// Findings are per-object problems of a successful refresh, sorted.
	Findings []Finding
	// Objects counts the objects of the last refresh by state.
	Objects map[string]int
	// Gaps are the objects of the last refresh that were missing or
	// skipped, sorted by kind, campaign, creator and id.
	Gaps []ObjectStatus
}

// Partial reports whether the collector's last refresh left objects
// missing or skipped.
func (s CollectorStatus) Partial() bool { return len(s.Gaps) > 0 }

// Finding is one object's problem, from a Finder.
type Finding struct {
	Object, Problem string
}

var (
	collectorUpDesc = prometheus.NewDesc("influencer_collector_up",
		"Whether the collector's last refresh succeeded (1) or failed (0); on failure its last good values are still exported.",
		[]string{"collector"}, nil)
	collectorLastSuccessDesc = prometheus.NewDesc("influencer_collector_last_success_timestamp_seconds",
		"Unix time of the collector's last successful refresh.",
		[]string{"collector"}, nil)
	collectorDurationDesc = prometheus.NewDesc("influencer_collector_refresh_duration_seconds",
		"Duration of the collector's last refresh, successful or not.",
		[]string{"collector"}, nil)
	collectorObjectsDesc = prometheus.NewDesc("influencer_collector_objects",
		"Objects the collector was asked to watch in its last refresh, by kind and state: exported (read by that refresh), skipped (not read by it, previous values kept) or missing (not exported at all; the landing page says why).",
		[]string{"collector", "kind", "state"}, nil)
)

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{state: map[string]*collectorState{}} }

var _ prometheus.Collector = (*Cache)(nil)

// Describe sends nothing: the series a provider returns are not known in
// advance, so the cache is an unchecked collector.
func (c *Cache) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c *Cache) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for name, s := range c.state {
		for _, m := range s.metrics {
			ch <- m
		}
		if !s.attempted {
			continue
		}
		ch <- prometheus.MustNewConstMetric(collectorUpDesc, prometheus.GaugeValue, boolFloat(s.up), name)
		ch <- prometheus.MustNewConstMetric(collectorDurationDesc, prometheus.GaugeValue, s.duration.Seconds(), name)
		if !s.lastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(collectorLastSuccessDesc, prometheus.GaugeValue, float64(s.lastSuccess.UnixNano())/1e9, name)
		}
		for ks, n := range s.counts {
			ch <- prometheus.MustNewConstMetric(collectorObjectsDesc, prometheus.GaugeValue, float64(n), name, ks[0], ks[1])
		}
	}
}

// ToMetrics turns samples into Prometheus metrics, dropping (and
// reporting) samples with the wrong label count and duplicate series, so one
// bad sample never fails a whole scrape.
func ToMetrics(samples []Sample) ([]prometheus.Metric, error) {
	out := make([]prometheus.Metric, 0, len(samples))
	seen := make(map[string]struct{}, len(samples))
	var firstErr error
	dropped := 0
	var key []byte
	for _, s := range samples {
		if s.Metric == nil {
			continue
		}
		key = append(key[:0], s.Metric.Name...)
		for _, v := range s.LabelValues {
			key = append(key, 0xff)
			key = append(key, v...)
		}
		if _, dup := seen[string(key)]; dup {
			dropped++
			if firstErr == nil {
				firstErr = fmt.Errorf("duplicate series %s%q", s.Metric.Name, s.LabelValues)
			}
			continue
		}
		m, err := prometheus.NewConstMetric(s.Metric.desc, s.Metric.Type, s.Value, s.LabelValues...)
		if err != nil {
			dropped++
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", s.Metric.Name, err)
			}
			continue
		}
		seen[string(key)] = struct{}{}
		out = append(out, m)
	}
	if firstErr != nil {
		return out, fmt.Errorf("dropped %d invalid samples, first: %w", dropped, firstErr)
	}
	return out, nil
}

// SamplesCollector exposes samples as a prometheus.Collector, for tests that
// compare a collector's output with testutil.CollectAndCompare.
func SamplesCollector(samples []Sample) prometheus.Collector {
	ms, _ := ToMetrics(samples)
	return metricsCollector(ms)
}

type metricsCollector []prometheus.Metric

func (m metricsCollector) Describe(chan<- *prometheus.Desc) {}
func (m metricsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, x := range m {
		ch <- x
	}
}

// Success stores a new snapshot for a collector.
func (c *Cache) Success(name, typ string, metrics []prometheus.Metric, at time.Time, took time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.get(name, typ)
	s.metrics = metrics
	s.up, s.attempted = true, true
	s.lastSuccess, s.lastAttempt = at, at
	s.lastError = ""
	s.duration = took
}

// Failure records a failed refresh and keeps the last good snapshot.
func (c *Cache) Failure(name, typ string, err error, at time.Time, took time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.get(name, typ)
	s.up, s.attempted = false, true
	s.lastAttempt = at
	s.lastError = err.Error()
	s.duration = took
}

// store replaces a collector's snapshot with samples and their metrics
// without touching its refresh state: a refresh under way reports its
// progress this way.
func (c *Cache) store(name, typ string, samples []Sample, metrics []prometheus.Metric) {
	posts := publishedOf(samples)
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.get(name, typ)
	s.samples, s.metrics, s.posts = samples, metrics, posts
}

// setCoverage replaces the object states of a collector.
func (c *Cache) setCoverage(name, typ string, coverage []ObjectStatus) {
	counts := coverageCounts(coverage)
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.get(name, typ)
	s.coverage, s.counts = coverage, counts
}

// samplesOf returns the samples of a collector's current snapshot.
func (c *Cache) samplesOf(name string) []Sample {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if s, ok := c.state[name]; ok {
		return s.samples
	}
	return nil
}

// SetFindings replaces the findings shown for a collector.
func (c *Cache) SetFindings(name string, f map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.state[name]; ok {
		s.findings = f
	}
}

// Note records a problem of a successful refresh (a PartialError) for the
// landing page; the collector stays up.
func (c *Cache) Note(name string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.state[name]; ok {
		s.lastError = err.Error()
	}
}

// Scheduled records when the collector refreshes next.
func (c *Cache) Scheduled(name, typ string, next time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.get(name, typ).nextRefresh = next
}

// NextRefresh returns when the collector was due next, zero if unknown.
func (c *Cache) NextRefresh(name string) time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if s, ok := c.state[name]; ok {
		return s.nextRefresh
	}
	return time.Time{}
}

// Retain drops the state of collectors not in keep; a reload that removes a
// collector removes its series.
func (c *Cache) Retain(keep map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, s := range c.state {
		if typ, ok := keep[name]; !ok || typ != s.typ {
			delete(c.state, name)
		}
	}
}

func (c *Cache) get(name, typ string) *collectorState {
	s, ok := c.state[name]
	if !ok {
		s = &collectorState{typ: typ}
		c.state[name] = s
	}
	return s
}

// Status returns every collector's state, sorted by name.
func (c *Cache) Status() []CollectorStatus {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]CollectorStatus, 0, len(c.state))
	for name, s := range c.state {
		out = append(out, CollectorStatus{
			Name: name, Type: s.typ, Up: s.up, Attempted: s.attempted, Series: len(s.metrics),
			LastSuccess: s.lastSuccess, LastAttempt: s.lastAttempt, LastError: s.lastError,
			NextRefresh: s.nextRefresh, Duration: s.duration,
			Findings: sortedFindings(s.findings),
			Objects:  stateCounts(s.coverage),
			Gaps:     Gaps(s.coverage),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func sortedFindings(m map[string]string) []Finding {
	if len(m) == 0 {
		return nil
	}
	out := make([]Finding, 0, len(m))
	for k, v := range m {
		out = append(out, Finding{Object: k, Problem: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Object < out[j].Object })
	return out
}

func stateCounts(st []ObjectStatus) map[string]int {
	if len(st) == 0 {
		return nil
	}
	out := map[string]int{}
	for _, s := range st {
		out[s.State]++
	}
	return out
}

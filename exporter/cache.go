package exporter

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Cache holds the last good snapshot of every collector and its refresh
// state. A scrape never calls a provider: the text format copies the
// snapshots rendered when they were stored (see MetricsHandler), and
// Collect, for the other formats, builds metrics from the stored samples.
type Cache struct {
	mu    sync.RWMutex
	state map[string]*collectorState
	// gen numbers snapshots in the order their refreshes stored them.
	gen uint64

	// view is what a scrape reads of the snapshots. It is rebuilt after
	// every change and read without a lock, so a scrape waits for no
	// refresh; viewMu orders the rebuilds.
	view   atomic.Pointer[cacheView]
	viewMu sync.Mutex
}

// cacheView is every collector's rendered snapshot and status series,
// merged by family (what a text scrape writes), and the posts of the
// snapshots (what per-post fees count).
type cacheView struct {
	exp   *exposition
	posts []publishedPosts
}

type collectorState struct {
	typ         string
	up          bool
	attempted   bool
	lastSuccess time.Time
	lastAttempt time.Time
	lastError   string
	nextRefresh time.Time
	duration    time.Duration
	findings    map[string]string
	// samples are the snapshot: a refresh that skips objects carries
	// their previous samples over. skip lists, in order, the indexes of
	// the samples not exported (invalid or duplicate); series counts
	// the others. gen is the snapshot's number.
	samples []Sample
	skip    []int32
	series  int
	gen     uint64
	// rendered is the snapshot in the text format; index its series, so
	// that another collector's snapshot never exports them again.
	rendered *exposition
	index    *seriesIndex
	// status is the collector's own series (up, refresh duration, last
	// success, objects) and statusRendered the same rendered;
	// statusGen numbers their changes.
	status         []Sample
	statusRendered *exposition
	statusGen      uint64
	// gaps are the objects that the last refresh returning samples did
	// not export (missing or skipped), and objects that refresh's
	// objects counted by state; both nil for collectors that watch no
	// objects. The exported objects themselves are not kept: at an
	// agency's scale they would be the largest thing the cache holds.
	gaps    []ObjectStatus
	objects map[string]int
	// counts are the objects counted by kind and state, once per
	// refresh, so a scrape only copies them.
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

// The collectors' own series, rendered with their snapshots.
var (
	collectorUp = makeMetric("influencer_collector_up",
		"Whether the collector's last refresh succeeded (1) or failed (0); on failure its last good values are still exported.",
		prometheus.GaugeValue, "collector")
	collectorLastSuccess = makeMetric("influencer_collector_last_success_timestamp_seconds",
		"Unix time of the collector's last successful refresh.",
		prometheus.GaugeValue, "collector")
	collectorDuration = makeMetric("influencer_collector_refresh_duration_seconds",
		"Duration of the collector's last refresh, successful or not.",
		prometheus.GaugeValue, "collector")
	collectorObjects = makeMetric("influencer_collector_objects",
		"Objects the collector was asked to watch in its last refresh, by kind and state: exported (read by that refresh), skipped (not read by it, previous values kept) or missing (not exported at all; the landing page says why).",
		prometheus.GaugeValue, "collector", "kind", "state")
)

// NewCache returns an empty cache.
func NewCache() *Cache {
	c := &Cache{state: map[string]*collectorState{}}
	c.view.Store(&cacheView{exp: &exposition{}})
	return c
}

var (
	_ prometheus.Collector = (*Cache)(nil)
	_ RenderedCollector    = (*Cache)(nil)
)

// Describe sends nothing: the series a provider returns are not known in
// advance, so the cache is an unchecked collector.
func (c *Cache) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector. It builds the metrics from the
// stored samples on each call: the text format never calls it, and
// keeping a metric per series between scrapes would cost far more memory
// than the samples.
func (c *Cache) Collect(ch chan<- prometheus.Metric) {
	type part struct {
		samples []Sample
		skip    []int32
	}
	// Snapshots are never changed once stored: copy the references and
	// send without the lock, so a slow reader never holds up a refresh.
	c.mu.RLock()
	parts := make([]part, 0, 2*len(c.state))
	for _, s := range c.state {
		parts = append(parts, part{s.samples, s.skip}, part{s.status, nil})
	}
	c.mu.RUnlock()
	for _, p := range parts {
		k := 0
		for i, s := range p.samples {
			if k < len(p.skip) && int(p.skip[k]) == i {
				k++
				continue
			}
			// Rendering checked every sample not skipped.
			if m, err := prometheus.NewConstMetric(s.Metric.desc, s.Metric.Type, s.Value, s.LabelValues...); err == nil {
				ch <- m
			}
		}
	}
}

// rendered implements RenderedCollector.
func (c *Cache) rendered() *exposition { return c.view.Load().exp }

// publish rebuilds the view from the current snapshots.
func (c *Cache) publish() {
	c.viewMu.Lock()
	defer c.viewMu.Unlock()
	c.mu.RLock()
	names := make([]string, 0, len(c.state))
	for name := range c.state {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]*exposition, 0, 2*len(names))
	var posts []publishedPosts
	for _, name := range names {
		s := c.state[name]
		parts = append(parts, s.rendered, s.statusRendered)
		if s.posts != nil {
			posts = append(posts, s.posts)
		}
	}
	c.mu.RUnlock()
	c.view.Store(&cacheView{exp: mergeExpositions(parts...), posts: posts})
}

// ToMetrics turns samples into Prometheus metrics, dropping (and
// reporting) samples with the wrong label count and duplicate series, so one
// bad sample never fails a whole scrape. The cache renders a snapshot by
// the same rules (renderSamples).
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

// Success stores a new snapshot of a collector's samples and records a
// successful refresh. The error reports samples that were dropped (wrong
// label count, invalid UTF-8, duplicate series); the others are stored.
func (c *Cache) Success(name, typ string, samples []Sample, at time.Time, took time.Duration) error {
	err := c.store(name, typ, samples)
	c.updateStatus(name, typ, func(s *collectorState) {
		s.up, s.attempted = true, true
		s.lastSuccess, s.lastAttempt = at, at
		s.lastError = ""
		s.duration = took
	})
	return err
}

// Failure records a failed refresh and keeps the last good snapshot.
func (c *Cache) Failure(name, typ string, err error, at time.Time, took time.Duration) {
	c.updateStatus(name, typ, func(s *collectorState) {
		s.up, s.attempted = false, true
		s.lastAttempt = at
		s.lastError = err.Error()
		s.duration = took
	})
}

// store replaces a collector's snapshot with samples without touching its
// refresh state: a refresh under way reports its progress this way. The
// samples are rendered before the lock is taken, which is held only to
// swap references.
func (c *Cache) store(name, typ string, samples []Sample) error {
	c.mu.Lock()
	c.gen++
	gen := c.gen
	c.mu.Unlock()
	posts := publishedOf(samples)
	c.mu.RLock()
	others := c.indexesExcept(name)
	c.mu.RUnlock()
	r, skip, index, err := renderOwned(samples, others)
	index.name = name
	c.mu.Lock()
	s := c.get(name, typ)
	// A progress report rendered more slowly than the snapshot that
	// followed it must not replace it.
	stored := gen > s.gen
	if stored {
		s.samples, s.skip, s.series, s.gen = samples, skip, r.series, gen
		s.rendered, s.posts, s.index = r, posts, index
	}
	c.mu.Unlock()
	if stored {
		c.publish()
	}
	return err
}

// indexesExcept returns the series indexes of every collector but name,
// sorted by collector name. The caller holds c.mu.
func (c *Cache) indexesExcept(name string) []*seriesIndex {
	var out []*seriesIndex
	for n, s := range c.state {
		if n != name && s.index != nil {
			out = append(out, s.index)
		}
	}
	slices.SortFunc(out, func(a, b *seriesIndex) int { return strings.Compare(a.name, b.name) })
	return out
}

// updateStatus applies f to a collector's refresh state and renders its
// status series again.
func (c *Cache) updateStatus(name, typ string, f func(*collectorState)) {
	c.mu.Lock()
	s := c.get(name, typ)
	f(s)
	s.statusGen++
	gen := s.statusGen
	status := statusSamples(name, s)
	c.mu.Unlock()
	r, _, _ := renderSamples(status)
	c.mu.Lock()
	current := c.state[name] == s && s.statusGen == gen
	if current {
		s.status, s.statusRendered = status, r
	}
	c.mu.Unlock()
	if current {
		c.publish()
	}
}

// statusSamples returns a collector's own series; none before its first
// refresh ends.
func statusSamples(name string, s *collectorState) []Sample {
	if !s.attempted {
		return nil
	}
	out := []Sample{
		collectorUp.Sample(boolFloat(s.up), name),
		collectorDuration.Sample(s.duration.Seconds(), name),
	}
	if !s.lastSuccess.IsZero() {
		out = append(out, collectorLastSuccess.Sample(float64(s.lastSuccess.UnixNano())/1e9, name))
	}
	keys := make([][2]string, 0, len(s.counts))
	for k := range s.counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		out = append(out, collectorObjects.Sample(float64(s.counts[k]), name, k[0], k[1]))
	}
	return out
}

// setCoverage replaces the object states of a collector.
func (c *Cache) setCoverage(name, typ string, cov coverage) {
	objects := cov.states()
	c.updateStatus(name, typ, func(s *collectorState) {
		s.gaps, s.objects, s.counts = cov.gaps, objects, cov.counts
	})
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

// objectsOf returns how many objects a collector's last coverage counted.
func (c *Cache) objectsOf(name string) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	if s, ok := c.state[name]; ok {
		for _, c := range s.objects {
			n += c
		}
	}
	return n
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
	for name, s := range c.state {
		if typ, ok := keep[name]; !ok || typ != s.typ {
			delete(c.state, name)
		}
	}
	c.mu.Unlock()
	c.publish()
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
			Name: name, Type: s.typ, Up: s.up, Attempted: s.attempted, Series: s.series,
			LastSuccess: s.lastSuccess, LastAttempt: s.lastAttempt, LastError: s.lastError,
			NextRefresh: s.nextRefresh, Duration: s.duration,
			Findings: sortedFindings(s.findings),
			Objects:  maps.Clone(s.objects),
			Gaps:     slices.Clone(s.gaps),
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

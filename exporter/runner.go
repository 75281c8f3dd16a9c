package exporter

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
)

// Runner owns the running config: it builds collectors, runs the scheduler,
// and swaps both on reload. A reload that fails to load or build keeps the
// running config, exactly as Prometheus does.
type Runner struct {
	Cache   *Cache
	Links   *LinkSet
	Metrics *APIMetrics
	Logger  *slog.Logger
	// Transport, when set, is used by every collector's client.
	Transport http.RoundTripper
	// Storage, when set, keeps state across restarts (--storage.path):
	// shop orders and watermarks, YouTube's quota spent today, and the
	// early curve when early_curve.state_file is not set.
	Storage *Storage
	// Shard is the part of the creators this exporter polls and exports
	// (--shard.index, --shard.count); the zero Shard is all of them. Set
	// it before the first load; every reload keeps it.
	Shard Shard
	// RefreshPriority is the scheduling priority of refreshes
	// (--refresh.scheduling-policy and --refresh.nice, see
	// Scheduler.Priority).
	RefreshPriority RefreshPriority

	file string
	// curve lives as long as the runner: a reload keeps the values it
	// recorded. steering reads the running config at each scrape. posts
	// shapes the snapshots by each campaign's post_series, and keeps the
	// posts of those it sums for per-post fees.
	curve    *EarlyCurve
	steering *SteeringMetrics
	posts    *PostSeries
	// cfg is the running config; a scrape reads it without waiting for
	// a reload under way.
	cfg atomic.Pointer[Config]

	mu        sync.Mutex
	instances []*Instance
	cancel    context.CancelFunc
	done      chan struct{}

	reloadOK   prometheus.Gauge
	reloadTime prometheus.Gauge

	// lastReload is the outcome of the last reload attempt, for the
	// landing page.
	lastMu     sync.Mutex
	lastReload ReloadStatus
}

// ReloadStatus is the outcome of the last configuration (re)load attempt.
type ReloadStatus struct {
	At  time.Time
	Err error
	// LastSuccess is when a configuration was last loaded.
	LastSuccess time.Time
}

// NewRunner returns a runner for the config file; call Reload, or Load
// then Start, to start it.
func NewRunner(file string, logger *slog.Logger) *Runner {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{
		Cache:   NewCache(),
		Links:   NewLinkSet(),
		Metrics: NewAPIMetrics(),
		Logger:  logger,
		file:    file,
		curve:   NewEarlyCurve(durations(DefaultEarlyCurveAges), "", logger),
		posts:   NewPostSeries(),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "influencer_config_last_reload_successful",
			Help: "Whether the last configuration reload attempt was successful.",
		}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "influencer_config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration reload.",
		}),
	}
	r.steering = NewSteeringMetrics(r.Config, r.Cache, nil)
	r.steering.posts = r.posts
	return r
}

// Register adds every metric of the runner (snapshots, API and reload
// metrics, fees, budgets and checkpoints, and the early curve) to reg, to
// be collected on each gather. Handler serves the same series without
// collecting the rendered ones.
func (r *Runner) Register(reg prometheus.Registerer) error {
	for _, c := range r.rendered() {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return r.registerGathered(reg)
}

// Handler registers the runner's metrics that change between refreshes
// (API and reload metrics, fees, budgets and checkpoints) with reg, and
// returns the /metrics handler of reg's metrics, of the snapshots and of
// the early curve, these two rendered when they change.
func (r *Runner) Handler(reg Registry) (*MetricsHandler, error) {
	if err := r.registerGathered(reg); err != nil {
		return nil, err
	}
	return NewMetricsHandler(reg, r.Logger, r.rendered()...)
}

// rendered returns the runner's collectors kept rendered between scrapes.
func (r *Runner) rendered() []RenderedCollector {
	return []RenderedCollector{r.Cache, r.curve}
}

func (r *Runner) registerGathered(reg prometheus.Registerer) error {
	shard := NewShardMetrics(r.Shard, r.Config)
	for _, c := range []prometheus.Collector{r.Metrics, r.reloadOK, r.reloadTime, r.steering, shard, scrapeGateMetrics{scrapes}} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Check loads and builds the config without running it, for --config.check;
// the instances are built but never polled (see Plans). The error reports
// every problem at once, sorted by line: unknown fields, values of the
// wrong type, invalid values and what each collector refuses, even when
// an earlier kind of error was found.
func Check(file string) (*Config, []*Instance, error) {
	return check(file, Deps{}, Shard{})
}

// check loads the file, keeps the creators of shard (and its share of
// each collector's limits) once the file loaded without errors, and
// builds the collectors. A config that builds lets go of its fields'
// positions (see releasePositions).
func check(file string, d Deps, shard Shard) (*Config, []*Instance, error) {
	cfg, errs := loadConfig(file)
	if cfg == nil {
		return nil, nil, errs.err()
	}
	if errs.len() == 0 {
		cfg.ApplyShard(shard)
	}
	instances, err := Build(cfg, d)
	errs.add(phaseBuild, err)
	if err := errs.err(); err != nil {
		return nil, nil, err
	}
	cfg.releasePositions()
	return cfg, instances, nil
}

// Load loads the config file and builds its collectors for this runner
// (set Storage and Transport first), without running them; its error
// reports every problem at once, as Check's does. Start runs what it
// returns: a process that must act on the config before the first
// refresh (start the sandbox) reads and builds it once, where Check then
// Reload would do both twice, doubling the startup time and memory peak
// of a large config.
func (r *Runner) Load() (*Config, []*Instance, error) {
	return check(r.file, r.deps(), r.Shard)
}

// Start runs the config and instances Load returned, as a successful
// Reload would, and records it as the last reload.
func (r *Runner) Start(cfg *Config, instances []*Instance) {
	r.apply(cfg, instances)
	r.recordReload(nil)
}

// Reload loads the config file and, if it is valid, replaces the running
// collectors. Snapshots of collectors that stay keep being served, and keep
// their refresh schedule.
func (r *Runner) Reload() error {
	err := r.reload()
	r.recordReload(err)
	return err
}

// recordReload sets the outcome of a (re)load for LastReload and the
// reload metrics.
func (r *Runner) recordReload(err error) {
	now := time.Now()
	r.lastMu.Lock()
	r.lastReload.At, r.lastReload.Err = now, err
	if err == nil {
		r.lastReload.LastSuccess = now
	}
	r.lastMu.Unlock()
	if err != nil {
		r.reloadOK.Set(0)
		return
	}
	r.reloadOK.Set(1)
	r.reloadTime.Set(float64(now.UnixNano()) / 1e9)
}

// LastReload returns the outcome of the last Reload.
func (r *Runner) LastReload() ReloadStatus {
	r.lastMu.Lock()
	defer r.lastMu.Unlock()
	return r.lastReload
}

// LinkInspectors returns the running collectors that watch tracking links.
func (r *Runner) LinkInspectors() []LinkInspector { return LinkInspectors(r.Instances()) }

// LinkDetails returns the detail of every link the running collectors
// watch, for the landing page.
func (r *Runner) LinkDetails() []LinkDetail {
	var out []LinkDetail
	for _, li := range r.LinkInspectors() {
		out = append(out, li.LinkDetails()...)
	}
	return out
}

// Instances returns the running collectors.
func (r *Runner) Instances() []*Instance {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Instance(nil), r.instances...)
}

func (r *Runner) reload() error {
	cfg, err := LoadConfig(r.file)
	if err != nil {
		return err
	}
	cfg.ApplyShard(r.Shard)
	instances, err := Build(cfg, r.deps())
	if err != nil {
		return err
	}
	r.apply(cfg, instances)
	return nil
}

// deps returns what the runner's collectors share.
func (r *Runner) deps() Deps {
	return Deps{Metrics: r.Metrics, Logger: r.Logger, Links: r.Links, Transport: r.Transport, Storage: r.Storage}
}

// apply replaces the running collectors with instances, built from cfg
// with the runner's deps.
func (r *Runner) apply(cfg *Config, instances []*Instance) {
	// A running config reports no errors of its own: Load's has let go
	// of its fields' positions, Reload's does here.
	cfg.releasePositions()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopLocked(30 * time.Second)

	keep := map[string]string{}
	names := map[string]bool{}
	for _, i := range instances {
		keep[i.Name] = i.Type
		names[i.Name] = true
	}
	if prev := r.cfg.Load(); prev != nil {
		for _, old := range prev.Collectors {
			if _, ok := keep[old.Name]; !ok {
				r.Metrics.Forget(old.Name)
			}
		}
	}
	r.Cache.Retain(keep)
	r.posts.Retain(keep)
	// A campaign's new post_series applies at once to the snapshots
	// stored so far (no refresh runs now), and from each collector's next
	// refresh to the early curve.
	if r.posts.SetConfig(cfg) {
		r.posts.Reshape(r.Cache, keep)
	}
	r.Links.Forget(names)
	// Ages before the state file: values are read back for the ages
	// configured.
	r.curve.SetAges(earlyCurveAges(cfg))
	curveFile := cfg.EarlyCurveStateFile()
	if curveFile == "" && r.Storage != nil {
		curveFile = filepath.Join(r.Storage.Dir(), "early_curve.json")
	}
	r.curve.SetStateFile(curveFile)
	r.curve.Forget(names)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s := &Scheduler{
		Cache:         r.Cache,
		Logger:        r.Logger,
		MaxConcurrent: cfg.Global.MaxConcurrentRefreshes,
		Jitter:        cfg.Global.Jitter,
		Observer:      r.curve.Observe,
		Posts:         r.posts,
		Priority:      r.RefreshPriority,
	}
	go func() {
		defer close(done)
		s.Run(ctx, instances)
	}()
	r.cfg.Store(cfg)
	r.instances, r.cancel, r.done = instances, cancel, done
	if s := cfg.Shard(); s.Sharded() {
		creators := 0
		for _, camp := range cfg.Campaigns {
			creators += len(camp.Creators)
		}
		r.Logger.Info("configuration loaded", "file", r.file, "collectors", len(instances), "campaigns", len(cfg.Campaigns), "shard", s.String(), "creators", creators)
	} else {
		r.Logger.Info("configuration loaded", "file", r.file, "collectors", len(instances), "campaigns", len(cfg.Campaigns))
	}
	logPostSeries(r.Logger, cfg)
}

// Config returns the running config, nil before the first successful load.
func (r *Runner) Config() *Config { return r.cfg.Load() }

// PerCreatorCampaigns returns the campaigns of the running configuration
// whose post series are summed per creator, sorted.
func (r *Runner) PerCreatorCampaigns() []string {
	if cfg := r.cfg.Load(); cfg != nil {
		return cfg.PerCreatorCampaigns()
	}
	return nil
}

// earlyCurveAges returns the configured ages; LoadConfig sets the default
// ones when the config names none, a config built otherwise may not.
func earlyCurveAges(cfg *Config) []time.Duration {
	ages := cfg.Global.EarlyCurve.Ages
	if len(ages) == 0 {
		ages = DefaultEarlyCurveAges
	}
	return durations(ages)
}

func durations(ds []model.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = time.Duration(d)
	}
	return out
}

// Stop stops the scheduler and waits for in-flight refreshes, at most 30
// seconds.
func (r *Runner) Stop() { r.StopWithin(30 * time.Second) }

// StopWithin stops the scheduler and waits for in-flight refreshes, at
// most grace.
func (r *Runner) StopWithin(grace time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopLocked(grace)
}

func (r *Runner) stopLocked(grace time.Duration) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(grace):
		// A collector ignoring its context must not block a reload
		// or a shutdown forever; its goroutine ends when its Poll
		// returns.
		r.Logger.Warn("collectors did not stop in time", "waited", grace)
	}
	r.cancel, r.done = nil, nil
}

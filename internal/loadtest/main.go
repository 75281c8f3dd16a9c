// Command loadtest measures the whole exporter process at agency scale:
// the exporter binary, built from this module, runs the json collector
// against a fake affiliate network served on loopback by this process,
// with one partner (three series: clicks, orders, revenue) per creator.
// It reports the cold start (from the process's start to its first
// complete snapshot), the latency of /metrics scrapes made as Prometheus
// makes them, idle and while the collector refreshes, and the process's
// resident memory, idle and at its peak during refreshes. The scrapes run
// back to back, or at a steady rate, from a process of their own (this
// program, started again), so that the fake's work does not delay them.
//
//	go run ./internal/loadtest                  # 300,000 series, refreshed every 30s
//	go run ./internal/loadtest -latency 50ms -interval 90s -deadline 15m
//	go run ./internal/loadtest -env GOMEMLIMIT=560MiB -json
//	go run ./internal/loadtest -cgroup   # the exporter in a CPU cgroup of its own, as in a container
//	go run ./internal/loadtest -scrape-rate 100 -pprof-dir /tmp/prof   # steady scrapes; profiles, traces, each scrape's times
//
// A refresh's window runs from the provider's first request of it to the
// first poll of the collector's status series that shows its new
// last-success timestamp; a scrape that overlaps one counts as during a
// refresh. The peak RSS is the kernel's (VmHWM), reset when the idle
// phase starts and again when the first watched refresh starts; the RSS
// between refreshes is the median sampled after the first watched one,
// outside the refreshes' windows.
//
// The p99 ratio comes with an interval: the 5th to 95th percentile of the
// ratio over runs resampled from this one's refresh windows and idle gaps
// (see ratioInterval). One run's ratio is one draw of whether a garbage
// collector cycle fell in a refresh's window; the interval says how far
// another run of the same code may land, and so whether two runs differ.
//
// The run stops by itself: after the refreshes it was asked to watch, or
// at its deadline. It reads the exporter's memory in /proc, so it runs on
// Linux only. Every address it uses is on loopback.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/common/model"

	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/fakes/agency"
)

const (
	// pollPeriod is how often the collector's status series are read:
	// the precision of the end of a refresh.
	pollPeriod = 50 * time.Millisecond
	// aroundRefresh widens each refresh's window for Report.Around:
	// what a refresh leaves just before or after it (a garbage
	// collection it started) shows there.
	aroundRefresh = time.Second
	// memPeriod is how often the exporter's RSS is sampled.
	memPeriod = 100 * time.Millisecond
	// baselineScrapes is how long the baseline exporter is scraped.
	baselineScrapes = 2 * time.Second
)

// Options are a run's settings.
type Options struct {
	// Series is how many series the collector exports, three a partner.
	Series int
	// Interval is the collector's refresh interval.
	Interval time.Duration
	// Refreshes is how many refreshes after the first are watched.
	Refreshes int
	// Latency delays every answer of the provider.
	Latency time.Duration
	// Binary is a built exporter; empty builds one.
	Binary string
	// Deadline bounds the whole run.
	Deadline time.Duration
	// Env and Args are added to the exporter's environment and flags.
	Env, Args []string
	// Baseline also measures the RSS of an exporter of one series.
	Baseline bool
	// ChildLog, if set, keeps the exporter's log there.
	ChildLog string
	// Busy keeps this many CPUs busy with processes outside the
	// exporter from the idle phase on.
	Busy int
	// ProfileDir, if set, builds the exporter with net/http/pprof and
	// writes its profiles there.
	ProfileDir string
	// Cgroup runs the exporter in a CPU cgroup of its own, as a
	// container runtime does, made under this process's cgroup for the
	// run and removed after it.
	Cgroup bool
	// ScrapeRate, if above zero, starts this many scrapes a second, each
	// after the last has ended, instead of scraping back to back.
	ScrapeRate float64
	// ProviderNice lowers the threads that serve the fake provider by
	// this many nice steps: the provider stands for a service on another
	// machine, whose answers take none of the scrapes' CPU. 0 serves it
	// at this process's priority.
	ProviderNice int
}

// defaultProviderNice is the exporter's own default --refresh.nice: the
// provider's answers weigh as the refresh that asked for them.
const defaultProviderNice = exporter.DefaultRefreshNice

// maxScrapeRate is the highest -scrape-rate: a scrape every microsecond,
// far more than a scrape can take, and so back to back in effect.
const maxScrapeRate = 1_000_000

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	if len(os.Args) > 1 && os.Args[1] == scraperArg {
		os.Exit(scraperMain(os.Args[2:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		o       Options
		env     listFlag
		extra   listFlag
		asJSON  bool
		noBase  bool
		timeout time.Duration
	)
	fs.IntVar(&o.Series, "series", 300_000, "series the collector exports, three per partner (creator); rounded up to a multiple of three")
	fs.DurationVar(&o.Interval, "interval", 30*time.Second, "the collector's refresh interval (at least 10s)")
	fs.IntVar(&o.Refreshes, "refreshes", 3, "refreshes to scrape through after the idle phase")
	fs.DurationVar(&o.Latency, "latency", 0, "delay of every provider answer")
	fs.StringVar(&o.Binary, "binary", "", "exporter binary to run (default: go build the module)")
	fs.DurationVar(&timeout, "deadline", 10*time.Minute, "the whole run stops after this")
	fs.Var(&env, "env", "KEY=VALUE added to the exporter's environment, such as GOGC=50 or GOMEMLIMIT=200MiB (repeatable)")
	fs.Var(&extra, "arg", "flag added to the exporter's command line, such as --log.level=debug (repeatable)")
	fs.IntVar(&o.Busy, "busy", 0, "keep this many CPUs busy, from the idle phase to the end, with processes at this one's priority outside the exporter's cgroup: a machine whose CPUs other work never leaves free")
	fs.BoolVar(&noBase, "no-baseline", false, "skip measuring the RSS of an exporter of one series")
	fs.StringVar(&o.ChildLog, "child-log", "", "keep the exporter's log in this file")
	fs.StringVar(&o.ProfileDir, "pprof-dir", "", "build the exporter with net/http/pprof and write its CPU profiles and execution traces of a few idle seconds and of the first watched refresh, "+
		"its heap profiles at the idle phase's end, through the first watched refresh and at the run's end, and its allocations, to this directory")
	fs.BoolVar(&o.Cgroup, "cgroup", false, "run the exporter in a CPU cgroup of its own, as Docker or Kubernetes do, made under this process's cgroup and removed at the end: "+
		"its threads then share the CPU with other work as one group; needs write access to the cgroup filesystem (root)")
	fs.Float64Var(&o.ScrapeRate, "scrape-rate", 0, "start this many scrapes a second instead of scraping back to back (0): a scraper that leaves the CPUs free, as Prometheus does, against one that keeps them busy")
	fs.IntVar(&o.ProviderNice, "provider-nice", defaultProviderNice, "serve the fake provider this many nice steps below this process (0 to 19): it stands for a service on another machine, "+
		"so its answers are lowered as far as the exporter lowers the refresh that asks for them; 0 serves them at this process's priority, as runs before this flag did")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadtest: unexpected arguments %q\n", fs.Args())
		return 2
	}
	o.Env, o.Args, o.Baseline, o.Deadline = env, extra, !noBase, timeout
	rep, err := Run(ctx, o, stderr)
	code := 0
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		if rep == nil {
			return 1
		}
		code = 1
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "loadtest: %v\n", err)
			return 1
		}
		return code
	}
	rep.WriteText(stdout)
	return code
}

// check validates o and returns the partners and pages it asks for.
func (o Options) check() (partners, pages int, err error) {
	switch {
	case o.Series < seriesPerPartner:
		return 0, 0, fmt.Errorf("-series %d: at least %d", o.Series, seriesPerPartner)
	case o.Interval < exporter.MinInterval:
		return 0, 0, fmt.Errorf("-interval %s: the exporter's minimum is %s", o.Interval, exporter.MinInterval)
	case o.Refreshes < 1:
		return 0, 0, fmt.Errorf("-refreshes %d: at least 1", o.Refreshes)
	case o.Deadline <= 0:
		return 0, 0, fmt.Errorf("-deadline %s: must be positive", o.Deadline)
	case o.ScrapeRate < 0 || o.ScrapeRate > maxScrapeRate || math.IsNaN(o.ScrapeRate):
		return 0, 0, fmt.Errorf("-scrape-rate %v: from 0 (back to back) to %g a second", o.ScrapeRate, float64(maxScrapeRate))
	case o.Busy < 0:
		return 0, 0, fmt.Errorf("-busy %d: at least 0", o.Busy)
	case o.ProviderNice < 0 || o.ProviderNice > 19:
		return 0, 0, fmt.Errorf("-provider-nice %d: from 0 to 19", o.ProviderNice)
	case o.ProfileDir != "" && o.Binary != "":
		return 0, 0, errors.New("-pprof-dir builds the exporter with net/http/pprof: drop -binary")
	}
	for _, e := range o.Env {
		if !strings.Contains(e, "=") {
			return 0, 0, fmt.Errorf("-env %q: want KEY=VALUE", e)
		}
	}
	partners = agency.CeilDiv(o.Series, seriesPerPartner)
	pages = agency.CeilDiv(partners, pageSize)
	// The collector reads the pages one after another, and a refresh
	// may last at most its interval.
	if o.Latency > 0 && time.Duration(pages)*o.Latency >= o.Interval {
		return 0, 0, fmt.Errorf("-latency %s: a refresh reads %d pages one after another, at least %s, which does not fit in the %s interval: raise -interval",
			o.Latency, pages, time.Duration(pages)*o.Latency, o.Interval)
	}
	return partners, pages, nil
}

// configYAML is the config of one json collector reading creators
// partners in pages pages every interval.
func configYAML(baseURL string, creators, pages int, interval time.Duration) (string, error) {
	y := agency.Config{Type: "json", BaseURL: baseURL, Token: providerToken, Options: providerOptions(pages), Creators: creators}.YAML()
	// agency.Config refreshes every minute.
	const fixed = "    interval: 1m\n"
	if strings.Count(y, fixed) != 1 {
		return "", errors.New("the agency config has no interval line to replace")
	}
	return strings.Replace(y, fixed, "    interval: "+model.Duration(interval).String()+"\n", 1), nil
}

func writeConfig(path, baseURL string, creators, pages int, interval time.Duration) error {
	y, err := configYAML(baseURL, creators, pages, interval)
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(y), 0o600)
}

// memSample is the exporter's memory at one time.
type memSample struct {
	at  time.Time
	rss int64
}

// sampleMem samples pid's RSS every memPeriod until ctx is done or the
// process is gone.
func sampleMem(ctx context.Context, pid int) []memSample {
	var out []memSample
	t := time.NewTicker(memPeriod)
	defer t.Stop()
	for {
		rss, _, err := memStatus(pid)
		if err != nil {
			return out
		}
		out = append(out, memSample{time.Now(), rss})
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
		}
	}
}

func medianRSS(samples []memSample) int64 {
	if len(samples) == 0 {
		return 0
	}
	rss := make([]int64, len(samples))
	for i, s := range samples {
		rss[i] = s.rss
	}
	slices.Sort(rss)
	return quantile(rss, 0.5)
}

// window is a refresh, from its provider's first request to the status
// poll that saw it end.
type window struct{ start, end time.Time }

// refreshWindow returns the time a refresh ran: from its first request
// to the provider, or from when the exporter started it if that is
// earlier (its last-success timestamp, which is the refresh's start, so
// work before the first request counts), to when a poll first saw it.
func refreshWindow(firstRequest time.Time, seen status) window {
	start := firstRequest
	if s := time.Unix(0, int64(seen.lastSuccess*float64(time.Second))); seen.lastSuccess > 0 && s.Before(start) {
		start = s
	}
	return window{start, seen.at}
}

// widen returns ws, each widened by d on either side.
func widen(ws []window, d time.Duration) []window {
	out := make([]window, len(ws))
	for i, w := range ws {
		out[i] = window{w.start.Add(-d), w.end.Add(d)}
	}
	return out
}

func (w window) overlaps(s scrape) bool { return s.start.Before(w.end) && s.end.After(w.start) }

func (w window) contains(t time.Time) bool { return !t.Before(w.start) && !t.After(w.end) }

// gcFigures returns the exporter's garbage collections per second over
// ws, and the median and the largest heap goal its status polls saw in
// them.
func gcFigures(polls []status, ws []window) (perSecond float64, medianGoal, maxGoal int64) {
	var (
		gcs     float64
		seconds float64
		goals   []int64
	)
	for _, w := range ws {
		var first, last *status
		for i := range polls {
			p := &polls[i]
			if p.at.Before(w.start) || p.at.After(w.end) {
				continue
			}
			if first == nil {
				first = p
			}
			last = p
			goals = append(goals, int64(p.heapGoal))
		}
		if first != nil && last != first {
			gcs += last.gcs - first.gcs
			seconds += last.at.Sub(first.at).Seconds()
		}
	}
	if len(goals) == 0 {
		return 0, 0, 0
	}
	slices.Sort(goals)
	return ratio(gcs, seconds), quantile(goals, 0.5), goals[len(goals)-1]
}

// cgroupPrefix starts the name of the exporter's cgroup, which ends with
// this process's pid: a cgroup left behind by a run killed outright says
// whose it was.
const cgroupPrefix = "influencer-loadtest-"

// Run runs the exporter as o says and measures it, writing progress to
// progress. When only the removal of the exporter's cgroup failed, it
// returns the report with the error: the measurement stands, but the
// cgroup was left behind.
func Run(ctx context.Context, o Options, progress io.Writer) (_ *Report, err error) {
	if err := checkPlatform(); err != nil {
		return nil, err
	}
	partners, pages, err := o.check()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Deadline)
	defer cancel()
	logf := func(format string, args ...any) { fmt.Fprintf(progress, "loadtest: "+format+"\n", args...) }

	// The cgroup is made first, so that a run that cannot have it fails
	// before building anything. It is removed after every exporter in it
	// has been waited for: their deferred kills have run by then.
	var cg *cgroup
	if o.Cgroup {
		if cg, err = newCgroup(cgroupPrefix + strconv.Itoa(os.Getpid())); err != nil {
			return nil, fmt.Errorf("-cgroup: %w", err)
		}
		defer func() {
			if rerr := cg.remove(); rerr != nil {
				err = errors.Join(err, fmt.Errorf("-cgroup: %w", rerr))
			}
		}()
		logf("the exporter runs in the CPU cgroup %s", cg.path())
	}

	dir, err := os.MkdirTemp("", "loadtest")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	// Building the exporter and asking the fake for its pages both take
	// a while at full size: do them at once.
	prov := newProvider(partners, o.Latency, o.ProviderNice)
	bin := o.Binary
	var (
		wg       sync.WaitGroup
		buildErr error
	)
	if bin == "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			logf("building the exporter")
			bin, buildErr = build(ctx, dir, o.ProfileDir != "")
			if buildErr == nil {
				logf("built the exporter in %.1fs", time.Since(t).Seconds())
			}
		}()
	}
	t := time.Now()
	logf("asking the fake provider for the %d pages of %d partners", pages, partners)
	err = prov.prerender(ctx)
	if err == nil {
		logf("provider pages ready in %.1fs", time.Since(t).Seconds())
	}
	wg.Wait()
	if err = errors.Join(err, buildErr); err != nil {
		return nil, err
	}
	if err := prov.start(); err != nil {
		return nil, err
	}
	defer prov.close()

	rep := &Report{
		SeriesConfigured: partners * seriesPerPartner, Partners: partners, PagesPerRefresh: pages,
		Interval: o.Interval.Seconds(), Latency: o.Latency.Seconds(), ChildEnv: o.Env, ChildArgs: o.Args, Busy: o.Busy, ScrapeRate: o.ScrapeRate,
		TCPCongestion: tcpCongestion(), ProviderNice: o.ProviderNice,
	}
	if cg != nil {
		rep.Cgroup = cg.path()
	}
	if o.Baseline {
		logf("baseline: an exporter of one partner")
		if rep.BaselineRSS, err = baseline(ctx, bin, dir, o, cg); err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		logf("baseline RSS %s", mib(rep.BaselineRSS))
	}

	config := filepath.Join(dir, "config.yml")
	if err := writeConfig(config, prov.URL, partners, pages, o.Interval); err != nil {
		return nil, err
	}
	logPath := o.ChildLog
	if logPath == "" {
		logPath = filepath.Join(dir, "exporter.log")
	}
	env := o.Env
	var prof *profiler
	if o.ProfileDir != "" {
		if prof, err = newProfiler(o.ProfileDir); err != nil {
			return nil, err
		}
		env = append(slices.Clip(env), profileEnv+"="+prof.addr)
		rep.ProfileDir = o.ProfileDir
	}
	if err := measure(ctx, rep, prov, bin, config, logPath, env, o, cg, prof, logf); err != nil {
		return nil, err
	}
	return rep, nil
}

// measure runs the exporter, in cg unless it is nil, and measures its
// cold start, its idle phase and its refresh phase into rep.
func measure(ctx context.Context, rep *Report, prov *provider, bin, config, logPath string, env []string, o Options, cg *cgroup, prof *profiler, logf func(string, ...any)) error {
	rep.LoadAverage[0] = loadAverage()
	c, err := startChild(bin, config, logPath, o.Args, env, cg)
	if err != nil {
		return err
	}
	defer c.kill()
	metricsURL := "http://" + c.addr + "/metrics"

	// The idle phase ends when the next refresh starts: its peak is read,
	// then reset, before the provider answers that refresh's first
	// request.
	var (
		hookMu    sync.Mutex
		idleOn    bool
		idleEnd   time.Time
		idlePeak  int64
		hookErr   error
		coldFetch float64
	)
	prov.setOnStart(func(i int) {
		if i != 1 {
			return
		}
		hookMu.Lock()
		defer hookMu.Unlock()
		idleEnd = time.Now()
		if !idleOn {
			hookErr = errors.New("the next refresh started before the first one was visible: no idle time between refreshes; raise -interval")
			return
		}
		_, hwm, err := memStatus(c.pid)
		if err == nil {
			err = resetPeak(c.pid)
		}
		idlePeak, hookErr = hwm, err
		if prof != nil {
			prof.get("heap", "heap-idle.pb.gz")
			secs := int(math.Ceil(coldFetch)) + 2
			prof.get(fmt.Sprintf("profile?seconds=%d", secs), "cpu-refresh.pb.gz")
			// An execution trace shows what the slowest scrapes waited
			// for: a processor, the garbage collector, the network.
			prof.get(fmt.Sprintf("trace?seconds=%d", secs), "trace-refresh.out")
			// The heap as the last collection found it, through the
			// refresh and as it becomes visible: what it holds at its
			// peak.
			for _, f := range []float64{0.5, 0.9, 1.1, 1.3} {
				prof.getAfter(time.Duration(f*coldFetch*float64(time.Second)), "heap",
					fmt.Sprintf("heap-refresh-%.0f%%.pb.gz", f*100))
			}
		}
	})

	pctx, pstop := context.WithCancel(ctx)
	defer pstop()
	pol := newPoller(c.addr, pollPeriod)
	go pol.run(pctx)
	logf("exporter started (pid %d, %s), waiting for its first snapshot", c.pid, c.addr)
	changes, err := pol.wait(ctx, 1)
	if err != nil {
		return c.failed(fmt.Errorf("first refresh: %w", err))
	}
	rep.ColdStart = changes[0].at.Sub(c.start).Seconds()
	logf("cold start: first snapshot visible after %.2fs (collector %.2fs)", rep.ColdStart, changes[0].duration)
	first, err := checkScrape(ctx, metricsURL)
	if err != nil {
		return c.failed(fmt.Errorf("scrape: %w", err))
	}
	if first.series != rep.SeriesConfigured {
		return c.failed(fmt.Errorf("the first snapshot has %d series, want %d: was the refresh cut short by its interval?", first.series, rep.SeriesConfigured))
	}

	// Idle phase, then the refresh phase: scrapes and memory samples
	// run through both.
	if err := resetPeak(c.pid); err != nil {
		return err
	}
	hookMu.Lock()
	idleStart := time.Now()
	idleOn = true
	if logs, _ := prov.log(); len(logs) > 0 {
		coldFetch = changes[0].at.Sub(logs[0].start).Seconds()
	}
	hookMu.Unlock()
	mctx, mstop := context.WithCancel(ctx)
	defer mstop()
	if o.Busy > 0 {
		_, stopBusy, err := startBusy(mctx, o.Busy)
		if err != nil {
			return err
		}
		defer stopBusy()
		logf("%d processes keep CPUs busy", o.Busy)
	}
	sc, err := startScraper(metricsURL, o.ScrapeRate)
	if err != nil {
		return err
	}
	scraperDone := false
	defer func() {
		if !scraperDone {
			_, _ = sc.stop()
		}
	}()
	memc := make(chan []memSample, 1)
	go func() { memc <- sampleMem(mctx, c.pid) }()
	if prof != nil {
		// Well inside the idle phase, which lasts about the interval
		// less the first refresh.
		secs := max(1, min(5, int((o.Interval.Seconds()-coldFetch)/2)))
		prof.get(fmt.Sprintf("profile?seconds=%d", secs), "cpu-idle.pb.gz")
		prof.get(fmt.Sprintf("trace?seconds=%d", secs), "trace-idle.out")
	}
	if o.ScrapeRate > 0 {
		logf("idle: scraping %g times a second until the next refresh", o.ScrapeRate)
	} else {
		logf("idle: scraping back to back until the next refresh")
	}
	for i := 1; i <= o.Refreshes; i++ {
		changes, err = pol.wait(ctx, i+1)
		if err != nil {
			mstop()
			return c.failed(fmt.Errorf("refresh %d: %w", i, err))
		}
		logs, _ := prov.log()
		if i == 1 {
			hookMu.Lock()
			logf("idle phase: %.1fs", idleEnd.Sub(idleStart).Seconds())
			hookMu.Unlock()
		}
		if len(logs) > i {
			logf("refresh %d/%d: visible %.2fs after its first request", i, o.Refreshes, changes[i].at.Sub(logs[i].start).Seconds())
		}
	}
	_, refreshPeak, err := memStatus(c.pid)
	if err != nil {
		return c.failed(err)
	}
	mstop()
	scraperDone = true
	scrapes, err := sc.stop()
	if err != nil {
		return err
	}
	mem := <-memc
	if prof != nil {
		// Every scrape's times, to lay beside the exporter's traces.
		if err := writeScrapes(filepath.Join(prof.dir, "scrapes.jsonl"), scrapes); err != nil {
			return err
		}
		prof.get("heap", "heap-end.pb.gz")
		prof.get("allocs", "allocs.pb.gz")
		if err := prof.wait(); err != nil {
			return err
		}
	}
	last, err := checkScrape(ctx, metricsURL)
	if err != nil {
		return c.failed(fmt.Errorf("scrape: %w", err))
	}
	hookMu.Lock()
	defer hookMu.Unlock()
	if hookErr != nil {
		return hookErr
	}

	rep.SeriesSeen = last.series
	rep.ContentType, rep.BodyBytes, rep.BodyGzipBytes = last.contentType, last.bytes, last.gzipBytes
	rep.LoadAverage[1] = loadAverage()
	logs, misses := prov.log()
	rep.ProviderMisses = misses
	if o.ProviderNice > 0 {
		var err error
		if rep.ProviderLoweredConns, err = prov.loweredConns(); err != nil {
			return fmt.Errorf("the provider could not lower a thread that serves it (-provider-nice 0 serves it at this process's priority): %w", err)
		}
	}
	if len(logs) < o.Refreshes+1 {
		return fmt.Errorf("the provider saw %d refreshes, want %d", len(logs), o.Refreshes+1)
	}
	rep.FirstRequest = logs[0].start.Sub(c.start).Seconds()
	windows := make([]window, o.Refreshes+1)
	afterFetches := make([]window, o.Refreshes+1)
	for i := range windows {
		windows[i] = refreshWindow(logs[i].start, changes[i])
		afterFetches[i] = window{logs[i].last, changes[i].at}
		var maxRSS int64
		for _, s := range mem {
			if windows[i].contains(s.at) {
				maxRSS = max(maxRSS, s.rss)
			}
		}
		rep.Refreshes = append(rep.Refreshes, RefreshReport{
			Duration: windows[i].end.Sub(windows[i].start).Seconds(),
			Fetch:    logs[i].last.Sub(logs[i].start).Seconds(),
			Exporter: changes[i].duration,
			Requests: logs[i].requests,
			Complete: logs[i].requests == rep.PagesPerRefresh,
			MaxRSS:   maxRSS,
		})
	}
	var idle, during, afterFetch, around, farIdle []time.Duration
	// The same scrapes by block, for the ratio's interval: each
	// watched refresh's window, and each idle gap (before the first
	// watched refresh, between two, after the last).
	duringBy := make([][]time.Duration, len(windows)-1)
	idleBy := make([][]time.Duration, len(windows))
	arounds := widen(windows[1:], aroundRefresh)
	for _, s := range scrapes {
		if s.err {
			rep.ScrapeErrors++
			continue
		}
		if slices.ContainsFunc(arounds, func(w window) bool { return w.overlaps(s) }) {
			around = append(around, s.duration())
		} else {
			farIdle = append(farIdle, s.duration())
		}
		i := slices.IndexFunc(windows[1:], func(w window) bool { return w.overlaps(s) })
		if i < 0 {
			idle = append(idle, s.duration())
			gap := 0
			for _, w := range windows[1:] {
				if !w.end.After(s.start) {
					gap++
				}
			}
			idleBy[gap] = append(idleBy[gap], s.duration())
			continue
		}
		during = append(during, s.duration())
		duringBy[i] = append(duringBy[i], s.duration())
		if slices.ContainsFunc(afterFetches[1:], func(w window) bool { return w.overlaps(s) }) {
			afterFetch = append(afterFetch, s.duration())
		}
	}
	rep.Idle, rep.During, rep.AfterFetch = stats(idle), stats(during), stats(afterFetch)
	rep.Around, rep.FarIdle = stats(around), stats(farIdle)
	rep.P99Ratio = ratio(rep.During.P99, rep.Idle.P99)
	rep.P99RatioLow, rep.P99RatioHigh = ratioInterval(idleBy, duringBy)

	var idleMem []memSample
	for _, s := range mem {
		if !s.at.Before(idleStart) && s.at.Before(idleEnd) {
			idleMem = append(idleMem, s)
		}
	}
	rep.IdleRSS = medianRSS(idleMem)
	var betweenMem []memSample
	for _, s := range mem {
		if s.at.After(windows[1].end) && !slices.ContainsFunc(windows[1:], func(w window) bool { return w.contains(s.at) }) {
			betweenMem = append(betweenMem, s)
		}
	}
	rep.BetweenRSS = medianRSS(betweenMem)
	rep.BetweenRSSPerSeries = ratio(float64(rep.BetweenRSS), float64(rep.SeriesConfigured))
	polls := pol.polls()
	rep.GCIdle, rep.HeapGoalIdle, _ = gcFigures(polls, []window{{idleStart, idleEnd}})
	rep.GCRefresh, _, rep.HeapGoalRefreshMax = gcFigures(polls, windows[1:])
	rep.IdlePeak, rep.RefreshPeak = idlePeak, refreshPeak
	rep.IdleRSSPerSeries = ratio(float64(rep.IdleRSS), float64(rep.SeriesConfigured))
	if rep.BaselineRSS > 0 {
		rep.IdleRSSPerSeriesOverBaseline = ratio(float64(rep.IdleRSS-rep.BaselineRSS), float64(rep.SeriesConfigured))
	}
	rep.IdlePeakRatio = ratio(float64(idlePeak), float64(rep.IdleRSS))
	rep.PeakRatio = ratio(float64(refreshPeak), float64(rep.IdleRSS))
	rep.PeakOverBetween = ratio(float64(refreshPeak), float64(rep.BetweenRSS))
	return nil
}

// baseline returns the idle RSS of the exporter reading one partner of
// its own provider, scraped back to back for a while. It runs in cg
// unless cg is nil, as the measured exporter does: its RSS is taken off
// the measured exporter's, and both run alike.
func baseline(ctx context.Context, bin, dir string, o Options, cg *cgroup) (int64, error) {
	prov := newProvider(1, 0, o.ProviderNice)
	if err := prov.prerender(ctx); err != nil {
		return 0, err
	}
	if err := prov.start(); err != nil {
		return 0, err
	}
	defer prov.close()
	config := filepath.Join(dir, "baseline.yml")
	if err := writeConfig(config, prov.URL, 1, 1, o.Interval); err != nil {
		return 0, err
	}
	c, err := startChild(bin, config, filepath.Join(dir, "baseline.log"), o.Args, o.Env, cg)
	if err != nil {
		return 0, err
	}
	defer c.kill()
	pctx, pstop := context.WithCancel(ctx)
	defer pstop()
	pol := newPoller(c.addr, pollPeriod)
	go pol.run(pctx)
	if _, err := pol.wait(ctx, 1); err != nil {
		return 0, c.failed(err)
	}
	sctx, sstop := context.WithTimeout(ctx, baselineScrapes)
	defer sstop()
	memc := make(chan []memSample, 1)
	go func() { memc <- sampleMem(sctx, c.pid) }()
	scrapeLoop(sctx, "http://"+c.addr+"/metrics", o.ScrapeRate)
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return medianRSS(<-memc), nil
}

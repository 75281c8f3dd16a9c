package soak

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	_ "github.com/influencer-exporter/influencer_exporter/collectors/all"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
	"github.com/influencer-exporter/influencer_exporter/sandbox"
)

var (
	soakDuration    = flag.Duration("soak.duration", 0, "how long to inject faults and scrape (CI=true: 2m)")
	soakSeed        = flag.Uint64("soak.seed", 0, "seed of the fault schedule; 0 takes one from the clock")
	soakHeapProfile = flag.String("soak.heapprofile", "", "write heap profiles after warm-up and at the end to this prefix (.warm.pb.gz, .end.pb.gz), for go tool pprof -base")
	soakFaulted     = flag.String("soak.providers", "", "put only providers matching this regular expression under faults")
)

const (
	// ciDuration is the soak's length under CI=true.
	ciDuration = 2 * time.Minute
	// interval is every collector's refresh interval: the minimum the
	// config accepts.
	interval = exporter.MinInterval
	// apiTimeout bounds each provider call, retries included, so a hung
	// provider fails its refresh well within an interval.
	apiTimeout = 5 * time.Second
	// heapGrowth is how much the live heap after GC may grow from its
	// level in the soak's first third to its level in the last; heapSlack
	// is added for the small heap of the sandbox, where a few buffers
	// weigh more than a fifth.
	heapGrowth = 1.20
	heapSlack  = 1 << 20
	// longRetryAfter is a Retry-After longer than the client's
	// max_retry_wait (30s): the call fails at once, and the provider's
	// quota is taken as spent until then. It is also the Instagram
	// collector's usage_backoff here: how long it holds its calls once
	// throttled.
	longRetryAfter = 40 * time.Second
	// samplesPerSoak is how many times the heap is read through the
	// soak (every 10 s in CI's 2 minutes, every 2.5 minutes in 30).
	samplesPerSoak = 12
	// goroutineSlack is how many more goroutines than after warm-up,
	// besides those serving HTTP connections, may be running at the end:
	// refreshes come and go.
	goroutineSlack = 10
	// connsPerHost bounds the client connections open at the end, per
	// provider fake: the link probe holds its connections through a round
	// (max_concurrent_requests a host), and a call or two may be under
	// way.
	connsPerHost = 4
)

func TestSoak(t *testing.T) {
	d := *soakDuration
	if d == 0 && os.Getenv("CI") == "true" {
		d = ciDuration
	}
	if d == 0 {
		t.Skip("the soak runs under CI=true, or with: go test ./internal/soak -run TestSoak -v -soak.duration=2m")
	}
	seed := *soakSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("soak of %s, seed %d (replay the fault schedule with -soak.seed=%d)", d, seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	e := start(t)
	if *soakFaulted != "" {
		re, err := regexp.Compile(*soakFaulted)
		if err != nil {
			t.Fatalf("-soak.providers: %v", err)
		}
		e.providers = slices.DeleteFunc(e.providers, func(p string) bool { return !re.MatchString(p) })
		if len(e.providers) == 0 {
			t.Fatalf("-soak.providers %q matches no provider", *soakFaulted)
		}
	}
	// Warm-up, scraped as the soak is, so that what the scrapes keep
	// (connections, the series seen) is in the level measured: every
	// collector has refreshed once, and the probe has had an interval
	// for its first round. Scrapes pause while the level is measured.
	stopScrapes := e.scrape(3)
	e.waitAllUp(t, 90*time.Second)
	time.Sleep(interval)
	e.waitAllUp(t, 30*time.Second)
	stopScrapes()
	e.closeIdle()
	stacks0 := goroutineStacks()
	level0 := measure()
	goroutines0, heap0 := level0.goroutines, level0.heap
	writeHeapProfile(t, "warm")
	t.Logf("after warm-up: %d goroutines besides HTTP connections, %d client connections, %.1f MiB live heap", goroutines0, level0.conns, mib(heap0))

	stopScrapes = e.scrape(3)
	samples, stopSampling := sampleHeap(t, max(d/samplesPerSoak, 5*time.Second))
	episodes := e.injectFaults(t, rng, d)
	stopSampling()
	stopScrapes()

	// Faults are cleared; every collector must come back, and a last
	// scrape show it.
	if err := e.allUp(longRetryAfter + 3*interval + apiTimeout); err != nil {
		t.Errorf("faults cleared: %v", err)
	}
	e.scrapeOnce("/metrics")
	e.closeIdle()
	level1 := measure()
	goroutines1, heap1 := level1.goroutines, level1.heap
	writeHeapProfile(t, "end")
	t.Logf("at the end: %d goroutines besides HTTP connections (after warm-up %d), %d client connections, %.1f MiB live heap (after warm-up %.1f MiB)",
		goroutines1, goroutines0, level1.conns, mib(heap1), mib(heap0))

	e.report(t, episodes)
	if goroutines1 > goroutines0+goroutineSlack {
		t.Errorf("%d goroutines besides HTTP connections at the end, %d after warm-up: more than %d more; the stacks that grew:\n%s",
			goroutines1, goroutines0, goroutineSlack, stacksGrown(stacks0, goroutineStacks(), func(s string) bool { return !connStack(s) }))
	}
	// Connections come and go with the calls in flight (the link probe
	// keeps its own through a round), but each is to a fake: a
	// connection never closed shows as more than a few a fake.
	if bound := connsPerHost * len(e.hosts); level1.conns > bound {
		t.Errorf("%d client connections open at the end, more than %d (%d a provider fake); the stacks that grew:\n%s",
			level1.conns, bound, connsPerHost, stacksGrown(stacks0, goroutineStacks(), connStack))
	}
	// The heap's level: the lowest reading of the soak's first third
	// (after warm-up included) against the lowest of its last third
	// (the end included). A reading is higher by whatever was in flight
	// when it was taken, a render's compressors of 600 KiB on a heap of
	// a few MiB; the lowest of several is the level, and a leak raises
	// every reading of the last third.
	first, last := mib(heap0), mib(heap1)
	if low, ok := samples.lowest(0, d/3); ok {
		first = min(first, low)
	}
	if low, ok := samples.lowest(d-d/3, d+time.Hour); ok {
		last = min(last, low)
	}
	t.Logf("live heap, lowest reading: %.1f MiB in the first third, %.1f MiB in the last", first, last)
	if limit := first*heapGrowth + mib(heapSlack); last > limit {
		t.Errorf("live heap %.1f MiB at its lowest in the last third, %.1f MiB in the first: more than %.0f%% and %.0f MiB more", last, first, (heapGrowth-1)*100, mib(heapSlack))
	}
}

// env is the exporter running in process against the sandbox, as main
// runs it, with a fault switch in front of every provider API.
type env struct {
	runner   *exporter.Runner
	sb       *sandbox.Sandbox
	srv      *httptest.Server
	faults   *faultTransport
	base     *http.Transport // the exporter's transport to the fakes
	client   *http.Client
	clientTr *http.Transport
	// providers are the provider fakes the sandbox runs, which are also
	// the names of their collectors.
	providers []string
	hosts     map[string]string // provider -> host:port of its fake

	mu       sync.Mutex
	scrapes  map[string]int       // path -> scrapes
	failures []string             // failed scrapes: status, transport or parse errors
	seen     map[string]string    // provider series -> its provider
	shownBy  map[string]time.Time // provider series -> when the first scrape showing it ended
	erased   map[string]*erasure  // series -> when it went missing
	active   map[string]string    // provider -> the fault it is under
	// streaks are the times scrapes showed each collector down
	// ("name/down") or skipping objects ("name/skipping"), as runs of
	// consecutive scrapes: a few per fault, however long the soak.
	streaks map[string][]streak
	lastBad map[string]bool
	failed  int                      // failed scrapes, of which failures holds the first
	slowest map[string]time.Duration // path -> slowest scrape
}

// streak is a run of scrapes that all showed a collector down.
type streak struct{ from, to time.Time }

// maxFailures bounds the failed scrapes kept for the report.
const maxFailures = 20

func start(t *testing.T) *env {
	t.Helper()
	file, hosts := sandboxConfig(t)
	cfg, err := exporter.LoadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(cfg.Sandbox, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)

	base := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)
	ft := &faultTransport{next: base, hosts: map[string]fault{}, sent: map[string]int64{}}
	runner := exporter.NewRunner(file, slog.New(slog.DiscardHandler))
	runner.Transport = ft
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	metrics, err := runner.Handler(reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Reload(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(runner.Stop)
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics)
	mux.Handle("/", &exporter.StatusPage{
		Cache: runner.Cache, Version: "soak", MetricsPath: "/metrics",
		Links: runner.LinkDetails, Reload: runner.LastReload, PerCreator: runner.PerCreatorCampaigns,
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	clientTr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(clientTr.CloseIdleConnections)
	return &env{
		runner: runner, sb: sb, srv: srv, faults: ft, base: base,
		client:    &http.Client{Transport: clientTr, Timeout: 10 * time.Second},
		clientTr:  clientTr,
		providers: sb.Providers(),
		hosts:     hosts,
		scrapes:   map[string]int{},
		seen:      map[string]string{},
		shownBy:   map[string]time.Time{},
		erased:    map[string]*erasure{},
		active:    map[string]string{},
		streaks:   map[string][]streak{},
		slowest:   map[string]time.Duration{},
		lastBad:   map[string]bool{},
	}
}

// waitAllUp waits until every collector's last refresh succeeded; the
// test ends if that takes longer than within.
func (e *env) waitAllUp(t *testing.T, within time.Duration) {
	t.Helper()
	if err := e.allUp(within); err != nil {
		t.Fatal(err)
	}
}

// allUp waits until every collector's last refresh succeeded, at most
// within.
func (e *env) allUp(within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		var down []string
		st := e.runner.Cache.Status()
		for _, s := range st {
			if !s.Up {
				down = append(down, fmt.Sprintf("%s (%s)", s.Name, s.LastError))
			}
		}
		if len(down) == 0 && len(st) == len(e.runner.Instances()) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s, %d of %d collectors refreshed, down: %s", within, len(st), len(e.runner.Instances()), strings.Join(down, "; "))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// scrape starts n scrapers of /metrics and one of the landing page; the
// function returned stops them and waits for them.
func (e *env) scrape(n int) func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	loop := func(path string, pause time.Duration) {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(pause):
			}
			e.scrapeOnce(path)
		}
	}
	for range n {
		wg.Add(1)
		go loop("/metrics", 100*time.Millisecond)
	}
	wg.Add(1)
	go loop("/", 500*time.Millisecond)
	return func() {
		close(stop)
		wg.Wait()
	}
}

// scrapeOnce scrapes path and checks the answer: 200, and for /metrics an
// exposition that parses, whose series are recorded.
func (e *env) scrapeOnce(path string) {
	began := time.Now()
	resp, err := e.client.Get(e.srv.URL + path)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, body)
		}
	}
	took := time.Since(began)
	var families map[string]*dto.MetricFamily
	if err == nil && path == "/metrics" {
		p := expfmt.NewTextParser(model.UTF8Validation)
		families, err = p.TextToMetricFamilies(bytes.NewReader(body))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.scrapes[path]++
	e.slowest[path] = max(e.slowest[path], took)
	if err != nil {
		e.failed++
		if len(e.failures) < maxFailures {
			e.failures = append(e.failures, fmt.Sprintf("GET %s at %s: %v", path, began.Format(time.TimeOnly), err))
		}
		return
	}
	if families != nil {
		e.record(began, began.Add(took), families)
	}
}

// record notes which collectors a scrape shows down, and which provider
// series it has: a series seen once must be in every later scrape (a
// failing provider keeps its last good values). The scrape began at at
// and ended at end, as the client saw it; the caller holds e.mu.
func (e *env) record(at, end time.Time, families map[string]*dto.MetricFamily) {
	bad := map[string]bool{}
	for _, m := range families["influencer_collector_up"].GetMetric() {
		bad[label(m, "collector")+"/down"] = m.GetGauge().GetValue() != 1
	}
	for _, m := range families["influencer_collector_objects"].GetMetric() {
		if label(m, "state") == exporter.StateSkipped && m.GetGauge().GetValue() > 0 {
			bad[label(m, "collector")+"/skipping"] = true
		}
	}
	for k := range e.lastBad {
		if _, ok := bad[k]; !ok {
			bad[k] = false
		}
	}
	for k, isBad := range bad {
		was := e.lastBad[k]
		e.lastBad[k] = isBad
		switch s := e.streaks[k]; {
		case !isBad:
		case was && len(s) > 0:
			s[len(s)-1].to = at
		default:
			e.streaks[k] = append(s, streak{from: at, to: at})
		}
	}
	present := map[string]string{}
	for name, mf := range families {
		if !providerSeries(name) {
			continue
		}
		for _, m := range mf.GetMetric() {
			present[seriesKey(name, m)] = label(m, "provider")
		}
	}
	for k, p := range present {
		if _, ok := e.seen[k]; !ok {
			e.seen[k] = p
			e.shownBy[k] = end
		} else if end.Before(e.shownBy[k]) {
			e.shownBy[k] = end
		}
		if er := e.erased[k]; er != nil && er.back.IsZero() {
			er.back = at
		}
	}
	var status []exporter.CollectorStatus
	for k, p := range e.seen {
		if _, ok := present[k]; ok || e.erased[k] != nil {
			continue
		}
		if !at.After(e.shownBy[k]) {
			// The exporter served the series by the time a scrape
			// showing it ended; only a scrape begun after that must
			// have it. Scrapes run at once, and the client's order is
			// not the server's: a scrape begun just after one that
			// showed a new series may have read the exporter's
			// snapshot before it, when the series was not there yet.
			continue
		}
		if status == nil {
			status = e.runner.Cache.Status()
		}
		er := &erasure{at: at, faults: fmt.Sprint(e.active)}
		for _, st := range status {
			if st.Name == p {
				er.status = fmt.Sprintf("up %t, %d gaps, last error %.200q", st.Up, len(st.Gaps), st.LastError)
			}
		}
		e.erased[k] = er
	}
}

// erasure is a provider series missing from a scrape after it was seen.
type erasure struct {
	at, back time.Time // back: when it was seen again, if it was
	faults   string    // the faults then
	status   string    // its collector's state then
}

func (er *erasure) String() string {
	back := "never back"
	if !er.back.IsZero() {
		back = "back at " + er.back.Format(time.TimeOnly)
	}
	return fmt.Sprintf("missing at %s, %s; faults then: %s; its collector then: %s", er.at.Format(time.TimeOnly), back, er.faults, er.status)
}

// providerSeries reports whether a family holds what collectors report,
// as opposed to the exporter's own state.
func providerSeries(name string) bool {
	if !strings.HasPrefix(name, "influencer_") {
		return false
	}
	for _, own := range []string{"influencer_collector_", "influencer_api_", "influencer_config_", "influencer_token_", "influencer_exporter_"} {
		if strings.HasPrefix(name, own) {
			return false
		}
	}
	return true
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func seriesKey(name string, m *dto.Metric) string {
	pairs := make([]string, 0, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		pairs = append(pairs, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// class is a kind of provider fault the soak injects.
type class struct {
	name string
	// fails says a refresh that meets the fault fails: the collector
	// must show down while it lasts.
	fails bool
	// holdOff is how long after the fault the collector may still stay
	// down by the provider's own word: the Retry-After it sent.
	holdOff time.Duration
	set     func(e *env, provider string)
}

var classes = []class{
	{name: "5xx", fails: true, set: func(e *env, p string) { e.sb.Faults(p).Set(fakeapi.ServerError, -1) }},
	{name: "429, Retry-After 1s", fails: true, holdOff: longRetryAfter, set: func(e *env, p string) {
		e.sb.Faults(p).SetRetryAfter(time.Second)
		e.sb.Faults(p).Set(fakeapi.RateLimited, -1)
	}},
	{name: "429, Retry-After 40s", fails: true, holdOff: longRetryAfter, set: func(e *env, p string) {
		e.sb.Faults(p).SetRetryAfter(longRetryAfter)
		e.sb.Faults(p).Set(fakeapi.RateLimited, -1)
	}},
	{name: "hang", fails: true, set: func(e *env, p string) { e.sb.Faults(p).Set(fakeapi.Hang, -1) }},
	{name: "slow (2s a call)", set: func(e *env, p string) {
		e.sb.Faults(p).SetDelay(2 * time.Second)
		e.sb.Faults(p).Set(fakeapi.Slow, -1)
	}},
	{name: "truncated JSON", fails: true, set: func(e *env, p string) { e.sb.Faults(p).Set(fakeapi.Malformed, -1) }},
	{name: "HTML with 200", fails: true, set: func(e *env, p string) { e.faults.set(e.hosts[p], htmlPage) }},
	{name: "huge body", fails: true, set: func(e *env, p string) { e.faults.set(e.hosts[p], hugeBody) }},
}

// episode is one fault on one provider.
type episode struct {
	provider   string
	class      class
	start, end time.Time
	// status is what the landing page had of the collector when the
	// fault was cleared.
	status string
	// calls are the provider calls its collector made during the
	// fault, counted where they leave the exporter.
	calls int64
}

// Episodes last from minEpisode to maxEpisode: long enough for a refresh
// to start and end under the fault, however the schedule falls.
const (
	minEpisode = interval + apiTimeout + 2*time.Second
	maxEpisode = minEpisode + interval
)

// injectFaults runs for d: every few seconds it puts a random provider
// under a random fault for two intervals or so, at most three at once,
// then clears every fault.
func (e *env) injectFaults(t *testing.T, rng *rand.Rand, d time.Duration) []episode {
	t.Helper()
	var (
		done   []episode
		active []episode
	)
	clear := func(ep episode) {
		for _, st := range e.runner.Cache.Status() {
			if st.Name == ep.provider {
				ep.status = fmt.Sprintf("up %t, %d gaps, last error %.200q", st.Up, len(st.Gaps), st.LastError)
			}
		}
		e.sb.Faults(ep.provider).Set(fakeapi.None, 0)
		e.faults.set(e.hosts[ep.provider], none)
		e.mu.Lock()
		delete(e.active, ep.provider)
		e.mu.Unlock()
		ep.calls += e.faults.calls(e.hosts[ep.provider])
		ep.end = time.Now()
		done = append(done, ep)
	}
	end := time.Now().Add(d)
	for now := time.Now(); now.Before(end); now = time.Now() {
		kept := active[:0]
		for _, ep := range active {
			if now.After(ep.end) {
				clear(ep)
			} else {
				kept = append(kept, ep)
			}
		}
		active = kept
		// The last episodes end with the soak: none starts that would
		// be cut short.
		if len(active) < 3 && end.Sub(now) > maxEpisode {
			busy := map[string]bool{}
			for _, ep := range active {
				busy[ep.provider] = true
			}
			p := e.providers[rng.IntN(len(e.providers))]
			if !busy[p] {
				length := minEpisode + time.Duration(rng.Int64N(int64(maxEpisode-minEpisode)))
				ep := episode{provider: p, class: classes[rng.IntN(len(classes))], start: now, end: now.Add(length), calls: -e.faults.calls(e.hosts[p])}
				ep.class.set(e, p)
				active = append(active, ep)
				e.mu.Lock()
				e.active[p] = ep.class.name
				e.mu.Unlock()
			}
		}
		time.Sleep(2*time.Second + time.Duration(rng.Int64N(int64(4*time.Second))))
	}
	for _, ep := range active {
		clear(ep)
	}
	return done
}

// report logs the figures of the run and fails on what went wrong: a
// failed scrape, an erased series, a provider failing under a fault while
// its collector showed neither down nor skipping objects, a collector
// down while its provider answered well.
func (e *env) report(t *testing.T, episodes []episode) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	t.Logf("scrapes: %d of /metrics (slowest %s), %d of the landing page (slowest %s), %d failed",
		e.scrapes["/metrics"], e.slowest["/metrics"].Round(time.Millisecond),
		e.scrapes["/"], e.slowest["/"].Round(time.Millisecond), e.failed)
	for _, f := range e.failures {
		t.Errorf("scrape failed: %s", f)
	}
	if e.failed > len(e.failures) {
		t.Errorf("... and %d more failed scrapes", e.failed-len(e.failures))
	}

	// overlaps reports whether a streak of key overlaps [from, to).
	overlaps := func(key string, from, to time.Time) bool {
		for _, s := range e.streaks[key] {
			if !s.to.Before(from) && s.from.Before(to) {
				return true
			}
		}
		return false
	}
	type tally struct{ injected, uncalled, down, skipping int }
	byClass := map[string]*tally{}
	for _, ep := range episodes {
		tl := byClass[ep.class.name]
		if tl == nil {
			tl = &tally{}
			byClass[ep.class.name] = tl
		}
		tl.injected++
		t.Logf("  %s on %s for %s: %d calls; then %s", ep.class.name, ep.provider, ep.end.Sub(ep.start).Round(time.Second), ep.calls, ep.status)
		if ep.calls == 0 {
			// No refresh asked the provider anything while it
			// failed (a refresh with nothing due): nothing to show.
			tl.uncalled++
			continue
		}
		// The refresh that meets the fault ends at most a timeout (and
		// a wait for a refresh slot) after the fault does.
		until := ep.end.Add(interval + apiTimeout + ep.class.holdOff)
		down := overlaps(ep.provider+"/down", ep.start, until)
		skipping := overlaps(ep.provider+"/skipping", ep.start, until)
		switch {
		case down:
			tl.down++
		case skipping:
			tl.skipping++
		case ep.class.fails && ep.end.Sub(ep.start) >= minEpisode:
			t.Errorf("%s on %s from %s to %s, %d calls: no scrape showed the collector down or skipping objects; at the end: %s",
				ep.class.name, ep.provider, ep.start.Format(time.TimeOnly), ep.end.Format(time.TimeOnly), ep.calls, ep.status)
		}
	}
	t.Logf("faults injected: %d", len(episodes))
	for _, c := range classes {
		tl := byClass[c.name]
		if tl == nil {
			t.Logf("  %-22s none injected", c.name)
			continue
		}
		t.Logf("  %-22s %d injected: collector shown down in %d, skipping objects in %d, not called in %d",
			c.name, tl.injected, tl.down, tl.skipping, tl.uncalled)
	}

	// The other side of the truth: a collector shown down while its
	// provider answered well.
	var unexplained []string
	for key, streaks := range e.streaks {
		c, ok := strings.CutSuffix(key, "/down")
		if !ok {
			continue
		}
		for _, s := range streaks {
			explained := false
			for _, ep := range episodes {
				if ep.provider == c && !s.to.Before(ep.start) && s.from.Before(ep.end.Add(interval+apiTimeout+ep.class.holdOff)) {
					explained = true
					break
				}
			}
			if !explained {
				unexplained = append(unexplained, fmt.Sprintf("%s from %s to %s", c, s.from.Format(time.TimeOnly), s.to.Format(time.TimeOnly)))
			}
		}
	}
	sort.Strings(unexplained)
	t.Logf("collectors shown down without a fault on their provider: %d", len(unexplained))
	for _, u := range unexplained {
		t.Errorf("shown down without a fault: %s", u)
	}

	var erased []string
	for k, er := range e.erased {
		erased = append(erased, k+": "+er.String())
	}
	sort.Strings(erased)
	t.Logf("provider series: %d seen, %d erased", len(e.seen), len(erased))
	for _, s := range erased {
		t.Errorf("series erased: %s", s)
	}
	var stillDown []string
	for key, bad := range e.lastBad {
		if c, ok := strings.CutSuffix(key, "/down"); ok && bad {
			stillDown = append(stillDown, c)
		}
	}
	if len(stillDown) > 0 {
		sort.Strings(stillDown)
		t.Errorf("down in the last scrape, faults cleared: %v", stillDown)
	}
}

// heapSamples is the live heap after a GC, read through the soak.
type heapSamples struct {
	mu  sync.Mutex
	at  []time.Duration // since the soak began
	mib []float64
	log []string
}

// sampleHeap reads the goroutines and the live heap after a GC every
// period until the function returned is called, and logs them: a level
// that steps up once (caches filling, a render in flight) reads apart from
// one that keeps growing.
func sampleHeap(t *testing.T, period time.Duration) (*heapSamples, func()) {
	hs := &heapSamples{}
	stop, done := make(chan struct{}), make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				collect()
				live, inuse := heapLive()
				hs.mu.Lock()
				hs.at = append(hs.at, time.Since(start))
				hs.mib = append(hs.mib, mib(live))
				hs.log = append(hs.log, fmt.Sprintf("%d/%.1f/%.1f", runtime.NumGoroutine(), mib(live), mib(inuse)))
				hs.mu.Unlock()
			}
		}
	}()
	return hs, func() {
		close(stop)
		<-done
		if len(hs.log) > 0 {
			t.Logf("goroutines/MiB of live heap/MiB of heap spans in use, every %s: %s", period, strings.Join(hs.log, " "))
		}
	}
}

// lowest returns the lowest reading taken from from to to into the soak,
// and whether there was one.
func (hs *heapSamples) lowest(from, to time.Duration) (float64, bool) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	low, ok := math.Inf(1), false
	for i, at := range hs.at {
		if at >= from && at < to {
			low, ok = min(low, hs.mib[i]), true
		}
	}
	return low, ok
}

// writeHeapProfile writes a heap profile after a GC to
// -soak.heapprofile's prefix with the suffix .name.pb.gz, when it is set.
func writeHeapProfile(t *testing.T, name string) {
	if *soakHeapProfile == "" {
		return
	}
	// One collection: after two in a row the profile holds nothing.
	runtime.GC()
	f, err := os.Create(*soakHeapProfile + "." + name + ".pb.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		t.Fatal(err)
	}
}

// closeIdle closes the idle keep-alive connections of the scrapers and of
// the exporter's clients, whose number follows how many calls were last
// in flight at once, so that a level measured holds only what stays.
func (e *env) closeIdle() {
	e.clientTr.CloseIdleConnections()
	e.base.CloseIdleConnections()
}

// goroutineStacks returns how many goroutines run each stack, as the
// goroutine profile groups them.
func goroutineStacks() map[string]int {
	var b bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
	stacks := map[string]int{}
	for _, rec := range strings.Split(b.String(), "\n\n") {
		head, stack, ok := strings.Cut(rec, "\n")
		var n int
		if _, err := fmt.Sscanf(head, "%d @", &n); err != nil || !ok {
			continue
		}
		stacks[stack] += n
	}
	return stacks
}

// stacksGrown lists the stacks for which keep is true run by more
// goroutines in after than in before, most grown first.
func stacksGrown(before, after map[string]int, keep func(stack string) bool) string {
	type grown struct {
		stack string
		by    int
	}
	var gs []grown
	for s, n := range after {
		if n > before[s] && keep(s) {
			gs = append(gs, grown{s, n - before[s]})
		}
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].by > gs[j].by })
	var b strings.Builder
	for _, g := range gs {
		fmt.Fprintf(&b, "+%d:\n%s\n\n", g.by, g.stack)
	}
	return b.String()
}

// level is what the soak keeps flat: goroutines other than those serving
// HTTP connections, the exporter's client connections, and the heap in
// use after GC.
type level struct {
	goroutines, conns int
	heap              uint64
}

// measure returns the level, the lowest of a few readings: refreshes and
// connections come and go.
func measure() level {
	l := level{goroutines: math.MaxInt, conns: math.MaxInt, heap: math.MaxUint64}
	for range 5 {
		collect()
		live, _ := heapLive()
		others, conns := countStacks(goroutineStacks())
		l.goroutines, l.conns = min(l.goroutines, others), min(l.conns, conns)
		l.heap = min(l.heap, live)
		time.Sleep(200 * time.Millisecond)
	}
	return l
}

// connStack reports whether a goroutine stack serves one HTTP connection,
// a client's (two goroutines each) or a server's (one).
func connStack(stack string) bool {
	return strings.Contains(stack, "net/http.(*persistConn).readLoop") ||
		strings.Contains(stack, "net/http.(*persistConn).writeLoop") ||
		strings.Contains(stack, "net/http.(*conn).serve")
}

// countStacks returns how many goroutines serve no HTTP connection, and
// how many client connections are open.
func countStacks(stacks map[string]int) (others, conns int) {
	for stack, n := range stacks {
		switch {
		case strings.Contains(stack, "net/http.(*persistConn).readLoop"):
			conns += n
		case !connStack(stack):
			others += n
		}
	}
	return others, conns
}

// heapLive returns the bytes of the objects the last GC found live, and of
// the heap's spans in use. The soak bounds the first: the second also
// counts the free room in spans that hold a live object, which the
// allocator fills again and a long run sees creep up (4.5 to 5.9 MiB in
// 8 minutes, whose heap profiles showed no more objects live; 7.3 MiB in
// 30).
func heapLive() (live, inuse uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return s[0].Value.Uint64(), ms.HeapInuse
}

// collect runs the garbage collector twice: what renders put back in
// their sync.Pools (a compressor is about 600 KiB) outlives one collection
// in the pools' victim cache, and on a heap of a few MiB a reading after
// one collection moves by whatever renders ran just before it.
func collect() {
	runtime.GC()
	runtime.GC()
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// fault is what the fault transport answers for a provider instead of
// passing the request on.
type fault int

const (
	none fault = iota
	// htmlPage is a 200 answer with an HTML page: a proxy's or a CDN's
	// error page, or a login wall.
	htmlPage
	// hugeBody is a 200 answer larger than the client's size cap.
	hugeBody
)

// faultTransport stands in front of the provider fakes with the faults
// fakeapi does not make.
type faultTransport struct {
	next http.RoundTripper

	mu    sync.Mutex
	hosts map[string]fault // host:port -> fault
	sent  map[string]int64 // host:port -> requests
}

// calls returns the requests sent to host so far.
func (ft *faultTransport) calls(host string) int64 {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.sent[host]
}

func (ft *faultTransport) set(host string, f fault) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.hosts[host] = f
}

func (ft *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ft.mu.Lock()
	f := ft.hosts[req.URL.Host]
	ft.sent[req.URL.Host]++
	ft.mu.Unlock()
	var body io.ReadCloser
	ct := "text/html; charset=utf-8"
	switch f {
	case htmlPage:
		body = io.NopCloser(strings.NewReader("<!doctype html><html><body><h1>Please sign in</h1></body></html>"))
	case hugeBody:
		// Endless JSON: the client stops reading at its cap.
		body = io.NopCloser(io.MultiReader(strings.NewReader(`{"data":[`), endless{}))
		ct = "application/json"
	default:
		return ft.next.RoundTrip(req)
	}
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {ct}}, Body: body, ContentLength: -1, Request: req,
	}, nil
}

// endless reads as an endless JSON array of numbers.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "1,"[i%2]
	}
	return len(p), nil
}

// sandboxConfig copies config.yaml and its token files into a temporary
// directory, with every sandbox fake on a free loopback port, every
// collector refreshing each interval and provider calls bounded by
// apiTimeout. It returns the file and each provider fake's host:port.
func sandboxConfig(t *testing.T) (string, map[string]string) {
	t.Helper()
	root := moduleRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ports := map[string]string{
		"bitly": "19401", "dub": "19402", "shortio": "19403", "rebrandly": "19404", sandbox.Destinations: "19405",
		"shopify": "19406", "woocommerce": "19407", "stripe": "19408", "instagram": "19409", "tiktok": "19410",
		"youtube": "19411", "plausible": "19412", "ga4": "19413",
	}
	hosts := map[string]string{}
	var moves []string
	for name, port := range ports {
		addr := freeAddr(t)
		hosts[name] = addr
		moves = append(moves, "127.0.0.1:"+port, addr)
	}
	move := strings.NewReplacer(moves...)
	text := move.Replace(string(data))
	for _, r := range [][2]string{
		{"interval: 15s", "interval: " + interval.String()},
		{"interval: 30s", "interval: " + interval.String()},
		{"timeout: 30s", "timeout: " + apiTimeout.String()},
		{"\n  - type: linkprobe\n", "\n  - type: linkprobe\n    interval: " + interval.String() + "\n"},
		// Throttled, the Instagram collector holds its calls for
		// usage_backoff (10m by default): within the soak's bound.
		{"token_file: sandbox/tokens/instagram.token", "options: {usage_backoff: " + model.Duration(longRetryAfter).String() + "}\n    token_file: sandbox/tokens/instagram.token"},
	} {
		if !strings.Contains(text, r[0]) {
			t.Fatalf("config.yaml has no %q to change", r[0])
		}
		text = strings.ReplaceAll(text, r[0], r[1])
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sandbox", "tokens"), 0o755); err != nil {
		t.Fatal(err)
	}
	tokens, err := filepath.Glob(filepath.Join(root, "sandbox", "tokens", "*"))
	if err != nil || len(tokens) == 0 {
		t.Fatalf("no sandbox tokens: %v", err)
	}
	for _, f := range tokens {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// The GA4 key names its token endpoint's port.
		if err := os.WriteFile(filepath.Join(dir, "sandbox", "tokens", filepath.Base(f)), []byte(move.Replace(string(b))), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return file, hosts
}

// freeAddr is exportertest.FreeAddr.
func freeAddr(t *testing.T) string { return exportertest.FreeAddr(t) }

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal(errors.New("no go.mod above the working directory"))
		}
		dir = parent
	}
}

// TestRecordOrdersScrapesByWhatTheyCouldRead checks the soak's own
// bookkeeping: a series is erased only from a scrape begun after one
// showing it ended, not from one that overlapped it.
func TestRecordOrdersScrapesByWhatTheyCouldRead(t *testing.T) {
	e := &env{
		runner:  exporter.NewRunner("", nil),
		seen:    map[string]string{},
		shownBy: map[string]time.Time{},
		erased:  map[string]*erasure{},
		active:  map[string]string{},
		streaks: map[string][]streak{},
		lastBad: map[string]bool{},
	}
	name := "influencer_code_redemptions_total"
	with := map[string]*dto.MetricFamily{name: {
		Name: &name,
		Metric: []*dto.Metric{{
			Label:   []*dto.LabelPair{{Name: new("provider"), Value: new("shopify")}, {Name: new("code"), Value: new("JADE")}},
			Counter: &dto.Counter{Value: new(3.0)},
		}},
	}}
	without := map[string]*dto.MetricFamily{}
	t0 := time.Date(2026, 12, 4, 17, 40, 28, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	key := "influencer_code_redemptions_total{code=JADE,provider=shopify}"

	// A began first and read the snapshot last: it shows the new
	// series. B began after A and ended before it, without it.
	e.record(ms(0), ms(50), with)
	e.record(ms(10), ms(20), without)
	if er := e.erased[key]; er != nil {
		t.Fatalf("erased by a scrape that overlapped the first showing it: %s", er)
	}
	// C began after A ended: it must show the series.
	e.record(ms(60), ms(70), without)
	er := e.erased[key]
	if er == nil || !er.at.Equal(ms(60)) {
		t.Fatalf("a scrape begun after the series was shown went without it, and erased is %v", er)
	}
	e.record(ms(80), ms(90), with)
	if !er.back.Equal(ms(80)) {
		t.Errorf("back at %s, want %s", er.back, ms(80))
	}
}

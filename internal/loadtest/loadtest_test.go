package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The exporter binary, built once for the test binary's tests and
// benchmarks.
var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	// A run starts this binary again as its scraper process.
	if len(os.Args) > 1 && os.Args[1] == scraperArg {
		os.Exit(scraperMain(os.Args[2:]))
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// exporterBinary builds the exporter once, or skips where the run cannot
// read the process's memory.
func exporterBinary(tb testing.TB) string {
	tb.Helper()
	if runtime.GOOS != "linux" {
		tb.Skip("the load test reads /proc: Linux only")
	}
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "loadtest-bin"); binErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		binPath, binErr = build(ctx, binDir, false)
	})
	if binErr != nil {
		tb.Fatal(binErr)
	}
	return binPath
}

// TestRun runs the exporter at 300 series through one refresh and checks
// what the report says it saw, not how fast: the series on /metrics are
// the configured ones, every refresh read the whole listing, and memory
// was read.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the exporter for more than 10 seconds")
	}
	var progress bytes.Buffer
	rep, err := Run(context.Background(), Options{
		Series: 300, Interval: 10 * time.Second, Refreshes: 1, Binary: exporterBinary(t),
		Deadline: 2 * time.Minute, Baseline: true, Env: []string{"GOGC=100"}, ProviderNice: defaultProviderNice,
	}, &progress)
	t.Logf("progress:\n%s", progress.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	t.Logf("report:\n%s", text.Bytes())

	if rep.SeriesConfigured != 300 || rep.SeriesSeen != 300 {
		t.Errorf("series: %d configured, %d seen, want 300 both", rep.SeriesConfigured, rep.SeriesSeen)
	}
	if rep.Partners != 100 || rep.PagesPerRefresh != 1 {
		t.Errorf("%d partners in %d pages, want 100 in 1", rep.Partners, rep.PagesPerRefresh)
	}
	if len(rep.Refreshes) != 2 {
		t.Fatalf("%d refreshes reported, want the cold one and 1", len(rep.Refreshes))
	}
	for i, f := range rep.Refreshes {
		if !f.Complete || f.Requests != 1 || f.Duration <= 0 {
			t.Errorf("refresh %d: %+v, want complete, 1 request, a positive duration", i, f)
		}
	}
	if rep.ProviderMisses != 0 {
		t.Errorf("%d provider requests not replayed, want 0", rep.ProviderMisses)
	}
	if rep.ProviderNice != defaultProviderNice || rep.ProviderLoweredConns < 1 {
		t.Errorf("provider served %d nice steps lower on %d connections, want %d on at least one", rep.ProviderNice, rep.ProviderLoweredConns, defaultProviderNice)
	}
	if rep.ColdStart <= 0 {
		t.Errorf("cold start %gs, want positive", rep.ColdStart)
	}
	if rep.Idle.Count == 0 || rep.During.Count == 0 || rep.ScrapeErrors != 0 {
		t.Errorf("scrapes: %d idle, %d during refresh, %d errors; want some of both and no error", rep.Idle.Count, rep.During.Count, rep.ScrapeErrors)
	}
	if rep.Around.Count < rep.During.Count || rep.Around.Count+rep.FarIdle.Count != rep.Idle.Count+rep.During.Count {
		t.Errorf("scrapes: %d within %v of a refresh and %d further away, want every scrape in one and at least the %d during refreshes in the first",
			rep.Around.Count, aroundRefresh, rep.FarIdle.Count, rep.During.Count)
	}
	if rep.Idle.P50 <= 0 || rep.Idle.P99 < rep.Idle.P50 || rep.Idle.Max < rep.Idle.P99 {
		t.Errorf("idle scrapes: %+v, want 0 < p50 <= p99 <= max", rep.Idle)
	}
	if !strings.HasPrefix(rep.ContentType, "application/openmetrics-text; version=1.0.0") {
		t.Errorf("content type %q, want OpenMetrics 1.0.0, which Prometheus asks for first", rep.ContentType)
	}
	if rep.BodyGzipBytes <= 0 || rep.BodyBytes <= rep.BodyGzipBytes {
		t.Errorf("body %d bytes, %d gzipped; want a gzipped body smaller than its text", rep.BodyBytes, rep.BodyGzipBytes)
	}
	if rep.BaselineRSS <= 0 || rep.IdleRSS <= 0 || rep.IdlePeak <= 0 || rep.RefreshPeak <= 0 {
		t.Errorf("RSS: baseline %d, idle %d, idle peak %d, refresh peak %d; want all positive",
			rep.BaselineRSS, rep.IdleRSS, rep.IdlePeak, rep.RefreshPeak)
	}
	if rep.HeapGoalIdle <= 0 || rep.HeapGoalRefreshMax <= 0 {
		t.Errorf("heap goal: %d idle, %d during refreshes; want both positive", rep.HeapGoalIdle, rep.HeapGoalRefreshMax)
	}
	if rep.IdleRSSPerSeries != float64(rep.IdleRSS)/300 {
		t.Errorf("idle RSS a series %g, want %d/300", rep.IdleRSSPerSeries, rep.IdleRSS)
	}
	// One watched refresh leaves next to no time after it: the RSS
	// between refreshes may be missing, but not wrong.
	if rep.BetweenRSS < 0 || rep.BetweenRSSPerSeries != float64(rep.BetweenRSS)/300 {
		t.Errorf("RSS between refreshes %d, %g a series; want %d/300", rep.BetweenRSS, rep.BetweenRSSPerSeries, rep.BetweenRSS)
	}
	if want := ratio(float64(rep.RefreshPeak), float64(rep.BetweenRSS)); rep.PeakOverBetween != want {
		t.Errorf("refresh peak over the RSS between refreshes %g, want %g", rep.PeakOverBetween, want)
	}

	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"series_seen", "cold_start_seconds", "scrapes_idle", "scrapes_during_refresh", "scrapes_around_refresh", "scrapes_far_from_refresh", "p99_ratio", "idle_rss_bytes", "refresh_peak_ratio", "heap_goal_idle_bytes"} {
		if _, ok := back[k]; !ok {
			t.Errorf("JSON report has no %s", k)
		}
	}
}

// TestRefreshWindow checks when a refresh's window starts: at its first
// request, or at the exporter's start of it when that is earlier.
func TestRefreshWindow(t *testing.T) {
	first := time.Date(2026, 12, 4, 12, 0, 10, 0, time.UTC)
	seen := first.Add(900 * time.Millisecond)
	at := func(d time.Duration) float64 { return float64(first.Add(d).UnixNano()) / 1e9 }
	for _, tc := range []struct {
		name        string
		lastSuccess float64
		want        time.Time
	}{
		{"started before the first request", at(-120 * time.Millisecond), first.Add(-120 * time.Millisecond)},
		{"timestamp after the first request", at(5 * time.Millisecond), first},
		{"no timestamp", 0, first},
	} {
		w := refreshWindow(first, status{at: seen, lastSuccess: tc.lastSuccess})
		if d := w.start.Sub(tc.want); d < -time.Microsecond || d > time.Microsecond || !w.end.Equal(seen) {
			t.Errorf("%s: window %v .. %v, want %v .. %v", tc.name, w.start, w.end, tc.want, seen)
		}
	}
	wide := widen([]window{{first, seen}}, time.Second)
	near := scrape{start: seen.Add(500 * time.Millisecond), end: seen.Add(502 * time.Millisecond)}
	far := scrape{start: seen.Add(1500 * time.Millisecond), end: seen.Add(1502 * time.Millisecond)}
	if !wide[0].overlaps(near) || wide[0].overlaps(far) {
		t.Errorf("widened by 1s: %v .. %v; want a scrape 0.5s after the refresh in it and one 1.5s after outside", wide[0].start, wide[0].end)
	}
}

// TestCheck checks the options a run refuses before starting anything.
func TestCheck(t *testing.T) {
	ok := Options{Series: 300_000, Interval: 30 * time.Second, Refreshes: 3, Deadline: time.Minute}
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"too few series", func(o *Options) { o.Series = 2 }, "-series 2"},
		{"interval under the minimum", func(o *Options) { o.Interval = time.Second }, "minimum is 10s"},
		{"no refresh", func(o *Options) { o.Refreshes = 0 }, "-refreshes 0"},
		{"latency longer than a refresh may take", func(o *Options) { o.Latency = 50 * time.Millisecond }, "raise -interval"},
		{"env without a value", func(o *Options) { o.Env = []string{"GOGC"} }, "KEY=VALUE"},
		{"profile of a prebuilt binary", func(o *Options) { o.ProfileDir, o.Binary = "p", "b" }, "drop -binary"},
		{"negative busy processes", func(o *Options) { o.Busy = -1 }, "-busy -1"},
		{"negative scrape rate", func(o *Options) { o.ScrapeRate = -1 }, "-scrape-rate -1"},
		{"scrape rate past a scrape a microsecond", func(o *Options) { o.ScrapeRate = 2e6 }, "-scrape-rate 2e+06"},
		{"scrape rate not a number", func(o *Options) { o.ScrapeRate = math.NaN() }, "-scrape-rate NaN"},
		{"provider raised", func(o *Options) { o.ProviderNice = -1 }, "-provider-nice -1"},
		{"provider past the lowest priority", func(o *Options) { o.ProviderNice = 20 }, "-provider-nice 20"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.edit(&o)
			_, _, err := o.check()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	partners, pages, err := ok.check()
	if err != nil || partners != 100_000 || pages != 1000 {
		t.Errorf("defaults: %d partners, %d pages, %v; want 100000, 1000, nil", partners, pages, err)
	}
}

// TestProviderReplaysTheFake checks that the provider answers each
// request of a refresh, following the cursors, exactly as the fake
// does, and that a wrong token still gets the fake's 401.
func TestProviderReplaysTheFake(t *testing.T) {
	prov := newProvider(250, 0, 0)
	if err := prov.prerender(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := prov.start(); err != nil {
		t.Fatal(err)
	}
	defer prov.close()
	var (
		mu      sync.Mutex
		started []int
	)
	prov.setOnStart(func(i int) {
		mu.Lock()
		defer mu.Unlock()
		started = append(started, i)
	})

	get := func(target, token string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, prov.URL+target, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	target := listingPath + "?per_page=100"
	pages := 0
	for target != "" {
		pages++
		resp, body := get(target, providerToken)
		want := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("Authorization", "Bearer "+providerToken)
		prov.fake.ServeHTTP(want, req)
		if resp.StatusCode != want.Code || !bytes.Equal(body, want.Body.Bytes()) || resp.Header.Get("Link") != want.Header().Get("Link") {
			t.Fatalf("%s: replayed %d %s (Link %q), the fake answers %d %s (Link %q)", target,
				resp.StatusCode, body, resp.Header.Get("Link"), want.Code, want.Body.Bytes(), want.Header().Get("Link"))
		}
		var meta struct {
			Meta struct {
				Next *string `json:"next"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(body, &meta); err != nil {
			t.Fatal(err)
		}
		target = ""
		if meta.Meta.Next != nil {
			target = listingPath + "?" + url.Values{"per_page": {"100"}, "cursor": {*meta.Meta.Next}}.Encode()
		}
	}
	if pages != 3 {
		t.Errorf("%d pages, want 3", pages)
	}
	logs, misses := prov.log()
	mu.Lock()
	calls := slices.Clone(started)
	mu.Unlock()
	if len(logs) != 1 || logs[0].requests != 3 || misses != 0 || !slices.Equal(calls, []int{0}) {
		t.Errorf("refreshes %+v, %d not replayed, hook called for %v; want one refresh of 3 requests, all replayed, hook called for 0",
			logs, misses, calls)
	}
	if resp, body := get(listingPath+"?per_page=100", "wrong"); resp.StatusCode != http.StatusUnauthorized || !bytes.Contains(body, []byte("unauthorized")) {
		t.Errorf("wrong token: %d %s, want the fake's 401", resp.StatusCode, body)
	}
}

// TestFlags checks the exit codes of bad command lines, which stop before
// anything starts.
func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"-h"}, 0},
		{[]string{"-no-such-flag"}, 2},
		{[]string{"300000"}, 2},
		{[]string{"-refreshes", "0"}, 1},
		{[]string{"-env", "GOGC"}, 1},
		{[]string{"-scrape-rate", "-1"}, 1},
		{[]string{"-provider-nice", "20"}, 1},
		// The options are checked before the cgroup is made.
		{[]string{"-cgroup", "-refreshes", "0"}, 1},
	} {
		var stdout, stderr bytes.Buffer
		if code := runMain(context.Background(), tc.args, &stdout, &stderr); code != tc.code {
			t.Errorf("%q: exit code %d, want %d; stderr:\n%s", tc.args, code, tc.code, stderr.Bytes())
		}
		if stdout.Len() > 0 {
			t.Errorf("%q: printed %q, want no report", tc.args, stdout.Bytes())
		}
	}
}

// BenchmarkWholeProcess runs the exporter at 10,000 series through one
// refresh: it keeps the load test working. Figures at agency scale come
// from go run ./internal/loadtest (300,000 series by default).
func BenchmarkWholeProcess(b *testing.B) {
	bin := exporterBinary(b)
	var rep *Report
	for range b.N {
		var err error
		rep, err = Run(context.Background(), Options{
			Series: 10_000, Interval: 10 * time.Second, Refreshes: 1, Binary: bin, Deadline: 2 * time.Minute, ProviderNice: defaultProviderNice,
		}, &testWriter{b})
		if err != nil {
			b.Fatal(err)
		}
	}
	// The whole run is no operation worth timing.
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(rep.ColdStart, "cold-start-s")
	b.ReportMetric(rep.Idle.P99, "idle-p99-ms")
	b.ReportMetric(rep.During.P99, "refresh-p99-ms")
	b.ReportMetric(rep.P99Ratio, "p99-ratio")
	b.ReportMetric(rep.IdleRSSPerSeries, "idle-RSS-B/series")
	b.ReportMetric(rep.PeakRatio, "peak/idle-RSS")
}

// testWriter logs progress lines.
type testWriter struct{ tb testing.TB }

func (w *testWriter) Write(p []byte) (int, error) {
	w.tb.Logf("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

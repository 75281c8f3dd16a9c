package exporter

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
)

// benchSamples is a campaign of n links: 5 link-probe series and 1 click
// series per link.
func benchSamples(n int) []Sample {
	out := make([]Sample, 0, 6*n)
	for i := 0; i < n; i++ {
		camp, creator, link := fmt.Sprintf("camp-%d", i%10), fmt.Sprintf("creator-%d", i%500), fmt.Sprintf("bit.ly/l%05d", i)
		out = append(out,
			LinkClicks.Sample(float64(i*7), camp, creator, "bitly", link),
			LinkUp.Sample(1, camp, creator, "bitly", link),
			LinkStatusCode.Sample(200, camp, creator, "bitly", link),
			LinkRedirects.Sample(2, camp, creator, "bitly", link),
			LinkProbeDuration.Sample(0.12, camp, creator, "bitly", link),
			LinkDestinationInfo.Sample(1, camp, creator, "bitly", link, "shop.example", "https"),
		)
	}
	return out
}

// agency is the snapshots of an agency's collectors: per creator, 2
// tracking links (a click series each, 6 probe series each), 4 posts (7
// series each: views, reach, 4 engagement types, publish time) and a
// discount code (5 series), 47 series in all, as at 10,000 creators with
// 20,000 links, 40,000 posts and 10,000 codes.
type agency struct {
	snapshots map[string][]Sample
	series    int
}

func newAgency(series int) agency {
	creators := series / 47
	a := agency{snapshots: map[string][]Sample{}}
	var clicks, probe, posts, codes []Sample
	// Built as collectors build them: each sample its own label values.
	for c := 0; c < creators; c++ {
		camp, creator := fmt.Sprintf("spring-%d", c%20), fmt.Sprintf("creator-%05d", c)
		for l := 0; l < 2; l++ {
			link := fmt.Sprintf("bit.ly/%s-%d", creator, l)
			clicks = append(clicks, LinkClicks.Sample(float64(c*13+l), camp, creator, "bitly", link))
			probe = append(probe,
				LinkUp.Sample(1, camp, creator, "bitly", link),
				LinkStatusCode.Sample(200, camp, creator, "bitly", link),
				LinkRedirects.Sample(2, camp, creator, "bitly", link),
				LinkProbeDuration.Sample(0.1+float64(c%97)/1000, camp, creator, "bitly", link),
				LinkDestinationInfo.Sample(1, camp, creator, "bitly", link, "shop.example.com", "https"),
				LinkLastProbe.Sample(1.7e9+float64(c), camp, creator, "bitly", link),
			)
		}
		for p := 0; p < 4; p++ {
			post := fmt.Sprintf("1789%013d", c*4+p)
			posts = append(posts,
				PostViews.Sample(float64(c*101), camp, creator, "instagram", post),
				PostReach.Sample(float64(c*77), camp, creator, "instagram", post),
				PostPublished.Sample(1.7e9+float64(c*60), camp, creator, "instagram", post),
			)
			for _, typ := range []string{"likes", "comments", "saves", "shares"} {
				posts = append(posts, PostEngagements.Sample(float64(c%1000), camp, creator, "instagram", post, typ))
			}
		}
		code := fmt.Sprintf("CREATOR%05d", c)
		codes = append(codes,
			CodeRedemptions.Sample(float64(c%50), camp, creator, "shopify", code),
			CodeRevenue.Sample(float64(c%50)*39.9, camp, creator, "shopify", code, "EUR"),
			CodeRefunds.Sample(1, camp, creator, "shopify", code),
			CodeRefundedRevenue.Sample(39.9, camp, creator, "shopify", code, "EUR"),
			CodePendingOrders.Sample(0, camp, creator, "shopify", code),
		)
	}
	a.snapshots["bitly"], a.snapshots["linkprobe"], a.snapshots["instagram"], a.snapshots["shopify"] = clicks, probe, posts, codes
	for _, s := range a.snapshots {
		a.series += len(s)
	}
	return a
}

// cache stores the agency's snapshots in a new cache.
func (a agency) cache(b *testing.B) *Cache {
	c := NewCache()
	for name, samples := range a.snapshots {
		if err := c.Success(name, name, samples, time.Now(), time.Second); err != nil {
			b.Fatal(err)
		}
	}
	return c
}

// metrics returns the agency's series as const metrics, as the cache
// stored them before it rendered them.
func (a agency) metrics(b *testing.B) []prometheus.Metric {
	var out []prometheus.Metric
	for _, samples := range a.snapshots {
		ms, err := ToMetrics(samples)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, ms...)
	}
	return out
}

// selfRegistry holds what main registers besides the runner.
func selfRegistry() *SerialRegistry {
	reg := NewSerialRegistry()
	reg.MustRegister(selfCollectors()...)
	return reg
}

// selfCollectors are the collectors main registers besides the runner's.
func selfCollectors() []prometheus.Collector {
	return []prometheus.Collector{
		versioncollector.NewCollector("influencer_exporter"),
		collectors.NewGoCollector(),
		NewProcessCollector(),
	}
}

// BenchmarkSelfGather measures gathering, on every scrape, the series
// main registers besides the runner's: each collector alone in a
// SerialRegistry, then all of them ("all", what a scrape gathers before
// the runner's own families).
func BenchmarkSelfGather(b *testing.B) {
	cs := selfCollectors()
	for _, c := range []struct {
		name string
		cs   []prometheus.Collector
	}{{"version", cs[:1]}, {"go", cs[1:2]}, {"process", cs[2:3]}, {"all", selfCollectors()}} {
		b.Run(c.name, func(b *testing.B) {
			reg := NewSerialRegistry()
			reg.MustRegister(c.cs...)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := reg.Gather(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var benchSizes = []int{10_000, 100_000, 300_000}

// discardResponse is a ResponseWriter that counts the body and keeps none
// of it, so the benchmark measures the handler, not a recorder's buffer.
type discardResponse struct {
	header http.Header
	code   int
	n      int
}

func (d *discardResponse) Header() http.Header         { return d.header }
func (d *discardResponse) WriteHeader(code int)        { d.code = code }
func (d *discardResponse) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

// namedHandler is a /metrics handler a benchmark compares.
type namedHandler struct {
	name string
	h    http.Handler
}

// scrapeHandlers returns the exporter's handler serving a's snapshots
// ("rendered") and the client_golang floor serving the same series
// ("floor").
func scrapeHandlers(b *testing.B, a agency) []namedHandler {
	b.Helper()
	rendered, err := NewMetricsHandler(selfRegistry(), nil, a.cache(b))
	if err != nil {
		b.Fatal(err)
	}
	floorReg := prometheus.NewRegistry()
	floorReg.MustRegister(selfCollectors()...)
	floorReg.MustRegister(metricsCollector(a.metrics(b)))
	floor := promhttp.HandlerFor(floorReg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError, EnableOpenMetrics: true, Registry: floorReg,
	})
	return []namedHandler{{"rendered", rendered}, {"floor", floor}}
}

// BenchmarkScrape measures a whole /metrics request at agency scale:
// "rendered" is the exporter's handler, "floor" a plain client_golang
// registry holding the same series as const metrics, served by promhttp
// (what the exporter did before it rendered its snapshots). The text
// format is what curl reads; Prometheus asks for OpenMetrics, gzipped, by
// default, for the text format, gzipped, as its fallback, and for protobuf,
// gzipped, when it ingests native histograms.
func BenchmarkScrape(b *testing.B) {
	formats := []struct{ name, accept, encoding string }{
		{"text", "", "identity"},
		{"gzip", "", "gzip"},
		{"openmetrics-gzip", acceptOpenMetrics, "gzip"},
		{"protobuf", acceptProtobuf, "identity"},
		{"protobuf-gzip", acceptProtobuf, "gzip"},
	}
	for _, n := range benchSizes {
		a := newAgency(n)
		for _, h := range scrapeHandlers(b, a) {
			for _, f := range formats {
				b.Run(fmt.Sprintf("series=%d/%s/%s", a.series, h.name, f.name), func(b *testing.B) {
					req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
					if f.accept != "" {
						req.Header.Set("Accept", f.accept)
					}
					req.Header.Set("Accept-Encoding", f.encoding)
					b.ReportAllocs()
					var w *discardResponse
					for b.Loop() {
						w = &discardResponse{header: http.Header{}}
						h.h.ServeHTTP(w, req)
						if w.code != 0 && w.code != http.StatusOK {
							b.Fatal(w.code)
						}
					}
					b.ReportMetric(float64(w.n), "body-bytes")
				})
			}
		}
	}
}

// BenchmarkScrapeLoopback measures the same scrapes as BenchmarkScrape
// through a real HTTP server on loopback, the client reading the whole
// body as sent (compressed for gzip): what a scraper waits for.
func BenchmarkScrapeLoopback(b *testing.B) {
	formats := []struct{ name, accept, encoding string }{
		{"text", "", "identity"},
		{"gzip", "", "gzip"},
		{"openmetrics-gzip", acceptOpenMetrics, "gzip"},
	}
	for _, n := range benchSizes {
		a := newAgency(n)
		for _, h := range scrapeHandlers(b, a) {
			srv := httptest.NewServer(h.h)
			for _, f := range formats {
				b.Run(fmt.Sprintf("series=%d/%s/%s", a.series, h.name, f.name), func(b *testing.B) {
					req, err := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
					if err != nil {
						b.Fatal(err)
					}
					if f.accept != "" {
						req.Header.Set("Accept", f.accept)
					}
					// Set by hand, the transport leaves the body
					// compressed.
					req.Header.Set("Accept-Encoding", f.encoding)
					var n int64
					for b.Loop() {
						resp, err := srv.Client().Do(req)
						if err != nil {
							b.Fatal(err)
						}
						n, err = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if err != nil || resp.StatusCode != http.StatusOK {
							b.Fatal(resp.Status, err)
						}
					}
					b.ReportMetric(float64(n), "body-bytes")
				})
			}
			srv.Close()
		}
	}
}

// BenchmarkStore measures storing one refresh's snapshot, once per
// refresh (and per progress report), off the scrape path: "rendered"
// renders it in the text format and gzips it, "const-metrics" builds the
// const metrics the cache kept before.
func BenchmarkStore(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000, 300_000} {
		a := newAgency(n)
		b.Run(fmt.Sprintf("series=%d/rendered", a.series), func(b *testing.B) {
			b.ReportAllocs()
			c := NewCache()
			for b.Loop() {
				for name, samples := range a.snapshots {
					if err := c.Success(name, name, samples, time.Now(), time.Second); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run(fmt.Sprintf("series=%d/const-metrics", a.series), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a.metrics(b)
			}
		})
	}
}

// heap returns the bytes of live objects on the heap, after two
// collections (the second frees what the first's finalizers let go).
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkStoreHeap measures the heap a stored snapshot holds per series
// (after a collection): "rendered" is the samples and their rendered
// text and gzip members, "const-metrics" the samples and the const
// metrics the cache kept before, "samples" the samples alone.
func BenchmarkStoreHeap(b *testing.B) {
	n := benchSizes[len(benchSizes)-1]
	for _, kind := range []string{"samples", "rendered", "const-metrics"} {
		b.Run(fmt.Sprintf("series=%d/%s", n, kind), func(b *testing.B) {
			var perSeries float64
			for b.Loop() {
				before := heap()
				a := newAgency(n)
				var kept any
				switch kind {
				case "rendered":
					kept = a.cache(b)
				case "const-metrics":
					kept = a.metrics(b)
				}
				after := heap()
				perSeries = float64(after-before) / float64(a.series)
				runtime.KeepAlive(a)
				runtime.KeepAlive(kept)
			}
			b.ReportMetric(perSeries, "heap-B/series")
		})
	}
}

// benchClient returns a client and a loopback server that answers every
// request with body; the server closes when b ends.
func benchClient(b *testing.B, body []byte) (*Client, *httptest.Server) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return NewClient(ClientOptions{
		Collector: "bench", Token: "t",
		HTTP:    HTTPConfig{MaxRetries: 1, MinRetryWait: model.Duration(time.Millisecond), MaxRetryWait: model.Duration(time.Millisecond), MaxResponseBytes: 1 << 20},
		Timeout: 5 * time.Second,
	}), srv
}

// BenchmarkClientGetJSON measures the shared client's overhead per call
// (rate limiter, retry wrapper, metrics, size cap, decode) against a
// loopback server.
func BenchmarkClientGetJSON(b *testing.B) {
	c, srv := benchClient(b, []byte(`{"total_clicks": 1234, "units": -1, "unit": "day"}`))
	var v struct {
		TotalClicks int `json:"total_clicks"`
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetJSON(context.Background(), srv.URL+"/v4/bitlinks/bit.ly/x/clicks/summary", nil, &v); err != nil {
			b.Fatal(err)
		}
	}
}

// pageCopier is a BodyCopier that keeps only its bodies' length.
type pageCopier struct{ n int }

func (p *pageCopier) DecodeBody(body []byte) error {
	p.n = len(body)
	return nil
}

func (*pageCopier) CopiesBody() {}

// BenchmarkClientGetJSONCopier measures the call of BenchmarkClientGetJSON
// for a page of about 16 KiB, as a json collector reads, decoded into a
// BodyCopier: its body is read into the buffer of the call before.
func BenchmarkClientGetJSONCopier(b *testing.B) {
	page := []byte(`{"data":[` + strings.Repeat(`{"clicks":1234,"link":"aff.example/abcdefgh"},`, 350) + `{}]}`)
	c, srv := benchClient(b, page)
	var v pageCopier
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetJSON(context.Background(), srv.URL+"/v2/affiliates/agency/stats", nil, &v); err != nil {
			b.Fatal(err)
		}
	}
	if v.n != len(page) {
		b.Fatalf("decoded %d bytes, want %d", v.n, len(page))
	}
}

// BenchmarkParseConfig measures loading the repo's sandbox config (done on
// start and on each reload).
func BenchmarkParseConfig(b *testing.B) {
	data, err := os.ReadFile("testdata/good.yml")
	if err != nil {
		b.Fatal(err)
	}
	b.Setenv("FAKE_TOKEN", "x")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseConfig("testdata/good.yml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCoverage measures working out every object's state after a
// refresh (done once per refresh, off the scrape path): n configured links
// set against the refresh's samples, a tenth of them skipped and carried
// over from the previous snapshot.
func BenchmarkCoverage(b *testing.B) {
	for _, n := range []int{2000, 20000, 200000} {
		samples := benchSamples(n)
		var expected []Object
		errs := map[string]*ObjectError{}
		var fresh []Sample
		for _, s := range samples {
			o, ok := sampleObject(s)
			if !ok || s.Metric != LinkClicks {
				continue
			}
			expected = append(expected, o)
			if len(expected)%10 == 0 {
				oe := &ObjectError{Object: o, Skipped: true, Err: ErrOutOfTime}
				errs[oe.key()] = oe
				continue
			}
			fresh = append(fresh, s)
		}
		b.Run(fmt.Sprintf("links=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				merged := carryOver(samples, fresh, errs)
				objects := 0
				for _, c := range inferCoverage(expected, merged, errs, n).counts {
					objects += c
				}
				if objects != n {
					b.Fatalf("%d objects, want %d", objects, n)
				}
			}
		})
	}
}

// BenchmarkScrapeDuringRefresh measures what a scraper waits for while the
// largest collector refreshes: text scrapes gzipped, as Prometheus's
// fallback asks, of an agency of 300,000 series, "idle" and "refreshing"
// while another goroutine stores the collector's snapshot again and again
// (each time new samples, as a refresh decodes them, rendered and
// swapped in), at the priority the scheduler gives a refresh by default.
// It reports the scrapes' p50 and p99: the target is a p99
// while refreshing at most 1.5 times the idle p99.
func BenchmarkScrapeDuringRefresh(b *testing.B) {
	a := newAgency(300_000)
	cache := a.cache(b)
	h, err := NewMetricsHandler(selfRegistry(), nil, cache)
	if err != nil {
		b.Fatal(err)
	}
	largest := ""
	for name, s := range a.snapshots {
		if len(s) > len(a.snapshots[largest]) {
			largest = name
		}
	}
	priority := RefreshPriority{Nice: DefaultRefreshNice}
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	for _, mode := range []string{"idle", "refreshing"} {
		b.Run(fmt.Sprintf("series=%d/%s", a.series, mode), func(b *testing.B) {
			stop, done := make(chan struct{}), make(chan int)
			go func() {
				refreshes := 0
				for mode == "refreshing" {
					select {
					case <-stop:
						done <- refreshes
						return
					default:
					}
					// As the scheduler runs a refresh: on a thread
					// of lower priority (the default, --refresh.nice).
					_ = inBackground(priority, func() {
						fresh := slices.Clone(a.snapshots[largest])
						for i := range fresh {
							fresh[i].Value++
						}
						if err := cache.Success(largest, largest, fresh, time.Now(), time.Second); err != nil {
							panic(err)
						}
					})
					refreshes++
				}
				<-stop
				done <- 0
			}()
			// Linux keeps the process's peak RSS; writing 5 to
			// clear_refs starts it again from the current RSS.
			runtime.GC()
			idleRSS := procStatusKB(b, "VmRSS")
			_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
			var took []time.Duration
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				w := &discardResponse{header: http.Header{}}
				h.ServeHTTP(w, req)
				took = append(took, time.Since(start))
			}
			close(stop)
			refreshes := <-done
			slices.Sort(took)
			at := func(q float64) float64 {
				return float64(took[int(q*float64(len(took)-1))]) / float64(time.Millisecond)
			}
			b.ReportMetric(at(0.5), "p50-ms")
			b.ReportMetric(at(0.99), "p99-ms")
			if mode == "refreshing" {
				b.ReportMetric(float64(refreshes), "refreshes")
			}
			if idleRSS > 0 {
				b.ReportMetric(float64(procStatusKB(b, "VmHWM"))/float64(idleRSS), "peak/idle-RSS")
			}
		})
	}
}

// procStatusKB returns a field of /proc/self/status in KiB, 0 where there
// is none (not Linux).
func procStatusKB(b *testing.B, field string) int64 {
	b.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkConfigHeap measures the heap the agency's config holds (after
// a collection): "loaded" as LoadConfig returns it, with the position of
// every field for the errors of building its collectors, "running" as the
// runner keeps it once they are built.
func BenchmarkConfigHeap(b *testing.B) {
	file := filepath.Join(b.TempDir(), "agency.yml")
	if err := os.WriteFile(file, agencyConfig(), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, kind := range []string{"loaded", "running"} {
		b.Run(kind, func(b *testing.B) {
			var held int64
			for b.Loop() {
				before := heap()
				cfg, err := LoadConfig(file)
				if err != nil {
					b.Fatal(err)
				}
				if kind == "running" {
					if _, err := Build(cfg, Deps{}); err != nil {
						b.Fatal(err)
					}
					cfg.releasePositions()
				}
				held = int64(heap()) - int64(before)
				runtime.KeepAlive(cfg)
			}
			b.ReportMetric(float64(held), "heap-B")
		})
	}
}

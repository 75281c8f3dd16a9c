package exporter

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/maphash"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

const (
	acceptOpenMetrics = "application/openmetrics-text;version=1.0.0"
	acceptProtobuf    = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
	// What Prometheus 3 sends by default (scrape_protocols).
	acceptPrometheus = "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
	acceptText       = "text/plain;version=0.0.4"
)

// testUntyped is an untyped family, the third type a sample can have,
// with a help that needs escaping.
var testUntyped = makeMetric("influencer_test_untyped",
	"An untyped family: a backslash \\ and a\nnewline in its help, and \"quotes\".",
	prometheus.UntypedValue, "zeta", "alpha", "mid")

// testCounter is a counter without the _total suffix, which OpenMetrics
// writes as unknown.
var testCounter = makeMetric("influencer_test_counter", "A counter not named _total.", prometheus.CounterValue, "x")

// awkwardValues are label values the text format escapes or must carry
// as they are.
var awkwardValues = []string{
	"plain", `quote " inside`, `back\slash`, "new\nline", "ünïcødé ✓ 日本 🎉", "",
	`\"\n mixed \\n`, `trailing\`, "tab\there", "{braces},=commas",
}

// awkwardFloats are values with special or long text forms.
var awkwardFloats = []float64{
	0, math.Copysign(0, -1), 1, -1, math.NaN(), math.Inf(1), math.Inf(-1),
	1e300, -1e-300, 5e-324, math.MaxFloat64, 0.1 + 0.2, 123456789012345678, 42, 1.5e-7, -2.5,
}

// awkwardSnapshots returns snapshots of several collectors with every
// sample type, awkward label values and floats, a family two collectors
// share, and samples the cache must drop.
func awkwardSnapshots() map[string][]Sample {
	out := map[string][]Sample{}
	var bitly, dub, shop []Sample
	for i, v := range awkwardValues {
		f := awkwardFloats[i%len(awkwardFloats)]
		bitly = append(bitly,
			LinkClicks.Sample(f, "camp "+v, v, "bitly", fmt.Sprintf("bit.ly/%d%s", i, v)),
			LinkUp.Sample(float64(i%2), "camp", v, "bitly", fmt.Sprintf("bit.ly/%d", i)),
			testUntyped.Sample(awkwardFloats[(i+3)%len(awkwardFloats)], v, "a"+v, fmt.Sprint(i)),
			testCounter.Sample(float64(i), v),
		)
		dub = append(dub, LinkClicks.Sample(awkwardFloats[(i+5)%len(awkwardFloats)], "camp", v, "dub", fmt.Sprintf("dub.sh/%d", i)))
	}
	for i, f := range awkwardFloats {
		shop = append(shop,
			CodeRevenue.Sample(f, "camp", "creator", "shopify", fmt.Sprintf("CODE%d", i), "EUR"),
			CodeRedemptions.Sample(float64(i), "camp", "creator", "shopify", fmt.Sprintf("CODE%d", i)),
		)
	}
	// Dropped by the cache as by ToMetrics: a label too few, a value that
	// is not UTF-8, a series given twice, a sample of no metric.
	shop = append(shop,
		CodeRedemptions.Sample(1, "camp", "creator", "shopify"),
		CodeRedemptions.Sample(1, "camp", "creator", "shopify", "BAD\xff"),
		CodeRedemptions.Sample(99, "camp", "creator", "shopify", "CODE1"),
		Sample{Value: 3},
	)
	out["bitly"], out["dub"], out["shop"] = bitly, dub, shop
	return out
}

// awkwardCache stores the snapshots, with object counts and a failed
// refresh after a good one.
func awkwardCache(t testing.TB) *Cache {
	t.Helper()
	cache := NewCache()
	at := time.Unix(1700000000, 123456789)
	for name, samples := range awkwardSnapshots() {
		err := cache.Success(name, name, samples, at, 1234567*time.Microsecond)
		if (err != nil) != (name == "shop") {
			t.Fatalf("%s: Success = %v", name, err)
		}
		cache.setCoverage(name, name, coverageOfStatuses([]ObjectStatus{
			{Object: Object{Kind: KindLink, Campaign: "camp", Creator: "c", ID: "x"}, State: StateExported},
			{Object: Object{Kind: KindLink, Campaign: "camp", Creator: "c", ID: "y"}, State: StateSkipped},
		}))
	}
	cache.Failure("dub", "dub", errors.New("dub: HTTP 503"), at.Add(time.Minute), 2*time.Second)
	return cache
}

// fixedGatherer returns the same families on every gather, so two
// handlers can be compared on metrics (Go, process) that move.
type fixedGatherer []*dto.MetricFamily

func (f fixedGatherer) Gather() ([]*dto.MetricFamily, error) { return f, nil }

// selfMetrics gathers, once, what main registers besides the runner
// (build info, Go and process metrics) and the runner's per-scrape
// metrics, with values.
func selfMetrics(t testing.TB, extra ...prometheus.Collector) fixedGatherer {
	t.Helper()
	reg := prometheus.NewRegistry()
	api := NewAPIMetrics()
	api.Requests.WithLabelValues("bitly", "200").Add(12)
	api.Requests.WithLabelValues("dub", "error").Inc()
	api.Quota.WithLabelValues("bitly").Set(99.5)
	reg.MustRegister(
		versioncollector.NewCollector("influencer_exporter"),
		collectors.NewGoCollector(),
		NewProcessCollector(),
		api,
	)
	reg.MustRegister(extra...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// handlers returns the rendered handler and promhttp serving the same
// series from the same registry (the reference).
func handlers(t testing.TB, g prometheus.Gatherer, cache *Cache) (got, want http.Handler, gotErrs *prometheus.Registry) {
	t.Helper()
	gotErrs = prometheus.NewRegistry()
	h, err := newMetricsHandler(prometheus.Gatherers{g, gotErrs}, gotErrs, nil, cache)
	if err != nil {
		t.Fatal(err)
	}
	wantErrs := prometheus.NewRegistry()
	cacheReg := prometheus.NewRegistry()
	cacheReg.MustRegister(cache)
	want = promhttp.HandlerFor(prometheus.Gatherers{g, wantErrs, cacheReg}, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError, EnableOpenMetrics: true, Registry: wantErrs,
	})
	return h, want, gotErrs
}

type scrape struct {
	code    int
	header  http.Header
	body    []byte // decompressed
	encoded []byte // as sent
}

func get(t testing.TB, h http.Handler, method, accept, encoding string) scrape {
	t.Helper()
	req := httptest.NewRequest(method, "/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	s := scrape{code: w.Code, header: w.Header(), encoded: w.Body.Bytes(), body: w.Body.Bytes()}
	if w.Header().Get("Content-Encoding") == "gzip" && len(s.encoded) > 0 {
		// One member, as curl and other clients that read no more
		// than one need.
		r := bytes.NewReader(s.encoded)
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		if s.body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
		if r.Len() > 0 {
			t.Fatalf("%d bytes after the first gzip member", r.Len())
		}
	}
	return s
}

// families decodes an exposition with expfmt and returns each family encoded in the
// text format with its series sorted.
func families(t testing.TB, body []byte, contentType string) map[string]string {
	t.Helper()
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.Format(contentType))
	out := map[string]string{}
	for {
		mf := new(dto.MetricFamily)
		if err := dec.Decode(mf); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("decode %s: %v", contentType, err)
		}
		slices.SortFunc(mf.Metric, func(a, b *dto.Metric) int { return strings.Compare(a.String(), b.String()) })
		var b strings.Builder
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
		if _, dup := out[mf.GetName()]; dup {
			t.Fatalf("family %s twice", mf.GetName())
		}
		out[mf.GetName()] = b.String()
	}
}

// textFamilies is families of the classic text format.
func textFamilies(t testing.TB, body []byte) map[string]string {
	t.Helper()
	return families(t, body, string(expfmt.NewFormat(expfmt.TypeTextPlain)))
}

// promParse parses body with Prometheus's own parser of its format and
// returns its series.
func promParse(t testing.TB, body []byte, contentType string) map[string]float64 {
	t.Helper()
	var p textparse.Parser
	if strings.HasPrefix(contentType, "application/openmetrics-text") {
		p = textparse.NewOpenMetricsParser(body, labels.NewSymbolTable())
	} else {
		p = textparse.NewPromParser(body, labels.NewSymbolTable(), false)
	}
	out := map[string]float64{}
	for {
		e, err := p.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Prometheus parser of %s: %v", contentType, err)
		}
		if e != textparse.EntrySeries {
			continue
		}
		var ls labels.Labels
		p.Labels(&ls)
		_, _, v := p.Series()
		out[ls.String()] = v
	}
}

// checkGrouped checks each family has one HELP and one TYPE, every sample
// follows its own family's header and, if sorted, families come in name
// order. (OpenMetrics names counter families without _total, which
// changes their order.)
func checkGrouped(t testing.TB, body []byte, sorted bool) {
	t.Helper()
	var family, prev string
	seen := map[string]bool{}
	for i, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
		switch {
		case line == "# EOF":
		case strings.HasPrefix(line, "# HELP "):
			name, _, _ := strings.Cut(line[len("# HELP "):], " ")
			// In OpenMetrics client_golang itself repeats a family
			// name: go_memstats_alloc_bytes, a gauge, and
			// go_memstats_alloc_bytes_total, a counter.
			if seen[name] && sorted || sorted && name <= prev {
				t.Fatalf("line %d: family %s after %s", i+1, name, prev)
			}
			family, prev, seen[name] = name, name, true
		case strings.HasPrefix(line, "# TYPE "):
			if name, _, _ := strings.Cut(line[len("# TYPE "):], " "); name != family {
				t.Fatalf("line %d: TYPE of %s under the HELP of %s", i+1, name, family)
			}
		default:
			if !strings.HasPrefix(line, family) {
				t.Fatalf("line %d: %q outside its family (under %s)", i+1, line, family)
			}
		}
	}
}

// protoAsText decodes delimited protobuf and encodes it as text.
func protoAsText(t testing.TB, body []byte) []byte {
	t.Helper()
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeProtoDelim))
	var text bytes.Buffer
	for {
		mf := new(dto.MetricFamily)
		if err := dec.Decode(mf); err != nil {
			if errors.Is(err, io.EOF) {
				return text.Bytes()
			}
			t.Fatalf("decode protobuf: %v", err)
		}
		if _, err := expfmt.MetricFamilyToText(&text, mf); err != nil {
			t.Fatal(err)
		}
	}
}

// seriesDiff describes how got differs from want, "" when equal.
func seriesDiff(want, got map[string]float64) string {
	var lines []string
	for k, v := range want {
		if g, ok := got[k]; !ok {
			lines = append(lines, "missing "+k)
		} else if g != v && !(math.IsNaN(g) && math.IsNaN(v)) {
			lines = append(lines, fmt.Sprintf("%s = %g, want %g", k, g, v))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, "extra "+k)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func sortedLines(b []byte) []string {
	lines := strings.Split(string(b), "\n")
	sort.Strings(lines)
	return lines
}

// TestRenderedTextEqualsClientGolang is the exposition's contract: for the
// same snapshots and registry, the rendered text and OpenMetrics carry
// what promhttp writes (same families, HELP, TYPE, labels and values;
// indeed the same lines, in another order within a family), decode with
// expfmt and parse with Prometheus's parsers, and protobuf is promhttp's
// own.
func TestRenderedTextEqualsClientGolang(t *testing.T) {
	cache := awkwardCache(t)
	got, want, _ := handlers(t, selfMetrics(t), cache)

	for _, accept := range []string{"", acceptText, "*/*", "text/plain", acceptOpenMetrics, acceptPrometheus, "application/openmetrics-text;version=0.0.1"} {
		t.Run("Accept "+accept, func(t *testing.T) {
			g, w := get(t, got, http.MethodGet, accept, "identity"), get(t, want, http.MethodGet, accept, "identity")
			if g.code != http.StatusOK || w.code != http.StatusOK {
				t.Fatalf("HTTP %d and %d", g.code, w.code)
			}
			for _, h := range []string{"Content-Type", "Content-Encoding"} {
				if g.header.Get(h) != w.header.Get(h) {
					t.Errorf("%s = %q, promhttp says %q", h, g.header.Get(h), w.header.Get(h))
				}
			}
			if !slices.Equal(g.header.Values("Vary"), w.header.Values("Vary")) {
				t.Errorf("Vary = %q, promhttp says %q", g.header.Values("Vary"), w.header.Values("Vary"))
			}
			ct := w.header.Get("Content-Type")
			om := strings.HasPrefix(ct, "application/openmetrics-text")
			gs, ws := promParse(t, g.body, ct), promParse(t, w.body, ct)
			if d := seriesDiff(ws, gs); d != "" {
				t.Errorf("Prometheus's parser reads other series than from promhttp:\n%s", d)
			}
			// Rendered series keep the collector's order.
			if gl, wl := sortedLines(g.body), sortedLines(w.body); !slices.Equal(gl, wl) {
				t.Errorf("the lines differ from promhttp's (sorted):\n got: %q\nwant: %q", gl, wl)
			}
			checkGrouped(t, g.body, !om)
			if om {
				// expfmt's OpenMetrics decoder refuses client_golang's
				// own Go metrics (go_memstats_alloc_bytes and
				// go_memstats_alloc_bytes_total are one family there):
				// Prometheus's parser and the lines above are the test.
				if !bytes.HasSuffix(g.body, []byte("\n# EOF\n")) {
					t.Error("OpenMetrics body does not end with # EOF")
				}
				return
			}
			gotFams, wantFams := families(t, g.body, ct), families(t, w.body, ct)
			for _, prefix := range []string{"go_", "process_", "influencer_exporter_build_info", "influencer_api_", "influencer_link_clicks_total", "influencer_test_untyped", "influencer_test_counter", "influencer_collector_objects", "promhttp_"} {
				found := false
				for name := range wantFams {
					found = found || strings.HasPrefix(name, prefix)
				}
				if !found {
					t.Errorf("no family %s* in the reference: the test covers less than it says", prefix)
				}
			}
			for name, wf := range wantFams {
				if gf, ok := gotFams[name]; !ok {
					t.Errorf("family %s missing", name)
				} else if gf != wf {
					t.Errorf("family %s differs:\n got:\n%s\nwant:\n%s", name, gf, wf)
				}
			}
			for name := range gotFams {
				if _, ok := wantFams[name]; !ok {
					t.Errorf("extra family %s", name)
				}
			}
		})
	}

	// The protobuf format has its own test (TestProtobufEqualsClientGolang);
	// the other protobuf formats are promhttp's own.
	for _, accept := range []string{
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text",
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=compact-text",
	} {
		g, w := get(t, got, http.MethodGet, accept, ""), get(t, want, http.MethodGet, accept, "")
		if g.code != http.StatusOK || g.header.Get("Content-Type") != w.header.Get("Content-Type") || len(g.body) == 0 {
			t.Errorf("%s: HTTP %d, Content-Type = %q, promhttp says %q", accept, g.code, g.header.Get("Content-Type"), w.header.Get("Content-Type"))
		}
	}
}

// assertRenderedMatches checks the rendered text and OpenMetrics of rc
// carry the lines promhttp writes from its Collect.
func assertRenderedMatches(t testing.TB, rc RenderedCollector) {
	t.Helper()
	h, err := newMetricsHandler(fixedGatherer(nil), prometheus.NewRegistry(), nil, rc)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(rc)
	want := promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
	for _, accept := range []string{"", acceptOpenMetrics} {
		g, w := get(t, h, http.MethodGet, accept, "gzip"), get(t, want, http.MethodGet, accept, "gzip")
		if gl, wl := sortedLines(g.body), sortedLines(w.body); !slices.Equal(gl, wl) {
			t.Fatalf("Accept %q: rendered lines differ from promhttp's (sorted):\n got: %q\nwant: %q", accept, gl, wl)
		}
	}
	g, w := get(t, h, http.MethodGet, acceptProtobuf, "gzip"), get(t, want, http.MethodGet, acceptProtobuf, "gzip")
	if d := protoDiff(decodeProto(t, g.body), decodeProto(t, w.body)); d != "" {
		t.Fatalf("protobuf differs from promhttp's:\n%s", d)
	}
}

// TestRenderedGzip checks a gzip scrape is the plain scrape compressed, as
// one gzip member (get checks), negotiated as promhttp does.
func TestRenderedGzip(t *testing.T) {
	cache := awkwardCache(t)
	h, want, _ := handlers(t, selfMetrics(t), cache)
	for _, accept := range []string{"", acceptPrometheus} {
		plain := get(t, h, http.MethodGet, accept, "identity")
		for _, enc := range []string{"gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8, *;q=0.1", "identity;q=0.5, gzip"} {
			gz := get(t, h, http.MethodGet, accept, enc)
			ref := get(t, want, http.MethodGet, accept, enc)
			if gz.header.Get("Content-Encoding") != ref.header.Get("Content-Encoding") {
				t.Errorf("Accept-Encoding %q: Content-Encoding %q, promhttp says %q", enc, gz.header.Get("Content-Encoding"), ref.header.Get("Content-Encoding"))
				continue
			}
			if gz.header.Get("Content-Encoding") != "gzip" {
				t.Errorf("Accept-Encoding %q: not gzipped", enc)
				continue
			}
			if !bytes.Equal(gz.body, plain.body) {
				t.Errorf("Accept %q, Accept-Encoding %q: decompressed body differs from the plain one", accept, enc)
			}
		}
		// promhttp prefers identity on a tie, "*" included.
		for _, enc := range []string{"identity", "gzip;q=0", "br", "identity;q=1, gzip;q=0.5", "*", "gzip;q=0.5, *"} {
			s, ref := get(t, h, http.MethodGet, accept, enc), get(t, want, http.MethodGet, accept, enc)
			if s.header.Get("Content-Encoding") != ref.header.Get("Content-Encoding") || !bytes.Equal(s.body, plain.body) {
				t.Errorf("Accept-Encoding %q: Content-Encoding %q, promhttp says %q", enc, s.header.Get("Content-Encoding"), ref.header.Get("Content-Encoding"))
			}
		}
	}
}

// TestRenderedScrapeFollowsSnapshots checks a scrape shows the snapshot of
// the moment: a new one at once, the last good one after a failure, none
// once a reload removes the collector.
func TestRenderedScrapeFollowsSnapshots(t *testing.T) {
	cache := NewCache()
	h, err := NewMetricsHandler(prometheus.NewRegistry(), nil, cache)
	if err != nil {
		t.Fatal(err)
	}
	series := func(accept, enc string) map[string]float64 {
		t.Helper()
		s := get(t, h, http.MethodGet, accept, enc)
		if s.code != http.StatusOK {
			t.Fatalf("HTTP %d: %s", s.code, s.body)
		}
		return promParse(t, s.body, s.header.Get("Content-Type"))
	}
	const clicksA = `{__name__="influencer_link_clicks_total", campaign="spring", creator="alice", link="fk.io/a", provider="bitly"}`
	const clicksB = `{__name__="influencer_link_clicks_total", campaign="spring", creator="alice", link="fk.io/b", provider="dub"}`
	const upA = `{__name__="influencer_collector_up", collector="a"}`
	check := func(step string, want map[string]float64) {
		t.Helper()
		for _, accept := range []string{"", acceptOpenMetrics} {
			for _, enc := range []string{"identity", "gzip"} {
				got := series(accept, enc)
				for k, v := range want {
					if g, ok := got[k]; v < 0 && ok {
						t.Errorf("%s (%q, %s): %s = %g, want none", step, accept, enc, k, g)
					} else if v >= 0 && (!ok || g != v) {
						t.Errorf("%s (%q, %s): %s = %g (present %v), want %g", step, accept, enc, k, g, ok, v)
					}
				}
			}
		}
	}
	at := time.Now()
	a := func(v float64) []Sample { return []Sample{LinkClicks.Sample(v, "spring", "alice", "bitly", "fk.io/a")} }
	_ = cache.Success("a", "bitly", a(1), at, time.Second)
	_ = cache.Success("b", "dub", []Sample{LinkClicks.Sample(5, "spring", "alice", "dub", "fk.io/b")}, at, time.Second)
	check("first snapshots", map[string]float64{clicksA: 1, clicksB: 5, upA: 1})

	_ = cache.Success("a", "bitly", a(2), at.Add(time.Minute), time.Second)
	check("next snapshot", map[string]float64{clicksA: 2, clicksB: 5, upA: 1})

	if err := cache.store("a", "bitly", a(3)); err != nil {
		t.Fatal(err)
	}
	check("progress of a refresh under way", map[string]float64{clicksA: 3, upA: 1})

	cache.Failure("a", "bitly", errors.New("bitly: HTTP 500"), at.Add(2*time.Minute), time.Second)
	check("failed refresh", map[string]float64{clicksA: 3, clicksB: 5, upA: 0})

	cache.Retain(map[string]string{"b": "dub"})
	check("reload without a", map[string]float64{clicksA: -1, upA: -1, clicksB: 5})
	if body := get(t, h, http.MethodGet, "", "").body; bytes.Contains(body, []byte(`collector="a"`)) || bytes.Contains(body, []byte("fk.io/a")) {
		t.Errorf("the removed collector's series are still served:\n%s", body)
	}

	cache.Retain(map[string]string{})
	if s := get(t, h, http.MethodGet, "", "gzip"); s.code != http.StatusOK || bytes.Contains(s.body, []byte("influencer_")) {
		t.Errorf("no snapshot left: HTTP %d, %q", s.code, s.body)
	}
}

// sharedFamilies returns a cache and a registry that hold two names both:
// creator fees, which agree, and influencer_link_up, which the registry
// holds as a counter of another help; and the handler of both.
func sharedFamilies(t *testing.T) (*Cache, *prometheus.Registry, *MetricsHandler) {
	t.Helper()
	cache := NewCache()
	_ = cache.Success("a", "bitly", []Sample{
		CreatorFee.Sample(100, "spring", "alice", "EUR"),
		LinkUp.Sample(1, "spring", "alice", "bitly", "fk.io/a"),
	}, time.Now(), time.Second)
	fee := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: CreatorFee.Name, Help: CreatorFee.Help}, CreatorFee.Labels)
	fee.WithLabelValues("spring", "bob", "USD").Set(50)
	clash := prometheus.NewCounter(prometheus.CounterOpts{Name: LinkUp.Name, Help: "Something else."})
	clash.Add(7)
	reg := prometheus.NewRegistry()
	reg.MustRegister(fee, clash)
	h, err := NewMetricsHandler(reg, nil, cache)
	if err != nil {
		t.Fatal(err)
	}
	return cache, reg, h
}

// TestRenderedFamilyAlsoGathered checks a name both the registry and the
// snapshots hold: one family when they agree, the registry's alone (and an
// error counted) when they do not, and valid text either way.
func TestRenderedFamilyAlsoGathered(t *testing.T) {
	_, reg, h := sharedFamilies(t)
	for _, enc := range []string{"identity", "gzip"} {
		om := get(t, h, http.MethodGet, acceptOpenMetrics, enc)
		checkGrouped(t, om.body, false)
		got := promParse(t, om.body, om.header.Get("Content-Type"))
		for k := range got {
			if !strings.Contains(k, CreatorFee.Name) && !strings.Contains(k, LinkUp.Name) {
				delete(got, k)
			}
		}
		if want := (map[string]float64{
			`{__name__="influencer_creator_fee", campaign="spring", creator="alice", currency="EUR"}`: 100,
			`{__name__="influencer_creator_fee", campaign="spring", creator="bob", currency="USD"}`:   50,
			`{__name__="influencer_link_up"}`: 7,
		}); seriesDiff(want, got) != "" {
			t.Errorf("%s: OpenMetrics series:\n%s", enc, seriesDiff(want, got))
		}
		s := get(t, h, http.MethodGet, "", enc)
		checkGrouped(t, s.body, true)
		fams := textFamilies(t, s.body)
		if want := `# HELP influencer_creator_fee ` + CreatorFee.Help + `
# TYPE influencer_creator_fee gauge
influencer_creator_fee{campaign="spring",creator="alice",currency="EUR"} 100
influencer_creator_fee{campaign="spring",creator="bob",currency="USD"} 50
`; fams[CreatorFee.Name] != want {
			t.Errorf("%s: agreeing family:\n%s\nwant:\n%s", enc, fams[CreatorFee.Name], want)
		}
		if want := "# HELP influencer_link_up Something else.\n# TYPE influencer_link_up counter\ninfluencer_link_up 7\n"; fams[LinkUp.Name] != want {
			t.Errorf("%s: clashing family:\n%s\nwant the registry's:\n%s", enc, fams[LinkUp.Name], want)
		}
		promParse(t, s.body, s.header.Get("Content-Type"))
	}
	checkGatheringErrors(t, reg, 4)
}

// TestMetricsHandlerRequests checks HEAD, name[] filters and an error
// with nothing to serve, as promhttp handles them.
func TestMetricsHandlerRequests(t *testing.T) {
	cache := awkwardCache(t)
	h, want, _ := handlers(t, selfMetrics(t), cache)

	head := get(t, h, http.MethodHead, "", "gzip")
	if head.code != http.StatusOK || len(head.encoded) != 0 || !strings.HasPrefix(head.header.Get("Content-Type"), "text/plain") {
		t.Errorf("HEAD: HTTP %d, %d bytes, Content-Type %q", head.code, len(head.encoded), head.header.Get("Content-Type"))
	}

	req := httptest.NewRequest(http.MethodGet, "/metrics?name[]=influencer_link_clicks_total&name[]=go_goroutines", nil)
	gw, ww := httptest.NewRecorder(), httptest.NewRecorder()
	h.ServeHTTP(gw, req)
	want.ServeHTTP(ww, req)
	if gf, wf := textFamilies(t, gw.Body.Bytes()), textFamilies(t, ww.Body.Bytes()); len(gf) != 2 || gf[LinkClicks.Name] != wf[LinkClicks.Name] {
		t.Errorf("name[] filter: %d families, clicks:\n%s\nwant:\n%s", len(gf), gf[LinkClicks.Name], wf[LinkClicks.Name])
	}

	failing := prometheus.NewRegistry()
	failing.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "dup", Help: "x"}, func() float64 { return 1 }))
	empty, err := newMetricsHandler(prometheus.Gatherers{failing, failing}, prometheus.NewRegistry(), nil, NewCache())
	if err != nil {
		t.Fatal(err)
	}
	if s := get(t, empty, http.MethodGet, "", ""); s.code != http.StatusOK {
		t.Errorf("a gather error with families left: HTTP %d, want 200", s.code)
	}
	broken := gathererFunc(func() ([]*dto.MetricFamily, error) { return nil, errors.New("boom") })
	empty, err = newMetricsHandler(broken, prometheus.NewRegistry(), nil, NewCache())
	if err != nil {
		t.Fatal(err)
	}
	if s := get(t, empty, http.MethodGet, "", "gzip"); s.code != http.StatusInternalServerError || !strings.Contains(string(s.body), "boom") {
		t.Errorf("nothing to serve: HTTP %d %q, want 500 with the error", s.code, s.body)
	}
}

type gathererFunc func() ([]*dto.MetricFamily, error)

func (f gathererFunc) Gather() ([]*dto.MetricFamily, error) { return f() }

// TestRenderSegments checks each rendered segment inflates to the text its
// size and CRC-32 say, for the awkward snapshots and for a family large
// enough to be compressed in several writes, and that the samples left
// out are reported.
func TestRenderSegments(t *testing.T) {
	var samples []Sample
	for _, s := range awkwardSnapshots() {
		samples = append(samples, s...)
	}
	e, skip, err := renderSamples(samples)
	if err == nil || !strings.Contains(err.Error(), "dropped 3 invalid samples") {
		t.Errorf("err = %v, want 3 dropped", err)
	}
	if len(skip) != 4 {
		t.Errorf("skip = %v, want the 4 samples left out", skip)
	}
	ms, _ := ToMetrics(samples)
	if e.series != len(ms) {
		t.Errorf("%d series rendered, ToMetrics keeps %d", e.series, len(ms))
	}
	big := newMetric("big_total", "Many series.", prometheus.CounterValue, "id")
	var many []Sample
	for i := range 20000 {
		many = append(many, Sample{Metric: big, LabelValues: []string{strconv.Itoa(i)}, Value: float64(i)})
	}
	large, _, err := renderSamples(many)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*exposition{e, large} {
		for _, f := range e.families {
			for _, c := range f.chunks {
				for k, s := range c.gz {
					var text bytes.Buffer
					if err := inflate(&text, s); err != nil {
						t.Fatalf("%s format %d: %v", f.metric.Name, k, err)
					}
					if text.Len() != s.size || crc32.ChecksumIEEE(text.Bytes()) != s.crc {
						t.Errorf("%s format %d: %d bytes, CRC %08x; the segment says %d, %08x", f.metric.Name, k, text.Len(), crc32.ChecksumIEEE(text.Bytes()), s.size, s.crc)
					}
				}
			}
		}
	}
	var text bytes.Buffer
	if err := inflate(&text, large.families[0].chunks[0].gz[formatOpenMetrics]); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(text.String(), "\n"); lines != 20000 || !strings.HasSuffix(text.String(), "big_total{id=\"19999\"} 19999.0\n") {
		t.Errorf("OpenMetrics lines: %d, ending %q", lines, text.String()[max(0, text.Len()-40):])
	}
}

// TestScrapeTakesNoRefreshLock checks a scrape needs none of the locks a
// refresh takes: with the cache's and the early curve's locks held, as a
// refresh storing a snapshot or recording ages holds them, text,
// OpenMetrics and protobuf scrapes, gzipped or not, still complete,
// per-post fees included. A regression hangs here until the test binary times out.
func TestScrapeTakesNoRefreshLock(t *testing.T) {
	cfg, err := ParseConfig("c.yml", []byte(steeringConfig))
	if err != nil {
		t.Fatal(err)
	}
	cache := awkwardCache(t)
	published := time.Now().Add(-time.Hour)
	_ = cache.Success("ig", "instagram", []Sample{PostPublished.Sample(float64(published.Unix()), "spring", "bob", "instagram", "p1")}, time.Now(), time.Second)
	curve := NewEarlyCurve([]time.Duration{time.Hour}, "", nil)
	curveObserve(curve, 59*time.Minute, curvePostSamples("spring", "p", curvePublished, 59, 1, 2))
	curveObserve(curve, 61*time.Minute, curvePostSamples("spring", "p", curvePublished, 61, 1, 2))
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewSteeringMetrics(func() *Config { return cfg }, cache, nil))
	h, err := NewMetricsHandler(reg, nil, cache, curve)
	if err != nil {
		t.Fatal(err)
	}

	cache.mu.Lock()
	curve.mu.Lock()
	var bodies []scrape
	for _, accept := range []string{"", acceptOpenMetrics, acceptProtobuf} {
		for _, enc := range []string{"identity", "gzip"} {
			bodies = append(bodies, get(t, h, http.MethodGet, accept, enc))
		}
	}
	curve.mu.Unlock()
	cache.mu.Unlock()
	for _, s := range bodies {
		body, ct := s.body, s.header.Get("Content-Type")
		if strings.HasPrefix(ct, "application/vnd.google.protobuf") {
			body, ct = protoAsText(t, body), acceptText
		}
		series := promParse(t, body, ct)
		for _, k := range []string{
			`{__name__="influencer_creator_fee", campaign="spring", creator="bob", currency="EUR"}`,
			`{__name__="influencer_post_views_at_age", age="1h", campaign="spring", creator="alice", post="p", provider="instagram"}`,
			`{__name__="influencer_collector_up", collector="ig"}`,
		} {
			if _, ok := series[k]; !ok {
				t.Errorf("%s: no %s", s.header.Get("Content-Type"), k)
			}
		}
		if v := series[`{__name__="influencer_creator_fee", campaign="spring", creator="bob", currency="EUR"}`]; v != 400 {
			t.Errorf("bob's fee = %g, want 100 + 300 for p1", v)
		}
	}
}

// TestGzipStream checks segments compressed apart and text compressed in
// between make one gzip member with the right CRC-32 and size, empty
// pieces included.
func TestGzipStream(t *testing.T) {
	pieces := [][]byte{
		[]byte("# HELP a A.\n# TYPE a gauge\n"), nil, bytes.Repeat([]byte("a{x=\"1\"} 1\n"), 10000),
		[]byte("between\n"), []byte("b 2\n"), nil, bytes.Repeat([]byte{0, 0xff, 'z'}, 40000),
	}
	for mask := 0; mask < 1<<len(pieces); mask++ {
		// Bit i set: piece i is a rendered segment, else written.
		var want []byte
		var out bytes.Buffer
		z, err := newGzipStream(&out)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range pieces {
			want = append(want, p...)
			if mask&(1<<i) != 0 {
				if err := z.segment(deflateSegments([][]byte{p})[0]); err != nil {
					t.Fatal(err)
				}
			} else if _, err := z.Write(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := z.Close(); err != nil {
			t.Fatal(err)
		}
		r := bytes.NewReader(out.Bytes())
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, want) || r.Len() != 0 {
			t.Fatalf("pieces %b: %d bytes read (%v), want %d; %d bytes left", mask, len(got), err, len(want), r.Len())
		}
	}
}

// renderedLines returns the sample lines a text scrape of rc writes.
func renderedLines(t *testing.T, rc RenderedCollector) []string {
	t.Helper()
	h, err := newMetricsHandler(fixedGatherer(nil), prometheus.NewRegistry(), nil, rc)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range sortedLines(get(t, h, http.MethodGet, "", "identity").body) {
		if !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// TestSeriesOfTwoCollectors: a series two collectors report (one link
// under two accounts' collectors) is exported once, by the collector that
// stored it first, and the other's refresh says why it left it out. When
// the first stops reporting it, the other's next refresh exports it.
func TestSeriesOfTwoCollectors(t *testing.T) {
	c := NewCache()
	both := LinkClicks.Sample(7, "spring", "alice", "bitly", "bit.ly/a")
	onlyB := LinkClicks.Sample(3, "spring", "bob", "bitly", "bit.ly/b")
	if err := c.Success("bitly-1", "bitly", []Sample{both}, time.Now(), time.Second); err != nil {
		t.Fatal(err)
	}
	err := c.Success("bitly-2", "bitly", []Sample{LinkClicks.Sample(8, "spring", "alice", "bitly", "bit.ly/a"), onlyB}, time.Now(), time.Second)
	if err == nil || !strings.Contains(err.Error(), "collector bitly-1 exports it already") {
		t.Errorf("second collector's error = %v, want it to name bitly-1", err)
	}
	clicks := func() []string {
		var out []string
		for _, l := range renderedLines(t, c) {
			if strings.HasPrefix(l, "influencer_link_clicks_total{") {
				out = append(out, l)
			}
		}
		return out
	}
	want := []string{
		`influencer_link_clicks_total{campaign="spring",creator="alice",link="bit.ly/a",provider="bitly"} 7`,
		`influencer_link_clicks_total{campaign="spring",creator="bob",link="bit.ly/b",provider="bitly"} 3`,
	}
	if got := clicks(); !slices.Equal(got, want) {
		t.Errorf("exported %q, want %q", got, want)
	}
	if err := c.Success("bitly-1", "bitly", nil, time.Now(), time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.Success("bitly-2", "bitly", []Sample{LinkClicks.Sample(9, "spring", "alice", "bitly", "bit.ly/a"), onlyB}, time.Now(), time.Second); err != nil {
		t.Errorf("the series is no longer taken, yet: %v", err)
	}
	want[0] = strings.Replace(want[0], "} 7", "} 9", 1)
	if got := clicks(); !slices.Equal(got, want) {
		t.Errorf("after the first collector let go: %q, want %q", got, want)
	}
}

// checkGatheringErrors checks reg counted want gathering errors (one per
// scrape that dropped an inconsistent family), and one other error series.
func checkGatheringErrors(t *testing.T, reg *prometheus.Registry, want float64) {
	t.Helper()
	errs, err := testutil.GatherAndCount(reg, "promhttp_metric_handler_errors_total")
	if err != nil || errs != 2 {
		t.Fatalf("errors series = %d, %v", errs, err)
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == "promhttp_metric_handler_errors_total" && m.GetLabel()[0].GetValue() == "gathering" && m.GetCounter().GetValue() != want {
				t.Errorf("gathering errors = %g, want %g (one per scrape)", m.GetCounter().GetValue(), want)
			}
		}
	}
}

// Series whose hashes share the bits the index keeps are told apart by
// their identity, both when the index is searched and when a snapshot
// gives one series twice.
func TestSeriesIndexSharedHashBits(t *testing.T) {
	a := LinkClicks.Sample(1, "c", "alice", "bitly", "fk.io/a")
	b := LinkClicks.Sample(2, "c", "bob", "bitly", "fk.io/b")
	c := LinkClicks.Sample(3, "c", "carol", "bitly", "fk.io/c")
	x := &seriesIndex{name: "one", idxBits: indexBits(2), samples: []Sample{a, b}}
	const key = 0xabcd << 8
	x.refs = []uint64{key | 0, key | 1}
	for _, tc := range []struct {
		sum  uint64
		s    Sample
		want bool
	}{
		{key, a, true},
		{key | 3, b, true}, // the index's bits of the hash are not compared
		{key, c, false},
		{key + 1<<8, a, false},
	} {
		if got := x.has(tc.sum, tc.s); got != tc.want {
			t.Errorf("has(%#x, %v) = %v, want %v", tc.sum, tc.s.LabelValues, got, tc.want)
		}
	}
	if owner := ownerOf([]*seriesIndex{x}, key, b); owner != "one" {
		t.Errorf("ownerOf = %q, want one", owner)
	}

	// Given twice, a series is rendered once and its second sample
	// reported; the index holds each series once.
	_, skipped, idx, err := renderOwned([]Sample{a, b, a, c}, nil)
	if err == nil || !strings.Contains(err.Error(), "duplicate series") || !slices.Equal(skipped, []int32{2}) {
		t.Fatalf("skipped %v, err %v; want sample 2 skipped as a duplicate", skipped, err)
	}
	if len(idx.refs) != 3 || idx.idxBits != indexBits(4) {
		t.Fatalf("index of %d series with %d index bits, want 3 and %d", len(idx.refs), idx.idxBits, indexBits(4))
	}
	var h maphash.Hash
	h.SetSeed(seriesSeed)
	for _, s := range []Sample{a, b, c} {
		if !idx.has(seriesSum(&h, s), s) {
			t.Errorf("index lacks %v", s.LabelValues)
		}
	}
}

package exporter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// acceptPrometheusProto is what Prometheus 3 sends when it ingests native
// histograms (scrape_protocols starting with PrometheusProto).
const acceptPrometheusProto = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"

// decodeProto splits a delimited protobuf body into its families, in
// order, and decodes each with expfmt. It checks each message is the one
// client_golang's encoder writes for what it decodes to (fields in order,
// nothing left out or added), byte for byte.
func decodeProto(t testing.TB, body []byte) []*dto.MetricFamily {
	t.Helper()
	format := expfmt.NewFormat(expfmt.TypeProtoDelim)
	var out []*dto.MetricFamily
	for len(body) > 0 {
		l, k := binary.Uvarint(body)
		if k <= 0 || uint64(len(body)-k) < l {
			t.Fatalf("family %d: bad length prefix, %d bytes left", len(out), len(body))
		}
		msg := body[:k+int(l)]
		body = body[len(msg):]
		mf := new(dto.MetricFamily)
		if err := expfmt.NewDecoder(bytes.NewReader(msg), format).Decode(mf); err != nil {
			t.Fatalf("family %d: %v", len(out), err)
		}
		var again bytes.Buffer
		if err := expfmt.NewEncoder(&again, format).Encode(mf); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again.Bytes(), msg) {
			t.Errorf("family %s: message is not as client_golang encodes it:\n got %x\nwant %x", mf.GetName(), msg, again.Bytes())
		}
		out = append(out, mf)
	}
	return out
}

// normalized returns mf with its series sorted, the sign of zero values
// dropped (the rendered exposition writes -0 as 0) and, for promhttp's
// errors counter, which two handlers create at different times, no
// created timestamp.
func normalized(mf *dto.MetricFamily) *dto.MetricFamily {
	out := &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type, Unit: mf.Unit}
	for _, m := range mf.Metric {
		c := &dto.Metric{Label: m.Label, Summary: m.Summary, Histogram: m.Histogram, TimestampMs: m.TimestampMs}
		zero := func(v *float64) *float64 {
			if v != nil && *v == 0 {
				return new(float64)
			}
			return v
		}
		if m.Gauge != nil {
			c.Gauge = &dto.Gauge{Value: zero(m.Gauge.Value)}
		}
		if m.Counter != nil {
			c.Counter = &dto.Counter{Value: zero(m.Counter.Value), Exemplar: m.Counter.Exemplar, CreatedTimestamp: m.Counter.CreatedTimestamp}
			if strings.HasPrefix(mf.GetName(), "promhttp_") {
				c.Counter.CreatedTimestamp = nil
			}
		}
		if m.Untyped != nil {
			c.Untyped = &dto.Untyped{Value: zero(m.Untyped.Value)}
		}
		out.Metric = append(out.Metric, c)
	}
	slices.SortFunc(out.Metric, func(a, b *dto.Metric) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// protoDiff describes how the families got differ from want (names, order,
// help, type, unit, series and values), "" when they agree.
func protoDiff(got, want []*dto.MetricFamily) string {
	gn, wn := familyNames(got), familyNames(want)
	if !slices.Equal(gn, wn) {
		return "families:\n got " + strings.Join(gn, " ") + "\nwant " + strings.Join(wn, " ")
	}
	var diffs []string
	for i := range got {
		if g, w := normalized(got[i]).String(), normalized(want[i]).String(); g != w {
			diffs = append(diffs, "family "+gn[i]+":\n got "+g+"\nwant "+w)
		}
	}
	return strings.Join(diffs, "\n")
}

func familyNames(mfs []*dto.MetricFamily) []string {
	out := make([]string, len(mfs))
	for i, mf := range mfs {
		out[i] = mf.GetName()
	}
	return out
}

// checkProtoFamilies checks families come once each, in name order.
func checkProtoFamilies(t testing.TB, mfs []*dto.MetricFamily) {
	t.Helper()
	for i := 1; i < len(mfs); i++ {
		if mfs[i-1].GetName() >= mfs[i].GetName() {
			t.Errorf("family %s after %s", mfs[i].GetName(), mfs[i-1].GetName())
		}
	}
}

// TestProtobufEqualsClientGolang is the protobuf exposition's contract:
// for the same snapshots and registry, the body carries what promhttp
// writes (same families in the same order, one message each, same help,
// type, labels in the same order, values; series in another order within
// a family), each message encoded as client_golang encodes it; gzip
// compresses the same body as one member, negotiated as promhttp does.
func TestProtobufEqualsClientGolang(t *testing.T) {
	cache := awkwardCache(t)
	got, want, _ := handlers(t, selfMetrics(t), cache)
	for _, accept := range []string{acceptProtobuf, acceptPrometheusProto, acceptProtobuf + ";escaping=allow-utf-8", acceptProtobuf + ";escaping=underscores"} {
		var plain []byte
		for _, enc := range []string{"identity", "gzip", "br;q=1.0, gzip;q=0.8, *;q=0.1", "gzip;q=0"} {
			t.Run(accept+" "+enc, func(t *testing.T) {
				g, w := get(t, got, http.MethodGet, accept, enc), get(t, want, http.MethodGet, accept, enc)
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
				if plain == nil {
					plain = g.body
				} else if !bytes.Equal(g.body, plain) {
					t.Error("body differs from the identity one")
				}
				gf, wf := decodeProto(t, g.body), decodeProto(t, w.body)
				checkProtoFamilies(t, gf)
				if d := protoDiff(gf, wf); d != "" {
					t.Errorf("differs from promhttp's:\n%s", d)
				}
				for _, prefix := range []string{"go_", "process_", "influencer_exporter_build_info", "influencer_api_", "influencer_test_untyped", "influencer_test_counter", "influencer_collector_objects", "promhttp_"} {
					if !slices.ContainsFunc(wf, func(mf *dto.MetricFamily) bool { return strings.HasPrefix(mf.GetName(), prefix) }) {
						t.Errorf("no family %s* in the reference: the test covers less than it says", prefix)
					}
				}
				// A family two collectors export is one message.
				i := slices.IndexFunc(gf, func(mf *dto.MetricFamily) bool { return mf.GetName() == LinkClicks.Name })
				if i < 0 || len(gf[i].Metric) != 2*len(awkwardValues) {
					t.Errorf("clicks of bitly and dub not in one family")
				}
			})
		}
	}
}

// TestProtobufValues checks label values and floats survive exactly,
// -0 aside (written 0, as in the text formats).
func TestProtobufValues(t *testing.T) {
	cache := NewCache()
	var samples []Sample
	for i, v := range awkwardValues {
		samples = append(samples, testUntyped.Sample(awkwardFloats[i%len(awkwardFloats)], v, v+v, `\`+v))
	}
	for i, f := range awkwardFloats {
		samples = append(samples, testCounter.Sample(f, strings.Repeat("x", i*20)))
	}
	if err := cache.Success("a", "bitly", samples, time.Now(), time.Second); err != nil {
		t.Fatal(err)
	}
	h, err := newMetricsHandler(fixedGatherer(nil), prometheus.NewRegistry(), nil, cache)
	if err != nil {
		t.Fatal(err)
	}
	mfs := decodeProto(t, get(t, h, http.MethodGet, acceptProtobuf, "").body)
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			var key []string
			for _, l := range m.Label {
				key = append(key, l.GetName()+"="+l.GetValue())
			}
			got[mf.GetName()+strings.Join(key, "\xff")] = m.GetUntyped().GetValue() + m.GetCounter().GetValue()
		}
	}
	for _, s := range samples {
		var key []string
		for _, i := range s.Metric.order {
			key = append(key, s.Metric.Labels[i]+"="+s.LabelValues[i])
		}
		v, ok := got[s.Metric.Name+strings.Join(key, "\xff")]
		switch {
		case !ok:
			t.Errorf("%s%q missing", s.Metric.Name, s.LabelValues)
		case s.Value == 0 && (v != 0 || math.Signbit(v)):
			t.Errorf("%s%q = %g, want 0", s.Metric.Name, s.LabelValues, v)
		case s.Value != 0 && math.Float64bits(v) != math.Float64bits(s.Value):
			t.Errorf("%s%q = %g (%x), want %g (%x)", s.Metric.Name, s.LabelValues, v, math.Float64bits(v), s.Value, math.Float64bits(s.Value))
		}
	}
}

// TestProtobufRequests checks HEAD, name[] filters, empty snapshots and
// an error with nothing to serve, as promhttp handles them.
func TestProtobufRequests(t *testing.T) {
	cache := awkwardCache(t)
	h, want, _ := handlers(t, selfMetrics(t), cache)
	for _, enc := range []string{"identity", "gzip"} {
		g, w := get(t, h, http.MethodHead, acceptProtobuf, enc), get(t, want, http.MethodHead, acceptProtobuf, enc)
		if g.code != http.StatusOK || len(g.encoded) != 0 || g.header.Get("Content-Type") != w.header.Get("Content-Type") || g.header.Get("Content-Encoding") != w.header.Get("Content-Encoding") {
			t.Errorf("HEAD %s: HTTP %d, %d bytes, Content-Type %q, Content-Encoding %q; promhttp says %q, %q", enc, g.code, len(g.encoded),
				g.header.Get("Content-Type"), g.header.Get("Content-Encoding"), w.header.Get("Content-Type"), w.header.Get("Content-Encoding"))
		}
	}

	req := httptest.NewRequest(http.MethodGet, "/metrics?name[]=influencer_link_clicks_total&name[]=go_goroutines&name[]=nothing", nil)
	req.Header.Set("Accept", acceptProtobuf)
	gw, ww := httptest.NewRecorder(), httptest.NewRecorder()
	h.ServeHTTP(gw, req)
	want.ServeHTTP(ww, req)
	gf, wf := decodeProto(t, gw.Body.Bytes()), decodeProto(t, ww.Body.Bytes())
	if len(gf) != 2 {
		t.Errorf("name[] filter: %d families, want 2", len(gf))
	}
	if d := protoDiff(gf, wf); d != "" {
		t.Errorf("name[] filter: differs from promhttp's:\n%s", d)
	}

	// No snapshot at all, then a collector whose refreshes returned
	// nothing: its status series alone.
	empty := NewCache()
	for _, step := range []string{"no snapshot", "empty snapshot"} {
		if step == "empty snapshot" {
			if err := empty.Success("a", "bitly", nil, time.Unix(1700000000, 0), time.Second); err != nil {
				t.Fatal(err)
			}
			empty.Failure("a", "bitly", errors.New("bitly: HTTP 500"), time.Unix(1700000060, 0), time.Second)
		}
		g, w, _ := handlers(t, fixedGatherer(nil), empty)
		gs, ws := get(t, g, http.MethodGet, acceptProtobuf, "gzip"), get(t, w, http.MethodGet, acceptProtobuf, "gzip")
		if gs.code != http.StatusOK {
			t.Errorf("%s: HTTP %d", step, gs.code)
		}
		if d := protoDiff(decodeProto(t, gs.body), decodeProto(t, ws.body)); d != "" {
			t.Errorf("%s: differs from promhttp's:\n%s", step, d)
		}
	}

	broken := gathererFunc(func() ([]*dto.MetricFamily, error) { return nil, errors.New("boom") })
	failing, err := newMetricsHandler(broken, prometheus.NewRegistry(), nil, NewCache())
	if err != nil {
		t.Fatal(err)
	}
	if s := get(t, failing, http.MethodGet, acceptProtobuf, "gzip"); s.code != http.StatusInternalServerError || !strings.Contains(string(s.body), "boom") {
		t.Errorf("nothing to serve: HTTP %d %q, want 500 with the error", s.code, s.body)
	}
}

// TestProtobufFamilyAlsoGathered checks a name both the registry and the
// snapshots hold: one message, the registry's series then the rendered
// ones, when they agree; the registry's alone (and an error counted) when
// they do not.
func TestProtobufFamilyAlsoGathered(t *testing.T) {
	cache, reg, h := sharedFamilies(t)
	cacheReg := prometheus.NewRegistry()
	cacheReg.MustRegister(cache)
	want := promhttp.HandlerFor(prometheus.Gatherers{reg, cacheReg}, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	for _, enc := range []string{"identity", "gzip"} {
		gf := decodeProto(t, get(t, h, http.MethodGet, acceptProtobuf, enc).body)
		wf := decodeProto(t, get(t, want, http.MethodGet, acceptProtobuf, enc).body)
		checkProtoFamilies(t, gf)
		keep := func(mfs []*dto.MetricFamily) []*dto.MetricFamily {
			return slices.DeleteFunc(mfs, func(mf *dto.MetricFamily) bool {
				return mf.GetName() != CreatorFee.Name && mf.GetName() != LinkUp.Name
			})
		}
		gf, wf = keep(gf), keep(wf)
		if d := protoDiff(gf, wf); d != "" {
			t.Errorf("%s: differs from promhttp's:\n%s", enc, d)
		}
		if len(gf) != 2 || len(gf[0].Metric) != 2 || gf[0].Metric[0].GetGauge().GetValue() != 50 || gf[1].GetHelp() != "Something else." {
			t.Errorf("%s: families %v", enc, gf)
		}
	}
	checkGatheringErrors(t, reg, 2)
}

// TestReadLine checks lines read back as rendered, and that a line the
// rendering never writes is refused rather than misread.
func TestReadLine(t *testing.T) {
	for _, v := range awkwardValues {
		m := makeMetric("x_total", "h", prometheus.CounterValue, "b", "a")
		line := append(appendSeries(nil, m, []string{v, `\` + v + `"`}), "-1.5e-7\n"...)
		labels, value, rest, err := readLine(line, m.Name, nil)
		if err != nil || string(value) != "-1.5e-7" || len(rest) != 0 || len(labels) != 2 {
			t.Fatalf("%q: %v, value %q, rest %q, %d labels", line, err, value, rest, len(labels))
		}
		for i, want := range [][2]string{{"a", `\` + v + `"`}, {"b", v}} {
			l := labels[i]
			got := string(appendUnescaped(nil, l.value))
			if string(l.name) != want[0] || got != want[1] || l.size != len(want[1]) {
				t.Errorf("%q: label %d = %s=%q (size %d), want %s=%q", line, i, l.name, got, l.size, want[0], want[1])
			}
		}
	}
	for _, bad := range []string{
		"x_total 1", "y_total 1\n", "x_total{a=\"1\" 1\n", "x_total{a=1} 1\n", "x_total{a=\"1} 1\n",
		"x_total{a=\"1\"b=\"2\"} 1\n", "x_total{a=\"1\\\"} 1\n", "x_total{} 1\n", "x1\n",
	} {
		if _, _, _, err := readLine([]byte(bad), "x_total", nil); err == nil {
			t.Errorf("%q read back", bad)
		}
	}
}

// TestProtobufBadLines checks lines the rendering never writes keep the
// message valid: a line not read back is left out, a value not read back
// written as NaN, and both reported.
func TestProtobufBadLines(t *testing.T) {
	m := makeMetric("x_total", "h", prometheus.CounterValue, "a")
	var c chunk
	c.gz[formatText] = deflateSegments([][]byte{[]byte("x_total{a=\"1\"} 1\nx_total{a=\"2\" 2\nx_total{a=\"3\"} three\nx_total{a=\"4\"} 4\n")})[0]
	var out bytes.Buffer
	pb := newProtoBody(&out, expfmt.NewFormat(expfmt.TypeProtoDelim), false)
	err := pb.family(planned{rendered: []family{{metric: m, chunks: []chunk{c}}}})
	if err == nil {
		t.Error("no error reported")
	}
	if err := pb.finish(); err != nil {
		t.Fatal(err)
	}
	pb.release()
	mfs := decodeProto(t, out.Bytes())
	if len(mfs) != 1 || len(mfs[0].Metric) != 3 {
		t.Fatalf("families %v, want one of 3 series", mfs)
	}
	for i, want := range []float64{1, math.NaN(), 4} {
		if v := mfs[0].Metric[i].GetCounter().GetValue(); v != want && !(math.IsNaN(v) && math.IsNaN(want)) {
			t.Errorf("series %d = %g, want %g", i, v, want)
		}
	}
}

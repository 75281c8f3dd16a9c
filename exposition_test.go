package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// TestExpositionFormats checks the content negotiation of /metrics, as
// Prometheus itself scrapes: the classic text format by default,
// OpenMetrics and protobuf when asked for, gzip when accepted, and the same
// series with the same values in every format.
func TestExpositionFormats(t *testing.T) {
	p := startExporter(t, sandboxConfig(t))
	waitFor(t, "a first snapshot of every collector", func() bool {
		_, body := p.get(t, "/metrics")
		return strings.Contains(body, "influencer_link_clicks_total{") && strings.Contains(body, "influencer_collector_up{")
	})

	const (
		openMetrics = "application/openmetrics-text;version=1.0.0"
		protobuf    = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
		// What Prometheus 3 sends by default (scrape_protocols).
		prometheusAccept = "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
	)
	for _, c := range []struct {
		name, accept, wantType string
	}{
		{"no Accept header", "", "text/plain; version=0.0.4"},
		{"text", "text/plain;version=0.0.4", "text/plain; version=0.0.4"},
		{"OpenMetrics", openMetrics, "application/openmetrics-text; version=1.0.0"},
		{"Prometheus 3 default", prometheusAccept, "application/openmetrics-text; version=1.0.0"},
		{"protobuf", protobuf, "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ct, body := fetchMetrics(t, p.addr, c.accept, false)
			if !strings.HasPrefix(ct, c.wantType) {
				t.Fatalf("Content-Type = %q, want %q", ct, c.wantType)
			}
			series := parseExposition(t, body, ct)
			if len(series) < 100 {
				t.Fatalf("%d series parsed, want the whole sandbox", len(series))
			}
			if strings.HasPrefix(ct, "application/openmetrics-text") && !bytes.HasSuffix(body, []byte("# EOF\n")) {
				t.Error("OpenMetrics body does not end with # EOF")
			}
		})
	}

	t.Run("same series in every format", func(t *testing.T) {
		// One scrape per format in a row. Values that move between
		// scrapes (process and Go metrics, request counters) are left
		// out; what a provider reported must agree exactly, unless a
		// refresh landed between two scrapes: then the three are read
		// again.
		stable := func(name string) bool {
			return strings.HasPrefix(name, "influencer_") && !strings.HasPrefix(name, "influencer_api_") &&
				!strings.HasPrefix(name, "influencer_collector_")
		}
		var diff string
		for attempt := 0; attempt < 5; attempt++ {
			diff = ""
			var want map[string]float64
			for _, accept := range []string{"", openMetrics, protobuf} {
				ct, body := fetchMetrics(t, p.addr, accept, false)
				got := map[string]float64{}
				for k, v := range parseExposition(t, body, ct) {
					if stable(k[:strings.IndexByte(k, '{')]) {
						got[k] = v
					}
				}
				if len(got) == 0 {
					t.Fatal("no provider series to compare")
				}
				if want == nil {
					want = got
				} else if d := seriesDiff(want, got); d != "" {
					diff += fmt.Sprintf("Accept %q differs from the text format:\n%s\n", accept, d)
				}
			}
			if diff == "" {
				return
			}
		}
		t.Error(diff)
	})

	t.Run("gzip", func(t *testing.T) {
		for _, accept := range []string{"", openMetrics} {
			ct, body := fetchMetrics(t, p.addr, accept, true)
			if len(parseExposition(t, body, ct)) < 100 {
				t.Errorf("Accept %q with gzip: too few series", accept)
			}
		}
	})
}

// fetchMetrics scrapes /metrics with the given Accept header; with gz it
// asks for gzip and checks the answer is compressed.
func fetchMetrics(t *testing.T, addr, accept string, gz bool) (string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	// Setting Accept-Encoding ourselves turns off the transport's own
	// transparent decompression, so the test sees what was sent.
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	} else {
		req.Header.Set("Accept-Encoding", "identity")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	var r io.Reader = resp.Body
	if enc := resp.Header.Get("Content-Encoding"); gz != (enc == "gzip") {
		t.Fatalf("Content-Encoding = %q with gzip %v", enc, gz)
	}
	if gz {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	body, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Get("Content-Type"), body
}

// parseExposition parses body with the parser Prometheus scrapes with and
// returns every float sample by series ("name{a="x",...}", labels sorted).
func parseExposition(t *testing.T, body []byte, contentType string) map[string]float64 {
	t.Helper()
	st := labels.NewSymbolTable()
	var p textparse.Parser
	switch {
	case strings.HasPrefix(contentType, "application/openmetrics-text"):
		p = textparse.NewOpenMetricsParser(body, st)
	case strings.HasPrefix(contentType, "application/vnd.google.protobuf"):
		// The protobuf parser reads the delimited format itself; decode
		// it with expfmt to check it is well formed, then compare as
		// text.
		dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeProtoDelim))
		var text bytes.Buffer
		for {
			mf := new(dto.MetricFamily)
			if err := dec.Decode(mf); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				t.Fatalf("decode protobuf: %v", err)
			}
			if _, err := expfmt.MetricFamilyToText(&text, mf); err != nil {
				t.Fatal(err)
			}
		}
		return parseExposition(t, text.Bytes(), "text/plain; version=0.0.4")
	default:
		p = textparse.NewPromParser(body, st, false)
	}
	out := map[string]float64{}
	for {
		e, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("parse %s: %v", contentType, err)
		}
		if e != textparse.EntrySeries {
			continue
		}
		_, _, v := p.Series()
		var ls labels.Labels
		p.Labels(&ls)
		out[seriesName(ls)] = v
	}
	return out
}

func seriesName(ls labels.Labels) string {
	var b strings.Builder
	b.WriteString(ls.Get(labels.MetricName))
	b.WriteByte('{')
	first := true
	ls.Range(func(l labels.Label) {
		if l.Name == labels.MetricName {
			return
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "%s=%q", l.Name, l.Value)
	})
	b.WriteByte('}')
	return b.String()
}

// seriesDiff describes how got differs from want, "" when equal.
func seriesDiff(want, got map[string]float64) string {
	var lines []string
	for k, v := range want {
		if g, ok := got[k]; !ok {
			lines = append(lines, "missing "+k)
		} else if g != v {
			lines = append(lines, fmt.Sprintf("%s = %g, want %g", k, g, v))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, "extra "+k)
		}
	}
	sort.Strings(lines)
	if len(lines) > 20 {
		lines = append(lines[:20], fmt.Sprintf("... and %d more", len(lines)-20))
	}
	return strings.Join(lines, "\n")
}

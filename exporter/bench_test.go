package exporter

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
			LinkDestinationInfo.Sample(1, camp, creator, "bitly", link, "shop.example"),
		)
	}
	return out
}

// BenchmarkToMetrics measures turning one refresh's samples into the stored
// snapshot (done once per refresh, off the scrape path).
func BenchmarkToMetrics(b *testing.B) {
	for _, n := range []int{100, 2000} {
		samples := benchSamples(n)
		b.Run(fmt.Sprintf("links=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ToMetrics(samples); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScrape measures a full /metrics request served from the cache.
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{100, 2000} {
		cache := NewCache()
		ms, err := ToMetrics(benchSamples(n))
		if err != nil {
			b.Fatal(err)
		}
		cache.Success("bitly", "bitly", ms, time.Now(), time.Second)
		reg := prometheus.NewRegistry()
		reg.MustRegister(cache)
		h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
		b.Run(fmt.Sprintf("links=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

// BenchmarkClientGetJSON measures the shared client's overhead per call
// (rate limiter, retry wrapper, metrics, size cap, decode) against a
// loopback server.
func BenchmarkClientGetJSON(b *testing.B) {
	body := []byte(`{"total_clicks": 1234, "units": -1, "unit": "day"}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	c := NewClient(ClientOptions{
		Collector: "bench", Token: "t",
		HTTP:    HTTPConfig{MaxRetries: 1, MinRetryWait: model.Duration(time.Millisecond), MaxRetryWait: model.Duration(time.Millisecond), MaxResponseBytes: 1 << 20},
		Timeout: 5 * time.Second,
	})
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
	for _, n := range []int{2000, 20000} {
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
				if st := inferCoverage(expected, merged, errs); len(st) != n {
					b.Fatalf("%d objects, want %d", len(st), n)
				}
			}
		})
	}
}

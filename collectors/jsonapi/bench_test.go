package jsonapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/jsonapi/jsonfake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/agency"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// benchPartners is how many partners BenchmarkPoll reads: 100 pages of
// 100, three series each.
const benchPartners = 10_000

// replay answers each page of a listing with the fake's answer recorded
// once beforehand: the fake copies and sorts every partner for each page
// it serves, which would measure the fake rather than the collector.
type replay struct {
	fake  http.Handler
	pages map[string]*httptest.ResponseRecorder // by path and canonical query
	last  string                                // the key of the listing's last page

	// onLast, if set, is called when the last page is asked for, before
	// it is answered.
	mu     sync.Mutex
	onLast func()
}

func replayKey(u *url.URL) string { return u.Path + "?" + u.Query().Encode() }

// record asks the fake for every page of the listing at path with query,
// following meta.next as the collector does.
func (r *replay) record(b *testing.B, path string, query url.Values) {
	b.Helper()
	nextAt, err := parsePath("meta.next")
	if err != nil {
		b.Fatal(err)
	}
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	for range 10_000 {
		req := httptest.NewRequest(http.MethodGet, path+"?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		r.fake.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("record %s: HTTP %d: %s", req.URL, rec.Code, rec.Body)
		}
		r.pages[replayKey(req.URL)] = rec
		var body any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			b.Fatalf("record %s: %v", req.URL, err)
		}
		next, ok := nextAt.scalar(body)
		if !ok || next == "" {
			r.last = replayKey(req.URL)
			return
		}
		q.Set("cursor", next)
	}
	b.Fatal("listing does not end")
}

func (r *replay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	key := replayKey(req.URL)
	if key == r.last {
		r.mu.Lock()
		if r.onLast != nil {
			r.onLast()
		}
		r.mu.Unlock()
	}
	rec, ok := r.pages[key]
	if !ok {
		r.fake.ServeHTTP(w, req)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// BenchmarkPoll measures a refresh of a campaign's listing of 10,000
// partners, 100 a page with the cursor in meta.next, from the fake on
// loopback: what each item costs the collector, from the decoding of its
// page to its samples. The fake's pages are recorded once and replayed.
//
// live-B/item is what the refresh holds on the heap, per item, when it
// asks for the last page (after a garbage collection, over the heap
// before the refresh): measured once, after the timed refreshes.
func BenchmarkPoll(b *testing.B) {
	clock := exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	fake := jsonfake.New(token, clock.Now)
	for i := range benchPartners {
		name := agency.CreatorName(i)
		fake.AddPartner(jsonfake.Partner{Campaign: "agency", Handle: name, ShortURL: "aff.example/" + name, Coupon: "C" + name,
			Clicks: fakeapi.Growth{Base: 100, PerMinute: 1}, Orders: fakeapi.Growth{Base: 4}, RevenueCents: fakeapi.Growth{Base: 12345}})
	}
	clock.Advance(30 * time.Minute)
	r := &replay{fake: fake, pages: map[string]*httptest.ResponseRecorder{}}
	r.record(b, "/v2/affiliates/agency/stats", url.Values{"per_page": {"100"}})
	srv := agency.Serve(b, r, nil)
	cfg := agency.Config{Type: "json", BaseURL: srv.URL, Token: token,
		Options: `{provider: affnet, url: "/v2/affiliates/{campaign}/stats", query: {per_page: "100"}, auth: {type: bearer},
      pagination: {type: cursor, cursor_path: meta.next, param: cursor, max_pages: 200}, items: data, creator: {path: partner.handle},
      values: [{metric: influencer_link_clicks_total, path: stats.clicks, labels: {link: short_url}},
        {metric: influencer_code_redemptions_total, path: stats.orders, labels: {code: coupon}},
        {metric: influencer_code_revenue_total, path: stats.revenue, labels: {code: coupon, currency: "=EUR"}}]}`,
		Creators: benchPartners}
	env := srv.Build(b, cfg.YAML())
	c := env.Instance(b, "json").Collector

	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		samples, err := c.Poll(b.Context())
		if err != nil {
			b.Fatalf("poll: %v", err)
		}
		if len(samples) != 3*benchPartners {
			b.Fatalf("samples = %d, want %d", len(samples), 3*benchPartners)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchPartners), "ns/item")

	b.StopTimer()
	var before, at runtime.MemStats
	r.mu.Lock()
	r.onLast = func() {
		runtime.GC()
		runtime.ReadMemStats(&at)
	}
	r.mu.Unlock()
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := c.Poll(b.Context()); err != nil {
		b.Fatalf("poll: %v", err)
	}
	r.mu.Lock()
	live := int64(at.HeapAlloc) - int64(before.HeapAlloc)
	r.mu.Unlock()
	b.ReportMetric(float64(live)/benchPartners, "live-B/item")
}

// BenchmarkDecodePage measures the decoding of one listing's page of 100
// partners into the arena of the page before, as the fetch loop decodes
// each page: what the decoder itself costs, without the client.
func BenchmarkDecodePage(b *testing.B) {
	s, _ := testShape(b, "data", "meta.next", "partner.handle", "short_url", "stats.clicks", "stats.orders")
	body := partnersPage(0, 100)
	pg := prunedPage{shape: s, arena: &pageArena{}}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := pg.DecodeBody(body); err != nil {
			b.Fatal(err)
		}
	}
}

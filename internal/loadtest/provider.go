package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/jsonapi/jsonfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/fakes/agency"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// The provider: the affiliate network of collectors/jsonapi/jsonfake, one
// partner per creator of the agency campaign, read 100 partners a page
// (the network's per_page maximum) with the cursor in meta.next.
const (
	providerToken = "loadtest-token"
	campaignName  = "agency"
	listingPath   = "/v2/affiliates/" + campaignName + "/stats"
	pageSize      = 100
	// seriesPerPartner are the clicks, orders and revenue of a partner.
	seriesPerPartner = 3
)

// providerOptions is the json collector's options for the listing, in the
// YAML flow style of agency.Config.
func providerOptions(pages int) string {
	return fmt.Sprintf(`{provider: affnet, url: "/v2/affiliates/{campaign}/stats", query: {per_page: "%d"}, auth: {type: bearer},
      pagination: {type: cursor, cursor_path: meta.next, param: cursor, max_pages: %d}, items: data, creator: {path: partner.handle},
      values: [{metric: influencer_link_clicks_total, path: stats.clicks, labels: {link: short_url}},
        {metric: influencer_code_redemptions_total, path: stats.orders, labels: {code: coupon}},
        {metric: influencer_code_revenue_total, path: stats.revenue, labels: {code: coupon, currency: "=EUR"}}]}`, pageSize, pages+1)
}

// page is one response of the fake, kept to be replayed.
type page struct {
	status int
	header http.Header
	body   []byte
}

// refreshLog is what the provider saw of one refresh: a refresh starts
// with a listing request without a cursor.
type refreshLog struct {
	start, last time.Time
	requests    int
}

// provider serves the fake on loopback. The fake copies and sorts every
// partner of the campaign for each page it answers, about 45 ms a page at
// 100,000 partners: 45 s of this process's CPU per refresh on the machine
// the exporter runs on, which would measure the fake rather than the
// exporter. So every page of the listing is asked of the fake once,
// before the exporter starts, and replayed as the fake wrote it (status,
// headers, body); a request for anything else goes to the fake. The
// fake's clock is frozen: each refresh reads the same values, which
// changes nothing the exporter does with them.
type provider struct {
	fake     *jsonfake.Server
	partners int
	latency  time.Duration
	// nice, if above zero, lowers the threads that serve the provider's
	// connections by this many nice steps (Options.ProviderNice).
	nice int
	// lowered counts the connections served on a lowered thread, and
	// lowerErr keeps the first failure to lower one.
	lowered  atomic.Int64
	lowerErr atomic.Pointer[error]

	pages map[string]page // by path and canonical query

	mu        sync.Mutex
	refreshes []refreshLog
	misses    int
	// onStart, if set, is called with the refresh's number (from 0)
	// when its first request arrives, before it is answered.
	onStart func(i int)

	srv *http.Server
	URL string
}

// newProvider returns the network with partners partners in the agency
// campaign, named as agency.Config names the creators.
func newProvider(partners int, latency time.Duration, nice int) *provider {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	now := start.Add(30 * time.Minute)
	fake := jsonfake.New(providerToken, func() time.Time { return now })
	for i := range partners {
		name := agency.CreatorName(i)
		fake.AddPartner(jsonfake.Partner{Campaign: campaignName, Handle: name, ShortURL: "aff.example/" + name, Coupon: "C" + name,
			Clicks: fakeapi.Growth{Base: 100, PerMinute: 1}, Orders: fakeapi.Growth{Base: 4}, RevenueCents: fakeapi.Growth{Base: 12345}})
	}
	return &provider{fake: fake, partners: partners, latency: latency, nice: nice, pages: map[string]page{}}
}

// pagesPerRefresh is how many listing pages a refresh reads.
func (p *provider) pagesPerRefresh() int { return agency.CeilDiv(p.partners, pageSize) }

// pageKey identifies a request by path and query, in url.Values order.
func pageKey(path string, q url.Values) string { return path + "?" + q.Encode() }

// prerender asks the fake for every page of the listing and keeps the
// answers under the requests the collector makes: the first page without
// a cursor, each next one with the cursor its previous page gave. The
// fake answers a page number (?page=) with the same body and Link header
// as the cursor of that page, so the pages are asked for by number, on
// every core at once, and keyed by cursor afterwards.
func (p *provider) prerender(ctx context.Context) error {
	n := p.pagesPerRefresh()
	pages := make([]page, n)
	next := make([]*string, n)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		work = make(chan int)
	)
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				pg, c, err := p.fakePage(i + 1)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					continue
				}
				pages[i], next[i] = pg, c
			}
		}()
	}
feed:
	for i := range n {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return err
	}
	q := url.Values{"per_page": {strconv.Itoa(pageSize)}}
	for i := range n {
		p.pages[pageKey(listingPath, q)] = pages[i]
		last := i == n-1
		if (next[i] == nil) != last {
			return fmt.Errorf("provider: page %d of %d: next cursor %v", i+1, n, next[i])
		}
		if !last {
			q.Set("cursor", *next[i])
		}
	}
	return nil
}

// fakePage returns page number n of the listing, as the fake answers it,
// and the cursor of the next page, nil on the last.
func (p *provider) fakePage(n int) (page, *string, error) {
	q := url.Values{"per_page": {strconv.Itoa(pageSize)}, "page": {strconv.Itoa(n)}}
	req := httptest.NewRequest(http.MethodGet, listingPath+"?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+providerToken)
	rec := httptest.NewRecorder()
	p.fake.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return page{}, nil, fmt.Errorf("provider: page %d: status %d: %s", n, rec.Code, rec.Body.Bytes())
	}
	var body struct {
		Meta struct {
			Next *string `json:"next"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		return page{}, nil, fmt.Errorf("provider: page %d: %w", n, err)
	}
	return page{status: rec.Code, header: rec.Header().Clone(), body: rec.Body.Bytes()}, body.Meta.Next, nil
}

// start serves on a free loopback port.
func (p *provider) start() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("provider: %w", err)
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, new(connState))
		}}
	p.URL = "http://" + l.Addr().String()
	go func() { _ = p.srv.Serve(l) }()
	return nil
}

// close stops serving.
func (p *provider) close() {
	if p.srv != nil {
		_ = p.srv.Close()
	}
}

// ServeHTTP answers a request after the configured latency, from the
// kept pages when it can (with the fake's authentication), else through
// the fake, and logs it.
func (p *provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.nice > 0 {
		p.lower(r.Context())
	}
	q := r.URL.Query()
	first := r.URL.Path == listingPath && !q.Has("cursor")
	if first {
		p.mu.Lock()
		p.refreshes = append(p.refreshes, refreshLog{start: time.Now()})
		i, hook := len(p.refreshes)-1, p.onStart
		p.mu.Unlock()
		if hook != nil {
			hook(i)
		}
	}
	if p.latency > 0 {
		t := time.NewTimer(p.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	pg, ok := p.pages[pageKey(r.URL.Path, q)]
	if ok && r.Method == http.MethodGet && r.Header.Get("Authorization") == "Bearer "+providerToken {
		for k, v := range pg.header {
			w.Header()[k] = v
		}
		w.WriteHeader(pg.status)
		_, _ = w.Write(pg.body)
	} else {
		p.fake.ServeHTTP(w, r)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !ok {
		p.misses++
	}
	if n := len(p.refreshes); n > 0 && r.URL.Path == listingPath {
		p.refreshes[n-1].requests++
		p.refreshes[n-1].last = time.Now()
	}
}

// connKey keys a connection's connState in its requests' context.
type connKey struct{}

// connState is what the provider knows of one connection. net/http
// serves a connection's requests one after another on one goroutine,
// which alone reads and writes it.
type connState struct{ lowered bool }

// lower moves the goroutine serving a connection, at its first request,
// to a thread of its own lowered by p.nice steps. The goroutine reads
// the connection's requests and writes its answers on that thread until
// the connection closes; the thread is never unlocked, so it ends with
// the goroutine, and no other goroutine runs on it lowered.
//
// The provider stands for a service on another machine: its answers
// cost that machine's CPU, not the exporter's. On the exporter's
// machine, replaying 1,000 pages a refresh at this process's
// priority competed with the scrapes for the CPUs, as a real provider
// does not. Lowered as far as the exporter lowers its refresh
// (--refresh.nice, 10 by default), the replay weighs as the refresh's
// own work. At 300,000 series that did not move the scrapes' p99 ratio
// beyond a run's noise (BENCHMARKS.md).
func (p *provider) lower(ctx context.Context) {
	st, _ := ctx.Value(connKey{}).(*connState)
	if st == nil || st.lowered {
		return
	}
	st.lowered = true
	runtime.LockOSThread()
	if err := exporter.LowerThreadPriority(exporter.RefreshPriority{Nice: p.nice}); err != nil {
		p.lowerErr.CompareAndSwap(nil, &err)
		return
	}
	p.lowered.Add(1)
}

// loweredConns returns the connections served on a lowered thread so
// far and the first failure to lower one.
func (p *provider) loweredConns() (int64, error) {
	if err := p.lowerErr.Load(); err != nil {
		return p.lowered.Load(), *err
	}
	return p.lowered.Load(), nil
}

// log returns the refreshes seen so far and the requests not replayed.
func (p *provider) log() ([]refreshLog, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]refreshLog(nil), p.refreshes...), p.misses
}

// setOnStart sets the hook called when a refresh starts.
func (p *provider) setOnStart(f func(i int)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onStart = f
}

// Package agency is the agency-scale campaign the collectors' call-count
// tests build: 10,000 creators with 20,000 tracking links, 10,000
// discount codes and 40,000 posts. A test serves a collector's fake
// through Serve, which counts the requests by endpoint and the
// connections the collector opened, renders the campaign's config with
// Config, and builds it with Server.Build to count the connections the
// collectors hold at once where they dial them.
//
// A test whose full size takes more than 20 seconds under the race
// detector divides the sizes by Reduced there (SlowSize); the call
// formulas the tests assert hold at any size, and a run without -race
// measures the full size.
//
// The cold-start benchmarks (RunColdStart) time the scheduler from
// startup to every collector's first complete snapshot, with every answer
// Latency late, at a tenth of the agency (BenchSize), or at full size
// with -agency.full:
//
//	go test -run '^$' -bench ColdStart -benchtime 1x ./collectors/bitly/ ./collectors/youtube/ ./collectors/tiktok/ -agency.full
package agency

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// The scale of an agency running one instance.
const (
	Creators = 10_000
	Links    = 20_000
	Codes    = 10_000
	Posts    = 40_000
)

// Reduced divides the sizes under -short, and for the tests that take
// more than 20 seconds at full size under the race detector, under it too.
const Reduced = 10

// Size returns n, or n/Reduced under -short.
func Size(n int) int {
	if testing.Short() {
		return max(1, n/Reduced)
	}
	return n
}

// SlowSize returns n, or n/Reduced under the race detector or -short: for
// a test that takes more than 20 seconds at full size under the race
// detector. The call formulas hold at either size; a run without -race
// measures the full one.
func SlowSize(n int) int {
	if raceEnabled {
		return max(1, n/Reduced)
	}
	return Size(n)
}

// CeilDiv is ceil(n/d): the pages or batches n objects take, d a call.
func CeilDiv(n, d int) int { return (n + d - 1) / d }

// Server serves a fake on loopback and counts what reaches it.
type Server struct {
	URL string

	endpoint func(*http.Request) string

	mu    sync.Mutex
	calls map[string]int
	conns int // the server accepted so far
	// held and peak count the connections the collectors hold open,
	// now and at most at once, where they dial them (Dial, Build).
	held, peak int
	dialed     bool
}

// Serve serves fake on loopback until the test ends. endpoint names the
// endpoint of a request once the fake has answered it, its body readable
// again ("GET /v4/bitlinks/{bitlink}/clicks/summary", "POST graphql
// orders"); nil uses the route the fake's ServeMux matched, else method
// and path.
// A fake that builds absolute URLs from its address (SetPublicURL) is
// told it.
func Serve(t testing.TB, fake http.Handler, endpoint func(*http.Request) string) *Server {
	t.Helper()
	s := &Server{endpoint: endpoint, calls: map[string]int{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The body is kept for endpoint: a GraphQL or batch endpoint is
		// told apart by what it is asked.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		fake.ServeHTTP(w, r)
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.count(r)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	if p, ok := fake.(interface{ SetPublicURL(string) }); ok {
		p.SetPublicURL(srv.URL)
	}
	return s
}

// count records r once its fake has served it: by then a ServeMux has set
// the pattern it matched.
func (s *Server) count(r *http.Request) {
	var name string
	switch {
	case s.endpoint != nil:
		name = s.endpoint(r)
	case r.Pattern != "":
		name = r.Pattern
	default:
		name = r.Method + " " + r.URL.Path
	}
	s.mu.Lock()
	s.calls[name]++
	s.mu.Unlock()
}

// Calls returns the requests counted since the last call, by endpoint, and
// starts counting afresh.
func (s *Server) Calls() Calls {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := Calls(s.calls)
	s.calls = map[string]int{}
	return c
}

// Refresh runs one refresh with poll, which returns the objects it
// exported (samples, or series) and its error, and checks the objects and
// the calls it made against want (see Check).
func (s *Server) Refresh(t testing.TB, refresh string, objects int, poll func() (int, error), want Calls) {
	t.Helper()
	n, err := poll()
	if err != nil {
		t.Fatalf("%s: %v", refresh, err)
	}
	if n != objects {
		t.Errorf("%s: %d samples, want %d", refresh, n, objects)
	}
	Check(t, refresh, s.Calls(), want)
}

// CheckConns checks that the collectors held at most want connections at
// once: counted where they dial them if they were built by Build, else
// every connection the server accepted.
func (s *Server) CheckConns(t testing.TB, want int) {
	t.Helper()
	t.Logf("%d connections at once, %d accepted in all", s.PeakConns(), s.Conns())
	if got := s.PeakConns(); got > want {
		t.Errorf("%d connections at once (%d accepted in all), want at most %d", got, s.Conns(), want)
	}
}

// Conns returns how many connections reached the server so far.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// PeakConns returns the most connections the collectors built by Build
// held open at once; without Build, how many reached the server.
//
// The server alone cannot count what is open at once: it sees a close
// late, and Go's transport replaces a kept-alive connection now and then
// (on a busy machine, one whose request write it did not see end within
// 50 ms of the answer), so a pool of n connections can reach it as n+1
// for a moment and open more than n over a run.
func (s *Server) PeakConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dialed {
		return s.conns
	}
	return s.peak
}

// Dial opens a connection as Go's transport does, and counts it held until
// it is closed. Build gives it to the collectors it builds
// (exporter.Deps.DialContext).
func (s *Server) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dialed = true
	s.held++
	s.peak = max(s.peak, s.held)
	return &heldConn{Conn: c, s: s}, nil
}

// heldConn is a connection Dial counts until its first Close.
type heldConn struct {
	net.Conn
	s    *Server
	once sync.Once
}

func (c *heldConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		c.s.held--
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}

// Build parses config and builds its collectors, as exportertest.Build
// does, with their connections counted by Dial; the test fails on any
// error.
func (s *Server) Build(t testing.TB, config string) *exportertest.Env {
	t.Helper()
	cfg, err := exporter.ParseConfig("agency.yml", []byte(config))
	if err != nil {
		t.Fatalf("parse config: %v", err)
	}
	env := &exportertest.Env{Config: cfg, Metrics: exporter.NewAPIMetrics(), Links: exporter.NewLinkSet()}
	env.Instances, err = exporter.Build(cfg, exporter.Deps{Metrics: env.Metrics, Links: env.Links, DialContext: s.Dial})
	if err != nil {
		t.Fatalf("build config: %v", err)
	}
	return env
}

// Calls counts requests by endpoint.
type Calls map[string]int

// Total is the number of requests.
func (c Calls) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// String lists the endpoints in order with their counts.
func (c Calls) String() string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(c)) {
		fmt.Fprintf(&b, "%s: %d\n", k, c[k])
	}
	return b.String()
}

// Check compares the counts with want, endpoint by endpoint (an endpoint
// absent from want must have no request), and logs what it found, so that
// a run shows the figures it measured.
func Check(t testing.TB, refresh string, got, want Calls) {
	t.Helper()
	t.Logf("%s: %d calls\n%s", refresh, got.Total(), got)
	for _, k := range slices.Sorted(maps.Keys(mergeKeys(got, want))) {
		if got[k] != want[k] {
			t.Errorf("%s: %s: %d calls, want %d", refresh, k, got[k], want[k])
		}
	}
}

func mergeKeys(a, b Calls) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// Config is one collector and one campaign of n creators.
type Config struct {
	// Token, if set, is the collector's token (else Collector may give
	// token_file).
	Type, BaseURL, Token string
	// Options is the collector's options, a YAML flow map.
	Options string
	// HTTP holds more keys of the collector's http block, each after a
	// comma: ", max_response_bytes: 400000".
	HTTP string
	// Collector holds more keys of the collector's block, each line
	// indented by four spaces.
	Collector string
	// Campaign holds more keys of the campaign (start: ...), each line
	// indented by four spaces.
	Campaign string
	// Global holds the global block's keys, each line indented by two
	// spaces.
	Global string
	// Interval is the collector's interval, the most a refresh may
	// take; "" is 1m.
	Interval string
	// Creators is how many creators the campaign has; Creator writes the
	// keys of creator i (from 0) after its name, each line indented by
	// eight spaces.
	Creators int
	Creator  func(b *strings.Builder, i int)
}

// CreatorName is the name of creator i.
func CreatorName(i int) string { return fmt.Sprintf("c%05d", i) }

// YAML renders the config. The collector's HTTP client has no rate limit
// to speak of and short retry waits: the test counts calls, not time.
func (c Config) YAML() string {
	var b strings.Builder
	if c.Global != "" {
		fmt.Fprintf(&b, "global:\n%s", c.Global)
	}
	token := ""
	if c.Token != "" {
		token = "    token: " + c.Token + "\n"
	}
	interval := c.Interval
	if interval == "" {
		interval = "1m"
	}
	fmt.Fprintf(&b, `collectors:
  - type: %s
    base_url: %s
%s    interval: %s
    http: {max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 5ms, rate_limit: 1000000, burst: 1000%s}
    options: %s
%scampaigns:
  - name: agency
%s    creators:
`, c.Type, c.BaseURL, token, interval, c.HTTP, orEmpty(c.Options), c.Collector, c.Campaign)
	for i := range c.Creators {
		fmt.Fprintf(&b, "      - name: %s\n", CreatorName(i))
		if c.Creator != nil {
			c.Creator(&b, i)
		}
	}
	return b.String()
}

func orEmpty(s string) string {
	if s == "" {
		return "{}"
	}
	return s
}

// CreatorLinks returns a Config.Creator giving each creator perCreator links of
// collector, numbered across the campaign: id formats the number, as in
// "bit.ly/l%05d".
func CreatorLinks(collector, id string, perCreator int) func(b *strings.Builder, i int) {
	return func(b *strings.Builder, i int) {
		b.WriteString("        links:\n")
		for j := range perCreator {
			fmt.Fprintf(b, "          - {collector: %s, id: "+id+"}\n", collector, i*perCreator+j)
		}
	}
}

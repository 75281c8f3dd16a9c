package linkprobe

import (
	"context"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/linkprobe/sitefake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// stub stands in for a shortener collector, so test configs can name links
// of a collector without importing one.
type stub struct{}

func (stub) Poll(context.Context) ([]exporter.Sample, error) { return nil, nil }

func init() {
	exporter.Register("stub", func(exporter.Settings) (exporter.Collector, error) { return stub{}, nil })
}

// testNet maps test host names (short.test, shop.test, ...) to loopback
// servers. Other names fail as DNS would; loopback IPs are dialled as they
// are. Nothing else is ever contacted. Every address goes through the
// probe's rules (control), as the probe's own dial does.
type testNet struct {
	hosts   map[string]string
	control func(network, address string, c syscall.RawConn) error
}

func (n *testNet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Control: n.control}
	if a, ok := n.hosts[strings.ToLower(host)]; ok {
		return d.DialContext(ctx, "tcp", a)
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return d.DialContext(ctx, network, addr)
	}
	return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
}

// sites are the fake websites of one test, each behind its host name.
type sites struct {
	short, shop, other *sitefake.Site
	net                *testNet
}

func newSites(t *testing.T) *sites {
	t.Helper()
	s := &sites{short: sitefake.New(), shop: sitefake.New(), other: sitefake.New(), net: &testNet{hosts: map[string]string{}}}
	for host, site := range map[string]*sitefake.Site{"short.test": s.short, "shop.test": s.shop, "other.test": s.other} {
		srv := httptest.NewServer(site)
		t.Cleanup(srv.Close)
		s.net.hosts[host] = srv.Listener.Addr().String()
	}
	return s
}

const baseConfig = `
collectors:
  - type: linkprobe
    interval: 1m
    options:
%s
  - name: stub
    type: stub
    interval: 1m
`

// fakeClock is the schedule's clock in tests: a sleep returns at once,
// moving the clock to the end of the wait, so a round spread over a minute
// runs in milliseconds. Network time stays real.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

var clockStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newFakeClock() *fakeClock { return &fakeClock{t: clockStart} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if end := c.t.Add(d); end.After(c.t) {
		c.t = end
	}
	return nil
}

// build returns an env whose probe dials through n (the real dialer if n is
// nil) and runs on a fake clock; options are lines of the probe's options
// block, rest is appended to the config.
func build(t *testing.T, n *testNet, options string, rest string) (*exportertest.Env, *Probe) {
	t.Helper()
	env, p := buildConfig(t, n, baseConfig, options, rest)
	return env, p
}

func buildConfig(t *testing.T, n *testNet, config, options, rest string) (*exportertest.Env, *Probe) {
	t.Helper()
	// Without limits unless the test sets them: the fake clock makes
	// them cost nothing, but they hide what a test looks at.
	if !strings.Contains(options, "per_host_interval") {
		options += "\nper_host_interval: 0s"
	}
	if !strings.Contains(options, "short_link_interval") {
		options += "\nshort_link_interval: 0s"
	}
	// The fakes listen on loopback, which the default deny list refuses:
	// tests allow it as the sandbox's config does, unless they set the
	// rules themselves.
	if !strings.Contains(options, "allow_cidrs") && !strings.Contains(options, "deny_defaults") {
		options += "\n" + allowLoopback
	}
	env := exportertest.Build(t, strings.Replace(config, "%s", indentOptions(options), 1)+rest)
	p := env.Instance(t, "linkprobe").Collector.(*Probe)
	// A proxy from the environment would take the requests elsewhere
	// (an http_config transport takes none from it).
	if !strings.Contains(config, "http_config") {
		p.proxy = nil
	}
	if n != nil {
		n.control = p.checkAddress
		p.dial = n.dial
	}
	c := newFakeClock()
	p.setClock(c.now, c.sleep)
	return env, p
}

// allowLoopback is the option the tests and the sandbox's config set for
// fakes on loopback.
const allowLoopback = `allow_cidrs: ["127.0.0.0/8", "::1/128"]`

func indentOptions(options string) string {
	var opts []string
	for _, line := range strings.Split(strings.TrimSpace(options), "\n") {
		if line != "" {
			opts = append(opts, "      "+strings.TrimSpace(line))
		}
	}
	return strings.Join(opts, "\n")
}

// outcome is what the samples say about one link.
type outcome struct {
	up, status, redirects float64
	host                  string
	duration              float64
}

func outcomes(samples []exporter.Sample) map[string]*outcome {
	out := map[string]*outcome{}
	for _, s := range samples {
		k := s.Label("provider") + "/" + s.Label("link")
		o := out[k]
		if o == nil {
			o = &outcome{}
			out[k] = o
		}
		switch s.Metric {
		case exporter.LinkUp:
			o.up = s.Value
		case exporter.LinkStatusCode:
			o.status = s.Value
		case exporter.LinkRedirects:
			o.redirects = s.Value
		case exporter.LinkProbeDuration:
			o.duration = s.Value
		case exporter.LinkDestinationInfo:
			o.host = s.Label("destination_host")
		}
	}
	return out
}

func TestProbe(t *testing.T) {
	tests := []struct {
		name    string
		options string
		setup   func(s *sites)
		url     string
		// destination is the link's destination as its shortener's API
		// reports it.
		destination string
		expect      *exporter.Expect
		// want is the link's outcome; its duration is only checked > 0.
		want       outcome
		wantReason string
	}{
		{
			name: "200",
			url:  "http://shop.test/p",
			want: outcome{up: 1, status: 200, host: "shop.test"},
		},
		{
			name:  "301 then 200",
			setup: func(s *sites) { s.short.SetRedirect("/a", "http://shop.test/p", 301) },
			url:   "http://short.test/a",
			want:  outcome{up: 1, status: 200, redirects: 1, host: "shop.test"},
		},
		{
			name: "302 chain of 3 then 200, relative Location",
			setup: func(s *sites) {
				s.short.SetRedirect("/a", "/b", 302)
				s.short.SetRedirect("/b", "http://shop.test/c", 302)
				s.shop.SetRedirect("/c", "../p?utm_source=alice", 302)
			},
			url:    "http://short.test/a",
			expect: &exporter.Expect{Host: "shop.test", UTM: map[string]string{"utm_source": "alice"}},
			want:   outcome{up: 1, status: 200, redirects: 3, host: "shop.test"},
		},
		{
			name: "303 and 307 and 308",
			setup: func(s *sites) {
				s.short.SetRedirect("/a", "/b", 303)
				s.short.SetRedirect("/b", "/c", 307)
				s.short.SetRedirect("/c", "http://shop.test/p", 308)
			},
			url:  "http://short.test/a",
			want: outcome{up: 1, status: 200, redirects: 3, host: "shop.test"},
		},
		{
			name: "404 at the destination",
			setup: func(s *sites) {
				s.short.SetRedirect("/a", "http://shop.test/gone", 301)
				s.shop.Break("/gone")
			},
			url:        "http://short.test/a",
			want:       outcome{up: 0, status: 404, redirects: 1, host: "shop.test"},
			wantReason: "final status 404 at http://shop.test/gone",
		},
		{
			name: "redirect loop",
			setup: func(s *sites) {
				s.short.SetRedirect("/a", "http://shop.test/b", 302)
				s.shop.SetRedirect("/b", "http://short.test/a", 302)
			},
			url: "http://short.test/a",
			// The destination's chain (shop.test/b) is followed on its
			// own, shared by every link leading there: it meets the short
			// link again, one hop later than a browser notices.
			want:       outcome{up: 0, status: 302, redirects: 2, host: "short.test"},
			wantReason: "redirect loop: http://short.test/a leads back to http://shop.test/b",
		},
		{
			name:    "too many hops",
			options: "max_redirects: 2",
			setup: func(s *sites) {
				s.short.SetRedirect("/a", "/b", 301)
				s.short.SetRedirect("/b", "/c", 301)
				s.short.SetRedirect("/c", "/d", 301)
			},
			url:        "http://short.test/a",
			want:       outcome{up: 0, status: 301, redirects: 2, host: "short.test"},
			wantReason: "more than 2 redirects (max_redirects)",
		},
		{
			name:       "timeout",
			options:    "timeout: 50ms",
			setup:      func(s *sites) { s.shop.SetSlow("/slow", time.Hour) },
			url:        "http://shop.test/slow",
			want:       outcome{up: 0, status: 0},
			wantReason: "timed out after 50ms",
		},
		{
			name:    "timeout after a redirect",
			options: "timeout: 50ms",
			setup: func(s *sites) {
				s.short.SetRedirect("/a", "http://shop.test/slow", 301)
				s.shop.SetSlow("/slow", time.Hour)
			},
			url:        "http://short.test/a",
			want:       outcome{up: 0, status: 0, redirects: 1},
			wantReason: "timed out after 50ms",
		},
		{
			name:       "connect failure",
			url:        "http://" + closedPort(t) + "/p",
			want:       outcome{up: 0, status: 0},
			wantReason: "connection refused",
		},
		{
			name:       "DNS failure",
			setup:      func(s *sites) { s.short.SetRedirect("/a", "http://gone.test/p", 301) },
			url:        "http://short.test/a",
			want:       outcome{up: 0, status: 0, redirects: 1},
			wantReason: "dns: lookup gone.test: no such host",
		},
		{
			name:       "wrong destination host",
			setup:      func(s *sites) { s.short.SetRedirect("/a", "http://other.test/p", 301) },
			url:        "http://short.test/a",
			expect:     &exporter.Expect{Host: "shop.test"},
			want:       outcome{up: 0, status: 200, redirects: 1, host: "other.test"},
			wantReason: `landed on host "other.test", expected "shop.test"`,
		},
		{
			name:   "expected host in other case and default port",
			setup:  func(s *sites) { s.short.SetRedirect("/a", "http://Shop.Test:80/p", 301) },
			url:    "http://short.test/a",
			expect: &exporter.Expect{Host: "SHOP.test"},
			want:   outcome{up: 1, status: 200, redirects: 1, host: "shop.test"},
		},
		{
			name:       "missing UTM parameter",
			setup:      func(s *sites) { s.short.SetRedirect("/a", "http://shop.test/p?utm_source=alice", 301) },
			url:        "http://short.test/a",
			expect:     &exporter.Expect{Host: "shop.test", UTM: map[string]string{"utm_source": "alice", "utm_campaign": ""}},
			want:       outcome{up: 0, status: 200, redirects: 1, host: "shop.test"},
			wantReason: `parameter "utm_campaign" missing`,
		},
		{
			name:       "UTM parameter with another value",
			setup:      func(s *sites) { s.short.SetRedirect("/a", "http://shop.test/p?utm_source=bob", 301) },
			url:        "http://short.test/a",
			expect:     &exporter.Expect{UTM: map[string]string{"utm_source": "alice"}},
			want:       outcome{up: 0, status: 200, redirects: 1, host: "shop.test"},
			wantReason: `parameter "utm_source" is "bob", expected "alice"`,
		},
		{
			name: "UTM present",
			setup: func(s *sites) {
				s.short.SetRedirect("/a", "http://shop.test/p?utm_source=alice&utm_campaign=spring", 301)
			},
			url:    "http://short.test/a",
			expect: &exporter.Expect{Host: "shop.test", UTM: map[string]string{"utm_source": "alice", "utm_campaign": ""}},
			want:   outcome{up: 1, status: 200, redirects: 1, host: "shop.test"},
		},
		{
			name:  "HEAD refused falls back to GET",
			setup: func(s *sites) { s.short.SetRedirect("/a", "http://shop.test/p", 301); s.shop.RefuseHEAD(true) },
			url:   "http://short.test/a",
			want:  outcome{up: 1, status: 200, redirects: 1, host: "shop.test"},
		},
		{
			// The shortener's own redirects (to https, or a canonical
			// URL) are part of its answer.
			name: "the shortener redirects to itself first",
			setup: func(s *sites) {
				s.short.SetRedirect("/a", "/a/", 301)
				s.short.SetRedirect("/a/", "http://shop.test/p?utm_source=alice", 302)
			},
			url:    "http://short.test/a",
			expect: &exporter.Expect{UTM: map[string]string{"utm_source": "alice"}},
			want:   outcome{up: 1, status: 200, redirects: 2, host: "shop.test"},
		},
		{
			name:       "404 from the shortener",
			setup:      func(s *sites) { s.short.Break("/a") },
			url:        "http://short.test/a",
			want:       outcome{up: 0, status: 404, host: "short.test"},
			wantReason: "attempt 1: final status 404 at http://short.test/a; attempt 2 (5s later): final status 404 at http://short.test/a",
		},
		{
			// Never GET on a short link: it would count as a click.
			name:       "short link refuses HEAD, no destination known",
			setup:      func(s *sites) { s.short.RefuseHEAD(true) },
			url:        "http://short.test/a",
			want:       outcome{up: 0, status: 405, host: "short.test"},
			wantReason: "final status 405 at http://short.test/a",
		},
		{
			name:        "short link refuses HEAD, the API's destination is probed",
			setup:       func(s *sites) { s.short.RefuseHEAD(true) },
			url:         "http://short.test/a",
			destination: "http://shop.test/p?utm_source=alice",
			expect:      &exporter.Expect{Host: "shop.test", UTM: map[string]string{"utm_source": "alice"}},
			want:        outcome{up: 1, status: 200, redirects: 1, host: "shop.test"},
			wantReason:  "short link refused HEAD (405): probed http://shop.test/p, the destination bitly's API reports",
		},
		{
			name:        "short link answers bots with a page, the API's destination is probed",
			url:         "http://short.test/preview",
			destination: "http://shop.test/gone",
			setup:       func(s *sites) { s.shop.Break("/gone") },
			want:        outcome{up: 0, status: 404, redirects: 1, host: "shop.test"},
			wantReason:  "final status 404 at http://shop.test/gone; short link answered HEAD with 200, not a redirect",
		},
		{
			name:        "redirect elsewhere than the API says: shown, not judged",
			setup:       func(s *sites) { s.short.SetRedirect("/a", "http://shop.test/new", 301) },
			url:         "http://short.test/a",
			destination: "http://shop.test/old",
			want:        outcome{up: 1, status: 200, redirects: 1, host: "shop.test"},
			wantReason:  "short link redirects to http://shop.test/new, not to http://shop.test/old as bitly's API reports",
		},
		{
			name: "the destination's redirect drops the UTM parameters",
			setup: func(s *sites) {
				s.short.SetRedirect("/a", "http://shop.test/old?utm_source=alice", 301)
				s.shop.SetRedirect("/old", "/new", 301)
			},
			url:        "http://short.test/a",
			expect:     &exporter.Expect{UTM: map[string]string{"utm_source": "alice"}},
			want:       outcome{up: 0, status: 200, redirects: 2, host: "shop.test"},
			wantReason: `parameter "utm_source" missing (the redirects after http://shop.test/old drop [utm_source])`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSites(t)
			if tt.setup != nil {
				tt.setup(s)
			}
			env, p := build(t, s.net, tt.options, "")
			env.Links.Publish("stub", []exporter.PublishedLink{{
				Campaign: "spring", Creator: "alice", Provider: "bitly", ID: "bit.ly/a", URL: tt.url,
				Destination: tt.destination, Expect: tt.expect,
			}})
			samples, err := env.Poll(t, "linkprobe")
			if err != nil {
				t.Fatalf("Poll: %v", err)
			}
			got := outcomes(samples)["bitly/bit.ly/a"]
			if got == nil {
				t.Fatal("no samples for the link")
			}
			if got.duration <= 0 {
				t.Errorf("probe duration = %g, want > 0", got.duration)
			}
			got.duration = 0
			if *got != tt.want {
				t.Errorf("outcome = %+v, want %+v", *got, tt.want)
			}
			reason := p.Findings()["bitly/bit.ly/a"]
			switch {
			case tt.wantReason == "" && reason != "":
				t.Errorf("healthy link has finding %q", reason)
			case !strings.Contains(reason, tt.wantReason):
				t.Errorf("reason = %q, want it to contain %q", reason, tt.wantReason)
			}
		})
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestMethods(t *testing.T) {
	tests := []struct {
		name        string
		options     string
		refuseHEAD  bool
		destination string
		wantShort   []string
		wantShop    []string
		wantUp      float64
	}{
		{name: "HEAD by default", wantShort: []string{"HEAD"}, wantShop: []string{"HEAD"}, wantUp: 1},
		// method is for destinations: short links are always sent HEAD.
		{name: "GET", options: "method: get", wantShort: []string{"HEAD"}, wantShop: []string{"GET"}, wantUp: 1},
		// A short link refusing HEAD is never retried as GET: a
		// shortener counts GET as a click.
		{name: "short link refuses HEAD", refuseHEAD: true, wantShort: []string{"HEAD", "HEAD"}, wantUp: 0},
		{name: "short link refuses HEAD, destination known", refuseHEAD: true, destination: "http://shop.test/p",
			wantShort: []string{"HEAD"}, wantShop: []string{"HEAD"}, wantUp: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSites(t)
			s.short.SetRedirect("/a", "http://shop.test/p", 301)
			s.short.RefuseHEAD(tt.refuseHEAD)
			env, _ := build(t, s.net, "user_agent: probe-test/1.0\n"+tt.options, "")
			env.Links.Publish("stub", []exporter.PublishedLink{{Campaign: "c", Creator: "a", Provider: "bitly", ID: "bit.ly/a",
				URL: "http://short.test/a", Destination: tt.destination}})
			samples, err := env.Poll(t, "linkprobe")
			if err != nil {
				t.Fatal(err)
			}
			if got := outcomes(samples)["bitly/bit.ly/a"].up; got != tt.wantUp {
				t.Errorf("up = %g, want %g", got, tt.wantUp)
			}
			for _, site := range []struct {
				name string
				s    *sitefake.Site
				want []string
			}{{"short", s.short, tt.wantShort}, {"shop", s.shop, tt.wantShop}} {
				var methods []string
				for _, r := range site.s.Requests() {
					methods = append(methods, r.Method)
					if r.UserAgent != "probe-test/1.0" {
						t.Errorf("%s: %s %s sent User-Agent %q, want %q", site.name, r.Method, r.Path, r.UserAgent, "probe-test/1.0")
					}
				}
				if !slices.Equal(methods, site.want) {
					t.Errorf("%s got methods %v, want %v", site.name, methods, site.want)
				}
			}
		})
	}
}

func TestDefaultUserAgent(t *testing.T) {
	s := newSites(t)
	env, _ := build(t, s.net, "", "")
	env.Links.Publish("stub", []exporter.PublishedLink{{Campaign: "c", Creator: "a", Provider: "bitly", ID: "bit.ly/a", URL: "http://shop.test/p"}})
	if _, err := env.Poll(t, "linkprobe"); err != nil {
		t.Fatal(err)
	}
	reqs := s.shop.Requests()
	if len(reqs) != 1 || reqs[0].UserAgent != DefaultUserAgent {
		t.Errorf("requests = %+v, want one with User-Agent %q", reqs, DefaultUserAgent)
	}
}

func TestLimiterSpacing(t *testing.T) {
	l := newHostLimiter(time.Second)
	// A stopped clock: every reservation is made at the same instant, so
	// the waits the limiter asks for show the spacing of each host's slots.
	var waits []time.Duration
	l.now = func() time.Time { return clockStart }
	l.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	}
	for _, host := range []string{"shop.test", "shop.test", "other.test", "shop.test"} {
		if err := l.wait(context.Background(), host); err != nil {
			t.Fatal(err)
		}
	}
	// shop.test: +0s, +1s, +2s; other.test: no wait.
	if want := []time.Duration{time.Second, 2 * time.Second}; !slices.Equal(waits, want) {
		t.Errorf("waits = %v, want %v", waits, want)
	}
}

func TestHostLimiter(t *testing.T) {
	l := newHostLimiter(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	if err := l.wait(ctx, "shop.test"); err != nil {
		t.Fatalf("first wait: %v", err)
	}
	if err := l.wait(ctx, "other.test"); err != nil {
		t.Fatalf("first wait on another host: %v", err)
	}
	cancel()
	if err := l.wait(ctx, "shop.test"); err != context.Canceled {
		t.Fatalf("second wait with a cancelled context = %v, want context.Canceled", err)
	}
	l.now = func() time.Time { return time.Now().Add(3 * time.Hour) }
	l.prune()
	if len(l.next) != 0 {
		t.Errorf("after prune, %d hosts remembered, want 0", len(l.next))
	}
}

// listenCounting serves a fake site on ip (inside 127.0.0.0/8) and counts
// the connections it accepts: a test of a refusal asserts that none
// arrived. Linux answers on all of 127.0.0.0/8: a failure to listen is a
// broken machine, not a reason to leave the refusal untested.
func listenCounting(t *testing.T, ip string, tls bool) (addr string, conns *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("cannot listen on %s: %v", ip, err)
	}
	conns = &atomic.Int32{}
	srv := httptest.NewUnstartedServer(sitefake.New())
	srv.Listener.Close()
	srv.Listener = ln
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return ln.Addr().String(), conns
}

// TestAddressRules runs the probe's own dialer against sites on loopback
// IPs (no name is resolved): refusals are aimed at 127.0.0.2, where a
// listener counts connections, and must never reach it.
func TestAddressRules(t *testing.T) {
	tests := []struct {
		name    string
		options string
		// target is "allowed" (a site on 127.0.0.1) or "denied" (the
		// counting listener on 127.0.0.2).
		target     string
		wantUp     float64
		wantReason string
	}{
		{name: "deny_cidrs refuses", options: `deny_cidrs: ["127.0.0.2/32"]` + "\n" + allowLoopback, target: "denied",
			wantReason: "address 127.0.0.2 is in deny_cidrs 127.0.0.2/32"},
		{name: "deny_cidrs elsewhere", options: `deny_cidrs: ["127.0.0.2/32"]` + "\n" + allowLoopback, target: "allowed", wantUp: 1},
		{name: "the default list refuses loopback", options: `allow_cidrs: ["127.0.0.1/32"]`, target: "denied",
			wantReason: "address 127.0.0.2 is in the default deny list (loopback, RFC 1122)"},
		{name: "allow_cidrs lifts it", options: `allow_cidrs: ["127.0.0.1/32"]`, target: "allowed", wantUp: 1},
		{name: "by default loopback is refused", options: "deny_defaults: true", target: "denied",
			wantReason: "address 127.0.0.2 is in the default deny list (loopback, RFC 1122)"},
		{name: "deny_defaults: false", options: "deny_defaults: false", target: "allowed", wantUp: 1},
		{name: "deny_cidrs without the defaults", options: "deny_defaults: false\n" + `deny_cidrs: ["127.0.0.2/32"]`, target: "denied",
			wantReason: "address 127.0.0.2 is in deny_cidrs 127.0.0.2/32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := sitefake.New()
			allowed := exportertest.Serve(t, site)
			deniedAddr, denied := listenCounting(t, "127.0.0.2", false)
			url := allowed + "/p"
			if tt.target == "denied" {
				url = "http://" + deniedAddr + "/p"
			}
			env, p := build(t, nil, tt.options, "")
			env.Links.Publish("stub", []exporter.PublishedLink{{Campaign: "c", Creator: "a", Provider: "bitly", ID: "bit.ly/a", URL: url}})
			samples, err := env.Poll(t, "linkprobe")
			if err != nil {
				t.Fatal(err)
			}
			if got := outcomes(samples)["bitly/bit.ly/a"].up; got != tt.wantUp {
				t.Errorf("up = %g, want %g", got, tt.wantUp)
			}
			if n := denied.Load(); n != 0 {
				t.Errorf("%d connections reached 127.0.0.2", n)
			}
			if want := map[string]int{"allowed": 1}[tt.target]; site.Hits("/p") != want {
				t.Errorf("hits on 127.0.0.1 = %d, want %d", site.Hits("/p"), want)
			}
			got := p.Findings()["bitly/bit.ly/a"]
			if tt.wantReason == "" && got != "" || !strings.Contains(got, tt.wantReason) {
				t.Errorf("reason = %q, want it to contain %q", got, tt.wantReason)
			}
			// The refusal names its rule on the chain too, as any hop
			// error.
			for _, d := range p.LinkDetails() {
				if tt.wantReason != "" && (len(d.Hops) != 1 || !strings.Contains(d.Hops[0].Error, tt.wantReason)) {
					t.Errorf("hops = %+v, want one whose error names the rule", d.Hops)
				}
			}
		})
	}
}

func TestTLSFailure(t *testing.T) {
	srv := httptest.NewTLSServer(sitefake.New())
	defer srv.Close()
	// The probe trusts the system's roots only, not the test server's
	// certificate: the handshake fails as for a shop with a bad one.
	env, p := build(t, nil, "", "")
	env.Links.Publish("stub", []exporter.PublishedLink{{Campaign: "c", Creator: "a", Provider: "bitly", ID: "bit.ly/a", URL: srv.URL + "/p"}})
	samples, err := env.Poll(t, "linkprobe")
	if err != nil {
		t.Fatal(err)
	}
	got := *outcomes(samples)["bitly/bit.ly/a"]
	got.duration = 0
	if want := (outcome{up: 0, status: 0}); got != want {
		t.Errorf("outcome = %+v, want %+v", got, want)
	}
	if r := p.Findings()["bitly/bit.ly/a"]; !strings.Contains(r, "certificate") {
		t.Errorf("reason = %q, want a certificate error", r)
	}
}

// TestNonHTTPLocation: a redirect to any scheme but http and https ends
// the chain, with the scheme in the reason, and nothing is requested
// there, from the short link or from a destination's chain.
func TestNonHTTPLocation(t *testing.T) {
	deniedAddr, conns := listenCounting(t, "127.0.0.2", false)
	for _, tt := range []struct {
		location, shown, scheme string
	}{
		{"ftp://" + deniedAddr + "/x", "ftp://" + deniedAddr + "/x", "ftp"},
		{"file:///etc/passwd", "file:///etc/passwd", "file"},
		{"gopher://" + deniedAddr + "/_x", "gopher://" + deniedAddr + "/_x", "gopher"},
		{"javascript:alert(1)", "javascript:", "javascript"},
		{"data:text/html,hi", "data:", "data"},
		{"itms-apps://apps.example/app?token=x", "itms-apps://apps.example/app", "itms-apps"},
	} {
		for _, from := range []string{"short link", "destination"} {
			t.Run(tt.scheme+" from the "+from, func(t *testing.T) {
				s := newSites(t)
				at := "http://short.test/a"
				if from == "destination" {
					s.short.SetRedirect("/a", "http://shop.test/p", 301)
					s.shop.SetRedirect("/p", tt.location, 302)
					at = "http://shop.test/p"
				} else {
					s.short.SetRedirect("/a", tt.location, 302)
				}
				env, p := build(t, s.net, "", "")
				env.Links.Publish("stub", []exporter.PublishedLink{{Campaign: "c", Creator: "a", Provider: "bitly", ID: "bit.ly/a", URL: "http://short.test/a"}})
				samples, err := env.Poll(t, "linkprobe")
				if err != nil {
					t.Fatal(err)
				}
				if got := outcomes(samples)["bitly/bit.ly/a"]; got.up != 0 || got.status != 302 {
					t.Errorf("outcome = %+v, want down on the 302", *got)
				}
				why := "redirect from " + at + " to " + tt.shown + ": scheme " + tt.scheme + " is not followed (only http and https are)"
				if r, want := p.Findings()["bitly/bit.ly/a"], "attempt 1: "+why+"; attempt 2 (5s later): "+why; r != want {
					t.Errorf("reason = %q, want %q", r, want)
				}
				// Each attempt requested the short link, or the page
				// for a destination (the confirmation tries the chain
				// that failed), and nothing else.
				wantShort, wantShop := 2, 0
				if from == "destination" {
					wantShort, wantShop = 1, 2
				}
				if n, m := len(s.short.Requests()), len(s.shop.Requests()); n != wantShort || m != wantShop || len(s.other.Requests()) != 0 {
					t.Errorf("requests: short %d, shop %d, other %d; want %d, %d, 0", n, m, len(s.other.Requests()), wantShort, wantShop)
				}
				if n := conns.Load(); n != 0 {
					t.Errorf("%d connections reached the redirect's host", n)
				}
			})
		}
	}
}

const goldenCampaigns = `
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: stub, id: s.test/alice, url: "http://shop.test/config-alice"}
      - name: bob
        links:
          - {collector: stub, id: s.test/bob, url: "http://short.test/bob", expect: {host: shop.test, utm: {utm_source: bob}}}
          - {collector: stub, id: s.test/nourl}
`

func TestGolden(t *testing.T) {
	s := newSites(t)
	s.short.SetRedirect("/alice1", "http://shop.test/p?utm_source=alice&utm_campaign=spring", 301)
	s.short.SetRedirect("/bob1", "http://shop.test/gone", 301)
	s.shop.Break("/gone")
	s.short.SetRedirect("/carol1", "http://other.test/p", 302)
	s.short.SetRedirect("/erin", "/erin2", 302)
	s.short.SetRedirect("/erin2", "/erin", 302)
	s.short.SetRedirect("/alice", "http://shop.test/p", 301)
	s.short.SetRedirect("/bob", "http://shop.test/p?utm_source=bob", 307)

	env, p := build(t, s.net, "", goldenCampaigns)
	expect := func(who string) *exporter.Expect {
		return &exporter.Expect{Host: "shop.test", UTM: map[string]string{"utm_source": who}}
	}
	env.Links.Publish("bitly", []exporter.PublishedLink{
		{Campaign: "spring", Creator: "alice", Provider: "bitly", ID: "bit.ly/alice1", URL: "http://short.test/alice1", Expect: expect("alice")},
		{Campaign: "spring", Creator: "bob", Provider: "bitly", ID: "bit.ly/bob1", URL: "http://short.test/bob1", Expect: expect("bob")},
		{Campaign: "summer", Creator: "carol", Provider: "bitly", ID: "bit.ly/carol1", URL: "http://short.test/carol1", Expect: expect("carol")},
	})
	env.Links.Publish("dub", []exporter.PublishedLink{
		{Campaign: "summer", Creator: "dave", Provider: "dub", ID: "dub.sh/dave", URL: "http://gone.test/dave"},
		{Campaign: "summer", Creator: "erin", Provider: "dub", ID: "dub.sh/erin", URL: "http://short.test/erin"},
	})
	// Published wins over the configured url: for s.test/alice. s.test/bob
	// is probed from the config alone; s.test/nourl has nothing to probe.
	env.Links.Publish("stub", []exporter.PublishedLink{
		{Campaign: "spring", Creator: "alice", Provider: "stub", ID: "s.test/alice", URL: "http://short.test/alice"},
	})

	samples, err := env.Poll(t, "linkprobe")
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	// Durations vary from run to run, and so do completion times on the
	// fake clock, which concurrent waits move: they stay out of the golden
	// file and are checked separately.
	var stable []exporter.Sample
	for _, s := range samples {
		if s.Metric != exporter.LinkProbeDuration && s.Metric != exporter.LinkLastProbe {
			stable = append(stable, s)
		}
	}
	exportertest.CompareGolden(t, stable, "golden.prom",
		"influencer_link_up", "influencer_link_http_status_code", "influencer_link_redirects", "influencer_link_destination_info")
	got := outcomes(samples)
	if len(got) != 7 {
		t.Errorf("probed %d links, want 7", len(got))
	}
	for k, o := range got {
		if o.duration <= 0 {
			t.Errorf("%s: probe duration = %g, want > 0", k, o.duration)
		}
	}
	if n := s.shop.Hits("/config-alice"); n != 0 {
		t.Errorf("configured url of a published link requested %d times, want 0", n)
	}
	twice := func(why string) string { return "attempt 1: " + why + "; attempt 2 (5s later): " + why }
	wantReasons := map[string]string{
		"bitly/bit.ly/bob1":   twice("final status 404 at http://shop.test/gone"),
		"bitly/bit.ly/carol1": `landed on host "other.test", expected "shop.test"`,
		"dub/dub.sh/dave":     twice("dns: lookup gone.test: no such host"),
		"dub/dub.sh/erin":     twice("redirect loop: http://short.test/erin2 leads back to http://short.test/erin"),
	}
	if got := p.Findings(); !mapsEqual(got, wantReasons) {
		t.Errorf("Findings() = %q, want %q", got, wantReasons)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestPollContext(t *testing.T) {
	t.Run("cancelled before any probe", func(t *testing.T) {
		s := newSites(t)
		env, p := build(t, s.net, "", "")
		env.Links.Publish("stub", []exporter.PublishedLink{{Campaign: "c", Creator: "a", Provider: "bitly", ID: "bit.ly/a", URL: "http://shop.test/p"}})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := p.Poll(ctx); err == nil {
			t.Error("Poll with a cancelled context succeeded")
		}
		if n := len(s.shop.Requests()); n != 0 {
			t.Errorf("%d requests sent, want 0", n)
		}
	})
	t.Run("no links", func(t *testing.T) {
		env, _ := build(t, nil, "", "")
		samples, err := env.Poll(t, "linkprobe")
		if err != nil || len(samples) != 0 {
			t.Errorf("Poll = %d samples, %v; want none, nil", len(samples), err)
		}
	})
	t.Run("interrupted probes keep their previous result", func(t *testing.T) {
		s := newSites(t)
		env, p := build(t, s.net, "timeout: 1h", "")
		env.Links.Publish("stub", []exporter.PublishedLink{{Campaign: "c", Creator: "a", Provider: "bitly", ID: "bit.ly/a", URL: "http://shop.test/p"}})
		first, err := p.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		s.shop.SetSlow("/p", time.Hour)
		ctx, cancel := context.WithCancel(context.Background())
		type polled struct {
			samples []exporter.Sample
			err     error
		}
		done := make(chan polled)
		go func() {
			samples, err := p.Poll(ctx)
			done <- polled{samples, err}
		}()
		for s.shop.Hits("/p") < 2 {
			time.Sleep(time.Millisecond)
		}
		cancel() // the refresh's deadline, in the middle of the probe
		second := <-done
		if second.err != nil {
			t.Fatalf("Poll after a probe started: %v", second.err)
		}
		if got, want := *outcomes(second.samples)["bitly/bit.ly/a"], *outcomes(first)["bitly/bit.ly/a"]; got != want {
			t.Errorf("interrupted link = %+v, want its previous %+v", got, want)
		}
	})
}

func TestBadOptions(t *testing.T) {
	tests := []struct {
		options string
		want    string
	}{
		{"method: POST", `collectors[0].options.method: must be HEAD or GET, got "POST"`},
		{"timeout: 0s", "collectors[0].options.timeout: must be positive"},
		{"max_redirects: 0", "collectors[0].options.max_redirects: must be at least 1 (a short link is a redirect), got 0"},
		{"confirm_delay: 1m", "collectors[0].options.confirm_delay: must be below the interval (60s)"},
		{"campaigns: [nope]", `collectors[0].options.campaigns[0]: unknown campaign "nope"`},
		{"concurrency: 0", "collectors[0].options.concurrency: must be at least 1"},
		{`user_agent: " "`, "collectors[0].options.user_agent: must not be empty"},
		{`deny_cidrs: ["10.0.0.0/8", "nope"]`, `collectors[0].options.deny_cidrs[1]: invalid CIDR "nope" (a range such as 10.0.0.0/8, or 192.0.2.7/32 for one address)`},
		{`allow_cidrs: ["127.0.0.7"]`, `collectors[0].options.allow_cidrs[0]: invalid CIDR "127.0.0.7"`},
		{`allow_cidrs: ["10.1.0.0/16", "198.51.100.0/24"]`, "collectors[0].options.allow_cidrs[1]: 198.51.100.0/24 lies in no range of the default deny list, so it allows nothing"},
		{`allow_cidrs: ["0.0.0.0/0"]`, "collectors[0].options.allow_cidrs[0]: 0.0.0.0/0 lies in no range of the default deny list, so it allows nothing"},
		{`allow_cidrs: ["::ffff:10.0.0.0/104"]`, "collectors[0].options.allow_cidrs[0]: ::ffff:10.0.0.0/104 is an IPv4-mapped range: write it as IPv4"},
		{"deny_defaults: false\n      allow_cidrs: [127.0.0.0/8]", "collectors[0].options.allow_cidrs: lifts ranges of the default deny list, which deny_defaults: false turns off: remove one or the other"},
		{"deny_cidrs: [127.0.0.0/8]\n      allow_cidrs: [127.0.0.1/32]", "collectors[0].options.allow_cidrs[0]: 127.0.0.1/32 lies inside deny_cidrs[0] 127.0.0.0/8, which wins over allow_cidrs: it allows nothing"},
		{"retries: 3", `collectors[0].options.retries: unknown field "retries"`},
		// The probe follows redirects itself, whatever http_config says.
		{"method: HEAD\n    http_config: {follow_redirects: false}", "collectors[0].http_config.follow_redirects: the probe follows redirects itself, hop by hop: remove follow_redirects: false"},
	}
	for _, tt := range tests {
		t.Run(tt.options, func(t *testing.T) {
			cfg := "collectors:\n  - type: linkprobe\n    interval: 1m\n    options:\n      " + tt.options + "\n"
			_, err := exportertest.TryBuild(cfg)
			if err == nil {
				t.Fatal("bad options accepted")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "test.yml:") {
				t.Errorf("error = %q, want it to name the file and contain %q", err, tt.want)
			}
		})
	}
}

func TestCheckExpect(t *testing.T) {
	tests := []struct {
		url    string
		expect *exporter.Expect
		want   string
	}{
		{"https://shop.test/p", nil, ""},
		{"https://shop.test:443/p", &exporter.Expect{Host: "shop.test"}, ""},
		{"https://shop.test:8443/p", &exporter.Expect{Host: "shop.test"}, `landed on host "shop.test:8443", expected "shop.test"`},
		{"https://shop.test:8443/p", &exporter.Expect{Host: "Shop.Test:8443"}, ""},
		{"http://www.shop.test/p", &exporter.Expect{Host: "shop.test"}, `landed on host "www.shop.test", expected "shop.test"`},
		{"http://shop.test/p?utm_source=a&utm_source=b", &exporter.Expect{UTM: map[string]string{"utm_source": "b"}}, ""},
		{"http://shop.test/p?utm_medium=", &exporter.Expect{UTM: map[string]string{"utm_medium": ""}}, ""},
		{"http://shop.test/p", &exporter.Expect{UTM: map[string]string{"b": "", "a": "1"}}, `parameter "a" missing; parameter "b" missing`},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := checkExpect(tt.expect, u); got != tt.want {
				t.Errorf("checkExpect = %q, want %q", got, tt.want)
			}
		})
	}
}

var _ http.Handler = (*sitefake.Site)(nil)

// tlsSites are https sites the probe trusts through its http_config's
// tls_config.ca_file: httptest signs every TLS server with one
// certificate, for 127.0.0.1.
type tlsSites struct {
	short, shop *sitefake.Site
	shortURL    string // https://127.0.0.1:port
	shopURL     string
	caFile      string
}

func newTLSSites(t *testing.T) *tlsSites {
	t.Helper()
	s := &tlsSites{short: sitefake.New(), shop: sitefake.New()}
	short := httptest.NewTLSServer(s.short)
	t.Cleanup(short.Close)
	shop := httptest.NewTLSServer(s.shop)
	t.Cleanup(shop.Close)
	s.shortURL, s.shopURL = short.URL, shop.URL
	s.caFile = filepath.Join(t.TempDir(), "ca.pem")
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: short.Certificate().Raw})
	if err := os.WriteFile(s.caFile, pemCert, 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// httpConfigProbe is baseConfig with an http_config block for the probe.
const httpConfigProbe = `
collectors:
  - type: linkprobe
    interval: 1m
    http_config: {tls_config: {ca_file: %q}}
    options:
%s
  - name: stub
    type: stub
    interval: 1m
`

func buildHTTPConfig(t *testing.T, n *testNet, caFile, options string) (*exportertest.Env, *Probe) {
	t.Helper()
	config := strings.Replace(httpConfigProbe, "%q", strconv.Quote(caFile), 1)
	return buildConfig(t, n, config, options, "")
}

func TestSchemeDowngrade(t *testing.T) {
	tests := []struct {
		name string
		// setup sets the redirects; url is the link's URL (short is the
		// https short link site's URL, shop the https shop's).
		setup      func(s *sites, ts *tlsSites)
		url        func(ts *tlsSites) string
		expect     *exporter.Expect
		want       outcome
		wantReason string // or the note of a healthy link
	}{
		{
			name:       "https short link to an http destination",
			setup:      func(s *sites, ts *tlsSites) { ts.short.SetRedirect("/a", "http://shop.test/p?utm_source=alice", 301) },
			url:        func(ts *tlsSites) string { return ts.shortURL + "/a" },
			want:       outcome{up: 0, status: 200, redirects: 1, host: "shop.test"},
			wantReason: "downgraded to http at http://shop.test/p",
		},
		{
			name:       "expect.scheme http allows it",
			setup:      func(s *sites, ts *tlsSites) { ts.short.SetRedirect("/a", "http://shop.test/p", 301) },
			url:        func(ts *tlsSites) string { return ts.shortURL + "/a" },
			expect:     &exporter.Expect{Scheme: "http"},
			want:       outcome{up: 1, status: 200, redirects: 1, host: "shop.test"},
			wantReason: "downgraded to http at http://shop.test/p (allowed by expect.scheme: http)",
		},
		{
			name:   "https all the way",
			setup:  func(s *sites, ts *tlsSites) { ts.short.SetRedirect("/a", ts.shopURL+"/p", 301) },
			url:    func(ts *tlsSites) string { return ts.shortURL + "/a" },
			expect: &exporter.Expect{Scheme: "https"},
			want:   outcome{up: 1, status: 200, redirects: 1, host: "127.0.0.1:shop"},
		},
		{
			name: "the destination redirects to http",
			setup: func(s *sites, ts *tlsSites) {
				ts.short.SetRedirect("/a", ts.shopURL+"/p", 301)
				ts.shop.SetRedirect("/p", "http://shop.test/p", 302)
			},
			url:        func(ts *tlsSites) string { return ts.shortURL + "/a" },
			want:       outcome{up: 0, status: 200, redirects: 2, host: "shop.test"},
			wantReason: "downgraded to http at http://shop.test/p",
		},
		{
			name: "passing through http, landing on https",
			setup: func(s *sites, ts *tlsSites) {
				ts.short.SetRedirect("/a", "http://shop.test/old", 301)
				s.shop.SetRedirect("/old", ts.shopURL+"/new", 301)
			},
			url:        func(ts *tlsSites) string { return ts.shortURL + "/a" },
			want:       outcome{up: 0, status: 200, redirects: 2, host: "127.0.0.1:shop"},
			wantReason: "downgraded to http at http://shop.test/old",
		},
		{
			// The sandbox's short links and shop are plain http: a
			// downgrade needs an https start.
			name:  "plain http link",
			setup: func(s *sites, ts *tlsSites) { s.short.SetRedirect("/a", "http://shop.test/p", 301) },
			url:   func(ts *tlsSites) string { return "http://short.test/a" },
			want:  outcome{up: 1, status: 200, redirects: 1, host: "shop.test"},
		},
		{
			name:       "plain http link, expect.scheme https",
			setup:      func(s *sites, ts *tlsSites) { s.short.SetRedirect("/a", "http://shop.test/p", 301) },
			url:        func(ts *tlsSites) string { return "http://short.test/a" },
			expect:     &exporter.Expect{Scheme: "https"},
			want:       outcome{up: 0, status: 200, redirects: 1, host: "shop.test"},
			wantReason: "landed on http://shop.test/p, expected https (expect.scheme)",
		},
		{
			name:   "plain http link upgraded, expect.scheme https",
			setup:  func(s *sites, ts *tlsSites) { s.short.SetRedirect("/a", ts.shopURL+"/p", 301) },
			url:    func(ts *tlsSites) string { return "http://short.test/a" },
			expect: &exporter.Expect{Scheme: "https"},
			want:   outcome{up: 1, status: 200, redirects: 1, host: "127.0.0.1:shop"},
		},
		{
			name:       "https short link answering 2xx after its own http redirect",
			setup:      func(s *sites, ts *tlsSites) { ts.short.SetRedirect("/a", "http://bit.ly/a", 301) },
			url:        func(ts *tlsSites) string { return ts.shortURL + "/a" },
			want:       outcome{up: 0, status: 200, redirects: 1, host: "bit.ly"},
			wantReason: "downgraded to http at http://bit.ly/a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := newSites(t), newTLSSites(t)
			// bit.ly is the link's short link host: a plain http site here.
			s.net.hosts["bit.ly"] = s.net.hosts["short.test"]
			tt.setup(s, ts)
			env, p := buildHTTPConfig(t, s.net, ts.caFile, "")
			env.Links.Publish("stub", []exporter.PublishedLink{{
				Campaign: "spring", Creator: "alice", Provider: "bitly", ID: "bit.ly/a", URL: tt.url(ts), Expect: tt.expect,
			}})
			samples, err := env.Poll(t, "linkprobe")
			if err != nil {
				t.Fatalf("Poll: %v", err)
			}
			got := outcomes(samples)["bitly/bit.ly/a"]
			if got == nil {
				t.Fatal("no samples for the link")
			}
			got.duration = 0
			want := tt.want
			want.host = strings.Replace(want.host, "127.0.0.1:shop", strings.TrimPrefix(ts.shopURL, "https://"), 1)
			if *got != want {
				t.Errorf("outcome = %+v, want %+v", *got, want)
			}
			reason := p.Findings()["bitly/bit.ly/a"]
			switch {
			case tt.wantReason == "" && reason != "":
				t.Errorf("healthy link has finding %q", reason)
			case !strings.Contains(reason, tt.wantReason):
				t.Errorf("finding = %q, want it to contain %q", reason, tt.wantReason)
			}
			// The landing scheme is a label of the destination info.
			wantScheme := map[string]string{
				"https short link to an http destination":                    "http",
				"expect.scheme http allows it":                               "http",
				"https all the way":                                          "https",
				"the destination redirects to http":                          "http",
				"passing through http, landing on https":                     "https",
				"plain http link":                                            "http",
				"plain http link, expect.scheme https":                       "http",
				"plain http link upgraded, expect.scheme https":              "https",
				"https short link answering 2xx after its own http redirect": "http",
			}[tt.name]
			for _, smp := range samples {
				if smp.Metric == exporter.LinkDestinationInfo {
					if got := smp.Label("destination_scheme"); got != wantScheme {
						t.Errorf("destination_scheme = %q, want %q", got, wantScheme)
					}
				}
			}
		})
	}
}

// TestHTTPConfig: the probe's http_config sets its TLS trust, and its own
// dial, with the address rules, still applies.
func TestHTTPConfig(t *testing.T) {
	for _, tt := range []struct {
		name       string
		options    string
		wantUp     float64
		wantReason string
	}{
		{name: "ca_file trusts the site", wantUp: 1},
		{name: "the address rules still apply", options: `allow_cidrs: ["127.0.0.1/32"]`,
			wantReason: "address 127.0.0.2 is in the default deny list (loopback, RFC 1122)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTLSSites(t)
			url := ts.shopURL + "/p"
			deniedAddr, conns := listenCounting(t, "127.0.0.2", true)
			if tt.wantReason != "" {
				url = "https://" + deniedAddr + "/p"
			}
			// The real dialer, which applies the rules.
			env, p := buildHTTPConfig(t, nil, ts.caFile, tt.options)
			env.Links.Publish("stub", []exporter.PublishedLink{{Campaign: "c", Creator: "a", Provider: "bitly", ID: "bit.ly/a", URL: url}})
			defer func() {
				if n := conns.Load(); n != 0 {
					t.Errorf("%d connections reached 127.0.0.2", n)
				}
			}()
			samples, err := env.Poll(t, "linkprobe")
			if err != nil {
				t.Fatal(err)
			}
			if got := outcomes(samples)["bitly/bit.ly/a"].up; got != tt.wantUp {
				t.Errorf("up = %g, want %g", got, tt.wantUp)
			}
			if got := p.Findings()["bitly/bit.ly/a"]; !strings.Contains(got, tt.wantReason) || (tt.wantReason == "" && got != "") {
				t.Errorf("finding = %q, want it to contain %q", got, tt.wantReason)
			}
		})
	}
}

// Package linkprobe checks that creators' tracking links still land where
// the campaign expects. Each refresh it requests every link the shortener
// collectors published (plus configured links with a url: override whose
// collector has published nothing yet, so a probe works while a shortener
// API is down), follows the redirect chain as a browser would, and exports
// influencer_link_up, _http_status_code, _redirects, _probe_duration_seconds
// and _destination_info per link.
//
// A link is broken (influencer_link_up 0) when:
//   - the final response is not 2xx (a 3xx without Location counts as final);
//   - the chain revisits a URL (a redirect loop) or needs more than
//     max_redirects hops;
//   - no response arrives: DNS, connect or TLS failure, a denied address
//     (deny_cidrs), or the probe's timeout;
//   - the link's expect.host is set and the final host differs (host[:port],
//     case-insensitive, default ports ignored; a subdomain is a different
//     host);
//   - a parameter of expect.utm is missing from the final URL's query, or
//     differs from the value given (an empty value only requires presence).
//
// influencer_link_http_status_code is the status of the last response of the
// chain, 0 when the chain ended without one (then there is no
// destination_info either). A broken link is a finding, not a collector
// failure: the collector is up whenever it could run the probes. Why a link
// is broken is logged at debug level and kept for the landing page
// (Probe.Findings).
//
// Probes send HEAD by default: it asks whether the page is there without
// downloading it. But servers that serve GET fine answer HEAD with 400, 403,
// 404, 405 or even 500 (link checkers keep meeting them:
// https://github.com/sphinx-doc/sphinx/issues/1292,
// https://github.com/DjangoAdminHackers/django-linkcheck/pull/225), and a
// browser, which is what a creator's audience uses, always sends GET. So a
// HEAD answered with any 4xx or 5xx except 429 is retried once as GET, the
// rest of that chain uses GET, and the GET answer decides; a broken page
// costs one request more. A 429 is the host asking to slow down, which a
// GET would not change. A shortener may count a probe as a click; the
// User-Agent option names the probe so providers and shops can filter it.
//
// Requests per refresh: one per link and hop, plus one per HEAD fallback. No
// provider API quota is spent: probes do not use the shared API client (its
// retries and request metrics are for provider APIs), and response bodies
// are drained up to 64 KiB, never read. At most one request per host is
// sent per per_host_interval, across refreshes, so a campaign whose links
// all land on one shop never hammers it; the timeout counts only time spent
// on the network, not time waiting for that limit, and so does
// influencer_link_probe_duration_seconds. Idle connections are closed after
// each refresh, so every refresh measures what a new visitor meets.
//
// A refresh may take at most the collector's interval. Links it had no time
// to probe keep their previous result; Poll fails only when it could not
// start a single probe.
package linkprobe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/common/model"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

func init() {
	exporter.Register("linkprobe", New)
}

// Defaults of the options.
const (
	DefaultMethod          = http.MethodHead
	DefaultUserAgent       = "Mozilla/5.0 (compatible; influencer_exporter linkprobe)"
	DefaultTimeout         = 10 * time.Second
	DefaultMaxRedirects    = 10
	DefaultPerHostInterval = time.Second
	DefaultConcurrency     = 4
)

// options are the collector's provider-specific options.
type options struct {
	// Method is HEAD (falling back to GET when refused) or GET.
	Method    string `yaml:"method"`
	UserAgent string `yaml:"user_agent"`
	// Timeout bounds one probe, redirects included.
	Timeout      model.Duration `yaml:"timeout"`
	MaxRedirects int            `yaml:"max_redirects"`
	// PerHostInterval is the least time between two requests to one host;
	// 0 disables the limit. Links sharing a host are probed one interval
	// apart, so keep their count times this below the collector's interval.
	PerHostInterval model.Duration `yaml:"per_host_interval"`
	Concurrency     int            `yaml:"concurrency"`
	// DenyCIDRs lists address ranges the probe never connects to, for
	// example private networks, so a redirect cannot point the probe at
	// internal services. It checks the address actually dialled: behind a
	// proxy (HTTP_PROXY), that is the proxy's. Empty by default, since the
	// sandbox runs on loopback.
	DenyCIDRs []string `yaml:"deny_cidrs"`
}

// Probe is the link probe collector.
type Probe struct {
	opts    options
	deny    []netip.Prefix
	logger  *slog.Logger
	links   *exporter.LinkSet
	config  []exporter.PublishedLink // configured links with a url: override
	client  *http.Client
	limiter *hostLimiter
	// dial opens connections; tests replace it to fake DNS failures and
	// to map test host names to loopback servers.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	mu      sync.Mutex
	last    map[string]result
	reasons map[string]string
}

// New builds a link probe from its settings. It validates the options and
// resolves configured links, without network I/O.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	opts := options{
		Method:          DefaultMethod,
		UserAgent:       DefaultUserAgent,
		Timeout:         model.Duration(DefaultTimeout),
		MaxRedirects:    DefaultMaxRedirects,
		PerHostInterval: model.Duration(DefaultPerHostInterval),
		Concurrency:     DefaultConcurrency,
	}
	if err := cc.DecodeOptions(&opts); err != nil {
		return nil, err
	}
	var errs []error
	field := func(name string) string { return cc.Path() + ".options." + name }
	opts.Method = strings.ToUpper(opts.Method)
	if opts.Method != http.MethodHead && opts.Method != http.MethodGet {
		errs = append(errs, cfg.Errorf(field("method"), "must be HEAD or GET, got %q", opts.Method))
	}
	if strings.TrimSpace(opts.UserAgent) == "" {
		errs = append(errs, cfg.Errorf(field("user_agent"), "must not be empty"))
	}
	if opts.Timeout <= 0 {
		errs = append(errs, cfg.Errorf(field("timeout"), "must be positive"))
	}
	if opts.MaxRedirects < 0 {
		errs = append(errs, cfg.Errorf(field("max_redirects"), "must not be negative, got %d", opts.MaxRedirects))
	}
	if opts.PerHostInterval < 0 {
		errs = append(errs, cfg.Errorf(field("per_host_interval"), "must not be negative"))
	}
	if opts.Concurrency < 1 {
		errs = append(errs, cfg.Errorf(field("concurrency"), "must be at least 1, got %d", opts.Concurrency))
	}
	var deny []netip.Prefix
	for i, c := range opts.DenyCIDRs {
		pfx, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			errs = append(errs, cfg.Errorf(fmt.Sprintf("%s[%d]", field("deny_cidrs"), i), "invalid CIDR %q", c))
			continue
		}
		deny = append(deny, pfx.Masked())
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	p := &Probe{
		opts:    opts,
		deny:    deny,
		logger:  s.Logger,
		links:   s.Links,
		config:  configuredLinks(cfg),
		limiter: newHostLimiter(time.Duration(opts.PerHostInterval)),
		last:    map[string]result{},
		reasons: map[string]string{},
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	if p.links == nil {
		p.links = exporter.NewLinkSet()
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: p.checkAddress}
	p.dial = dialer.DialContext
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return p.dial(ctx, network, addr)
	}
	p.client = &http.Client{
		Transport: t,
		// Redirects are followed by the probe itself, to count hops,
		// detect loops and apply the per-host limit to each of them.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return p, nil
}

// configuredLinks returns the links of the config that carry a url:
// override, labelled with the type of the collector they belong to.
func configuredLinks(cfg *exporter.Config) []exporter.PublishedLink {
	types := map[string]string{}
	for _, cc := range cfg.Collectors {
		if cc != nil {
			types[cc.Name] = cc.Type
		}
	}
	var out []exporter.PublishedLink
	for _, camp := range cfg.Campaigns {
		if camp == nil {
			continue
		}
		for _, cr := range camp.Creators {
			if cr == nil {
				continue
			}
			for _, l := range cr.Links {
				if l == nil || l.URL == "" {
					continue
				}
				out = append(out, exporter.PublishedLink{
					Campaign: camp.Name,
					Creator:  cr.Name,
					Provider: types[l.Collector],
					ID:       l.ID,
					URL:      l.URL,
					Expect:   l.Expect,
				})
			}
		}
	}
	return out
}

// checkAddress refuses to connect to an address in deny_cidrs. It runs
// after name resolution, for every address the dialer tries.
func (p *Probe) checkAddress(network, address string, _ syscall.RawConn) error {
	if len(p.deny) == 0 {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	ip = ip.Unmap()
	for _, pfx := range p.deny {
		if pfx.Contains(ip) {
			return fmt.Errorf("address %s is in deny_cidrs", ip)
		}
	}
	return nil
}

func linkKey(l exporter.PublishedLink) string { return l.Provider + "/" + l.ID }

// targets returns the links to probe: every published link, then the
// configured links with a url: override that no collector published.
// Duplicates by provider and id are dropped; the first one wins.
func (p *Probe) targets() []exporter.PublishedLink {
	seen := map[string]bool{}
	var out []exporter.PublishedLink
	for _, group := range [][]exporter.PublishedLink{p.links.All(), p.config} {
		for _, l := range group {
			k := linkKey(l)
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, l)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Provider != out[j].Provider {
			return out[i].Provider < out[j].Provider
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Poll probes every link. A broken link is reported in its samples, not as
// an error; Poll fails only if ctx ended before any probe started.
func (p *Probe) Poll(ctx context.Context) ([]exporter.Sample, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("linkprobe: %w", err)
	}
	links := p.targets()
	p.limiter.prune()
	defer p.client.CloseIdleConnections()

	results := make([]result, len(links))
	var started atomic.Int64
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(p.opts.Concurrency, len(links)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if ctx.Err() != nil {
					results[i] = result{link: links[i], skipped: true}
					continue
				}
				started.Add(1)
				results[i] = p.probe(ctx, links[i])
			}
		}()
	}
	for i := range links {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	if started.Load() == 0 && ctx.Err() != nil {
		return nil, fmt.Errorf("linkprobe: no link probed: %w", ctx.Err())
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	last := make(map[string]result, len(results))
	reasons := map[string]string{}
	var samples []exporter.Sample
	skipped := 0
	for _, r := range results {
		k := linkKey(r.link)
		if r.skipped {
			skipped++
			prev, ok := p.last[k]
			if !ok {
				continue
			}
			// Keep the previous outcome, with this refresh's labels.
			prev.link = r.link
			r = prev
		} else if !r.up {
			p.logger.Debug("link broken", "campaign", r.link.Campaign, "creator", r.link.Creator,
				"provider", r.link.Provider, "link", r.link.ID, "reason", r.reason)
		}
		last[k] = r
		if !r.up {
			reasons[k] = r.reason
		}
		samples = append(samples, r.samples()...)
	}
	if skipped > 0 {
		p.logger.Warn("refresh ended before every link was probed, keeping their previous results",
			"skipped", skipped, "links", len(links))
	}
	p.last, p.reasons = last, reasons
	return samples, nil
}

// Findings returns why each broken link of the last refresh is broken, keyed
// by provider + "/" + link id (bitly/bit.ly/abc). Healthy links are absent.
func (p *Probe) Findings() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]string, len(p.reasons))
	for k, v := range p.reasons {
		out[k] = v
	}
	return out
}

func (r result) samples() []exporter.Sample {
	l := r.link
	lv := []string{l.Campaign, l.Creator, l.Provider, l.ID}
	up := 0.0
	if r.up {
		up = 1
	}
	out := []exporter.Sample{
		exporter.LinkUp.Sample(up, lv...),
		exporter.LinkStatusCode.Sample(float64(r.status), lv...),
		exporter.LinkRedirects.Sample(float64(r.redirects), lv...),
		exporter.LinkProbeDuration.Sample(r.duration.Seconds(), lv...),
	}
	if r.host != "" {
		out = append(out, exporter.LinkDestinationInfo.Sample(1, append(lv, r.host)...))
	}
	return out
}

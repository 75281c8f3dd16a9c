// Package linkprobe checks, once per interval (1m by default), that every
// creator's tracking link still lands where the campaign expects, without
// ever counting as a click.
//
// What it watches: every link of the config (links:, url: overrides
// included) and every link the shortener collectors published, those
// found by tags too. A configured link with nothing to request (its
// shortener collector has not published it and it has no url:) is reported
// missing, with the reason, in influencer_collector_objects{kind="probe"}
// and on the landing page (Coverage).
//
// One round per refresh, in two kinds of requests:
//
//   - The short link: one HEAD per link to the link's URL, its redirects
//     followed only while they stay on short link hosts (to the
//     shortener's https or canonical URL). The first Location off them is
//     the shortener's answer: where visitors are sent. It is compared with
//     the destination the shortener's API reports
//     (PublishedLink.Destination) when the collector read it; a
//     difference is shown on the landing page, not judged (geo or device
//     targeting, or an edit since that collector's last refresh). A short
//     link is never sent GET, not even when it refuses HEAD: shorteners
//     count GET as a click, and filter HEAD and self-declared bots
//     (docs/link-probe.md has the rules of each, with sources). A short
//     link answering 2xx is its own destination (a url: pointing at a
//     page), unless the shortener's API reports a destination: then the
//     2xx was a page for bots (Dub serves a preview page to bots for links
//     with custom previews) and the destination is probed instead, as it
//     is when a short link refuses HEAD (405, 501). A url: page refusing
//     HEAD is probed as a destination, from GET.
//   - The destination: each distinct destination, the Location without
//     its utm_* parameters, is probed once per round however many links
//     lead there, by following its redirect chain as a browser would:
//     HEAD, and a HEAD answered with any 4xx or 5xx except 429 is retried
//     once as GET, which the rest of that chain then uses (link checkers
//     keep meeting servers that serve GET fine and refuse HEAD:
//     https://github.com/sphinx-doc/sphinx/issues/1292,
//     https://github.com/DjangoAdminHackers/django-linkcheck/pull/225). The
//     first link's Location is requested as it is, utm_* included, so a
//     redirect of the destination that drops the query shows: the
//     parameters it lost are missing for every link leading there.
//     Requests to a short link host inside a chain are HEAD too.
//
// A link is broken (influencer_link_up 0) when:
//   - the final response is not 2xx (a 3xx without Location counts as
//     final), the short link's own answer included;
//   - a chain revisits a URL (a redirect loop) or needs more than
//     max_redirects hops, the short link's counted;
//   - no response arrives: DNS, connect or TLS failure, a refused address
//     (below), or the timeout, which bounds the short link's requests and
//     each destination's chain;
//   - a redirect leads to a scheme other than http and https (ftp:,
//     file:, data:, javascript:, an app's): it is never requested ("scheme
//     ftp is not followed");
//   - the link's expect.host is set and the final host differs (host[:port],
//     case-insensitive, default ports ignored; a subdomain is a different
//     host);
//   - a parameter of expect.utm is missing from the link's own Location (what
//     its visitors are sent to), differs from the value given (an empty
//     value only requires presence), or is dropped by the destination's
//     redirects.
//   - the link is requested over https and a redirect, the shortener's or
//     the destination's, leads to http ("downgraded to http at <url>"),
//     unless its expect.scheme is http (then the landing page notes it);
//     with expect.scheme https, also when the landing URL is http. A link
//     starting on http is never a downgrade. The final scheme shows in the
//     reason or note, not as a label of _destination_info.
//
// A failed short link request or destination chain is confirmed: tried
// again confirm_delay (5s) later, and only a second failure makes the link
// broken, with the reason of both attempts (landing page, Findings). A
// single 503 or timeout followed by a success never sets
// influencer_link_up 0. A failure whose confirmation the round has no time
// for keeps the link's previous result; its links go first next round,
// whose first attempt is the confirmation. Wrong host or UTM parameters
// are not retried: they do not come and go.
//
// Pacing. A round spreads its requests evenly over 80% of the interval,
// its window (the rest is for confirmations), each host's requests
// staggered against the others': at least short_link_interval apart per
// short link host, at least per_host_interval apart per destination host
// (the shops), across rounds too. The order of the links is kept from
// round to round, so each link and destination is probed about an
// interval after its last probe, which the paging budget in
// docs/runbooks.md counts on. New plans a round from the configured links
// and refuses a config whose round cannot fit its window, naming the host,
// the numbers and the setting to change, so --config.check and a reload
// fail rather than a round silently leaving links out. At run time (links
// found by tags, destinations learnt from Location) a round that cannot
// fit probes what fits, in an order that puts the links left out first
// next round (exporter.Rotation), logs a warning with the numbers, and
// reports the others skipped; they keep their previous result. Results
// are exported as they arrive (exporter.Progress, at most once a second,
// or once every ten times the last export took to store: 2-3 s at 20,000
// links), so a confirmed broken link shows within seconds, not at the
// round's end.
// concurrency bounds the requests in flight.
//
// Metrics per link: influencer_link_up, _http_status_code (of the last
// response, 0 when the chain ended without one; then there is no
// _destination_info either), _redirects (the short link's plus its
// destination's), _probe_duration_seconds (network time of the short link
// request plus its destination's chain, waits excluded),
// _destination_info and _last_probe_timestamp_seconds (when the probe
// completed, confirmation included). A broken link is a finding, not a
// collector failure: the collector is up whenever it could run the
// probes. Links a round did not probe keep their previous series.
//
// Addresses. Redirects, not the operator, choose where the probe goes, so
// it refuses by default every address that is not public (defaultDeny in
// deny.go: loopback, private, link-local, carrier-grade NAT, cloud
// metadata, multicast...), at dial time, on each address a name resolves
// to: a name resolving to a refused address, or one whose DNS answer
// changes between two probes, is refused as the address is. allow_cidrs
// lifts parts of that list (an internal shop, the sandbox on loopback),
// deny_cidrs adds ranges that win over everything, and deny_defaults:
// false turns the list off. A refusal names its rule ("address a.b.c.d
// is in the default deny list (private, RFC 1918)", "address 127.0.0.2 is
// in deny_cidrs 127.0.0.2/32") in the reason and on the chain.
//
// http_config (TLS, proxy, HTTP/2) builds the probe's transport, around
// its own dial, so the rules still apply; follow_redirects: false is
// refused. Through a proxy (http_config's, or HTTP_PROXY without
// http_config) the proxy connects to the page: the probe resolves the
// page's host itself and checks its addresses before handing the request
// over, and does not check the proxy's own address, which the operator
// chose.
//
// The /links page (exporter.LinksPage) shows what the probe knows of each
// link (LinkDetails): its state (up, broken, pending before its first
// probe, skipped by the last round, missing), the reason, since when it is
// up or broken (kept across rounds), and every request of its last probe:
// method, URL, status, time, Location, error and the expect rule failed
// there. URLs there lose their user info and the values of query
// parameters named like credentials; the rest of the query stays, for the
// utm_* values. A link keeps at most max_redirects + 2 requests, and a
// destination's chain is kept once for all the links leading there, so
// 20,000 links cost a few megabytes. ProbeLink, behind /links/probe,
// probes one link now: its short link and destination, judged as a round
// judges them, within timeout and the address rules, but in a single
// attempt without confirmation, outside the round's pacing, and one at a
// time. Its result changes no exported series, stored result or finding:
// the next round does.
//
// No provider API quota is spent: probes do not use the shared API client
// (its retries and request metrics are for provider APIs), and response
// bodies are drained up to 64 KiB, never read. Idle connections are closed
// after each round, so every round measures what a new visitor meets.
package linkprobe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

func init() {
	exporter.Register("linkprobe", New)
	exporter.SetDefaultInterval("linkprobe", DefaultInterval)
}

// Defaults of the options. Interval, timeout and confirm delay are part of
// the paging budget in docs/runbooks.md: change them together.
const (
	DefaultInterval     = time.Minute
	DefaultMethod       = http.MethodHead
	DefaultTimeout      = 10 * time.Second
	DefaultConfirmDelay = 5 * time.Second
	DefaultMaxRedirects = 10
	// DefaultPerHostInterval spaces requests to one destination host: 4
	// a second at most, a few hundred pages a minute.
	DefaultPerHostInterval = 250 * time.Millisecond
	// DefaultShortLinkInterval spaces requests to one short link host:
	// 100 a second at most, 4800 links a minute, which shorteners built
	// for millions of clicks a day do not notice.
	DefaultShortLinkInterval = 10 * time.Millisecond
	DefaultConcurrency       = 128
)

// DefaultUserAgent names the probe, and says "bot": Dub filters clicks by
// User-Agent patterns that include "bot", so do the common bot lists, and
// Short.io and Rebrandly say they drop bots from click counts.
const DefaultUserAgent = "Mozilla/5.0 (compatible; influencer_exporter-linkprobe-bot/1.0)"

// options are the collector's provider-specific options.
type options struct {
	// Method is how destinations are requested: HEAD (falling back to GET
	// when refused) or GET. Short links are always sent HEAD.
	Method    string `yaml:"method"`
	UserAgent string `yaml:"user_agent"`
	// Timeout bounds the short link's request, and each destination's
	// redirect chain.
	Timeout model.Duration `yaml:"timeout"`
	// ConfirmDelay is the wait before a failed attempt is tried again.
	ConfirmDelay model.Duration `yaml:"confirm_delay"`
	MaxRedirects int            `yaml:"max_redirects"`
	// PerHostInterval is the least time between two requests to one
	// destination host; 0 disables the limit.
	PerHostInterval model.Duration `yaml:"per_host_interval"`
	// ShortLinkInterval is the least time between two requests to one
	// short link host; 0 disables the limit.
	ShortLinkInterval model.Duration `yaml:"short_link_interval"`
	// Concurrency is the most requests in flight at once.
	Concurrency int `yaml:"concurrency"`
	// Campaigns, when set, restricts the probe to the links of these
	// campaigns, so the links can be split over several linkprobe
	// collectors.
	Campaigns []string `yaml:"campaigns"`
	// DenyDefaults, true by default, refuses the default deny list
	// (defaultDeny: loopback, private, link-local, cloud metadata...), so
	// a redirect cannot point the probe at internal services.
	DenyDefaults bool `yaml:"deny_defaults"`
	// AllowCIDRs lifts parts of the default deny list: an internal shop,
	// the sandbox on loopback. Each entry must lie inside a default range,
	// and lifts it only where no narrower default range (a cloud metadata
	// address) says otherwise.
	AllowCIDRs []string `yaml:"allow_cidrs"`
	// DenyCIDRs are more ranges the probe never connects to; they win over
	// allow_cidrs.
	DenyCIDRs []string `yaml:"deny_cidrs"`
}

func defaultOptions() options {
	return options{
		Method:            DefaultMethod,
		UserAgent:         DefaultUserAgent,
		Timeout:           model.Duration(DefaultTimeout),
		ConfirmDelay:      model.Duration(DefaultConfirmDelay),
		MaxRedirects:      DefaultMaxRedirects,
		PerHostInterval:   model.Duration(DefaultPerHostInterval),
		ShortLinkInterval: model.Duration(DefaultShortLinkInterval),
		Concurrency:       DefaultConcurrency,
		DenyDefaults:      true,
	}
}

// configured is a link of the config the probe watches.
type configured struct {
	campaign, creator string
	collector, typ    string
	id                string
	url               string // the url: override, "" if none
	expect            *exporter.Expect
}

func (c configured) key() string { return c.typ + "/" + normID(c.id) }

// missingReason says why a configured link without url: is not probed.
func (c configured) missingReason() string {
	return fmt.Sprintf("collector %s has not published this link yet (its refresh failed, or %s does not know the link; see that collector), and it has no url: to probe instead", c.collector, c.typ)
}

// Probe is the link probe collector.
type Probe struct {
	opts     options
	interval time.Duration
	rules    addrRules
	logger   *slog.Logger
	links    *exporter.LinkSet
	// config are the configured links, in file order; overrides maps the
	// key of each one with a url: override to it.
	config    []configured
	overrides map[string]string
	campaigns map[string]bool // nil: every campaign
	client    *http.Client
	// short spaces the requests to short link hosts, dest those to
	// destination hosts.
	short, dest *hostLimiter
	sem         chan struct{}
	rotation    *exporter.Rotation
	// dial opens connections (dialGuarded); tests replace it to fake DNS
	// failures and to map test host names to loopback servers.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// resolver resolves names for dialGuarded and checkProxied, nil for
	// Go's default; tests give it their own DNS.
	resolver *net.Resolver
	// proxy is the transport's choice of proxy for a request (nil: none),
	// for checkProxied.
	proxy func(*http.Request) (*url.URL, error)
	// now and sleep are the clock of the round's schedule and of
	// confirmations; tests replace them with setClock. Network time is
	// always measured on the wall clock.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	// finished, if set, is told of each link whose probe is over; tests
	// wait on it.
	finished func(key string)

	mu       sync.Mutex
	last     map[string]result // by link key
	findings map[string]string
	coverage []exporter.ObjectStatus
	// destCount is the number of distinct destinations per host in the
	// last round: the next round spreads that many over its window.
	destCount map[string]int
	// pendingHop and pendingDest are failed attempts whose confirmation
	// a round ended before, by link and destination key.
	pendingHop, pendingDest map[string]attempt
	// skipped are the links the last round left out, with why; current
	// is the round running, nil between rounds: LinkDetails shows its
	// results as they arrive, as the exported series do.
	skipped map[string]string
	current *round

	// onDemand holds the one ProbeLink allowed at a time.
	onDemand chan struct{}
}

// New builds a link probe from its settings. It validates the options,
// resolves configured links and plans a round, without network I/O.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	opts := defaultOptions()
	// An option that does not decode keeps its default, so the checks
	// below still run and --config.check shows every error at once.
	var errs []error
	if err := cc.DecodeOptions(&opts); err != nil {
		errs = append(errs, err)
	}
	interval := time.Duration(cc.Interval)
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
	// Durations are never negative: model.Duration refuses them.
	if time.Duration(opts.ConfirmDelay) >= interval {
		errs = append(errs, cfg.Errorf(field("confirm_delay"), "must be below the interval (%s)", fmtDuration(interval)))
	}
	if opts.MaxRedirects < 1 {
		errs = append(errs, cfg.Errorf(field("max_redirects"), "must be at least 1 (a short link is a redirect), got %d", opts.MaxRedirects))
	}
	if opts.Concurrency < 1 {
		errs = append(errs, cfg.Errorf(field("concurrency"), "must be at least 1, got %d", opts.Concurrency))
	}
	var campaigns map[string]bool
	if len(opts.Campaigns) > 0 {
		known := map[string]bool{}
		for _, c := range cfg.Campaigns {
			if c != nil {
				known[c.Name] = true
			}
		}
		campaigns = map[string]bool{}
		for i, name := range opts.Campaigns {
			if !known[name] {
				errs = append(errs, cfg.Errorf(fmt.Sprintf("%s[%d]", field("campaigns"), i), "unknown campaign %q", name))
			}
			campaigns[name] = true
		}
	}
	rules, ruleErrs := parseRules(opts, func(path string, format string, args ...any) error {
		return cfg.Errorf(field(path), format, args...)
	})
	errs = append(errs, ruleErrs...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	p := &Probe{
		opts:        opts,
		interval:    interval,
		rules:       rules,
		logger:      s.Logger,
		links:       s.Links,
		campaigns:   campaigns,
		overrides:   map[string]string{},
		short:       newHostLimiter(time.Duration(opts.ShortLinkInterval)),
		dest:        newHostLimiter(time.Duration(opts.PerHostInterval)),
		sem:         make(chan struct{}, opts.Concurrency),
		rotation:    exporter.NewRotation(),
		last:        map[string]result{},
		findings:    map[string]string{},
		destCount:   map[string]int{},
		pendingHop:  map[string]attempt{},
		pendingDest: map[string]attempt{},
		skipped:     map[string]string{},
		onDemand:    make(chan struct{}, 1),
	}
	p.config = configuredLinks(cfg, campaigns)
	for _, c := range p.config {
		if c.url != "" {
			p.overrides[c.key()] = c.url
		}
	}
	if errs := p.loadPlan().errors(cc); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	if lo := p.rules.allowsLoopback(); lo != "" && cfg.Sandbox == nil {
		// The sandbox's config allows loopback for its fakes; a config
		// copied from it without the sandbox keeps that allow.
		p.logger.Warn("allow_cidrs lets redirects reach this machine's own services, and no sandbox runs: remove it unless a shop really is on loopback",
			"allow_cidrs", lo)
	}
	if p.links == nil {
		p.links = exporter.NewLinkSet()
	}
	p.setClock(time.Now, sleepCtx)
	p.dial = p.dialGuarded
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return p.dial(ctx, network, addr)
	}
	// Go's default transport takes its proxy from the environment; the
	// probe asks the same function, to check the page behind the proxy.
	p.proxy = t.Proxy
	t.Proxy = p.proxyFor
	// Keep enough connections to a shortener for the requests in flight
	// to it; they are closed after each round.
	t.MaxIdleConns = max(t.MaxIdleConns, opts.Concurrency)
	t.MaxIdleConnsPerHost = opts.Concurrency
	var rt http.RoundTripper = t
	if h := cc.HTTPClient; h != nil {
		// http_config (TLS, proxy, HTTP/2) replaces Go's default
		// transport; the dial, and with it the address rules, stays the
		// probe's, and the probe asks the block's proxy function (on a
		// copy: it caches it) which requests go through a proxy.
		pc := h.ProxyConfig
		p.proxy = pc.Proxy()
		if !h.FollowRedirects {
			return nil, cfg.Errorf(cc.Path()+".http_config.follow_redirects", "the probe follows redirects itself, hop by hop: remove follow_redirects: false")
		}
		var err error
		rt, err = exporter.NewTransport(h, cc.Name, config.WithDialContextFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
			return p.dial(ctx, network, addr)
		}))
		if err != nil {
			return nil, cfg.Errorf(cc.Path()+".http_config", "%v", err)
		}
	}
	p.client = &http.Client{
		Transport: rt,
		// Redirects are followed by the probe itself, to count hops,
		// detect loops, keep short links to HEAD and space each hop.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return p, nil
}

// setClock sets the clock of the schedule, the limiters and confirmations.
func (p *Probe) setClock(now func() time.Time, sleep func(context.Context, time.Duration) error) {
	p.now, p.sleep = now, sleep
	for _, l := range []*hostLimiter{p.short, p.dest} {
		l.now, l.sleep = now, sleep
	}
}

// loadPlan plans a round from what the config says: one request per
// configured link on its short link host (the url: override's host, else
// the link id's). Links found by tags and destinations are known only at
// run time, where each round plans again.
func (p *Probe) loadPlan() roundPlan {
	short := map[string]int{}
	for _, c := range p.config {
		raw := c.url
		if raw == "" {
			raw = "https://" + c.id
		}
		if u, err := parseProbeURL(raw); err == nil {
			short[canonicalHost(u)]++
		}
	}
	return newRoundPlan(p.opts, p.interval, short, nil)
}

// configuredLinks returns every link of the config in the given campaigns
// (nil: all), with the type of the collector it belongs to.
func configuredLinks(cfg *exporter.Config, campaigns map[string]bool) []configured {
	types := map[string]string{}
	for _, cc := range cfg.Collectors {
		if cc != nil {
			types[cc.Name] = cc.Type
		}
	}
	var out []configured
	for _, camp := range cfg.Campaigns {
		if camp == nil || (campaigns != nil && !campaigns[camp.Name]) {
			continue
		}
		for _, cr := range camp.Creators {
			if cr == nil {
				continue
			}
			for _, l := range cr.Links {
				if l == nil {
					continue
				}
				out = append(out, configured{
					campaign: camp.Name, creator: cr.Name,
					collector: l.Collector, typ: types[l.Collector],
					id: l.ID, url: l.URL, expect: l.Expect,
				})
			}
		}
	}
	return out
}

// normID is a link id with its host in lower case, as shorteners compare
// them.
func normID(id string) string {
	if host, path, ok := exporter.SplitLinkID(id); ok {
		return host + "/" + path
	}
	return id
}

func linkKey(l exporter.PublishedLink) string { return l.Provider + "/" + normID(l.ID) }

// targets returns the links to probe: every published link, then the
// configured links with a url: override that no collector published.
// Duplicates by provider and id are dropped; the first one wins.
func (p *Probe) targets() []exporter.PublishedLink {
	seen := map[string]bool{}
	var out []exporter.PublishedLink
	add := func(l exporter.PublishedLink) {
		k := linkKey(l)
		if seen[k] || (p.campaigns != nil && !p.campaigns[l.Campaign]) {
			return
		}
		seen[k] = true
		out = append(out, l)
	}
	for _, l := range p.links.All() {
		add(l)
	}
	for _, c := range p.config {
		if c.url != "" {
			add(exporter.PublishedLink{Campaign: c.campaign, Creator: c.creator, Provider: c.typ, ID: c.id, URL: c.url, Expect: c.expect})
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

// Poll runs one round. A broken link is reported in its samples, not as an
// error; Poll fails only if ctx ended before any probe started.
func (p *Probe) Poll(ctx context.Context) ([]exporter.Sample, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("linkprobe: %w", err)
	}
	defer p.client.CloseIdleConnections()
	r := p.newRound(ctx, p.targets())
	p.mu.Lock()
	p.current = r
	p.mu.Unlock()
	if !r.run() {
		p.mu.Lock()
		p.current = nil
		p.mu.Unlock()
		return nil, fmt.Errorf("linkprobe: no link probed: %w", ctx.Err())
	}
	return r.finish(), nil
}

// Findings returns why each broken link is broken, and where a working
// short link redirects elsewhere than its shortener's API says, keyed by
// provider + "/" + link id (bitly/bit.ly/abc).
func (p *Probe) Findings() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]string, len(p.findings))
	for k, v := range p.findings {
		out[k] = v
	}
	return out
}

// Coverage returns the state of every link the probe watches after the
// last round: exported (probed by it), skipped (not probed by it: its
// previous result is kept) or missing (nothing to probe).
func (p *Probe) Coverage() []exporter.ObjectStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]exporter.ObjectStatus(nil), p.coverage...)
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
		exporter.LinkLastProbe.Sample(float64(r.at.UnixNano())/1e9, lv...),
	}
	if r.host != "" {
		out = append(out, exporter.LinkDestinationInfo.Sample(1, append(lv, r.host, r.scheme)...))
	}
	return out
}

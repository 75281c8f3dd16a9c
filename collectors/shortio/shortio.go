// Package shortio collects the lifetime clicks of a creator's Short.io links.
//
// Short.io lists links per domain, so a collector serves one domain,
// named by options.domain_id (the number in the dashboard's URL). A link is
// configured by its short link without scheme, hostname and path:
// short.gy/alice. Links can also be discovered by tag.
//
// Calls per refresh, for a domain with N links of which M are reported
// (configured plus discovered):
//
//	max(1, ceil(N/150))  GET /api/links, 150 links a page, following nextPageToken
//	ceil(M/150)          GET /statistics/domain/{id}/link_clicks?ids=..., 150 links a call
//	+1 on the first refresh only: GET /domains/{id} for the hostname, unless options.domain is set
//
// Tag discovery filters the listed links by their tags[] on our side: the
// listing is needed anyway to map paths to link ids, so tags cost no call.
//
// Short.io allows about 10 statistics requests a minute (and far more on
// the links API). The collector spaces its link_clicks calls with its own
// limiter, options.statistics_requests_per_minute (default 10), on top of
// the shared per-collector rate limit.
package shortio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/time/rate"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Provider is the collector type and the `provider` label value.
const Provider = "shortio"

// DefaultStatisticsRequestsPerMinute is Short.io's documented statistics
// rate limit.
const DefaultStatisticsRequestsPerMinute = 10

func init() {
	exporter.Register(Provider, New)
}

// Options are the provider-specific settings under `options:`.
type Options struct {
	// DomainID is the Short.io domain whose links the collector reads.
	// Required.
	DomainID int64 `yaml:"domain_id"`
	// Domain is the domain's hostname (short.gy). When empty it is read
	// once from the API.
	Domain string `yaml:"domain"`
	// StatisticsBaseURL is the statistics API host; base_url is the links
	// API host.
	StatisticsBaseURL string `yaml:"statistics_base_url"`
	// StatisticsRequestsPerMinute caps link_clicks calls.
	StatisticsRequestsPerMinute float64 `yaml:"statistics_requests_per_minute"`
}

type collector struct {
	name    string
	api     *api
	links   []exporter.LinkRef
	tags    []exporter.TagRef
	set     *exporter.LinkSet
	logger  *slog.Logger
	limiter *rate.Limiter

	mu       sync.Mutex
	hostname string // from options.domain or the API, then cached
}

// New builds a Short.io collector. It validates options and configured
// links and makes no call.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	opts := Options{
		StatisticsBaseURL:           DefaultStatisticsBaseURL,
		StatisticsRequestsPerMinute: DefaultStatisticsRequestsPerMinute,
	}
	if err := cc.DecodeOptions(&opts); err != nil {
		return nil, err
	}
	p := cc.Path() + ".options"
	if opts.DomainID <= 0 {
		return nil, cfg.Errorf(p+".domain_id", "required: the Short.io domain id (a positive number), got %d", opts.DomainID)
	}
	if err := checkBaseURL(opts.StatisticsBaseURL); err != nil {
		return nil, cfg.Errorf(p+".statistics_base_url", "%v", err)
	}
	if opts.StatisticsRequestsPerMinute <= 0 {
		return nil, cfg.Errorf(p+".statistics_requests_per_minute", "must be positive, got %g", opts.StatisticsRequestsPerMinute)
	}
	host := strings.ToLower(strings.TrimSpace(opts.Domain))
	if strings.ContainsAny(host, "/:") {
		return nil, cfg.Errorf(p+".domain", "must be a hostname like short.gy, got %q", opts.Domain)
	}

	links := cfg.LinksFor(cc.Name)
	for _, l := range links {
		h, _, ok := splitID(l.ID)
		if !ok {
			return nil, cfg.Errorf(l.Path()+".id", "%q is not a Short.io link: want hostname/path, like short.gy/alice", l.ID)
		}
		if host != "" && h != host {
			return nil, cfg.Errorf(l.Path()+".id", "link %q is not on domain %s, the only one collector %q reads", l.ID, host, cc.Name)
		}
	}

	base := cc.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	s.Client.SetHooks(exporter.ClientHooks{
		ErrorMessage: errorMessage,
		Authorize:    authorize,
	})
	perMinute := opts.StatisticsRequestsPerMinute
	return &collector{
		name: cc.Name,
		api: &api{
			c:         s.Client,
			base:      strings.TrimRight(base, "/"),
			statsBase: strings.TrimRight(opts.StatisticsBaseURL, "/"),
			domainID:  opts.DomainID,
		},
		links:    links,
		tags:     cfg.TagsFor(cc.Name),
		set:      s.Links,
		logger:   s.Logger,
		limiter:  rate.NewLimiter(rate.Limit(perMinute/60), max(1, int(perMinute))),
		hostname: host,
	}, nil
}

func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an absolute http or https URL, got %q", raw)
	}
	if u.User != nil || u.RawQuery != "" {
		return errors.New("must not carry credentials or a query string")
	}
	return nil
}

// splitID splits short.gy/alice into its lowercased hostname and its path.
func splitID(id string) (host, path string, ok bool) {
	host, path, ok = strings.Cut(strings.TrimSpace(id), "/")
	if !ok || host == "" || path == "" {
		return "", "", false
	}
	return strings.ToLower(host), path, true
}

// target is one link to report.
type target struct {
	campaign, creator string
	id                string
	link              apiLink
	urlOverride       string
	expect            *exporter.Expect
}

// Poll lists the domain's links, resolves the configured and tagged ones,
// and reads their clicks in batches.
func (c *collector) Poll(ctx context.Context) ([]exporter.Sample, error) {
	host, err := c.resolveHostname(ctx)
	if err != nil {
		return nil, err
	}
	listed, pages, err := c.api.listLinks(ctx)
	if err != nil {
		return nil, fmt.Errorf("shortio: list links of domain %d: %w", c.api.domainID, err)
	}
	byPath := make(map[string]apiLink, len(listed))
	for _, l := range listed {
		if l.Path == "" || l.IDString == "" {
			continue // the domain's root link, or nothing to ask clicks for
		}
		byPath[l.Path] = l
	}

	var (
		targets []target
		skipped []error
		seen    = map[string]bool{}
	)
	for _, ref := range c.links {
		h, path, _ := splitID(ref.ID)
		l, ok := byPath[path]
		if h != host || !ok {
			skipped = append(skipped, fmt.Errorf("shortio: link %q: not found on domain %s (id %d): %w", ref.ID, host, c.api.domainID, exporter.ErrNotFound))
			continue
		}
		seen[l.IDString] = true
		targets = append(targets, target{
			campaign: ref.Campaign, creator: ref.Creator,
			id: ref.ID, link: l, urlOverride: ref.URL, expect: ref.Expect,
		})
	}
	for _, tag := range c.tags {
		for _, l := range listed {
			if l.Path == "" || l.IDString == "" || l.Archived || seen[l.IDString] || !hasTag(l.Tags, tag.Tag.Tag) {
				continue
			}
			seen[l.IDString] = true
			targets = append(targets, target{
				campaign: tag.Campaign, creator: tag.Creator,
				id: host + "/" + l.Path, link: l, expect: tag.Expect,
			})
		}
	}

	clicks := make(map[string]float64, len(targets))
	batches := 0
	for start := 0; start < len(targets); start += statsBatch {
		end := min(start+statsBatch, len(targets))
		ids := make([]string, 0, end-start)
		for _, t := range targets[start:end] {
			ids = append(ids, t.link.IDString)
		}
		if err := c.limiter.Wait(ctx); err != nil {
			return nil, fmt.Errorf("shortio: clicks of %d links: %w", len(ids), err)
		}
		batches++
		got, err := c.api.linkClicks(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("shortio: clicks of %d links on domain %d: %w", len(ids), c.api.domainID, err)
		}
		for id, v := range got {
			clicks[id] = v
		}
	}

	samples := make([]exporter.Sample, 0, len(targets))
	published := make([]exporter.PublishedLink, 0, len(targets))
	for _, t := range targets {
		// Absent from link_clicks means no clicks yet.
		samples = append(samples, exporter.LinkClicks.Sample(clicks[t.link.IDString], t.campaign, t.creator, Provider, t.id))
		published = append(published, exporter.PublishedLink{
			Campaign: t.campaign, Creator: t.creator, Provider: Provider,
			ID: t.id, URL: probeURL(t), Expect: t.expect,
		})
	}
	c.set.Publish(c.name, published)
	c.logger.Debug("refreshed links", "listed", len(listed), "reported", len(targets),
		"skipped", len(skipped), "list_calls", pages, "stats_calls", batches)
	return samples, exporter.Partial(skipped)
}

// resolveHostname returns options.domain, or reads the hostname of the
// domain once: it never changes for a domain id.
func (c *collector) resolveHostname(ctx context.Context) (string, error) {
	c.mu.Lock()
	h := c.hostname
	c.mu.Unlock()
	if h != "" {
		return h, nil
	}
	d, err := c.api.domain(ctx)
	if err != nil {
		return "", fmt.Errorf("shortio: hostname of domain %d: %w", c.api.domainID, err)
	}
	h = strings.ToLower(d.Hostname)
	c.mu.Lock()
	c.hostname = h
	c.mu.Unlock()
	return h, nil
}

func hasTag(tags []string, want string) bool {
	for _, t := range tags {
		if t == want {
			return true
		}
	}
	return false
}

// probeURL is the configured override, else the short URL Short.io reports
// (it carries the scheme the domain serves).
func probeURL(t target) string {
	switch {
	case t.urlOverride != "":
		return t.urlOverride
	case t.link.ShortURL != "":
		return t.link.ShortURL
	case t.link.SecureShortURL != "":
		return t.link.SecureShortURL
	}
	return "https://" + t.id
}

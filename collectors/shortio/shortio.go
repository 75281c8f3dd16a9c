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
	"maps"
	"slices"
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
	if err := exporter.CheckBaseURL(opts.StatisticsBaseURL); err != nil {
		return nil, cfg.Errorf(p+".statistics_base_url", "%v", err)
	}
	if opts.StatisticsRequestsPerMinute <= 0 {
		return nil, cfg.Errorf(p+".statistics_requests_per_minute", "must be positive, got %g", opts.StatisticsRequestsPerMinute)
	}
	host := strings.ToLower(strings.TrimSpace(opts.Domain))
	if strings.ContainsAny(host, "/:") {
		return nil, cfg.Errorf(p+".domain", "must be a hostname like short.gy, got %q", opts.Domain)
	}

	refs, errs := exporter.CheckShortener(cc, exporter.ShortenerRules{Form: "hostname/path, like short.gy/alice", Domain: host})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	s.Client.SetHooks(exporter.ClientHooks{
		ErrorMessage: errorMessage,
		// The secret key goes as is: Short.io rejects "Bearer <key>"
		// with 401.
		Authorize: exporter.HeaderAuth("Authorization"),
	})
	perMinute := opts.StatisticsRequestsPerMinute
	return &collector{
		name: cc.Name,
		api: &api{
			links:    exporter.NewAPI(cc, DefaultBaseURL, s.Client),
			stats:    &exporter.API{Base: strings.TrimRight(opts.StatisticsBaseURL, "/"), Client: s.Client},
			domainID: opts.DomainID,
		},
		links:    refs.Links,
		tags:     refs.Tags,
		set:      s.Links,
		logger:   s.Logger,
		limiter:  rate.NewLimiter(rate.Limit(perMinute/60), max(1, int(perMinute))),
		hostname: host,
	}, nil
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

	// Match first, then read the clicks of the distinct ids in batches;
	// each match reports itself once the clicks are in.
	report := exporter.NewLinkReport(Provider)
	var (
		pending []func(clicks map[string]float64)
		ids     []string
		want    = map[string]bool{}
		skipped int
	)
	ask := func(l apiLink, add func(clicks float64)) {
		if !want[l.IDString] {
			want[l.IDString] = true
			ids = append(ids, l.IDString)
		}
		// Absent from link_clicks means no clicks yet.
		pending = append(pending, func(clicks map[string]float64) { add(clicks[l.IDString]) })
	}
	for _, ref := range c.links {
		h, path, _ := exporter.SplitLinkID(ref.ID)
		l, ok := byPath[path]
		if h != host || !ok {
			report.Skip(fmt.Errorf("shortio: link %q: not found on domain %s (id %d): %w", ref.ID, host, c.api.domainID, exporter.ErrNotFound))
			skipped++
			continue
		}
		ask(l, func(clicks float64) { report.Configured(ref, shortURL(l, ref.ID), clicks) })
	}
	for _, tag := range c.tags {
		for _, l := range listed {
			if l.Path == "" || l.IDString == "" || l.Archived || !slices.Contains(l.Tags, tag.Tag.Tag) {
				continue
			}
			id := exporter.LinkID(host, l.Path)
			ask(l, func(clicks float64) { report.Discovered(tag, id, shortURL(l, id), clicks) })
		}
	}

	clicks := make(map[string]float64, len(ids))
	batches := 0
	for batch := range slices.Chunk(ids, statsBatch) {
		if err := c.limiter.Wait(ctx); err != nil {
			return nil, fmt.Errorf("shortio: clicks of %d links: %w", len(batch), err)
		}
		batches++
		got, err := c.api.linkClicks(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("shortio: clicks of %d links on domain %d: %w", len(batch), c.api.domainID, err)
		}
		maps.Copy(clicks, got)
	}

	for _, add := range pending {
		add(clicks)
	}
	samples, err := report.Finish(c.set, c.name)
	c.logger.Debug("refreshed links", "listed", len(listed), "reported", report.Len(),
		"skipped", skipped, "list_calls", pages, "stats_calls", batches)
	return samples, err
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

// shortURL is the short URL Short.io reports (it carries the scheme the
// domain serves).
func shortURL(l apiLink, id string) string {
	switch {
	case l.ShortURL != "":
		return l.ShortURL
	case l.SecureShortURL != "":
		return l.SecureShortURL
	}
	return "https://" + id
}

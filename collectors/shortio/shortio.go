// Package shortio collects the lifetime clicks of a creator's Short.io links.
//
// Short.io lists links per domain, so a collector serves one domain,
// named by options.domain_id (the number in the dashboard's URL). A link is
// configured by its short link without scheme, hostname and path:
// short.gy/alice. The domain's root link, the bare domain, is configured
// as short.gy/ (or short.gy). Links can also be discovered by tag.
//
// Calls per refresh, for C configured links, and with tags for a domain of
// N links of which M are reported (configured plus discovered):
//
//	ceil(C/150), or with tags ceil(M/150), GET /statistics/domain/{id}/link_clicks?ids=...,
//	                     150 links a call, on the statistics host
//	with tags only: max(1, ceil(N/150)) GET /api/links, 150 links a page, following nextPageToken
//	first refresh only, without tags: the configured links' ids, from
//	                     GET /api/links pages until all are found (at most C pages),
//	                     then 1 GET /links/expand?domain=…&path=… per link not found
//	                     (a single configured link is only looked up);
//	                     and GET /domains/{id} for the hostname unless options.domain is set
//
// A configured link's id is resolved once and kept: five configured links
// on a domain of 320 cost three listing pages, then one link_clicks call a
// refresh; 20,000 on a domain of 20,000 cost 134 pages once, then 134
// link_clicks calls a refresh, where looking each link up would cost
// 20,000 calls. The listing stops after as many pages as there were links
// to find, so a domain far larger than the configured links costs at most
// twice the lookups. A link Short.io does not know is looked up again each
// refresh, counted missing. A looked-up link that had clicks and is
// absent from a link_clicks answer (deleted since: Short.io leaves out
// only links without clicks) keeps its value that refresh and is looked
// up again the next.
//
// Tag discovery lists the whole domain and filters the links by their
// tags[] on our side. Archived links are discovered too: they still
// redirect and count clicks. GET /api/links documents no archived filter
// and carries archived links with "archived": true (unconfirmed: no
// source says the listing leaves them out or has a flag for them); the
// domain's root link (path "") is not discovered by tag.
//
// The listing and the expand answer carry each link's originalURL, the
// destination the link probe checks the redirect against: it costs no
// call.
//
// A click count sent as a numeric string ("12") is read as the number;
// one that is not a number fails that link only, counted missing with the
// reason. The listing's count field is read either way and not relied on.
//
// A refresh that runs out of time (its interval) stops calling and exports
// the links whose link_clicks batch it read; the others keep their last
// values, counted skipped, and the next refresh reads them first. With
// tags, every refresh lists all of the domain's links before it reads any
// clicks, so one out of time in the listing reads nothing: all its links
// keep their values.
//
// Short.io allows about 10 statistics requests a minute (and far more on
// the links API). The collector spaces its link_clicks calls with its own
// limiter, options.statistics_requests_per_minute (default 10), on top of
// the shared per-collector rate limit.
//
// Quota: GET /api/links, GET /links/expand and GET /domains/{id} count
// toward the links API's limits, link_clicks toward the statistics limit.
// The link probe's requests to the short links themselves are not API
// calls and count toward neither.
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
	// statsPerMinute is the limiter's rate, for Plan.
	statsPerMinute float64
	// rot orders the link_clicks batches least recently read first.
	rot *exporter.Rotation

	mu       sync.Mutex
	hostname string                // from options.domain or the API, then cached
	tagged   []exporter.TaggedLink // links the last complete listing found by tag
	// byPath are the configured links looked up, by path: their ids do
	// not change, so each is looked up once.
	byPath map[string]apiLink
	// clicked are the ids that had clicks at their last read: one absent
	// from link_clicks since was deleted.
	clicked map[string]bool

	fallbacks exporter.Fallbacks // optional calls refused, logged once per change
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
	// An option that does not decode keeps its default, so the checks
	// below still run and --config.check shows every error at once.
	var errs []error
	if err := cc.DecodeOptions(&opts); err != nil {
		errs = append(errs, err)
	}
	p := cc.Path() + ".options"
	if opts.DomainID <= 0 {
		errs = append(errs, cfg.Errorf(p+".domain_id", "required: the Short.io domain id (a positive number), got %d", opts.DomainID))
	}
	if err := exporter.CheckBaseURL(opts.StatisticsBaseURL); err != nil {
		errs = append(errs, cfg.Errorf(p+".statistics_base_url", "%v", err))
	}
	if opts.StatisticsRequestsPerMinute <= 0 {
		errs = append(errs, cfg.Errorf(p+".statistics_requests_per_minute", "must be positive, got %g", opts.StatisticsRequestsPerMinute))
	}
	host := strings.ToLower(strings.TrimSpace(opts.Domain))
	if strings.ContainsAny(host, "/:") {
		errs = append(errs, cfg.Errorf(p+".domain", "must be a hostname like short.gy, got %q", opts.Domain))
	}

	refs, refErrs := exporter.CheckShortener(cc, exporter.ShortenerRules{
		Form:   "hostname/path, like short.gy/alice, or the bare hostname for the domain's root link, like short.gy/",
		Domain: host, AllowRoot: true,
	})
	if err := errors.Join(append(errs, refErrs...)...); err != nil {
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
		links:   refs.Links,
		tags:    refs.Tags,
		set:     s.Links,
		logger:  s.Logger,
		limiter: rate.NewLimiter(rate.Limit(perMinute/60), max(1, int(perMinute))),
		rot:     exporter.NewRotation(),

		statsPerMinute: perMinute,
		hostname:       host,
		byPath:         map[string]apiLink{},
		clicked:        map[string]bool{},
	}, nil
}

// match is a listed link the refresh reports once its clicks are in.
type match struct {
	campaign, creator, id string
	link                  apiLink
	add                   func(clicks float64)
}

// Poll resolves the configured links (from the tag listing, or looked up
// once by path), discovers the tagged ones, and reads their clicks in
// batches, least recently read first.
func (c *collector) Poll(ctx context.Context) ([]exporter.Sample, error) {
	host, err := c.resolveHostname(ctx)
	if err != nil {
		return nil, err
	}
	var (
		listed   []apiLink
		pages    int
		complete = true
	)
	if len(c.tags) > 0 {
		listed, pages, err = c.api.listLinks(ctx)
		complete = err == nil
		if err != nil && !exporter.OutOfTime(ctx) {
			return nil, fmt.Errorf("shortio: list links of domain %d: %w", c.api.domainID, err)
		}
		if !complete {
			// Out of time in the listing: no clicks can be read, so
			// every link is deferred below.
			listed = nil
		}
	}
	byPath := make(map[string]apiLink, len(listed))
	for _, l := range listed {
		if l.IDString != "" {
			byPath[l.Path] = l
		}
	}

	// Match first, then read the clicks of the distinct ids in batches;
	// each match reports itself once the clicks are in.
	report := exporter.NewLinkReport(Provider)
	var (
		matches          []match
		found            []exporter.TaggedLink
		missing, lookups int
	)
	if len(c.tags) == 0 {
		n, err := c.resolveByListing(ctx, host)
		if err != nil {
			return nil, err
		}
		pages += n
	}
	for _, ref := range c.links {
		h, path, _ := exporter.SplitRootLinkID(ref.ID)
		if h != host {
			report.Skip(ref.Campaign, ref.Creator, ref.ID, fmt.Errorf("shortio: link %q: not found on domain %s (id %d): %w", ref.ID, host, c.api.domainID, exporter.ErrNotFound))
			missing++
			continue
		}
		var (
			l  apiLink
			ok bool
		)
		switch {
		case len(c.tags) > 0 && !complete:
			report.Defer(ref.Campaign, ref.Creator, ref.ID)
			continue
		case len(c.tags) > 0:
			// The listing of this refresh is the truth.
			l, ok = byPath[path]
		default:
			c.mu.Lock()
			l, ok = c.byPath[path]
			c.mu.Unlock()
			if !ok {
				if exporter.OutOfTime(ctx) {
					report.Defer(ref.Campaign, ref.Creator, ref.ID)
					continue
				}
				lookups++
				l, err = c.api.expand(ctx, host, path)
				switch {
				case errors.Is(err, exporter.ErrNotFound):
				case err != nil && exporter.OutOfTime(ctx):
					report.Defer(ref.Campaign, ref.Creator, ref.ID)
					continue
				case err != nil:
					return nil, fmt.Errorf("shortio: look up link %q on domain %s: %w", ref.ID, host, err)
				default:
					ok = true
					c.mu.Lock()
					c.byPath[path] = l
					c.mu.Unlock()
				}
			}
		}
		if !ok {
			report.Skip(ref.Campaign, ref.Creator, ref.ID, fmt.Errorf("shortio: link %q: not found on domain %s (id %d): %w", ref.ID, host, c.api.domainID, exporter.ErrNotFound))
			missing++
			continue
		}
		matches = append(matches, match{ref.Campaign, ref.Creator, ref.ID, l, func(clicks float64) {
			report.Configured(ref, shortURL(l, ref.ID), l.OriginalURL, clicks)
		}})
	}
	for _, tag := range c.tags {
		for _, l := range listed {
			// Archived links still redirect and count clicks: they are
			// discovered too. The root link (path "") is not.
			if l.Path == "" || l.IDString == "" || !slices.Contains(l.Tags, tag.Tag.Tag) {
				continue
			}
			id := exporter.LinkID(host, l.Path)
			found = append(found, exporter.TaggedLink{Tag: tag, ID: id})
			matches = append(matches, match{tag.Campaign, tag.Creator, id, l, func(clicks float64) {
				report.Discovered(tag, id, shortURL(l, id), l.OriginalURL, clicks)
			}})
		}
	}
	c.mu.Lock()
	prev := c.tagged
	if complete {
		c.tagged = found
	}
	c.mu.Unlock()

	// Least recently read first: a refresh out of time leaves the rest
	// for the next, which starts with them.
	var ids []string
	want := map[string]bool{}
	for _, m := range matches {
		if !want[m.link.IDString] {
			want[m.link.IDString] = true
			ids = append(ids, m.link.IDString)
		}
	}
	ids = exporter.Rotate(c.rot, ids, func(id string) string { return id })
	clicks := make(map[string]float64, len(ids))
	bad := map[string]error{}
	read := make(map[string]bool, len(ids))
	batches := 0
	for batch := range slices.Chunk(ids, statsBatch) {
		// The limiter fails at once when its wait would pass the
		// refresh's deadline: that is running out of time too.
		if exporter.OutOfTime(ctx) || c.limiter.Wait(ctx) != nil {
			break
		}
		batches++
		got, unreadable, err := c.api.linkClicks(ctx, batch)
		if err != nil && exporter.OutOfTime(ctx) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("shortio: clicks of %d links on domain %d: %w", len(batch), c.api.domainID, err)
		}
		maps.Copy(clicks, got)
		maps.Copy(bad, unreadable)
		for _, id := range batch {
			read[id] = true
			c.rot.Done(id)
		}
	}

	c.mu.Lock()
	gone := map[string]bool{}
	for id := range read {
		_, has := clicks[id]
		if !has && bad[id] == nil && c.clicked[id] && len(c.tags) == 0 {
			// Clicks never go away: a link that had some and is absent
			// now was deleted. Look it up again next refresh.
			gone[id] = true
			for path, l := range c.byPath {
				if l.IDString == id {
					delete(c.byPath, path)
				}
			}
		}
		if has {
			c.clicked[id] = clicks[id] > 0
		} else if bad[id] == nil {
			delete(c.clicked, id)
		}
	}
	c.mu.Unlock()

	for _, m := range matches {
		id := m.link.IDString
		switch {
		case !read[id] || gone[id]:
			report.Defer(m.campaign, m.creator, m.id)
		case bad[id] != nil:
			report.Skip(m.campaign, m.creator, m.id, fmt.Errorf("shortio: link %q: %w", m.id, bad[id]))
			missing++
		default:
			// Absent from link_clicks means no clicks yet.
			m.add(clicks[id])
		}
	}
	if !complete {
		// The links the last complete listing found by tag keep their
		// values.
		for _, d := range prev {
			report.Defer(d.Tag.Campaign, d.Tag.Creator, d.ID)
		}
	}
	samples, err := report.Finish(c.set, c.name)
	c.logger.Debug("refreshed links", "listed", len(listed), "complete", complete, "reported", report.Len(),
		"missing", missing, "list_calls", pages, "lookups", lookups, "stats_calls", batches)
	return samples, err
}

// resolveByListing finds the configured links not looked up yet in the
// domain's listing, when there are two or more of them: a page carries
// 150 links with their ids, where /links/expand costs a call a link. It
// pages until every such link is found or the listing ends, or until it
// has read as many pages as there were links to find; the links it did
// not find are then looked up one by one, so a domain far larger than the
// configured links costs at most twice the calls of looking them up. It
// returns the pages it read. Out of time, it keeps what it found and
// leaves the rest to the lookups, which defer them; refused (403, 404,
// 501), it leaves them to the lookups.
func (c *collector) resolveByListing(ctx context.Context, host string) (int, error) {
	want := map[string]bool{}
	c.mu.Lock()
	for _, ref := range c.links {
		if h, path, _ := exporter.SplitRootLinkID(ref.ID); h == host {
			if _, ok := c.byPath[path]; !ok {
				want[path] = true
			}
		}
	}
	c.mu.Unlock()
	if len(want) < 2 {
		return 0, nil
	}
	limit, pages := len(want), 0
	calls, err := c.api.eachLinksPage(ctx, func(page []apiLink) bool {
		pages++
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, l := range page {
			if want[l.Path] && l.IDString != "" {
				c.byPath[l.Path] = l
				delete(want, l.Path)
			}
		}
		return len(want) > 0 && pages < limit
	})
	switch {
	case exporter.Refused(err):
		// The links not found yet are looked up one by one.
		c.fallbacks.Update(c.logger, "links listing", fmt.Errorf("shortio: list links of domain %d: %w", c.api.domainID, err))
	case err != nil && !exporter.OutOfTime(ctx):
		return calls, fmt.Errorf("shortio: list links of domain %d: %w", c.api.domainID, err)
	case err == nil:
		c.fallbacks.Update(c.logger, "links listing", nil)
	}
	return calls, nil
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

// Plan implements exporter.Planner: the calls of one refresh after the
// first, by the call pattern above.
func (c *collector) Plan() exporter.Plan {
	links, tags := len(c.links), len(c.tags)
	if links+tags == 0 {
		return exporter.Plan{Note: "no links or tags configured"}
	}
	batches := (links + statsBatch - 1) / statsBatch
	if batches == 0 {
		batches = 1
	}
	calls := batches
	var parts []string
	if tags > 0 {
		calls++
		parts = append(parts, fmt.Sprintf("1 page of GET /api/links for the tags (assumed: a domain of at most %d links; each %d more cost 1 more)", pageLimit, pageLimit))
	}
	part := fmt.Sprintf("%d link_clicks calls, %d links a call, for %d configured links", batches, statsBatch, links)
	if tags > 0 {
		part += " and the links found by tag (not known from config, assumed to fit)"
	}
	parts = append(parts, part, fmt.Sprintf("link_clicks calls are also held to %g a minute", c.statsPerMinute))
	switch {
	case tags == 0 && links == 1:
		parts = append(parts, "the first refresh also looks the configured link up once (1 GET /links/expand)")
	case tags == 0 && links > 1:
		parts = append(parts, fmt.Sprintf("the first refresh also resolves the configured links once from the domain's listing (%d pages of GET /api/links if the domain holds only them; at most %d, then 1 GET /links/expand per link not found)", batches, links))
	}
	return exporter.Plan{Calls: calls, Note: strings.Join(parts, "; ")}
}

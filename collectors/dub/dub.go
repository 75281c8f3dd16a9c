// Package dub collects lifetime click totals of Dub links.
//
// Links come from the config and, for creators with a Dub tag, from the
// workspace's links carrying that tag. A link is named domain/key, like
// dub.sh/alice. Calls per refresh:
//
//   - 1 GET /analytics?event=clicks&groupBy=top_links&interval=all: all-time
//     clicks of every link that has any, most clicked first, up to Dub's cap
//     of 5000 rows (skipped with options.analytics false);
//   - if tags are configured, ceil(tagged links / page_size) pages (at least
//     1) of GET /links?tagNames=…, all tags in one listing; each link carries
//     its lifetime clicks counter;
//   - 1 GET /links/info?domain=…&key=… per configured link found in neither:
//     a link without a click yet (or beyond the cap), or one Dub does not
//     know, which the refresh skips as partial.
//
// Dub counts the analytics API apart from the rest: few calls per second,
// and a date range bounded by the plan. interval=all on a Pro workspace
// older than a year, or a Free one older than a month, answers 403; set
// options.analytics to false there, and every configured link outside the
// tag listings costs one /links/info call.
//
// Dub sends X-RateLimit-Limit, -Remaining and -Reset (Unix milliseconds, from
// its Upstash limiter) on every answer, read into
// influencer_api_quota_remaining. It also sends that reset as Retry-After. The analytics call
// comes first, so that a refresh with tags leaves the gauge on the general
// per-minute quota rather than the analytics per-second one.
package dub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Option defaults and limits.
const (
	// DefaultPageSize is the page size of tag listings: Dub's maximum.
	DefaultPageSize = 100
	maxPageSize     = 100
	// maxPages bounds one tag listing, against a cursor that never ends.
	maxPages = 1000
)

func init() {
	exporter.Register("dub", New)
}

// options are the dub collector's provider options.
type options struct {
	// Analytics reads every link's clicks with one analytics call. Off,
	// configured links not found by tag are read one call each.
	Analytics bool `yaml:"analytics"`
	// PageSize is how many links one tag listing page asks for.
	PageSize int `yaml:"page_size"`
}

type collector struct {
	name, typ string
	api       api
	logger    *slog.Logger
	linkSet   *exporter.LinkSet
	opts      options
	links     []exporter.LinkRef // configured links, in file order
	tags      []exporter.TagRef
	tagNames  []string
}

// New builds a dub collector from its config block.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	opts := options{Analytics: true, PageSize: DefaultPageSize}
	if err := cc.DecodeOptions(&opts); err != nil {
		return nil, err
	}
	var errs []error
	if opts.PageSize < 1 || opts.PageSize > maxPageSize {
		errs = append(errs, cfg.Errorf(cc.Path()+".options.page_size", "must be between 1 and %d, got %d", maxPageSize, opts.PageSize))
	}
	// Dub matches tag names case-insensitively.
	refs, refErrs := exporter.CheckShortener(cc, exporter.ShortenerRules{Form: "domain/key, like dub.sh/alice", FoldTags: true})
	errs = append(errs, refErrs...)

	c := &collector{name: cc.Name, typ: cc.Type, logger: s.Logger, linkSet: s.Links, opts: opts, links: refs.Links}
	for _, t := range refs.Tags {
		if strings.Contains(t.Tag.Tag, ",") {
			// tagNames is a comma-separated list.
			errs = append(errs, cfg.Errorf(t.Path()+".tag", "dub tag %q must not contain a comma", t.Tag.Tag))
			continue
		}
		c.tags = append(c.tags, t)
		c.tagNames = append(c.tagNames, t.Tag.Tag)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	// The default quota hook reads Dub's X-RateLimit-Remaining and -Reset.
	s.Client.SetHooks(exporter.ClientHooks{ErrorMessage: errorMessage, Authorize: exporter.BearerAuth})
	c.api = api{exporter.NewAPI(cc, DefaultBaseURL, s.Client)}
	return c, nil
}

// tagged is a link found by a configured tag.
type tagged struct {
	tag exporter.TagRef
	id  string
}

// Poll implements exporter.Collector.
func (c *collector) Poll(ctx context.Context) ([]exporter.Sample, error) {
	// Analytics first, so that every link of one refresh counts the same
	// way as long as it has clicks; then the tag listing.
	var sources []map[string]linkClicks
	if c.opts.Analytics && len(c.links)+len(c.tags) > 0 {
		rows, err := c.api.topLinks(ctx)
		if err != nil {
			hint := ""
			var ae *exporter.APIError
			if errors.As(err, &ae) && ae.StatusCode == http.StatusForbidden {
				hint = " (if the plan does not cover all-time analytics, set options.analytics: false)"
			}
			return nil, fmt.Errorf("dub: clicks of all links%s: %w", hint, err)
		}
		fromAnalytics := map[string]linkClicks{}
		for _, r := range rows {
			if r.Clicks == nil {
				return nil, fmt.Errorf("dub: clicks of all links: %w: row without clicks", exporter.ErrBadResponse)
			}
			fromAnalytics[r.linkID()] = r
		}
		sources = append(sources, fromAnalytics)
	}

	var discovered []tagged
	if len(c.tags) > 0 {
		links, err := c.listTagged(ctx)
		if err != nil {
			return nil, err
		}
		known := make(map[string]bool, len(c.links))
		for _, l := range c.links {
			known[l.ID] = true
		}
		fromList := map[string]linkClicks{}
		for _, l := range links {
			id := l.linkID()
			if l.Clicks == nil {
				return nil, fmt.Errorf("dub: links with tags: %w: link %q without clicks", exporter.ErrBadResponse, id)
			}
			fromList[id] = l.linkClicks
			if known[id] {
				continue
			}
			if t, ok := c.tagOf(l); ok {
				known[id] = true
				discovered = append(discovered, tagged{t, id})
			}
		}
		sources = append(sources, fromList)
		sort.Slice(discovered, func(i, j int) bool { return discovered[i].id < discovered[j].id })
		c.logger.Debug("listed links by tag", "tags", len(c.tags), "links", len(links))
	}

	r := exporter.NewLinkReport(c.typ)
	for _, l := range c.links {
		got, err := c.read(ctx, l.ID, l.URL, sources)
		if errors.Is(err, exporter.ErrNotFound) {
			r.Skip(fmt.Errorf("dub: link %q (%s): %w", l.ID, l.Path(), err))
			continue
		}
		if err != nil {
			return nil, err
		}
		r.Configured(l, got.ShortLink, float64(*got.Clicks))
	}
	for _, d := range discovered {
		got, err := c.read(ctx, d.id, "", sources)
		if err != nil {
			return nil, err
		}
		r.Discovered(d.tag, d.id, got.ShortLink, float64(*got.Clicks))
	}
	return r.Finish(c.linkSet, c.name)
}

// read returns what the first of sources has on the link, else what
// /links/info says. The error matches exporter.ErrNotFound, unwrapped, if
// Dub does not know the link.
func (c *collector) read(ctx context.Context, id, override string, sources []map[string]linkClicks) (linkClicks, error) {
	var (
		got   linkClicks
		found bool
	)
	for _, m := range sources {
		if got, found = m[id]; found {
			break
		}
	}
	if !found {
		domain, key, _ := exporter.SplitLinkID(id)
		l, err := c.api.linkInfo(ctx, domain, key)
		if errors.Is(err, exporter.ErrNotFound) {
			return got, err
		}
		if err != nil {
			return got, fmt.Errorf("dub: clicks for link %q: %w", id, err)
		}
		got = l.linkClicks
	}
	if override == "" && got.ShortLink == "" {
		return got, fmt.Errorf("dub: link %q: %w: no shortLink", id, exporter.ErrBadResponse)
	}
	return got, nil
}

// listTagged pages through the links carrying any configured tag, with the
// cursor Dub recommends over page numbers: the id of the last link seen.
func (c *collector) listTagged(ctx context.Context) ([]link, error) {
	var (
		out   []link
		after string
	)
	for range maxPages {
		page, err := c.api.linksByTags(ctx, c.tagNames, c.opts.PageSize, after)
		if err != nil {
			return nil, fmt.Errorf("dub: links with tags %q: %w", c.tagNames, err)
		}
		out = append(out, page...)
		if len(page) < c.opts.PageSize {
			return out, nil
		}
		last := page[len(page)-1].ID
		if last == "" || last == after {
			return nil, fmt.Errorf("dub: links with tags %q: %w: pagination does not advance", c.tagNames, exporter.ErrBadResponse)
		}
		after = last
	}
	return nil, fmt.Errorf("dub: links with tags %q: more than %d pages", c.tagNames, maxPages)
}

// tagOf returns the first configured tag, in file order, the link carries.
func (c *collector) tagOf(l link) (exporter.TagRef, bool) {
	for _, t := range c.tags {
		for _, lt := range l.Tags {
			if strings.EqualFold(lt.Name, t.Tag.Tag) {
				return t, true
			}
		}
	}
	return exporter.TagRef{}, false
}

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
	api       *api
	logger    *slog.Logger
	links     *exporter.LinkSet
	opts      options
	targets   []target // configured links, in file order
	tags      []exporter.TagRef
	tagNames  []string
}

// target is a link the collector reports clicks for.
type target struct {
	campaign, creator string
	id                string // domain/key
	url               string // configured probe URL override
	expect            *exporter.Expect
	path              string // config path of the link or tag it came from
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
	if cc.Token == "" {
		errs = append(errs, cfg.Errorf(cc.Path()+".token", "dub needs an API key: set token, token_env or token_file"))
	}

	c := &collector{name: cc.Name, typ: cc.Type, logger: s.Logger, links: s.Links, opts: opts}
	for _, l := range cfg.LinksFor(cc.Name) {
		if _, _, ok := splitID(l.ID); !ok {
			errs = append(errs, cfg.Errorf(l.Path()+".id", "dub link id %q must be domain/key, like dub.sh/alice", l.ID))
			continue
		}
		c.targets = append(c.targets, target{
			campaign: l.Campaign, creator: l.Creator, id: l.ID,
			url: l.URL, expect: l.Expect, path: l.Path(),
		})
	}
	seenTag := map[string]exporter.TagRef{}
	for _, t := range cfg.TagsFor(cc.Name) {
		name := t.Tag.Tag
		if strings.Contains(name, ",") {
			// tagNames is a comma-separated list.
			errs = append(errs, cfg.Errorf(t.Path()+".tag", "dub tag %q must not contain a comma", name))
			continue
		}
		// Dub matches tag names case-insensitively.
		if prev, dup := seenTag[strings.ToLower(name)]; dup {
			errs = append(errs, cfg.Errorf(t.Path()+".tag", "tag %q is already used by creator %q in campaign %q (%s)", name, prev.Creator, prev.Campaign, prev.Path()))
			continue
		}
		seenTag[strings.ToLower(name)] = t
		c.tags = append(c.tags, t)
		c.tagNames = append(c.tagNames, name)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	base := strings.TrimRight(cc.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	// The default quota hook reads Dub's X-RateLimit-Remaining and -Reset.
	s.Client.SetHooks(exporter.ClientHooks{ErrorMessage: errorMessage, Authorize: authorize})
	c.api = &api{base: base, client: s.Client}
	return c, nil
}

// splitID splits domain/key; the key may hold further slashes.
func splitID(id string) (domain, key string, ok bool) {
	domain, key, ok = strings.Cut(id, "/")
	return domain, key, ok && domain != "" && key != "" && !strings.ContainsAny(id, "?# ")
}

// clicks is what one answer said about a link.
type clicks struct {
	n         int64
	shortLink string
}

// Poll implements exporter.Collector.
func (c *collector) Poll(ctx context.Context) ([]exporter.Sample, error) {
	targets := append([]target(nil), c.targets...)
	known := make(map[string]bool, len(targets))
	for _, t := range targets {
		known[t.id] = true
	}

	fromAnalytics := map[string]clicks{}
	if c.opts.Analytics && len(targets)+len(c.tags) > 0 {
		rows, err := c.api.topLinks(ctx)
		if err != nil {
			hint := ""
			var ae *exporter.APIError
			if errors.As(err, &ae) && ae.StatusCode == http.StatusForbidden {
				hint = " (if the plan does not cover all-time analytics, set options.analytics: false)"
			}
			return nil, fmt.Errorf("dub: clicks of all links%s: %w", hint, err)
		}
		for _, r := range rows {
			if r.Clicks == nil {
				return nil, fmt.Errorf("dub: clicks of all links: %w: row without clicks", exporter.ErrBadResponse)
			}
			fromAnalytics[r.Domain+"/"+r.Key] = clicks{*r.Clicks, r.ShortLink}
		}
	}

	fromList := map[string]clicks{}
	if len(c.tags) > 0 {
		links, err := c.listTagged(ctx)
		if err != nil {
			return nil, err
		}
		var discovered []target
		for _, l := range links {
			id := l.Domain + "/" + l.Key
			if l.Clicks == nil {
				return nil, fmt.Errorf("dub: links with tags: %w: link %q without clicks", exporter.ErrBadResponse, id)
			}
			fromList[id] = clicks{*l.Clicks, l.ShortLink}
			if known[id] {
				continue
			}
			t, ok := c.tagOf(l)
			if !ok {
				continue
			}
			known[id] = true
			discovered = append(discovered, target{
				campaign: t.Campaign, creator: t.Creator, id: id,
				expect: t.Expect, path: t.Path(),
			})
		}
		sort.Slice(discovered, func(i, j int) bool { return discovered[i].id < discovered[j].id })
		targets = append(targets, discovered...)
		c.logger.Debug("listed links by tag", "tags", len(c.tags), "links", len(links))
	}

	var (
		samples   []exporter.Sample
		published []exporter.PublishedLink
		skipped   []error
	)
	for _, t := range targets {
		// Analytics first, so that every link of one refresh counts the
		// same way as long as it has clicks.
		got, ok := fromAnalytics[t.id]
		if !ok {
			got, ok = fromList[t.id]
		}
		if !ok {
			domain, key, _ := splitID(t.id)
			l, err := c.api.linkInfo(ctx, domain, key)
			if errors.Is(err, exporter.ErrNotFound) {
				skipped = append(skipped, fmt.Errorf("dub: link %q (%s): %w", t.id, t.path, err))
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("dub: clicks for link %q: %w", t.id, err)
			}
			got = clicks{*l.Clicks, l.ShortLink}
		}
		u := t.url
		if u == "" {
			u = got.shortLink
		}
		if u == "" {
			return nil, fmt.Errorf("dub: link %q: %w: no shortLink", t.id, exporter.ErrBadResponse)
		}
		samples = append(samples, exporter.LinkClicks.Sample(float64(got.n), t.campaign, t.creator, c.typ, t.id))
		published = append(published, exporter.PublishedLink{
			Campaign: t.campaign, Creator: t.creator, Provider: c.typ,
			ID: t.id, URL: u, Expect: t.expect,
		})
	}
	c.links.Publish(c.name, published)
	return samples, exporter.Partial(skipped)
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

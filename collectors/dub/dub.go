// Package dub collects lifetime click totals of Dub links.
//
// Links come from the config and, for creators with a Dub tag, from the
// workspace's links carrying that tag. A link is named domain/key, like
// dub.sh/alice. Calls per refresh:
//
//   - 1 GET /analytics?event=clicks&groupBy=top_links&interval=all: all-time
//     clicks of every link that has any, most clicked first, up to Dub's cap
//     of 5000 rows (skipped with options.analytics false, and when more
//     links are configured than the cap: the workspace listing below then
//     reads them all anyway);
//   - if tags are configured, ceil(tagged links / page_size) pages (at least
//     1) of GET /links?tagNames=…&showArchived=true, all tags in one listing;
//     each link carries its lifetime clicks counter. Archived links still
//     redirect and count clicks, and Dub lists them only when asked
//     (showArchived defaults to false);
//   - for the configured links found in neither (without a click yet,
//     beyond the cap, or all of them without analytics), when there are two
//     or more: the workspace's listing, GET /links?showArchived=true, 100
//     links a page (Dub's maximum), until it has found them all, up to as
//     many pages as there were links to find. 20,000 links in a workspace
//     of 20,000 cost 200 calls a refresh, not 20,000;
//   - 1 GET /links/info?domain=…&key=… per configured link still not found:
//     a single one, one beyond the listing's bound, or one Dub does not
//     know, which the refresh skips as partial.
//
// Dub counts the analytics API apart from the rest: few calls per second,
// and a date range bounded by the plan. interval=all on a Pro workspace
// older than a year, or a Free one older than a month, answers 403. An
// analytics call answered 403, 404 or 501 does not fail the refresh: every
// configured link outside the tag listings costs one /links/info call
// instead, the landing page shows the refusal as a note, and the log says
// so once when it starts or changes, not on every refresh. Each refresh
// tries the analytics call again; set options.analytics to false to spare
// it.
//
// A click count sent as a numeric string ("12") is read as the number. One
// that is not a number fails that link only, counted missing with the
// reason; an analytics row so spoilt leaves the link to the listing or
// /links/info.
//
// Both the analytics rows and the link objects carry the link's url, the
// destination the link probe checks the redirect against: it costs no call.
//
// A refresh that runs out of time (its interval) while listing or calling
// /links/info stops calling and exports the links it read; the others keep
// their last values, counted skipped, and the next refresh reads them
// first: the workspace listing goes on from where it stopped, then round
// from the newest link. The analytics call is one call: cut short, the whole
// refresh fails and the last values stay, as on any failure.
//
// Dub sends X-RateLimit-Limit, -Remaining and -Reset (Unix milliseconds, from
// its Upstash limiter) on every answer, read into
// influencer_api_quota_remaining. It also sends that reset as Retry-After. The analytics call
// comes first, so that a refresh with tags leaves the gauge on the general
// per-minute quota rather than the analytics per-second one.
//
// Quota: every call above counts toward the workspace's per-minute API
// limit, and the analytics call also toward the analytics per-second one.
// The link probe's requests to the short links themselves are not API
// calls and count toward neither.
package dub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Option defaults and limits.
const (
	// DefaultPageSize is the page size of listings: Dub's maximum.
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
	// Analytics reads the clicks of up to 5000 links with one analytics
	// call. Off, configured links not found by tag are read from the
	// workspace listing (or one call each, see the package comment).
	Analytics bool `yaml:"analytics"`
	// PageSize is how many links one page of the tag or workspace
	// listing asks for.
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
	// rot orders the links of a refresh least recently read first.
	rot *exporter.Rotation

	tagged exporter.TaggedLinks // links the last tag listings attributed

	fallbacks exporter.Fallbacks // optional calls refused, logged once per change

	mu sync.Mutex
	// resume is the workspace listing's cursor where a refresh out of
	// time stopped it: the next listing starts there.
	resume string
}

// New builds a dub collector from its config block.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	opts := options{Analytics: true, PageSize: DefaultPageSize}
	// An option that does not decode keeps its default, so the checks
	// below still run and --config.check shows every error at once.
	var errs []error
	if err := cc.DecodeOptions(&opts); err != nil {
		errs = append(errs, err)
	}
	if opts.PageSize < 1 || opts.PageSize > maxPageSize {
		errs = append(errs, cfg.Errorf(cc.Path()+".options.page_size", "must be between 1 and %d, got %d", maxPageSize, opts.PageSize))
	}
	// Dub matches tag names case-insensitively.
	refs, refErrs := exporter.CheckShortener(cc, exporter.ShortenerRules{Form: "domain/key, like dub.sh/alice", FoldTags: true})
	errs = append(errs, refErrs...)

	c := &collector{name: cc.Name, typ: cc.Type, logger: s.Logger, linkSet: s.Links, opts: opts, links: refs.Links, rot: exporter.NewRotation()}
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
	s.Client.SetHooks(exporter.ClientHooks{ErrorMessage: errorMessage, Authorize: exporter.BearerAuth, Classify: classify})
	c.api = api{exporter.NewAPI(cc, DefaultBaseURL, s.Client)}
	return c, nil
}

// Poll implements exporter.Collector.
func (c *collector) Poll(ctx context.Context) ([]exporter.Sample, error) {
	// Analytics first, so that every link of one refresh counts the same
	// way as long as it has clicks; then the tag listing.
	var (
		sources []map[string]linkClicks
		note    error
	)
	// More configured links than the analytics call returns rows: the
	// workspace listing below reads them all anyway, so the analytics
	// call would add one call and save none.
	if c.opts.Analytics && len(c.links)+len(c.tags) > 0 && len(c.links) <= topLinksCap {
		rows, err := c.api.topLinks(ctx)
		switch {
		case exporter.Refused(err):
			// Not on this plan (all-time analytics) or API version:
			// the links are read from the listing or one call each.
			note = fmt.Errorf("dub: clicks of all links refused (if the plan does not cover all-time analytics, set options.analytics: false), reading links one call each instead: %w", err)
			c.fallbacks.Update(c.logger, "analytics", note)
			rows = nil
		case err != nil:
			return nil, fmt.Errorf("dub: clicks of all links: %w", err)
		default:
			c.fallbacks.Update(c.logger, "analytics", nil)
		}
		fromAnalytics := map[string]linkClicks{}
		for _, r := range rows {
			if !r.hasClicks() {
				return nil, fmt.Errorf("dub: clicks of all links: %w: row without clicks", exporter.ErrBadResponse)
			}
			if _, err := r.clicks(); err != nil {
				// Not a number: the link is read from the listing
				// or its own call instead.
				continue
			}
			fromAnalytics[r.linkID()] = r
		}
		sources = append(sources, fromAnalytics)
	}

	discovered, fromList, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	if fromList != nil {
		sources = append(sources, fromList)
	}

	targets := exporter.LinkTargets(c.links, discovered)
	fromWorkspace, err := c.listWorkspace(ctx, targets, sources)
	if err != nil {
		return nil, err
	}
	if fromWorkspace != nil {
		sources = append(sources, fromWorkspace)
	}
	// Links least recently read first: those that cost a /links/info call
	// and were not reached before the refresh's time ran out are read
	// first next time.
	r := exporter.NewLinkReport(c.typ)
	if note != nil {
		r.Note(note)
	}
	err = r.ReadTargets(ctx, c.rot, targets,
		func(t exporter.LinkTarget) bool {
			_, ok := lookup(t.ID(), sources)
			return !ok
		},
		func(t exporter.LinkTarget) (exporter.LinkRead, error) { return c.read(ctx, t, sources) })
	if err != nil {
		return nil, err
	}
	return r.Finish(c.linkSet, c.name)
}

// discover lists the links carrying a configured tag and returns those
// it attributes to a tag (configured links win, then the first tag in file
// order a link carries), and every listed link by id. A refresh that runs
// out of time while listing keeps the pages it read, and the links the
// last listings attributed, which stay known until a listing completes.
func (c *collector) discover(ctx context.Context) ([]exporter.TaggedLink, map[string]linkClicks, error) {
	if len(c.tags) == 0 {
		return nil, nil, nil
	}
	links, err := c.listTagged(ctx)
	complete := err == nil
	if err != nil && !exporter.OutOfTime(ctx) {
		return nil, nil, err
	}
	known := make(map[string]bool, len(c.links))
	for _, l := range c.links {
		known[l.ID] = true
	}
	var found []exporter.TaggedLink
	fromList := map[string]linkClicks{}
	for _, l := range links {
		id := l.linkID()
		if !l.hasClicks() {
			return nil, nil, fmt.Errorf("dub: links with tags: %w: link %q without clicks", exporter.ErrBadResponse, id)
		}
		// A count that is not a number fails that link only, below.
		fromList[id] = l.linkClicks
		if known[id] {
			continue
		}
		if t, ok := c.tagOf(l); ok {
			known[id] = true
			found = append(found, exporter.TaggedLink{Tag: t, ID: id})
		}
	}
	found = c.tagged.Update(found, known, complete)
	c.logger.Debug("listed links by tag", "tags", len(c.tags), "links", len(links), "complete", complete)
	return found, fromList, nil
}

// lookup returns what the first of sources has on the link.
func lookup(id string, sources []map[string]linkClicks) (linkClicks, bool) {
	for _, m := range sources {
		if got, ok := m[id]; ok {
			return got, true
		}
	}
	return linkClicks{}, false
}

// read returns what the first of sources has on the link, else what
// /links/info says. The error matches exporter.ErrNotFound, unwrapped, if
// Dub does not know the link.
func (c *collector) read(ctx context.Context, t exporter.LinkTarget, sources []map[string]linkClicks) (exporter.LinkRead, error) {
	id := t.ID()
	got, found := lookup(id, sources)
	if !found {
		domain, key, _ := exporter.SplitLinkID(id)
		l, err := c.api.linkInfo(ctx, domain, key)
		if errors.Is(err, exporter.ErrNotFound) {
			return exporter.LinkRead{}, err
		}
		if err != nil {
			return exporter.LinkRead{}, fmt.Errorf("dub: clicks for link %q: %w", id, err)
		}
		got = l.linkClicks
	}
	// A configured link's url: is what the probe requests, if set.
	if (t.Ref == nil || t.Ref.URL == "") && got.ShortLink == "" {
		return exporter.LinkRead{}, fmt.Errorf("dub: link %q: %w: no shortLink", id, exporter.ErrBadResponse)
	}
	n, err := got.clicks()
	if err != nil {
		return exporter.LinkRead{}, exporter.SkipLink(fmt.Errorf("dub: link %q: %w", id, err))
	}
	return exporter.LinkRead{ShortURL: got.ShortLink, Destination: got.URL, Clicks: float64(n)}, nil
}

// listTagged pages through the links carrying any configured tag, with the
// cursor Dub recommends over page numbers: the id of the last link seen.
// Out of time, it returns the links of the pages it read with the error.
func (c *collector) listTagged(ctx context.Context) ([]link, error) {
	var (
		out   []link
		after string
	)
	for range maxPages {
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("dub: links with tags %q: %w", c.tagNames, err)
		}
		page, err := c.api.linksByTags(ctx, c.tagNames, c.opts.PageSize, after)
		if err != nil {
			return out, fmt.Errorf("dub: links with tags %q: %w", c.tagNames, err)
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

// listWorkspace reads the links no source has from the workspace's
// listing, when there are two or more of them: a page carries up to
// page_size links with their lifetime clicks, where /links/info costs a
// call a link. It pages until every such link is found or the listing
// ends, or until it has read as many pages as there were links to find:
// those still unfound then cost a /links/info call each, so a workspace
// far larger than the links it holds for the collector costs at most
// twice the calls of reading them one by one. Out of time, it returns
// what it found, and the next listing starts where this one stopped, goes
// to the end, then round from the newest link, so that a listing longer
// than a refresh's time still reaches every link. A listing refused (403,
// 404, 501) leaves the links to /links/info.
func (c *collector) listWorkspace(ctx context.Context, targets []exporter.LinkTarget, sources []map[string]linkClicks) (map[string]linkClicks, error) {
	want := map[string]bool{}
	for _, t := range targets {
		if _, ok := lookup(t.ID(), sources); !ok {
			want[t.ID()] = true
		}
	}
	if len(want) < 2 {
		return nil, nil
	}
	c.mu.Lock()
	after := c.resume
	c.mu.Unlock()
	// Dub pages with startingAfter, the id of the last link read: a page
	// shorter than page_size is the last.
	fetch := func(ctx context.Context, after string) ([]link, string, error) {
		page, err := c.api.linksByTags(ctx, nil, c.opts.PageSize, after)
		if err != nil || len(page) < c.opts.PageSize {
			return page, "", err
		}
		last := page[len(page)-1].ID
		if last == "" {
			return nil, "", fmt.Errorf("%w: pagination does not advance", exporter.ErrBadResponse)
		}
		return page, last, nil
	}
	found := map[string]linkClicks{}
	take := func(page []link) bool {
		for _, l := range page {
			// A link without a clicks field is left to /links/info,
			// which reports it.
			if id := l.linkID(); want[id] && l.hasClicks() {
				found[id] = l.linkClicks
				delete(want, id)
			}
		}
		return len(want) == 0
	}
	res, err := exporter.ListUntilFound(ctx, exporter.ListingPlan{Resume: after, MaxPages: len(want)}, fetch, take)
	if res.Pages > 0 {
		c.fallbacks.Update(c.logger, "workspace listing", nil)
	}
	switch {
	case exporter.Refused(err):
		// The links not found yet cost a /links/info call each.
		c.fallbacks.Update(c.logger, "workspace listing", fmt.Errorf("dub: links of the workspace: %w", err))
	case err != nil:
		return nil, fmt.Errorf("dub: links of the workspace: %w", err)
	}
	c.mu.Lock()
	c.resume = res.Resume
	c.mu.Unlock()
	c.logger.Debug("listed links of the workspace", "pages", res.Pages, "found", len(found), "unfound", len(want), "cut", res.Cut)
	return found, nil
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

// Plan implements exporter.Planner: the calls of one refresh, by the call
// pattern above.
func (c *collector) Plan() exporter.Plan {
	links, tags := len(c.links), len(c.tags)
	if links+tags == 0 {
		return exporter.Plan{Note: "no links or tags configured"}
	}
	var (
		calls int
		parts []string
	)
	analytics := c.opts.Analytics && links <= topLinksCap
	if analytics {
		calls++
		parts = append(parts, "1 analytics call for every link with a click")
	}
	if tags > 0 {
		calls++
		parts = append(parts, "1 page of the tag listing (assumed; each page_size links more cost 1 more)")
	}
	listing := (links + c.opts.PageSize - 1) / c.opts.PageSize
	switch {
	case analytics && links > 0:
		parts = append(parts, fmt.Sprintf("assumes every configured link has a click: those without are read from the workspace listing, up to %d pages of %d links (one alone costs 1 /links/info call), up to %d calls in all", listing, c.opts.PageSize, calls+listing))
	case links == 1:
		calls++
		parts = append(parts, "1 /links/info call for the configured link")
	case links > 1:
		calls += listing
		parts = append(parts, fmt.Sprintf("%d pages of the workspace listing for %d configured links (assumes the workspace holds no other links; each page_size links more cost 1 more, up to %d pages, then 1 /links/info call per link not found)", listing, links, links))
	}
	return exporter.Plan{Calls: calls, Note: strings.Join(parts, "; ")}
}

// Package bitly collects lifetime click totals of Bitly links (API v4).
//
// Links come from the config and, for creators with a Bitly tag, from the
// group's links carrying that tag. Calls per refresh, for L links of which
// K are outside the group's top_links most clicked:
//
//   - 1 GET /groups/{group_guid}/bitlinks/clicks?unit=day&units=-1&size=top_links:
//     clicks of the group's most clicked links in one call (skipped when
//     top_links is 0, then K = L);
//   - per configured tag, ceil(tagged links / page_size) pages (at least 1) of
//     GET /groups/{group_guid}/bitlinks?tags=…&archived=both: archived links
//     still redirect and count clicks, and Bitly leaves them out of the
//     listing unless asked (archived defaults to off);
//   - K GET /bitlinks/{bitlink}/clicks/summary?unit=day&units=-1.
//
// A batch call answered 403, 404 or 501 (not on this plan or API version)
// does not fail the refresh: its links are read one clicks summary each,
// as with top_links 0, and the landing page shows the refusal as a note.
// The refusal is logged when it starts or changes, not on every refresh,
// and each refresh tries the batch call again.
//
// A click count sent as a numeric string ("12") is read as the number. One
// that is not a number fails that link only, counted missing with the
// reason; in the batch call, the link is read by its own clicks summary
// first.
//
// Once per process, not per refresh: GET /user to learn default_group_guid
// when group_guid is not set and a group is needed, and the short and long
// URL of each link no list answer carried (the link probe requests the one
// and checks the redirect against the other): for two or more such links,
// from pages of GET /groups/{group_guid}/bitlinks?archived=both (page_size
// links a call) until all are found, up to as many pages as links to find;
// then GET /bitlinks/{bitlink} for each link still unfound, or for a single
// one. 20,000 configured links cost 200 listing pages once, not 20,000
// calls. A URL read that way is not read again; the batch call and tag
// listings carry it on every refresh.
//
// The clicks summaries (and the rare GET /bitlinks/{bitlink}) are
// independent calls: http.max_concurrent_requests of them are under way at
// once, least recently read links first, each still waiting for the rate
// limit. Concurrency hides Bitly's latency (20,000 links at 50 ms an
// answer take about 17 minutes one after another, about 2 eight at a
// time); it never sends faster than rate_limit.
//
// A refresh that runs out of time (its interval) stops calling and exports
// the links it read; the others keep their last values, counted skipped,
// and the next refresh reads them first. With top_links 0 that is one call
// per link, so a collector of 116 links at 5 calls a second needs about 23
// seconds to read them all: with a 15 second interval, each refresh reads
// what it can and the next continues.
//
// Bitly sends no rate-limit headers; its limits are per hour and per
// minute (a tenth of the hourly one) and a 429 carries no Retry-After, so the
// shared client's backoff paces retries.
//
// Quota: every call above is an API call and counts toward Bitly's hourly
// and per-minute limits and the plan's monthly quota. The link probe's
// requests to the short links themselves are not API calls and count
// toward none of them.
package bitly

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
	// DefaultPageSize is the page size of tag listings. Bitly clients in
	// the wild page with 100; a larger maximum is not documented.
	DefaultPageSize = 100
	// DefaultTopLinks is the size of the most-clicked batch call: 50 is
	// the size Bitly documents as default for that endpoint. The maximum
	// it accepts is not documented (unconfirmed).
	DefaultTopLinks = 50
	maxPageSize     = 100
	maxTopLinks     = 1000
	// maxPages bounds one tag listing, against a cursor that never ends.
	maxPages = 1000
)

func init() {
	exporter.Register("bitly", New)
}

// options are the bitly collector's provider options.
type options struct {
	// GroupGUID is the Bitly group whose links are listed by tag and
	// ranked by clicks. Empty: the token owner's default group, read once
	// from GET /user.
	GroupGUID string `yaml:"group_guid"`
	// PageSize is how many links one tag listing page asks for.
	PageSize int `yaml:"page_size"`
	// TopLinks is how many of the group's most clicked links one batch
	// call fetches with their clicks. Links outside it cost one call each;
	// 0 turns the batch call off.
	TopLinks int `yaml:"top_links"`
}

type collector struct {
	name, typ string
	api       api
	logger    *slog.Logger
	linkSet   *exporter.LinkSet
	opts      options
	links     []exporter.LinkRef // configured links, in file order
	tags      []exporter.TagRef

	// rot orders the links of a refresh least recently read first.
	rot *exporter.Rotation

	tagged exporter.TaggedLinks // links the last tag listings found

	fallbacks exporter.Fallbacks // optional calls refused, logged once per change

	mu    sync.Mutex
	group string             // resolved group guid
	meta  map[string]bitlink // link id -> its short and long URL, as the API reported them
	// resume is the group listing's cursor where a refresh out of time
	// stopped learnURLs: the next listing starts there.
	resume string
}

// New builds a bitly collector from its config block.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	opts := options{PageSize: DefaultPageSize, TopLinks: DefaultTopLinks}
	// An option that does not decode keeps its default, so the checks
	// below still run and --config.check shows every error at once.
	var errs []error
	if err := cc.DecodeOptions(&opts); err != nil {
		errs = append(errs, err)
	}
	if opts.PageSize < 1 || opts.PageSize > maxPageSize {
		errs = append(errs, cfg.Errorf(cc.Path()+".options.page_size", "must be between 1 and %d, got %d", maxPageSize, opts.PageSize))
	}
	if opts.TopLinks < 0 || opts.TopLinks > maxTopLinks {
		errs = append(errs, cfg.Errorf(cc.Path()+".options.top_links", "must be between 0 (off) and %d, got %d", maxTopLinks, opts.TopLinks))
	}
	if strings.ContainsAny(opts.GroupGUID, "/?# ") {
		errs = append(errs, cfg.Errorf(cc.Path()+".options.group_guid", "invalid group guid %q", opts.GroupGUID))
	}
	refs, refErrs := exporter.CheckShortener(cc, exporter.ShortenerRules{Form: "domain/back-half, like bit.ly/abc"})
	errs = append(errs, refErrs...)

	c := &collector{
		name:    cc.Name,
		typ:     cc.Type,
		logger:  s.Logger,
		linkSet: s.Links,
		opts:    opts,
		group:   opts.GroupGUID,
		meta:    map[string]bitlink{},
		rot:     exporter.NewRotation(),
		links:   refs.Links,
		tags:    refs.Tags,
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	s.Client.SetHooks(exporter.ClientHooks{ErrorMessage: errorMessage, Authorize: exporter.BearerAuth})
	c.api = api{exporter.NewAPI(cc, DefaultBaseURL, s.Client)}
	return c, nil
}

// Poll implements exporter.Collector.
func (c *collector) Poll(ctx context.Context) ([]exporter.Sample, error) {
	var group string
	if len(c.tags) > 0 || c.opts.TopLinks > 0 {
		g, err := c.resolveGroup(ctx)
		if err != nil {
			return nil, err
		}
		group = g
	}
	discovered, err := c.discover(ctx, group)
	if err != nil {
		return nil, err
	}
	targets := exporter.LinkTargets(c.links, discovered)

	// The batch call, unless the refresh is out of time already: then
	// every link is deferred below.
	clicks := map[string]int64{}
	var note error
	if c.opts.TopLinks > 0 && len(targets) > 0 && !exporter.OutOfTime(ctx) {
		top, err := c.api.topClicked(ctx, group, c.opts.TopLinks)
		switch {
		case err != nil && exporter.OutOfTime(ctx):
		case exporter.Refused(err):
			// Not on this plan or API version: every link costs a
			// clicks summary instead.
			note = fmt.Errorf("bitly: most clicked links of group %q refused, reading each link's clicks summary instead: %w", group, err)
			c.fallbacks.Update(c.logger, "most clicked links", note)
		case err != nil:
			return nil, fmt.Errorf("bitly: most clicked links of group %q: %w", group, err)
		default:
			c.fallbacks.Update(c.logger, "most clicked links", nil)
			for _, l := range top.Links {
				c.remember(l)
			}
			for _, s := range top.SortedLinks {
				// A count that is not a number leaves the link to
				// its own clicks summary call.
				if n, err := readClicks(s.Clicks); err == nil {
					clicks[s.ID] = n
				}
			}
		}
	}

	if err := c.learnURLs(ctx, group, targets); err != nil {
		return nil, err
	}

	// Links least recently read first: a refresh that runs out of time
	// leaves the others for the next one, which starts with them. The
	// clicks summaries are independent calls: max_concurrent_requests of
	// them at once, still paced by the rate limit.
	r := exporter.NewLinkReport(c.typ)
	if note != nil {
		r.Note(note)
	}
	err = r.ReadTargetsConcurrently(ctx, c.api.Client.MaxConcurrentRequests(), c.rot, targets,
		func(t exporter.LinkTarget) bool { return c.needsCall(t.ID(), clicks) },
		func(ctx context.Context, t exporter.LinkTarget) (exporter.LinkRead, error) {
			return c.read(ctx, t.ID(), clicks)
		})
	if err != nil {
		return nil, err
	}
	return r.Finish(c.linkSet, c.name)
}

// discover lists the links of each configured tag. Configured links win,
// then the first tag in file order that a link carries. A refresh that
// runs out of time while listing returns what it found and the links the
// last listings found, which stay known until a listing completes: the
// refresh then defers them all.
func (c *collector) discover(ctx context.Context, group string) ([]exporter.TaggedLink, error) {
	if len(c.tags) == 0 {
		return nil, nil
	}
	known := make(map[string]bool, len(c.links))
	for _, l := range c.links {
		known[l.ID] = true
	}
	var (
		found    []exporter.TaggedLink
		complete = true
	)
	for _, t := range c.tags {
		links, err := c.listTag(ctx, group, t.Tag.Tag)
		for _, l := range links {
			c.remember(l)
			if !known[l.ID] {
				known[l.ID] = true
				found = append(found, exporter.TaggedLink{Tag: t, ID: l.ID})
			}
		}
		if err != nil && exporter.OutOfTime(ctx) {
			complete = false
			break
		}
		if err != nil {
			return nil, err
		}
		c.logger.Debug("listed links by tag", "tag", t.Tag.Tag, "links", len(links))
	}
	return c.tagged.Update(found, known, complete), nil
}

// needsCall reports whether reading the link costs a call: its clicks are
// not in the batch, or its metadata was never seen.
func (c *collector) needsCall(id string, batch map[string]int64) bool {
	if _, ok := batch[id]; !ok {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.meta[id]
	return !ok
}

// read returns a link's clicks, from the batch or one call, and the short
// URL and long URL Bitly reported. The error matches exporter.ErrNotFound
// if Bitly does not know the link.
func (c *collector) read(ctx context.Context, id string, batch map[string]int64) (exporter.LinkRead, error) {
	n, ok := batch[id]
	if !ok {
		var err error
		n, err = c.api.totalClicks(ctx, id)
		if errors.Is(err, exporter.ErrNotFound) {
			return exporter.LinkRead{}, err
		}
		if err != nil {
			return exporter.LinkRead{}, fmt.Errorf("bitly: clicks for link %q: %w", id, err)
		}
	}
	meta, err := c.metadata(ctx, id)
	if errors.Is(err, exporter.ErrNotFound) {
		return exporter.LinkRead{}, err
	}
	if err != nil {
		return exporter.LinkRead{}, fmt.Errorf("bitly: short URL of link %q: %w", id, err)
	}
	return exporter.LinkRead{ShortURL: meta.Link, Destination: meta.LongURL, Clicks: float64(n)}, nil
}

// learnURLs reads the short and long URLs of the links whose URLs no
// answer carried yet from the group's listing, when there are two or more
// of them: a page carries up to page_size links, where GET
// /bitlinks/{bitlink} costs a call a link. It pages until every such link
// is found or the listing ends, or until it has read as many pages as
// there were links to find; the others are then read one call each (a
// link of another group, one Bitly does not know), so a group far larger
// than the configured links costs at most twice the calls of reading them
// one by one. Out of time, the next refresh's listing goes on from where
// this one stopped, to the end, then round from the newest link. A
// listing refused (403, 404, 501) leaves every link to its own call.
func (c *collector) learnURLs(ctx context.Context, group string, targets []exporter.LinkTarget) error {
	want := map[string]bool{}
	c.mu.Lock()
	for _, t := range targets {
		if _, ok := c.meta[t.ID()]; !ok {
			want[t.ID()] = true
		}
	}
	after := c.resume
	c.mu.Unlock()
	if len(want) < 2 || exporter.OutOfTime(ctx) {
		return nil
	}
	if group == "" {
		g, err := c.resolveGroup(ctx)
		if exporter.Refused(err) {
			// Each link's own call instead.
			c.fallbacks.Update(c.logger, "group listing", err)
			return nil
		}
		if err != nil {
			return err
		}
		group = g
	}
	fetch := func(ctx context.Context, after string) ([]bitlink, string, error) {
		page, err := c.api.linksByTag(ctx, group, "", c.opts.PageSize, after)
		if err != nil {
			return nil, "", err
		}
		return page.Links, page.Pagination.SearchAfter, nil
	}
	take := func(links []bitlink) bool {
		for _, l := range links {
			if want[l.ID] {
				c.remember(l)
				delete(want, l.ID)
			}
		}
		return len(want) == 0
	}
	res, err := exporter.ListUntilFound(ctx, exporter.ListingPlan{Resume: after, MaxPages: len(want)}, fetch, take)
	if res.Pages > 0 {
		c.fallbacks.Update(c.logger, "group listing", nil)
	}
	switch {
	case exporter.Refused(err):
		// Each link's own call instead.
		c.fallbacks.Update(c.logger, "group listing", fmt.Errorf("bitly: links of group %q: %w", group, err))
		return nil
	case err != nil:
		return fmt.Errorf("bitly: links of group %q: %w", group, err)
	}
	c.mu.Lock()
	c.resume = res.Resume
	c.mu.Unlock()
	c.logger.Debug("listed links of the group for their URLs", "pages", res.Calls, "unfound", len(want), "cut", res.Cut)
	return nil
}

// resolveGroup returns the configured group, or the token owner's default
// group, asked for once.
func (c *collector) resolveGroup(ctx context.Context) (string, error) {
	c.mu.Lock()
	g := c.group
	c.mu.Unlock()
	if g != "" {
		return g, nil
	}
	g, err := c.api.defaultGroup(ctx)
	if err != nil {
		return "", fmt.Errorf("bitly: default group of the token's user (set options.group_guid to skip this): %w", err)
	}
	if g == "" {
		return "", errors.New("bitly: the token's user has no default group: set options.group_guid")
	}
	c.mu.Lock()
	c.group = g
	c.mu.Unlock()
	c.logger.Info("using the user's default group", "group_guid", g)
	return g, nil
}

// listTag pages through the group's links carrying tag. Out of time, it
// returns the links of the pages it read with the error.
func (c *collector) listTag(ctx context.Context, group, tag string) ([]bitlink, error) {
	var (
		out   []bitlink
		after string
		seen  = map[string]bool{}
	)
	for range maxPages {
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("bitly: links with tag %q: %w", tag, err)
		}
		page, err := c.api.linksByTag(ctx, group, tag, c.opts.PageSize, after)
		if err != nil {
			return out, fmt.Errorf("bitly: links with tag %q: %w", tag, err)
		}
		out = append(out, page.Links...)
		next := page.Pagination.SearchAfter
		if next == "" || len(page.Links) == 0 {
			return out, nil
		}
		if seen[next] {
			return nil, fmt.Errorf("bitly: links with tag %q: %w: pagination cursor repeats", tag, exporter.ErrBadResponse)
		}
		seen[next] = true
		after = next
	}
	return nil, fmt.Errorf("bitly: links with tag %q: more than %d pages", tag, maxPages)
}

// remember keeps the short and long URL of a link from any answer that
// carries them.
func (c *collector) remember(l bitlink) {
	if l.ID == "" || l.Link == "" {
		return
	}
	c.mu.Lock()
	c.meta[l.ID] = bitlink{ID: l.ID, Link: l.Link, LongURL: l.LongURL}
	c.mu.Unlock()
}

// metadata returns the short and long URL Bitly reported for the link,
// asking for them once if no list answer carried them.
func (c *collector) metadata(ctx context.Context, id string) (bitlink, error) {
	c.mu.Lock()
	m, ok := c.meta[id]
	c.mu.Unlock()
	if ok {
		return m, nil
	}
	b, err := c.api.bitlink(ctx, id)
	if err != nil {
		return bitlink{}, err
	}
	if b.Link == "" {
		return bitlink{}, fmt.Errorf("%w: bitlink without link field", exporter.ErrBadResponse)
	}
	b.ID = id
	c.remember(*b)
	return *b, nil
}

// Plan implements exporter.Planner: the calls of one refresh after the
// first, by the call pattern above.
func (c *collector) Plan() exporter.Plan {
	links, tags := len(c.links), len(c.tags)
	if links+tags == 0 {
		return exporter.Plan{Note: "no links or tags configured"}
	}
	calls := tags
	var parts []string
	if tags > 0 {
		parts = append(parts, fmt.Sprintf("%d tag listing pages (assumed one per tag)", tags))
	}
	if c.opts.TopLinks == 0 {
		calls += links
		parts = append(parts, fmt.Sprintf("%d clicks summaries, one per configured link", links))
		if tags > 0 {
			parts = append(parts, "plus one per link found by tag, not known from config")
		}
	} else {
		beyond := max(0, links-c.opts.TopLinks)
		calls += 1 + beyond
		parts = append(parts, fmt.Sprintf("1 batch call for the group's %d most clicked links", c.opts.TopLinks),
			fmt.Sprintf("%d clicks summaries for the configured links beyond top_links", beyond),
			fmt.Sprintf("assumes the links are among the group's %d most clicked: each configured link that is not costs 1 call more, up to %d calls in all, and so does each link found by tag", c.opts.TopLinks, 1+tags+links))
	}
	return exporter.Plan{Calls: calls, Note: strings.Join(parts, "; ") + "; the first refresh also reads the links' URLs once, from the group's listing (one link alone: its own call)"}
}

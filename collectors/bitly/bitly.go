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
//     GET /groups/{group_guid}/bitlinks?tags=…;
//   - K GET /bitlinks/{bitlink}/clicks/summary?unit=day&units=-1.
//
// Once per process, not per refresh: GET /user to learn default_group_guid
// when group_guid is not set and a group is needed (tags or top_links), and
// GET /bitlinks/{bitlink} for a link whose short URL no list answer carried
// (the link probe needs it; a url override in the config skips it).
//
// Bitly sends no rate-limit headers; its limits are per hour and per
// minute (a tenth of the hourly one) and a 429 carries no Retry-After, so the
// shared client's backoff paces retries.
package bitly

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
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

	mu    sync.Mutex
	group string            // resolved group guid
	urls  map[string]string // link id -> short URL the API reported
}

// New builds a bitly collector from its config block.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	opts := options{PageSize: DefaultPageSize, TopLinks: DefaultTopLinks}
	if err := cc.DecodeOptions(&opts); err != nil {
		return nil, err
	}
	var errs []error
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
		urls:    map[string]string{},
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

// tagged is a link found by a configured tag.
type tagged struct {
	tag exporter.TagRef
	id  string
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

	// Tag discovery: configured links win, then the first tag in file
	// order that a link carries.
	known := make(map[string]bool, len(c.links))
	for _, l := range c.links {
		known[l.ID] = true
	}
	var discovered []tagged
	for _, t := range c.tags {
		links, err := c.listTag(ctx, group, t.Tag.Tag)
		if err != nil {
			return nil, err
		}
		for _, l := range links {
			c.rememberURL(l)
			if !known[l.ID] {
				known[l.ID] = true
				discovered = append(discovered, tagged{t, l.ID})
			}
		}
		c.logger.Debug("listed links by tag", "tag", t.Tag.Tag, "links", len(links))
	}
	sort.Slice(discovered, func(i, j int) bool { return discovered[i].id < discovered[j].id })

	clicks := map[string]int64{}
	if c.opts.TopLinks > 0 && len(c.links)+len(discovered) > 0 {
		top, err := c.api.topClicked(ctx, group, c.opts.TopLinks)
		if err != nil {
			return nil, fmt.Errorf("bitly: most clicked links of group %q: %w", group, err)
		}
		for _, l := range top.Links {
			c.rememberURL(l)
		}
		for _, s := range top.SortedLinks {
			clicks[s.ID] = s.Clicks
		}
	}

	r := exporter.NewLinkReport(c.typ)
	for _, l := range c.links {
		n, u, err := c.read(ctx, r, l.ID, l.URL, l.Path(), clicks)
		if err != nil {
			return nil, err
		}
		if u != "" {
			r.Configured(l, u, n)
		}
	}
	for _, d := range discovered {
		n, u, err := c.read(ctx, r, d.id, "", d.tag.Path(), clicks)
		if err != nil {
			return nil, err
		}
		if u != "" {
			r.Discovered(d.tag, d.id, u, n)
		}
	}
	return r.Finish(c.linkSet, c.name)
}

// read returns a link's clicks, from the batch or one call, and the URL the
// probe requests: override, else the short URL Bitly reported. A link Bitly
// does not know is skipped in r, and read returns no URL.
func (c *collector) read(ctx context.Context, r *exporter.LinkReport, id, override, path string, batch map[string]int64) (float64, string, error) {
	skip := func(err error) (float64, string, error) {
		r.Skip(fmt.Errorf("bitly: link %q (%s): %w", id, path, err))
		return 0, "", nil
	}
	n, ok := batch[id]
	if !ok {
		var err error
		n, err = c.api.totalClicks(ctx, id)
		if errors.Is(err, exporter.ErrNotFound) {
			return skip(err)
		}
		if err != nil {
			return 0, "", fmt.Errorf("bitly: clicks for link %q: %w", id, err)
		}
	}
	if override != "" {
		return float64(n), override, nil
	}
	u, err := c.shortURL(ctx, id)
	if errors.Is(err, exporter.ErrNotFound) {
		return skip(err)
	}
	if err != nil {
		return 0, "", fmt.Errorf("bitly: short URL of link %q: %w", id, err)
	}
	return float64(n), u, nil
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

// listTag pages through the group's links carrying tag.
func (c *collector) listTag(ctx context.Context, group, tag string) ([]bitlink, error) {
	var (
		out   []bitlink
		after string
		seen  = map[string]bool{}
	)
	for range maxPages {
		page, err := c.api.linksByTag(ctx, group, tag, c.opts.PageSize, after)
		if err != nil {
			return nil, fmt.Errorf("bitly: links with tag %q: %w", tag, err)
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

func (c *collector) rememberURL(l bitlink) {
	if l.ID == "" || l.Link == "" {
		return
	}
	c.mu.Lock()
	c.urls[l.ID] = l.Link
	c.mu.Unlock()
}

// shortURL returns the short URL Bitly reported for the link, asking for
// it once if no list answer carried it.
func (c *collector) shortURL(ctx context.Context, id string) (string, error) {
	c.mu.Lock()
	u, ok := c.urls[id]
	c.mu.Unlock()
	if ok {
		return u, nil
	}
	b, err := c.api.bitlink(ctx, id)
	if err != nil {
		return "", err
	}
	if b.Link == "" {
		return "", fmt.Errorf("%w: bitlink without link field", exporter.ErrBadResponse)
	}
	c.rememberURL(bitlink{ID: id, Link: b.Link})
	return b.Link, nil
}

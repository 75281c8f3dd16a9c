// Package plausible collects visitors referred by creators from Plausible
// Analytics (plausible.io or a self-hosted instance), through the Stats API
// v2 query endpoint with a Stats API key as bearer token.
//
// A visit is a creator's when its landing URL carried the campaign's UTM
// parameter (utm_content unless the campaign sets utm_parameter) with the
// creator's value (creator.utm, else the creator's name). Plausible keeps
// the UTM tags of a visit's entry page as the visit:utm_* dimensions. The
// collector exports influencer_referral_visitors_total{campaign, creator,
// provider="plausible", source}, where source is the visit's utm_source
// ("(none)" when the landing URL had none), so that a creator's visitors
// split by platform. With options.source_dimension: source, the label is
// Plausible's visit:source instead (utm_source, source or ref tag, else
// the referrer, else "Direct / None"). Whether Plausible leaves out rows
// whose visit:utm_source is empty is not confirmed; if it does, a
// creator's visits without utm_source count only with source_dimension:
// source.
//
// # Bounded source
//
// The source label takes only the values of options.sources (default: the
// platforms the config's campaigns post on, the types of the social
// collectors, instagram, tiktok or youtube, that a creator's posts or
// accounts name) and "other": whatever else visitors bring (a crafted
// utm_source, an unknown referrer, "(none)", "Direct / None") is counted in
// "other", so visitors cannot make new series. Matching is
// case-insensitive, and well-known referrer hosts and aliases map to their
// platform (l.instagram.com and ig are instagram, youtu.be youtube, t.co
// and x.com twitter; exporter.Sources has the list). A campaign whose
// utm_parameter is utm_source has the creator's value as source, which is
// mapped the same way. The raw sources a label gathers are summed: a
// visitor who came from two of them counts twice, so "other" (and a
// platform reached under two names) is an upper bound of its unique
// visitors, not an exact count.
//
// # Counter semantics
//
// Unique visitors over a range are not the sum of the visitors of its days:
// someone who came back on two days is one visitor of the range but one of
// each day. The counter is therefore never built from daily figures. Each
// refresh asks for the unique visitors over the whole range from the
// campaign's start (options.since for a campaign without one; the site's
// whole history, date_range "all", when neither is set) to now. That range
// only grows, so the figure only grows, except that Plausible may revise a
// range's figure down (bot filtering, deleted data). The collector keeps
// the highest value it has seen for each series and exports that: the
// counter never goes down, and a series seen once stays exported with its
// high-water mark even if a later answer lacks it. The marks live in
// memory; a restart starts from what Plausible says then.
//
// # Calls per refresh
//
// One query per distinct (UTM parameter, range start) among the campaigns,
// usually one per campaign and never one per creator. It groups by
// visit:<parameter> and the source dimension, filters visit:<parameter>
// to the creators' values, and takes ceil(rows / options.page_size) pages
// (at least 1). A campaign whose parameter is the source dimension itself
// groups by that one dimension. A campaign that has not started yet costs
// nothing. Plausible allows 600 requests an hour per key by default; at
// one call a minute a single campaign spends 60.
//
// # Coverage
//
// Every creator of every campaign is attributed by its UTM value, so each
// is an object of kind site (influencer_collector_objects): exported once
// any visitor of it was counted. A creator without a series is reported
// missing with the reason: no visit carried its UTM value over the range,
// or its campaign has not started. A refresh that runs out of time stops
// querying: the groups it read are counted, the creators of the others
// are reported skipped and keep their last values, and the next refresh
// queries them first. A query cut part way through its pages counts
// nothing (half a count of unique visitors is no figure).
//
// Only the visitors metric is requested: the metric catalogue has no
// pageviews series, so pageviews are not exported. Plausible's realtime
// visitor count (legacy v1 GET /api/v1/stats/realtime/visitors, current
// visitors of the whole site, not split by UTM) is not collected either:
// it cannot be attributed to a creator and has no series in the catalogue.
package plausible

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Option defaults and limits.
const (
	// DefaultPageSize is the rows a query page asks for: Plausible's
	// default and maximum limit.
	DefaultPageSize = 10000
	maxPageSize     = 10000
	// maxPages bounds one query, against pagination that never ends.
	maxPages = 1000
	// noneSource labels visits without a utm_source.
	noneSource = "(none)"
)

func init() {
	exporter.Register("plausible", New)
}

// options are the plausible collector's provider options.
type options struct {
	// SiteID is the site's domain as it is registered in Plausible.
	SiteID string `yaml:"site_id"`
	// Since starts the range of campaigns without a start: a date
	// (2025-03-01, midnight UTC) or an RFC 3339 time.
	Since string `yaml:"since"`
	// PageSize is the rows one query page asks for.
	PageSize int `yaml:"page_size"`
	// SourceDimension is what fills the source label: utm_source (the
	// raw visit:utm_source) or source (visit:source, Plausible's source
	// from utm_source, source, ref or the Referer header).
	SourceDimension string `yaml:"source_dimension"`
	// Sources are the values the source label takes; any other source
	// is counted in "other" (see the package comment). Unset: the
	// platforms of the config's social collectors.
	Sources []string `yaml:"sources"`
}

// group is the creators one query answers for: one UTM parameter and one
// range start (nil: all of the site's history).
type group struct {
	key      string
	param    string
	start    *time.Time
	creators []exporter.CreatorRef
}

type collector struct {
	typ    string
	api    api
	logger *slog.Logger
	opts   options
	groups []*group
	// creators are every creator, group by group.
	creators []exporter.CreatorRef
	now      func() time.Time
	// rot orders the groups least recently read first, so that a
	// refresh cut short queries next time those it did not reach.
	rot *exporter.Rotation

	// sources bounds the source label.
	sources *exporter.Sources

	mu   sync.Mutex
	high map[seriesKey]float64 // high-water mark per exported series
}

// seriesKey is one series of influencer_referral_visitors_total.
type seriesKey struct{ campaign, creator, source string }

// New builds a plausible collector from its config block.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	opts := options{PageSize: DefaultPageSize, SourceDimension: "utm_source"}
	// An option that does not decode keeps its default, so the checks
	// below still run and --config.check shows every error at once.
	var errs []error
	if err := cc.DecodeOptions(&opts); err != nil {
		errs = append(errs, err)
	}
	if strings.TrimSpace(opts.SiteID) == "" {
		errs = append(errs, cfg.Errorf(cc.Path()+".options.site_id", "is required: the site's domain as registered in Plausible"))
	}
	if opts.PageSize < 1 || opts.PageSize > maxPageSize {
		errs = append(errs, cfg.Errorf(cc.Path()+".options.page_size", "must be between 1 and %d, got %d", maxPageSize, opts.PageSize))
	}
	if opts.SourceDimension != "utm_source" && opts.SourceDimension != "source" {
		errs = append(errs, cfg.Errorf(cc.Path()+".options.source_dimension", "must be utm_source or source, got %q", opts.SourceDimension))
	}
	var since *time.Time
	if opts.Since != "" {
		t, err := parseSince(opts.Since)
		if err != nil {
			errs = append(errs, cfg.Errorf(cc.Path()+".options.since", "must be a date (2025-03-01) or an RFC 3339 time, got %q", opts.Since))
		} else {
			since = &t
		}
	}
	if cc.BaseURL != "" {
		if err := exporter.CheckBaseURL(cc.BaseURL); err != nil {
			errs = append(errs, cfg.Errorf(cc.Path()+".base_url", "%v", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	if opts.Sources == nil {
		opts.Sources = exporter.DefaultSources(cfg)
	}
	c := &collector{typ: cc.Type, logger: s.Logger, opts: opts, now: time.Now, high: map[seriesKey]float64{}, rot: exporter.NewRotation(), sources: exporter.NewSources(opts.Sources)}
	c.groups = groupCreators(cfg.Creators(), since)
	for _, g := range c.groups {
		c.creators = append(c.creators, g.creators...)
	}
	s.Client.SetHooks(exporter.ClientHooks{ErrorMessage: errorMessage, Authorize: exporter.BearerAuth})
	c.api = api{exporter.NewAPI(cc, DefaultBaseURL, s.Client)}
	return c, nil
}

// parseSince reads options.since.
func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

// groupCreators gathers the creators by UTM parameter and range start, in
// file order of each group's first creator.
func groupCreators(refs []exporter.CreatorRef, since *time.Time) []*group {
	var out []*group
	byKey := map[string]*group{}
	for _, r := range refs {
		start := r.Start
		if start == nil {
			start = since
		}
		key := r.UTMParameter + "|"
		if start != nil {
			key += start.UTC().Format(time.RFC3339Nano)
		}
		g := byKey[key]
		if g == nil {
			g = &group{key: key, param: r.UTMParameter, start: start}
			byKey[key] = g
			out = append(out, g)
		}
		g.creators = append(g.creators, r)
	}
	return out
}

// Poll implements exporter.Collector.
func (c *collector) Poll(ctx context.Context) ([]exporter.Sample, error) {
	now := c.now()
	fresh := map[seriesKey]float64{}
	state := map[*group]string{} // groups not read: why
	cut := false
	for _, g := range exporter.Rotate(c.rot, c.groups, func(g *group) string { return g.key }) {
		if g.start != nil && g.start.After(now) {
			state[g] = notStarted // nothing to count yet
			continue
		}
		if cut = cut || exporter.OutOfTime(ctx); cut {
			state[g] = outOfTime
			continue
		}
		rows, err := c.visitors(ctx, g, now)
		if err != nil && exporter.OutOfTime(ctx) {
			cut, state[g] = true, outOfTime
			continue
		}
		if err != nil {
			return nil, err
		}
		c.rot.Done(g.key)
		byValue := map[string]map[string]float64{} // UTM value -> source -> visitors
		for _, r := range rows {
			value, source := r.Dimensions[0], r.Dimensions[len(r.Dimensions)-1]
			if source == "" {
				source = noneSource
			}
			source = c.sources.Map(source)
			if byValue[value] == nil {
				byValue[value] = map[string]float64{}
			}
			byValue[value][source] += r.Metrics[0]
		}
		for _, cr := range g.creators {
			for source, n := range byValue[cr.UTMValue] {
				fresh[seriesKey{cr.Campaign, cr.Creator, source}] += n
			}
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	for k, n := range fresh {
		old, seen := c.high[k]
		switch {
		case !seen || n > old:
			c.high[k] = n
		case n < old:
			c.logger.Debug("visitors revised down, keeping the high-water mark",
				"campaign", k.campaign, "creator", k.creator, "source", k.source, "reported", n, "exported", old)
		}
	}
	keys := make([]seriesKey, 0, len(c.high))
	has := map[[2]string]bool{}
	for k := range c.high {
		keys = append(keys, k)
		has[[2]string{k.campaign, k.creator}] = true
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.campaign != b.campaign {
			return a.campaign < b.campaign
		}
		if a.creator != b.creator {
			return a.creator < b.creator
		}
		return a.source < b.source
	})
	samples := make([]exporter.Sample, 0, len(keys))
	for _, k := range keys {
		samples = append(samples, exporter.ReferralVisitors.Sample(c.high[k], k.campaign, k.creator, c.typ, k.source))
	}

	// Creators not exported, and why.
	var errs []error
	for _, g := range c.groups {
		for _, cr := range g.creators {
			o := exporter.SiteObject(cr, c.opts.SiteID)
			switch {
			case state[g] == outOfTime:
				errs = append(errs, exporter.Skipped(o, fmt.Errorf("plausible: visitors of site %q by %s: %w", c.opts.SiteID, g.param, exporter.ErrOutOfTime)))
			case has[[2]string{cr.Campaign, cr.Creator}]:
			case state[g] == notStarted:
				errs = append(errs, exporter.Missing(o, fmt.Errorf("plausible: site %q: campaign %q starts at %s: no visitors to count yet",
					c.opts.SiteID, cr.Campaign, g.start.UTC().Format(time.RFC3339))))
			default:
				errs = append(errs, exporter.Missing(o, fmt.Errorf("plausible: site %q: no visit with %s=%s %s",
					c.opts.SiteID, g.param, cr.UTMValue, g.since())))
			}
		}
	}
	return samples, exporter.Partial(errs)
}

// Why a group was not read.
const (
	notStarted = "not started"
	outOfTime  = "out of time"
)

// Expected implements exporter.Coverer: every creator, on the site.
func (c *collector) Expected() []exporter.Object {
	return exporter.SiteObjects(c.creators, c.opts.SiteID)
}

// Plan implements exporter.Planner: one query per group (see the package
// comment), of one page each.
func (c *collector) Plan() exporter.Plan {
	return exporter.Plan{Calls: len(c.groups), Note: fmt.Sprintf(
		"1 query per UTM parameter and campaign start, for %d creators, of 1 page of %d rows each (assumed: more with more creator and source pairs); a campaign not started yet costs none",
		len(c.creators), c.opts.PageSize)}
}

// since says over which range a group counts, for people.
func (g *group) since() string {
	if g.start == nil {
		return "in the site's whole history"
	}
	return "since " + g.start.UTC().Format(time.RFC3339)
}

// visitors runs the query of one group, all pages.
func (c *collector) visitors(ctx context.Context, g *group, now time.Time) ([]result, error) {
	dim := "visit:" + g.param
	q := query{
		SiteID:     c.opts.SiteID,
		Metrics:    []string{"visitors"},
		DateRange:  "all",
		Dimensions: []string{dim},
		Filters:    []any{[]any{"is", dim, g.values()}},
		Pagination: pagination{Limit: c.opts.PageSize},
	}
	if src := "visit:" + c.opts.SourceDimension; src != dim {
		q.Dimensions = append(q.Dimensions, src)
	}
	if g.start != nil {
		// A date-time range: the campaign's start to the second, not
		// from midnight of its first day in the site's time zone.
		q.DateRange = []string{isoTime(*g.start), isoTime(now)}
	}
	var out []result
	for page := range maxPages {
		if exporter.OutOfTime(ctx) {
			return nil, ctx.Err()
		}
		q.Pagination.Offset = page * c.opts.PageSize
		rows, err := c.api.query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("plausible: visitors of site %q by %s: %w", c.opts.SiteID, g.param, err)
		}
		out = append(out, rows...)
		if len(rows) < c.opts.PageSize {
			c.logger.Debug("queried visitors", "utm_parameter", g.param, "rows", len(out), "pages", page+1)
			return out, nil
		}
	}
	return nil, fmt.Errorf("plausible: visitors of site %q by %s: more than %d pages", c.opts.SiteID, g.param, maxPages)
}

// values returns the group's distinct UTM values, in file order.
func (g *group) values() []string {
	seen := map[string]bool{}
	var out []string
	for _, cr := range g.creators {
		if !seen[cr.UTMValue] {
			seen[cr.UTMValue] = true
			out = append(out, cr.UTMValue)
		}
	}
	return out
}

// isoTime formats t as Plausible's examples write date-times: seconds and
// a numeric UTC offset.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05-07:00") }

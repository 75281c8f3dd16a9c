// Package ga4 collects the visitors each creator refers to a site, from
// Google Analytics 4 through the Data API v1beta
// (analyticsdata.googleapis.com), attributed by the creator's UTM value.
//
// # What is exported
//
// influencer_referral_visitors_total{campaign,creator,provider="ga4",
// source} where source is the session's source (sessionSource: the
// utm_source of the landing URL, or the referring site), so a creator's
// visitors are split by platform. A creator's visits are those whose
// session carried the campaign's utm_parameter (default utm_content) with
// the creator's utm value (default: the creator's name); the parameter
// maps to a session dimension:
//
//	utm_content  -> sessionManualAdContent
//	utm_campaign -> sessionManualCampaignName
//	utm_source   -> sessionManualSource
//	utm_medium   -> sessionManualMedium
//	utm_term     -> sessionManualTerm
//
// The source label is bounded: it takes only the values of
// options.sources (default: the platforms the config's campaigns post on,
// the types of the social collectors, instagram, tiktok or youtube, named
// by a creator's posts or accounts) and "other", into which every other
// session source is counted, so a crafted utm_source or referrer never
// makes a new series. Matching is case-insensitive and maps well-known
// referrer hosts to their platform (l.instagram.com is instagram,
// youtu.be youtube, t.co twitter: exporter.Sources has the list). The
// sources a label gathers are summed: a visitor who came from two of them
// counts twice, so such a series is an upper bound of its unique
// visitors, its high-water mark taken on the sum.
//
// The visitor count is GA4's activeUsers. A row whose count is not a
// count fails only the creator of its UTM value (reported missing with
// the reason) for that refresh; propertyQuota's numbers are read whether
// GA4 sends them as numbers or as strings. Sessions and realtime users are
// not exported: the metric contract has no series for them.
//
// # Counter semantics
//
// Unique visitors over a range are not the sum of the visitors of its
// days: someone coming back on two days is one visitor of the range and
// one of each day. So the collector never adds days up. Each refresh asks
// for activeUsers over the whole range from the campaign's start (or
// options.since when the campaign has none) to today, a range that only
// grows, so the figure only grows too: that is the counter's value. GA4
// revises recent figures (late hits, thresholding, modelled data), which
// can lower a total; the collector keeps a high-water mark per series and
// never reports less than it reported before, so the counter never goes
// down (a restart starts the mark afresh from GA4's figure). Dates are
// the property's own days: the start is the campaign start's calendar
// date as written in the config.
//
// # Calls per refresh
//
// One POST /v1beta/properties/{property}:runReport per distinct (utm
// parameter, start date) among the campaigns, filtered with an
// inListFilter on the creators' values: a single call when the campaigns
// share both. A report of more rows (values x sources) than a page holds
// pages on with offset, one more call per page: a page is as many rows as
// fit max_response_bytes at 200 bytes a row, up to GA4's 250,000 (52,000
// with the default 10 MiB), so 10,000 creators with 4 sources each take
// one call where GA4's default limit, 10,000 rows, would take 4. Add one
// POST to the credentials' token_uri when the access token is renewed:
// about once an hour, and once more if Google refuses the token.
//
// Each report asks for returnPropertyQuota, and the property's remaining
// daily tokens (tokensPerDay.remaining) are exported as
// influencer_api_quota_remaining; at zero the client holds further calls
// until midnight Pacific time, when the quota resets. A 429
// RESOURCE_EXHAUSTED fails the refresh as rate limited.
//
// # Coverage
//
// Every creator of every campaign is attributed by its UTM value, so each
// is an object of kind site (influencer_collector_objects): exported once
// GA4 counted a visitor of it. A creator without a series is reported
// missing with the reason: no session carried its UTM value over the
// range, or its campaign starts later (no report is asked for a campaign
// that has not started: GA4 refuses a range that starts after it ends). A
// refresh that runs out of time stops asking: the reports it read are
// counted, the creators of the others are reported skipped and keep their
// last values, and the next refresh asks for those first. A report cut
// between its pages counts nothing.
//
// # Credentials
//
// The collector's token (token_file in practice) is a service account's
// JSON key or an OAuth user's authorized-user file (client_id,
// client_secret, refresh_token, as `gcloud auth application-default
// login` writes it), told apart by its "type" field. golang.org/x/oauth2
// gets the access token at the file's token_uri (Google's endpoint when
// the file has none): for a service account, the OAuth2 JWT bearer grant
// with an RS256 assertion (iss=client_email, scope analytics.readonly,
// aud=token_uri, one hour) signed with its private key (oauth2/jwt); for
// an authorized user, the refresh-token grant. The token call goes
// through the collector's HTTP client like every other (retries,
// influencer_api_requests_total). The collector keeps the access token
// until five minutes before it expires, then gets another, and exports
// its expiry as influencer_token_expiry_timestamp_seconds. The service
// account, or the user, must be a Viewer of the property. The key, its
// PEM lines, each assertion, the client secret, the refresh token and
// each access token are redacted from every error.
package ga4

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

const provider = "ga4"

// DefaultBaseURL is the Data API's base.
const DefaultBaseURL = "https://analyticsdata.googleapis.com"

// DefaultSince is the start of the range of a campaign without a start:
// the earliest date the Data API accepts.
const DefaultSince = "2015-08-14"

// sourceDimension splits a creator's visitors by platform.
const sourceDimension = "sessionSource"

// Report pages. GA4 answers up to 250,000 rows a call (limit, default
// 10,000). A row of a report is about 100 bytes of JSON without
// prettyPrint; rowBytes leaves room for long session sources, so that a
// page fits the client's cap on a response's size (max_response_bytes,
// 10 MiB by default: 52,000 rows a page).
const (
	maxPageSize = 250000
	minPageSize = 1000
	rowBytes    = 200
	// maxRows bounds one report.
	maxRows = 500000
)

// pageSize is the rows a report call asks for within a response size cap.
func pageSize(maxResponseBytes int64) int {
	n := int(min(int64(maxPageSize), maxResponseBytes/rowBytes))
	return max(minPageSize, n/minPageSize*minPageSize)
}

// Dimensions maps a campaign's utm_parameter to the GA4 session
// dimension that holds it.
var Dimensions = map[string]string{
	"utm_content":  "sessionManualAdContent",
	"utm_campaign": "sessionManualCampaignName",
	"utm_source":   "sessionManualSource",
	"utm_medium":   "sessionManualMedium",
	"utm_term":     "sessionManualTerm",
}

var (
	propertyRE = regexp.MustCompile(`^[0-9]+$`)
	dateRE     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

func init() {
	exporter.Register(provider, New)
}

// options are the ga4 collector's provider options.
type options struct {
	// Property is the numeric GA4 property id (required).
	Property string `yaml:"property"`
	// Since is the range start (YYYY-MM-DD) of campaigns without a start.
	Since string `yaml:"since"`
	// Sources are the values the source label takes; any other session
	// source is counted in "other". Unset: the platforms of the config's
	// social collectors (exporter.DefaultSources).
	Sources []string `yaml:"sources"`
}

// group is one report: creators sharing a parameter and a start date.
type group struct {
	param, dim, start string
	creators          []exporter.CreatorRef
}

func (g group) key() string { return g.param + "|" + g.start }

type collector struct {
	api      *exporter.API
	client   *exporter.Client
	logger   *slog.Logger
	tokens   *tokens
	property string
	pageSize int // rows a report call asks for
	groups   []group
	creators []exporter.CreatorRef // every creator, group by group
	now      func() time.Time
	// rot orders the reports least recently read first, so that a
	// refresh cut short asks next time for those it did not reach.
	rot *exporter.Rotation

	// sources bounds the source label.
	sources *exporter.Sources

	mu   sync.Mutex
	high map[string]map[string]float64 // campaign\x00creator -> source -> high-water mark
	// bad holds, by group key and UTM value, why the last report of the
	// group could not read a row of that value: its creators are missing
	// until a report reads them again.
	bad map[string]error
}

// New builds a ga4 collector from its config block.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	opts := options{Since: DefaultSince}
	// An option that does not decode keeps its default, so the checks
	// below still run and --config.check shows every error at once.
	var errs []error
	if err := cc.DecodeOptions(&opts); err != nil {
		errs = append(errs, err)
	}
	path := cc.Path() + ".options"
	if !propertyRE.MatchString(opts.Property) {
		errs = append(errs, cfg.Errorf(path+".property", "ga4 property must be the numeric property id (Admin > Property details), got %q", opts.Property))
	}
	if _, err := time.Parse(time.DateOnly, opts.Since); err != nil || !dateRE.MatchString(opts.Since) {
		errs = append(errs, cfg.Errorf(path+".since", "since must be a date as YYYY-MM-DD, got %q", opts.Since))
	}
	if cc.BaseURL != "" {
		if err := exporter.CheckBaseURL(cc.BaseURL); err != nil {
			errs = append(errs, cfg.Errorf(cc.Path()+".base_url", "%v", err))
		}
	}
	key, err := parseKey([]byte(cc.Token))
	if err != nil {
		errs = append(errs, cfg.Errorf(cc.Path()+".token_file", "ga4: %v", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	tok := newTokens(s.Client, key, string(cc.Token))
	s.Client.SetHooks(exporter.ClientHooks{
		ErrorMessage: errorMessage,
		Classify:     classify,
		Authorize:    tok.authorize,
	})
	c := &collector{
		api:      exporter.NewAPI(cc, DefaultBaseURL, s.Client),
		client:   s.Client,
		logger:   s.Logger,
		tokens:   tok,
		property: opts.Property,
		pageSize: pageSize(cc.HTTP.MaxResponseBytes),
		now:      time.Now,
		high:     map[string]map[string]float64{},
		bad:      map[string]error{},
		rot:      exporter.NewRotation(),
	}
	if opts.Sources == nil {
		opts.Sources = exporter.DefaultSources(cfg)
	}
	c.sources = exporter.NewSources(opts.Sources)
	c.groups = groups(cfg.Creators(), opts.Since)
	for _, g := range c.groups {
		c.creators = append(c.creators, g.creators...)
	}
	return c, nil
}

// groups splits the creators by (parameter, start date), in file order.
func groups(creators []exporter.CreatorRef, since string) []group {
	var out []group
	idx := map[string]int{}
	for _, cr := range creators {
		start := since
		if cr.Start != nil {
			start = cr.Start.Format(time.DateOnly)
		}
		k := cr.UTMParameter + "|" + start
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, group{param: cr.UTMParameter, dim: Dimensions[cr.UTMParameter], start: start})
		}
		out[i].creators = append(out[i].creators, cr)
	}
	return out
}

// Poll reports the visitors of every creator since their campaign's start.
func (c *collector) Poll(ctx context.Context) ([]exporter.Sample, error) {
	// The earliest date it is anywhere: a campaign starting after it has
	// not started in any property's time zone.
	today := c.now().UTC().Add(-12 * time.Hour).Format(time.DateOnly)
	state := map[string]string{} // groups not read, by key: why
	cut := false
	for _, g := range exporter.Rotate(c.rot, c.groups, group.key) {
		if g.start > today {
			state[g.key()] = notStarted
			continue
		}
		if cut = cut || exporter.OutOfTime(ctx); cut {
			state[g.key()] = outOfTime
			continue
		}
		rows, bad, err := c.report(ctx, g)
		if err != nil && exporter.OutOfTime(ctx) {
			cut, state[g.key()] = true, outOfTime
			continue
		}
		if err != nil {
			return nil, err
		}
		c.rot.Done(g.key())
		c.raise(g, rows, bad)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	var (
		samples []exporter.Sample
		errs    []error
	)
	for _, g := range c.groups {
		for _, cr := range g.creators {
			o := exporter.SiteObject(cr, c.property)
			if err := c.bad[g.key()+"\x00"+cr.UTMValue]; err != nil && state[g.key()] != outOfTime {
				// A row of this creator could not be read: its series
				// alone fail, the others stand.
				errs = append(errs, exporter.Missing(o, err))
				continue
			}
			// A source GA4 stops reporting keeps its last figure: a
			// counter does not vanish because a figure was revised away.
			hw := c.high[cr.Campaign+"\x00"+cr.Creator]
			sources := make([]string, 0, len(hw))
			for src := range hw {
				sources = append(sources, src)
			}
			sort.Strings(sources)
			for _, src := range sources {
				samples = append(samples, exporter.ReferralVisitors.Sample(hw[src], cr.Campaign, cr.Creator, provider, src))
			}
			switch {
			case state[g.key()] == outOfTime:
				errs = append(errs, exporter.Skipped(o, fmt.Errorf("ga4: report of %s since %s for property %s: %w", g.param, g.start, c.property, exporter.ErrOutOfTime)))
			case len(hw) > 0:
			case state[g.key()] == notStarted:
				errs = append(errs, exporter.Missing(o, fmt.Errorf("ga4: property %s: campaign %q starts on %s: no visitors to count yet", c.property, cr.Campaign, g.start)))
			default:
				errs = append(errs, exporter.Missing(o, fmt.Errorf("ga4: property %s: no session with %s=%s (%s) since %s", c.property, g.param, cr.UTMValue, g.dim, g.start)))
			}
		}
	}
	return samples, exporter.Partial(errs)
}

// Why a report was not read.
const (
	notStarted = "not started"
	outOfTime  = "out of time"
)

// Expected implements exporter.Coverer: every creator, on the property.
func (c *collector) Expected() []exporter.Object {
	return exporter.SiteObjects(c.creators, c.property)
}

// Plan implements exporter.Planner: one report per group (see the package
// comment), of one page each.
func (c *collector) Plan() exporter.Plan {
	return exporter.Plan{Calls: len(c.groups), Note: fmt.Sprintf(
		"1 runReport per UTM parameter and start date, for %d creators, of 1 page of %d rows each (assumed); the access token renewal adds 1 about once an hour",
		len(c.creators), c.pageSize)}
}

// report runs one group's report, paging on with offset. It returns the
// visitors by (UTM value, source) and, by UTM value, why a row of that
// value could not be read: such a row fails its creators only.
func (c *collector) report(ctx context.Context, g group) (map[[2]string]float64, map[string]error, error) {
	values := make([]string, 0, len(g.creators))
	seen := map[string]bool{}
	for _, cr := range g.creators {
		if !seen[cr.UTMValue] {
			seen[cr.UTMValue] = true
			values = append(values, cr.UTMValue)
		}
	}
	out := map[[2]string]float64{}
	bad := map[string]error{}
	for page := 0; page*c.pageSize < maxRows; page++ {
		if exporter.OutOfTime(ctx) {
			return nil, nil, ctx.Err()
		}
		req := runReportRequest{
			Dimensions: []dimension{{Name: g.dim}, {Name: sourceDimension}},
			Metrics:    []metric{{Name: "activeUsers"}},
			DateRanges: []dateRange{{StartDate: g.start, EndDate: "today"}},
			DimensionFilter: &filterExpression{Filter: &filter{
				FieldName:    g.dim,
				InListFilter: &inListFilter{Values: values, CaseSensitive: true},
			}},
			Limit:               strconv.Itoa(c.pageSize),
			ReturnPropertyQuota: true,
		}
		if page > 0 {
			req.Offset = strconv.Itoa(page * c.pageSize)
		}
		resp, err := c.runReport(ctx, req)
		if err != nil {
			return nil, nil, fmt.Errorf("ga4: report of %s since %s for property %s: %w", g.param, g.start, c.property, err)
		}
		if q := resp.PropertyQuota.TokensPerDay; q != nil {
			c.client.ReportQuota(float64(q.Remaining), quotaReset(c.now()))
		}
		for _, r := range resp.Rows {
			if len(r.DimensionValues) != 2 || len(r.MetricValues) != 1 {
				return nil, nil, fmt.Errorf("ga4: report of %s for property %s: row with %d dimensions and %d metrics, want 2 and 1: %w",
					g.param, c.property, len(r.DimensionValues), len(r.MetricValues), exporter.ErrBadResponse)
			}
			value := r.DimensionValues[0].Value
			v, err := strconv.ParseFloat(strings.TrimSpace(r.MetricValues[0].Value), 64)
			if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				bad[value] = fmt.Errorf("ga4: report of %s for property %s: %s=%s: activeUsers %q is not a count: %w",
					g.param, c.property, g.dim, value, r.MetricValues[0].Value, exporter.ErrBadResponse)
				continue
			}
			out[[2]string{value, r.DimensionValues[1].Value}] += v
		}
		if len(resp.Rows) < c.pageSize || (page+1)*c.pageSize >= resp.RowCount {
			return out, bad, nil
		}
	}
	c.logger.Warn("report truncated", "param", g.param, "rows", maxRows)
	return out, bad, nil
}

// runReport sends one report with a valid access token, getting a new
// token once if Google refuses the current one.
func (c *collector) runReport(ctx context.Context, req runReportRequest) (*runReportResponse, error) {
	// prettyPrint=false, a parameter every Google API takes, drops the
	// indentation that would double a large report's size.
	path := "/v1beta/properties/" + c.property + ":runReport?prettyPrint=false"
	for attempt := 0; ; attempt++ {
		if err := c.tokens.ensure(ctx, c.now()); err != nil {
			return nil, fmt.Errorf("access token: %w", err)
		}
		var resp runReportResponse
		_, err := c.api.Post(ctx, path, req, &resp)
		if err == nil {
			return &resp, nil
		}
		if attempt == 0 && errors.Is(err, exporter.ErrUnauthorized) {
			c.tokens.invalidate()
			continue
		}
		return nil, err
	}
}

// raise raises each series of the creators of one report to its
// high-water mark, each raw session source counted in its bounded label
// (the sum of several raw sources' unique visitors, an upper bound), and
// records the creators whose rows could not be read.
func (c *collector) raise(g group, rows map[[2]string]float64, bad map[string]error) {
	bySource := map[string]map[string]float64{} // value -> source -> visitors
	for k, v := range rows {
		if bySource[k[0]] == nil {
			bySource[k[0]] = map[string]float64{}
		}
		bySource[k[0]][c.sources.Map(k[1])] += v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cr := range g.creators {
		if err := bad[cr.UTMValue]; err != nil {
			c.bad[g.key()+"\x00"+cr.UTMValue] = err
			continue // its other rows may lack visitors the bad one had
		}
		delete(c.bad, g.key()+"\x00"+cr.UTMValue)
		key := cr.Campaign + "\x00" + cr.Creator
		hw := c.high[key]
		if hw == nil {
			hw = map[string]float64{}
			c.high[key] = hw
		}
		for src, v := range bySource[cr.UTMValue] {
			hw[src] = max(hw[src], v)
		}
	}
}

// Package jsonapi is the configurable HTTP JSON collector, type "json": it
// reads a provider nobody has written a collector for yet (an affiliate
// network, another shortener, a shop platform) from what config.yaml says
// about its REST API, and reports metrics of the exporter's catalogue.
//
//	collectors:
//	- type: json
//	  name: impact                    # the collector's name
//	  base_url: https://api.example.com
//	  token_file: impact.token
//	  options:
//	    provider: impact              # the provider label (required)
//	    url: /v2/affiliates/{campaign}/stats
//	    query: {status: approved}     # extra query parameters, optional
//	    auth: {type: bearer}
//	    pagination: {type: cursor, cursor_path: meta.next, param: cursor}
//	    items: data
//	    creator: {path: partner.handle, map: {alice_ig: alice}}
//	    values:
//	      - {metric: influencer_link_clicks_total, path: stats.clicks, labels: {link: short_url}}
//	      - {metric: influencer_code_redemptions_total, path: stats.orders, labels: {code: coupon}}
//
// url is joined to base_url (it cannot leave it: no scheme, host or query
// string). It may hold {campaign} and {creator}: the URL is then requested
// once per configured campaign, or once per configured creator, with the
// name (or, for a creator, the key of creator.map that maps to the name)
// path-escaped in its place. Without placeholders it is requested once.
//
// auth.type is bearer (default: Authorization: Bearer <token>), header
// (the raw token in the header auth.name), basic (the token is
// "user:password"), query (the token in the query parameter auth.param;
// the shared client never shows query strings in errors or logs) or none.
//
// pagination.type is none (default), cursor (the next cursor is read at
// cursor_path in the body and sent back in the query parameter param; an
// absent, null or empty cursor, or an empty page, ends), page (param,
// default "page", counts up from start, default 1; size_param and size
// send a page size; an empty page or one shorter than size ends) or link
// (the RFC 8288 Link header's rel="next" target, which must stay on
// base_url's scheme and host). max_pages (default 100) bounds the pages of
// one URL; beyond it the refresh fails. Calls per refresh: the pages of
// each URL requested, so with N items and page size S,
// ceil(N/S) calls per campaign or creator (at least one each).
//
// Paths (items, cursor_path, creator.path, campaign.path, values[].path,
// values[].labels) use a small subset: dot-separated keys, each with
// optional [n] indexes, such as stats.clicks or rows[0].value; the empty
// path is the item itself. No wildcards or filters. items must lead to an
// array (an object there is one item, null is none).
//
// Each item is attributed to a configured creator: creator.path reads the
// provider's value and creator.map translates it to a creator's name
// (values not in the map are taken as the name itself); with {creator} in
// url the requested creator is used (creator.map, without a path, then
// gives the provider's id to put in the URL for a creator's name). The campaign is likewise
// campaign.path/campaign.map, or campaign.value (a fixed campaign name),
// or {campaign} in url, or, when none is set, the one campaign the creator
// is in (a creator in several campaigns then is a config error).
//
// Items of creators or campaigns that are not configured are ignored (a
// debug log counts them), not reported as a partial error: an affiliate
// network's report lists every partner of the account, most of them
// outside the campaign, and that is no fault. A creator with no item has
// no series (its objects, below, show as missing). A campaign or creator
// whose URL (by {campaign} or {creator}) the provider answers 404 for is
// skipped with a partial error, and the others are reported.
//
// Coverage: the objects a json collector watches are the config's links,
// codes, posts and accounts that name it and, if a value feeds
// influencer_referral_visitors_total, every configured creator's referral
// traffic (a site object per creator, as the analytics collectors have).
// Its source label is bounded as theirs is: the values of options.sources
// (default: the platforms of the config's social collectors), matched
// case-insensitively with well-known referrer hosts mapped (see
// exporter.Sources), and "other" for the rest, summed.
// A campaign or creator whose URL answers 404 reports those of its objects
// missing with the provider's answer. A refresh that runs out of time (its
// interval) stops calling: the URLs it read are reported, the objects of
// the others keep their last values and are reported skipped, and the next
// refresh requests those URLs first. A URL cut between its pages counts
// nothing: its items are summed, and half a sum is no figure.
//
// values lists the samples each item gives. metric must be one of the
// catalogue's per-creator metrics other than the link probe's
// influencer_link_* health metrics (dashboards and alerts rely on those
// names and labels); campaign, creator and provider come from the mapping
// and the provider option, and labels must give every other label of the
// metric, each as a path into the item or as "=literal" (currency: "=EUR").
// The value is a JSON number or a string holding one. Items that land on
// the same series are summed (a report with one row per day gives the
// total). A value or label missing from an item, or a value that is not a
// number, fails the refresh as a malformed response, so the last good
// values stay.
package jsonapi

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Type is the collector type.
const Type = "json"

func init() {
	exporter.Register(Type, New)
}

// defaultMaxPages bounds the pages of one URL.
const defaultMaxPages = 100

// Options are the settings under `options:`.
type Options struct {
	// Provider is the `provider` label of every sample, such as impact.
	Provider string `yaml:"provider"`
	// URL is the resource path, joined to base_url, with optional
	// {campaign} and {creator} placeholders.
	URL string `yaml:"url"`
	// Query holds extra query parameters sent with every request.
	Query      map[string]string `yaml:"query"`
	Auth       AuthOptions       `yaml:"auth"`
	Pagination PaginationOptions `yaml:"pagination"`
	// Items is the path to the array of items in a response.
	Items    string         `yaml:"items"`
	Creator  MappingOptions `yaml:"creator"`
	Campaign MappingOptions `yaml:"campaign"`
	Values   []ValueOptions `yaml:"values"`
	// Sources are the values the source label of
	// influencer_referral_visitors_total takes; any other source is
	// counted in "other". Unset: the platforms of the config's social
	// collectors (exporter.DefaultSources).
	Sources []string `yaml:"sources"`
}

// AuthOptions say how the token is sent.
type AuthOptions struct {
	// Type is bearer (default), header, basic, query or none.
	Type string `yaml:"type"`
	// Name is the header of type header.
	Name string `yaml:"name"`
	// Param is the query parameter of type query.
	Param string `yaml:"param"`
}

// PaginationOptions say how to get the next page.
type PaginationOptions struct {
	// Type is none (default), cursor, page or link.
	Type string `yaml:"type"`
	// CursorPath is where the next cursor is in a body (cursor).
	CursorPath string `yaml:"cursor_path"`
	// Param is the query parameter of the cursor (cursor, required) or of
	// the page number (page, default "page").
	Param string `yaml:"param"`
	// Start is the first page number (page, default 1).
	Start int `yaml:"start"`
	// SizeParam and Size send a page size (page, cursor).
	SizeParam string `yaml:"size_param"`
	Size      int    `yaml:"size"`
	// MaxPages bounds the pages of one URL (default 100).
	MaxPages int `yaml:"max_pages"`
}

// MappingOptions map an item to a creator or a campaign.
type MappingOptions struct {
	// Path is where the provider's value is in an item.
	Path string `yaml:"path"`
	// Map translates provider values to configured names.
	Map map[string]string `yaml:"map"`
	// Value is a fixed name (campaign only).
	Value string `yaml:"value"`
}

// ValueOptions is one sample per item.
type ValueOptions struct {
	// Metric is a metric name of the catalogue.
	Metric string `yaml:"metric"`
	// Path is where the value is in an item.
	Path string `yaml:"path"`
	// Labels give the metric's other labels: a path, or "=literal".
	Labels map[string]string `yaml:"labels"`
}

// value is a parsed ValueOptions.
type value struct {
	metric *exporter.Metric
	at     path
	// labels are in the metric's order after campaign, creator, provider:
	// a path, or a literal when lit is set.
	labels []labelSource
}

type labelSource struct {
	name string
	at   path
	lit  *string
}

// mapping is a parsed MappingOptions.
type mapping struct {
	at    path
	set   bool
	m     map[string]string
	fixed string
}

func (m mapping) resolve(item any) (string, bool) {
	if m.fixed != "" {
		return m.fixed, true
	}
	v, ok := m.at.scalar(item)
	if !ok {
		return "", false
	}
	if name, ok := m.m[v]; ok {
		return name, true
	}
	return v, true
}

// target is one URL to request and who its items belong to by default.
type target struct {
	rel               string
	campaign, creator string
}

type collector struct {
	name     string
	provider string
	f        *fetcher
	targets  []target
	creator  mapping
	campaign mapping
	values   []value
	// campaignsOf maps a creator to the campaigns it is configured in.
	campaignsOf *campaignsOf
	logger      *slog.Logger
	// objects are the config's objects naming the collector; sites, if a
	// value feeds influencer_referral_visitors_total, every creator's.
	objects, sites []exporter.Object
	// rot orders the targets least recently read first, so that a
	// refresh cut short requests next time those it did not reach.
	rot *exporter.Rotation

	// sources bounds the source label of referral visitors.
	sources *exporter.Sources

	// disjoint is set when no two targets can give the same series: a
	// sample's campaign and creator labels are its target's when the
	// target names them, and with several targets every target names
	// its campaign, so targets of different campaigns and creators give
	// different series.
	disjoint bool

	mu   sync.Mutex
	last map[string][]exporter.Sample // by target key: its last samples
	// lastSeries are the series of each target's last samples, by target
	// key: a refresh finds in them the label values of the series it
	// had, and shares them instead of keeping a copy of its own.
	lastSeries map[string]*seriesSet
	// spareSlots is the table of the last series set a refresh
	// replaced, for the next set of its size: refreshes of the same
	// objects then make no new table (4 MB at 300,000 series).
	spareSlots []uint64
}

func (t target) key() string { return t.rel + "\x00" + t.campaign + "\x00" + t.creator }

// owns reports whether the object belongs to the target's campaign and
// creator (a target without them answers for every one).
func (t target) owns(o exporter.Object) bool {
	return (t.campaign == "" || o.Campaign == t.campaign) && (t.creator == "" || o.Creator == t.creator)
}

var placeholderRE = regexp.MustCompile(`\{[^}]*\}`)

// New builds a JSON collector. It validates every option and makes no
// call.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	opts := Options{Auth: AuthOptions{Type: authBearer}, Pagination: PaginationOptions{Type: pageNone}}
	if err := cc.DecodeOptions(&opts); err != nil {
		return nil, err
	}
	p := cc.Path() + ".options"
	errf := func(field, format string, args ...any) error { return cfg.Errorf(p+"."+field, format, args...) }

	if cc.BaseURL == "" {
		return nil, cfg.Errorf(cc.Path()+".base_url", "the json collector needs the provider's base_url")
	}
	provider := strings.TrimSpace(opts.Provider)
	if provider == "" || strings.ContainsAny(provider, " \t\r\n") {
		return nil, errf("provider", "must name the provider for the provider label, like impact, got %q", opts.Provider)
	}

	// Campaigns and creators of the config: the options are checked
	// against the whole file, so that every shard accepts the same one;
	// items are attributed to the creators of this shard only.
	campaignsOf, _, creatorOrder := creatorsOf(cfg.Creators())
	allCampaignsOf, allCampaigns, allCreators := creatorsOf(cfg.AllCreators())

	// URL and placeholders.
	rel := strings.TrimSpace(opts.URL)
	if rel == "" || !strings.HasPrefix(rel, "/") || strings.ContainsAny(rel, "?# ") {
		return nil, errf("url", "must be a path joined to base_url, like /v2/stats, without query string (use query), got %q", opts.URL)
	}
	for _, ph := range placeholderRE.FindAllString(rel, -1) {
		if ph != "{campaign}" && ph != "{creator}" {
			return nil, errf("url", "unknown placeholder %s (known: {campaign}, {creator})", ph)
		}
	}
	perCampaign := strings.Contains(rel, "{campaign}")
	perCreator := strings.Contains(rel, "{creator}")

	// Auth.
	switch opts.Auth.Type {
	case authBearer, authNone:
	case authHeader:
		if strings.TrimSpace(opts.Auth.Name) == "" {
			return nil, errf("auth.name", "auth type header needs the header name")
		}
	case authQuery:
		if strings.TrimSpace(opts.Auth.Param) == "" {
			return nil, errf("auth.param", "auth type query needs the query parameter name")
		}
		opts.Auth.Name = opts.Auth.Param
	case authBasic:
		if !strings.Contains(string(cc.Token), ":") && cc.Token != "" {
			return nil, cfg.Errorf(cc.Path()+".token", "auth type basic needs the token as user:password")
		}
	default:
		return nil, errf("auth.type", "unknown auth type %q (known: bearer, header, basic, query, none)", opts.Auth.Type)
	}
	if opts.Auth.Type != authNone && cc.Token == "" {
		return nil, cfg.Errorf(cc.Path()+".token", "auth type %s needs a token (token_file or token_env)", opts.Auth.Type)
	}

	// Pagination.
	pg := opts.Pagination
	if pg.MaxPages == 0 {
		pg.MaxPages = defaultMaxPages
	}
	if pg.MaxPages < 0 {
		return nil, errf("pagination.max_pages", "must be positive, got %d", pg.MaxPages)
	}
	if pg.Size < 0 {
		return nil, errf("pagination.size", "must be positive, got %d", pg.Size)
	}
	if (pg.Size > 0) != (pg.SizeParam != "") {
		return nil, errf("pagination.size_param", "size_param and size go together")
	}
	var cursorAt path
	switch pg.Type {
	case pageNone, pageLink:
		if pg.CursorPath != "" || pg.Param != "" {
			return nil, errf("pagination.param", "pagination type %s takes no param or cursor_path", pg.Type)
		}
	case pageCursor:
		if pg.CursorPath == "" {
			return nil, errf("pagination.cursor_path", "pagination type cursor needs the path of the next cursor")
		}
		if pg.Param == "" {
			return nil, errf("pagination.param", "pagination type cursor needs the query parameter of the cursor")
		}
		var err error
		if cursorAt, err = parsePath(pg.CursorPath); err != nil {
			return nil, errf("pagination.cursor_path", "%v", err)
		}
	case pagePage:
		if pg.Param == "" {
			pg.Param = "page"
		}
		if pg.Start == 0 {
			pg.Start = 1
		}
		if pg.Start < 0 {
			return nil, errf("pagination.start", "must not be negative, got %d", pg.Start)
		}
	default:
		return nil, errf("pagination.type", "unknown pagination type %q (known: none, cursor, page, link)", pg.Type)
	}
	if pg.Type != pagePage && pg.Start != 0 {
		return nil, errf("pagination.start", "start is for pagination type page")
	}
	query := url.Values{}
	for k, v := range opts.Query {
		if k == "" || k == pg.Param || k == pg.SizeParam || (opts.Auth.Type == authQuery && k == opts.Auth.Param) {
			return nil, errf("query."+k, "query parameter %q is empty or set by pagination or auth", k)
		}
		query.Set(k, v)
	}

	itemsAt, err := parsePath(opts.Items)
	if err != nil {
		return nil, errf("items", "%v", err)
	}

	// Creator and campaign mapping.
	creator, err := parseMapping(opts.Creator, "creator", perCreator, errf)
	if err != nil {
		return nil, err
	}
	for k, name := range opts.Creator.Map {
		if _, ok := allCampaignsOf.get(name); !ok {
			return nil, errf("creator.map."+k, "no creator %q in the campaigns", name)
		}
	}
	if opts.Creator.Value != "" {
		return nil, errf("creator.value", "a fixed creator is not supported: use creator.path, or {creator} in url")
	}
	switch {
	case perCreator && creator.set:
		return nil, errf("creator.path", "url has {creator}: items belong to the requested creator, remove creator.path")
	case !perCreator && !creator.set:
		return nil, errf("creator", "set creator.path (how an item names its creator), or put {creator} in url")
	}
	campaign, err := parseMapping(opts.Campaign, "campaign", false, errf)
	if err != nil {
		return nil, err
	}
	for k, name := range opts.Campaign.Map {
		if !allCampaigns[name] {
			return nil, errf("campaign.map."+k, "no campaign %q", name)
		}
	}
	if opts.Campaign.Value != "" {
		if opts.Campaign.Path != "" || len(opts.Campaign.Map) > 0 {
			return nil, errf("campaign.value", "a fixed campaign takes no path or map")
		}
		if !allCampaigns[opts.Campaign.Value] {
			return nil, errf("campaign.value", "no campaign %q", opts.Campaign.Value)
		}
		campaign.fixed, campaign.set = opts.Campaign.Value, true
	}
	if perCampaign && campaign.set {
		return nil, errf("campaign", "url has {campaign}: items belong to the requested campaign, remove the campaign mapping")
	}
	if !perCampaign && !campaign.set && !perCreator {
		for _, cr := range allCreators {
			if cs, _ := allCampaignsOf.get(cr.Creator); len(cs) > 1 {
				return nil, errf("campaign", "creator %q is in campaigns %s: say how an item names its campaign (campaign.path or campaign.value, or {campaign} in url)", cr.Creator, strings.Join(cs, ", "))
			}
		}
	}

	// Values.
	if len(opts.Values) == 0 {
		return nil, errf("values", "list at least one value")
	}
	metrics := map[string]*exporter.Metric{}
	var names []string
	measured := []*exporter.Metric{
		exporter.LinkUp, exporter.LinkStatusCode, exporter.LinkRedirects, exporter.LinkProbeDuration, exporter.LinkDestinationInfo, exporter.LinkLastProbe,
		exporter.PostViewsAtAge, exporter.PostEngagementsAtAge, exporter.PostAtAgePolled,
		exporter.AggregatedPosts,
	}
	for _, m := range exporter.Catalogue() {
		// The link probe's metrics are measured by the probe, the values
		// at an age are recorded by the exporter from the posts' polls,
		// and the count of posts summed per creator is the exporter's
		// own: none is read from a provider.
		if slices.Contains(measured, m) {
			continue
		}
		if len(m.Labels) >= 3 && m.Labels[0] == exporter.LabelCampaign && m.Labels[1] == exporter.LabelCreator && m.Labels[2] == exporter.LabelProvider {
			metrics[m.Name] = m
			names = append(names, m.Name)
		}
	}
	sort.Strings(names)
	var values []value
	for i, vo := range opts.Values {
		vp := fmt.Sprintf("values[%d]", i)
		m, ok := metrics[vo.Metric]
		if !ok {
			return nil, errf(vp+".metric", "unknown metric %q: the json collector feeds the exporter's metrics only (known: %s)", vo.Metric, strings.Join(names, ", "))
		}
		at, err := parsePath(vo.Path)
		if err != nil {
			return nil, errf(vp+".path", "%v", err)
		}
		if vo.Path == "" {
			return nil, errf(vp+".path", "set the path of the value in an item")
		}
		v := value{metric: m, at: at}
		for _, l := range m.Labels[3:] {
			src, ok := vo.Labels[l]
			if !ok {
				return nil, errf(vp+".labels", "metric %s needs label %q: give its path in the item, or \"=value\"", m.Name, l)
			}
			ls := labelSource{name: l}
			if lit, ok := strings.CutPrefix(src, "="); ok {
				if lit == "" {
					return nil, errf(vp+".labels."+l, "empty literal")
				}
				ls.lit = &lit
			} else if ls.at, err = parsePath(src); err != nil {
				return nil, errf(vp+".labels."+l, "%v", err)
			}
			v.labels = append(v.labels, ls)
		}
		for l := range vo.Labels {
			if !slices.Contains(m.Labels[3:], l) {
				return nil, errf(vp+".labels."+l, "metric %s has no label %q (its labels: %s; campaign, creator and provider come from the mapping)", m.Name, l, strings.Join(m.Labels, ", "))
			}
		}
		values = append(values, v)
	}

	// What to request.
	var targets []target
	escape := func(s string) string { return url.PathEscape(s) }
	switch {
	case perCreator:
		reverse := map[string]string{}
		for k, name := range opts.Creator.Map {
			if prev, dup := reverse[name]; !dup || k < prev {
				reverse[name] = k
			}
		}
		for _, cr := range creatorOrder {
			id := cr.Creator
			if k, ok := reverse[id]; ok {
				id = k
			}
			r := strings.ReplaceAll(rel, "{creator}", escape(id))
			r = strings.ReplaceAll(r, "{campaign}", escape(cr.Campaign))
			targets = append(targets, target{rel: r, campaign: cr.Campaign, creator: cr.Creator})
		}
	case perCampaign:
		seen := map[string]bool{}
		for _, cr := range creatorOrder {
			if !seen[cr.Campaign] {
				seen[cr.Campaign] = true
				targets = append(targets, target{rel: strings.ReplaceAll(rel, "{campaign}", escape(cr.Campaign)), campaign: cr.Campaign})
			}
		}
	default:
		// One listing of every creator's items; a shard without
		// creators has none to read.
		if len(creatorOrder) > 0 {
			targets = []target{{rel: rel}}
		}
	}

	var sites []exporter.Object
	for _, v := range values {
		if v.metric == exporter.ReferralVisitors {
			sites = exporter.SiteObjects(creatorOrder, provider)
			break
		}
	}

	s.Client.SetHooks(exporter.ClientHooks{ErrorMessage: errorMessage, Authorize: authorize(opts.Auth)})
	if opts.Sources == nil {
		opts.Sources = exporter.DefaultSources(cfg)
	}
	return &collector{
		sources:    exporter.NewSources(opts.Sources),
		objects:    cfg.ObjectsFor(cc.Name),
		sites:      sites,
		rot:        exporter.NewRotation(),
		last:       map[string][]exporter.Sample{},
		lastSeries: map[string]*seriesSet{},
		name:       cc.Name,
		provider:   provider,
		f: &fetcher{
			api:      exporter.NewAPI(cc, "", s.Client),
			p:        pg,
			query:    query,
			itemsAt:  itemsAt,
			cursorAt: cursorAt,
			shape:    pageShape(itemsAt, cursorAt, pg.Type == pageCursor, []mapping{creator, campaign}, values),
			maxPages: pg.MaxPages,
		},
		targets:     targets,
		disjoint:    disjoint(targets),
		creator:     creator,
		campaign:    campaign,
		values:      values,
		campaignsOf: campaignsOf,
		logger:      s.Logger,
	}, nil
}

// pageShape returns the part of a page the collector reads: the cursor
// (with cursor pagination) and the items, of which the mappings' paths
// and the values' and their labels'.
func pageShape(itemsAt, cursorAt path, cursor bool, mappings []mapping, values []value) *shape {
	item := &shape{}
	for _, m := range mappings {
		if m.set && m.fixed == "" {
			item.add(m.at)
		}
	}
	for _, v := range values {
		item.add(v.at)
		for _, l := range v.labels {
			if l.lit == nil {
				item.add(l.at)
			}
		}
	}
	page := &shape{}
	if cursor {
		page.add(cursorAt)
	}
	page.addItems(itemsAt, item)
	return page.compile()
}

// campaignsOf maps each creator to the campaigns it is configured in. It
// is kept as long as the collector runs, one entry a creator: an index
// into sets, whose creators of one campaign (most creators) share that
// campaign's set, instead of a slice of their own in the map (at 100,000
// creators, 11 MB of pointers the garbage collector scanned at every
// cycle, against about 3 MB).
type campaignsOf struct {
	of   map[string]uint32
	sets [][]string
}

// get returns the campaigns of creator, if it is configured.
func (c *campaignsOf) get(creator string) ([]string, bool) {
	i, ok := c.of[creator]
	if !ok {
		return nil, false
	}
	return c.sets[i], true
}

// creatorsOf maps each creator name of refs to its campaigns, and returns
// the set of campaigns, and refs.
func creatorsOf(refs []exporter.CreatorRef) (*campaignsOf, map[string]bool, []exporter.CreatorRef) {
	cs := &campaignsOf{of: make(map[string]uint32, len(refs))}
	campaigns, only := map[string]bool{}, map[string]uint32{}
	for _, cr := range refs {
		campaigns[cr.Campaign] = true
		i, ok := cs.of[cr.Creator]
		switch {
		case !ok:
			// The set of this campaign alone, shared.
			if i, ok = only[cr.Campaign]; !ok {
				i = uint32(len(cs.sets))
				only[cr.Campaign] = i
				cs.sets = append(cs.sets, []string{cr.Campaign})
			}
			cs.of[cr.Creator] = i
		case !slices.Contains(cs.sets[i], cr.Campaign):
			// A set of the creator's own, never one it shares.
			set := append(slices.Clip(cs.sets[i]), cr.Campaign)
			if len(set) == 2 {
				cs.of[cr.Creator] = uint32(len(cs.sets))
				cs.sets = append(cs.sets, set)
			} else {
				cs.sets[i] = set
			}
		}
	}
	return cs, campaigns, refs
}

// disjoint reports whether no two targets can give the same series: one
// target, or targets that each name a campaign, with no two naming the
// same campaign and creator (the config has no creator twice in a
// campaign, so this holds for every URL with a placeholder).
func disjoint(targets []target) bool {
	if len(targets) <= 1 {
		return true
	}
	seen := map[[2]string]bool{}
	for _, t := range targets {
		k := [2]string{t.campaign, t.creator}
		if t.campaign == "" || seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

// parseMapping parses a creator or campaign mapping; mapOnly allows a map
// without a path, which then only translates names to the ids put in the
// URL.
func parseMapping(o MappingOptions, field string, mapOnly bool, errf func(string, string, ...any) error) (mapping, error) {
	m := mapping{m: o.Map}
	if o.Path == "" {
		if len(o.Map) > 0 && !mapOnly {
			return m, errf(field+".map", "a map needs %s.path", field)
		}
		return m, nil
	}
	at, err := parsePath(o.Path)
	if err != nil {
		return m, errf(field+".path", "%v", err)
	}
	m.at, m.set = at, true
	return m, nil
}

// Poll requests every target, page by page, and maps the items.
func (c *collector) Poll(ctx context.Context) ([]exporter.Sample, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var (
		calls, items, ignored int
		errs                  []error
		cut                   bool
		fresh                 = map[string][]exporter.Sample{}
	)
	for _, t := range exporter.Rotate(c.rot, c.targets, target.key) {
		if cut = cut || exporter.OutOfTime(ctx); cut {
			errs = append(errs, c.skip(t)...)
			continue
		}
		m := c.newItemMapper(t)
		n, err := c.f.fetch(ctx, t.rel, m.mapPage)
		calls += n
		if err != nil && exporter.OutOfTime(ctx) {
			cut = true
			errs = append(errs, c.skip(t)...)
			continue
		}
		if err != nil && errors.Is(err, exporter.ErrNotFound) && (t.campaign != "" || t.creator != "") {
			// A configured campaign or creator the provider does not
			// know is a permanent reason: report the others.
			errs = append(errs, c.missing(t, fmt.Errorf("json %s: %s: %w", c.provider, c.what(t), err))...)
			c.rot.Done(t.key())
			delete(c.last, t.key())
			delete(c.lastSeries, t.key())
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("json %s: %s: %w", c.provider, c.what(t), err)
		}
		// A malformed item fails the refresh once every page is read:
		// an error of a later page, such as a 404 or a timeout, takes
		// precedence, as it would if the items were mapped at the end.
		if m.err != nil {
			return nil, m.err
		}
		items += m.items
		ignored += m.ignored
		samples := m.series.samples
		if cap(samples)-len(samples) > len(samples)/4 {
			// Kept until the next refresh: not with the spare room
			// of the appends.
			samples = slices.Clone(samples)
			m.series.samples = samples
		}
		fresh[t.key()] = samples
		m.series.prev = nil
		if old := c.lastSeries[t.key()]; old != nil {
			c.spareSlots = old.slots
		}
		c.lastSeries[t.key()] = m.series
	}
	total := 0
	for _, t := range c.targets {
		if samples, ok := fresh[t.key()]; ok {
			c.last[t.key()] = samples
			c.rot.Done(t.key())
		}
		total += len(c.last[t.key()])
	}

	// Every target's samples, read now or kept, in config order; items
	// of several targets on one series are summed, as items are. Targets
	// that each name a different campaign or creator cannot share a
	// series (see collector.disjoint): their samples are just joined.
	var out []exporter.Sample
	if len(c.targets) == 1 {
		// One target's samples are the snapshot: shared with what is
		// kept for the next refresh rather than copied, clipped so
		// that nothing appended to the snapshot writes into them.
		out = slices.Clip(c.last[c.targets[0].key()])
	} else if c.disjoint {
		out = make([]exporter.Sample, 0, total)
		for _, t := range c.targets {
			out = append(out, c.last[t.key()]...)
		}
	} else {
		all := newSeriesSet(total, nil)
		for _, t := range c.targets {
			for _, s := range c.last[t.key()] {
				all.add(s.Metric, s.LabelValues, s.Value, false)
			}
		}
		out = all.samples
	}
	c.logger.Debug("refreshed json api", "provider", c.provider, "items", items, "ignored_items", ignored, "samples", len(out), "api_calls", calls, "errors", len(errs), "out_of_time", cut)
	return out, exporter.Partial(errs)
}

// itemMapper maps one target's items to samples as its pages arrive,
// summing the items that land on one series, and counts the items of
// nobody configured.
type itemMapper struct {
	c      *collector
	t      target
	series *seriesSet
	// items counts the items seen, ignored those of nobody configured.
	items, ignored int
	// err is the first malformed item's: the items after it are not
	// mapped.
	err error
	// labels is reused for each sample's label values, copied only for
	// a new series.
	labels []string
}

func (c *collector) newItemMapper(t target) *itemMapper {
	n := 3
	for _, v := range c.values {
		n = max(n, 3+len(v.labels))
	}
	// Sized for as many series as the target's last refresh had, and a
	// sixteenth more: a refresh of the same objects grows no slice or
	// map, so it leaves no copies behind for the garbage collector.
	size := len(c.last[t.key()])
	size += size / 16
	series := newSeriesSet(size, c.spareSlots)
	if len(series.slots) == len(c.spareSlots) {
		c.spareSlots = nil // in use
	}
	if prev := c.lastSeries[t.key()]; prev != nil {
		series.prev, series.seed = prev, prev.seed
	}
	return &itemMapper{c: c, t: t, series: series, labels: make([]string, 0, n)}
}

// mapPage maps the items of one page.
func (m *itemMapper) mapPage(page []any) {
	for _, item := range page {
		i := m.items
		m.items++
		if m.err != nil {
			continue
		}
		if err := m.mapItem(i, item); err != nil {
			m.err = err
		}
	}
}

// mapItem maps item i (counted over the target's pages).
func (m *itemMapper) mapItem(i int, item any) error {
	c, t := m.c, m.t
	campaign, creator, ok := c.attribute(t, item)
	if !ok {
		m.ignored++
		return nil
	}
	for _, v := range c.values {
		f, err := v.at.number(item)
		if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
			err = fmt.Errorf("%v is not a finite number", f)
		}
		if err != nil {
			return fmt.Errorf("json %s: %s: item %d: %s at %q: %v: %w", c.provider, c.what(t), i, v.metric.Name, v.at.String(), err, exporter.ErrBadResponse)
		}
		lv := append(m.labels[:0], campaign, creator, c.provider)
		for _, l := range v.labels {
			if l.lit != nil {
				lv = append(lv, *l.lit)
				continue
			}
			s, ok := l.at.scalar(item)
			if !ok || s == "" {
				return fmt.Errorf("json %s: %s: item %d: no %s label at %q: %w", c.provider, c.what(t), i, l.name, l.at.String(), exporter.ErrBadResponse)
			}
			lv = append(lv, s)
		}
		if v.metric == exporter.ReferralVisitors {
			// A bounded source: the list's values and "other".
			if j := slices.Index(v.metric.Labels, "source"); j >= 0 && j < len(lv) {
				lv[j] = c.sources.Map(lv[j])
			}
		}
		m.series.add(v.metric, lv, f, true)
		m.labels = lv
	}
	return nil
}

// seriesSet sums samples by series, keeping the series in the order they
// first appear. Series are found in an open-addressing table of sample
// numbers placed by a hash of the metric name and label values, so that
// no key is built per sample and the table takes 8 bytes a slot (a map of
// hashes took 60 a series at 300,000). A slot also holds the upper half
// of its series' hash: a probe passes over another series without reading
// it (a read of a sample far away in memory for each slot probed was a
// fifth of a refresh's CPU), and a series with the same hash half is told
// apart by comparison.
type seriesSet struct {
	samples []exporter.Sample
	seed    maphash.Seed
	// slots hold 1 + the index of a sample in the lower 32 bits, 0
	// when free, and the upper half of the series' hash in the upper;
	// their number is a power of two, kept above 4/3 of the samples.
	slots []uint64
	// lastCopy is the label values last copied for a new series.
	lastCopy []string
	// prev, if set, is the last refresh's set, hashed with the same
	// seed: a new series that was there shares its label values.
	prev *seriesSet
}

// newSeriesSet returns a set with room for n series. Its table is spare,
// cleared, if spare has the size the set needs.
func newSeriesSet(n int, spare []uint64) *seriesSet {
	slots := spare
	if len(slots) == slotsFor(n) {
		clear(slots)
	} else {
		slots = make([]uint64, slotsFor(n))
	}
	return &seriesSet{
		samples: make([]exporter.Sample, 0, n),
		seed:    maphash.MakeSeed(),
		slots:   slots,
	}
}

// slotsFor returns the number of slots for n series.
func slotsFor(n int) int {
	size := 8
	for size*3 < n*4 {
		size *= 2
	}
	return size
}

// add adds value to the series of metric and labels, or adds the series.
// A new series gets a copy of labels, strings and all, if copyLabels is
// set (labels read from a page view its arena, which the next page
// overwrites), else labels itself.
func (s *seriesSet) add(metric *exporter.Metric, labels []string, value float64, copyLabels bool) {
	h := s.hash(metric, labels)
	j := s.find(h, metric, labels)
	if k := uint32(s.slots[j]); k != 0 {
		s.samples[k-1].Value += value
		return
	}
	if copyLabels {
		// The values of one item usually carry the same labels, and a
		// series usually was there the refresh before: they share one
		// copy, so a refresh keeps little beside the snapshot it
		// replaces.
		if !slices.Equal(labels, s.lastCopy) {
			if had, ok := s.prev.labels(h, metric, labels); ok {
				s.lastCopy = had
			} else {
				// A value the last copy holds at the same place
				// (the campaign and provider of the items before)
				// is shared, not copied again.
				fresh := make([]string, len(labels))
				for i, l := range labels {
					if i < len(s.lastCopy) && s.lastCopy[i] == l {
						fresh[i] = s.lastCopy[i]
					} else {
						fresh[i] = strings.Clone(l)
					}
				}
				s.lastCopy = fresh
			}
		}
		labels = s.lastCopy
	}
	s.samples = append(s.samples, metric.Sample(value, labels...))
	s.slots[j] = h&^math.MaxUint32 | uint64(len(s.samples))
	if len(s.samples)*4 > len(s.slots)*3 {
		s.grow()
	}
}

// labels returns the label values of the series of metric and labels,
// whose hash is h, if s (which may be nil) has it.
func (s *seriesSet) labels(h uint64, metric *exporter.Metric, labels []string) ([]string, bool) {
	if s == nil {
		return nil, false
	}
	if k := uint32(s.slots[s.find(h, metric, labels)]); k != 0 {
		return s.samples[k-1].LabelValues, true
	}
	return nil, false
}

// find returns the slot of the series of metric and labels, whose hash is
// h, or the free slot where it goes.
func (s *seriesSet) find(h uint64, metric *exporter.Metric, labels []string) int {
	mask, tag := uint64(len(s.slots)-1), h&^math.MaxUint32
	for j := h & mask; ; j = (j + 1) & mask {
		slot := s.slots[j]
		if slot == 0 || slot&^math.MaxUint32 == tag && s.is(int(uint32(slot)-1), metric, labels) {
			return int(j)
		}
	}
}

// grow doubles the slots and places every series again.
func (s *seriesSet) grow() {
	s.slots = make([]uint64, 2*len(s.slots))
	for i, smp := range s.samples {
		h := s.hash(smp.Metric, smp.LabelValues)
		s.slots[s.find(h, smp.Metric, smp.LabelValues)] = h&^math.MaxUint32 | uint64(i+1)
	}
}

func (s *seriesSet) is(i int, metric *exporter.Metric, labels []string) bool {
	return s.samples[i].Metric == metric && slices.Equal(s.samples[i].LabelValues, labels)
}

func (s *seriesSet) hash(metric *exporter.Metric, labels []string) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	_, _ = h.WriteString(metric.Name)
	for _, l := range labels {
		// The length keeps ("a", "bc") and ("ab", "c") apart.
		_ = h.WriteByte(byte(len(l)))
		_, _ = h.WriteString(l)
	}
	return h.Sum64()
}

// targetObjects returns the objects a target answers for: those of the
// config and the creators' sites in it, and those its last samples
// carried.
func (c *collector) targetObjects(t target) []exporter.Object {
	var out []exporter.Object
	seen := map[exporter.Object]bool{}
	add := func(o exporter.Object) {
		if !seen[o] && t.owns(o) {
			seen[o] = true
			out = append(out, o)
		}
	}
	for _, o := range c.objects {
		add(o)
	}
	for _, o := range c.sites {
		add(o)
	}
	for _, s := range c.last[t.key()] {
		if o, ok := c.sampleObject(s); ok {
			add(o)
		}
	}
	return out
}

// skip reports the objects of a target the refresh had no time for: they
// keep their last values.
func (c *collector) skip(t target) []error {
	var out []error
	for _, o := range c.targetObjects(t) {
		out = append(out, exporter.Skipped(o, fmt.Errorf("json %s: %s: %w", c.provider, c.what(t), exporter.ErrOutOfTime)))
	}
	return out
}

// missing reports the objects of a target the provider does not know; if
// none is known, the error itself, so that it still shows.
func (c *collector) missing(t target, err error) []error {
	objs := c.targetObjects(t)
	if len(objs) == 0 {
		return []error{err}
	}
	out := make([]error, len(objs))
	for i, o := range objs {
		out[i] = exporter.Missing(o, err)
	}
	return out
}

// sampleObject returns the object a sample is about, as coverage counts
// it.
func (c *collector) sampleObject(s exporter.Sample) (exporter.Object, bool) {
	o := exporter.Object{Campaign: s.Label(exporter.LabelCampaign), Creator: s.Label(exporter.LabelCreator)}
	if s.Metric == exporter.ReferralVisitors {
		o.Kind, o.ID = exporter.KindSite, c.provider
		return o, true
	}
	for _, kind := range []string{exporter.KindLink, exporter.KindCode, exporter.KindPost, exporter.KindAccount} {
		if slices.Contains(s.Metric.Labels, kind) {
			o.Kind, o.ID = kind, s.Label(kind)
			return o, true
		}
	}
	return o, false
}

// Expected implements exporter.Coverer: if a value feeds
// influencer_referral_visitors_total, every configured creator's site.
func (c *collector) Expected() []exporter.Object { return c.sites }

// Plan implements exporter.Planner: one request per URL, assuming one
// page each.
func (c *collector) Plan() exporter.Plan {
	per := "the URL"
	switch {
	case len(c.targets) > 0 && c.targets[0].creator != "":
		per = "per configured creator"
	case len(c.targets) > 0 && c.targets[0].campaign != "":
		per = "per configured campaign"
	}
	note := fmt.Sprintf("1 request %s, %d URLs, of 1 page each (assumed: pages depend on the provider's answer, at most max_pages %d each)", per, len(c.targets), c.f.maxPages)
	return exporter.Plan{Calls: len(c.targets), Note: note}
}

// attribute returns the configured campaign and creator of an item, or
// false for an item of nobody configured.
func (c *collector) attribute(t target, item any) (campaign, creator string, ok bool) {
	creator = t.creator
	if creator == "" {
		if creator, ok = c.creator.resolve(item); !ok {
			return "", "", false
		}
	}
	cs, known := c.campaignsOf.get(creator)
	if !known {
		return "", "", false
	}
	switch {
	case t.campaign != "":
		campaign = t.campaign
	case c.campaign.set:
		if campaign, ok = c.campaign.resolve(item); !ok {
			return "", "", false
		}
	default:
		campaign = cs[0] // checked in New: the creator is in one campaign
	}
	return campaign, creator, slices.Contains(cs, campaign)
}

func (c *collector) what(t target) string {
	switch {
	case t.creator != "":
		return fmt.Sprintf("stats of creator %q", t.creator)
	case t.campaign != "":
		return fmt.Sprintf("stats of campaign %q", t.campaign)
	}
	return "stats"
}

// String renders the path as configured, for errors.
func (p path) String() string {
	var b strings.Builder
	for i, st := range p {
		if st.isIdx {
			fmt.Fprintf(&b, "[%d]", st.index)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(st.key)
	}
	return b.String()
}

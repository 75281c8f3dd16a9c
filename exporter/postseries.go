package exporter

import (
	"log/slog"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// The cardinality guard. A post exports up to 7 series (views, reach, four
// engagement types, the publish time) and up to 16 more once the early
// curve has recorded it at the default ages: 40,000 posts make close to a
// million series. A campaign with `post_series: per_creator` exports
// instead, for each creator and platform, the same families with
// post="all", each the sum of the creator's posts there (the publish time:
// the latest post's), and how many posts they sum, so that every sum
// by campaign and creator (and provider, and type) is the number the
// per-post series give, and the rules and dashboards that add posts up
// keep working without counting anything twice. What cannot be summed is
// not exported: the early curve, which compares posts one by one, is off
// for the campaign.
//
// The collectors know nothing of this: the scheduler hands each snapshot,
// as collected, to coverage, the early curve (which gets only per-post
// campaigns' posts) and the per-post fees, and stores what shape returns.

// What a campaign exports of its posts, its post_series.
const (
	// PostSeriesPerPost exports every post's series: the default.
	PostSeriesPerPost = "per_post"
	// PostSeriesPerCreator exports, per creator and platform, the sums of
	// the posts' series, post="all" (AllPosts).
	PostSeriesPerCreator = "per_creator"
)

// AllPosts is the post label of the series that sum a creator's posts on
// one platform in a per_creator campaign. A configured post may not have
// it as its id.
const AllPosts = "all"

func validatePostSeries(v, path string, add func(string, string, ...any)) {
	switch v {
	case "", PostSeriesPerPost, PostSeriesPerCreator:
	default:
		add(path, "must be %s or %s, got %q", PostSeriesPerPost, PostSeriesPerCreator, v)
	}
}

// PostSeriesOf returns the post_series of the campaign: its own, else the
// global one, else PostSeriesPerPost.
func (c *Config) PostSeriesOf(camp *Campaign) string {
	switch {
	case camp != nil && camp.PostSeries != "":
		return camp.PostSeries
	case c.Global.PostSeries != "":
		return c.Global.PostSeries
	}
	return PostSeriesPerPost
}

// PerCreatorCampaigns returns the names of the campaigns whose post_series
// is per_creator, sorted.
func (c *Config) PerCreatorCampaigns() []string {
	var out []string
	for _, camp := range c.Campaigns {
		if camp != nil && c.PostSeriesOf(camp) == PostSeriesPerCreator {
			out = append(out, camp.Name)
		}
	}
	sort.Strings(out)
	return out
}

// PostSeries applies the campaigns' post_series to the snapshots the
// scheduler stores. It lives as long as the runner: a reload changes the
// campaigns it aggregates (SetConfig), and each collector's next refresh
// stores its snapshot the new way. Safe for concurrent use; a nil
// *PostSeries aggregates nothing.
type PostSeries struct {
	mu sync.RWMutex
	// perCreator are the campaigns whose posts are summed.
	perCreator map[string]bool
	// collected holds, by collector, the snapshot as collected when the
	// one stored was aggregated: the next refresh carries skipped posts
	// over from it, and per-post fees count its posts. A collector whose
	// snapshot is stored as collected has no entry.
	collected map[string]collectedSnapshot
}

type collectedSnapshot struct {
	typ     string
	samples []Sample
	posts   publishedPosts
}

// NewPostSeries returns a PostSeries that aggregates no campaign until
// SetConfig names some.
func NewPostSeries() *PostSeries {
	return &PostSeries{collected: map[string]collectedSnapshot{}}
}

// SetConfig takes the campaigns whose post_series is per_creator from
// cfg, and reports whether they changed. Snapshots already stored keep
// their shape until Reshape or their collector's next refresh.
func (p *PostSeries) SetConfig(cfg *Config) bool {
	set := map[string]bool{}
	for _, name := range cfg.PerCreatorCampaigns() {
		set[name] = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	changed := !maps.Equal(set, p.perCreator)
	p.perCreator = set
	return changed
}

// Reshape stores again, in the shape the campaigns' post_series now ask
// for, every snapshot of collectors (by name, with their type) the cache
// holds, so that a reload changing post_series applies at once rather than
// at each collector's next refresh. Call it with no refresh running.
func (p *PostSeries) Reshape(cache *Cache, collectors map[string]string) {
	if p == nil {
		return
	}
	for name, typ := range collectors {
		stored := cache.samplesOf(name)
		if stored == nil {
			continue
		}
		shaped := p.shape(name, typ, p.previous(name, stored))
		if len(shaped) == len(stored) && (len(shaped) == 0 || &shaped[0] == &stored[0]) {
			continue // as collected, before and now
		}
		// Invalid samples were reported when the snapshot was first
		// stored.
		_ = cache.store(name, typ, shaped)
	}
}

// Retain drops what it keeps of collectors not in keep (by name, with
// their type), as Cache.Retain drops their snapshots.
func (p *PostSeries) Retain(keep map[string]string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, s := range p.collected {
		if typ, ok := keep[name]; !ok || typ != s.typ {
			delete(p.collected, name)
		}
	}
}

// shape returns what the collector exports of samples, a whole snapshot
// as collected (skipped objects carried over): samples itself, unless
// they hold posts of per_creator campaigns, whose series are replaced by
// their sums (see aggregatePosts). It remembers the snapshot as collected
// for previous and the per-post fees.
func (p *PostSeries) shape(name, typ string, samples []Sample) []Sample {
	if p == nil {
		return samples
	}
	p.mu.RLock()
	perCreator := p.perCreator
	p.mu.RUnlock()
	out, aggregated := aggregatePosts(samples, perCreator)
	var posts publishedPosts
	if aggregated {
		posts = publishedOf(samples)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if aggregated {
		p.collected[name] = collectedSnapshot{typ: typ, samples: samples, posts: posts}
	} else {
		delete(p.collected, name)
	}
	return out
}

// previous returns the collector's last snapshot as collected: stored, the
// snapshot the cache holds, unless shape aggregated it.
func (p *PostSeries) previous(name string, stored []Sample) []Sample {
	if p == nil {
		return stored
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if s, ok := p.collected[name]; ok {
		return s.samples
	}
	return stored
}

// perPost returns samples without the post series of per_creator
// campaigns: what the early curve is given, so that it tracks no post
// whose series are not exported.
func (p *PostSeries) perPost(samples []Sample) []Sample {
	if p == nil {
		return samples
	}
	p.mu.RLock()
	perCreator := p.perCreator
	p.mu.RUnlock()
	if len(perCreator) == 0 || !slices.ContainsFunc(samples, func(s Sample) bool { return summed(s, perCreator) }) {
		return samples
	}
	out := make([]Sample, 0, len(samples))
	for _, s := range samples {
		if !summed(s, perCreator) {
			out = append(out, s)
		}
	}
	return out
}

// published returns the publish times of the posts of the snapshots
// shape summed, as collected: the cache holds only their sums.
func (p *PostSeries) published() []publishedPosts {
	if p == nil {
		return nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]publishedPosts, 0, len(p.collected))
	for _, s := range p.collected {
		out = append(out, s.posts)
	}
	return out
}

// logPostSeries says which campaigns export their posts per creator, once
// per load, so that the post series missing from /metrics have a reason in
// the log.
func logPostSeries(logger *slog.Logger, cfg *Config) {
	if names := cfg.PerCreatorCampaigns(); len(names) > 0 {
		logger.Info("post series summed per creator and platform, early curve off", "campaigns", strings.Join(names, ","))
	}
}

// isPostSeries reports whether m is one of the families a per_creator
// campaign sums. Their labels start with campaign, creator, provider,
// post (then type).
func isPostSeries(m *Metric) bool {
	return m == PostViews || m == PostReach || m == PostEngagements || m == PostPublished
}

// summed reports whether s is a post's series that a per_creator campaign
// sums: one of the post families, with its labels, in such a campaign.
func summed(s Sample, perCreator map[string]bool) bool {
	return isPostSeries(s.Metric) && len(s.LabelValues) == len(s.Metric.Labels) && perCreator[s.LabelValues[0]]
}

// creatorPosts sums the posts of one creator on one platform.
type creatorPosts struct {
	labels []string // campaign, creator, provider, AllPosts
	// posts maps each post id to the series of it already summed
	// (seenViews and the like, then 1<<(seenTypes+i) for types[i]), so
	// that a series given twice counts once.
	posts map[string]uint32
	// extra holds the engagement types beyond the bits of posts' values
	// already summed, by post and type; nil until needed.
	extra map[[2]string]bool

	views, reach, published    float64
	hasViews, hasReach, hasPub bool
	types                      []string
	engagements                []float64 // as types
}

// Bits of creatorPosts.posts' values.
const (
	seenViews uint32 = 1 << iota
	seenReach
	seenPublished
	seenTypes = iota // the first bit of the engagement types
)

// first records that the post's series (bit; for an engagement, of type
// typ) is summed, and reports whether it was not yet.
func (g *creatorPosts) first(post string, bit uint32, typ string) bool {
	seen := g.posts[post]
	if typ != "" {
		i := slices.Index(g.types, typ)
		if i < 0 {
			i = len(g.types)
			g.types = append(g.types, typ)
			g.engagements = append(g.engagements, 0)
		}
		if seenTypes+i >= 32 {
			// More types than bits: no platform has them, but a
			// json collector's type is whatever it reads.
			g.posts[post] = seen
			k := [2]string{post, typ}
			if g.extra[k] {
				return false
			}
			if g.extra == nil {
				g.extra = map[[2]string]bool{}
			}
			g.extra[k] = true
			return true
		}
		bit = 1 << (seenTypes + i)
	}
	if seen&bit != 0 {
		return false
	}
	g.posts[post] = seen | bit
	return true
}

// aggregatePosts replaces the post series of the per_creator campaigns in
// samples by their sums per campaign, creator and provider, and reports
// whether it replaced any. Every other sample is kept as it is, in order;
// the sums come after them, in the order their first post came. For each
// creator and provider with posts in samples:
//
//   - influencer_post_views, influencer_post_reach and
//     influencer_post_engagements{type}, post="all": the sum over the
//     posts that have the series; absent when none has;
//   - influencer_post_published_timestamp_seconds, post="all": the
//     latest publish time of the posts;
//   - influencer_aggregated_posts: how many posts the sums are over (the
//     distinct post ids with any of the four families).
//
// A post's series that the exposition would drop (wrong label count, a
// label value that is not UTF-8) is left in samples, to be dropped and
// reported there, and a series given twice counts once, its first value,
// as the exposition keeps the first: the sums are those of the series a
// per_post campaign would export.
//
// It runs on every refresh of a collector with such posts, over all of
// them: collectors return a post's series together and a creator's posts
// mostly together, so the creator's sums are looked up only when the
// creator or platform changes from one sample to the next.
func aggregatePosts(samples []Sample, perCreator map[string]bool) ([]Sample, bool) {
	if len(perCreator) == 0 {
		return samples, false
	}
	n := 0
	for _, s := range samples {
		if summed(s, perCreator) {
			n++
		}
	}
	if n == 0 {
		return samples, false
	}
	groups := map[[3]string]*creatorPosts{}
	var order []*creatorPosts
	var g *creatorPosts
	kept, series := 0, 0
	for _, s := range samples {
		if !summed(s, perCreator) || !validUTF8(s.LabelValues) {
			kept++
			continue
		}
		lv := s.LabelValues
		if g == nil || lv[2] != g.labels[2] || lv[1] != g.labels[1] || lv[0] != g.labels[0] {
			k := [3]string{lv[0], lv[1], lv[2]}
			if g = groups[k]; g == nil {
				g = &creatorPosts{labels: []string{lv[0], lv[1], lv[2], AllPosts}, posts: map[string]uint32{}}
				groups[k] = g
				order = append(order, g)
			}
		}
		switch s.Metric {
		case PostViews:
			if g.first(lv[3], seenViews, "") {
				g.views += s.Value
				g.hasViews = true
			}
		case PostReach:
			if g.first(lv[3], seenReach, "") {
				g.reach += s.Value
				g.hasReach = true
			}
		case PostEngagements:
			if g.first(lv[3], 0, lv[4]) {
				g.engagements[slices.Index(g.types, lv[4])] += s.Value
			}
		case PostPublished:
			// NaN is never the latest, unless it is the only one.
			if g.first(lv[3], seenPublished, "") && (!g.hasPub || s.Value > g.published || math.IsNaN(g.published)) {
				g.published = s.Value
				g.hasPub = true
			}
		}
	}
	for _, g := range order {
		series += 1 + len(g.types) + boolInt(g.hasViews) + boolInt(g.hasReach) + boolInt(g.hasPub)
	}
	out := make([]Sample, 0, kept+series)
	for _, s := range samples {
		if !summed(s, perCreator) || !validUTF8(s.LabelValues) {
			out = append(out, s)
		}
	}
	for _, g := range order {
		if g.hasViews {
			out = append(out, PostViews.Sample(g.views, g.labels...))
		}
		if g.hasReach {
			out = append(out, PostReach.Sample(g.reach, g.labels...))
		}
		// One array holds the label values of every type's sum.
		byType := make([]int, len(g.types))
		lvs := make([]string, 0, len(g.types)*len(PostEngagements.Labels))
		for i := range byType {
			byType[i] = i
		}
		slices.SortFunc(byType, func(a, b int) int { return strings.Compare(g.types[a], g.types[b]) })
		for _, i := range byType {
			lvs = append(lvs, g.labels[0], g.labels[1], g.labels[2], AllPosts, g.types[i])
			out = append(out, PostEngagements.Sample(g.engagements[i], lvs[len(lvs)-5:len(lvs):len(lvs)]...))
		}
		if g.hasPub {
			out = append(out, PostPublished.Sample(g.published, g.labels...))
		}
		out = append(out, AggregatedPosts.Sample(float64(len(g.posts)), g.labels[:3]...))
	}
	return out, true
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func validUTF8(values []string) bool {
	for _, v := range values {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

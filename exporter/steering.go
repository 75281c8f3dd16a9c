package exporter

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Steering: what a creator costs and when the campaign team reads the live
// view. The figures come from the config and from the posts in the
// collectors' snapshots; nothing here calls a provider.

var checkpointDesc = prometheus.NewDesc("influencer_campaign_checkpoint_timestamp_seconds",
	"Unix time of the campaign's last checkpoint read passed, per the checkpoint schedule in the config.",
	[]string{LabelCampaign}, nil)

// SteeringMetrics exports each creator's fee and budget and each campaign's
// last checkpoint, from the running config.
//
// A config can list many creators and few fees, so what depends on the
// config alone (the budgets, the flat fees, which creators are paid per
// post, which campaigns have checkpoints) is worked out once per config,
// and a scrape only counts posts and reads the clock.
type SteeringMetrics struct {
	config func() *Config
	cache  *Cache
	// posts holds the posts of the snapshots stored as sums per
	// creator (post_series: per_creator); nil when none are.
	posts *PostSeries
	now   func() time.Time
	// plan is the plan of the config last scraped. The runner swaps the
	// config pointer on reload and never changes a loaded config, so the
	// pointer identifies the plan.
	plan atomic.Pointer[steeringPlan]
}

// steeringPlan is what a scrape exports for one config, less what depends
// on the time or on the snapshots.
type steeringPlan struct {
	cfg *Config
	// fixed are the series the config alone sets: every budget, and the
	// fee of each creator paid no amount per post.
	fixed []prometheus.Metric
	// perPost are the creators paid per post, whose fee follows their
	// post count.
	perPost []perPostFee
	// schedules are the checkpoints of the campaigns that have some.
	schedules []campaignSchedule
	// checkpoints are the last checkpoint series computed, reused while
	// the clock stays in their window.
	checkpoints atomic.Pointer[checkpointSeries]
}

type perPostFee struct {
	key [2]string // campaign, creator
	fee Fee
	// last is the fee series of the post count last scraped: counts
	// change seldom between scrapes, and the series is reused until
	// they do.
	last atomic.Pointer[postFeeSeries]
}

type postFeeSeries struct {
	posts  int
	metric prometheus.Metric
}

type campaignSchedule struct {
	campaign    string
	checkpoints *Checkpoints
}

// checkpointSeries are the checkpoint series of a plan at any time from
// from (inclusive) to until (exclusive; zero: no end): no campaign passes
// a checkpoint in between.
type checkpointSeries struct {
	from, until time.Time
	metrics     []prometheus.Metric
}

var _ prometheus.Collector = (*SteeringMetrics)(nil)

// NewSteeringMetrics returns the collector of influencer_creator_fee,
// influencer_creator_budget and
// influencer_campaign_checkpoint_timestamp_seconds. config returns the
// running config (nil: nothing is exported), cache holds the snapshots
// whose posts per-post fees count, and now is the clock (nil: time.Now).
func NewSteeringMetrics(config func() *Config, cache *Cache, now func() time.Time) *SteeringMetrics {
	if now == nil {
		now = time.Now
	}
	return &SteeringMetrics{config: config, cache: cache, now: now}
}

// Describe implements prometheus.Collector.
func (s *SteeringMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- CreatorFee.Desc()
	ch <- CreatorBudget.Desc()
	ch <- checkpointDesc
}

// Collect implements prometheus.Collector.
func (s *SteeringMetrics) Collect(ch chan<- prometheus.Metric) {
	cfg := s.config()
	if cfg == nil {
		return
	}
	p := s.plan.Load()
	if p == nil || p.cfg != cfg {
		// Scrapes racing after a reload may each build the plan; the
		// plans are equal, and the last stored is kept.
		p = newSteeringPlan(cfg)
		s.plan.Store(p)
	}
	now := s.now()
	for _, m := range p.checkpointsAt(now) {
		ch <- m
	}
	for _, m := range p.fixed {
		ch <- m
	}
	if len(p.perPost) == 0 {
		return
	}
	var snapshots []publishedPosts
	if s.cache != nil {
		snapshots = append(slices.Clone(s.cache.view.Load().posts), s.posts.published()...)
	}
	at := float64(now.UnixNano()) / 1e9
	for i := range p.perPost {
		c := &p.perPost[i]
		n := postCount(snapshots, c.key, at)
		last := c.last.Load()
		if last == nil || last.posts != n {
			last = &postFeeSeries{posts: n, metric: prometheus.MustNewConstMetric(CreatorFee.Desc(), prometheus.GaugeValue, c.fee.Owed(n), c.key[0], c.key[1], c.fee.Currency)}
			c.last.Store(last)
		}
		ch <- last.metric
	}
}

// newSteeringPlan walks the campaigns and creators of cfg once.
func newSteeringPlan(cfg *Config) *steeringPlan {
	p := &steeringPlan{cfg: cfg}
	for _, camp := range cfg.Campaigns {
		if camp == nil {
			continue
		}
		// Shard 0 alone exports the checkpoints, which every shard's
		// config has: the replicas together export each once.
		if camp.Checkpoints != nil && cfg.Shard().ExportsCampaignSeries() {
			p.schedules = append(p.schedules, campaignSchedule{camp.Name, camp.Checkpoints})
		}
		for _, cr := range camp.Creators {
			if cr == nil || cr.Fee == nil {
				continue
			}
			f := cr.Fee
			if f.PerPost > 0 {
				p.perPost = append(p.perPost, perPostFee{key: [2]string{camp.Name, cr.Name}, fee: *f})
			} else {
				p.fixed = append(p.fixed, prometheus.MustNewConstMetric(CreatorFee.Desc(), prometheus.GaugeValue, f.Owed(0), camp.Name, cr.Name, f.Currency))
			}
			if f.Budget > 0 {
				p.fixed = append(p.fixed, prometheus.MustNewConstMetric(CreatorBudget.Desc(), prometheus.GaugeValue, f.Budget, camp.Name, cr.Name, f.Currency))
			}
		}
	}
	return p
}

// checkpointsAt returns the series of each campaign's last checkpoint at
// or before now. They change only when a campaign passes a checkpoint, so
// they are computed again only then, or when the clock goes back.
func (p *steeringPlan) checkpointsAt(now time.Time) []prometheus.Metric {
	if len(p.schedules) == 0 {
		return nil
	}
	if c := p.checkpoints.Load(); c != nil && !now.Before(c.from) && (c.until.IsZero() || now.Before(c.until)) {
		return c.metrics
	}
	c := &checkpointSeries{}
	for _, sc := range p.schedules {
		last := sc.checkpoints.Last(now)
		if last.IsZero() {
			// No valid time: no checkpoint, now or later.
			continue
		}
		c.metrics = append(c.metrics, prometheus.MustNewConstMetric(checkpointDesc, prometheus.GaugeValue, float64(last.Unix()), sc.campaign))
		if last.After(c.from) {
			c.from = last
		}
		if next := sc.checkpoints.Next(now); !next.IsZero() && (c.until.IsZero() || next.Before(c.until)) {
			c.until = next
		}
	}
	p.checkpoints.Store(c)
	return c.metrics
}

// postCount returns how many distinct posts (by provider and post id) of
// the campaign and creator key the snapshots hold that were published at
// or before at (Unix seconds). A post two snapshots report counts once.
func postCount(snapshots []publishedPosts, key [2]string, at float64) int {
	var first map[string]float64
	var ids map[string]struct{}
	for _, snapshot := range snapshots {
		posts := snapshot[key]
		if len(posts) == 0 {
			continue
		}
		if first == nil {
			// A snapshot's posts are distinct already: only posts
			// found in a second snapshot need a set.
			first = posts
			continue
		}
		if ids == nil {
			ids = map[string]struct{}{}
			addPublished(ids, first, at)
		}
		addPublished(ids, posts, at)
	}
	if ids != nil {
		return len(ids)
	}
	n := 0
	for _, published := range first {
		if !(published > at) {
			n++
		}
	}
	return n
}

func addPublished(ids map[string]struct{}, posts map[string]float64, at float64) {
	for id, published := range posts {
		if !(published > at) {
			ids[id] = struct{}{}
		}
	}
}

// publishedPosts maps campaign and creator to the publish time of each of
// their posts in samples, keyed by provider and post id. The cache keeps
// it per snapshot, so a scrape counts posts without reading every sample.
type publishedPosts map[[2]string]map[string]float64

// publishedOf leaves out the series of summed posts (post="all", see
// aggregatePosts): a sum is no post, and the posts it sums are counted
// from the snapshot as collected (PostSeries).
func publishedOf(samples []Sample) publishedPosts {
	var out publishedPosts
	for _, s := range samples {
		if s.Metric != PostPublished || len(s.LabelValues) != len(PostPublished.Labels) || s.Label("post") == AllPosts {
			continue
		}
		if out == nil {
			out = publishedPosts{}
		}
		k := [2]string{s.Label(LabelCampaign), s.Label(LabelCreator)}
		m := out[k]
		if m == nil {
			m = map[string]float64{}
			out[k] = m
		}
		m[s.Label(LabelProvider)+"\xff"+s.Label("post")] = s.Value
	}
	return out
}

// Location returns the zone the checkpoint times are in; nil if the time
// zone is invalid.
func (cp *Checkpoints) Location() *time.Location {
	loc, _ := cp.schedule()
	return loc
}

// Last returns the latest checkpoint at or before t, in the schedule's
// zone; zero if the schedule has no valid time.
//
// Each time of day is placed on each local day by time.Date. A time that
// does not exist on a day the clocks go forward (02:30 in Europe/Paris on
// the last Sunday of March) is moved by the length of the gap, and a time
// that occurs twice on a day the clocks go back is read once: time.Date
// picks which, and which depends on the zone (in Europe/Paris 02:30 falls
// on 03:30 CEST in spring and on the second 02:30, CET, in autumn; in
// America/New_York 02:30 falls on 01:30 EST in spring and 01:30 on the
// first, EDT, in autumn).
func (cp *Checkpoints) Last(t time.Time) time.Time {
	var last time.Time
	cp.each(t, -2, 1, func(c time.Time) {
		if !c.After(t) && (last.IsZero() || c.After(last)) {
			last = c
		}
	})
	return last
}

// Next returns the first checkpoint strictly after t, in the schedule's
// zone, placed as Last places them; zero if the schedule has no valid
// time.
func (cp *Checkpoints) Next(t time.Time) time.Time {
	var next time.Time
	cp.each(t, -1, 2, func(c time.Time) {
		if c.After(t) && (next.IsZero() || c.Before(next)) {
			next = c
		}
	})
	return next
}

// each calls f with every checkpoint of the local days from t's day+lo to
// t's day+hi. Days are walked by date, not by 24 hours, so a 23- or 25-hour
// day keeps its times of day.
func (cp *Checkpoints) each(t time.Time, lo, hi int, f func(time.Time)) {
	loc, minutes := cp.schedule()
	if loc == nil {
		return
	}
	y, m, d := t.In(loc).Date()
	for day := lo; day <= hi; day++ {
		for _, mm := range minutes {
			f(time.Date(y, m, d+day, mm/60, mm%60, 0, 0, loc))
		}
	}
}

// schedule returns the zone and the times of day in minutes after
// midnight. Validation sets them; checkpoints built in code are read here,
// ignoring what does not parse.
func (cp *Checkpoints) schedule() (*time.Location, []int) {
	if cp == nil {
		return nil, nil
	}
	if cp.loc != nil {
		return cp.loc, cp.minutes
	}
	loc := time.UTC
	if cp.TimeZone != "" {
		l, err := loadZone(cp.TimeZone)
		if err != nil {
			return nil, nil
		}
		loc = l
	}
	var minutes []int
	for _, at := range cp.At {
		if m, ok := parseTimeOfDay(at); ok {
			minutes = append(minutes, m)
		}
	}
	return loc, minutes
}

// CheckpointsBetween returns the campaign's checkpoints after from and at
// or before to, oldest first; nil for a campaign without checkpoints.
func (c *Campaign) CheckpointsBetween(from, to time.Time) []time.Time {
	var out []time.Time
	for t := c.Checkpoints.Next(from); !t.IsZero() && !t.After(to); t = c.Checkpoints.Next(t) {
		out = append(out, t)
	}
	return out
}

package exporter

import (
	"slices"
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
type SteeringMetrics struct {
	config func() *Config
	cache  *Cache
	// posts holds the posts of the snapshots stored as sums per
	// creator (post_series: per_creator); nil when none are.
	posts *PostSeries
	now   func() time.Time
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
	now := s.now()
	var posts map[[2]string]int
	for _, camp := range cfg.Campaigns {
		if camp == nil {
			continue
		}
		if camp.Checkpoints != nil {
			if last := camp.Checkpoints.Last(now); !last.IsZero() {
				ch <- prometheus.MustNewConstMetric(checkpointDesc, prometheus.GaugeValue, float64(last.Unix()), camp.Name)
			}
		}
		for _, cr := range camp.Creators {
			if cr == nil || cr.Fee == nil {
				continue
			}
			f := cr.Fee
			n := 0
			if f.PerPost > 0 {
				if posts == nil && s.cache != nil {
					posts = s.cache.postCounts(now, s.posts.published()...)
				}
				n = posts[[2]string{camp.Name, cr.Name}]
			}
			ch <- prometheus.MustNewConstMetric(CreatorFee.Desc(), prometheus.GaugeValue, f.Owed(n), camp.Name, cr.Name, f.Currency)
			if f.Budget > 0 {
				ch <- prometheus.MustNewConstMetric(CreatorBudget.Desc(), prometheus.GaugeValue, f.Budget, camp.Name, cr.Name, f.Currency)
			}
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

// postCounts returns, by campaign and creator, how many distinct posts
// (by provider and post id) the current snapshots hold that were
// published at or before now, counting also those of collected: the
// posts of the snapshots stored summed per creator, as collected. A post
// two collectors report counts once. It reads the published view, without
// the cache's lock: a scrape calls it.
func (c *Cache) postCounts(now time.Time, collected ...publishedPosts) map[[2]string]int {
	at := float64(now.UnixNano()) / 1e9
	seen := map[[2]string]map[string]struct{}{}
	for _, snapshot := range append(slices.Clone(c.view.Load().posts), collected...) {
		for k, posts := range snapshot {
			for id, published := range posts {
				if published > at {
					continue
				}
				ids := seen[k]
				if ids == nil {
					ids = map[string]struct{}{}
					seen[k] = ids
				}
				ids[id] = struct{}{}
			}
		}
	}
	out := make(map[[2]string]int, len(seen))
	for k, ids := range seen {
		out[k] = len(ids)
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

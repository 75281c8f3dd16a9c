package exporter

import (
	"context"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// guardConfig has a campaign of each post_series; mode is the big one's.
func guardConfig(t *testing.T, mode string) *Config {
	t.Helper()
	yml := `campaigns:
  - name: big
    post_series: ` + mode + `
    creators:
      - name: alice
        fee: {amount: 100, per_post: 10, currency: EUR}
      - name: bob
        fee: {per_post: 1, currency: EUR}
  - name: small
    creators:
      - name: carol
        fee: {per_post: 5, currency: EUR}
`
	cfg, err := ParseConfig("c.yml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// guardSnapshot is one refresh of a collector reading posts of both
// campaigns, with the oddities a snapshot may carry.
func guardSnapshot() []Sample {
	post := func(creator, provider, id string, published float64, views, reach float64, eng map[string]float64) []Sample {
		var out []Sample
		if published > 0 {
			out = append(out, PostPublished.Sample(published, "big", creator, provider, id))
		}
		if views >= 0 {
			out = append(out, PostViews.Sample(views, "big", creator, provider, id))
		}
		if reach >= 0 {
			out = append(out, PostReach.Sample(reach, "big", creator, provider, id))
		}
		for _, typ := range slices.Sorted(maps.Keys(eng)) {
			out = append(out, PostEngagements.Sample(eng[typ], "big", creator, provider, id, typ))
		}
		return out
	}
	var s []Sample
	s = append(s, post("alice", "instagram", "p1", 1000, 100, 80, map[string]float64{"likes": 10, "comments": 2, "saves": 3, "shares": 1})...)
	s = append(s, post("alice", "instagram", "p2", 2000, 50, 40, map[string]float64{"likes": 5, "saves": 1})...)
	s = append(s, post("alice", "tiktok", "t1", 1500, 300, -1, map[string]float64{"likes": 30, "comments": 4, "shares": 6})...)
	s = append(s, post("bob", "youtube", "y1", 500, 1000, -1, map[string]float64{"likes": 20, "comments": 3})...)
	// A video whose publish time is not known yet.
	s = append(s, post("bob", "youtube", "y2", 0, 10, -1, nil)...)
	s = append(s,
		// A series given twice: the first value is exported, and summed.
		PostViews.Sample(999, "big", "alice", "instagram", "p1"),
		// Neither exported nor summed: the wrong label count, and a post
		// id that is no UTF-8.
		PostViews.Sample(7, "big", "alice", "instagram"),
		PostViews.Sample(7, "big", "alice", "instagram", "bad\xff"),
		// What is not a post's series stays as it is.
		AccountFollowers.Sample(5000, "big", "alice", "instagram", "acc1"),
		LinkClicks.Sample(42, "big", "alice", "bitly", "bit.ly/a"),
		// A per_post campaign's posts stay per post.
		PostPublished.Sample(1200, "small", "carol", "instagram", "c1"),
		PostViews.Sample(7, "small", "carol", "instagram", "c1"),
		PostEngagements.Sample(1, "small", "carol", "instagram", "c1", "likes"),
	)
	return s
}

// The sums of the snapshot's "big" posts per creator and platform.
const guardSums = `
# HELP influencer_aggregated_posts Posts of a creator on a platform whose series are summed into the post="all" series, in a campaign with post_series per_creator; absent in per_post campaigns.
# TYPE influencer_aggregated_posts gauge
influencer_aggregated_posts{campaign="big",creator="alice",provider="instagram"} 2
influencer_aggregated_posts{campaign="big",creator="alice",provider="tiktok"} 1
influencer_aggregated_posts{campaign="big",creator="bob",provider="youtube"} 2
# HELP influencer_post_engagements Engagements on a creator's post by type (likes, comments, saves, shares).
# TYPE influencer_post_engagements gauge
influencer_post_engagements{campaign="big",creator="alice",post="all",provider="instagram",type="comments"} 2
influencer_post_engagements{campaign="big",creator="alice",post="all",provider="instagram",type="likes"} 15
influencer_post_engagements{campaign="big",creator="alice",post="all",provider="instagram",type="saves"} 4
influencer_post_engagements{campaign="big",creator="alice",post="all",provider="instagram",type="shares"} 1
influencer_post_engagements{campaign="big",creator="alice",post="all",provider="tiktok",type="comments"} 4
influencer_post_engagements{campaign="big",creator="alice",post="all",provider="tiktok",type="likes"} 30
influencer_post_engagements{campaign="big",creator="alice",post="all",provider="tiktok",type="shares"} 6
influencer_post_engagements{campaign="big",creator="bob",post="all",provider="youtube",type="comments"} 3
influencer_post_engagements{campaign="big",creator="bob",post="all",provider="youtube",type="likes"} 20
influencer_post_engagements{campaign="small",creator="carol",post="c1",provider="instagram",type="likes"} 1
# HELP influencer_post_published_timestamp_seconds Unix time a creator's post was published.
# TYPE influencer_post_published_timestamp_seconds gauge
influencer_post_published_timestamp_seconds{campaign="big",creator="alice",post="all",provider="instagram"} 2000
influencer_post_published_timestamp_seconds{campaign="big",creator="alice",post="all",provider="tiktok"} 1500
influencer_post_published_timestamp_seconds{campaign="big",creator="bob",post="all",provider="youtube"} 500
influencer_post_published_timestamp_seconds{campaign="small",creator="carol",post="c1",provider="instagram"} 1200
# HELP influencer_post_reach Unique accounts reached by a creator's post as the platform reports them.
# TYPE influencer_post_reach gauge
influencer_post_reach{campaign="big",creator="alice",post="all",provider="instagram"} 120
# HELP influencer_post_views Views of a creator's post as the platform reports them.
# TYPE influencer_post_views gauge
influencer_post_views{campaign="big",creator="alice",post="all",provider="instagram"} 150
influencer_post_views{campaign="big",creator="alice",post="all",provider="tiktok"} 300
influencer_post_views{campaign="big",creator="bob",post="all",provider="youtube"} 1010
influencer_post_views{campaign="small",creator="carol",post="c1",provider="instagram"} 7
`

var postFamilies = []string{
	"influencer_post_views", "influencer_post_reach", "influencer_post_engagements",
	"influencer_post_published_timestamp_seconds", "influencer_aggregated_posts",
}

// guardRig refreshes a "social" collector through a scheduler that shapes
// snapshots by a config's campaigns and feeds an early curve.
type guardRig struct {
	cache *Cache
	posts *PostSeries
	curve *EarlyCurve
	sched *Scheduler
	inst  *Instance
	col   *testCollector
}

func newGuardRig(cfg *Config) *guardRig {
	g := &guardRig{cache: NewCache(), posts: NewPostSeries(), curve: NewEarlyCurve([]time.Duration{time.Hour}, "", nil)}
	g.posts.SetConfig(cfg)
	g.sched = &Scheduler{Cache: g.cache, Posts: g.posts, Observer: g.curve.Observe, Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}
	g.inst, g.col = newTestInstance("social")
	return g
}

func (g *guardRig) refresh(samples []Sample, err error) {
	g.col.set(samples, err)
	g.sched.Refresh(context.Background(), g.inst)
}

func (g *guardRig) fees(t *testing.T, cfg *Config) string {
	t.Helper()
	m := NewSteeringMetrics(func() *Config { return cfg }, g.cache, func() time.Time { return time.Unix(1_800_000_000, 0) })
	m.posts = g.posts
	return gathered(t, m, "influencer_creator_fee")
}

// gatherPedantic gathers c alone, with a pedantic registry's checks.
func gatherPedantic(t testing.TB, c prometheus.Collector) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// gathered gathers c and returns the named families in the text format.
func gathered(t *testing.T, c prometheus.Collector, names ...string) string {
	t.Helper()
	var lines []string
	for _, mf := range gatherPedantic(t, c) {
		if !slices.Contains(names, mf.GetName()) {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			lines = append(lines, fmt.Sprintf("%s{%s} %g", mf.GetName(), strings.Join(labels, ","), m.GetGauge().GetValue()))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// byCreator adds up the post families of c by every label but post; the
// publish times are taken at their latest, the one figure of them a sum
// over posts cannot give.
func byCreator(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		name := mf.GetName()
		if !slices.Contains(postFamilies[:4], name) {
			continue
		}
		for _, m := range mf.GetMetric() {
			k := name
			for _, l := range m.GetLabel() {
				if l.GetName() != "post" {
					k += "," + l.GetName() + "=" + l.GetValue()
				}
			}
			v := m.GetGauge().GetValue()
			if prev, ok := out[k]; ok && name == PostPublished.Name {
				v = math.Max(prev, v)
			} else if ok {
				v += prev
			}
			out[k] = v
		}
	}
	return out
}

// The sums are the per-post values added up, and every sum by campaign,
// creator, provider and type over the post families is the same whichever
// the campaign's post_series; so are the objects counted, the fees and
// the collector's other series.
func TestPostSeriesPerCreator(t *testing.T) {
	perPost := newGuardRig(guardConfig(t, PostSeriesPerPost))
	perPost.refresh(guardSnapshot(), nil)
	cfg := guardConfig(t, PostSeriesPerCreator)
	perCreator := newGuardRig(cfg)
	perCreator.refresh(guardSnapshot(), nil)

	if err := testutil.CollectAndCompare(perCreator.cache, strings.NewReader(guardSums), postFamilies...); err != nil {
		t.Error(err)
	}
	want, got := byCreator(t, perPost.cache), byCreator(t, perCreator.cache)
	if len(want) == 0 || !maps.Equal(got, want) {
		t.Errorf("sums by creator differ:\nper_post:    %v\nper_creator: %v", want, got)
	}
	others := []string{"influencer_account_followers", "influencer_link_clicks_total", "influencer_collector_objects", "influencer_collector_up"}
	if a, b := gathered(t, perPost.cache, others...), gathered(t, perCreator.cache, others...); a != b {
		t.Errorf("other series differ:\nper_post:\n%s\nper_creator:\n%s", a, b)
	}
	// Every post is read and counted: p1, p2, t1, y1, y2, c1 and the two
	// the exposition drops, besides the account and the link.
	if a, b := perCreator.cache.Status()[0].Objects, perPost.cache.Status()[0].Objects; !maps.Equal(a, b) || a[StateExported] != 10 {
		t.Errorf("objects: per_creator %v, per_post %v; want the same, 10 exported", a, b)
	}
	// alice: 100 + 10 × 3 posts; bob: 1 × y1 (y2's publish time is not
	// known); carol: 5 × c1.
	const fees = `influencer_creator_fee{campaign="big",creator="alice",currency="EUR"} 130
influencer_creator_fee{campaign="big",creator="bob",currency="EUR"} 1
influencer_creator_fee{campaign="small",creator="carol",currency="EUR"} 5`
	if got := perCreator.fees(t, cfg); got != fees {
		t.Errorf("fees per_creator:\n%s\nwant:\n%s", got, fees)
	}
	if got := perPost.fees(t, cfg); got != fees {
		t.Errorf("fees per_post:\n%s\nwant:\n%s", got, fees)
	}
	// The early curve tracks the per_post campaign's post only.
	if got := gathered(t, perCreator.curve, "influencer_early_curve_posts"); strings.Contains(got, "big") || !strings.Contains(got, `campaign="small"`) {
		t.Errorf("early curve posts:\n%s\nwant campaign small only", got)
	}
	if got := gathered(t, perPost.curve, "influencer_early_curve_posts"); !strings.Contains(got, `campaign="big"`) {
		t.Errorf("per_post: early curve posts:\n%s\nwant campaign big too", got)
	}
}

// A post a refresh skips keeps its last values in its creator's sums, and
// counts as skipped.
func TestPostSeriesCarriesSkippedPostsOver(t *testing.T) {
	g := newGuardRig(guardConfig(t, PostSeriesPerCreator))
	post := func(id string, views float64) []Sample {
		return []Sample{
			PostPublished.Sample(1000, "big", "alice", "instagram", id),
			PostViews.Sample(views, "big", "alice", "instagram", id),
		}
	}
	g.refresh(append(post("p1", 10), post("p2", 20)...), nil)
	g.refresh(post("p1", 15), Partial([]error{Skipped(Object{Kind: KindPost, Campaign: "big", Creator: "alice", ID: "p2"}, ErrOutOfTime)}))
	want := `influencer_aggregated_posts{campaign="big",creator="alice",provider="instagram"} 2
influencer_post_views{campaign="big",creator="alice",post="all",provider="instagram"} 35`
	if got := gathered(t, g.cache, "influencer_post_views", "influencer_aggregated_posts"); got != want {
		t.Errorf("after a skipped post:\n%s\nwant:\n%s", got, want)
	}
	if got := g.cache.Status()[0].Objects; got[StateExported] != 1 || got[StateSkipped] != 1 {
		t.Errorf("objects = %v, want 1 exported, 1 skipped", got)
	}
	if got := g.fees(t, guardConfig(t, PostSeriesPerCreator)); !strings.Contains(got, `creator="alice",currency="EUR"} 120`) {
		t.Errorf("fees:\n%s\nwant alice at 100 + 2 × 10", got)
	}
}

// A reload that changes a campaign's post_series applies at once to the
// snapshots stored (the early curve at the collectors' next refresh): the
// per-post series go and the sums come, and back; fees count the same
// posts throughout.
func TestPostSeriesSwitch(t *testing.T) {
	perPostCfg, perCreatorCfg := guardConfig(t, PostSeriesPerPost), guardConfig(t, PostSeriesPerCreator)
	g := newGuardRig(perPostCfg)
	series := func() string {
		t.Helper()
		return gathered(t, g.cache, postFamilies...)
	}
	has := func(when, s string, want bool) {
		t.Helper()
		if got := strings.Contains(series(), s); got != want {
			t.Errorf("%s: %s present: %t, want %t\n%s", when, s, got, want, series())
		}
	}
	const fees = `influencer_creator_fee{campaign="big",creator="alice",currency="EUR"} 130`
	checkFees := func(when string) {
		t.Helper()
		if got := g.fees(t, perCreatorCfg); !strings.HasPrefix(got, fees) {
			t.Errorf("%s: fees\n%s\nwant %s first", when, got, fees)
		}
	}

	g.refresh(guardSnapshot(), nil)
	has("per_post", `post="p1"`, true)
	has("per_post", `post="all"`, false)
	has("per_post", "influencer_aggregated_posts", false)
	checkFees("per_post")

	reload := func(cfg *Config) {
		t.Helper()
		if !g.posts.SetConfig(cfg) {
			t.Fatal("SetConfig: the per_creator campaigns did not change")
		}
		g.posts.Reshape(g.cache, map[string]string{g.inst.Name: g.inst.Type})
		if g.posts.SetConfig(cfg) {
			t.Error("SetConfig again: the per_creator campaigns changed")
		}
	}
	reload(perCreatorCfg)
	if err := testutil.CollectAndCompare(g.cache, strings.NewReader(guardSums), postFamilies...); err != nil {
		t.Errorf("reloaded, before the next refresh: %v", err)
	}
	checkFees("reloaded, before the next refresh")
	g.refresh(guardSnapshot(), nil)
	if err := testutil.CollectAndCompare(g.cache, strings.NewReader(guardSums), postFamilies...); err != nil {
		t.Errorf("per_creator: %v", err)
	}
	checkFees("per_creator")
	if got := gathered(t, g.curve, "influencer_early_curve_posts"); strings.Contains(got, "big") {
		t.Errorf("per_creator: the early curve still tracks big's posts:\n%s", got)
	}

	reload(perPostCfg)
	has("reloaded back, before the next refresh", `post="p1"`, true)
	has("reloaded back, before the next refresh", `post="all"`, false)
	checkFees("reloaded back, before the next refresh")
	g.refresh(guardSnapshot(), nil)
	has("per_post again", `post="p1"`, true)
	has("per_post again", `post="all"`, false)
	has("per_post again", "influencer_aggregated_posts", false)
	checkFees("per_post again")
	if got := gathered(t, g.curve, "influencer_early_curve_posts"); !strings.Contains(got, "big") {
		t.Errorf("per_post again: the early curve does not track big's posts:\n%s", got)
	}
}

// aggregatePosts leaves a snapshot without posts of per_creator campaigns
// as it is, and a removed collector's posts are forgotten.
func TestPostSeriesUntouched(t *testing.T) {
	snap := guardSnapshot()
	out, aggregated := aggregatePosts(snap, map[string]bool{"other": true})
	if aggregated || len(out) != len(snap) || &out[0] != &snap[0] {
		t.Errorf("a snapshot without per_creator posts was copied or changed")
	}
	var nilSeries *PostSeries
	if got := nilSeries.shape("x", "fake", snap); len(got) != len(snap) {
		t.Errorf("nil PostSeries changed the snapshot")
	}
	p := NewPostSeries()
	p.SetConfig(guardConfig(t, PostSeriesPerCreator))
	p.shape("social", "fake", snap)
	if len(p.published()) != 1 {
		t.Fatalf("published = %v, want the social collector's posts", p.published())
	}
	p.Retain(map[string]string{"social": "instagram"})
	if len(p.published()) != 0 {
		t.Errorf("a collector whose type changed kept its posts")
	}
}

// More engagement types than a post's bits still count each series once.
func TestAggregatePostsManyTypes(t *testing.T) {
	var samples []Sample
	for _, post := range []string{"p1", "p2", "p1"} {
		for i := range 40 {
			samples = append(samples, PostEngagements.Sample(1, "big", "alice", "json", post, fmt.Sprintf("type%02d", i)))
		}
	}
	out, _ := aggregatePosts(samples, map[string]bool{"big": true})
	if len(out) != 41 {
		t.Fatalf("%d samples, want 40 sums and the post count", len(out))
	}
	for _, s := range out[:40] {
		if s.Value != 2 || s.Label("post") != AllPosts {
			t.Errorf("%s%v = %g, want 2 (p1 and p2, p1's repeat left out)", s.Metric.Name, s.LabelValues, s.Value)
		}
	}
	if c := out[40]; c.Metric != AggregatedPosts || c.Value != 2 {
		t.Errorf("post count %s = %g, want 2", c.Metric.Name, c.Value)
	}
}

func TestPostSeriesConfig(t *testing.T) {
	for _, tc := range []struct {
		yml  string
		want []string
	}{
		{"campaigns:\n  - name: a\n  - name: b\n", nil},
		{"global:\n  post_series: per_creator\ncampaigns:\n  - name: a\n  - name: b\n    post_series: per_post\n", []string{"a"}},
		{"global:\n  post_series: per_post\ncampaigns:\n  - name: a\n    post_series: per_creator\n  - name: b\n", []string{"a"}},
	} {
		cfg, err := ParseConfig("c.yml", []byte(tc.yml))
		if err != nil {
			t.Fatalf("%q: %v", tc.yml, err)
		}
		if got := cfg.PerCreatorCampaigns(); !slices.Equal(got, tc.want) {
			t.Errorf("%q: per_creator campaigns %v, want %v", tc.yml, got, tc.want)
		}
	}
	// A config built in code, with no defaults applied, is per_post.
	if got := (&Config{}).PostSeriesOf(&Campaign{Name: "a"}); got != PostSeriesPerPost {
		t.Errorf("default post_series %q, want per_post", got)
	}
}

// The runner shapes its collectors' snapshots by the campaigns' post_series
// and counts per-post fees from the posts it summed.
func TestRunnerPostSeries(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(file, []byte(`global:
  post_series: per_creator
collectors:
  - type: fake
    name: guard-social
campaigns:
  - name: big
    creators:
      - name: alice
        fee: {amount: 100, per_post: 10, currency: EUR}
      - name: bob
        fee: {per_post: 1, currency: EUR}
  - name: small
    post_series: per_post
    creators:
      - name: carol
        fee: {per_post: 5, currency: EUR}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	col := &testCollector{}
	col.set(guardSnapshot(), nil)
	testMu.Lock()
	testCollectors["guard-social"] = col
	testMu.Unlock()

	r, reg := startRunner(t, file)
	for deadline := time.Now().Add(10 * time.Second); len(r.Cache.samplesOf("guard-social")) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("guard-social never refreshed")
		}
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(guardSums), postFamilies...); err != nil {
		t.Error(err)
	}
	const fees = `
# HELP influencer_creator_fee Fee owed to a creator for the campaign so far, from the config: the flat amount plus the per-post amount for each campaign post the exporter tracks, in major units of the currency.
# TYPE influencer_creator_fee gauge
influencer_creator_fee{campaign="big",creator="alice",currency="EUR"} 130
influencer_creator_fee{campaign="big",creator="bob",currency="EUR"} 1
influencer_creator_fee{campaign="small",creator="carol",currency="EUR"} 5
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(fees), "influencer_creator_fee"); err != nil {
		t.Error(err)
	}
}

// BenchmarkPostSeriesShape shapes the posts of the agency the guard is for:
// 10,000 creators with 4 Instagram posts each, 280,000 samples.
func BenchmarkPostSeriesShape(b *testing.B) {
	var samples []Sample
	for c := range 10_000 {
		creator := fmt.Sprintf("creator-%05d", c)
		for p := range 4 {
			id := fmt.Sprintf("%d%d", 17_900_000_000+c, p)
			lv := []string{"agency", creator, "instagram", id}
			samples = append(samples,
				PostPublished.Sample(1_700_000_000, lv...),
				PostViews.Sample(1000, lv...),
				PostReach.Sample(800, lv...),
			)
			for _, typ := range []string{"likes", "comments", "saves", "shares"} {
				samples = append(samples, PostEngagements.Sample(10, "agency", creator, "instagram", id, typ))
			}
		}
	}
	cfg := &Config{Campaigns: []*Campaign{{Name: "agency", PostSeries: PostSeriesPerCreator}}}
	p := NewPostSeries()
	p.SetConfig(cfg)
	b.ReportAllocs()
	b.ResetTimer()
	var out []Sample
	for range b.N {
		out = p.shape("instagram", "instagram", samples)
	}
	b.ReportMetric(float64(len(samples)), "samples_in")
	b.ReportMetric(float64(len(out)), "series_out")
}

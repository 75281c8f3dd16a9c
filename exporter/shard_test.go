package exporter

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestParseShard(t *testing.T) {
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	host := func(name string, err error) func() (string, error) {
		return func() (string, error) { return name, err }
	}
	noHost := host("", errors.New("no hostname"))
	for _, tc := range []struct {
		name     string
		count    int
		index    string
		vars     map[string]string
		hostname func() (string, error)
		want     Shard
		err      string
	}{
		{name: "default", count: 1, index: "0", want: Shard{0, 1}},
		{name: "last", count: 3, index: "2", want: Shard{2, 3}},
		{name: "count 0", count: 0, index: "0", err: "--shard.count must be at least 1 (1: no sharding), got 0"},
		{name: "negative index", count: 3, index: "-1", err: "--shard.index=-1 is out of range for --shard.count=3: the index goes from 0 to 2"},
		{name: "index = count", count: 3, index: "3", err: "--shard.index=3 is out of range for --shard.count=3: the index goes from 0 to 2"},
		{name: "not a number", count: 3, index: "one", err: `--shard.index must be a number from 0 to 2, or auto, got "one"`},
		{name: "auto from POD_NAME", count: 3, index: "auto", vars: map[string]string{"POD_NAME": "influencer-exporter-2"}, hostname: noHost, want: Shard{2, 3}},
		{name: "POD_NAME before the hostname", count: 3, index: "auto", vars: map[string]string{"POD_NAME": "influencer-exporter-0"}, hostname: host("influencer-exporter-1", nil), want: Shard{0, 3}},
		{name: "auto from the hostname", count: 4, index: "auto", hostname: host("influencer-exporter-3", nil), want: Shard{3, 4}},
		{name: "empty POD_NAME: the hostname", count: 4, index: "auto", vars: map[string]string{"POD_NAME": ""}, hostname: host("exp-1", nil), want: Shard{1, 4}},
		{name: "auto unsharded", count: 1, index: "auto", hostname: host("influencer-exporter-0", nil), want: Shard{0, 1}},
		{
			name: "ordinal above count", count: 3, index: "auto", vars: map[string]string{"POD_NAME": "influencer-exporter-3"},
			err: `--shard.index=auto: the pod "influencer-exporter-3" (from $POD_NAME) has ordinal 3, out of range for --shard.count=3 (0 to 2): are there more replicas than shards?`,
		},
		{
			name: "no ordinal", count: 3, index: "auto", hostname: host("laptop", nil),
			err: `--shard.index=auto: the pod name "laptop" (from the hostname) does not end in -N, as a StatefulSet's pods do (name-0, name-1, ...)`,
		},
		{
			name: "a deployment's pod", count: 3, index: "auto", vars: map[string]string{"POD_NAME": "influencer-exporter-7d9f8b6c4-x2x9q"},
			err: `--shard.index=auto: the pod name "influencer-exporter-7d9f8b6c4-x2x9q" (from $POD_NAME) does not end in -N`,
		},
		{name: "leading zero is no ordinal", count: 3, index: "auto", vars: map[string]string{"POD_NAME": "exp-01"}, err: "does not end in -N"},
		{name: "no hostname", count: 3, index: "auto", hostname: noHost, err: "--shard.index=auto: POD_NAME is not set and the hostname cannot be read: no hostname"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.hostname == nil {
				tc.hostname = noHost
			}
			got, err := parseShard(tc.count, tc.index, env(tc.vars), tc.hostname)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("shard %+v, want %+v", got, tc.want)
			}
		})
	}
}

// agencyCreators are 10,000 campaign/creator keys: 20 campaigns of 500
// creators, named as agencies name them.
func agencyCreators() [][2]string {
	var keys [][2]string
	for c := range 20 {
		for k := range 500 {
			keys = append(keys, [2]string{fmt.Sprintf("campaign-%02d", c), fmt.Sprintf("creator-%04d", k)})
		}
	}
	return keys
}

// TestShardBalance: 10,000 creators spread over 3, 5 and 10 shards with
// every shard within 6% of an even share. The figures, which
// docs/deployment.md quotes, are logged; the hash is fixed, so they are
// the same on every run.
func TestShardBalance(t *testing.T) {
	keys := agencyCreators()
	for _, n := range []int{2, 3, 5, 10} {
		counts := make([]int, n)
		for _, k := range keys {
			s := ShardOf(k[0], k[1], n)
			if s < 0 || s >= n {
				t.Fatalf("ShardOf(%s, %s, %d) = %d", k[0], k[1], n, s)
			}
			counts[s]++
		}
		lo, hi := slices.Min(counts), slices.Max(counts)
		even := float64(len(keys)) / float64(n)
		t.Logf("%d shards: min %d, max %d creators (even share %.0f: %+.1f%%, %+.1f%%; max/min %.3f)",
			n, lo, hi, even, 100*(float64(lo)/even-1), 100*(float64(hi)/even-1), float64(hi)/float64(lo))
		if float64(lo) < even*0.94 || float64(hi) > even*1.06 {
			t.Errorf("%d shards: %v: a shard is more than 6%% away from %.0f", n, counts, even)
		}
	}
}

// TestShardMovement: going from n to n+1 shards moves about 1/(n+1) of
// the creators, all to the new shard, and going back moves the same ones
// back: nothing moves between the shards that stay. Hashing modulo the
// count, for comparison, moves most creators.
func TestShardMovement(t *testing.T) {
	keys := agencyCreators()
	for n := 1; n <= 10; n++ {
		moved := 0
		for _, k := range keys {
			before, after := ShardOf(k[0], k[1], n), ShardOf(k[0], k[1], n+1)
			if before == after {
				continue
			}
			moved++
			if after != n {
				t.Fatalf("%d -> %d shards: %s/%s moved from shard %d to %d, not to the new shard", n, n+1, k[0], k[1], before, after)
			}
		}
		want := float64(len(keys)) / float64(n+1)
		frac := float64(moved) / float64(len(keys))
		if n == 3 || n == 4 || n == 9 {
			t.Logf("%d -> %d shards: %d of %d creators move (%.1f%%; ideal %.1f%%)", n, n+1, moved, len(keys), 100*frac, 100/float64(n+1))
		}
		if math.Abs(float64(moved)/want-1) > 0.1 {
			t.Errorf("%d -> %d shards: %d creators move, want %.0f within 10%%", n, n+1, moved, want)
		}
	}
	modMoved := 0
	for _, k := range keys {
		h := shardKey(k[0], k[1])
		if h%3 != h%4 {
			modMoved++
		}
	}
	t.Logf("3 -> 4 shards by hash modulo count, for comparison: %d of %d creators move (%.1f%%)", modMoved, len(keys), 100*float64(modMoved)/float64(len(keys)))
}

func TestShardShare(t *testing.T) {
	for n := 1; n <= 12; n++ {
		for _, total := range []int{0, 1, 2, 3, 5, 7, 10, 11, 100, 9999, 10000} {
			sum := 0
			for i := range n {
				share := Shard{i, n}.Share(total)
				if share < total/n || share > total/n+1 {
					t.Errorf("Shard{%d, %d}.Share(%d) = %d", i, n, total, share)
				}
				sum += share
			}
			if sum != total {
				t.Errorf("%d shards: the shares of %d add up to %d", n, total, sum)
			}
		}
		rate := 0.0
		for i := range n {
			rate += Shard{i, n}.Rate(5)
		}
		if math.Abs(rate-5) > 1e-9 {
			t.Errorf("%d shards: the rates of 5/s add up to %g", n, rate)
		}
	}
	if got := (Shard{1, 3}).Rate(0); got != 0 {
		t.Errorf("no rate limit split: %g, want 0 (none)", got)
	}
	if got := (Shard{}).Share(7); got != 7 {
		t.Errorf("the zero Shard's share of 7: %d", got)
	}
}

// shardConfig renders a config of fake collectors with creators
// campaigns × perCampaign, each with a fee, a link, a tag, a code, a post
// and an account; extra adds collectors.
func shardConfig(campaigns, perCampaign int, extra string) string {
	var b strings.Builder
	b.WriteString(`collectors:
  - {type: fake, name: short, http: {rate_limit: 5, burst: 5}}
  - {type: fake, name: shop, http: {rate_limit: 2, burst: 10}}
  - {type: fake, name: social, http: {rate_limit: 0.5, burst: 1}}
` + extra + "campaigns:\n")
	for c := range campaigns {
		fmt.Fprintf(&b, "  - name: camp-%d\n    checkpoints: {at: [\"09:00\"]}\n    creators:\n", c)
		for k := range perCampaign {
			name := fmt.Sprintf("creator-%d", k)
			fmt.Fprintf(&b, `      - name: %s
        fee: {amount: 100, currency: EUR, budget: 200}
        links: [{collector: short, id: s.io/%d-%s}]
        tags: [{collector: short, tag: %d-%s}]
        codes: [{collector: shop, code: C%d%s}]
        posts: [{collector: social, id: p%d-%s}]
        accounts: [{collector: social, id: a%d-%s}]
`, name, c, name, c, name, c, strings.ToUpper(strings.ReplaceAll(name, "-", "")), c, name, c, name)
		}
	}
	return b.String()
}

// TestApplyShard: the shards of a config partition its creators, and with
// them every link, tag, code, post and account; every shard keeps every
// campaign, splits each collector's rate limit and burst, and takes its
// referral sources from the whole file.
func TestApplyShard(t *testing.T) {
	text := shardConfig(3, 20, "")
	whole, err := ParseConfig("whole.yml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	const n = 3
	type refs struct{ creators, links, tags, codes, posts, accounts []string }
	collect := func(c *Config) refs {
		var r refs
		for _, cr := range c.Creators() {
			r.creators = append(r.creators, cr.Campaign+"/"+cr.Creator)
		}
		for _, l := range c.LinksFor("short") {
			r.links = append(r.links, l.Campaign+"/"+l.Creator+"/"+l.ID)
		}
		for _, l := range c.TagsFor("short") {
			r.tags = append(r.tags, l.Campaign+"/"+l.Creator+"/"+l.Tag.Tag)
		}
		for _, l := range c.CodesFor("shop") {
			r.codes = append(r.codes, l.Campaign+"/"+l.Creator+"/"+l.Code.Code)
		}
		for _, l := range c.PostsFor("social") {
			r.posts = append(r.posts, l.Campaign+"/"+l.Creator+"/"+l.ID)
		}
		for _, l := range c.AccountsFor("social") {
			r.accounts = append(r.accounts, l.Campaign+"/"+l.Creator+"/"+l.ID)
		}
		return r
	}
	want := collect(whole)
	var union refs
	for i := range n {
		cfg, err := ParseConfig("shard.yml", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		s := Shard{i, n}
		cfg.ApplyShard(s)
		if cfg.Shard() != s {
			t.Errorf("Shard() = %v, want %v", cfg.Shard(), s)
		}
		got := collect(cfg)
		for _, cr := range cfg.Creators() {
			if !s.Owns(cr.Campaign, cr.Creator) {
				t.Errorf("shard %d keeps %s/%s of shard %d", i, cr.Campaign, cr.Creator, ShardOf(cr.Campaign, cr.Creator, n))
			}
		}
		if len(got.creators) == 0 {
			t.Errorf("shard %d has no creators", i)
		}
		if len(cfg.Campaigns) != len(whole.Campaigns) {
			t.Errorf("shard %d: %d campaigns, want every one (%d)", i, len(cfg.Campaigns), len(whole.Campaigns))
		}
		if all := cfg.AllCreators(); len(all) != len(want.creators) {
			t.Errorf("shard %d: AllCreators has %d, want %d", i, len(all), len(want.creators))
		}
		union.creators = append(union.creators, got.creators...)
		union.links = append(union.links, got.links...)
		union.tags = append(union.tags, got.tags...)
		union.codes = append(union.codes, got.codes...)
		union.posts = append(union.posts, got.posts...)
		union.accounts = append(union.accounts, got.accounts...)

		byName := map[string]*CollectorConfig{}
		for _, cc := range cfg.Collectors {
			byName[cc.Name] = cc
		}
		if got, want := byName["short"].HTTP.RateLimit, 5.0/n; got != want {
			t.Errorf("shard %d: short rate_limit %g, want %g", i, got, want)
		}
		if got, want := byName["short"].HTTP.Burst, s.Share(5); got != want {
			t.Errorf("shard %d: short burst %d, want %d", i, got, want)
		}
		// A replica needs a burst of 1 to send anything.
		if got, want := byName["social"].HTTP.RateLimit, 0.5/n; got != want || byName["social"].HTTP.Burst != 1 {
			t.Errorf("shard %d: social rate_limit %g and burst %d, want %g and 1", i, got, byName["social"].HTTP.Burst, want)
		}
	}
	for _, part := range []struct {
		what        string
		got, wanted []string
	}{
		{"creators", union.creators, want.creators}, {"links", union.links, want.links}, {"tags", union.tags, want.tags},
		{"codes", union.codes, want.codes}, {"posts", union.posts, want.posts}, {"accounts", union.accounts, want.accounts},
	} {
		slices.Sort(part.got)
		w := slices.Sorted(slices.Values(part.wanted))
		if !slices.Equal(part.got, w) {
			t.Errorf("the shards' %s are not the whole file's: %d against %d", part.what, len(part.got), len(w))
		}
	}

	// A platform only one shard's creators post on keeps its referral
	// source on every shard.
	one := shardConfig(1, 6, "  - {type: instagram, name: insta, token: x}\n")
	var owner string
	for k := range 6 {
		if ShardOf("camp-0", fmt.Sprintf("creator-%d", k), n) == 1 {
			owner = fmt.Sprintf("creator-%d", k)
			break
		}
	}
	one = strings.Replace(one, "      - name: "+owner+"\n", "      - name: "+owner+"\n        posts: [{collector: insta, id: \"17900000000000001\"}]\n", 1)
	one = strings.Replace(one, "        posts: [{collector: social, id: p0-"+owner+"}]\n", "", 1)
	if !IsRegistered("instagram") {
		Register("instagram", func(Settings) (Collector, error) { return &testCollector{}, nil })
	}
	for i := range n {
		cfg, err := ParseConfig("one.yml", []byte(one))
		if err != nil {
			t.Fatal(err)
		}
		cfg.ApplyShard(Shard{i, n})
		if got := DefaultSources(cfg); !slices.Equal(got, []string{"instagram"}) {
			t.Errorf("shard %d: default sources %v, want [instagram] from the whole file", i, got)
		}
	}
}

// clientCollector keeps the client Build gave it, for the rate limit test.
type clientCollector struct{ client *Client }

func (*clientCollector) Poll(context.Context) ([]Sample, error) { return nil, nil }

// TestShardRateLimitsNeverSpendMore: the replicas of one config, each
// with its share of a collector's rate limit and burst, together send no
// more requests over a minute than one exporter may: the sum of the
// limits each client enforces, requests taken as fast as each allows on a
// virtual clock, is at most the unsharded one's. With fewer burst than
// shards each replica still needs a burst of 1, so the shards' bursts
// add up to the number of shards: at most that many requests more, once,
// at the same sustained rate.
func TestShardRateLimitsNeverSpendMore(t *testing.T) {
	if !IsRegistered("fake-client") {
		Register("fake-client", func(s Settings) (Collector, error) { return &clientCollector{client: s.Client}, nil })
	}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const window, step = time.Minute, 10 * time.Millisecond
	// allowed returns the requests the clients of the config's shard
	// allow over the window, by collector.
	allowed := func(t *testing.T, text string, s Shard) map[string]int {
		t.Helper()
		cfg, err := ParseConfig("limits.yml", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		cfg.ApplyShard(s)
		instances, err := Build(cfg, Deps{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for at := start; at.Before(start.Add(window)); at = at.Add(step) {
			for _, i := range instances {
				for i.Collector.(*clientCollector).client.limiter.AllowN(at, 1) {
					out[i.Name]++
				}
			}
		}
		return out
	}
	limits := []struct {
		name  string
		rate  float64
		burst int
	}{
		{"defaults", DefaultHTTP.RateLimit, DefaultHTTP.Burst},
		{"slow", 0.5, 1},
		{"bursty", 2, 10},
		{"fast", 100, 20},
	}
	var b strings.Builder
	b.WriteString("collectors:\n")
	for _, l := range limits {
		fmt.Fprintf(&b, "  - {type: fake-client, name: %s, http: {rate_limit: %g, burst: %d}}\n", l.name, l.rate, l.burst)
	}
	text := b.String()
	one := allowed(t, text, Shard{})
	for _, n := range []int{2, 3, 5, 10} {
		total := map[string]int{}
		for i := range n {
			for name, k := range allowed(t, text, Shard{i, n}) {
				total[name] += k
			}
		}
		for _, l := range limits {
			limit := one[l.name] + max(n-l.burst, 0)
			t.Logf("%d shards, rate_limit %g, burst %d: %d requests a minute in all, one exporter %d", n, l.rate, l.burst, total[l.name], one[l.name])
			if total[l.name] > limit {
				t.Errorf("%d shards, %s: %d requests a minute in all, more than %d", n, l.name, total[l.name], limit)
			}
			// The shares are the whole budget, not less, but for the
			// fraction of a request each replica has not saved up
			// when the window ends.
			if total[l.name] < one[l.name]-n {
				t.Errorf("%d shards, %s: %d requests a minute in all, under one exporter's %d less one a shard", n, l.name, total[l.name], one[l.name])
			}
		}
	}
}

// TestShardRunner: each shard's runner exports influencer_shard_info and
// its creators per campaign, the fees and budgets of its creators only,
// and the campaigns' checkpoints on shard 0 only: together, what one
// exporter exports.
func TestShardRunner(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(file, []byte(shardConfig(2, 10, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	gather := func(t *testing.T, s Shard) map[string]float64 {
		t.Helper()
		r := NewRunner(file, nil)
		r.Shard = s
		reg := prometheus.NewRegistry()
		if err := r.Register(reg); err != nil {
			t.Fatal(err)
		}
		if err := r.Reload(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Stop)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, mf := range mfs {
			if !strings.HasPrefix(mf.GetName(), "influencer_shard_") && !strings.HasPrefix(mf.GetName(), "influencer_creator_") && mf.GetName() != "influencer_campaign_checkpoint_timestamp_seconds" {
				continue
			}
			for _, m := range mf.GetMetric() {
				var labels []string
				for _, lp := range m.GetLabel() {
					labels = append(labels, lp.GetName()+"="+lp.GetValue())
				}
				out[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = m.GetGauge().GetValue()
			}
		}
		return out
	}
	whole := gather(t, Shard{})
	if whole["influencer_shard_info{count=1,index=0}"] != 1 {
		t.Errorf("unsharded: no influencer_shard_info{index=0,count=1} 1 in %v", whole)
	}
	const n = 3
	union := map[string]float64{}
	creators := map[string]float64{}
	for i := range n {
		got := gather(t, Shard{i, n})
		info := fmt.Sprintf("influencer_shard_info{count=%d,index=%d}", n, i)
		if got[info] != 1 {
			t.Errorf("shard %d: no %s 1", i, info)
		}
		checkpoints := 0
		for k, v := range got {
			switch {
			case strings.HasPrefix(k, "influencer_shard_info"):
			case strings.HasPrefix(k, "influencer_shard_creators"):
				creators[k] += v
			default:
				if _, dup := union[k]; dup {
					t.Errorf("%s exported by two shards", k)
				}
				union[k] = v
				if strings.HasPrefix(k, "influencer_campaign_checkpoint") {
					checkpoints++
				}
			}
		}
		if i == 0 && checkpoints != 2 || i > 0 && checkpoints != 0 {
			t.Errorf("shard %d exports %d checkpoint series", i, checkpoints)
		}
	}
	for k, v := range whole {
		switch {
		case strings.HasPrefix(k, "influencer_shard_info"):
		case strings.HasPrefix(k, "influencer_shard_creators"):
			if v != 10 || creators[k] != v {
				t.Errorf("%s: %g unsharded, %g summed over the shards, want 10", k, v, creators[k])
			}
		default:
			if u, ok := union[k]; !ok || u != v {
				t.Errorf("%s: %g unsharded, %g (%t) from the shards", k, v, u, ok)
			}
		}
	}
	for k := range union {
		if _, ok := whole[k]; !ok {
			t.Errorf("%s from a shard, not from the unsharded exporter", k)
		}
	}
	if len(union) != 2+2*20 {
		t.Errorf("%d fee, budget and checkpoint series from the shards, want 42", len(union))
	}
}

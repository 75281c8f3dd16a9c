package exporter

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Sharding: replicas of the exporter run the same config file, each with
// its own --shard.index, and each polls and exports the creators of its
// shard only (docs/deployment.md, "Scaling out").
//
// The unit is the creator of a campaign, campaign/creator: all of its
// links, tags, codes, posts, accounts and analytics visitors stay on one
// replica, so the per-creator recording rules and alerts, which join a
// creator's clicks, orders and attention, find every series they need in
// whatever Prometheus scrapes that replica. The creators are filtered once,
// when the config is loaded (Config.ApplyShard): every collector sees only
// its shard's creators through LinksFor, CodesFor, PostsFor, AccountsFor
// and Creators, and never calls its provider for another shard's.
//
// Series that belong to no creator follow one rule, so that the replicas
// together export what one exporter does:
//
//   - campaign-level series the config alone sets
//     (influencer_campaign_checkpoint_timestamp_seconds) come from shard 0
//     only: every replica could compute them, and one copy keeps a sum or
//     a join from seeing several;
//   - counts over a replica's objects (influencer_early_curve_posts,
//     influencer_collector_objects, influencer_shard_creators) are each
//     replica's own: their sum over the replicas is the unsharded count;
//   - the exporter's own series (collector_up, api_requests_total, ...)
//     describe each replica, as they describe each process.

// Shard is the part of the configured creators one replica polls and
// exports: those whose campaign/creator ShardOf puts at Index among Count.
// The zero value, like Count 1, is the whole config.
type Shard struct {
	Index int
	Count int
}

// Sharded reports whether s is one of several shards.
func (s Shard) Sharded() bool { return s.Count > 1 }

// count is the number of shards, 1 for the zero value.
func (s Shard) count() int { return max(s.Count, 1) }

// String is "i/n", for logs.
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.count()) }

// Owns reports whether the creator of campaign belongs to s.
func (s Shard) Owns(campaign, creator string) bool {
	return ShardOf(campaign, creator, s.count()) == s.Index
}

// ExportsCampaignSeries reports whether s exports the campaign-level series
// the config alone sets: shard 0 does, so that the replicas together export
// each once.
func (s Shard) ExportsCampaignSeries() bool { return s.Index == 0 }

// Share returns s's share of a budget its replicas spend from one provider
// account (a daily quota, a burst): total split as evenly as integers go,
// the remainder to the lowest indexes, so that the shares add up to total
// exactly. A share can be 0 when total is below the number of shards.
func (s Shard) Share(total int) int {
	n := s.count()
	share := total / n
	if s.Index < total%n {
		share++
	}
	return share
}

// Rate returns s's share of a rate (requests per second) its replicas
// spend from one provider account: rate divided by the number of shards. A
// rate of 0 or less (no limit) stays as it is.
func (s Shard) Rate(rate float64) float64 {
	if rate <= 0 {
		return rate
	}
	return rate / float64(s.count())
}

// ShardOf returns the shard, from 0 to count-1, of the creator of campaign.
//
// Jump consistent hash (Lamping and Veach, "A Fast, Minimal Memory,
// Consistent Hash Algorithm", 2014, arXiv:1406.2294) over the first 8 bytes
// of the SHA-256 of "campaign/creator". Chosen over rendezvous hashing and
// hash rings because shards are numbered 0 to count-1 and only the last one
// comes or goes, which is how a StatefulSet scales (pods name-0 ...
// name-(n-1)): under that constraint jump hash is balanced as well as the
// hash spreads keys (no virtual nodes to tune, O(1) memory, O(log count)
// time), and going from n to n+1 shards moves exactly the creators the new
// shard takes, 1/(n+1) of them on average, and nothing else. Rendezvous
// hashing would allow removing any shard, which ordinals never do, at
// O(count) per creator. Names cannot hold '/' (campaign and creator names
// are letters, digits, '_', '.' and '-'), so the key is unambiguous; SHA-256
// spreads names that differ in one character, and never changes between
// versions, platforms or processes, unlike Go's map hash.
func ShardOf(campaign, creator string, count int) int {
	if count <= 1 {
		return 0
	}
	return jumpHash(shardKey(campaign, creator), count)
}

// shardKey is the 64-bit key of a creator: the first 8 bytes of the
// SHA-256 of campaign/creator.
func shardKey(campaign, creator string) uint64 {
	sum := sha256.Sum256([]byte(campaign + "/" + creator))
	return binary.BigEndian.Uint64(sum[:8])
}

// jumpHash is the algorithm of the paper's figure 1.
func jumpHash(key uint64, buckets int) int {
	b, j := int64(-1), int64(0)
	for j < int64(buckets) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}

// ShardAuto is the --shard.index that reads the index from the pod name.
const ShardAuto = "auto"

// PodNameEnv is the environment variable --shard.index=auto reads the pod
// name from (set it with the downward API, metadata.name); without it, the
// hostname, which Kubernetes sets to the pod name.
const PodNameEnv = "POD_NAME"

// ParseShard reads --shard.count and --shard.index: an index from 0 to
// count-1, or auto, the ordinal N that ends the pod name name-N, as a
// StatefulSet names its pods, from $POD_NAME, else the hostname. The error
// names the flag and the value it refuses.
func ParseShard(count int, index string) (Shard, error) {
	return parseShard(count, index, os.LookupEnv, os.Hostname)
}

// ordinalRE is the ordinal a StatefulSet gives its pods: name-N.
var ordinalRE = regexp.MustCompile(`-(0|[1-9][0-9]{0,8})$`)

func parseShard(count int, index string, lookupEnv func(string) (string, bool), hostname func() (string, error)) (Shard, error) {
	if count < 1 {
		return Shard{}, fmt.Errorf("--shard.count must be at least 1 (1: no sharding), got %d", count)
	}
	if index != ShardAuto {
		i, err := strconv.Atoi(index)
		switch {
		case err != nil:
			return Shard{}, fmt.Errorf("--shard.index must be a number from 0 to %d, or %s, got %q", count-1, ShardAuto, index)
		case i < 0 || i >= count:
			return Shard{}, fmt.Errorf("--shard.index=%d is out of range for --shard.count=%d: the index goes from 0 to %d", i, count, count-1)
		}
		return Shard{Index: i, Count: count}, nil
	}
	name, from := "", "$"+PodNameEnv
	if v, ok := lookupEnv(PodNameEnv); ok && v != "" {
		name = v
	} else {
		h, err := hostname()
		if err != nil {
			return Shard{}, fmt.Errorf("--shard.index=%s: %s is not set and the hostname cannot be read: %w", ShardAuto, PodNameEnv, err)
		}
		name, from = h, "the hostname"
	}
	m := ordinalRE.FindStringSubmatch(name)
	if m == nil {
		return Shard{}, fmt.Errorf("--shard.index=%s: the pod name %q (from %s) does not end in -N, as a StatefulSet's pods do (name-0, name-1, ...)", ShardAuto, name, from)
	}
	i, _ := strconv.Atoi(m[1]) // at most 9 digits
	if i >= count {
		return Shard{}, fmt.Errorf("--shard.index=%s: the pod %q (from %s) has ordinal %d, out of range for --shard.count=%d (0 to %d): are there more replicas than shards?", ShardAuto, name, from, i, count, count-1)
	}
	return Shard{Index: i, Count: count}, nil
}

// ApplyShard makes c the config of shard s: each campaign keeps the
// creators s owns, and each collector gets s's share of its provider
// account's rate limit and burst, which every replica spends from with the
// same token. The campaigns stay, those without creators on s too: their
// config-level series and options naming them are the same on every
// replica. Call it once, on a config that loaded without errors, before
// Build; a Runner does on every load.
func (c *Config) ApplyShard(s Shard) {
	c.shard = s
	if !s.Sharded() {
		return
	}
	// What every replica must agree on is taken from the whole file
	// before the other shards' creators go: the referral sources (a
	// platform only another shard's creators post on still has its own
	// source label here) and the creators options may name.
	c.whole = &Config{Collectors: c.Collectors, Campaigns: c.Campaigns}
	c.wholeSources = DefaultSources(c.whole)
	kept := make([]*Campaign, len(c.Campaigns))
	for i, camp := range c.Campaigns {
		k := *camp
		k.Creators = slices.DeleteFunc(slices.Clone(camp.Creators), func(cr *Creator) bool {
			return !s.Owns(camp.Name, cr.Name)
		})
		kept[i] = &k
	}
	c.Campaigns = kept
	for _, cc := range c.Collectors {
		cc.HTTP.RateLimit = s.Rate(cc.HTTP.RateLimit)
		// A replica needs a burst of 1 to send anything: with fewer
		// burst than shards, the bursts add up to the shards, not to
		// burst (see docs/deployment.md).
		cc.HTTP.Burst = max(s.Share(cc.HTTP.Burst), 1)
	}
}

// Shard returns the shard the config was loaded for; the zero Shard (the
// whole config) for a config loaded otherwise.
func (c *Config) Shard() Shard { return c.shard }

// AllCreators returns every creator of the file, in file order, those of
// other shards included. Collectors check the creators and campaigns their
// options name against it, so that every replica accepts the same file;
// what they poll and export comes from Creators.
func (c *Config) AllCreators() []CreatorRef {
	if c.whole != nil {
		return c.whole.Creators()
	}
	return c.Creators()
}

// shardDescs are the series of ShardMetrics.
var (
	shardInfoDesc = prometheus.NewDesc("influencer_shard_info",
		"Always 1: which shard of the configured creators this exporter polls and exports (--shard.index, --shard.count).",
		[]string{"index", "count"}, nil)
	shardCreatorsDesc = prometheus.NewDesc("influencer_shard_creators",
		"Creators of the campaign this exporter polls and exports: those of its shard, or every creator without sharding.",
		[]string{LabelCampaign}, nil)
)

// ShardMetrics exports influencer_shard_info, always (index 0 of 1
// without sharding), and influencer_shard_creators of every campaign of
// the running config, 0 included, so that a shard's balance shows.
type ShardMetrics struct {
	shard  Shard
	config func() *Config
}

var _ prometheus.Collector = (*ShardMetrics)(nil)

// NewShardMetrics returns the shard's metrics; config returns the running
// config (nil: only the info series).
func NewShardMetrics(s Shard, config func() *Config) *ShardMetrics {
	return &ShardMetrics{shard: s, config: config}
}

// Describe implements prometheus.Collector.
func (m *ShardMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- shardInfoDesc
	ch <- shardCreatorsDesc
}

// Collect implements prometheus.Collector.
func (m *ShardMetrics) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(shardInfoDesc, prometheus.GaugeValue, 1,
		strconv.Itoa(m.shard.Index), strconv.Itoa(m.shard.count()))
	cfg := m.config()
	if cfg == nil {
		return
	}
	for _, camp := range cfg.Campaigns {
		ch <- prometheus.MustNewConstMetric(shardCreatorsDesc, prometheus.GaugeValue, float64(len(camp.Creators)), camp.Name)
	}
}

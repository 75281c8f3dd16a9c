package youtube_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/youtube"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// TestQuotaSplitBetweenShards: three replicas of one config share the
// project's daily quota through one API key. Each counts to its share of
// daily_quota, so that together they spend no more units than one
// exporter would, and each reads only its own creators' videos.
func TestQuotaSplitBetweenShards(t *testing.T) {
	const daily, shards = 20, 3
	// spend polls the collectors every minute, every video due each
	// time, until each has spent its quota; it returns the units the
	// fake counted.
	spend := func(t *testing.T, envs []*exportertest.Env, sb *sandbox) int {
		t.Helper()
		done := make([]bool, len(envs))
		for minute := 0; minute < 4*daily; minute++ {
			all := true
			for i, env := range envs {
				if done[i] {
					continue
				}
				samples, err := env.Poll(t, "youtube")
				switch {
				case errors.Is(err, exporter.ErrRateLimited):
					done[i] = true
					continue
				case err != nil:
					t.Fatalf("shard %d: %v", i, err)
				}
				all = false
				s := env.Config.Shard()
				for _, smp := range samples {
					if c := smp.Label("creator"); c != "" && !s.Owns(smp.Label("campaign"), c) {
						t.Fatalf("shard %s exported %s/%s of shard %d", s, smp.Label("campaign"), c, exporter.ShardOf(smp.Label("campaign"), c, shards))
					}
				}
			}
			if all {
				return sb.fake.UnitsSpent()
			}
			sb.clock.Advance(time.Minute)
		}
		t.Fatalf("the quota was never spent: %d units", sb.fake.UnitsSpent())
		return 0
	}
	// Twelve creators of 10 old videos each: 3 videos.list calls a
	// refresh for all of them, 1 for a shard's.
	setup := func(t *testing.T) (*sandbox, string) {
		t.Helper()
		sb := newSandbox(t, key)
		var creators []string
		for c := range 12 {
			ids := make([]string, 10)
			for i := range ids {
				ids[i] = vid(fmt.Sprintf("c%dv%d", c, i))
				sb.fake.AddPost(post(ids[i], channel(fmt.Sprintf("c%d", c)), "Old video", 30*24*time.Hour))
			}
			creators = append(creators, creator(fmt.Sprintf("creator-%d", c), ids, "", ""))
		}
		return sb, sb.config(fmt.Sprintf("{daily_quota: %d, post_refresh: [{age: 0s, every: 1m}]}", daily), campaign(creators...))
	}

	sb, cfg := setup(t)
	one := sb.buildConfig(t, cfg)
	// The refresh that meets the quota's end may cancel a call it
	// started: up to a refresh's calls less.
	if got := spend(t, []*exportertest.Env{one}, sb); got > daily || got < daily-3 {
		t.Fatalf("one exporter spent %d units, want about its daily_quota %d", got, daily)
	}

	sb, cfg = setup(t)
	var envs []*exportertest.Env
	for i := range shards {
		s := exporter.Shard{Index: i, Count: shards}
		env := exportertest.BuildShard(t, cfg, s)
		youtube.SetClock(env.Instance(t, "youtube").Collector, sb.clock.Now)
		if _, err := env.Poll(t, "youtube"); err != nil {
			t.Fatalf("shard %d: %v", i, err)
		}
		// The first refresh spent a unit per 50 of the shard's videos.
		videos := 10 * len(env.Config.Creators())
		if got, want := env.Quota("youtube"), float64(s.Share(daily)-(videos+49)/50); got != want {
			t.Errorf("shard %d: quota remaining %g after its first refresh, want its share %d less %d", i, got, s.Share(daily), (videos+49)/50)
		}
		envs = append(envs, env)
	}
	if got := spend(t, envs, sb); got > daily {
		t.Errorf("%d shards spent %d units in all, more than daily_quota %d", shards, got, daily)
	} else {
		t.Logf("%d shards spent %d units of daily_quota %d in all (shares %d, %d, %d)", shards, got, daily,
			exporter.Shard{Index: 0, Count: shards}.Share(daily), exporter.Shard{Index: 1, Count: shards}.Share(daily), exporter.Shard{Index: 2, Count: shards}.Share(daily))
	}
}

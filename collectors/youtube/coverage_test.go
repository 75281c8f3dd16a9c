package youtube_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/youtube"
	"github.com/influencer-exporter/influencer_exporter/collectors/youtube/youtubefake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// TestMissingObjects: a video deleted after it was exported, a channel
// YouTube does not return and one whose owner hides its subscriber count
// are reported missing with the reason under their campaign, creator and
// id; the rest is exported.
func TestMissingObjects(t *testing.T) {
	alice, bob, nobody := channel("alice"), channel("bob"), channel("nobody")
	tests := []struct {
		name     string
		creators []string
		before   func(*youtubefake.Server)
		missing  []string
		reason   string
		objects  map[string]float64
	}{{
		name:     "deleted video",
		creators: []string{creator("alice", []string{vid("one"), vid("two")}, alice, "")},
		before:   func(f *youtubefake.Server) { f.DeletePost(vid("two")) },
		missing:  []string{"missing post spring/alice/" + vid("two")},
		reason:   `youtube: video "two________" (campaigns[0].creators[0].posts[1]): not found: videos.list does not return it (deleted, private or a wrong id)`,
		objects:  map[string]float64{"post exported": 1, "post missing": 1, "account exported": 1},
	}, {
		name:     "unknown channel",
		creators: []string{creator("alice", []string{vid("one")}, alice, ""), creator("bob", nil, nobody, "#spring")},
		missing:  []string{"missing account spring/bob/" + nobody},
		reason:   `youtube: channel "UCnobody0000000000000000" (campaigns[0].creators[1].accounts[0]): not found: channels.list does not return it`,
		objects:  map[string]float64{"post exported": 1, "account exported": 1, "account missing": 1},
	}, {
		name:     "hidden subscriber count",
		creators: []string{creator("alice", []string{vid("one")}, alice, ""), creator("bob", nil, bob, "")},
		missing:  []string{"missing account spring/bob/" + bob},
		reason:   `youtube: channel "UCbob000000000000000000000" (campaigns[0].creators[1].accounts[0]): its owner hides the subscriber count`,
		objects:  map[string]float64{"post exported": 1, "account exported": 1, "account missing": 1},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, key)
			sb.fake.AddAccount(youtubefake.Account{ID: alice, Title: "Alice", Followers: 123456})
			sb.fake.AddAccount(youtubefake.Account{ID: bob, Title: "Bob", Followers: 999, HiddenFollowers: true})
			sb.fake.AddPost(post(vid("one"), alice, "One", time.Hour))
			sb.fake.AddPost(post(vid("two"), alice, "Two", time.Hour))
			env := sb.build(t, "{}", campaign(tt.creators...))
			cache := exporter.NewCache()
			env.RefreshWithin(t, cache, "youtube", sb.cut, -1)
			if tt.before != nil {
				tt.before(sb.fake)
			}
			sb.clock.Advance(time.Minute)

			samples, err := env.Poll(t, "youtube")
			exportertest.AssertObjectKeys(t, err, tt.missing...)
			var oe *exporter.ObjectError
			if !errors.As(err, &oe) || oe.Skipped || oe.Error() != strings.ReplaceAll(tt.reason, "UCbob000000000000000000000", bob) {
				t.Errorf("object error %v, want %q", oe, tt.reason)
			}
			if got := len(posts(samples, exporter.PostViews)); got != int(tt.objects["post exported"]) {
				t.Errorf("%d videos in the samples", got)
			}

			env.RefreshWithin(t, cache, "youtube", sb.cut, -1)
			gaps, _ := exportertest.GapKeys(t, cache, "youtube")
			if !reflect.DeepEqual(gaps, tt.missing) {
				t.Errorf("gaps %v, want %v", gaps, tt.missing)
			}
			exportertest.AssertObjects(t, cache, "youtube", tt.objects)
		})
	}
}

// TestResumeWhenOutOfTime: refreshes whose time runs out after two of
// their three videos.list calls export the 100 videos they read, keep
// the last values of the other 20 (skipped), and read those first next
// time, so every video's value advances over two such refreshes. The
// calls go one at a time, so the cut falls on the same one on every run.
func TestResumeWhenOutOfTime(t *testing.T) {
	sb := newSandbox(t, key)
	ids := make([]string, 120)
	byID := map[string]youtubefake.Post{}
	for i := range ids {
		ids[i] = vid(fmt.Sprintf("r%d", i))
		p := post(ids[i], channel("alice"), "Video", time.Hour+time.Duration(i)*time.Minute)
		byID[ids[i]] = p
		sb.fake.AddPost(p)
	}
	env := sb.buildSequential(t, "{}", campaign(creator("alice", ids, "", "")))
	before := env.CheckPostResume(t, exportertest.PostResume{
		Collector: "youtube", Cut: sb.cut, Clock: sb.clock, IDs: ids,
		Calls: 2, Skipped: 20,
		Views: func(id string) float64 {
			p := byID[id]
			return float64(p.Views.At(sb.clock.Now().Sub(p.Published)))
		},
	})
	// Each call cut short costs no unit the collector counts: 3, then 2
	// and 2.
	if got := env.Quota("youtube"); got != youtube.DefaultDailyQuota-7 {
		t.Errorf("quota remaining %g, want %d", got, youtube.DefaultDailyQuota-7)
	}

	sb.clock.Advance(time.Minute)
	_, err := env.PollWithin(t, "youtube", sb.cut, 2)
	exportertest.AssertSkippedPost(t, err, before)
}

// TestAccountRefreshResumes: an account refresh cut short after the
// first channel's uploads keeps that channel's new subscriber count,
// skips the other two (last values kept) and the videos, and the next
// refresh reads only the channels it left. The calls go one at a time,
// so the cut falls on the same one on every run.
func TestAccountRefreshResumes(t *testing.T) {
	sb := newSandbox(t, key)
	names := []string{"alice", "bob", "carol"}
	var creators []string
	for i, n := range names {
		sb.fake.AddAccount(youtubefake.Account{ID: channel(n), Title: n, Followers: int64(100000 * (i + 1))})
		sb.fake.AddPost(post(vid(n), channel(n), "Haul #spring", time.Hour))
		creators = append(creators, creator(n, nil, channel(n), "#spring"))
	}
	env := sb.buildSequential(t, "{}", campaign(creators...))
	cache := exporter.NewCache()
	env.RefreshWithin(t, cache, "youtube", sb.cut, -1)
	followers := func() map[string]float64 {
		return exportertest.CachedValues(t, cache, exporter.AccountFollowers, "creator")
	}
	if got := followers(); len(got) != 3 {
		t.Fatalf("followers %v", got)
	}
	for i, n := range names {
		sb.fake.AddAccount(youtubefake.Account{ID: channel(n), Title: n, Followers: int64(200000 * (i + 1))})
	}

	// 5 minutes on, an account refresh: channels.list, then alice's
	// uploads; time is up on bob's.
	sb.clock.Advance(5 * time.Minute)
	env.RefreshWithin(t, cache, "youtube", sb.cut, 2)
	gaps, _ := exportertest.GapKeys(t, cache, "youtube")
	want := []string{
		"skipped account spring/bob/" + channel("bob"), "skipped account spring/carol/" + channel("carol"),
		"skipped post spring/alice/" + vid("alice"), "skipped post spring/bob/" + vid("bob"), "skipped post spring/carol/" + vid("carol"),
	}
	if !reflect.DeepEqual(gaps, want) {
		t.Errorf("gaps %v, want %v", gaps, want)
	}
	if got, want := followers(), map[string]float64{"alice": 200000, "bob": 200000, "carol": 300000}; !reflect.DeepEqual(got, want) {
		t.Errorf("followers %v, want %v", got, want)
	}

	// A minute later the account refresh goes on with bob and carol.
	sb.clock.Advance(time.Minute)
	env.RefreshWithin(t, cache, "youtube", sb.cut, -1)
	if gaps, _ := exportertest.GapKeys(t, cache, "youtube"); len(gaps) != 0 {
		t.Errorf("gaps %v", gaps)
	}
	if got, want := followers(), map[string]float64{"alice": 200000, "bob": 400000, "carol": 600000}; !reflect.DeepEqual(got, want) {
		t.Errorf("followers %v, want %v", got, want)
	}
	// channels.list three times (all three twice, then bob and carol),
	// each uploads playlist twice (bob's cut short never reached YouTube).
	if got := sb.fake.Calls("channels"); got != 3 {
		t.Errorf("channels.list calls = %d, want 3", got)
	}
	if got := sb.fake.Calls("playlistItems"); got != 3+1+2 {
		t.Errorf("playlistItems calls = %d, want 6", got)
	}
}

// TestAccountRefreshConcurrently: an account refresh cut short with its
// calls eight at a time (the default max_concurrent_requests) still
// accounts for every channel: read with its new subscriber count, or
// skipped with its last one; and the next refresh reads the rest.
func TestAccountRefreshConcurrently(t *testing.T) {
	sb := newSandbox(t, key)
	const n = 30
	var (
		names    []string
		creators []string
	)
	for i := range n {
		name := fmt.Sprintf("ch%02d", i)
		names = append(names, name)
		sb.fake.AddAccount(youtubefake.Account{ID: channel(name), Title: name, Followers: int64(1000 * (i + 1))})
		sb.fake.AddPost(post(vid(name), channel(name), "Haul #spring", time.Hour))
		creators = append(creators, creator(name, nil, channel(name), "#spring"))
	}
	env := sb.build(t, "{}", campaign(creators...))
	cache := exporter.NewCache()
	env.RefreshWithin(t, cache, "youtube", sb.cut, -1)
	followers := func() map[string]float64 {
		return exportertest.CachedValues(t, cache, exporter.AccountFollowers, "creator")
	}
	if got := followers(); len(got) != n {
		t.Fatalf("followers %v", got)
	}
	for i, name := range names {
		sb.fake.AddAccount(youtubefake.Account{ID: channel(name), Title: name, Followers: int64(2000 * (i + 1))})
	}

	// An account refresh whose time runs out after channels.list and 10
	// uploads listings.
	sb.clock.Advance(5 * time.Minute)
	env.RefreshWithin(t, cache, "youtube", sb.cut, 1+10)
	gaps, _ := exportertest.GapKeys(t, cache, "youtube")
	skipped := map[string]bool{}
	for _, g := range gaps {
		if name, ok := strings.CutPrefix(g, "skipped account spring/"); ok {
			skipped[strings.SplitN(name, "/", 2)[0]] = true
		}
	}
	if len(skipped) == 0 || len(skipped) == n {
		t.Errorf("%d channels skipped, want some read and some not", len(skipped))
	}
	got := followers()
	for i, name := range names {
		want := float64(2000 * (i + 1))
		if skipped[name] {
			want = float64(1000 * (i + 1))
		}
		if got[name] != want {
			t.Errorf("%s: followers %g, want %g (skipped: %t)", name, got[name], want, skipped[name])
		}
	}

	// The next refresh reads the channels left.
	sb.clock.Advance(time.Minute)
	env.RefreshWithin(t, cache, "youtube", sb.cut, -1)
	if gaps, _ := exportertest.GapKeys(t, cache, "youtube"); len(gaps) != 0 {
		t.Errorf("gaps %v", gaps)
	}
	got = followers()
	for i, name := range names {
		if want := float64(2000 * (i + 1)); got[name] != want {
			t.Errorf("%s: followers %g, want %g", name, got[name], want)
		}
	}
}

func TestPlan(t *testing.T) {
	sb := newSandbox(t, key)
	env := sb.build(t, "{}", campaign(
		creator("alice", []string{vid("a"), vid("b"), vid("c")}, channel("alice"), "#spring"),
		creator("bob", nil, channel("bob"), "")))
	// 1 videos.list, 1 channels.list, 1 uploads page; a day at 1m:
	// 1,440 videos.list, 288 × 2 account calls.
	env.AssertPlan(t, "youtube", 3, "3 quota units per full refresh", "at most 2016 units a day")
}

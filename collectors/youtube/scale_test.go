package youtube_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/youtube"
	"github.com/influencer-exporter/influencer_exporter/collectors/youtube/youtubefake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/agency"
)

// TestCallsAtAgencyScale measures the calls of a refresh at agency scale:
// a quarter of the 40,000 posts are on YouTube, one video by each of the
// 10,000 creators, found by the match of the creator's channel (one
// channel a creator), all older than two days, so that the default
// post_refresh polls each every 15 minutes; the second refresh comes 15
// minutes after the first, when every video and, account_refresh (5
// minutes) past, every channel is read again.
//
// YouTube's batch limits: videos.list and channels.list take 50 ids a
// call, playlistItems.list one playlist, 50 items a page. A refresh needs
// ceil(10,000/50) = 200 channels.list (subscribers and the uploads
// playlist), 10,000 playlistItems.list (one uploads page per channel with
// a match) and 200 videos.list: 10,400 calls and as many quota units,
// where one call per object would be 20,000. That is more than a Google
// Cloud project's default daily quota (10,000 units): at this scale the
// project needs a quota increase, or channels configured without a match
// (their videos as posts), which cost 400 units a refresh; account_refresh
// spaces the uploads pages out.
//
// The calls of each kind go max_concurrent_requests (8 by default) at a
// time, so the collector holds at most 8 connections; the calls and their
// count are those of making them one after another.
//
// At full size the test takes about 38 seconds under the race detector,
// so there it runs at a tenth of it.
func TestCallsAtAgencyScale(t *testing.T) {
	creators := agency.SlowSize(agency.Creators)
	srv, env, clock := agencyScale(t, creators, "1m", 0)

	want := agency.Calls{
		"/youtube/v3/channels":      agency.CeilDiv(creators, 50),
		"/youtube/v3/playlistItems": creators,
		"/youtube/v3/videos":        agency.CeilDiv(creators, 50),
	}
	// Per video: views, likes, comments, published; per channel:
	// followers.
	series := 4*creators + creators
	for _, refresh := range []string{"first refresh", "next refresh"} {
		srv.Refresh(t, refresh, series, func() (int, error) {
			samples, err := env.Poll(t, "youtube")
			return len(samples), err
		}, want)
		clock.Advance(15 * time.Minute)
	}
	srv.CheckConns(t, exporter.DefaultHTTP.MaxConcurrentRequests)
}

// BenchmarkColdStart measures the time from startup to the first
// complete snapshot of the agency's creators' channels on YouTube, one
// each with a match, with the default max_concurrent_requests (8) and
// interval (5 minutes, which bounds a refresh), every answer 50 ms late:
// 200 channels.list, 10,000 uploads pages and 200 videos.list, each kind
// eight at a time. The client's rate limit and retry waits are lifted, as
// in TestCallsAtAgencyScale, and daily_quota is raised: 10,400 units are
// more than a Google Cloud project's default quota. It runs at a tenth of
// the agency unless -agency.full is given.
func BenchmarkColdStart(b *testing.B) {
	creators := agency.BenchSize(agency.Creators)
	b.Run(fmt.Sprintf("channels=%d", creators), func(b *testing.B) {
		agency.RunColdStart(b, func(b *testing.B) (*agency.Server, *exportertest.Env) {
			srv, env, _ := agencyScale(b, creators, "5m", agency.Latency)
			return srv, env
		})
	})
}

// TestColdStart runs the cold start BenchmarkColdStart measures at a
// hundredth of the agency, answers 1 ms late: the scheduler stores a
// complete first snapshot, read over at most max_concurrent_requests
// connections.
func TestColdStart(t *testing.T) {
	srv, env, _ := agencyScale(t, agency.Creators/100, "5m", time.Millisecond)
	agency.ColdStart(t, env)
	srv.CheckConns(t, exporter.DefaultHTTP.MaxConcurrentRequests)
}

// agencyScale serves a fake YouTube of the given number of creators'
// channels, each with one video older than two days, each answer delay
// late, and builds a youtube collector finding them by the match of each
// creator's channel, with the interval given, on the returned clock.
func agencyScale(tb testing.TB, creators int, interval string, delay time.Duration) (*agency.Server, *exportertest.Env, *exportertest.ManualClock) {
	tb.Helper()
	clock := exportertest.NewManualClock(start)
	fake := youtubefake.New(key, clock.Now)
	fake.SetDailyQuota(1 << 30)
	for i := range creators {
		ch := channel(fmt.Sprintf("c%05d", i))
		fake.AddAccount(youtubefake.Account{ID: ch, Title: agency.CreatorName(i), Followers: 12345})
		fake.AddPost(post(vid(fmt.Sprintf("v%05d", i)), ch, "new drop #agency", 72*time.Hour))
	}
	srv := agency.Serve(tb, agency.Slow(fake, delay), nil)
	cfg := agency.Config{Type: "youtube", BaseURL: srv.URL + "/youtube/v3", Token: key, Options: "{daily_quota: 1000000}", Interval: interval,
		Campaign: "    start: 2025-02-19T12:00:00Z\n    end: 2025-04-01T00:00:00Z\n",
		Creators: creators, Creator: func(b *strings.Builder, i int) {
			fmt.Fprintf(b, "        accounts:\n          - {collector: youtube, id: %s, match: \"#agency\"}\n", channel(fmt.Sprintf("c%05d", i)))
		}}
	env := srv.Build(tb, cfg.YAML())
	for _, in := range env.Instances {
		youtube.SetClock(in.Collector, clock.Now)
	}
	return srv, env, clock
}

package sandbox

import (
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/instagram/instagramfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/tiktok/tiktokfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/youtube/youtubefake"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// Social accounts and posts of the sandbox campaign, published relative to
// the sandbox start. The stories to see on the dashboards (story_test.go
// checks their arithmetic):
//   - alice's reel takes off in its first hours (saves and shares climb
//     fast), and her link and code sell: attention with action;
//   - dev's reel is watched a lot, but his link barely gets clicks:
//     attention without action;
//   - the early curve: four spring-launch posts (two of alice's, bruno's,
//     and dev's second) were published 2h58m20s to 2h59m before the
//     start, so the first poll sees each before it is 3h old, and they
//     reach 3h within the first two minutes, polled every minute. bruno's
//     stalled within half an hour of publishing: 26 saves and shares at
//     3h, against 419, 885 and 1519 for the others, whose lower quartile
//     is 321 (InfluencerPostStalledEarly fires about 7 minutes after the
//     start). dev's reel reaches 3h 2h20m after the start and alice's
//     2h40m after it; from then on six posts share the quartile, which
//     lies between the second and the third lowest, so dev's second post
//     falls under it too. gia's post reaches 1h 2 minutes after the start,
//     emma's video 10 and dev's reel 20; hana's video is 3h old at the
//     start, too old for its 1h and 3h values (missed);
//   - bruno's followers grow 12 an hour, then 540 more (4%) arrive
//     between about 36 and 44 minutes after the start: bought followers.
//     InfluencerFollowerSpike compares the last hour's gain with the
//     account's growth before that hour, which exists from an hour after
//     the start; the jump stays in the last hour until about 1h38m, so the
//     alert fires from about 1h16m (its 15m) until then. A jump in the
//     first quarter of an hour could never fire it. The other accounts
//     grow under 1% an hour;
//   - gia's post reached its audience before the start (reach gains 10 in
//     the first 30 minutes), but likes keep arriving: about 1600 more in
//     those 30 minutes (InfluencerEngagementWithoutReach fires about 32
//     minutes after the start). Its 40% to 60% engagements per view are
//     over 3 times the median creator's of summer-drop, farid's 11% (emma
//     has 7%): InfluencerEngagementRateOutlier, direction high, fires
//     after 1h.
//
// alice's posts are found by her #springlaunch hashtag, and gia's by
// #summerdrop; a post of alice's without it, and one published before the
// campaign, stay out.

// Ids shaped as each platform shapes them (the collectors check them).
const (
	aliceIG = "17841400000000001"
	brunoIG = "17841400000000002"
	devIG   = "17841400000000004"
	giaIG   = "17841400000000007"
	faridTT = "farid.moves"
	hanaYT  = "UChana0000000000000000bt"
	emmaYT  = "UCemma0000000000000000sm"
)

func curve(final float64, midpoint, spread time.Duration) fakeapi.Curve {
	return fakeapi.Curve{Final: final, Midpoint: midpoint, Spread: spread}
}

const h, m = time.Hour, time.Minute

// earlyCurveAge is the age the early-curve stories above are told at, and
// the one InfluencerPostStalledEarly reads.
const earlyCurveAge = 3 * h

func init() {
	register("instagram", func(seed Seed) (Fake, error) {
		f := instagramfake.New(InstagramToken, nil)
		seedInstagram(f, seed.Start)
		return Fake{Handler: f, Faults: &f.Faults}, nil
	})
	register("tiktok", func(seed Seed) (Fake, error) {
		f := tiktokfake.New(TikTokToken, nil)
		seedTikTok(f, seed.Start)
		return Fake{Handler: f, Faults: &f.Faults}, nil
	})
	register("youtube", func(seed Seed) (Fake, error) {
		f := youtubefake.New(YouTubeKey, nil)
		seedYouTube(f, seed.Start)
		return Fake{Handler: f, Faults: &f.Faults}, nil
	})
}

// instagramAccounts are the sandbox's Instagram accounts. Their followers
// grow from the sandbox start, by under 1% an hour, except bruno's jump.
var instagramAccounts = []instagramfake.Account{
	{ID: aliceIG, Username: "alice.makes", Followers: 48200, FollowersPerHour: 40},
	{ID: brunoIG, Username: "bruno.trains", Followers: 12900, FollowersPerHour: 12,
		NewFollowers: curve(540, 40*m, 90*time.Second)}, // bought: 4% in about 8 minutes
	{ID: devIG, Username: "dev.eats", Followers: 210500, FollowersPerHour: 120},
	{ID: giaIG, Username: "gia.shores", Followers: 23800, FollowersPerHour: 8},
}

// instagramPosts are the sandbox's Instagram posts for a sandbox started
// at start.
func instagramPosts(start time.Time) []instagramfake.Post {
	return []instagramfake.Post{
		{ // takes off
			ID: "17900000000000011", Account: aliceIG, Caption: "Unboxing the spring kit #springlaunch #ad",
			Published: start.Add(-20 * m), MediaType: "VIDEO", Product: "REELS",
			Views: curve(180000, 3*h, 50*m), Reach: curve(120000, 3*h, 50*m), Likes: curve(14000, 3*h, 50*m),
			Comments: curve(900, 3*h, h), Saves: curve(6200, 2*h, 40*m), Shares: curve(3100, 2*h, 40*m),
		},
		{ // no hashtag: not a campaign post
			ID: "17900000000000012", Account: aliceIG, Caption: "Morning coffee",
			Published: start.Add(-10 * m), Views: curve(9000, h, 30*m), Reach: curve(7000, h, 30*m), Likes: curve(600, h, 30*m),
		},
		{ // before the campaign window
			ID: "17900000000000013", Account: aliceIG, Caption: "Last year's #springlaunch",
			Published: time.Date(2025, 4, 1, 10, 0, 0, 0, time.UTC), Views: curve(50000, h, h), Reach: curve(40000, h, h),
		},
		{ // early curve: 1519 saves and shares at 3h
			ID: "17900000000000014", Account: aliceIG, Caption: "The spring kit, laid out #springlaunch",
			Published: start.Add(-(2*h + 59*m)), MediaType: "CAROUSEL_ALBUM",
			Views: curve(64000, 55*m, 20*m), Reach: curve(47000, 55*m, 20*m), Likes: curve(5200, 55*m, 20*m),
			Comments: curve(260, 60*m, 25*m), Saves: curve(1100, 50*m, 18*m), Shares: curve(420, 50*m, 18*m),
		},
		{ // early curve: 885 saves and shares at 3h
			ID: "17900000000000015", Account: aliceIG, Caption: "Spring kit, three ways #springlaunch",
			Published: start.Add(-(2*h + 58*m + 40*time.Second)), MediaType: "VIDEO", Product: "REELS",
			Views: curve(41000, 70*m, 25*m), Reach: curve(30000, 70*m, 25*m), Likes: curve(3300, 70*m, 25*m),
			Comments: curve(150, 70*m, 25*m), Saves: curve(640, 65*m, 22*m), Shares: curve(250, 65*m, 22*m),
		},
		{ // stalls early: 26 saves and shares at 3h
			ID: "17900000000000021", Account: brunoIG, Caption: "Leg day with the spring kit",
			Published: start.Add(-(2*h + 58*m + 20*time.Second)), Views: curve(4200, 15*m, 8*m), Reach: curve(3600, 15*m, 8*m), Likes: curve(310, 15*m, 8*m),
			Comments: curve(12, 15*m, 8*m), Saves: curve(20, 15*m, 8*m), Shares: curve(6, 15*m, 8*m),
		},
		{ // attention without action
			ID: "17900000000000041", Account: devIG, Caption: "Five-minute dinner",
			Published: start.Add(-40 * m), MediaType: "VIDEO", Product: "REELS",
			Views: curve(650000, 90*m, 30*m), Reach: curve(480000, 90*m, 30*m), Likes: curve(41000, 90*m, 30*m),
			Comments: curve(2300, 90*m, 30*m), Saves: curve(900, 2*h, h), Shares: curve(1500, 2*h, h),
		},
		{ // early curve: 419 saves and shares at 3h
			ID: "17900000000000042", Account: devIG, Caption: "Spring kit picnic", Published: start.Add(-(2*h + 58*m + 50*time.Second)),
			Views: curve(52000, h, 20*m), Reach: curve(39000, h, 20*m), Likes: curve(2400, h, 20*m),
			Comments: curve(90, h, 20*m), Saves: curve(260, h, 20*m), Shares: curve(160, h, 20*m),
		},
		{ // engagement without reach: likes keep coming after the audience
			ID: "17900000000000071", Account: giaIG, Caption: "Beach day, beach bag #summerdrop", Published: start.Add(-58 * m),
			Views: curve(9000, 18*m, 6*m), Reach: curve(7400, 18*m, 6*m), Likes: curve(5200, 50*m, 12*m),
			Comments: curve(140, 20*m, 8*m), Saves: curve(70, 20*m, 8*m), Shares: curve(30, 20*m, 8*m),
		},
	}
}

func seedInstagram(ig *instagramfake.Server, start time.Time) {
	for _, a := range instagramAccounts {
		ig.AddAccount(a)
	}
	for _, p := range instagramPosts(start) {
		ig.AddPost(p)
	}
}

// tiktokPosts are the sandbox's TikTok videos for a sandbox started at
// start.
func tiktokPosts(start time.Time) []tiktokfake.Post {
	return []tiktokfake.Post{{
		ID: "7400000000000000001", Account: faridTT, Title: "Beach bag haul #summerdrop",
		Published: start.Add(-30 * m), Views: curve(320000, 2*h, 40*m), Likes: curve(29000, 2*h, 40*m),
		Comments: curve(800, 2*h, 40*m), Shares: curve(5200, 2*h, 40*m),
	}}
}

// farid's followers follow his video's take-off: a genuine climb, at most
// about 1000 an hour, and never five times his growth before.
var faridAccount = tiktokfake.Account{ID: faridTT, Username: "farid.moves", DisplayName: "Farid", Followers: 87000, NewFollowers: curve(4000, 3*h, h)}

func seedTikTok(tt *tiktokfake.Server, start time.Time) {
	tt.AddAccount(faridAccount)
	for _, p := range tiktokPosts(start) {
		tt.AddPost(p)
	}
}

// youtubePosts are the sandbox's YouTube videos for a sandbox started at
// start.
func youtubePosts(start time.Time) []youtubefake.Post {
	return []youtubefake.Post{
		{ // 3h old at the start: the exporter first sees it too late for its 1h and 3h values (missed)
			ID: "hanaBTS0001", Account: hanaYT, Title: "What's in my backpack", Description: "Back to school picks, code HANA5",
			Published: start.Add(-3 * h), Views: curve(24000, 4*h, 2*h), Likes: curve(1800, 4*h, 2*h), Comments: curve(140, 4*h, 2*h),
		},
		{
			ID: "emmaSUM0001", Account: emmaYT, Title: "Summer hike essentials", Description: "Wearing the sun cap #summerdrop",
			Published: start.Add(-50 * m), Views: curve(88000, 3*h, h), Likes: curve(6100, 3*h, h), Comments: curve(420, 3*h, h),
		},
	}
}

func seedYouTube(yt *youtubefake.Server, start time.Time) {
	yt.AddAccount(youtubefake.Account{ID: hanaYT, Title: "Hana Studies", Followers: 31400})
	yt.AddAccount(youtubefake.Account{ID: emmaYT, Title: "Emma Outdoors", Followers: 152000})
	for _, p := range youtubePosts(start) {
		yt.AddPost(p)
	}
}

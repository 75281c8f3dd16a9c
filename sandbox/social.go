package sandbox

import (
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/instagram/instagramfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/tiktok/tiktokfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/youtube/youtubefake"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// Social accounts and posts of the sandbox campaign, published relative to
// the sandbox start. Three stories to see on the dashboards:
//   - alice's reel takes off in its first hours (saves and shares climb
//     fast), and her link and code sell: attention with action;
//   - bruno's post stalls within half an hour;
//   - dev's reel is watched a lot, but his link barely gets clicks:
//     attention without action.
//
// alice's posts are found by her #springlaunch hashtag; a post of hers
// without it, and one published before the campaign, stay out.

// Ids shaped as each platform shapes them (the collectors check them).
const (
	aliceIG = "17841400000000001"
	brunoIG = "17841400000000002"
	devIG   = "17841400000000004"
	faridTT = "farid.moves"
	hanaYT  = "UChana0000000000000000bt"
	emmaYT  = "UCemma0000000000000000sm"
)

func curve(final float64, midpoint, spread time.Duration) fakeapi.Curve {
	return fakeapi.Curve{Final: final, Midpoint: midpoint, Spread: spread}
}

const h, m = time.Hour, time.Minute

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

func seedInstagram(ig *instagramfake.Server, start time.Time) {
	ig.AddAccount(instagramfake.Account{ID: aliceIG, Username: "alice.makes", Followers: 48200})
	ig.AddAccount(instagramfake.Account{ID: brunoIG, Username: "bruno.trains", Followers: 12900})
	ig.AddAccount(instagramfake.Account{ID: devIG, Username: "dev.eats", Followers: 210500})
	ig.AddPost(instagramfake.Post{ // takes off
		ID: "17900000000000011", Account: aliceIG, Caption: "Unboxing the spring kit #springlaunch #ad",
		Published: start.Add(-20 * m), MediaType: "VIDEO", Product: "REELS",
		Views: curve(180000, 3*h, 50*m), Reach: curve(120000, 3*h, 50*m), Likes: curve(14000, 3*h, 50*m),
		Comments: curve(900, 3*h, h), Saves: curve(6200, 2*h, 40*m), Shares: curve(3100, 2*h, 40*m),
	})
	ig.AddPost(instagramfake.Post{ // no hashtag: not a campaign post
		ID: "17900000000000012", Account: aliceIG, Caption: "Morning coffee",
		Published: start.Add(-10 * m), Views: curve(9000, h, 30*m), Reach: curve(7000, h, 30*m), Likes: curve(600, h, 30*m),
	})
	ig.AddPost(instagramfake.Post{ // before the campaign window
		ID: "17900000000000013", Account: aliceIG, Caption: "Last year's #springlaunch",
		Published: time.Date(2025, 4, 1, 10, 0, 0, 0, time.UTC), Views: curve(50000, h, h), Reach: curve(40000, h, h),
	})
	ig.AddPost(instagramfake.Post{ // stalls early
		ID: "17900000000000021", Account: brunoIG, Caption: "Leg day with the spring kit",
		Published: start.Add(-2 * h), Views: curve(4200, 15*m, 8*m), Reach: curve(3600, 15*m, 8*m), Likes: curve(310, 15*m, 8*m),
		Comments: curve(12, 15*m, 8*m), Saves: curve(20, 15*m, 8*m), Shares: curve(6, 15*m, 8*m),
	})
	ig.AddPost(instagramfake.Post{ // attention without action
		ID: "17900000000000041", Account: devIG, Caption: "Five-minute dinner",
		Published: start.Add(-40 * m), MediaType: "VIDEO", Product: "REELS",
		Views: curve(650000, 90*m, 30*m), Reach: curve(480000, 90*m, 30*m), Likes: curve(41000, 90*m, 30*m),
		Comments: curve(2300, 90*m, 30*m), Saves: curve(900, 2*h, h), Shares: curve(1500, 2*h, h),
	})

}

func seedTikTok(tt *tiktokfake.Server, start time.Time) {
	tt.AddAccount(tiktokfake.Account{ID: faridTT, Username: "farid.moves", DisplayName: "Farid", Followers: 87000, NewFollowers: curve(4000, 3*h, h)})
	tt.AddPost(tiktokfake.Post{
		ID: "7400000000000000001", Account: faridTT, Title: "Beach bag haul #summerdrop",
		Published: start.Add(-30 * m), Views: curve(320000, 2*h, 40*m), Likes: curve(29000, 2*h, 40*m),
		Comments: curve(800, 2*h, 40*m), Shares: curve(5200, 2*h, 40*m),
	})

}

func seedYouTube(yt *youtubefake.Server, start time.Time) {
	yt.AddAccount(youtubefake.Account{ID: hanaYT, Title: "Hana Studies", Followers: 31400})
	yt.AddAccount(youtubefake.Account{ID: emmaYT, Title: "Emma Outdoors", Followers: 152000})
	yt.AddPost(youtubefake.Post{
		ID: "hanaBTS0001", Account: hanaYT, Title: "What's in my backpack", Description: "Back to school picks, code HANA5",
		Published: start.Add(-3 * h), Views: curve(24000, 4*h, 2*h), Likes: curve(1800, 4*h, 2*h), Comments: curve(140, 4*h, 2*h),
	})
	yt.AddPost(youtubefake.Post{
		ID: "emmaSUM0001", Account: emmaYT, Title: "Summer hike essentials", Description: "Wearing the sun cap #summerdrop",
		Published: start.Add(-50 * m), Views: curve(88000, 3*h, h), Likes: curve(6100, 3*h, h), Comments: curve(420, 3*h, h),
	})
}

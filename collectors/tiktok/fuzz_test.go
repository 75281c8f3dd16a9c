package tiktok

import (
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/tiktok/tiktokfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
	"github.com/influencer-exporter/influencer_exporter/internal/fuzzci"
)

// FuzzPoll answers one TikTok call of a refresh (user info, the video
// listing, a video query) with the fuzz input: see fuzzci.FuzzPoll.
func FuzzPoll(f *testing.F) {
	clock := exportertest.NewManualClock(now)
	fake := tiktokfake.New(token, clock.Now)
	fake.AddAccount(tiktokfake.Account{ID: openID, Username: "alice.makes", Followers: 12000,
		NewFollowers: fakeapi.Curve{Final: 3000, Midpoint: 2 * time.Hour, Spread: 30 * time.Minute}})
	for _, p := range []tiktokfake.Post{
		post("7101", 2*time.Hour, "unboxing", "no tag here", 40000),
		post("7102", time.Hour, "", "#spring haul, link in bio", 9000),
		post("7104", 20*24*time.Hour, "", "#spring last year", 800000),
		post("7105", 30*time.Minute, "#Spring! part 2", "", 1200),
	} {
		fake.AddPost(p)
	}
	sb := &sandbox{fake: fake, clock: clock}
	fuzzci.FuzzPoll(f, fuzzci.Provider{
		Collector: "tiktok",
		Fake:      fake,
		Config: func(url string) string {
			sb.url = url
			// 7104 is older than the listing reaches: it costs a query.
			return sb.config(tokenLine(token), `{}`, alice("#spring", "7101", "7104", "7199"), "")
		},
		Prepare: func(c exporter.Collector) { c.(*collector).now = clock.Now },
		Secrets: []string{token},
	})
}

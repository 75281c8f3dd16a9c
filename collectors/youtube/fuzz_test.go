package youtube_test

import (
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/youtube"
	"github.com/influencer-exporter/influencer_exporter/collectors/youtube/youtubefake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/internal/fuzzci"
)

// FuzzPoll answers one YouTube Data API call of a refresh (channels, a
// channel's uploads, videos) with the fuzz input: see fuzzci.FuzzPoll.
func FuzzPoll(f *testing.F) {
	clock := exportertest.NewManualClock(start)
	fake := youtubefake.New(key, clock.Now)
	alice, bob := channel("alice"), channel("bob")
	fake.AddAccount(youtubefake.Account{ID: alice, Title: "Alice", Followers: 123456})
	fake.AddAccount(youtubefake.Account{ID: bob, Title: "Bob", Followers: 9999, HiddenFollowers: true})
	fake.AddPost(post(vid("launch"), alice, "Launch day", 30*time.Hour))
	fake.AddPost(post(vid("tagged"), alice, "Unboxing #spring", 2*time.Hour))
	hidden := post(vid("hidden"), bob, "Quiet one", 50*time.Hour)
	hidden.HideLikes, hidden.CommentsDisabled = true, true
	fake.AddPost(hidden)
	sb := &sandbox{fake: fake, clock: clock}
	fuzzci.FuzzPoll(f, fuzzci.Provider{
		Collector: "youtube",
		Fake:      fake,
		Config: func(url string) string {
			sb.url = url
			return sb.config("{}", campaign(
				creator("alice", []string{vid("launch"), vid("deleted")}, alice, "#spring"),
				creator("bob", []string{vid("hidden")}, bob, ""),
			))
		},
		Prepare: func(c exporter.Collector) { youtube.SetClock(c, clock.Now) },
		Secrets: []string{key},
	})
}

package plausible_test

import (
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/plausible"
	"github.com/influencer-exporter/influencer_exporter/collectors/plausible/plausiblefake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/agency"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// TestCallsAtAgencyScale measures the calls of a refresh at agency scale:
// the referral visitors of 10,000 creators, one campaign on one site, each
// creator's visits coming from instagram, tiktok and youtube, and every
// seventh creator's from a newsletter too: 31,429 rows of (UTM value,
// source).
//
// Plausible's batch limits: one query groups by the UTM parameter and the
// source for every creator of a campaign (filtered to their values), and
// a page holds up to 10,000 rows (pagination limit). So a refresh takes
// ceil(rows/10,000) calls: 4, where one query per creator would be
// 10,000. A query reads the whole range from the campaign start, as
// unique visitors cannot be added up across refreshes, so every refresh
// costs the same. (When the rows are a multiple of 10,000 the listing
// ends with an empty page, one call more.) Plausible allows 600 calls an
// hour per key: at a 1 minute interval, 240.
func TestCallsAtAgencyScale(t *testing.T) {
	creators := agency.Size(agency.Creators)
	clock := exportertest.NewManualClock(fakeStart)
	fake := plausiblefake.New(token, clock.Now)
	rows, other := 0, 0
	for i := range creators {
		for _, src := range []string{"instagram", "tiktok", "youtube"} {
			fake.AddTraffic("utm_content", agency.CreatorName(i), src, fakeapi.Growth{Base: 10, PerMinute: 1})
			rows++
		}
		if i%7 == 0 {
			fake.AddTraffic("utm_content", agency.CreatorName(i), "newsletter", fakeapi.Growth{Base: 3, PerMinute: 0.5})
			rows++
			other++
		}
	}
	clock.Advance(2 * time.Hour)
	srv := agency.Serve(t, fake, nil)
	cfg := agency.Config{Type: "plausible", BaseURL: srv.URL, Token: token,
		Options:  "{site_id: " + plausiblefake.DefaultSiteID + ", sources: [instagram, tiktok, youtube]}",
		Campaign: "    start: 2025-03-01T12:00:00Z\n", Creators: creators}
	env := srv.Build(t, cfg.YAML())
	plausible.SetClock(env.Instance(t, "plausible").Collector, clock.Now)

	want := agency.Calls{"POST /api/v2/query": agency.CeilDiv(rows, 10000)}
	series := 3*creators + other
	for _, refresh := range []string{"first refresh", "next refresh"} {
		srv.Refresh(t, refresh, series, func() (int, error) {
			samples, err := env.Poll(t, "plausible")
			return len(samples), err
		}, want)
		clock.Advance(time.Minute)
	}
	srv.CheckConns(t, 1)
}

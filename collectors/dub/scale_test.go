package dub_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/dub/dubfake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/agency"
)

// TestCallsAtAgencyScale measures the calls of a refresh at agency scale:
// all 20,000 tracking links on Dub, two per creator, in a workspace that
// holds just them, every link with clicks.
//
// Dub's batch limits: GET /analytics?groupBy=top_links returns up to 5000
// links with their all-time clicks in one call (its row cap, unconfirmed);
// GET /links returns up to 100 links a page (pageSize maximum) with each
// link's lifetime clicks. So the minimum is 1 call for up to 5000 links,
// else ceil(L/100) pages: 200 for 20,000 links, where one call per link
// (GET /links/info) is 20,000. Analytics covering the top 5000 and a
// listing of the other 15,000 alone would be 151, but the listing can
// leave out the most clicked links only with offset pages sorted by
// clicks, which shift as clicks come in while the pages are read; Dub's
// cursor pages list by creation only. Every refresh reads every link:
// clicks change everywhere, and Dub has no "changed since" filter.
//
// At full size the two cases take about 30 seconds under the race
// detector, so there they run at a tenth of it (2,000 links, which the
// analytics call covers alone); go test without -race measures 20,000.
func TestCallsAtAgencyScale(t *testing.T) {
	links := agency.SlowSize(agency.Links)
	creators := agency.SlowSize(agency.Creators)
	perCreator := links / creators
	listing := agency.Calls{"GET /links": agency.CeilDiv(links, 100)}
	analytics := listing
	if links <= 5000 {
		analytics = agency.Calls{"GET /analytics": 1}
	}
	for _, tc := range []struct {
		options string
		want    agency.Calls
	}{
		{`{}`, analytics},
		// The listing alone, whatever the size.
		{`{analytics: false}`, listing},
	} {
		t.Run(tc.options, func(t *testing.T) {
			clock := exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
			fake := dubfake.New(token, clock.Now)
			fake.SetRateLimit(1 << 30)
			for i := range links {
				fake.AddLink(link(fmt.Sprintf("dub.sh/l%05d", i), int64(i+1), 0))
			}
			clock.Advance(10 * time.Minute)
			srv := agency.Serve(t, fake, nil)
			cfg := agency.Config{Type: "dub", BaseURL: srv.URL, Token: token, Options: tc.options,
				Creators: creators, Creator: agency.CreatorLinks("dub", "dub.sh/l%05d", perCreator)}
			env := srv.Build(t, cfg.YAML())
			for _, refresh := range []string{"first refresh", "next refresh"} {
				srv.Refresh(t, refresh, links, func() (int, error) {
					samples, err := env.Poll(t, "dub")
					return len(samples), err
				}, tc.want)
				clock.Advance(time.Minute)
			}
			srv.CheckConns(t, 1)
		})
	}
}

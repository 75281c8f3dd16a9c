package rebrandly

import (
	"fmt"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/rebrandly/rebrandlyfake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/agency"
)

// TestCallsAtAgencyScale measures the calls of a refresh at agency scale:
// all 20,000 tracking links on Rebrandly, two per creator, in a workspace
// that holds just them.
//
// Rebrandly's batch limits: GET /links lists 25 links a page (limit
// maximum, unconfirmed) with each link's clicks, and no call reads the
// clicks of chosen links together. The listing ends at a short page, so
// L links take floor(L/25)+1 pages a refresh: 801 for 20,000 (counting
// them first with GET /links/count would cost the same call), where GET
// /links/{id} per link is 20,000. Every refresh reads every link: the
// listing has no "changed since" filter. At Rebrandly's 10 requests a
// second, 801 calls take 80 seconds.
func TestCallsAtAgencyScale(t *testing.T) {
	links := agency.Size(agency.Links)
	creators := agency.Size(agency.Creators)
	perCreator := links / creators
	clock := exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	fake := rebrandlyfake.New(apiKey, clock.Now)
	for i := range links {
		fake.AddLink(link(fmt.Sprintf("rebrand.ly/l%05d", i), int64(i+1), 1))
	}
	srv := agency.Serve(t, fake, nil)
	cfg := agency.Config{Type: Provider, BaseURL: srv.URL + "/v1", Token: apiKey,
		Creators: creators, Creator: agency.CreatorLinks("rebrandly", "rebrand.ly/l%05d", perCreator)}
	env := srv.Build(t, cfg.YAML())
	want := agency.Calls{"GET /v1/links": links/25 + 1}
	for _, refresh := range []string{"first refresh", "next refresh"} {
		srv.Refresh(t, refresh, links, func() (int, error) {
			samples, err := env.Poll(t, Provider)
			return len(samples), err
		}, want)
		clock.Advance(time.Minute)
	}
	srv.CheckConns(t, 1)
}

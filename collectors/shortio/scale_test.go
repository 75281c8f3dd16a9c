package shortio

import (
	"fmt"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/shortio/shortiofake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/agency"
)

// TestCallsAtAgencyScale measures the calls of a refresh at agency scale:
// all 20,000 tracking links on one Short.io domain that holds just them,
// two per creator.
//
// Short.io's batch limits: GET /statistics/domain/{id}/link_clicks takes
// 150 ids (the fake's limit; Short.io documents none), GET /api/links
// lists 150 links a page (limit maximum). The clicks of L links take
// ceil(L/150) calls a refresh: 134 for 20,000, where a statistics call per
// link would be 20,000. The first refresh also needs every link's id,
// which the listing gives 150 at a time (134 pages) where GET
// /links/expand costs a call a link, and the domain's hostname (1 call,
// none with options.domain). Short.io allows about 10 statistics calls a
// minute: 134 take 13.4 minutes, so at this scale a refresh interval
// under 15 minutes runs out of time and goes on at the next refresh.
func TestCallsAtAgencyScale(t *testing.T) {
	links := agency.Size(agency.Links)
	creators := agency.Size(agency.Creators)
	perCreator := links / creators
	clock := exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	fake := shortiofake.New(token, clock.Now)
	for i := range links {
		fake.AddLink(link(fmt.Sprintf("l%05d", i), int64(i+1), 1))
	}
	srv := agency.Serve(t, fake, nil)
	domain := fake.DomainID("short.gy")
	cfg := agency.Config{Type: Provider, BaseURL: srv.URL, Token: token,
		Options:  fmt.Sprintf("{statistics_base_url: %s, domain_id: %d, statistics_requests_per_minute: 1000000}", srv.URL, domain),
		Creators: creators, Creator: agency.CreatorLinks("shortio", "short.gy/l%05d", perCreator)}
	env := srv.Build(t, cfg.YAML())

	stats := fmt.Sprintf("GET /statistics/domain/%d/link_clicks", domain)
	batches := agency.CeilDiv(links, 150)
	for _, step := range []struct {
		refresh string
		want    agency.Calls
	}{
		{"first refresh", agency.Calls{fmt.Sprintf("GET /domains/%d", domain): 1, "GET /api/links": batches, stats: batches}},
		{"next refresh", agency.Calls{stats: batches}},
	} {
		srv.Refresh(t, step.refresh, links, func() (int, error) {
			samples, err := env.Poll(t, Provider)
			return len(samples), err
		}, step.want)
		clock.Advance(time.Minute)
	}
	srv.CheckConns(t, 1)
}

package jsonapi

import (
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/jsonapi/jsonfake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/agency"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// TestCallsAtAgencyScale measures the calls of a refresh at agency scale:
// an affiliate network reporting the clicks, orders and revenue of 10,000
// partners, one per creator, in one campaign's stats listing.
//
// The json collector calls what its config says: here the campaign's
// listing, 100 partners a page (the network's per_page maximum), with the
// cursor in meta.next. So a refresh takes ceil(10,000/100) = 100 calls,
// the minimum the network's page size allows; a url with {creator} would
// take one call per creator, 10,000. The listing ends at a null cursor,
// so no empty page is read; page-number pagination ends at a short or
// empty page, one call more when the items fill the last page.
func TestCallsAtAgencyScale(t *testing.T) {
	creators := agency.Size(agency.Creators)
	clock := exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	fake := jsonfake.New(token, clock.Now)
	for i := range creators {
		name := agency.CreatorName(i)
		fake.AddPartner(jsonfake.Partner{Campaign: "agency", Handle: name, ShortURL: "aff.example/" + name, Coupon: "C" + name,
			Clicks: fakeapi.Growth{Base: 100, PerMinute: 1}, Orders: fakeapi.Growth{Base: 4}, RevenueCents: fakeapi.Growth{Base: 12345}})
	}
	srv := agency.Serve(t, fake, nil)
	clock.Advance(30 * time.Minute)
	cfg := agency.Config{Type: "json", BaseURL: srv.URL, Token: token,
		Options: `{provider: affnet, url: "/v2/affiliates/{campaign}/stats", query: {per_page: "100"}, auth: {type: bearer},
      pagination: {type: cursor, cursor_path: meta.next, param: cursor}, items: data, creator: {path: partner.handle},
      values: [{metric: influencer_link_clicks_total, path: stats.clicks, labels: {link: short_url}},
        {metric: influencer_code_redemptions_total, path: stats.orders, labels: {code: coupon}},
        {metric: influencer_code_revenue_total, path: stats.revenue, labels: {code: coupon, currency: "=EUR"}}]}`,
		Creators: creators}
	env := srv.Build(t, cfg.YAML())

	want := agency.Calls{"GET /v2/affiliates/{campaign}/stats": agency.CeilDiv(creators, 100)}
	for _, refresh := range []string{"first refresh", "next refresh"} {
		srv.Refresh(t, refresh, 3*creators, func() (int, error) {
			samples, err := env.Poll(t, "json")
			return len(samples), err
		}, want)
		clock.Advance(time.Minute)
	}
	srv.CheckConns(t, 1)
}

package ga4_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/ga4"
	"github.com/influencer-exporter/influencer_exporter/collectors/ga4/ga4fake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/agency"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// agencyGA4 serves a fake GA4 whose property has, for each of n creators
// of campaign agency (utm_content), visitors from instagram, tiktok,
// youtube and a newsletter: 4n rows. It returns the server, the config of
// one ga4 collector on it (http adds to the collector's http block) and
// the clock.
func agencyGA4(t *testing.T, n int, http string) (*agency.Server, string, *exportertest.ManualClock) {
	t.Helper()
	clock := exportertest.NewManualClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	fake := ga4fake.New(property, clock.Now)
	for i := range n {
		for _, src := range []string{"instagram", "tiktok", "youtube", "newsletter"} {
			fake.AddTraffic("utm_content", agency.CreatorName(i), src, fakeapi.Growth{Base: 10, PerMinute: 1})
		}
	}
	srv := agency.Serve(t, fake, nil)
	file := filepath.Join(t.TempDir(), "ga4-key.json")
	if err := os.WriteFile(file, fake.ServiceAccountJSON(""), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := agency.Config{Type: "ga4", BaseURL: srv.URL,
		Options:   `{property: "` + property + `", sources: [instagram, tiktok, youtube, newsletter]}`,
		Collector: "    token_file: " + file + "\n", HTTP: http,
		Campaign: "    start: 2026-03-01T00:00:00Z\n", Creators: n}
	return srv, cfg.YAML(), clock
}

// TestCallsAtAgencyScale measures the calls of a refresh at agency scale:
// the referral visitors of 10,000 creators, one campaign on one property,
// each creator's visits coming from four sources: 40,000 rows.
//
// GA4's batch limits: one runReport groups by the UTM dimension and
// sessionSource for every creator of a campaign (an inListFilter of
// their values), and returns up to 250,000 rows (limit; 10,000 unless
// asked). So a refresh takes 1 report call, where one report per creator
// would be 10,000, and GA4's default limit 4. The collector's pages are
// as many rows as fit max_response_bytes (52,000 with the default); the
// first refresh also gets an access token (POST to the token_uri), which
// lasts an hour. Every refresh reads the whole range from the campaign
// start: unique visitors do not add up across refreshes.
func TestCallsAtAgencyScale(t *testing.T) {
	creators := agency.Size(agency.Creators)
	srv, cfg, clock := agencyGA4(t, creators, "")
	env := srv.Build(t, cfg)
	ga4.SetClock(env.Instance(t, "ga4").Collector, clock.Now)

	report := "POST /v1beta/properties/{call}"
	for _, step := range []struct {
		refresh string
		want    agency.Calls
	}{
		{"first refresh", agency.Calls{"POST /token": 1, report: agency.CeilDiv(4*creators, 52000)}},
		{"next refresh", agency.Calls{report: agency.CeilDiv(4*creators, 52000)}},
	} {
		srv.Refresh(t, step.refresh, 4*creators, func() (int, error) {
			samples, err := env.Poll(t, "ga4")
			return len(samples), err
		}, step.want)
		clock.Advance(time.Minute)
	}
	srv.CheckConns(t, 1)
}

// TestReportPages: a report pages on with offset, as many rows a page as
// fit max_response_bytes at 200 bytes a row.
func TestReportPages(t *testing.T) {
	// 400,000 bytes: pages of 2,000 rows; 1,100 creators are 4,400 rows.
	srv, cfg, clock := agencyGA4(t, 1100, ", max_response_bytes: 400000")
	env := exportertest.Build(t, cfg)
	ga4.SetClock(env.Instance(t, "ga4").Collector, clock.Now)
	srv.Refresh(t, "refresh", 4*1100, func() (int, error) {
		samples, err := env.Poll(t, "ga4")
		return len(samples), err
	}, agency.Calls{"POST /token": 1, "POST /v1beta/properties/{call}": 3})
}

package plausible_test

import (
	"testing"

	"github.com/influencer-exporter/influencer_exporter/collectors/plausible/plausiblefake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

func TestCheckOnline(t *testing.T) {
	tests := []struct {
		name       string
		fakeToken  string
		site       string // the site the fake knows
		noStatsAPI bool
		// want
		authenticated bool
		account       string
		errIs         error
		errContains   []string // empty: the check passes
	}{
		{
			name: "good key", fakeToken: token, site: plausiblefake.DefaultSiteID,
			authenticated: true, account: "site shop.example (120 visitors today, UTC date 2025-03-01)",
		},
		{
			name: "revoked key", fakeToken: "plausible_new_key", site: plausiblefake.DefaultSiteID,
			errIs: exporter.ErrUnauthorized, errContains: []string{`plausible: the key is invalid, revoked or without access to site "shop.example"`, "HTTP 401: credential refused"},
		},
		{
			// Plausible answers it as it answers a revoked key.
			name: "key without access to the site", fakeToken: token, site: "other.example",
			errIs: exporter.ErrUnauthorized, errContains: []string{`without access to site "shop.example"`, "HTTP 401: credential refused"},
		},
		{
			name: "plan without the Stats API", fakeToken: token, site: plausiblefake.DefaultSiteID, noStatsAPI: true,
			authenticated: true,
			errIs:         exporter.ErrBadResponse, errContains: []string{`plausible: site "shop.example"`, "HTTP 402", plausiblefake.MsgNoStatsAPI},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, tt.fakeToken)
			sb.fake.SetSiteID(tt.site)
			sb.fake.SetStatsAPI(!tt.noStatsAPI)
			sb.fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{PerMinute: 1})
			env := sb.build(t, `{site_id: shop.example}`, spring)
			rep := env.CheckOnline(t, "plausible")

			if rep.Endpoint != "POST /api/v2/query" || !rep.Reachable || rep.Authenticated != tt.authenticated || rep.Account != tt.account {
				t.Errorf("report %+v, want endpoint POST /api/v2/query, reachable, authenticated %v, account %q", rep, tt.authenticated, tt.account)
			}
			if len(rep.Missing) > 0 || rep.NotFound != "" || !rep.Expires.IsZero() {
				t.Errorf("missing %q, not found %q, expires %v: want none", rep.Missing, rep.NotFound, rep.Expires)
			}
			exportertest.AssertOnlineErr(t, rep, tt.errIs, tt.errContains...)
			exportertest.AssertNoSecret(t, rep, token)
			// One query, of one day, without dimensions.
			if q := sb.fake.Queries(); tt.site == plausiblefake.DefaultSiteID && tt.fakeToken == token &&
				(len(q) != 1 || string(q[0].DateRange) != `["2025-03-01","2025-03-01"]` || len(q[0].Dimensions) != 0) {
				t.Errorf("queries %+v, want one of today without dimensions", q)
			}
		})
	}
}

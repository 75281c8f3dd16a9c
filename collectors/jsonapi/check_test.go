package jsonapi

import (
	"net/url"
	"strings"
	"testing"

	"github.com/influencer-exporter/influencer_exporter/collectors/jsonapi/jsonfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

func TestCheckOnline(t *testing.T) {
	const (
		cursor     = "{type: cursor, cursor_path: meta.next, param: cursor}"
		perCreator = `      url: /v2/affiliates/{campaign}/partners/{creator}/stats
      items: data
      creator: {map: {alice_ig: alice, dan_tt: dan}}`
		springURL = `campaign "spring" (url /v2/affiliates/spring/stats)`
	)
	tests := []struct {
		name     string
		key      string
		options  string
		creators string // more creators of spring
		// want
		endpoint      string
		authenticated bool
		account       string // after the host
		notFound      string
		notes         []string
		calls         int
		errIs         error
		errContains   []string // empty: the check passes
	}{
		{
			name: "good token", key: token, options: perCampaign(cursor, "{type: bearer}"),
			endpoint: "GET /v2/affiliates/spring/stats", authenticated: true,
			account: ": HTTP 200, 2 items on the first page of " + springURL,
			calls:   2, // the first page of spring's and of summer's URL
		},
		{
			name: "revoked token", key: "aff_live_revoked_0000", options: perCampaign(cursor, "{type: bearer}"),
			endpoint: "GET /v2/affiliates/spring/stats", calls: 1,
			errIs: exporter.ErrUnauthorized, errContains: []string{"json affnet: look up " + springURL, "HTTP 401", "HTTP 401: unauthorized: credential refused"},
		},
		{
			name: "unknown creator", key: token, options: perCreator + values, creators: "      - name: frank\n",
			endpoint: "GET /v2/affiliates/spring/partners/alice_ig/stats", authenticated: true,
			account:  `: HTTP 200, 1 items on the first page of creator "alice" of campaign "spring" (url /v2/affiliates/spring/partners/alice_ig/stats)`,
			notFound: `creator "frank" of campaign "spring" (url /v2/affiliates/spring/partners/frank/stats): HTTP 404: not_found: partner "frank" not found`,
			calls:    5, // alice, bob, dan, erin, frank
			errIs:    exporter.ErrNotFound, errContains: []string{`json affnet: creator "frank" of campaign "spring"`, "not found"},
		},
		{
			name: "items path leads nowhere", key: token, options: strings.Replace(perCampaign(cursor, "{type: bearer}"), "items: data", "items: rows", 1),
			endpoint: "GET /v2/affiliates/spring/stats", authenticated: true,
			account:  ": HTTP 200, 0 items on the first page of " + springURL,
			notFound: `items path "rows": no items at the items path: malformed response`,
			calls:    2, errIs: exporter.ErrBadResponse, errContains: []string{`json affnet: items path "rows"`, "in the answer to " + springURL},
		},
		{
			name: "creator path leads nowhere", key: token, options: strings.Replace(perCampaign(cursor, "{type: bearer}"), "path: partner.handle", "path: partner.id", 1),
			endpoint: "GET /v2/affiliates/spring/stats", authenticated: true,
			account:  ": HTTP 200, 2 items on the first page of " + springURL,
			notFound: `creator.path "partner.id": in none of the 2 items of the first page`,
			calls:    2, errIs: exporter.ErrBadResponse,
			errContains: []string{`json affnet: creator.path "partner.id"`},
		},
		{
			name: "value path leads nowhere", key: token, options: strings.Replace(perCampaign(cursor, "{type: bearer}"), "path: stats.clicks", "path: stats.views", 1),
			endpoint: "GET /v2/affiliates/spring/stats", authenticated: true,
			account:  ": HTTP 200, 2 items on the first page of " + springURL,
			notFound: `values[0].path "stats.views" (influencer_link_clicks_total): no value in the first item of creator "alice"`,
			calls:    2, errIs: exporter.ErrBadResponse,
			errContains: []string{`json affnet: values[0].path "stats.views"`},
		},
		{
			name: "label path leads nowhere", key: token, options: strings.Replace(perCampaign(cursor, "{type: bearer}"), "labels: {code: coupon}}", "labels: {code: voucher}}", 1),
			endpoint: "GET /v2/affiliates/spring/stats", authenticated: true,
			account:  ": HTTP 200, 2 items on the first page of " + springURL,
			notFound: `values[1].labels.code "voucher": no value in the first item of creator "alice"`,
			calls:    2, errIs: exporter.ErrBadResponse,
			errContains: []string{`json affnet: values[1].labels.code "voucher"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, jsonfake.Auth{Type: "bearer"}, token)
			cfg := config(f.url, tt.key, tt.options)
			if tt.creators != "" {
				cfg = strings.Replace(cfg, "      - name: erin\n", "      - name: erin\n"+tt.creators, 1)
			}
			env := exportertest.Build(t, cfg)
			rep := env.CheckOnline(t, "aff")

			u, _ := url.Parse(f.url)
			account := ""
			if tt.account != "" {
				account = u.Host + tt.account
			}
			if rep.Endpoint != tt.endpoint || !rep.Reachable || rep.Authenticated != tt.authenticated || rep.Account != account {
				t.Errorf("report %+v, want endpoint %s, reachable, authenticated %v, account %q", rep, tt.endpoint, tt.authenticated, account)
			}
			if rep.NotFound != tt.notFound {
				t.Errorf("not found %q, want %q", rep.NotFound, tt.notFound)
			}
			exportertest.AssertNotes(t, rep, tt.notes...)
			if got := f.fake.Faults.Hits(); got != tt.calls {
				t.Errorf("calls: %d, want %d", got, tt.calls)
			}
			exportertest.AssertOnlineErr(t, rep, tt.errIs, tt.errContains...)
			exportertest.AssertNoSecret(t, rep, tt.key)
		})
	}
}

// TestCheckOnlineQueryAuth checks that a token sent as a query parameter
// stays out of the report, whether the provider takes it or not.
func TestCheckOnlineQueryAuth(t *testing.T) {
	f := newFixture(t, jsonfake.Auth{Type: "query", Name: "api_key"}, token)
	opts := perCampaign("{type: page, param: page, size_param: per_page, size: 2}", "{type: query, param: api_key}")
	for _, key := range []string{token, "aff_live_revoked_0000"} {
		env := exportertest.Build(t, config(f.url, key, opts))
		rep := env.CheckOnline(t, "aff")
		if (rep.Err == nil) != (key == token) || rep.Authenticated != (key == token) {
			t.Errorf("key %s: report %+v", key[:8], rep)
		}
		exportertest.AssertNoSecret(t, rep, key, "api_key=")
	}
}

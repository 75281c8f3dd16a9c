package ga4_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/ga4"
	"github.com/influencer-exporter/influencer_exporter/collectors/ga4/ga4fake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

func TestCheckOnline(t *testing.T) {
	const (
		calls = "POST /token, POST /v1beta/properties/" + property + ":runReport"
		sa    = "service account " + ga4fake.ClientEmail
		user  = "the OAuth user of the authorized-user file"
	)
	serviceAccount := func(f *ga4fake.Server) []byte { return f.ServiceAccountJSON("") }
	authorizedUser := func(f *ga4fake.Server) []byte { return f.AuthorizedUserJSON("") }
	for _, tc := range []struct {
		name  string
		file  func(*ga4fake.Server) []byte
		setup func(*ga4fake.Server)

		endpoint      string
		authenticated bool
		account       string
		missing       []string
		err           []string
	}{{
		name:          "service account",
		file:          serviceAccount,
		endpoint:      calls,
		authenticated: true,
		account:       "property " + property + " (" + sa + ")",
	}, {
		name:          "authorized user",
		file:          authorizedUser,
		endpoint:      calls,
		authenticated: true,
		account:       "property " + property + " (" + user + ")",
	}, {
		name:     "deleted service account key",
		file:     serviceAccount,
		setup:    func(f *ga4fake.Server) { f.RevokeCredentials() },
		endpoint: "POST /token",
		err:      []string{"ga4: access token for " + sa, "HTTP 400", "invalid_grant: " + ga4fake.DeletedKeyMessage},
	}, {
		name:     "revoked refresh token",
		file:     authorizedUser,
		setup:    func(f *ga4fake.Server) { f.RevokeCredentials() },
		endpoint: "POST /token",
		err:      []string{"ga4: access token for " + user, "invalid_grant: " + ga4fake.RevokedMessage},
	}, {
		name:          "no access to the property",
		file:          serviceAccount,
		setup:         func(f *ga4fake.Server) { f.DenyAccess() },
		endpoint:      calls,
		authenticated: true,
		missing:       []string{"access to property " + property},
		err: []string{"ga4: " + sa + " has no access to property " + property + ": add it as a Viewer",
			"HTTP 403", "HTTP 403: PERMISSION_DENIED: access denied"},
	}, {
		name:          "authorized user without the Analytics scope",
		file:          authorizedUser,
		setup:         func(f *ga4fake.Server) { f.SetUserScope(ga4fake.CloudPlatformScope) },
		endpoint:      calls,
		authenticated: true,
		missing:       []string{"scope " + ga4.Scope},
		err:           []string{"lacks the scope " + ga4.Scope, "HTTP 403", "HTTP 403: PERMISSION_DENIED: access denied"},
	}, {
		name:          "property quota spent",
		file:          serviceAccount,
		setup:         func(f *ga4fake.Server) { f.SetQuotaRemaining(0) },
		endpoint:      calls,
		authenticated: true,
		err:           []string{"ga4: report on property " + property, "HTTP 429", "RESOURCE_EXHAUSTED"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
			clock := exportertest.NewManualClock(now)
			fake := ga4fake.New(property, clock.Now)
			url := exportertest.Serve(t, fake)
			creds := tc.file(fake)
			if tc.setup != nil {
				tc.setup(fake)
			}
			env := buildWithCredentials(t, url, creds, `{property: "`+property+`", sources: [instagram]}`, clock.Now)
			r := env.CheckOnline(t, "ga4")

			if r.Endpoint != tc.endpoint || !r.Reachable || r.Authenticated != tc.authenticated {
				t.Errorf("endpoint %q, reachable %t, authenticated %t; want %q, true, %t", r.Endpoint, r.Reachable, r.Authenticated, tc.endpoint, tc.authenticated)
			}
			if r.Account != tc.account || !slices.Equal(r.Missing, tc.missing) || r.NotFound != "" {
				t.Errorf("account %q, missing %q, not found %q; want %q, %q, none", r.Account, r.Missing, r.NotFound, tc.account, tc.missing)
			}
			// The credentials do not expire; the access token, which
			// renews itself, is a note.
			if !r.Expires.IsZero() {
				t.Errorf("expires %s, want never", r.Expires)
			}
			if issued := tc.endpoint == calls; issued != slices.ContainsFunc(r.Notes, func(n string) bool {
				return strings.HasPrefix(n, "access token valid until 2026-03-10T12:59:")
			}) {
				t.Errorf("notes %q: the access token's expiry noted, want %t", r.Notes, issued)
			}
			exportertest.AssertOnlineErr(t, r, nil, tc.err...)
			if tc.err == nil && !slices.Contains(r.Notes, fmt.Sprintf("property quota: %d tokens left today (tokensPerDay), this check spent %d",
				ga4fake.DailyQuota-ga4fake.ReportCost, ga4fake.ReportCost)) {
				t.Errorf("notes %q lack the property quota", r.Notes)
			}
			secrets := []string{"ya29.", "PRIVATE KEY", ga4fake.UserClientSecret, ga4fake.UserRefreshToken}
			if lines := strings.Split(string(creds), `\n`); len(lines) > 2 {
				secrets = append(secrets, lines[1]) // a line of the private key
			}
			exportertest.AssertNoSecret(t, r, secrets...)
		})
	}
}

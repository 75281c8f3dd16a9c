package dub_test

import (
	"slices"
	"testing"

	"github.com/influencer-exporter/influencer_exporter/collectors/dub/dubfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

func TestCheckOnline(t *testing.T) {
	const account = "workspace " + dubfake.WorkspaceID
	tests := []struct {
		name      string
		fakeToken string
		scopes    []string // nil: an unrestricted key
		plan      string
		options   string
		creators  string
		// want
		authenticated bool
		account       string
		missing       []string
		notFound      string // prefix
		notes         []string
		errIs         error
		errContains   []string // empty: the check passes
	}{
		{
			name: "good key", fakeToken: token, options: `{}`, creators: alice("dub.sh/a", "dub.sh/b"),
			authenticated: true, account: account,
			notes: []string{"rate limit: 599 of 600 requests left in the current window, which resets at 2025-03-01T12:11:00Z"},
		},
		{
			name: "restricted key with the scopes needed", fakeToken: token, scopes: []string{"links.read", "analytics.read"}, options: `{}`, creators: alice("dub.sh/a"),
			authenticated: true, account: account,
		},
		{
			name: "revoked key", fakeToken: "dub_new_key", options: `{}`, creators: alice("dub.sh/a"),
			errIs: exporter.ErrUnauthorized, errContains: []string{"dub: list links", "HTTP 401", "HTTP 401: unauthorized: credential refused"},
		},
		{
			name: "key lacking analytics.read", fakeToken: token, scopes: []string{"links.read"}, options: `{}`, creators: alice("dub.sh/a"),
			authenticated: true, account: account, missing: []string{"analytics.read"},
			errIs: exporter.ErrUnauthorized, errContains: []string{"dub: all-time clicks: the API key lacks the analytics.read permission", "HTTP 403"},
		},
		{
			name: "analytics off spares analytics.read", fakeToken: token, scopes: []string{"links.read"}, options: `{analytics: false}`, creators: alice("dub.sh/a"),
			authenticated: true, account: account,
		},
		{
			// The workspace comes from the permission error, and no
			// link can be looked up without links.read.
			name: "key lacking links.read", fakeToken: token, scopes: []string{"analytics.read"}, options: `{}`, creators: alice("dub.sh/nope"),
			authenticated: true, account: account, missing: []string{"links.read"},
			errIs: exporter.ErrUnauthorized, errContains: []string{"dub: list links: the API key lacks the links.read permission"},
		},
		{
			name: "plan without all-time analytics", fakeToken: token, plan: dubfake.PlanPro, options: `{}`, creators: alice("dub.sh/a"),
			authenticated: true, account: account,
			notes: []string{"all-time analytics refused", "HTTP 403: forbidden: access denied", "set options.analytics: false"},
		},
		{
			name: "unknown link", fakeToken: token, options: `{}`, creators: alice("dub.sh/a", "dub.sh/nope", "dub.sh/b"),
			authenticated: true, account: account,
			notFound: "link dub.sh/nope (campaign spring, creator alice): HTTP 404: not_found: Link not found.",
			errIs:    exporter.ErrNotFound, errContains: []string{"dub: link dub.sh/nope (campaign spring, creator alice) not found"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, tt.fakeToken, link("dub.sh/a", 1, 0), link("dub.sh/b", 2, 0))
			sb.fake.SetScopes(tt.scopes...)
			if tt.plan != "" {
				sb.fake.SetPlan(tt.plan)
			}
			env := sb.build(t, tt.options, tt.creators)
			rep := env.CheckOnline(t, "dub")

			if rep.Endpoint != "GET /links" || !rep.Reachable || rep.Authenticated != tt.authenticated || rep.Account != tt.account {
				t.Errorf("report %+v, want endpoint GET /links, reachable, authenticated %v, account %q", rep, tt.authenticated, tt.account)
			}
			if !slices.Equal(rep.Missing, tt.missing) {
				t.Errorf("missing %q, want %q", rep.Missing, tt.missing)
			}
			exportertest.AssertNotFound(t, rep, tt.notFound)
			exportertest.AssertNotes(t, rep, tt.notes...)
			exportertest.AssertOnlineErr(t, rep, tt.errIs, tt.errContains...)
			exportertest.AssertNoSecret(t, rep, token)
		})
	}
}

func TestCheckOnlineEmptyWorkspace(t *testing.T) {
	sb := newSandbox(t, token)
	env := sb.build(t, `{}`, alice())
	rep := env.CheckOnline(t, "dub")
	if rep.Err != nil || !rep.Authenticated || rep.Account != "" || !slices.Contains(rep.Notes, "the workspace has no links yet") {
		t.Errorf("report %+v, want a passing check noting the workspace has no links", rep)
	}
}

package bitly_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/influencer-exporter/influencer_exporter/collectors/bitly/bitlyfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

func TestCheckOnline(t *testing.T) {
	tests := []struct {
		name      string
		fakeToken string
		options   string
		creators  string
		// want
		authenticated bool
		account       string
		notFound      string // prefix
		errIs         error
		errContains   []string // empty: the check passes
	}{
		{
			name: "good token, default group", fakeToken: token, options: `{}`, creators: alice("bit.ly/a", "bit.ly/b"),
			authenticated: true, account: "user sandbox (default group " + bitlyfake.GroupGUID + ")",
		},
		{
			name: "good token, configured group", fakeToken: token, options: `{group_guid: ` + bitlyfake.GroupGUID + `}`, creators: alice("bit.ly/a"),
			authenticated: true, account: "user sandbox, group " + bitlyfake.GroupGUID + " (Sandbox group)",
		},
		{
			// Bitly answers a revoked token as it answers a wrong one.
			name: "revoked token", fakeToken: "the-new-token", options: `{}`, creators: alice("bit.ly/a"),
			errIs: exporter.ErrUnauthorized, errContains: []string{"bitly: user of the token", "HTTP 403", "HTTP 403: FORBIDDEN: access denied"},
		},
		{
			name: "unknown group", fakeToken: token, options: `{group_guid: Bnope}`, creators: alice("bit.ly/a"),
			authenticated: true, account: "user sandbox (default group " + bitlyfake.GroupGUID + ")",
			errIs: exporter.ErrNotFound, errContains: []string{`bitly: group "Bnope" of options.group_guid`, "HTTP 404", "NOT_FOUND"},
		},
		{
			name: "unknown link", fakeToken: token, options: `{}`, creators: alice("bit.ly/a", "bit.ly/nope", "bit.ly/gone"),
			authenticated: true, account: "user sandbox (default group " + bitlyfake.GroupGUID + ")",
			notFound: "link bit.ly/nope (campaign spring, creator alice): HTTP 404: NOT_FOUND: What you are looking for cannot be found.",
			errIs:    exporter.ErrNotFound, errContains: []string{"bitly: link bit.ly/nope (campaign spring, creator alice) not found"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, tt.fakeToken, link("bit.ly/a", 1, 0), link("bit.ly/b", 2, 0))
			env := sb.build(t, tt.options, tt.creators)
			rep := env.CheckOnline(t, "bitly")

			if rep.Endpoint != "GET /v4/user" || !rep.Reachable || rep.Authenticated != tt.authenticated || rep.Account != tt.account {
				t.Errorf("report %+v, want endpoint GET /v4/user, reachable, authenticated %v, account %q", rep, tt.authenticated, tt.account)
			}
			exportertest.AssertNotFound(t, rep, tt.notFound)
			if len(rep.Missing) > 0 || !rep.Expires.IsZero() {
				t.Errorf("missing %q, expires %v: Bitly tokens have neither scopes nor expiry", rep.Missing, rep.Expires)
			}
			exportertest.AssertOnlineErr(t, rep, tt.errIs, tt.errContains...)
			exportertest.AssertNoSecret(t, rep, token)
		})
	}
}

// TestCheckOnlineLookups checks that the lookups stop at the first link
// Bitly does not know, and spend one call per link before it.
func TestCheckOnlineLookups(t *testing.T) {
	sb := newSandbox(t, token, link("bit.ly/a", 1, 0), link("bit.ly/b", 2, 0))
	env := sb.build(t, `{}`, alice("bit.ly/a", "bit.ly/nope", "bit.ly/never")+
		exportertest.CreatorLinks("bob", "bitly", "bit.ly/b"))
	rep := env.CheckOnline(t, "bitly")
	if !strings.HasPrefix(rep.NotFound, "link bit.ly/nope ") {
		t.Errorf("not found %q, want bit.ly/nope", rep.NotFound)
	}
	// GET /user, then bit.ly/a and bit.ly/nope: nothing after the first
	// unknown link is asked.
	if got := sb.fake.Faults.Hits(); got != 3 {
		t.Errorf("API calls: %d, want 3", got)
	}
}

func TestCheckOnlineUnreachable(t *testing.T) {
	env := exportertest.Build(t, exportertest.OneCollectorConfig("bitly", "http://127.0.0.1:1/v4", token, `{}`, alice("bit.ly/a")))
	rep := env.CheckOnline(t, "bitly")
	if rep.Reachable || rep.Authenticated || !errors.Is(rep.Err, exporter.ErrTransport) {
		t.Errorf("report %+v, want unreachable with a transport error", rep)
	}
}

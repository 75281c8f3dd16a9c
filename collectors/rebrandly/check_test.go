package rebrandly

import (
	"testing"

	"github.com/influencer-exporter/influencer_exporter/collectors/rebrandly/rebrandlyfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

func TestCheckOnline(t *testing.T) {
	tests := []struct {
		name      string
		key       string
		workspace string // of the fake's links; "" the default workspace
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
			name: "good key", key: apiKey, options: `{}`, creators: exportertest.CreatorLinks("alice", Provider, "rebrand.ly/alice", "go.brand.example/bob"),
			authenticated: true, account: "account " + rebrandlyfake.Account + ", the default workspace: 3 links",
		},
		{
			name: "good key, workspace and domain", key: apiKey, workspace: "ws42", options: `{workspace: ws42, domain: rebrand.ly}`,
			creators:      exportertest.CreatorLinks("alice", Provider, "rebrand.ly/alice"),
			authenticated: true, account: "account " + rebrandlyfake.Account + ", workspace ws42 on domain rebrand.ly: 2 links",
		},
		{
			name: "revoked key", key: "rb_revoked_key_0000", options: `{}`, creators: exportertest.CreatorLinks("alice", Provider, "rebrand.ly/alice"),
			errIs: exporter.ErrUnauthorized, errContains: []string{"rebrandly: account of the key", "HTTP 401: Unauthorized: credential refused"},
		},
		{
			name: "unknown workspace", key: apiKey, workspace: "ws42", options: `{workspace: ws7}`, creators: exportertest.CreatorLinks("alice", Provider, "rebrand.ly/alice"),
			authenticated: true, account: "account " + rebrandlyfake.Account + "",
			errIs: exporter.ErrNotFound, errContains: []string{"rebrandly: links of workspace ws7", "HTTP 404: NotFound: Not found (workspace)"},
		},
		{
			name: "unknown link", key: apiKey, options: `{}`, creators: exportertest.CreatorLinks("alice", Provider, "rebrand.ly/alice", "rebrand.ly/nope", "rebrand.ly/carol"),
			authenticated: true, account: "account " + rebrandlyfake.Account + ", the default workspace: 3 links",
			notFound: `link rebrand.ly/nope (campaign spring, creator alice): no link with slashtag "nope" on rebrand.ly in the default workspace: not found`,
			errIs:    exporter.ErrNotFound, errContains: []string{"rebrandly: link rebrand.ly/nope (campaign spring, creator alice) not found"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, link("rebrand.ly/alice", 3, 0), link("go.brand.example/bob", 1, 0), link("rebrand.ly/carol", 0, 0))
			f.fake.SetWorkspace(tt.workspace)
			env := build(t, f.url, tt.key, tt.options, tt.creators)
			rep := env.CheckOnline(t, Provider)

			if rep.Endpoint != "GET /v1/account" || !rep.Reachable || rep.Authenticated != tt.authenticated || rep.Account != tt.account {
				t.Errorf("report %+v, want endpoint GET /v1/account, reachable, authenticated %v, account %q", rep, tt.authenticated, tt.account)
			}
			exportertest.AssertNotFound(t, rep, tt.notFound)
			exportertest.AssertOnlineErr(t, rep, tt.errIs, tt.errContains...)
			exportertest.AssertNoSecret(t, rep, tt.key)
		})
	}
}

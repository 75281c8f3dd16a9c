package shortio

import (
	"fmt"
	"strings"
	"testing"

	"github.com/influencer-exporter/influencer_exporter/collectors/shortio/shortiofake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

func TestCheckOnline(t *testing.T) {
	const reach = "the key reaches 2 domains: short.gy, go.example"
	tests := []struct {
		name     string
		key      string
		options  string // YAML flow map entries; domain_id and statistics_base_url by default
		creators string
		// want
		authenticated bool
		account       string
		notFound      string // prefix
		notes         []string
		calls         int
		errIs         error
		errContains   []string // empty: the check passes
	}{
		{
			name: "good key", key: token, creators: exportertest.CreatorLinks("alice", Provider, "short.gy/alice", "short.gy/"),
			authenticated: true, account: "domain short.gy (id 410001); " + reach,
			calls: 4, // domains, two expands, one link_clicks
		},
		{
			name: "revoked key", key: "sk_revoked_9c1d", creators: exportertest.CreatorLinks("alice", Provider, "short.gy/alice"),
			calls: 1, errIs: exporter.ErrUnauthorized, errContains: []string{"shortio: domains of the key", "HTTP 401: Unauthorized: credential refused"},
		},
		{
			name: "domain the key does not reach", key: token, options: "domain_id: 999", creators: exportertest.CreatorLinks("alice", Provider, "short.gy/alice"),
			authenticated: true, account: reach,
			calls: 1, errIs: exporter.ErrNotFound, errContains: []string{"shortio: domain 999 of options.domain_id is not among the domains the key reaches"},
		},
		{
			name: "domain option not the domain's hostname", key: token, options: "domain: other.example", creators: exportertest.CreatorLinks("alice", Provider),
			authenticated: true, account: "domain short.gy (id 410001); " + reach,
			calls: 1, errContains: []string{`shortio: options.domain "other.example" is not the hostname of domain 410001, short.gy`},
		},
		{
			name: "unknown link", key: token, creators: exportertest.CreatorLinks("alice", Provider, "short.gy/alice", "short.gy/nope", "short.gy/bob"),
			authenticated: true, account: "domain short.gy (id 410001); " + reach,
			notFound: "link short.gy/nope (campaign spring, creator alice): HTTP 404: Link not found",
			calls:    4, errIs: exporter.ErrNotFound, errContains: []string{"shortio: link short.gy/nope (campaign spring, creator alice) not found"},
		},
		{
			name: "link on another domain", key: token, creators: exportertest.CreatorLinks("alice", Provider, "go.example/x"),
			authenticated: true, account: "domain short.gy (id 410001); " + reach,
			notFound: "link go.example/x (campaign spring, creator alice): not on domain short.gy (id 410001): not found",
			calls:    1, errIs: exporter.ErrNotFound,
			errContains: []string{"shortio: link go.example/x (campaign spring, creator alice) not found"},
		},
		{
			name: "tags only", key: token, creators: exportertest.CreatorTags("alice", Provider, "alice"),
			authenticated: true, account: "domain short.gy (id 410001); " + reach,
			notes: []string{"the statistics host was not checked"}, calls: 1,
		},
		{
			name: "statistics host unreachable", key: token, options: "statistics_base_url: http://127.0.0.1:1", creators: exportertest.CreatorLinks("alice", Provider, "short.gy/alice"),
			authenticated: true, account: "domain short.gy (id 410001); " + reach,
			calls: 2, errIs: exporter.ErrTransport, errContains: []string{"shortio: statistics host: clicks of 1 links", "GET http://127.0.0.1:1/statistics/domain/410001/link_clicks"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, link("alice", 3, 0), link("bob", 1, 0))
			f.fake.AddLink(link("", 0, 0)) // the root link
			f.fake.AddLink(shortioLink("go.example/y"))
			opts := map[string]string{"domain_id": fmt.Sprint(f.fake.DomainID("short.gy")), "statistics_base_url": f.url}
			for _, kv := range strings.Split(tt.options, ", ") {
				if k, v, ok := strings.Cut(kv, ": "); ok {
					opts[k] = v
				}
			}
			var flow []string
			for k, v := range opts {
				flow = append(flow, k+": "+v)
			}
			env := exportertest.Build(t, exportertest.OneCollectorConfig(Provider, f.url, tt.key, "{"+strings.Join(flow, ", ")+"}", tt.creators))
			rep := env.CheckOnline(t, Provider)

			if rep.Endpoint != "GET /api/domains" || !rep.Reachable || rep.Authenticated != tt.authenticated || rep.Account != tt.account {
				t.Errorf("report %+v, want endpoint GET /api/domains, reachable, authenticated %v, account %q", rep, tt.authenticated, tt.account)
			}
			exportertest.AssertNotFound(t, rep, tt.notFound)
			exportertest.AssertNotes(t, rep, tt.notes...)
			if got := f.fake.Faults.Hits(); got != tt.calls {
				t.Errorf("API calls: %d, want %d", got, tt.calls)
			}
			exportertest.AssertOnlineErr(t, rep, tt.errIs, tt.errContains...)
			exportertest.AssertNoSecret(t, rep, tt.key)
		})
	}
}

// shortioLink is a link without clicks at id, on any domain.
func shortioLink(id string) shortiofake.Link {
	return shortiofake.Link{ID: id, Destination: "https://shop.example/"}
}

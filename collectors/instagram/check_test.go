package instagram

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/instagram/instagramfake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

func TestCheckOnline(t *testing.T) {
	expiry := t0.Add(50 * 24 * time.Hour)
	for _, tc := range []struct {
		name     string
		setup    func(*instagramfake.Server)
		creators string
		// want: the report's fields; err: texts its error carries ("":
		// no error).
		authenticated bool
		account       string
		expires       time.Time
		missing       []string
		notFound      string
		err           []string
		// note is the start of a note the report must carry.
		note string
	}{{
		name:          "good token",
		setup:         func(f *instagramfake.Server) { f.SetTokenExpiry(expiry) },
		creators:      seedCreators,
		authenticated: true,
		account:       "@alice (1001), @bob (1002)",
		expires:       expiry,
		note:          `user token of app "influencer sandbox"`,
	}, {
		name: "debug_token failing",
		// Every attempt of the first request: debug_token fails, and the
		// lookups tell the token works.
		setup:         func(f *instagramfake.Server) { f.Faults.Set(fakeapi.ServerError, 3) },
		creators:      seedCreators,
		authenticated: true,
		account:       "@alice (1001), @bob (1002)",
		note:          "debug_token failed, so the token's permissions and expiry are unknown: GET http://127.0.0.1:",
	}, {
		name:          "token that never expires, followers only",
		creators:      creator("alice", nil, "1001"),
		authenticated: true,
		account:       "@alice (1001)",
		note:          "the token does not expire",
		// Without posts or a match no insights are read: the token
		// needs no instagram_manage_insights.
		setup: func(f *instagramfake.Server) {
			f.SetScopes(instagramfake.PermBasic, instagramfake.PermPages)
		},
	}, {
		name:     "revoked token",
		setup:    func(f *instagramfake.Server) { f.Revoke() },
		creators: seedCreators,
		err:      []string{"instagram: access token invalid", "Graph error 190 (subcode 458)", instagramfake.RevokedMessage},
	}, {
		name:     "expired token",
		setup:    func(f *instagramfake.Server) { f.SetTokenExpiry(t0.Add(-time.Hour)) },
		creators: seedCreators,
		err:      []string{"access token expired, renew the long-lived token", "Session has expired"},
	}, {
		name: "token lacking a permission",
		setup: func(f *instagramfake.Server) {
			f.SetTokenExpiry(expiry)
			f.SetScopes(instagramfake.PermBasic, instagramfake.PermPages)
		},
		creators:      seedCreators,
		authenticated: true,
		account:       "@alice (1001), @bob (1002)",
		expires:       expiry,
		missing:       []string{"instagram_manage_insights"},
		err:           []string{"the access token lacks permissions the collector needs: instagram_manage_insights"},
	}, {
		name:          "unknown post",
		creators:      seedCreators + creator("carol", []string{"9999", "9998"}),
		authenticated: true,
		account:       "@alice (1001), @bob (1002)",
		notFound:      "post 9999 (campaign spring, creator carol): batch GET /9999: HTTP 400: Graph error 100 (subcode 33): Unsupported get request. Object with ID '9999' does not exist",
		err:           []string{"instagram: post 9999 (campaign spring, creator carol) not found"},
	}, {
		name:          "unknown account",
		creators:      creator("alice", nil, "1001", "1009"),
		authenticated: true,
		account:       "@alice (1001)",
		notFound:      "account 1009 (campaign spring, creator alice): batch GET /1009",
		err:           []string{"not found", "Object with ID '1009' does not exist"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t)
			seed(sb.fake)
			if tc.setup != nil {
				tc.setup(sb.fake)
			}
			env := sb.build(t, `{}`, tc.creators)
			r := env.CheckOnline(t, "instagram")

			wantEndpoint := "GET /v26.0/debug_token"
			if tc.authenticated {
				wantEndpoint += ", POST /v26.0/"
			}
			if r.Endpoint != wantEndpoint || !r.Reachable || r.Authenticated != tc.authenticated {
				t.Errorf("endpoint %q, reachable %t, authenticated %t; want %q, true, %t", r.Endpoint, r.Reachable, r.Authenticated, wantEndpoint, tc.authenticated)
			}
			if r.Account != tc.account {
				t.Errorf("account %q, want %q", r.Account, tc.account)
			}
			if !r.Expires.Equal(tc.expires) {
				t.Errorf("expires %s, want %s", r.Expires, tc.expires)
			}
			if !slices.Equal(r.Missing, tc.missing) {
				t.Errorf("missing %q, want %q", r.Missing, tc.missing)
			}
			exportertest.AssertNotFound(t, r, tc.notFound)
			exportertest.AssertOnlineErr(t, r, nil, tc.err...)
			if tc.note != "" && !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.HasPrefix(n, tc.note) }) {
				t.Errorf("notes %q lack %q", r.Notes, tc.note)
			}
			exportertest.AssertNoSecret(t, r, token)
		})
	}
}

// TestCheckOnlineCalls checks what the check costs: debug_token and one
// batch request, whose operations Graph counts as calls, one per
// configured account and post.
func TestCheckOnlineCalls(t *testing.T) {
	sb := newSandbox(t)
	seed(sb.fake)
	env := sb.build(t, `{}`, seedCreators)
	r := env.CheckOnline(t, "instagram")
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if hits := sb.fake.Faults.Hits(); hits != 2 {
		t.Errorf("%d HTTP requests, want 2", hits)
	}
	if used, _ := sb.fake.Usage(); used != 1+2+5 {
		t.Errorf("%d calls counted, want 8: debug_token, 2 accounts, 5 posts", used)
	}
	if got := sb.fake.InsightsCalls("2001"); got != 0 {
		t.Errorf("the check read insights %d times", got)
	}
}

package tiktok

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/tiktok/tiktokfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

func checkOnline(t *testing.T, sb *sandbox, config string) exporter.OnlineReport {
	t.Helper()
	env := sb.build(t, config)
	return env.CheckOnline(t, "tiktok")
}

// withName gives alice a display name.
func withName(sb *sandbox) {
	sb.fake.AddAccount(tiktokfake.Account{ID: openID, Username: "alice.makes", DisplayName: "Alice Makes", Followers: 12000,
		NewFollowers: fakeapi.Curve{Final: 3000, Midpoint: 2 * time.Hour, Spread: 30 * time.Minute}})
}

func TestCheckOnline(t *testing.T) {
	const (
		account     = `user "Alice Makes" (open_id open-alice)`
		staticCalls = "GET /v2/user/info/, POST /v2/video/query/"
		renewCalls  = "POST /v2/oauth/token/, " + staticCalls
	)
	for _, tc := range []struct {
		name string
		// refresh is the refresh token file's content, "" for the
		// static token.
		refresh  string
		setup    func(*sandbox)
		creators string

		endpoint      string
		authenticated bool
		account       string
		expires       time.Time
		missing       []string
		notFound      string
		err           []string
	}{{
		name:          "good static token",
		creators:      alice("#spring", "8101"),
		endpoint:      staticCalls,
		authenticated: true,
		account:       account,
	}, {
		name:          "good refresh token",
		refresh:       "rft.initial-5ecret",
		creators:      alice("#spring", "8101"),
		endpoint:      renewCalls,
		authenticated: true,
		account:       account,
		expires:       now.Add(tiktokfake.RefreshTokenTTL),
	}, {
		name:     "revoked static token",
		setup:    func(sb *sandbox) { sb.fake.Revoke(token) },
		creators: alice("#spring", "8101"),
		endpoint: "GET /v2/user/info/",
		err:      []string{"tiktok: user info: access token invalid or expired", "HTTP 401", "HTTP 401: access_token_invalid: credential refused"},
	}, {
		name:     "revoked refresh token",
		refresh:  "rft.revoked-5ecret",
		creators: alice("#spring", "8101"),
		endpoint: "POST /v2/oauth/token/",
		err:      []string{"tiktok: renew the access token with options.refresh_token_file", "invalid_grant: Refresh token is invalid or expired"},
	}, {
		name:          "static token lacking user.info.stats",
		setup:         func(sb *sandbox) { sb.fake.SetScopes(token, tiktokfake.ScopeBasic, tiktokfake.ScopeVideo) },
		creators:      alice("#spring", "8101"),
		endpoint:      staticCalls,
		authenticated: true,
		account:       account,
		missing:       []string{"user.info.stats"},
		err:           []string{"tiktok: the access token lacks scopes the collector needs: user.info.stats"},
	}, {
		name:          "static token lacking video.list",
		setup:         func(sb *sandbox) { sb.fake.SetScopes(token, tiktokfake.ScopeBasic, tiktokfake.ScopeStats) },
		creators:      alice("-", "8101"),
		endpoint:      staticCalls,
		authenticated: true,
		account:       account,
		missing:       []string{"video.list"},
		err:           []string{"lacks scopes the collector needs: video.list"},
	}, {
		name:          "refresh token lacking user.info.stats and video.list",
		refresh:       "rft.initial-5ecret",
		setup:         func(sb *sandbox) { sb.fake.SetScopes("rft.initial-5ecret", tiktokfake.ScopeBasic) },
		creators:      alice("#spring", "8101"),
		endpoint:      renewCalls,
		authenticated: true,
		account:       account,
		expires:       now.Add(tiktokfake.RefreshTokenTTL),
		missing:       []string{"user.info.stats", "video.list"},
		err:           []string{"lacks scopes the collector needs: user.info.stats, video.list"},
	}, {
		name:          "unknown video",
		creators:      alice("", "8101", "8999", "8998"),
		endpoint:      staticCalls,
		authenticated: true,
		account:       account,
		notFound:      "post 8999 (campaign spring, creator alice): not among the public videos of the token's user",
		err:           []string{"tiktok: post 8999 (campaign spring, creator alice) not found"},
	}, {
		name:          "account with a match only: one listing page",
		creators:      alice("#spring"),
		endpoint:      "GET /v2/user/info/, POST /v2/video/list/",
		authenticated: true,
		account:       account,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				sb     *sandbox
				config string
			)
			if tc.refresh != "" {
				var opts string
				sb, opts, _ = refreshSetup(t, tc.refresh)
				config = sb.config("", opts, tc.creators, "")
			} else {
				sb = newSandbox(t, token, post("8101", time.Hour, "", "#spring", 1000))
				config = sb.config(tokenLine(token), "{}", tc.creators, "")
			}
			withName(sb)
			if tc.setup != nil {
				tc.setup(sb)
			}
			r := checkOnline(t, sb, config)
			if r.Endpoint != tc.endpoint || !r.Reachable || r.Authenticated != tc.authenticated {
				t.Errorf("endpoint %q, reachable %t, authenticated %t; want %q, true, %t", r.Endpoint, r.Reachable, r.Authenticated, tc.endpoint, tc.authenticated)
			}
			if r.Account != tc.account || !r.Expires.Equal(tc.expires) || !slices.Equal(r.Missing, tc.missing) {
				t.Errorf("account %q, expires %s, missing %q; want %q, %s, %q", r.Account, r.Expires, r.Missing, tc.account, tc.expires, tc.missing)
			}
			exportertest.AssertNotFound(t, r, tc.notFound)
			exportertest.AssertOnlineErr(t, r, nil, tc.err...)
			exportertest.AssertNoSecret(t, r, token, "5ecret", "rft.fake", "act.fake")
		})
	}
}

// TestCheckOnlineBesideExporter checks that a check renewing the access
// token, which rotates the refresh token in the file, does not lock out
// an exporter running on the same file: its next renewal, refused with
// the refresh token it holds, takes the file's.
func TestCheckOnlineBesideExporter(t *testing.T) {
	sb, opts, file := refreshSetup(t, "rft.initial-5ecret")
	config := sb.config("", opts, alice("#spring"), "")
	running := sb.build(t, config)
	if _, err := running.Poll(t, "tiktok"); err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	held, _ := os.ReadFile(file)

	r := checkOnline(t, sb, config)
	if r.Err != nil {
		t.Fatalf("check: %v", r.Err)
	}
	if rotated, _ := os.ReadFile(file); string(rotated) == string(held) {
		t.Fatal("the check did not rotate the refresh token")
	}

	// A day later the running exporter's access token has expired: it
	// renews with the refresh token the check retired, then with the
	// file's.
	sb.clock.Advance(24 * time.Hour)
	if _, err := running.Poll(t, "tiktok"); err != nil {
		t.Errorf("refresh after the check: %v", err)
	}
}

package youtube_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/youtube"
	"github.com/influencer-exporter/influencer_exporter/collectors/youtube/youtubefake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

func TestCheckOnline(t *testing.T) {
	hana, emma, gone := channel("hana"), channel("emma"), channel("gone")
	const calls = "GET /youtube/v3/channels, GET /youtube/v3/videos"
	seeded := campaign(creator("hana", []string{vid("hana1")}, hana, ""), creator("emma", []string{vid("emma1")}, emma, "#spring"))
	for _, tc := range []struct {
		name     string
		setup    func(*youtubefake.Server)
		campaign string

		endpoint      string
		authenticated bool
		account       string
		missing       []string
		notFound      string
		err           []string
		// units spent, and what the collector counts left of its
		// daily quota.
		units, left int
	}{{
		name:          "good key",
		campaign:      seeded,
		endpoint:      calls,
		authenticated: true,
		account:       `channel "Hana Studies" (` + hana + `), channel "Emma Outdoors" (` + emma + `)`,
		units:         2,
	}, {
		name:          "good key, nothing configured",
		campaign:      campaign(creator("ivan", nil, "", "")),
		endpoint:      "GET /youtube/v3/i18nRegions",
		authenticated: true,
		units:         1,
	}, {
		name:     "revoked key",
		setup:    func(f *youtubefake.Server) { f.RevokeKey() },
		campaign: seeded,
		endpoint: "GET /youtube/v3/channels",
		err:      []string{"youtube: channels.list (2 ids): API key refused", "HTTP 400", "API_KEY_INVALID: " + youtubefake.InvalidKeyMessage},
		units:    1,
	}, {
		name:          "project without the API",
		setup:         func(f *youtubefake.Server) { f.DisableAPI() },
		campaign:      seeded,
		endpoint:      "GET /youtube/v3/channels",
		authenticated: true,
		missing:       []string{"the YouTube Data API v3 enabled in the key's Google Cloud project"},
		err: []string{"youtube: channels.list (2 ids): the key's Google Cloud project has not enabled the YouTube Data API v3",
			"HTTP 403: SERVICE_DISABLED: access denied"},
		units: 1,
	}, {
		name:          "key restricted to other APIs",
		setup:         func(f *youtubefake.Server) { f.RestrictKey() },
		campaign:      seeded,
		endpoint:      "GET /youtube/v3/channels",
		authenticated: true,
		missing:       []string{"the YouTube Data API v3 among the key's API restrictions"},
		err: []string{"the key's API restrictions leave the YouTube Data API v3 out",
			"HTTP 403: API_KEY_SERVICE_BLOCKED: access denied"},
		units: 1,
	}, {
		name:          "quota spent",
		setup:         func(f *youtubefake.Server) { f.SetDailyQuota(0) },
		campaign:      seeded,
		endpoint:      "GET /youtube/v3/channels",
		authenticated: true,
		err:           []string{"daily quota spent", "quotaExceeded"},
		// The collector counts the rest of the day spent.
		left: -1,
	}, {
		name:          "unknown channel",
		campaign:      campaign(creator("hana", nil, hana, ""), creator("gone", nil, gone, ""), creator("emma", []string{vid("nope")}, emma, "")),
		endpoint:      calls,
		authenticated: true,
		account:       `channel "Hana Studies" (` + hana + `), channel "Emma Outdoors" (` + emma + `)`,
		notFound:      "account " + gone + " (campaign spring, creator gone): channels.list does not return it",
		err:           []string{"youtube: account " + gone + " (campaign spring, creator gone) not found"},
		units:         2,
	}, {
		name:          "unknown video",
		campaign:      campaign(creator("hana", []string{vid("hana1"), vid("nope"), vid("nope2")}, "", "")),
		endpoint:      "GET /youtube/v3/videos",
		authenticated: true,
		notFound:      "post " + vid("nope") + " (campaign spring, creator hana): videos.list does not return it",
		err:           []string{"not found"},
		units:         1,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t, key)
			sb.fake.AddAccount(youtubefake.Account{ID: hana, Title: "Hana Studies", Followers: 31400})
			sb.fake.AddAccount(youtubefake.Account{ID: emma, Title: "Emma Outdoors", Followers: 152000})
			sb.fake.AddPost(post(vid("hana1"), hana, "Study with me", time.Hour))
			sb.fake.AddPost(post(vid("emma1"), emma, "Ridge walk #spring", time.Hour))
			if tc.setup != nil {
				tc.setup(sb.fake)
			}
			env := sb.build(t, "{}", tc.campaign)
			r := env.CheckOnline(t, "youtube")

			if r.Endpoint != tc.endpoint || !r.Reachable || r.Authenticated != tc.authenticated {
				t.Errorf("endpoint %q, reachable %t, authenticated %t; want %q, true, %t", r.Endpoint, r.Reachable, r.Authenticated, tc.endpoint, tc.authenticated)
			}
			if r.Account != tc.account || !r.Expires.IsZero() || !slices.Equal(r.Missing, tc.missing) {
				t.Errorf("account %q, expires %s, missing %q; want %q, never, %q", r.Account, r.Expires, r.Missing, tc.account, tc.missing)
			}
			exportertest.AssertNotFound(t, r, tc.notFound)
			exportertest.AssertOnlineErr(t, r, nil, tc.err...)
			// The check's units are the collector's: its quota gauge and
			// the report's note say the same.
			left, note := youtube.DefaultDailyQuota-tc.units, fmt.Sprintf("%d quota units spent", tc.units)
			if tc.units == 1 {
				note = "1 quota unit spent"
			}
			if tc.left < 0 {
				left, note = 0, "YouTube answered quotaExceeded: the project's units are spent until 2025-03-02T08:00:00Z"
			}
			if got := env.Quota("youtube"); got != float64(left) {
				t.Errorf("quota remaining %g, want %d", got, left)
			}
			if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.HasPrefix(n, note) }) {
				t.Errorf("notes %q lack %q", r.Notes, note)
			}
			exportertest.AssertNoSecret(t, r, key)
		})
	}
}

package tiktok

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/influencer-exporter/influencer_exporter/collectors/tiktok/tiktokfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/agency"
)

// TestCallsAtAgencyScale measures the calls of a refresh at agency scale:
// a quarter of the 40,000 posts are on TikTok, 10 videos by each of 1,000
// creators, found by the match of the creator's account. A TikTok token
// reads one user's own videos only, so each account is a collector of
// its own, with its token. The videos are three to four days old, so the
// default post_refresh polls each every 15 minutes; the second refresh
// comes 15 minutes after the first.
//
// TikTok's batch limits: user info is one call per user (its token); the
// video list returns 20 videos a page with their counts, and a video
// query takes 20 ids. A refresh of an account with V videos since the
// campaign start therefore needs 1 + ceil(V/20) calls: 2,000 for 1,000
// accounts of 10 videos, where one call per object would be 11,000. The
// listing carries the counts of the videos it lists, so they cost no
// query. TikTok allows 600 calls a minute per endpoint (unconfirmed
// whether per app or per user): per app, 1,000 accounts at a 1 minute
// interval would exceed it.
//
// Each collector has its own HTTP client, with its token, retries and
// request counts, over one transport that all collectors of type tiktok
// (with the same http_config) share: its pool holds at most
// max_concurrent_requests (8 by default) connections to TikTok, where a
// transport per collector held one per account, 1,000 here. The test
// polls 32 accounts at once, more than the pool allows, and checks that
// each request carried its own account's token.
//
// Under the race detector, polling 32 at once takes more than 20
// seconds at full size: there it runs at a tenth of it.
func TestCallsAtAgencyScale(t *testing.T) {
	accounts := agency.SlowSize(agency.Creators / 10)
	const videos = 10
	srv, env, clock, byToken := agencyScale(t, accounts, videos, "1m", 0)

	want := agency.Calls{"GET /v2/user/info/": accounts, "POST /v2/video/list/": accounts * agency.CeilDiv(videos, 20)}
	// Per video: views, likes, comments, shares, published; per account:
	// followers.
	series := accounts * (5*videos + 1)
	for r, refresh := range []string{"first refresh", "next refresh"} {
		srv.Refresh(t, refresh, series, func() (int, error) {
			var n atomic.Int64
			err := exporter.Parallel(context.Background(), 32, len(env.Instances), func(ctx context.Context, i int) error {
				samples, err := env.Instances[i].Collector.Poll(ctx)
				n.Add(int64(len(samples)))
				return err
			})
			return int(n.Load()), err
		}, want)
		clock.Advance(15 * time.Minute)

		// Each account's two calls carried its token, and count as its
		// collector's requests.
		for i := range accounts {
			if got := byToken(i); got != 2*(r+1) {
				t.Errorf("%s: %d requests with account %d's token, want %d", refresh, got, i, 2*(r+1))
			}
		}
		for _, in := range env.Instances {
			if got := testutil.ToFloat64(env.Metrics.Requests.WithLabelValues(in.Name, "200")); got != float64(2*(r+1)) {
				t.Errorf("%s: %s counted %g requests, want %d", refresh, in.Name, got, 2*(r+1))
			}
		}
	}
	srv.CheckConns(t, exporter.DefaultHTTP.MaxConcurrentRequests)
}

// BenchmarkColdStart measures the time from startup to the first
// complete snapshot of a quarter of the agency's posts on TikTok: 1,000
// accounts, a collector each, 10 videos each, polled by the scheduler
// with the default max_concurrent_refreshes (4) and interval (5 minutes),
// every answer 50 ms late: two calls an account, one after another. The
// clients' rate limits and retry waits are lifted, as in
// TestCallsAtAgencyScale. It runs at a tenth of the agency unless
// -agency.full is given.
func BenchmarkColdStart(b *testing.B) {
	accounts := agency.BenchSize(agency.Creators / 10)
	b.Run(fmt.Sprintf("accounts=%d", accounts), func(b *testing.B) {
		agency.RunColdStart(b, func(b *testing.B) (*agency.Server, *exportertest.Env) {
			srv, env, _, _ := agencyScale(b, accounts, 10, "5m", agency.Latency)
			return srv, env
		})
	})
}

// TestColdStart runs the cold start BenchmarkColdStart measures at a
// hundredth of the agency, answers 1 ms late: the scheduler stores a
// complete first snapshot of every account's collector, all of them over
// one pool of at most max_concurrent_requests connections.
func TestColdStart(t *testing.T) {
	srv, env, _, _ := agencyScale(t, agency.Creators/10/100, 10, "5m", time.Millisecond)
	agency.ColdStart(t, env)
	srv.CheckConns(t, exporter.DefaultHTTP.MaxConcurrentRequests)
}

// agencyScale serves a fake TikTok of the given number of accounts, each
// with its token and videos three to four days old, each answer delay
// late, and builds a tiktok collector for each account, finding its
// videos by the match, with the interval given, on the returned clock.
// byToken returns how many requests carried account i's token.
func agencyScale(tb testing.TB, accounts, videos int, interval string, delay time.Duration) (srv *agency.Server, env *exportertest.Env, clock *exportertest.ManualClock, byToken func(i int) int) {
	tb.Helper()
	clock = exportertest.NewManualClock(now)
	fake := tiktokfake.New(token, clock.Now)
	var (
		mu     sync.Mutex
		tokens = map[string]int{} // requests by bearer token
	)
	srv = agency.Serve(tb, agency.Slow(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]++
		mu.Unlock()
		fake.ServeHTTP(w, r)
	}), delay), nil)
	var cfg strings.Builder
	cfg.WriteString("collectors:\n")
	for i := range accounts {
		user := fmt.Sprintf("open-%05d", i)
		tok := fmt.Sprintf("act.agency-%05d", i)
		fake.AddAccount(tiktokfake.Account{ID: user, Username: agency.CreatorName(i), Token: tok, Followers: 5000})
		for j := range videos {
			p := post(fmt.Sprintf("73%05d%02d", i, j), time.Duration(72+j*2)*time.Hour, "new drop #agency", "", 10000)
			p.Account = user
			fake.AddPost(p)
		}
		fmt.Fprintf(&cfg, `  - type: tiktok
    name: tiktok-%05d
    base_url: %s
    token: %s
    interval: %s
    http: {max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 5ms, rate_limit: 1000000, burst: 1000}
`, i, srv.URL, tok, interval)
	}
	cfg.WriteString("campaigns:\n  - name: spring\n    start: 2026-05-01T00:00:00Z\n    end: 2026-06-01T00:00:00Z\n    creators:\n")
	for i := range accounts {
		fmt.Fprintf(&cfg, "      - name: %s\n        accounts:\n          - {collector: tiktok-%05d, id: %s, match: \"#agency\"}\n",
			agency.CreatorName(i), i, agency.CreatorName(i))
	}
	env = srv.Build(tb, cfg.String())
	for _, in := range env.Instances {
		in.Collector.(*collector).now = clock.Now
	}
	byToken = func(i int) int {
		mu.Lock()
		defer mu.Unlock()
		return tokens[fmt.Sprintf("act.agency-%05d", i)]
	}
	return srv, env, clock, byToken
}

package tiktok

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/influencer-exporter/influencer_exporter/collectors/tiktok/tiktokfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const (
	token  = "act.test-token-5ecret"
	openID = "open-alice"
)

// now is the test clock's start: nine days into campaign spring.
var now = time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)

// sandbox is a fake TikTok on loopback whose user alice has the token,
// with a clock the test moves; the collector reads the same clock.
type sandbox struct {
	fake  *tiktokfake.Server
	url   string
	clock *exportertest.ManualClock
	// cut decides when a refresh runs out of time.
	cut *exportertest.Cutoff
}

func newSandbox(t *testing.T, fakeToken string, posts ...tiktokfake.Post) *sandbox {
	t.Helper()
	clock := exportertest.NewManualClock(now)
	fake := tiktokfake.New(fakeToken, clock.Now)
	fake.AddAccount(tiktokfake.Account{ID: openID, Username: "alice.makes", Followers: 12000,
		NewFollowers: fakeapi.Curve{Final: 3000, Midpoint: 2 * time.Hour, Spread: 30 * time.Minute}})
	for _, p := range posts {
		fake.AddPost(p)
	}
	cut := exportertest.NewCutoff(fake)
	return &sandbox{fake: fake, url: exportertest.Serve(t, cut), clock: clock, cut: cut}
}

// config renders one tiktok collector on the fake; auth is its token
// line(s), options a YAML flow map, creators the creators of campaign
// spring (May 2026), extra more campaigns.
func (s *sandbox) config(auth, options, creators, extra string) string {
	return fmt.Sprintf(`
collectors:
  - type: tiktok
    base_url: %s
%s    interval: 1m
    http: {max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 5ms, rate_limit: 1000}
    options: %s
campaigns:
  - name: spring
    start: 2026-05-01T00:00:00Z
    end: 2026-06-01T00:00:00Z
    creators:
%s%s`, s.url, auth, options, creators, extra)
}

// build builds the config and sets the collector's clock to the fake's.
func (s *sandbox) build(t *testing.T, config string) *exportertest.Env {
	t.Helper()
	env := exportertest.Build(t, config)
	env.Instance(t, "tiktok").Collector.(*collector).now = s.clock.Now
	return env
}

func tokenLine(tok string) string { return "    token: " + tok + "\n" }

// alice renders creator alice with the account (match may be empty) and
// the configured video ids.
func alice(match string, ids ...string) string {
	var b strings.Builder
	b.WriteString("      - name: alice\n")
	if match != "-" {
		fmt.Fprintf(&b, "        accounts:\n          - {collector: tiktok, id: alice.makes, match: %q}\n", match)
	}
	if len(ids) > 0 {
		b.WriteString("        posts:\n")
	}
	for _, id := range ids {
		fmt.Fprintf(&b, "          - {collector: tiktok, id: %q}\n", id)
	}
	return b.String()
}

// post is a video of alice's published age before now.
func post(id string, age time.Duration, title, caption string, views float64) tiktokfake.Post {
	return tiktokfake.Post{
		ID: id, Title: title, Caption: caption, Published: now.Add(-age),
		Views:    fakeapi.Curve{Final: views, Midpoint: 3 * time.Hour, Spread: time.Hour},
		Likes:    fakeapi.Curve{Final: views / 10, Midpoint: 3 * time.Hour, Spread: time.Hour},
		Comments: fakeapi.Curve{Final: views / 100, Midpoint: 3 * time.Hour, Spread: time.Hour},
		Shares:   fakeapi.Curve{Final: views / 50, Midpoint: time.Hour, Spread: 20 * time.Minute},
	}
}

// viewsAt is the fake's view count of p at t.
func viewsAt(p tiktokfake.Post, t time.Time) int64 { return p.Views.At(t.Sub(p.Published)) }

func poll(t *testing.T, env *exportertest.Env) []exporter.Sample {
	t.Helper()
	samples, err := env.Poll(t, "tiktok")
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	return samples
}

// calls polls and returns how many API calls the refresh made.
func (s *sandbox) calls(t *testing.T, env *exportertest.Env) ([]exporter.Sample, int) {
	t.Helper()
	before := s.fake.Faults.Hits()
	samples := poll(t, env)
	return samples, s.fake.Faults.Hits() - before
}

func TestPoll(t *testing.T) {
	sb := newSandbox(t, token,
		post("7101", 2*time.Hour, "unboxing", "no tag here", 40000),      // configured
		post("7102", time.Hour, "", "#spring haul, link in bio", 9000),   // discovered
		post("7103", 3*time.Hour, "", "#springtime vibes", 5000),         // another tag
		post("7104", 20*24*time.Hour, "", "#spring last year", 800000),   // before the window
		post("7105", 30*time.Minute, "#Spring! part 2", "", 1200),        // tag in the title
		post("7106", -time.Hour, "", "#spring tomorrow", 100),            // not published yet
		post("7107", 5*time.Hour, "", "#spring for the summer drop", 70), // configured elsewhere: configured wins
	)
	summer := `
  - name: summer
    creators:
      - name: alice
        posts:
          - {collector: tiktok, id: "7107"}
`
	env := sb.build(t, sb.config(tokenLine(token), `{}`, alice("#spring", "7101"), summer))
	for i, want := range []int{2, 2} {
		samples, calls := sb.calls(t, env)
		exportertest.CompareGolden(t, samples, "poll.prom")
		// User info and one page of the listing, which carries every
		// video's counts: nothing left to query.
		if calls != want {
			t.Errorf("refresh %d: %d API calls, want %d", i+1, calls, want)
		}
		for _, s := range samples {
			if s.Metric == exporter.PostReach || s.Label("type") == "saves" {
				t.Errorf("TikTok reports no reach or saves, got %s %v", s.Metric.Name, s.LabelValues)
			}
		}
	}
}

func TestQueryBatches(t *testing.T) {
	var posts []tiktokfake.Post
	var ids []string
	for i := range 45 {
		id := fmt.Sprint(7200 + i)
		posts = append(posts, post(id, time.Duration(i+1)*time.Minute, "", "", 100))
		ids = append(ids, id)
	}
	sb := newSandbox(t, token, posts...)
	env := sb.build(t, sb.config(tokenLine(token), `{}`, alice("-", ids...), ""))
	// 45 videos at 20 a call: 3 calls, not 45 (the fake refuses more than
	// 20 ids in one).
	samples, calls := sb.calls(t, env)
	if calls != 3 {
		t.Errorf("API calls for 45 videos: %d, want 3", calls)
	}
	// Views, likes, comments, shares and publish time of each.
	if len(samples) != 45*5 {
		t.Errorf("%d samples, want %d", len(samples), 45*5)
	}
	for _, id := range ids {
		if n := sb.fake.Served(id); n != 1 {
			t.Errorf("video %s served %d times, want 1", id, n)
		}
	}
}

// taggedPosts are 50 videos tagged #spring an hour apart in the window
// (7301 to 7350) and 30 from before it (7401 to 7430).
func taggedPosts() []tiktokfake.Post {
	var posts []tiktokfake.Post
	for i := 1; i <= 50; i++ {
		posts = append(posts, post(fmt.Sprint(7300+i), time.Duration(i)*time.Hour, "", fmt.Sprintf("day %d #spring", i), float64(100*i)))
	}
	for i := 1; i <= 30; i++ {
		posts = append(posts, post(fmt.Sprint(7400+i), 30*24*time.Hour+time.Duration(i)*time.Hour, "", "#spring", 1))
	}
	return posts
}

func TestDiscoveryPagination(t *testing.T) {
	sb := newSandbox(t, token, taggedPosts()...)
	env := sb.build(t, sb.config(tokenLine(token), `{}`, alice("#spring"), ""))
	tests := []struct {
		after time.Duration
		calls int
		why   string
	}{
		{0, 4, "user info and 3 pages: the third reaches videos from before the window"},
		{time.Minute, 2, "user info and the first page, which reaches known videos; videos 21-50 are not due"},
		{4 * time.Minute, 4, "user info, one page, and 2 queries for videos 21-47 (under 2 days old, due every 5 minutes)"},
	}
	for _, tt := range tests {
		sb.clock.Advance(tt.after)
		samples, calls := sb.calls(t, env)
		if calls != tt.calls {
			t.Errorf("after %s: %d API calls, want %d: %s", tt.after, calls, tt.calls, tt.why)
		}
		if tt.after == 0 {
			exportertest.CompareGolden(t, samples, "pagination.prom")
		}
		published := 0
		for _, s := range samples {
			if s.Metric == exporter.PostPublished {
				published++
			}
		}
		if published != 50 {
			t.Errorf("after %s: %d videos reported, want 50", tt.after, published)
		}
	}
}

func TestDiscoveryNewPost(t *testing.T) {
	old := post("7501", 2*time.Hour, "", "#spring", 1000)
	launch := post("7502", -30*time.Minute, "", "launch day #spring", 5000) // published in 30 minutes
	sb := newSandbox(t, token, old, launch, post("7503", -40*time.Minute, "", "launch day #spring2", 5000))
	env := sb.build(t, sb.config(tokenLine(token), `{full_listing_every: 24h}`, alice("#spring"), ""))
	videos := func(samples []exporter.Sample) string {
		var ids []string
		for _, s := range samples {
			if s.Metric == exporter.PostPublished {
				ids = append(ids, s.Label("post"))
			}
		}
		return strings.Join(ids, ",")
	}
	if got := videos(poll(t, env)); got != "7501" {
		t.Errorf("before publication: %s", got)
	}
	sb.clock.Advance(time.Hour)
	samples := poll(t, env)
	if got := videos(samples); got != "7501,7502" {
		t.Errorf("an hour later: %s, want 7501,7502", got)
	}
	exportertest.CompareText(t, samples, exportertest.MetricText(exporter.PostViews,
		fmt.Sprintf(`influencer_post_views{campaign="spring",creator="alice",post="7501",provider="tiktok"} %d`, viewsAt(old, sb.clock.Now())),
		fmt.Sprintf(`influencer_post_views{campaign="spring",creator="alice",post="7502",provider="tiktok"} %d`, viewsAt(launch, sb.clock.Now())),
	), exporter.PostViews.Name)
}

func TestUnknownPostIsPartial(t *testing.T) {
	known := post("7601", time.Hour, "", "", 1000)
	sb := newSandbox(t, token, known)
	sb.fake.AddAccount(tiktokfake.Account{ID: "open-bob", Token: "act.bob"})
	sb.fake.AddPost(tiktokfake.Post{ID: "7602", Account: "open-bob", Published: now.Add(-time.Hour)})
	env := sb.build(t, sb.config(tokenLine(token), `{}`, alice("-", "7601", "7602", "7603"), ""))
	samples, err := env.Poll(t, "tiktok")
	exportertest.AssertPartial(t, err, exporter.ErrNotFound, `video "7602" (campaigns[0].creators[0].posts[1])`, `video "7603" (campaigns[0].creators[0].posts[2])`, "not among the public videos of the token's user")
	exportertest.CompareText(t, samples, exportertest.MetricText(exporter.PostViews,
		fmt.Sprintf(`influencer_post_views{campaign="spring",creator="alice",post="7601",provider="tiktok"} %d`, viewsAt(known, now)),
	), exporter.PostViews.Name)
}

func TestAdaptiveRefresh(t *testing.T) {
	posts := []tiktokfake.Post{
		post("7701", time.Hour, "", "", 1000),      // young: every minute
		post("7702", 24*time.Hour, "", "", 1000),   // a day old: every 5 minutes
		post("7703", 72*time.Hour, "", "", 1000),   // three days old: every 15 minutes
		post("7704", 10*time.Minute, "", "", 1000), // young
	}
	tests := []struct {
		name    string
		options string
		want    map[string]int
	}{
		{"default cadence", `{}`, map[string]int{"7701": 16, "7702": 4, "7703": 2, "7704": 16}},
		{"custom cadence", `{post_refresh: [{age: 0s, every: 2m}, {age: 2h, every: 1h}]}`, map[string]int{"7701": 8, "7702": 1, "7703": 1, "7704": 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, token, posts...)
			env := sb.build(t, sb.config(tokenLine(token), tt.options, alice("-", "7701", "7702", "7703", "7704"), ""))
			var last []exporter.Sample
			for minute := range 16 {
				if minute > 0 {
					sb.clock.Advance(time.Minute)
				}
				last = poll(t, env)
			}
			for id, want := range tt.want {
				if got := sb.fake.Served(id); got != want {
					t.Errorf("video %s polled %d times in 15 minutes, want %d", id, got, want)
				}
			}
			// Posts not polled keep their last values.
			if len(last) != 4*5 {
				t.Errorf("%d samples after the last refresh, want %d", len(last), 4*5)
			}
		})
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name      string
		fakeToken string
		setup     func(*tiktokfake.Server)
		want      error
		contains  []string
	}{
		{"wrong token", "another-token", nil, exporter.ErrUnauthorized,
			[]string{"tiktok: followers of the token's user: access token invalid or expired", "HTTP 401", "HTTP 401: access_token_invalid: credential refused"}},
		{"token error on HTTP 200", token, func(s *tiktokfake.Server) {
			s.SetError(http.StatusOK, "access_token_invalid", "Access token is invalid, please refresh token and retry", -1)
		}, exporter.ErrUnauthorized, []string{"tiktok: followers of the token's user: access token invalid or expired", "access_token_invalid: Access token is invalid"}},
		{"missing scope", token, func(s *tiktokfake.Server) {
			s.SetError(http.StatusBadRequest, "scope_permission_missed", "follower_count needs the user.info.stats scope", -1)
		}, exporter.ErrUnauthorized, []string{"tiktok", "HTTP 400", "scope_permission_missed: follower_count needs"}},
		{"rate limited on HTTP 200", token, func(s *tiktokfake.Server) {
			s.SetError(http.StatusOK, "rate_limit_exceeded", "The API rate limit was exceeded.", -1)
		}, exporter.ErrRateLimited, []string{"tiktok", "rate_limit_exceeded"}},
		{"rate limited", token, func(s *tiktokfake.Server) {
			s.Faults.SetRetryAfter(0)
			s.Faults.Set(fakeapi.RateLimited, -1)
		}, exporter.ErrRateLimited, []string{"tiktok", "HTTP 429", "rate_limit_exceeded"}},
		{"server error", token, func(s *tiktokfake.Server) { s.Faults.Set(fakeapi.ServerError, -1) },
			exporter.ErrServer, []string{"tiktok", "HTTP 500", "internal_error"}},
		{"malformed body", token, func(s *tiktokfake.Server) { s.Faults.Set(fakeapi.Malformed, -1) },
			exporter.ErrBadResponse, []string{"tiktok", "decode JSON"}},
		{"no error code", token, func(s *tiktokfake.Server) { s.SetError(http.StatusOK, "", "", -1) },
			exporter.ErrBadResponse, []string{"tiktok", "no error.code in the answer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, tt.fakeToken, post("7801", time.Hour, "", "#spring", 10))
			if tt.setup != nil {
				tt.setup(sb.fake)
			}
			env := sb.build(t, sb.config(tokenLine(token), `{}`, alice("#spring", "7801"), ""))
			samples, err := env.Poll(t, "tiktok")
			exportertest.AssertFailed(t, samples, err, tt.want, token, tt.contains...)

			// The scheduler marks the collector down with that error.
			exportertest.AssertRefreshDown(t, env, "tiktok", []string{token}, tt.contains[0])
		})
	}
}

func TestRateLimitedThenSuccess(t *testing.T) {
	p := post("7901", time.Hour, "", "", 1000)
	sb := newSandbox(t, token, p)
	env := sb.build(t, sb.config(tokenLine(token), `{}`, alice("-", "7901"), ""))
	samples := exportertest.PollAfterRateLimit(t, env, &sb.fake.Faults, "tiktok")
	exportertest.CompareText(t, samples, exportertest.MetricText(exporter.PostViews,
		fmt.Sprintf(`influencer_post_views{campaign="spring",creator="alice",post="7901",provider="tiktok"} %d`, viewsAt(p, now)),
	), exporter.PostViews.Name)
}

// refreshSetup serves a fake whose app accepts the client key and secret
// and alice's refresh token, and writes the token to a file.
func refreshSetup(t *testing.T, refreshToken string) (*sandbox, string, string) {
	t.Helper()
	sb := newSandbox(t, "act.unused", post("8101", time.Hour, "", "#spring", 1000))
	const secret = "client-5ecret-value"
	sb.fake.SetApp("ck-test", secret)
	sb.fake.AddRefreshToken("rft.initial-5ecret", openID)
	t.Setenv("TIKTOK_TEST_CLIENT_SECRET", secret)
	file := filepath.Join(t.TempDir(), "tiktok.refresh")
	if err := os.WriteFile(file, []byte(refreshToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := fmt.Sprintf(`{client_key: ck-test, client_secret_env: TIKTOK_TEST_CLIENT_SECRET, refresh_token_file: %q}`, file)
	return sb, opts, file
}

func TestTokenRefresh(t *testing.T) {
	sb, opts, file := refreshSetup(t, "rft.initial-5ecret")
	env := sb.build(t, sb.config("", opts, alice("#spring", "8101"), ""))
	refreshToken := func() string {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	expiry := func() time.Time {
		return time.Unix(int64(testutil.ToFloat64(env.Metrics.TokenExpiry.WithLabelValues("tiktok"))), 0).UTC()
	}
	// The refresh token's expiry, a year from its issuance: the one a
	// person must act on. Access tokens renew themselves.
	wantExpiry := now.Add(tiktokfake.RefreshTokenTTL)

	steps := []struct {
		name    string
		advance time.Duration
		before  func()
		calls   int
		renewed bool
	}{
		{"first refresh gets an access token", 0, nil, 3, true},
		{"a minute later", time.Minute, nil, 2, false},
		{"23 hours later, not yet", 23 * time.Hour, nil, 2, false},
		{"half an hour before expiry", 30 * time.Minute, nil, 3, true},
		{"token refused: renewed once, call repeated", time.Minute, func() { sb.fake.ExpireTokens(openID) }, 4, true},
	}
	last := refreshToken()
	for _, st := range steps {
		sb.clock.Advance(st.advance)
		if st.before != nil {
			st.before()
		}
		_, calls := sb.calls(t, env)
		if calls != st.calls {
			t.Errorf("%s: %d API calls, want %d", st.name, calls, st.calls)
		}
		rt := refreshToken()
		if renewed := rt != last; renewed != st.renewed {
			t.Errorf("%s: refresh token file rewritten %t, want %t", st.name, renewed, st.renewed)
		}
		last = rt
		if got := expiry(); !got.Equal(wantExpiry) {
			t.Errorf("%s: token expiry %s, want %s", st.name, got, wantExpiry)
		}
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("refresh token file: %v, mode %v", err, fi.Mode())
	}
}

func TestTokenRefreshRefused(t *testing.T) {
	sb, opts, _ := refreshSetup(t, "rft.revoked-5ecret")
	env := sb.build(t, sb.config("", opts, alice("#spring"), ""))
	samples, err := env.Poll(t, "tiktok")
	exportertest.AssertFailed(t, samples, err, exporter.ErrUnauthorized, "rft.revoked-5ecret",
		"tiktok: renew the access token with options.refresh_token_file", "HTTP 400", "invalid_grant: Refresh token is invalid or expired")
	if strings.Contains(err.Error(), "client-5ecret-value") {
		t.Errorf("error %q shows the client secret", err)
	}
}

func TestBadOptions(t *testing.T) {
	sb := newSandbox(t, token)
	t.Setenv("TIKTOK_TEST_SECRET", "s3cret-value")
	file := filepath.Join(t.TempDir(), "rt")
	if err := os.WriteFile(file, []byte("rft.x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	refresh := fmt.Sprintf(`client_key: ck, client_secret_env: TIKTOK_TEST_SECRET, refresh_token_file: %q`, file)
	bob := "      - name: bob\n        accounts:\n          - {collector: tiktok, id: bob.tt}\n"
	tests := []struct {
		name, auth, options, creators string
		want                          []string
	}{
		{"cadence not from age 0", tokenLine(token), `{post_refresh: [{age: 1h, every: 1m}]}`, alice("-"),
			[]string{"collectors[0].options.post_refresh[0].age: the first step must start at age 0"}},
		{"cadence step without interval", tokenLine(token), `{post_refresh: [{age: 0s, every: 0s}]}`, alice("-"),
			[]string{"collectors[0].options.post_refresh[0].every: must be positive"}},
		{"bad duration", tokenLine(token), `{full_listing_every: soon}`, alice("-"), []string{"collectors[0].options"}},
		{"unknown option", tokenLine(token), `{page_size: 5}`, alice("-"), []string{"collectors[0].options.page_size"}},
		{"no token", "", `{}`, alice("-"), []string{"collectors[0].token: tiktok needs the user's access token"}},
		{"token and refresh token", tokenLine(token), "{" + refresh + "}", alice("-"),
			[]string{"collectors[0].token: set either a static access token or options.refresh_token_file, not both"}},
		{"refresh without client key", "", fmt.Sprintf(`{client_secret_env: TIKTOK_TEST_SECRET, refresh_token_file: %q}`, file), alice("-"),
			[]string{"collectors[0].options.client_key: missing"}},
		{"secret variable unset", "", fmt.Sprintf(`{client_key: ck, client_secret_env: TIKTOK_TEST_UNSET, refresh_token_file: %q}`, file), alice("-"),
			[]string{"collectors[0].options.client_secret_env: environment variable TIKTOK_TEST_UNSET is not set"}},
		{"refresh token file missing", "", `{client_key: ck, client_secret_env: TIKTOK_TEST_SECRET, refresh_token_file: no-such-file}`, alice("-"),
			[]string{"collectors[0].options.refresh_token_file: read refresh token"}},
		{"video id not a number", tokenLine(token), `{}`, alice("-", "https://www.tiktok.com/@alice/video/7101"),
			[]string{`campaigns[0].creators[0].posts[0].id: tiktok video id "https://www.tiktok.com/@alice/video/7101" must be the number`}},
		{"two accounts on one collector", tokenLine(token), `{}`, alice("#spring") + bob,
			[]string{`campaigns[0].creators[1].accounts[0].id: account "bob.tt" differs from "alice.makes" (campaigns[0].creators[0].accounts[0])`, "configure a collector per account"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exportertest.AssertConfigError(t, sb.config(tt.auth, tt.options, tt.creators, ""), tt.want...)
		})
	}
	t.Run("same account in two campaigns", func(t *testing.T) {
		extra := "\n  - name: summer\n    creators:\n" + alice("#summer")
		exportertest.Build(t, sb.config(tokenLine(token), `{}`, alice("#spring"), extra))
	})
}

func TestVideoSamplesAbsentNotZero(t *testing.T) {
	likes := int64(0)
	v := video{ID: "1", CreateTime: 1700000000, LikeCount: &likes}
	got := videoSamples(v, []owner{{"spring", "alice"}})
	want := "influencer_post_engagements likes 0; influencer_post_published_timestamp_seconds  1.7e+09"
	var parts []string
	for _, s := range got {
		parts = append(parts, fmt.Sprintf("%s %s %g", s.Metric.Name, s.Label("type"), s.Value))
	}
	if g := strings.Join(parts, "; "); g != want {
		t.Errorf("samples of a video without views, comments and shares:\n got %s\nwant %s", g, want)
	}
}

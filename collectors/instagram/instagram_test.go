package instagram

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/influencer-exporter/influencer_exporter/collectors/instagram/instagramfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const token = "EAAGtest0secret0token"

// t0 is when every test starts; campaign spring runs from May 25 to June
// 15.
var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// sandbox is a fake Graph API on loopback and the clock it and the
// collector share.
type sandbox struct {
	fake  *instagramfake.Server
	clock *exportertest.ManualClock
	url   string
	// cut decides when a refresh runs out of time.
	cut *exportertest.Cutoff
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	clock := exportertest.NewManualClock(t0)
	fake := instagramfake.New(token, clock.Now)
	cut := exportertest.NewCutoff(fake)
	return &sandbox{fake: fake, clock: clock, url: exportertest.Serve(t, cut) + "/v26.0", cut: cut}
}

// config renders a config with one instagram collector on the fake;
// options is a YAML flow map, creators the creators of campaign spring.
func (s *sandbox) config(options, creators string) string {
	return fmt.Sprintf(`
collectors:
  - type: instagram
    base_url: %s
    token: %s
    interval: 1m
    http: {max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 5ms, rate_limit: 1000}
    options: %s
campaigns:
  - name: spring
    start: 2026-05-25T00:00:00Z
    end: 2026-06-15T00:00:00Z
    creators:
%s`, s.url, token, options, creators)
}

// build builds that config, with the collector on the sandbox's clock.
func (s *sandbox) build(t *testing.T, options, creators string) *exportertest.Env {
	t.Helper()
	env := exportertest.Build(t, s.config(options, creators))
	env.Instance(t, "instagram").Collector.(*collector).now = s.clock.Now
	return env
}

func (s *sandbox) poll(t *testing.T, env *exportertest.Env) []exporter.Sample {
	t.Helper()
	samples, err := env.Poll(t, "instagram")
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	return samples
}

// hitsSince returns the fake's HTTP requests since *before, and moves
// *before on.
func (s *sandbox) hitsSince(before *int) int {
	n := s.fake.Faults.Hits() - *before
	*before = s.fake.Faults.Hits()
	return n
}

func curve(final float64, mid time.Duration) fakeapi.Curve {
	return fakeapi.Curve{Final: final, Midpoint: mid, Spread: mid / 2}
}

// creator renders a creator with posts (ids) and accounts ("id" or
// "id match").
func creator(name string, posts []string, accounts ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "      - name: %s\n", name)
	if len(posts) > 0 {
		b.WriteString("        posts:\n")
		for _, p := range posts {
			fmt.Fprintf(&b, "          - {collector: instagram, id: %q}\n", p)
		}
	}
	if len(accounts) > 0 {
		b.WriteString("        accounts:\n")
		for _, a := range accounts {
			id, match, _ := strings.Cut(a, " ")
			fmt.Fprintf(&b, "          - {collector: instagram, id: %q, match: %q}\n", id, match)
		}
	}
	return b.String()
}

// seed adds alice's account 1001 with four configured posts of every kind,
// and bob's account 1002 whose posts are found by #spring.
func seed(f *instagramfake.Server) {
	f.AddAccount(instagramfake.Account{ID: "1001", Username: "alice", Followers: 5000})
	f.AddAccount(instagramfake.Account{ID: "1002", Username: "bob", Followers: 800})
	h := time.Hour
	f.AddPost(instagramfake.Post{ID: "2001", Account: "1001", Caption: "New drop", Published: t0.Add(-2 * h),
		Views: curve(9000, 3*h), Reach: curve(6000, 3*h), Likes: curve(700, 3*h), Comments: curve(80, 3*h),
		Saves: curve(150, 4*h), Shares: curve(90, 4*h)})
	f.AddPost(instagramfake.Post{ID: "2002", Account: "1001", Caption: "Reel", Published: t0.Add(-30 * h),
		MediaType: instagramfake.Video, Product: instagramfake.Reels,
		Views: curve(40000, 5*h), Reach: curve(25000, 5*h), Likes: curve(2000, 5*h), Comments: curve(120, 5*h),
		Saves: curve(600, 6*h), Shares: curve(900, 6*h)})
	// A story: no likes, comments or saves at all.
	f.AddPost(instagramfake.Post{ID: "2003", Account: "1001", Published: t0.Add(-3 * h), Product: instagramfake.Story,
		Views: curve(400, h), Reach: curve(300, h), Shares: curve(5, h), Saves: curve(10, h), Likes: curve(10, h)})
	// A carousel whose insights lag: likes and comments only.
	f.AddPost(instagramfake.Post{ID: "2004", Account: "1001", Caption: "Carousel", Published: t0.Add(-10 * time.Minute),
		MediaType: instagramfake.Carousel, InsightsAfter: h,
		Views: curve(500, h), Reach: curve(400, h), Likes: curve(60, h), Comments: curve(6, h), Saves: curve(9, h), Shares: curve(3, h)})
	// A story fewer than 5 accounts saw: no insights.
	f.AddPost(instagramfake.Post{ID: "2005", Account: "1001", Published: t0.Add(-h), Product: instagramfake.Story,
		Views: curve(4, time.Minute)})

	f.AddPost(instagramfake.Post{ID: "3001", Account: "1002", Caption: "Loving the #Spring drop!", Published: t0.Add(-h),
		Views: curve(3000, 2*h), Reach: curve(2500, 2*h), Likes: curve(200, 2*h), Comments: curve(20, 2*h), Saves: curve(40, 2*h), Shares: curve(12, 2*h)})
	f.AddPost(instagramfake.Post{ID: "3002", Account: "1002", Caption: "#springtime vibes", Published: t0.Add(-h)})
	f.AddPost(instagramfake.Post{ID: "3003", Account: "1002", Caption: "no tag", Published: t0.Add(-h)})
	f.AddPost(instagramfake.Post{ID: "3004", Account: "1002", Caption: "#spring last year", Published: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)})
	f.AddPost(instagramfake.Post{ID: "3005", Account: "1002", Caption: "coming #spring", Published: t0.Add(time.Hour),
		Views: curve(100, h), Reach: curve(80, h), Likes: curve(10, h), Comments: curve(1, h), Saves: curve(2, h), Shares: curve(1, h)})
	f.AddPost(instagramfake.Post{ID: "3006", Account: "1002", Caption: "after the #spring campaign", Published: time.Date(2026, 6, 20, 0, 0, 0, 0, time.UTC)})
}

var seedCreators = creator("alice", []string{"2001", "2002", "2003", "2004", "2005"}, "1001") +
	creator("bob", nil, "1002 #spring")

func TestPoll(t *testing.T) {
	sb := newSandbox(t)
	seed(sb.fake)
	expiry := t0.Add(50 * 24 * time.Hour)
	sb.fake.SetTokenExpiry(expiry)
	env := sb.build(t, `{}`, seedCreators)
	var hits int
	samples := sb.poll(t, env)
	exportertest.CompareGolden(t, samples, "poll.prom")
	// debug_token, bob's listing, a batch of followers, alice's fields and
	// the insights of bob's listed post, then a batch of alice's insights
	// once their product types are known.
	if got := sb.hitsSince(&hits); got != 4 {
		t.Errorf("first refresh: %d HTTP requests, want 4", got)
	}
	if used, _ := sb.fake.Usage(); used != 1+1+3+5 {
		t.Errorf("first refresh: %d calls counted, want 10", used)
	}
	if got := testutil.ToFloat64(env.Metrics.TokenExpiry.WithLabelValues("instagram")); got != float64(expiry.Unix()) {
		t.Errorf("token expiry %g, want %d", got, expiry.Unix())
	}
	if got := env.Quota("instagram"); got != 100 {
		t.Errorf("quota remaining %g", got)
	}

	// Nothing is due a second later: the listing and followers only, and
	// the same values.
	sb.clock.Advance(time.Second)
	exportertest.CompareGolden(t, sb.poll(t, env), "poll.prom")
	if got := sb.hitsSince(&hits); got != 2 {
		t.Errorf("second refresh: %d HTTP requests, want 2", got)
	}
}

// TestAbsentNotZero checks that what Graph does not report for a post is
// not exported: a story has no likes, comments or saves; a post whose
// insights lag has no views, reach, saves or shares yet; a story with too
// few viewers has no insights.
func TestAbsentNotZero(t *testing.T) {
	sb := newSandbox(t)
	seed(sb.fake)
	env := sb.build(t, `{token_check_interval: 0}`, seedCreators)
	have := map[string]bool{}
	for _, s := range sb.poll(t, env) {
		have[s.Metric.Name+" "+s.Label("post")+" "+s.Label("type")] = true
	}
	for _, tc := range []struct {
		series string
		want   bool
	}{
		{"influencer_post_engagements 2003 saves", false},
		{"influencer_post_engagements 2003 likes", false},
		{"influencer_post_engagements 2003 comments", false},
		{"influencer_post_engagements 2003 shares", true},
		{"influencer_post_views 2003 ", true},
		{"influencer_post_views 2004 ", false},
		{"influencer_post_reach 2004 ", false},
		{"influencer_post_engagements 2004 saves", false},
		{"influencer_post_engagements 2004 likes", true},
		{"influencer_post_views 2005 ", false},
		{"influencer_post_published_timestamp_seconds 2005 ", true},
		{"influencer_post_engagements 2002 saves", true},
	} {
		if have[tc.series] != tc.want {
			t.Errorf("%s: exported %v, want %v", tc.series, have[tc.series], tc.want)
		}
	}
}

func TestDiscovery(t *testing.T) {
	sb := newSandbox(t)
	seed(sb.fake)
	env := sb.build(t, `{token_check_interval: 0}`, creator("bob", nil, "1002 #spring"))
	posts := func() string {
		var ids []string
		for _, s := range sb.poll(t, env) {
			if s.Metric == exporter.PostPublished {
				ids = append(ids, s.Label("post"))
			}
		}
		return strings.Join(ids, ",")
	}
	// 3002 carries #springtime, 3003 no tag, 3004 was posted before the
	// campaign, 3005 is not published yet, 3006 after the campaign.
	if got := posts(); got != "3001" {
		t.Errorf("discovered %s, want 3001", got)
	}
	sb.clock.Advance(61 * time.Minute)
	if got := posts(); got != "3001,3005" {
		t.Errorf("after 3005 was published: %s, want 3001,3005", got)
	}
}

func TestDiscoveryPagination(t *testing.T) {
	tests := []struct {
		name     string
		options  string
		pages    int
		found    int
		requests int
	}{
		// Seven campaign posts, two a page: the fourth page reaches back
		// before the campaign start, so the three older posts are never
		// listed.
		{"stops at the campaign start", `{page_size: 2, token_check_interval: 0}`, 4, 7, 5},
		{"max_pages", `{page_size: 2, max_pages: 2, token_check_interval: 0}`, 2, 4, 3},
		{"one page", `{page_size: 100, token_check_interval: 0}`, 1, 7, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t)
			sb.fake.AddAccount(instagramfake.Account{ID: "1002", Followers: 10})
			for i := range 7 {
				sb.fake.AddPost(instagramfake.Post{ID: fmt.Sprintf("40%d", i), Account: "1002", Caption: "#spring",
					Published: t0.Add(-time.Duration(i+1) * time.Hour), Views: curve(100, time.Hour)})
			}
			for i := range 3 {
				sb.fake.AddPost(instagramfake.Post{ID: fmt.Sprintf("50%d", i), Account: "1002", Caption: "#spring",
					Published: time.Date(2026, 5, 1+i, 0, 0, 0, 0, time.UTC)})
			}
			env := sb.build(t, tt.options, creator("bob", nil, "1002 #spring"))
			found := 0
			for _, s := range sb.poll(t, env) {
				if s.Metric == exporter.PostViews {
					found++
				}
			}
			if found != tt.found {
				t.Errorf("found %d posts, want %d", found, tt.found)
			}
			// The listing pages, then one batch: followers and the
			// insights of the listed posts.
			if got := sb.fake.Faults.Hits(); got != tt.requests {
				t.Errorf("%d HTTP requests, want %d (%d pages)", got, tt.requests, tt.pages)
			}
		})
	}
}

// TestBatching measures the HTTP requests and Graph calls of refreshes of
// 120 configured posts of one account.
func TestBatching(t *testing.T) {
	tests := []struct {
		name                  string
		options               string
		first, second, ofCall int
	}{
		// First: followers and 3 reads of 50, 50 and 20 posts' fields
		// (1 request), then 120 insights (3). Second, with the product
		// types known: 124 operations in 3 requests.
		{"batches of 50", `{token_check_interval: 0}`, 4, 3, 4 + 120 + 124},
		{"batches of 10", `{token_check_interval: 0, batch_size: 10}`, 13, 13, 4 + 120 + 124},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t)
			sb.fake.AddAccount(instagramfake.Account{ID: "1001", Followers: 42})
			var ids []string
			for i := range 120 {
				id := fmt.Sprintf("%d", 7000+i)
				ids = append(ids, id)
				sb.fake.AddPost(instagramfake.Post{ID: id, Account: "1001", Published: t0.Add(-time.Hour),
					Views: curve(float64(1000+i), time.Hour), Reach: curve(500, time.Hour), Likes: curve(float64(i), time.Hour)})
			}
			env := sb.build(t, tt.options, creator("alice", ids, "1001"))
			var hits int
			samples := sb.poll(t, env)
			// Followers, and per post its publish time, likes, comments,
			// views, reach, saves and shares.
			if len(samples) != 1+120*7 {
				t.Errorf("%d samples, want %d", len(samples), 1+120*7)
			}
			if got := sb.hitsSince(&hits); got != tt.first {
				t.Errorf("first refresh: %d HTTP requests, want %d", got, tt.first)
			}
			sb.clock.Advance(15 * time.Minute)
			sb.poll(t, env)
			if got := sb.hitsSince(&hits); got != tt.second {
				t.Errorf("second refresh: %d HTTP requests, want %d", got, tt.second)
			}
			if used, _ := sb.fake.Usage(); used != tt.ofCall {
				t.Errorf("%d Graph calls counted, want %d", used, tt.ofCall)
			}
			if got := sb.fake.InsightsCalls("7119"); got != 2 {
				t.Errorf("insights of 7119 read %d times", got)
			}
		})
	}
}

// TestAdaptiveRefresh polls every minute for half an hour: a post an hour
// old is read every time, one three days old every 15 minutes.
func TestAdaptiveRefresh(t *testing.T) {
	sb := newSandbox(t)
	sb.fake.AddAccount(instagramfake.Account{ID: "1001", Followers: 42})
	sb.fake.AddPost(instagramfake.Post{ID: "1", Account: "1001", Published: t0.Add(-time.Hour), Views: curve(1000, time.Hour)})
	sb.fake.AddPost(instagramfake.Post{ID: "2", Account: "1001", Published: t0.Add(-72 * time.Hour), Views: curve(1000, time.Hour)})
	env := sb.build(t, `{token_check_interval: 0}`, creator("alice", []string{"1", "2"}))
	for range 31 {
		samples := sb.poll(t, env)
		if len(samples) != 2*7 {
			t.Fatalf("%d samples: the old post must keep its values between polls", len(samples))
		}
		sb.clock.Advance(time.Minute)
	}
	// The old post is polled at 0, 14 and 28 minutes: the cadence allows
	// a tenth of slack for the scheduler's jitter.
	if young, old := sb.fake.InsightsCalls("1"), sb.fake.InsightsCalls("2"); young != 31 || old != 3 {
		t.Errorf("insights reads: young %d, old %d; want 31 and 3", young, old)
	}
}

func TestTokenExpired(t *testing.T) {
	tests := []struct {
		name, options, fakeToken string
		contains                 []string
	}{
		{"expired, at the token check", `{}`, token,
			[]string{"instagram: access token expired, renew the long-lived token: check access token", "Graph error 190 (subcode 463)", "Session has expired"}},
		{"expired, without the check", `{token_check_interval: 0}`, token,
			[]string{"instagram: access token expired, renew the long-lived token: media of account \"1002\"", "Session has expired"}},
		{"invalid", `{}`, "another-token",
			[]string{"instagram: access token invalid", "Invalid OAuth access token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := exportertest.NewManualClock(t0)
			fake := instagramfake.New(tt.fakeToken, clock.Now)
			seed(fake)
			fake.SetTokenExpiry(t0.Add(-time.Hour))
			sb := &sandbox{fake: fake, clock: clock, url: exportertest.Serve(t, fake) + "/v26.0"}
			env := sb.build(t, tt.options, seedCreators)
			samples, err := env.Poll(t, "instagram")
			exportertest.AssertFailed(t, samples, err, exporter.ErrUnauthorized, token, tt.contains...)

			exportertest.AssertRefreshDown(t, env, "instagram", []string{token}, tt.contains...)
		})
	}
}

func TestTokenCheckHourly(t *testing.T) {
	sb := newSandbox(t)
	seed(sb.fake)
	dataAccess := t0.Add(80 * 24 * time.Hour)
	sb.fake.SetDataAccessExpiry(dataAccess)
	env := sb.build(t, `{}`, seedCreators)
	for range 3 {
		sb.poll(t, env)
		sb.clock.Advance(20 * time.Minute)
	}
	if got := sb.fake.DebugTokenCalls(); got != 1 {
		t.Errorf("debug_token read %d times in 40 minutes", got)
	}
	// A token that never expires still loses access to the user's data.
	if got := testutil.ToFloat64(env.Metrics.TokenExpiry.WithLabelValues("instagram")); got != float64(dataAccess.Unix()) {
		t.Errorf("token expiry %g, want the data access expiry %d", got, dataAccess.Unix())
	}
	sb.clock.Advance(20 * time.Minute)
	sb.poll(t, env)
	if got := sb.fake.DebugTokenCalls(); got != 2 {
		t.Errorf("debug_token read %d times after an hour", got)
	}
}

func TestRateLimitedThenRecovers(t *testing.T) {
	sb := newSandbox(t)
	seed(sb.fake)
	env := sb.build(t, `{}`, seedCreators)
	samples := exportertest.PollAfterRateLimit(t, env, &sb.fake.Faults, "instagram")
	exportertest.CompareGolden(t, samples, "poll.prom")
}

// TestUsageBackoff: once Graph reports usage at max_usage_percent the
// collector holds its calls, before Graph throttles.
func TestUsageBackoff(t *testing.T) {
	sb := newSandbox(t)
	seed(sb.fake)
	sb.fake.SetCallLimit(100)
	env := sb.build(t, `{token_check_interval: 0, max_usage_percent: 5}`, creator("alice", []string{"2001", "2002"}, "1001"))
	sb.poll(t, env)
	// 2 calls, then 2 more: 4% used, below the threshold.
	if got := env.Quota("instagram"); got != 96 {
		t.Errorf("quota remaining %g, want 96", got)
	}
	// A minute later the reel, 30 hours old, is not due: followers,
	// fields and insights of 2001 make 7%.
	sb.clock.Advance(time.Minute)
	sb.poll(t, env)
	if got := env.Quota("instagram"); got != 93 {
		t.Errorf("quota remaining %g, want 93", got)
	}
	hits := sb.fake.Faults.Hits()
	samples, err := env.Poll(t, "instagram")
	exportertest.AssertFailed(t, samples, err, exporter.ErrRateLimited, token, "quota spent")
	if sb.fake.Faults.Hits() != hits {
		t.Error("the collector called Graph while paused")
	}
	if used, limit := sb.fake.Usage(); used >= limit {
		t.Errorf("Graph throttled: %d of %d calls", used, limit)
	}
}

// TestThrottled: Graph's own throttling, HTTP 400 with code 80002, fails
// the refresh as rate limited and pauses further calls.
func TestThrottled(t *testing.T) {
	sb := newSandbox(t)
	seed(sb.fake)
	sb.fake.SetCallLimit(3)
	env := sb.build(t, `{token_check_interval: 0, max_usage_percent: 100}`, creator("alice", []string{"2001", "2002"}, "1001"))
	samples, err := env.Poll(t, "instagram")
	exportertest.AssertFailed(t, samples, err, exporter.ErrRateLimited, token,
		"instagram: insights of post", "Graph error 80002", "too many calls to this Instagram account")
	if got := env.Quota("instagram"); got != 0 {
		t.Errorf("quota remaining %g, want 0", got)
	}
	hits := sb.fake.Faults.Hits()
	samples, err = env.Poll(t, "instagram")
	exportertest.AssertFailed(t, samples, err, exporter.ErrRateLimited, token, "quota spent")
	if sb.fake.Faults.Hits() != hits {
		t.Error("the collector called Graph while throttled")
	}
}

func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault fakeapi.Kind
		want  error
	}{
		{"server error", fakeapi.ServerError, exporter.ErrServer},
		{"malformed", fakeapi.Malformed, exporter.ErrBadResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t)
			seed(sb.fake)
			env := sb.build(t, `{}`, seedCreators)
			sb.fake.Faults.Set(tc.fault, -1)
			samples, err := env.Poll(t, "instagram")
			exportertest.AssertFailed(t, samples, err, tc.want, token, "instagram:")
			// A refresh once Graph is healthy again reports everything.
			sb.fake.Faults.Set(fakeapi.None, 0)
			exportertest.CompareGolden(t, sb.poll(t, env), "poll.prom")
		})
	}
}

func TestUnknownIsPartial(t *testing.T) {
	sb := newSandbox(t)
	seed(sb.fake)
	env := sb.build(t, `{token_check_interval: 0}`,
		creator("alice", []string{"2001", "9999"}, "1001", "8888"))
	want := exportertest.MetricText(exporter.AccountFollowers,
		`influencer_account_followers{account="1001",campaign="spring",creator="alice",provider="instagram"} 5000`) +
		exportertest.MetricText(exporter.PostViews,
			`influencer_post_views{campaign="spring",creator="alice",post="2001",provider="instagram"} 2248`)
	var hits int
	for refresh, requests := range []int{3, 1} {
		samples, err := env.Poll(t, "instagram")
		exportertest.AssertPartial(t, err, exporter.ErrNotFound,
			`instagram: post "9999" (campaigns[0].creators[0].posts[1])`, "Unsupported get request",
			`instagram: account "8888" (campaigns[0].creators[0].accounts[1])`)
		exportertest.CompareText(t, samples, want, "influencer_account_followers", "influencer_post_views")
		// First: the multi-id reads fail, then one by one, then the
		// insights of 2001. Then, with 2001 not due, followers and the
		// unknown ids, read one by one from the start.
		if got := sb.hitsSince(&hits); got != requests {
			t.Errorf("refresh %d: %d HTTP requests, want %d", refresh+1, got, requests)
		}
	}
}

func TestBadOptions(t *testing.T) {
	sb := newSandbox(t)
	for _, tc := range []struct {
		options, creators string
		contains          []string
	}{
		{`{page_size: 0}`, "", []string{"collectors[0].options.page_size", "between 1 and 100"}},
		{`{batch_size: 51}`, "", []string{"options.batch_size", "Graph's batch limit"}},
		{`{max_pages: 0}`, "", []string{"options.max_pages"}},
		{`{max_usage_percent: 120}`, "", []string{"options.max_usage_percent"}},
		{`{usage_backoff: 0s}`, "", []string{"options.usage_backoff", "must be positive"}},
		{`{token_check_interval: 10m}`, "", []string{"options.token_check_interval", "at least 1h"}},
		{`{post_refresh: [{age: 1h, every: 1m}]}`, "", []string{"options.post_refresh[0].age", "must start at age 0"}},
		{`{pagesize: 10}`, "", []string{"options.pagesize"}},
		{`{}`, creator("alice", []string{"https://www.instagram.com/p/Cabc/"}), []string{"campaigns[0].creators[0].posts[0].id", "IG media id"}},
		{`{}`, creator("alice", nil, "alice_ig"), []string{"campaigns[0].creators[0].accounts[0].id", "IG user id"}},
	} {
		t.Run(tc.options+tc.creators, func(t *testing.T) {
			creators := tc.creators
			if creators == "" {
				creators = creator("alice", []string{"1"})
			}
			exportertest.AssertConfigError(t, sb.config(tc.options, creators), tc.contains...)
		})
	}
	t.Run("no token", func(t *testing.T) {
		cfg := strings.Replace(sb.config(`{}`, creator("alice", []string{"1"})), "token: "+token, "", 1)
		exportertest.AssertConfigError(t, cfg, "collectors[0].token", "access token")
	})
}

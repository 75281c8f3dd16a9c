package youtube_test

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/youtube"
	"github.com/influencer-exporter/influencer_exporter/collectors/youtube/youtubefake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const key = "AIzaSy-test-key-5ecret"

// start is the sandbox's time: 04:00 on 1 March 2025, Pacific standard
// time.
var start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// sandbox is a fake YouTube on loopback, on a clock the test moves and
// the collector shares.
type sandbox struct {
	fake  *youtubefake.Server
	clock *exportertest.ManualClock
	url   string
	// cut decides when a refresh runs out of time.
	cut *exportertest.Cutoff
}

func newSandbox(t *testing.T, fakeKey string) *sandbox {
	t.Helper()
	return newSandboxAt(t, fakeKey, start)
}

func newSandboxAt(t *testing.T, fakeKey string, at time.Time) *sandbox {
	t.Helper()
	clock := exportertest.NewManualClock(at)
	fake := youtubefake.New(fakeKey, clock.Now)
	cut := exportertest.NewCutoff(fake)
	return &sandbox{fake: fake, clock: clock, url: exportertest.Serve(t, cut), cut: cut}
}

// config renders one youtube collector on the fake; options is a YAML
// flow map, campaigns the items of the campaigns list.
func (s *sandbox) config(options, campaigns string) string {
	return fmt.Sprintf(`
collectors:
  - type: youtube
    base_url: %s/youtube/v3
    token: %s
    interval: 1m
    http: {max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 5ms, rate_limit: 1000}
    options: %s
campaigns:
%s`, s.url, key, options, campaigns)
}

// build builds the config and puts the collector on the sandbox's clock.
func (s *sandbox) build(t *testing.T, options, campaigns string) *exportertest.Env {
	t.Helper()
	return s.buildConfig(t, s.config(options, campaigns))
}

// buildSequential is build with one call at a time: a refresh cut after
// n answered calls then leaves the same objects unread on every run.
func (s *sandbox) buildSequential(t *testing.T, options, campaigns string) *exportertest.Env {
	t.Helper()
	return s.buildConfig(t, strings.Replace(s.config(options, campaigns), "rate_limit: 1000}", "rate_limit: 1000, max_concurrent_requests: 1}", 1))
}

func (s *sandbox) buildConfig(t *testing.T, config string) *exportertest.Env {
	t.Helper()
	env := exportertest.Build(t, config)
	youtube.SetClock(env.Instance(t, "youtube").Collector, s.clock.Now)
	return env
}

// channel returns a channel id for a name: UC and 22 characters.
func channel(name string) string { return "UC" + name + strings.Repeat("0", 22-len(name)) }

// vid returns an 11-character video id for a name.
func vid(name string) string { return name + strings.Repeat("_", 11-len(name)) }

// campaign renders campaign spring, open from 10 days before start,
// with each creator's YAML (posts and accounts lists).
func campaign(creators ...string) string {
	return `  - name: spring
    start: 2025-02-19T12:00:00Z
    end: 2025-04-01T00:00:00Z
    creators:
` + strings.Join(creators, "")
}

// creator renders a creator with configured videos and, when account is
// set, a channel with its match.
func creator(name string, videos []string, account, match string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "      - name: %s\n", name)
	if len(videos) > 0 {
		b.WriteString("        posts:\n")
		for _, v := range videos {
			fmt.Fprintf(&b, "          - {collector: youtube, id: %q}\n", v)
		}
	}
	if account != "" {
		fmt.Fprintf(&b, "        accounts:\n          - {collector: youtube, id: %s, match: %q}\n", account, match)
	}
	return b.String()
}

// post is a video of a channel published ago before start, with counts
// that grow over the first hours.
func post(id, ch, title string, ago time.Duration) youtubefake.Post {
	return youtubefake.Post{
		ID: id, Account: ch, Title: title, Published: start.Add(-ago),
		Views:    fakeapi.Curve{Final: 120000, Midpoint: 6 * time.Hour, Spread: 2 * time.Hour},
		Likes:    fakeapi.Curve{Final: 4000, Midpoint: 4 * time.Hour, Spread: time.Hour},
		Comments: fakeapi.Curve{Final: 250, Midpoint: 3 * time.Hour, Spread: time.Hour},
	}
}

// posts returns the post labels of the samples of m, sorted.
func posts(samples []exporter.Sample, m *exporter.Metric) []string {
	var out []string
	for _, s := range samples {
		if s.Metric == m {
			out = append(out, s.Label("creator")+"/"+s.Label("post"))
		}
	}
	sort.Strings(out)
	return out
}

func TestPoll(t *testing.T) {
	sb := newSandbox(t, key)
	alice, bob := channel("alice"), channel("bob")
	sb.fake.AddAccount(youtubefake.Account{ID: alice, Title: "Alice", Followers: 123456})
	sb.fake.AddAccount(youtubefake.Account{ID: bob, Title: "Bob", Followers: 9999, HiddenFollowers: true})
	sb.fake.AddPost(post(vid("launch"), alice, "Launch day", 30*time.Hour))
	sb.fake.AddPost(post(vid("tagged"), alice, "Unboxing #spring", 2*time.Hour))
	sb.fake.AddPost(post(vid("untagged"), alice, "Vlog", time.Hour))
	hidden := post(vid("hidden"), bob, "Quiet one", 50*time.Hour)
	hidden.HideLikes, hidden.CommentsDisabled = true, true
	sb.fake.AddPost(hidden)

	env := sb.build(t, "{}", campaign(
		creator("alice", []string{vid("launch"), vid("deleted")}, alice, "#spring"),
		creator("bob", []string{vid("hidden")}, bob, ""),
	))
	samples, err := env.Poll(t, "youtube")
	exportertest.AssertPartial(t, err, exporter.ErrNotFound, vid("deleted"), "campaigns[0].creators[0].posts[1]", "deleted, private or a wrong id")
	exportertest.CompareGolden(t, samples, "poll.prom")

	// One call each: channels (both channels), uploads (alice only has a
	// match), videos (four ids).
	for method, want := range map[string]int{"channels": 1, "playlistItems": 1, "videos": 1} {
		if got := sb.fake.Calls(method); got != want {
			t.Errorf("%s calls = %d, want %d", method, got, want)
		}
	}
	if got := env.Quota("youtube"); got != youtube.DefaultDailyQuota-3 {
		t.Errorf("quota remaining = %g, want %d", got, youtube.DefaultDailyQuota-3)
	}

	t.Run("absent, not zero", func(t *testing.T) {
		for _, s := range samples {
			switch {
			case s.Metric == exporter.PostReach:
				t.Errorf("reach reported: %v", s)
			case s.Metric == exporter.PostEngagements && s.Label("type") != "likes" && s.Label("type") != "comments":
				t.Errorf("%s reported: %v", s.Label("type"), s)
			case s.Metric == exporter.PostEngagements && s.Label("post") == vid("hidden"):
				t.Errorf("hidden count reported: %v", s)
			case s.Metric == exporter.AccountFollowers && s.Label("account") == bob:
				t.Errorf("hidden subscriber count reported: %v", s)
			}
		}
	})
}

func TestBatching(t *testing.T) {
	for _, n := range []int{1, 50, 51, 120} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			sb := newSandbox(t, key)
			ids := make([]string, n)
			for i := range ids {
				ids[i] = vid(fmt.Sprintf("v%d", i))
				sb.fake.AddPost(post(ids[i], channel("alice"), "Video", 72*time.Hour))
			}
			env := sb.build(t, "{}", campaign(creator("alice", ids, "", "")))
			samples, err := env.Poll(t, "youtube")
			if err != nil {
				t.Fatal(err)
			}
			calls := (n + 49) / 50
			if got := sb.fake.Faults.Hits(); got != calls {
				t.Errorf("%d videos took %d calls, want %d", n, got, calls)
			}
			if got := len(posts(samples, exporter.PostViews)); got != n {
				t.Errorf("views of %d videos, want %d", got, n)
			}
			if got := env.Quota("youtube"); got != float64(youtube.DefaultDailyQuota-calls) {
				t.Errorf("quota remaining = %g, want %d", got, youtube.DefaultDailyQuota-calls)
			}
		})
	}
}

// uploads adds n videos to a channel, newest first from ago before start,
// one every hour.
func uploads(fake *youtubefake.Server, ch, prefix, title string, n int, ago time.Duration) {
	for i := range n {
		fake.AddPost(post(vid(fmt.Sprintf("%s%d", prefix, i)), ch, title, ago+time.Duration(i)*time.Hour))
	}
}

func TestPagination(t *testing.T) {
	alice := channel("alice")
	tests := []struct {
		name      string
		campaign  string
		options   string
		pages     int
		found     int
		calls     int // every call: channels, pages, videos
		truncated bool
	}{{
		// 120 tagged uploads in the window, then 130 older ones: the
		// third page reaches back before the start and ends the listing.
		name:     "stops at campaign start",
		campaign: campaign(creator("alice", nil, alice, "#spring")),
		options:  "{}",
		pages:    3, found: 120, calls: 1 + 3 + 3,
	}, {
		name: "no start: bounded by max_pages",
		campaign: `  - name: spring
    creators:
` + creator("alice", nil, alice, "#spring"),
		options: "{max_pages: 4}",
		pages:   4, found: 120, calls: 1 + 4 + 3,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, key)
			sb.fake.AddAccount(youtubefake.Account{ID: alice, Title: "Alice", Followers: 5000})
			uploads(sb.fake, alice, "new", "Haul #spring", 120, time.Hour)    // 1h to 120h ago
			uploads(sb.fake, alice, "old", "Old stuff", 130, 20*24*time.Hour) // before the start
			env := sb.build(t, tt.options, tt.campaign)
			samples, err := env.Poll(t, "youtube")
			if err != nil {
				t.Fatal(err)
			}
			if got := sb.fake.Calls("playlistItems"); got != tt.pages {
				t.Errorf("uploads pages read = %d, want %d", got, tt.pages)
			}
			if got := len(posts(samples, exporter.PostViews)); got != tt.found {
				t.Errorf("discovered %d videos, want %d", got, tt.found)
			}
			if got := sb.fake.Faults.Hits(); got != tt.calls {
				t.Errorf("calls = %d, want %d", got, tt.calls)
			}
		})
	}
}

func TestDiscovery(t *testing.T) {
	sb := newSandbox(t, key)
	alice, bob, carol := channel("alice"), channel("bob"), channel("carol")
	for _, ch := range []string{alice, bob, carol} {
		sb.fake.AddAccount(youtubefake.Account{ID: ch, Title: ch, Followers: 1000})
	}
	add := func(id, ch, title, desc string, published time.Time) {
		p := post(vid(id), ch, title, 0)
		p.Description, p.Published = desc, published
		sb.fake.AddPost(p)
	}
	add("inTitle", alice, "My #spring haul", "", start.Add(-time.Hour))
	add("inDesc", alice, "Vlog", "Thanks to Acme! #Spring.", start.Add(-2*time.Hour))
	add("prefix", alice, "#springtime sale", "", start.Add(-3*time.Hour))
	add("noTag", alice, "Vlog 12", "", start.Add(-4*time.Hour))
	add("before", alice, "Last year's #spring", "", start.Add(-30*24*time.Hour))
	add("later", alice, "#spring launch", "", start.Add(3*time.Minute))
	add("afterEnd", alice, "#spring encore", "", start.Add(90*time.Minute))
	add("keyword", bob, "SPONSORED: unboxing", "", start.Add(-time.Hour))
	add("carolSpr", carol, "#spring with carol", "", start.Add(-time.Hour)) // carol has no account

	env := sb.build(t, "{}", `  - name: spring
    start: 2025-02-28T12:00:00Z
    end: 2025-03-01T13:00:00Z
    creators:
`+creator("alice", nil, alice, "#spring")+creator("bob", nil, bob, "sponsored")+creator("carol", nil, "", ""))

	steps := []struct {
		after time.Duration
		want  []string
	}{
		{0, []string{"alice/" + vid("inDesc"), "alice/" + vid("inTitle"), "bob/" + vid("keyword")}},
		// Published 3 minutes after start, found at the next account
		// refresh.
		{5 * time.Minute, []string{"alice/" + vid("inDesc"), "alice/" + vid("inTitle"), "alice/" + vid("later"), "bob/" + vid("keyword")}},
		// Published after the campaign ended: ignored.
		{95 * time.Minute, []string{"alice/" + vid("inDesc"), "alice/" + vid("inTitle"), "alice/" + vid("later"), "bob/" + vid("keyword")}},
	}
	for _, st := range steps {
		sb.clock.Advance(st.after - sb.clock.Now().Sub(start))
		samples, err := env.Poll(t, "youtube")
		if err != nil {
			t.Fatalf("after %s: %v", st.after, err)
		}
		if got := posts(samples, exporter.PostViews); strings.Join(got, " ") != strings.Join(st.want, " ") {
			t.Errorf("after %s: discovered %v, want %v", st.after, got, st.want)
		}
	}
}

func TestQuotaAccounting(t *testing.T) {
	// 23:20 Pacific standard time on 28 February.
	sb := newSandboxAt(t, key, time.Date(2025, 3, 1, 7, 20, 0, 0, time.UTC))
	ids := make([]string, 60) // two calls a refresh
	for i := range ids {
		ids[i] = vid(fmt.Sprintf("q%d", i))
		sb.fake.AddPost(post(ids[i], channel("alice"), "Old video", 30*24*time.Hour))
	}
	env := sb.build(t, "{daily_quota: 100}", campaign(creator("alice", ids, "", "")))
	// Old videos are due every 15 minutes; the collector runs every
	// minute, and a refresh with nothing due costs nothing.
	steps := []struct {
		after     time.Duration
		remaining float64
		spent     int // by the fake's count, this Pacific day
	}{
		{0, 98, 2},
		{time.Minute, 98, 2},
		{15 * time.Minute, 96, 4},
		{30 * time.Minute, 94, 6},
		// 00:05 Pacific: a new quota day.
		{45 * time.Minute, 98, 2},
		{50 * time.Minute, 98, 2},
	}
	base := sb.clock.Now()
	for _, st := range steps {
		sb.clock.Advance(st.after - sb.clock.Now().Sub(base))
		if _, err := env.Poll(t, "youtube"); err != nil {
			t.Fatalf("after %s: %v", st.after, err)
		}
		if got := env.Quota("youtube"); got != st.remaining {
			t.Errorf("after %s: quota remaining = %g, want %g", st.after, got, st.remaining)
		}
		if got := sb.fake.UnitsSpent(); got != st.spent {
			t.Errorf("after %s: fake counted %d units today, want %d", st.after, got, st.spent)
		}
	}

	t.Run("retries cost units", func(t *testing.T) {
		sb := newSandbox(t, key)
		sb.fake.AddPost(post(vid("one"), channel("alice"), "Video", time.Hour))
		env := sb.build(t, "{}", campaign(creator("alice", []string{vid("one")}, "", "")))
		exportertest.PollAfterRateLimit(t, env, &sb.fake.Faults, "youtube")
		if got := env.Quota("youtube"); got != youtube.DefaultDailyQuota-2 {
			t.Errorf("quota remaining = %g, want %d: the 429 and its retry", got, youtube.DefaultDailyQuota-2)
		}
	})
}

func TestQuotaBudget(t *testing.T) {
	// 23:50 Pacific standard time.
	sb := newSandboxAt(t, key, time.Date(2025, 3, 1, 7, 50, 0, 0, time.UTC))
	ids := make([]string, 120) // three calls a refresh
	for i := range ids {
		ids[i] = vid(fmt.Sprintf("b%d", i))
		sb.fake.AddPost(post(ids[i], channel("alice"), "Old video", 30*24*time.Hour))
	}
	env := sb.build(t, "{daily_quota: 4, post_refresh: [{age: 0s, every: 1m}]}", campaign(creator("alice", ids, "", "")))

	if _, err := env.Poll(t, "youtube"); err != nil {
		t.Fatal(err)
	}
	sb.clock.Advance(time.Minute)
	// One unit left: the first batch, then the budget stops the refresh.
	samples, err := env.Poll(t, "youtube")
	exportertest.AssertFailed(t, samples, err, exporter.ErrRateLimited, key, "youtube", "daily_quota of 4 units", "2025-03-01T08:00:00Z")
	if got := sb.fake.Faults.Hits(); got != 4 {
		t.Errorf("calls = %d, want 4", got)
	}
	if got := env.Quota("youtube"); got != 0 {
		t.Errorf("quota remaining = %g, want 0", got)
	}
	sb.clock.Advance(time.Minute)
	if _, err := env.Poll(t, "youtube"); !errors.Is(err, exporter.ErrRateLimited) {
		t.Errorf("poll with the budget spent: %v, want rate limited", err)
	}
	if got := sb.fake.Faults.Hits(); got != 4 {
		t.Errorf("calls with the budget spent = %d, want still 4", got)
	}
	// 00:02 Pacific: a new budget.
	sb.clock.Advance(10 * time.Minute)
	if _, err := env.Poll(t, "youtube"); err != nil {
		t.Fatalf("after midnight Pacific: %v", err)
	}
	if got := env.Quota("youtube"); got != 1 {
		t.Errorf("quota remaining = %g, want 1", got)
	}
}

func TestQuotaExceeded(t *testing.T) {
	sb := newSandbox(t, key) // 04:00 Pacific
	ids := make([]string, 60)
	for i := range ids {
		ids[i] = vid(fmt.Sprintf("x%d", i))
		sb.fake.AddPost(post(ids[i], channel("alice"), "Video", 30*24*time.Hour))
	}
	sb.fake.SetDailyQuota(1) // the project's quota, spent by others
	env := sb.build(t, "{}", campaign(creator("alice", ids, "", "")))

	samples, err := env.Poll(t, "youtube")
	exportertest.AssertFailed(t, samples, err, exporter.ErrRateLimited, key,
		"youtube", "HTTP 403: quotaExceeded: access denied",
		"no calls until 2025-03-02T08:00:00Z")
	if errors.Is(err, exporter.ErrUnauthorized) {
		t.Errorf("a spent quota reads as a bad key: %v", err)
	}
	if got := env.Quota("youtube"); got != 0 {
		t.Errorf("quota remaining = %g, want 0", got)
	}
	hits := sb.fake.Faults.Hits()
	if hits != 2 {
		t.Errorf("calls = %d, want 2", hits)
	}

	sb.clock.Advance(time.Hour)
	samples, err = env.Poll(t, "youtube")
	exportertest.AssertFailed(t, samples, err, exporter.ErrRateLimited, key, "YouTube answered quotaExceeded earlier today")
	if got := sb.fake.Faults.Hits(); got != hits {
		t.Errorf("calls before midnight Pacific = %d, want still %d", got, hits)
	}

	sb.fake.SetDailyQuota(youtubefake.DefaultDailyQuota)
	sb.clock.Advance(20 * time.Hour) // 01:00 Pacific, 2 March
	samples, err = env.Poll(t, "youtube")
	if err != nil {
		t.Fatalf("after midnight Pacific: %v", err)
	}
	if got := len(posts(samples, exporter.PostViews)); got != 60 {
		t.Errorf("views of %d videos, want 60", got)
	}
	if got := env.Quota("youtube"); got != youtube.DefaultDailyQuota-2 {
		t.Errorf("quota remaining = %g, want %d", got, youtube.DefaultDailyQuota-2)
	}
}

func TestInvalidKey(t *testing.T) {
	sb := newSandbox(t, "AIzaSy-the-right-key")
	sb.fake.AddPost(post(vid("one"), channel("alice"), "Video", time.Hour))
	env := sb.build(t, "{}", campaign(creator("alice", []string{vid("one")}, "", "")))
	samples, err := env.Poll(t, "youtube")
	exportertest.AssertFailed(t, samples, err, exporter.ErrUnauthorized, key,
		"youtube", "API key refused", "HTTP 400", "API_KEY_INVALID", youtubefake.InvalidKeyMessage)

	exportertest.AssertRefreshDown(t, env, "youtube", []string{key}, youtubefake.InvalidKeyMessage)
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name  string
		fault fakeapi.Kind
		want  error
		text  string
	}{
		{"server error", fakeapi.ServerError, exporter.ErrServer, "backendError: Internal error encountered."},
		{"malformed", fakeapi.Malformed, exporter.ErrBadResponse, "decode JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, key)
			sb.fake.AddPost(post(vid("one"), channel("alice"), "Video", time.Hour))
			env := sb.build(t, "{}", campaign(creator("alice", []string{vid("one")}, "", "")))
			sb.fake.Faults.Set(tt.fault, -1)
			samples, err := env.Poll(t, "youtube")
			exportertest.AssertFailed(t, samples, err, tt.want, key, "youtube", "videos.list (1 ids)", tt.text)
		})
	}
}

func TestRateLimitRecovery(t *testing.T) {
	sb := newSandbox(t, key)
	sb.fake.AddPost(post(vid("one"), channel("alice"), "Video", time.Hour))
	env := sb.build(t, "{}", campaign(creator("alice", []string{vid("one")}, "", "")))
	samples := exportertest.PollAfterRateLimit(t, env, &sb.fake.Faults, "youtube")
	if got := posts(samples, exporter.PostViews); len(got) != 1 {
		t.Errorf("views after recovery: %v", got)
	}
}

func TestAdaptiveRefresh(t *testing.T) {
	sb := newSandbox(t, key)
	ch := channel("alice")
	young, mid, old := vid("young"), vid("mid"), vid("old")
	sb.fake.AddPost(post(young, ch, "New", 10*time.Minute))
	sb.fake.AddPost(post(mid, ch, "Yesterday", 10*time.Hour))
	sb.fake.AddPost(post(old, ch, "Last week", 7*24*time.Hour))
	env := sb.build(t, "{}", campaign(creator("alice", []string{young, mid, old}, "", "")))

	// An hour of refreshes, one a minute, with the default cadence:
	// every minute before 6 hours, every 5 before 48, then every 15.
	for minute := range 60 {
		if minute > 0 {
			sb.clock.Advance(time.Minute)
		}
		samples, err := env.Poll(t, "youtube")
		if err != nil {
			t.Fatalf("minute %d: %v", minute, err)
		}
		// Videos not polled keep their last values.
		if got := posts(samples, exporter.PostViews); len(got) != 3 {
			t.Fatalf("minute %d: views of %v", minute, got)
		}
	}
	// A tenth of the interval is slack for scheduler jitter: every 15
	// minutes polls at 0, 14, 28, 42 and 56.
	for id, want := range map[string]int{young: 60, mid: 12, old: 5} {
		if got := sb.fake.Polls(id); got != want {
			t.Errorf("%s polled %d times in an hour, want %d", id, got, want)
		}
	}
	// Due videos share calls: one a minute, never one per video.
	if got := sb.fake.Calls("videos"); got != 60 {
		t.Errorf("videos calls = %d, want 60", got)
	}

	t.Run("custom cadence", func(t *testing.T) {
		sb := newSandbox(t, key)
		sb.fake.AddPost(post(young, ch, "New", 10*time.Minute))
		sb.fake.AddPost(post(old, ch, "Last week", 7*24*time.Hour))
		env := sb.build(t, "{post_refresh: [{age: 0s, every: 2m}, {age: 1h, every: 30m}]}",
			campaign(creator("alice", []string{young, old}, "", "")))
		for minute := range 60 {
			if minute > 0 {
				sb.clock.Advance(time.Minute)
			}
			if _, err := env.Poll(t, "youtube"); err != nil {
				t.Fatal(err)
			}
		}
		// young: every 2 minutes until it is an hour old at minute 50
		// (0, 2, …, 48), then every 30; old: at 0, 27 and 54.
		if got, want := sb.fake.Polls(young), 25; got != want {
			t.Errorf("young polled %d times, want %d", got, want)
		}
		if got, want := sb.fake.Polls(old), 3; got != want {
			t.Errorf("old polled %d times, want %d", got, want)
		}
	})
}

func TestDeletedVideoRechecked(t *testing.T) {
	sb := newSandbox(t, key)
	env := sb.build(t, "{}", campaign(creator("alice", []string{vid("gone")}, "", "")))
	for minute := range 20 {
		if minute > 0 {
			sb.clock.Advance(time.Minute)
		}
		_, err := env.Poll(t, "youtube")
		exportertest.AssertPartial(t, err, exporter.ErrNotFound, vid("gone"))
	}
	// Asked for at 0 and 14 (the slowest cadence step), not every minute.
	if got := sb.fake.Calls("videos"); got != 2 {
		t.Errorf("videos calls for a deleted video = %d in 20 minutes, want 2", got)
	}
}

func TestBadOptions(t *testing.T) {
	sb := newSandbox(t, key)
	ok := campaign(creator("alice", []string{vid("one")}, channel("alice"), "#spring"))
	tests := []struct {
		name     string
		config   string
		contains []string
	}{
		{"daily quota", sb.config("{daily_quota: 0}", ok), []string{"collectors[0].options.daily_quota", "at least 1"}},
		{"cadence start", sb.config("{post_refresh: [{age: 1h, every: 1m}]}", ok), []string{"options.post_refresh[0].age", "age 0"}},
		{"cadence every", sb.config("{post_refresh: [{age: 0s, every: 0s}]}", ok), []string{"options.post_refresh[0].every", "positive"}},
		{"max pages", sb.config("{max_pages: 0}", ok), []string{"options.max_pages", "between 1 and"}},
		{"unknown option", sb.config("{quota: 5}", ok), []string{"options", "quota"}},
		{"video URL", sb.config("{}", campaign(creator("alice", []string{"https://youtu.be/dQw4w9WgXcQ"}, "", ""))),
			[]string{"campaigns[0].creators[0].posts[0].id", "11-character"}},
		{"handle", sb.config("{}", campaign(creator("alice", nil, "\"@alice\"", "#spring"))),
			[]string{"campaigns[0].creators[0].accounts[0].id", "channel id"}},
		{"no key", strings.Replace(sb.config("{}", ok), "token: "+key, "token: \"\"", 1),
			[]string{"collectors[0].token", "API key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exportertest.AssertConfigError(t, tt.config, tt.contains...)
		})
	}
}

// TestQuotaGaugeNeverRises polls across Pacific midnight on a clock that
// ticks on every read, so a refresh's calls are answered later than it
// started and one refresh straddles midnight: within a day the gauge only
// goes down, and it goes back up once, at midnight.
func TestQuotaGaugeNeverRises(t *testing.T) {
	// The fake and the collector read one clock that moves 7 seconds at
	// every read.
	clock := exportertest.NewManualClock(time.Date(2025, 3, 1, 7, 55, 26, 0, time.UTC)) // 23:55:26 PST
	tick := func() time.Time { clock.Advance(7 * time.Second); return clock.Now() }
	fake := youtubefake.New(key, tick)
	cut := exportertest.NewCutoff(fake)
	sb := &sandbox{fake: fake, clock: clock, url: exportertest.Serve(t, cut), cut: cut}
	ids := make([]string, 60) // two calls a refresh
	for i := range ids {
		ids[i] = vid(fmt.Sprintf("m%d", i))
		sb.fake.AddPost(post(ids[i], channel("alice"), "Video", 10*time.Hour))
	}
	env := sb.build(t, "{daily_quota: 100}", campaign(creator("alice", ids, "", "")))
	youtube.SetClock(env.Instance(t, "youtube").Collector, tick)
	midnight := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	last, rises := float64(100), 0
	for i := 0; i < 12; i++ {
		startedAt := sb.clock.Now()
		if _, err := env.Poll(t, "youtube"); err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		got := env.Quota("youtube")
		// The fake counts the units of each Pacific day on the same
		// clock, as Google does, when a call arrives; the collector when
		// its answer does: a call that straddles midnight counts in the
		// new day for the collector, which is only more careful.
		if want := float64(100 - sb.fake.UnitsSpent()); got > want || got < want-2 {
			t.Errorf("refresh %d (%s–%s): quota remaining %g, want %g (or up to 2 less): 100 less the units the fake counted today", i, startedAt.Format(time.TimeOnly), sb.clock.Now().Format(time.TimeOnly), got, want)
		}
		if got > last {
			rises++
			if rises > 1 || sb.clock.Now().Before(midnight) {
				t.Errorf("refresh %d (%s–%s): quota rose %g → %g within a Pacific day", i, startedAt.Format(time.TimeOnly), sb.clock.Now().Format(time.TimeOnly), last, got)
			}
		}
		last = got
		sb.clock.Advance(30 * time.Second)
	}
	if rises != 1 {
		t.Errorf("quota rose %d times, want once, at midnight", rises)
	}
	if sb.clock.Now().Before(midnight) {
		t.Fatalf("test ended at %s, before midnight", sb.clock.Now())
	}
}

// TestQuotaSurvivesReload: a config reload builds the collector anew; the
// day's count goes on (the gauge does not go back up), while another
// exporter counts from its own start.
func TestQuotaSurvivesReload(t *testing.T) {
	sb := newSandbox(t, key)
	ids := make([]string, 60) // two calls a refresh
	for i := range ids {
		ids[i] = vid(fmt.Sprintf("r%d", i))
		sb.fake.AddPost(post(ids[i], channel("alice"), "Video", time.Hour))
	}
	env := sb.build(t, "{daily_quota: 100}", campaign(creator("alice", ids, "", "")))
	reload := func() {
		t.Helper()
		instances, err := exporter.Build(env.Config, exporter.Deps{Metrics: env.Metrics, Links: env.Links})
		if err != nil {
			t.Fatal(err)
		}
		env.Instances = instances
		youtube.SetClock(env.Instance(t, "youtube").Collector, sb.clock.Now)
	}
	steps := []struct {
		name      string
		reload    bool
		remaining float64
	}{
		{"first refresh", false, 98},
		{"after a reload", true, 96},
		{"next refresh", false, 94},
		{"another reload", true, 92},
	}
	for _, st := range steps {
		if st.reload {
			reload()
		}
		if _, err := env.Poll(t, "youtube"); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := env.Quota("youtube"); got != st.remaining {
			t.Errorf("%s: quota remaining %g, want %g", st.name, got, st.remaining)
		}
		sb.clock.Advance(time.Minute)
	}
	// Another exporter (its own LinkSet) does not share the count.
	other := sb.build(t, "{daily_quota: 100}", campaign(creator("alice", ids, "", "")))
	if _, err := other.Poll(t, "youtube"); err != nil {
		t.Fatal(err)
	}
	if got := other.Quota("youtube"); got != 98 {
		t.Errorf("another exporter: quota remaining %g, want 98", got)
	}
}

// TestQuotaSurvivesRestart: with --storage.path, a restarted exporter (its
// own LinkSet) goes on with the day's count it saved; a count saved on an
// earlier day, or a corrupt file, gives the full daily_quota.
func TestQuotaSurvivesRestart(t *testing.T) {
	sb := newSandbox(t, key)
	ids := make([]string, 60) // two calls a refresh
	for i := range ids {
		ids[i] = vid(fmt.Sprintf("s%d", i))
		sb.fake.AddPost(post(ids[i], channel("alice"), "Video", time.Hour))
	}
	storage, err := exporter.OpenStorage(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	start := func() *exportertest.Env {
		t.Helper()
		env := sb.build(t, "{daily_quota: 100}", campaign(creator("alice", ids, "", "")))
		instances, err := exporter.Build(env.Config, exporter.Deps{Metrics: env.Metrics, Links: exporter.NewLinkSet(), Storage: storage})
		if err != nil {
			t.Fatal(err)
		}
		env.Instances = instances
		youtube.SetClock(env.Instance(t, "youtube").Collector, sb.clock.Now)
		return env
	}
	poll := func(env *exportertest.Env, what string, want float64) {
		t.Helper()
		if _, err := env.Poll(t, "youtube"); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := env.Quota("youtube"); got != want {
			t.Errorf("%s: quota remaining %g, want %g", what, got, want)
		}
		sb.clock.Advance(time.Minute)
	}
	poll(start(), "first run", 98)
	poll(start(), "after a restart", 96)

	// A count from an earlier Pacific day is not today's.
	sb.clock.Advance(24 * time.Hour)
	poll(start(), "a day later", 98)

	if err := os.WriteFile(storage.Path("youtube", "quota"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	poll(start(), "after a corrupt file", 98)
}

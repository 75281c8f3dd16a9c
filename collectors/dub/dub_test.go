package dub_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	_ "github.com/influencer-exporter/influencer_exporter/collectors/dub"
	"github.com/influencer-exporter/influencer_exporter/collectors/dub/dubfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const token = "dub_test_5ecret_key"

// sandbox is a fake Dub on loopback with a clock ten minutes past its
// start; the clock stays there unless a test moves it, so every call falls
// in one quota window. A cutoff in front lets tests run a refresh out of
// time.
type sandbox struct {
	fake  *dubfake.Server
	cut   *exportertest.Cutoff
	clock *exportertest.ManualClock
	url   string
}

func newSandbox(t *testing.T, fakeToken string, links ...dubfake.Link) *sandbox {
	t.Helper()
	return newSandboxAt(t, time.Date(2025, 3, 1, 12, 10, 0, 0, time.UTC), fakeToken, links...)
}

// newSandboxAt is newSandbox with the fake's clock stopped at now, ten
// minutes after the fake started.
func newSandboxAt(t *testing.T, now time.Time, fakeToken string, links ...dubfake.Link) *sandbox {
	t.Helper()
	clock := exportertest.NewManualClock(now.Add(-10 * time.Minute))
	fake := dubfake.New(fakeToken, clock.Now)
	clock.Advance(10 * time.Minute)
	for _, l := range links {
		fake.AddLink(l)
	}
	cut := exportertest.NewCutoff(fake)
	return &sandbox{fake: fake, cut: cut, clock: clock, url: exportertest.Serve(t, cut)}
}

// config renders a config with one dub collector on the fake; options is
// a YAML flow map, creators the creators of campaign spring.
func (s *sandbox) config(options, creators string) string {
	return exportertest.OneCollectorConfig("dub", s.url, token, options, creators)
}

// build builds that config.
func (s *sandbox) build(t *testing.T, options, creators string) *exportertest.Env {
	t.Helper()
	return exportertest.Build(t, s.config(options, creators))
}

func link(id string, base int64, perMinute float64, tags ...string) dubfake.Link {
	_, key, _ := strings.Cut(id, "/")
	return dubfake.Link{
		ID:          id,
		Destination: dest(key),
		Tags:        tags,
		Clicks:      fakeapi.Growth{Base: base, PerMinute: perMinute},
	}
}

// dest is the destination of the link with key.
func dest(key string) string { return "https://shop.example/" + key + "?utm_source=" + key }

// alice renders creator alice with the links.
func alice(ids ...string) string { return exportertest.CreatorLinks("alice", "dub", ids...) }

// clicks is the exposition of influencer_link_clicks_total for creator
// alice of campaign spring, one series a link=clicks pair.
func clicks(links ...string) string {
	return exportertest.LinkClicksText("spring", "alice", "dub", links...)
}

func TestPoll(t *testing.T) {
	sb := newSandbox(t, token,
		link("dub.sh/alice", 100, 3),                // 130
		link("go.example/alice/tiktok", 7, 0),       // key with a slash
		link("dub.sh/bob", 0, 0),                    // no click yet: not in top_links
		link("dub.sh/carol1", 40, 0, "carol"),       // discovered by tag
		link("dub.sh/carol2", 0, 0, "Carol"),        // discovered, no click yet
		link("dub.sh/shared", 9, 0, "carol"),        // configured for alice, tagged carol: alice wins
		link("dub.sh/dave", 50, 0, "dave", "other"), // tag nobody configured
	)
	env := sb.build(t, `{}`, `
      - name: alice
        links:
          - {collector: dub, id: dub.sh/alice, expect: {host: shop.example, utm: {utm_source: alice}}}
          - {collector: dub, id: go.example/alice/tiktok}
          - {collector: dub, id: dub.sh/shared}
      - name: bob
        links:
          - {collector: dub, id: dub.sh/bob, url: "https://go.example/bob"}
      - name: carol
        tags:
          - {collector: dub, tag: CAROL, expect: {host: shop.example}}
`)
	for i := range 2 {
		samples, err := env.Poll(t, "dub")
		if err != nil {
			t.Fatalf("poll %d: %v", i, err)
		}
		exportertest.CompareGolden(t, samples, "poll.prom")
	}
	// Per refresh: the analytics call, one tag page, and /links/info for
	// bob, who has no click yet and no tag.
	if got := sb.fake.Faults.Hits(); got != 6 {
		t.Errorf("API calls for two refreshes: %d, want 6", got)
	}
	if got := env.Quota("dub"); got != dubfake.DefaultRateLimit-6 {
		t.Errorf("influencer_api_quota_remaining %g, want %d", got, dubfake.DefaultRateLimit-6)
	}
	env.ComparePublished(t, []exporter.PublishedLink{
		{Campaign: "spring", Creator: "alice", Provider: "dub", ID: "dub.sh/alice", URL: sb.url + "/alice", Destination: dest("alice"),
			Expect: &exporter.Expect{Host: "shop.example", UTM: map[string]string{"utm_source": "alice"}}},
		{Campaign: "spring", Creator: "bob", Provider: "dub", ID: "dub.sh/bob", URL: "https://go.example/bob", Destination: dest("bob")},
		{Campaign: "spring", Creator: "carol", Provider: "dub", ID: "dub.sh/carol1", URL: sb.url + "/carol1", Destination: dest("carol1"), Expect: &exporter.Expect{Host: "shop.example"}},
		{Campaign: "spring", Creator: "carol", Provider: "dub", ID: "dub.sh/carol2", URL: sb.url + "/carol2", Destination: dest("carol2"), Expect: &exporter.Expect{Host: "shop.example"}},
		{Campaign: "spring", Creator: "alice", Provider: "dub", ID: "dub.sh/shared", URL: sb.url + "/shared", Destination: dest("shared")},
		{Campaign: "spring", Creator: "alice", Provider: "dub", ID: "go.example/alice/tiktok", URL: sb.url + "/alice/tiktok", Destination: dest("alice/tiktok")},
	})
}

// TestCallsPerRefresh measures the quota one refresh of five configured
// links spends.
func TestCallsPerRefresh(t *testing.T) {
	tests := []struct {
		name    string
		options string
		clicks  []int64
		calls   int
	}{
		{"analytics", `{}`, []int64{1, 2, 3, 4, 5}, 1},
		// The two links analytics leaves out are on the first page of
		// the workspace listing.
		{"analytics, two links without clicks", `{}`, []int64{0, 0, 3, 4, 5}, 2},
		{"analytics, one link without clicks", `{}`, []int64{0, 2, 3, 4, 5}, 2},
		{"workspace listing", `{analytics: false}`, []int64{1, 2, 3, 4, 5}, 1},
		{"workspace listing, two pages", `{analytics: false, page_size: 3}`, []int64{1, 2, 3, 4, 5}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				links     []dubfake.Link
				ids, want []string
			)
			for i, n := range tt.clicks {
				id := fmt.Sprintf("dub.sh/l%d", i)
				links = append(links, link(id, n, 0))
				ids = append(ids, id)
				want = append(want, fmt.Sprintf("%s=%d", id, n))
			}
			sb := newSandbox(t, token, links...)
			env := sb.build(t, tt.options, alice(ids...))
			for refresh := range 2 {
				before := sb.fake.Faults.Hits()
				samples, err := env.Poll(t, "dub")
				if err != nil {
					t.Fatal(err)
				}
				exportertest.CompareText(t, samples, clicks(want...))
				if got := sb.fake.Faults.Hits() - before; got != tt.calls {
					t.Errorf("refresh %d: %d API calls, want %d", refresh+1, got, tt.calls)
				}
			}
		})
	}
}

func TestTagPagination(t *testing.T) {
	tests := []struct {
		name    string
		tagged  int
		options string
		calls   int
	}{
		// 2+2+1: the short page ends the listing.
		{"five links", 5, `{page_size: 2, analytics: false}`, 3},
		// 2+2+0: a full last page costs one empty page more.
		{"four links", 4, `{page_size: 2, analytics: false}`, 3},
		{"five links with analytics", 5, `{page_size: 2}`, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var links []dubfake.Link
			for i := range tt.tagged {
				links = append(links, link(fmt.Sprintf("dub.sh/t%d", i), int64(i), 0, "tiktok"))
			}
			links = append(links, link("dub.sh/other", 3, 0, "other"))
			sb := newSandbox(t, token, links...)
			env := sb.build(t, tt.options, exportertest.CreatorTags("erin", "dub", "tiktok"))
			samples, err := env.Poll(t, "dub")
			if err != nil {
				t.Fatal(err)
			}
			exportertest.CompareGolden(t, samples, fmt.Sprintf("pagination_%d.prom", tt.tagged))
			if got := sb.fake.Faults.Hits(); got != tt.calls {
				t.Errorf("API calls: %d, want %d", got, tt.calls)
			}
		})
	}
}

func TestUnknownLinkIsPartial(t *testing.T) {
	sb := newSandbox(t, token, link("dub.sh/known", 5, 0))
	for _, opts := range []string{`{analytics: false}`, `{}`} {
		t.Run(opts, func(t *testing.T) {
			env := sb.build(t, opts, alice("dub.sh/gone", "dub.sh/known"))
			samples, err := env.Poll(t, "dub")
			exportertest.AssertPartial(t, err, exporter.ErrNotFound, `"dub.sh/gone"`, "campaigns[0].creators[0].links[0]", "not_found: Link not found.")
			exportertest.AssertObjectKeys(t, err, "missing link spring/alice/dub.sh/gone")
			exportertest.CompareText(t, samples, clicks("dub.sh/known=5"))
			env.ComparePublished(t, []exporter.PublishedLink{
				{Campaign: "spring", Creator: "alice", Provider: "dub", ID: "dub.sh/known", URL: sb.url + "/known", Destination: dest("known")},
			})

			// What an operator sees: the link missing with Dub's answer
			// as the reason, the other one exported.
			env.CheckMissing(t, "dub", sb.cut, exporter.KindLink, 1, "not_found: Link not found.", "missing link spring/alice/dub.sh/gone")
		})
	}
}

// TestWorkspaceListingBound: the workspace listing reads no more pages
// than there are links to find; those it did not reach cost a
// /links/info call each.
func TestWorkspaceListingBound(t *testing.T) {
	links := []dubfake.Link{link("dub.sh/old1", 1, 0), link("dub.sh/old2", 2, 0)}
	for i := range 20 {
		links = append(links, link(fmt.Sprintf("dub.sh/new%02d", i), 5, 0))
	}
	links = append(links, link("dub.sh/newest", 7, 0))
	for _, tc := range []struct {
		name  string
		ids   []string
		calls int
		want  []string
	}{
		// Two pages of five newer links, then two /links/info.
		{"beyond the bound", []string{"dub.sh/old1", "dub.sh/old2"}, 4, []string{"dub.sh/old1=1", "dub.sh/old2=2"}},
		// Both on the first page.
		{"on the first page", []string{"dub.sh/newest", "dub.sh/new19"}, 1, []string{"dub.sh/new19=5", "dub.sh/newest=7"}},
		// One link costs one /links/info, no listing.
		{"one link", []string{"dub.sh/old1"}, 1, []string{"dub.sh/old1=1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t, token, links...)
			env := sb.build(t, `{analytics: false, page_size: 5}`, alice(tc.ids...))
			samples, err := env.Poll(t, "dub")
			if err != nil {
				t.Fatal(err)
			}
			exportertest.CompareText(t, samples, clicks(tc.want...))
			if got := sb.fake.Faults.Hits(); got != tc.calls {
				t.Errorf("%d API calls, want %d", got, tc.calls)
			}
		})
	}
}

// clicksAt is the fake's count of resume link i, minutes after its start.
func clicksAt(i, minutes int) float64 { return float64(100*i + (i+1)*minutes) }

// TestResumeOutOfTime: a refresh whose time runs out exports the links it
// read, the others keep their values, and the next refresh reads those
// first, so over two refreshes every link's count advances.
func TestResumeOutOfTime(t *testing.T) {
	var ids []string
	for i := range 12 {
		ids = append(ids, fmt.Sprintf("dub.sh/l%02d", i))
	}
	erin := exportertest.CreatorTags("erin", "dub", "bulk")
	all := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	tests := []struct {
		name, options, creator, creators string
		// calls answered before the time runs out, in refreshes 1 and 2
		calls1, calls2 int
		// links (by index) each refresh leaves unread
		skipped1, skipped2 []int
	}{
		{
			// Pages of five links, newest first: the second refresh
			// goes on where the first stopped, then round from the
			// newest link.
			name: "cut in the workspace listing", options: `{analytics: false, page_size: 5}`, creator: "alice", creators: alice(ids...),
			calls1: 1, skipped1: []int{0, 1, 2, 3, 4, 5, 6},
			calls2: 2, skipped2: []int{7, 8, 9, 10, 11},
		},
		{
			// Out of time in the tag listing: the links the last listing
			// found keep their values.
			name: "cut in the tag listing", options: `{analytics: false}`, creator: "erin", creators: erin,
			calls1: 0, skipped1: all,
			calls2: 1, skipped2: nil,
		},
		{
			// The analytics call has every link's clicks: the links
			// the last listing found are read from it.
			name: "cut in the tag listing, after analytics", options: `{}`, creator: "erin", creators: erin,
			calls1: 1, skipped1: nil,
			calls2: 1, skipped2: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var links []dubfake.Link
			for i, id := range ids {
				links = append(links, link(id, int64(100*i), float64(i+1), "bulk"))
			}
			sb := newSandbox(t, token, links...)
			env := sb.build(t, tt.options, tt.creators)
			env.CheckLinkResume(t, exportertest.LinkResume{
				Collector: "dub", Cut: sb.cut, Clock: sb.clock, IDs: ids,
				Creator: func(int) string { return tt.creator },
				Clicks:  clicksAt, Reason: "dub: link ",
				Calls1: tt.calls1, Calls2: tt.calls2, Skipped1: tt.skipped1, Skipped2: tt.skipped2,
			})
		})
	}

	// The analytics call is one call for every link: cut short, the
	// refresh fails as a whole, and nothing is deferred.
	t.Run("analytics call cut short", func(t *testing.T) {
		sb := newSandbox(t, token, link(ids[0], 1, 0))
		env := sb.build(t, `{}`, alice(ids[0]))
		samples, err := env.PollWithin(t, "dub", sb.cut, 0)
		if err == nil || exporter.IsPartial(err) || samples != nil {
			t.Errorf("got %v and %d samples, want a failed refresh", err, len(samples))
		}
	})
}

// TestPlan checks the calls --config.check plans for one refresh.
func TestPlan(t *testing.T) {
	sb := newSandbox(t, token)
	three := alice("dub.sh/a", "dub.sh/b", "dub.sh/c")
	tag := exportertest.CreatorTags("erin", "dub", "bulk")
	tests := []struct {
		name, options, creators string
		calls                   int
		note                    []string
	}{
		{"nothing configured", `{}`, alice(), 0, nil},
		{"analytics", `{}`, three, 1, []string{"1 analytics call", "up to 2 calls"}},
		{"analytics and a tag", `{}`, three + tag, 2, []string{"1 page of the tag listing (assumed", "up to 3 calls"}},
		{"workspace listing", `{analytics: false}`, three, 1, []string{"1 pages of the workspace listing for 3 configured links"}},
		{"workspace listing and a tag", `{analytics: false}`, three + tag, 2, []string{"1 page of the tag listing", "1 pages of the workspace listing"}},
		{"one link", `{analytics: false}`, alice("dub.sh/a"), 1, []string{"1 /links/info call"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := sb.build(t, tt.options, tt.creators)
			env.AssertPlan(t, "dub", tt.calls, tt.note...)
		})
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name      string
		fakeToken string
		fault     fakeapi.Kind
		plan      string
		options   []string
		want      error
		contains  []string
	}{
		{"bad key", "dub_another_key", fakeapi.None, "", []string{`{}`, `{analytics: false}`}, exporter.ErrUnauthorized,
			[]string{"dub", "HTTP 401", "HTTP 401: unauthorized: credential refused"}},
		{"server error", token, fakeapi.ServerError, "", []string{`{}`, `{analytics: false}`}, exporter.ErrServer,
			[]string{"dub", "HTTP 500", "internal_server_error"}},
		{"malformed body", token, fakeapi.Malformed, "", []string{`{}`, `{analytics: false}`}, exporter.ErrBadResponse,
			[]string{"dub", "decode JSON"}},
	}
	for _, tt := range tests {
		for _, opts := range tt.options {
			t.Run(tt.name+" "+opts, func(t *testing.T) {
				sb := newSandbox(t, tt.fakeToken, link("dub.sh/a", 1, 0, "alice"))
				if tt.plan != "" {
					sb.fake.SetPlan(tt.plan)
				}
				sb.fake.Faults.Set(tt.fault, -1)
				env := sb.build(t, opts, `
      - name: alice
        links:
          - {collector: dub, id: dub.sh/a}
        tags:
          - {collector: dub, tag: alice}
`)
				samples, err := env.Poll(t, "dub")
				exportertest.AssertFailed(t, samples, err, tt.want, token, tt.contains...)
			})
		}
	}
}

func TestRateLimitedThenSuccess(t *testing.T) {
	sb := newSandbox(t, token, link("dub.sh/a", 4, 0))
	sb.fake.Faults.SetRetryAfter(0)
	sb.fake.Faults.Set(fakeapi.RateLimited, 1)
	env := sb.build(t, `{}`, alice("dub.sh/a"))
	samples, err := env.Poll(t, "dub")
	if err != nil {
		t.Fatal(err)
	}
	exportertest.CompareText(t, samples, clicks("dub.sh/a=4"))
	if got := env.Retries("dub"); got != 1 {
		t.Errorf("retries %g, want 1", got)
	}
}

// TestQuotaExhausted: once Dub's quota is spent it answers 429; the refresh
// fails naming the rate limit, and the gauge shows the empty quota.
func TestQuotaExhausted(t *testing.T) {
	// The fake's clock sits at the start of the current real minute, so the
	// window it reports resets within a minute of real time, as Dub's does.
	now := time.Now().Truncate(time.Minute)
	sb := newSandboxAt(t, now, token, link("dub.sh/a", 4, 0), link("dub.sh/b", 0, 0))
	sb.fake.SetRateLimit(1)
	env := sb.build(t, `{}`, alice("dub.sh/a", "dub.sh/b"))
	before := sb.fake.Faults.Hits()
	_, err := env.Poll(t, "dub")
	if !errors.Is(err, exporter.ErrRateLimited) || !strings.Contains(err.Error(), "provider quota spent") {
		t.Fatalf("got %v, want a rate-limit failure", err)
	}
	// The first answer says no call is left until the window resets: the
	// client sends nothing more instead of collecting 429s.
	if got := sb.fake.Faults.Hits() - before; got != 1 {
		t.Errorf("API calls = %d, want 1", got)
	}
	if got := env.Quota("dub"); got != 0 {
		t.Errorf("influencer_api_quota_remaining %g, want 0", got)
	}
}

func TestBadOptions(t *testing.T) {
	sb := newSandbox(t, token)
	tests := []struct {
		name, options, creators string
		want                    string
	}{
		{"page size zero", `{page_size: 0}`, alice(), "collectors[0].options.page_size: must be between 1 and 100, got 0"},
		{"page size too big", `{page_size: 101}`, alice(), "collectors[0].options.page_size: must be between 1 and 100, got 101"},
		{"unknown option", `{top_links: 5}`, alice(), "collectors[0].options.top_links"},
		{"wrong type", `{analytics: maybe}`, alice(), "collectors[0].options"},
		{"link without key", `{}`, alice("dub.sh/"), "campaigns[0].creators[0].links[0].id: dub link id \"dub.sh/\" must be domain/key"},
		{"tag with comma", `{}`, exportertest.CreatorTags("alice", "dub", "a,b"), "campaigns[0].creators[0].tags[0].tag: dub tag \"a,b\" must not contain a comma"},
		{"tag used twice", `{}`, exportertest.CreatorTags("alice", "dub", "Spring") + exportertest.CreatorTags("bob", "dub", "spring"),
			"campaigns[0].creators[1].tags[0].tag: tag \"spring\" is already used by creator \"alice\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exportertest.AssertConfigError(t, sb.config(tt.options, tt.creators), tt.want)
		})
	}

	t.Run("missing token", func(t *testing.T) {
		cfg := strings.Replace(sb.config(`{}`, alice()), "token: "+token, "", 1)
		exportertest.AssertConfigError(t, cfg, "collectors[0].token: dub needs an API token")
	})
}

// TestArchivedLinksByTag is the case: an archived link still
// redirects and counts clicks, so a tag's archived link is exported. Dub
// lists archived links only with showArchived=true.
func TestArchivedLinksByTag(t *testing.T) {
	archived := link("dub.sh/e3", 30, 0, "erin")
	archived.Archived = true
	sb := newSandbox(t, token, link("dub.sh/e1", 10, 0, "erin"), link("dub.sh/e2", 20, 0, "erin"), archived, link("dub.sh/x", 5, 0, "other"))
	for _, opts := range []string{`{analytics: false}`, `{}`} {
		t.Run(opts, func(t *testing.T) {
			env := sb.build(t, opts, exportertest.CreatorTags("erin", "dub", "erin"))
			samples, err := env.Poll(t, "dub")
			if err != nil {
				t.Fatal(err)
			}
			exportertest.CompareText(t, samples, exportertest.LinkClicksText("spring", "erin", "dub", "dub.sh/e1=10", "dub.sh/e2=20", "dub.sh/e3=30"))
		})
	}
}

// TestAnalyticsRefused: analytics the plan or deployment refuses (403 on a
// Pro workspace older than a year, 404) no longer fail the refresh (they
// did before issue #13): configured links are read one /links/info call
// each, tagged ones from the listing, every series stays, and a note says
// why. A server error still fails.
func TestAnalyticsRefused(t *testing.T) {
	tests := []struct {
		name   string
		refuse func(*dubfake.Server)
		reason string
	}{
		{"plan without all-time analytics", func(f *dubfake.Server) { f.SetPlan(dubfake.PlanPro) }, "HTTP 403: forbidden: access denied"},
		{"analytics not found", func(f *dubfake.Server) { f.RefuseAnalytics(http.StatusNotFound) }, "HTTP 404: not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, token, link("dub.sh/a", 4, 0), link("dub.sh/b", 9, 0), link("dub.sh/c", 2, 0, "erin"))
			tt.refuse(sb.fake)
			env := sb.build(t, `{}`, alice("dub.sh/a", "dub.sh/b")+exportertest.CreatorTags("erin", "dub", "erin"))
			for i := range 2 {
				before := sb.fake.Faults.Hits()
				samples, err := env.Poll(t, "dub")
				objs, rest := exportertest.ObjectErrors(t, err)
				if len(objs) != 0 || len(rest) != 1 || !strings.Contains(rest[0].Error(), "dub: clicks of all links refused") || !strings.Contains(rest[0].Error(), tt.reason) {
					t.Errorf("refresh %d: %d object errors and notes %v, want one note with %q", i+1, len(objs), rest, tt.reason)
				}
				exportertest.CompareText(t, samples, exportertest.MetricText(exporter.LinkClicks,
					`influencer_link_clicks_total{campaign="spring",creator="alice",link="dub.sh/a",provider="dub"} 4`,
					`influencer_link_clicks_total{campaign="spring",creator="alice",link="dub.sh/b",provider="dub"} 9`,
					`influencer_link_clicks_total{campaign="spring",creator="erin",link="dub.sh/c",provider="dub"} 2`))
				// The refused analytics call, one tag page, one page of
				// the workspace listing for the two configured links.
				if got := sb.fake.Faults.Hits() - before; got != 3 {
					t.Errorf("refresh %d: %d API calls, want 3", i+1, got)
				}
			}
		})
	}

	t.Run("server error fails", func(t *testing.T) {
		sb := newSandbox(t, token, link("dub.sh/a", 4, 0))
		sb.fake.RefuseAnalytics(http.StatusInternalServerError)
		env := sb.build(t, `{}`, alice("dub.sh/a"))
		samples, err := env.Poll(t, "dub")
		exportertest.AssertFailed(t, samples, err, exporter.ErrServer, token, "clicks of all links", "HTTP 500")
	})
}

// TestClicksAsStrings: a click count sent as a numeric string is read; one
// that is not a number fails that link only (an analytics row so spoilt
// leaves the link to the listing or /links/info), counted missing with
// the reason.
func TestClicksAsStrings(t *testing.T) {
	str := link("dub.sh/str", 12, 0, "erin")
	str.ClicksJSON = `"12"`
	bad := link("dub.sh/bad", 3, 0, "erin")
	bad.ClicksJSON = `"n/a"`
	for _, tc := range []struct {
		name, options, creators, creator string
	}{
		{"configured, per link", `{analytics: false}`, alice("dub.sh/ok", "dub.sh/str", "dub.sh/bad"), "alice"},
		{"configured, analytics", `{}`, alice("dub.sh/ok", "dub.sh/str", "dub.sh/bad"), "alice"},
		{"by tag", `{analytics: false}`, exportertest.CreatorTags("erin", "dub", "erin"), "erin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t, token, link("dub.sh/ok", 5, 0, "erin"), str, bad)
			env := sb.build(t, tc.options, tc.creators)
			samples, err := env.Poll(t, "dub")
			exportertest.AssertPartial(t, err, exporter.ErrBadResponse, `"dub.sh/bad"`, `"n/a"`)
			exportertest.AssertObjectKeys(t, err, "missing link spring/"+tc.creator+"/dub.sh/bad")
			exportertest.CompareText(t, samples, exportertest.LinkClicksText("spring", tc.creator, "dub", "dub.sh/ok=5", "dub.sh/str=12"))
		})
	}
}

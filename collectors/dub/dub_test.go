package dub_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	_ "github.com/influencer-exporter/influencer_exporter/collectors/dub"
	"github.com/influencer-exporter/influencer_exporter/collectors/dub/dubfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const token = "dub_test_5ecret_key"

// sandbox is a fake Dub on loopback with a clock ten minutes past its
// start; the clock stays there, so every call falls in one quota window.
type sandbox struct {
	fake *dubfake.Server
	srv  *httptest.Server
}

func newSandbox(t *testing.T, fakeToken string, links ...dubfake.Link) *sandbox {
	t.Helper()
	return newSandboxAt(t, time.Date(2025, 3, 1, 12, 10, 0, 0, time.UTC), fakeToken, links...)
}

// newSandboxAt is newSandbox with the fake's clock stopped at now, ten
// minutes after the fake started.
func newSandboxAt(t *testing.T, now time.Time, fakeToken string, links ...dubfake.Link) *sandbox {
	t.Helper()
	start := now.Add(-10 * time.Minute)
	now = start
	fake := dubfake.New(fakeToken, func() time.Time { return now })
	now = start.Add(10 * time.Minute)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	fake.SetPublicURL(srv.URL)
	for _, l := range links {
		fake.AddLink(l)
	}
	return &sandbox{fake: fake, srv: srv}
}

// config renders a config with one dub collector; options is a YAML flow
// map, creators the creators of campaign spring.
func (s *sandbox) config(options, creators string) string {
	return fmt.Sprintf(`
collectors:
  - type: dub
    base_url: %s
    token: %s
    interval: 1m
    http: {max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 5ms, rate_limit: 1000}
    options: %s
campaigns:
  - name: spring
    creators:
%s`, s.srv.URL, token, options, creators)
}

func link(id string, base int64, perMinute float64, tags ...string) dubfake.Link {
	key := id[strings.Index(id, "/")+1:]
	return dubfake.Link{
		ID:          id,
		Destination: "https://shop.example/" + key + "?utm_source=" + key,
		Tags:        tags,
		Clicks:      fakeapi.Growth{Base: base, PerMinute: perMinute},
	}
}

func poll(t *testing.T, env *exportertest.Env) ([]exporter.Sample, error) {
	t.Helper()
	return env.Instance(t, "dub").Collector.Poll(context.Background())
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
	env := exportertest.Build(t, sb.config(`{}`, `
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
`))
	for i := range 2 {
		samples, err := poll(t, env)
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
	if got := testutil.ToFloat64(env.Metrics.Quota.WithLabelValues("dub")); got != dubfake.DefaultRateLimit-6 {
		t.Errorf("influencer_api_quota_remaining %g, want %d", got, dubfake.DefaultRateLimit-6)
	}

	got := env.Links.All()
	want := []exporter.PublishedLink{
		{Campaign: "spring", Creator: "alice", Provider: "dub", ID: "dub.sh/alice", URL: sb.srv.URL + "/alice",
			Expect: &exporter.Expect{Host: "shop.example", UTM: map[string]string{"utm_source": "alice"}}},
		{Campaign: "spring", Creator: "bob", Provider: "dub", ID: "dub.sh/bob", URL: "https://go.example/bob"},
		{Campaign: "spring", Creator: "carol", Provider: "dub", ID: "dub.sh/carol1", URL: sb.srv.URL + "/carol1", Expect: &exporter.Expect{Host: "shop.example"}},
		{Campaign: "spring", Creator: "carol", Provider: "dub", ID: "dub.sh/carol2", URL: sb.srv.URL + "/carol2", Expect: &exporter.Expect{Host: "shop.example"}},
		{Campaign: "spring", Creator: "alice", Provider: "dub", ID: "dub.sh/shared", URL: sb.srv.URL + "/shared"},
		{Campaign: "spring", Creator: "alice", Provider: "dub", ID: "go.example/alice/tiktok", URL: sb.srv.URL + "/alice/tiktok"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("published links:\n got %+v\nwant %+v", got, want)
	}
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
		{"analytics, two links without clicks", `{}`, []int64{0, 0, 3, 4, 5}, 3},
		{"per link", `{analytics: false}`, []int64{1, 2, 3, 4, 5}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				links    []dubfake.Link
				creators strings.Builder
				want     strings.Builder
			)
			creators.WriteString("      - name: alice\n        links:\n")
			want.WriteString("# HELP influencer_link_clicks_total Clicks on a creator's tracking link, as the link shortener reports its lifetime total.\n# TYPE influencer_link_clicks_total counter\n")
			for i, n := range tt.clicks {
				id := fmt.Sprintf("dub.sh/l%d", i)
				links = append(links, link(id, n, 0))
				fmt.Fprintf(&creators, "          - {collector: dub, id: %s}\n", id)
				fmt.Fprintf(&want, "influencer_link_clicks_total{campaign=\"spring\",creator=\"alice\",link=%q,provider=\"dub\"} %d\n", id, n)
			}
			sb := newSandbox(t, token, links...)
			env := exportertest.Build(t, sb.config(tt.options, creators.String()))
			for refresh := range 2 {
				before := sb.fake.Faults.Hits()
				samples, err := poll(t, env)
				if err != nil {
					t.Fatal(err)
				}
				exportertest.CompareText(t, samples, want.String())
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
			env := exportertest.Build(t, sb.config(tt.options, `
      - name: erin
        tags:
          - {collector: dub, tag: tiktok}
`))
			samples, err := poll(t, env)
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
			env := exportertest.Build(t, sb.config(opts, `
      - name: alice
        links:
          - {collector: dub, id: dub.sh/gone}
          - {collector: dub, id: dub.sh/known}
`))
			samples, err := poll(t, env)
			if !exporter.IsPartial(err) || !errors.Is(err, exporter.ErrNotFound) {
				t.Fatalf("want a partial not-found error, got %v", err)
			}
			for _, s := range []string{`"dub.sh/gone"`, "campaigns[0].creators[0].links[0]", "not_found: Link not found."} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %s", err, s)
				}
			}
			exportertest.CompareText(t, samples, `
# HELP influencer_link_clicks_total Clicks on a creator's tracking link, as the link shortener reports its lifetime total.
# TYPE influencer_link_clicks_total counter
influencer_link_clicks_total{campaign="spring",creator="alice",link="dub.sh/known",provider="dub"} 5
`)
			if got := env.Links.All(); len(got) != 1 || got[0].ID != "dub.sh/known" {
				t.Errorf("published %v, want only dub.sh/known", got)
			}
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
			[]string{"dub", "HTTP 401", "unauthorized: Unauthorized: Invalid API key."}},
		{"server error", token, fakeapi.ServerError, "", []string{`{}`, `{analytics: false}`}, exporter.ErrServer,
			[]string{"dub", "HTTP 500", "internal_server_error"}},
		{"malformed body", token, fakeapi.Malformed, "", []string{`{}`, `{analytics: false}`}, exporter.ErrBadResponse,
			[]string{"dub", "decode JSON"}},
		{"plan without all-time analytics", token, fakeapi.None, dubfake.PlanPro, []string{`{}`}, exporter.ErrUnauthorized,
			[]string{"HTTP 403", "forbidden: You can only get analytics for up to 1 year", "set options.analytics: false"}},
	}
	for _, tt := range tests {
		for _, opts := range tt.options {
			t.Run(tt.name+" "+opts, func(t *testing.T) {
				sb := newSandbox(t, tt.fakeToken, link("dub.sh/a", 1, 0, "alice"))
				if tt.plan != "" {
					sb.fake.SetPlan(tt.plan)
				}
				sb.fake.Faults.Set(tt.fault, -1)
				env := exportertest.Build(t, sb.config(opts, `
      - name: alice
        links:
          - {collector: dub, id: dub.sh/a}
        tags:
          - {collector: dub, tag: alice}
`))
				samples, err := poll(t, env)
				if err == nil || exporter.IsPartial(err) || !errors.Is(err, tt.want) {
					t.Fatalf("got %v, want a failed refresh matching %v", err, tt.want)
				}
				if samples != nil {
					t.Errorf("samples returned with the error: %v", samples)
				}
				for _, s := range tt.contains {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				if strings.Contains(err.Error(), token) {
					t.Errorf("error %q contains the token", err)
				}
			})
		}
	}
}

func TestRateLimitedThenSuccess(t *testing.T) {
	sb := newSandbox(t, token, link("dub.sh/a", 4, 0))
	sb.fake.Faults.SetRetryAfter(0)
	sb.fake.Faults.Set(fakeapi.RateLimited, 1)
	env := exportertest.Build(t, sb.config(`{}`, `
      - name: alice
        links:
          - {collector: dub, id: dub.sh/a}
`))
	samples, err := poll(t, env)
	if err != nil {
		t.Fatal(err)
	}
	exportertest.CompareText(t, samples, `
# HELP influencer_link_clicks_total Clicks on a creator's tracking link, as the link shortener reports its lifetime total.
# TYPE influencer_link_clicks_total counter
influencer_link_clicks_total{campaign="spring",creator="alice",link="dub.sh/a",provider="dub"} 4
`)
	if got := testutil.ToFloat64(env.Metrics.Retries.WithLabelValues("dub")); got != 1 {
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
	env := exportertest.Build(t, sb.config(`{}`, `
      - name: alice
        links:
          - {collector: dub, id: dub.sh/a}
          - {collector: dub, id: dub.sh/b}
`))
	before := sb.fake.Faults.Hits()
	_, err := poll(t, env)
	if !errors.Is(err, exporter.ErrRateLimited) || !strings.Contains(err.Error(), "provider quota spent") {
		t.Fatalf("got %v, want a rate-limit failure", err)
	}
	// The first answer says no call is left until the window resets: the
	// client sends nothing more instead of collecting 429s.
	if got := sb.fake.Faults.Hits() - before; got != 1 {
		t.Errorf("API calls = %d, want 1", got)
	}
	if got := testutil.ToFloat64(env.Metrics.Quota.WithLabelValues("dub")); got != 0 {
		t.Errorf("influencer_api_quota_remaining %g, want 0", got)
	}
}

func TestBadOptions(t *testing.T) {
	sb := newSandbox(t, token)
	tests := []struct {
		name, options, creators string
		want                    string
	}{
		{"page size zero", `{page_size: 0}`, "", "collectors[0].options.page_size: must be between 1 and 100, got 0"},
		{"page size too big", `{page_size: 101}`, "", "collectors[0].options.page_size: must be between 1 and 100, got 101"},
		{"unknown option", `{top_links: 5}`, "", "collectors[0].options.top_links"},
		{"wrong type", `{analytics: maybe}`, "", "collectors[0].options"},
		{"link without key", `{}`, `
      - name: alice
        links:
          - {collector: dub, id: dub.sh/}
`, "campaigns[0].creators[0].links[0].id: dub link id \"dub.sh/\" must be domain/key"},
		{"tag with comma", `{}`, `
      - name: alice
        tags:
          - {collector: dub, tag: "a,b"}
`, "campaigns[0].creators[0].tags[0].tag: dub tag \"a,b\" must not contain a comma"},
		{"tag used twice", `{}`, `
      - name: alice
        tags:
          - {collector: dub, tag: Spring}
      - name: bob
        tags:
          - {collector: dub, tag: spring}
`, "campaigns[0].creators[1].tags[0].tag: tag \"spring\" is already used by creator \"alice\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creators := tt.creators
			if creators == "" {
				creators = "      - name: alice\n"
			}
			_, err := exportertest.TryBuild(sb.config(tt.options, creators))
			if err == nil {
				t.Fatal("config accepted")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "test.yml:") {
				t.Errorf("error %q, want it located in test.yml and to contain %q", err, tt.want)
			}
		})
	}

	t.Run("missing token", func(t *testing.T) {
		cfg := strings.Replace(sb.config(`{}`, "      - name: alice\n"), "token: "+token, "", 1)
		_, err := exportertest.TryBuild(cfg)
		if err == nil || !strings.Contains(err.Error(), "collectors[0].token: dub needs an API key") {
			t.Errorf("got %v", err)
		}
	})
}

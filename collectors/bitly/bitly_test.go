package bitly_test

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

	_ "github.com/influencer-exporter/influencer_exporter/collectors/bitly"
	"github.com/influencer-exporter/influencer_exporter/collectors/bitly/bitlyfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const token = "test-token-5ecret"

// sandbox is a fake Bitly on loopback with a clock ten minutes past its
// start.
type sandbox struct {
	fake *bitlyfake.Server
	srv  *httptest.Server
}

func newSandbox(t *testing.T, fakeToken string, links ...bitlyfake.Link) *sandbox {
	t.Helper()
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	now := start
	fake := bitlyfake.New(fakeToken, func() time.Time { return now })
	now = start.Add(10 * time.Minute)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	fake.SetPublicURL(srv.URL)
	for _, l := range links {
		fake.AddLink(l)
	}
	return &sandbox{fake: fake, srv: srv}
}

// config renders a config with one bitly collector; options is a YAML flow
// map, creators the creators of campaign spring.
func (s *sandbox) config(options, creators string) string {
	return fmt.Sprintf(`
collectors:
  - type: bitly
    base_url: %s/v4
    token: %s
    interval: 1m
    http: {max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 5ms, rate_limit: 1000}
    options: %s
campaigns:
  - name: spring
    creators:
%s`, s.srv.URL, token, options, creators)
}

func link(id string, base int64, perMinute float64, tags ...string) bitlyfake.Link {
	hash := id[strings.Index(id, "/")+1:]
	return bitlyfake.Link{
		ID:          id,
		Destination: "https://shop.example/" + hash + "?utm_source=" + hash,
		Tags:        tags,
		Clicks:      fakeapi.Growth{Base: base, PerMinute: perMinute},
	}
}

func poll(t *testing.T, env *exportertest.Env) ([]exporter.Sample, error) {
	t.Helper()
	return env.Instance(t, "bitly").Collector.Poll(context.Background())
}

func TestPoll(t *testing.T) {
	sb := newSandbox(t, token,
		link("bit.ly/alice1", 100, 3),         // 130
		link("bit.ly/alice2", 7, 0),           // 7
		link("bit.ly/bob1", 1, 0.5),           // 6
		link("bit.ly/carol1", 40, 0, "carol"), // discovered by tag
		link("bit.ly/carol2", 2, 1, "carol"),  // 12
		link("bit.ly/shared", 9, 0, "carol"),  // configured for alice and tagged carol: alice wins
		link("bit.ly/dave1", 50, 0, "dave"),   // tag nobody configured
	)
	env := exportertest.Build(t, sb.config(`{group_guid: `+bitlyfake.GroupGUID+`}`, `
      - name: alice
        links:
          - {collector: bitly, id: bit.ly/alice1, expect: {host: shop.example, utm: {utm_source: alice1}}}
          - {collector: bitly, id: bit.ly/alice2}
          - {collector: bitly, id: bit.ly/shared}
      - name: bob
        links:
          - {collector: bitly, id: bit.ly/bob1, url: "https://go.example/bob"}
      - name: carol
        tags:
          - {collector: bitly, tag: carol, expect: {host: shop.example}}
`))
	for i := range 2 {
		samples, err := poll(t, env)
		if err != nil {
			t.Fatalf("poll %d: %v", i, err)
		}
		exportertest.CompareGolden(t, samples, "poll.prom")
	}
	// Per refresh: one tag page and one most-clicked call, every link
	// being among the group's 50 most clicked.
	if got := sb.fake.Faults.Hits(); got != 4 {
		t.Errorf("API calls for two refreshes: %d, want 4", got)
	}

	got := env.Links.All()
	want := []exporter.PublishedLink{
		{Campaign: "spring", Creator: "alice", Provider: "bitly", ID: "bit.ly/alice1", URL: sb.srv.URL + "/alice1",
			Expect: &exporter.Expect{Host: "shop.example", UTM: map[string]string{"utm_source": "alice1"}}},
		{Campaign: "spring", Creator: "alice", Provider: "bitly", ID: "bit.ly/alice2", URL: sb.srv.URL + "/alice2"},
		{Campaign: "spring", Creator: "bob", Provider: "bitly", ID: "bit.ly/bob1", URL: "https://go.example/bob"},
		{Campaign: "spring", Creator: "carol", Provider: "bitly", ID: "bit.ly/carol1", URL: sb.srv.URL + "/carol1", Expect: &exporter.Expect{Host: "shop.example"}},
		{Campaign: "spring", Creator: "carol", Provider: "bitly", ID: "bit.ly/carol2", URL: sb.srv.URL + "/carol2", Expect: &exporter.Expect{Host: "shop.example"}},
		{Campaign: "spring", Creator: "alice", Provider: "bitly", ID: "bit.ly/shared", URL: sb.srv.URL + "/shared"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("published links:\n got %+v\nwant %+v", got, want)
	}
}

// TestCallsPerRefresh measures the quota one refresh of five configured
// links spends, on the first refresh and on the ones after it.
func TestCallsPerRefresh(t *testing.T) {
	tests := []struct {
		name          string
		options       string
		first, second int
	}{
		// Five summaries; the short URLs are learnt once.
		{"per link", `{top_links: 0}`, 10, 5},
		// The default group is read once, then one call covers all.
		{"batch, default group", `{}`, 2, 1},
		// Three links outside the top two cost a summary each, and their
		// short URLs once.
		{"batch smaller than links", `{group_guid: ` + bitlyfake.GroupGUID + `, top_links: 2}`, 7, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				links    []bitlyfake.Link
				creators strings.Builder
			)
			creators.WriteString("      - name: alice\n        links:\n")
			for i := range 5 {
				id := fmt.Sprintf("bit.ly/l%d", i)
				links = append(links, link(id, int64(10*(i+1)), 0))
				fmt.Fprintf(&creators, "          - {collector: bitly, id: %s}\n", id)
			}
			sb := newSandbox(t, token, links...)
			env := exportertest.Build(t, sb.config(tt.options, creators.String()))
			want := `
# HELP influencer_link_clicks_total Clicks on a creator's tracking link, as the link shortener reports its lifetime total.
# TYPE influencer_link_clicks_total counter
influencer_link_clicks_total{campaign="spring",creator="alice",link="bit.ly/l0",provider="bitly"} 10
influencer_link_clicks_total{campaign="spring",creator="alice",link="bit.ly/l1",provider="bitly"} 20
influencer_link_clicks_total{campaign="spring",creator="alice",link="bit.ly/l2",provider="bitly"} 30
influencer_link_clicks_total{campaign="spring",creator="alice",link="bit.ly/l3",provider="bitly"} 40
influencer_link_clicks_total{campaign="spring",creator="alice",link="bit.ly/l4",provider="bitly"} 50
`
			for i, calls := range []int{tt.first, tt.second} {
				before := sb.fake.Faults.Hits()
				samples, err := poll(t, env)
				if err != nil {
					t.Fatal(err)
				}
				exportertest.CompareText(t, samples, want)
				if got := sb.fake.Faults.Hits() - before; got != calls {
					t.Errorf("refresh %d: %d API calls, want %d", i+1, got, calls)
				}
			}
		})
	}
}

func TestTagPagination(t *testing.T) {
	var links []bitlyfake.Link
	for i := range 5 {
		links = append(links, link(fmt.Sprintf("bit.ly/t%d", i), int64(i), 0, "tiktok"))
	}
	links = append(links, link("bit.ly/other", 3, 0, "other"))
	sb := newSandbox(t, token, links...)
	env := exportertest.Build(t, sb.config(`{group_guid: `+bitlyfake.GroupGUID+`, page_size: 2, top_links: 0}`, `
      - name: erin
        tags:
          - {collector: bitly, tag: tiktok}
`))
	samples, err := poll(t, env)
	if err != nil {
		t.Fatal(err)
	}
	exportertest.CompareGolden(t, samples, "pagination.prom")
	// Three pages of tag listing, five summaries and five short URLs
	// already known from the listing.
	if got := sb.fake.Faults.Hits(); got != 8 {
		t.Errorf("API calls: %d, want 8", got)
	}
}

func TestUnknownLinkIsPartial(t *testing.T) {
	sb := newSandbox(t, token, link("bit.ly/known", 5, 0))
	for _, opts := range []string{`{top_links: 0}`, `{}`} {
		t.Run(opts, func(t *testing.T) {
			env := exportertest.Build(t, sb.config(opts, `
      - name: alice
        links:
          - {collector: bitly, id: bit.ly/gone}
          - {collector: bitly, id: bit.ly/known}
`))
			samples, err := poll(t, env)
			if !exporter.IsPartial(err) || !errors.Is(err, exporter.ErrNotFound) {
				t.Fatalf("want a partial not-found error, got %v", err)
			}
			for _, s := range []string{`"bit.ly/gone"`, "campaigns[0].creators[0].links[0]", "NOT_FOUND"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %s", err, s)
				}
			}
			exportertest.CompareText(t, samples, `
# HELP influencer_link_clicks_total Clicks on a creator's tracking link, as the link shortener reports its lifetime total.
# TYPE influencer_link_clicks_total counter
influencer_link_clicks_total{campaign="spring",creator="alice",link="bit.ly/known",provider="bitly"} 5
`)
			if got := env.Links.All(); len(got) != 1 || got[0].ID != "bit.ly/known" {
				t.Errorf("published %v, want only bit.ly/known", got)
			}
		})
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name      string
		fakeToken string
		fault     fakeapi.Kind
		want      error
		contains  []string
	}{
		{"bad token", "another-token", fakeapi.None, exporter.ErrUnauthorized, []string{"bitly", "HTTP 403", "FORBIDDEN: You are currently forbidden"}},
		{"server error", token, fakeapi.ServerError, exporter.ErrServer, []string{"bitly", "HTTP 500", "INTERNAL_ERROR"}},
		{"malformed body", token, fakeapi.Malformed, exporter.ErrBadResponse, []string{"bitly", "decode JSON"}},
	}
	for _, tt := range tests {
		for _, opts := range []string{`{top_links: 0}`, `{group_guid: ` + bitlyfake.GroupGUID + `}`} {
			t.Run(tt.name+" "+opts, func(t *testing.T) {
				sb := newSandbox(t, tt.fakeToken, link("bit.ly/a", 1, 0, "alice"))
				sb.fake.Faults.Set(tt.fault, -1)
				env := exportertest.Build(t, sb.config(opts, `
      - name: alice
        links:
          - {collector: bitly, id: bit.ly/a}
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
	sb := newSandbox(t, token, link("bit.ly/a", 4, 0))
	sb.fake.Faults.SetRetryAfter(0)
	sb.fake.Faults.Set(fakeapi.RateLimited, 1)
	env := exportertest.Build(t, sb.config(`{top_links: 0}`, `
      - name: alice
        links:
          - {collector: bitly, id: bit.ly/a}
`))
	samples, err := poll(t, env)
	if err != nil {
		t.Fatal(err)
	}
	exportertest.CompareText(t, samples, `
# HELP influencer_link_clicks_total Clicks on a creator's tracking link, as the link shortener reports its lifetime total.
# TYPE influencer_link_clicks_total counter
influencer_link_clicks_total{campaign="spring",creator="alice",link="bit.ly/a",provider="bitly"} 4
`)
	if got := testutil.ToFloat64(env.Metrics.Retries.WithLabelValues("bitly")); got != 1 {
		t.Errorf("retries %g, want 1", got)
	}
}

func TestBadOptions(t *testing.T) {
	sb := newSandbox(t, token)
	tests := []struct {
		name, options, creators string
		want                    string
	}{
		{"page size zero", `{page_size: 0}`, "", "collectors[0].options.page_size: must be between 1 and 100, got 0"},
		{"page size too big", `{page_size: 500}`, "", "collectors[0].options.page_size: must be between 1 and 100, got 500"},
		{"negative top links", `{top_links: -1}`, "", "collectors[0].options.top_links: must be between 0 (off) and 1000, got -1"},
		{"unknown option", `{group: abc}`, "", "collectors[0].options.group"},
		{"wrong type", `{page_size: many}`, "", "collectors[0].options"},
		{"bad group", `{group_guid: "a/b"}`, "", "collectors[0].options.group_guid: invalid group guid"},
		{"link without back-half", `{}`, `
      - name: alice
        links:
          - {collector: bitly, id: bit.ly}
`, "campaigns[0].creators[0].links[0].id: bitly link id \"bit.ly\" must be domain/back-half"},
		{"tag used twice", `{}`, `
      - name: alice
        tags:
          - {collector: bitly, tag: spring}
      - name: bob
        tags:
          - {collector: bitly, tag: spring}
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
		if err == nil || !strings.Contains(err.Error(), "collectors[0].token: bitly needs an access token") {
			t.Errorf("got %v", err)
		}
	})
}

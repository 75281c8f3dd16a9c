package rebrandly

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/influencer-exporter/influencer_exporter/collectors/rebrandly/rebrandlyfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const apiKey = "rb_test_key_7c3e91"

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	fake *rebrandlyfake.Server
	srv  *httptest.Server

	mu  sync.Mutex
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{now: t0}
	f.fake = rebrandlyfake.New(apiKey, func() time.Time {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.now
	})
	f.srv = httptest.NewServer(f.fake)
	t.Cleanup(f.srv.Close)
	f.fake.SetPublicURL(f.srv.URL)
	return f
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func (f *fixture) collectorYAML(key, options string) string {
	cfg := fmt.Sprintf(`collectors:
  - type: rebrandly
    base_url: %s/v1
    token: %s
    http: {max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 5ms}
`, f.srv.URL, key)
	if options != "" {
		cfg += "    options: " + options + "\n"
	}
	return cfg
}

// host is the fake's address as Rebrandly's shortUrl shows it: no scheme.
func (f *fixture) host() string { return strings.TrimPrefix(f.srv.URL, "http://") }

func TestPollValuesAndTags(t *testing.T) {
	f := newFixture(t)
	for _, l := range []rebrandlyfake.Link{
		{ID: "rebrand.ly/alice1", Destination: "https://shop.example/?utm_source=alice", Clicks: fakeapi.Growth{Base: 100, PerMinute: 2}},
		// Configured for alice and tagged carol: reported once, as alice's.
		{ID: "rebrand.ly/alice2", Destination: "https://shop.example/?utm_source=alice2", Tags: []string{"carol"}, Clicks: fakeapi.Growth{Base: 7}},
		{ID: "go.brand.example/bob", Destination: "https://shop.example/?utm_source=bob", Clicks: fakeapi.Growth{Base: 50, PerMinute: 0.5}},
		{ID: "rebrand.ly/carol-ig", Destination: "https://shop.example/?utm_source=carol", Tags: []string{"carol"}, Clicks: fakeapi.Growth{Base: 30}},
		{ID: "go.brand.example/carol-tt", Destination: "https://shop.example/?utm_source=carol_tt", Tags: []string{"tiktok", "carol"}},
		{ID: "rebrand.ly/dan", Destination: "https://shop.example/dan", Tags: []string{"dan"}, Clicks: fakeapi.Growth{Base: 5}},
	} {
		f.fake.AddLink(l)
	}
	f.fake.SetWorkspace("ws42")
	env := exportertest.Build(t, f.collectorYAML(apiKey, "{workspace: ws42}")+`
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: rebrandly, id: rebrand.ly/alice1, expect: {host: shop.example, utm: {utm_source: alice}}}
          - {collector: rebrandly, id: rebrand.ly/alice2, url: "https://probe.example/alice2"}
      - name: bob
        links:
          - {collector: rebrandly, id: go.brand.example/bob}
      - name: carol
        tags:
          - {collector: rebrandly, tag: carol, expect: {host: shop.example}}
`)
	f.advance(30 * time.Minute)

	samples, err := env.Poll(t, "rebrandly")
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	exportertest.CompareGolden(t, samples, "values.prom")
	// Six links fit one page: one call, which carries clicks and tags.
	if got := f.fake.Faults.Hits(); got != 1 {
		t.Errorf("refresh made %d API calls, want 1", got)
	}

	links := env.Links.All()
	want := []struct{ creator, id, url, expectHost string }{
		{"bob", "go.brand.example/bob", "http://" + f.host() + "/bob", ""},
		{"carol", "go.brand.example/carol-tt", "http://" + f.host() + "/carol-tt", "shop.example"},
		{"alice", "rebrand.ly/alice1", "http://" + f.host() + "/alice1", "shop.example"},
		{"alice", "rebrand.ly/alice2", "https://probe.example/alice2", ""},
		{"carol", "rebrand.ly/carol-ig", "http://" + f.host() + "/carol-ig", "shop.example"},
	}
	if len(links) != len(want) {
		t.Fatalf("published %d links, want %d: %+v", len(links), len(want), links)
	}
	for i, w := range want {
		l := links[i]
		host := ""
		if l.Expect != nil {
			host = l.Expect.Host
		}
		if l.Provider != "rebrandly" || l.Campaign != "spring" || l.Creator != w.creator || l.ID != w.id || l.URL != w.url || host != w.expectHost {
			t.Errorf("published[%d] = %+v (expect host %q), want creator %s id %s url %s expect host %q", i, l, host, w.creator, w.id, w.url, w.expectHost)
		}
	}
}

func TestPollPagination(t *testing.T) {
	for _, tc := range []struct {
		name      string
		links     int
		wantCalls int
	}{
		// 60 links: pages of 25, 25 and 10; the short page ends the walk.
		{name: "short last page", links: 60, wantCalls: 3},
		// 75 links: three full pages, then an empty one tells the end.
		{name: "full last page", links: 75, wantCalls: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			for i := range tc.links {
				f.fake.AddLink(rebrandlyfake.Link{
					ID:          fmt.Sprintf("rebrand.ly/p%03d", i),
					Destination: fmt.Sprintf("https://shop.example/p%03d", i),
					Tags:        []string{fmt.Sprintf("t%d", i%3)},
					Clicks:      fakeapi.Growth{Base: int64(i)},
				})
			}
			// A link on another domain, left out by options.domain.
			f.fake.AddLink(rebrandlyfake.Link{ID: "other.example/p001", Destination: "https://shop.example/", Tags: []string{"t1"}})
			last := fmt.Sprintf("rebrand.ly/p%03d", tc.links-1)
			env := exportertest.Build(t, f.collectorYAML(apiKey, "{domain: rebrand.ly}")+`
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: rebrandly, id: rebrand.ly/p000}
          - {collector: rebrandly, id: `+last+`}
      - name: carol
        tags:
          - {collector: rebrandly, tag: t1}
`)
			samples, err := env.Poll(t, "rebrandly")
			if err != nil {
				t.Fatalf("poll: %v", err)
			}
			if got := f.fake.Faults.Hits(); got != tc.wantCalls {
				t.Errorf("refresh made %d API calls, want %d", got, tc.wantCalls)
			}
			got := map[string]exporter.Sample{}
			for _, s := range samples {
				got[s.Label("link")] = s
			}
			wantN := 2 + tc.links/3 // p000, the last, and every third link from p001
			if (tc.links-1)%3 == 1 {
				wantN-- // the last link is tagged t1 and configured
			}
			if len(samples) != wantN {
				t.Errorf("got %d samples, want %d", len(samples), wantN)
			}
			for id, w := range map[string]struct {
				creator string
				value   float64
			}{
				"rebrand.ly/p000": {"alice", 0},
				last:              {"alice", float64(tc.links - 1)},
				"rebrand.ly/p001": {"carol", 1},
				"rebrand.ly/p058": {"carol", 58},
			} {
				s, ok := got[id]
				if !ok {
					t.Errorf("no sample for %s", id)
					continue
				}
				if s.Label("creator") != w.creator || s.Value != w.value {
					t.Errorf("%s: creator %s value %g, want %s %g", id, s.Label("creator"), s.Value, w.creator, w.value)
				}
			}
		})
	}
}

func TestPollUnknownLinksArePartial(t *testing.T) {
	f := newFixture(t)
	f.fake.AddLink(rebrandlyfake.Link{ID: "rebrand.ly/alice1", Destination: "https://shop.example/", Clicks: fakeapi.Growth{Base: 12}})
	env := exportertest.Build(t, f.collectorYAML(apiKey, "")+`
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: rebrandly, id: rebrand.ly/alice1}
          - {collector: rebrandly, id: rebrand.ly/ghost}
`)
	samples, err := env.Poll(t, "rebrandly")
	if !exporter.IsPartial(err) || !errors.Is(err, exporter.ErrNotFound) || !strings.Contains(err.Error(), `"rebrand.ly/ghost"`) {
		t.Fatalf("want a partial not-found error naming the link, got %v", err)
	}
	exportertest.CompareText(t, samples, `
# HELP influencer_link_clicks_total Clicks on a creator's tracking link, as the link shortener reports its lifetime total.
# TYPE influencer_link_clicks_total counter
influencer_link_clicks_total{campaign="spring",creator="alice",link="rebrand.ly/alice1",provider="rebrandly"} 12
`)
}

func TestPollErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		key       string
		workspace string
		fault     fakeapi.Kind
		want      error
		wantMsg   string
	}{
		{name: "bad key", key: "rb_wrong_key_0a9b", want: exporter.ErrUnauthorized, wantMsg: "HTTP 401: Unauthorized (apikey)"},
		{name: "unknown workspace", key: apiKey, workspace: "{workspace: nope}", want: exporter.ErrNotFound, wantMsg: "HTTP 404: NotFound: Not found (workspace)"},
		{name: "server error", key: apiKey, fault: fakeapi.ServerError, want: exporter.ErrServer, wantMsg: "HTTP 500"},
		{name: "malformed body", key: apiKey, fault: fakeapi.Malformed, want: exporter.ErrBadResponse, wantMsg: "decode JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.fake.AddLink(rebrandlyfake.Link{ID: "rebrand.ly/alice1", Destination: "https://shop.example/", Clicks: fakeapi.Growth{Base: 1}})
			env := exportertest.Build(t, f.collectorYAML(tc.key, tc.workspace)+`
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: rebrandly, id: rebrand.ly/alice1}
`)
			if tc.fault != fakeapi.None {
				f.fake.Faults.Set(tc.fault, -1)
			}
			samples, err := env.Poll(t, "rebrandly")
			if err == nil || exporter.IsPartial(err) {
				t.Fatalf("want a failed refresh, got %v with %d samples", err, len(samples))
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %q does not match %v", err, tc.want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "rebrandly: list links: ") || !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("error %q: want the provider named and %q", msg, tc.wantMsg)
			}
			if strings.Contains(msg, tc.key) {
				t.Errorf("error %q carries the key", msg)
			}
			if len(env.Links.All()) != 0 {
				t.Error("a failed refresh published links")
			}
		})
	}
}

func TestPollRetriesRateLimit(t *testing.T) {
	f := newFixture(t)
	f.fake.AddLink(rebrandlyfake.Link{ID: "rebrand.ly/alice1", Destination: "https://shop.example/", Clicks: fakeapi.Growth{Base: 3}})
	env := exportertest.Build(t, f.collectorYAML(apiKey, "")+`
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: rebrandly, id: rebrand.ly/alice1}
`)
	f.fake.Faults.SetRetryAfter(0)
	f.fake.Faults.Set(fakeapi.RateLimited, 1)
	samples, err := env.Poll(t, "rebrandly")
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	if got := testutil.ToFloat64(env.Metrics.Retries.WithLabelValues("rebrandly")); got != 1 {
		t.Errorf("influencer_api_retries_total = %g, want 1", got)
	}
	if len(samples) != 1 || samples[0].Value != 3 {
		t.Errorf("samples = %+v, want one with value 3", samples)
	}
}

func TestBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name, options, link, field string
	}{
		{name: "unknown option", options: "{workspace_id: x}", field: "collectors[0].options.workspace_id"},
		{name: "workspace with spaces", options: "{workspace: my workspace}", field: "collectors[0].options.workspace"},
		{name: "domain with scheme", options: "{domain: 'https://rebrand.ly'}", field: "collectors[0].options.domain"},
		{name: "link without slashtag", link: "rebrand.ly", field: "campaigns[0].creators[0].links[0].id"},
		{name: "link on another domain", options: "{domain: rebrand.ly}", link: "other.example/alice", field: "campaigns[0].creators[0].links[0].id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := "collectors:\n  - type: rebrandly\n    token: x\n"
			if tc.options != "" {
				cfg += "    options: " + tc.options + "\n"
			}
			if tc.link != "" {
				cfg += `campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: rebrandly, id: ` + tc.link + `}
`
			}
			_, err := exportertest.TryBuild(cfg)
			var ce *exporter.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %v does not name %s", err, tc.field)
			}
		})
	}
}

// TestPollDocumentedPayload reads the link entity as Rebrandly's docs show
// it: no https flag (the probe URL defaults to https) and no tags field (a
// configured tag then reports that it cannot be resolved).
func TestPollDocumentedPayload(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "links_without_tags.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/links" || r.Header.Get("apikey") != apiKey {
			http.Error(w, `{"code":"NotFound","message":"Not found"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	env := exportertest.Build(t, fmt.Sprintf(`collectors:
  - type: rebrandly
    base_url: %s/v1
    token: %s
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: rebrandly, id: rebrand.ly/spring-alice}
      - name: bob
        tags:
          - {collector: rebrandly, tag: bob}
`, srv.URL, apiKey))
	samples, err := env.Poll(t, "rebrandly")
	if !exporter.IsPartial(err) || !strings.Contains(err.Error(), `rebrandly: tag "bob": the link listing carries no tags`) {
		t.Errorf("want a partial error for the tag, got %v", err)
	}
	exportertest.CompareText(t, samples, `
# HELP influencer_link_clicks_total Clicks on a creator's tracking link, as the link shortener reports its lifetime total.
# TYPE influencer_link_clicks_total counter
influencer_link_clicks_total{campaign="spring",creator="alice",link="rebrand.ly/spring-alice",provider="rebrandly"} 42
`)
	if links := env.Links.All(); len(links) != 1 || links[0].URL != "https://rebrand.ly/spring-alice" {
		t.Errorf("published %+v, want the https short URL", links)
	}
}

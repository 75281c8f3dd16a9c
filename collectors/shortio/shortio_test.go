package shortio

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/influencer-exporter/influencer_exporter/collectors/shortio/shortiofake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const token = "sk_test_secret_4f2a"

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	fake *shortiofake.Server
	srv  *httptest.Server

	mu  sync.Mutex
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{now: t0}
	f.fake = shortiofake.New(token, func() time.Time {
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

// collectorYAML is one shortio collector pointing both hosts at the fake.
func (f *fixture) collectorYAML(tok, options string) string {
	return fmt.Sprintf(`collectors:
  - type: shortio
    base_url: %[1]s
    token: %[2]s
    http: {max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 5ms}
    options:
      statistics_base_url: %[1]s
%[3]s`, f.srv.URL, tok, indent(options, "      "))
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l != "" {
			b.WriteString(prefix + l + "\n")
		}
	}
	return b.String()
}

func TestPollValuesAndTags(t *testing.T) {
	f := newFixture(t)
	for _, l := range []shortiofake.Link{
		{ID: "short.gy/alice1", Destination: "https://shop.example/?utm_source=alice", Clicks: fakeapi.Growth{Base: 100, PerMinute: 2}},
		// Configured for alice and tagged carol: reported once, as alice's.
		{ID: "short.gy/alice2", Destination: "https://shop.example/?utm_source=alice2", Tags: []string{"carol"}, Clicks: fakeapi.Growth{Base: 7}},
		{ID: "short.gy/bob", Destination: "https://shop.example/?utm_source=bob", Clicks: fakeapi.Growth{Base: 50, PerMinute: 0.5}},
		{ID: "short.gy/carol-ig", Destination: "https://shop.example/?utm_source=carol", Tags: []string{"carol"}, Clicks: fakeapi.Growth{Base: 30}},
		// No clicks yet: absent from link_clicks, reported as 0.
		{ID: "short.gy/carol-tt", Destination: "https://shop.example/?utm_source=carol_tt", Tags: []string{"tiktok", "carol"}},
		// Archived links are not discovered.
		{ID: "short.gy/carol-old", Destination: "https://shop.example/old", Tags: []string{"carol"}, Archived: true, Clicks: fakeapi.Growth{Base: 999}},
		{ID: "short.gy/dan", Destination: "https://shop.example/dan", Clicks: fakeapi.Growth{Base: 5}},
	} {
		f.fake.AddLink(l)
	}
	domainID := f.fake.DomainID("short.gy")
	env := exportertest.Build(t, f.collectorYAML(token, fmt.Sprintf("domain_id: %d", domainID))+`
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: shortio, id: short.gy/alice1, expect: {host: shop.example, utm: {utm_source: alice}}}
          - {collector: shortio, id: short.gy/alice2, url: "https://probe.example/alice2"}
      - name: bob
        links:
          - {collector: shortio, id: short.gy/bob}
      - name: carol
        tags:
          - {collector: shortio, tag: carol, expect: {host: shop.example}}
`)
	f.advance(30 * time.Minute)

	samples, err := env.Poll(t, "shortio")
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	exportertest.CompareGolden(t, samples, "values.prom")
	// GET /domains/{id} once, one page of links, one link_clicks call.
	if got := f.fake.Faults.Hits(); got != 3 {
		t.Errorf("first refresh made %d API calls, want 3", got)
	}

	links := env.Links.All()
	want := []struct{ creator, id, url, expectHost string }{
		{"alice", "short.gy/alice1", f.srv.URL + "/alice1", "shop.example"},
		{"alice", "short.gy/alice2", "https://probe.example/alice2", ""},
		{"bob", "short.gy/bob", f.srv.URL + "/bob", ""},
		{"carol", "short.gy/carol-ig", f.srv.URL + "/carol-ig", "shop.example"},
		{"carol", "short.gy/carol-tt", f.srv.URL + "/carol-tt", "shop.example"},
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
		if l.Provider != "shortio" || l.Campaign != "spring" || l.Creator != w.creator || l.ID != w.id || l.URL != w.url || host != w.expectHost {
			t.Errorf("published[%d] = %+v (expect host %q), want creator %s id %s url %s expect host %q", i, l, host, w.creator, w.id, w.url, w.expectHost)
		}
	}

	// The hostname is cached: later refreshes list and read clicks only.
	f.advance(10 * time.Minute)
	before := f.fake.Faults.Hits()
	samples, err = env.Poll(t, "shortio")
	if err != nil {
		t.Fatalf("second poll: %v", err)
	}
	if got := f.fake.Faults.Hits() - before; got != 2 {
		t.Errorf("second refresh made %d API calls, want 2", got)
	}
	exportertest.CompareText(t, samples, `
# HELP influencer_link_clicks_total Clicks on a creator's tracking link, as the link shortener reports its lifetime total.
# TYPE influencer_link_clicks_total counter
influencer_link_clicks_total{campaign="spring",creator="alice",link="short.gy/alice1",provider="shortio"} 180
influencer_link_clicks_total{campaign="spring",creator="alice",link="short.gy/alice2",provider="shortio"} 7
influencer_link_clicks_total{campaign="spring",creator="bob",link="short.gy/bob",provider="shortio"} 70
influencer_link_clicks_total{campaign="spring",creator="carol",link="short.gy/carol-ig",provider="shortio"} 30
influencer_link_clicks_total{campaign="spring",creator="carol",link="short.gy/carol-tt",provider="shortio"} 0
`)
}

func TestPollPaginationAndBatches(t *testing.T) {
	f := newFixture(t)
	// 320 links: three pages of 150, 150 and 20.
	for i := range 320 {
		l := shortiofake.Link{
			ID:          fmt.Sprintf("short.gy/p%03d", i),
			Destination: fmt.Sprintf("https://shop.example/p%03d", i),
			Clicks:      fakeapi.Growth{Base: int64(i)},
		}
		if i < 200 {
			l.Tags = []string{"bulk"}
		}
		f.fake.AddLink(l)
	}
	domainID := f.fake.DomainID("short.gy")
	env := exportertest.Build(t, f.collectorYAML(token, fmt.Sprintf("domain_id: %d\ndomain: short.gy", domainID))+`
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: shortio, id: short.gy/p000}
      - name: bob
        links:
          - {collector: shortio, id: short.gy/p319}
      - name: carol
        tags:
          - {collector: shortio, tag: bulk}
`)
	samples, err := env.Poll(t, "shortio")
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	// 2 configured + 199 more tagged links = 201: two link_clicks calls
	// (150 + 51) after three pages; options.domain saves the domain call.
	if got := f.fake.Faults.Hits(); got != 5 {
		t.Errorf("refresh made %d API calls, want 5 (3 pages + 2 statistics batches)", got)
	}
	if len(samples) != 201 {
		t.Fatalf("got %d samples, want 201", len(samples))
	}
	got := map[string]exporter.Sample{}
	for _, s := range samples {
		got[s.Label("link")] = s
	}
	for id, want := range map[string]struct {
		creator string
		value   float64
	}{
		"short.gy/p000": {"alice", 0},
		"short.gy/p319": {"bob", 319},
		"short.gy/p001": {"carol", 1},
		"short.gy/p199": {"carol", 199},
	} {
		s, ok := got[id]
		if !ok {
			t.Errorf("no sample for %s", id)
			continue
		}
		if s.Label("creator") != want.creator || s.Value != want.value {
			t.Errorf("%s: creator %s value %g, want %s %g", id, s.Label("creator"), s.Value, want.creator, want.value)
		}
	}
	if _, ok := got["short.gy/p200"]; ok {
		t.Error("untagged link p200 reported")
	}
}

func TestPollUnknownLinksArePartial(t *testing.T) {
	f := newFixture(t)
	f.fake.AddLink(shortiofake.Link{ID: "short.gy/alice1", Destination: "https://shop.example/", Clicks: fakeapi.Growth{Base: 12}})
	env := exportertest.Build(t, f.collectorYAML(token, fmt.Sprintf("domain_id: %d", f.fake.DomainID("short.gy")))+`
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: shortio, id: short.gy/alice1}
          - {collector: shortio, id: short.gy/ghost}
          - {collector: shortio, id: other.gy/alice1}
`)
	samples, err := env.Poll(t, "shortio")
	if !exporter.IsPartial(err) {
		t.Fatalf("want a partial error, got %v", err)
	}
	if !errors.Is(err, exporter.ErrNotFound) {
		t.Errorf("error does not match ErrNotFound: %v", err)
	}
	for _, id := range []string{`"short.gy/ghost"`, `"other.gy/alice1"`} {
		if !strings.Contains(err.Error(), id) {
			t.Errorf("error %q does not name %s", err, id)
		}
	}
	exportertest.CompareText(t, samples, `
# HELP influencer_link_clicks_total Clicks on a creator's tracking link, as the link shortener reports its lifetime total.
# TYPE influencer_link_clicks_total counter
influencer_link_clicks_total{campaign="spring",creator="alice",link="short.gy/alice1",provider="shortio"} 12
`)
}

func TestPollErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		token   string
		fault   fakeapi.Kind
		want    error
		wantMsg string
	}{
		{name: "bad key", token: "sk_wrong_key_9d1c", want: exporter.ErrUnauthorized, wantMsg: "HTTP 401: Unauthorized"},
		{name: "server error", token: token, fault: fakeapi.ServerError, want: exporter.ErrServer, wantMsg: "HTTP 500"},
		{name: "malformed body", token: token, fault: fakeapi.Malformed, want: exporter.ErrBadResponse, wantMsg: "decode JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.fake.AddLink(shortiofake.Link{ID: "short.gy/alice1", Destination: "https://shop.example/", Clicks: fakeapi.Growth{Base: 1}})
			env := exportertest.Build(t, f.collectorYAML(tc.token, fmt.Sprintf("domain_id: %d", f.fake.DomainID("short.gy")))+`
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: shortio, id: short.gy/alice1}
`)
			if tc.fault != fakeapi.None {
				f.fake.Faults.Set(tc.fault, -1)
			}
			samples, err := env.Poll(t, "shortio")
			if err == nil || exporter.IsPartial(err) {
				t.Fatalf("want a failed refresh, got %v with %d samples", err, len(samples))
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %q does not match %v", err, tc.want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "shortio: ") || !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("error %q: want the provider named and %q", msg, tc.wantMsg)
			}
			if strings.Contains(msg, tc.token) {
				t.Errorf("error %q carries the token", msg)
			}
			if len(env.Links.All()) != 0 {
				t.Error("a failed refresh published links")
			}
		})
	}
}

func TestPollRetriesRateLimit(t *testing.T) {
	f := newFixture(t)
	f.fake.AddLink(shortiofake.Link{ID: "short.gy/alice1", Destination: "https://shop.example/", Clicks: fakeapi.Growth{Base: 3}})
	env := exportertest.Build(t, f.collectorYAML(token, fmt.Sprintf("domain_id: %d\ndomain: short.gy", f.fake.DomainID("short.gy")))+`
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: shortio, id: short.gy/alice1}
`)
	f.fake.Faults.SetRetryAfter(0)
	f.fake.Faults.Set(fakeapi.RateLimited, 1)
	samples, err := env.Poll(t, "shortio")
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	if got := testutil.ToFloat64(env.Metrics.Retries.WithLabelValues("shortio")); got != 1 {
		t.Errorf("influencer_api_retries_total = %g, want 1", got)
	}
	if len(samples) != 1 || samples[0].Value != 3 {
		t.Errorf("samples = %+v, want one with value 3", samples)
	}
}

func TestBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name, options, links, field string
	}{
		{name: "no domain id", field: "collectors[0].options.domain_id"},
		{name: "negative domain id", options: "domain_id: -3", field: "collectors[0].options.domain_id"},
		{name: "unknown option", options: "domain_id: 1\ndomainid: 1", field: "collectors[0].options.domainid"},
		{name: "bad statistics url", options: "domain_id: 1\nstatistics_base_url: ftp://stats.example", field: "collectors[0].options.statistics_base_url"},
		{name: "statistics rate", options: "domain_id: 1\nstatistics_requests_per_minute: -1", field: "collectors[0].options.statistics_requests_per_minute"},
		{name: "domain with scheme", options: "domain_id: 1\ndomain: https://short.gy", field: "collectors[0].options.domain"},
		{name: "link without path", options: "domain_id: 1", links: "short.gy", field: "campaigns[0].creators[0].links[0].id"},
		{name: "link on another domain", options: "domain_id: 1\ndomain: short.gy", links: "other.gy/alice", field: "campaigns[0].creators[0].links[0].id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := "  options:\n" + indent(tc.options, "      ")
			if tc.options == "" {
				opts = ""
			}
			cfg := `collectors:
  - type: shortio
    token: x
` + strings.Replace(opts, "  options:", "    options:", 1)
			if tc.links != "" {
				cfg += `campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: shortio, id: ` + tc.links + `}
`
			}
			_, err := exportertest.TryBuild(cfg)
			if err == nil {
				t.Fatal("want a config error")
			}
			var ce *exporter.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name %s", err, tc.field)
			}
		})
	}
}

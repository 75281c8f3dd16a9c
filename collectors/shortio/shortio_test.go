package shortio

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/shortio/shortiofake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const token = "sk_test_secret_4f2a"

// fixture is a fake Short.io on loopback, on a clock the test moves,
// behind a cutoff that runs a refresh out of time.
type fixture struct {
	fake  *shortiofake.Server
	cut   *exportertest.Cutoff
	url   string
	clock *exportertest.ManualClock
}

func newFixture(t *testing.T, links ...shortiofake.Link) *fixture {
	t.Helper()
	f := &fixture{clock: exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))}
	f.fake = shortiofake.New(token, f.clock.Now)
	for _, l := range links {
		f.fake.AddLink(l)
	}
	f.cut = exportertest.NewCutoff(f.fake)
	f.url = exportertest.Serve(t, f.cut)
	return f
}

// build builds a shortio collector reading domain short.gy of the fake
// with key, plus options (YAML flow map entries), and campaign spring with
// creators.
func (f *fixture) build(t *testing.T, key, options, creators string) *exportertest.Env {
	t.Helper()
	opts := fmt.Sprintf("statistics_base_url: %s, domain_id: %d", f.url, f.fake.DomainID("short.gy"))
	if options != "" {
		opts += ", " + options
	}
	return exportertest.Build(t, exportertest.OneCollectorConfig(Provider, f.url, key, "{"+opts+"}", creators))
}

// dest is the destination of the link with path.
func dest(path string) string { return "https://shop.example/?utm_source=" + path }

// link is a link on short.gy to the shop, with clicks growing from base.
func link(path string, base int64, perMinute float64, tags ...string) shortiofake.Link {
	return shortiofake.Link{
		ID:          "short.gy/" + path,
		Destination: dest(path),
		Tags:        tags,
		Clicks:      fakeapi.Growth{Base: base, PerMinute: perMinute},
	}
}

func TestPollValuesAndTags(t *testing.T) {
	// Archived links are not discovered.
	archived := link("carol-old", 999, 0, "carol")
	archived.Archived = true
	f := newFixture(t,
		link("alice1", 100, 2),
		link("alice2", 7, 0, "carol"), // configured for alice and tagged carol: reported once, as alice's
		link("bob", 50, 0.5),
		link("carol-ig", 30, 0, "carol"),
		link("carol-tt", 0, 0, "tiktok", "carol"), // no clicks yet: absent from link_clicks, reported as 0
		archived,
		link("dan", 5, 0),
	)
	env := f.build(t, token, "", `
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
	f.clock.Advance(30 * time.Minute)

	samples, err := env.Poll(t, "shortio")
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	exportertest.CompareGolden(t, samples, "values.prom")
	// GET /domains/{id} once, one page of links, one link_clicks call.
	if got := f.fake.Faults.Hits(); got != 3 {
		t.Errorf("first refresh made %d API calls, want 3", got)
	}

	published := func(creator, path, url string, expect *exporter.Expect) exporter.PublishedLink {
		if url == "" {
			url = f.url + "/" + path
		}
		return exporter.PublishedLink{Campaign: "spring", Creator: creator, Provider: "shortio", ID: "short.gy/" + path, URL: url, Destination: dest(path), Expect: expect}
	}
	shop := &exporter.Expect{Host: "shop.example"}
	env.ComparePublished(t, []exporter.PublishedLink{
		published("alice", "alice1", "", &exporter.Expect{Host: "shop.example", UTM: map[string]string{"utm_source": "alice"}}),
		published("alice", "alice2", "https://probe.example/alice2", nil),
		published("bob", "bob", "", nil),
		published("carol", "carol-ig", "", shop),
		published("carol", "carol-tt", "", shop),
	})

	// The hostname is cached: later refreshes list and read clicks only.
	f.clock.Advance(10 * time.Minute)
	before := f.fake.Faults.Hits()
	samples, err = env.Poll(t, "shortio")
	if err != nil {
		t.Fatalf("second poll: %v", err)
	}
	if got := f.fake.Faults.Hits() - before; got != 2 {
		t.Errorf("second refresh made %d API calls, want 2", got)
	}
	exportertest.CompareText(t, samples, exportertest.MetricText(exporter.LinkClicks,
		`influencer_link_clicks_total{campaign="spring",creator="alice",link="short.gy/alice1",provider="shortio"} 180`,
		`influencer_link_clicks_total{campaign="spring",creator="alice",link="short.gy/alice2",provider="shortio"} 7`,
		`influencer_link_clicks_total{campaign="spring",creator="bob",link="short.gy/bob",provider="shortio"} 70`,
		`influencer_link_clicks_total{campaign="spring",creator="carol",link="short.gy/carol-ig",provider="shortio"} 30`,
		`influencer_link_clicks_total{campaign="spring",creator="carol",link="short.gy/carol-tt",provider="shortio"} 0`,
	))
}

func TestPollPaginationAndBatches(t *testing.T) {
	// 320 links: three pages of 150, 150 and 20; the first 200 tagged.
	f := newFixture(t)
	for i := range 320 {
		var tags []string
		if i < 200 {
			tags = []string{"bulk"}
		}
		f.fake.AddLink(link(fmt.Sprintf("p%03d", i), int64(i), 0, tags...))
	}
	env := f.build(t, token, "domain: short.gy", exportertest.CreatorLinks("alice", Provider, "short.gy/p000")+
		exportertest.CreatorLinks("bob", Provider, "short.gy/p319")+
		exportertest.CreatorTags("carol", Provider, "bulk"))
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
	got := exportertest.LinkValues(samples)
	for id, want := range map[string]string{
		"short.gy/p000": "alice 0",
		"short.gy/p319": "bob 319",
		"short.gy/p001": "carol 1",
		"short.gy/p199": "carol 199",
	} {
		if got[id] != want {
			t.Errorf("%s: got %q, want %q", id, got[id], want)
		}
	}
	if _, ok := got["short.gy/p200"]; ok {
		t.Error("untagged link p200 reported")
	}
}

func TestPollUnknownLinksArePartial(t *testing.T) {
	f := newFixture(t, link("alice1", 12, 0))
	env := f.build(t, token, "", exportertest.CreatorLinks("alice", Provider, "short.gy/alice1", "short.gy/ghost", "other.gy/alice1"))
	samples, err := env.Poll(t, "shortio")
	exportertest.AssertPartial(t, err, exporter.ErrNotFound, `"short.gy/ghost"`, `"other.gy/alice1"`)
	want := []string{"missing link spring/alice/other.gy/alice1", "missing link spring/alice/short.gy/ghost"}
	exportertest.AssertObjectKeys(t, err, want...)
	exportertest.CompareText(t, samples, exportertest.LinkClicksText("spring", "alice", Provider, "short.gy/alice1=12"))

	// What an operator sees: both missing with the reason, one exported.
	env.CheckMissing(t, Provider, f.cut, exporter.KindLink, 1, "not found on domain short.gy", want...)
}

// TestPollResumesOutOfTime: 300 links take two link_clicks calls. A
// refresh whose time runs out exports the links of the batches it read,
// the others keep their values, and the next refresh reads those first,
// so over two refreshes every link's count advances. The listing still
// costs every refresh its pages.
func TestPollResumesOutOfTime(t *testing.T) {
	const n = 300
	// p299 is alice's configured link; the others carol finds by tag.
	creatorOf := func(i int) string {
		if i == n-1 {
			return "alice"
		}
		return "carol"
	}
	span := func(from, to int) []int {
		var out []int
		for i := from; i <= to; i++ {
			out = append(out, i)
		}
		return out
	}
	tests := []struct {
		name string
		// calls answered before the time runs out, in refreshes 1 and 2
		calls1, calls2 int
		// links (by index) each refresh leaves unread
		skipped1, skipped2 []int
	}{
		{
			// Two pages, then the first batch: alice's link and
			// p000-p148. Refresh 2 reads p149-p298 first.
			name:   "cut after one batch",
			calls1: 3, skipped1: span(149, 298),
			calls2: 3, skipped2: append(span(0, 148), 299),
		},
		{
			// Out of time in the listing: nothing read, every link keeps
			// its value.
			name:   "cut in the listing",
			calls1: 1, skipped1: span(0, 299),
			calls2: -1, skipped2: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var ids []string
			for i := range n {
				var tags []string
				if i < n-1 {
					tags = []string{"bulk"}
				}
				path := fmt.Sprintf("p%03d", i)
				f.fake.AddLink(link(path, int64(i), 1, tags...))
				ids = append(ids, "short.gy/"+path)
			}
			env := f.build(t, token, "domain: short.gy", exportertest.CreatorLinks("alice", Provider, ids[n-1])+exportertest.CreatorTags("carol", Provider, "bulk"))
			f.clock.Advance(10 * time.Minute)
			env.CheckLinkResume(t, exportertest.LinkResume{
				Collector: Provider, Cut: f.cut, Clock: f.clock, IDs: ids,
				Creator: creatorOf,
				Clicks:  func(i, minutes int) float64 { return float64(i + minutes) },
				Reason:  "shortio: link ",
				Calls1:  tt.calls1, Calls2: tt.calls2, Skipped1: tt.skipped1, Skipped2: tt.skipped2,
			})
		})
	}
}

// TestPlan checks the calls --config.check plans for one refresh.
func TestPlan(t *testing.T) {
	f := newFixture(t)
	var many []string
	for i := range 200 {
		many = append(many, fmt.Sprintf("short.gy/p%03d", i))
	}
	for _, tc := range []struct {
		name, creators string
		calls          int
		note           []string
	}{
		{"nothing configured", "", 1, []string{"1 page of GET /api/links (assumed", "0 link_clicks calls"}},
		{"two links", exportertest.CreatorLinks("alice", Provider, "short.gy/a", "short.gy/b"), 2, []string{"1 link_clicks calls, 150 links a call, for 2 configured links", "held to 10 a minute"}},
		{"a tag", exportertest.CreatorTags("carol", Provider, "bulk"), 2, []string{"links found by tag (not known from config"}},
		{"200 links", exportertest.CreatorLinks("alice", Provider, many...), 3, []string{"2 link_clicks calls"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := f.build(t, token, "domain: short.gy", tc.creators)
			env.AssertPlan(t, Provider, tc.calls, tc.note...)
		})
	}
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
			f := newFixture(t, link("alice1", 1, 0))
			env := f.build(t, tc.token, "", exportertest.CreatorLinks("alice", Provider, "short.gy/alice1"))
			if tc.fault != fakeapi.None {
				f.fake.Faults.Set(tc.fault, -1)
			}
			samples, err := env.Poll(t, "shortio")
			exportertest.AssertFailed(t, samples, err, tc.want, tc.token, tc.wantMsg)
			if !strings.HasPrefix(err.Error(), "shortio: ") {
				t.Errorf("error %q does not start with the provider", err)
			}
			if len(env.Links.All()) != 0 {
				t.Error("a failed refresh published links")
			}
		})
	}
}

func TestPollRetriesRateLimit(t *testing.T) {
	f := newFixture(t, link("alice1", 3, 0))
	env := f.build(t, token, "domain: short.gy", exportertest.CreatorLinks("alice", Provider, "short.gy/alice1"))
	samples := exportertest.PollAfterRateLimit(t, env, &f.fake.Faults, Provider)
	exportertest.CompareText(t, samples, exportertest.LinkClicksText("spring", "alice", Provider, "short.gy/alice1=3"))
}

func TestBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name, options, link, field string
	}{
		{name: "no domain id", field: "collectors[0].options.domain_id"},
		{name: "negative domain id", options: "{domain_id: -3}", field: "collectors[0].options.domain_id"},
		{name: "unknown option", options: "{domain_id: 1, domainid: 1}", field: "collectors[0].options.domainid"},
		{name: "bad statistics url", options: "{domain_id: 1, statistics_base_url: 'ftp://stats.example'}", field: "collectors[0].options.statistics_base_url"},
		{name: "statistics rate", options: "{domain_id: 1, statistics_requests_per_minute: -1}", field: "collectors[0].options.statistics_requests_per_minute"},
		{name: "domain with scheme", options: "{domain_id: 1, domain: 'https://short.gy'}", field: "collectors[0].options.domain"},
		{name: "link without path", options: "{domain_id: 1}", link: "short.gy", field: "campaigns[0].creators[0].links[0].id"},
		{name: "link on another domain", options: "{domain_id: 1, domain: short.gy}", link: "other.gy/alice", field: "campaigns[0].creators[0].links[0].id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			creators := ""
			if tc.link != "" {
				creators = exportertest.CreatorLinks("alice", Provider, tc.link)
			}
			exportertest.AssertConfigError(t, exportertest.OneCollectorConfig(Provider, "", "x", tc.options, creators), tc.field)
		})
	}
}

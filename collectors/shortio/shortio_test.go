package shortio

import (
	"errors"
	"fmt"
	"slices"
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
	// Archived links still redirect and count clicks: they are
	// discovered too (they were not before issue #13).
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
		published("carol", "carol-old", "", shop),
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
		`influencer_link_clicks_total{campaign="spring",creator="carol",link="short.gy/carol-old",provider="shortio"} 999`,
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
		// Without tags nothing is listed (before issue #13 every refresh
		// listed the domain): configured links cost their link_clicks
		// calls only, after one lookup each on the first refresh.
		{"nothing configured", "", 0, []string{"no links or tags configured"}},
		{"two links", exportertest.CreatorLinks("alice", Provider, "short.gy/a", "short.gy/b"), 1, []string{"1 link_clicks calls, 150 links a call, for 2 configured links", "held to 10 a minute", "first refresh also resolves the configured links once from the domain's listing (1 pages of GET /api/links"}},
		{"a tag", exportertest.CreatorTags("carol", Provider, "bulk"), 2, []string{"1 page of GET /api/links for the tags (assumed", "links found by tag (not known from config"}},
		{"200 links", exportertest.CreatorLinks("alice", Provider, many...), 2, []string{"2 link_clicks calls"}},
		{"200 links and a tag", exportertest.CreatorLinks("alice", Provider, many...) + exportertest.CreatorTags("carol", Provider, "bulk"), 3, []string{"1 page of GET /api/links", "2 link_clicks calls"}},
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
		{name: "bad key", token: "sk_wrong_key_9d1c", want: exporter.ErrUnauthorized, wantMsg: "HTTP 401: Unauthorized: credential refused"},
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
		// A bare hostname is the domain's root link (refused before issue
		// #13); a link without hostname or with a query is not a link.
		{name: "link without hostname", options: "{domain_id: 1}", link: "/alice", field: "campaigns[0].creators[0].links[0].id"},
		{name: "link with a query", options: "{domain_id: 1}", link: "'short.gy/a?b=c'", field: "campaigns[0].creators[0].links[0].id"},
		{name: "root of another domain", options: "{domain_id: 1, domain: short.gy}", link: "other.gy/", field: "campaigns[0].creators[0].links[0].id"},
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

// TestConfiguredLinksLookedUpOnce is the case: a domain of 320
// links of which 5 are configured, no tags. The configured links are
// resolved once, from the domain's listing (3 pages, fewer calls than 5
// lookups); after that a refresh costs one link_clicks call, where before
// issue #13 every refresh listed all 320 links first. The domain's root
// link is configurable, as short.gy or short.gy/.
func TestConfiguredLinksLookedUpOnce(t *testing.T) {
	for _, root := range []string{"short.gy/", "short.gy", "Short.GY/"} {
		t.Run(root, func(t *testing.T) {
			f := newFixture(t)
			for i := range 319 {
				f.fake.AddLink(link(fmt.Sprintf("p%03d", i), int64(i), 1))
			}
			f.fake.AddLink(shortiofake.Link{ID: "short.gy/", Destination: "https://shop.example/", Clicks: fakeapi.Growth{Base: 1000, PerMinute: 2}})
			env := f.build(t, token, "domain: short.gy", exportertest.CreatorLinks("alice", Provider, "short.gy/p000", "short.gy/p100", "short.gy/p200", "short.gy/p318", root))
			for i, calls := range []int{3 + 1, 1, 1} {
				f.clock.Advance(10 * time.Minute)
				minutes := 10 * (i + 1)
				before := f.fake.Faults.Hits()
				samples, err := env.Poll(t, Provider)
				if err != nil {
					t.Fatalf("refresh %d: %v", i+1, err)
				}
				if got := f.fake.Faults.Hits() - before; got != calls {
					t.Errorf("refresh %d: %d API calls, want %d", i+1, got, calls)
				}
				exportertest.CompareText(t, samples, exportertest.LinkClicksText("spring", "alice", Provider,
					fmt.Sprintf("short.gy/p000=%d", minutes), fmt.Sprintf("short.gy/p100=%d", 100+minutes),
					fmt.Sprintf("short.gy/p200=%d", 200+minutes), fmt.Sprintf("short.gy/p318=%d", 318+minutes),
					fmt.Sprintf("%s=%d", root, 1000+2*minutes)))
			}
			var rootURL string
			for _, l := range env.Links.All() {
				if l.ID == root {
					rootURL = l.URL
				}
			}
			if rootURL != f.url+"/" {
				t.Errorf("root link published with URL %q, want %q", rootURL, f.url+"/")
			}
		})
	}
}

// TestRootLinkWithTags: with tags the listing resolves configured links,
// the root link (path "") included; the root link is not found by tag.
func TestRootLinkWithTags(t *testing.T) {
	f := newFixture(t,
		shortiofake.Link{ID: "short.gy/", Destination: "https://shop.example/", Tags: []string{"carol"}, Clicks: fakeapi.Growth{Base: 40}},
		link("carol1", 3, 0, "carol"),
	)
	env := f.build(t, token, "domain: short.gy", exportertest.CreatorLinks("alice", Provider, "short.gy/")+exportertest.CreatorTags("carol", Provider, "carol"))
	samples, err := env.Poll(t, Provider)
	if err != nil {
		t.Fatal(err)
	}
	exportertest.CompareText(t, samples, exportertest.MetricText(exporter.LinkClicks,
		`influencer_link_clicks_total{campaign="spring",creator="alice",link="short.gy/",provider="shortio"} 40`,
		`influencer_link_clicks_total{campaign="spring",creator="carol",link="short.gy/carol1",provider="shortio"} 3`))
	// One page of links, one link_clicks call: no lookups.
	if got := f.fake.Faults.Hits(); got != 2 {
		t.Errorf("%d API calls, want 2", got)
	}
}

// TestNumbersAsStrings: a count sent as a numeric string is read; a click
// count that is not a number fails that link only, counted missing with
// the reason, and every other link is exported.
func TestNumbersAsStrings(t *testing.T) {
	str := link("str", 0, 0, "carol")
	str.ClicksJSON = `"12"`
	bad := link("bad", 0, 0, "carol")
	bad.ClicksJSON = `"n/a"`
	null := link("null", 0, 0)
	null.ClicksJSON = `null`
	for _, tc := range []struct {
		name, creators string
	}{
		{"configured", exportertest.CreatorLinks("carol", Provider, "short.gy/ok", "short.gy/str", "short.gy/bad") + exportertest.CreatorLinks("dan", Provider, "short.gy/null")},
		{"by tag", exportertest.CreatorTags("carol", Provider, "carol") + exportertest.CreatorLinks("dan", Provider, "short.gy/null")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, link("ok", 5, 0, "carol"), str, bad, null)
			f.fake.SetStringCounts(true)
			env := f.build(t, token, "domain: short.gy", tc.creators)
			samples, err := env.Poll(t, Provider)
			exportertest.AssertPartial(t, err, exporter.ErrBadResponse, `"short.gy/bad"`, `"n/a"`, `"short.gy/null"`)
			exportertest.AssertObjectKeys(t, err, "missing link spring/carol/short.gy/bad", "missing link spring/dan/short.gy/null")
			exportertest.CompareText(t, samples, exportertest.LinkClicksText("spring", "carol", Provider, "short.gy/ok=5", "short.gy/str=12"))
		})
	}
}

// TestDeletedLinkLookedUpAgain: a looked-up link deleted since is absent
// from link_clicks, as a link without clicks is; one that had clicks keeps
// its value that refresh, is looked up again the next and counted missing.
func TestDeletedLinkLookedUpAgain(t *testing.T) {
	f := newFixture(t, link("a", 7, 0), link("b", 3, 0))
	env := f.build(t, token, "domain: short.gy", exportertest.CreatorLinks("alice", Provider, "short.gy/a", "short.gy/b"))
	if _, err := env.Poll(t, Provider); err != nil {
		t.Fatal(err)
	}
	f.fake.RemoveLink("short.gy/b")

	before := f.fake.Faults.Hits()
	samples, err := env.Poll(t, Provider)
	objs, rest := exportertest.ObjectErrors(t, err)
	if len(objs) != 1 || objs[0].ID != "short.gy/b" || !objs[0].Skipped || rest != nil {
		t.Errorf("refresh 2: %v, want short.gy/b skipped", err)
	}
	exportertest.CompareText(t, samples, exportertest.LinkClicksText("spring", "alice", Provider, "short.gy/a=7"))
	if got := f.fake.Faults.Hits() - before; got != 1 {
		t.Errorf("refresh 2: %d API calls, want 1", got)
	}

	before = f.fake.Faults.Hits()
	samples, err = env.Poll(t, Provider)
	exportertest.AssertObjectKeys(t, err, "missing link spring/alice/short.gy/b")
	exportertest.CompareText(t, samples, exportertest.LinkClicksText("spring", "alice", Provider, "short.gy/a=7"))
	// The lookup of b, answered 404, and one link_clicks call.
	if got := f.fake.Faults.Hits() - before; got != 2 {
		t.Errorf("refresh 3: %d API calls, want 2", got)
	}
}

// TestLookupsOutOfTime: a first refresh whose time runs out while looking
// links up defers the links it did not reach (and reads no clicks); the
// ids it learnt are kept, so the next refresh looks up only the others.
// The four links come after 600 others in the domain's listing, which
// reads as many pages as there are links to find (4 pages of 150, then 2)
// before it leaves them to one lookup each.
func TestLookupsOutOfTime(t *testing.T) {
	f := newFixture(t)
	for i := range 600 {
		f.fake.AddLink(link(fmt.Sprintf("other%03d", i), 0, 0))
	}
	for i, p := range []string{"a", "b", "c", "d"} {
		f.fake.AddLink(link(p, int64(i+1), 0))
	}
	env := f.build(t, token, "domain: short.gy", exportertest.CreatorLinks("alice", Provider, "short.gy/a", "short.gy/b", "short.gy/c", "short.gy/d"))

	// Four listing pages and two lookups answered, then the time is up.
	samples, err := env.PollWithin(t, Provider, f.cut, 4+2)
	objs, rest := exportertest.ObjectErrors(t, err)
	var skipped []string
	for _, oe := range objs {
		if !oe.Skipped || !errors.Is(oe, exporter.ErrOutOfTime) {
			t.Errorf("%s: %v, want skipped out of time", oe.ID, oe)
		}
		skipped = append(skipped, oe.ID)
	}
	slices.Sort(skipped)
	if len(samples) != 0 || rest != nil || strings.Join(skipped, " ") != "short.gy/a short.gy/b short.gy/c short.gy/d" {
		t.Errorf("first refresh: %d samples, skipped %v, notes %v; want every link skipped", len(samples), skipped, rest)
	}

	// Two listing pages, two more lookups and one link_clicks call.
	before := f.fake.Faults.Hits()
	samples, err = env.Poll(t, Provider)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.fake.Faults.Hits() - before; got != 2+2+1 {
		t.Errorf("second refresh: %d API calls, want 5", got)
	}
	exportertest.CompareText(t, samples, exportertest.LinkClicksText("spring", "alice", Provider, "short.gy/a=1", "short.gy/b=2", "short.gy/c=3", "short.gy/d=4"))
}

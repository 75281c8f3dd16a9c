package rebrandly

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/rebrandly/rebrandlyfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const apiKey = "rb_test_key_7c3e91"

// fixture is a fake Rebrandly on loopback, on a clock the test moves,
// behind a cutoff that runs a refresh out of time.
type fixture struct {
	fake  *rebrandlyfake.Server
	cut   *exportertest.Cutoff
	url   string
	clock *exportertest.ManualClock
}

func newFixture(t *testing.T, links ...rebrandlyfake.Link) *fixture {
	t.Helper()
	f := &fixture{clock: exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))}
	f.fake = rebrandlyfake.New(apiKey, f.clock.Now)
	for _, l := range links {
		f.fake.AddLink(l)
	}
	f.cut = exportertest.NewCutoff(f.fake)
	f.url = exportertest.Serve(t, f.cut)
	return f
}

// build builds a rebrandly collector on the API served at url with key and
// options (a YAML flow map, or empty), and campaign spring with creators.
func build(t *testing.T, url, key, options, creators string) *exportertest.Env {
	t.Helper()
	return exportertest.Build(t, exportertest.OneCollectorConfig(Provider, url+"/v1", key, options, creators))
}

// dest is the destination of the link with id.
func dest(id string) string {
	return "https://shop.example/?utm_source=" + id[strings.Index(id, "/")+1:]
}

// link is a link to the shop, with clicks growing from base.
func link(id string, base int64, perMinute float64, tags ...string) rebrandlyfake.Link {
	return rebrandlyfake.Link{
		ID:          id,
		Destination: dest(id),
		Tags:        tags,
		Clicks:      fakeapi.Growth{Base: base, PerMinute: perMinute},
	}
}

func TestPollValuesAndTags(t *testing.T) {
	f := newFixture(t,
		link("rebrand.ly/alice1", 100, 2),
		link("rebrand.ly/alice2", 7, 0, "carol"), // configured for alice and tagged carol: reported once, as alice's
		link("go.brand.example/bob", 50, 0.5),
		link("rebrand.ly/carol-ig", 30, 0, "carol"),
		link("go.brand.example/carol-tt", 0, 0, "tiktok", "carol"),
		link("rebrand.ly/dan", 5, 0, "dan"),
	)
	f.fake.SetWorkspace("ws42")
	env := build(t, f.url, apiKey, "{workspace: ws42}", `
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
	f.clock.Advance(30 * time.Minute)

	samples, err := env.Poll(t, "rebrandly")
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	exportertest.CompareGolden(t, samples, "values.prom")
	// Six links fit one page: one call, which carries clicks and tags.
	if got := f.fake.Faults.Hits(); got != 1 {
		t.Errorf("refresh made %d API calls, want 1", got)
	}

	// The fake serves plain http, which the links' https flag tells.
	published := func(creator, id, url string, expect *exporter.Expect) exporter.PublishedLink {
		if url == "" {
			url = f.url + id[strings.Index(id, "/"):]
		}
		return exporter.PublishedLink{Campaign: "spring", Creator: creator, Provider: "rebrandly", ID: id, URL: url, Destination: dest(id), Expect: expect}
	}
	shop := &exporter.Expect{Host: "shop.example"}
	env.ComparePublished(t, []exporter.PublishedLink{
		published("bob", "go.brand.example/bob", "", nil),
		published("carol", "go.brand.example/carol-tt", "", shop),
		published("alice", "rebrand.ly/alice1", "", &exporter.Expect{Host: "shop.example", UTM: map[string]string{"utm_source": "alice"}}),
		published("alice", "rebrand.ly/alice2", "https://probe.example/alice2", nil),
		published("carol", "rebrand.ly/carol-ig", "", shop),
	})
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
				f.fake.AddLink(link(fmt.Sprintf("rebrand.ly/p%03d", i), int64(i), 0, fmt.Sprintf("t%d", i%3)))
			}
			// A link on another domain, left out by options.domain.
			f.fake.AddLink(link("other.example/p001", 0, 0, "t1"))
			last := fmt.Sprintf("rebrand.ly/p%03d", tc.links-1)
			env := build(t, f.url, apiKey, "{domain: rebrand.ly}", exportertest.CreatorLinks("alice", Provider, "rebrand.ly/p000", last)+exportertest.CreatorTags("carol", Provider, "t1"))
			samples, err := env.Poll(t, "rebrandly")
			if err != nil {
				t.Fatalf("poll: %v", err)
			}
			if got := f.fake.Faults.Hits(); got != tc.wantCalls {
				t.Errorf("refresh made %d API calls, want %d", got, tc.wantCalls)
			}
			wantN := 2 + tc.links/3 // p000, the last, and every third link from p001
			if (tc.links-1)%3 == 1 {
				wantN-- // the last link is tagged t1 and configured
			}
			if len(samples) != wantN {
				t.Errorf("got %d samples, want %d", len(samples), wantN)
			}
			got := exportertest.LinkValues(samples)
			for id, want := range map[string]string{
				"rebrand.ly/p000": "alice 0",
				last:              fmt.Sprintf("alice %d", tc.links-1),
				"rebrand.ly/p001": "carol 1",
				"rebrand.ly/p058": "carol 58",
			} {
				if got[id] != want {
					t.Errorf("%s: got %q, want %q", id, got[id], want)
				}
			}
		})
	}
}

func TestPollUnknownLinksArePartial(t *testing.T) {
	f := newFixture(t, link("rebrand.ly/alice1", 12, 0))
	env := build(t, f.url, apiKey, "", exportertest.CreatorLinks("alice", Provider, "rebrand.ly/alice1", "rebrand.ly/ghost"))
	samples, err := env.Poll(t, "rebrandly")
	exportertest.AssertPartial(t, err, exporter.ErrNotFound, `"rebrand.ly/ghost"`)
	want := "missing link spring/alice/rebrand.ly/ghost"
	exportertest.AssertObjectKeys(t, err, want)
	exportertest.CompareText(t, samples, exportertest.LinkClicksText("spring", "alice", Provider, "rebrand.ly/alice1=12"))

	// What an operator sees: the link missing with the reason, the other
	// one exported.
	env.CheckMissing(t, Provider, f.cut, exporter.KindLink, 1, "not found in the workspace", want)
}

// TestPollResumesOutOfTime: 60 links take three pages, newest first
// (p059-p035, p034-p010, p009-p000). A refresh whose time runs out exports
// the links of the pages it read, the others keep their values, and the
// next refresh starts after the last link read, so over two refreshes
// every link's count advances.
func TestPollResumesOutOfTime(t *testing.T) {
	// alice has every fifth link from p002; carol finds p003, p033 and
	// p053 by tag, one on each page.
	owner := map[int]string{3: "carol", 33: "carol", 53: "carol"}
	for i := 2; i < 60; i += 5 {
		owner[i] = "alice"
	}
	var firstPage, laterPages []int
	for i := range owner {
		if i >= 35 {
			firstPage = append(firstPage, i)
		} else {
			laterPages = append(laterPages, i)
		}
	}
	tests := []struct {
		name string
		// calls answered before the time runs out, in refreshes 1 and 2
		calls1, calls2 int
		// links (by index) each refresh leaves unread
		skipped1, skipped2 []int
		// the link refresh 1 stopped after is deleted before refresh 2
		removeCursor bool
	}{
		{
			// Refresh 2 reads pages 2 and 3, then runs out of time
			// starting over from the newest.
			name:   "resume after the last page read",
			calls1: 1, skipped1: laterPages,
			calls2: 2, skipped2: firstPage,
		},
		{
			// p035, where refresh 1 stopped, is gone: refresh 2 starts
			// over from the newest.
			name:   "cursor deleted",
			calls1: 1, skipped1: laterPages,
			calls2: -1, skipped2: nil, removeCursor: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var ids []string
			var alice []string
			for i := range 60 {
				id := fmt.Sprintf("rebrand.ly/p%03d", i)
				var tags []string
				if owner[i] == "carol" {
					tags = []string{"bulk"}
				}
				if owner[i] == "alice" {
					alice = append(alice, id)
				}
				f.fake.AddLink(rebrandlyfake.Link{ID: id, Destination: dest(id), Tags: tags, Clicks: fakeapi.Growth{Base: int64(10 * i), PerMinute: 1}})
				ids = append(ids, id)
			}
			env := build(t, f.url, apiKey, "", exportertest.CreatorLinks("alice", Provider, alice...)+exportertest.CreatorTags("carol", Provider, "bulk"))
			r := exportertest.LinkResume{
				Collector: Provider, Cut: f.cut, Clock: f.clock, IDs: ids,
				Creator: func(i int) string { return owner[i] },
				Clicks:  func(i, minutes int) float64 { return float64(10*i + minutes) },
				Reason:  "rebrandly: link ",
				Calls1:  tt.calls1, Calls2: tt.calls2, Skipped1: tt.skipped1, Skipped2: tt.skipped2,
			}
			if tt.removeCursor {
				r.BeforeRefresh2 = func() { f.fake.RemoveLink("rebrand.ly/p035") }
			}
			f.clock.Advance(10 * time.Minute)
			env.CheckLinkResume(t, r)
		})
	}
}

// TestPlan checks the calls --config.check plans for one refresh.
func TestPlan(t *testing.T) {
	f := newFixture(t)
	var many []string
	for i := range 30 {
		many = append(many, fmt.Sprintf("rebrand.ly/p%03d", i))
	}
	for _, tc := range []struct {
		name, options, creators string
		calls                   int
		note                    []string
	}{
		{"nothing configured", "", "", 1, []string{"at least floor(0 configured links/25)+1", "on the workspace"}},
		{"three links", "", exportertest.CreatorLinks("alice", Provider, "rebrand.ly/a", "rebrand.ly/b", "rebrand.ly/c"), 1, []string{"floor(3 configured links/25)+1"}},
		{"thirty links on a domain", "{domain: rebrand.ly}", exportertest.CreatorLinks("alice", Provider, many...), 2, []string{"on domain rebrand.ly"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := build(t, f.url, apiKey, tc.options, tc.creators)
			env.AssertPlan(t, Provider, tc.calls, tc.note...)
		})
	}
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
		{name: "bad key", key: "rb_wrong_key_0a9b", want: exporter.ErrUnauthorized, wantMsg: "HTTP 401: Unauthorized: credential refused"},
		{name: "unknown workspace", key: apiKey, workspace: "{workspace: nope}", want: exporter.ErrNotFound, wantMsg: "HTTP 404: NotFound: Not found (workspace)"},
		{name: "server error", key: apiKey, fault: fakeapi.ServerError, want: exporter.ErrServer, wantMsg: "HTTP 500"},
		{name: "malformed body", key: apiKey, fault: fakeapi.Malformed, want: exporter.ErrBadResponse, wantMsg: "decode JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, link("rebrand.ly/alice1", 1, 0))
			env := build(t, f.url, tc.key, tc.workspace, exportertest.CreatorLinks("alice", Provider, "rebrand.ly/alice1"))
			if tc.fault != fakeapi.None {
				f.fake.Faults.Set(tc.fault, -1)
			}
			samples, err := env.Poll(t, "rebrandly")
			exportertest.AssertFailed(t, samples, err, tc.want, tc.key, tc.wantMsg)
			if !strings.HasPrefix(err.Error(), "rebrandly: list links: ") {
				t.Errorf("error %q does not start with the provider and what failed", err)
			}
			if len(env.Links.All()) != 0 {
				t.Error("a failed refresh published links")
			}
		})
	}
}

func TestPollRetriesRateLimit(t *testing.T) {
	f := newFixture(t, link("rebrand.ly/alice1", 3, 0))
	env := build(t, f.url, apiKey, "", exportertest.CreatorLinks("alice", Provider, "rebrand.ly/alice1"))
	samples := exportertest.PollAfterRateLimit(t, env, &f.fake.Faults, Provider)
	exportertest.CompareText(t, samples, exportertest.LinkClicksText("spring", "alice", Provider, "rebrand.ly/alice1=3"))
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
			creators := ""
			if tc.link != "" {
				creators = exportertest.CreatorLinks("alice", Provider, tc.link)
			}
			exportertest.AssertConfigError(t, exportertest.OneCollectorConfig(Provider, "", "x", tc.options, creators), tc.field)
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
	env := build(t, srv.URL, apiKey, "", exportertest.CreatorLinks("alice", Provider, "rebrand.ly/spring-alice")+exportertest.CreatorTags("bob", Provider, "bob"))
	samples, err := env.Poll(t, "rebrandly")
	if !exporter.IsPartial(err) || !strings.Contains(err.Error(), `rebrandly: tag "bob": the link listing carries no tags`) {
		t.Errorf("want a partial error for the tag, got %v", err)
	}
	exportertest.CompareText(t, samples, exportertest.LinkClicksText("spring", "alice", Provider, "rebrand.ly/spring-alice=42"))
	if links := env.Links.All(); len(links) != 1 || links[0].URL != "https://rebrand.ly/spring-alice" {
		t.Errorf("published %+v, want the https short URL", links)
	}
}

// TestClicksAsStrings: a click count sent as a numeric string is read; one
// that is not a number fails that link only, counted missing with the
// reason, and every other link is exported.
func TestClicksAsStrings(t *testing.T) {
	str := link("rebrand.ly/str", 0, 0, "carol")
	str.ClicksJSON = `"12"`
	bad := link("rebrand.ly/bad", 0, 0, "carol")
	bad.ClicksJSON = `"n/a"`
	for _, tc := range []struct {
		name, creators string
	}{
		{"configured", exportertest.CreatorLinks("carol", Provider, "rebrand.ly/ok", "rebrand.ly/str", "rebrand.ly/bad")},
		{"by tag", exportertest.CreatorTags("carol", Provider, "carol")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, link("rebrand.ly/ok", 5, 0, "carol"), str, bad)
			env := build(t, f.url, apiKey, "", tc.creators)
			samples, err := env.Poll(t, Provider)
			exportertest.AssertPartial(t, err, exporter.ErrBadResponse, `"rebrand.ly/bad"`, `"n/a"`)
			exportertest.AssertObjectKeys(t, err, "missing link spring/carol/rebrand.ly/bad")
			exportertest.CompareText(t, samples, exportertest.LinkClicksText("spring", "carol", Provider, "rebrand.ly/ok=5", "rebrand.ly/str=12"))
		})
	}
}

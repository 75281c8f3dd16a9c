package exporter

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// statusNow is the landing page's clock in these tests.
var statusNow = time.Date(2025, 4, 1, 12, 0, 0, 0, time.UTC)

// landing renders the landing page of cache, with links and reload as
// the page's sources (nil: none), and returns the whole page and its
// attention section.
func landing(t *testing.T, cache *Cache, links []LinkDetail, reload *ReloadStatus) (page, att string) {
	t.Helper()
	p := &StatusPage{Cache: cache, MetricsPath: "/metrics", Now: func() time.Time { return statusNow }}
	if links != nil {
		p.Links = func() []LinkDetail { return links }
	}
	if reload != nil {
		p.Reload = func() ReloadStatus { return *reload }
	}
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	page = rec.Body.String()
	start := strings.Index(page, `<section id="attention"`)
	end := strings.Index(page, "</section>")
	if start < 0 || end < start {
		t.Fatalf("no attention section:\n%s", page)
	}
	// The page opens with it: right after the title and intro, before
	// the endpoints, Not covered and the collectors.
	for _, later := range []string{`<a href="/metrics">Metrics</a>`, `<h2 id="not-covered">`, `<h2 id="collectors">`} {
		if i := strings.Index(page, later); i >= 0 && i < end {
			t.Errorf("%s comes before the end of the attention section", later)
		}
	}
	if i := strings.Index(page, "<h1>"); i > start {
		t.Error("attention section before the title")
	}
	return page, page[start : end+len("</section>")]
}

// probeSnapshot stores a link probe's refresh of links: up (true) or
// broken, with findings, taken at statusNow minus a minute and lasting took.
func probeSnapshot(cache *Cache, name string, took time.Duration, links map[[4]string]bool, findings map[string]string) {
	var samples []Sample
	for l, up := range links {
		v := 0.0
		if up {
			v = 1
		}
		samples = append(samples, LinkUp.Sample(v, l[0], l[1], l[2], l[3]))
	}
	at := statusNow.Add(-time.Minute)
	if err := cache.Success(name, "linkprobe", samples, at, took); err != nil {
		panic(err)
	}
	cache.SetFindings(name, findings)
	cache.Scheduled(name, "linkprobe", statusNow.Add(30*time.Second))
}

// upSnapshot stores a successful refresh of a collector with no findings.
func upSnapshot(cache *Cache, name, typ string) {
	_ = cache.Success(name, typ, nil, statusNow.Add(-2*time.Minute), 800*time.Millisecond)
	cache.Scheduled(name, typ, statusNow.Add(-time.Second))
}

func assertContains(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %s\n%s", what, w, text)
		}
	}
}

func assertLacks(t *testing.T, what, text string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(text, w) {
			t.Errorf("%s has %s\n%s", what, w, text)
		}
	}
}

var (
	chloeLink = [4]string{"spring", "chloe", "shortio", "short.gy/chloe"}
	aliceLink = [4]string{"spring", "alice", "bitly", "bit.ly/alice"}
)

func TestLandingBrokenLink(t *testing.T) {
	cache := NewCache()
	probeSnapshot(cache, "linkprobe", 1213638522*time.Nanosecond,
		map[[4]string]bool{chloeLink: false, aliceLink: true},
		map[string]string{"shortio/short.gy/chloe": "HTTP 404 from shop.example/p (twice)"})
	upSnapshot(cache, "shortio", "shortio")

	t.Run("from the link probe's details", func(t *testing.T) {
		page, att := landing(t, cache, []LinkDetail{
			{Campaign: "spring", Creator: "chloe", Provider: "shortio", Link: "short.gy/chloe", State: "broken",
				Reason: "GET https://shop.example/p: HTTP 404", Since: statusNow.Add(-3*time.Minute - 10*time.Second)},
			{Campaign: "spring", Creator: "alice", Provider: "bitly", Link: "bit.ly/alice", State: "up"},
		}, nil)
		assertContains(t, "attention section", att,
			`<h3 id="attention-links">Broken links</h3>`,
			`<tr><td>spring</td><td>chloe</td><td>shortio</td><td><a href="links#link-shortio-short.gy_chloe">short.gy/chloe</a></td><td class="err">GET https://shop.example/p: HTTP 404</td><td title="2025-04-01T11:56:50Z">3 min ago</td></tr>`)
		assertLacks(t, "attention section", att, "bit.ly/alice", "Nothing needs attention")
		// The probe's row no longer reads plain "up".
		assertContains(t, "landing page", page,
			`<span class="up">up</span>, <span class="down">1 link broken</span></td>`,
			`<div class="finding">shortio/short.gy/chloe: HTTP 404 from shop.example/p (twice)</div>`)
	})

	t.Run("from the snapshots", func(t *testing.T) {
		_, att := landing(t, cache, nil, nil)
		assertContains(t, "attention section", att,
			`<tr><td>spring</td><td>chloe</td><td>shortio</td><td><a href="links#link-shortio-short.gy_chloe">short.gy/chloe</a></td><td class="err">HTTP 404 from shop.example/p (twice)</td><td title="">-</td></tr>`)
		assertLacks(t, "attention section", att, "bit.ly/alice")
	})

	t.Run("many", func(t *testing.T) {
		var links []LinkDetail
		for i := range attentionRows + 3 {
			links = append(links, LinkDetail{Campaign: "spring", Creator: "c" + string(rune('a'+i)), Provider: "bitly", Link: "bit.ly/x", State: "broken"})
		}
		_, att := landing(t, cache, links, nil)
		if n := strings.Count(att, `<a href="links#link-bitly-bit.ly_x">`); n != attentionRows {
			t.Errorf("%d broken links listed, want %d", n, attentionRows)
		}
		assertContains(t, "attention section", att, `<p>… and 3 more broken links: see <a href="links">the links page</a>.</p>`)
	})
}

func TestLandingCollectorDown(t *testing.T) {
	cache := NewCache()
	upSnapshot(cache, "shopify", "shopify")
	cache.Failure("shopify", "shopify", errors.New(`shopify: list orders: POST https://spring.myshopify.com/admin/api/2025-01/graphql.json: HTTP 401: Invalid API key or access token`), statusNow.Add(-10*time.Second), 2500*time.Millisecond)
	upSnapshot(cache, "bitly", "bitly")

	page, att := landing(t, cache, nil, nil)
	assertContains(t, "attention section", att,
		`<h3 id="attention-collectors">Collectors down or partial</h3>`,
		`<tr><td><a href="#collector-shopify">shopify</a></td><td>shopify</td><td class="down">down</td><td class="err">shopify: list orders: POST https://spring.myshopify.com/admin/api/2025-01/graphql.json: HTTP 401: Invalid API key or access token</td><td title="2025-04-01T11:58:00Z">2 min ago</td></tr>`)
	assertLacks(t, "attention section", att, "bitly")
	assertContains(t, "landing page", page, `<tr id="collector-shopify">`, `<span class="down">down</span>`, `<td>2.5 s</td>`)
}

func TestLandingPartialCollector(t *testing.T) {
	cache := NewCache()
	upSnapshot(cache, "bitly", "bitly")
	cache.setCoverage("bitly", "bitly", coverageOfStatuses([]ObjectStatus{
		{Object: Object{Kind: KindLink, Campaign: "spring", Creator: "alice", ID: "bit.ly/a"}, State: StateExported},
		{Object: Object{Kind: KindLink, Campaign: "spring", Creator: "bruno", ID: "bit.ly/gone"}, State: StateMissing, Reason: `bitly: link "bit.ly/gone": not found`},
		{Object: Object{Kind: KindLink, Campaign: "summer", Creator: "emma", ID: "bit.ly/late"}, State: StateSkipped, Reason: "bitly: out of time"},
	}))

	page, att := landing(t, cache, nil, nil)
	assertContains(t, "attention section", att,
		`<tr><td><a href="#collector-bitly">bitly</a></td><td>bitly</td><td class="partial">partial</td><td>1 missing, 1 skipped (previous values kept) of 3 objects: <a href="#not-covered">which and why</a></td>`)
	assertContains(t, "landing page", page, `<span class="partial">partial</span>`, `1 exported, <span class="down">1 missing</span>, <span class="partial">1 skipped</span>`)

	// Only skipped: the count reads without a dangling comma.
	cache.setCoverage("bitly", "bitly", coverageOfStatuses([]ObjectStatus{
		{Object: Object{Kind: KindLink, Campaign: "summer", Creator: "emma", ID: "bit.ly/late"}, State: StateSkipped, Reason: "bitly: out of time"},
	}))
	_, att = landing(t, cache, nil, nil)
	assertContains(t, "attention section", att, `<td>1 skipped (previous values kept) of 1 object: <a href="#not-covered">which and why</a></td>`)
	assertLacks(t, "attention section", att, "Objects missing")
}

func TestLandingMissingObject(t *testing.T) {
	cache := NewCache()
	upSnapshot(cache, "youtube", "youtube")
	cache.setCoverage("youtube", "youtube", coverageOfStatuses([]ObjectStatus{
		{Object: Object{Kind: KindPost, Campaign: "summer", Creator: "emma", ID: "emmaSUM0001"}, State: StateExported},
		{Object: Object{Kind: KindPost, Campaign: "summer", Creator: "emma", ID: "emmaGONE"}, State: StateMissing, Reason: `youtube: video "emmaGONE": not found (deleted or private)`},
		{Object: Object{Kind: KindPost, Campaign: "summer", Creator: "farid", ID: "faridLATE"}, State: StateSkipped, Reason: "youtube: out of time"},
	}))
	_, att := landing(t, cache, nil, nil)
	assertContains(t, "attention section", att,
		`<h3 id="attention-missing">Objects missing</h3>`,
		`<tr><td>summer</td><td>emma</td><td>post</td><td>emmaGONE</td><td><a href="#collector-youtube">youtube</a></td><td class="err">youtube: video &#34;emmaGONE&#34;: not found (deleted or private)</td></tr>`)
	// A skipped object keeps its values: counted with its collector, not
	// listed as missing.
	assertLacks(t, "attention section", att, "faridLATE")
}

func TestLandingReload(t *testing.T) {
	cache := NewCache()
	upSnapshot(cache, "bitly", "bitly")
	failed := &ReloadStatus{
		At:          statusNow.Add(-2 * time.Minute),
		Err:         errors.New("config.yaml:12:3: collectors[1].interval: 1s is below the minimum of 10s\nconfig.yaml:20:5: campaigns[0].name: campaign name is empty"),
		LastSuccess: statusNow.Add(-80 * time.Minute),
	}
	page, att := landing(t, cache, nil, failed)
	assertContains(t, "attention section", att,
		`<h3 id="attention-reload">Configuration reload failed</h3>`,
		`<p><span class="down" title="2025-04-01T11:58:00Z">The last reload, 2 min ago, failed:</span></p>`,
		"<div class=\"err\">config.yaml:12:3: collectors[1].interval: 1s is below the minimum of 10s\nconfig.yaml:20:5: campaigns[0].name: campaign name is empty</div>",
		`The exporter keeps running the configuration loaded <span title="2025-04-01T10:40:00Z">1 h 20 min ago</span>: fix the file and reload.`)
	// Beside the reload button too.
	assertContains(t, "landing page", page,
		`<span id="last-reload">Last reload: <span title="2025-04-01T11:58:00Z">2 min ago</span>, <span class="down">failed</span>: <span class="err">config.yaml:12:3:`,
		` (running the configuration loaded <span title="2025-04-01T10:40:00Z">1 h 20 min ago</span>).</span>`)
	// Without --web.enable-lifecycle there is no button, and the page
	// says how to reload.
	assertLacks(t, "landing page", page, `<button`, `action="-/reload"`)
	assertContains(t, "landing page", page, `<p>Reload the configuration with <code>SIGHUP</code> (<code>POST /-/reload</code> needs <code>--web.enable-lifecycle</code>).`)
	rec := httptest.NewRecorder()
	(&StatusPage{Cache: cache, Now: func() time.Time { return statusNow }, Reload: func() ReloadStatus { return *failed }, Lifecycle: true}).
		ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	withButton := rec.Body.String()
	button := strings.Index(withButton, `<form action="-/reload" method="post"><button type="submit">Reload configuration</button>`)
	if line := strings.Index(withButton, `<span id="last-reload">`); button < 0 || line < button || strings.Index(withButton, "</form>") < line {
		t.Errorf("with the lifecycle API, the reload line is not in the reload button's form:\n%s", withButton)
	}
	assertLacks(t, "landing page with the lifecycle API", withButton, "SIGHUP")

	ok := &ReloadStatus{At: statusNow.Add(-45 * time.Second), LastSuccess: statusNow.Add(-45 * time.Second)}
	page, att = landing(t, cache, nil, ok)
	assertLacks(t, "attention section", att, "reload")
	assertContains(t, "landing page", page, `<span id="last-reload">Last reload: <span title="2025-04-01T11:59:15Z">45 s ago</span>, <span class="up">OK</span>.</span>`)
}

// Campaigns whose posts are summed per creator are named: their per-post
// series are missing from /metrics by choice, not by failure.
func TestLandingPerCreatorCampaigns(t *testing.T) {
	cache := NewCache()
	upSnapshot(cache, "instagram", "instagram")
	page := func(names []string) string {
		t.Helper()
		rec := httptest.NewRecorder()
		(&StatusPage{Cache: cache, Now: func() time.Time { return statusNow }, PerCreator: func() []string { return names }}).
			ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		return rec.Body.String()
	}
	assertContains(t, "landing page", page([]string{"agency", "big<b>"}),
		`<p id="per-creator">Post series summed per creator and platform (<code>post_series: per_creator</code>; no per-post series, early curve off) in 2 campaigns: agency, big&lt;b&gt;.</p>`)
	assertLacks(t, "landing page", page(nil), `id="per-creator"`)
}

func TestLandingNothingToReport(t *testing.T) {
	cache := NewCache()
	probeSnapshot(cache, "linkprobe", 300*time.Millisecond, map[[4]string]bool{chloeLink: true, aliceLink: true}, nil)
	upSnapshot(cache, "bitly", "bitly")
	cache.Scheduled("youtube", "youtube", statusNow.Add(time.Minute)) // not refreshed yet

	page, att := landing(t, cache, nil, &ReloadStatus{At: statusNow.Add(-time.Hour), LastSuccess: statusNow.Add(-time.Hour)})
	want := `<section id="attention" class="clear">
<p class="up">Nothing needs attention: 2 links up, 2 collectors up, 1 collector waiting for its first refresh.</p>
</section>`
	if att != want {
		t.Errorf("attention section:\n%s\nwant:\n%s", att, want)
	}
	assertLacks(t, "landing page", page, "link broken", "links broken")

	// From the link probe's details: they count the links, and a link
	// that is not probed yet is neither up nor broken.
	_, att = landing(t, cache, []LinkDetail{{State: "up"}, {State: "pending"}, {State: "up"}, {State: "up"}}, nil)
	assertContains(t, "attention section", att, "Nothing needs attention: 3 links up, 2 collectors up, 1 collector waiting for its first refresh.")
}

// Names and errors come from the config and from providers: the page shows
// them as text, never as markup.
func TestLandingEscapes(t *testing.T) {
	cache := NewCache()
	upSnapshot(cache, "shopify", "shopify")
	cache.Failure("shopify", "shopify", errors.New(`shopify: HTTP 500: <script>alert("x")</script>`), statusNow, time.Second)
	_, att := landing(t, cache, []LinkDetail{{
		Campaign: `spring<b>`, Creator: `chloe"&`, Provider: "shortio", Link: `short.gy/a"><img src=x>`, State: "broken",
		Reason: `HTTP 404: <iframe src="//evil">`,
	}}, &ReloadStatus{At: statusNow, Err: errors.New(`yaml: line 3: found character "<" that cannot start any token`)})
	assertContains(t, "attention section", att,
		`<td>spring&lt;b&gt;</td><td>chloe&#34;&amp;</td>`,
		`<a href="links#link-shortio-short.gy_a___img_src_x_">short.gy/a&#34;&gt;&lt;img src=x&gt;</a>`,
		`HTTP 404: &lt;iframe src=&#34;//evil&#34;&gt;`,
		`shopify: HTTP 500: &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`,
		`found character &#34;&lt;&#34; that cannot start any token`)
	assertLacks(t, "attention section", att, "<script>", "<iframe", "<img", "<b>")
}

// Durations read as people say them, never as Go prints them.
func TestLandingHumanDurations(t *testing.T) {
	cache := NewCache()
	probeSnapshot(cache, "linkprobe", 1213638522*time.Nanosecond, map[[4]string]bool{aliceLink: true}, nil)
	_ = cache.Success("fast", "bitly", nil, statusNow.Add(-3*time.Hour-10*time.Minute), 700*time.Microsecond)
	cache.Scheduled("fast", "bitly", statusNow.Add(-time.Second))

	page, _ := landing(t, cache, nil, nil)
	assertContains(t, "landing page", page,
		`<td title="2025-04-01T11:59:00Z">1 min ago</td>
<td>1.2 s</td>
<td title="2025-04-01T12:00:30Z">in 30 s</td>`,
		`<td title="2025-04-01T08:50:00Z">3 h 10 min ago</td>
<td>0.7 ms</td>
<td title="2025-04-01T11:59:59Z">due</td>`)
	assertLacks(t, "landing page", page, "1.213638522s", "700µs", "1m0s", "3h10m")
}

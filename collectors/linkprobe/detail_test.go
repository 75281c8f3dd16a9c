package linkprobe

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/influencer-exporter/influencer_exporter/collectors/bitly/bitlyfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/linkprobe/sitefake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// debugLinks is a campaign for the /links page against the fakes: Bitly's
// fake serving the short links, a shop and another site, all on loopback,
// and a denied address, 127.0.0.2, with a listener that must never see a
// connection.
type debugLinks struct {
	env                 *exportertest.Env
	p                   *Probe
	clock               *fakeClock
	bitly               *bitlyfake.Server
	shop, other         *sitefake.Site
	shopHost, otherHost string
	// denied counts the connections the listener on 127.0.0.2 accepted.
	denied     *atomic.Int32
	deniedHost string
}

// Secrets in the links' URLs: none may reach the page.
const (
	secretQuery    = "tok-SECRET-1"
	secretPassword = "pw-SECRET-2"
	secretKey      = "key-SECRET-3"
	secretSig      = "sig-SECRET-4"
)

// debugCampaigns configures a link with nothing to request, and erin's
// url: override, a page on the shop (%s).
const debugCampaigns = `
campaigns:
  - name: spring
    creators:
      - name: frank
        links:
          - {collector: stub, id: s.test/nourl}
  - name: summer
    creators:
      - name: erin
        links:
          - {collector: stub, id: s.test/erin, url: "%s"}
`

func newDebugLinks(t *testing.T) *debugLinks {
	t.Helper()
	d := &debugLinks{shop: sitefake.New(), other: sitefake.New()}
	shopURL := exportertest.Serve(t, d.shop)
	otherURL := exportertest.Serve(t, d.other)
	d.shopHost = strings.TrimPrefix(shopURL, "http://")
	d.otherHost = strings.TrimPrefix(otherURL, "http://")
	d.shop.Break("/gone")

	// A listener on 127.0.0.2, inside loopback, that counts connections.
	d.deniedHost, d.denied = listenCounting(t, "127.0.0.2", false)

	d.bitly = bitlyfake.New("token", stopped)
	exportertest.ServeFake(t, d.bitly,
		bitlyfake.Link{ID: "bit.ly/alice", Destination: shopURL + "/p?utm_source=alice&access_token=" + secretQuery},
		bitlyfake.Link{ID: "bit.ly/bob", Destination: shopURL + "/gone?utm_source=bob"},
		bitlyfake.Link{ID: "bit.ly/carol", Destination: otherURL + "/p?utm_source=carol"},
	)

	// The real dialer, which applies the address rules: every URL is a
	// loopback IP, so no name is resolved. Loopback is allowed, but for
	// 127.0.0.2.
	erin := "http://erin:" + secretPassword + "@" + d.shopHost + "/landing?utm_source=erin&sig=" + secretSig
	d.env, d.p = build(t, nil, `deny_cidrs: ["127.0.0.2/32"]`+"\n"+allowLoopback, strings.Replace(debugCampaigns, "%s", erin, 1))
	d.clock = newFakeClock()
	d.p.setClock(d.clock.now, d.clock.sleep)
	expect := func(who string) *exporter.Expect {
		return &exporter.Expect{Host: d.shopHost, UTM: map[string]string{"utm_source": who}}
	}
	d.env.Links.Publish("stub", []exporter.PublishedLink{
		{Campaign: "spring", Creator: "alice", Provider: "bitly", ID: "bit.ly/alice", URL: d.bitly.ShortURL("alice"), Expect: expect("alice")},
		{Campaign: "spring", Creator: "bob", Provider: "bitly", ID: "bit.ly/bob", URL: d.bitly.ShortURL("bob"), Expect: expect("bob")},
		{Campaign: "summer", Creator: "carol", Provider: "bitly", ID: "bit.ly/carol", URL: d.bitly.ShortURL("carol"), Expect: expect("carol")},
		{Campaign: "summer", Creator: "dave", Provider: "stub", ID: "s.test/dave",
			URL: "http://probe:" + secretPassword + "@" + d.deniedHost + "/dave?api_key=" + secretKey},
	})
	return d
}

func (d *debugLinks) page() *exporter.LinksPage {
	return &exporter.LinksPage{
		Inspect: func() []exporter.LinkInspector { return []exporter.LinkInspector{d.p} },
		Now:     func() time.Time { return clockStart.Add(time.Minute) },
	}
}

// refresh runs a round through the scheduler into cache.
func (d *debugLinks) refresh(t *testing.T, cache *exporter.Cache) {
	t.Helper()
	(&exporter.Scheduler{Cache: cache}).Refresh(context.Background(), d.env.Instance(t, "linkprobe"))
}

func get(t *testing.T, h http.Handler, target string) string {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", target, w.Code, w.Body)
	}
	return w.Body.String()
}

func detailsOf(t *testing.T, body string) map[string]exporter.LinkDetail {
	t.Helper()
	var ds []exporter.LinkDetail
	if err := json.Unmarshal([]byte(body), &ds); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	out := map[string]exporter.LinkDetail{}
	for _, d := range ds {
		out[d.Link] = d
	}
	return out
}

// hopLine prints a hop for comparison, without its time.
func hopLine(h exporter.Hop) string {
	s := h.Method + " " + h.URL + " " + http.StatusText(h.Status)
	if h.Location != "" {
		s += " -> " + h.Location
	}
	if h.Error != "" {
		s += " error: " + h.Error
	}
	if h.Expect != "" {
		s += " expect: " + h.Expect
	}
	return s
}

func hopLines(d exporter.LinkDetail) []string {
	var out []string
	for _, h := range d.Hops {
		out = append(out, hopLine(h))
	}
	return out
}

func assertNoSecret(t *testing.T, what, body string) {
	t.Helper()
	for _, s := range []string{secretQuery, secretPassword, secretKey, secretSig, "SECRET"} {
		if strings.Contains(body, s) {
			t.Errorf("%s shows the secret %q", what, s)
		}
	}
}

func TestLinksPageAgainstFakes(t *testing.T) {
	d := newDebugLinks(t)
	cache := exporter.NewCache()
	d.refresh(t, cache)
	page := d.page()

	body := get(t, page, "/links?format=json")
	assertNoSecret(t, "JSON", body)
	got := detailsOf(t, body)
	short := strings.TrimPrefix(d.bitly.ShortURL(""), "http://")
	shop := "http://" + d.shopHost
	tests := []struct {
		link, state string
		// reason is a part of the link's reason: with several links
		// waiting on the fake clock, a confirmation comes more than 5s
		// later.
		reason string
		status int
		hops   []string
	}{
		{link: "bit.ly/alice", state: "up", status: 200, hops: []string{
			"HEAD http://" + short + "alice Moved Permanently -> " + shop + "/p?utm_source=alice&access_token=REDACTED",
			"HEAD " + shop + "/p?utm_source=alice&access_token=REDACTED OK",
		}},
		{link: "bit.ly/bob", state: "broken", status: 404,
			reason: "later): final status 404 at " + shop + "/gone",
			// HEAD refused with 404 is tried as GET: the chain of the
			// confirmation, the last attempt.
			hops: []string{
				"HEAD http://" + short + "bob Moved Permanently -> " + shop + "/gone?utm_source=bob",
				"HEAD " + shop + "/gone?utm_source=bob Not Found",
				"GET " + shop + "/gone?utm_source=bob Not Found",
			}},
		{link: "bit.ly/carol", state: "broken", status: 200,
			reason: `landed on host "` + d.otherHost + `", expected "` + d.shopHost + `"`,
			hops: []string{
				"HEAD http://" + short + "carol Moved Permanently -> http://" + d.otherHost + "/p?utm_source=carol",
				"HEAD http://" + d.otherHost + "/p?utm_source=carol OK expect: host",
			}},
		{link: "s.test/dave", state: "broken",
			reason: "later): dial tcp " + d.deniedHost + ": address 127.0.0.2 is in deny_cidrs 127.0.0.2/32",
			hops:   []string{"HEAD http://" + d.deniedHost + "/dave?api_key=REDACTED  error: dial tcp " + d.deniedHost + ": address 127.0.0.2 is in deny_cidrs 127.0.0.2/32"}},
		{link: "s.test/erin", state: "up", status: 200, hops: []string{"HEAD " + shop + "/landing?utm_source=erin&sig=REDACTED OK"}},
		{link: "s.test/nourl", state: "missing",
			reason: "collector stub has not published this link yet (its refresh failed, or stub does not know the link; see that collector), and it has no url: to probe instead"},
	}
	if len(got) != len(tests) {
		t.Errorf("%d links listed, want %d", len(got), len(tests))
	}
	for _, tt := range tests {
		g, ok := got[tt.link]
		if !ok {
			t.Errorf("%s not listed", tt.link)
			continue
		}
		if g.State != tt.state || g.Status != tt.status || !strings.Contains(g.Reason, tt.reason) || (tt.reason == "") != (g.Reason == "") {
			t.Errorf("%s: %s, status %d, reason %q; want %s, %d, %q", tt.link, g.State, g.Status, g.Reason, tt.state, tt.status, tt.reason)
		}
		if tt.hops != nil && !slices.Equal(hopLines(g), tt.hops) {
			t.Errorf("%s hops:\n%s\nwant:\n%s", tt.link, strings.Join(hopLines(g), "\n"), strings.Join(tt.hops, "\n"))
		}
		if tt.state == "missing" {
			if !g.ProbedAt.IsZero() || len(g.Hops) > 0 {
				t.Errorf("%s: a missing link has a probe: %+v", tt.link, g)
			}
			continue
		}
		if g.ProbedAt.IsZero() || !g.Since.Equal(g.ProbedAt) {
			t.Errorf("%s: probed at %v, since %v; want since the first probe", tt.link, g.ProbedAt, g.Since)
		}
		if g.Duration <= 0 && tt.link != "s.test/dave" {
			t.Errorf("%s: duration %v", tt.link, g.Duration)
		}
	}
	if n := d.denied.Load(); n != 0 {
		t.Errorf("%d connections reached the denied address", n)
	}

	html := get(t, page, "/links")
	assertNoSecret(t, "HTML", html)
	for _, want := range []string{
		`<tr id="link-bitly-bit.ly_alice">`, `<tr id="link-bitly-bit.ly_bob">`, `<tr id="link-bitly-bit.ly_carol">`,
		`<tr id="link-stub-s.test_dave">`, `<tr id="link-stub-s.test_erin">`, `<tr id="link-stub-s.test_nourl">`,
		`<td>GET</td><td class="url">` + shop + `/gone?utm_source=bob</td><td>404</td>`,
		`<td class="failed">host</td>`,
		`address 127.0.0.2 is in deny_cidrs 127.0.0.2/32</td>`,
		`/p?utm_source=alice&amp;access_token=REDACTED`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Index(html, `id="link-bitly-bit.ly_bob"`) > strings.Index(html, `id="link-bitly-bit.ly_alice"`) {
		t.Error("a broken link comes after an up one")
	}
	broken := detailsOf(t, get(t, page, "/links?format=json&state=broken&campaign=summer"))
	if len(broken) != 2 || broken["bit.ly/carol"].Link == "" || broken["s.test/dave"].Link == "" {
		t.Errorf("broken links of summer: %v", broken)
	}
	if html := get(t, page, "/links?creator=bob"); !strings.Contains(html, `id="link-bitly-bit.ly_bob"`) || strings.Contains(html, `id="link-bitly-bit.ly_alice"`) {
		t.Error("creator filter: wrong rows")
	}
}

func TestProbeLinkChangesNothing(t *testing.T) {
	d := newDebugLinks(t)
	cache := exporter.NewCache()
	d.refresh(t, cache)
	page := d.page()

	exposition := func() string {
		b, err := testutil.CollectAndFormat(cache, expfmt.TypeTextPlain)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	series, details := exposition(), get(t, page, "/links?format=json")
	findings, coverage := d.p.Findings(), d.p.Coverage()
	gone := d.shop.Hits("/gone")

	post := func(form url.Values) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/links/probe", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		w := httptest.NewRecorder()
		page.ServeHTTP(w, req)
		return w
	}
	w := post(url.Values{"link": {"bit.ly/bob"}, "format": {"json"}})
	if w.Code != http.StatusOK {
		t.Fatalf("probe: status %d: %s", w.Code, w.Body)
	}
	var bob exporter.LinkDetail
	if err := json.Unmarshal(w.Body.Bytes(), &bob); err != nil {
		t.Fatal(err)
	}
	shop := "http://" + d.shopHost
	if bob.State != "broken" || bob.Reason != "final status 404 at "+shop+"/gone" || !strings.Contains(bob.Note, "single attempt") {
		t.Errorf("probe of bob = %+v", bob)
	}
	// One attempt, no confirmation: HEAD, then GET.
	if n := d.shop.Hits("/gone"); n != gone+2 {
		t.Errorf("the probe sent %d requests to the page, want 2", n-gone)
	}
	// Broken since the scheduled round, which agrees.
	if want := detailsOf(t, details)["bit.ly/bob"].Since; want.IsZero() || !bob.Since.Equal(want) {
		t.Errorf("since = %v, want the round's %v", bob.Since, want)
	}

	html := post(url.Values{"link": {"s.test/dave"}}).Body.String()
	assertNoSecret(t, "probe page", html)
	if !strings.Contains(html, "address 127.0.0.2 is in deny_cidrs 127.0.0.2/32") || !strings.Contains(html, "single attempt") {
		t.Errorf("probe of the denied link:\n%s", html)
	}
	if n := d.denied.Load(); n != 0 {
		t.Errorf("%d connections reached the denied address", n)
	}

	if got := exposition(); got != series {
		t.Errorf("series changed by an on-demand probe:\n%s\nwas:\n%s", got, series)
	}
	if got := get(t, page, "/links?format=json"); got != details {
		t.Errorf("details changed by an on-demand probe:\n%s\nwere:\n%s", got, details)
	}
	if got := d.p.Findings(); !mapsEqual(got, findings) {
		t.Errorf("findings changed: %v, were %v", got, findings)
	}
	if got := d.p.Coverage(); !slices.Equal(got, coverage) {
		t.Errorf("coverage changed: %v, was %v", got, coverage)
	}
}

func TestProbeLinkFind(t *testing.T) {
	d := newDebugLinks(t)
	ctx := context.Background()
	tests := []struct {
		link, want, state string
	}{
		{"bit.ly/alice", "bit.ly/alice", "up"},
		{"BIT.LY/alice", "bit.ly/alice", "up"},
		{"https://bit.ly/alice", "bit.ly/alice", "up"},
		{d.bitly.ShortURL("alice"), "bit.ly/alice", "up"},
		{" s.test/erin ", "s.test/erin", "up"},
		{"s.test/nourl", "s.test/nourl", "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.link, func(t *testing.T) {
			got, err := d.p.ProbeLink(ctx, tt.link)
			if err != nil {
				t.Fatal(err)
			}
			if got.Link != tt.want || got.State != tt.state {
				t.Errorf("ProbeLink(%q) = %s %s, want %s %s", tt.link, got.Link, got.State, tt.want, tt.state)
			}
		})
	}
	for _, link := range []string{"", "bit.ly/nobody", "bit.ly/Alice", "https://bit.ly/alice?x=1", "alice"} {
		if _, err := d.p.ProbeLink(ctx, link); !errors.Is(err, exporter.ErrUnknownLink) {
			t.Errorf("ProbeLink(%q) = %v, want ErrUnknownLink", link, err)
		}
	}
	w := httptest.NewRecorder()
	d.page().ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/links/probe?link=bit.ly/nobody", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("unknown link: status %d, want 404", w.Code)
	}
	t.Run("ended context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := d.p.ProbeLink(ctx, "bit.ly/alice"); !errors.Is(err, context.Canceled) {
			t.Errorf("ProbeLink with an ended context = %v", err)
		}
	})
}

// TestLinkStates: pending, skipped, and since across rounds.
func TestLinkStates(t *testing.T) {
	s := newSites(t)
	s.short.SetRedirect("/a", "http://shop.test/p", 301)
	s.short.SetRedirect("/b", "http://shop.test/gone", 301)
	s.shop.Break("/gone")
	env, p := build(t, s.net, "", "")
	clock := newFakeClock()
	p.setClock(clock.now, clock.sleep)
	env.Links.Publish("stub", []exporter.PublishedLink{link("alice", "bit.ly/a", "http://short.test/a"), link("bob", "bit.ly/b", "http://short.test/b")})
	state := func() map[string]exporter.LinkDetail {
		out := map[string]exporter.LinkDetail{}
		for _, d := range p.LinkDetails() {
			out[d.Link] = d
		}
		return out
	}
	if got := state(); got["bit.ly/a"].State != "pending" || got["bit.ly/b"].State != "pending" {
		t.Errorf("before the first round: %+v", got)
	}
	poll := func() {
		t.Helper()
		if _, err := p.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	poll()
	first := state()
	if first["bit.ly/b"].State != "broken" || !first["bit.ly/b"].Since.Equal(first["bit.ly/b"].ProbedAt) {
		t.Errorf("round 1: %+v", first["bit.ly/b"])
	}
	clock.sleep(context.Background(), time.Minute)
	poll()
	second := state()
	if b := second["bit.ly/b"]; b.State != "broken" || !b.Since.Equal(first["bit.ly/b"].Since) || !b.ProbedAt.After(first["bit.ly/b"].ProbedAt) {
		t.Errorf("round 2: broken since %v, probed %v; want since %v, probed later", b.Since, b.ProbedAt, first["bit.ly/b"].Since)
	}
	if a := second["bit.ly/a"]; a.State != "up" || !a.Since.Equal(first["bit.ly/a"].Since) {
		t.Errorf("round 2: alice %+v", a)
	}
	s.shop.Restore("/gone")
	clock.sleep(context.Background(), time.Minute)
	poll()
	if b := state()["bit.ly/b"]; b.State != "up" || !b.Since.Equal(b.ProbedAt) || b.Reason != "" {
		t.Errorf("round 3, repaired: %+v", b)
	}

	// A link published after the round is pending; one the next round
	// cannot reach is skipped, keeping its result.
	env.Links.Publish("stub", []exporter.PublishedLink{link("alice", "bit.ly/a", "http://short.test/a"),
		link("bob", "bit.ly/b", "http://short.test/b"), link("carol", "bit.ly/c", "http://short.test/c")})
	if c := state()["bit.ly/c"]; c.State != "pending" || !c.ProbedAt.IsZero() {
		t.Errorf("new link: %+v", c)
	}
	if _, err := p.Poll(lateAfterFirst(t, p, clock.now)); err != nil {
		t.Fatal(err)
	}
	got := state()
	var skipped []string
	for _, id := range []string{"bit.ly/a", "bit.ly/b", "bit.ly/c"} {
		if got[id].State == "skipped" {
			skipped = append(skipped, id)
			if !strings.HasPrefix(got[id].Reason, "round ran late: not probed this round") {
				t.Errorf("%s skipped for %q", id, got[id].Reason)
			}
		}
	}
	if len(skipped) != 2 {
		t.Errorf("skipped %v, want 2 links", skipped)
	}
	for _, id := range skipped {
		if id != "bit.ly/c" && (got[id].ProbedAt.IsZero() || len(got[id].Hops) == 0 || !strings.HasSuffix(got[id].Reason, "; last result: up")) {
			t.Errorf("skipped %s lost its previous result: %+v", id, got[id])
		}
	}
}

func TestHopDetails(t *testing.T) {
	t.Run("hops are capped", func(t *testing.T) {
		s := newSites(t)
		s.short.SetRedirect("/a", "/b", 301)
		s.short.SetRedirect("/b", "/c", 301)
		s.short.SetRedirect("/c", "/d", 301)
		env, p := build(t, s.net, "max_redirects: 2", "")
		env.Links.Publish("stub", []exporter.PublishedLink{link("alice", "bit.ly/a", "http://short.test/a")})
		if _, err := p.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		ds := p.LinkDetails()
		want := []string{
			"HEAD http://short.test/a Moved Permanently -> http://short.test/b",
			"HEAD http://short.test/b Moved Permanently -> http://short.test/c",
			"HEAD http://short.test/c Moved Permanently -> http://short.test/d error: more than 2 redirects (max_redirects)",
		}
		if len(ds) != 1 || !slices.Equal(hopLines(ds[0]), want) {
			t.Errorf("hops:\n%s\nwant:\n%s", strings.Join(hopLines(ds[0]), "\n"), strings.Join(want, "\n"))
		}
		steps := make([]step, 0)
		for range 10 {
			steps = p.addStep(steps, step{})
		}
		if len(steps) != 4 {
			t.Errorf("addStep kept %d steps, want max_redirects + 2 = 4", len(steps))
		}
	})
	t.Run("utm", func(t *testing.T) {
		s := newSites(t)
		s.short.SetRedirect("/a", "http://shop.test/p?utm_source=bob", 301)
		env, p := build(t, s.net, "", "")
		l := link("alice", "bit.ly/a", "http://short.test/a")
		l.Expect = &exporter.Expect{UTM: map[string]string{"utm_source": "alice"}}
		env.Links.Publish("stub", []exporter.PublishedLink{l})
		if _, err := p.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"HEAD http://short.test/a Moved Permanently -> http://shop.test/p?utm_source=bob",
			"HEAD http://shop.test/p?utm_source=bob OK expect: utm",
		}
		if got := hopLines(p.LinkDetails()[0]); !slices.Equal(got, want) {
			t.Errorf("hops:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("downgrade", func(t *testing.T) {
		s, ts := newSites(t), newTLSSites(t)
		ts.short.SetRedirect("/a", "http://shop.test/p", 301)
		s.shop.SetRedirect("/p", "http://shop.test/q", 302)
		env, p := buildHTTPConfig(t, s.net, ts.caFile, "")
		env.Links.Publish("stub", []exporter.PublishedLink{link("alice", "bit.ly/a", ts.shortURL+"/a")})
		if _, err := p.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"HEAD " + ts.shortURL + "/a Moved Permanently -> http://shop.test/p",
			"HEAD http://shop.test/p Found -> http://shop.test/q expect: scheme",
			"HEAD http://shop.test/q OK",
		}
		if got := hopLines(p.LinkDetails()[0]); !slices.Equal(got, want) {
			t.Errorf("hops:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("a destination shared with another link", func(t *testing.T) {
		s := newSites(t)
		s.short.SetRedirect("/a", "http://shop.test/p?utm_source=alice", 301)
		s.short.SetRedirect("/b", "http://shop.test/p?utm_source=bob", 301)
		env, p := build(t, s.net, "", "")
		env.Links.Publish("stub", []exporter.PublishedLink{link("alice", "bit.ly/a", "http://short.test/a"), link("bob", "bit.ly/b", "http://short.test/b")})
		if _, err := p.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := s.shop.Hits("/p"); n != 1 {
			t.Fatalf("%d requests to the destination, want 1", n)
		}
		// Whichever link reached the destination first had it probed
		// with its URL; the other's chain says so.
		shared := 0
		for _, d := range p.LinkDetails() {
			if len(d.Hops) != 2 {
				t.Fatalf("%s: hops %+v", d.Link, d.Hops)
			}
			own := strings.TrimPrefix(d.Hops[0].Location, "http://shop.test/p?")
			if h := d.Hops[1]; h.Shared {
				shared++
				if strings.Contains(h.URL, own) {
					t.Errorf("%s: shared hop %s has the link's own %s", d.Link, h.URL, own)
				}
			} else if !strings.HasSuffix(h.URL, own) {
				t.Errorf("%s: hop %s, want the link's own %s", d.Link, h.URL, own)
			}
		}
		if shared != 1 {
			t.Errorf("%d links with a shared hop, want 1", shared)
		}
	})
}

func TestDetailURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://shop.example/p?utm_source=alice&utm_campaign=spring", "https://shop.example/p?utm_source=alice&utm_campaign=spring"},
		{"https://user:pass@shop.example/p#frag", "https://shop.example/p"},
		{"https://shop.example/p?access_token=abc&utm_source=a&API_KEY=k&sig=s&password=p&sid=1&code=c&x=1",
			"https://shop.example/p?access_token=REDACTED&utm_source=a&API_KEY=REDACTED&sig=REDACTED&password=REDACTED&sid=REDACTED&code=REDACTED&x=1"},
		{"https://shop.example/p?api%5Fkey=k&token", "https://shop.example/p?api%5Fkey=REDACTED&token"},
		{"http://127.0.0.1:8080/a/b%2Fc?q=%20", "http://127.0.0.1:8080/a/b%2Fc?q=%20"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := detailURL(mustParse(t, tt.in)); got != tt.want {
				t.Errorf("detailURL = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestProbeLinkDuringRound: on-demand probes and the /links page while
// rounds run (go test -race).
func TestProbeLinkDuringRound(t *testing.T) {
	s := newSites(t)
	var links []exporter.PublishedLink
	for _, n := range []string{"a", "b", "c", "d"} {
		s.short.SetRedirect("/"+n, "http://shop.test/p?utm_source="+n, 301)
		links = append(links, link(n, "bit.ly/"+n, "http://short.test/"+n))
	}
	s.short.SetRedirect("/b", "http://shop.test/gone", 301)
	s.shop.Break("/gone")
	env, p := build(t, s.net, "", "")
	env.Links.Publish("stub", links)
	page := &exporter.LinksPage{Inspect: func() []exporter.LinkInspector { return []exporter.LinkInspector{p} }}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := p.ProbeLink(context.Background(), links[i%len(links)].ID); err != nil {
				t.Errorf("ProbeLink: %v", err)
				return
			}
			w := httptest.NewRecorder()
			page.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/links?format=json", nil))
			if w.Code != http.StatusOK {
				t.Errorf("/links: %d", w.Code)
			}
		}
	}()
	for range 3 {
		for k, o := range pollOutcomes(t, env) {
			want := 1.0
			if k == "bitly/bit.ly/b" {
				want = 0
			}
			if o.up != want {
				t.Errorf("%s up = %g, want %g", k, o.up, want)
			}
		}
	}
	close(stop)
	wg.Wait()
}

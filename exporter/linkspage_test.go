package exporter

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeInspector is a link probe with fixed details; probe answers
// ProbeLink, ErrUnknownLink when nil.
type fakeInspector struct {
	details []LinkDetail
	probe   func(ctx context.Context, link string) (LinkDetail, error)

	mu     sync.Mutex
	probed []string
}

func (f *fakeInspector) Poll(context.Context) ([]Sample, error) { return nil, nil }

func (f *fakeInspector) LinkDetails() []LinkDetail { return append([]LinkDetail(nil), f.details...) }

func (f *fakeInspector) ProbeLink(ctx context.Context, link string) (LinkDetail, error) {
	f.mu.Lock()
	f.probed = append(f.probed, link)
	f.mu.Unlock()
	if f.probe == nil {
		return LinkDetail{}, ErrUnknownLink
	}
	return f.probe(ctx, link)
}

func (f *fakeInspector) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.probed...)
}

var linksNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testDetails are one link in each state, the up one first.
func testDetails() []LinkDetail {
	return []LinkDetail{
		{
			Campaign: "spring", Creator: "alice", Provider: "bitly", Link: "bit.ly/alice", State: LinkStateUp,
			Since: linksNow.Add(-2 * time.Hour), ProbedAt: linksNow.Add(-20 * time.Second), Duration: 1213638522, Status: 200,
			Hops: []Hop{
				{Method: "HEAD", URL: "https://bit.ly/alice", Status: 301, Took: 700 * time.Microsecond, Location: "https://shop.example/p?utm_source=alice"},
				{Method: "HEAD", URL: "https://shop.example/p?utm_source=alice", Status: 200, Took: 1212938522 * time.Nanosecond},
			},
		},
		{
			Campaign: "spring", Creator: "bob", Provider: "bitly", Link: "bit.ly/bob", State: LinkStateBroken,
			Reason: `landed on host "other.example", expected "shop.example"`,
			Since:  linksNow.Add(-3 * time.Minute), ProbedAt: linksNow.Add(-10 * time.Second), Duration: 12 * time.Millisecond, Status: 200,
			Hops: []Hop{
				{Method: "HEAD", URL: "https://bit.ly/bob", Status: 301, Took: 5 * time.Millisecond, Location: "https://other.example/p"},
				{Method: "HEAD", URL: "https://other.example/p", Status: 200, Took: 7 * time.Millisecond, Expect: "host", Shared: true},
			},
		},
		{
			Campaign: "summer", Creator: "carol", Provider: "dub", Link: "dub.sh/carol", State: LinkStateBroken,
			Reason: "attempt 1: timed out after 10s; attempt 2 (5s later): timed out after 10s", ProbedAt: linksNow.Add(-time.Minute),
			Duration: 10 * time.Second,
			Hops:     []Hop{{Method: "HEAD", URL: "https://dub.sh/carol", Took: 10 * time.Second, Error: "timed out after 10s"}},
		},
		{Campaign: "summer", Creator: "dave", Provider: "dub", Link: "dub.sh/dave", State: LinkStateMissing, Reason: "collector dub has not published this link yet"},
		{Campaign: "summer", Creator: "erin", Provider: "dub", Link: "dub.sh/erin", State: LinkStatePending},
		{Campaign: "<script>alert(1)</script>", Creator: "frank", Provider: "bitly", Link: "bit.ly/frank", State: LinkStateSkipped,
			Reason: "round ran late: not probed this round, never probed yet"},
	}
}

func newLinksPage(inspectors ...LinkInspector) *LinksPage {
	return &LinksPage{
		Inspect: func() []LinkInspector { return inspectors },
		Now:     func() time.Time { return linksNow },
	}
}

func serve(h http.Handler, method, target string, header map[string]string, form url.Values) *httptest.ResponseRecorder {
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestLinksPageHTML(t *testing.T) {
	page := newLinksPage(&fakeInspector{details: testDetails()})
	w := serve(page, http.MethodGet, "/links", nil, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	body := w.Body.String()
	for _, want := range []string{
		// Every row, by its anchor.
		`<tr id="link-bitly-bit.ly_alice">`,
		`<tr id="link-bitly-bit.ly_bob">`,
		`<tr id="link-dub-dub.sh_carol">`,
		`<tr id="link-dub-dub.sh_dave">`,
		`<tr id="link-dub-dub.sh_erin">`,
		`<tr id="link-bitly-bit.ly_frank">`,
		// Durations and times rounded for people, exact in the title.
		`<td title="2026-03-01T10:00:00Z">2 h ago</td>`,
		`<td title="2026-03-01T11:59:40Z">20 s ago</td>`,
		`<td>1.2 s</td>`,
		`<td title="">never</td>`,
		// The chain, hop by hop.
		`<td>HEAD</td><td class="url">https://bit.ly/alice</td><td>301</td><td>0.7 ms</td><td class="url">https://shop.example/p?utm_source=alice</td>`,
		`<td class="url">https://other.example/p <span class="note"`,
		`<td class="failed">host</td>`,
		`<td>none</td><td>10 s</td><td class="url"></td><td class="why failed">timed out after 10s</td>`,
		// A broken link's chain is open.
		`<tr class="chain"><td colspan="11"><details open><summary>redirect chain: 2 requests</summary>`,
		// The probe button, and the filter form.
		`<form class="probe" method="post" action="links/probe"><input type="hidden" name="link" value="bit.ly/bob">`,
		`<select name="state">`,
		`<a href="links?format=json">JSON</a>`,
		`<a class="broken" href="links?state=broken">2 broken</a>`,
		// Escaped.
		`&lt;script&gt;alert(1)&lt;/script&gt;`,
		`landed on host &#34;other.example&#34;, expected &#34;shop.example&#34;`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Error("page has an unescaped <script>")
	}
	// Broken links first, then missing, skipped, pending, up.
	last := -1
	for _, a := range []string{"bitly-bit.ly_bob", "dub-dub.sh_carol", "dub-dub.sh_dave", "bitly-bit.ly_frank", "dub-dub.sh_erin", "bitly-bit.ly_alice"} {
		i := strings.Index(body, `<tr id="link-`+a+`">`)
		if i < last {
			t.Errorf("row %s is out of order", a)
		}
		last = i
	}
	// An up link's chain is closed.
	if strings.Contains(body, `<tr id="link-bitly-bit.ly_alice">`) {
		row := body[strings.Index(body, `<tr id="link-bitly-bit.ly_alice">`):]
		row = row[:strings.Index(row[1:], "<tr id=")+1]
		if strings.Contains(row, "<details open>") {
			t.Error("an up link's chain is open")
		}
	}
}

func TestLinksPageFilters(t *testing.T) {
	page := newLinksPage(&fakeInspector{details: testDetails()})
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"bit.ly/bob", "dub.sh/carol", "dub.sh/dave", "bit.ly/frank", "dub.sh/erin", "bit.ly/alice"}},
		{"campaign=spring", []string{"bit.ly/bob", "bit.ly/alice"}},
		{"creator=carol", []string{"dub.sh/carol"}},
		{"state=broken", []string{"bit.ly/bob", "dub.sh/carol"}},
		{"campaign=summer&state=broken", []string{"dub.sh/carol"}},
		{"campaign=summer&creator=alice", nil},
		// Exact match only.
		{"campaign=spr", nil},
		{"state=", []string{"bit.ly/bob", "dub.sh/carol", "dub.sh/dave", "bit.ly/frank", "dub.sh/erin", "bit.ly/alice"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			w := serve(page, http.MethodGet, "/links?format=json&"+tt.query, nil, nil)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			var got []LinkDetail
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			var links []string
			for _, d := range got {
				links = append(links, d.Link)
			}
			if !slices.Equal(links, tt.want) {
				t.Errorf("JSON lists %v, want %v", links, tt.want)
			}
			// The HTML page shows the same rows.
			w = serve(page, http.MethodGet, "/links?"+tt.query, nil, nil)
			body := w.Body.String()
			for _, d := range testDetails() {
				has := strings.Contains(body, `<tr id="`+LinkAnchor(d.Provider, d.Link)+`">`)
				if want := slices.Contains(tt.want, d.Link); has != want {
					t.Errorf("HTML row %s shown: %v, want %v", d.Link, has, want)
				}
			}
			if len(tt.want) == 0 && !strings.Contains(body, "No links match.") {
				t.Error("empty page does not say so")
			}
		})
	}
	t.Run("the form keeps the filter", func(t *testing.T) {
		body := serve(page, http.MethodGet, "/links?campaign=summer&state=broken", nil, nil).Body.String()
		for _, want := range []string{`<option selected>summer</option>`, `<option selected>broken</option>`,
			`<a href="links?campaign=summer&amp;format=json&amp;state=broken">JSON</a>`,
			`<a class="broken" href="links?campaign=summer&amp;state=broken">1 broken</a>`} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
	})
}

// TestLinksPageLimit: the HTML page of a large agency shows its first
// rows, broken first, and says how many it left out; the JSON has them all.
func TestLinksPageLimit(t *testing.T) {
	page := newLinksPage(&fakeInspector{details: testDetails()})
	rows := func(body string) int { return strings.Count(body, `<tr id="link-`) }

	body := serve(page, http.MethodGet, "/links?limit=2", nil, nil).Body.String()
	if n := rows(body); n != 2 {
		t.Errorf("limit=2 shows %d rows", n)
	}
	for _, want := range []string{"2 of the 6 matching links are shown, broken first",
		`<a href="links?limit=0">show all 6</a>`,
		`<tr id="` + LinkAnchor("bitly", "bit.ly/bob") + `">`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	body = serve(page, http.MethodGet, "/links?state=broken&limit=1", nil, nil).Body.String()
	if !strings.Contains(body, `<a href="links?limit=0&amp;state=broken">show all 2</a>`) {
		t.Error("the show-all link drops the filter")
	}
	for _, q := range []string{"limit=0", "", "limit=6"} {
		body := serve(page, http.MethodGet, "/links?"+q, nil, nil).Body.String()
		if n := rows(body); n != 6 || strings.Contains(body, "matching links are shown") {
			t.Errorf("%q shows %d rows, or says some were left out", q, n)
		}
	}
	w := serve(page, http.MethodGet, "/links?format=json&limit=1", nil, nil)
	var all []LinkDetail
	if err := json.Unmarshal(w.Body.Bytes(), &all); err != nil || len(all) != 6 {
		t.Errorf("JSON lists %d links (%v), want all 6", len(all), err)
	}
	for _, bad := range []string{"-1", "many"} {
		if w := serve(page, http.MethodGet, "/links?limit="+bad, nil, nil); w.Code != http.StatusBadRequest {
			t.Errorf("limit=%s: HTTP %d, want 400", bad, w.Code)
		}
	}
}

func TestLinksPageJSON(t *testing.T) {
	page := newLinksPage(&fakeInspector{details: testDetails()})
	w := serve(page, http.MethodGet, "/links?format=json&creator=bob", nil, nil)
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var got []map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d links", len(got))
	}
	want := map[string]any{
		"campaign": "spring", "creator": "bob", "provider": "bitly", "link": "bit.ly/bob", "state": "broken",
		"reason": `landed on host "other.example", expected "shop.example"`,
		"since":  "2026-03-01T11:57:00Z", "probed_at": "2026-03-01T11:59:50Z", "duration_ns": float64(12e6), "status": float64(200),
		"hops": []any{
			map[string]any{"method": "HEAD", "url": "https://bit.ly/bob", "status": float64(301), "took_ns": float64(5e6), "location": "https://other.example/p"},
			map[string]any{"method": "HEAD", "url": "https://other.example/p", "status": float64(200), "took_ns": float64(7e6), "expect": "host", "shared": true},
		},
	}
	gotJSON, _ := json.Marshal(got[0])
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("JSON:\n%s\nwant:\n%s", gotJSON, wantJSON)
	}

	t.Run("no links is an empty list", func(t *testing.T) {
		w := serve(newLinksPage(), http.MethodGet, "/links?format=json", nil, nil)
		if got := strings.TrimSpace(w.Body.String()); got != "[]" {
			t.Errorf("body = %s, want []", got)
		}
		body := serve(newLinksPage(), http.MethodGet, "/links", nil, nil).Body.String()
		if !strings.Contains(body, "No link probe is configured") {
			t.Error("the page does not say no probe is configured")
		}
	})
	t.Run("several probes", func(t *testing.T) {
		ds := testDetails()
		page := newLinksPage(&fakeInspector{details: ds[:2]}, &fakeInspector{details: ds[2:]})
		var got []LinkDetail
		if err := json.Unmarshal(serve(page, http.MethodGet, "/links?format=json", nil, nil).Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ds) || got[0].Link != "bit.ly/bob" {
			t.Errorf("got %d links, first %+v", len(got), got[0])
		}
	})
	t.Run("bad format", func(t *testing.T) {
		if w := serve(page, http.MethodGet, "/links?format=xml", nil, nil); w.Code != http.StatusBadRequest {
			t.Errorf("status %d, want 400", w.Code)
		}
	})
	t.Run("POST", func(t *testing.T) {
		w := serve(page, http.MethodPost, "/links", nil, nil)
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("status %d, Allow %q; want 405, GET, HEAD", w.Code, w.Header().Get("Allow"))
		}
	})
}

func TestLinksProbe(t *testing.T) {
	probed := LinkDetail{
		Campaign: "spring", Creator: "bob", Provider: "bitly", Link: "bit.ly/bob", State: LinkStateBroken,
		Reason: "final status 404 at https://shop.example/gone", Note: "single attempt on demand",
		ProbedAt: linksNow, Since: linksNow, Duration: 3 * time.Millisecond, Status: 404,
		Hops: []Hop{{Method: "HEAD", URL: "https://bit.ly/bob", Status: 301, Took: time.Millisecond, Location: "https://shop.example/gone"},
			{Method: "HEAD", URL: "https://shop.example/gone", Status: 404, Took: 2 * time.Millisecond}},
	}
	tests := []struct {
		name    string
		method  string
		target  string
		header  map[string]string
		form    url.Values
		want    int
		wantIn  string // in the body
		probes  bool   // whether the probe ran
		noProbe bool   // no link probe configured
	}{
		{name: "POST from the page", method: http.MethodPost, target: "/links/probe", form: url.Values{"link": {"bit.ly/bob"}},
			header: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"},
			want:   200, wantIn: `<tr id="link-bitly-bit.ly_bob">`, probes: true},
		{name: "POST with curl", method: http.MethodPost, target: "/links/probe?link=bit.ly/bob", want: 200, wantIn: "single attempt on demand", probes: true},
		{name: "POST JSON", method: http.MethodPost, target: "/links/probe?format=json", form: url.Values{"link": {"bit.ly/bob"}},
			want: 200, wantIn: `"state":"broken"`, probes: true},
		{name: "POST from another site", method: http.MethodPost, target: "/links/probe", form: url.Values{"link": {"bit.ly/bob"}},
			header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, want: 403},
		{name: "POST from a sibling site", method: http.MethodPost, target: "/links/probe", form: url.Values{"link": {"bit.ly/bob"}},
			header: map[string]string{"Sec-Fetch-Site": "same-site"}, want: 403},
		{name: "POST from an old browser elsewhere", method: http.MethodPost, target: "/links/probe", form: url.Values{"link": {"bit.ly/bob"}},
			header: map[string]string{"Origin": "https://evil.example"}, want: 403},
		{name: "GET with curl", method: http.MethodGet, target: "/links/probe?link=bit.ly/bob", want: 200, wantIn: "final status 404 at https://shop.example/gone", probes: true},
		{name: "GET from the same origin", method: http.MethodGet, target: "/links/probe?link=bit.ly/bob",
			header: map[string]string{"Sec-Fetch-Site": "same-origin"}, want: 200, probes: true},
		{name: "GET typed in the address bar", method: http.MethodGet, target: "/links/probe?link=bit.ly/bob",
			header: map[string]string{"Sec-Fetch-Site": "none"}, want: 200, probes: true},
		{name: "GET JSON", method: http.MethodGet, target: "/links/probe?link=bit.ly/bob&format=json", want: 200, wantIn: `"took_ns":2000000`, probes: true},
		{name: "GET from another site", method: http.MethodGet, target: "/links/probe?link=bit.ly/bob",
			header: map[string]string{"Sec-Fetch-Site": "cross-site"}, want: 403},
		{name: "GET from a sibling site", method: http.MethodGet, target: "/links/probe?link=bit.ly/bob",
			header: map[string]string{"Sec-Fetch-Site": "same-site"}, want: 403},
		{name: "GET with a foreign Origin", method: http.MethodGet, target: "/links/probe?link=bit.ly/bob",
			header: map[string]string{"Origin": "https://evil.example"}, want: 403},
		{name: "GET with a foreign Origin despite same-origin", method: http.MethodGet, target: "/links/probe?link=bit.ly/bob",
			header: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "null"}, want: 403},
		{name: "PUT", method: http.MethodPut, target: "/links/probe?link=bit.ly/bob", want: 405},
		{name: "HEAD", method: http.MethodHead, target: "/links/probe?link=bit.ly/bob", want: 405},
		{name: "no link", method: http.MethodPost, target: "/links/probe", want: 400, wantIn: "missing parameter link"},
		{name: "blank link", method: http.MethodGet, target: "/links/probe?link=+", want: 400},
		{name: "unknown link", method: http.MethodPost, target: "/links/probe?link=bit.ly/nobody", want: 404,
			wantIn: `no such link: the probe watches no link with this label or URL: "bit.ly/nobody"`, probes: true},
		{name: "unknown link, JSON", method: http.MethodPost, target: "/links/probe?link=bit.ly/nobody&format=json", want: 404,
			wantIn: `{"error":"no such link`, probes: true},
		{name: "no probe configured", method: http.MethodPost, target: "/links/probe?link=bit.ly/bob", want: 404,
			wantIn: "no link probe is configured", noProbe: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeInspector{probe: func(_ context.Context, link string) (LinkDetail, error) {
				if link != "bit.ly/bob" {
					return LinkDetail{}, ErrUnknownLink
				}
				return probed, nil
			}}
			page := newLinksPage(f)
			if tt.noProbe {
				page = newLinksPage()
			}
			w := serve(page, tt.method, tt.target, tt.header, tt.form)
			if w.Code != tt.want {
				t.Errorf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if tt.want == 405 && w.Header().Get("Allow") != "GET, POST" {
				t.Errorf("Allow = %q", w.Header().Get("Allow"))
			}
			if !strings.Contains(w.Body.String(), tt.wantIn) {
				t.Errorf("body lacks %q:\n%s", tt.wantIn, w.Body)
			}
			if got := len(f.calls()) > 0; got != tt.probes {
				t.Errorf("probed: %v, want %v", got, tt.probes)
			}
		})
	}

	t.Run("the result page", func(t *testing.T) {
		page := newLinksPage(&fakeInspector{probe: func(context.Context, string) (LinkDetail, error) { return probed, nil }})
		body := serve(page, http.MethodPost, "/links/probe?link=bit.ly/bob", nil, nil).Body.String()
		for _, want := range []string{
			`<a href="../links#link-bitly-bit.ly_bob">all tracking links</a>`,
			`<details open>`,
			`<td>HEAD</td><td class="url">https://shop.example/gone</td><td>404</td><td>2 ms</td>`,
			`<form class="probe" method="post" action="probe">`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
	})
	t.Run("the second probe asks the next inspector", func(t *testing.T) {
		none := &fakeInspector{}
		page := newLinksPage(none, &fakeInspector{probe: func(context.Context, string) (LinkDetail, error) { return probed, nil }})
		if w := serve(page, http.MethodPost, "/links/probe?link=bit.ly/bob", nil, nil); w.Code != 200 {
			t.Errorf("status %d", w.Code)
		}
		if got := none.calls(); !slices.Equal(got, []string{"bit.ly/bob"}) {
			t.Errorf("first inspector asked %v", got)
		}
	})
	t.Run("a probe running out of time", func(t *testing.T) {
		page := newLinksPage(&fakeInspector{probe: func(context.Context, string) (LinkDetail, error) {
			return LinkDetail{}, context.DeadlineExceeded
		}})
		if w := serve(page, http.MethodPost, "/links/probe?link=bit.ly/bob", nil, nil); w.Code != http.StatusGatewayTimeout {
			t.Errorf("status %d, want 504", w.Code)
		}
	})
	t.Run("the probe runs in the request's context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		var seen context.Context
		page := newLinksPage(&fakeInspector{probe: func(ctx context.Context, _ string) (LinkDetail, error) {
			seen = ctx
			cancel()
			return LinkDetail{}, ctx.Err()
		}})
		req := httptest.NewRequest(http.MethodPost, "/links/probe?link=bit.ly/bob", nil).WithContext(ctx)
		page.ServeHTTP(httptest.NewRecorder(), req)
		if seen == nil || seen.Err() == nil {
			t.Error("the probe's context did not end with the request's")
		}
	})
}

// TestLinksProbeOneAtATime: a second on-demand probe while one runs is
// refused with 429, not queued.
func TestLinksProbeOneAtATime(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	page := newLinksPage(&fakeInspector{probe: func(ctx context.Context, link string) (LinkDetail, error) {
		once.Do(func() {
			close(started)
			<-release
		})
		return LinkDetail{Provider: "bitly", Link: link, State: LinkStateUp}, nil
	}})
	first := make(chan int)
	go func() {
		first <- serve(page, http.MethodPost, "/links/probe?link=bit.ly/a", nil, nil).Code
	}()
	<-started
	w := serve(page, http.MethodGet, "/links/probe?link=bit.ly/b", nil, nil)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
		t.Errorf("second probe: status %d, Retry-After %q; want 429, 1", w.Code, w.Header().Get("Retry-After"))
	}
	close(release)
	if code := <-first; code != http.StatusOK {
		t.Errorf("first probe: status %d", code)
	}
	if w := serve(page, http.MethodPost, "/links/probe?link=bit.ly/b", nil, nil); w.Code != http.StatusOK {
		t.Errorf("probe after the first ended: status %d", w.Code)
	}
}

func TestLinkInspectors(t *testing.T) {
	f := &fakeInspector{}
	got := LinkInspectors([]*Instance{{Name: "bitly", Collector: stubCollector{}}, {Name: "linkprobe", Collector: f}})
	if len(got) != 1 || got[0] != LinkInspector(f) {
		t.Errorf("LinkInspectors = %v, want the link probe only", got)
	}
}

type stubCollector struct{}

func (stubCollector) Poll(context.Context) ([]Sample, error) { return nil, nil }

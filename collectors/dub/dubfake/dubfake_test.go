package dubfake

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const token = "dub_fake_key"

// newServer serves a fake with four links, two days after its start, on
// loopback; it returns the fake and its URL.
func newServer(t *testing.T) (*Server, string) {
	t.Helper()
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	now := start
	fake := New(token, func() time.Time { return now })
	now = start.Add(2 * 24 * time.Hour)
	links := []Link{
		{ID: "dub.sh/alice", Destination: "https://shop.example/a", Tags: []string{"Alice"}, Clicks: fakeapi.Growth{Base: 100, PerMinute: 0.1}},
		{ID: "dub.sh/bob", Destination: "https://shop.example/b", Tags: []string{"bob"}},
		{ID: "go.example/alice/tiktok", Destination: "https://shop.example/t", Tags: []string{"alice", "tiktok"}, Clicks: fakeapi.Growth{Base: 7}},
		{ID: "dub.sh/old", Destination: "https://shop.example/o", Tags: []string{"alice"}, Archived: true, Clicks: fakeapi.Growth{Base: 3}},
	}
	return fake, exportertest.ServeFake(t, fake, links...)
}

type dubError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		DocURL  string `json:"doc_url"`
	} `json:"error"`
}

func TestAuth(t *testing.T) {
	_, base := newServer(t)
	tests := []struct {
		auth   string
		status int
		code   string
	}{
		{"", 401, "unauthorized"},
		{"Bearer nope", 401, "unauthorized"},
		{token, 400, "bad_request"},
	}
	for _, tt := range tests {
		var e dubError
		code, h := exportertest.GetJSON(t, base+"/links", tt.auth, &e)
		if code != tt.status || e.Error.Code != tt.code || !strings.HasPrefix(e.Error.DocURL, "https://dub.co/docs/api-reference/errors#") {
			t.Errorf("auth %q: %d %+v", tt.auth, code, e)
		}
		if h.Get("X-RateLimit-Remaining") != "" {
			t.Errorf("auth %q: rate-limit headers before authentication", tt.auth)
		}
	}
}

func TestRateLimit(t *testing.T) {
	fake, base := newServer(t)
	fake.SetRateLimit(2)
	for i, want := range []string{"1", "0"} {
		code, h := exportertest.GetJSON(t, base+"/links", "Bearer "+token, nil)
		if code != 200 || h.Get("X-RateLimit-Remaining") != want || h.Get("X-RateLimit-Limit") != "2" {
			t.Errorf("request %d: %d remaining %q", i, code, h.Get("X-RateLimit-Remaining"))
		}
		reset, _ := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
		if got := time.UnixMilli(reset); !got.Equal(time.Date(2025, 3, 3, 12, 1, 0, 0, time.UTC)) {
			t.Errorf("reset %v, want the end of the minute in milliseconds", got)
		}
	}
	var e dubError
	code, _ := exportertest.GetJSON(t, base+"/links", "Bearer "+token, &e)
	if code != 429 || e.Error.Code != "rate_limit_exceeded" || !strings.HasSuffix(e.Error.DocURL, "#rate-limit_exceeded") {
		t.Errorf("over the limit: %d %+v", code, e)
	}
}

func TestListLinks(t *testing.T) {
	_, base := newServer(t)
	type link struct {
		ID        string `json:"id"`
		Domain    string `json:"domain"`
		Key       string `json:"key"`
		ShortLink string `json:"shortLink"`
		Clicks    int64  `json:"clicks"`
	}
	ids := func(ls []link) string {
		var s []string
		for _, l := range ls {
			s = append(s, l.Domain+"/"+l.Key)
		}
		return strings.Join(s, ",")
	}
	var all []link
	exportertest.GetJSON(t, base+"/links?tagNames=ALICE,bob", "Bearer "+token, &all)
	if got, want := ids(all), "go.example/alice/tiktok,dub.sh/bob,dub.sh/alice"; got != want {
		t.Fatalf("links %s, want %s", got, want)
	}
	if all[2].Clicks != 100+288 || all[2].ShortLink != base+"/alice" {
		t.Errorf("alice: %+v", all[2])
	}

	// Cursor pages, one link each.
	var paged []link
	after := ""
	for range 5 {
		var page []link
		u := base + "/links?tagNames=alice,bob&pageSize=1"
		if after != "" {
			u += "&startingAfter=" + after
		}
		exportertest.GetJSON(t, u, "Bearer "+token, &page)
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].ID
	}
	if ids(paged) != ids(all) {
		t.Errorf("cursor pages %s, want %s", ids(paged), ids(all))
	}
	var page2 []link
	exportertest.GetJSON(t, base+"/links?tagNames=alice,bob&pageSize=1&page=2", "Bearer "+token, &page2)
	if ids(page2) != "dub.sh/bob" {
		t.Errorf("page 2: %s", ids(page2))
	}

	for _, q := range []string{"pageSize=101", "startingAfter=link_nope", "startingAfter=" + all[0].ID + "&page=2"} {
		var e dubError
		if code, _ := exportertest.GetJSON(t, base+"/links?"+q, "Bearer "+token, &e); code != 422 || e.Error.Code != "unprocessable_entity" {
			t.Errorf("%s: %d %+v", q, code, e)
		}
	}

	var info link
	exportertest.GetJSON(t, base+"/links/info?domain=go.example&key=alice/tiktok", "Bearer "+token, &info)
	if info.Clicks != 7 {
		t.Errorf("info: %+v", info)
	}
	var e dubError
	if code, _ := exportertest.GetJSON(t, base+"/links/info?domain=dub.sh&key=nope", "Bearer "+token, &e); code != 404 || e.Error.Code != "not_found" {
		t.Errorf("unknown link: %d %+v", code, e)
	}
}

func TestAnalytics(t *testing.T) {
	fake, base := newServer(t)
	type row struct {
		Domain string `json:"domain"`
		Key    string `json:"key"`
		Clicks int64  `json:"clicks"`
	}
	var top []row
	exportertest.GetJSON(t, base+"/analytics?event=clicks&groupBy=top_links&interval=all", "Bearer "+token, &top)
	want := []row{{"dub.sh", "alice", 388}, {"go.example", "alice/tiktok", 7}, {"dub.sh", "old", 3}}
	if len(top) != len(want) {
		t.Fatalf("top links %+v, want %+v", top, want)
	}
	for i := range want {
		if top[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, top[i], want[i])
		}
	}

	var count struct{ Clicks int64 }
	exportertest.GetJSON(t, base+"/analytics?event=clicks", "Bearer "+token, &count)
	if count.Clicks != 144 { // the default interval is 24h: 0.1/min
		t.Errorf("24h count %d, want 144", count.Clicks)
	}

	fake.SetPlan(PlanPro)
	var e dubError
	if code, _ := exportertest.GetJSON(t, base+"/analytics?groupBy=top_links&interval=all", "Bearer "+token, &e); code != 403 || e.Error.Code != "forbidden" {
		t.Errorf("pro plan, all time: %d %+v", code, e)
	}
}

func TestRedirectAndFaults(t *testing.T) {
	fake, base := newServer(t)
	fake.Faults.Set(fakeapi.ServerError, -1)
	for path, want := range map[string]string{"/alice": "https://shop.example/a", "/alice/tiktok": "https://shop.example/t"} {
		code, h, _ := exportertest.RawGet(t, base+path, nil)
		if code != http.StatusMovedPermanently || h.Get("Location") != want {
			t.Errorf("%s: %d %q", path, code, h.Get("Location"))
		}
	}
	if fake.Faults.Hits() != 0 {
		t.Error("short links counted as API hits")
	}
	var e dubError
	if code, _ := exportertest.GetJSON(t, base+"/links", "Bearer "+token, &e); code != 500 || e.Error.Code != "internal_server_error" {
		t.Errorf("fault: %d %+v", code, e)
	}
}

// TestShowArchived: GET /links leaves archived links out unless
// showArchived=true, as Dub does.
func TestShowArchived(t *testing.T) {
	_, base := newServer(t)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"tagNames=alice", []string{"dub.sh/alice", "go.example/alice/tiktok"}},
		{"tagNames=alice&showArchived=false", []string{"dub.sh/alice", "go.example/alice/tiktok"}},
		{"tagNames=alice&showArchived=true", []string{"dub.sh/alice", "go.example/alice/tiktok", "dub.sh/old"}},
	} {
		var links []struct {
			Domain   string `json:"domain"`
			Key      string `json:"key"`
			Archived bool   `json:"archived"`
		}
		if code, _ := exportertest.GetJSON(t, base+"/links?"+tc.query, "Bearer "+token, &links); code != 200 {
			t.Fatalf("%s: %d", tc.query, code)
		}
		got := map[string]bool{}
		for _, l := range links {
			got[l.Domain+"/"+l.Key] = true
			if l.Archived != (l.Key == "old") {
				t.Errorf("%s: %s/%s archived %t", tc.query, l.Domain, l.Key, l.Archived)
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.query, got, tc.want)
		}
		for _, id := range tc.want {
			if !got[id] {
				t.Errorf("%s: %s missing from %v", tc.query, id, got)
			}
		}
	}
}

// TestRefuseAnalyticsAndClicksJSON: analytics refused with Dub's error
// body, and counts sent as the test asks.
func TestRefuseAnalyticsAndClicksJSON(t *testing.T) {
	fake, base := newServer(t)
	u := base + "/analytics?event=clicks&groupBy=top_links&interval=all"
	for _, tc := range []struct {
		status int
		code   string
	}{
		{http.StatusNotFound, "not_found"},
		{http.StatusForbidden, "forbidden"},
		{http.StatusNotImplemented, "not_implemented"},
	} {
		fake.RefuseAnalytics(tc.status)
		var e dubError
		if code, _ := exportertest.GetJSON(t, u, "Bearer "+token, &e); code != tc.status || e.Error.Code != tc.code {
			t.Errorf("refused %d: %d %+v", tc.status, code, e)
		}
	}
	fake.RefuseAnalytics(0)

	fake.AddLink(Link{ID: "dub.sh/s", Destination: "https://shop.example/s", ClicksJSON: `"12"`, Clicks: fakeapi.Growth{Base: 500}})
	auth := map[string]string{"Authorization": "Bearer " + token}
	if code, _, body := exportertest.RawGet(t, u, auth); code != 200 || !strings.Contains(body, `"clicks":"12"`) {
		t.Errorf("analytics: %d %s", code, body)
	}
	if code, _, body := exportertest.RawGet(t, base+"/links/info?domain=dub.sh&key=s", auth); code != 200 || !strings.Contains(body, `"clicks":"12"`) {
		t.Errorf("links/info: %d %s", code, body)
	}
}

func TestScopes(t *testing.T) {
	fake, base := newServer(t)
	fake.SetScopes(ScopeLinksRead)
	auth := "Bearer " + token
	if code, _ := exportertest.GetJSON(t, base+"/links/info?domain=dub.sh&key=alice", auth, nil); code != 200 {
		t.Errorf("links.read key on /links/info: %d, want 200", code)
	}
	var e dubError
	code, h := exportertest.GetJSON(t, base+"/analytics?event=clicks&interval=all", auth, &e)
	want := "The provided key does not have the required permissions for this endpoint on the workspace '" + WorkspaceID +
		"'. Having the 'analytics.read' permission would allow this request to continue."
	if code != 403 || e.Error.Code != "forbidden" || e.Error.Message != want {
		t.Errorf("links.read key on /analytics: %d %+v, want 403 forbidden %q", code, e, want)
	}
	// Dub checks the key and its rate limit before its permissions.
	if h.Get("X-RateLimit-Remaining") == "" {
		t.Error("no rate-limit headers on a permission error")
	}
	// A lacking scope is checked before the link is looked up.
	fake.SetScopes(ScopeAnalyticsRead)
	if code, _ := exportertest.GetJSON(t, base+"/links/info?domain=dub.sh&key=nope", auth, &e); code != 403 || !strings.Contains(e.Error.Message, "'links.read'") {
		t.Errorf("analytics.read key on /links/info: %d %+v, want 403 naming links.read", code, e)
	}
	fake.SetScopes()
	if code, _ := exportertest.GetJSON(t, base+"/analytics?event=clicks&interval=all", auth, nil); code != 200 {
		t.Errorf("unrestricted key on /analytics: %d, want 200", code)
	}
}

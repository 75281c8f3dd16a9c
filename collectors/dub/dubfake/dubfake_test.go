package dubfake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const token = "dub_fake_key"

func newServer(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	now := start
	fake := New(token, func() time.Time { return now })
	now = start.Add(2 * 24 * time.Hour)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	fake.SetPublicURL(srv.URL)
	fake.AddLink(Link{ID: "dub.sh/alice", Destination: "https://shop.example/a", Tags: []string{"Alice"}, Clicks: fakeapi.Growth{Base: 100, PerMinute: 0.1}})
	fake.AddLink(Link{ID: "dub.sh/bob", Destination: "https://shop.example/b", Tags: []string{"bob"}})
	fake.AddLink(Link{ID: "go.example/alice/tiktok", Destination: "https://shop.example/t", Tags: []string{"alice", "tiktok"}, Clicks: fakeapi.Growth{Base: 7}})
	fake.AddLink(Link{ID: "dub.sh/old", Destination: "https://shop.example/o", Tags: []string{"alice"}, Archived: true, Clicks: fakeapi.Growth{Base: 3}})
	return fake, srv
}

func get(t *testing.T, u, auth string, v any) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v in %s", u, err, b)
		}
	}
	return resp
}

type dubError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		DocURL  string `json:"doc_url"`
	} `json:"error"`
}

func TestAuth(t *testing.T) {
	_, srv := newServer(t)
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
		resp := get(t, srv.URL+"/links", tt.auth, &e)
		if resp.StatusCode != tt.status || e.Error.Code != tt.code || !strings.HasPrefix(e.Error.DocURL, "https://dub.co/docs/api-reference/errors#") {
			t.Errorf("auth %q: %d %+v", tt.auth, resp.StatusCode, e)
		}
		if resp.Header.Get("X-RateLimit-Remaining") != "" {
			t.Errorf("auth %q: rate-limit headers before authentication", tt.auth)
		}
	}
}

func TestRateLimit(t *testing.T) {
	fake, srv := newServer(t)
	fake.SetRateLimit(2)
	for i, want := range []string{"1", "0"} {
		resp := get(t, srv.URL+"/links", "Bearer "+token, nil)
		if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Remaining") != want || resp.Header.Get("X-RateLimit-Limit") != "2" {
			t.Errorf("request %d: %d remaining %q", i, resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
		}
		reset, _ := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
		if got := time.UnixMilli(reset); !got.Equal(time.Date(2025, 3, 3, 12, 1, 0, 0, time.UTC)) {
			t.Errorf("reset %v, want the end of the minute in milliseconds", got)
		}
	}
	var e dubError
	resp := get(t, srv.URL+"/links", "Bearer "+token, &e)
	if resp.StatusCode != 429 || e.Error.Code != "rate_limit_exceeded" || !strings.HasSuffix(e.Error.DocURL, "#rate-limit_exceeded") {
		t.Errorf("over the limit: %d %+v", resp.StatusCode, e)
	}
}

func TestListLinks(t *testing.T) {
	_, srv := newServer(t)
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
	get(t, srv.URL+"/links?tagNames=ALICE,bob", "Bearer "+token, &all)
	if got, want := ids(all), "go.example/alice/tiktok,dub.sh/bob,dub.sh/alice"; got != want {
		t.Fatalf("links %s, want %s", got, want)
	}
	if all[2].Clicks != 100+288 || all[2].ShortLink != srv.URL+"/alice" {
		t.Errorf("alice: %+v", all[2])
	}

	// Cursor pages, one link each.
	var paged []link
	after := ""
	for range 5 {
		var page []link
		u := srv.URL + "/links?tagNames=alice,bob&pageSize=1"
		if after != "" {
			u += "&startingAfter=" + after
		}
		get(t, u, "Bearer "+token, &page)
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
	get(t, srv.URL+"/links?tagNames=alice,bob&pageSize=1&page=2", "Bearer "+token, &page2)
	if ids(page2) != "dub.sh/bob" {
		t.Errorf("page 2: %s", ids(page2))
	}

	for _, q := range []string{"pageSize=101", "startingAfter=link_nope", "startingAfter=" + all[0].ID + "&page=2"} {
		var e dubError
		if resp := get(t, srv.URL+"/links?"+q, "Bearer "+token, &e); resp.StatusCode != 422 || e.Error.Code != "unprocessable_entity" {
			t.Errorf("%s: %d %+v", q, resp.StatusCode, e)
		}
	}

	var info link
	get(t, srv.URL+"/links/info?domain=go.example&key=alice/tiktok", "Bearer "+token, &info)
	if info.Clicks != 7 {
		t.Errorf("info: %+v", info)
	}
	var e dubError
	if resp := get(t, srv.URL+"/links/info?domain=dub.sh&key=nope", "Bearer "+token, &e); resp.StatusCode != 404 || e.Error.Code != "not_found" {
		t.Errorf("unknown link: %d %+v", resp.StatusCode, e)
	}
}

func TestAnalytics(t *testing.T) {
	fake, srv := newServer(t)
	type row struct {
		Domain string `json:"domain"`
		Key    string `json:"key"`
		Clicks int64  `json:"clicks"`
	}
	var top []row
	get(t, srv.URL+"/analytics?event=clicks&groupBy=top_links&interval=all", "Bearer "+token, &top)
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
	get(t, srv.URL+"/analytics?event=clicks", "Bearer "+token, &count)
	if count.Clicks != 144 { // the default interval is 24h: 0.1/min
		t.Errorf("24h count %d, want 144", count.Clicks)
	}

	fake.SetPlan(PlanPro)
	var e dubError
	if resp := get(t, srv.URL+"/analytics?groupBy=top_links&interval=all", "Bearer "+token, &e); resp.StatusCode != 403 || e.Error.Code != "forbidden" {
		t.Errorf("pro plan, all time: %d %+v", resp.StatusCode, e)
	}
}

func TestRedirectAndFaults(t *testing.T) {
	fake, srv := newServer(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	fake.Faults.Set(fakeapi.ServerError, -1)
	for path, want := range map[string]string{"/alice": "https://shop.example/a", "/alice/tiktok": "https://shop.example/t"} {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
			t.Errorf("%s: %d %q", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if fake.Faults.Hits() != 0 {
		t.Error("short links counted as API hits")
	}
	var e dubError
	if resp := get(t, srv.URL+"/links", "Bearer "+token, &e); resp.StatusCode != 500 || e.Error.Code != "internal_server_error" {
		t.Errorf("fault: %d %+v", resp.StatusCode, e)
	}
}

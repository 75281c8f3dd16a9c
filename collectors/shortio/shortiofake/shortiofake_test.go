package shortiofake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

func get(t *testing.T, url, key string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", key)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestFake(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	now := start
	f := New("sk_key", func() time.Time { return now })
	now = start.Add(10 * time.Minute)
	srv := httptest.NewServer(f)
	defer srv.Close()
	f.SetPublicURL(srv.URL)
	for i := range 151 {
		f.AddLink(Link{ID: fmt.Sprintf("short.gy/l%d", i), Destination: fmt.Sprintf("https://shop.example/%d", i), Clicks: fakeapi.Growth{Base: int64(i), PerMinute: 1}})
	}
	f.AddLink(Link{ID: "go.example/x", Destination: "https://shop.example/x"})
	dom := f.DomainID("short.gy")
	if dom != FirstDomainID || f.DomainID("go.example") != FirstDomainID+1 {
		t.Fatalf("domain ids %d, %d", dom, f.DomainID("go.example"))
	}

	t.Run("auth", func(t *testing.T) {
		for _, key := range []string{"", "Bearer sk_key", "sk_other"} {
			code, _, body := get(t, fmt.Sprintf("%s/api/links?domain_id=%d", srv.URL, dom), key)
			if code != http.StatusUnauthorized || strings.TrimSpace(body) != `{"error":"Unauthorized"}` {
				t.Errorf("key %q: %d %s", key, code, body)
			}
		}
	})

	t.Run("pages", func(t *testing.T) {
		var page struct {
			Count         int              `json:"count"`
			Links         []map[string]any `json:"links"`
			NextPageToken string           `json:"nextPageToken"`
		}
		code, _, body := get(t, fmt.Sprintf("%s/api/links?domain_id=%d&limit=150", srv.URL, dom), "sk_key")
		if code != 200 || json.Unmarshal([]byte(body), &page) != nil || page.Count != 150 || page.NextPageToken == "" {
			t.Fatalf("first page: %d count %d token %q", code, page.Count, page.NextPageToken)
		}
		if got := page.Links[0]["shortURL"]; got != srv.URL+"/l0" {
			t.Errorf("shortURL %v", got)
		}
		tok := page.NextPageToken
		page.NextPageToken = ""
		code, _, body = get(t, fmt.Sprintf("%s/api/links?domain_id=%d&limit=150&pageToken=%s", srv.URL, dom, tok), "sk_key")
		if code != 200 || json.Unmarshal([]byte(body), &page) != nil || page.Count != 1 || page.NextPageToken != "" || page.Links[0]["path"] != "l150" {
			t.Fatalf("last page: %d %s", code, body)
		}
		if code, _, _ := get(t, srv.URL+"/api/links?domain_id=999", "sk_key"); code != http.StatusForbidden {
			t.Errorf("unknown domain: %d", code)
		}
	})

	t.Run("link clicks", func(t *testing.T) {
		ids := []string{f.IDString("short.gy/l0"), f.IDString("short.gy/l5"), f.IDString("go.example/x"), "lnk_unknown"}
		code, _, body := get(t, fmt.Sprintf("%s/statistics/domain/%d/link_clicks?ids=%s", srv.URL, dom, strings.Join(ids, ",")), "sk_key")
		var got map[string]int64
		if code != 200 || json.Unmarshal([]byte(body), &got) != nil {
			t.Fatalf("%d %s", code, body)
		}
		want := map[string]int64{ids[0]: 10, ids[1]: 15}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})

	t.Run("redirect", func(t *testing.T) {
		code, h, _ := get(t, srv.URL+"/l7", "")
		if code != http.StatusMovedPermanently || h.Get("Location") != "https://shop.example/7" {
			t.Errorf("%d %q", code, h.Get("Location"))
		}
		if code, _, _ := get(t, srv.URL+"/nope", ""); code != http.StatusNotFound {
			t.Errorf("unknown path: %d", code)
		}
	})

	t.Run("faults", func(t *testing.T) {
		f.Faults.SetRetryAfter(time.Second)
		f.Faults.Set(fakeapi.RateLimited, 1)
		code, h, body := get(t, fmt.Sprintf("%s/domains/%d", srv.URL, dom), "sk_key")
		if code != http.StatusTooManyRequests || h.Get("Retry-After") != "1" || !strings.Contains(body, `"error"`) {
			t.Errorf("%d %v %s", code, h, body)
		}
		code, _, body = get(t, fmt.Sprintf("%s/domains/%d", srv.URL, dom), "sk_key")
		if code != 200 || !strings.Contains(body, `"hostname":"short.gy"`) {
			t.Errorf("%d %s", code, body)
		}
	})
}

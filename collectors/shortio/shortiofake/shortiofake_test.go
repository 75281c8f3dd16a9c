package shortiofake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

func TestFake(t *testing.T) {
	clock := exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	f := New("sk_key", clock.Now)
	clock.Advance(10 * time.Minute)
	var links []Link
	for i := range 151 {
		links = append(links, Link{ID: fmt.Sprintf("short.gy/l%d", i), Destination: fmt.Sprintf("https://shop.example/%d", i), Clicks: fakeapi.Growth{Base: int64(i), PerMinute: 1}})
	}
	links = append(links, Link{ID: "go.example/x", Destination: "https://shop.example/x"},
		Link{ID: "go.example/old", Destination: "https://shop.example/old", Archived: true})
	url := exportertest.ServeFake(t, f, links...)
	key := map[string]string{"Authorization": "sk_key"}
	dom := f.DomainID("short.gy")
	if dom != FirstDomainID || f.DomainID("go.example") != FirstDomainID+1 {
		t.Fatalf("domain ids %d, %d", dom, f.DomainID("go.example"))
	}

	t.Run("auth", func(t *testing.T) {
		for _, h := range []map[string]string{nil, {"Authorization": "Bearer sk_key"}, {"Authorization": "sk_other"}} {
			code, _, body := exportertest.RawGet(t, fmt.Sprintf("%s/api/links?domain_id=%d", url, dom), h)
			if code != http.StatusUnauthorized || strings.TrimSpace(body) != `{"error":"Unauthorized"}` {
				t.Errorf("%v: %d %s", h, code, body)
			}
		}
	})

	t.Run("domains", func(t *testing.T) {
		var domains []struct {
			ID       int64  `json:"id"`
			Hostname string `json:"hostname"`
		}
		code, _, body := exportertest.RawGet(t, url+"/api/domains", key)
		if code != 200 || json.Unmarshal([]byte(body), &domains) != nil || len(domains) != 2 ||
			domains[0].ID != dom || domains[0].Hostname != "short.gy" || domains[1].Hostname != "go.example" {
			t.Errorf("domains: %d %s", code, body)
		}
	})

	t.Run("pages", func(t *testing.T) {
		var page struct {
			Count         int              `json:"count"`
			Links         []map[string]any `json:"links"`
			NextPageToken string           `json:"nextPageToken"`
		}
		code, _, body := exportertest.RawGet(t, fmt.Sprintf("%s/api/links?domain_id=%d&limit=150", url, dom), key)
		if code != 200 || json.Unmarshal([]byte(body), &page) != nil || page.Count != 150 || page.NextPageToken == "" {
			t.Fatalf("first page: %d count %d token %q", code, page.Count, page.NextPageToken)
		}
		if got := page.Links[0]["shortURL"]; got != url+"/l0" {
			t.Errorf("shortURL %v", got)
		}
		tok := page.NextPageToken
		page.NextPageToken = ""
		code, _, body = exportertest.RawGet(t, fmt.Sprintf("%s/api/links?domain_id=%d&limit=150&pageToken=%s", url, dom, tok), key)
		if code != 200 || json.Unmarshal([]byte(body), &page) != nil || page.Count != 1 || page.NextPageToken != "" || page.Links[0]["path"] != "l150" {
			t.Fatalf("last page: %d %s", code, body)
		}
		if code, _, _ := exportertest.RawGet(t, url+"/api/links?domain_id=999", key); code != http.StatusForbidden {
			t.Errorf("unknown domain: %d", code)
		}
	})

	t.Run("link clicks", func(t *testing.T) {
		ids := []string{f.IDString("short.gy/l0"), f.IDString("short.gy/l5"), f.IDString("go.example/x"), "lnk_unknown"}
		code, _, body := exportertest.RawGet(t, fmt.Sprintf("%s/statistics/domain/%d/link_clicks?ids=%s", url, dom, strings.Join(ids, ",")), key)
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
		code, h, _ := exportertest.RawGet(t, url+"/l7", nil)
		if code != http.StatusMovedPermanently || h.Get("Location") != "https://shop.example/7" {
			t.Errorf("%d %q", code, h.Get("Location"))
		}
		if code, _, _ := exportertest.RawGet(t, url+"/nope", nil); code != http.StatusNotFound {
			t.Errorf("unknown path: %d", code)
		}
		// Archived links still redirect (they did not before issue #13).
		if code, h, _ := exportertest.RawGet(t, url+"/old", nil); code != http.StatusMovedPermanently || h.Get("Location") != "https://shop.example/old" {
			t.Errorf("archived link: %d %q", code, h.Get("Location"))
		}
	})

	t.Run("expand", func(t *testing.T) {
		for _, tc := range []struct {
			query string
			code  int
			want  string
		}{
			{"domain=short.gy&path=l7", 200, `"idString":"` + f.IDString("short.gy/l7") + `"`},
			{"domain=Short.GY&path=l7", 200, `"originalURL":"https://shop.example/7"`},
			{"domain=go.example&path=old", 200, `"archived":true`},
			{"domain=short.gy&path=nope", 404, `{"error":"Link not found"}`},
			{"domain=short.gy&path=", 404, `{"error":"Link not found"}`},
			{"domain=unknown.example&path=l7", 403, `"type":"accessDenied"`},
			{"domain=short.gy", 400, `"error"`},
		} {
			code, _, body := exportertest.RawGet(t, url+"/links/expand?"+tc.query, key)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Errorf("%s: %d %s, want %d with %s", tc.query, code, body, tc.code, tc.want)
			}
		}
		if code, _, _ := exportertest.RawGet(t, url+"/links/expand?domain=short.gy&path=l7", nil); code != http.StatusUnauthorized {
			t.Errorf("without key: %d", code)
		}
	})

	t.Run("numbers as strings", func(t *testing.T) {
		f.SetStringCounts(true)
		defer f.SetStringCounts(false)
		_, _, body := exportertest.RawGet(t, fmt.Sprintf("%s/api/links?domain_id=%d&limit=2", url, dom), key)
		if !strings.Contains(body, `"count":"2"`) {
			t.Errorf("count not a string: %s", body)
		}
		f.AddLink(Link{ID: "go.example/str", ClicksJSON: `"12"`})
		f.AddLink(Link{ID: "go.example/bad", ClicksJSON: `"n/a"`})
		_, _, body = exportertest.RawGet(t, fmt.Sprintf("%s/statistics/domain/%d/link_clicks?ids=%s,%s", url, f.DomainID("go.example"), f.IDString("go.example/str"), f.IDString("go.example/bad")), key)
		for _, want := range []string{`"` + f.IDString("go.example/str") + `":"12"`, `"` + f.IDString("go.example/bad") + `":"n/a"`} {
			if !strings.Contains(body, want) {
				t.Errorf("missing %s in %s", want, body)
			}
		}
	})

	t.Run("faults", func(t *testing.T) {
		f.Faults.SetRetryAfter(time.Second)
		f.Faults.Set(fakeapi.RateLimited, 1)
		code, h, body := exportertest.RawGet(t, fmt.Sprintf("%s/domains/%d", url, dom), key)
		if code != http.StatusTooManyRequests || h.Get("Retry-After") != "1" || !strings.Contains(body, `"error"`) {
			t.Errorf("%d %v %s", code, h, body)
		}
		code, _, body = exportertest.RawGet(t, fmt.Sprintf("%s/domains/%d", url, dom), key)
		if code != 200 || !strings.Contains(body, `"hostname":"short.gy"`) {
			t.Errorf("%d %s", code, body)
		}
	})
}

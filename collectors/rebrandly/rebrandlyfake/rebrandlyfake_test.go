package rebrandlyfake

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
	f := New("key", clock.Now)
	clock.Advance(10 * time.Minute)
	var links []Link
	for i := range 26 {
		links = append(links, Link{ID: fmt.Sprintf("rebrand.ly/l%d", i), Destination: fmt.Sprintf("https://shop.example/%d", i), Tags: []string{"t"}, Clicks: fakeapi.Growth{Base: int64(i), PerMinute: 1}})
	}
	url := exportertest.ServeFake(t, f, links...)
	auth := map[string]string{"apikey": "key"}

	t.Run("auth", func(t *testing.T) {
		for _, h := range []map[string]string{nil, {"apikey": "other"}, {"Authorization": "Bearer key"}} {
			code, _, body := exportertest.RawGet(t, url+"/v1/links", h)
			if code != http.StatusUnauthorized || !strings.Contains(body, `"code":"Unauthorized"`) {
				t.Errorf("%v: %d %s", h, code, body)
			}
		}
	})

	t.Run("pages", func(t *testing.T) {
		var page []map[string]any
		code, _, body := exportertest.RawGet(t, url+"/v1/links?limit=25", auth)
		if code != 200 || json.Unmarshal([]byte(body), &page) != nil || len(page) != 25 {
			t.Fatalf("first page: %d %s", code, body)
		}
		first := page[0]
		// Newest first, with clicks, https and a scheme-less shortUrl.
		if first["slashtag"] != "l25" || first["clicks"] != float64(35) || first["https"] != false ||
			first["shortUrl"] != strings.TrimPrefix(url, "http://")+"/l25" {
			t.Errorf("first link %v", first)
		}
		if tags := first["tags"].([]any); len(tags) != 1 || tags[0].(map[string]any)["name"] != "t" {
			t.Errorf("tags %v", first["tags"])
		}
		code, _, body = exportertest.RawGet(t, url+"/v1/links?limit=25&last="+page[24]["id"].(string), auth)
		if code != 200 || json.Unmarshal([]byte(body), &page) != nil || len(page) != 1 || page[0]["slashtag"] != "l0" {
			t.Fatalf("last page: %d %s", code, body)
		}
		if code, _, body := exportertest.RawGet(t, url+"/v1/links?limit=100", auth); code != http.StatusForbidden || !strings.Contains(body, `"property":"limit"`) {
			t.Errorf("limit 100: %d %s", code, body)
		}
		if code, _, _ := exportertest.RawGet(t, url+"/v1/links?last=nope", auth); code != http.StatusNotFound {
			t.Errorf("unknown cursor: %d", code)
		}
	})

	t.Run("workspace", func(t *testing.T) {
		f.SetWorkspace("ws")
		defer f.SetWorkspace("")
		if code, _, body := exportertest.RawGet(t, url+"/v1/links/count", auth); code != 200 || strings.TrimSpace(body) != `{"count":0}` {
			t.Errorf("default workspace: %d %s", code, body)
		}
		if code, _, body := exportertest.RawGet(t, url+"/v1/links/count", map[string]string{"apikey": "key", "workspace": "ws"}); code != 200 || strings.TrimSpace(body) != `{"count":26}` {
			t.Errorf("workspace ws: %d %s", code, body)
		}
		if code, _, _ := exportertest.RawGet(t, url+"/v1/links", map[string]string{"apikey": "key", "workspace": "other"}); code != http.StatusNotFound {
			t.Errorf("unknown workspace: %d", code)
		}
	})

	t.Run("redirect", func(t *testing.T) {
		code, h, _ := exportertest.RawGet(t, url+"/l3", nil)
		if code != http.StatusMovedPermanently || h.Get("Location") != "https://shop.example/3" {
			t.Errorf("%d %q", code, h.Get("Location"))
		}
		if code, _, _ := exportertest.RawGet(t, url+"/missing", nil); code != http.StatusNotFound {
			t.Errorf("unknown slashtag: %d", code)
		}
	})

	t.Run("faults", func(t *testing.T) {
		f.Faults.SetRetryAfter(time.Second)
		f.Faults.Set(fakeapi.RateLimited, 1)
		code, h, body := exportertest.RawGet(t, url+"/v1/links", auth)
		if code != http.StatusTooManyRequests || h.Get("Retry-After") != "1" || !strings.Contains(body, `"code"`) {
			t.Errorf("%d %v %s", code, h, body)
		}
		if code, _, _ := exportertest.RawGet(t, url+"/v1/tags", auth); code != 200 {
			t.Errorf("after the fault: %d", code)
		}
	})
}

// TestClicksJSON: a link's clicks field sent as the test asks.
func TestClicksJSON(t *testing.T) {
	clock := exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	f := New("key", clock.Now)
	url := exportertest.ServeFake(t, f,
		Link{ID: "rebrand.ly/s", Destination: "https://shop.example/s", ClicksJSON: `"12"`, Clicks: fakeapi.Growth{Base: 500}},
		Link{ID: "rebrand.ly/n", Destination: "https://shop.example/n", Clicks: fakeapi.Growth{Base: 7}})
	code, _, body := exportertest.RawGet(t, url+"/v1/links", map[string]string{"apikey": "key"})
	var links []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &links) != nil {
		t.Fatalf("%d %s", code, body)
	}
	got := map[string]any{}
	for _, l := range links {
		got[l["slashtag"].(string)] = l["clicks"]
	}
	if got["s"] != "12" || got["n"] != float64(7) {
		t.Errorf("clicks %v, want s as the string \"12\" and n as the number 7", got)
	}
}

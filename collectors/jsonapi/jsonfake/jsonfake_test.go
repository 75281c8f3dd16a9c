package jsonfake

import (
	"net/http"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

func TestFake(t *testing.T) {
	clock := exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	s := New("tok_1234", clock.Now)
	for _, h := range []string{"a", "b", "c"} {
		s.AddPartner(Partner{Campaign: "spring", Handle: h, Clicks: fakeapi.Growth{Base: 10, PerMinute: 1}, RevenueCents: fakeapi.Growth{Base: 1005}})
	}
	base := exportertest.Serve(t, s)
	clock.Advance(5 * time.Minute)

	var page struct {
		Data []struct {
			Partner struct{ Handle string } `json:"partner"`
			Stats   struct {
				Clicks  int64  `json:"clicks"`
				Revenue string `json:"revenue"`
			} `json:"stats"`
		} `json:"data"`
		Meta struct {
			Next *string `json:"next"`
		} `json:"meta"`
	}
	code, h := exportertest.GetJSON(t, base+"/v2/affiliates/spring/stats", "Bearer tok_1234", &page)
	if code != http.StatusOK || len(page.Data) != 2 || page.Meta.Next == nil || h.Get("Link") == "" {
		t.Fatalf("first page: %d %+v link %q", code, page, h.Get("Link"))
	}
	if d := page.Data[0]; d.Partner.Handle != "a" || d.Stats.Clicks != 15 || d.Stats.Revenue != "10.05" {
		t.Errorf("row = %+v", d)
	}
	code, h = exportertest.GetJSON(t, base+"/v2/affiliates/spring/stats?cursor="+*page.Meta.Next, "Bearer tok_1234", &page)
	if code != http.StatusOK || len(page.Data) != 1 || page.Meta.Next != nil || h.Get("Link") != "" {
		t.Errorf("last page: %d %+v link %q", code, page, h.Get("Link"))
	}
	code, _ = exportertest.GetJSON(t, base+"/v2/affiliates/spring/stats?page=2&per_page=2", "Bearer tok_1234", &page)
	if code != http.StatusOK || len(page.Data) != 1 || page.Data[0].Partner.Handle != "c" {
		t.Errorf("page 2: %d %+v", code, page)
	}

	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if code, _ := exportertest.GetJSON(t, base+"/v2/affiliates/spring/stats", "Bearer nope", &e); code != http.StatusUnauthorized || e.Error.Code != "unauthorized" {
		t.Errorf("wrong token: %d %+v", code, e)
	}
	if code, _ := exportertest.GetJSON(t, base+"/v2/affiliates/winter/stats", "Bearer tok_1234", &e); code != http.StatusNotFound {
		t.Errorf("unknown campaign: %d", code)
	}
	s.SetAuth(Auth{Type: "query", Name: "api_key"})
	if code, _ := exportertest.GetJSON(t, base+"/v2/affiliates/spring/partners/b/stats?api_key=tok_1234", "", nil); code != http.StatusOK {
		t.Errorf("query auth: %d", code)
	}
}

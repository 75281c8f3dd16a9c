package bitlyfake

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const token = "fake-bitly-token"

// newServer serves a fake with four links on loopback; it returns the
// fake, its URL and its clock.
func newServer(t *testing.T) (*Server, string, *time.Time) {
	t.Helper()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	fake := New(token, func() time.Time { return now })
	links := []Link{
		{ID: "bit.ly/a1", Destination: "https://shop.example/?utm_source=a", Tags: []string{"alice"}, Clicks: fakeapi.Growth{Base: 10, PerMinute: 2}},
		{ID: "bit.ly/a2", Destination: "https://shop.example/2", Tags: []string{"alice", "spring"}, Clicks: fakeapi.Growth{Base: 5}},
		{ID: "bit.ly/b1", Destination: "https://shop.example/b", Tags: []string{"bob"}},
		{ID: "bit.ly/old", Destination: "https://shop.example/old", Tags: []string{"alice"}, Archived: true, Clicks: fakeapi.Growth{Base: 99}},
	}
	return fake, exportertest.ServeFake(t, fake, links...), &now
}

// get sends GET u with the token tok, if any, decodes the answer into v
// and returns its status.
func get(t *testing.T, u, tok string, v any) int {
	t.Helper()
	if tok != "" {
		tok = "Bearer " + tok
	}
	code, _ := exportertest.GetJSON(t, u, tok, v)
	return code
}

func TestAuth(t *testing.T) {
	_, base, _ := newServer(t)
	for _, tok := range []string{"", "wrong"} {
		var e map[string]any
		if code := get(t, base+"/v4/user", tok, &e); code != http.StatusForbidden {
			t.Errorf("token %q: status %d, want 403", tok, code)
		}
		if e["message"] != "FORBIDDEN" {
			t.Errorf("token %q: body %v", tok, e)
		}
	}
	var u map[string]any
	if code := get(t, base+"/v4/user", token, &u); code != 200 || u["default_group_guid"] != GroupGUID {
		t.Errorf("user: %d %v", code, u)
	}
}

func TestGroupBitlinksPaging(t *testing.T) {
	_, base, _ := newServer(t)
	type page struct {
		Links []struct {
			ID   string `json:"id"`
			Link string `json:"link"`
		} `json:"links"`
		Pagination struct {
			Next        string `json:"next"`
			SearchAfter string `json:"search_after"`
		} `json:"pagination"`
	}
	var ids []string
	next := base + "/v4/groups/" + GroupGUID + "/bitlinks?tags=alice&tags=bob&size=1"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		var p page
		if code := get(t, next, token, &p); code != 200 {
			t.Fatalf("status %d", code)
		}
		for _, l := range p.Links {
			ids = append(ids, l.ID)
			if !strings.HasPrefix(l.Link, base+"/") {
				t.Errorf("link %q not on the public URL", l.Link)
			}
		}
		if (p.Pagination.Next == "") != (p.Pagination.SearchAfter == "") {
			t.Errorf("next %q and search_after %q disagree", p.Pagination.Next, p.Pagination.SearchAfter)
		}
		next = p.Pagination.Next
	}
	// Newest first, archived left out, any tag matches.
	if got, want := strings.Join(ids, ","), "bit.ly/b1,bit.ly/a2,bit.ly/a1"; got != want {
		t.Errorf("ids %s, want %s", got, want)
	}
	if code := get(t, base+"/v4/groups/nope/bitlinks", token, nil); code != http.StatusNotFound {
		t.Errorf("unknown group: %d", code)
	}
}

func TestClicks(t *testing.T) {
	_, base, now := newServer(t)
	*now = now.Add(10 * time.Minute)

	var sorted struct {
		Links       []map[string]any `json:"links"`
		SortedLinks []struct {
			ID     string `json:"id"`
			Clicks int64  `json:"clicks"`
		} `json:"sorted_links"`
	}
	get(t, base+"/v4/groups/"+GroupGUID+"/bitlinks/clicks?unit=day&units=-1&size=2", token, &sorted)
	if len(sorted.SortedLinks) != 2 || sorted.SortedLinks[0].ID != "bit.ly/old" || sorted.SortedLinks[0].Clicks != 99 ||
		sorted.SortedLinks[1].ID != "bit.ly/a1" || sorted.SortedLinks[1].Clicks != 30 || len(sorted.Links) != 2 {
		t.Errorf("sorted: %+v", sorted)
	}

	tests := []struct {
		path string
		want int64
	}{
		{"/v4/bitlinks/bit.ly/a1/clicks/summary?unit=day&units=-1", 30},
		{"/v4/bitlinks/bit.ly%2Fa1/clicks/summary?unit=day&units=-1", 30},
		{"/v4/bitlinks/bit.ly/a1/clicks/summary?unit=minute&units=5", 10}, // only the window
		{"/v4/bitlinks/bit.ly/b1/clicks/summary", 0},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var s struct {
				TotalClicks int64 `json:"total_clicks"`
			}
			if code := get(t, base+tt.path, token, &s); code != 200 || s.TotalClicks != tt.want {
				t.Errorf("status %d, total_clicks %d, want %d", code, s.TotalClicks, tt.want)
			}
		})
	}
	var e map[string]any
	if code := get(t, base+"/v4/bitlinks/bit.ly/nope/clicks/summary", token, &e); code != 404 || e["message"] != "NOT_FOUND" {
		t.Errorf("unknown link: %d %v", code, e)
	}
}

func TestRedirectAndFaults(t *testing.T) {
	fake, base, _ := newServer(t)
	fake.Faults.Set(fakeapi.ServerError, -1)
	code, h, _ := exportertest.RawGet(t, base+"/a1", nil)
	if code != http.StatusMovedPermanently || h.Get("Location") != "https://shop.example/?utm_source=a" {
		t.Errorf("redirect: %d %q", code, h.Get("Location"))
	}
	if fake.Faults.Hits() != 0 {
		t.Errorf("short link counted as API hit")
	}

	var e map[string]any
	if code := get(t, base+"/v4/user", token, &e); code != 500 || e["message"] != "INTERNAL_ERROR" {
		t.Errorf("server error fault: %d %v", code, e)
	}
	fake.Faults.Set(fakeapi.RateLimited, 1)
	if code := get(t, base+"/v4/user", token, &e); code != 429 || e["message"] != "RATE_LIMIT_EXCEEDED" {
		t.Errorf("rate limit fault: %d %v", code, e)
	}
	if code := get(t, base+"/v4/user", token, nil); code != 200 {
		t.Errorf("after faults: %d", code)
	}
	if fake.Faults.Hits() != 3 {
		t.Errorf("hits %d, want 3", fake.Faults.Hits())
	}
}

// TestArchivedFilter: archived is off (the default), on or both, as Bitly
// documents it; anything else is an invalid argument.
func TestArchivedFilter(t *testing.T) {
	_, base, _ := newServer(t)
	for _, tc := range []struct {
		query string
		code  int
		want  string
	}{
		{"tags=alice", 200, "bit.ly/a2,bit.ly/a1"},
		{"tags=alice&archived=off", 200, "bit.ly/a2,bit.ly/a1"},
		{"tags=alice&archived=on", 200, "bit.ly/old"},
		{"tags=alice&archived=both", 200, "bit.ly/old,bit.ly/a2,bit.ly/a1"},
		{"tags=alice&archived=yes", 400, ""},
	} {
		var p struct {
			Links []struct {
				ID       string `json:"id"`
				Archived bool   `json:"archived"`
			} `json:"links"`
			Message string `json:"message"`
		}
		code := get(t, base+"/v4/groups/"+GroupGUID+"/bitlinks?"+tc.query, token, &p)
		var ids []string
		for _, l := range p.Links {
			ids = append(ids, l.ID)
			if l.Archived != (l.ID == "bit.ly/old") {
				t.Errorf("%s: %s archived %t", tc.query, l.ID, l.Archived)
			}
		}
		if code != tc.code || strings.Join(ids, ",") != tc.want {
			t.Errorf("%s: %d %q, want %d %q", tc.query, code, ids, tc.code, tc.want)
		}
		if tc.code == 400 && p.Message != "INVALID_ARG_ARCHIVED" {
			t.Errorf("%s: message %q", tc.query, p.Message)
		}
	}
}

// TestRefuseSortedAndClicksJSON: the sorted links call refused with
// Bitly's error body, and counts sent as the test asks.
func TestRefuseSortedAndClicksJSON(t *testing.T) {
	fake, base, _ := newServer(t)
	sortedURL := base + "/v4/groups/" + GroupGUID + "/bitlinks/clicks?unit=day&units=-1"
	for _, tc := range []struct {
		status  int
		message string
	}{
		{http.StatusNotFound, "NOT_FOUND"},
		{http.StatusForbidden, "FORBIDDEN"},
		{http.StatusNotImplemented, "NOT_IMPLEMENTED"},
	} {
		fake.RefuseSorted(tc.status)
		var e map[string]any
		if code := get(t, sortedURL, token, &e); code != tc.status || e["message"] != tc.message {
			t.Errorf("refused %d: %d %v", tc.status, code, e)
		}
	}
	fake.RefuseSorted(0)
	if code := get(t, sortedURL, token, nil); code != 200 {
		t.Errorf("served again: %d", code)
	}

	fake.AddLink(Link{ID: "bit.ly/s", Destination: "https://shop.example/s", ClicksJSON: `"12"`, Clicks: fakeapi.Growth{Base: 500}})
	code, _, body := exportertest.RawGet(t, base+"/v4/bitlinks/bit.ly/s/clicks/summary", map[string]string{"Authorization": "Bearer " + token})
	if code != 200 || !strings.Contains(body, `"total_clicks":"12"`) {
		t.Errorf("summary: %d %s", code, body)
	}
	code, _, body = exportertest.RawGet(t, sortedURL+"&size=1", map[string]string{"Authorization": "Bearer " + token})
	if code != 200 || !strings.Contains(body, `{"clicks":"12","id":"bit.ly/s"}`) {
		t.Errorf("sorted: %d %s", code, body)
	}
}

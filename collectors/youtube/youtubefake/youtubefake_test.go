package youtubefake_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/youtube/youtubefake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const key = "AIzaSy-fake-key"

// start is 04:00 Pacific standard time.
var start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const channel = "UCchannel000000000000000"

func serve(t *testing.T) (*youtubefake.Server, *exportertest.ManualClock, string) {
	t.Helper()
	clock := exportertest.NewManualClock(start)
	fake := youtubefake.New(key, clock.Now)
	fake.AddAccount(youtubefake.Account{ID: channel, Title: "Chan", Followers: 123456})
	fake.AddAccount(youtubefake.Account{ID: "UChidden0000000000000000", Title: "Hidden", Followers: 42, HiddenFollowers: true})
	for i := range 12 {
		fake.AddPost(youtubefake.Post{
			ID: fmt.Sprintf("video%06d", i), Account: channel, Title: fmt.Sprintf("Video %d #spring", i),
			Published: start.Add(-time.Duration(i+1) * time.Hour),
			Views:     fakeapi.Curve{Final: 1000, Midpoint: time.Hour, Spread: time.Hour},
			Likes:     fakeapi.Curve{Final: 100, Midpoint: time.Hour, Spread: time.Hour},
			Comments:  fakeapi.Curve{Final: 10, Midpoint: time.Hour, Spread: time.Hour},
		})
	}
	fake.AddPost(youtubefake.Post{ID: "hiddenstats", Account: channel, Published: start.Add(-time.Hour), HideLikes: true, CommentsDisabled: true})
	fake.AddPost(youtubefake.Post{ID: "scheduled00", Account: channel, Published: start.Add(time.Hour)})
	return fake, clock, exportertest.Serve(t, fake) + "/youtube/v3"
}

// get sends GET base+path and decodes the answer.
func get(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	code, _, body := exportertest.RawGet(t, url, nil)
	var v map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, body)
	}
	return code, v
}

// reason returns error.errors[0].reason and error.message.
func reason(v map[string]any) (string, string) {
	e, _ := v["error"].(map[string]any)
	errs, _ := e["errors"].([]any)
	if len(errs) == 0 {
		return "", ""
	}
	r, _ := errs[0].(map[string]any)["reason"].(string)
	m, _ := e["message"].(string)
	return r, m
}

func items(v map[string]any) []map[string]any {
	raw, _ := v["items"].([]any)
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		out[i] = r.(map[string]any)
	}
	return out
}

func TestAuth(t *testing.T) {
	fake, _, base := serve(t)
	tests := []struct {
		name, query string
		code        int
		reason, msg string
	}{
		{"missing key", "", http.StatusForbidden, "forbidden", youtubefake.MissingKeyMessage},
		{"wrong key", "&key=nope", http.StatusBadRequest, "badRequest", youtubefake.InvalidKeyMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, v := get(t, base+"/videos?part=statistics&id=video000000"+tt.query)
			r, m := reason(v)
			if code != tt.code || r != tt.reason || m != tt.msg {
				t.Errorf("got %d %q %q, want %d %q %q", code, r, m, tt.code, tt.reason, tt.msg)
			}
		})
	}
	if fake.UnitsSpent() != 0 {
		t.Errorf("refused keys cost %d units", fake.UnitsSpent())
	}
}

func TestVideos(t *testing.T) {
	fake, _, base := serve(t)
	code, v := get(t, base+"/videos?part=statistics,snippet&id=video000001,hiddenstats,scheduled00,nosuchvideo&key="+key)
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, v)
	}
	got := items(v)
	if len(got) != 2 {
		t.Fatalf("items %v, want the visible two", got)
	}
	stats := got[0]["statistics"].(map[string]any)
	// Two hours old: the curve's counts, as strings.
	if stats["viewCount"] != "632" || stats["likeCount"] != "63" || stats["commentCount"] != "6" || stats["favoriteCount"] != "0" {
		t.Errorf("statistics %v", stats)
	}
	if s := got[0]["snippet"].(map[string]any); s["publishedAt"] != "2025-03-01T10:00:00Z" || s["channelId"] != channel {
		t.Errorf("snippet %v", s)
	}
	if stats := got[1]["statistics"].(map[string]any); stats["likeCount"] != nil || stats["commentCount"] != nil {
		t.Errorf("hidden counts present: %v", stats)
	}
	if fake.Polls("nosuchvideo") != 1 || fake.Calls("videos") != 1 || fake.UnitsSpent() != 1 {
		t.Errorf("polls %d, calls %d, units %d", fake.Polls("nosuchvideo"), fake.Calls("videos"), fake.UnitsSpent())
	}

	ids := make([]string, youtubefake.MaxIDs+1)
	for i := range ids {
		ids[i] = fmt.Sprintf("video%06d", i)
	}
	code, v = get(t, base+"/videos?part=statistics&key="+key+"&id="+strings.Join(ids, ","))
	if r, _ := reason(v); code != http.StatusBadRequest || r != "badRequest" {
		t.Errorf("51 ids: %d %v", code, v)
	}
	code, v = get(t, base+"/videos?part=statistics&key="+key+"&id="+strings.Join(ids[:50], ","))
	if code != http.StatusOK || len(items(v)) != 12 {
		t.Errorf("50 ids: %d, %d items", code, len(items(v)))
	}
}

func TestChannels(t *testing.T) {
	_, _, base := serve(t)
	hidden := "UChidden0000000000000000"
	code, v := get(t, base+"/channels?part=statistics,contentDetails&id="+channel+","+hidden+"&key="+key)
	got := items(v)
	if code != http.StatusOK || len(got) != 2 {
		t.Fatalf("%d %v", code, v)
	}
	st := got[0]["statistics"].(map[string]any)
	if st["subscriberCount"] != "123000" || st["hiddenSubscriberCount"] != false || st["videoCount"] != "13" {
		t.Errorf("statistics %v", st)
	}
	uploads := got[0]["contentDetails"].(map[string]any)["relatedPlaylists"].(map[string]any)["uploads"]
	if uploads != youtubefake.UploadsPlaylist(channel) || !strings.HasPrefix(uploads.(string), "UU") {
		t.Errorf("uploads %v", uploads)
	}
	if st := got[1]["statistics"].(map[string]any); st["subscriberCount"] != nil || st["hiddenSubscriberCount"] != true {
		t.Errorf("hidden statistics %v", st)
	}
	_, v = get(t, base+"/channels?part=statistics&id=UCnobody&key="+key)
	if _, ok := v["items"]; ok {
		t.Errorf("no match still has items: %v", v)
	}
}

func TestPlaylistItems(t *testing.T) {
	fake, clock, base := serve(t)
	url := base + "/playlistItems?part=contentDetails,snippet&playlistId=" + youtubefake.UploadsPlaylist(channel) + "&key=" + key
	var (
		seen  []string
		pages int
		token string
	)
	for {
		code, v := get(t, url+"&maxResults=5&pageToken="+token)
		if code != http.StatusOK {
			t.Fatalf("page %d: %d %v", pages, code, v)
		}
		pages++
		for _, it := range items(v) {
			cd := it["contentDetails"].(map[string]any)
			seen = append(seen, cd["videoId"].(string))
			if sn := it["snippet"].(map[string]any); sn["publishedAt"] != cd["videoPublishedAt"] {
				t.Errorf("item %v", it)
			}
		}
		next, _ := v["nextPageToken"].(string)
		if next == "" {
			break
		}
		token = next
	}
	// 13 public uploads, newest first; the scheduled one is not out yet.
	if pages != 3 || len(seen) != 13 || seen[0] != "hiddenstats" && seen[0] != "video000000" || seen[12] != "video000011" {
		t.Errorf("%d pages: %v", pages, seen)
	}
	clock.Advance(2 * time.Hour)
	_, v := get(t, url+"&maxResults=50")
	if got := items(v); len(got) != 14 || got[0]["contentDetails"].(map[string]any)["videoId"] != "scheduled00" {
		t.Errorf("after publication: %d items, first %v", len(got), got[0])
	}
	_, v = get(t, url)
	if len(items(v)) != youtubefake.DefaultResults {
		t.Errorf("default page size %d", len(items(v)))
	}

	for _, tt := range []struct {
		name, url string
		code      int
		reason    string
	}{
		{"bad token", url + "&pageToken=garbage", http.StatusBadRequest, "invalidPageToken"},
		{"page too large", url + "&maxResults=51", http.StatusBadRequest, "invalidValue"},
		{"unknown playlist", base + "/playlistItems?part=snippet&playlistId=UUnobody&key=" + key, http.StatusNotFound, "playlistNotFound"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, v := get(t, tt.url)
			if r, _ := reason(v); code != tt.code || r != tt.reason {
				t.Errorf("%d %v", code, v)
			}
		})
	}
	if fake.Calls("playlistItems") != 8 {
		t.Errorf("calls %d", fake.Calls("playlistItems"))
	}
}

func TestQuota(t *testing.T) {
	fake, clock, base := serve(t)
	fake.SetDailyQuota(2)
	url := base + "/videos?part=statistics&id=video000000&key=" + key
	for i := range 2 {
		if code, v := get(t, url); code != http.StatusOK {
			t.Fatalf("call %d: %d %v", i, code, v)
		}
	}
	code, v := get(t, url)
	e := v["error"].(map[string]any)
	errs := e["errors"].([]any)[0].(map[string]any)
	if code != http.StatusForbidden || errs["reason"] != "quotaExceeded" || errs["domain"] != "youtube.quota" || e["message"] != youtubefake.QuotaMessage {
		t.Errorf("over quota: %d %v", code, v)
	}
	// Midnight Pacific is 08:00 UTC in March before the clocks change.
	clock.Advance(19*time.Hour + 59*time.Minute)
	if code, _ := get(t, url); code != http.StatusForbidden {
		t.Errorf("23:59 Pacific: %d", code)
	}
	clock.Advance(time.Minute)
	if code, _ := get(t, url); code != http.StatusOK || fake.UnitsSpent() != 1 {
		t.Errorf("after midnight Pacific: %d, %d units", code, fake.UnitsSpent())
	}
}

func TestFaults(t *testing.T) {
	fake, _, base := serve(t)
	fake.Faults.SetRetryAfter(time.Second)
	fake.Faults.Set(fakeapi.RateLimited, 1)
	code, h, body := exportertest.RawGet(t, base+"/videos?part=statistics&id=x&key="+key, nil)
	if code != http.StatusTooManyRequests || h.Get("Retry-After") != "1" || !strings.Contains(body, "rateLimitExceeded") {
		t.Errorf("429: %d %v %s", code, h, body)
	}
	fake.Faults.Set(fakeapi.ServerError, 1)
	if code, v := get(t, base+"/videos?part=statistics&id=x&key="+key); code != http.StatusInternalServerError || v["error"] == nil {
		t.Errorf("500: %d %v", code, v)
	}
}

func TestDeletePost(t *testing.T) {
	fake, _, base := serve(t)
	fake.DeletePost("video000001")
	code, v := get(t, base+"/videos?part=statistics&id=video000001,video000002&key="+key)
	if got := items(v); code != http.StatusOK || len(got) != 1 || got[0]["id"] != "video000002" {
		t.Errorf("videos after deletion: %d %v", code, v)
	}
	_, v = get(t, base+"/playlistItems?part=contentDetails&maxResults=50&playlistId="+youtubefake.UploadsPlaylist(channel)+"&key="+key)
	for _, it := range items(v) {
		if it["contentDetails"].(map[string]any)["videoId"] == "video000001" {
			t.Errorf("deleted video listed: %v", it)
		}
	}
}

// TestKeyStates checks i18nRegions.list and the answers to a revoked key,
// a project without the API and a key restricted to other APIs: none of
// them spends a unit.
func TestKeyStates(t *testing.T) {
	fake, _, base := serve(t)
	code, v := get(t, base+"/i18nRegions?part=snippet&key="+key)
	if code != 200 || len(items(v)) != 2 || items(v)[0]["id"] != "US" || fake.UnitsSpent() != 1 {
		t.Errorf("i18nRegions: %d %v, %d units", code, v, fake.UnitsSpent())
	}
	detail := func(v map[string]any) string {
		d, _ := v["error"].(map[string]any)["details"].([]any)
		if len(d) == 0 {
			return ""
		}
		return d[0].(map[string]any)["reason"].(string)
	}
	for _, tc := range []struct {
		name        string
		set         func()
		code        int
		reason, msg string
		detail      string
	}{
		{"project without the API", fake.DisableAPI, 403, "accessNotConfigured", youtubefake.ServiceDisabledMessage, "SERVICE_DISABLED"},
		{"key restricted to other APIs", fake.RestrictKey, 403, "forbidden",
			"Requests to this API youtube.googleapis.com method youtube.api.v3.V3DataChannelService.List are blocked.", "API_KEY_SERVICE_BLOCKED"},
		{"revoked key", fake.RevokeKey, 400, "badRequest", youtubefake.InvalidKeyMessage, "API_KEY_INVALID"},
	} {
		tc.set()
		code, v := get(t, base+"/channels?part=id&id="+channel+"&key="+key)
		if r, m := reason(v); code != tc.code || r != tc.reason || m != tc.msg || detail(v) != tc.detail {
			t.Errorf("%s: %d %v", tc.name, code, v)
		}
	}
	if fake.UnitsSpent() != 1 {
		t.Errorf("%d units spent, want 1", fake.UnitsSpent())
	}
}

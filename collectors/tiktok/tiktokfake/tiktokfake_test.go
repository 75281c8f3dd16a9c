package tiktokfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const token = "act.fake-tiktok-token"

var start = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// newServer serves a fake with user alice, her videos v1 (an hour old)
// to v25, one video of bob and one of alice published in an hour.
func newServer(t *testing.T) (*Server, string, *exportertest.ManualClock) {
	t.Helper()
	clock := exportertest.NewManualClock(start)
	s := New(token, clock.Now)
	s.AddAccount(Account{ID: "open-alice", Username: "alice", Followers: 1000, NewFollowers: fakeapi.Curve{Final: 600, Midpoint: time.Hour, Spread: 10 * time.Minute}})
	s.AddAccount(Account{ID: "open-bob", Token: "act.bob"})
	for i := 1; i <= 25; i++ {
		s.AddPost(Post{
			ID: fmt.Sprintf("%d", 7000+i), Title: fmt.Sprintf("video %d", i), Caption: "#spring",
			Published: start.Add(-time.Duration(i) * time.Hour),
			Views:     fakeapi.Curve{Final: 1000, Midpoint: time.Hour, Spread: 10 * time.Minute},
		})
	}
	s.AddPost(Post{ID: "8001", Account: "open-bob", Published: start.Add(-time.Hour)})
	s.AddPost(Post{ID: "7999", Published: start.Add(time.Hour)})
	return s, exportertest.Serve(t, s), clock
}

type answer struct {
	raw   json.RawMessage
	Data  map[string]json.RawMessage `json:"data"`
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		LogID   string `json:"log_id"`
	} `json:"error"`
}

// do sends a request with the token (if any) and decodes the envelope.
func do(t *testing.T, method, u, tok, contentType, body string) (int, answer) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a answer
	var raw struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &a); err != nil || json.Unmarshal(b, &raw) != nil {
		t.Fatalf("%s %s: %v in %s", method, u, err, b)
	}
	a.raw = raw.Data
	return resp.StatusCode, a
}

type page struct {
	Videos []struct {
		ID         string `json:"id"`
		CreateTime int64  `json:"create_time"`
	} `json:"videos"`
	Cursor  int64 `json:"cursor"`
	HasMore bool  `json:"has_more"`
}

func TestAuth(t *testing.T) {
	_, base, _ := newServer(t)
	for _, tok := range []string{"", "wrong"} {
		code, a := do(t, "GET", base+"/v2/user/info/?fields=open_id", tok, "", "")
		if code != 401 || a.Error.Code != "access_token_invalid" || a.Error.Message != InvalidTokenMessage || a.Error.LogID == "" {
			t.Errorf("token %q: %d %+v", tok, code, a.Error)
		}
	}
	code, a := do(t, "GET", base+"/v2/user/info/?fields=open_id,follower_count,nonsense", token, "", "")
	if code != 200 || a.Error.Code != "ok" {
		t.Fatalf("user info: %d %+v", code, a.Error)
	}
	if got := string(a.Data["user"]); got != `{"follower_count":1000,"open_id":"open-alice"}` {
		t.Errorf("user = %s", got)
	}
	if code, a := do(t, "GET", base+"/v2/user/info/", token, "", ""); code != 400 || a.Error.Code != "invalid_params" {
		t.Errorf("without fields: %d %+v", code, a.Error)
	}
}

func TestQuery(t *testing.T) {
	s, base, _ := newServer(t)
	q := base + "/v2/video/query/?fields=id,view_count"
	// Bob's video, a future one and an unknown id are left out silently.
	code, a := do(t, "POST", q, token, "application/json", `{"filters":{"video_ids":["7001","8001","7999","123","7002"]}}`)
	if code != 200 || a.Error.Code != "ok" {
		t.Fatalf("query: %d %+v", code, a.Error)
	}
	var videos []struct {
		ID        string `json:"id"`
		ViewCount int64  `json:"view_count"`
		LikeCount *int64 `json:"like_count"`
	}
	if err := json.Unmarshal(a.Data["videos"], &videos); err != nil {
		t.Fatal(err)
	}
	if len(videos) != 2 || videos[0].ID != "7001" || videos[0].ViewCount != 499 || videos[1].ID != "7002" || videos[0].LikeCount != nil {
		t.Errorf("videos = %+v", videos)
	}
	if s.Served("7001") != 1 || s.Served("8001") != 0 {
		t.Errorf("served 7001 %d, 8001 %d", s.Served("7001"), s.Served("8001"))
	}
	var ids []string
	for i := range MaxVideoIDs + 1 {
		ids = append(ids, fmt.Sprintf("%q", fmt.Sprint(7001+i)))
	}
	body := `{"filters":{"video_ids":[` + strings.Join(ids, ",") + `]}}`
	if code, a := do(t, "POST", q, token, "application/json", body); code != 400 || a.Error.Code != "invalid_params" {
		t.Errorf("21 ids: %d %+v", code, a.Error)
	}
	if code, a := do(t, "POST", q, token, "text/plain", `{"filters":{"video_ids":["7001"]}}`); code != 400 || a.Error.Code != "invalid_params" {
		t.Errorf("without JSON content type: %d %+v", code, a.Error)
	}
	// Bob's own token sees his video.
	if _, a := do(t, "POST", q, "act.bob", "application/json", `{"filters":{"video_ids":["8001","7001"]}}`); !strings.Contains(string(a.Data["videos"]), `"8001"`) || strings.Contains(string(a.Data["videos"]), `"7001"`) {
		t.Errorf("bob's query: %s", a.Data["videos"])
	}
}

func TestListPaging(t *testing.T) {
	_, base, clock := newServer(t)
	list := base + "/v2/video/list/?fields=id,create_time"
	var ids []string
	body := `{"max_count":20}`
	for pages := 1; ; pages++ {
		code, a := do(t, "POST", list, token, "application/json", body)
		if code != 200 {
			t.Fatalf("page %d: %d %+v", pages, code, a.Error)
		}
		var p page
		if err := json.Unmarshal(a.raw, &p); err != nil {
			t.Fatal(err)
		}
		for _, v := range p.Videos {
			ids = append(ids, v.ID)
		}
		if !p.HasMore {
			if pages != 2 {
				t.Errorf("pages = %d, want 2", pages)
			}
			break
		}
		body = fmt.Sprintf(`{"max_count":20,"cursor":%d}`, p.Cursor)
	}
	if len(ids) != 25 || ids[0] != "7001" || ids[24] != "7025" {
		t.Errorf("listed %v", ids)
	}
	if code, a := do(t, "POST", list, token, "application/json", `{"max_count":21}`); code != 400 || a.Error.Code != "invalid_params" {
		t.Errorf("max_count 21: %d %+v", code, a.Error)
	}
	// Publishing: the future video shows once the clock passes it.
	clock.Advance(time.Hour)
	_, a := do(t, "POST", list, token, "application/json", `{"max_count":1}`)
	if !strings.Contains(string(a.Data["videos"]), `"7999"`) {
		t.Errorf("newest after an hour: %s", a.Data["videos"])
	}
	_, a = do(t, "GET", base+"/v2/user/info/?fields=follower_count,video_count", token, "", "")
	if got := string(a.Data["user"]); got != `{"follower_count":1299,"video_count":26}` {
		t.Errorf("user an hour later = %s", got)
	}
}

func TestErrors(t *testing.T) {
	s, base, _ := newServer(t)
	info := base + "/v2/user/info/?fields=open_id"
	s.SetError(http.StatusOK, "scope_not_authorized", "The user did not authorize the scope required for completing this request.", 1)
	if code, a := do(t, "GET", info, token, "", ""); code != 200 || a.Error.Code != "scope_not_authorized" {
		t.Errorf("injected: %d %+v", code, a.Error)
	}
	if code, _ := do(t, "GET", info, token, "", ""); code != 200 {
		t.Errorf("after the injected error: %d", code)
	}
	s.Faults.SetRetryAfter(time.Second)
	s.Faults.Set(fakeapi.RateLimited, 1)
	if code, a := do(t, "GET", info, token, "", ""); code != 429 || a.Error.Code != "rate_limit_exceeded" {
		t.Errorf("rate limited: %d %+v", code, a.Error)
	}
	s.Faults.Set(fakeapi.ServerError, 1)
	if code, a := do(t, "GET", info, token, "", ""); code != 500 || a.Error.Code != "internal_error" {
		t.Errorf("server error: %d %+v", code, a.Error)
	}
}

func TestRefresh(t *testing.T) {
	s, base, clock := newServer(t)
	s.SetApp("key1", "secret1")
	s.AddRefreshToken("rft.first", "open-alice")
	refresh := func(rt, secret string) (int, map[string]any) {
		form := url.Values{"client_key": {"key1"}, "client_secret": {secret}, "grant_type": {"refresh_token"}, "refresh_token": {rt}}
		resp, err := http.Post(base+"/v2/oauth/token/", "application/x-www-form-urlencoded", bytes.NewBufferString(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, m
	}
	if code, m := refresh("rft.first", "wrong"); code != 400 || m["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v", code, m)
	}
	clock.Advance(time.Hour)
	code, m := refresh("rft.first", "secret1")
	if code != 200 || m["expires_in"] != 86400.0 || m["open_id"] != "open-alice" || m["refresh_expires_in"] != float64(365*86400-3600) {
		t.Fatalf("refresh: %d %v", code, m)
	}
	access, next := m["access_token"].(string), m["refresh_token"].(string)
	if code, m := refresh("rft.first", "secret1"); code != 400 || m["error"] != "invalid_grant" {
		t.Errorf("old refresh token: %d %v", code, m)
	}
	if code, a := do(t, "GET", base+"/v2/user/info/?fields=open_id", access, "", ""); code != 200 || string(a.Data["user"]) != `{"open_id":"open-alice"}` {
		t.Errorf("new access token: %d %+v", code, a)
	}
	clock.Advance(AccessTokenTTL)
	if code, _ := do(t, "GET", base+"/v2/user/info/?fields=open_id", access, "", ""); code != 401 {
		t.Errorf("expired access token: %d", code)
	}
	if code, _ := refresh(next, "secret1"); code != 200 {
		t.Errorf("next refresh: %d", code)
	}
}

func TestDeletePost(t *testing.T) {
	s, base, _ := newServer(t)
	s.DeletePost("7001")
	code, a := do(t, "POST", base+"/v2/video/query/?fields=id", token, "application/json", `{"filters":{"video_ids":["7001","7002"]}}`)
	if code != 200 || a.Error.Code != "ok" || strings.Contains(string(a.Data["videos"]), `"7001"`) || !strings.Contains(string(a.Data["videos"]), `"7002"`) {
		t.Errorf("query after deletion: %d %+v %s", code, a.Error, a.Data["videos"])
	}
	_, a = do(t, "POST", base+"/v2/video/list/?fields=id", token, "application/json", `{"max_count":20}`)
	if strings.Contains(string(a.Data["videos"]), `"7001"`) {
		t.Errorf("deleted video listed: %s", a.Data["videos"])
	}
}

// TestScopes checks tokens lacking scopes: an endpoint's scope missing is
// 401 scope_not_authorized, a field's 400 scope_permission_missed, and a
// refresh token's scopes pass to the access tokens it issues and to the
// token answer's scope.
func TestScopes(t *testing.T) {
	s, base, _ := newServer(t)
	s.SetScopes(token, ScopeBasic)
	info := base + "/v2/user/info/?fields=open_id,display_name"
	if code, a := do(t, "GET", info, token, "", ""); code != 200 || a.Error.Code != "ok" {
		t.Errorf("basic fields: %d %+v", code, a.Error)
	}
	if code, a := do(t, "GET", info+",follower_count", token, "", ""); code != 400 || a.Error.Code != "scope_permission_missed" || a.Error.Message != ScopeMissedMessage {
		t.Errorf("follower_count without user.info.stats: %d %+v", code, a.Error)
	}
	code, a := do(t, "POST", base+"/v2/video/query/?fields=id", token, "application/json", `{"filters":{"video_ids":["7001"]}}`)
	if code != 401 || a.Error.Code != "scope_not_authorized" || a.Error.Message != ScopeNotAuthorizedMessage {
		t.Errorf("video query without video.list: %d %+v", code, a.Error)
	}
	s.SetScopes(token, ScopeVideo)
	if code, a := do(t, "GET", info, token, "", ""); code != 401 || a.Error.Code != "scope_not_authorized" {
		t.Errorf("user info without user.info.basic: %d %+v", code, a.Error)
	}

	s.SetApp("key1", "secret1")
	s.AddRefreshToken("rft.first", "open-alice")
	s.SetScopes("rft.first", ScopeBasic, ScopeVideo)
	form := url.Values{"client_key": {"key1"}, "client_secret": {"secret1"}, "grant_type": {"refresh_token"}, "refresh_token": {"rft.first"}}
	resp, err := http.Post(base+"/v2/oauth/token/", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if m["scope"] != "user.info.basic,video.list" {
		t.Errorf("token answer's scope %v", m["scope"])
	}
	if code, a := do(t, "GET", info+",follower_count", m["access_token"].(string), "", ""); code != 400 || a.Error.Code != "scope_permission_missed" {
		t.Errorf("renewed token's follower_count: %d %+v", code, a.Error)
	}
}

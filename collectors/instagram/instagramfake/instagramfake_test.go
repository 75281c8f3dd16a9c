package instagramfake

import (
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

const token = "EAAGfaketoken123"

func newFake(t *testing.T) (*Server, *exportertest.ManualClock, string) {
	t.Helper()
	clock := exportertest.NewManualClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	f := New(token, clock.Now)
	f.AddAccount(Account{ID: "1784", Username: "alice", Followers: 1200})
	now := clock.Now()
	for i := range 5 {
		f.AddPost(Post{ID: fmt.Sprintf("10%d", i), Account: "1784", Caption: fmt.Sprintf("post %d #spring", i),
			Published: now.Add(-time.Duration(i+1) * time.Hour),
			Likes:     fakeapi.Curve{Final: 100, Midpoint: time.Hour, Spread: 30 * time.Minute},
			Views:     fakeapi.Curve{Final: 1000, Midpoint: time.Hour, Spread: 30 * time.Minute}})
	}
	f.AddPost(Post{ID: "200", Account: "1784", Product: Story, Published: now.Add(-time.Hour),
		Views: fakeapi.Curve{Final: 3, Midpoint: time.Minute}})
	f.AddPost(Post{ID: "201", Account: "1784", Product: Story, Published: now.Add(-time.Hour),
		Views: fakeapi.Curve{Final: 50, Midpoint: time.Minute}})
	f.AddPost(Post{ID: "300", Account: "1784", Published: now.Add(time.Hour)})
	f.AddPost(Post{ID: "400", Account: "1784", Published: now.Add(-time.Minute), InsightsAfter: time.Hour})
	return f, clock, exportertest.Serve(t, f)
}

// get sends GET base+path (path carries its query) and decodes the answer.
func get(t *testing.T, rawURL string) (int, http.Header, map[string]any) {
	t.Helper()
	code, h, body := exportertest.RawGet(t, rawURL, nil)
	var v map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("GET %s: %v in %s", rawURL, err, body)
	}
	return code, h, v
}

func graphCode(v map[string]any) (float64, float64) {
	e, _ := v["error"].(map[string]any)
	if e == nil {
		return 0, 0
	}
	sub, _ := e["error_subcode"].(float64)
	return e["code"].(float64), sub
}

func TestAuth(t *testing.T) {
	f, clock, base := newFake(t)
	for _, tc := range []struct {
		query         string
		code, subcode float64
	}{
		{"", 104, 0},
		{"?access_token=wrong", 190, 0},
	} {
		status, h, v := get(t, base+"/v26.0/1784"+tc.query)
		if c, s := graphCode(v); status != 400 || c != tc.code || s != tc.subcode {
			t.Errorf("%q: %d %v", tc.query, status, v)
		}
		if tc.code == 190 && !strings.Contains(h.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("WWW-Authenticate %q", h.Get("WWW-Authenticate"))
		}
	}
	f.SetTokenExpiry(clock.Now().Add(-time.Minute))
	status, _, v := get(t, base+"/v26.0/1784?access_token="+token)
	if c, s := graphCode(v); status != 400 || c != 190 || s != 463 || !strings.Contains(fmt.Sprint(v), "Session has expired on Monday, 01-Jun-26 03:59:00 PST") {
		t.Errorf("expired: %d %v", status, v)
	}
	if f.Faults.Hits() != 3 {
		t.Errorf("hits %d", f.Faults.Hits())
	}
}

func TestNodesAndListing(t *testing.T) {
	f, _, base := newFake(t)
	q := "?access_token=" + token
	// Unversioned paths work too.
	if status, _, v := get(t, base+"/1784"+q+"&fields=id,followers_count,media_count"); status != 200 || v["followers_count"] != float64(1200) || v["media_count"] != float64(6) {
		t.Errorf("account: %d %v", status, v)
	}
	if status, _, v := get(t, base+"/v26.0/1784"+q+"&fields=nope"); status != 400 || !strings.Contains(fmt.Sprint(v), "nonexisting field (nope) on node type (IGUser)") {
		t.Errorf("bad field: %d %v", status, v)
	}
	_, _, story := get(t, base+"/v26.0/201"+q+"&fields=id,media_product_type,like_count,timestamp")
	if story["media_product_type"] != "STORY" || story["like_count"] != nil || story["timestamp"] != "2026-06-01T11:00:00+0000" {
		t.Errorf("story %v", story)
	}
	if status, _, v := get(t, base+"/v26.0/300"+q); status != 400 {
		t.Errorf("future post: %d %v", status, v)
	} else if c, s := graphCode(v); c != 100 || s != 33 {
		t.Errorf("future post: %v", v)
	}

	// Six feed posts, newest first, two a page; stories and the future
	// post are not listed.
	var ids []string
	next := base + "/v26.0/1784/media" + q + "&fields=id,timestamp&limit=2"
	for pages := 0; next != ""; pages++ {
		if pages == 5 {
			t.Fatal("too many pages")
		}
		status, _, v := get(t, next)
		if status != 200 {
			t.Fatalf("page: %d %v", status, v)
		}
		for _, m := range v["data"].([]any) {
			ids = append(ids, m.(map[string]any)["id"].(string))
		}
		paging, _ := v["paging"].(map[string]any)
		next, _ = paging["next"].(string)
		if next != "" && !strings.HasPrefix(next, base+"/v26.0/1784/media?") {
			t.Fatalf("next %q", next)
		}
	}
	if got := strings.Join(ids, ","); got != "400,100,101,102,103,104" {
		t.Errorf("listed %s", got)
	}

	if status, _, v := get(t, base+"/v26.0/"+q+"&ids=100,1784&fields=id"); status != 200 || len(v) != 2 {
		t.Errorf("multi: %d %v", status, v)
	}
	if status, _, v := get(t, base+"/v26.0/"+q+"&ids=100,999,300&fields=id"); status != 400 || !strings.Contains(fmt.Sprint(v), "do not exist: 999,300") {
		t.Errorf("multi missing: %d %v", status, v)
	}
	_ = f
}

func TestInsights(t *testing.T) {
	f, _, base := newFake(t)
	q := "?access_token=" + token + "&metric="
	status, _, v := get(t, base+"/v26.0/100/insights"+q+"views,reach,saved,shares")
	data, _ := v["data"].([]any)
	if status != 200 || len(data) != 4 {
		t.Fatalf("feed: %d %v", status, v)
	}
	views := data[0].(map[string]any)
	if views["name"] != "views" || views["period"] != "lifetime" || views["id"] != "100/insights/views/lifetime" ||
		views["values"].([]any)[0].(map[string]any)["value"] != float64(432) {
		t.Errorf("views %v", views)
	}
	for _, tc := range []struct {
		id, metric string
		code       float64
		want       string
	}{
		{"201", "views,reach,saved", 100, "does not support the saved metric"},
		{"100", "impressions", 100, "does not support the impressions metric"},
		{"200", "views", 10, "Not enough viewers"},
	} {
		status, _, v := get(t, base+"/v26.0/"+tc.id+"/insights"+q+tc.metric)
		if c, _ := graphCode(v); status != 400 || c != tc.code || !strings.Contains(fmt.Sprint(v), tc.want) {
			t.Errorf("%s %s: %d %v", tc.id, tc.metric, status, v)
		}
	}
	// Insights lag: empty data, not zeros.
	if status, _, v := get(t, base+"/v26.0/400/insights"+q+"views"); status != 200 || len(v["data"].([]any)) != 0 {
		t.Errorf("lagging: %d %v", status, v)
	}
	if got := f.InsightsCalls("100"); got != 2 {
		t.Errorf("insights calls %d", got)
	}
}

func TestBatchAndQuota(t *testing.T) {
	f, clock, base := newFake(t)
	post := func(ops string, include string) (int, http.Header, string) {
		form := url.Values{"access_token": {token}, "batch": {ops}}
		if include != "" {
			form.Set("include_headers", include)
		}
		resp, err := http.PostForm(base+"/v26.0/", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header, string(b)
	}
	status, h, body := post(`[{"method":"GET","relative_url":"100?fields=id,like_count"},{"method":"GET","relative_url":"999/insights?metric=views"}]`, "")
	var res []struct {
		Code    int `json:"code"`
		Headers []struct{ Name, Value string }
		Body    string `json:"body"`
	}
	if err := json.Unmarshal([]byte(body), &res); status != 200 || err != nil || len(res) != 2 {
		t.Fatalf("batch: %d %v %s", status, err, body)
	}
	if res[0].Code != 200 || res[0].Body != `{"id":"100","like_count":43}` || len(res[0].Headers) == 0 {
		t.Errorf("op 0: %+v", res[0])
	}
	if res[1].Code != 400 || !strings.Contains(res[1].Body, `"error_subcode":33`) {
		t.Errorf("op 1: %+v", res[1])
	}
	if used, _ := f.Usage(); used != 2 || h.Get("X-App-Usage") != `{"call_count":0,"total_cputime":0,"total_time":0}` {
		t.Errorf("used %d, X-App-Usage %q", used, h.Get("X-App-Usage"))
	}
	if _, _, body := post(`[{"method":"GET","relative_url":"100"}]`, "false"); strings.Contains(body, "headers") {
		t.Errorf("include_headers=false: %s", body)
	}
	ops := strings.TrimSuffix(strings.Repeat(`{"method":"GET","relative_url":"100"},`, MaxBatch+1), ",")
	if status, _, body := post("["+ops+"]", ""); status != 400 || !strings.Contains(body, "Maximum batch size is 50") {
		t.Errorf("51 ops: %d %s", status, body)
	}

	// Throttled past the limit, with the time to regain access.
	f.SetCallLimit(4)
	status, h, v := get(t, base+"/v26.0/1784?access_token="+token)
	if status != 200 || !strings.Contains(h.Get("X-Business-Use-Case-Usage"), `"call_count":100`) {
		t.Errorf("at limit: %d %v %q", status, v, h.Get("X-Business-Use-Case-Usage"))
	}
	status, h, v = get(t, base+"/v26.0/1784?access_token="+token)
	if c, _ := graphCode(v); status != 400 || c != 80002 || !strings.Contains(h.Get("X-Business-Use-Case-Usage"), `"estimated_time_to_regain_access":60`) {
		t.Errorf("over limit: %d %v %q", status, v, h.Get("X-Business-Use-Case-Usage"))
	}
	clock.Advance(time.Hour)
	if status, _, _ := get(t, base+"/v26.0/1784?access_token="+token); status != 200 {
		t.Errorf("next hour: %d", status)
	}
}

func TestDebugTokenAndFaults(t *testing.T) {
	f, clock, base := newFake(t)
	expiry := clock.Now().Add(50 * 24 * time.Hour)
	f.SetTokenExpiry(expiry)
	_, _, v := get(t, base+"/v26.0/debug_token?access_token="+token+"&input_token="+token)
	data := v["data"].(map[string]any)
	if data["is_valid"] != true || data["expires_at"] != float64(expiry.Unix()) || data["data_access_expires_at"] != float64(0) {
		t.Errorf("debug_token %v", v)
	}
	_, _, v = get(t, base+"/v26.0/debug_token?access_token="+token+"&input_token=other")
	if data := v["data"].(map[string]any); data["is_valid"] != false || data["error"].(map[string]any)["code"] != float64(190) {
		t.Errorf("other token %v", v)
	}
	if f.DebugTokenCalls() != 2 {
		t.Errorf("debug calls %d", f.DebugTokenCalls())
	}
	f.Faults.Set(fakeapi.ServerError, 1)
	if status, _, v := get(t, base+"/v26.0/1784?access_token="+token); status != 500 || fmt.Sprint(v["error"].(map[string]any)["is_transient"]) != "true" {
		t.Errorf("5xx: %d %v", status, v)
	}
	f.Faults.Set(fakeapi.RateLimited, 1)
	if status, h, v := get(t, base+"/v26.0/1784?access_token="+token); status != 429 || h.Get("Retry-After") != "0" {
		t.Errorf("429: %d %v", status, v)
	} else if c, _ := graphCode(v); c != 4 {
		t.Errorf("429 body %v", v)
	}
}

func TestDeletePost(t *testing.T) {
	f, _, base := newFake(t)
	q := "?access_token=" + token
	f.DeletePost("101")
	for _, path := range []string{"/v26.0/101" + q + "&fields=id", "/v26.0/101/insights" + q + "&metric=views"} {
		status, _, v := get(t, base+path)
		if c, s := graphCode(v); status != 400 || c != 100 || s != 33 {
			t.Errorf("GET %s after deletion: %d %v", path, status, v)
		}
	}
	_, _, v := get(t, base+"/v26.0/1784/media"+q+"&fields=id&limit=100")
	if strings.Contains(fmt.Sprint(v["data"]), "101") {
		t.Errorf("deleted post listed: %v", v["data"])
	}
}

func TestFollowerGrowth(t *testing.T) {
	f, clock, base := newFake(t)
	// 60 an hour, and a burst of 400 centred 30 minutes after the start.
	f.AddAccount(Account{ID: "1785", Username: "bruno", Followers: 10000, FollowersPerHour: 60,
		NewFollowers: fakeapi.Curve{Final: 400, Midpoint: 30 * time.Minute, Spread: time.Minute}})
	q := "?access_token=" + token + "&fields=id,followers_count"
	followers := func() float64 {
		t.Helper()
		status, _, v := get(t, base+"/v26.0/1785"+q)
		n, ok := v["followers_count"].(float64)
		if status != 200 || !ok {
			t.Fatalf("account: %d %v", status, v)
		}
		return n
	}
	start := clock.Now()
	for _, tc := range []struct {
		after time.Duration
		want  float64
	}{
		{0, 10000},
		{10 * time.Minute, 10010},       // steady growth only
		{20 * time.Minute, 10020},       // the burst has not started
		{40 * time.Minute, 10040 + 400}, // the burst is in
	} {
		clock.Advance(start.Add(tc.after).Sub(clock.Now()))
		if got := followers(); got != tc.want {
			t.Errorf("followers %s after the start = %g, want %g", tc.after, got, tc.want)
		}
	}
	// The wire format is unchanged: an account without growth keeps its
	// count.
	if _, _, v := get(t, base+"/v26.0/1784"+q); v["followers_count"] != float64(1200) {
		t.Errorf("account without growth: %v", v)
	}
}

// TestRevokeAndScopes checks a revoked token (error 190, subcode 458, on
// every call, debug_token's included) and a token lacking permissions:
// debug_token lists what it carries, and reads needing the others fail
// with error 10.
func TestRevokeAndScopes(t *testing.T) {
	f, _, base := newFake(t)
	q := "?access_token=" + token
	f.SetScopes(PermBasic, PermPages)
	_, _, v := get(t, base+"/v26.0/debug_token"+q+"&input_token="+token)
	if got := fmt.Sprint(v["data"].(map[string]any)["scopes"]); got != "[instagram_basic pages_read_engagement]" {
		t.Errorf("scopes %s", got)
	}
	if status, _, v := get(t, base+"/v26.0/1784"+q+"&fields=username"); status != 200 || v["username"] != "alice" {
		t.Errorf("account read with instagram_basic: %d %v", status, v)
	}
	if status, _, v := get(t, base+"/v26.0/100/insights"+q+"&metric=views"); status != 400 || fmt.Sprint(graphCode(v)) != "10 0" {
		t.Errorf("insights without instagram_manage_insights: %d %v", status, v)
	}
	f.SetScopes(PermInsights)
	if status, _, v := get(t, base+"/v26.0/1784"+q); status != 400 || fmt.Sprint(graphCode(v)) != "10 0" {
		t.Errorf("account read without instagram_basic: %d %v", status, v)
	}

	f.Revoke()
	for _, path := range []string{"/v26.0/1784" + q, "/v26.0/debug_token" + q + "&input_token=" + token} {
		status, _, v := get(t, base+path)
		if c, s := graphCode(v); status != 400 || c != 190 || s != 458 || v["error"].(map[string]any)["message"] != RevokedMessage {
			t.Errorf("revoked, %s: %d %v", strings.SplitN(path, "?", 2)[0], status, v)
		}
	}
}

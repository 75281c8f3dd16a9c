package plausiblefake_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/plausible/plausiblefake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

func post(t *testing.T, url, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/api/v2/query", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestWireFormat(t *testing.T) {
	clock := exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	fake := plausiblefake.New("k", clock.Now)
	fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{Base: 3, PerMinute: 1})
	fake.AddTraffic("utm_content", "bob", "youtube", fakeapi.Growth{Base: 1})
	clock.Advance(10 * time.Minute)
	url := exportertest.Serve(t, fake)

	const q = `{"site_id":"shop.example","metrics":["visitors","pageviews"],"date_range":"all",
		"dimensions":["visit:utm_content","visit:utm_source"],"filters":[["is","visit:utm_content",["alice","bob"]]],
		"pagination":{"limit":1,"offset":1}}`
	tests := []struct {
		name, auth, body string
		status           int
		want             string
	}{
		{"page 2 of 2", "Bearer k", q, 200, `"results":[{"dimensions":["bob","youtube"],"metrics":[1,3]}]`},
		{"no key", "", q, 401, plausiblefake.MsgMissingKey},
		{"wrong key", "Bearer x", q, 401, `Invalid API key or site ID`},
		{"unknown site", "Bearer k", strings.Replace(q, "shop.example", "x.example", 1), 401, `Invalid API key or site ID`},
		{"bad date_range", "Bearer k", strings.Replace(q, `"all"`, `["2025-03-02","2025-03-01"]`, 1), 400, `"error":"#/date_range`},
		{"bad metric", "Bearer k", strings.Replace(q, `"pageviews"`, `"clicks"`, 1), 400, `Invalid metric`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, url, tt.auth, tt.body)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("got %d %s, want %d with %s", status, body, tt.status, tt.want)
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Errorf("body is not JSON: %v", err)
			}
		})
	}

	fake.Faults.SetRetryAfter(time.Second)
	fake.Faults.Set(fakeapi.RateLimited, 1)
	code, h, body := exportertest.RawGet(t, url+"/api/v2/query", nil)
	if code != 429 || h.Get("Retry-After") != "1" || !strings.Contains(body, "600 requests per hour") {
		t.Errorf("rate limited: %d %v %s", code, h, body)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/promslog"
)

// The testdata files are notifications exactly as Alertmanager v0.28.1
// posted them to a webhook receiver, for alerts of this project's rules
// with the labels Prometheus gives them in the docker-compose stack:
//
//   - firing.json: InfluencerTrackingLinkBroken for one creator's link,
//     routed to the critical receiver;
//   - resolved.json: the same alert, resolved;
//   - grouped.json: InfluencerCollectorDown for two collectors, in one
//     group, routed to the default receiver.

// syncBuffer is a log the server writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixedClock returns times a minute apart, starting at 12:00 UTC.
func fixedClock() func() time.Time {
	var mu sync.Mutex
	next := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := next
		next = next.Add(time.Minute)
		return t
	}
}

func newTestServer(t *testing.T, format string) (*httptest.Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	f := promslog.NewFormat()
	if err := f.Set(format); err != nil {
		t.Fatal(err)
	}
	logger := promslog.New(&promslog.Config{Format: f, Writer: logs})
	srv := httptest.NewServer(newReceiver(logger, fixedClock()).handler())
	t.Cleanup(srv.Close)
	return srv, logs
}

func post(t *testing.T, srv *httptest.Server, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(srv.URL+"/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReceiveLogsEachAlert posts Alertmanager's real notifications and
// checks the log: one line per alert, with the fields an on-call person
// reads first.
func TestReceiveLogsEachAlert(t *testing.T) {
	srv, logs := newTestServer(t, "json")
	for _, f := range []string{"firing.json", "resolved.json", "grouped.json"} {
		if code, body := post(t, srv, readTestdata(t, f)); code != http.StatusOK {
			t.Fatalf("%s: status %d: %s", f, code, body)
		}
	}
	var got []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		fields := map[string]string{}
		for k, v := range rec {
			if k != "time" && k != "source" {
				fields[k] = fmt.Sprint(v)
			}
		}
		got = append(got, fields)
	}
	link := map[string]string{
		"level": "INFO", "msg": "alert", "receiver": "oncall-webhook", "alertname": "InfluencerTrackingLinkBroken",
		"severity": "critical", "campaign": "spring-launch", "creator": "chloe", "provider": "shortio",
		"link": "short.gy/chloe-spring", "summary": "A creator's tracking link is broken.",
	}
	collector := func(name string) map[string]string {
		return map[string]string{
			"level": "INFO", "msg": "alert", "receiver": "campaign-team-slack", "status": "firing",
			"alertname": "InfluencerCollectorDown", "severity": "warning", "provider": name, "collector": name,
			"summary": "A collector keeps failing to refresh; its values are frozen.", "since": "2026-12-03T14:42:14Z",
		}
	}
	want := []map[string]string{
		with(link, "status", "firing", "since", "2026-12-03T14:41:59Z"),
		with(link, "status", "resolved", "ended", "2026-12-03T14:42:02Z"),
		collector("tiktok"),
		collector("youtube"),
	}
	if len(got) != len(want) {
		t.Fatalf("%d log lines, want %d:\n%s", len(got), len(want), logs.String())
	}
	for i := range want {
		if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
			t.Errorf("log line %d:\n got %v\nwant %v", i, got[i], want[i])
		}
	}
}

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestReceiveLogfmt checks the line as `docker compose logs` shows it.
func TestReceiveLogfmt(t *testing.T) {
	srv, logs := newTestServer(t, "logfmt")
	if code, body := post(t, srv, readTestdata(t, "firing.json")); code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	want := `level=INFO source=receiver.go:` // then the line number
	rest := ` msg=alert receiver=oncall-webhook status=firing alertname=InfluencerTrackingLinkBroken severity=critical ` +
		`campaign=spring-launch creator=chloe provider=shortio link=short.gy/chloe-spring ` +
		`summary="A creator's tracking link is broken." since=2026-12-03T14:41:59Z` + "\n"
	line := logs.String()
	if !strings.Contains(line, want) || !strings.HasSuffix(line, rest) || strings.Count(line, "\n") != 1 {
		t.Errorf("log:\n%s\nwant one line with %q and ending in %q", line, want, rest)
	}
}

func TestPage(t *testing.T) {
	srv, _ := newTestServer(t, "logfmt")

	code, header, body := get(t, srv.URL+"/")
	if code != http.StatusOK || !strings.Contains(body, "no notification from Alertmanager yet") {
		t.Errorf("empty page: status %d, body:\n%s", code, body)
	}
	if ct := header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q, want plain text", ct)
	}

	for _, f := range []string{"firing.json", "resolved.json", "grouped.json"} {
		if code, body := post(t, srv, readTestdata(t, f)); code != http.StatusOK {
			t.Fatalf("%s: status %d: %s", f, code, body)
		}
	}
	_, _, body = get(t, srv.URL+"/")
	want := `alertlog: the last 3 notifications from Alertmanager (at most 100), newest first.
Each is also logged, one line per alert.

2026-12-03 12:02:00 UTC  campaign-team-slack  FIRING  2 alert(s)  alertname=InfluencerCollectorDown
  FIRING   warning  InfluencerCollectorDown  provider=tiktok collector=tiktok  since 2026-12-03 14:42:14 UTC
      A collector keeps failing to refresh; its values are frozen.
      Collector tiktok has failed every refresh for at least 15 minutes (influencer_collector_up = 0). Its series keep their last good values, so the clicks, codes or posts it collects are not moving on dashboards. The exporter's landing page shows the last error.
      https://github.com/influencer-exporter/influencer_exporter/blob/main/docs/runbooks.md#influencercollectordown
  FIRING   warning  InfluencerCollectorDown  provider=youtube collector=youtube  since 2026-12-03 14:42:14 UTC
      A collector keeps failing to refresh; its values are frozen.
      Collector youtube has failed every refresh for at least 15 minutes (influencer_collector_up = 0). Its series keep their last good values, so the clicks, codes or posts it collects are not moving on dashboards. The exporter's landing page shows the last error.
      https://github.com/influencer-exporter/influencer_exporter/blob/main/docs/runbooks.md#influencercollectordown

2026-12-03 12:01:00 UTC  oncall-webhook  RESOLVED  1 alert(s)  alertname=InfluencerTrackingLinkBroken campaign=spring-launch creator=chloe
  RESOLVED critical InfluencerTrackingLinkBroken  campaign=spring-launch creator=chloe provider=shortio link=short.gy/chloe-spring  ended 2026-12-03 14:42:02 UTC
      A creator's tracking link is broken.
      Tracking link short.gy/chloe-spring (shortio) of creator chloe in campaign spring-launch is broken: the last probe ended with HTTP status 404 (0 means no response at all: DNS, connection, TLS or timeout; 3xx a redirect loop or too many redirects). Everyone who clicks it now lands on an error, and the creator's post keeps sending them.
      https://github.com/influencer-exporter/influencer_exporter/blob/main/docs/runbooks.md#influencertrackinglinkbroken

2026-12-03 12:00:00 UTC  oncall-webhook  FIRING  1 alert(s)  alertname=InfluencerTrackingLinkBroken campaign=spring-launch creator=chloe
  FIRING   critical InfluencerTrackingLinkBroken  campaign=spring-launch creator=chloe provider=shortio link=short.gy/chloe-spring  since 2026-12-03 14:41:59 UTC
      A creator's tracking link is broken.
      Tracking link short.gy/chloe-spring (shortio) of creator chloe in campaign spring-launch is broken: the last probe ended with HTTP status 404 (0 means no response at all: DNS, connection, TLS or timeout; 3xx a redirect loop or too many redirects). Everyone who clicks it now lands on an error, and the creator's post keeps sending them.
      https://github.com/influencer-exporter/influencer_exporter/blob/main/docs/runbooks.md#influencertrackinglinkbroken
`
	if body != want {
		t.Errorf("page:\n%s\nwant:\n%s", body, want)
	}
}

// TestPageKeepsTheLast100 posts 105 notifications: the page lists the last
// 100, newest first.
func TestPageKeepsTheLast100(t *testing.T) {
	srv, _ := newTestServer(t, "logfmt")
	var n notification
	if err := json.Unmarshal(readTestdata(t, "firing.json"), &n); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 105; i++ {
		n.Receiver = fmt.Sprintf("receiver-%d", i)
		b, _ := json.Marshal(n)
		if code, body := post(t, srv, b); code != http.StatusOK {
			t.Fatalf("notification %d: status %d: %s", i, code, body)
		}
	}
	_, _, body := get(t, srv.URL+"/")
	var receivers []string
	for _, line := range strings.Split(body, "\n") {
		if f := strings.Fields(line); len(f) > 3 && strings.HasPrefix(f[3], "receiver-") {
			receivers = append(receivers, f[3])
		}
	}
	if len(receivers) != 100 || receivers[0] != "receiver-105" || receivers[99] != "receiver-6" {
		t.Errorf("page lists %d notifications, first %v, last %v; want 100, from receiver-105 down to receiver-6",
			len(receivers), receivers[:1], receivers[len(receivers)-1:])
	}
}

// TestPageValues checks that a value cannot break the page's lines, and
// that a huge notification keeps a bounded page.
func TestPageValues(t *testing.T) {
	srv, _ := newTestServer(t, "logfmt")
	var n notification
	if err := json.Unmarshal(readTestdata(t, "firing.json"), &n); err != nil {
		t.Fatal(err)
	}
	n.Alerts[0].Labels["creator"] = "chloe\n  FIRING   critical InfluencerFake"
	n.Alerts[0].Annotations["description"] = strings.Repeat("x", 5000)
	a := n.Alerts[0]
	for range maxShown + 9 {
		n.Alerts = append(n.Alerts, a)
	}
	n.TruncatedAlerts = 7
	b, _ := json.Marshal(n)
	if code, body := post(t, srv, b); code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	_, _, body := get(t, srv.URL+"/")
	if strings.Contains(body, "\n  FIRING   critical InfluencerFake") {
		t.Errorf("a label value's newline started a line of its own:\n%s", body)
	}
	if !strings.Contains(body, "creator=chloe   FIRING   critical InfluencerFake") {
		t.Errorf("the label value is not shown on its line:\n%s", body)
	}
	if !strings.Contains(body, "      "+strings.Repeat("x", maxValue)+"...\n") || strings.Contains(body, strings.Repeat("x", maxValue+1)) {
		t.Errorf("the long description is not cut at %d characters", maxValue)
	}
	if got := strings.Count(body, "\n  FIRING "); got != maxShown {
		t.Errorf("page shows %d alerts of the notification, want %d", got, maxShown)
	}
	for _, want := range []string{"  ... and 10 more alert(s), in the log\n", "  ... and 7 alert(s) Alertmanager left out (max_alerts)\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestReceiveRejects(t *testing.T) {
	srv, logs := newTestServer(t, "logfmt")
	for _, tc := range []struct {
		name string
		body []byte
		code int
		want string
	}{
		{"not JSON", []byte("alert!"), http.StatusBadRequest, "not an Alertmanager notification: invalid character"},
		{"not a notification", []byte(`{"text":"hello"}`), http.StatusBadRequest, `status "", want firing or resolved`},
		{"too large", []byte(`{"receiver":"` + strings.Repeat("x", maxBody) + `"}`), http.StatusRequestEntityTooLarge, "notification larger than 4194304 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, srv, tc.body)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Errorf("status %d, body %q; want %d with %q", code, body, tc.code, tc.want)
			}
		})
	}
	if !strings.Contains(logs.String(), `level=WARN`) || !strings.Contains(logs.String(), `msg="notification dropped: larger than the limit; set max_alerts on the webhook" limit_bytes=4194304`) {
		t.Errorf("the dropped notification is not in the log:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "msg=alert") {
		t.Errorf("a rejected body was logged as an alert:\n%s", logs.String())
	}
	_, _, page := get(t, srv.URL+"/")
	if !strings.Contains(page, "no notification from Alertmanager yet") {
		t.Errorf("rejected bodies are on the page:\n%s", page)
	}
}

func TestRoutes(t *testing.T) {
	srv, _ := newTestServer(t, "logfmt")
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/-/healthy", http.StatusOK},
		{http.MethodHead, "/-/healthy", http.StatusOK},
		{http.MethodGet, "/", http.StatusOK},
		{http.MethodGet, "/alerts", http.StatusMethodNotAllowed},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
		{http.MethodGet, "/metrics", http.StatusNotFound},
	} {
		req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.code)
		}
	}
}

// pageAtLog is a log writer that reads the receiver's page each time a
// line is logged, as someone who has just seen the line would.
type pageAtLog struct {
	url   string
	mu    sync.Mutex
	pages []string
}

func (p *pageAtLog) Write(b []byte) (int, error) {
	resp, err := http.Get(p.url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	p.mu.Lock()
	p.pages = append(p.pages, string(page))
	p.mu.Unlock()
	return len(b), nil
}

// TestLoggedNotificationIsOnThePage: when a notification's line is
// logged, the page already shows it.
func TestLoggedNotificationIsOnThePage(t *testing.T) {
	at := &pageAtLog{}
	logger := promslog.New(&promslog.Config{Writer: at})
	srv := httptest.NewServer(newReceiver(logger, fixedClock()).handler())
	t.Cleanup(srv.Close)
	at.url = srv.URL + "/"

	if code, body := post(t, srv, readTestdata(t, "firing.json")); code != http.StatusOK {
		t.Fatalf("posting the notification: %d %s", code, body)
	}
	at.mu.Lock()
	defer at.mu.Unlock()
	if len(at.pages) == 0 {
		t.Fatal("nothing was logged")
	}
	for i, page := range at.pages {
		if !strings.Contains(page, "FIRING  1 alert(s)  alertname=InfluencerTrackingLinkBroken") {
			t.Errorf("log line %d: the page read when it was logged lacks the notification:\n%s", i, page)
		}
	}
}

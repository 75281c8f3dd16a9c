package report

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// secretPath is the part of a webhook URL that authorizes posting.
const secretPath = "/services/T000/B000/XXsecretXX"

// hook is a Slack-compatible webhook on loopback answering each request
// with the next of its answers (the last one repeats).
type hook struct {
	mu      sync.Mutex
	answers []func(http.ResponseWriter, *http.Request)
	texts   []string
	times   []time.Time
	srv     *httptest.Server
}

func newHook(t *testing.T, answers ...func(http.ResponseWriter, *http.Request)) *hook {
	t.Helper()
	h := &hook{answers: answers}
	h.srv = httptest.NewServer(h)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Text string `json:"text"`
	}
	b, _ := io.ReadAll(r.Body)
	if r.URL.Path != secretPath || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &body) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	n := len(h.texts)
	h.texts = append(h.texts, body.Text)
	h.times = append(h.times, time.Now())
	answer := h.answers[min(n, len(h.answers)-1)]
	h.mu.Unlock()
	answer(w, r)
}

func (h *hook) url() string { return h.srv.URL + secretPath }

func (h *hook) requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.texts)
}

func status(code int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		io.WriteString(w, http.StatusText(code))
	}
}

func tooManyRequests(retryAfter string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", retryAfter)
		w.WriteHeader(http.StatusTooManyRequests)
	}
}

// testWebhook posts to u with short waits; logs go to log.
func testWebhook(t *testing.T, u string, log io.Writer) *Webhook {
	t.Helper()
	w, err := NewWebhook(u, 5*time.Second, slog.New(slog.NewTextHandler(log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	w.Attempts, w.Backoff, w.MaxBackoff = 3, 10*time.Millisecond, 50*time.Millisecond
	return w
}

func testState(t *testing.T) *State {
	t.Helper()
	s, err := OpenState(filepath.Join(t.TempDir(), "report-state.json"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var cp = time.Date(2025, 6, 2, 18, 0, 0, 0, time.UTC)

func postOnce(t *testing.T, w *Webhook, s *State) (bool, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return PostOnce(ctx, w, s, "influencer", "spring-launch", cp, "the read", time.Now())
}

func entry(t *testing.T, s *State) (Posted, bool) {
	t.Helper()
	p, ok, err := s.Last("influencer", "spring-launch")
	if err != nil {
		t.Fatal(err)
	}
	return p, ok
}

func TestWebhookPostsOnce(t *testing.T) {
	for _, tc := range []struct {
		name     string
		answers  []func(http.ResponseWriter, *http.Request)
		requests int
	}{
		{"500 then 200", []func(http.ResponseWriter, *http.Request){status(500), status(200)}, 2},
		{"502, 503 then 204", []func(http.ResponseWriter, *http.Request){status(502), status(503), status(204)}, 3},
		{"200 never retried", []func(http.ResponseWriter, *http.Request){status(200), status(500)}, 1},
		{"202 never retried", []func(http.ResponseWriter, *http.Request){status(202), status(500)}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHook(t, tc.answers...)
			w, s := testWebhook(t, h.url(), io.Discard), testState(t)
			posted, err := postOnce(t, w, s)
			if err != nil || !posted {
				t.Fatalf("posted %t, err %v", posted, err)
			}
			if h.requests() != tc.requests {
				t.Errorf("%d requests, want %d", h.requests(), tc.requests)
			}
			if h.texts[0] != "the read" {
				t.Errorf("text %q", h.texts[0])
			}
			if p, ok := entry(t, s); !ok || p.Status != StatusPosted || !p.Checkpoint.Equal(cp) {
				t.Errorf("state %+v (%t)", p, ok)
			}
			// The state file prevents a second post.
			posted, err = postOnce(t, w, s)
			if err != nil || posted || h.requests() != tc.requests {
				t.Errorf("second post: posted %t, err %v, %d requests", posted, err, h.requests())
			}
		})
	}
}

// TestWebhookRetryAfter waits as long as a 429 asks.
func TestWebhookRetryAfter(t *testing.T) {
	h := newHook(t, tooManyRequests("1"), status(200))
	w, s := testWebhook(t, h.url(), io.Discard), testState(t)
	if posted, err := postOnce(t, w, s); err != nil || !posted {
		t.Fatalf("posted %t, err %v", posted, err)
	}
	if h.requests() != 2 {
		t.Fatalf("%d requests, want 2", h.requests())
	}
	if d := h.times[1].Sub(h.times[0]); d < time.Second {
		t.Errorf("retried after %s, before the 1s Retry-After", d)
	}

	h = newHook(t, tooManyRequests("3600"))
	w, s = testWebhook(t, h.url(), io.Discard), testState(t)
	_, err := postOnce(t, w, s)
	if err == nil || !strings.Contains(err.Error(), "asked to retry after 1h0m0s, longer than the 5m0s a post waits") || h.requests() != 1 {
		t.Errorf("err %v after %d requests", err, h.requests())
	}
	if _, ok := entry(t, s); ok {
		t.Error("a post that did not arrive is recorded")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 6, 2, 18, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		"-1":                            0,
		"Mon, 02 Jun 2025 18:00:30 GMT": 30 * time.Second,
		"Mon, 02 Jun 2025 17:00:00 GMT": 0,
		"soon":                          0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestWebhookRejected: a 4xx is final, and the checkpoint stays unposted.
func TestWebhookRejected(t *testing.T) {
	h := newHook(t, status(404), status(200))
	w, s := testWebhook(t, h.url(), io.Discard), testState(t)
	_, err := postOnce(t, w, s)
	if !errors.Is(err, ErrRejected) || h.requests() != 1 {
		t.Fatalf("err %v after %d requests", err, h.requests())
	}
	if _, ok := entry(t, s); ok {
		t.Error("a rejected post is recorded")
	}
	if posted, err := postOnce(t, w, s); err != nil || !posted {
		t.Errorf("next run: posted %t, err %v", posted, err)
	}
}

// TestWebhookUnconfirmed: the webhook got the request and never answered.
// The post may have arrived: it is never sent again.
func TestWebhookUnconfirmed(t *testing.T) {
	release := make(chan struct{})
	h := newHook(t, func(http.ResponseWriter, *http.Request) {
		<-release
	})
	defer close(release)
	log := &exportertest.SyncBuffer{}
	w, s := testWebhook(t, h.url(), log), testState(t)
	w.client.Timeout = 200 * time.Millisecond
	_, err := postOnce(t, w, s)
	if !errors.Is(err, ErrUnconfirmed) || h.requests() != 1 {
		t.Fatalf("err %v after %d requests", err, h.requests())
	}
	if !strings.Contains(err.Error(), "not posted again") {
		t.Errorf("error does not say what happens next: %v", err)
	}
	if p, ok := entry(t, s); !ok || p.Status != StatusUnconfirmed {
		t.Errorf("state %+v (%t)", p, ok)
	}
	if posted, err := postOnce(t, w, s); err != nil || posted || h.requests() != 1 {
		t.Errorf("next run: posted %t, err %v, %d requests", posted, err, h.requests())
	}
}

// TestWebhookRefused: nothing listens; every attempt fails before sending,
// so each is retried, and a later run tries again.
func TestWebhookRefused(t *testing.T) {
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	log := &exportertest.SyncBuffer{}
	w, s := testWebhook(t, "http://"+addr+secretPath, log), testState(t)
	_, err = postOnce(t, w, s)
	if err == nil || errors.Is(err, ErrUnconfirmed) || !strings.Contains(err.Error(), "giving up after 3 attempts") {
		t.Fatalf("err %v", err)
	}
	if strings.Count(log.String(), "webhook post failed, retrying") != 2 {
		t.Errorf("log:\n%s", log)
	}
	if _, ok := entry(t, s); ok {
		t.Error("a post that did not arrive is recorded")
	}
}

// TestWebhookRedacted: the URL's secret path appears in no error and no
// log line.
func TestWebhookRedacted(t *testing.T) {
	h := newHook(t, status(500))
	log := &exportertest.SyncBuffer{}
	w, s := testWebhook(t, h.url(), log), testState(t)
	_, err := postOnce(t, w, s)
	if err == nil {
		t.Fatal("no error")
	}
	addr, _ := freeAddr()
	refused := testWebhook(t, "http://"+addr+secretPath+"?token=XXsecretXX", log)
	_, rerr := postOnce(t, refused, testState(t))
	if _, nerr := NewWebhook("http://[::1"+secretPath, time.Second, slog.Default()); nerr == nil || strings.Contains(nerr.Error(), "XXsecretXX") {
		t.Errorf("bad URL: %v", nerr)
	}
	for _, text := range []string{err.Error(), rerr.Error(), log.String()} {
		if strings.Contains(text, "XXsecretXX") || strings.Contains(text, "services") {
			t.Errorf("the webhook's secret leaked:\n%s", text)
		}
	}
	if !strings.Contains(err.Error(), "webhook "+h.srv.URL+":") {
		t.Errorf("error does not name the webhook's host: %v", err)
	}
}

// TestStateFile: written whole, owner-only, nothing left beside it.
func TestStateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	s, err := OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Posted{
		{Job: "influencer", Campaign: "summer-drop", Checkpoint: cp, Status: StatusPosted, At: cp},
		{Job: "influencer", Campaign: "spring-launch", Checkpoint: cp.Add(-9 * time.Hour), Status: StatusPosted, At: cp},
		{Job: "influencer", Campaign: "spring-launch", Checkpoint: cp, Status: StatusUnconfirmed, At: cp},
	} {
		if err := s.Set(p); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files beside the state: %v", entries)
	}
	b, _ := os.ReadFile(path)
	want := `{
  "posted": [
    {
      "job": "influencer",
      "campaign": "spring-launch",
      "checkpoint": "2025-06-02T18:00:00Z",
      "status": "unconfirmed",
      "at": "2025-06-02T18:00:00Z"
    },
    {
      "job": "influencer",
      "campaign": "summer-drop",
      "checkpoint": "2025-06-02T18:00:00Z",
      "status": "posted",
      "at": "2025-06-02T18:00:00Z"
    }
  ]
}
`
	if string(b) != want {
		t.Errorf("state file:\n%s\nwant:\n%s", b, want)
	}
	for at, want := range map[time.Time]bool{cp.Add(-time.Hour): true, cp: true, cp.Add(time.Hour): false} {
		if done, err := s.Done("influencer", "spring-launch", at); err != nil || done != want {
			t.Errorf("Done(%s) = %t, %v; want %t", at, done, err, want)
		}
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenState(path); err == nil {
		t.Error("a corrupt state file is accepted")
	}
}

// TestCommandWebhook posts the read of the last checkpoint passed, once,
// whatever the number of runs.
func TestCommandWebhook(t *testing.T) {
	url := prometheus(t)
	h := newHook(t, status(200))
	state := filepath.Join(t.TempDir(), "state.json")
	urlFile := filepath.Join(t.TempDir(), "webhook-url")
	if err := os.WriteFile(urlFile, []byte(h.url()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, at := range []string{"2025-06-02T18:30:00Z", "2025-06-02T19:00:00Z", "2025-06-02T18:30:00Z"} {
		out, err := runCLI(t, "--prometheus.url="+url, "--campaign=spring-launch", "--at="+at,
			"--webhook.url-file="+urlFile, "--state.file="+state)
		if err != nil {
			t.Fatal(err)
		}
		if out != "" {
			t.Errorf("a posted read is also written to stdout:\n%s", out)
		}
	}
	if h.requests() != 1 {
		t.Fatalf("%d posts, want 1", h.requests())
	}
	// The read of the 18:00 checkpoint: its window closed at 18:00.
	golden(t, "checkpoint.md", h.texts[0])
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"checkpoint": "2025-06-02T18:00:00Z",
      "status": "posted"`) {
		t.Errorf("state file:\n%s", b)
	}
	if _, err := runCLI(t, "--prometheus.url="+url, "--campaign=spring-launch", "--at=2025-06-02T18:30:00Z",
		"--webhook.url-file="+urlFile, "--webhook.url="+h.url(), "--state.file="+state); err == nil || !strings.Contains(err.Error(), "exclude each other") {
		t.Errorf("both webhook flags: %v", err)
	}
}

package exportertest

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// What provider tests read the same way: the retries of a rate-limited
// refresh, the samples of a large refresh by link, and the fakes behind
// them, on a clock the test moves and over plain HTTP.

// PollAfterRateLimit makes the fake answer the collector's next call with
// 429 and Retry-After: 0, then polls: the refresh must succeed after
// exactly one retry (influencer_api_retries_total). It returns the
// samples.
func PollAfterRateLimit(t testing.TB, env *Env, faults *fakeapi.Faults, collector string) []exporter.Sample {
	t.Helper()
	faults.SetRetryAfter(0)
	faults.Set(fakeapi.RateLimited, 1)
	samples, err := env.Poll(t, collector)
	if err != nil {
		t.Fatalf("poll after a 429: %v", err)
	}
	if got := env.Retries(collector); got != 1 {
		t.Errorf("influencer_api_retries_total = %g, want 1", got)
	}
	return samples
}

// LinkValues returns "creator value" of each sample, keyed by its link
// label: a compact view for checking chosen links of a large refresh.
func LinkValues(samples []exporter.Sample) map[string]string {
	out := make(map[string]string, len(samples))
	for _, s := range samples {
		out[s.Label("link")] = fmt.Sprintf("%s %g", s.Label(exporter.LabelCreator), s.Value)
	}
	return out
}

// ManualClock is a clock that moves only when the test says, for fakes
// whose click counts grow with time. It is safe for concurrent use: pass
// its Now to the fake.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock standing at start.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{now: start} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// RawGet sends GET url with the given headers, without following
// redirects, and returns the status code, the response headers and the
// body as text: for tests of a fake's wire format.
func RawGet(t testing.TB, url string, header map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
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

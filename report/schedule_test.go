package report

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// steppingClock returns its times one call after the other, then the last
// one again and again.
type steppingClock struct {
	mu    sync.Mutex
	times []time.Time
	calls int
}

func (c *steppingClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.times[min(c.calls, len(c.times)-1)]
	c.calls++
	return t
}

func (c *steppingClock) polls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

func clockAt(times ...string) *steppingClock {
	c := &steppingClock{}
	for _, s := range times {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		c.times = append(c.times, t)
	}
	return c
}

// runScheduler runs s until cond holds and a few more polls have passed
// (so that a second write would be seen), then stops it as SIGINT does.
func runScheduler(t *testing.T, s *Scheduler, clock *steppingClock, cond func() bool) {
	t.Helper()
	s.now = clock.now
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(time.Minute) // bounds a broken run only
	for !cond() {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("scheduler returned early: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatal("gave up waiting for the scheduler")
		}
	}
	for n := clock.polls() + 3; clock.polls() < n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("scheduler stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("scheduler did not stop")
	}
}

func scheduler(t *testing.T, out *Output, log io.Writer) *Scheduler {
	t.Helper()
	r, err := NewReader(prometheus(t), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(log, nil))
	if out.Logger == nil {
		out.Logger = logger
	}
	return &Scheduler{Reader: r, Campaign: "spring-launch", Interval: 5 * time.Millisecond, Output: out, Logger: logger}
}

// TestScheduleWrites: started at 17:30, the scheduler writes nothing until
// Prometheus sees the 18:00 checkpoint, then the read of the window that
// closed at it, once.
func TestScheduleWrites(t *testing.T) {
	out := &exportertest.SyncBuffer{}
	s := scheduler(t, &Output{Writer: out, Format: "markdown", Location: time.UTC}, io.Discard)
	clock := clockAt("2025-06-02T17:30:00Z", "2025-06-02T17:40:00Z", "2025-06-02T17:50:00Z",
		"2025-06-02T18:00:00Z", "2025-06-02T18:00:20Z", "2025-06-02T18:01:00Z", "2025-06-02T18:10:00Z")
	runScheduler(t, s, clock, func() bool { return out.String() != "" })
	golden(t, "checkpoint.md", out.String())
}

// TestScheduleWebhook: the scheduler posts the last checkpoint's read at
// its start when the state file has no record of it, retries a failed
// post at the next poll, and never posts it twice, across restarts.
func TestScheduleWebhook(t *testing.T) {
	h := newHook(t, status(503), status(200))
	log := &exportertest.SyncBuffer{}
	w := testWebhook(t, h.url(), log)
	w.Attempts = 1 // the first post fails; the next poll tries again
	out := &exportertest.SyncBuffer{}
	o := &Output{Writer: out, Location: time.UTC, Webhook: w, State: testState(t)}
	s := scheduler(t, o, log)
	runScheduler(t, s, clockAt("2025-06-02T18:10:00Z"), func() bool { return strings.Contains(log.String(), "checkpoint read posted") })
	if h.requests() != 2 {
		t.Errorf("%d requests, want 2 (a 503, then the post)", h.requests())
	}
	if !strings.Contains(log.String(), "checkpoint read failed; retrying at the next poll") {
		t.Errorf("log:\n%s", log)
	}
	golden(t, "checkpoint.md", h.texts[1])
	if out.String() != "" {
		t.Errorf("a posted read is also written:\n%s", out)
	}

	// Restarted on the same state file: nothing to post.
	s = scheduler(t, o, log)
	runScheduler(t, s, clockAt("2025-06-02T18:20:00Z"), func() bool { return true })
	if h.requests() != 2 {
		t.Errorf("%d requests after a restart, want 2", h.requests())
	}
	if strings.Contains(log.String(), "XXsecretXX") {
		t.Errorf("the webhook's secret is in the log:\n%s", log)
	}
}

// TestScheduleStart: what is wrong at the start ends the command.
func TestScheduleStart(t *testing.T) {
	for _, tc := range []struct {
		campaign string
		is       error
	}{
		{"autumn", ErrUnknownCampaign},
		{"summer-drop", ErrNoCheckpoint},
	} {
		s := scheduler(t, &Output{Writer: io.Discard, Location: time.UTC}, io.Discard)
		s.Campaign = tc.campaign
		s.now = clockAt("2025-06-02T12:00:00Z").now
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := s.Run(ctx)
		cancel()
		if !errors.Is(err, tc.is) {
			t.Errorf("%s: %v, want %v", tc.campaign, err, tc.is)
		}
	}
}

package exporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func clicks(v float64, link string) Sample {
	return LinkClicks.Sample(v, "spring", "alice", "fake", link)
}

func newTestInstance(name string) (*Instance, *testCollector) {
	c := &testCollector{}
	return &Instance{Name: name, Type: "fake", Interval: time.Minute, Collector: c}, c
}

func TestRefreshKeepsLastGoodValues(t *testing.T) {
	cache := NewCache()
	s := &Scheduler{Cache: cache, Now: func() time.Time { return time.Unix(1700000000, 0) }}
	inst, col := newTestInstance("fake")

	col.set([]Sample{clicks(10, "fk.io/a")}, nil)
	s.Refresh(context.Background(), inst)

	col.set(nil, &APIError{Method: "GET", URL: "http://fk/x", StatusCode: 503, kind: ErrServer})
	s.Now = func() time.Time { return time.Unix(1700000060, 0) }
	s.Refresh(context.Background(), inst)

	want := `
# HELP influencer_collector_last_success_timestamp_seconds Unix time of the collector's last successful refresh.
# TYPE influencer_collector_last_success_timestamp_seconds gauge
influencer_collector_last_success_timestamp_seconds{collector="fake"} 1.7e+09
# HELP influencer_collector_up Whether the collector's last refresh succeeded (1) or failed (0); on failure its last good values are still exported.
# TYPE influencer_collector_up gauge
influencer_collector_up{collector="fake"} 0
# HELP influencer_link_clicks_total Clicks on a creator's tracking link, as the link shortener reports its lifetime total.
# TYPE influencer_link_clicks_total counter
influencer_link_clicks_total{campaign="spring",creator="alice",link="fk.io/a",provider="fake"} 10
`
	if err := testutil.CollectAndCompare(cache, strings.NewReader(want),
		"influencer_collector_up", "influencer_collector_last_success_timestamp_seconds", "influencer_link_clicks_total"); err != nil {
		t.Error(err)
	}
	st := cache.Status()
	if len(st) != 1 || st[0].LastError != "GET http://fk/x: HTTP 503" || st[0].Up {
		t.Errorf("status = %+v", st)
	}
}

func TestRefreshPartialStaysUp(t *testing.T) {
	cache := NewCache()
	s := &Scheduler{Cache: cache}
	inst, col := newTestInstance("fake")
	col.set([]Sample{clicks(3, "fk.io/b")}, Partial([]error{errors.New(`fake: link "fk.io/gone": not found`)}))
	s.Refresh(context.Background(), inst)
	st := cache.Status()[0]
	if !st.Up || st.Series != 1 || !strings.Contains(st.LastError, "fk.io/gone") {
		t.Errorf("status = %+v", st)
	}
}

// The observer sees successful refreshes only, with their collector, at the
// time each returned.
func TestRefreshObserver(t *testing.T) {
	var got []time.Time
	now := time.Unix(1700000000, 0)
	s := &Scheduler{Cache: NewCache(), Now: func() time.Time { now = now.Add(time.Second); return now }}
	inst, col := newTestInstance("fake")
	s.Observer = func(name string, c Collector, at time.Time, fresh, current []Sample) {
		if name != "fake" || c != inst.Collector || len(fresh) != 1 || len(current) != 1 {
			t.Errorf("observed %s (%T): %d fresh, %d current samples", name, c, len(fresh), len(current))
		}
		got = append(got, at)
	}
	col.set([]Sample{clicks(1, "fk.io/a")}, nil)
	s.Refresh(context.Background(), inst)
	col.set(nil, errors.New("fake: down"))
	s.Refresh(context.Background(), inst)
	if want := []time.Time{time.Unix(1700000002, 0)}; !slices.Equal(got, want) {
		t.Errorf("observed at %v, want %v (the end of the successful refresh)", got, want)
	}
}

type panicCollector struct{}

func (panicCollector) Poll(context.Context) ([]Sample, error) { panic("mapping bug") }

func TestRefreshRecoversPanic(t *testing.T) {
	cache := NewCache()
	s := &Scheduler{Cache: cache}
	s.Refresh(context.Background(), &Instance{Name: "p", Type: "fake", Interval: time.Minute, Collector: panicCollector{}})
	st := cache.Status()[0]
	if st.Up || !strings.Contains(st.LastError, "panic during refresh: mapping bug") {
		t.Errorf("status = %+v", st)
	}
}

func TestRefreshDropsInvalidSamplesOnly(t *testing.T) {
	cache := NewCache()
	s := &Scheduler{Cache: cache}
	inst, col := newTestInstance("fake")
	col.set([]Sample{
		clicks(1, "fk.io/a"),
		LinkClicks.Sample(2, "too", "few"),
		clicks(5, "fk.io/a"), // duplicate series
		clicks(7, "fk.io/c"),
	}, nil)
	s.Refresh(context.Background(), inst)
	if got := testutil.CollectAndCount(cache, "influencer_link_clicks_total"); got != 2 {
		t.Errorf("series = %d, want 2", got)
	}
	if st := cache.Status()[0]; !st.Up {
		t.Errorf("collector down after invalid samples: %+v", st)
	}
}

// A scrape reads snapshots only: with every collector blocked inside Poll, a
// gather still returns the cached values at once.
func TestScrapeDoesNotWaitOnHangingCollectors(t *testing.T) {
	cache := NewCache()
	s := &Scheduler{Cache: cache, MaxConcurrent: 2}
	var insts []*Instance
	var cols []*testCollector
	for _, name := range []string{"a", "b", "c"} {
		inst, col := newTestInstance(name)
		col.set([]Sample{LinkClicks.Sample(1, "spring", name, "fake", "fk.io/"+name)}, nil)
		s.Refresh(context.Background(), inst)
		col.block = make(chan struct{})
		insts, cols = append(insts, inst), append(cols, col)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, insts) }()
	defer func() { cancel(); <-done }()

	// Wait until the collectors are really stuck in Poll.
	for _, c := range cols {
		c.waitPolls(1)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(cache)
	if got, err := testutil.GatherAndCount(reg, "influencer_link_clicks_total"); err != nil || got != 3 {
		t.Errorf("gather = %d, %v; want 3 cached series", got, err)
	}
}

// startRunner loads file into a new runner registered with a pedantic
// registry, and stops the runner when the test ends.
func startRunner(t *testing.T, file string) (*Runner, *prometheus.Registry) {
	t.Helper()
	r := NewRunner(file, nil)
	reg := prometheus.NewPedanticRegistry()
	if err := r.Register(reg); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r, reg
}

func TestRunnerReloadKeepsConfigOnError(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.yml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("collectors:\n  - type: fake\n    name: reload-a\n")
	r, _ := startRunner(t, file)
	if got := testutil.ToFloat64(r.reloadOK); got != 1 {
		t.Errorf("reload successful = %g", got)
	}
	first := r.Config()

	write("collectors:\n  - type: fake\n    name: reload-a\n    interval: 1s\n")
	err := r.Reload()
	if err == nil || !strings.Contains(err.Error(), "interval: 1s is below the minimum") {
		t.Fatalf("bad reload error = %v", err)
	}
	if r.Config() != first {
		t.Error("a failed reload replaced the running config")
	}
	if got := testutil.ToFloat64(r.reloadOK); got != 0 {
		t.Errorf("reload successful = %g, want 0", got)
	}
	if ts := testutil.ToFloat64(r.reloadTime); ts <= 0 {
		t.Errorf("last success timestamp = %g", ts)
	}

	write("collectors:\n  - type: fake\n    name: reload-b\n")
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if r.Config() == first || r.Config().Collectors[0].Name != "reload-b" {
		t.Error("good reload did not apply")
	}
	if got := testutil.ToFloat64(r.reloadOK); got != 1 {
		t.Errorf("reload successful = %g", got)
	}
}

func compareSamples(samples []Sample, want string) error {
	return testutil.CollectAndCompare(SamplesCollector(samples), strings.NewReader(want))
}

// TestRefreshRedactsWhatCollectorsReturn: whatever a collector quotes of a
// provider's answer, its error, the reasons of objects it could not read
// and the partial error reach the landing page and the log without the
// collector's secret, and errors.Is still sees the kind.
func TestRefreshRedactsWhatCollectorsReturn(t *testing.T) {
	const token = "sk_live_51QqWERTYsecretKEY9876"
	var logs bytes.Buffer
	cache := NewCache()
	s := &Scheduler{Cache: cache, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	inst, col := newTestInstance("shop")
	inst.Redact = NewClient(ClientOptions{Collector: "shop", Token: token}).Redact

	col.set(nil, fmt.Errorf("shop answered object %q, not a list: %w", token+"list", ErrUnauthorized))
	s.Refresh(context.Background(), inst)
	st := cache.Status()[0]
	if strings.Contains(st.LastError, "9876") || !strings.Contains(st.LastError, "<secret>") {
		t.Errorf("last error %q shows the secret", st.LastError)
	}

	link := Object{Kind: KindLink, Campaign: "spring", Creator: "alice", ID: "fk.io/a"}
	col.set([]Sample{clicks(1, "fk.io/b")}, Partial([]error{Missing(link, fmt.Errorf("not found on domain sk_l****9876.example: %w", ErrNotFound))}))
	s.Refresh(context.Background(), inst)
	gaps := cache.Status()[0].Gaps
	if len(gaps) == 0 {
		t.Fatal("the missing link is not listed")
	}
	for _, g := range gaps {
		if strings.Contains(g.Reason, "9876") {
			t.Errorf("coverage reason %q shows the secret", g.Reason)
		}
	}
	if strings.Contains(logs.String(), "9876") || strings.Contains(logs.String(), "QqWERTY") {
		t.Errorf("the log shows the secret:\n%s", logs.String())
	}
}

package exporter

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// threadPriority is the calling thread's scheduling policy and nice value.
func threadPriority(t *testing.T) (policy uint32, nice int) {
	t.Helper()
	tid := unix.Gettid()
	p, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if err != nil {
		t.Fatal(err)
	}
	attr, err := unix.SchedGetAttr(tid, 0)
	if err != nil {
		t.Fatal(err)
	}
	return attr.Policy, 20 - p
}

func TestInBackgroundLowersOnlyTheRefreshThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// A nice value keeps the caller's policy, SCHED_NORMAL or
	// SCHED_BATCH.
	policy, nice := threadPriority(t)
	for _, tc := range []struct {
		p          RefreshPriority
		wantPolicy uint32
		wantNice   int
	}{
		{RefreshPriority{}, policy, nice},
		{RefreshPriority{Nice: 3}, policy, min(nice+3, 19)},
		{RefreshPriority{Nice: DefaultRefreshNice}, policy, min(nice+DefaultRefreshNice, 19)},
		{RefreshPriority{Nice: 40}, policy, 19},
		{RefreshPriority{Idle: true}, unix.SCHED_IDLE, nice},
	} {
		var (
			gotPolicy    uint32
			gotNice, tid int
			ran          bool
		)
		err := inBackground(tc.p, func() {
			ran = true
			gotPolicy, gotNice = threadPriority(t)
			tid = unix.Gettid()
		})
		if err != nil {
			t.Errorf("%s: %v", tc.p, err)
		}
		if !ran {
			t.Fatalf("%s: f did not run", tc.p)
		}
		if gotPolicy != tc.wantPolicy || gotNice != tc.wantNice {
			t.Errorf("%s: the refresh ran under policy %d at nice %d, want policy %d at nice %d", tc.p, gotPolicy, gotNice, tc.wantPolicy, tc.wantNice)
		}
		if tc.p.lowers() && tid == unix.Gettid() {
			t.Errorf("%s: the refresh ran on the caller's thread", tc.p)
		}
		if p, n := threadPriority(t); p != policy || n != nice {
			t.Fatalf("%s: the caller's thread is under policy %d at nice %d after the refresh, was %d at %d", tc.p, p, n, policy, nice)
		}
	}
}

// TestInBackgroundNoThreadKeepsTheIdlePolicy: goroutines that run after
// refreshes under SCHED_IDLE never find themselves on one of their
// threads, which exit with them.
func TestInBackgroundNoThreadKeepsTheIdlePolicy(t *testing.T) {
	for range 20 {
		if err := inBackground(RefreshPriority{Idle: true}, func() {}); err != nil {
			t.Fatal(err)
		}
	}
	const workers = 64
	idle := make(chan bool, workers)
	for range workers {
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			attr, err := unix.SchedGetAttr(unix.Gettid(), 0)
			idle <- err == nil && attr.Policy == unix.SCHED_IDLE
		}()
	}
	for range workers {
		if <-idle {
			t.Fatal("a goroutine ran on a thread left under SCHED_IDLE by a refresh")
		}
	}
}

// TestSchedulerWarnsOnceWhenThePriorityCannotBeLowered: a refresh whose
// priority cannot be lowered (a seccomp profile may refuse
// sched_setattr) still runs and stores its values, and the log says so
// once, not at every refresh.
func TestSchedulerWarnsOnceWhenThePriorityCannotBeLowered(t *testing.T) {
	refused := errors.New("operation not permitted")
	lowerThread = func(RefreshPriority) error { return refused }
	t.Cleanup(func() { lowerThread = lowerThreadPriority })

	// Read only once Run has returned: no lock needed.
	var logs bytes.Buffer
	cache := NewCache()
	s := &Scheduler{
		Cache:    cache,
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
		Priority: RefreshPriority{Idle: true},
	}
	inst, col := newTestInstance("fake")
	inst.Interval = MinInterval
	col.set([]Sample{clicks(10, "fk.io/a")}, nil)
	// Refreshes start an interval apart: a clock that jumps an interval
	// at each reading makes them back to back.
	var (
		mu  sync.Mutex
		now = time.Unix(1700000000, 0)
	)
	s.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(MinInterval)
		return now
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, []*Instance{inst}) }()
	col.waitPolls(3)
	cancel()
	<-done

	if got := strings.Count(logs.String(), "cannot lower it"); got != 1 {
		t.Errorf("the warning was logged %d times, want once; log:\n%s", got, logs.String())
	}
	for _, want := range []string{"level=WARN", "priority=SCHED_IDLE", "operation not permitted"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, logs.String())
		}
	}
	if st := cache.Status(); len(st) != 1 || !st[0].Up || len(cache.samplesOf("fake")) != 1 {
		t.Errorf("status %+v, samples %v: the refreshes must run anyway", st, cache.samplesOf("fake"))
	}
}

// TestInBackgroundAddsAProcessor: while lowered refreshes run, the Go
// runtime has a processor more for each, so the ones their waiting
// threads hold are not taken from the scrapes; after the last,
// GOMAXPROCS is what it was. A GOMAXPROCS below the CPUs is left alone.
func TestInBackgroundAddsAProcessor(t *testing.T) {
	// One processor a CPU, as by default, whatever -cpu or GOMAXPROCS
	// the test binary was given.
	was := runtime.GOMAXPROCS(runtime.NumCPU())
	t.Cleanup(func() { runtime.GOMAXPROCS(was) })
	base := runtime.NumCPU()
	lowered := RefreshPriority{Nice: DefaultRefreshNice}
	procsIn := func(p RefreshPriority) int {
		t.Helper()
		var n int
		if err := inBackground(p, func() { n = runtime.GOMAXPROCS(0) }); err != nil {
			t.Fatal(err)
		}
		return n
	}

	if got := procsIn(RefreshPriority{}); got != base {
		t.Errorf("a refresh at the exporter's priority ran with GOMAXPROCS %d, want %d", got, base)
	}
	if got := procsIn(lowered); got != base+1 {
		t.Errorf("a lowered refresh ran with GOMAXPROCS %d, want %d", got, base+1)
	}
	if got := runtime.GOMAXPROCS(0); got != base {
		t.Errorf("GOMAXPROCS is %d after the refresh, want %d back", got, base)
	}

	// Two at once: one each, up to as many as there were.
	first, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- inBackground(lowered, func() { close(first); <-release })
	}()
	<-first
	if got, want := procsIn(lowered), base+min(2, base); got != want {
		t.Errorf("with two lowered refreshes running, GOMAXPROCS was %d, want %d", got, want)
	}
	if got := runtime.GOMAXPROCS(0); got != base+1 {
		t.Errorf("with one lowered refresh left, GOMAXPROCS is %d, want %d", got, base+1)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != base {
		t.Errorf("GOMAXPROCS is %d after both refreshes, want %d back", got, base)
	}

	// Set by the environment, the value is set back as it was.
	t.Setenv("GOMAXPROCS", strconv.Itoa(base))
	if got := procsIn(lowered); got != base+1 {
		t.Errorf("a lowered refresh ran with GOMAXPROCS %d, want %d", got, base+1)
	}
	if got := runtime.GOMAXPROCS(0); got != base {
		t.Errorf("GOMAXPROCS is %d after the refresh, want %d back", got, base)
	}

	// Below the CPUs (an operator's choice), nothing is added.
	if runtime.NumCPU() > 1 {
		runtime.GOMAXPROCS(1)
		if got := procsIn(lowered); got != 1 {
			t.Errorf("with GOMAXPROCS 1 of %d CPUs, a lowered refresh ran with %d, want 1", runtime.NumCPU(), got)
		}
		if got := runtime.GOMAXPROCS(0); got != 1 {
			t.Errorf("GOMAXPROCS is %d after the refresh, want 1 kept", got)
		}
	}
}

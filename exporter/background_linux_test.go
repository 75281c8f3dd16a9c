package exporter

import (
	"runtime"
	"syscall"
	"testing"
)

// threadNice is the calling thread's nice value.
func threadNice(t *testing.T) int {
	t.Helper()
	p, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	return 20 - p
}

func TestInBackgroundLowersOnlyTheRefreshThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := threadNice(t)
	for _, n := range []int{0, 3, DefaultRefreshNice, 40} {
		var inside, tid int
		ran := false
		inBackground(n, func() {
			ran = true
			inside, tid = threadNice(t), syscall.Gettid()
		})
		if !ran {
			t.Fatalf("nice %d: f did not run", n)
		}
		if want := min(before+n, 19); inside != want {
			t.Errorf("nice %d: the refresh ran at nice %d, want %d", n, inside, want)
		}
		if n > 0 && tid == syscall.Gettid() {
			t.Errorf("nice %d: the refresh ran on the caller's thread", n)
		}
		if got := threadNice(t); got != before {
			t.Fatalf("nice %d: the caller's thread is at nice %d after the refresh, was %d", n, got, before)
		}
	}
}

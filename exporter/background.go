package exporter

import (
	"fmt"
	"runtime"
)

// RefreshPriority is the scheduling priority of a refresh's thread
// (--refresh.scheduling-policy, --refresh.nice). The zero value leaves
// refreshes at the process's priority.
type RefreshPriority struct {
	// Idle runs refreshes under Linux's SCHED_IDLE policy: a refresh
	// runs only on a CPU that no other thread of the process (of its
	// cgroup, or of the machine when it has none) wants, and a scrape
	// that wakes up takes the CPU from it at once.
	Idle bool
	// Nice, when Idle is false, runs refreshes this many nice steps
	// below the process, up to 19. A lower nice value shares the CPU
	// by weight: a waking scrape may wait for the refresh's time slice
	// to end.
	Nice int
}

// DefaultRefreshNice is the nice steps of --refresh.nice by default. On a
// machine of two cores scraped back to back, the scrapes' p99 while a
// 300,000-series refresh ran was 1.5x idle at the scrapes' priority,
// 1.3-1.5x ten nice steps lower and 1.2-1.3x under SCHED_IDLE. SCHED_IDLE
// is not the default: where other work keeps the CPUs busy its thread
// starves, and holds one of the Go runtime's processors while it waits,
// so the runtime's stop-the-world pauses wait with it (BENCHMARKS.md).
const DefaultRefreshNice = 10

// lowers reports whether p runs refreshes below the process.
func (p RefreshPriority) lowers() bool { return p.Idle || p.Nice > 0 }

func (p RefreshPriority) String() string {
	switch {
	case p.Idle:
		return "SCHED_IDLE"
	case p.Nice > 0:
		return fmt.Sprintf("%d nice steps below the exporter", p.Nice)
	}
	return "the exporter's"
}

// lowerThread is lowerThreadPriority; tests make it fail.
var lowerThread = lowerThreadPriority

// inBackground runs f, a refresh, on an OS thread of its own at priority
// p (Linux; elsewhere f just runs). When the CPUs are busy, a scrape then
// goes before the decoding and rendering of a refresh, which only delay a
// snapshot that replaces one of an interval ago; on idle CPUs a refresh
// runs at full speed.
//
// Only f's own goroutine is lowered: goroutines it starts, the HTTP
// transport's and the garbage collector's run at the process's priority.
// The thread is not given back: it ends with the goroutine, so no other
// goroutine ever runs at its priority (and a thread under SCHED_IDLE may
// not be allowed back). When the priority cannot be set, f runs anyway
// and the error is returned after it.
func inBackground(p RefreshPriority, f func()) error {
	if !p.lowers() || !canLowerThreadPriority {
		f()
		return nil
	}
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		// No UnlockOSThread: the thread exits with the goroutine.
		err = lowerThread(p)
		f()
	}()
	<-done
	return err
}

package exporter

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
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
// machine of two cores scraped back to back, before refreshes waited for
// scrapes (scrapes), the scrapes' p99 while a 300,000-series refresh ran
// was 1.5x idle at the scrapes' priority, 1.3-1.7x ten nice steps lower,
// 1.3-1.4x nineteen steps lower and 1.2-1.3x under SCHED_IDLE. Neither
// of the last two is the default: where other work keeps the CPUs busy,
// a refresh at 19 steps gets 1.4% of a core from each busy process and
// takes minutes, and a thread under SCHED_IDLE starves, holding one of
// the Go runtime's processors while it waits, so the runtime's
// stop-the-world pauses wait with it (BENCHMARKS.md).
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

// LowerThreadPriority lowers the calling thread's priority to p, as a
// refresh's thread is lowered; the caller locks its goroutine to the
// thread first (runtime.LockOSThread). Where threads cannot be lowered
// it does nothing.
func LowerThreadPriority(p RefreshPriority) error { return lowerThreadPriority(p) }

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
// not be allowed back). While f runs, the Go runtime has a processor more
// (spareProcs), so the one f's thread holds is not taken from the
// scrapes. When the priority cannot be set, f runs anyway and the error
// is returned after it.
func inBackground(p RefreshPriority, f func()) error {
	if !p.lowers() || !canLowerThreadPriority {
		f()
		return nil
	}
	var err error
	done := make(chan struct{})
	spareProcs.add()
	defer spareProcs.remove()
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

// spareProcs gives the Go runtime a processor more for each lowered
// refresh running. The runtime runs goroutines on GOMAXPROCS processors
// (one a CPU by default), and a lowered refresh's thread holds one while
// the kernel makes it wait behind the scrapes' threads. A scrape's
// goroutine gives its processor up during a long system call (the writes
// of its body), and in traces of scrapes during a refresh it then waited,
// runnable, for a processor that sat with the refresh's waiting thread.
// With one more, the other goroutines keep as many processors as between
// refreshes; the kernel still decides, by priority, which thread runs.
var spareProcs procBudget

// procBudget is the processors added for lowered refreshes.
type procBudget struct {
	mu      sync.Mutex
	lowered int // lowered refreshes running
	base    int // GOMAXPROCS before the first of them; 0 when none were added
}

// add counts a lowered refresh in. A processor is added only while the
// runtime has one for every CPU the process may run on: the process
// then has no more CPUs to run on at once than before, so a CPU limit (a
// CFS quota) is not overrun because of it, and a GOMAXPROCS set below the
// CPUs is kept. At most as many are added as there were.
func (b *procBudget) add() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lowered == 0 {
		b.base = 0
		if n := runtime.GOMAXPROCS(0); n >= runtime.NumCPU() {
			b.base = n
		}
	}
	b.lowered++
	if b.base > 0 && b.lowered <= b.base {
		runtime.GOMAXPROCS(b.base + b.lowered)
	}
}

// remove counts a lowered refresh out. When the last ends, GOMAXPROCS
// goes back to the value the GOMAXPROCS environment variable set, or
// else to the runtime's default, which the runtime then keeps following
// as the CPU limit changes.
func (b *procBudget) remove() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lowered--
	switch {
	case b.base == 0 || b.lowered >= b.base:
	case b.lowered > 0:
		runtime.GOMAXPROCS(b.base + b.lowered)
	case setByEnvironment():
		runtime.GOMAXPROCS(b.base)
	default:
		runtime.SetDefaultGOMAXPROCS()
	}
}

// setByEnvironment reports whether the GOMAXPROCS environment variable
// set the runtime's processors: a positive number.
func setByEnvironment() bool {
	n, err := strconv.Atoi(os.Getenv("GOMAXPROCS"))
	return err == nil && n > 0
}

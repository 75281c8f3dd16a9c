package exporter

import "runtime"

// DefaultRefreshNice is how much lower than the exporter's a refresh's
// scheduling priority is by default (--refresh.nice).
const DefaultRefreshNice = 10

// inBackground runs f, a refresh, on an OS thread of its own whose
// scheduling priority is nice steps below the process's (Linux; elsewhere
// f just runs). When the CPUs are busy, a scrape then goes before the
// decoding and rendering of a refresh, which only delay a snapshot that
// replaces one of an interval ago; on idle CPUs a refresh runs at full
// speed. On a machine of two cores scraped back to back, a refresh at the
// scrapes' priority put their p99 at 1.5x idle while it ran (see
// BENCHMARKS.md).
//
// Only f's own goroutine is lowered: goroutines it starts, the HTTP
// transport's and the garbage collector's run at the process's priority.
// The thread is not given back: it ends with the goroutine, so no other
// goroutine ever runs at its priority.
func inBackground(nice int, f func()) {
	if nice <= 0 || !canLowerThreadPriority {
		f()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		// No UnlockOSThread: the thread exits with the goroutine.
		lowerThreadPriority(nice)
		f()
	}()
	<-done
}

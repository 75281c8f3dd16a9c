package exporter

import (
	"errors"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkWakeBesideRefresh measures what a lowered refresh costs a
// scrape in the kernel's scheduler, without the exporter: a thread that
// stands for a refresh (one always busy, lowered by inBackground, as the
// scheduler lowers a refresh) and one that stands for the threads serving
// scrapes share one CPU. The serving thread works 1 ms, sleeps 0.2 ms and
// records how late it woke up, once an iteration: busy most of the time,
// as the serving threads are when a scrape client takes the other core.
// The wake-up p99 is what a scrape can wait for the CPU a refresh holds.
//
//	go test -run '^$' -bench WakeBesideRefresh -benchtime 8000x ./exporter
func BenchmarkWakeBesideRefresh(b *testing.B) {
	for _, bc := range []struct {
		name string
		p    RefreshPriority
	}{
		{"alone", RefreshPriority{}},
		{"nice=0", RefreshPriority{}},
		{"nice=10", RefreshPriority{Nice: 10}},
		{"nice=19", RefreshPriority{Nice: 19}},
		{"idle", RefreshPriority{Idle: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var stop atomic.Bool
			busy := make(chan error, 1)
			if bc.name != "alone" {
				started := make(chan struct{})
				go func() {
					var pinErr error
					err := inBackground(bc.p, func() {
						// Locked here too for a refresh at the
						// exporter's priority, which runs on
						// the caller's goroutine: its pinned
						// thread ends with the goroutine.
						runtime.LockOSThread()
						pinErr = pinToFirstCPU()
						close(started)
						for pinErr == nil && !stop.Load() {
						}
					})
					busy <- errors.Join(err, pinErr)
				}()
				<-started
			} else {
				busy <- nil
			}
			late := make([]time.Duration, 0, b.N)
			measured := make(chan error, 1)
			b.ResetTimer()
			// On a goroutine of its own, whose pinned thread ends with
			// it: no other goroutine inherits the affinity.
			go func() {
				runtime.LockOSThread()
				if err := pinToFirstCPU(); err != nil {
					measured <- err
					return
				}
				for range b.N {
					for start := time.Now(); time.Since(start) < time.Millisecond; {
					}
					asleep := time.Now()
					_ = unix.Nanosleep(&unix.Timespec{Nsec: int64(200 * time.Microsecond)}, nil)
					late = append(late, time.Since(asleep)-200*time.Microsecond)
				}
				measured <- nil
			}()
			err := <-measured
			b.StopTimer()
			stop.Store(true)
			if err != nil {
				b.Fatal(err)
			}
			if err := <-busy; err != nil {
				b.Fatal(err)
			}
			slices.Sort(late)
			q := func(p float64) float64 {
				return float64(late[min(len(late)-1, int(p*float64(len(late))))]) / float64(time.Millisecond)
			}
			b.ReportMetric(q(0.5), "p50-wake-ms")
			b.ReportMetric(q(0.99), "p99-wake-ms")
		})
	}
}

// pinToFirstCPU keeps the calling thread on the first CPU the process may
// run on. The caller has locked its goroutine to the thread, which must
// end with it.
func pinToFirstCPU() error {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return err
	}
	for cpu := 0; cpu < 1024; cpu++ {
		if set.IsSet(cpu) {
			set.Zero()
			set.Set(cpu)
			return unix.SchedSetaffinity(0, &set)
		}
	}
	return nil
}

package exporter

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// A SampleRecycler makes the sample arrays of a collector's snapshots and
// takes each back once nothing refers to it any more, for a later refresh
// of about the same size. At 300,000 series a snapshot's array is about
// 12 MB; made anew on every refresh, it was the largest part of what a
// refresh left to the garbage collector, whose cycles then started while
// scrapes were being served.
//
// Who still reads an old snapshot is not tracked here, and need not be: a
// scrape in the protobuf format, the landing page, another collector's
// render looking for duplicate series, the early-curve fit and the
// per-post fees each keep the slice for as long as they need it. The
// garbage collector knows when the last of them is done: an array comes
// back through a finalizer, which runs only after a collection found that
// nothing refers to any part of it (a slice of a few of its samples keeps
// it as a whole). An array handed out again is one that no reader can see.
//
// An array comes back at the earliest one collection after the snapshot
// that replaced it is stored, so a collector refreshing at an interval of
// seconds or more reuses the array of two refreshes before. Until it is
// taken, a spare array is cleared, so that it keeps no label value alive,
// and counts as live memory.
type SampleRecycler struct {
	mu    sync.Mutex
	max   int
	spare [][]Sample // cleared, of length 0

	made, reused atomic.Uint64
}

// NewSampleRecycler returns a recycler that keeps up to max spare arrays
// (the number of arrays one refresh makes); more come back to the garbage
// collector.
func NewSampleRecycler(max int) *SampleRecycler {
	return &SampleRecycler{max: max}
}

// Make returns an empty slice with room for n samples: a spare array of
// capacity n to n+n/4 if there is one, else a new array. Its array comes
// back to r once nothing refers to it. The caller may append beyond n; an
// array append makes is not recycled. A nil recycler makes every array
// and takes none back.
func (r *SampleRecycler) Make(n int) []Sample {
	if n <= 0 {
		return nil
	}
	if r == nil {
		return make([]Sample, 0, n)
	}
	s := r.take(n)
	if s == nil {
		s = make([]Sample, 0, n)
		r.made.Add(1)
	} else {
		r.reused.Add(1)
	}
	c := cap(s)
	// The finalizer holds the array's capacity, not the array: a
	// reference to it would keep it alive for ever.
	runtime.SetFinalizer(&s[:1][0], func(first *Sample) { r.put(unsafe.Slice(first, c)) })
	return s
}

// take returns the spare array that fits n best, or nil.
func (r *SampleRecycler) take(n int) []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	best := -1
	for i, s := range r.spare {
		if c := cap(s); c >= n && c <= n+n/4 && (best < 0 || c < cap(r.spare[best])) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	s := r.spare[best]
	r.spare[best] = r.spare[len(r.spare)-1]
	r.spare[len(r.spare)-1] = nil
	r.spare = r.spare[:len(r.spare)-1]
	return s
}

// put is the finalizer of an array nothing refers to: the array is
// cleared and kept, unless r keeps max arrays already; then the one with
// the least room goes.
func (r *SampleRecycler) put(s []Sample) {
	clear(s)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.spare) < r.max {
		r.spare = append(r.spare, s[:0])
		return
	}
	least := -1
	for i, k := range r.spare {
		if cap(k) < cap(s) && (least < 0 || cap(k) < cap(r.spare[least])) {
			least = i
		}
	}
	if least >= 0 {
		r.spare[least] = s[:0]
	}
}

// Counts returns how many arrays r made and how many it handed out
// again.
func (r *SampleRecycler) Counts() (made, reused uint64) {
	return r.made.Load(), r.reused.Load()
}

// Spares returns how many spare arrays r keeps.
func (r *SampleRecycler) Spares() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.spare)
}

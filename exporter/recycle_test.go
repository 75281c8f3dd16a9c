package exporter

import (
	"runtime"
	"strconv"
	"testing"
	"time"
	"unsafe"
)

// collectUntil runs the garbage collector until cond holds: finalizers
// run on a goroutine of their own, some time after the collection that
// found their objects.
func collectUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		runtime.GC()
		if cond() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%s: not after 500 collections", what)
}

// base returns the address of the array of s, as a number: a pointer
// would keep the array alive.
func base(s []Sample) uintptr { return uintptr(unsafe.Pointer(&s[:1][0])) }

func fillSamples(s []Sample, n int) []Sample {
	for i := range n {
		s = append(s, LinkClicks.Sample(float64(i), "c", "cr", "p", "l"+strconv.Itoa(i)))
	}
	return s
}

func TestSampleRecyclerReusesAnArrayNothingRefersTo(t *testing.T) {
	r := NewSampleRecycler(1)
	s := fillSamples(r.Make(100), 100)
	first := base(s)
	s = nil
	collectUntil(t, "the array back", func() bool { return r.Spares() == 1 })

	again := r.Make(90)
	if base(again) != first {
		t.Fatal("Make(90) made a new array; want the spare one, of capacity 100")
	}
	if len(again) != 0 || cap(again) != 100 {
		t.Fatalf("len %d cap %d, want 0 and 100", len(again), cap(again))
	}
	for i, smp := range again[:cap(again)] {
		if smp.Metric != nil || smp.LabelValues != nil || smp.Value != 0 {
			t.Fatalf("sample %d of the reused array is %+v, want it cleared", i, smp)
		}
	}
	if made, reused := r.Counts(); made != 1 || reused != 1 {
		t.Errorf("made %d, reused %d; want 1 and 1", made, reused)
	}
}

// TestSampleRecyclerNeverHandsOutAHeldArray keeps a few samples of an old
// snapshot, as a slow reader would, through many collections and refreshes
// of the same size: their array is never handed out again and they never
// change. Once the reader lets go, the array comes back.
func TestSampleRecyclerNeverHandsOutAHeldArray(t *testing.T) {
	r := NewSampleRecycler(2)
	s := fillSamples(r.Make(64), 64)
	held := s[10:12]
	first := base(s)
	s = nil

	for round := range 20 {
		runtime.GC()
		time.Sleep(time.Millisecond)
		next := r.Make(64)
		if base(next) == first {
			t.Fatalf("round %d: the array of held samples was handed out again", round)
		}
		_ = fillSamples(next, 64)
	}
	for i, smp := range held {
		if want := float64(10 + i); smp.Value != want || smp.Label("link") != "l"+strconv.Itoa(10+i) {
			t.Fatalf("held sample %d is %v %v, want %v l%d", i, smp.LabelValues, smp.Value, want, 10+i)
		}
	}
	runtime.KeepAlive(held)
	held = nil

	var reused bool
	collectUntil(t, "the array back once let go", func() bool {
		next := r.Make(64)
		reused = base(next) == first
		_ = fillSamples(next, 64)
		return reused
	})
}

func TestSampleRecyclerSizes(t *testing.T) {
	r := NewSampleRecycler(2)
	a, b, c := r.Make(100), r.Make(200), r.Make(400)
	_, _, _ = fillSamples(a, 1), fillSamples(b, 1), fillSamples(c, 1)
	a, b, c = nil, nil, nil
	// Three arrays come back to a recycler that keeps two: the two
	// largest stay.
	var caps []int
	collectUntil(t, "arrays back", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		caps = caps[:0]
		for _, s := range r.spare {
			caps = append(caps, cap(s))
		}
		return len(caps) == 2 && caps[0]+caps[1] == 600
	})

	// What Make returns is kept to the end: an array let go could come
	// back in a collection the runtime starts on its own.
	var kept [][]Sample
	for _, tc := range []struct {
		n, wantCap int
		why        string
	}{
		{500, 500, "larger than any spare: a new array"},
		{120, 120, "200 is more than a quarter over: a new array"},
		{170, 200, "the spare of 200, within a quarter over"},
		{400, 400, "the spare of 400"},
		{160, 160, "no spare left: a new array"},
	} {
		got := r.Make(tc.n)
		if cap(got) != tc.wantCap {
			t.Errorf("Make(%d): cap %d, want %d (%s)", tc.n, cap(got), tc.wantCap, tc.why)
		}
		kept = append(kept, got)
	}
	if r.Spares() != 0 {
		t.Errorf("%d spares left, want 0", r.Spares())
	}
	if got := r.Make(0); got != nil {
		t.Errorf("Make(0) = %v, want nil", got)
	}
	if made, reused := r.Counts(); made != 6 || reused != 2 {
		t.Errorf("made %d, reused %d; want 6 and 2", made, reused)
	}
	runtime.KeepAlive(kept)
}

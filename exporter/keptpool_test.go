package exporter

import (
	"runtime"
	"testing"
)

// TestKeptPoolSurvivesCollections checks that a keptPool gives back what
// was put in it after garbage collections (a sync.Pool would have
// dropped it), and keeps no more than its max.
func TestKeptPoolSurvivesCollections(t *testing.T) {
	made := 0
	p := keptPool[*[]byte]{max: 2, new: func() *[]byte {
		made++
		b := make([]byte, 0, 1<<20)
		return &b
	}}
	a, b, c := p.get(), p.get(), p.get()
	if made != 3 {
		t.Fatalf("made %d values for three gets from an empty pool, want 3", made)
	}
	p.put(a)
	p.put(b)
	p.put(c) // beyond max: left to the collector
	runtime.GC()
	runtime.GC()
	got := map[*[]byte]bool{p.get(): true, p.get(): true}
	if !got[a] || !got[b] || made != 3 {
		t.Errorf("after two collections the pool gave back %v, made %d in all; want the two kept (%p, %p) and no new one", got, made, a, b)
	}
	if p.get(); made != 4 {
		t.Errorf("a third get after the two kept made %d in all, want 4: the value put beyond max was not kept", made)
	}
}

// TestSegmentWritersKeptAcrossCollections checks that a render after a
// garbage collection reuses the last render's compressor and buffer
// instead of making them again.
func TestSegmentWritersKeptAcrossCollections(t *testing.T) {
	texts := [][]byte{[]byte("# TYPE a counter\na 1\n"), []byte("# TYPE b gauge\nb 2\n")}
	deflateSegments(texts)
	runtime.GC()
	runtime.GC()
	allocs := testing.AllocsPerRun(10, func() {
		deflateSegments(texts)
		runtime.GC()
	})
	// The segments' one allocation, their slice and the writer's
	// struct; a compressor made again is 15 allocations more, and its
	// buffer more again.
	if allocs > 10 {
		t.Errorf("%v allocations a render after a collection, want at most 10", allocs)
	}
	t.Logf("%v allocations a render after a collection", allocs)
}

package exporter

import (
	"sort"
	"sync"
)

// Rotation remembers, across refreshes, when each of a collector's objects
// was last read, so that a refresh cut short by its deadline reads first,
// next time, the objects it did not reach: every object's value advances
// even when no single refresh can read them all. The link probe orders its
// rounds the same way, so the links a late round leaves out are never the
// same ones twice in a row.
type Rotation struct {
	mu   sync.Mutex
	seq  uint64
	last map[string]uint64 // key -> sequence number of its last read
}

// NewRotation returns an empty rotation.
func NewRotation() *Rotation { return &Rotation{last: map[string]uint64{}} }

// Rotate returns items ordered least recently read first (never read
// first of all), keeping the given order among equals, and forgets keys
// no longer among items.
func Rotate[T any](r *Rotation, items []T, key func(T) string) []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last = map[string]uint64{}
	}
	keep := make(map[string]uint64, len(items))
	seqs := make([]uint64, len(items))
	for i, it := range items {
		k := key(it)
		seqs[i] = r.last[k]
		keep[k] = r.last[k]
	}
	r.last = keep
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return seqs[idx[a]] < seqs[idx[b]] })
	out := make([]T, len(items))
	for i, j := range idx {
		out[i] = items[j]
	}
	return out
}

// Done records that the object was read now.
func (r *Rotation) Done(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last = map[string]uint64{}
	}
	r.seq++
	r.last[key] = r.seq
}

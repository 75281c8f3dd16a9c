package exporter

import "sync"

// A scratch keeps a slice that a refresh builds and throws away (a table
// of objects, the order of a render) for the next refresh of the same
// collector: at hundreds of thousands of series each was megabytes of
// garbage a refresh, enough to start garbage collector cycles while
// scrapes were served. Nothing outside the refresh ever sees the slice.
// A nil scratch keeps nothing.
type scratch[T any] struct {
	mu sync.Mutex
	s  []T
}

// take returns a zeroed slice of length n: the one kept, if it has room,
// else a new one. It is the caller's alone until it is kept again.
func (k *scratch[T]) take(n int) []T {
	if k == nil {
		return make([]T, n)
	}
	k.mu.Lock()
	s := k.s
	k.s = nil
	k.mu.Unlock()
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// keep keeps s for the next take.
func (k *scratch[T]) keep(s []T) {
	if k == nil {
		return
	}
	k.mu.Lock()
	k.s = s
	k.mu.Unlock()
}

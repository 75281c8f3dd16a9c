// Package fakeapi holds what every fake provider API shares: switchable
// faults, token checks, JSON replies and click counts that grow with time.
// Each provider's fake (fakes/<provider>) speaks that provider's own paths,
// auth header, JSON shapes and error bodies on top of it. Tests and the
// sandbox campaign use the same fakes.
package fakeapi

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Kind is a fault a fake can be switched to.
type Kind int

// Faults.
const (
	None Kind = iota
	// ServerError answers 500 with the provider's error body.
	ServerError
	// RateLimited answers 429 with Retry-After and the provider's body.
	RateLimited
	// Slow delays every answer by Delay.
	Slow
	// Malformed answers 200 with a truncated JSON body.
	Malformed
	// Hang holds the request until the client gives up.
	Hang
)

// ErrorWriter writes a provider's own error responses.
type ErrorWriter interface {
	// WriteError writes status with the provider's error body for it.
	WriteError(w http.ResponseWriter, status int)
}

// Faults switches a fake between healthy and failing. The zero value is
// healthy. It is safe for concurrent use.
type Faults struct {
	mu         sync.Mutex
	kind       Kind
	remaining  int // requests left to fail; <0 forever
	retryAfter time.Duration
	delay      time.Duration
	hits       int
}

// Set makes the next n requests fail with k (n < 0: until Set again).
func (f *Faults) Set(k Kind, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kind, f.remaining = k, n
}

// SetRetryAfter sets the Retry-After a RateLimited fault sends.
func (f *Faults) SetRetryAfter(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.retryAfter = d
}

// SetDelay sets how long a Slow fault waits.
func (f *Faults) SetDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = d
}

// Hits returns how many requests the fake received.
func (f *Faults) Hits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

func (f *Faults) next() (Kind, time.Duration, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hits++
	if f.kind == None || f.remaining == 0 {
		return None, 0, 0
	}
	if f.remaining > 0 {
		f.remaining--
	}
	return f.kind, f.retryAfter, f.delay
}

// Wrap applies the current fault before next handles a request.
func (f *Faults) Wrap(next http.Handler, ew ErrorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind, retryAfter, delay := f.next()
		switch kind {
		case ServerError:
			ew.WriteError(w, http.StatusInternalServerError)
			return
		case RateLimited:
			secs := int(math.Ceil(retryAfter.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			ew.WriteError(w, http.StatusTooManyRequests)
			return
		case Malformed:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"links": [{"id": "trunc`))
			return
		case Hang:
			// net/http notices a client hanging up only once the request
			// body is read; a POST (GraphQL, batch) would hang forever.
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
			return
		case Slow:
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// WriteJSON writes v as a JSON response with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Growth is a click count that grows linearly from Start: Base clicks at
// Start, then PerMinute more every minute.
type Growth struct {
	Base      int64
	PerMinute float64
}

// At returns the count at now, for a fake started at start.
func (g Growth) At(start, now time.Time) int64 {
	m := now.Sub(start).Minutes()
	if m < 0 {
		m = 0
	}
	return g.Base + int64(g.PerMinute*m)
}

// Clock returns the time; fakes take one so tests get exact counts.
type Clock func() time.Time

// Now returns the clock's time, or the wall clock when c is nil.
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Now()
	}
	return c()
}

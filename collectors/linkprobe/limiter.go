package linkprobe

import (
	"context"
	"sync"
	"time"
)

// hostLimiter spaces requests to one host at least interval apart. Each
// caller reserves the host's next free slot, then waits for it, so
// concurrent probes of one host queue up instead of racing.
type hostLimiter struct {
	interval time.Duration
	// now and sleep are the clock; tests replace them to check the
	// spacing without waiting.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mu   sync.Mutex
	next map[string]time.Time // host -> earliest time of its next request
}

func newHostLimiter(interval time.Duration) *hostLimiter {
	return &hostLimiter{interval: interval, now: time.Now, sleep: sleepCtx, next: map[string]time.Time{}}
}

// wait blocks until host may be requested, or ctx ends.
func (l *hostLimiter) wait(ctx context.Context, host string) error {
	if l.interval <= 0 {
		return ctx.Err()
	}
	l.mu.Lock()
	now := l.now()
	at := l.next[host]
	if at.Before(now) {
		at = now
	}
	l.next[host] = at.Add(l.interval)
	l.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		return l.sleep(ctx, d)
	}
	return ctx.Err()
}

// prune forgets hosts whose slot has passed, so the map does not grow with
// every host ever probed.
func (l *hostLimiter) prune() {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for h, at := range l.next {
		if at.Before(now) {
			delete(l.next, h)
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

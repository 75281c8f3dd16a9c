package exporter

import (
	"context"
	"errors"
	"sync"
)

// Parallel calls fn(ctx, i) for each i from 0 to n-1, with at most limit
// calls under way at once, and returns as a loop calling them one after
// another would: the error of the lowest i whose call failed, every call
// before it run to its end. Calls start in order of i. Once call i failed,
// no call after i starts and those after i still under way have their
// context canceled; those before i go on, and if one of them fails, its
// error is the one returned. With limit 1 (or less) it is that loop, on
// ctx itself.
//
// fn must be safe to call from several goroutines. Each call's API
// requests still wait for the client's rate limiter and any quota pause,
// are retried and honour Retry-After, and end with ctx: concurrency
// overlaps the providers' latency, it never sends faster than the rate
// limit. A panic in fn is raised again in the caller, where the scheduler
// turns it into a failed refresh.
func Parallel(ctx context.Context, limit, n int, fn func(ctx context.Context, i int) error) error {
	if limit <= 1 || n <= 1 {
		for i := range n {
			if err := fn(ctx, i); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		mu       sync.Mutex
		next     int                            // the next index to start
		failed   = n                            // the lowest index that failed
		err      error                          // its error
		running  = map[int]context.CancelFunc{} // calls under way
		panicked any
		wg       sync.WaitGroup
	)
	// take returns the next index to start and its context, or false
	// when every index started or one before it failed.
	take := func() (int, context.Context, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next >= n || next > failed || panicked != nil {
			return 0, nil, false
		}
		i := next
		next++
		cctx, cancel := context.WithCancel(ctx)
		running[i] = cancel
		return i, cctx, true
	}
	finish := func(i int, e error, p any) {
		mu.Lock()
		defer mu.Unlock()
		running[i]()
		delete(running, i)
		if p != nil && panicked == nil {
			panicked = p
			for _, cancel := range running {
				cancel()
			}
			return
		}
		if e == nil || i > failed {
			return
		}
		failed, err = i, e
		for j, cancel := range running {
			if j > i {
				cancel()
			}
		}
	}
	call := func(i int, cctx context.Context) {
		done := false
		defer func() {
			if !done {
				// A panic; recover is nil for runtime.Goexit, which
				// must not pass for success either.
				p := recover()
				if p == nil {
					p = "runtime.Goexit in a call of exporter.Parallel"
				}
				finish(i, nil, p)
			}
		}()
		e := fn(cctx, i)
		done = true
		finish(i, e, nil)
	}
	for range min(limit, n) {
		wg.Go(func() {
			for {
				i, cctx, ok := take()
				if !ok {
					return
				}
				call(i, cctx)
			}
		})
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
	return err
}

// MaxConcurrentRequests is how many calls of one refresh the collector may
// have under way at once (http.max_concurrent_requests; 1 for a client
// built without it): the limit to give Parallel.
func (c *Client) MaxConcurrentRequests() int { return max(1, c.cfg.MaxConcurrentRequests) }

// Parallel is Parallel with the client's max_concurrent_requests as the
// limit.
func (c *Client) Parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	return Parallel(ctx, c.MaxConcurrentRequests(), n, fn)
}

// ReadTargetsConcurrently is ReadTargets with up to limit reads under way
// at once (see Parallel), started least recently read first. Given the
// same answers, its report is the one ReadTargets makes reading the links
// one after another: the same links exported, skipped and deferred, in
// the same order, and the same error failing the refresh. A refresh its
// deadline cuts short defers the links not read by then, as ReadTargets
// does; reading limit links at once, it defers fewer. read gets the
// context of its own call, which ends with ctx, or earlier when a read
// before it failed the refresh.
func (r *LinkReport) ReadTargetsConcurrently(ctx context.Context, limit int, rot *Rotation, targets []LinkTarget, costly func(LinkTarget) bool, read func(context.Context, LinkTarget) (LinkRead, error)) error {
	type result struct {
		got LinkRead
		err error
	}
	order := Rotate(rot, targets, LinkTarget.Key)
	results := make([]*result, len(order))
	// The reads, concurrently. One whose error fails the refresh stops
	// the others after it; ReadTargets below meets it first.
	_ = Parallel(ctx, limit, len(order), func(ctx context.Context, i int) error {
		t := order[i]
		if costly(t) && OutOfTime(ctx) {
			return nil // deferred below
		}
		got, err := read(ctx, t)
		results[i] = &result{got, err}
		var skip *skipLinkError
		if err != nil && !errors.Is(err, ErrNotFound) && !errors.As(err, &skip) && !OutOfTime(ctx) {
			return err
		}
		return nil
	})
	// Then the report, in order, by ReadTargets itself: a link read above
	// takes its result, one not read is read now unless the refresh is
	// out of time. (A key twice among targets is one link, read the
	// same.)
	byKey := make(map[string]*result, len(order))
	for i, t := range order {
		if res := results[i]; res != nil {
			byKey[t.Key()] = res
		}
	}
	return r.ReadTargets(ctx, rot, targets,
		func(t LinkTarget) bool { return byKey[t.Key()] == nil },
		func(t LinkTarget) (LinkRead, error) {
			if res := byKey[t.Key()]; res != nil {
				return res.got, res.err
			}
			return read(ctx, t)
		})
}

// ReadEach calls read for each i from 0 to n-1, at most limit at once
// (see Parallel), for objects read independently of one another, and
// reports which calls read their object. Once ctx is out of time (see
// OutOfTime) no call starts, and a call that fails then leaves its
// object unread: the refresh exports the others and skips those. Any
// other failure fails the refresh: it stops the calls after it and is
// returned, the error of the lowest i that failed so, as a loop making
// the calls one after another would return it.
func ReadEach(ctx context.Context, limit, n int, read func(ctx context.Context, i int) error) (done []bool, err error) {
	done = make([]bool, n)
	err = Parallel(ctx, limit, n, func(cctx context.Context, i int) error {
		if OutOfTime(ctx) {
			return nil
		}
		if err := read(cctx, i); err != nil {
			if OutOfTime(ctx) {
				return nil
			}
			return err
		}
		done[i] = true
		return nil
	})
	return done, err
}

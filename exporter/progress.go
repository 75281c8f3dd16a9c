package exporter

import (
	"context"
	"time"
)

type progressKey struct{}

// Progress exports the samples of a refresh still under way, replacing the
// collector's snapshot at once, as a complete snapshot would. A collector
// whose refresh is spread over its interval (the link probe paces its
// round) calls it as results arrive, so a scrape sees a broken link within
// seconds of its probe rather than at the end of the round. samples must be
// everything the collector exports, as Poll would return it. Outside a
// scheduled refresh it does nothing.
//
// It returns how long storing the samples took (checking, rendering and
// compressing them; 0 outside a refresh). A collector should leave at
// least ProgressCost times that between two reports, so that a large
// snapshot reported often never keeps a core busy rendering.
func Progress(ctx context.Context, samples []Sample) time.Duration {
	if f, ok := ctx.Value(progressKey{}).(func([]Sample)); ok {
		start := time.Now()
		f(samples)
		return time.Since(start)
	}
	return 0
}

// ProgressCost is how many times the time Progress took to leave before
// the next report: rendering progress takes at most a tenth of a core.
const ProgressCost = 10

func withProgress(ctx context.Context, f func([]Sample)) context.Context {
	return context.WithValue(ctx, progressKey{}, f)
}

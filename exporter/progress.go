package exporter

import "context"

type progressKey struct{}

// Progress exports the samples of a refresh still under way, replacing the
// collector's snapshot at once, as a complete snapshot would. A collector
// whose refresh is spread over its interval (the link probe paces its
// round) calls it as results arrive, so a scrape sees a broken link within
// seconds of its probe rather than at the end of the round. samples must be
// everything the collector exports, as Poll would return it. Outside a
// scheduled refresh it does nothing.
func Progress(ctx context.Context, samples []Sample) {
	if f, ok := ctx.Value(progressKey{}).(func([]Sample)); ok {
		f(samples)
	}
}

func withProgress(ctx context.Context, f func([]Sample)) context.Context {
	return context.WithValue(ctx, progressKey{}, f)
}

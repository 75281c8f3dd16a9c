package main

import (
	"math/rand/v2"
	"slices"
	"time"
)

// The p99 ratio of one run is one draw: a refresh's window holds a
// garbage collector cycle or not, and the scrapes it slows come in
// clusters. How far another run of the same code may land is estimated by
// resampling the run's own blocks (a block bootstrap): the refreshes'
// windows with their scrapes, and the idle gaps between them with theirs,
// each drawn with replacement as many times as there are, and the ratio of
// the two p99s taken again.

const (
	// intervalRounds is how many resampled runs the interval is taken
	// from.
	intervalRounds = 1000
	// intervalSeed makes the interval of a report the same each time it
	// is worked out.
	intervalSeed = 16
)

// ratioInterval returns the 5th and 95th percentiles of the p99 ratio of
// the scrapes during refreshes to the idle ones over resampled runs:
// during holds each refresh window's scrapes, idle each idle gap's. Both
// are zero when either has fewer than two blocks.
func ratioInterval(idle, during [][]time.Duration) (lo, hi float64) {
	// An empty block (the gap after the last refresh, which the run
	// ends in) is no part of the run to draw.
	idle, during = nonEmpty(idle), nonEmpty(during)
	if len(idle) < 2 || len(during) < 2 {
		return 0, 0
	}
	rng := rand.New(rand.NewPCG(intervalSeed, 0))
	ratios := make([]float64, 0, intervalRounds)
	var a, b []time.Duration
	for range intervalRounds {
		a, b = resample(rng, during, a[:0]), resample(rng, idle, b[:0])
		slices.Sort(a)
		slices.Sort(b)
		ratios = append(ratios, ratio(ms(quantile(a, 0.99)), ms(quantile(b, 0.99))))
	}
	slices.Sort(ratios)
	return quantile(ratios, 0.05), quantile(ratios, 0.95)
}

// nonEmpty returns the blocks that hold a scrape.
func nonEmpty(blocks [][]time.Duration) [][]time.Duration {
	return slices.DeleteFunc(slices.Clone(blocks), func(b []time.Duration) bool { return len(b) == 0 })
}

// resample appends to out the scrapes of len(blocks) blocks drawn with
// replacement.
func resample(rng *rand.Rand, blocks [][]time.Duration, out []time.Duration) []time.Duration {
	for range blocks {
		out = append(out, blocks[rng.IntN(len(blocks))]...)
	}
	return out
}

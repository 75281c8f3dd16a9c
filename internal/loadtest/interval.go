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
	if countBlocks(idle) < 2 || countBlocks(during) < 2 {
		return 0, 0
	}
	rng := rand.New(rand.NewPCG(intervalSeed, 0))
	ratios := make([]float64, 0, intervalRounds)
	var a, b []time.Duration
	for range intervalRounds {
		a, b = resample(rng, during, a[:0]), resample(rng, idle, b[:0])
		if len(a) == 0 || len(b) == 0 {
			continue
		}
		slices.Sort(a)
		slices.Sort(b)
		ratios = append(ratios, ratio(ms(quantile(a, 0.99)), ms(quantile(b, 0.99))))
	}
	if len(ratios) == 0 {
		return 0, 0
	}
	slices.Sort(ratios)
	return quantile(ratios, 0.05), quantile(ratios, 0.95)
}

// countBlocks returns how many of blocks hold a scrape.
func countBlocks(blocks [][]time.Duration) int {
	n := 0
	for _, b := range blocks {
		if len(b) > 0 {
			n++
		}
	}
	return n
}

// resample appends to out the scrapes of len(blocks) blocks drawn with
// replacement.
func resample(rng *rand.Rand, blocks [][]time.Duration, out []time.Duration) []time.Duration {
	for range blocks {
		out = append(out, blocks[rng.IntN(len(blocks))]...)
	}
	return out
}

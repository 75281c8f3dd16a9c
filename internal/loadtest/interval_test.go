package main

import (
	"testing"
	"time"
)

func blocks(n, each int, d time.Duration) [][]time.Duration {
	out := make([][]time.Duration, n)
	for i := range out {
		for range each {
			out[i] = append(out[i], d)
		}
	}
	return out
}

func TestRatioInterval(t *testing.T) {
	idle := blocks(10, 200, time.Millisecond)

	// Every refresh alike: every resampled run gives the run's ratio.
	even := blocks(10, 100, 2*time.Millisecond)
	if lo, hi := ratioInterval(idle, even); lo != 2 || hi != 2 {
		t.Errorf("identical refreshes: interval %g-%g, want 2-2", lo, hi)
	}

	// One refresh of ten held every slow scrape (a garbage collector
	// cycle in its window): the run's p99 is 10 ms, 10x, but a run
	// without that refresh, which about a third of the resampled runs
	// are, gives 1x.
	during := blocks(10, 100, time.Millisecond)
	for i := range 30 {
		during[3][i] = 10 * time.Millisecond
	}
	lo, hi := ratioInterval(idle, during)
	if lo != 1 || hi != 10 {
		t.Errorf("one slow refresh of ten: interval %g-%g, want 1-10", lo, hi)
	}
	if again, _ := ratioInterval(idle, during); again != lo {
		t.Errorf("the interval changed from one working out to the next: %g, then %g", lo, again)
	}

	// Too few blocks to resample.
	if lo, hi := ratioInterval(idle, during[:1]); lo != 0 || hi != 0 {
		t.Errorf("one refresh: interval %g-%g, want none", lo, hi)
	}
	if lo, hi := ratioInterval(nil, during); lo != 0 || hi != 0 {
		t.Errorf("no idle scrapes: interval %g-%g, want none", lo, hi)
	}
	// An empty block (the gap the run ends in) is not a block to draw:
	// one refresh and an empty gap are still too few.
	if lo, hi := ratioInterval(append(idle, nil), [][]time.Duration{during[3], nil}); lo != 0 || hi != 0 {
		t.Errorf("one refresh and an empty block: interval %g-%g, want none", lo, hi)
	}
}

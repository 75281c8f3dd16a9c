package exportertest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// What the link shorteners' tests check of a refresh whose time runs out:
// the links it read advance, the others keep their values, show as
// skipped and stay published for the probe, and the next refresh reads
// them first.

// LinkResume is one case of a shortener's resume test, run by
// Env.CheckLinkResume. The fake's links are numbered: IDs[i] is link i.
type LinkResume struct {
	// Collector is the collector's name.
	Collector string
	Cut       *Cutoff
	Clock     *ManualClock
	// IDs are the links of the fake, by number.
	IDs []string
	// Creator returns the creator of campaign spring that link i is
	// reported for, configured or found by tag; "" for a link the
	// collector is not asked for.
	Creator func(i int) string
	// Clicks returns the clicks the fake reports for link i, minutes
	// after its start.
	Clicks func(i, minutes int) float64
	// Reason is text each skipped link's reason carries, besides
	// ErrOutOfTime's.
	Reason string
	// Calls1 and Calls2 are the calls answered before the time runs out
	// in refreshes 1 and 2 (-1: it does not run out).
	Calls1, Calls2 int
	// Skipped1 and Skipped2 are the links (by number) refreshes 1 and 2
	// leave unread.
	Skipped1, Skipped2 []int
	// BeforeRefresh2, if set, changes the fake before refresh 2.
	BeforeRefresh2 func()
}

// CheckLinkResume runs three refreshes of r.Collector, with the fake's
// clock at minutes 10 (where it must be on entry), 20 and 30:
//
//   - refresh 0, through the scheduler, reads every link;
//   - refresh 1, through the scheduler, runs out of time after r.Calls1
//     calls: the links it read show their clicks of minute 20, those in
//     r.Skipped1 keep those of minute 10 and are the collector's only
//     gaps, skipped for lack of time (reason: r.Reason), and
//     influencer_collector_objects counts them so; every link stays
//     published for the probe;
//   - refresh 2, polled directly, runs out of time after r.Calls2 calls:
//     it returns a skipped object error for each link in r.Skipped2 (and
//     no other error), and the clicks of minute 30 for each other link; no
//     link is left unread by both refreshes.
func (e *Env) CheckLinkResume(t testing.TB, r LinkResume) {
	t.Helper()
	var covered []int
	for i := range r.IDs {
		if r.Creator(i) != "" {
			covered = append(covered, i)
		}
	}
	key := func(i int) string { return fmt.Sprintf("skipped link spring/%s/%s", r.Creator(i), r.IDs[i]) }
	cache := exporter.NewCache()

	// Refresh 0, at minute 10, reads every link.
	e.RefreshWithin(t, cache, r.Collector, r.Cut, -1)
	if got := CachedValues(t, cache, exporter.LinkClicks, "link"); len(got) != len(covered) {
		t.Fatalf("refresh 0 exported %d links, want %d", len(got), len(covered))
	}

	// Refresh 1, at minute 20, through the scheduler: the links it did
	// not reach keep their values of minute 10.
	r.Clock.Advance(10 * time.Minute)
	e.RefreshWithin(t, cache, r.Collector, r.Cut, r.Calls1)
	got := CachedValues(t, cache, exporter.LinkClicks, "link")
	var wantGaps []string
	for _, i := range covered {
		want := r.Clicks(i, 20)
		if slices.Contains(r.Skipped1, i) {
			want = r.Clicks(i, 10)
			wantGaps = append(wantGaps, key(i))
		}
		if id := r.IDs[i]; got[id] != want {
			t.Errorf("refresh 1: %s = %g, want %g", id, got[id], want)
		}
	}
	slices.Sort(wantGaps)
	gaps, reasons := GapKeys(t, cache, r.Collector)
	if !slices.Equal(gaps, wantGaps) {
		t.Errorf("refresh 1 gaps:\n got %q\nwant %q", gaps, wantGaps)
	}
	for _, g := range gaps {
		if !strings.Contains(reasons[g], r.Reason) || !strings.Contains(reasons[g], exporter.ErrOutOfTime.Error()) {
			t.Errorf("reason of %s: %q", g, reasons[g])
		}
	}
	n, skipped := float64(len(covered)), float64(len(r.Skipped1))
	if got, want := CollectorObjects(t, cache, r.Collector), map[string]float64{"link exported": n - skipped, "link missing": 0, "link skipped": skipped}; !maps.Equal(got, want) {
		t.Errorf("refresh 1: influencer_collector_objects = %v, want %v", got, want)
	}
	if pub := e.Links.All(); len(pub) != len(covered) {
		t.Errorf("refresh 1 published %d links for the probe, want all %d", len(pub), len(covered))
	}

	// Refresh 2, at minute 30, polled directly: it reads first what
	// refresh 1 left, and reports what it leaves.
	r.Clock.Advance(10 * time.Minute)
	if r.BeforeRefresh2 != nil {
		r.BeforeRefresh2()
	}
	samples, err := e.PollWithin(t, r.Collector, r.Cut, r.Calls2)
	var wantKeys []string
	for _, i := range r.Skipped2 {
		wantKeys = append(wantKeys, key(i))
	}
	slices.Sort(wantKeys)
	if wantKeys == nil {
		if err != nil {
			t.Fatalf("refresh 2: %v", err)
		}
	} else if keys, rest := ObjectKeys(t, err); !slices.Equal(keys, wantKeys) || rest != nil || !errors.Is(err, exporter.ErrOutOfTime) {
		t.Errorf("refresh 2 object errors:\n got %q (and %v)\nwant %q", keys, rest, wantKeys)
	}
	got = map[string]float64{}
	for _, s := range samples {
		got[s.Label("link")] = s.Value
	}
	for _, i := range covered {
		id := r.IDs[i]
		v, read := got[id]
		switch {
		case slices.Contains(r.Skipped2, i) && read:
			t.Errorf("refresh 2 read %s, want it left for later", id)
		case slices.Contains(r.Skipped2, i) && slices.Contains(r.Skipped1, i):
			t.Errorf("%s read by neither refresh", id)
		case !slices.Contains(r.Skipped2, i) && v != r.Clicks(i, 30):
			t.Errorf("refresh 2: %s = %g, want %g", id, v, r.Clicks(i, 30))
		}
	}
}

// AssertObjectKeys checks that err, a partial error, names the objects
// want (see ObjectKeys; sorted) and has no other error.
func AssertObjectKeys(t testing.TB, err error, want ...string) {
	t.Helper()
	if keys, rest := ObjectKeys(t, err); !slices.Equal(keys, want) || rest != nil {
		t.Errorf("object errors %q and others %v, want %q", keys, rest, want)
	}
}

// CheckMissing refreshes the named collector through the scheduler into a
// new cache and checks what an operator then sees: the collector up, its
// gaps want (see GapKeys; sorted), each with a reason that contains
// reason, and influencer_collector_objects counting, of kind, exported
// objects exported, len(want) missing and none skipped. It returns the
// cache.
func (e *Env) CheckMissing(t testing.TB, name string, cut *Cutoff, kind string, exported int, reason string, want ...string) *exporter.Cache {
	t.Helper()
	cache := exporter.NewCache()
	e.RefreshWithin(t, cache, name, cut, -1)
	gaps, reasons := GapKeys(t, cache, name)
	if !slices.Equal(gaps, want) {
		t.Errorf("gaps %q, want %q", gaps, want)
	}
	for _, g := range gaps {
		if !strings.Contains(reasons[g], reason) {
			t.Errorf("reason of %s: %q, want it to contain %q", g, reasons[g], reason)
		}
	}
	if got, want := CollectorObjects(t, cache, name), map[string]float64{kind + " exported": float64(exported), kind + " missing": float64(len(want)), kind + " skipped": 0}; !maps.Equal(got, want) {
		t.Errorf("influencer_collector_objects = %v, want %v", got, want)
	}
	for _, st := range cache.Status() {
		if st.Name == name && !st.Up {
			t.Errorf("collector down after a partial refresh: %+v", st)
		}
	}
	return cache
}

package youtube

import (
	"testing"
	"time"
)

func TestQuotaDay(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name  string
		loc   *time.Location
		now   string
		reset string
	}{
		{"standard time", pacific(), "2025-01-15T20:00:00Z", "2025-01-16T08:00:00Z"},
		{"daylight saving time", pacific(), "2025-07-15T20:00:00Z", "2025-07-16T07:00:00Z"},
		{"just before midnight", pacific(), "2025-07-16T06:59:59Z", "2025-07-16T07:00:00Z"},
		{"at midnight", pacific(), "2025-07-16T07:00:00Z", "2025-07-17T07:00:00Z"},
		// The day the clocks go forward has 23 hours.
		{"spring forward", pacific(), "2025-03-09T09:00:00Z", "2025-03-10T07:00:00Z"},
		{"fall back", pacific(), "2025-11-02T08:00:00Z", "2025-11-03T08:00:00Z"},
		// Without tzdata: an hour late in summer, never early.
		{"fallback zone", time.FixedZone("PST", -8*60*60), "2025-07-15T20:00:00Z", "2025-07-16T08:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newQuota(10, tt.loc)
			if got := q.reset(utc(tt.now)); !got.Equal(utc(tt.reset)) {
				t.Errorf("reset after %s = %s, want %s", tt.now, got.UTC().Format(time.RFC3339), tt.reset)
			}
		})
	}
}

func TestQuotaCount(t *testing.T) {
	q := newQuota(10, pacific())
	evening := time.Date(2025, 7, 16, 6, 30, 0, 0, time.UTC) // 23:30 PDT
	steps := []struct {
		at        time.Duration
		spend     int
		exhaust   bool
		remaining int
		refused   bool
	}{
		{0, 3, false, 7, false},
		{10 * time.Minute, 2, false, 5, false},
		{20 * time.Minute, 0, true, 0, true},
		{29 * time.Minute, 1, false, 0, true},   // never below zero
		{30 * time.Minute, 0, false, 10, false}, // 00:00 PDT
		{31 * time.Minute, 4, false, 6, false},
	}
	for _, st := range steps {
		now := evening.Add(st.at)
		if st.spend > 0 {
			q.spend(now, st.spend)
		}
		if st.exhaust {
			q.exhaust(now)
		}
		if got := q.remaining(now); got != st.remaining {
			t.Errorf("at +%s: remaining %d, want %d", st.at, got, st.remaining)
		}
		if got := q.refused(now); got != st.refused {
			t.Errorf("at +%s: refused %t, want %t", st.at, got, st.refused)
		}
	}
}

// TestQuotaNeverBackwards: a call stamped after midnight and a report
// stamped with the refresh's earlier start time must not flip the count
// between the two days.
func TestQuotaNeverBackwards(t *testing.T) {
	q := newQuota(10, pacific())
	before := time.Date(2025, 7, 16, 6, 59, 58, 0, time.UTC) // 23:59:58 PDT
	after := before.Add(4 * time.Second)                     // 00:00:02 PDT
	midnight := time.Date(2025, 7, 16, 7, 0, 0, 0, time.UTC)
	next := midnight.Add(24 * time.Hour)
	steps := []struct {
		name      string
		spendAt   time.Time
		spend     int
		at        time.Time
		remaining int
		reset     time.Time
	}{
		{"spent before midnight", before, 3, before, 7, midnight},
		{"a call answered after midnight", after, 1, after, 9, next},
		{"reported with the refresh's start", time.Time{}, 0, before, 9, next},
		{"a second call of that refresh", after, 1, before, 8, next},
		{"next refresh", after.Add(time.Minute), 1, after.Add(time.Minute), 7, next},
	}
	for _, st := range steps {
		if st.spend > 0 {
			q.spend(st.spendAt, st.spend)
		}
		if got := q.remaining(st.at); got != st.remaining {
			t.Errorf("%s: remaining %d, want %d", st.name, got, st.remaining)
		}
		if got := q.reset(st.at); !got.Equal(st.reset) {
			t.Errorf("%s: reset %s, want %s", st.name, got.UTC(), st.reset.UTC())
		}
	}
}

// TestQuotaReserve: calls under way at once hold a unit each, so they
// never pass the budget together.
func TestQuotaReserve(t *testing.T) {
	q := newQuota(3, pacific())
	now := time.Date(2025, 7, 16, 12, 0, 0, 0, time.UTC)
	q.spend(now, 1)
	if !q.reserve(now) || !q.reserve(now) {
		t.Fatal("two units left, not reserved")
	}
	if q.reserve(now) {
		t.Error("a third call reserved past the budget")
	}
	if got := q.remaining(now); got != 2 {
		t.Errorf("remaining %d while calls are under way, want 2: the gauge counts what is spent", got)
	}
	q.spend(now, 1) // the first call's answer
	q.release(1)
	if q.reserve(now) {
		t.Error("reserved with the last unit held")
	}
	q.release(1) // the second call failed before any answer
	if !q.reserve(now) {
		t.Error("the unit a failed call held is not free again")
	}
}

// TestQuotaReserveUpTo: a group of calls holds what is left, at most one
// unit each, and gives back what its calls did not use.
func TestQuotaReserveUpTo(t *testing.T) {
	q := newQuota(5, pacific())
	now := time.Date(2025, 7, 16, 12, 0, 0, 0, time.UTC)
	q.spend(now, 2)
	if got := q.reserveUpTo(now, 2); got != 2 {
		t.Fatalf("reserved %d of 2 calls with 3 units left", got)
	}
	if got := q.reserveUpTo(now, 4); got != 1 {
		t.Fatalf("reserved %d of 4 calls with 1 unit left besides those held", got)
	}
	if got := q.reserveUpTo(now, 1); got != 0 {
		t.Errorf("reserved %d with every unit held", got)
	}
	q.release(3)
	if got := q.reserveUpTo(now, 10); got != 3 {
		t.Errorf("reserved %d once the units were given back, want 3", got)
	}
}

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

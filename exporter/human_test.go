package exporter

import (
	"testing"
	"time"
)

func TestHumanDuration(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0 s"},
		{700 * time.Microsecond, "0.7 ms"},
		{3 * time.Microsecond, "3 µs"},
		{250 * time.Millisecond, "250 ms"},
		{1213638522 * time.Nanosecond, "1.2 s"},
		{12600 * time.Microsecond, "13 ms"},
		{-3 * time.Second, "3 s"},
		{45 * time.Second, "45 s"},
		{3*time.Minute + 20*time.Second, "3 min"},
		{80 * time.Minute, "1 h 20 min"},
		{2 * time.Hour, "2 h"},
		{52 * time.Hour, "2 d 4 h"},
		{15 * 24 * time.Hour, "15 d"},
	} {
		if got := HumanDuration(c.d); got != c.want {
			t.Errorf("HumanDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	if got := HumanAgo(now, now.Add(-90*time.Second)); got != "2 min ago" {
		t.Errorf("HumanAgo = %q", got)
	}
	if got := HumanAgo(now, time.Time{}); got != "never" {
		t.Errorf("HumanAgo(zero) = %q", got)
	}
}

package exporter

import (
	"fmt"
	"strconv"
	"time"
)

// HumanDuration rounds d for people, to two significant figures in one
// unit: "0.7 ms", "12 ms", "1.2 s", "45 s", "3 min", "1 h 20 min",
// "2 d 4 h". Negative durations read as their absolute value.
func HumanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d == 0:
		return "0 s"
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	case d < 10*time.Microsecond:
		return sig2(float64(d)/float64(time.Microsecond)) + " µs"
	case d < time.Second:
		return sig2(float64(d)/float64(time.Millisecond)) + " ms"
	case d < time.Minute:
		return sig2(d.Seconds()) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Round(time.Minute)/time.Minute)) + " min"
	case d < 24*time.Hour:
		d = d.Round(time.Minute)
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 || h >= 10 {
			return strconv.Itoa(int(d.Round(time.Hour)/time.Hour)) + " h"
		}
		return fmt.Sprintf("%d h %d min", h, m)
	default:
		d = d.Round(time.Hour)
		days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
		if h == 0 || days >= 10 {
			return strconv.Itoa(int(d.Round(24*time.Hour)/(24*time.Hour))) + " d"
		}
		return fmt.Sprintf("%d d %d h", days, h)
	}
}

// HumanAgo says how long before now t was: "3 min ago", "never" for the
// zero time, "in 2 s" for a time after now.
func HumanAgo(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	if t.After(now) {
		return "in " + HumanDuration(t.Sub(now))
	}
	return HumanDuration(now.Sub(t)) + " ago"
}

// sig2 formats v (≥ 0) with two significant figures, no trailing zeros:
// 0.7 → "0.7", 1.2138 → "1.2", 3.0 → "3", 12.6 → "13", 450 → "450".
func sig2(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}

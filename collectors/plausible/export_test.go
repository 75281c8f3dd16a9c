package plausible

import (
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// SetClock replaces a plausible collector's clock, which ends the range
// each refresh asks about.
func SetClock(c exporter.Collector, now func() time.Time) { c.(*collector).now = now }

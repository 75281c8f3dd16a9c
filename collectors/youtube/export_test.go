package youtube

import (
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// SetClock replaces a youtube collector's clock, which decides which
// videos are due and which Pacific day the quota counts.
func SetClock(c exporter.Collector, now func() time.Time) { c.(*collector).now = now }

package ga4

import (
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// SetClock replaces a ga4 collector's clock, which signs the JWT and
// decides when the access token is renewed.
func SetClock(c exporter.Collector, now func() time.Time) { c.(*collector).now = now }

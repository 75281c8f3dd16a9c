package fakeapi

import (
	"math"
	"time"
)

// Curve is how a post's count grows with its age: an S-curve that reaches
// half of Final at Midpoint and rises over about Spread on either side.
// A post that takes off has a late midpoint and a large Final; one that
// stalls has an early midpoint and a small Final.
type Curve struct {
	Final    float64
	Midpoint time.Duration
	Spread   time.Duration
}

// At returns the count at the given age (0 before publication).
func (c Curve) At(age time.Duration) int64 {
	if age < 0 || c.Final <= 0 {
		return 0
	}
	spread := c.Spread
	if spread <= 0 {
		spread = time.Minute
	}
	x := float64(age-c.Midpoint) / float64(spread)
	// Shift so the count is 0 at publication, not Final/(1+e^(mid/spread)).
	at0 := 1 / (1 + math.Exp(float64(c.Midpoint)/float64(spread)))
	v := (1/(1+math.Exp(-x)) - at0) / (1 - at0)
	return int64(math.Round(c.Final * v))
}

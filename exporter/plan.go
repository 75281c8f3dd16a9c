package exporter

import (
	"fmt"
	"math"
	"time"
)

// Plan is what one full refresh of a collector costs, worked out from its
// configured objects and the provider's documented call pattern, for
// --config.check.
type Plan struct {
	// Calls is the number of API calls one full refresh makes.
	Calls int
	// Note explains the count, naming what it could not know (links a
	// tag finds, posts a hashtag finds, pages of orders), for example
	// "1 batch call + 1 per link outside the top 50".
	Note string
}

// Planner is implemented by collectors that can tell their Plan.
type Planner interface {
	Plan() Plan
}

// PlanReport is a collector's Plan set against its rate limit and
// interval.
type PlanReport struct {
	Collector, Type string
	Interval        time.Duration
	// RateLimit is the collector's http.rate_limit, requests per second.
	RateLimit float64
	Plan
	// Takes is how long Calls take at RateLimit, after the burst.
	Takes time.Duration
	// Over is true when a full refresh cannot finish within its interval:
	// it resumes where it stopped, and objects refresh less often than the
	// interval says.
	Over bool
}

// Plans returns the report of every built collector that implements
// Planner, in config order.
func Plans(instances []*Instance) []PlanReport {
	var out []PlanReport
	for _, inst := range instances {
		p, ok := inst.Collector.(Planner)
		if !ok {
			continue
		}
		plan := p.Plan()
		r := PlanReport{Collector: inst.Name, Type: inst.Type, Interval: inst.Interval, Plan: plan}
		if inst.Config != nil {
			r.RateLimit = inst.Config.HTTP.RateLimit
			if n := plan.Calls - inst.Config.HTTP.Burst; n > 0 && r.RateLimit > 0 {
				r.Takes = time.Duration(float64(n) / r.RateLimit * float64(time.Second))
			}
		}
		r.Over = r.Takes > r.Interval
		out = append(out, r)
	}
	return out
}

// String is the report's line in --config.check's output.
func (r PlanReport) String() string {
	s := fmt.Sprintf("%s (%s): %d API calls per refresh", r.Collector, r.Type, r.Calls)
	if r.Note != "" {
		s += " (" + r.Note + ")"
	}
	if r.RateLimit > 0 {
		s += fmt.Sprintf(", %s at rate_limit %g/s; interval %s", roundDuration(r.Takes), r.RateLimit, r.Interval)
	}
	if r.Over {
		s += fmt.Sprintf("\n  WARNING: a refresh cannot finish within its interval; each refresh resumes where the last stopped, so every object refreshes about every %d intervals. Raise interval or http.rate_limit, or watch fewer objects.",
			int(math.Ceil(float64(r.Takes)/float64(r.Interval))))
	}
	return s
}

// roundDuration rounds d for people: 23.4s, 1.2s, 150ms.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	default:
		return d.Round(time.Millisecond)
	}
}

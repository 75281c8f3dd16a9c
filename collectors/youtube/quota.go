package youtube

import (
	"sync"
	"time"
)

// pacific is the zone of YouTube's quota day, which resets at midnight
// Pacific time. Without tzdata on the host (a scratch image whose binary
// does not embed time/tzdata) it falls back to standard time, UTC-8:
// during daylight saving time the collector then believes the day resets
// an hour later than it does, which only makes it more careful.
var pacific = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation("America/Los_Angeles"); err == nil {
		return loc
	}
	return time.FixedZone("PST", -8*60*60)
})

// quota counts the units this collector spent on the current Pacific day.
// It sees only its own calls: other users of the same Google Cloud
// project, and calls made before a restart, are not counted, so
// daily_quota should leave them room.
type quota struct {
	loc   *time.Location
	daily int

	mu       sync.Mutex
	day      string // Pacific date spent belongs to
	spent    int
	byGoogle bool // YouTube refused a call as over quota today
}

func newQuota(daily int, loc *time.Location) *quota {
	return &quota{daily: daily, loc: loc}
}

// roll starts a new day's count when now is past midnight. Call with mu
// held.
func (q *quota) roll(now time.Time) {
	if d := now.In(q.loc).Format(time.DateOnly); d != q.day {
		q.day, q.spent, q.byGoogle = d, 0, false
	}
}

// spend records units spent at now.
func (q *quota) spend(now time.Time, units int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.roll(now)
	q.spent += units
}

// exhaust records that YouTube said the day's quota is spent, whatever
// the count says.
func (q *quota) exhaust(now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.roll(now)
	q.spent = max(q.spent, q.daily)
	q.byGoogle = true
}

// refused reports whether YouTube refused a call as over quota today.
func (q *quota) refused(now time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.roll(now)
	return q.byGoogle
}

// remaining returns the units left today, never below zero.
func (q *quota) remaining(now time.Time) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.roll(now)
	return max(q.daily-q.spent, 0)
}

// reset returns the next midnight Pacific time after now. Midnight always
// exists there: the clocks change at 2am.
func (q *quota) reset(now time.Time) time.Time {
	y, m, d := now.In(q.loc).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, q.loc)
}

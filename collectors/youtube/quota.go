package youtube

import (
	"sync"
	"time"
	"weak"

	"github.com/influencer-exporter/influencer_exporter/exporter"
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
// project are not counted, so daily_quota should leave them room. A
// config reload keeps the count (see carriedQuota); a restart keeps it
// with --storage.path, and without it starts again from zero.
//
// What it reports only goes down within a Pacific day and goes back to
// daily_quota at Pacific midnight, never earlier: the day only moves
// forward. Calls stamp the units they spend with the collector's clock
// when their response comes, while a refresh reports with the time it
// started; a refresh that straddles midnight used to make the count flip
// between the two days (spent reset by the call's "new" day, then again
// by the refresh's "old" one), so the gauge went back up within a day. A
// time earlier than the day being counted now counts in that day.
type quota struct {
	loc   *time.Location
	daily int

	mu       sync.Mutex
	day      string // Pacific date spent belongs to
	spent    int
	byGoogle bool // YouTube refused a call as over quota today
	// held are the units of calls under way (reserve): spent once their
	// answer comes.
	held int
}

func newQuota(daily int, loc *time.Location) *quota {
	return &quota{daily: daily, loc: loc}
}

// roll starts a new day's count when now is past midnight of the day
// being counted. A now before that day (a clock read earlier, a clock set
// back) counts in the current day: the quota never resets backwards.
// Call with mu held.
func (q *quota) roll(now time.Time) {
	// DateOnly strings order as the dates do.
	if d := now.In(q.loc).Format(time.DateOnly); d > q.day {
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

// reserve holds a unit for a call about to be made at now, if one is left
// today besides those the calls under way hold; release gives it back
// once the call's answers spent their units (spend).
func (q *quota) reserve(now time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.roll(now)
	if q.daily-q.spent-q.held <= 0 {
		return false
	}
	q.held++
	return true
}

// reserveUpTo holds a unit for each of up to n calls about to be made at
// now, as many as are left, and returns how many it holds.
func (q *quota) reserveUpTo(now time.Time, n int) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.roll(now)
	k := min(max(q.daily-q.spent-q.held, 0), n)
	q.held += k
	return k
}

// release gives back units reserve or reserveUpTo held.
func (q *quota) release(units int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.held -= units
}

// remaining returns the units left today, never below zero.
func (q *quota) remaining(now time.Time) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.roll(now)
	return max(q.daily-q.spent, 0)
}

// reset returns the midnight Pacific time that ends the day being
// counted: the next one after now, or after the later day a call already
// counted in. Midnight always exists there: the clocks change at 2am.
func (q *quota) reset(now time.Time) time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.roll(now)
	day, err := time.ParseInLocation(time.DateOnly, q.day, q.loc)
	if err != nil {
		day = now.In(q.loc)
	}
	y, m, d := day.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, q.loc)
}

// quotaState is what Storage keeps of a quota (--storage.path), so a
// restart does not spend the day's units again.
type quotaState struct {
	Day      string `json:"day"` // Pacific date
	Spent    int    `json:"spent"`
	ByGoogle bool   `json:"refused_by_google,omitempty"`
}

func (q *quota) state() quotaState {
	q.mu.Lock()
	defer q.mu.Unlock()
	return quotaState{Day: q.day, Spent: q.spent, ByGoogle: q.byGoogle}
}

// restore takes back a stored count: it counts for its day only (roll
// starts a later day at zero), and never lowers a count under way.
func (q *quota) restore(st quotaState) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case st.Day > q.day:
		q.day, q.spent, q.byGoogle = st.Day, max(st.Spent, 0), st.ByGoogle
	case st.Day == q.day:
		q.spent, q.byGoogle = max(q.spent, st.Spent), q.byGoogle || st.ByGoogle
	}
}

// carried holds each collector's quota across config reloads. A reload
// builds every collector anew; a new quota would start the day's count
// from zero and the gauge would go back up to daily_quota (and the
// collector would spend units already spent). The key is the running
// exporter (its LinkSet, which reloads share and every test builds
// anew) and the collector's name; the pointer is weak, so an exporter
// gone takes its quotas with it.
var carried = struct {
	sync.Mutex
	m map[carryKey]*quota
}{m: map[carryKey]*quota{}}

type carryKey struct {
	links weak.Pointer[exporter.LinkSet]
	name  string
}

// carriedQuota returns the quota of the collector name of the exporter
// that links belongs to, with its count so far, under the daily budget
// given now; a new one for a new collector, or without links, starting
// from what storage kept of today (a restart).
func carriedQuota(links *exporter.LinkSet, storage *exporter.Storage, name string, daily int) *quota {
	fresh := func() *quota {
		q := newQuota(daily, pacific())
		var st quotaState
		if storage.Load(name, "quota", &st) {
			q.restore(st)
		}
		return q
	}
	if links == nil {
		return fresh()
	}
	carried.Lock()
	defer carried.Unlock()
	for k := range carried.m {
		if k.links.Value() == nil {
			delete(carried.m, k)
		}
	}
	k := carryKey{weak.Make(links), name}
	q := carried.m[k]
	if q == nil {
		q = fresh()
		carried.m[k] = q
		return q
	}
	q.mu.Lock()
	q.daily = daily
	q.mu.Unlock()
	return q
}

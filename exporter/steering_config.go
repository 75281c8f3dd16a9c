package exporter

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
)

// Fee is what a creator is paid for a campaign: a flat amount, an amount per
// campaign post, or both, in one currency. It is the creator's cost in the
// cost-per-action figures; it is not secret.
type Fee struct {
	// Amount is the flat fee for the campaign, in major units.
	Amount float64 `yaml:"amount"`
	// PerPost is paid for each campaign post of the creator the exporter
	// tracks (configured posts and those found by an account's match).
	PerPost float64 `yaml:"per_post"`
	// Currency is the ISO 4217 code of Amount, PerPost and Budget, in
	// upper case (EUR, USD). Required.
	Currency string `yaml:"currency"`
	// Budget is the most the team means to spend on the creator in this
	// campaign; zero: none set.
	Budget float64 `yaml:"budget"`
}

// Checkpoints are the times of day the campaign team reads the live view.
// One time is a daily read; two (a morning and an evening read) suit a
// short campaign.
type Checkpoints struct {
	// At lists times of day as HH:MM, 24-hour clock.
	At []string `yaml:"at"`
	// TimeZone is the IANA zone the times are in (Europe/Paris).
	// Default: UTC.
	TimeZone string `yaml:"time_zone"`

	// Set by validation: the zone, and the times as minutes after
	// midnight, sorted.
	loc     *time.Location
	minutes []int
}

// EarlyCurveConfig sets the ages since publishing at which each post's
// views and engagements are recorded, so posts can be compared at the same
// age.
type EarlyCurveConfig struct {
	// Ages since publishing; default 1h, 3h, 6h, 24h.
	Ages []model.Duration `yaml:"ages"`
	// StateFile, when set, keeps recorded values across restarts: a post
	// whose age passed while the exporter was down keeps the value
	// recorded before. Relative paths resolve against the config file's
	// directory. Empty: values recorded before a restart are lost.
	StateFile string `yaml:"state_file"`
}

// DefaultEarlyCurveAges are the ages recorded when the config names none.
var DefaultEarlyCurveAges = []model.Duration{
	model.Duration(time.Hour),
	model.Duration(3 * time.Hour),
	model.Duration(6 * time.Hour),
	model.Duration(24 * time.Hour),
}

// MaxEarlyCurveAge is the oldest age the early curve records: the curve is
// about a post's first hours and days, not its lifetime.
const MaxEarlyCurveAge = 30 * 24 * time.Hour

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// timeOfDayRE is HH:MM on a 24-hour clock, from 00:00 to 23:59.
var timeOfDayRE = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)

// Owed returns the fee owed once the exporter tracks posts campaign posts
// of the creator: the flat amount plus the per-post amount for each.
func (f *Fee) Owed(posts int) float64 {
	return f.Amount + f.PerPost*float64(posts)
}

// EarlyCurveStateFile returns the path of the early curve's state file,
// resolved against the config file's directory; "" when none is set.
func (c *Config) EarlyCurveStateFile() string {
	f := c.Global.EarlyCurve.StateFile
	if f == "" || filepath.IsAbs(f) {
		return f
	}
	return filepath.Join(c.dir, f)
}

func (c *Config) validateFee(f *Fee, p string, add func(string, string, ...any)) {
	if f == nil {
		return
	}
	switch {
	case f.Currency == "":
		add(p+".currency", "currency is required with a fee (an ISO 4217 code such as EUR)")
	case !currencyRE.MatchString(f.Currency):
		add(p+".currency", "must be an ISO 4217 code in upper case (EUR, USD), got %q", f.Currency)
	}
	ok := true
	for _, v := range []struct {
		field string
		value float64
	}{{"amount", f.Amount}, {"per_post", f.PerPost}, {"budget", f.Budget}} {
		switch {
		case math.IsNaN(v.value) || math.IsInf(v.value, 0):
			add(p+"."+v.field, "must be a finite number, got %g", v.value)
			ok = false
		case v.value < 0:
			add(p+"."+v.field, "must not be negative, got %g", v.value)
			ok = false
		}
	}
	if ok && f.Amount == 0 && f.PerPost == 0 {
		add(p, "set amount, per_post or both above 0 (a creator paid nothing has no fee)")
	}
}

func (c *Config) validateCheckpoints(cp *Checkpoints, p string, add func(string, string, ...any)) {
	if cp == nil {
		return
	}
	cp.loc, cp.minutes = nil, nil
	loc := time.UTC
	if cp.TimeZone != "" {
		l, err := loadZone(cp.TimeZone)
		if err != nil {
			add(p+".time_zone", "%v", err)
		}
		loc = l
	}
	if len(cp.At) == 0 {
		add(p+".at", "at least one time of day is required (HH:MM, like 09:00)")
	}
	first := map[int]string{}
	var minutes []int
	for i, at := range cp.At {
		ap := fmt.Sprintf("%s.at[%d]", p, i)
		m, ok := parseTimeOfDay(at)
		if !ok {
			add(ap, "invalid time of day %q: want HH:MM, from 00:00 to 23:59", at)
			continue
		}
		if prev, dup := first[m]; dup {
			add(ap, "duplicate time %q (first at %s)", at, prev)
			continue
		}
		first[m] = ap
		minutes = append(minutes, m)
	}
	if loc == nil || len(minutes) != len(cp.At) || len(minutes) == 0 {
		return
	}
	sort.Ints(minutes)
	cp.loc, cp.minutes = loc, minutes
}

// loadZone loads an IANA time zone. "Local" is refused: the schedule would
// follow whatever host the exporter runs on.
func loadZone(name string) (*time.Location, error) {
	if name == "Local" {
		return nil, errors.New(`"Local" depends on the host: name an IANA zone such as Europe/Paris, or UTC`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%w (want an IANA zone such as Europe/Paris)", err)
	}
	return loc, nil
}

func parseTimeOfDay(s string) (int, bool) {
	m := timeOfDayRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	return h*60 + mi, true
}

func (c *Config) validateEarlyCurve(e *EarlyCurveConfig, p string, add func(string, string, ...any)) {
	first := map[model.Duration]string{}
	for i, a := range e.Ages {
		ap := fmt.Sprintf("%s.ages[%d]", p, i)
		switch prev, dup := first[a]; {
		case a <= 0:
			add(ap, "must be positive, got %s", a)
		case time.Duration(a) > MaxEarlyCurveAge:
			add(ap, "%s is above the maximum of %s", a, model.Duration(MaxEarlyCurveAge))
		case dup:
			add(ap, "duplicate age %s (first at %s)", a, prev)
		case i > 0 && a < e.Ages[i-1]:
			add(ap, "ages must be in increasing order: %s is not after %s", a, e.Ages[i-1])
		}
		if _, dup := first[a]; !dup {
			first[a] = ap
		}
	}
}

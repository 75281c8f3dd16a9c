package exporter

import (
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

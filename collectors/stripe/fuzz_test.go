package stripe_test

import (
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/stripe/stripefake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/internal/fuzzci"
)

// FuzzPoll answers one Stripe call of a refresh (promotion codes, checkout
// sessions, refunds) with the fuzz input: see fuzzci.FuzzPoll.
func FuzzPoll(f *testing.F) {
	clock := exportertest.NewManualClock(t0)
	sb := &sandbox{fake: stripefake.New(token, clock.Now), clock: clock}
	sb.order("alice10", 1, "USD", 40, -30*time.Minute)
	sb.order("alice10", 2, "EUR", 25.5, -10*time.Minute)
	sb.order("BOB15", 1, "JPY", 1200, -15*time.Minute)
	sb.refund("BOB15", 2, "USD", 80, -40*time.Minute, 5.5, -5*time.Minute)
	sb.order("BOB15", 3, "KWD", 12.35, -3*time.Minute)
	sb.fake.AddCode("CAROL20")
	fuzzci.FuzzPoll(f, fuzzci.Provider{
		Collector: "stripe",
		Fake:      sb.fake,
		Config: func(url string) string {
			return config(url, token, `{}`, "2025-05-01T11:00:00Z",
				creator("alice", "ALICE10"), creator("bob", "Bob15"), creator("carol", "carol20", "missing"))
		},
		Secrets: []string{token},
	})
}

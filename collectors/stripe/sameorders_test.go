package stripe_test

import (
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/stripe/stripefake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// TestSameOrdersSameFigures: the logical order stream every shop's test
// plays, in Stripe's terms (complete Checkout Sessions). Refresh 1: 1
// paid 40, 2 unpaid 25 (a delayed payment method), 3 paid 60, 4 paid 30,
// 5 unpaid 15, 6 paid 50 EUR presented as 54 USD (presentment_details).
// Refresh 2: 2 paid, 3 refunded 10, 4 refunded in full, 5's payment
// failed before it was paid (its intent requires_payment_method).
func TestSameOrdersSameFigures(t *testing.T) {
	sb := newSandbox(t)
	for seq, total := range map[int]float64{1: 40, 2: 25, 3: 60, 4: 30, 5: 15, 6: 50} {
		sb.order("alice10", seq, "EUR", total, time.Duration(seq)*time.Minute)
	}
	sb.fake.SetPayment("alice10", 2, stripefake.Payment{PaymentStatus: "unpaid"})
	sb.fake.SetPayment("alice10", 5, stripefake.Payment{PaymentStatus: "unpaid"})
	sb.fake.SetPayment("alice10", 6, stripefake.Payment{PresentmentCurrency: "USD", PresentmentAmount: 54})
	sb.clock.Advance(10 * time.Minute)
	env := exportertest.Build(t, config(sb.url, token, `{}`, "", creator("alice", "alice10")))
	for _, step := range []struct {
		change func()
		want   string
	}{
		{func() {}, "redemptions=4 revenue=map[EUR:180] pending=2 refunds=0 refunded=map[EUR:0]"},
		{func() {
			sb.fake.SetPayment("alice10", 2, stripefake.Payment{})
			sb.refund("alice10", 3, "EUR", 60, 3*time.Minute, 10, 20*time.Minute)
			sb.refund("alice10", 4, "EUR", 30, 4*time.Minute, 30, 21*time.Minute)
			sb.fake.SetPayment("alice10", 5, stripefake.Payment{PaymentStatus: "unpaid", IntentStatus: "requires_payment_method"})
			sb.clock.Advance(20 * time.Minute)
		}, "redemptions=5 revenue=map[EUR:205] pending=0 refunds=2 refunded=map[EUR:40]"},
	} {
		step.change()
		if got := exportertest.ShopFigures(mustPoll(t, env)); got != step.want {
			t.Errorf("got %s\nwant %s", got, step.want)
		}
	}
}

// TestPendingSessionReadAgain: a session completed unpaid is read again
// past the checkout_expiry window until it is paid; one unpaid for more
// than 30 days (after the newest session seen) leaves the pending gauge.
func TestPendingSessionReadAgain(t *testing.T) {
	sb := newSandbox(t)
	sb.order("alice10", 1, "EUR", 25, time.Minute)
	sb.order("alice10", 2, "EUR", 15, 2*time.Minute)
	sb.fake.SetPayment("alice10", 1, stripefake.Payment{PaymentStatus: "unpaid"})
	sb.fake.SetPayment("alice10", 2, stripefake.Payment{PaymentStatus: "unpaid"})
	sb.clock.Advance(10 * time.Minute)
	env := exportertest.Build(t, config(sb.url, token, `{}`, "", creator("alice", "alice10")))
	day := 24 * time.Hour
	for i, step := range []struct {
		change func()
		want   string
	}{
		// No paid order yet: no revenue series.
		{func() {}, "redemptions=0 revenue=map[] pending=2 refunds=0 refunded=map[]"},
		// Three days later, past checkout_expiry: a new session moves
		// the watermark, and session 1's delayed payment settles.
		{func() {
			sb.order("alice10", 3, "EUR", 40, 3*day)
			sb.fake.SetPayment("alice10", 1, stripefake.Payment{})
			sb.clock.Advance(3 * day)
		}, "redemptions=2 revenue=map[EUR:65] pending=1 refunds=0 refunded=map[EUR:0]"},
		// A session 31 days after session 2: the next refresh gives up on
		// session 2.
		{func() {
			sb.order("alice10", 4, "EUR", 10, 31*day)
			sb.clock.Advance(29 * day)
		}, "redemptions=3 revenue=map[EUR:75] pending=1 refunds=0 refunded=map[EUR:0]"},
		{func() { sb.clock.Advance(time.Hour) }, "redemptions=3 revenue=map[EUR:75] pending=0 refunds=0 refunded=map[EUR:0]"},
	} {
		step.change()
		if got := exportertest.ShopFigures(mustPoll(t, env)); got != step.want {
			t.Errorf("step %d: got %s\nwant %s", i, got, step.want)
		}
	}
}

package shopify_test

import (
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/shopify/shopifyfake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// TestSameOrdersSameFigures: the logical order stream every shop's test
// plays, in Shopify's terms. Refresh 1: 1 paid 40, 2 pending 25, 3 paid
// 60, 4 paid 30, 5 authorized 15, 6 paid 50 EUR presented as 54 USD.
// Refresh 2: 2 paid, 3 refunded 10, 4 refunded in full, 5 cancelled
// before payment (voided).
func TestSameOrdersSameFigures(t *testing.T) {
	sb := newSandbox(t, token)
	at := func(m int) time.Time { return start.Add(time.Duration(m) * time.Minute) }
	order := func(seq int, total, refunded float64, cancelled bool, updated int) {
		sb.fake.AddOrder(fakeapi.Order{Seq: seq, Code: "alice10", Currency: "EUR", Total: total, Refunded: refunded,
			Cancelled: cancelled, Created: at(seq), Updated: at(updated)})
	}
	for seq, total := range map[int]float64{1: 40, 2: 25, 3: 60, 4: 30, 5: 15, 6: 50} {
		order(seq, total, 0, false, seq)
	}
	sb.fake.SetPayment("alice10", 2, shopifyfake.Payment{FinancialStatus: "PENDING"})
	sb.fake.SetPayment("alice10", 5, shopifyfake.Payment{FinancialStatus: "AUTHORIZED"})
	sb.fake.SetPayment("alice10", 6, shopifyfake.Payment{PresentmentCurrency: "USD", PresentmentAmount: 54})
	sb.at(10 * time.Minute)
	env := exportertest.Build(t, sb.config("", "{}", spring("alice10")))
	for _, step := range []struct {
		change func()
		want   string
	}{
		{func() {}, "redemptions=4 revenue=map[EUR:180] pending=2 refunds=0 refunded=map[EUR:0]"},
		{func() {
			sb.fake.SetPayment("alice10", 2, shopifyfake.Payment{})
			order(2, 25, 0, false, 20)
			order(3, 60, 10, false, 21)
			order(4, 30, 30, false, 22)
			sb.fake.SetPayment("alice10", 5, shopifyfake.Payment{})
			order(5, 15, 0, true, 23) // VOIDED
			sb.at(30 * time.Minute)
		}, "redemptions=5 revenue=map[EUR:205] pending=0 refunds=2 refunded=map[EUR:40]"},
	} {
		step.change()
		samples, err := poll(t, env)
		if err != nil {
			t.Fatal(err)
		}
		if got := exportertest.ShopFigures(samples); got != step.want {
			t.Errorf("got %s\nwant %s", got, step.want)
		}
	}
}

package woocommerce_test

import (
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/woocommerce/woocommercefake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// TestSameOrdersSameFigures: the logical order stream every shop's test
// plays, in WooCommerce's terms. Refresh 1: 1 processing 40, 2 pending 25,
// 3 completed 60, 4 processing 30, 5 on-hold 15, 6 processing 50 EUR
// (WooCommerce core keeps one currency per order, the store's: the
// buyer's 54 USD of the other shops is not in its order). Refresh 2: 2
// paid (processing), 3 refunded 10, 4 refunded in full, 5 cancelled
// unpaid.
func TestSameOrdersSameFigures(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddCode("alice10")
	at := func(m int) time.Time { return start.Add(time.Duration(m-30) * time.Minute) }
	ids := map[int]int{}
	for _, o := range []struct {
		seq    int
		status string
		total  float64
		paid   bool
	}{{1, "processing", 40, true}, {2, "pending", 25, false}, {3, "completed", 60, true}, {4, "processing", 30, true}, {5, "on-hold", 15, false}, {6, "processing", 50, true}} {
		wo := unpaidOrder(o.status, "EUR", o.total, at(o.seq), "alice10")
		if o.paid {
			wo = paidOrder(o.status, "EUR", o.total, at(o.seq), "alice10")
		}
		ids[o.seq] = sb.fake.PutOrder(wo)
	}
	change := func(seq int, wo woocommercefake.Order) {
		wo.ID, wo.Modified = ids[seq], start.Add(time.Duration(seq)*time.Minute)
		sb.fake.PutOrder(wo)
	}
	env := exportertest.Build(t, sb.config(`{}`, spring+`
      - name: alice
        codes:
          - {collector: woocommerce, code: alice10}
`))
	for _, step := range []struct {
		change func()
		want   string
	}{
		{func() {}, "redemptions=4 revenue=map[EUR:180] pending=2 refunds=0 refunded=map[EUR:0]"},
		{func() {
			paid := paidOrder("processing", "EUR", 25, at(2), "alice10")
			paid.Paid = start
			change(2, paid)
			partial := paidOrder("completed", "EUR", 60, at(3), "alice10")
			partial.Refunds = []float64{10}
			change(3, partial)
			full := paidOrder("refunded", "EUR", 30, at(4), "alice10")
			full.Refunds = []float64{30}
			change(4, full)
			change(5, unpaidOrder("cancelled", "EUR", 15, at(5), "alice10"))
			sb.clock.Add(10 * time.Minute)
		}, "redemptions=5 revenue=map[EUR:205] pending=0 refunds=2 refunded=map[EUR:40]"},
	} {
		step.change()
		if got := exportertest.ShopFigures(mustPoll(t, env)); got != step.want {
			t.Errorf("got %s\nwant %s", got, step.want)
		}
	}
}

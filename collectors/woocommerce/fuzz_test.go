package woocommerce_test

import (
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/woocommerce/woocommercefake"
	"github.com/influencer-exporter/influencer_exporter/internal/fuzzci"
)

// FuzzPoll answers one WooCommerce call of a refresh (a page of coupons,
// a page of orders) with the fuzz input: see fuzzci.FuzzPoll.
func FuzzPoll(f *testing.F) {
	fake := woocommercefake.New(token, (&clock{t: start}).Now)
	for _, code := range []string{"alice10", "bob15", "carol5"} {
		fake.AddCode(code)
	}
	h := func(n int) time.Time { return start.Add(time.Duration(n) * time.Hour) }
	refunded := paidOrder("refunded", "EUR", 20, h(-1), "bob15")
	refunded.Refunds = []float64{20}
	for _, o := range []woocommercefake.Order{
		paidOrder("processing", "EUR", 40, h(-2), "alice10"),
		unpaidOrder("on-hold", "EUR", 30, h(-2), "alice10"),
		paidOrder("cancelled", "EUR", 60, h(-3), "alice10"),
		paidOrder("processing", "EUR", 100, h(-1), "alice10", "bob15"),
		refunded,
		paidOrder("processing", "GBP", 12.34, h(-1), "carol5"),
	} {
		fake.PutOrder(o)
	}
	fuzzci.FuzzPoll(f, fuzzci.Provider{
		Collector: "woocommerce",
		Fake:      fake,
		Config: func(url string) string {
			return configAt(url, `{}`, spring+`
      - name: alice
        codes:
          - {collector: woocommerce, code: ALICE10}
          - {collector: woocommerce, code: missing}
      - name: bob
        codes:
          - {collector: woocommerce, code: bob15}
          - {collector: woocommerce, code: Carol5}
`)
		},
		Secrets: []string{token, consumerKey, consumerSecret},
	})
}

package sandbox

import (
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/shopify/shopifyfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/stripe/stripefake"
	"github.com/influencer-exporter/influencer_exporter/collectors/woocommerce/woocommercefake"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// Each creator's discount code is redeemed at its own rate. alice sells
// most; ivan's link gets many clicks, from bots, but his code sells an
// order every 20 minutes: the first comes before
// InfluencerDiscountCodeNotRedeeming (200 clicks in 6h without an order,
// for 30m) could fire, since his story is the bots, which
// InfluencerClicksWithoutVisits tells. Every seventh of alice's orders is
// cancelled, so the refund counters move too.
var shopScenario = []struct {
	shop   string
	stream fakeapi.OrderStream
}{
	{"shopify", fakeapi.OrderStream{Code: "ALICE10", PerMinute: 1.2, Amount: 45, Currency: "EUR", Initial: 40, CancelEvery: 7, CancelAfter: 2 * time.Minute}},
	{"woocommerce", fakeapi.OrderStream{Code: "bruno15", PerMinute: 0.8, Amount: 30, Currency: "EUR", Initial: 25}},
	{"stripe", fakeapi.OrderStream{Code: "CHLOE", PerMinute: 0.5, Amount: 60, Currency: "USD", Initial: 12}},
	{"shopify", fakeapi.OrderStream{Code: "DEV20", PerMinute: 0.3, Amount: 80, Currency: "EUR", Initial: 5}},
	{"woocommerce", fakeapi.OrderStream{Code: "emma", PerMinute: 1, Amount: 25, Currency: "EUR", Initial: 18, CancelEvery: 10, CancelAfter: 3 * time.Minute}},
	{"stripe", fakeapi.OrderStream{Code: "FARID", PerMinute: 0.7, Amount: 35, Currency: "USD", Initial: 9}},
	{"shopify", fakeapi.OrderStream{Code: "GIA", PerMinute: 0.4, Amount: 55, Currency: "EUR", Initial: 6}},
	{"stripe", fakeapi.OrderStream{Code: "HANA5", PerMinute: 0.2, Amount: 20, Currency: "USD", Initial: 2}},
	{"woocommerce", fakeapi.OrderStream{Code: "ivan", PerMinute: 0.05, Amount: 15, Currency: "EUR"}},
	{"shopify", fakeapi.OrderStream{Code: "JADE", PerMinute: 0.6, Amount: 12, Currency: "EUR", Initial: 8}},
}

// streamsOf calls add with every order stream of a shop.
func streamsOf(shop string, add func(fakeapi.OrderStream)) {
	for _, o := range shopScenario {
		if o.shop == shop {
			add(o.stream)
		}
	}
}

func init() {
	register("shopify", func(Seed) (Fake, error) {
		f := shopifyfake.New(ShopifyToken, nil)
		streamsOf("shopify", f.AddStream)
		return Fake{Handler: f, Faults: &f.Faults}, nil
	})
	register("woocommerce", func(Seed) (Fake, error) {
		f := woocommercefake.New(WooCommerceToken, nil)
		streamsOf("woocommerce", f.AddStream)
		return Fake{Handler: f, Faults: &f.Faults}, nil
	})
	register("stripe", func(Seed) (Fake, error) {
		f := stripefake.New(StripeToken, nil)
		streamsOf("stripe", f.AddStream)
		return Fake{Handler: f, Faults: &f.Faults}, nil
	})
}

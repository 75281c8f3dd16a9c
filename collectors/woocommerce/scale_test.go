package woocommerce_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/woocommerce/woocommercefake"
	"github.com/influencer-exporter/influencer_exporter/fakes/agency"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// TestCallsAtAgencyScale measures the calls of a refresh at agency scale:
// 10,000 codes, one per creator, on one store of 10,000 coupons. Each code
// has 2 orders from before the campaign's first refresh, and one code in
// a hundred sells an order every 10 minutes: 20,300 orders at the first
// refresh, half an hour in, then 10 new ones a minute.
//
// WooCommerce's batch limits: per_page is at most 100, for coupons and
// orders alike, and orders cannot be filtered by coupon. The first
// refresh needs every code's coupon (ceil(C/100) pages of GET /coupons:
// 100, where a lookup per code is 10,000) and every order since the
// campaign start (ceil(O/100): 203); a refresh after it only the orders
// modified since the last one, less the 2 minute overlap (30 orders, 1
// page, at least 1 a refresh).
//
// At full size the test takes about 45 seconds under the race detector
// (the fake builds every order for each page), so there it runs at a
// tenth of it; go test without -race measures 10,000 codes.
func TestCallsAtAgencyScale(t *testing.T) {
	codes := agency.SlowSize(agency.Codes)
	c := &clock{t: start}
	fake := woocommercefake.New(token, c.Now)
	active := 0
	for i := range codes {
		st := fakeapi.OrderStream{Code: fmt.Sprintf("code%05d", i), Amount: 30, Currency: "EUR", Initial: 2}
		if i%100 == 0 {
			st.PerMinute = 0.1
			active++
		}
		fake.AddStream(st)
	}
	srv := agency.Serve(t, fake, nil)
	cfg := agency.Config{Type: "woocommerce", BaseURL: srv.URL, Token: token,
		Campaign: "    start: 2026-05-01T00:00:00Z\n",
		Creators: codes, Creator: func(b *strings.Builder, i int) {
			fmt.Fprintf(b, "        codes:\n          - {collector: woocommerce, code: code%05d}\n", i)
		}}
	env := srv.Build(t, cfg.YAML())

	// Per code: redemptions, revenue, refunds, refunded revenue, pending.
	series := 5 * codes
	const coupons, orders = woocommercefake.APIPrefix + "/coupons", woocommercefake.APIPrefix + "/orders"
	c.Add(30 * time.Minute)
	for _, step := range []struct {
		refresh string
		want    agency.Calls
	}{
		{"first refresh", agency.Calls{"GET " + coupons: agency.CeilDiv(codes, 100), "GET " + orders: agency.CeilDiv(2*codes+3*active, 100)}},
		{"next refresh", agency.Calls{"GET " + orders: 1}},
	} {
		srv.Refresh(t, step.refresh, series, func() (int, error) {
			samples, err := poll(t, env)
			return len(samples), err
		}, step.want)
		c.Add(time.Minute)
	}
	srv.CheckConns(t, 1)
}

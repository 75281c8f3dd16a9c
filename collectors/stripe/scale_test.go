package stripe_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/stripe/stripefake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/agency"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// TestCallsAtAgencyScale measures the calls of a refresh at agency scale:
// 10,000 codes, one per creator, in an account of 10,000 promotion codes.
// Each code has 2 orders (complete Checkout Sessions) over the 10 days
// before the first refresh, one every 43 seconds, and one code in a
// hundred sells an order every 10 minutes from half an hour before it:
// 20,300 sessions at the first refresh, then 10 new ones a minute.
//
// Stripe's batch limits: lists return at most 100 objects (limit), and
// sessions can be filtered by creation time only, not by promotion code
// nor by when they completed. The first refresh needs every code's
// promotion code (ceil(C/100) pages of GET /promotion_codes: 100, where a
// lookup per code is 10,000), every session since the campaign start
// (ceil(S/100): 203) and every refund (1 page, none here). A refresh
// after it reads again every session created within checkout_expiry (24
// hours) and overlap (2 minutes) of the newest one seen, since a session
// opened a day ago may complete now: 2,262 sessions, 23 pages, and the
// refunds since the newest one seen (1 page). A shop whose Checkout
// Sessions expire sooner sets checkout_expiry to that and reads less.
//
// At full size the test takes about 15 seconds without the race detector
// (the fake builds every session for each page) and far more under it,
// so there it runs at a tenth of it.
func TestCallsAtAgencyScale(t *testing.T) {
	codes := agency.SlowSize(agency.Codes)
	clock := exportertest.NewManualClock(t0)
	fake := stripefake.New(token, clock.Now)
	var created []time.Time // every order's creation, to count the window
	orders := 2 * codes
	step := 10 * 24 * time.Hour / time.Duration(orders)
	for n := range orders {
		at := t0.Add(-time.Duration(n) * step)
		fake.AddOrder(fakeapi.Order{Seq: n/codes + 1, Code: fmt.Sprintf("code%05d", n%codes), Currency: "USD", Total: 30, Created: at, Updated: at})
		created = append(created, at)
	}
	for i := 0; i < codes; i += 100 {
		fake.AddStream(fakeapi.OrderStream{Code: fmt.Sprintf("code%05d", i), PerMinute: 0.1, Amount: 30, Currency: "USD"})
		for k := 1; k <= 3; k++ {
			created = append(created, t0.Add(time.Duration(k)*10*time.Minute))
		}
	}
	srv := agency.Serve(t, fake, nil)
	cfg := agency.Config{Type: "stripe", BaseURL: srv.URL + "/v1", Token: token,
		Campaign: "    start: 2025-04-01T00:00:00Z\n",
		Creators: codes, Creator: func(b *strings.Builder, i int) {
			fmt.Fprintf(b, "        codes:\n          - {collector: stripe, code: code%05d}\n", i)
		}}
	env := srv.Build(t, cfg.YAML())

	// The sessions the next refresh reads again: created within 24 hours
	// and 2 minutes of the newest one.
	newest := t0.Add(30 * time.Minute)
	window := 0
	for _, at := range created {
		if !at.Before(newest.Add(-24*time.Hour - 2*time.Minute)) {
			window++
		}
	}
	const sessions, refunds = "GET /v1/checkout/sessions", "GET /v1/refunds"
	// Per code: redemptions, revenue, refunds, refunded revenue, pending.
	series := 5 * codes
	clock.Advance(30 * time.Minute)
	for _, step := range []struct {
		refresh string
		want    agency.Calls
	}{
		{"first refresh", agency.Calls{"GET /v1/promotion_codes": agency.CeilDiv(codes, 100), sessions: agency.CeilDiv(len(created), 100), refunds: 1}},
		{"next refresh", agency.Calls{sessions: agency.CeilDiv(window, 100), refunds: 1}},
	} {
		srv.Refresh(t, step.refresh, series, func() (int, error) {
			samples, err := poll(t, env)
			return len(samples), err
		}, step.want)
		clock.Advance(time.Minute)
	}
	t.Logf("next refresh read %d sessions", window)
	srv.CheckConns(t, 1)
}

package shopify_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/shopify/shopifyfake"
	"github.com/influencer-exporter/influencer_exporter/fakes/agency"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// graphqlCall names a GraphQL request by what it asks: an orders page or
// a code check.
func graphqlCall(r *http.Request) string {
	b, _ := io.ReadAll(r.Body)
	switch {
	case strings.Contains(string(b), "orders("):
		return "POST graphql.json orders"
	case strings.Contains(string(b), "codeDiscountNodeByCode"):
		return "POST graphql.json codeDiscountNodeByCode"
	}
	return "POST graphql.json"
}

// TestCallsAtAgencyScale measures the calls of a refresh at agency scale:
// 10,000 codes, one per creator, on one shop. Each code has 2 orders over
// the 10 days before the first refresh, and one code in a hundred sells
// an order every 10 minutes from half an hour before it: 20,300 orders,
// then 10 new ones a minute.
//
// The calls are the fewest Shopify's limits allow. A query may cost 1,000
// points, and a code check (an aliased codeDiscountNodeByCode { id }) 1,
// so the first refresh checks the codes in ceil(C/1000) = 10 queries. An
// order of a page costs 5 points, a page 2 more, so a page holds 199
// orders (997 points), and one listing of every order since the campaign
// start, matched to the codes on our side, takes ceil(20,300/199) = 103
// pages. Each refresh after it reads one page: the orders updated since
// the last refresh, less the overlap.
//
// At full size the test takes a few seconds without the race detector
// and far more under it, so there it runs at a tenth of it.
func TestCallsAtAgencyScale(t *testing.T) {
	codes := agency.SlowSize(agency.Codes)
	sb := &sandbox{now: start}
	sb.fake = shopifyfake.New(token, sb.clock)
	sb.fake.SetBucket(1e9, 1e9)
	orders := 2 * codes
	step := 10 * 24 * time.Hour / time.Duration(orders)
	for n := range orders {
		at := start.Add(-time.Duration(n+1) * step)
		sb.fake.AddOrder(fakeapi.Order{Seq: n/codes + 1, Code: fmt.Sprintf("CODE%05d", n%codes), Currency: "USD", Total: 30, Created: at})
	}
	active := 0
	for i := 0; i < codes; i += 100 {
		sb.fake.AddStream(fakeapi.OrderStream{Code: fmt.Sprintf("CODE%05d", i), PerMinute: 0.1, Amount: 30, Currency: "USD"})
		active++
	}
	srv := agency.Serve(t, sb.fake, graphqlCall)
	cfg := agency.Config{Type: "shopify", BaseURL: srv.URL, Token: token,
		Campaign: "    start: 2026-04-20T00:00:00Z\n",
		Creators: codes, Creator: func(b *strings.Builder, i int) {
			fmt.Fprintf(b, "        codes:\n          - {collector: shopify, code: CODE%05d}\n", i)
		}}
	env := srv.Build(t, cfg.YAML())

	checks := agency.CeilDiv(codes, 1000)
	pages := agency.CeilDiv(orders+3*active, 199)
	// Per code: redemptions, revenue, refunds, refunded revenue, pending.
	series := 5 * codes
	sb.at(30 * time.Minute)
	for _, step := range []struct {
		refresh string
		want    agency.Calls
	}{
		{"first refresh", agency.Calls{"POST graphql.json codeDiscountNodeByCode": checks, "POST graphql.json orders": pages}},
		{"next refresh", agency.Calls{"POST graphql.json orders": 1}},
	} {
		srv.Refresh(t, step.refresh, series, func() (int, error) {
			samples, err := poll(t, env)
			return len(samples), err
		}, step.want)
		sb.at(31 * time.Minute)
	}
	srv.CheckConns(t, 1)
}

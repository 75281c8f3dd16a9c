package shopify_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/shopify/shopifyfake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
	"github.com/influencer-exporter/influencer_exporter/internal/fuzzci"
)

// FuzzPoll answers one Shopify GraphQL call of a refresh (the code check,
// a page of orders) with the fuzz input: see fuzzci.FuzzPoll.
func FuzzPoll(f *testing.F) {
	clock := exportertest.NewManualClock(start)
	fake := shopifyfake.New(token, clock.Now)
	fake.AddStream(fakeapi.OrderStream{Code: "SPRING-ALICE", PerMinute: 2, Amount: 40, Currency: "USD", Initial: 3, CancelEvery: 5, CancelAfter: 2 * time.Minute})
	fake.AddOrder(fakeapi.Order{Code: "bob15", Currency: "EUR", Total: 80, Created: start.Add(time.Minute)})
	fake.AddOrder(fakeapi.Order{Code: "bob15", Currency: "EUR", Total: 20.5, Refunded: 5, Created: start.Add(2 * time.Minute), Updated: start.Add(3 * time.Minute)})
	fake.AddCode("Carol5")
	clock.Advance(10 * time.Minute)
	fuzzci.FuzzPoll(f, fuzzci.Provider{
		Collector: "shopify",
		Fake:      fake,
		Config: func(url string) string {
			return fmt.Sprintf(`
collectors:
  - type: shopify
    base_url: %s
    token: %s
    http: {max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 5ms, rate_limit: 1000}
campaigns:
%s`, url, token, spring("spring-alice", "BOB15", "CAROL5", "MISSING"))
		},
		Secrets: []string{token},
	})
}

package exporter

import (
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// What shop collectors share: the orders seen so far, kept per order id so
// an order re-read after an update replaces itself, and the counters built
// from them.
//
// Counting rule, the same for every shop: an order that used a creator's
// code counts once in influencer_code_redemptions_total and with its
// original total in influencer_code_revenue_total when it is created, and
// stays counted whatever happens to it later. Cancellations and refunds are
// counted apart, in influencer_code_refunds_total (orders cancelled or fully
// refunded) and influencer_code_refunded_revenue_total (money refunded), so
// no counter ever goes down and net revenue is revenue minus refunded
// revenue in PromQL.

// Order is one shop order that used a discount code, in the shop's own
// terms mapped to major currency units.
type Order struct {
	ID string
	// Codes are the discount codes the order used, as the shop reports them.
	Codes     []string
	Currency  string // ISO 4217, upper case
	Total     float64
	Refunded  float64
	Cancelled bool // cancelled or fully refunded
	Created   time.Time
	Updated   time.Time
}

// OrderBook holds the orders a shop collector has seen and the watermark
// for incremental refreshes. Safe for concurrent use.
type OrderBook struct {
	mu        sync.Mutex
	orders    map[string]Order
	watermark time.Time
	full      bool
}

// NewOrderBook returns an empty book: the first refresh is a full count.
func NewOrderBook() *OrderBook { return &OrderBook{orders: map[string]Order{}} }

// Since returns the time to ask the shop for orders updated from, and
// whether a full count is due (zero time). Refreshes after the first
// re-read an overlap window before the watermark, because shops' search
// indexes lag and clocks differ; orders are deduplicated by id.
func (b *OrderBook) Since(overlap time.Duration) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.full {
		return time.Time{}, true
	}
	return b.watermark.Add(-overlap), false
}

// Apply stores the orders of one successful refresh and moves the
// watermark to the latest update seen. Call it only once a whole refresh
// succeeded: a refresh that failed halfway must be read again. Pass only
// orders that used a configured code, so memory stays bounded by the
// campaign, not by the shop.
func (b *OrderBook) Apply(orders []Order) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, o := range orders {
		b.orders[o.ID] = o
		if o.Updated.After(b.watermark) {
			b.watermark = o.Updated
		}
		if o.Created.After(b.watermark) {
			b.watermark = o.Created
		}
	}
	b.full = true
}

// Advance moves the watermark to t if it is later: a shop whose orders are
// filtered on our side (WooCommerce, Stripe) reads many orders that used no
// configured code, and the next refresh need not read them again. Call it
// with the latest update time the successful refresh read.
func (b *OrderBook) Advance(t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.After(b.watermark) {
		b.watermark = t
	}
}

// Len returns the number of orders held.
func (b *OrderBook) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.orders)
}

// Samples returns the redemption, revenue and refund counters of codes.
// Pass only the codes the shop knows: a configured code the shop does not
// have is a PartialError, and its series are absent rather than zero. Codes
// match case-insensitively; orders created before the code's campaign start
// do not count. A known code nobody used yet has zero redemptions; revenue
// series exist per currency seen.
func (b *OrderBook) Samples(provider string, codes []CodeRef) []Sample {
	type key struct{ code, currency string }
	type tally struct {
		n, refunds      float64
		revenue, refund map[string]float64
	}
	byCode := make(map[string][]CodeRef, len(codes))
	for _, c := range codes {
		k := strings.ToLower(c.Code.Code)
		byCode[k] = append(byCode[k], c)
	}
	tallies := make(map[*Code]*tally, len(codes))
	for _, c := range codes {
		tallies[c.Code] = &tally{revenue: map[string]float64{}, refund: map[string]float64{}}
	}
	b.mu.Lock()
	// Sum in a fixed order and round to micro-units: float sums in map
	// order differ in the last bits from one refresh to the next, and a
	// counter that reads 0.000000000002 lower is a counter reset.
	ids := make([]string, 0, len(b.orders))
	for id := range b.orders {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		o := b.orders[id]
		for _, oc := range uniqueLower(o.Codes) {
			for _, c := range byCode[oc] {
				if c.Start != nil && o.Created.Before(*c.Start) {
					continue
				}
				t := tallies[c.Code]
				t.n++
				t.revenue[o.Currency] += o.Total
				if o.Cancelled {
					t.refunds++
				}
				if o.Refunded > 0 {
					t.refund[o.Currency] += o.Refunded
				}
			}
		}
	}
	b.mu.Unlock()

	var out []Sample
	for _, c := range codes {
		t := tallies[c.Code]
		out = append(out,
			CodeRedemptions.Sample(t.n, c.Campaign, c.Creator, provider, c.Code.Code),
			CodeRefunds.Sample(t.refunds, c.Campaign, c.Creator, provider, c.Code.Code))
		for _, cur := range sortedKeys(t.revenue) {
			out = append(out, CodeRevenue.Sample(roundMicro(t.revenue[cur]), c.Campaign, c.Creator, provider, c.Code.Code, cur))
			out = append(out, CodeRefundedRevenue.Sample(roundMicro(t.refund[cur]), c.Campaign, c.Creator, provider, c.Code.Code, cur))
		}
	}
	return out
}

func uniqueLower(codes []string) []string {
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		c = strings.ToLower(strings.TrimSpace(c))
		if c != "" {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	j := 0
	for i, c := range out {
		if i == 0 || c != out[j-1] {
			out[j] = c
			j++
		}
	}
	return out[:j]
}

func roundMicro(v float64) float64 { return math.Round(v*1e6) / 1e6 }

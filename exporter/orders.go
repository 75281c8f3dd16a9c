package exporter

import (
	"fmt"
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
// Counting rule, the same for every shop (docs/metrics.md, "Shop metrics:
// one definition"); collectors only map each shop's states onto State:
//
//   - an order counts once in influencer_code_redemptions_total and with
//     its original total in influencer_code_revenue_total from the first
//     time it is seen paid (OrderPaid), and stays counted whatever happens
//     to it later: a counted order read again in an unpaid state, or with
//     another total, keeps what was counted;
//   - an order placed and not paid yet (OrderPending) counts only in the
//     influencer_code_pending_orders gauge, and moves to the counters when
//     it is seen paid;
//   - an order closed before payment (OrderVoid: cancelled, expired,
//     failed, voided) counts nowhere, and leaves the pending gauge;
//   - influencer_code_refunds_total counts the paid orders with any money
//     refunded, full or partial, once each however many refunds they had;
//     influencer_code_refunded_revenue_total adds up the money refunded
//     (partial refunds included). A paid order cancelled without a refund
//     is not a refund. The refunded amount an order reports never lowers
//     what was counted.
//
// Amounts are in the shop's currency (Shopify shopMoney, the WooCommerce
// order's currency, the Stripe session's currency), never converted to or
// from what the buyer saw: one rule for all shops, so revenue series are
// per currency. No counter ever goes down, and net revenue is revenue
// minus refunded revenue in PromQL.

// OrderState is where an order's payment stands, in the book's terms.
type OrderState int

const (
	// OrderPaid: paid, in full or in part, at any time (refunds later
	// included). The zero State.
	OrderPaid OrderState = iota
	// OrderPending: placed, payment not captured yet (pending, authorized,
	// on hold, an asynchronous payment under way).
	OrderPending
	// OrderVoid: closed before payment (cancelled, expired, failed,
	// voided): never counted, and not pending.
	OrderVoid
)

// Order is one shop order that used a discount code, in the shop's own
// terms mapped to major currency units.
type Order struct {
	ID string
	// Codes are the discount codes the order used, as the shop reports them.
	Codes    []string
	Currency string // ISO 4217, upper case, the shop's currency
	Total    float64
	Refunded float64
	State    OrderState
	Created  time.Time
	Updated  time.Time
}

// merge returns o, read again, as the book keeps it given what it held:
// an order once counted paid stays paid at the total and currency it was
// counted with, and its refunded amount never goes down.
func merge(old, o Order) Order {
	if old.State != OrderPaid {
		return o
	}
	o.State, o.Total, o.Currency = OrderPaid, old.Total, old.Currency
	if old.Refunded > o.Refunded {
		o.Refunded = old.Refunded
	}
	if !old.Created.IsZero() {
		o.Created = old.Created
	}
	return o
}

// Counted reports whether the book counts the order with id as paid.
func (b *OrderBook) Counted(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.orders[id]
	return ok && o.State == OrderPaid
}

// OrderBook holds the orders a shop collector has seen and where each of
// its listings stands. Safe for concurrent use.
type OrderBook struct {
	mu       sync.Mutex
	orders   map[string]Order
	listings map[string]*listing
	// store, if set, is where the book saves itself when a pass ends
	// (see StoredOrderBook).
	store *storedBook
	// saveMu orders saves: the last pass ended is the last written.
	saveMu sync.Mutex
}

// Listings: counting a shop that cannot be read in one refresh.
//
// A shop collector reads orders through one or more listings (a search,
// a list endpoint), each in an order that keeps its pages stable as
// orders arrive (update time, creation time or id, as the shop allows),
// and walks each listing in passes: a pass reads every page from a lower
// bound, fixed for the whole pass so that its cursor stays valid, to the
// listing's end. A listing's first pass is a
// full count (from the campaign start); each later one starts from the
// listing's watermark, the latest time the previous pass saw, less an
// overlap for the shop's index lag and clock skew.
//
// Pages are counted as they are read (ApplyPage), not when a pass ends: a
// refresh that runs out of time keeps what it read, and the next refresh
// continues the pass from its cursor instead of starting again, so a shop
// too big to count in one interval is counted over several. An order is
// kept by id, so one read twice (a page read again, an overlap) replaces
// itself and counts once; counters never go down.
//
// What is exported while a pass is under way. A code's counters come from
// the book only in a refresh in which every listing counting the code
// ended its pass; in any other refresh (its pass cut short by the
// deadline, or not reached) the collector reports the code
// Skipped(ErrOutOfTime): it keeps the values of the last refresh that
// ended its pass, and before the first such refresh it has none, so the
// landing page lists it as skipped until the first full count is done.
// Exporting the running totals instead would be safe for the counters,
// which only grow, but wrong for their readers: during a first count a
// total would climb by the shop's whole backlog over a few refreshes, and
// rate(), the velocity panels and the sales alerts would read months of
// orders as a burst of sales right now, while the landing page showed a
// half count as a complete one. A total from an ended pass appears at its
// full value at once, which rate() does not count as an increase. The
// price is an interval or two of staleness when an incremental pass does
// not end in one refresh, and it is visible as skipped codes.

// listing is one listing's state across refreshes.
type listing struct {
	// watermark is where the next pass starts from (less the overlap).
	watermark time.Time
	// done is true once a pass ended: the listing counted everything.
	done bool
	// pass is the pass under way, nil between passes.
	pass *pass
}

type pass struct {
	since, latest, horizon time.Time
	cursor                 string
}

// Pass is where a listing's pass stands: what to ask the shop for next.
type Pass struct {
	// Since is the pass's lower bound (orders created or updated from
	// it), the same for all its pages. Zero on a listing's first pass, a
	// full count, and after passes that saw no order.
	Since time.Time
	// Cursor is where the pass continues: the shop's cursor, a page
	// number, or a time to search again from; "" for the pass's first
	// page.
	Cursor string
	// Full is true on the listing's first pass.
	Full bool
	// Resumed is true when the pass read pages in an earlier refresh.
	Resumed bool
}

// Page is one page of a listing's pass, as the collector read it.
type Page struct {
	// Orders are the page's orders that used a configured code, as the
	// book counts them. Pass only those, so memory stays bounded by the
	// campaign, not by the shop.
	Orders []Order
	// Next is where the pass continues; "" when this page was its last.
	Next string
	// Latest is the latest creation or update time the page listed,
	// orders without a configured code included: the watermark moves to
	// the latest of the pass, so a busy shop is not read again back to
	// its last order with a code.
	Latest time.Time
	// Horizon, if not zero, caps the watermark the pass leaves: the next
	// pass starts from it or earlier, whatever Latest says. A listing
	// sorted by something that does not change with an order (its id, its
	// creation) can miss an order changed while the pass ran, behind its
	// cursor; its collector passes the shop's time when the pass began,
	// so the next pass reads such orders again.
	Horizon time.Time
}

// NewOrderBook returns an empty book: each listing's first pass is a full
// count.
func NewOrderBook() *OrderBook {
	return &OrderBook{orders: map[string]Order{}, listings: map[string]*listing{}}
}

func (b *OrderBook) listing(name string) *listing {
	l, ok := b.listings[name]
	if !ok {
		l = &listing{}
		b.listings[name] = l
	}
	return l
}

// Resume returns the named listing's pass under way, to continue from its
// cursor, or starts a new pass: from the watermark less overlap, or a full
// count (zero Since) if no pass ended yet.
func (b *OrderBook) Resume(name string, overlap time.Duration) Pass {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.listing(name)
	if l.pass == nil {
		l.pass = &pass{}
		if l.done && !l.watermark.IsZero() {
			l.pass.since = l.watermark.Add(-overlap)
		}
	}
	return Pass{Since: l.pass.since, Cursor: l.pass.cursor, Full: !l.done, Resumed: l.pass.cursor != ""}
}

// ApplyPage stores the orders of one page of the named listing's pass and
// moves the pass on to p.Next. A page without Next ends the pass: the
// watermark moves to the latest time the pass saw (capped by its
// horizon), and ApplyPage returns true.
func (b *OrderBook) ApplyPage(name string, p Page) bool {
	ended := b.applyPage(name, p)
	if ended && b.store != nil {
		b.saveMu.Lock()
		defer b.saveMu.Unlock()
		b.mu.Lock()
		st := b.stateLocked()
		b.mu.Unlock()
		b.store.storage.Save(b.store.collector, "orders", st)
	}
	return ended
}

func (b *OrderBook) applyPage(name string, p Page) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, o := range p.Orders {
		if old, ok := b.orders[o.ID]; ok {
			o = merge(old, o)
		}
		b.orders[o.ID] = o
	}
	l := b.listing(name)
	if l.pass == nil {
		l.pass = &pass{}
	}
	ps := l.pass
	if p.Latest.After(ps.latest) {
		ps.latest = p.Latest
	}
	if !p.Horizon.IsZero() && (ps.horizon.IsZero() || p.Horizon.Before(ps.horizon)) {
		ps.horizon = p.Horizon
	}
	if p.Next != "" {
		ps.cursor = p.Next
		return false
	}
	w := l.watermark
	if ps.latest.After(w) {
		w = ps.latest
	}
	if !ps.horizon.IsZero() && (w.IsZero() || w.After(ps.horizon)) {
		w = ps.horizon
	}
	l.watermark, l.done, l.pass = w, true, nil
	return true
}

// Put stores orders outside a listing's pages, by the same rule as
// ApplyPage: for a state the collector learnt otherwise (a pending order
// it gives up waiting for).
func (b *OrderBook) Put(orders ...Order) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, o := range orders {
		if old, ok := b.orders[o.ID]; ok {
			o = merge(old, o)
		}
		b.orders[o.ID] = o
	}
}

// Watermark returns where the named listing's next pass starts from,
// before the overlap: the latest time its ended passes saw (zero if none
// ended, or none saw an order).
func (b *OrderBook) Watermark(name string) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.listing(name).watermark
}

// Restart drops the named listing's pass under way, keeping what it
// counted: the next Resume starts a new pass. For a cursor the shop no
// longer takes.
func (b *OrderBook) Restart(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.listing(name).pass = nil
}

// Len returns the number of orders held.
func (b *OrderBook) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.orders)
}

// Samples returns the redemption, revenue and refund counters and the
// pending orders gauge of codes, by the counting rule above.
// Pass only the codes the shop knows and whose listings ended their pass
// this refresh: a configured code the shop does not have is Missing, one
// whose count is under way Skipped, and their series are absent rather
// than zero. Codes match case-insensitively; orders created before the
// code's campaign start do not count. A known code nobody used yet has
// zero redemptions; revenue series exist per currency seen.
func (b *OrderBook) Samples(provider string, codes []CodeRef) []Sample {
	type key struct{ code, currency string }
	type tally struct {
		n, refunds, pending float64
		revenue, refund     map[string]float64
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
				switch o.State {
				case OrderPending:
					t.pending++
				case OrderPaid:
					t.n++
					t.revenue[o.Currency] += o.Total
					if o.Refunded > 0 {
						t.refunds++
						t.refund[o.Currency] += o.Refunded
					}
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
			CodeRefunds.Sample(t.refunds, c.Campaign, c.Creator, provider, c.Code.Code),
			CodePendingOrders.Sample(t.pending, c.Campaign, c.Creator, provider, c.Code.Code))
		for _, cur := range sortedKeys(t.revenue) {
			out = append(out, CodeRevenue.Sample(roundMicro(t.revenue[cur]), c.Campaign, c.Creator, provider, c.Code.Code, cur))
			out = append(out, CodeRefundedRevenue.Sample(roundMicro(t.refund[cur]), c.Campaign, c.Creator, provider, c.Code.Code, cur))
		}
	}
	return out
}

// CodeReport gathers one refresh of a shop collector: every configured
// code ends in one of Counted (exported from the book), Skip (its count
// under way, or not looked up yet: it keeps its values) or Missing.
// Finish returns the samples.
type CodeReport struct {
	counted []CodeRef
	errs    []error
}

// Counted reports a code the shop knows whose listings ended their pass
// this refresh: its counters come from the book.
func (r *CodeReport) Counted(ref CodeRef) { r.counted = append(r.counted, ref) }

// Skip records a code this refresh did not finish counting or looking up,
// with err (wrapping ErrOutOfTime) as the reason (see Skipped).
func (r *CodeReport) Skip(ref CodeRef, err error) {
	r.errs = append(r.errs, Skipped(ref.Object(), err))
}

// Missing records a configured code the shop does not have, with err
// (wrapping ErrNotFound) as the reason (see Missing).
func (r *CodeReport) Missing(ref CodeRef, err error) {
	r.errs = append(r.errs, Missing(ref.Object(), err))
}

// Finish returns the book's samples of the counted codes (see
// OrderBook.Samples), with a PartialError if codes were skipped or
// missing.
func (r *CodeReport) Finish(b *OrderBook, provider string) ([]Sample, error) {
	return b.Samples(provider, r.counted), Partial(r.errs)
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

// Object returns the code as an object of the coverage, for Missing and
// Skipped: its id is the code as configured, the label value.
func (c CodeRef) Object() Object {
	return Object{Kind: KindCode, Campaign: c.Campaign, Creator: c.Creator, ID: c.Code.Code}
}

// UnreadableOrders are orders that used a configured code but could not be
// read (an amount or status that is not a number or a known word), by order
// id. Their codes cannot be counted until the order reads cleanly: the
// collector reports each such code missing with Reasons, and never a total
// that leaves the order out.
type UnreadableOrders map[string]UnreadableOrder

// UnreadableOrder is one order that could not be read: the codes it used
// and why.
type UnreadableOrder struct {
	Codes []string
	Err   error
}

// Reasons returns, by lower-case code, why each code kept counts cannot be
// counted: the first unreadable order by id that used it. name turns an
// order id into the one the error shows; prefix names the provider (and
// shop) as every error does.
func (u UnreadableOrders) Reasons(prefix string, keep func(code string) bool, name func(id string) string) map[string]error {
	ids := make([]string, 0, len(u))
	for id := range u {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := map[string]error{}
	for _, id := range ids {
		for _, code := range u[id].Codes {
			k := strings.ToLower(strings.TrimSpace(code))
			if keep(k) && out[k] == nil {
				out[k] = fmt.Errorf("%s: order %s cannot be read, so the code's orders are not counted: %w", prefix, name(id), u[id].Err)
			}
		}
	}
	return out
}

package exporter

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestOrderBookCountingRule(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	start := t0.Add(time.Hour)
	codes := []CodeRef{
		{Campaign: "spring", Creator: "alice", Start: &start, Code: &Code{Code: "ALICE10"}},
		{Campaign: "spring", Creator: "bob", Code: &Code{Code: "bob15"}},
	}
	b := NewOrderBook()
	if p := b.Resume("orders", time.Minute); !p.Full || !p.Since.IsZero() || p.Cursor != "" {
		t.Fatalf("first refresh: %+v", p)
	}
	b.ApplyPage("orders", Page{Orders: []Order{
		{ID: "1", Codes: []string{"alice10"}, Currency: "EUR", Total: 40, Created: t0.Add(2 * time.Hour), Updated: t0.Add(2 * time.Hour)},
		{ID: "2", Codes: []string{"Alice10", "ALICE10"}, Currency: "EUR", Total: 60, Created: t0.Add(3 * time.Hour), Updated: t0.Add(3 * time.Hour)},
		{ID: "3", Codes: []string{"ALICE10"}, Currency: "USD", Total: 25, Created: t0.Add(4 * time.Hour), Updated: t0.Add(4 * time.Hour)},
		{ID: "4", Codes: []string{"ALICE10"}, Currency: "EUR", Total: 99, Created: t0, Updated: t0}, // before the campaign
		{ID: "5", Codes: []string{"BOB15"}, Currency: "EUR", Total: 10, Created: t0, Updated: t0},
	}, Latest: t0.Add(4 * time.Hour)})
	// Order 2 is cancelled and refunded in full, order 1 partly refunded:
	// counters keep them, refunds are counted apart, each order once.
	if p := b.Resume("orders", time.Minute); p.Full || !p.Since.Equal(t0.Add(4*time.Hour-time.Minute)) {
		t.Errorf("incremental refresh: %+v", p)
	}
	b.ApplyPage("orders", Page{Orders: []Order{
		{ID: "2", Codes: []string{"ALICE10"}, Currency: "EUR", Total: 60, Refunded: 60, Created: t0.Add(3 * time.Hour), Updated: t0.Add(5 * time.Hour)},
		{ID: "1", Codes: []string{"alice10"}, Currency: "EUR", Total: 40, Refunded: 5.5, Created: t0.Add(2 * time.Hour), Updated: t0.Add(6 * time.Hour)},
	}, Latest: t0.Add(6 * time.Hour)})
	if p := b.Resume("orders", time.Minute); p.Full || !p.Since.Equal(t0.Add(6*time.Hour-time.Minute)) {
		t.Errorf("incremental refresh: %+v", p)
	}
	want := `
# HELP influencer_code_redemptions_total Orders that used a creator's discount code.
# TYPE influencer_code_redemptions_total counter
influencer_code_redemptions_total{campaign="spring",code="ALICE10",creator="alice",provider="shop"} 3
influencer_code_redemptions_total{campaign="spring",code="bob15",creator="bob",provider="shop"} 1
# HELP influencer_code_refunded_revenue_total Revenue refunded on orders that used a creator's discount code, in major units of the currency.
# TYPE influencer_code_refunded_revenue_total counter
influencer_code_refunded_revenue_total{campaign="spring",code="ALICE10",creator="alice",currency="EUR",provider="shop"} 65.5
influencer_code_refunded_revenue_total{campaign="spring",code="ALICE10",creator="alice",currency="USD",provider="shop"} 0
influencer_code_refunded_revenue_total{campaign="spring",code="bob15",creator="bob",currency="EUR",provider="shop"} 0
# HELP influencer_code_pending_orders Orders that used a creator's discount code and are not paid yet; never counted in revenue.
# TYPE influencer_code_pending_orders gauge
influencer_code_pending_orders{campaign="spring",code="ALICE10",creator="alice",provider="shop"} 0
influencer_code_pending_orders{campaign="spring",code="bob15",creator="bob",provider="shop"} 0
# HELP influencer_code_refunds_total Paid orders that used a creator's discount code and had money refunded (full or partial), once each.
# TYPE influencer_code_refunds_total counter
influencer_code_refunds_total{campaign="spring",code="ALICE10",creator="alice",provider="shop"} 2
influencer_code_refunds_total{campaign="spring",code="bob15",creator="bob",provider="shop"} 0
# HELP influencer_code_revenue_total Revenue of orders that used a creator's discount code, in major units of the currency.
# TYPE influencer_code_revenue_total counter
influencer_code_revenue_total{campaign="spring",code="ALICE10",creator="alice",currency="EUR",provider="shop"} 100
influencer_code_revenue_total{campaign="spring",code="ALICE10",creator="alice",currency="USD",provider="shop"} 25
influencer_code_revenue_total{campaign="spring",code="bob15",creator="bob",currency="EUR",provider="shop"} 10
`
	if err := compareSamples(b.Samples("shop", codes), want); err != nil {
		t.Error(err)
	}
	if b.Len() != 5 {
		t.Errorf("orders held = %d, want 5", b.Len())
	}
}

func TestCodesConfig(t *testing.T) {
	cfg := `collectors:
  - type: fake
campaigns:
  - name: spring
    start: 2026-05-01T00:00:00Z
    creators:
      - name: alice
        codes:
          - {collector: fake, code: ALICE10}
      - name: bob
        codes:
          - {collector: fake, code: alice10}
          - {collector: fake, code: ""}
          - {collector: nope, code: BOB}
`
	_, err := ParseConfig("codes.yml", []byte(cfg))
	for _, want := range []string{
		`codes.yml:12:31: campaigns[0].creators[1].codes[0].code: duplicate code "alice10" (first at campaigns[0].creators[0].codes[0]; shops match codes case-insensitively)`,
		`codes.yml:13:31: campaigns[0].creators[1].codes[1].code: discount code is empty`,
		`codes.yml:14:14: campaigns[0].creators[1].codes[2].collector: unknown collector "nope" (configured: fake)`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing error %q in:\n%v", want, err)
		}
	}
	good, err := ParseConfig("codes.yml", []byte(strings.SplitAfter(cfg, "code: ALICE10}\n")[0]))
	if err != nil {
		t.Fatal(err)
	}
	refs := good.CodesFor("fake")
	if len(refs) != 1 || refs[0].Start == nil || !refs[0].Start.Equal(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)) || refs[0].Creator != "alice" {
		t.Errorf("CodesFor = %+v", refs)
	}
}

func TestOrderBookSumsAreStable(t *testing.T) {
	b := NewOrderBook()
	var orders []Order
	for i := 0; i < 500; i++ {
		orders = append(orders, Order{ID: fmt.Sprint(i), Codes: []string{"X"}, Currency: "EUR", Total: 12.01 + float64(i%7)*0.1, Created: time.Unix(int64(i), 0)})
	}
	b.ApplyPage("orders", Page{Orders: orders})
	codes := []CodeRef{{Campaign: "c", Creator: "k", Code: &Code{Code: "X"}}}
	first := b.Samples("shop", codes)
	for i := 0; i < 20; i++ {
		again := b.Samples("shop", codes)
		for j := range first {
			if again[j].Value != first[j].Value {
				t.Fatalf("sample %d: %v then %v", j, first[j].Value, again[j].Value)
			}
		}
	}
}

// TestOrderBookListings: passes across refreshes, their cursors, the
// watermark each leaves, and what a page read twice counts.
func TestOrderBookListings(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	order := func(id string, m int) Order {
		return Order{ID: id, Codes: []string{"X"}, Currency: "EUR", Total: 10, Created: at(m), Updated: at(m)}
	}
	type step struct {
		page  *Page // nil: Resume only
		ended bool
		want  Pass // what Resume says after the step
	}
	tests := []struct {
		name    string
		steps   []step
		restart bool // Restart before the last Resume
		orders  int
		mark    time.Time
	}{
		{"a first pass over two refreshes", []step{
			{nil, false, Pass{Full: true}},
			{&Page{Orders: []Order{order("1", 1), order("2", 2)}, Next: "c1", Latest: at(2)}, false, Pass{Full: true, Cursor: "c1", Resumed: true}},
			// The next refresh reads the cursor's page, with an order of
			// the first page again (it moved): counted once.
			{&Page{Orders: []Order{order("2", 2), order("3", 3)}, Latest: at(3)}, true, Pass{Since: at(1)}},
		}, false, 3, at(3)},
		{"a later pass starts from the watermark less the overlap", []step{
			{&Page{Orders: []Order{order("1", 10)}, Latest: at(30)}, true, Pass{Since: at(28)}},
			{&Page{Next: "2", Latest: at(40)}, false, Pass{Since: at(28), Cursor: "2", Resumed: true}},
			{&Page{Latest: at(35)}, true, Pass{Since: at(38)}},
		}, false, 1, at(40)},
		{"a pass without orders keeps the watermark", []step{
			{&Page{Latest: at(30)}, true, Pass{Since: at(28)}},
			{&Page{}, true, Pass{Since: at(28)}},
		}, false, 0, at(30)},
		{"a pass without any order at all reads everything again", []step{
			{&Page{}, true, Pass{}},
		}, false, 0, time.Time{}},
		{"the horizon caps the watermark", []step{
			{&Page{Next: "2", Latest: at(20), Horizon: at(12)}, false, Pass{Full: true, Cursor: "2", Resumed: true}},
			{&Page{Latest: at(40), Horizon: at(15)}, true, Pass{Since: at(10)}},
		}, false, 0, at(12)},
		{"a horizon alone sets the watermark", []step{
			{&Page{Horizon: at(12)}, true, Pass{Since: at(10)}},
		}, false, 0, at(12)},
		{"a horizon later than what the pass saw changes nothing", []step{
			{&Page{Latest: at(20), Horizon: at(50)}, true, Pass{Since: at(18)}},
		}, false, 0, at(20)},
		{"restart drops the cursor, not the orders", []step{
			{&Page{Orders: []Order{order("1", 1)}, Latest: at(30)}, true, Pass{Since: at(28)}},
			{&Page{Orders: []Order{order("2", 31)}, Next: "stale", Latest: at(31)}, false, Pass{Since: at(28), Cursor: "stale", Resumed: true}},
		}, true, 2, at(30)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewOrderBook()
			b.Resume("other", 0) // listings are apart
			for i, st := range tt.steps {
				if st.page != nil {
					b.Resume("l", 2*time.Minute)
					if ended := b.ApplyPage("l", *st.page); ended != st.ended {
						t.Errorf("step %d: ended %t, want %t", i, ended, st.ended)
					}
				}
				if i == len(tt.steps)-1 && tt.restart {
					b.Restart("l")
					st.want = Pass{Since: at(28)}
				}
				if got := b.Resume("l", 2*time.Minute); got != st.want {
					t.Errorf("step %d: Resume = %+v, want %+v", i, got, st.want)
				}
			}
			if b.Len() != tt.orders {
				t.Errorf("orders held %d, want %d", b.Len(), tt.orders)
			}
			if got := b.Watermark("l"); !got.Equal(tt.mark) {
				t.Errorf("watermark %v, want %v", got, tt.mark)
			}
			if p := b.Resume("other", 0); !p.Full || p.Cursor != "" {
				t.Errorf("another listing: %+v", p)
			}
		})
	}
}

func TestCodeRefObject(t *testing.T) {
	c := CodeRef{Campaign: "spring", Creator: "alice", Code: &Code{Code: "Alice10"}}
	if got, want := c.Object(), (Object{Kind: KindCode, Campaign: "spring", Creator: "alice", ID: "Alice10"}); got != want {
		t.Errorf("Object() = %+v, want %+v", got, want)
	}
}

func TestCodeReport(t *testing.T) {
	alice := CodeRef{Campaign: "spring", Creator: "alice", Code: &Code{Code: "ALICE10"}}
	bob := CodeRef{Campaign: "spring", Creator: "bob", Code: &Code{Code: "BOB"}}
	carol := CodeRef{Campaign: "spring", Creator: "carol", Code: &Code{Code: "CAROL"}}
	b := NewOrderBook()
	b.ApplyPage("orders", Page{Orders: []Order{{ID: "1", Codes: []string{"alice10"}, Currency: "EUR", Total: 20}}})

	var r CodeReport
	r.Counted(alice)
	r.Skip(bob, fmt.Errorf("shop: orders with code %q: %w", "BOB", ErrOutOfTime))
	r.Missing(carol, fmt.Errorf("shop: code %q: %w", "CAROL", ErrNotFound))
	samples, err := r.Finish(b, "shop")
	if len(samples) != 5 || samples[0].Value != 1 || samples[0].Label(LabelCreator) != "alice" {
		t.Errorf("samples = %v, want alice's five", samples)
	}
	var pe *PartialError
	if !errors.As(err, &pe) || len(pe.Errs) != 2 {
		t.Fatalf("err = %v, want a partial error of 2 codes", err)
	}
	var oe *ObjectError
	if !errors.As(pe.Errs[0], &oe) || !oe.Skipped || oe.Object != bob.Object() || !errors.Is(oe, ErrOutOfTime) {
		t.Errorf("error 0 = %v, want bob skipped out of time", pe.Errs[0])
	}
	if !errors.As(pe.Errs[1], &oe) || oe.Skipped || oe.Object != carol.Object() || !errors.Is(oe, ErrNotFound) {
		t.Errorf("error 1 = %v, want carol missing", pe.Errs[1])
	}

	var none CodeReport
	if samples, err := none.Finish(b, "shop"); samples != nil || err != nil {
		t.Errorf("empty report = %v, %v; want nothing", samples, err)
	}
}

// TestOrderBookPaymentStates: the one definition every shop maps onto.
// Each step applies orders read again; the figures are ALICE10's.
func TestOrderBookPaymentStates(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	code := CodeRef{Campaign: "spring", Creator: "alice", Code: &Code{Code: "ALICE10"}}
	o := func(id string, total, refunded float64, st OrderState) Order {
		return Order{ID: id, Codes: []string{"alice10"}, Currency: "EUR", Total: total, Refunded: refunded, State: st, Created: t0}
	}
	b := NewOrderBook()
	for i, step := range []struct {
		orders []Order
		want   string // redemptions revenue pending refunds refunded
	}{
		{[]Order{o("paid", 40, 0, OrderPaid), o("later", 25, 0, OrderPending), o("void", 15, 0, OrderPending), o("free", 0, 0, OrderPaid)},
			"2 40 2 0 0"},
		// Paid later: moves from pending to the counters. Cancelled
		// before payment: leaves pending, counts nowhere.
		{[]Order{o("later", 25, 0, OrderPaid), o("void", 15, 0, OrderVoid)}, "3 65 0 0 0"},
		// A partial refund, then another: one refund, both amounts.
		{[]Order{o("paid", 40, 5, OrderPaid)}, "3 65 0 1 5"},
		{[]Order{o("paid", 40, 12.5, OrderPaid)}, "3 65 0 1 12.5"},
		// A counted order read again unpaid, voided, with another total
		// or a smaller refund keeps what was counted.
		{[]Order{o("paid", 99, 1, OrderPending), o("later", 10, 0, OrderVoid)}, "3 65 0 1 12.5"},
		// Refunded in full.
		{[]Order{o("later", 25, 25, OrderPaid)}, "3 65 0 2 37.5"},
		// Never seen before, already void: nowhere.
		{[]Order{o("gone", 80, 0, OrderVoid)}, "3 65 0 2 37.5"},
	} {
		b.ApplyPage("orders", Page{Orders: step.orders})
		v := map[string]float64{}
		for _, s := range b.Samples("shop", []CodeRef{code}) {
			v[s.Metric.Name] += s.Value
		}
		got := fmt.Sprintf("%g %g %g %g %g", v[CodeRedemptions.Name], v[CodeRevenue.Name], v[CodePendingOrders.Name], v[CodeRefunds.Name], v[CodeRefundedRevenue.Name])
		if got != step.want {
			t.Errorf("step %d: got %s, want %s", i, got, step.want)
		}
	}
	if !b.Counted("later") || b.Counted("void") || b.Counted("nope") {
		t.Error("Counted: want later counted, void and nope not")
	}
	// Put stores by the same rule: a void order pending again is pending.
	b.Put(o("void", 15, 0, OrderPending))
	found := false
	for _, s := range b.Samples("shop", []CodeRef{code}) {
		if s.Metric == CodePendingOrders {
			found = true
			if s.Value != 1 || s.Label("code") != "ALICE10" {
				t.Errorf("after Put: pending %g %v, want 1 for ALICE10", s.Value, s.LabelValues)
			}
		}
	}
	if !found {
		t.Error("no pending orders sample")
	}
}

func TestUnreadableOrdersReasons(t *testing.T) {
	u := UnreadableOrders{
		"9":  {Codes: []string{"ALICE10"}, Err: errors.New(`total "12,5" is not a number`)},
		"10": {Codes: []string{" alice10", "BOB"}, Err: errors.New("unknown status")},
		"11": {Codes: []string{"OTHER"}, Err: errors.New("ignored: not configured")},
	}
	got := u.Reasons("shop x", func(k string) bool { return k != "other" }, func(id string) string { return "#" + id })
	want := map[string]string{
		// "10" sorts before "9": the first unreadable order by id wins.
		"alice10": "shop x: order #10 cannot be read, so the code's orders are not counted: unknown status",
		"bob":     "shop x: order #10 cannot be read, so the code's orders are not counted: unknown status",
	}
	if len(got) != len(want) {
		t.Fatalf("reasons = %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] == nil || got[k].Error() != w {
			t.Errorf("reason[%s] = %v, want %q", k, got[k], w)
		}
	}
}

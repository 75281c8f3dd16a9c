package exporter

import (
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
	if since, full := b.Since(time.Minute); !full || !since.IsZero() {
		t.Fatalf("first refresh: since %v, full %t", since, full)
	}
	b.Apply([]Order{
		{ID: "1", Codes: []string{"alice10"}, Currency: "EUR", Total: 40, Created: t0.Add(2 * time.Hour), Updated: t0.Add(2 * time.Hour)},
		{ID: "2", Codes: []string{"Alice10", "ALICE10"}, Currency: "EUR", Total: 60, Created: t0.Add(3 * time.Hour), Updated: t0.Add(3 * time.Hour)},
		{ID: "3", Codes: []string{"ALICE10"}, Currency: "USD", Total: 25, Created: t0.Add(4 * time.Hour), Updated: t0.Add(4 * time.Hour)},
		{ID: "4", Codes: []string{"ALICE10"}, Currency: "EUR", Total: 99, Created: t0, Updated: t0}, // before the campaign
		{ID: "5", Codes: []string{"BOB15"}, Currency: "EUR", Total: 10, Created: t0, Updated: t0},
	})
	// Order 2 is cancelled and refunded in full, order 1 partly refunded:
	// counters keep them, refunds are counted apart.
	b.Apply([]Order{
		{ID: "2", Codes: []string{"ALICE10"}, Currency: "EUR", Total: 60, Refunded: 60, Cancelled: true, Created: t0.Add(3 * time.Hour), Updated: t0.Add(5 * time.Hour)},
		{ID: "1", Codes: []string{"alice10"}, Currency: "EUR", Total: 40, Refunded: 5.5, Created: t0.Add(2 * time.Hour), Updated: t0.Add(6 * time.Hour)},
	})
	if since, full := b.Since(time.Minute); full || !since.Equal(t0.Add(6*time.Hour-time.Minute)) {
		t.Errorf("incremental refresh: since %v, full %t", since, full)
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
# HELP influencer_code_refunds_total Orders that used a creator's discount code and were later cancelled or fully refunded.
# TYPE influencer_code_refunds_total counter
influencer_code_refunds_total{campaign="spring",code="ALICE10",creator="alice",provider="shop"} 1
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
	b.Apply(orders)
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
	b.Advance(time.Unix(10_000, 0))
	if since, _ := b.Since(0); !since.Equal(time.Unix(10_000, 0)) {
		t.Errorf("watermark after Advance = %v", since)
	}
}

package woocommerce_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const twoCreators = spring + `
      - name: alice
        codes:
          - {collector: woocommerce, code: alice10}
      - name: bob
        codes:
          - {collector: woocommerce, code: bob15}
`

// TestCoverage: a code the store has no coupon for is missing, with the
// reason; a coupon nobody used yet is exported at zero, not missing.
func TestCoverage(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddStream(fakeapi.OrderStream{Code: "alice10", Amount: 40, Currency: "EUR", Initial: 2})
	sb.fake.AddCode("carol5")
	env := exportertest.Build(t, sb.config(`{}`, spring+`
      - name: alice
        codes:
          - {collector: woocommerce, code: alice10}
      - name: carol
        codes:
          - {collector: woocommerce, code: CAROL5}
      - name: nina
        codes:
          - {collector: woocommerce, code: NOPE}
`))
	_, err := poll(t, env)
	exportertest.AssertOneMissing(t, err, exporter.Object{Kind: exporter.KindCode, Campaign: "spring", Creator: "nina", ID: "NOPE"},
		`woocommerce: coupon "NOPE" (campaigns[0].creators[2].codes[0])`)

	cache := exporter.NewCache()
	(&exporter.Scheduler{Cache: cache}).Refresh(context.Background(), env.Instance(t, "woocommerce"))
	exportertest.CheckCodes(t, cache, "woocommerce", "refresh", exportertest.Codes{
		Gaps: "[missing code spring/nina/NOPE]", Reasons: []string{"no coupon with this code"},
		Objects: "map[code exported:2 code missing:1 code skipped:0]", Redemptions: "map[CAROL5:0 alice10:2]",
	})
}

// TestResume: refreshes cut short keep the pages they read and continue
// the listing where it stopped; the codes are exported once the count is
// complete and keep their last values while the next one is under way.
func TestResume(t *testing.T) {
	sb := newSandbox(t, token)
	// Ids sort alice's orders first, then bob's, then others': 12 orders
	// before the start, 6 pages of 2.
	sb.fake.AddStream(fakeapi.OrderStream{Code: "alice10", PerMinute: 1, Amount: 40, Currency: "EUR", Initial: 5})
	sb.fake.AddStream(fakeapi.OrderStream{Code: "bob15", PerMinute: 1, Amount: 30, Currency: "EUR", Initial: 4})
	sb.fake.AddStream(fakeapi.OrderStream{Code: "other", Amount: 10, Currency: "EUR", Initial: 3})
	cut := exportertest.NewCutoff(sb.fake)
	cfg := configAt(exportertest.Serve(t, cut), `{per_page: 2}`, twoCreators)
	env := exportertest.Build(t, cfg)
	cache := exporter.NewCache()
	pagesFrom := func(n int) string {
		var pages []int
		for _, r := range sb.fake.OrdersRequests()[n:] {
			pages = append(pages, r.Page)
		}
		return fmt.Sprint(pages)
	}
	const bothSkipped = "[skipped code spring/alice/alice10 skipped code spring/bob/bob15]"

	// Refresh 1: one page of coupons and pages 1 and 2, cut on page 3.
	samples, err := env.PollWithin(t, "woocommerce", cut, 3)
	exportertest.AssertAllSkipped(t, samples, err, bothSkipped)
	if p := pagesFrom(0); p != "[1 2]" {
		t.Fatalf("refresh 1 read pages %s", p)
	}

	// Refresh 2, scheduled: page 2 again, then 3 and 4, cut on 5. The
	// count is not complete: both codes show as skipped, without values.
	env.RefreshWithin(t, cache, "woocommerce", cut, 3)
	if p := pagesFrom(2); p != "[2 3 4]" {
		t.Errorf("refresh 2 read pages %s, want [2 3 4]", p)
	}
	exportertest.CheckCodes(t, cache, "woocommerce", "refresh 2", exportertest.Codes{Redemptions: "map[]", Gaps: bothSkipped})

	// Refresh 3 ends the count.
	env.RefreshWithin(t, cache, "woocommerce", cut, -1)
	if p := pagesFrom(5); p != "[4 5 6]" {
		t.Errorf("refresh 3 read pages %s, want [4 5 6]", p)
	}
	exportertest.CheckCodes(t, cache, "woocommerce", "refresh 3", exportertest.Codes{Redemptions: "map[alice10:5 bob15:4]", Gaps: "[]"})

	// Three minutes on, three new orders each. Refresh 4 is cut: the
	// codes keep their values; refresh 5 ends the pass.
	sb.clock.Add(3 * time.Minute)
	env.RefreshWithin(t, cache, "woocommerce", cut, 2)
	exportertest.CheckCodes(t, cache, "woocommerce", "refresh 4", exportertest.Codes{
		Redemptions: "map[alice10:5 bob15:4]", Gaps: bothSkipped, Objects: "map[code exported:0 code missing:0 code skipped:2]",
	})
	env.RefreshWithin(t, cache, "woocommerce", cut, -1)
	exportertest.CheckCodes(t, cache, "woocommerce", "refresh 5", exportertest.Codes{Redemptions: "map[alice10:8 bob15:7]", Gaps: "[]"})
	exportertest.CompareCacheToPoll(t, cache, exportertest.Build(t, cfg), "woocommerce", exportertest.CodeMetrics...)
}

// aliceOrders is a sandbox with n paid orders with coupon alice10, a
// minute apart from an hour before the start, behind a cutoff, and the
// config reading them one a page. It returns the orders' ids.
func aliceOrders(t *testing.T, n int) (*sandbox, *exportertest.Cutoff, string, []int) {
	t.Helper()
	sb := newSandbox(t, token)
	sb.fake.AddCode("alice10")
	var ids []int
	for i := range n {
		ids = append(ids, sb.fake.PutOrder(paidOrder("processing", "EUR", 10, start.Add(time.Duration(i-60)*time.Minute), "alice10")))
	}
	cut := exportertest.NewCutoff(sb.fake)
	cfg := configAt(exportertest.Serve(t, cut), `{per_page: 1}`, spring+`
      - name: alice
        codes:
          - {collector: woocommerce, code: alice10}
`)
	return sb, cut, cfg, ids
}

// TestResumeSeesChangesBehindItsCursor: an order changed while a pass
// spans refreshes, on a page the pass already read, is read again by the
// next pass, which starts no later than the store's time when this one
// began, however much later the orders the pass read were modified.
func TestResumeSeesChangesBehindItsCursor(t *testing.T) {
	sb, cut, cfg, ids := aliceOrders(t, 4)
	env := exportertest.Build(t, cfg)
	// The lookup and pages 1 and 2; cut on page 3.
	if _, err := env.PollWithin(t, "woocommerce", cut, 3); !exporter.IsPartial(err) {
		t.Fatalf("refresh 1: %v, want partial", err)
	}
	// The first order is refunded (a cancelled paid order is no refund
	// since issue #13); a new one comes after.
	sb.clock.Add(10 * time.Minute)
	cancelled := paidOrder("refunded", "EUR", 10, start.Add(-60*time.Minute), "alice10")
	cancelled.ID, cancelled.Modified = ids[0], start.Add(5*time.Minute)
	sb.fake.PutOrder(cancelled)
	sb.fake.PutOrder(paidOrder("processing", "EUR", 10, start.Add(9*time.Minute), "alice10"))
	// Refresh 2 ends the pass from page 2; refresh 3 reads the
	// cancellation.
	for i := 0; i < 2; i++ {
		if _, err := env.PollWithin(t, "woocommerce", cut, -1); err != nil {
			t.Fatal(err)
		}
	}
	samples, err := env.PollWithin(t, "woocommerce", cut, -1)
	if err != nil {
		t.Fatal(err)
	}
	want, err := exportertest.Build(t, cfg).Poll(t, "woocommerce")
	if err != nil {
		t.Fatal(err)
	}
	exportertest.CompareText(t, samples, string(exportertest.Exposition(t, want)))
	exportertest.CompareText(t, samples, `
# HELP influencer_code_refunds_total Paid orders that used a creator's discount code and had money refunded (full or partial), once each.
# TYPE influencer_code_refunds_total counter
influencer_code_refunds_total{campaign="spring",code="alice10",creator="alice",provider="woocommerce"} 1
`, exporter.CodeRefunds.Name)
}

// TestResumeAfterTrash: an order trashed while a pass spans refreshes
// shifts the pages forward; reading the last page again, the pass still
// reads the order that moved onto it.
func TestResumeAfterTrash(t *testing.T) {
	sb, cut, cfg, ids := aliceOrders(t, 5)
	env := exportertest.Build(t, cfg)
	// The lookup and pages 1 and 2 (the first two orders); cut on page 3.
	if _, err := env.PollWithin(t, "woocommerce", cut, 3); !exporter.IsPartial(err) {
		t.Fatalf("refresh 1: %v, want partial", err)
	}
	trashed := paidOrder("trash", "EUR", 10, start.Add(-60*time.Minute), "alice10")
	trashed.ID, trashed.Modified = ids[0], start.Add(time.Minute)
	sb.fake.PutOrder(trashed)
	sb.clock.Add(2 * time.Minute)
	samples, err := env.PollWithin(t, "woocommerce", cut, -1)
	if err != nil {
		t.Fatal(err)
	}
	// All five orders counted once: the third is on page 2 now.
	exportertest.CompareText(t, samples, `
# HELP influencer_code_redemptions_total Orders that used a creator's discount code.
# TYPE influencer_code_redemptions_total counter
influencer_code_redemptions_total{campaign="spring",code="alice10",creator="alice",provider="woocommerce"} 5
`, exporter.CodeRedemptions.Name)
}

// TestResumeBeforeDeadline: a store whose first count cannot finish
// before the refresh's deadline is counted over several refreshes, never
// from the start again, and ends at the exact totals.
func TestResumeBeforeDeadline(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddStream(fakeapi.OrderStream{Code: "alice10", Amount: 40, Currency: "EUR", Initial: 30, CancelEvery: 4, CancelAfter: time.Minute})
	sb.fake.AddStream(fakeapi.OrderStream{Code: "bob15", Amount: 20, Currency: "USD", Initial: 10})
	env := exportertest.Build(t, sb.config(`{per_page: 2}`, twoCreators)) // 20 pages
	cache, refreshes := env.RefreshSlowly(t, &sb.fake.Faults, "woocommerce", "[skipped code spring/alice/alice10 skipped code spring/bob/bob15]")
	// Each page once, but for the last page of a refresh read again by
	// the next and one cut in flight a refresh.
	if n := len(sb.fake.OrdersRequests()); n < 20 || n > 20+2*refreshes {
		t.Errorf("%d pages served for 20, in %d refreshes", n, refreshes)
	}
	exportertest.CompareCacheToPoll(t, cache, exportertest.Build(t, sb.config(`{}`, twoCreators)), "woocommerce", exportertest.CodeMetrics...)
}

// TestPlan: a page of coupons (a lookup for one code) and one page of
// orders.
func TestPlan(t *testing.T) {
	sb := newSandbox(t, token)
	tests := []struct {
		options, creators string
		calls             int
		note              string
	}{
		{`{}`, twoCreators, 2, "1 pages of the coupon listing"},
		{`{per_page: 20}`, twoCreators, 2, "1 page of up to 20 orders"},
		{`{}`, spring + "      - name: alice\n        codes:\n          - {collector: woocommerce, code: alice10}\n", 2, "1 coupon lookups"},
		{`{}`, spring + "      - name: nobody\n", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.options, func(t *testing.T) {
			exportertest.Build(t, sb.config(tt.options, tt.creators)).AssertPlan(t, "woocommerce", tt.calls, tt.note)
		})
	}
}

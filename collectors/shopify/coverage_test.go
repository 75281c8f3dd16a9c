package shopify_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/shopify"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// TestCoverage: a code the shop does not have is missing, with the reason;
// a code nobody used yet is exported at zero, not missing.
func TestCoverage(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddOrder(fakeapi.Order{Code: "ALICE", Currency: "USD", Total: 10, Created: start.Add(time.Minute)})
	sb.fake.AddCode("carol5")
	sb.at(time.Minute)
	env := exportertest.Build(t, sb.config("", "{}", spring("alice", "NOPE", "CAROL5")))

	_, err := poll(t, env)
	// The reason names the code and where it is configured.
	exportertest.AssertOneMissing(t, err, exporter.Object{Kind: exporter.KindCode, Campaign: "spring", Creator: "creator2", ID: "NOPE"},
		`discount code "NOPE" (campaigns[0].creators[1].codes[0])`)

	cache := exporter.NewCache()
	(&exporter.Scheduler{Cache: cache}).Refresh(context.Background(), env.Instance(t, "shopify"))
	exportertest.CheckCodes(t, cache, "shopify", "refresh", exportertest.Codes{
		Gaps: "[missing code spring/creator2/NOPE]", Reasons: []string{`discount code "NOPE"`, "not found"},
		Objects: "map[code exported:2 code missing:1 code skipped:0]", Redemptions: "map[CAROL5:0 alice:1]",
	})
}

// TestResume: refreshes cut short keep the pages they read and continue
// the listing with a search from the newest update read, and export the
// codes only once the count is complete; codes whose count is under way
// keep their last values.
func TestResume(t *testing.T) {
	sb := newSandbox(t, token)
	// Orders at 1..n minutes: alice one a minute, bob one every two.
	sb.fake.AddStream(fakeapi.OrderStream{Code: "ALICE", PerMinute: 1, Amount: 10, Currency: "USD"})
	sb.fake.AddStream(fakeapi.OrderStream{Code: "BOB", PerMinute: 0.5, Amount: 20, Currency: "USD"})
	// Sorted by update: alice 1, 2, bob 1, alice 3, 4, bob 2, alice 5, 6,
	// bob 3, alice 7.
	sb.at(7 * time.Minute)
	cut := exportertest.NewCutoff(sb.fake)
	srv := exportertest.Serve(t, cut)
	cfg := strings.Replace(sb.config("", "{page_size: 2, codes_per_query: 1}", spring("alice", "bob")), sb.srv.URL, srv, 1)
	env := exportertest.Build(t, cfg)
	cache := exporter.NewCache()
	const begun = "created_at:>='2026-05-01T12:00:00Z'"

	// Refresh 1: the code check and the first page (alice 1, 2); cut on
	// the second. Nothing is complete: both codes are skipped.
	samples, err := env.PollWithin(t, "shopify", cut, 2)
	exportertest.AssertAllSkipped(t, samples, err, "[skipped code spring/creator1/alice skipped code spring/creator2/bob]")
	pages := sb.fake.Stats().Pages
	if len(pages) != 1 || pages[0].Query != begun || pages[0].After != "" || pages[0].EndCursor == "" {
		t.Fatalf("refresh 1 pages %+v", pages)
	}

	// Refresh 2, scheduled: a search from the newest update read (alice
	// 2 again, then bob 1 ... alice 5), 3 pages, cut on the fourth.
	env.RefreshWithin(t, cache, "shopify", cut, 3)
	pages = sb.fake.Stats().Pages
	from2 := begun + " AND updated_at:>='2026-05-01T12:02:00Z'"
	if len(pages) != 4 || pages[1].Query != from2 || pages[1].After != "" || pages[2].After != pages[1].EndCursor || pages[3].Query != from2 {
		t.Errorf("refresh 2 did not continue from the newest update read: %+v", pages)
	}
	exportertest.CheckCodes(t, cache, "shopify", "refresh 2", exportertest.Codes{
		Redemptions: "map[]", Gaps: "[skipped code spring/creator1/alice skipped code spring/creator2/bob]",
		Objects: "map[code exported:0 code missing:0 code skipped:2]",
	})

	// Refresh 3 continues from alice 5 and ends the pass.
	env.RefreshWithin(t, cache, "shopify", cut, -1)
	pages = sb.fake.Stats().Pages
	if q := pages[4].Query; q != begun+" AND updated_at:>='2026-05-01T12:05:00Z'" || pages[len(pages)-1].EndCursor != "" {
		t.Errorf("refresh 3 pages %+v", pages[4:])
	}
	exportertest.CheckCodes(t, cache, "shopify", "refresh 3", exportertest.Codes{Redemptions: "map[alice:7 bob:3]", Gaps: "[]"})

	// Four minutes on, both codes sold more. Refresh 4 starts the next
	// pass from the watermark less the overlap and is cut after a page:
	// both codes keep their values.
	sb.at(11 * time.Minute)
	env.RefreshWithin(t, cache, "shopify", cut, 1)
	if q := sb.fake.Stats().Pages[len(pages)].Query; q != begun+" AND updated_at:>='2026-05-01T12:05:00Z'" {
		t.Errorf("refresh 4 searched %s", q)
	}
	exportertest.CheckCodes(t, cache, "shopify", "refresh 4", exportertest.Codes{
		Redemptions: "map[alice:7 bob:3]", Gaps: "[skipped code spring/creator1/alice skipped code spring/creator2/bob]",
		Reasons: []string{`discount code "`, exporter.ErrOutOfTime.Error()},
	})

	// Refresh 5 ends the pass: every value is the shop's truth.
	env.RefreshWithin(t, cache, "shopify", cut, -1)
	exportertest.CheckCodes(t, cache, "shopify", "refresh 5", exportertest.Codes{Redemptions: "map[alice:11 bob:5]", Gaps: "[]"})
	exportertest.CompareCacheToPoll(t, cache, exportertest.Build(t, cfg), "shopify", exportertest.CodeMetrics...)
}

// TestSearchDepth: a pass that reads more orders than Shopify paginates
// into one search starts a new search from the newest update it read
// before its cursor gets there, and counts every order once.
func TestSearchDepth(t *testing.T) {
	defer shopify.SetSearchDepth(10)()
	sb := newSandbox(t, token)
	sb.fake.SetPaginationLimit(10)
	sb.fake.AddStream(fakeapi.OrderStream{Code: "ALICE", PerMinute: 1, Amount: 10, Currency: "USD"})
	sb.at(25 * time.Minute)
	env := exportertest.Build(t, sb.config("", "{page_size: 4}", spring("alice")))
	samples, err := poll(t, env)
	if err != nil {
		t.Fatal(err)
	}
	exportertest.CompareText(t, samples, exportertest.MetricText(exporter.CodeRedemptions,
		`influencer_code_redemptions_total{campaign="spring",code="alice",creator="creator1",provider="shopify"} 25`), exporter.CodeRedemptions.Name)
	// 25 orders, a search at most 10 deep: 8 (2 pages) from the start,
	// then from minute 8 (orders 8-15), from 15 (15-22), from 22 (22-25).
	var got []string
	for _, p := range sb.fake.Stats().Pages {
		got = append(got, fmt.Sprintf("%s after %t: %d", strings.TrimPrefix(p.Query, "(discount_code:alice) AND created_at:>='2026-05-01T12:00:00Z'"), p.After != "", p.Orders))
	}
	want := []string{
		" after false: 4", " after true: 4",
		" AND updated_at:>='2026-05-01T12:08:00Z' after false: 4", " AND updated_at:>='2026-05-01T12:08:00Z' after true: 4",
		" AND updated_at:>='2026-05-01T12:15:00Z' after false: 4", " AND updated_at:>='2026-05-01T12:15:00Z' after true: 4",
		" AND updated_at:>='2026-05-01T12:22:00Z' after false: 4",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pages\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestResumeBeforeDeadline: a shop whose first count cannot finish before
// the refresh's deadline is counted over several refreshes, never from
// the start again, and ends at the exact totals.
func TestResumeBeforeDeadline(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.SetBucket(100_000, 100_000)
	sb.fake.AddStream(fakeapi.OrderStream{Code: "ALICE", PerMinute: 2, Amount: 30, Currency: "EUR", CancelEvery: 7, CancelAfter: time.Minute})
	sb.at(20 * time.Minute) // 40 orders: 20 pages of 2
	env := exportertest.Build(t, sb.config("", "{page_size: 2}", spring("alice")))
	cache, refreshes := env.RefreshSlowly(t, &sb.fake.Faults, "shopify", "[skipped code spring/creator1/alice]")
	// Each page was asked for once, but for two a refresh: one cut in
	// flight, and one more as a resumed search reads again the orders of
	// the second it starts from (one order, or two where a cancellation
	// and a new order share a second).
	st := sb.fake.Stats()
	if len(st.Pages) < 20 || len(st.Pages) > 20+2*refreshes {
		t.Errorf("%d pages served for 20, in %d refreshes", len(st.Pages), refreshes)
	}
	exportertest.CompareCacheToPoll(t, cache, exportertest.Build(t, sb.config("", "{}", spring("alice"))), "shopify", exportertest.CodeMetrics...)
}

// TestPlan: the code checks, 1,000 codes a query, and one page of the
// orders listing.
func TestPlan(t *testing.T) {
	sb := newSandbox(t, token)
	tests := []struct {
		options string
		codes   []string
		calls   int
		note    string
	}{
		{"{}", []string{"a", "b", "c"}, 2, "first refresh: 1 query checking 3 codes (up to 1000 a query"},
		{"{}", []string{"a", "b", "c"}, 2, "1 page of up to 199 orders, listing the orders with these codes updated since the last refresh"},
		{"{codes_per_query: 2, page_size: 20}", []string{"a", "b", "c"}, 2, "1 page of up to 20 orders, listing every order updated since the last refresh"},
		{"{}", nil, 0, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.codes, tt.options), func(t *testing.T) {
			campaigns := spring(tt.codes...)
			if len(tt.codes) == 0 {
				campaigns = "  - name: spring\n    creators:\n      - name: nobody\n"
			}
			env := exportertest.Build(t, sb.config("", tt.options, campaigns))
			env.AssertPlan(t, "shopify", tt.calls, tt.note)
		})
	}
}

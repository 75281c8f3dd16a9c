package shopify_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

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

// TestResume: refreshes cut short keep the pages they read, continue from
// the cursor, and export a code only once its count is complete; a code
// whose count is under way keeps its last values.
func TestResume(t *testing.T) {
	sb := newSandbox(t, token)
	// Orders at 1..n minutes: alice one a minute, bob one every two.
	sb.fake.AddStream(fakeapi.OrderStream{Code: "ALICE", PerMinute: 1, Amount: 10, Currency: "USD"})
	sb.fake.AddStream(fakeapi.OrderStream{Code: "BOB", PerMinute: 0.5, Amount: 20, Currency: "USD"})
	sb.at(7 * time.Minute) // alice 7 orders (4 pages of 2), bob 3 (2 pages)
	cut := exportertest.NewCutoff(sb.fake)
	srv := exportertest.Serve(t, cut)
	cfg := strings.Replace(sb.config("", "{page_size: 2, codes_per_query: 1}", spring("alice", "bob")), sb.srv.URL, srv, 1)
	env := exportertest.Build(t, cfg)
	cache := exporter.NewCache()

	// Refresh 1: two code checks and alice's first page; cut on the
	// second. Nothing is complete: both codes are skipped.
	samples, err := env.PollWithin(t, "shopify", cut, 3)
	exportertest.AssertAllSkipped(t, samples, err, "[skipped code spring/creator1/alice skipped code spring/creator2/bob]")
	pages := sb.fake.Stats().Pages
	if len(pages) != 1 || pages[0].After != "" || pages[0].EndCursor == "" {
		t.Fatalf("refresh 1 pages %+v", pages)
	}

	// Refresh 2, scheduled: alice continues from the cursor (pages 2-4)
	// and is complete; bob's first page is cut. bob shows as skipped.
	env.RefreshWithin(t, cache, "shopify", cut, 3)
	pages = sb.fake.Stats().Pages
	if len(pages) != 4 || pages[1].After != pages[0].EndCursor || pages[3].EndCursor != "" {
		t.Errorf("refresh 2 did not continue alice's listing from its cursor: %+v", pages)
	}
	exportertest.CheckCodes(t, cache, "shopify", "refresh 2", exportertest.Codes{
		Redemptions: "map[alice:7]", Gaps: "[skipped code spring/creator2/bob]", Objects: "map[code exported:1 code missing:0 code skipped:1]",
	})

	// Refresh 3: bob first (his count is the oldest), then alice's next
	// pass from her watermark. Everything is complete.
	env.RefreshWithin(t, cache, "shopify", cut, -1)
	exportertest.CheckCodes(t, cache, "shopify", "refresh 3", exportertest.Codes{Redemptions: "map[alice:7 bob:3]", Gaps: "[]"})

	// Four minutes on, both codes sold more. Refresh 4 reads bob's new
	// pass (2 pages) and is cut in alice's: alice keeps 7.
	sb.at(11 * time.Minute)
	env.RefreshWithin(t, cache, "shopify", cut, 3)
	exportertest.CheckCodes(t, cache, "shopify", "refresh 4", exportertest.Codes{
		Redemptions: "map[alice:7 bob:5]", Gaps: "[skipped code spring/creator1/alice]",
		Reasons: []string{`discount code "alice"`, exporter.ErrOutOfTime.Error()},
	})

	// Refresh 5 ends alice's pass: every value is the shop's truth.
	env.RefreshWithin(t, cache, "shopify", cut, -1)
	exportertest.CheckCodes(t, cache, "shopify", "refresh 5", exportertest.Codes{Redemptions: "map[alice:11 bob:5]", Gaps: "[]"})
	exportertest.CompareCacheToPoll(t, cache, exportertest.Build(t, cfg), "shopify", exportertest.CodeMetrics...)
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
	// Each page was asked for once, but for one cut in flight a refresh.
	st := sb.fake.Stats()
	if len(st.Pages) < 20 || len(st.Pages) > 20+refreshes {
		t.Errorf("%d pages served for 20, in %d refreshes", len(st.Pages), refreshes)
	}
	exportertest.CompareCacheToPoll(t, cache, exportertest.Build(t, sb.config("", "{}", spring("alice"))), "shopify", exportertest.CodeMetrics...)
}

// TestPlan: one code check and one orders search per group of codes.
func TestPlan(t *testing.T) {
	sb := newSandbox(t, token)
	tests := []struct {
		options string
		codes   []string
		calls   int
		note    string
	}{
		{"{}", []string{"a", "b", "c"}, 2, "1 query checking up to 50 codes"},
		{"{codes_per_query: 2, page_size: 20}", []string{"a", "b", "c"}, 4, "2 orders searches of one page of 20 orders"},
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

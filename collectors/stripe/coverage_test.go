package stripe_test

import (
	"context"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/stripe/stripefake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// cutSandbox is a sandbox whose fake is behind a Cutoff.
func cutSandbox(t *testing.T) (*sandbox, *exportertest.Cutoff) {
	t.Helper()
	clock := exportertest.NewManualClock(t0)
	fake := stripefake.New(token, clock.Now)
	cut := exportertest.NewCutoff(fake)
	return &sandbox{fake: fake, clock: clock, url: exportertest.Serve(t, cut)}, cut
}

// TestCoverage: a code Stripe has no promotion code for is missing, with
// the reason; a promotion code nobody used yet is exported at zero.
func TestCoverage(t *testing.T) {
	sb := newSandbox(t)
	sb.order("ALICE10", 1, "USD", 10, -time.Minute)
	sb.fake.AddCode("CAROL20")
	env := exportertest.Build(t, config(sb.url, token, `{}`, "", creator("alice", "ALICE10"), creator("carol", "carol20"), creator("nina", "NOPE")))
	_, err := poll(t, env)
	exportertest.AssertOneMissing(t, err, exporter.Object{Kind: exporter.KindCode, Campaign: "spring", Creator: "nina", ID: "NOPE"},
		`stripe: promotion code "NOPE" of creator "nina" (campaigns[0].creators[2].codes[0])`)

	cache := exporter.NewCache()
	(&exporter.Scheduler{Cache: cache}).Refresh(context.Background(), env.Instance(t, "stripe"))
	exportertest.CheckCodes(t, cache, "stripe", "refresh", exportertest.Codes{
		Gaps: "[missing code spring/nina/NOPE]", Reasons: []string{"Stripe has no promotion code with this code"},
		Objects: "map[code exported:2 code missing:1 code skipped:0]", Redemptions: "map[ALICE10:1 carol20:0]",
	})
}

// TestResume: refreshes cut short keep the pages of sessions and refunds
// they read and continue each listing from its cursor; the codes are
// exported once both listings are complete, and keep their last values
// while the next count is under way.
func TestResume(t *testing.T) {
	sb, cut := cutSandbox(t)
	// 10 sessions, 5 pages of 2; 2 refunds, 1 page.
	for i := 1; i <= 5; i++ {
		sb.order("ALICE10", i, "USD", float64(10*i), time.Duration(i-40)*time.Minute)
	}
	sb.refund("ALICE10", 1, "USD", 10, -39*time.Minute, 10, -5*time.Minute)
	for i := 1; i <= 3; i++ {
		sb.order("BOB15", i, "EUR", float64(5*i), time.Duration(i-30)*time.Minute)
	}
	sb.refund("BOB15", 1, "EUR", 5, -29*time.Minute, 2, -4*time.Minute)
	sb.order("OTHER5", 1, "USD", 3, -20*time.Minute)
	sb.order("", 1, "USD", 4, -19*time.Minute)
	cfg := config(sb.url, token, `{page_size: 2, checkout_expiry: 30m}`, "", creator("alice", "ALICE10"), creator("bob", "BOB15"))
	env := exportertest.Build(t, cfg)
	cache := exporter.NewCache()
	const bothSkipped = "[skipped code spring/alice/ALICE10 skipped code spring/bob/BOB15]"

	// Refresh 1: two lookups and the first page of sessions, cut on the
	// second.
	samples, err := env.PollWithin(t, "stripe", cut, 3)
	exportertest.AssertAllSkipped(t, samples, err, bothSkipped)

	// Refresh 2, scheduled: sessions pages 2 to 5 from the cursor, cut on
	// the refunds. Not complete: both skipped, without values.
	env.RefreshWithin(t, cache, "stripe", cut, 4)
	cursors := sb.fake.Cursors(pathSessions)
	if len(cursors) != 5 || cursors[0] != "" || cursors[1] == "" || sb.fake.Returned(pathSessions) != 10 {
		t.Errorf("sessions read from cursors %q, %d sessions returned; want 5 pages, continued after the first", cursors, sb.fake.Returned(pathSessions))
	}
	exportertest.CheckCodes(t, cache, "stripe", "refresh 2", exportertest.Codes{Redemptions: "map[]", Gaps: bothSkipped})

	// Refresh 3: a new pass of sessions, then the refunds: complete.
	env.RefreshWithin(t, cache, "stripe", cut, -1)
	exportertest.CheckCodes(t, cache, "stripe", "refresh 3", exportertest.Codes{Redemptions: "map[ALICE10:5 BOB15:3]", Gaps: "[]"})

	// Ten minutes on, two new orders each, one refunded. Refresh 4 is cut
	// in the sessions: the codes keep their values. Refresh 5 ends.
	sb.order("ALICE10", 6, "USD", 60, 2*time.Minute)
	sb.order("ALICE10", 7, "USD", 70, 3*time.Minute)
	sb.refund("BOB15", 4, "EUR", 20, 2*time.Minute, 20, 5*time.Minute)
	sb.order("BOB15", 5, "EUR", 25, 4*time.Minute)
	sb.clock.Advance(10 * time.Minute)
	env.RefreshWithin(t, cache, "stripe", cut, 1)
	exportertest.CheckCodes(t, cache, "stripe", "refresh 4", exportertest.Codes{
		Redemptions: "map[ALICE10:5 BOB15:3]", Gaps: bothSkipped, Objects: "map[code exported:0 code missing:0 code skipped:2]",
	})
	env.RefreshWithin(t, cache, "stripe", cut, -1)
	exportertest.CheckCodes(t, cache, "stripe", "refresh 5", exportertest.Codes{Redemptions: "map[ALICE10:7 BOB15:5]", Gaps: "[]"})
	exportertest.CompareCacheToPoll(t, cache, exportertest.Build(t, cfg), "stripe", exportertest.CodeMetrics...)
}

// TestResumedSessionsHoldRefunds: while a pass of sessions spans
// refreshes, an order can complete above its cursor and be refunded
// before the refunds are read; the refund is not counted then, and the
// next refunds pass reaches back to the newest session that pass saw to
// read it again, however many refunds came after it.
func TestResumedSessionsHoldRefunds(t *testing.T) {
	sb, cut := cutSandbox(t)
	for i := 1; i <= 4; i++ {
		sb.order("ALICE10", i, "USD", 10, time.Duration(10*i-50)*time.Minute)
	}
	env := exportertest.Build(t, config(sb.url, token, `{page_size: 2, checkout_expiry: 30m}`, "", creator("alice", "ALICE10")))
	// The lookup and the newest two sessions; cut on the older two.
	if _, err := env.PollWithin(t, "stripe", cut, 2); !exporter.IsPartial(err) {
		t.Fatalf("refresh 1: %v, want partial", err)
	}
	// Meanwhile order 5 is placed and refunded, then order 1 refunded.
	sb.refund("ALICE10", 5, "USD", 10, time.Minute, 10, 2*time.Minute)
	sb.refund("ALICE10", 1, "USD", 10, -40*time.Minute, 10, 8*time.Minute)
	sb.clock.Advance(10 * time.Minute)
	// Refresh 2 ends the sessions' pass without order 5, and reads both
	// refunds: order 5's is not known yet.
	if _, err := env.PollWithin(t, "stripe", cut, -1); err != nil {
		t.Fatal(err)
	}
	samples, err := env.PollWithin(t, "stripe", cut, -1)
	if err != nil {
		t.Fatal(err)
	}
	labels := `campaign="spring",code="ALICE10",creator="alice",provider="stripe"`
	exportertest.CompareText(t, samples,
		exportertest.MetricText(exporter.CodeRedemptions, "influencer_code_redemptions_total{"+labels+"} 5")+
			exportertest.MetricText(exporter.CodeRefunds, "influencer_code_refunds_total{"+labels+"} 2"),
		exporter.CodeRedemptions.Name, exporter.CodeRefunds.Name)
}

// TestResumeBeforeDeadline: an account whose first count cannot finish
// before the refresh's deadline is counted over several refreshes, never
// from the start again, and ends at the exact totals.
func TestResumeBeforeDeadline(t *testing.T) {
	sb := newSandbox(t)
	// 40 sessions an hour apart, every 5th refunded a minute after: 20
	// pages of sessions, 4 of refunds; a later pass reads one page.
	for i := 1; i <= 40; i++ {
		code, at := "ALICE10", time.Duration(i-41)*time.Hour
		if i%2 == 0 {
			code = "BOB15"
		}
		if i%5 == 0 {
			sb.refund(code, i, "USD", float64(i), at, float64(i), at+time.Minute)
			continue
		}
		sb.order(code, i, "USD", float64(i), at)
	}
	creators := []string{creator("alice", "ALICE10"), creator("bob", "BOB15")}
	env := exportertest.Build(t, config(sb.url, token, `{page_size: 2, checkout_expiry: 30m}`, "", creators...))
	cache, refreshes := env.RefreshSlowly(t, &sb.fake.Faults, "stripe", "[skipped code spring/alice/ALICE10 skipped code spring/bob/BOB15]")
	// The first count read each page of sessions once, but for one cut in
	// flight a refresh; each refresh after it read one page.
	if n := len(sb.fake.Cursors(pathSessions)); n < 20 || n > 20+2*refreshes {
		t.Errorf("%d pages of sessions served for 20, in %d refreshes", n, refreshes)
	}
	exportertest.CompareCacheToPoll(t, cache, exportertest.Build(t, config(sb.url, token, `{}`, "", creators...)), "stripe", exportertest.CodeMetrics...)
}

// TestPlan: a page of promotion codes (a lookup for one code) and one
// page of sessions and of refunds.
func TestPlan(t *testing.T) {
	sb := newSandbox(t)
	tests := []struct {
		options  string
		creators []string
		calls    int
		note     string
	}{
		{`{}`, []string{creator("alice", "ALICE10"), creator("bob", "BOB15", "bob20")}, 3, "1 pages of the promotion code listing"},
		{`{}`, []string{creator("alice", "ALICE10")}, 3, "1 promotion code lookups"},
		{`{page_size: 20}`, []string{creator("alice", "ALICE10")}, 3, "1 page of up to 20 checkout sessions"},
		{`{}`, []string{"      - name: nobody\n"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.options, func(t *testing.T) {
			exportertest.Build(t, config(sb.url, token, tt.options, "", tt.creators...)).AssertPlan(t, "stripe", tt.calls, tt.note)
		})
	}
}

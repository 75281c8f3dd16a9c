package shopify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	_ "github.com/influencer-exporter/influencer_exporter/collectors/shopify"
	"github.com/influencer-exporter/influencer_exporter/collectors/shopify/shopifyfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const token = "shpat_test_5ecret_token"

// start is when every fake shop opens; order streams count from it.
var start = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// sandbox is a fake shop on loopback whose clock the test moves.
type sandbox struct {
	fake *shopifyfake.Server
	srv  *httptest.Server
	mu   sync.Mutex
	now  time.Time
}

func newSandbox(t *testing.T, fakeToken string) *sandbox {
	t.Helper()
	sb := &sandbox{now: start}
	sb.fake = shopifyfake.New(fakeToken, sb.clock)
	sb.srv = httptest.NewServer(sb.fake)
	t.Cleanup(sb.srv.Close)
	return sb
}

func (sb *sandbox) clock() time.Time {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.now
}

// at moves the fake's clock to start+d.
func (sb *sandbox) at(d time.Duration) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.now = start.Add(d)
}

// config renders a config with one shopify collector; http and options
// are YAML flow maps, campaigns the campaigns block.
func (sb *sandbox) config(http, options, campaigns string) string {
	if http == "" {
		http = "{max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 5ms, rate_limit: 1000}"
	}
	return fmt.Sprintf(`
collectors:
  - type: shopify
    base_url: %s
    token: %s
    interval: 1m
    http: %s
    options: %s
campaigns:
%s`, sb.srv.URL, token, http, options, campaigns)
}

// spring is a campaign starting with the fake shop, one code a creator.
func spring(codes ...string) string {
	var b strings.Builder
	b.WriteString("  - name: spring\n    start: 2026-05-01T12:00:00Z\n    creators:\n")
	for i, c := range codes {
		fmt.Fprintf(&b, "      - name: creator%d\n        codes:\n          - {collector: shopify, code: %s}\n", i+1, c)
	}
	return b.String()
}

func poll(t *testing.T, env *exportertest.Env) ([]exporter.Sample, error) {
	t.Helper()
	return env.Instance(t, "shopify").Collector.Poll(context.Background())
}

// hits runs f and returns the API calls it made.
func (sb *sandbox) hits(f func()) int {
	before := sb.fake.Faults.Hits()
	f()
	return sb.fake.Faults.Hits() - before
}

func TestPoll(t *testing.T) {
	sb := newSandbox(t, token)
	// The restore rate is next to nothing, so the bucket the quota gauge
	// shows is exactly what the refreshes spent.
	sb.fake.SetBucket(2000, 0.0001)
	// 3 orders before the campaign (not counted), then 2 a minute; every
	// 5th is cancelled and refunded 2 minutes after it was placed.
	sb.fake.AddStream(fakeapi.OrderStream{Code: "SPRING-ALICE", PerMinute: 2, Amount: 40, Currency: "USD", Initial: 3, CancelEvery: 5, CancelAfter: 2 * time.Minute})
	// The shop has bob's code in lower case; the config in upper.
	sb.fake.AddOrder(fakeapi.Order{Code: "bob15", Currency: "EUR", Total: 80, Created: start.Add(time.Minute)})
	sb.fake.AddOrder(fakeapi.Order{Code: "bob15", Currency: "EUR", Total: 20.5, Refunded: 5, Created: start.Add(2 * time.Minute), Updated: start.Add(3 * time.Minute)})
	sb.fake.AddCode("Carol5") // no order yet
	// Dave's campaign has no start: his older orders count.
	sb.fake.AddOrder(fakeapi.Order{Code: "DAVE", Currency: "USD", Total: 9.99, Created: start.Add(-48 * time.Hour)})
	// A code nobody configured.
	sb.fake.AddOrder(fakeapi.Order{Code: "OTHER", Currency: "USD", Total: 1000, Created: start.Add(time.Minute)})
	sb.at(10 * time.Minute)

	env := exportertest.Build(t, sb.config("", "{}", `
  - name: spring
    start: 2026-05-01T12:00:00Z
    creators:
      - name: alice
        codes:
          - {collector: shopify, code: spring-alice}
      - name: bob
        codes:
          - {collector: shopify, code: BOB15}
      - name: carol
        codes:
          - {collector: shopify, code: CAROL5}
  - name: evergreen
    creators:
      - name: dave
        codes:
          - {collector: shopify, code: dave}
`))
	// First refresh: one code check, one page of orders. Later: one page.
	for i, want := range []int{2, 1} {
		var (
			samples []exporter.Sample
			err     error
		)
		if got := sb.hits(func() { samples, err = poll(t, env) }); got != want {
			t.Errorf("refresh %d: %d API calls, want %d", i+1, got, want)
		}
		if err != nil {
			t.Fatalf("refresh %d: %v", i+1, err)
		}
		exportertest.CompareGolden(t, samples, "poll.prom")
	}
	// The first refresh read every order with the four codes (no start
	// filter: dave's campaign has none), 23+2+1 = 26; the second only
	// those updated since the newest update seen minus 2 minutes.
	st := sb.fake.Stats()
	if st.OrderPages != 2 || st.Throttled != 0 || len(st.Warnings) != 0 {
		t.Errorf("fake stats %+v", st)
	}
	// Spent: 4 (codes) + 2+5×26 (page 1) + 2+5×n (page 2).
	want := 2000 - 4 - (2 + 5*26) - (2 + 5*(st.OrdersServed-26))
	if got := testutil.ToFloat64(env.Metrics.Quota.WithLabelValues("shopify")); got != float64(want) {
		t.Errorf("influencer_api_quota_remaining %g, want %d", got, want)
	}
}

func TestPagination(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddStream(fakeapi.OrderStream{Code: "ALICE", PerMinute: 1, Amount: 25, Currency: "USD"})
	sb.fake.AddStream(fakeapi.OrderStream{Code: "BOB", PerMinute: 0.5, Amount: 60, Currency: "USD"})
	sb.at(5 * time.Minute) // 5 + 2 orders
	env := exportertest.Build(t, sb.config("", "{page_size: 2}", spring("alice", "bob")))
	var (
		samples []exporter.Sample
		err     error
	)
	// 1 code check + ceil(7/2) pages.
	if got := sb.hits(func() { samples, err = poll(t, env) }); got != 5 {
		t.Errorf("%d API calls, want 5", got)
	}
	if err != nil {
		t.Fatal(err)
	}
	if st := sb.fake.Stats(); st.OrderPages != 4 || st.OrdersServed != 7 {
		t.Errorf("fake stats %+v", st)
	}
	exportertest.CompareGolden(t, samples, "pagination.prom")
}

// TestCodesPerQuery: with more codes configured than codes_per_query,
// the listing reads every order and keeps those with a configured code;
// with no more, it searches for the codes.
func TestCodesPerQuery(t *testing.T) {
	codes := []string{"C1", "C2", "C3", "C4", "C5"}
	for _, tc := range []struct {
		options, query string
		served         int
	}{
		{"{codes_per_query: 4}", "created_at:>='2026-05-01T12:00:00Z'", 18},
		{"{codes_per_query: 5}", "(discount_code:C1 OR discount_code:C2 OR discount_code:C3 OR discount_code:C4 OR discount_code:C5) AND created_at:>='2026-05-01T12:00:00Z'", 15},
	} {
		t.Run(tc.options, func(t *testing.T) {
			sb := newSandbox(t, token)
			for _, c := range codes {
				sb.fake.AddStream(fakeapi.OrderStream{Code: c, PerMinute: 1, Amount: 10, Currency: "USD"})
			}
			// A code nobody configured: its orders are read, or not, and
			// never counted.
			sb.fake.AddStream(fakeapi.OrderStream{Code: "OTHER", PerMinute: 1, Amount: 1000, Currency: "USD"})
			sb.at(3 * time.Minute)
			env := exportertest.Build(t, sb.config("", tc.options, spring(codes...)))
			var (
				samples []exporter.Sample
				err     error
			)
			// 1 code check, 1 page of orders.
			if got := sb.hits(func() { samples, err = poll(t, env) }); got != 2 || err != nil {
				t.Fatalf("%d API calls, want 2; err %v", got, err)
			}
			st := sb.fake.Stats()
			if st.OrdersServed != tc.served || len(st.Pages) != 1 || st.Pages[0].Query != tc.query {
				t.Errorf("fake stats %+v", st)
			}
			// 3 orders of each configured code, none of OTHER's.
			if got := exportertest.ShopFigures(samples); !strings.HasPrefix(got, "redemptions=15 revenue=map[USD:178.35") {
				t.Errorf("figures %s", got)
			}
		})
	}
}

const cancelledBefore = `
# HELP influencer_code_pending_orders Orders that used a creator's discount code and are not paid yet; never counted in revenue.
# TYPE influencer_code_pending_orders gauge
influencer_code_pending_orders{campaign="spring",code="ALICE10",creator="creator1",provider="shopify"} 0
# HELP influencer_code_redemptions_total Orders that used a creator's discount code.
# TYPE influencer_code_redemptions_total counter
influencer_code_redemptions_total{campaign="spring",code="ALICE10",creator="creator1",provider="shopify"} 2
# HELP influencer_code_refunded_revenue_total Revenue refunded on orders that used a creator's discount code, in major units of the currency.
# TYPE influencer_code_refunded_revenue_total counter
influencer_code_refunded_revenue_total{campaign="spring",code="ALICE10",creator="creator1",currency="USD",provider="shopify"} 0
# HELP influencer_code_refunds_total Paid orders that used a creator's discount code and had money refunded (full or partial), once each.
# TYPE influencer_code_refunds_total counter
influencer_code_refunds_total{campaign="spring",code="ALICE10",creator="creator1",provider="shopify"} 0
# HELP influencer_code_revenue_total Revenue of orders that used a creator's discount code, in major units of the currency.
# TYPE influencer_code_revenue_total counter
influencer_code_revenue_total{campaign="spring",code="ALICE10",creator="creator1",currency="USD",provider="shopify"} 80
`

// TestCancelledOrder shows the counting rule: an order cancelled after it
// was counted stays in redemptions and revenue; refunds count it apart.
func TestCancelledOrder(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddOrder(fakeapi.Order{Seq: 1, Code: "ALICE10", Currency: "USD", Total: 50, Created: start.Add(time.Minute)})
	sb.fake.AddOrder(fakeapi.Order{Seq: 2, Code: "ALICE10", Currency: "USD", Total: 30, Created: start.Add(2 * time.Minute)})
	sb.at(5 * time.Minute)
	env := exportertest.Build(t, sb.config("", "{}", spring("ALICE10")))
	samples, err := poll(t, env)
	if err != nil {
		t.Fatal(err)
	}
	exportertest.CompareText(t, samples, cancelledBefore)

	// Order 1 is cancelled and refunded in full, order 2 refunded in part:
	// two refunds, each order once (issue #13: partial refunds count too).
	sb.fake.AddOrder(fakeapi.Order{Seq: 1, Code: "ALICE10", Currency: "USD", Total: 50, Cancelled: true, Refunded: 50,
		Created: start.Add(time.Minute), Updated: start.Add(20 * time.Minute)})
	sb.fake.AddOrder(fakeapi.Order{Seq: 2, Code: "ALICE10", Currency: "USD", Total: 30, Refunded: 7.5,
		Created: start.Add(2 * time.Minute), Updated: start.Add(21 * time.Minute)})
	sb.at(22 * time.Minute)
	samples, err = poll(t, env)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.NewReplacer(
		`currency="USD",provider="shopify"} 0`, `currency="USD",provider="shopify"} 57.5`,
		`influencer_code_refunds_total{campaign="spring",code="ALICE10",creator="creator1",provider="shopify"} 0`,
		`influencer_code_refunds_total{campaign="spring",code="ALICE10",creator="creator1",provider="shopify"} 2`,
	).Replace(cancelledBefore)
	exportertest.CompareText(t, samples, want)
}

// TestIncremental reads 3000 orders once, then only what changed.
func TestIncremental(t *testing.T) {
	sb := newSandbox(t, token)
	// Reading 3000 orders costs 15,000 points: a bucket that holds them,
	// so that this test is not about throttling.
	sb.fake.SetBucket(100_000, 100_000)
	// 3000 orders, one a minute, before the shop's start; then 2 a minute.
	// Orders 1000, 2000 and 3000 are cancelled 5 minutes after they were
	// placed: order 3000 (placed at start-1m) while the test runs.
	sb.fake.AddStream(fakeapi.OrderStream{Code: "ALICE", PerMinute: 2, Amount: 30, Currency: "USD", Initial: 3000, CancelEvery: 1000, CancelAfter: 5 * time.Minute})
	env := exportertest.Build(t, sb.config("", "{}", `
  - name: spring
    start: 2026-04-20T00:00:00Z
    creators:
      - name: alice
        codes:
          - {collector: shopify, code: alice}
`))
	refresh := func() (calls, pages, served int) {
		before := sb.fake.Stats()
		calls = sb.hits(func() {
			if _, err := poll(t, env); err != nil {
				t.Fatal(err)
			}
		})
		after := sb.fake.Stats()
		return calls, after.OrderPages - before.OrderPages, after.OrdersServed - before.OrdersServed
	}
	// First: the code check and 16 pages of 199.
	if calls, pages, served := refresh(); calls != 17 || pages != 16 || served != 3000 {
		t.Errorf("first refresh: %d calls, %d pages, %d orders; want 17, 16, 3000", calls, pages, served)
	}
	// Ten minutes on: 20 new orders and order 3000 cancelled. The
	// watermark is order 3000's creation (start-1m), so the overlap of 2
	// minutes re-reads orders 2998 and 2999 too: 23 orders, one page.
	sb.at(10 * time.Minute)
	if calls, pages, served := refresh(); calls != 1 || pages != 1 || served != 23 {
		t.Errorf("second refresh: %d calls, %d pages, %d orders; want 1, 1, 23", calls, pages, served)
	}
	samples, err := poll(t, env)
	if err != nil {
		t.Fatal(err)
	}
	exportertest.CompareGolden(t, samples, "incremental.prom")
}

func TestThrottled(t *testing.T) {
	slow := "{max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 2s, rate_limit: 1000}"

	t.Run("throttled then recovered", func(t *testing.T) {
		sb := newSandbox(t, token)
		sb.fake.SetBucket(1000, 1000)
		sb.fake.AddStream(fakeapi.OrderStream{Code: "ALICE", PerMinute: 1, Amount: 10, Currency: "USD"})
		sb.at(5 * time.Minute)
		env := exportertest.Build(t, sb.config(slow, "{page_size: 20}", spring("alice")))
		if _, err := poll(t, env); err != nil {
			t.Fatal(err)
		}
		// Another client of the app empties the bucket: the page (cost
		// 102) is throttled, waited out (about 0.1s) and sent again.
		sb.fake.SetAvailable(0)
		samples, err := poll(t, env)
		if err != nil {
			t.Fatal(err)
		}
		if st := sb.fake.Stats(); st.Throttled != 1 {
			t.Errorf("throttled %d times, want 1", st.Throttled)
		}
		exportertest.CompareText(t, samples, `
# HELP influencer_code_redemptions_total Orders that used a creator's discount code.
# TYPE influencer_code_redemptions_total counter
influencer_code_redemptions_total{campaign="spring",code="alice",creator="creator1",provider="shopify"} 5
`, "influencer_code_redemptions_total")
		if got := testutil.ToFloat64(env.Metrics.Quota.WithLabelValues("shopify")); got >= 1000 {
			t.Errorf("influencer_api_quota_remaining %g, want the drained bucket", got)
		}
	})

	t.Run("slows down before being throttled", func(t *testing.T) {
		sb := newSandbox(t, token)
		// Pages of 10 cost 52: after two the bucket of 120 holds 15 and
		// the third would be throttled, but the client waits for it.
		sb.fake.SetBucket(120, 1000)
		sb.fake.AddStream(fakeapi.OrderStream{Code: "ALICE", PerMinute: 5, Amount: 10, Currency: "USD"})
		sb.at(5 * time.Minute)
		env := exportertest.Build(t, sb.config(slow, "{page_size: 10}", spring("alice")))
		if _, err := poll(t, env); err != nil {
			t.Fatal(err)
		}
		if st := sb.fake.Stats(); st.Throttled != 0 || st.OrderPages != 3 {
			t.Errorf("fake stats %+v, want 3 pages, none throttled", st)
		}
	})

	t.Run("retries exhausted", func(t *testing.T) {
		sb := newSandbox(t, token)
		sb.fake.AddCode("ALICE")
		sb.fake.ForceThrottle(10)
		env := exportertest.Build(t, sb.config(slow, "{}", spring("alice")))
		_, err := poll(t, env)
		if !errors.Is(err, exporter.ErrRateLimited) || !strings.Contains(err.Error(), "throttled 3 times") {
			t.Errorf("err %v, want rate limited after 3 attempts", err)
		}
		if st := sb.fake.Stats(); st.Throttled != 3 {
			t.Errorf("throttled %d times, want 3", st.Throttled)
		}
	})

	t.Run("wait longer than max_retry_wait", func(t *testing.T) {
		sb := newSandbox(t, token)
		sb.fake.SetBucket(1000, 1) // a point a second
		sb.fake.AddCode("ALICE")
		sb.fake.SetAvailable(0)
		env := exportertest.Build(t, sb.config(slow, "{}", spring("alice")))
		_, err := poll(t, env)
		if !errors.Is(err, exporter.ErrRateLimited) {
			t.Errorf("err %v, want rate limited", err)
		}
		if st := sb.fake.Stats(); st.Throttled != 1 {
			t.Errorf("throttled %d times, want 1: the wait is too long to try again", st.Throttled)
		}
		if got := testutil.ToFloat64(env.Metrics.Quota.WithLabelValues("shopify")); got != 0 {
			t.Errorf("influencer_api_quota_remaining %g, want 0", got)
		}
	})
}

func TestTooManyRequests(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddCode("ALICE")
	sb.fake.Faults.SetRetryAfter(0)
	sb.fake.Faults.Set(fakeapi.RateLimited, 1)
	env := exportertest.Build(t, sb.config("", "{}", spring("alice")))
	if _, err := poll(t, env); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(env.Metrics.Retries.WithLabelValues("shopify")); got != 1 {
		t.Errorf("influencer_api_retries_total %g, want 1", got)
	}
}

func TestWrongToken(t *testing.T) {
	sb := newSandbox(t, "shpat_the_right_one")
	sb.fake.AddCode("ALICE")
	env := exportertest.Build(t, sb.config("", "{}", spring("alice")))
	_, err := poll(t, env)
	if !errors.Is(err, exporter.ErrUnauthorized) {
		t.Fatalf("err %v, want unauthorized", err)
	}
	host := strings.TrimPrefix(sb.srv.URL, "http://")
	for _, want := range []string{"shopify " + host, "HTTP 401: credential refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), token) {
		t.Error("error contains the token")
	}

	exportertest.AssertRefreshDown(t, env, "shopify", []string{token}, "HTTP 401: credential refused")
}

func TestUnknownCode(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddOrder(fakeapi.Order{Code: "ALICE", Currency: "USD", Total: 10, Created: start.Add(time.Minute)})
	sb.at(time.Minute)
	env := exportertest.Build(t, sb.config("", "{}", spring("alice", "NOPE")))
	var (
		samples []exporter.Sample
		err     error
	)
	if got := sb.hits(func() { samples, err = poll(t, env) }); got != 2 {
		t.Errorf("%d API calls, want 2", got)
	}
	if !exporter.IsPartial(err) || !errors.Is(err, exporter.ErrNotFound) {
		t.Fatalf("err %v, want a partial not found", err)
	}
	if !strings.Contains(err.Error(), `discount code "NOPE" (campaigns[0].creators[1].codes[0])`) {
		t.Errorf("error %q does not name the code and where it is configured", err)
	}
	const alice = `
# HELP influencer_code_redemptions_total Orders that used a creator's discount code.
# TYPE influencer_code_redemptions_total counter
influencer_code_redemptions_total{campaign="spring",code="alice",creator="creator1",provider="shopify"} 1
`
	exportertest.CompareText(t, samples, alice, "influencer_code_redemptions_total")

	// The merchant creates the code: the next refresh checks it again.
	sb.fake.AddCode("nope")
	if got := sb.hits(func() { samples, err = poll(t, env) }); got != 2 || err != nil {
		t.Fatalf("%d API calls, err %v; want 2 calls and no error", got, err)
	}
	exportertest.CompareText(t, samples, alice+`influencer_code_redemptions_total{campaign="spring",code="NOPE",creator="creator2",provider="shopify"} 0
`, "influencer_code_redemptions_total")
	// Every code is known now: no more checks.
	if got := sb.hits(func() { _, err = poll(t, env) }); got != 1 || err != nil {
		t.Errorf("%d API calls, err %v; want 1 call", got, err)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name  string
		fault fakeapi.Kind
		want  error
	}{
		{"server error", fakeapi.ServerError, exporter.ErrServer},
		{"malformed body", fakeapi.Malformed, exporter.ErrBadResponse},
		{"timeout", fakeapi.Hang, exporter.ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, token)
			sb.fake.AddCode("ALICE")
			cfg := sb.config("", "{}", spring("alice"))
			cfg = strings.Replace(cfg, "interval: 1m", "interval: 1m\n    timeout: 200ms", 1)
			env := exportertest.Build(t, cfg)
			if _, err := poll(t, env); err != nil {
				t.Fatal(err)
			}
			sb.fake.Faults.Set(tt.fault, -1)
			samples, err := poll(t, env)
			if !errors.Is(err, tt.want) || samples != nil {
				t.Errorf("err %v, samples %d; want %v and none", err, len(samples), tt.want)
			}
			if err != nil && exporter.IsPartial(err) {
				t.Error("a transient failure reported as partial")
			}
		})
	}
}

func TestBadOptions(t *testing.T) {
	sb := newSandbox(t, token)
	good := sb.config("", "%s", spring("alice"))
	tests := []struct {
		name, config, field string
	}{
		{"page size zero", fmt.Sprintf(good, "{page_size: 0}"), "collectors[0].options.page_size"},
		{"page size over the cost cap", fmt.Sprintf(good, "{page_size: 250}"), "collectors[0].options.page_size"},
		{"api version", fmt.Sprintf(good, "{api_version: 2026-11}"), "collectors[0].options.api_version"},
		{"api version latest", fmt.Sprintf(good, "{api_version: latest}"), "collectors[0].options.api_version"},
		{"codes per query", fmt.Sprintf(good, "{codes_per_query: 0}"), "collectors[0].options.codes_per_query"},
		{"overlap too long", fmt.Sprintf(good, "{overlap: 2h}"), "collectors[0].options.overlap"},
		{"overlap not a duration", fmt.Sprintf(good, "{overlap: soon}"), `test.yml:8:24: collectors[0].options.overlap: not a valid duration string: "soon"`},
		{"unknown option", fmt.Sprintf(good, "{pagesize: 10}"), "collectors[0].options.pagesize"},
		{"no base_url", strings.Replace(fmt.Sprintf(good, "{}"), "base_url: "+sb.srv.URL, "", 1), "collectors[0].base_url"},
		{"no token", strings.Replace(fmt.Sprintf(good, "{}"), "token: "+token, "", 1), "collectors[0].token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := exportertest.TryBuild(tt.config)
			var ce *exporter.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("err %v, want a config error naming %s", err, tt.field)
			}
		})
	}
	if _, err := exportertest.TryBuild(fmt.Sprintf(good, "{api_version: unstable, page_size: 199, codes_per_query: 100, overlap: 0s}")); err != nil {
		t.Errorf("valid options: %v", err)
	}
}

// TestDearerThanDocumented: a shop that charges more for a field than
// Shopify's documented costs refuses the first code check and the first
// page as over the single-query limit; the collector learns the cost each
// refusal names, asks again in smaller batches, and keeps them.
func TestDearerThanDocumented(t *testing.T) {
	sb := newSandbox(t, token)
	codes := []string{"C1", "C2", "C3", "C4", "C5"}
	for _, c := range codes {
		sb.fake.AddStream(fakeapi.OrderStream{Code: c, PerMinute: 1, Amount: 10, Currency: "USD"})
	}
	// 300 points a code: 5 codes cost 1500, 3 fit in a query. An order
	// node costs 7 instead of 5: 199 cost 1395, 142 fit in a page.
	sb.fake.SetFieldCost("codeDiscountNodeByCode", 300)
	sb.fake.SetFieldCost("totalPriceSet", 3)
	// A bucket that holds every query: this test is not about throttling.
	sb.fake.SetBucket(100_000, 100_000)
	sb.at(3 * time.Minute)
	env := exportertest.Build(t, sb.config("", "{}", spring(codes...)))
	var (
		samples []exporter.Sample
		err     error
	)
	// Refused check, checks of 3 and 2 codes, refused page, page of 142.
	if got := sb.hits(func() { samples, err = poll(t, env) }); got != 5 || err != nil {
		t.Fatalf("%d API calls, want 5; err %v", got, err)
	}
	if got := exportertest.ShopFigures(samples); !strings.HasPrefix(got, "redemptions=15 ") {
		t.Errorf("figures %s", got)
	}
	if st := sb.fake.Stats(); st.Queries != 5 || len(st.Pages) != 1 {
		t.Errorf("fake stats %+v", st)
	}
	// The next refresh asks for pages the shop takes at once.
	sb.at(4 * time.Minute)
	if got := sb.hits(func() { _, err = poll(t, env) }); got != 1 || err != nil {
		t.Errorf("next refresh: %d API calls, want 1; err %v", got, err)
	}
}

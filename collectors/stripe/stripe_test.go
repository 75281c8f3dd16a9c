package stripe_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/influencer-exporter/influencer_exporter/collectors/stripe"
	"github.com/influencer-exporter/influencer_exporter/collectors/stripe/stripefake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const token = "sk_test_51FAKEsecretKEYforTESTS0123456789"

// t0 is when every test's fake starts.
var t0 = time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)

const (
	pathCodes    = "/v1/promotion_codes"
	pathSessions = "/v1/checkout/sessions"
	pathRefunds  = "/v1/refunds"
)

// sandbox is a fake Stripe on loopback with a clock the test moves.
type sandbox struct {
	fake  *stripefake.Server
	clock *exportertest.ManualClock
	url   string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	clock := exportertest.NewManualClock(t0)
	fake := stripefake.New(token, clock.Now)
	return &sandbox{fake: fake, clock: clock, url: exportertest.Serve(t, fake)}
}

// order adds an explicit order created at t0+at; refunded, if positive,
// is refunded at t0+refundAt.
func (s *sandbox) order(code string, seq int, currency string, total float64, at time.Duration) {
	s.fake.AddOrder(fakeapi.Order{Seq: seq, Code: code, Currency: currency, Total: total, Created: t0.Add(at), Updated: t0.Add(at)})
}

func (s *sandbox) refund(code string, seq int, currency string, total float64, at time.Duration, refunded float64, refundAt time.Duration) {
	s.fake.AddOrder(fakeapi.Order{Seq: seq, Code: code, Currency: currency, Total: total, Created: t0.Add(at),
		Updated: t0.Add(refundAt), Refunded: refunded, Cancelled: refunded >= total})
}

// requests returns the fake's request count per path.
func (s *sandbox) requests() map[string]int {
	return map[string]int{
		pathCodes:    s.fake.Requests(pathCodes),
		pathSessions: s.fake.Requests(pathSessions),
		pathRefunds:  s.fake.Requests(pathRefunds),
		"all":        s.fake.Faults.Hits(),
	}
}

// calls returns the requests per path since before.
func (s *sandbox) calls(before map[string]int) map[string]int {
	out := s.requests()
	for k, v := range before {
		out[k] -= v
	}
	out["by id"] = out["all"] - out[pathCodes] - out[pathSessions] - out[pathRefunds]
	delete(out, "all")
	return out
}

func config(baseURL, tok, options, start string, creators ...string) string {
	campaign := "  - name: spring\n"
	if start != "" {
		campaign += "    start: " + start + "\n"
	}
	return fmt.Sprintf(`
collectors:
  - type: stripe
    base_url: %s/v1
    token: %s
    interval: 1m
    http: {max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 5ms, rate_limit: 1000}
    options: %s
campaigns:
%s    creators:
%s`, baseURL, tok, options, campaign, strings.Join(creators, ""))
}

// creator renders a creator of campaign spring with stripe codes.
func creator(name string, codes ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "      - name: %s\n        codes:\n", name)
	for _, c := range codes {
		fmt.Fprintf(&b, "          - {collector: stripe, code: %q}\n", c)
	}
	return b.String()
}

// poll polls the stripe collector, its values rounded to a millionth:
// exporter.OrderBook sums floats in map order, so the last bits of a sum
// of many orders vary from call to call.
func poll(t *testing.T, env *exportertest.Env) ([]exporter.Sample, error) {
	t.Helper()
	samples, err := env.Poll(t, "stripe")
	for i := range samples {
		samples[i].Value = math.Round(samples[i].Value*1e6) / 1e6
	}
	return samples, err
}

func mustPoll(t *testing.T, env *exportertest.Env) []exporter.Sample {
	t.Helper()
	samples, err := poll(t, env)
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	return samples
}

func TestPoll(t *testing.T) {
	sb := newSandbox(t)
	// The shop spells the codes its own way; the config's spelling is
	// the label.
	sb.order("alice10", 1, "USD", 40, -30*time.Minute)
	sb.order("alice10", 2, "USD", 60.5, -20*time.Minute)
	sb.order("alice10", 3, "EUR", 25.5, -10*time.Minute)
	sb.order("alice10", 4, "USD", 99, -2*time.Hour) // before the campaign
	sb.order("BOB15", 1, "JPY", 1200, -15*time.Minute)
	sb.refund("BOB15", 2, "USD", 80, -40*time.Minute, 5.5, -5*time.Minute) // partly refunded
	sb.order("BOB15", 3, "KWD", 12.35, -3*time.Minute)
	sb.order("OTHER5", 1, "USD", 10, -12*time.Minute) // nobody's code
	sb.order("", 1, "USD", 11, -11*time.Minute)       // no code
	sb.fake.AddCode("CAROL20")                        // nobody used it yet
	// Redemptions on invoices raise times_redeemed, not the metric.
	sb.fake.RedeemOutsideCheckout("alice10", 7)

	env := exportertest.Build(t, config(sb.url, token, `{}`, "2025-05-01T11:00:00Z",
		creator("alice", "ALICE10"), creator("bob", "Bob15"), creator("carol", "carol20")))
	before := sb.requests()
	exportertest.CompareGolden(t, mustPoll(t, env), "poll.prom")
	// One page of promotion codes for the three codes, one page of
	// sessions, one of refunds.
	want := map[string]int{pathCodes: 1, pathSessions: 1, pathRefunds: 1, "by id": 0}
	if got := sb.calls(before); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("first refresh calls %v, want %v", got, want)
	}
	// The codes are known now: no lookups, the same values.
	before = sb.requests()
	exportertest.CompareGolden(t, mustPoll(t, env), "poll.prom")
	want = map[string]int{pathCodes: 0, pathSessions: 1, pathRefunds: 1, "by id": 0}
	if got := sb.calls(before); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("second refresh calls %v, want %v", got, want)
	}
	if got := env.Retries("stripe"); got != 0 {
		t.Errorf("retries %g", got)
	}
}

// TestCancelledOrder shows the counting rule: an order cancelled after it
// was counted keeps its redemption and revenue; refunds count apart.
func TestCancelledOrder(t *testing.T) {
	sb := newSandbox(t)
	sb.order("ALICE10", 1, "EUR", 40, time.Minute)
	sb.order("ALICE10", 2, "EUR", 20, 2*time.Minute)
	sb.clock.Advance(5 * time.Minute)
	env := exportertest.Build(t, config(sb.url, token, `{}`, "", creator("alice", "ALICE10")))
	text := func(redemptions, revenue, refunds, refunded string) string {
		labels := `campaign="spring",code="ALICE10",creator="alice",provider="stripe"`
		cur := `campaign="spring",code="ALICE10",creator="alice",currency="EUR",provider="stripe"`
		return exportertest.MetricText(exporter.CodePendingOrders, "influencer_code_pending_orders{"+labels+"} 0") +
			exportertest.MetricText(exporter.CodeRedemptions, "influencer_code_redemptions_total{"+labels+"} "+redemptions) +
			exportertest.MetricText(exporter.CodeRefundedRevenue, "influencer_code_refunded_revenue_total{"+cur+"} "+refunded) +
			exportertest.MetricText(exporter.CodeRefunds, "influencer_code_refunds_total{"+labels+"} "+refunds) +
			exportertest.MetricText(exporter.CodeRevenue, "influencer_code_revenue_total{"+cur+"} "+revenue)
	}
	exportertest.CompareText(t, mustPoll(t, env), text("2", "60", "0", "0"))

	// Order 1 is cancelled and refunded in full, order 2 refunded in part:
	// two refunds, each order once (issue #13: partial refunds count too).
	sb.refund("ALICE10", 1, "EUR", 40, time.Minute, 40, 10*time.Minute)
	sb.refund("ALICE10", 2, "EUR", 20, 2*time.Minute, 2.5, 11*time.Minute)
	sb.clock.Advance(10 * time.Minute)
	exportertest.CompareText(t, mustPoll(t, env), text("2", "60", "2", "42.5"))
	// Read again within the overlap: counted once.
	sb.clock.Advance(time.Minute)
	exportertest.CompareText(t, mustPoll(t, env), text("2", "60", "2", "42.5"))
}

func TestPagination(t *testing.T) {
	sb := newSandbox(t)
	for i := 1; i <= 4; i++ {
		sb.refund("ALICE10", i, "USD", float64(10*i), time.Duration(i)*time.Minute, float64(i), time.Duration(10+i)*time.Minute)
	}
	sb.refund("BOB15", 1, "USD", 7, 5*time.Minute, 7, 15*time.Minute)
	sb.refund("OTHER5", 1, "USD", 3, 6*time.Minute, 3, 16*time.Minute)
	sb.clock.Advance(20 * time.Minute)
	env := exportertest.Build(t, config(sb.url, token, `{page_size: 2}`, "",
		creator("alice", "ALICE10"), creator("bob", "BOB15")))
	before := sb.requests()
	exportertest.CompareGolden(t, mustPoll(t, env), "pagination.prom")
	// 6 sessions and 6 refunds, two a page: three pages each.
	want := map[string]int{pathCodes: 2, pathSessions: 3, pathRefunds: 3, "by id": 0}
	if got := sb.calls(before); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	if got := sb.fake.Returned(pathSessions); got != 6 {
		t.Errorf("sessions returned %d, want 6", got)
	}
}

// TestIncremental reads a shop of 3000 orders once, then only what is new.
func TestIncremental(t *testing.T) {
	sb := newSandbox(t)
	stream := fakeapi.OrderStream{Code: "ALICE10", PerMinute: 1, Amount: 30, Currency: "USD", Initial: 3000,
		CancelEvery: 100, CancelAfter: 10 * time.Minute}
	sb.fake.AddStream(stream)
	cfg := config(sb.url, token, `{checkout_expiry: 30m}`, "", creator("alice", "ALICE10"))
	env := exportertest.Build(t, cfg)

	before := sb.requests()
	mustPoll(t, env)
	want := map[string]int{pathCodes: 1, pathSessions: 30, pathRefunds: 1, "by id": 0}
	if got := sb.calls(before); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("first refresh calls %v, want %v", got, want)
	}
	if got := sb.fake.Returned(pathSessions); got != 3000 {
		t.Errorf("first refresh read %d sessions, want 3000", got)
	}

	// Ten minutes on: ten new orders, and order 3000 is cancelled.
	sb.clock.Advance(10 * time.Minute)
	before = sb.requests()
	returned := sb.fake.Returned(pathSessions)
	samples := mustPoll(t, env)
	want = map[string]int{pathCodes: 0, pathSessions: 1, pathRefunds: 1, "by id": 0}
	if got := sb.calls(before); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("incremental refresh calls %v, want %v", got, want)
	}
	// The sessions created in the last checkout_expiry + overlap before
	// the newest one seen (33 of them), and the 10 new ones.
	if got := sb.fake.Returned(pathSessions) - returned; got != 43 {
		t.Errorf("incremental refresh read %d sessions, want 43", got)
	}
	exportertest.CompareGolden(t, samples, "incremental.prom")

	// A collector reading everything now agrees with the incremental one.
	fresh := exportertest.Build(t, cfg)
	exportertest.CompareGolden(t, mustPoll(t, fresh), "incremental.prom")
}

// TestSlowCheckout: a session is created when the customer opens it and
// completes later; the incremental read reaches back far enough for it.
func TestSlowCheckout(t *testing.T) {
	sb := newSandbox(t)
	sb.fake.SetCheckoutDuration(25 * time.Minute)
	sb.order("ALICE10", 1, "USD", 10, time.Minute)
	sb.clock.Advance(2 * time.Minute)
	env := exportertest.Build(t, config(sb.url, token, `{checkout_expiry: 30m, overlap: 1m}`, "", creator("alice", "ALICE10")))
	mustPoll(t, env)
	// Opened 25 minutes before it completes: before the first refresh,
	// and before the newest session that refresh saw.
	sb.order("ALICE10", 2, "USD", 20, 5*time.Minute)
	sb.clock.Advance(5 * time.Minute)
	exportertest.CompareText(t, mustPoll(t, env), exportertest.MetricText(exporter.CodeRedemptions,
		`influencer_code_redemptions_total{campaign="spring",code="ALICE10",creator="alice",provider="stripe"} 2`),
		exporter.CodeRedemptions.Name)
}

func TestRateLimited(t *testing.T) {
	sb := newSandbox(t)
	sb.order("ALICE10", 1, "USD", 10, -time.Minute)
	env := exportertest.Build(t, config(sb.url, token, `{}`, "", creator("alice", "ALICE10")))
	sb.fake.Faults.SetRetryAfter(0)
	sb.fake.Faults.Set(fakeapi.RateLimited, 1)
	samples := mustPoll(t, env)
	exportertest.CompareText(t, samples, exportertest.MetricText(exporter.CodeRedemptions,
		`influencer_code_redemptions_total{campaign="spring",code="ALICE10",creator="alice",provider="stripe"} 1`),
		exporter.CodeRedemptions.Name)
	if got := env.Retries("stripe"); got != 1 {
		t.Errorf("influencer_api_retries_total %g, want 1", got)
	}
	if got := testutil.ToFloat64(env.Metrics.Requests.WithLabelValues("stripe", "429")); got != 1 {
		t.Errorf("429 answers counted %g, want 1", got)
	}
	// Throttled for good: the refresh fails with Stripe's message.
	sb.fake.Faults.Set(fakeapi.RateLimited, -1)
	samples, err := poll(t, env)
	exportertest.AssertFailed(t, samples, err, exporter.ErrRateLimited, token, "stripe:", "invalid_request_error/rate_limit: Request rate limit exceeded")
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name  string
		fault fakeapi.Kind
		want  error
		text  string
	}{
		{"server error", fakeapi.ServerError, exporter.ErrServer, "api_error: An unknown error occurred"},
		{"malformed body", fakeapi.Malformed, exporter.ErrBadResponse, "decode JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t)
			sb.order("ALICE10", 1, "USD", 10, -time.Minute)
			env := exportertest.Build(t, config(sb.url, token, `{}`, "", creator("alice", "ALICE10")))
			mustPoll(t, env)
			sb.order("ALICE10", 2, "USD", 20, 0)
			sb.fake.Faults.Set(tt.fault, -1)
			samples, err := poll(t, env)
			exportertest.AssertFailed(t, samples, err, tt.want, token, "stripe: list checkout sessions", tt.text)
			sb.fake.Faults.Set(fakeapi.None, 0)
			exportertest.CompareText(t, mustPoll(t, env), exportertest.MetricText(exporter.CodeRedemptions,
				`influencer_code_redemptions_total{campaign="spring",code="ALICE10",creator="alice",provider="stripe"} 2`),
				exporter.CodeRedemptions.Name)
		})
	}
}

// TestFailedRefunds: a refresh that read the sessions but failed on the
// refunds fails; the next one counts the sessions once and the refunds.
// TestFailedRefunds: a refunds listing that fails, whatever the error,
// costs neither the redemptions nor the revenue: they are exported, the
// refund counters keep their last values, and the problem shows on the
// landing page with the collector up. (Before issue #13 the whole
// refresh failed.)
func TestFailedRefunds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"forbidden", http.StatusForbidden, `{"error":{"type":"invalid_request_error","message":"The provided key 'rk_test_***' does not have the required permissions for this endpoint."}}`, "HTTP 403"},
		{"not found", http.StatusNotFound, `{"error":{"type":"invalid_request_error","message":"Unrecognized request URL (GET: /v1/refunds)."}}`, "HTTP 404"},
		{"server error", http.StatusInternalServerError, `{"error":{"type":"api_error","message":"An unknown error occurred"}}`, "HTTP 500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := exportertest.NewManualClock(t0)
			fake := stripefake.New(token, clock.Now)
			var failRefunds atomic.Bool
			url := exportertest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if failRefunds.Load() && r.URL.Path == pathRefunds {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(tc.status)
					fmt.Fprint(w, tc.body)
					return
				}
				fake.ServeHTTP(w, r)
			}))
			sb := &sandbox{fake: fake, clock: clock, url: url}
			sb.order("ALICE10", 1, "USD", 10, -time.Minute)
			env := exportertest.Build(t, config(url, token, `{}`, "", creator("alice", "ALICE10")))
			mustPoll(t, env)

			sb.refund("ALICE10", 1, "USD", 10, -time.Minute, 10, 2*time.Minute)
			sb.order("ALICE10", 2, "USD", 20, 3*time.Minute)
			clock.Advance(5 * time.Minute)
			failRefunds.Store(true)
			samples, err := poll(t, env)
			// Order 2 counts; the refund of order 1 waits for the listing.
			exportertest.CompareGolden(t, samples, "refunds_failing.prom")
			objs, rest := exportertest.ObjectErrors(t, err)
			if len(objs) != 0 || len(rest) != 1 || !strings.Contains(rest[0].Error(), "stripe: list refunds") ||
				!strings.Contains(rest[0].Error(), tc.want) || !strings.Contains(rest[0].Error(), "keep their last values") ||
				strings.Contains(rest[0].Error(), token) {
				t.Fatalf("object errors %v, notes %v; want one note on the refunds", objs, rest)
			}

			// Through the scheduler: up, the note on the landing page, and
			// the same values.
			cache := exporter.NewCache()
			(&exporter.Scheduler{Cache: cache}).Refresh(context.Background(), env.Instance(t, "stripe"))
			st := cache.Status()
			if len(st) != 1 || !st[0].Up || !strings.Contains(st[0].LastError, "stripe: list refunds") {
				t.Fatalf("status %+v, want the collector up with the refunds problem shown", st)
			}

			failRefunds.Store(false)
			exportertest.CompareGolden(t, mustPoll(t, env), "after_failure.prom")
		})
	}
}

func TestWrongToken(t *testing.T) {
	sb := newSandbox(t)
	sb.order("ALICE10", 1, "USD", 10, -time.Minute)
	wrong := "sk_test_51WRONGsecretKEYforTESTS9876"
	env := exportertest.Build(t, config(sb.url, wrong, `{}`, "", creator("alice", "ALICE10")))
	samples, err := poll(t, env)
	exportertest.AssertFailed(t, samples, err, exporter.ErrUnauthorized, wrong,
		`stripe: look up promotion code "ALICE10"`, "HTTP 401: invalid_request_error: credential refused")
	// Stripe's echo shows the key's first and last characters around a
	// mask: none of them may show.
	if strings.Contains(err.Error(), wrong[len(wrong)-4:]) {
		t.Errorf("error shows the key's last characters: %v", err)
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("error %q contains the fake's key", err)
	}

	// Through the scheduler: down, with the message on the landing page.
	exportertest.AssertRefreshDown(t, env, "stripe", []string{wrong}, "HTTP 401: invalid_request_error: credential refused")
}

func TestUnknownCode(t *testing.T) {
	sb := newSandbox(t)
	sb.order("ALICE10", 1, "USD", 10, -time.Minute)
	env := exportertest.Build(t, config(sb.url, token, `{}`, "", creator("alice", "ALICE10"), creator("nina", "NOPE")))
	samples, err := poll(t, env)
	exportertest.AssertPartial(t, err, exporter.ErrNotFound, `"NOPE"`, `creator "nina"`, "campaigns[0].creators[1].codes[0]")
	exportertest.CompareGolden(t, samples, "unknown.prom")

	// The shop creates the code: looked up again, then counted.
	before := sb.requests()
	sb.order("nope", 1, "EUR", 5, time.Minute)
	sb.clock.Advance(2 * time.Minute)
	samples = mustPoll(t, env)
	if got := sb.calls(before)[pathCodes]; got != 1 {
		t.Errorf("lookups %d, want 1 (the unknown code only)", got)
	}
	exportertest.CompareText(t, samples, exportertest.MetricText(exporter.CodeRedemptions,
		`influencer_code_redemptions_total{campaign="spring",code="ALICE10",creator="alice",provider="stripe"} 1`,
		`influencer_code_redemptions_total{campaign="spring",code="NOPE",creator="nina",provider="stripe"} 1`),
		exporter.CodeRedemptions.Name)
}

// TestOldAPIVersion: before 2025-01-27 a session has no discounts field;
// the breakdown still names its promotion codes, and codes nobody
// configured are asked for once by id.
func TestOldAPIVersion(t *testing.T) {
	sb := newSandbox(t)
	sb.order("ALICE10", 1, "USD", 10, -3*time.Minute)
	sb.order("OTHER5", 1, "USD", 20, -2*time.Minute)
	sb.order("OTHER5", 2, "USD", 30, -time.Minute)
	env := exportertest.Build(t, config(sb.url, token, `{stripe_version: "2024-06-20"}`, "", creator("alice", "ALICE10")))
	want := exportertest.MetricText(exporter.CodeRevenue,
		`influencer_code_revenue_total{campaign="spring",code="ALICE10",creator="alice",currency="USD",provider="stripe"} 10`)
	for i, byID := range []int{1, 0} {
		before := sb.requests()
		exportertest.CompareText(t, mustPoll(t, env), want, exporter.CodeRevenue.Name)
		if got := sb.calls(before)["by id"]; got != byID {
			t.Errorf("refresh %d: %d lookups by id, want %d", i+1, got, byID)
		}
	}
}

func TestBadOptions(t *testing.T) {
	sb := newSandbox(t)
	tests := []struct {
		name, token, options string
		contains             []string
	}{
		{"version", token, `{stripe_version: latest}`, []string{"collectors[0].options.stripe_version", `got "latest"`}},
		{"page size", token, `{page_size: 101}`, []string{"collectors[0].options.page_size", "between 1 and 100"}},
		{"zero page size", token, `{page_size: 0}`, []string{"collectors[0].options.page_size"}},
		{"checkout expiry", token, `{checkout_expiry: 48h}`, []string{"collectors[0].options.checkout_expiry", "between 30m and 24h"}},
		{"overlap", token, `{overlap: 2d}`, []string{"collectors[0].options.overlap"}},
		{"unknown option", token, `{version: x}`, []string{"collectors[0].options.version"}},
		{"publishable key", "pk_test_123456789", `{}`, []string{"collectors[0].token", "publishable key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exportertest.AssertConfigError(t, config(sb.url, tt.token, tt.options, "", creator("alice", "ALICE10")), tt.contains...)
		})
	}
}

func TestDefaults(t *testing.T) {
	if stripe.DefaultVersion != stripefake.DefaultAPIVersion {
		t.Errorf("the fake's account default %s differs from the pinned %s", stripefake.DefaultAPIVersion, stripe.DefaultVersion)
	}
	if stripe.DefaultBaseURL != "https://api.stripe.com/v1" {
		t.Error(stripe.DefaultBaseURL)
	}
}

// TestPromotionCodeListing: codes not found yet are found in the
// account's promotion code listing, 100 a page, up to as many pages as
// there are codes to find; a listing that ends settles every code (one it
// lacks is missing), one that does not leaves the codes it did not find
// to a lookup each.
func TestPromotionCodeListing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		codes []string
		calls int // GET /v1/promotion_codes, pages and lookups
	}{
		// 250 promotion codes are 3 pages, within 5 codes' worth.
		{"listed", []string{"c000", "c120", "c249", "c200", "nope"}, 3},
		// Two pages (c249 to c050), then c000 and nope looked up.
		{"looked up", []string{"c000", "nope"}, 2 + 2},
		{"one code", []string{"nope"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t)
			for i := range 250 {
				sb.fake.AddCode(fmt.Sprintf("c%03d", i))
			}
			var creators []string
			for i, code := range tc.codes {
				creators = append(creators, creator(fmt.Sprintf("creator%d", i), code))
			}
			env := exportertest.Build(t, config(sb.url, token, `{}`, "2025-05-01T11:00:00Z", creators...))
			before := sb.requests()
			_, err := poll(t, env)
			exportertest.AssertObjectKeys(t, err, fmt.Sprintf("missing code spring/creator%d/nope", len(tc.codes)-1))
			if got := sb.calls(before)[pathCodes]; got != tc.calls {
				t.Errorf("%d calls to %s, want %d", got, pathCodes, tc.calls)
			}
		})
	}
}

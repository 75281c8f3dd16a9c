// Package stripe counts, per creator's promotion code, the Stripe Checkout
// Sessions (orders) that used it, their revenue and their refunds.
//
// Counting follows the rule of exporter.OrderBook (docs/metrics.md, "Shop
// metrics: one definition"). An order is a complete Checkout Session whose
// discounts name a promotion code with a configured code (matched
// case-insensitively, as Stripe keeps codes unique regardless of case).
// Once paid (payment_status paid or no_payment_required) it counts once in
// influencer_code_redemptions_total, and its amount_total (what the
// customer paid: after the discount, with tax and shipping) counts in
// influencer_code_revenue_total, in major units of the session's currency
// (the account's, under Adaptive Pricing from API version 2025-03-31; the
// buyer's presentment_details are not read), zero- and three-decimal
// currencies converted as Stripe defines them. A session completed unpaid
// (a delayed payment method) counts in influencer_code_pending_orders
// until it is paid, or until its payment intent says the payment failed
// (void); sessions still unpaid are read again each refresh, up to 30
// days. Refunds never lower those counters: they add to
// influencer_code_refunded_revenue_total, and a session with any refund,
// full or partial, adds 1 to influencer_code_refunds_total.
//
// Redemptions come from the sessions, not from the promotion code's
// times_redeemed. That counter is lifetime (blind to the campaign start)
// and also counts redemptions on invoices and subscriptions, for which no
// session, and so no revenue, can be attributed; redemptions and revenue
// would then describe different orders. Stripe documents no decrement of
// times_redeemed, but it is not read for the metric anyway. The price:
// codes redeemed outside Checkout (invoices, the subscription API) are not
// counted. A session in subscription mode counts with its first invoice's
// amount_total; its refunds (on the invoice's payment, which the session
// does not name) are not attributed.
//
// Refunds come from the refund list, matched to sessions by their
// PaymentIntent; a session's charge is not read, since a session is never
// re-read once past the window below. A pending refund counts when first
// seen; one that fails later stays counted (counters never go down). A
// session completed with a delayed payment method whose payment fails
// later stays counted too: Stripe records no refund for it.
//
// Incremental refreshes. The first refresh reads every complete session,
// and every refund, created since the earliest campaign start (all of them
// if a campaign has no start). Later ones read sessions created since the
// newest one seen minus checkout_expiry and overlap, and refunds created
// since the newest one seen minus overlap. A session's created time is
// when the customer opened it, not when they paid: Stripe lets it
// complete up to its expires_at, 30 minutes to 24 hours later (24 hours
// unless the shop sets it), hence checkout_expiry. Sessions and refunds
// are deduplicated by id.
//
// A refresh that runs out of time keeps what it read: each page of
// sessions or refunds is counted as it comes, and the next refresh
// continues the listing from its starting_after cursor (Stripe lists
// newest first, and the cursor stays put as newer objects arrive above
// it); a session completed behind the cursor while a pass runs is read
// by the next pass, which reaches checkout_expiry back. The refunds are
// read only in a refresh whose sessions' pass ended, so that their
// sessions are known. Until both listings' passes end in the same
// refresh, the codes are reported skipped and keep their last values
// (none before the first full count): see exporter.OrderBook for why
// running totals are not exported. A failed call still fails the whole
// refresh, keeping the last good values (the pages read before it stay
// counted), except the refunds listing: when it fails, whatever the
// error, the sessions' figures are exported, the refund counters keep the
// values of the last refresh that read every refund, and the failure is
// a note on the landing page, logged once per change.
//
// Calls per refresh, for C configured codes:
//
//   - for the codes not found yet (all C on the first refresh; a code's id
//     never changes, so found codes are not asked for again): pages of the
//     account's promotion codes, GET /promotion_codes, page_size a page, up
//     to as many pages as such codes, and GET /promotion_codes?code=… for
//     each code a listing that did not end within them left unfound (for
//     a single code, only that). 10,000 codes in an account of 10,000
//     promotion codes cost 100 pages, not 10,000 lookups;
//   - ceil(S/page_size) pages (at least 1) of GET /checkout/sessions
//     ?status=complete&created[gte]=…&expand[]=data.total_details.breakdown
//     &expand[]=data.payment_intent
//     (and &expand[]=data.discounts.promotion_code from version 2025-01-27
//     on), S being every complete session in the window, with a code or
//     not: Stripe cannot filter sessions by promotion code;
//   - ceil(R/page_size) pages (at least 1) of GET /refunds?created[gte]=…;
//   - GET /promotion_codes/{id} once per promotion code id that a session's
//     breakdown names but neither its expanded discounts, a lookup nor an
//     earlier call did: none with the default version, one per code
//     nobody configured with a stripe_version before 2025-01-27, whose
//     sessions have no discounts field.
//
// Measured against the fake (tests): 3 codes, 8 sessions, 1 refund cost
// 1+1+1 calls, then 0+1+1; 3000 sessions cost 1+30+1 calls, and a
// refresh ten minutes later 0+1+1, reading 43 sessions. Plan counts the
// promotion code calls and one page of each listing.
//
// Stripe sends no rate-limit headers; it allows 100 requests a second in
// live mode and 25 in test mode, and answers 429 with code rate_limit
// beyond.
package stripe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Option defaults and limits.
const (
	// DefaultPageSize is Stripe's maximum list page.
	DefaultPageSize = 100
	maxPageSize     = 100
	// DefaultOverlap is how far before the newest object seen a refresh
	// reads again: longer than a refresh takes, so an object created
	// while the previous refresh ran is not missed.
	DefaultOverlap = 2 * time.Minute
	// DefaultCheckoutExpiry is Stripe's default (and longest) Checkout
	// Session lifetime.
	DefaultCheckoutExpiry = 24 * time.Hour
	minCheckoutExpiry     = 30 * time.Minute
	maxCheckoutExpiry     = 24 * time.Hour
)

var versionRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$`)

func init() {
	exporter.Register("stripe", New)
}

// options are the stripe collector's provider options.
type options struct {
	// StripeVersion is sent as the Stripe-Version header.
	StripeVersion string `yaml:"stripe_version"`
	// PageSize is how many objects one list page asks for.
	PageSize int `yaml:"page_size"`
	// Overlap is how far before the newest session and refund seen an
	// incremental refresh starts reading.
	Overlap model.Duration `yaml:"overlap"`
	// CheckoutExpiry is the longest time a Checkout Session of the shop
	// stays open: lower it if the shop sets a shorter expires_at, to read
	// fewer sessions again each refresh.
	CheckoutExpiry model.Duration `yaml:"checkout_expiry"`
}

// tracked is a session that used a configured code, with its refunds.
type tracked struct {
	order      exporter.Order
	intent     string
	totalMinor int64
	refunds    map[string]int64 // refund id -> amount, minor units
	refundedAt time.Time
	// num/den converts a refund in the buyer's currency to the order's
	// (the account's): 1/1 but for a legacy Adaptive Pricing session
	// (currency_conversion), whose charge is in the buyer's currency
	// (unconfirmed: a refund in the account's currency is kept as is).
	num, den int64
}

// addRefund records a refund in the order's minor units.
func (t *tracked) addRefund(r refund) {
	amount := r.Amount
	if t.den > 0 && t.num != t.den && !strings.EqualFold(r.Currency, t.order.Currency) {
		amount = int64(math.Round(float64(amount) * float64(t.num) / float64(t.den)))
	}
	t.refunds[r.ID] = amount
}

func (t *tracked) clone() *tracked {
	c := *t
	c.refunds = maps.Clone(t.refunds)
	return &c
}

// settle derives the order's refund fields from its refunds.
func (t *tracked) settle() {
	var sum int64
	for _, a := range t.refunds {
		sum += a
	}
	t.order.Refunded = majorUnits(t.order.Currency, sum)
	t.order.Updated = t.order.Created
	if t.refundedAt.After(t.order.Updated) {
		t.order.Updated = t.refundedAt
	}
}

type collector struct {
	name, typ string
	api       *api
	logger    *slog.Logger
	opts      options
	codes     []exporter.CodeRef
	keys      []string          // distinct lower-case codes, file order
	spelled   map[string]string // lower-case code -> code as first configured
	// since is where a full read starts: the earliest campaign start, or
	// zero if a campaign has none.
	since time.Time
	book  *exporter.OrderBook

	mu       sync.Mutex
	promo    map[string]string // promotion code id -> its code ("" if unknown)
	found    map[string]bool   // lower-case configured code -> exists
	sessions map[string]*tracked
	byIntent map[string]string // payment intent -> session id
	// lookups orders the code lookups, least recently done first.
	lookups *exporter.Rotation
	// lastRefunds are the refund counters of the last refresh that read
	// every refund; refundsProblem is the refunds listing's last error
	// ("" when it worked), logged when it changes.
	lastRefunds    []exporter.Sample
	refundsProblem string

	// testMode: the key is a test-mode key (sk_test_…, rk_test_…), which
	// sees test data only.
	testMode bool
}

// New builds a stripe collector from its config block.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	opts := options{
		StripeVersion:  DefaultVersion,
		PageSize:       DefaultPageSize,
		Overlap:        model.Duration(DefaultOverlap),
		CheckoutExpiry: model.Duration(DefaultCheckoutExpiry),
	}
	// An option that does not decode keeps its default, so the checks
	// below still run and --config.check shows every error at once.
	var errs []error
	if err := cc.DecodeOptions(&opts); err != nil {
		errs = append(errs, err)
	}
	p := cc.Path() + ".options."
	if !versionRE.MatchString(opts.StripeVersion) {
		errs = append(errs, cfg.Errorf(p+"stripe_version", "must be a Stripe API version like %s, got %q", DefaultVersion, opts.StripeVersion))
	}
	if opts.PageSize < 1 || opts.PageSize > maxPageSize {
		errs = append(errs, cfg.Errorf(p+"page_size", "must be between 1 and %d, got %d", maxPageSize, opts.PageSize))
	}
	if opts.Overlap < 0 || time.Duration(opts.Overlap) > 24*time.Hour {
		errs = append(errs, cfg.Errorf(p+"overlap", "must be between 0s and 24h, got %s", opts.Overlap))
	}
	if e := time.Duration(opts.CheckoutExpiry); e < minCheckoutExpiry || e > maxCheckoutExpiry {
		errs = append(errs, cfg.Errorf(p+"checkout_expiry", "must be between 30m and 24h, the lifetimes Stripe allows a Checkout Session, got %s", opts.CheckoutExpiry))
	}
	switch tok := string(cc.Token); {
	case tok == "":
		errs = append(errs, cfg.Errorf(cc.Path()+".token", "stripe needs a secret key (sk_…) or a restricted key (rk_…): set token, token_env or token_file"))
	case strings.HasPrefix(tok, "pk_"):
		errs = append(errs, cfg.Errorf(cc.Path()+".token", "is a publishable key (pk_…); stripe needs a secret key (sk_…) or a restricted key (rk_…) that may read promotion codes, Checkout Sessions and refunds"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	c := &collector{
		name:     cc.Name,
		typ:      cc.Type,
		testMode: strings.Contains(string(cc.Token), "_test_"),
		logger:   s.Logger,
		opts:     opts,
		codes:    cfg.CodesFor(cc.Name),
		spelled:  map[string]string{},
		book:     exporter.StoredOrderBook(s.Storage, cc, cfg.CodesFor(cc.Name)),
		promo:    map[string]string{},
		found:    map[string]bool{},
		sessions: map[string]*tracked{},
		byIntent: map[string]string{},
		lookups:  exporter.NewRotation(),
	}
	allStart := true
	for _, ref := range c.codes {
		k := strings.ToLower(ref.Code.Code)
		if _, ok := c.spelled[k]; !ok {
			c.spelled[k] = ref.Code.Code
			c.keys = append(c.keys, k)
		}
		switch {
		case ref.Start == nil:
			allStart = false
		case c.since.IsZero() || ref.Start.Before(c.since):
			c.since = *ref.Start
		}
	}
	if !allStart {
		c.since = time.Time{}
	}

	s.Client.SetHooks(exporter.ClientHooks{ErrorMessage: errorMessage, Quota: noQuota, Authorize: exporter.BearerAuth, Classify: classify})
	a := exporter.NewAPI(cc, DefaultBaseURL, s.Client)
	a.Header = http.Header{"Stripe-Version": {opts.StripeVersion}}
	c.api = &api{API: a, pageSize: opts.PageSize, expandDiscounts: opts.StripeVersion >= discountsSince}
	return c, nil
}

// Listings in the book.
const (
	sessionsListing = "checkout sessions"
	refundsListing  = "refunds"
)

// Poll implements exporter.Collector.
func (c *collector) Poll(ctx context.Context) ([]exporter.Sample, error) {
	if len(c.codes) == 0 {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	checked, err := c.lookUpCodes(ctx)
	if err != nil {
		return nil, err
	}

	// Refunds are matched to the sessions known when they are read, so
	// their listing runs only once the sessions' pass has ended. Refunds
	// are optional: a refunds listing that fails (a restricted key
	// without refund access, an outage past the retries) does not cost
	// the redemptions and revenue, which are exported; the refund
	// counters keep the values of the last refresh that read them all,
	// and the failure shows on the landing page (refundsProblem).
	ended := false
	sessionsEnded, resumed, err := c.readSessions(ctx)
	if err != nil {
		return nil, err
	}
	var refundsErr error
	if sessionsEnded {
		ended, refundsErr = c.readRefunds(ctx, resumed)
		if refundsErr != nil {
			ended = true
		}
	}
	c.noteRefunds(refundsErr)

	var r exporter.CodeReport
	for _, ref := range c.codes {
		k := strings.ToLower(ref.Code.Code)
		switch {
		case c.found[k] && ended:
			r.Counted(ref)
		case c.found[k] || !checked[k]:
			r.Skip(ref, fmt.Errorf("stripe: checkout sessions and refunds with promotion code %q: %w", ref.Code.Code, exporter.ErrOutOfTime))
		default:
			r.Missing(ref, fmt.Errorf("stripe: promotion code %q of creator %q (%s): %w: Stripe has no promotion code with this code",
				ref.Code.Code, ref.Creator, ref.Path(), exporter.ErrNotFound))
		}
	}
	samples, perr := r.Finish(c.book, c.typ)
	if refundsErr == nil {
		if ended {
			c.lastRefunds = refundSamples(samples)
		}
		return samples, perr
	}
	samples = withRefunds(samples, c.lastRefunds)
	note := fmt.Errorf("%w; redemptions, revenue and pending orders are exported, refunds and refunded revenue keep their last values", refundsErr)
	var errs []error
	var pe *exporter.PartialError
	if errors.As(perr, &pe) {
		errs = append(errs, pe.Errs...)
	}
	return samples, exporter.Partial(append(errs, note))
}

// noteRefunds logs a change of the refunds listing's state: its failure
// once per distinct error, its recovery once, not every refresh.
func (c *collector) noteRefunds(err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	switch {
	case msg == c.refundsProblem:
	case err != nil:
		c.logger.Warn("refunds cannot be read; redemptions and revenue are exported, refunds keep their last values", "err", err)
	default:
		c.logger.Info("refunds can be read again")
	}
	c.refundsProblem = msg
}

// refundSamples returns the refund counters of samples.
func refundSamples(samples []exporter.Sample) []exporter.Sample {
	var out []exporter.Sample
	for _, s := range samples {
		if s.Metric == exporter.CodeRefunds || s.Metric == exporter.CodeRefundedRevenue {
			out = append(out, s)
		}
	}
	return out
}

// withRefunds replaces the refund counters of samples with last, those
// of the last refresh that read every refund: none before the first.
// Codes samples does not export (skipped, missing) get none.
func withRefunds(samples, last []exporter.Sample) []exporter.Sample {
	codes := map[string]bool{}
	out := make([]exporter.Sample, 0, len(samples))
	for _, s := range samples {
		if s.Metric == exporter.CodeRefunds || s.Metric == exporter.CodeRefundedRevenue {
			continue
		}
		if s.Metric == exporter.CodeRedemptions {
			codes[s.Label(exporter.LabelCampaign)+"\xff"+s.Label(exporter.LabelCreator)+"\xff"+s.Label("code")] = true
		}
		out = append(out, s)
	}
	for _, s := range last {
		if codes[s.Label(exporter.LabelCampaign)+"\xff"+s.Label(exporter.LabelCreator)+"\xff"+s.Label("code")] {
			out = append(out, s)
		}
	}
	return out
}

// readSessions continues the pass over the complete Checkout Sessions (a
// new pass from the watermark once the last one ended), a page at a time,
// counting each page as it is read. It returns whether the pass ended
// (false: the refresh ran out of time first) and whether it began in an
// earlier refresh; it fails on any other error.
func (c *collector) readSessions(ctx context.Context) (ended, resumed bool, err error) {
	p := c.book.Resume(sessionsListing, time.Duration(c.opts.CheckoutExpiry)+time.Duration(c.opts.Overlap))
	since, after := later(c.since, p.Since), p.Cursor
	if !p.Since.IsZero() {
		since = c.pendingSince(since)
	}
	pages, read, tracked := 0, 0, 0
	defer func() {
		c.logger.Debug("read checkout sessions", "full", p.Full, "resumed", p.Resumed, "pages", pages, "sessions", read, "sessions_with_codes", tracked, "orders_held", c.book.Len())
	}()
	for ; pages < maxPages; pages++ {
		if exporter.OutOfTime(ctx) {
			return false, p.Resumed, nil
		}
		list, next, err := c.api.sessionsPage(ctx, since, after)
		if err == nil {
			err = c.learnCodes(ctx, list)
		}
		if err != nil {
			if exporter.OutOfTime(ctx) {
				return false, p.Resumed, nil
			}
			c.restartIfRefused(sessionsListing, after, err)
			return false, false, fmt.Errorf("stripe: list checkout sessions: %w", err)
		}
		read += len(list)
		page := exporter.Page{Next: next}
		for _, s := range list {
			if t := time.Unix(s.Created, 0); t.After(page.Latest) {
				page.Latest = t
			}
			t := c.track(s)
			if t == nil {
				continue
			}
			c.sessions[s.ID] = t
			if t.intent != "" {
				c.byIntent[t.intent] = s.ID
			}
			page.Orders = append(page.Orders, t.order)
		}
		tracked += len(page.Orders)
		if c.book.ApplyPage(sessionsListing, page) {
			return true, p.Resumed, nil
		}
		after = next
	}
	return false, false, fmt.Errorf("stripe: list checkout sessions: more than %d pages in one refresh", maxPages)
}

// pendingMaxAge is how long a session completed unpaid (a delayed payment
// method) is read again to see it paid: Stripe's delayed methods settle
// or fail within days (SEPA Direct Debit, the slowest, in up to 14
// business days; unconfirmed as a bound for every method). Past it the
// session (older than the newest one seen by pendingMaxAge) is taken as
// never paid and leaves the pending gauge.
const pendingMaxAge = 30 * 24 * time.Hour

// pendingSince returns where an incremental pass starts: since, or
// earlier to read again the sessions still unpaid, which Stripe does not
// move to the top of the listing when they are paid. Sessions unpaid for
// longer than pendingMaxAge become void.
func (c *collector) pendingSince(since time.Time) time.Time {
	// The newest session seen stands for now: the shop's clock, not ours.
	cutoff := c.book.Watermark(sessionsListing).Add(-pendingMaxAge)
	var voided []exporter.Order
	for id, t := range c.sessions {
		if t.order.State != exporter.OrderPending {
			continue
		}
		if t.order.Created.Before(cutoff) {
			t = t.clone()
			t.order.State = exporter.OrderVoid
			c.sessions[id] = t
			voided = append(voided, t.order)
			continue
		}
		if t.order.Created.Before(since) {
			since = t.order.Created
		}
	}
	if len(voided) > 0 {
		c.book.Put(voided...)
	}
	return since
}

// readRefunds continues the pass over the refunds, a page at a time, and
// adds each refund of a session with a configured code to its order. It
// returns whether the pass ended (false: the refresh ran out of time);
// it fails on any other error. A refund of a session not known yet (one
// completed after the sessions' pass went past it) is not counted; the
// next pass reads it again if it is newer than the watermark less the
// overlap. When the sessions' pass before it spanned several refreshes,
// that window is long: the next refunds pass then starts no later than
// the newest session that pass saw.
func (c *collector) readRefunds(ctx context.Context, sessionsResumed bool) (bool, error) {
	p := c.book.Resume(refundsListing, time.Duration(c.opts.Overlap))
	since, after := later(c.since, p.Since), p.Cursor
	var horizon time.Time
	if sessionsResumed {
		horizon = c.book.Watermark(sessionsListing)
	}
	pages, read, counted := 0, 0, 0
	defer func() {
		c.logger.Debug("read refunds", "full", p.Full, "resumed", p.Resumed, "pages", pages, "refunds", read, "refunds_counted", counted)
	}()
	for ; pages < maxPages; pages++ {
		if exporter.OutOfTime(ctx) {
			return false, nil
		}
		list, next, err := c.api.refundsPage(ctx, since, after)
		if err != nil {
			if exporter.OutOfTime(ctx) {
				return false, nil
			}
			c.restartIfRefused(refundsListing, after, err)
			return false, fmt.Errorf("stripe: list refunds: %w", err)
		}
		read += len(list)
		page := exporter.Page{Next: next, Horizon: horizon}
		for _, r := range list {
			created := time.Unix(r.Created, 0)
			if created.After(page.Latest) {
				page.Latest = created
			}
			id, ok := c.byIntent[r.PaymentIntent.ID]
			if !ok || r.PaymentIntent.ID == "" {
				continue // not an order with a configured code
			}
			t := c.sessions[id]
			if _, seen := t.refunds[r.ID]; seen || r.Status == "failed" || r.Status == "canceled" {
				continue
			}
			t = t.clone()
			t.addRefund(r)
			if created.After(t.refundedAt) {
				t.refundedAt = created
			}
			t.settle()
			c.sessions[id] = t
			page.Orders = append(page.Orders, t.order)
			counted++
		}
		if c.book.ApplyPage(refundsListing, page) {
			return true, nil
		}
		after = next
	}
	return false, fmt.Errorf("stripe: list refunds: more than %d pages in one refresh", maxPages)
}

// restartIfRefused starts the listing's pass again next refresh if Stripe
// refused the cursor kept since an earlier page (400: no such object).
func (c *collector) restartIfRefused(listing, after string, err error) {
	var ae *exporter.APIError
	if after != "" && errors.As(err, &ae) && ae.StatusCode == http.StatusBadRequest {
		c.book.Restart(listing)
	}
}

// lookUpCodes asks Stripe for the configured codes not found yet, those
// asked for least recently first, until the refresh runs out of time, and
// returns the lower-case codes it asked for. A code may have several
// promotion codes (an inactive one and its successor).
func (c *collector) lookUpCodes(ctx context.Context) (map[string]bool, error) {
	var pending []string
	for _, k := range c.keys {
		if !c.found[k] {
			pending = append(pending, k)
		}
	}
	checked := map[string]bool{}
	if len(pending) >= 2 {
		rest, err := c.listCodes(ctx, pending, checked)
		if err != nil {
			return nil, err
		}
		pending = rest
	}
	for _, k := range exporter.Rotate(c.lookups, pending, func(k string) string { return k }) {
		if exporter.OutOfTime(ctx) {
			break
		}
		code := c.spelled[k]
		pcs, err := c.api.promotionCodesByCode(ctx, code)
		if err != nil {
			if exporter.OutOfTime(ctx) {
				break
			}
			return nil, fmt.Errorf("stripe: look up promotion code %q: %w", code, err)
		}
		checked[k] = true
		c.lookups.Done(k)
		for _, pc := range pcs {
			// The filter ignores case already; this guards the match.
			if pc.ID == "" || !strings.EqualFold(pc.Code, code) {
				continue
			}
			c.promo[pc.ID] = pc.Code
			c.found[k] = true
			c.logger.Debug("found promotion code", "code", code, "id", pc.ID, "active", pc.Active, "times_redeemed", pc.TimesRedeemed)
		}
	}
	return checked, nil
}

// listCodes finds the pending codes (lower case) in the account's
// promotion code listing, page_size a page, where a lookup costs a call a
// code, and marks in checked the codes it settled. Stripe's lists say only
// whether more follow, so it reads up to as many pages as there are codes
// to find: a listing that ends within them settles every pending code,
// found or not (then Stripe has no such code); one that does not leaves
// the codes it did not find to a lookup each, so an account with far more
// promotion codes than configured costs at most twice the lookups. It
// returns the codes left to look up; out of time, the codes it did not
// find are left for the next refresh.
func (c *collector) listCodes(ctx context.Context, pending []string, checked map[string]bool) ([]string, error) {
	want := make(map[string]bool, len(pending))
	for _, k := range pending {
		want[k] = true
	}
	rest := func() []string {
		var out []string
		for _, k := range pending {
			if !c.found[k] {
				out = append(out, k)
			}
		}
		return out
	}
	take := func(data []promotionCode) bool {
		for _, pc := range data {
			k := strings.ToLower(pc.Code)
			if pc.ID == "" || !want[k] {
				continue
			}
			// A code may have several promotion codes (an inactive
			// one and its successor): the listing goes to its end.
			c.promo[pc.ID] = pc.Code
			c.found[k] = true
			checked[k] = true
			c.lookups.Done(k)
		}
		return false
	}
	res, err := exporter.ListUntilFound(ctx, exporter.ListingPlan{MaxPages: len(pending)}, c.api.promotionCodesPage, take)
	switch {
	case exporter.Refused(err):
		// The codes are looked up one by one, which may still be
		// allowed.
		c.logger.Debug("promotion code listing refused, looking codes up", "err", err)
		return rest(), nil
	case err != nil:
		return nil, fmt.Errorf("stripe: list promotion codes: %w", err)
	case res.Cut:
		return nil, nil
	case res.Complete:
		for _, k := range pending {
			checked[k] = true
		}
		return nil, nil
	}
	c.logger.Debug("promotion code listing longer than the codes to find", "codes", len(pending))
	return rest(), nil
}

// Plan implements exporter.Planner: the lookups of a first refresh and
// one page of each listing.
func (c *collector) Plan() exporter.Plan {
	if len(c.codes) == 0 {
		return exporter.Plan{Note: "no codes"}
	}
	codes, what := len(c.keys), fmt.Sprintf("%d promotion code lookups", len(c.keys))
	if codes > 1 {
		codes = (codes + c.opts.PageSize - 1) / c.opts.PageSize
		what = fmt.Sprintf("%d pages of the promotion code listing if the account has no other promotion codes (up to %d pages, then 1 lookup per code not found)", codes, len(c.keys))
	}
	note := fmt.Sprintf("first refresh: %s, later only for codes Stripe does not have; every refresh: 1 page of up to %d checkout sessions (those created in the last checkout_expiry %s + overlap, with a code or not) and 1 page of refunds; more sessions or refunds take ceil(n/%d) pages",
		what, c.opts.PageSize, c.opts.CheckoutExpiry, c.opts.PageSize)
	if !c.api.expandDiscounts {
		note += "; with stripe_version " + c.opts.StripeVersion + ", also 1 lookup per promotion code nobody configured, the first time a session uses it"
	}
	return exporter.Plan{Calls: codes + 2, Note: note}
}

// learnCodes records the code of every promotion code the sessions used:
// from the expanded discounts where the answer has them, else with one
// call per id not seen before. A code's text never changes, so what is
// learnt is kept, also for codes nobody configured.
func (c *collector) learnCodes(ctx context.Context, sessions []session) error {
	var unknown []string
	for _, s := range sessions {
		for _, r := range s.promotionCodes() {
			if r.Code != "" {
				c.promo[r.ID] = r.Code
			}
		}
	}
	for _, s := range sessions {
		for _, r := range s.promotionCodes() {
			if _, ok := c.promo[r.ID]; !ok {
				c.promo[r.ID] = "" // asked once, even if absent
				unknown = append(unknown, r.ID)
			}
		}
	}
	for i, id := range unknown {
		p, err := c.api.promotionCode(ctx, id)
		switch {
		case errors.Is(err, exporter.ErrNotFound):
			continue
		case err != nil:
			for _, u := range unknown[i:] {
				delete(c.promo, u) // ask again next refresh
			}
			return fmt.Errorf("stripe: promotion code %s of a checkout session: %w", id, err)
		}
		c.promo[id] = p.Code
	}
	return nil
}

// track returns the order of a session that used a configured code,
// carrying over the refunds seen before, or nil.
func (c *collector) track(s session) *tracked {
	var codes []string
	for _, r := range s.promotionCodes() {
		code := c.promo[r.ID]
		k := strings.ToLower(code)
		if _, ok := c.spelled[k]; ok && code != "" {
			codes = append(codes, code)
			c.found[k] = true
		}
	}
	if len(codes) == 0 || s.Status != "complete" || s.Currency == "" {
		return nil
	}
	var total int64
	if s.AmountTotal != nil {
		total = *s.AmountTotal
	}
	currency := strings.ToUpper(s.Currency)
	t := &tracked{refunds: map[string]int64{}}
	if old, ok := c.sessions[s.ID]; ok {
		t = old.clone()
	}
	t.num, t.den = 1, 1
	// A session created before 2025-03-30 with Adaptive Pricing has the
	// buyer's currency in currency and the account's in
	// currency_conversion (removed in 2025-09-30.clover): the shop's
	// currency is the one counted, as for every shop.
	if cc := s.CurrencyConversion; cc != nil && cc.SourceCurrency != "" && cc.AmountTotal != nil && total > 0 {
		t.num, t.den = *cc.AmountTotal, total
		currency, total = strings.ToUpper(cc.SourceCurrency), *cc.AmountTotal
	}
	t.intent = s.PaymentIntent.ID
	t.totalMinor = total
	created := time.Unix(s.Created, 0).UTC()
	t.order = exporter.Order{
		ID:       s.ID,
		Codes:    codes,
		Currency: currency,
		Total:    majorUnits(currency, total),
		State:    sessionState(s),
		Created:  created,
	}
	t.settle()
	return t
}

// sessionState maps a complete session's payment_status onto the book's
// states: paid and no_payment_required (a 100% discount) are paid; unpaid
// (a delayed payment method not settled yet) is pending, or void once its
// payment intent failed or was canceled (requires_payment_method after a
// failed attempt, canceled). An unknown status is pending too.
func sessionState(s session) exporter.OrderState {
	switch s.PaymentStatus {
	case "paid", "no_payment_required":
		return exporter.OrderPaid
	case "":
		// Every API version names it; an answer without it (an old
		// fixture) is taken as paid, as complete sessions were before.
		return exporter.OrderPaid
	}
	switch s.PaymentIntent.Status {
	case "canceled", "requires_payment_method":
		return exporter.OrderVoid
	}
	return exporter.OrderPending
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Package stripe counts, per creator's promotion code, the Stripe Checkout
// Sessions (orders) that used it, their revenue and their refunds.
//
// Counting follows the rule of exporter.OrderBook. An order is a complete
// Checkout Session whose discounts name a promotion code with a configured
// code (matched case-insensitively, as Stripe keeps codes unique regardless
// of case). It counts once in influencer_code_redemptions_total, and its
// amount_total (what the customer paid: after the discount, with tax and
// shipping) counts in influencer_code_revenue_total, in major units of the
// session's currency (zero- and three-decimal currencies converted as
// Stripe defines them). Refunds never lower those counters: they add to
// influencer_code_refunded_revenue_total, and a session refunded in full
// adds 1 to influencer_code_refunds_total.
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
// are deduplicated by id. State moves only when a whole refresh succeeds.
//
// Calls per refresh, for C configured codes:
//
//   - GET /promotion_codes?code=… for each code not found yet (all C on the
//     first refresh; a code's id never changes, so found codes are not
//     looked up again);
//   - ceil(S/page_size) pages (at least 1) of GET /checkout/sessions
//     ?status=complete&created[gte]=…&expand[]=data.total_details.breakdown
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
// 3+1+1 calls, then 0+1+1; 3000 sessions cost 1+30+1 calls, and a
// refresh ten minutes later 0+1+1, reading 43 sessions.
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
	t.order.Cancelled = t.totalMinor > 0 && sum >= t.totalMinor
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

	mu          sync.Mutex
	promo       map[string]string // promotion code id -> its code ("" if unknown)
	found       map[string]bool   // lower-case configured code -> exists
	sessions    map[string]*tracked
	byIntent    map[string]string // payment intent -> session id
	sessionMark time.Time         // newest session created time seen
	refundMark  time.Time         // newest refund created time seen
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
	if err := cc.DecodeOptions(&opts); err != nil {
		return nil, err
	}
	p := cc.Path() + ".options."
	var errs []error
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
		logger:   s.Logger,
		opts:     opts,
		codes:    cfg.CodesFor(cc.Name),
		spelled:  map[string]string{},
		book:     exporter.NewOrderBook(),
		promo:    map[string]string{},
		found:    map[string]bool{},
		sessions: map[string]*tracked{},
		byIntent: map[string]string{},
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

	s.Client.SetHooks(exporter.ClientHooks{ErrorMessage: errorMessage, Quota: noQuota, Authorize: exporter.BearerAuth})
	a := exporter.NewAPI(cc, DefaultBaseURL, s.Client)
	a.Header = http.Header{"Stripe-Version": {opts.StripeVersion}}
	c.api = &api{API: a, pageSize: opts.PageSize, expandDiscounts: opts.StripeVersion >= discountsSince}
	return c, nil
}

// Poll implements exporter.Collector.
func (c *collector) Poll(ctx context.Context) ([]exporter.Sample, error) {
	if len(c.codes) == 0 {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.lookUpCodes(ctx); err != nil {
		return nil, err
	}

	// The book's own watermark moves only with orders that used a
	// configured code; ours moves with every session and refund, so a
	// shop whose other sales dominate is not read again from the start.
	_, full := c.book.Since(0)
	sessionsSince, refundsSince := c.since, c.since
	if !full {
		if !c.sessionMark.IsZero() {
			sessionsSince = later(c.since, c.sessionMark.Add(-time.Duration(c.opts.CheckoutExpiry)-time.Duration(c.opts.Overlap)))
		}
		if !c.refundMark.IsZero() {
			refundsSince = later(c.since, c.refundMark.Add(-time.Duration(c.opts.Overlap)))
		}
	}

	sessionMark, read := c.sessionMark, 0
	var withCodes []session
	err := c.api.completeSessions(ctx, sessionsSince, func(page []session) {
		for _, s := range page {
			read++
			if t := time.Unix(s.Created, 0); t.After(sessionMark) {
				sessionMark = t
			}
			if len(s.promotionCodes()) > 0 {
				withCodes = append(withCodes, s)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("stripe: list checkout sessions: %w", err)
	}
	if err := c.learnCodes(ctx, withCodes); err != nil {
		return nil, err
	}

	changed := map[string]*tracked{}
	intents := map[string]string{}
	for _, s := range withCodes {
		t := c.track(s)
		if t == nil {
			continue
		}
		changed[s.ID] = t
		if t.intent != "" {
			intents[t.intent] = s.ID
		}
	}

	refundMark, refunds := c.refundMark, 0
	err = c.api.refunds(ctx, refundsSince, func(page []refund) {
		for _, r := range page {
			refunds++
			created := time.Unix(r.Created, 0)
			if created.After(refundMark) {
				refundMark = created
			}
			id, ok := intents[r.PaymentIntent.ID]
			if !ok {
				id, ok = c.byIntent[r.PaymentIntent.ID]
			}
			if !ok || r.PaymentIntent.ID == "" {
				continue // not an order with a configured code
			}
			t := changed[id]
			if t == nil {
				t = c.sessions[id].clone()
			}
			if _, seen := t.refunds[r.ID]; seen || r.Status == "failed" || r.Status == "canceled" {
				continue
			}
			t.refunds[r.ID] = r.Amount
			if created.After(t.refundedAt) {
				t.refundedAt = created
			}
			t.settle()
			changed[id] = t
		}
	})
	if err != nil {
		return nil, fmt.Errorf("stripe: list refunds: %w", err)
	}

	orders := make([]exporter.Order, 0, len(changed))
	for id, t := range changed {
		c.sessions[id] = t
		if t.intent != "" {
			c.byIntent[t.intent] = id
		}
		orders = append(orders, t.order)
	}
	c.book.Apply(orders)
	c.sessionMark, c.refundMark = sessionMark, refundMark
	c.logger.Debug("refresh done", "full", full, "sessions", read, "sessions_with_codes", len(withCodes),
		"refunds", refunds, "orders_changed", len(orders), "orders_held", c.book.Len())

	var known []exporter.CodeRef
	var skipped []error
	for _, ref := range c.codes {
		if c.found[strings.ToLower(ref.Code.Code)] {
			known = append(known, ref)
			continue
		}
		skipped = append(skipped, fmt.Errorf("stripe: promotion code %q of creator %q (%s): %w: Stripe has no promotion code with this code",
			ref.Code.Code, ref.Creator, ref.Path(), exporter.ErrNotFound))
	}
	return c.book.Samples(c.typ, known), exporter.Partial(skipped)
}

// lookUpCodes asks Stripe for the configured codes not found yet. A code
// may have several promotion codes (an inactive one and its successor).
func (c *collector) lookUpCodes(ctx context.Context) error {
	for _, k := range c.keys {
		if c.found[k] {
			continue
		}
		code := c.spelled[k]
		pcs, err := c.api.promotionCodesByCode(ctx, code)
		if err != nil {
			return fmt.Errorf("stripe: look up promotion code %q: %w", code, err)
		}
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
	return nil
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
	t.intent = s.PaymentIntent.ID
	t.totalMinor = total
	created := time.Unix(s.Created, 0).UTC()
	t.order = exporter.Order{
		ID:       s.ID,
		Codes:    codes,
		Currency: currency,
		Total:    majorUnits(currency, total),
		Created:  created,
	}
	t.settle()
	return t
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

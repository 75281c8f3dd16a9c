// Package woocommerce counts the orders that used creators' coupon codes
// in a WooCommerce store, and their revenue, through the store's REST API
// v3 at base_url + /wp-json/wc/v3.
//
// base_url is the store's site URL (https://shop.example, or with the
// WordPress directory, https://example.com/shop). The token, from
// token_file or token_env, is a REST API key as WooCommerce creates it
// (WooCommerce > Settings > Advanced > REST API, read access), written
// "consumer_key:consumer_secret"; it goes out as HTTP Basic auth, which
// WooCommerce accepts over HTTPS only, so base_url must be https unless it
// is a loopback address.
//
// WooCommerce's orders API has no coupon filter, so the collector lists
// orders and keeps those whose coupon_lines carry a configured code,
// compared case-insensitively (WooCommerce stores codes lower case). Calls
// per refresh:
//
//   - for the configured codes not yet found in the shop (every code on
//     the first refresh, then only codes still missing): the shop's coupon
//     listing, GET /coupons, 100 coupons a page, when it has fewer pages
//     than there are such codes (its first page says how many), else 1 GET
//     /coupons?code=… per code; a single code is only looked up. 10,000
//     codes in a shop of 10,000 coupons cost 100 pages, not 10,000
//     lookups. A code the shop does not have is reported missing (landing
//     page and log) and its series are absent until the coupon exists;
//   - ceil(orders read / per_page) pages, at least 1, of GET /orders sorted
//     by id: on the first pass every order created since the earliest
//     campaign start (all orders if a campaign has no start); later only
//     orders modified since the latest modification seen (or the store's
//     time when the pass began, if earlier) minus overlap.
//
// So a steady refresh costs one call, plus one per page of 100 orders
// changed since the previous refresh; Plan counts the coupon calls and one
// page. Measured in the tests: 3 codes and 16 orders cost 2 calls (a page
// of coupons, a page of orders), then 1; a store of 3000 orders costs 30
// pages of orders, then 1 page of the 41 orders changed in the 5 minutes
// since.
//
// A refresh that runs out of time keeps the pages it read: each page is
// counted as it comes, and the next refresh continues the listing where
// this one stopped, reading its last page again (an order trashed
// meanwhile shifts the pages, and the first order not read may have moved
// onto it). Until the listing's pass reaches its end the codes are
// reported skipped and keep their last values (none before the first
// full count): see exporter.OrderBook for why running totals are not
// exported. Sorting by id keeps an order modified during a pass where it
// is, so the pass may have read it before the change; the next pass
// therefore starts no later than the store's time (its Date header) when
// this one began.
//
// WooCommerce documents no rate limit, but hosts and security plugins
// answer 429 with Retry-After, which the shared client honours.
//
// Which orders count. The counting rule is the exporter's (see
// exporter.OrderBook and docs/metrics.md): an order counts once, with its
// total, from when it is paid, and stays counted; unpaid orders count
// only in the pending gauge; refunds are counted apart. What WooCommerce
// adds is order statuses, mapped onto the book's states:
//
//   - processing, completed and refunded orders are paid (refunded ones
//     refunded in full, refund records or not);
//   - pending (awaiting payment) and on-hold (awaiting a bank transfer or
//     a check) orders are pending: one that moves on to processing is
//     modified, read again, and counts then;
//   - cancelled, failed, trash and checkout-draft orders are void (never
//     counted, not pending) unless they were paid (date_paid set), when
//     they stay paid: cancelling a paid order refunds nothing by itself,
//     its refunds[] say what was refunded;
//   - other statuses, which plugins add (shipped, delivered…), are paid
//     once the order was paid (date_paid), else pending;
//   - refunds[] of any order add up in the refunded revenue, and an order
//     with a refund was paid.
//
// An order the book counted stays counted whatever status it moves to.
// An order whose fields cannot be read (a total, a date, an id) is left
// out and its codes are reported missing with the reason, until the
// order is read again readable; the rest of the refresh counts.
package woocommerce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Option defaults and limits.
const (
	// DefaultPerPage is the page size of order listings: WooCommerce's
	// maximum.
	DefaultPerPage = 100
	maxPerPage     = 100
	// DefaultOverlap is how far before the latest modification seen an
	// incremental refresh starts reading again: requests save orders in
	// parallel, so one stamped a little earlier can land after a later one
	// was listed.
	DefaultOverlap = 2 * time.Minute
	// maxPages bounds the pages one refresh reads, against pagination
	// that never ends.
	maxPages = 100000
	// listing names the orders listing in the book.
	listing = "orders"
)

func init() {
	exporter.Register("woocommerce", New)
}

// options are the woocommerce collector's provider options.
type options struct {
	// PerPage is how many orders one page asks for (1 to 100).
	PerPage int `yaml:"per_page"`
	// Overlap is how far back an incremental refresh re-reads.
	Overlap model.Duration `yaml:"overlap"`
}

type collector struct {
	name, typ string
	api       api
	logger    *slog.Logger
	opts      options
	codes     []exporter.CodeRef  // in file order
	byCode    map[string]struct{} // configured codes, lower case
	// createdAfter bounds the first, full read: orders created before the
	// earliest campaign start count nowhere. Zero: no bound.
	createdAfter time.Time

	mu    sync.Mutex // one refresh at a time
	book  *exporter.OrderBook
	known map[string]bool // lower-case codes the shop has
	// bad holds the orders that could not be read, by id (or raw id), with
	// their codes and the reason, until they are read again readable.
	bad exporter.UnreadableOrders
	// lookups orders the coupon lookups, least recently done first.
	lookups *exporter.Rotation
}

// New builds a woocommerce collector from its config block.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	opts := options{PerPage: DefaultPerPage, Overlap: model.Duration(DefaultOverlap)}
	// An option that does not decode keeps its default, so the checks
	// below still run and --config.check shows every error at once.
	var errs []error
	if err := cc.DecodeOptions(&opts); err != nil {
		errs = append(errs, err)
	}
	if opts.PerPage < 1 || opts.PerPage > maxPerPage {
		errs = append(errs, cfg.Errorf(cc.Path()+".options.per_page", "must be between 1 and %d, got %d", maxPerPage, opts.PerPage))
	}
	if opts.Overlap < 0 {
		errs = append(errs, cfg.Errorf(cc.Path()+".options.overlap", "must not be negative"))
	}
	if err := checkSiteURL(cc.BaseURL); err != nil {
		errs = append(errs, cfg.Errorf(cc.Path()+".base_url", "%v", err))
	}
	if err := checkToken(string(cc.Token)); err != nil {
		errs = append(errs, cfg.Errorf(cc.Path()+".token", "%v", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	logger := s.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &collector{
		name: cc.Name, typ: cc.Type, logger: logger, opts: opts,
		codes:   cfg.CodesFor(cc.Name),
		byCode:  map[string]struct{}{},
		book:    exporter.StoredOrderBook(s.Storage, cc, cfg.CodesFor(cc.Name)),
		known:   map[string]bool{},
		bad:     exporter.UnreadableOrders{},
		lookups: exporter.NewRotation(),
	}
	var earliest *time.Time
	bounded := true
	for _, ref := range c.codes {
		c.byCode[strings.ToLower(ref.Code.Code)] = struct{}{}
		switch {
		case ref.Start == nil:
			bounded = false
		case earliest == nil || ref.Start.Before(*earliest):
			earliest = ref.Start
		}
	}
	if bounded && earliest != nil {
		// WooCommerce's after is exclusive and keeps seconds; an order
		// placed in the campaign's first second counts.
		c.createdAfter = earliest.Add(-time.Second)
	}

	s.Client.SetHooks(exporter.ClientHooks{ErrorMessage: errorMessage, Authorize: basicAuth, Classify: classify})
	a := exporter.NewAPI(cc, "", s.Client)
	a.Base += apiPath
	c.api = api{a}
	return c, nil
}

// checkSiteURL accepts the store's site URL: required, without the API
// path, and https unless on loopback.
func checkSiteURL(raw string) error {
	if raw == "" {
		return errors.New("woocommerce needs the store's site URL, like https://shop.example")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err // the config already reported it
	}
	if strings.Contains(u.Path, "/wp-json") {
		return fmt.Errorf("is the store's site URL, without /wp-json: the collector adds %s", apiPath)
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return errors.New("must be https: WooCommerce takes a consumer key over plain HTTP only with OAuth 1.0a signatures")
		}
	}
	return nil
}

// checkToken makes sure the token has both parts of a REST API key. The
// message never quotes the token.
func checkToken(tok string) error {
	if tok == "" {
		return errors.New("woocommerce needs a REST API key: set token_file or token_env to consumer_key:consumer_secret")
	}
	key, secret, ok := strings.Cut(tok, ":")
	if !ok || strings.TrimSpace(key) == "" || strings.TrimSpace(secret) == "" {
		return errors.New("must be the REST API key's consumer key and consumer secret joined by ':', consumer_key:consumer_secret")
	}
	return nil
}

// Poll implements exporter.Collector.
func (c *collector) Poll(ctx context.Context) ([]exporter.Sample, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.codes) == 0 {
		return nil, nil
	}
	missing, err := c.checkCodes(ctx)
	if err != nil {
		return nil, err
	}
	ended := false
	if !exporter.OutOfTime(ctx) {
		if ended, err = c.readOrders(ctx); err != nil {
			return nil, err
		}
	}

	unreadable := c.unreadable()
	for id := range c.bad {
		if strings.HasPrefix(id, unreadableID) {
			delete(c.bad, id)
		}
	}
	var r exporter.CodeReport
	for _, ref := range c.codes {
		k := strings.ToLower(ref.Code.Code)
		switch {
		case unreadable[k] != nil:
			r.Missing(ref, unreadable[k])
		case c.known[k] && ended:
			r.Counted(ref)
		case missing[k] != nil:
			r.Missing(ref, missing[k])
		default:
			// Its orders are not all counted yet, or the refresh ran out
			// of time before looking its coupon up.
			r.Skip(ref, fmt.Errorf("woocommerce: orders with coupon %q: %w", ref.Code.Code, exporter.ErrOutOfTime))
		}
	}
	return r.Finish(c.book, c.typ)
}

// Plan implements exporter.Planner: the coupon lookups of a first refresh
// and one page of orders.
func (c *collector) Plan() exporter.Plan {
	if len(c.codes) == 0 {
		return exporter.Plan{Note: "no codes"}
	}
	coupons := len(c.codes)
	what := fmt.Sprintf("%d coupon lookups", coupons)
	if coupons > 1 {
		coupons = (coupons + maxPerPage - 1) / maxPerPage
		what = fmt.Sprintf("%d pages of the coupon listing if the store has no other coupons (1 GET /coupons?code=… per code instead when the listing has as many pages as codes)", coupons)
	}
	return exporter.Plan{
		Calls: coupons + 1,
		Note: fmt.Sprintf("first refresh: %s, later only for codes the store does not have; every refresh: 1 page of up to %d orders (a first count, or more orders changed in an interval, takes ceil(orders/%d) pages)",
			what, c.opts.PerPage, c.opts.PerPage),
	}
}

// checkCodes looks up every configured code not found yet, those looked
// up least recently first, until the refresh runs out of time, and
// returns why each code the shop lacks is missing, by lower-case code. A
// coupon, once found, is not looked up again: deleting it in WooCommerce
// leaves its code on the orders that used it, which still count.
func (c *collector) checkCodes(ctx context.Context) (map[string]error, error) {
	var pending []exporter.CodeRef
	for _, ref := range c.codes {
		if !c.known[strings.ToLower(ref.Code.Code)] {
			pending = append(pending, ref)
		}
	}
	missing := map[string]error{}
	if len(pending) >= 2 {
		rest, complete, err := c.listCoupons(ctx, pending)
		if err != nil {
			return nil, err
		}
		if complete {
			for _, ref := range rest {
				missing[strings.ToLower(ref.Code.Code)] = notInShop(ref)
			}
			return missing, nil
		}
		pending = rest
	}
	for _, ref := range exporter.Rotate(c.lookups, pending, func(r exporter.CodeRef) string { return strings.ToLower(r.Code.Code) }) {
		if exporter.OutOfTime(ctx) {
			break
		}
		code, k := ref.Code.Code, strings.ToLower(ref.Code.Code)
		cp, err := c.api.couponByCode(ctx, code)
		if err != nil {
			if exporter.OutOfTime(ctx) {
				break
			}
			return nil, fmt.Errorf("woocommerce: look up coupon %q%s: %w", code, hint(err), err)
		}
		c.lookups.Done(k)
		if cp == nil {
			missing[k] = notInShop(ref)
			continue
		}
		c.known[k] = true
		c.logger.Debug("found coupon", "code", code, "coupon_id", cp.ID, "usage_count", cp.UsageCount)
	}
	return missing, nil
}

// notInShop is why a code the shop has no coupon for is missing.
func notInShop(ref exporter.CodeRef) error {
	return fmt.Errorf("woocommerce: coupon %q (%s): %w: the shop has no coupon with this code", ref.Code.Code, ref.Code.Path(), exporter.ErrNotFound)
}

// listCoupons finds the pending codes in the shop's coupon listing, 100
// coupons a page, where a lookup costs a call a code. The first page says
// how many pages the listing has (X-WP-TotalPages): when they are no
// fewer than the pending codes, the listing stops there and the codes are
// looked up one by one. It returns the codes it did not find, and whether
// it read the whole listing: then those codes are not in the shop. Out of
// time, it returns what it did not find yet, not complete.
func (c *collector) listCoupons(ctx context.Context, pending []exporter.CodeRef) ([]exporter.CodeRef, bool, error) {
	want := make(map[string]bool, len(pending))
	for _, ref := range pending {
		want[strings.ToLower(ref.Code.Code)] = true
	}
	rest := func() []exporter.CodeRef {
		var out []exporter.CodeRef
		for _, ref := range pending {
			if want[strings.ToLower(ref.Code.Code)] {
				out = append(out, ref)
			}
		}
		return out
	}
	total := 0 // pages, once the first answer says
	for page := 1; total == 0 || page <= total; page++ {
		// Without X-WP-TotalPages, a listing longer than the codes
		// to find is not worth reading on.
		if (total == 0 && page > len(pending)) || exporter.OutOfTime(ctx) {
			return rest(), false, nil
		}
		list, pages, err := c.api.couponsPage(ctx, maxPerPage, page)
		if err != nil && exporter.OutOfTime(ctx) {
			return rest(), false, nil
		}
		if exporter.Refused(err) {
			// The codes are looked up one by one, which may still be
			// allowed.
			c.logger.Debug("coupon listing refused, looking codes up", "err", err)
			return rest(), false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("woocommerce: list coupons%s: %w", hint(err), err)
		}
		for _, cp := range list {
			if k := strings.ToLower(cp.Code); want[k] {
				delete(want, k)
				c.known[k] = true
			}
		}
		if page == 1 && pages >= len(pending) {
			c.logger.Debug("coupon listing longer than the codes to look up", "pages", pages, "codes", len(pending))
			return rest(), false, nil
		}
		total = pages
		if len(want) == 0 {
			return nil, false, nil
		}
		if len(list) < maxPerPage {
			return rest(), true, nil
		}
	}
	return rest(), true, nil
}

// hint adds what to check to an authentication failure.
func hint(err error) string {
	if errors.Is(err, exporter.ErrUnauthorized) {
		return " (check the consumer key and secret, and that the key has read access)"
	}
	return ""
}

// readOrders continues the pass over the orders listing (a new pass from
// the watermark once the last one ended), a page at a time, counting each
// page as it is read. It returns true if the pass ended, false if the
// refresh ran out of time first; it fails on any other error.
func (c *collector) readOrders(ctx context.Context) (bool, error) {
	p := c.book.Resume(listing, time.Duration(c.opts.Overlap))
	q := orderQuery{createdAfter: c.createdAfter, modifiedAfter: p.Since, perPage: c.opts.PerPage}
	page := 1
	if p.Cursor != "" {
		page, _ = strconv.Atoi(p.Cursor)
		// Read the last page of the earlier refresh again: an order
		// trashed since shifts the pages forward, and the first order
		// not read yet may be on it now.
		page = max(page-1, 1)
	}
	pages, read, counted := 0, 0, 0
	defer func() {
		c.logger.Debug("read orders", "full", p.Full, "resumed", p.Resumed, "pages", pages, "orders", read, "counted", counted, "orders_held", c.book.Len())
	}()
	for ; ; page++ {
		if pages >= maxPages {
			return false, fmt.Errorf("woocommerce: list orders: more than %d pages in one refresh", maxPages)
		}
		if exporter.OutOfTime(ctx) {
			return false, nil
		}
		list, total, date, err := c.api.ordersPage(ctx, q, page)
		if err != nil {
			if exporter.OutOfTime(ctx) {
				return false, nil
			}
			return false, fmt.Errorf("woocommerce: list orders (page %d)%s: %w", page, hint(err), err)
		}
		pages++
		read += len(list)
		pg := exporter.Page{Horizon: date}
		for _, o := range list {
			codes := c.configuredCodes(o)
			if o.decodeErr != nil {
				if len(codes) > 0 {
					key := o.rawID
					if _, err := strconv.ParseInt(key, 10, 64); err != nil {
						// No id to find the order by when it is fixed:
						// reported by the refresh that read it only.
						key = unreadableID + key
					}
					c.bad[key] = exporter.UnreadableOrder{Codes: codes, Err: o.decodeErr}
				}
				continue
			}
			id := strconv.FormatInt(int64(o.ID), 10)
			modified, err := parseDate("date_modified_gmt", o.DateModifiedGMT)
			if err == nil && modified.After(pg.Latest) {
				pg.Latest = modified
			}
			if len(codes) == 0 {
				delete(c.bad, id)
				continue
			}
			eo, err := redemption(o, codes)
			if err != nil {
				c.bad[id] = exporter.UnreadableOrder{Codes: codes, Err: err}
				continue
			}
			delete(c.bad, id)
			pg.Orders = append(pg.Orders, eo)
		}
		last := len(list) == 0 || (total > 0 && page >= total) || (total == 0 && len(list) < q.perPage)
		if !last {
			pg.Next = strconv.Itoa(page + 1)
		}
		ended := c.book.ApplyPage(listing, pg)
		counted += len(pg.Orders)
		if ended {
			return true, nil
		}
	}
}

// unreadableID prefixes the keys of bad orders whose id cannot be read.
const unreadableID = "\x00"

// unreadable returns, by lower-case code, why a code cannot be counted:
// an order that used it could not be read (the first such order by id).
func (c *collector) unreadable() map[string]error {
	return c.bad.Reasons("woocommerce", func(k string) bool { _, ok := c.byCode[k]; return ok }, func(id string) string { return strings.TrimPrefix(id, unreadableID) })
}

// configuredCodes returns the order's coupon codes if any is configured.
func (c *collector) configuredCodes(o order) []string {
	hit := false
	codes := make([]string, 0, len(o.CouponLines))
	for _, l := range o.CouponLines {
		codes = append(codes, l.Code)
		if _, ok := c.byCode[strings.ToLower(strings.TrimSpace(l.Code))]; ok {
			hit = true
		}
	}
	if !hit {
		return nil
	}
	return codes
}

// WooCommerce order statuses, as the REST API names them.
const (
	statusPending       = "pending"
	statusProcessing    = "processing"
	statusOnHold        = "on-hold"
	statusCompleted     = "completed"
	statusCancelled     = "cancelled"
	statusRefunded      = "refunded"
	statusFailed        = "failed"
	statusCheckoutDraft = "checkout-draft"
	statusTrash         = "trash"
)

// redemption maps an order that used a configured code to what the book
// counts, by the status rules in the package comment.
func redemption(o order, codes []string) (exporter.Order, error) {
	total, err := parseMoney("total", o.Total)
	if err != nil {
		return exporter.Order{}, err
	}
	created, err := parseDate("date_created_gmt", o.DateCreatedGMT)
	if err != nil {
		return exporter.Order{}, err
	}
	modified, err := parseDate("date_modified_gmt", o.DateModifiedGMT)
	if err != nil {
		return exporter.Order{}, err
	}
	paid := o.DatePaidGMT != nil && *o.DatePaidGMT != ""
	currency := strings.ToUpper(strings.TrimSpace(o.Currency))
	if currency == "" {
		return exporter.Order{}, fmt.Errorf("%w: no currency", exporter.ErrBadResponse)
	}
	var refunded float64
	for _, r := range o.Refunds {
		v, err := parseMoney("refunds.total", r.Total)
		if err != nil {
			return exporter.Order{}, err
		}
		refunded -= v // "-10.00"
	}
	eo := exporter.Order{
		ID: strconv.FormatInt(int64(o.ID), 10), Codes: codes, Currency: currency,
		Total: total, Refunded: refunded, Created: created, Updated: modified,
	}
	switch o.Status {
	case statusProcessing, statusCompleted:
		eo.State = exporter.OrderPaid
	case statusRefunded:
		// Refunded in full by definition, refund records or not.
		eo.State, eo.Refunded = exporter.OrderPaid, max(refunded, total)
	case statusPending, statusOnHold:
		eo.State = exporter.OrderPending
	case statusCancelled, statusFailed, statusTrash, statusCheckoutDraft, "auto-draft":
		eo.State = exporter.OrderVoid
		if paid {
			eo.State = exporter.OrderPaid
		}
	default:
		eo.State = exporter.OrderPending
		if paid {
			eo.State = exporter.OrderPaid
		}
	}
	if refunded > 0 {
		// Money was refunded, so it had been paid.
		eo.State = exporter.OrderPaid
	}
	return eo, nil
}

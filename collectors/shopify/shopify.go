// Package shopify counts the orders that used creators' discount codes in
// a Shopify shop, and their revenue, through the Admin GraphQL API
// (POST {base_url}/admin/api/{api_version}/graphql.json with an
// X-Shopify-Access-Token; the app needs the read_orders and
// read_discounts scopes, and read_all_orders for orders older than 60
// days).
//
// Counting follows the rule every shop collector shares (see
// exporter.OrderBook): an order counts once, with its original total
// (totalPriceSet.shopMoney), from when it is paid (displayFinancialStatus);
// refunds (totalRefundedSet) are counted apart, so no counter goes down.
//
// Calls per refresh, the fewest Shopify's limits allow:
//
//   - while some configured code is not confirmed to exist,
//     ceil(unconfirmed codes / 1000) queries of aliased
//     codeDiscountNodeByCode fields: a query may cost 1,000 points and a
//     code costs 1. A code the shop does not have is reported missing
//     (landing page, log) and its series are absent;
//   - one orders listing, sorted by UPDATED_AT, of max(1, ceil(orders /
//     page_size)) pages of up to 199 orders (a page costs 2+5×page_size
//     points). The first pass reads every order created since the
//     earliest campaign start (every order if a campaign has no start);
//     later ones add "updated_at:>=" the newest update seen minus
//     options.overlap, so they read only new and changed orders, usually
//     one page. The orders are matched to the configured codes here, by
//     their discountCodes, case-insensitively; orders without one are
//     left out. With no more than codes_per_query codes configured, the
//     listing also searches for them ("discount_code:A OR ..."), so a few
//     codes in a busy shop do not read all its orders; with more, a search
//     naming every code would be too long, and the listing reads the
//     shop's orders, as the WooCommerce collector does.
//
// So 10,000 codes and 20,300 orders cost 10 code checks and 103 pages the
// first time, then 1 page a refresh (measured in the tests); Plan counts
// the code checks and one page. Batching saves calls, not points: the
// shop charges for what it returns, 1 point a code checked and 5 an order
// read, so that first refresh spends some 110,000 points, over 18 minutes
// of a Standard plan's 100 points a second, and is counted over several
// refreshes (see below).
//
// A refresh that runs out of time keeps the pages it read: the book
// counts each page as it comes, and the next refresh continues the pass
// with a new search from the newest update the pass read (orders of that
// second are read again, and counted once). A search, not a cursor: a
// search's cursor cannot go further than 25,000 orders into it, which
// Shopify documents as its pagination limit, so a pass that reads more
// starts a new search the same way before it gets there. Until the pass
// reaches the end of the listing, the codes are reported skipped and keep
// their last values (none before the first full count): see
// exporter.OrderBook for why running totals are not exported. Sorting by
// UPDATED_AT makes an order updated while a pass runs move to the end of
// the listing, where the same pass reads it again.
//
// Throttling is cost based: each answer's extensions.cost.throttleStatus
// reports the app's leaky bucket at the shop. The points left are exported
// as influencer_api_quota_remaining; before a query the client pauses
// until the bucket, restored since, holds the query's requested cost; a
// THROTTLED answer is waited out and sent again (up to http.max_retries
// times). A wait longer than http.max_retry_wait fails the refresh as rate
// limited, and the next refresh finds the bucket refilled.
package shopify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Option defaults and limits.
const (
	// DefaultPageSize is the largest page within Shopify's single-query
	// cost limit: 2+199×5 = 997 points. A page's size does not change the
	// points a listing spends (what the shop returns costs), only the
	// number of calls.
	DefaultPageSize = maxPageSize
	// maxPageSize keeps a page within Shopify's single-query cost cap
	// (1000 points): each order node costs 5, so 199, not the 250 a
	// connection otherwise allows.
	maxPageSize = (maxQueryCost - connectionCost) / orderNodeCost
	// DefaultCodesPerQuery is how many configured codes the orders
	// listing may search for by name; with more, it reads every order.
	DefaultCodesPerQuery = 50
	// maxCodesPerQuery bounds the search string; Shopify documents no
	// length limit, so stay modest.
	maxCodesPerQuery = 100
	// DefaultOverlap is how far before the newest update seen an
	// incremental refresh starts reading: Shopify's search index lags
	// writes a little, and an order updated while the last refresh ran
	// must not be missed. Orders are deduplicated by id.
	DefaultOverlap = 2 * time.Minute
	// maxOverlap: more only re-reads orders for nothing.
	maxOverlap = time.Hour
	// maxPages bounds the pages the listing reads in one refresh, against
	// a cursor that never ends: 199,000 orders at the largest page.
	maxPages = 1000
	// listing names the orders listing in the book.
	listing = "orders"
)

// searchDepth is how far into one search the listing goes before it
// starts a new search from the newest update it read: Shopify paginates
// no further than 25,000 objects into a connection (shopify.dev, "Shopify
// API limits", pagination limits). A variable for the tests.
var searchDepth = 25_000

var apiVersionRE = regexp.MustCompile(`^(\d{4}-(01|04|07|10)|unstable)$`)

func init() {
	exporter.Register("shopify", New)
}

// options are the shopify collector's provider options.
type options struct {
	// APIVersion is the Admin API version in the URL.
	APIVersion string `yaml:"api_version"`
	// PageSize is how many orders one page asks for.
	PageSize int `yaml:"page_size"`
	// CodesPerQuery is how many configured codes the orders listing may
	// search for by name; with more, it lists every order.
	CodesPerQuery int `yaml:"codes_per_query"`
	// Overlap is how far before the watermark incremental refreshes read.
	Overlap model.Duration `yaml:"overlap"`
}

type collector struct {
	typ    string
	shop   string // host of the shop's URL, naming it in errors
	api    *api
	logger *slog.Logger
	opts   options
	codes  []exporter.CodeRef
	// configured holds the configured codes in lower case.
	configured map[string]bool
	// search is the orders listing's search for every pass: the codes,
	// if few enough to name (byCode), and the campaigns' start; "" for
	// every order.
	search string
	byCode bool
	// start is the earliest campaign start, nil if a campaign has none.
	start *time.Time
	book  *exporter.OrderBook
	// checks orders the code checks, least recently done first.
	checks *exporter.Rotation

	mu sync.Mutex
	// known holds, in lower case, the codes the shop confirmed. A code
	// stays known: its orders count even if the discount is deleted later.
	known map[string]bool
	// bad holds, by order id, why an order with a configured code could
	// not be read, until it is read again readable: its codes are
	// reported missing meanwhile, the rest of the shop counts.
	bad exporter.UnreadableOrders
}

// New builds a shopify collector from its config block.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	opts := options{
		APIVersion:    DefaultAPIVersion,
		PageSize:      DefaultPageSize,
		CodesPerQuery: DefaultCodesPerQuery,
		Overlap:       model.Duration(DefaultOverlap),
	}
	// An option that does not decode keeps its default, so the checks
	// below still run and --config.check shows every error at once.
	var errs []error
	if err := cc.DecodeOptions(&opts); err != nil {
		errs = append(errs, err)
	}
	p := cc.Path()
	if !apiVersionRE.MatchString(opts.APIVersion) {
		errs = append(errs, cfg.Errorf(p+".options.api_version", "must be a Shopify API version like %s (YYYY-01, -04, -07, -10) or unstable, got %q", DefaultAPIVersion, opts.APIVersion))
	}
	if opts.PageSize < 1 || opts.PageSize > maxPageSize {
		errs = append(errs, cfg.Errorf(p+".options.page_size", "must be between 1 and %d (a page of orders costs 2+5×page_size points, at most %d), got %d", maxPageSize, maxQueryCost, opts.PageSize))
	}
	if opts.CodesPerQuery < 1 || opts.CodesPerQuery > maxCodesPerQuery {
		errs = append(errs, cfg.Errorf(p+".options.codes_per_query", "must be between 1 and %d, got %d", maxCodesPerQuery, opts.CodesPerQuery))
	}
	if opts.Overlap < 0 || time.Duration(opts.Overlap) > maxOverlap {
		errs = append(errs, cfg.Errorf(p+".options.overlap", "must be between 0s and %s, got %s", model.Duration(maxOverlap), opts.Overlap))
	}
	shop := ""
	if cc.BaseURL == "" {
		// No default: every shop has its own host.
		errs = append(errs, cfg.Errorf(p+".base_url", "shopify needs the shop's URL, like https://example.myshopify.com"))
	} else if u, err := url.Parse(cc.BaseURL); err == nil {
		shop = u.Host
	}
	if cc.Token == "" {
		errs = append(errs, cfg.Errorf(p+".token", "shopify needs an Admin API access token: set token, token_env or token_file"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	c := &collector{
		typ:        cc.Type,
		shop:       shop,
		logger:     s.Logger,
		opts:       opts,
		codes:      cfg.CodesFor(cc.Name),
		configured: map[string]bool{},
		book:       exporter.StoredOrderBook(s.Storage, cc, cfg.CodesFor(cc.Name)),
		checks:     exporter.NewRotation(),
		known:      map[string]bool{},
		bad:        exporter.UnreadableOrders{},
	}
	var all []string
	everyStart := true
	for _, r := range c.codes {
		c.configured[strings.ToLower(r.Code.Code)] = true
		all = append(all, r.Code.Code)
		switch {
		case r.Start == nil:
			everyStart = false
		case c.start == nil || r.Start.Before(*c.start):
			t := *r.Start
			c.start = &t
		}
	}
	if !everyStart {
		c.start = nil
	}
	if c.byCode = len(all) <= opts.CodesPerQuery; !c.byCode {
		all = nil
	}
	c.search = searchQuery(all, c.start)

	s.Client.SetHooks(exporter.ClientHooks{
		ErrorMessage: errorMessage,
		Quota:        noHeaderQuota,
		Authorize:    exporter.HeaderAuth("X-Shopify-Access-Token"),
	})
	c.api = &api{
		API:       exporter.NewAPI(cc, "", s.Client),
		path:      "/admin/api/" + opts.APIVersion + "/graphql.json",
		retries:   cc.HTTP.MaxRetries,
		logger:    s.Logger,
		now:       time.Now,
		codeCost:  codeCheckCost,
		orderCost: orderNodeCost,
	}
	return c, nil
}

// Poll implements exporter.Collector.
func (c *collector) Poll(ctx context.Context) ([]exporter.Sample, error) {
	if len(c.codes) == 0 {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	checked, err := c.checkCodes(ctx)
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
	var report exporter.CodeReport
	for _, r := range c.codes {
		k := strings.ToLower(r.Code.Code)
		switch {
		case unreadable[k] != nil:
			report.Missing(r, unreadable[k])
		case c.known[k] && ended:
			report.Counted(r)
		case c.known[k] || !checked[k]:
			report.Skip(r, fmt.Errorf("shopify %s: orders with discount code %q: %w", c.shop, r.Code.Code, exporter.ErrOutOfTime))
		default:
			report.Missing(r, fmt.Errorf("shopify %s: discount code %q (%s): %w", c.shop, r.Code.Code, r.Path(), exporter.ErrNotFound))
		}
	}
	return report.Finish(c.book, c.typ)
}

// readOrders continues the pass over the orders listing (a new pass from
// the watermark once the last one ended), a page at a time, counting each
// page as it is read. It returns true if the pass ended, false if the
// refresh ran out of time first; it fails on any other error.
//
// The book keeps, as the pass's cursor, the newest update the pass read
// (RFC 3339): a pass continued in a later refresh, or one that went
// searchDepth orders into a search, starts a new search from it.
func (c *collector) readOrders(ctx context.Context) (bool, error) {
	p := c.book.Resume(listing, time.Duration(c.opts.Overlap))
	from := p.Since
	if p.Cursor != "" {
		t, err := time.Parse(time.RFC3339Nano, p.Cursor)
		if err != nil {
			return false, fmt.Errorf("shopify %s: orders: resume from %q: %w", c.shop, p.Cursor, err)
		}
		from = t
	}
	// mark is the newest update the pass read, where a new search starts;
	// depth how many orders into the current search the cursor is.
	mark, after, depth := from, "", 0
	pages, searches, read, counted := 0, 1, 0, 0
	defer func() {
		c.logger.Debug("read orders", "full", p.Full, "resumed", p.Resumed, "pages", pages, "searches", searches, "orders", read, "counted", counted, "orders_held", c.book.Len())
	}()
	for pages < maxPages {
		if exporter.OutOfTime(ctx) {
			return false, nil
		}
		got, next, err := c.api.ordersPage(ctx, withUpdatedSince(c.search, from), c.opts.PageSize, after)
		if err != nil {
			if exporter.OutOfTime(ctx) {
				return false, nil
			}
			return false, fmt.Errorf("shopify %s: list orders: %w", c.shop, err)
		}
		pages++
		read += len(got)
		depth += len(got)
		var page exporter.Page
		for _, o := range got {
			eo, ok, err := c.toOrder(o)
			switch {
			case err != nil:
				c.bad[o.ID] = exporter.UnreadableOrder{Codes: o.DiscountCodes, Err: err}
			case ok:
				delete(c.bad, o.ID)
				page.Orders = append(page.Orders, eo)
			default:
				delete(c.bad, o.ID)
			}
			for _, t := range []time.Time{o.CreatedAt, o.UpdatedAt} {
				if t.After(page.Latest) {
					page.Latest = t
				}
			}
			if o.UpdatedAt.After(mark) {
				mark = o.UpdatedAt
			}
		}
		counted += len(page.Orders)
		if next != "" {
			page.Next = mark.UTC().Format(time.RFC3339Nano)
		}
		if c.book.ApplyPage(listing, page) {
			return true, nil
		}
		// A search whose orders all changed in one second cannot start
		// again further on: its cursor goes on, and the shop says if it
		// goes too far.
		if depth+c.api.pageSize(c.opts.PageSize) > searchDepth && mark.After(from) {
			from, after, depth = mark, "", 0
			searches++
			continue
		}
		after = next
	}
	return false, fmt.Errorf("shopify %s: list orders: more than %d pages in one refresh", c.shop, maxPages)
}

// Plan implements exporter.Planner: the code checks of a first refresh
// and one page of the orders listing.
func (c *collector) Plan() exporter.Plan {
	if len(c.codes) == 0 {
		return exporter.Plan{Note: "no codes"}
	}
	per := c.api.codesPerQuery()
	n := (len(c.codes) + per - 1) / per
	what := "every order"
	if c.byCode {
		what = "the orders with these codes"
	}
	return exporter.Plan{
		Calls: n + 1,
		Note: fmt.Sprintf("first refresh: %d %s checking %d codes (up to %d a query; later only codes the shop does not have); every refresh: 1 page of up to %d orders, listing %s updated since the last refresh (a first count, or more orders changed in an interval, takes ceil(orders/%d) pages)",
			n, plural(n, "query", "queries"), len(c.codes), per, c.opts.PageSize, what, c.opts.PageSize),
	}
}

// checkCodes asks the shop about every configured code not confirmed yet,
// those asked about least recently first, as many a query as its cost
// allows, and returns the lower-case codes it asked about. It stops when
// the refresh runs out of time.
func (c *collector) checkCodes(ctx context.Context) (map[string]bool, error) {
	var pending []string
	for _, r := range c.codes {
		if !c.known[strings.ToLower(r.Code.Code)] {
			pending = append(pending, r.Code.Code)
		}
	}
	pending = exporter.Rotate(c.checks, pending, strings.ToLower)
	checked := map[string]bool{}
	for len(pending) > 0 && !exporter.OutOfTime(ctx) {
		group := pending[:min(c.api.codesPerQuery(), len(pending))]
		found, err := c.api.codesExist(ctx, group)
		if errors.Is(err, errTooCostly) && c.api.codesPerQuery() < len(group) {
			// The shop charges more a code than documented: ask
			// again about fewer.
			continue
		}
		if err != nil {
			if exporter.OutOfTime(ctx) {
				break
			}
			return nil, fmt.Errorf("shopify %s: check %s: %w", c.shop, codesText(group), err)
		}
		for _, code := range group {
			k := strings.ToLower(code)
			checked[k] = true
			c.checks.Done(k)
			if found[code] {
				c.known[k] = true
			}
		}
		pending = pending[len(group):]
	}
	return checked, nil
}

// codesText names the codes of a check in an error: all of a few, the
// first and the count of many (a check holds up to 1,000).
func codesText(codes []string) string {
	if len(codes) <= 5 {
		return "discount codes " + strings.Join(codes, ", ")
	}
	return fmt.Sprintf("%d discount codes (%s ... %s)", len(codes), codes[0], codes[len(codes)-1])
}

// unreadable returns, by lower-case configured code, why the code cannot
// be counted: an order that used it could not be read (the first such
// order by id).
func (c *collector) unreadable() map[string]error {
	return c.bad.Reasons(fmt.Sprintf("shopify %s", c.shop), func(k string) bool { return c.configured[k] }, func(id string) string { return id })
}

// toOrder maps a Shopify order to the shared order type; ok is false for
// an order with none of the configured codes.
func (c *collector) toOrder(o order) (exporter.Order, bool, error) {
	used := false
	for _, code := range o.DiscountCodes {
		if c.configured[strings.ToLower(strings.TrimSpace(code))] {
			used = true
		}
	}
	if !used {
		return exporter.Order{}, false, nil
	}
	if o.ID == "" || o.CreatedAt.IsZero() || o.TotalPriceSet == nil {
		return exporter.Order{}, false, fmt.Errorf("%w: order without id, createdAt or totalPriceSet", exporter.ErrBadResponse)
	}
	total, err := strconv.ParseFloat(o.TotalPriceSet.ShopMoney.Amount, 64)
	if err != nil {
		return exporter.Order{}, false, fmt.Errorf("%w: totalPriceSet amount %q", exporter.ErrBadResponse, o.TotalPriceSet.ShopMoney.Amount)
	}
	var refunded float64
	if r := o.TotalRefundedSet; r != nil && r.ShopMoney.Amount != "" {
		if refunded, err = strconv.ParseFloat(r.ShopMoney.Amount, 64); err != nil {
			return exporter.Order{}, false, fmt.Errorf("%w: totalRefundedSet amount %q", exporter.ErrBadResponse, r.ShopMoney.Amount)
		}
	}
	updated := o.UpdatedAt
	if updated.IsZero() {
		updated = o.CreatedAt
	}
	return exporter.Order{
		ID:       o.ID,
		Codes:    o.DiscountCodes,
		Currency: strings.ToUpper(o.TotalPriceSet.ShopMoney.CurrencyCode),
		Total:    total,
		Refunded: refunded,
		State:    orderState(o),
		Created:  o.CreatedAt,
		Updated:  updated,
	}, true, nil
}

// orderState maps displayFinancialStatus onto the book's states (see
// exporter.OrderBook): money captured at any time (PAID, PARTIALLY_PAID,
// PARTIALLY_REFUNDED, REFUNDED) is paid, whatever happened since, a
// cancellation included; PENDING and AUTHORIZED (captured later) are
// pending, or void once cancelled; VOIDED and EXPIRED are void. A status
// this collector does not know counts as paid if money was refunded
// (there was money), else as pending until it becomes one it knows.
func orderState(o order) exporter.OrderState {
	switch strings.ToUpper(o.FinancialStatus) {
	case "PAID", "PARTIALLY_PAID", "PARTIALLY_REFUNDED", "REFUNDED":
		return exporter.OrderPaid
	case "VOIDED", "EXPIRED":
		return exporter.OrderVoid
	}
	if o.TotalRefundedSet != nil {
		if v, err := strconv.ParseFloat(o.TotalRefundedSet.ShopMoney.Amount, 64); err == nil && v > 0 {
			return exporter.OrderPaid
		}
	}
	if o.CancelledAt != nil {
		return exporter.OrderVoid
	}
	return exporter.OrderPending
}

// searchQuery builds the orders search of every pass: any of the codes
// (none: every order), created since the campaigns started (nil: any
// time). The search syntax groups terms with parentheses and joins them
// with AND and OR; times without an offset would be in the shop's time
// zone, so they are sent in UTC with Z. Shopify does not document whether
// discount_code matches case-insensitively, as its checkout does; the
// codes go as configured, and orders are matched to codes
// case-insensitively here.
func searchQuery(codes []string, start *time.Time) string {
	var terms []string
	if len(codes) > 0 {
		names := make([]string, len(codes))
		for i, code := range codes {
			names[i] = "discount_code:" + searchValue(code)
		}
		terms = append(terms, "("+strings.Join(names, " OR ")+")")
	}
	if start != nil {
		terms = append(terms, "created_at:>="+searchTime(*start))
	}
	return strings.Join(terms, " AND ")
}

// withUpdatedSince narrows search to the orders updated since since (zero:
// no bound).
func withUpdatedSince(search string, since time.Time) string {
	if since.IsZero() {
		return search
	}
	t := "updated_at:>=" + searchTime(since)
	if search == "" {
		return t
	}
	return search + " AND " + t
}

var plainValue = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)

// searchValue quotes a code with characters the search syntax treats
// specially (colons, parentheses, quotes, backslashes).
func searchValue(code string) string {
	if plainValue.MatchString(code) {
		return code
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(code) + `"`
}

func searchTime(t time.Time) string { return "'" + t.UTC().Format(time.RFC3339) + "'" }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Package woocommercefake is a local stand-in for a WooCommerce store's REST
// API (v3), for tests and the sandbox. It speaks WooCommerce's wire format
// under /wp-json/wc/v3: consumer key and secret as HTTP Basic auth or as
// consumer_key/consumer_secret query parameters, {"code","message","data":
// {"status"}} error bodies, GET /coupons with the exact-code filter, and
// GET /orders with the created and modified date filters, dates_are_gmt,
// status, orderby/order, page/per_page pagination with X-WP-Total,
// X-WP-TotalPages and Link headers, and _fields. Amounts are decimal
// strings; dates come in the site's time zone and as GMT, both without an
// offset, as WooCommerce writes them.
//
// The key is a read key of a user who may list orders and coupons, unless
// SetKeyPermissions or Deny say otherwise.
//
// WooCommerce itself has no rate limit, but hosts and security plugins
// do: the fake answers 429 with Retry-After only when Faults says so.
package woocommercefake

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// APIPrefix is where the fake serves the REST API, as a WordPress site with
// pretty permalinks does.
const APIPrefix = "/wp-json/wc/v3"

// siteZone is the store's time zone: not UTC, so that a client reading the
// site-local dates instead of the *_gmt ones gets them wrong.
var siteZone = time.FixedZone("UTC+2", 2*60*60)

// Order statuses WooCommerce registers.
const (
	StatusPending       = "pending"
	StatusProcessing    = "processing"
	StatusOnHold        = "on-hold"
	StatusCompleted     = "completed"
	StatusCancelled     = "cancelled"
	StatusRefunded      = "refunded"
	StatusFailed        = "failed"
	StatusCheckoutDraft = "checkout-draft"
	StatusTrash         = "trash"
)

// listed are the statuses WooCommerce registers, but trash.
var listed = []string{StatusPending, StatusProcessing, StatusOnHold, StatusCompleted,
	StatusCancelled, StatusRefunded, StatusFailed, StatusCheckoutDraft}

// streamIDBase spaces the order ids of streams: stream k (from 1) numbers
// its orders k*streamIDBase + seq. Orders added one by one start at 100.
const streamIDBase = 1_000_000

// Order is an order in WooCommerce's own terms, for tests that need
// statuses, several coupons or partial refunds, which a fakeapi.Order
// cannot express.
type Order struct {
	// ID is the order id; PutOrder assigns one when it is 0.
	ID       int
	Status   string
	Currency string // ISO 4217
	Total    float64
	// Coupons are the codes the order used; WooCommerce stores them lower
	// case.
	Coupons []string
	// Refunds are the amounts refunded, positive, one per refund.
	Refunds []float64
	Created time.Time
	// Modified is the last change; zero means Created.
	Modified time.Time
	// Paid is when the order was paid; zero means never.
	Paid time.Time
}

type coupon struct {
	id      int
	code    string // lower case
	created time.Time
}

// Server is the fake store. Its zero value is not usable; call New.
type Server struct {
	// Faults switches the API between healthy and failing; Faults.Hits
	// counts API requests.
	Faults fakeapi.Faults

	key, secret string
	clock       fakeapi.Clock
	start       time.Time
	handler     http.Handler

	mu       sync.Mutex
	streams  []fakeapi.OrderStream
	orders   map[int]*Order
	byStream map[string]int // fakeapi order id -> explicit order id
	nextID   int
	coupons  map[string]*coupon
	couponID int
	served   int // orders written in /orders answers
	pages    int // /orders answers
	requests []OrdersRequest
	// permissions is the key's: read, write or read_write; denied the
	// resources ("orders", "coupons") its user may not list.
	permissions string
	denied      map[string]bool
}

// OrdersRequest is one /orders page the fake answered.
type OrdersRequest struct {
	// Page is the page asked for; ModifiedAfter the modified_after
	// parameter as sent ("" if none).
	Page          int
	ModifiedAfter string
	// Orders is how many orders the page held.
	Orders int
}

// New returns a fake store accepting token, "consumer_key:consumer_secret",
// as its only REST API key. Stream orders are generated from the time New
// is called, by clock.
func New(token string, clock fakeapi.Clock) *Server {
	key, secret, _ := strings.Cut(token, ":")
	s := &Server{
		key:      key,
		secret:   secret,
		clock:    clock,
		start:    clock.Now(),
		orders:   map[int]*Order{},
		byStream: map[string]int{},
		nextID:   100,
		coupons:  map[string]*coupon{},
		couponID: 10,

		permissions: "read",
		denied:      map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+APIPrefix+"/coupons", s.canList("coupons", s.listCoupons))
	mux.HandleFunc("GET "+APIPrefix+"/orders", s.canList("orders", s.listOrders))
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.")
	})
	s.handler = s.Faults.Wrap(s.authenticate(mux), errorWriter{})
	return s
}

// ServeHTTP serves the REST API. Answers carry the store's time, the
// fake's clock, in their Date header, as a web server's do.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Date", s.clock.Now().UTC().Format(http.TimeFormat))
	s.handler.ServeHTTP(w, r)
}

// AddCode creates a coupon with the code, if there is none yet.
func (s *Server) AddCode(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addCodeLocked(code)
}

func (s *Server) addCodeLocked(code string) {
	code = strings.ToLower(strings.TrimSpace(code))
	if _, ok := s.coupons[code]; ok || code == "" {
		return
	}
	s.couponID++
	s.coupons[code] = &coupon{id: s.couponID, code: code, created: s.start.Add(-30 * 24 * time.Hour)}
}

// RemoveCode deletes the coupon; orders that used it keep its code, as in
// WooCommerce.
func (s *Server) RemoveCode(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.coupons, strings.ToLower(code))
}

// AddStream adds orders generated by the stream from the fake's start,
// and creates its coupon. Cancelled stream orders alternate between
// status cancelled and status refunded, each with one refund of the total.
func (s *Server) AddStream(st fakeapi.OrderStream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streams = append(s.streams, st)
	s.addCodeLocked(st.Code)
}

// AddOrder adds one order, or replaces the one added before with the same
// Code and Seq, and creates its coupon if missing. It is processing or
// completed, partly refunded if Refunded > 0, and cancelled or refunded if
// Cancelled, like a stream order.
func (s *Server) AddOrder(o fakeapi.Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addCodeLocked(o.Code)
	wo := fromNeutral(o, 0)
	key := o.ID("")
	if id, ok := s.byStream[key]; ok {
		wo.ID = id
	} else {
		wo.ID = s.nextID
		s.nextID++
		s.byStream[key] = wo.ID
	}
	s.orders[wo.ID] = &wo
}

// PutOrder adds an order, or replaces the one with the same ID, and
// returns its ID. It does not create coupons: call AddCode.
func (s *Server) PutOrder(o Order) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.ID == 0 {
		o.ID = s.nextID
		s.nextID++
	} else if o.ID >= s.nextID {
		s.nextID = o.ID + 1
	}
	o.Coupons = append([]string(nil), o.Coupons...)
	o.Refunds = append([]float64(nil), o.Refunds...)
	s.orders[o.ID] = &o
	return o.ID
}

// OrdersServed returns how many orders the fake has written in /orders
// answers.
func (s *Server) OrdersServed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served
}

// OrdersRequests returns the /orders pages the fake answered, in order.
func (s *Server) OrdersRequests() []OrdersRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]OrdersRequest(nil), s.requests...)
}

// OrderPages returns how many /orders pages the fake has answered.
func (s *Server) OrderPages() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pages
}

// fromNeutral renders a fakeapi order as WooCommerce would hold it.
func fromNeutral(o fakeapi.Order, id int) Order {
	wo := Order{
		ID: id, Status: StatusProcessing, Currency: o.Currency, Total: o.Total,
		Coupons: []string{o.Code}, Created: o.Created, Modified: o.Updated, Paid: o.Created,
	}
	if o.Seq%2 == 0 {
		wo.Status = StatusCompleted
	}
	switch {
	case o.Cancelled && o.Seq%2 == 0:
		wo.Status = StatusRefunded
		wo.Refunds = []float64{o.Refunded}
	case o.Cancelled:
		// Refunded, then cancelled: a stream's cancelled order gave the
		// money back (fakeapi.Order), which WooCommerce records as a
		// refund whatever the status.
		wo.Status = StatusCancelled
		wo.Refunds = []float64{o.Refunded}
	case o.Refunded > 0:
		wo.Refunds = []float64{o.Refunded}
	}
	return wo
}

// all returns every order as of now, streams included; call with s.mu
// held.
func (s *Server) all(now time.Time) []Order {
	var out []Order
	for k, st := range s.streams {
		for _, o := range st.Orders(s.start, now) {
			out = append(out, fromNeutral(o, (k+1)*streamIDBase+o.Seq))
		}
	}
	for _, o := range s.orders {
		out = append(out, *o)
	}
	for i := range out {
		o := &out[i]
		// WooCommerce keeps seconds.
		o.Created = o.Created.Truncate(time.Second)
		if o.Modified.IsZero() {
			o.Modified = o.Created
		}
		o.Modified = o.Modified.Truncate(time.Second)
		o.Paid = o.Paid.Truncate(time.Second)
		for j, c := range o.Coupons {
			o.Coupons[j] = strings.ToLower(c)
		}
	}
	return out
}

// authenticate checks the consumer key and secret the way WooCommerce
// does over HTTPS: query parameters first, else Basic auth. An unknown key
// (a revoked one: WooCommerce deletes it) leaves the request anonymous,
// which the endpoint's permission check refuses with 401; a known key
// with a wrong secret, or without read permission for a GET, is an
// authentication error.
// (Over plain HTTP a real store wants OAuth 1.0a signatures instead; the
// fake, on loopback, takes Basic auth anyway.)
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		key, secret := q.Get("consumer_key"), q.Get("consumer_secret")
		if key == "" || secret == "" {
			key, secret, _ = r.BasicAuth()
		}
		switch {
		case key == "" || secret == "" || key != s.key:
			writeError(w, http.StatusUnauthorized, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
		case secret != s.secret:
			w.Header().Set("WWW-Authenticate", `Basic realm="WooCommerce API. Use a consumer key in the username field and a consumer secret in the password field."`)
			writeError(w, http.StatusUnauthorized, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
		case !s.keyAllows(r.Method):
			writeError(w, http.StatusUnauthorized, "woocommerce_rest_authentication_error", "The API key provided does not have read permissions.")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// paging reads page and per_page as WordPress validates them.
func paging(w http.ResponseWriter, q url.Values) (page, perPage int, ok bool) {
	page, perPage = 1, 10
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeInvalidParam(w, "page", "page must be greater than or equal to 1")
			return 0, 0, false
		}
		page = n
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeInvalidParam(w, "per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)")
			return 0, 0, false
		}
		perPage = n
	}
	return page, perPage, true
}

// pageBounds returns the slice of n items page covers.
func pageBounds(n, page, perPage int) (lo, hi int) {
	lo = min((page-1)*perPage, n)
	return lo, min(lo+perPage, n)
}

// writePage writes one page, body, of total items with WordPress's
// pagination headers.
func writePage(w http.ResponseWriter, r *http.Request, body []map[string]any, total, page, perPage int) {
	pages := (total + perPage - 1) / perPage
	h := w.Header()
	h.Set("X-WP-Total", strconv.Itoa(total))
	h.Set("X-WP-TotalPages", strconv.Itoa(pages))
	link := func(p int, rel string) string {
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		q := u.Query()
		q.Set("page", strconv.Itoa(p))
		u.RawQuery = q.Encode()
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(min(page-1, max(pages, 1)), "prev"))
	}
	if pages > page {
		links = append(links, link(page+1, "next"))
	}
	if len(links) > 0 {
		h.Set("Link", strings.Join(links, ", "))
	}
	fakeapi.WriteJSON(w, http.StatusOK, filterFields(body, r.URL.Query().Get("_fields")))
}

// filterFields keeps the top-level fields _fields names, as WordPress
// does for every REST answer.
func filterFields(items []map[string]any, fields string) []map[string]any {
	if fields == "" {
		return items
	}
	keep := map[string]bool{}
	for _, f := range strings.Split(fields, ",") {
		f, _, _ = strings.Cut(strings.TrimSpace(f), ".")
		keep[f] = true
	}
	out := make([]map[string]any, len(items))
	for i, it := range items {
		m := map[string]any{}
		for k, v := range it {
			if keep[k] {
				m[k] = v
			}
		}
		out[i] = m
	}
	return out
}

// listCoupons is GET /coupons, newest first: code is an exact match
// (WooCommerce looks the code up lower-cased, so any case finds it, and an
// unknown code lists nothing); search matches part of the code.
func (s *Server) listCoupons(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, perPage, ok := paging(w, q)
	if !ok {
		return
	}
	code := strings.ToLower(strings.TrimSpace(q.Get("code")))
	search := strings.ToLower(q.Get("search"))
	now := s.clock.Now()
	s.mu.Lock()
	var match []*coupon
	for _, c := range s.coupons {
		if (code != "" && c.code != code) || (search != "" && !strings.Contains(c.code, search)) {
			continue
		}
		match = append(match, c)
	}
	sort.Slice(match, func(i, j int) bool { return match[i].id > match[j].id })
	usage := map[string]int{}
	for _, o := range s.all(now) {
		if o.Status == StatusCancelled || o.Status == StatusCheckoutDraft || o.Status == StatusTrash {
			continue // WooCommerce gives a cancelled order's coupon use back
		}
		for _, c := range uniq(o.Coupons) {
			usage[c]++
		}
	}
	lo, hi := pageBounds(len(match), page, perPage)
	items := make([]map[string]any, 0, hi-lo)
	for _, c := range match[lo:hi] {
		items = append(items, couponJSON(c, usage[c.code]))
	}
	s.mu.Unlock()
	writePage(w, r, items, len(match), page, perPage)
}

func couponJSON(c *coupon, usage int) map[string]any {
	created := c.created
	return map[string]any{
		"id":                          c.id,
		"code":                        c.code,
		"amount":                      "10.00",
		"status":                      "publish",
		"date_created":                localDate(created),
		"date_created_gmt":            gmtDate(created),
		"date_modified":               localDate(created),
		"date_modified_gmt":           gmtDate(created),
		"discount_type":               "percent",
		"description":                 "",
		"date_expires":                nil,
		"date_expires_gmt":            nil,
		"usage_count":                 usage,
		"individual_use":              true,
		"product_ids":                 []int{},
		"excluded_product_ids":        []int{},
		"usage_limit":                 nil,
		"usage_limit_per_user":        nil,
		"limit_usage_to_x_items":      nil,
		"free_shipping":               false,
		"product_categories":          []int{},
		"excluded_product_categories": []int{},
		"exclude_sale_items":          false,
		"minimum_amount":              "0.00",
		"maximum_amount":              "0.00",
		"email_restrictions":          []string{},
		"used_by":                     []string{},
		"meta_data":                   []any{},
	}
}

// listOrders is GET /orders with the filters the collector uses.
func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, perPage, ok := paging(w, q)
	if !ok {
		return
	}
	gmt := false
	switch v := q.Get("dates_are_gmt"); v {
	case "", "false", "0":
	case "true", "1":
		gmt = true
	default:
		writeInvalidParam(w, "dates_are_gmt", "dates_are_gmt is not of type boolean.")
		return
	}
	var bounds [4]time.Time
	for i, name := range []string{"after", "before", "modified_after", "modified_before"} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		t, err := parseDate(v, gmt)
		if err != nil {
			writeInvalidParam(w, name, "Invalid date.")
			return
		}
		bounds[i] = t
	}
	// status=any, the default, lists every status but trash, plugins'
	// statuses included (WooCommerce takes the registered ones).
	statuses := map[string]bool{}
	for _, v := range append(q["status"], q["status[]"]...) {
		for _, st := range strings.Split(v, ",") {
			if st = strings.TrimSpace(st); st == "" {
				writeInvalidParam(w, "status", "status[0] is not one of any, trash, "+strings.Join(listed, ", ")+".")
				return
			}
			statuses[st] = true
		}
	}
	anyStatus := len(statuses) == 0 || statuses["any"]
	orderBy := q.Get("orderby")
	if orderBy == "" {
		orderBy = "date"
	}
	if !contains([]string{"date", "id", "include", "title", "slug", "modified"}, orderBy) {
		writeInvalidParam(w, "orderby", "orderby is not one of date, id, include, title, slug, and modified.")
		return
	}
	desc := true
	switch q.Get("order") {
	case "", "desc":
	case "asc":
		desc = false
	default:
		writeInvalidParam(w, "order", "order is not one of asc and desc.")
		return
	}

	now := s.clock.Now()
	s.mu.Lock()
	var match []Order
	for _, o := range s.all(now) {
		if (anyStatus && o.Status == StatusTrash) || (!anyStatus && !statuses[o.Status]) ||
			(!bounds[0].IsZero() && !o.Created.After(bounds[0])) ||
			(!bounds[1].IsZero() && !o.Created.Before(bounds[1])) ||
			(!bounds[2].IsZero() && !o.Modified.After(bounds[2])) ||
			(!bounds[3].IsZero() && !o.Modified.Before(bounds[3])) {
			continue
		}
		match = append(match, o)
	}
	// WooCommerce adds the id to date and modified sorts, for stable pages.
	key := func(o Order) time.Time {
		switch orderBy {
		case "date":
			return o.Created
		case "modified":
			return o.Modified
		}
		return time.Time{}
	}
	sort.Slice(match, func(i, j int) bool {
		a, b := match[i], match[j]
		if ka, kb := key(a), key(b); !ka.Equal(kb) {
			return ka.Before(kb) != desc
		}
		return (a.ID < b.ID) != desc
	})
	lo, hi := pageBounds(len(match), page, perPage)
	items := make([]map[string]any, 0, hi-lo)
	for _, o := range match[lo:hi] {
		items = append(items, orderJSON(o))
	}
	s.pages++
	s.served += len(items)
	s.requests = append(s.requests, OrdersRequest{Page: page, ModifiedAfter: q.Get("modified_after"), Orders: len(items)})
	s.mu.Unlock()
	writePage(w, r, items, len(match), page, perPage)
}

// parseDate reads a date-time parameter: with an offset it is absolute;
// without, it is GMT if dates_are_gmt, else the site's time.
func parseDate(v string, gmt bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	loc := siteZone
	if gmt {
		loc = time.UTC
	}
	return time.ParseInLocation("2006-01-02T15:04:05", v, loc)
}

func gmtDate(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}

func localDate(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.In(siteZone).Format("2006-01-02T15:04:05")
}

func money(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// orderJSON renders an order as WooCommerce's order object, with the
// fields a collector may read and enough of the rest to look real.
func orderJSON(o Order) map[string]any {
	coupons := []map[string]any{}
	discount := 0.0
	for i, c := range o.Coupons {
		// A 10% coupon: the total is 90% of the subtotal.
		d := math.Round(o.Total/9*100) / 100
		if i > 0 {
			d = 0
		}
		discount += d
		coupons = append(coupons, map[string]any{
			"id": o.ID*10 + i + 1, "code": c, "discount": money(d), "discount_tax": "0.00", "meta_data": []any{},
		})
	}
	refunds := []map[string]any{}
	for i, amount := range o.Refunds {
		refunds = append(refunds, map[string]any{"id": o.ID*10 + 5 + i, "reason": "", "total": "-" + money(amount)})
	}
	var completed time.Time
	if o.Status == StatusCompleted {
		completed = o.Modified
	}
	method, title := "stripe", "Credit Card (Stripe)"
	if o.Status == StatusOnHold {
		method, title = "bacs", "Direct bank transfer"
	}
	return map[string]any{
		"id":                   o.ID,
		"parent_id":            0,
		"status":               o.Status,
		"currency":             o.Currency,
		"version":              "9.8.5",
		"prices_include_tax":   false,
		"date_created":         localDate(o.Created),
		"date_modified":        localDate(o.Modified),
		"discount_total":       money(discount),
		"discount_tax":         "0.00",
		"shipping_total":       "0.00",
		"shipping_tax":         "0.00",
		"cart_tax":             "0.00",
		"total":                money(o.Total),
		"total_tax":            "0.00",
		"customer_id":          0,
		"order_key":            fmt.Sprintf("wc_order_fake%08d", o.ID),
		"billing":              map[string]any{"first_name": "Test", "last_name": "Buyer", "email": "buyer@example.com", "country": "DE"},
		"shipping":             map[string]any{"first_name": "Test", "last_name": "Buyer", "country": "DE"},
		"payment_method":       method,
		"payment_method_title": title,
		"transaction_id":       "",
		"customer_ip_address":  "",
		"customer_user_agent":  "",
		"created_via":          "checkout",
		"customer_note":        "",
		"date_completed":       localDate(completed),
		"date_paid":            localDate(o.Paid),
		"cart_hash":            "",
		"number":               strconv.Itoa(o.ID),
		"meta_data":            []any{},
		"line_items": []map[string]any{{
			"id": o.ID * 10, "name": "Sample product", "product_id": 42, "variation_id": 0, "quantity": 1,
			"tax_class": "", "subtotal": money(o.Total + discount), "subtotal_tax": "0.00",
			"total": money(o.Total), "total_tax": "0.00", "taxes": []any{}, "meta_data": []any{},
			"sku": "SAMPLE-1", "price": o.Total,
		}},
		"tax_lines":          []any{},
		"shipping_lines":     []any{},
		"fee_lines":          []any{},
		"coupon_lines":       coupons,
		"refunds":            refunds,
		"payment_url":        "",
		"is_editable":        o.Status == StatusPending || o.Status == StatusOnHold,
		"needs_payment":      o.Status == StatusPending || o.Status == StatusFailed,
		"needs_processing":   true,
		"date_created_gmt":   gmtDate(o.Created),
		"date_modified_gmt":  gmtDate(o.Modified),
		"date_completed_gmt": gmtDate(completed),
		"date_paid_gmt":      gmtDate(o.Paid),
		"currency_symbol":    o.Currency,
		"_links": map[string]any{
			"self":       []map[string]string{{"href": fmt.Sprintf("%s/orders/%d", APIPrefix, o.ID)}},
			"collection": []map[string]string{{"href": APIPrefix + "/orders"}},
		},
	}
}

// errorWriter writes the error bodies of injected faults. 429 comes from
// a host or a security plugin in front of WordPress, not from WooCommerce,
// so its body is only WordPress-shaped; the 500 is WordPress's fatal error
// handler answering a REST request.
type errorWriter struct{}

func (errorWriter) WriteError(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusTooManyRequests:
		writeError(w, status, "too_many_requests", "Too many requests. Please try again later.")
	case http.StatusInternalServerError:
		fakeapi.WriteJSON(w, status, map[string]any{
			"code":              "internal_server_error",
			"message":           "<p>There has been a critical error on this website.</p><p><a href=\"https://wordpress.org/documentation/article/faq-troubleshooting/\">Learn more about troubleshooting WordPress.</a></p>",
			"data":              map[string]any{"status": status},
			"additional_errors": []any{},
		})
	default:
		writeError(w, status, strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_")), http.StatusText(status))
	}
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	fakeapi.WriteJSON(w, status, map[string]any{"code": code, "message": message, "data": map[string]any{"status": status}})
}

// writeInvalidParam is WordPress's answer to a parameter that fails its
// schema.
func writeInvalidParam(w http.ResponseWriter, name, detail string) {
	fakeapi.WriteJSON(w, http.StatusBadRequest, map[string]any{
		"code":    "rest_invalid_param",
		"message": "Invalid parameter(s): " + name,
		"data":    map[string]any{"status": http.StatusBadRequest, "params": map[string]string{name: detail}},
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func uniq(codes []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range codes {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// SetKeyPermissions sets the key's permissions as WooCommerce stores them:
// read (the default), write or read_write. A write key may not GET.
func (s *Server) SetKeyPermissions(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.permissions = p
}

// Deny makes the key's user unable to list resource, "orders" or
// "coupons": a user without read_private_shop_orders or
// read_private_shop_coupons, such as one whose role a plugin trimmed.
func (s *Server) Deny(resource string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[resource] = true
}

// keyAllows is WooCommerce's check of the key's permissions against the
// request's method.
func (s *Server) keyAllows(method string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch method {
	case http.MethodGet, http.MethodHead:
		return s.permissions == "read" || s.permissions == "read_write"
	case http.MethodOptions:
		return true
	}
	return s.permissions == "write" || s.permissions == "read_write"
}

// canList is the endpoint's permission check: an authenticated user
// without the capability gets 403 (401 is for anonymous requests).
func (s *Server) canList(resource string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		denied := s.denied[resource]
		s.mu.Unlock()
		if denied {
			writeError(w, http.StatusForbidden, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
			return
		}
		next(w, r)
	}
}

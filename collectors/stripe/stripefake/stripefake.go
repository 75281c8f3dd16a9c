// Package stripefake is a local stand-in for the parts of the Stripe API a
// shop collector reads, for tests and the sandbox. It speaks Stripe's wire
// format: secret keys as Bearer (or Basic user) credentials, the
// Stripe-Version header, {"object":"list","data","has_more","url"} lists
// newest first with limit, starting_after and ending_before cursors and
// created[gt|gte|lt|lte] filters, expand[] on list items, unknown
// parameters refused, and {"error":{"type","code","message","param",
// "doc_url"}} bodies, with the key masked in the invalid-key message as
// Stripe does.
//
// Restricted keys (AddRestrictedKey) reach only what their permissions
// allow: elsewhere they get Stripe's 403 permission error, which names
// the permission missing.
//
// Paths: GET /v1/account, GET /v1/promotion_codes (code, matched
// case-insensitively, active, coupon, created), GET
// /v1/promotion_codes/{id}, GET /v1/checkout/sessions (status, created,
// payment_intent) and GET /v1/refunds (created, payment_intent, charge).
//
// Each order (fakeapi.Order) is a completed Checkout Session in payment
// mode with a PaymentIntent and, if it used a code, the promotion code's
// discount (10 % off); an order with a refund has one succeeded refund
// created at the order's Updated time. Promotion codes render in the
// shape of the 2025 "basil" API versions (coupon embedded); the session's
// discounts field exists from 2025-01-27 on, as at Stripe.
package stripefake

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// DefaultAPIVersion is the version the fake answers in when a request
// sends no Stripe-Version header: the account's default version.
const DefaultAPIVersion = "2025-03-31.basil"

// discountsSince is the first API version whose Checkout Session carries
// the discounts field.
const discountsSince = "2025-01-27"

// percentOff is every fake coupon's discount.
const percentOff = 10

// codeAge is how long before the fake's start its promotion codes were
// created.
const codeAge = 30 * 24 * time.Hour

var versionRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$`)

// promo is a promotion code and its coupon.
type promo struct {
	n       int
	id      string
	code    string
	coupon  string
	created time.Time
	// outside counts redemptions outside Checkout (invoices,
	// subscriptions): times_redeemed includes them.
	outside int
}

type orderKey struct {
	code string // lower case
	seq  int
}

// Server is the fake Stripe. Its zero value is not usable; call New.
type Server struct {
	// Faults switches the API between healthy and failing; Faults.Hits
	// counts requests.
	Faults fakeapi.Faults

	token string
	clock fakeapi.Clock
	start time.Time
	api   http.Handler

	mu        sync.Mutex
	promos    []*promo
	byCode    map[string]*promo // lower-case code
	byPromoID map[string]*promo
	streams   []fakeapi.OrderStream
	orders    map[orderKey]fakeapi.Order
	orderNum  map[orderKey]int
	payments  map[orderKey]Payment
	checkout  time.Duration
	limit     int // requests per second, 0: none
	window    int64
	used      int
	requestID int
	requests  map[string]int
	returned  map[string]int
	cursors   map[string][]string
	// restricted are the restricted keys (rk_…) the fake accepts, with
	// their permissions.
	restricted map[string]map[string]bool
}

// New returns a fake accepting token as its only secret key. Stream orders
// are placed from the time New is called, by clock.
func New(token string, clock fakeapi.Clock) *Server {
	s := &Server{
		token:     token,
		clock:     clock,
		start:     clock.Now(),
		byCode:    map[string]*promo{},
		byPromoID: map[string]*promo{},
		orders:    map[orderKey]fakeapi.Order{},
		orderNum:  map[orderKey]int{},
		payments:  map[orderKey]Payment{},
		requests:  map[string]int{},
		returned:  map[string]int{},
		cursors:   map[string][]string{},

		restricted: map[string]map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/account", s.permit(PermAccountRead, s.getAccount))
	mux.HandleFunc("GET /v1/promotion_codes", s.permit(PermPromotionCodeRead, s.listPromotionCodes))
	mux.HandleFunc("GET /v1/promotion_codes/{id}", s.permit(PermPromotionCodeRead, s.getPromotionCode))
	mux.HandleFunc("GET /v1/checkout/sessions", s.permit(PermCheckoutSessionRead, s.listSessions))
	mux.HandleFunc("GET /v1/refunds", s.permit(PermRefundRead, s.listRefunds))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, apiErr{
			Type:    "invalid_request_error",
			Message: fmt.Sprintf("Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.", r.Method, r.URL.Path),
		})
	})
	s.api = s.count(s.Faults.Wrap(s.common(s.authorize(s.rateLimit(mux))), errorWriter{}))
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.api.ServeHTTP(w, r) }

// AddCode adds a promotion code nobody used yet; a code that exists
// (whatever its case) is left as it is.
func (s *Server) AddCode(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addCode(code)
}

// addCode adds code unless it exists; call with s.mu held.
func (s *Server) addCode(code string) *promo {
	if p, ok := s.byCode[strings.ToLower(code)]; ok {
		return p
	}
	n := len(s.promos) + 1
	p := &promo{
		n:       n,
		id:      fmt.Sprintf("promo_1FAKE%016d", n),
		code:    code,
		coupon:  fmt.Sprintf("FAKECPN%04d", n),
		created: s.start.Add(-codeAge).Add(time.Duration(n) * time.Minute),
	}
	s.promos = append(s.promos, p)
	s.byCode[strings.ToLower(code)] = p
	s.byPromoID[p.id] = p
	return p
}

// AddStream adds orders placed at a steady rate with a code, which becomes
// a promotion code if it is not one yet.
func (s *Server) AddStream(st fakeapi.OrderStream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addCode(st.Code)
	s.streams = append(s.streams, st)
}

// AddOrder adds an explicit order, or replaces the one with the same code
// and Seq (to cancel or refund it later). It is visible once the clock
// reaches its Created time; its refund, once the clock reaches Updated.
// An order with an empty Code used no code.
func (s *Server) AddOrder(o fakeapi.Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.Code != "" {
		s.addCode(o.Code)
	}
	k := orderKey{strings.ToLower(o.Code), o.Seq}
	if _, ok := s.orderNum[k]; !ok {
		s.orderNum[k] = len(s.orderNum) + 1
	}
	s.orders[k] = o
}

// Payment is what a fakeapi.Order does not say about an explicit order's
// payment. Its zero value changes nothing.
type Payment struct {
	// PaymentStatus, if set, is the session's payment_status (unpaid: a
	// delayed payment method not settled yet) instead of paid.
	PaymentStatus string
	// IntentStatus, if set, is the payment intent's status (processing
	// while unpaid; requires_payment_method once a delayed payment
	// failed) instead of succeeded.
	IntentStatus string
	// PresentmentCurrency and PresentmentAmount, if set, are the buyer's
	// currency and the total in it (presentment_details, Adaptive
	// Pricing); the session's currency and amount_total stay the shop's.
	PresentmentCurrency string
	PresentmentAmount   float64
}

// SetPayment sets how the explicit order with code and seq shows its
// payment, until the next SetPayment.
func (s *Server) SetPayment(code string, seq int, p Payment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.payments[orderKey{strings.ToLower(code), seq}] = p
}

// RedeemOutsideCheckout counts n redemptions of code made outside Checkout
// (on invoices or subscriptions): they raise the promotion code's
// times_redeemed but create no Checkout Session.
func (s *Server) RedeemOutsideCheckout(code string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addCode(code).outside += n
}

// SetCheckoutDuration sets how long each customer takes to complete a
// Checkout Session: a session's created time is that long before the
// order (its completion). Zero, the default, makes them equal.
func (s *Server) SetCheckoutDuration(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkout = d
}

// SetRateLimit sets the requests per second the fake accepts before it
// answers 429; 0 (the default) means no limit. Stripe allows 25 per second
// in test mode and 100 in live mode.
func (s *Server) SetRateLimit(perSecond int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = perSecond
}

// Requests returns how many requests were sent to path (such as
// /v1/checkout/sessions), including refused and failed ones.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

// Returned returns how many objects the list at path returned in all.
func (s *Server) Returned(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.returned[path]
}

// Cursors returns the starting_after of each page the list at path
// answered, in order ("" for a first page).
func (s *Server) Cursors(path string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.cursors[path]...)
}

// count counts requests by path.
func (s *Server) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[r.URL.Path]++
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// common checks the Stripe-Version header and sets the headers Stripe
// sends on every answer.
func (s *Server) common(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requestID++
		id := s.requestID
		s.mu.Unlock()
		w.Header().Set("Request-Id", fmt.Sprintf("req_FAKE%010d", id))
		v := r.Header.Get("Stripe-Version")
		if v == "" {
			v = DefaultAPIVersion
		} else if !versionRE.MatchString(v) {
			writeError(w, http.StatusBadRequest, apiErr{Type: "invalid_request_error", Message: "Invalid Stripe API version: " + v})
			return
		}
		w.Header().Set("Stripe-Version", v)
		next.ServeHTTP(w, r)
	})
}

func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := apiKey(r)
		switch {
		case !ok || key == "":
			writeAuthError(w, "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.")
		case key == s.token:
			next.ServeHTTP(w, r)
		case s.restrictedKey(key) != nil:
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), restrictedKeyCtx{}, key)))
		default:
			writeAuthError(w, "Invalid API Key provided: "+MaskKey(key))
		}
	})
}

// apiKey reads the key from "Bearer <key>" or from Basic auth with the key
// as user name, the two forms Stripe accepts.
func apiKey(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if k, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(k), true
	}
	if b, ok := strings.CutPrefix(h, "Basic "); ok {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b))
		if err != nil {
			return "", false
		}
		user, _, _ := strings.Cut(string(raw), ":")
		return user, true
	}
	return "", false
}

// MaskKey hides a key the way Stripe's invalid-key message does: the
// sk_test_ (or similar) prefix and the last four characters stay, the rest
// become asterisks.
func MaskKey(key string) string {
	prefix := ""
	if parts := strings.SplitN(key, "_", 3); len(parts) == 3 && len(parts[0]) == 2 && (parts[1] == "test" || parts[1] == "live") {
		prefix = parts[0] + "_" + parts[1] + "_"
	}
	rest := key[len(prefix):]
	if len(rest) <= 4 {
		return prefix + strings.Repeat("*", len(rest))
	}
	return prefix + strings.Repeat("*", len(rest)-4) + rest[len(rest)-4:]
}

// rateLimit counts requests in one-second windows of the fake's clock.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sec := s.clock.Now().Unix()
		s.mu.Lock()
		if sec != s.window {
			s.window, s.used = sec, 0
		}
		s.used++
		over := s.limit > 0 && s.used > s.limit
		s.mu.Unlock()
		if over {
			writeRateLimited(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sale is one order as the fake serves it; call its methods with s.mu
// held.
type sale struct {
	num       int
	order     fakeapi.Order
	pay       Payment
	created   time.Time // the session's creation
	completed time.Time
	promo     *promo
}

func (x sale) sessionID() string { return fmt.Sprintf("cs_test_a1FAKE%016d", x.num) }
func (x sale) intentID() string  { return fmt.Sprintf("pi_3FAKE%016d", x.num) }
func (x sale) chargeID() string  { return fmt.Sprintf("ch_3FAKE%016d", x.num) }
func (x sale) refundID() string  { return fmt.Sprintf("re_3FAKE%016d", x.num) }

// refunded returns the refunded amount in major units if the refund
// exists at now.
func (x sale) refunded(now time.Time) (float64, bool) {
	amount := x.order.Refunded
	if amount == 0 && x.order.Cancelled {
		amount = x.order.Total
	}
	if amount <= 0 || x.order.Updated.After(now) {
		return 0, false
	}
	return amount, true
}

// sales returns every order completed by now; call with s.mu held.
func (s *Server) sales(now time.Time) []sale {
	var out []sale
	for i, st := range s.streams {
		p := s.byCode[strings.ToLower(st.Code)]
		for _, o := range st.Orders(s.start, now) {
			out = append(out, sale{num: (i+1)*10_000_000 + o.Seq, order: o, promo: p})
		}
	}
	for k, o := range s.orders {
		if o.Created.After(now) {
			continue
		}
		var p *promo
		if o.Code != "" {
			p = s.byCode[k.code]
		}
		out = append(out, sale{num: 900_000_000 + s.orderNum[k], order: o, promo: p, pay: s.payments[k]})
	}
	for i := range out {
		out[i].completed = out[i].order.Created
		out[i].created = out[i].order.Created.Add(-s.checkout)
	}
	return out
}

// redemptions counts each promotion code's redemptions in sales and
// outside Checkout; call with s.mu held.
func (s *Server) redemptions(sales []sale) map[*promo]int {
	n := make(map[*promo]int, len(s.promos))
	for _, p := range s.promos {
		n[p] = p.outside
	}
	for _, x := range sales {
		if x.promo != nil {
			n[x.promo]++
		}
	}
	return n
}

// item is one object of a list, sortable the way Stripe lists are: newest
// first, ties by id.
type item struct {
	id      string
	created int64
	render  func() map[string]any
}

// listQuery is the parsed part of a list request every list shares.
type listQuery struct {
	limit          int
	startingAfter  string
	endingBefore   string
	expand         []string
	created        func(int64) bool
	apiVersion     string
	discountsField bool
}

// parseList checks the parameters of a list request against the ones the
// endpoint knows and parses the common ones; on a bad request it writes
// Stripe's error and returns false.
func parseList(w http.ResponseWriter, r *http.Request, known ...string) (listQuery, bool) {
	q := r.URL.Query()
	allowed := map[string]bool{"limit": true, "starting_after": true, "ending_before": true, "expand[]": true, "created": true,
		"created[gt]": true, "created[gte]": true, "created[lt]": true, "created[lte]": true}
	for _, k := range known {
		allowed[k] = true
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !allowed[k] {
			writeError(w, http.StatusBadRequest, apiErr{Type: "invalid_request_error", Code: "parameter_unknown", Param: k,
				Message: "Received unknown parameter: " + k, DocURL: "https://stripe.com/docs/error-codes/parameter-unknown"})
			return listQuery{}, false
		}
	}
	lq := listQuery{limit: 10, startingAfter: q.Get("starting_after"), endingBefore: q.Get("ending_before"), expand: q["expand[]"]}
	lq.apiVersion = w.Header().Get("Stripe-Version")
	lq.discountsField = lq.apiVersion >= discountsSince
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, apiErr{Type: "invalid_request_error", Code: "parameter_invalid_integer", Param: "limit",
				Message: "Invalid limit: must be between 1 and 100"})
			return listQuery{}, false
		}
		lq.limit = n
	}
	if lq.startingAfter != "" && lq.endingBefore != "" {
		writeError(w, http.StatusBadRequest, apiErr{Type: "invalid_request_error",
			Message: "You may only specify one of these parameters: ending_before, starting_after."})
		return listQuery{}, false
	}
	var bounds []func(int64) bool
	for _, op := range []string{"", "gt", "gte", "lt", "lte"} {
		name := "created"
		if op != "" {
			name += "[" + op + "]"
		}
		v := q.Get(name)
		if v == "" {
			continue
		}
		t, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, apiErr{Type: "invalid_request_error", Code: "parameter_invalid_integer", Param: name,
				Message: "Invalid integer: " + v})
			return listQuery{}, false
		}
		switch op {
		case "":
			bounds = append(bounds, func(c int64) bool { return c == t })
		case "gt":
			bounds = append(bounds, func(c int64) bool { return c > t })
		case "gte":
			bounds = append(bounds, func(c int64) bool { return c >= t })
		case "lt":
			bounds = append(bounds, func(c int64) bool { return c < t })
		case "lte":
			bounds = append(bounds, func(c int64) bool { return c <= t })
		}
	}
	lq.created = func(c int64) bool {
		for _, b := range bounds {
			if !b(c) {
				return false
			}
		}
		return true
	}
	return lq, true
}

// checkExpand refuses expansions the endpoint does not offer.
func checkExpand(w http.ResponseWriter, lq listQuery, allowed map[string]string) bool {
	for _, e := range lq.expand {
		if _, ok := allowed[e]; !ok {
			field := strings.TrimPrefix(e, "data.")
			field, _, _ = strings.Cut(field, ".")
			writeError(w, http.StatusBadRequest, apiErr{Type: "invalid_request_error",
				Message: fmt.Sprintf("This property cannot be expanded (%s).", field)})
			return false
		}
	}
	return true
}

func (lq listQuery) expands(path string) bool {
	for _, e := range lq.expand {
		if e == path {
			return true
		}
	}
	return false
}

// writeList writes one page of items, which match the request's filters,
// rendering only those; all holds every object of the kind, for cursors
// outside the filter. Call with s.mu held.
func (s *Server) writeList(w http.ResponseWriter, r *http.Request, lq listQuery, object string, items []item, all map[string]int64) {
	sort.Slice(items, func(i, j int) bool { return before(items[i].id, items[i].created, items[j].id, items[j].created) })
	var page []item
	hasMore := false
	switch {
	case lq.startingAfter != "":
		c, ok := all[lq.startingAfter]
		if !ok {
			writeMissing(w, http.StatusBadRequest, object, lq.startingAfter, "starting_after")
			return
		}
		i := sort.Search(len(items), func(i int) bool { return before(lq.startingAfter, c, items[i].id, items[i].created) })
		page = items[i:min(i+lq.limit, len(items))]
		hasMore = i+lq.limit < len(items)
	case lq.endingBefore != "":
		c, ok := all[lq.endingBefore]
		if !ok {
			writeMissing(w, http.StatusBadRequest, object, lq.endingBefore, "ending_before")
			return
		}
		n := sort.Search(len(items), func(i int) bool { return !before(items[i].id, items[i].created, lq.endingBefore, c) })
		page = items[max(n-lq.limit, 0):n]
		hasMore = n-lq.limit > 0
	default:
		page = items[:min(lq.limit, len(items))]
		hasMore = lq.limit < len(items)
	}
	data := make([]map[string]any, 0, len(page))
	for _, it := range page {
		data = append(data, it.render())
	}
	s.returned[r.URL.Path] += len(data)
	s.cursors[r.URL.Path] = append(s.cursors[r.URL.Path], lq.startingAfter)
	fakeapi.WriteJSON(w, http.StatusOK, map[string]any{
		"object":   "list",
		"data":     data,
		"has_more": hasMore,
		"url":      r.URL.Path,
	})
}

// before reports whether object a comes before b in a list: newer first,
// then by id, descending.
func before(aID string, aCreated int64, bID string, bCreated int64) bool {
	if aCreated != bCreated {
		return aCreated > bCreated
	}
	return aID > bID
}

func (s *Server) listPromotionCodes(w http.ResponseWriter, r *http.Request) {
	lq, ok := parseList(w, r, "active", "code", "coupon", "customer")
	if !ok || !checkExpand(w, lq, map[string]string{"data.coupon": ""}) {
		return
	}
	q := r.URL.Query()
	if v := q.Get("active"); v != "" && v != "true" && v != "false" {
		writeError(w, http.StatusBadRequest, apiErr{Type: "invalid_request_error", Code: "parameter_invalid_boolean", Param: "active",
			Message: "Invalid boolean: " + v})
		return
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := s.redemptions(s.sales(now))
	all := map[string]int64{}
	var items []item
	for _, p := range s.promos {
		all[p.id] = p.created.Unix()
		if c := q.Get("code"); c != "" && !strings.EqualFold(c, p.code) {
			continue
		}
		if c := q.Get("coupon"); c != "" && c != p.coupon {
			continue
		}
		if q.Get("active") == "false" || q.Get("customer") != "" || !lq.created(p.created.Unix()) {
			continue // every fake code is active and for every customer
		}
		items = append(items, item{id: p.id, created: p.created.Unix(), render: func() map[string]any { return s.promoJSON(p, counts) }})
	}
	s.writeList(w, r, lq, "promotion code", items, all)
}

func (s *Server) getPromotionCode(w http.ResponseWriter, r *http.Request) {
	for k := range r.URL.Query() {
		if k != "expand[]" {
			writeError(w, http.StatusBadRequest, apiErr{Type: "invalid_request_error", Code: "parameter_unknown", Param: k,
				Message: "Received unknown parameter: " + k, DocURL: "https://stripe.com/docs/error-codes/parameter-unknown"})
			return
		}
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.byPromoID[r.PathValue("id")]
	if !ok {
		writeMissing(w, http.StatusNotFound, "promotion code", r.PathValue("id"), "promotion_code")
		return
	}
	fakeapi.WriteJSON(w, http.StatusOK, s.promoJSON(p, s.redemptions(s.sales(now))))
}

// promoJSON renders a promotion code; call with s.mu held.
func (s *Server) promoJSON(p *promo, counts map[*promo]int) map[string]any {
	n := counts[p]
	return map[string]any{
		"id":              p.id,
		"object":          "promotion_code",
		"active":          true,
		"code":            p.code,
		"coupon":          s.couponJSON(p, n),
		"created":         p.created.Unix(),
		"customer":        nil,
		"expires_at":      nil,
		"livemode":        false,
		"max_redemptions": nil,
		"metadata":        map[string]string{},
		"restrictions": map[string]any{
			"first_time_transaction":  false,
			"minimum_amount":          nil,
			"minimum_amount_currency": nil,
		},
		"times_redeemed": n,
	}
}

func (s *Server) couponJSON(p *promo, redeemed int) map[string]any {
	return map[string]any{
		"id":                 p.coupon,
		"object":             "coupon",
		"amount_off":         nil,
		"created":            p.created.Unix(),
		"currency":           nil,
		"duration":           "once",
		"duration_in_months": nil,
		"livemode":           false,
		"max_redemptions":    nil,
		"metadata":           map[string]string{},
		"name":               fmt.Sprintf("%d%% off", percentOff),
		"percent_off":        percentOff,
		"redeem_by":          nil,
		"times_redeemed":     redeemed,
		"valid":              true,
	}
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	lq, ok := parseList(w, r, "status", "payment_intent", "customer", "customer_details", "payment_link", "subscription")
	if !ok {
		return
	}
	expandable := map[string]string{"data.total_details.breakdown": "", "data.payment_intent": ""}
	if lq.discountsField {
		expandable["data.discounts.promotion_code"] = ""
		expandable["data.discounts.coupon"] = ""
	}
	if !checkExpand(w, lq, expandable) {
		return
	}
	q := r.URL.Query()
	status := q.Get("status")
	if status != "" && status != "open" && status != "complete" && status != "expired" {
		writeError(w, http.StatusBadRequest, apiErr{Type: "invalid_request_error", Code: "parameter_invalid_string", Param: "status",
			Message: "Invalid status: must be one of open, complete, or expired"})
		return
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sales := s.sales(now)
	counts := s.redemptions(sales)
	all := map[string]int64{}
	var items []item
	for _, x := range sales {
		all[x.sessionID()] = x.created.Unix()
		if (status != "" && status != "complete") || !lq.created(x.created.Unix()) {
			continue
		}
		if pi := q.Get("payment_intent"); pi != "" && pi != x.intentID() {
			continue
		}
		items = append(items, item{id: x.sessionID(), created: x.created.Unix(), render: func() map[string]any { return s.sessionJSON(x, counts, lq) }})
	}
	s.writeList(w, r, lq, "checkout.session", items, all)
}

// sessionJSON renders a completed Checkout Session; call with s.mu held.
func (s *Server) sessionJSON(x sale, counts map[*promo]int, lq listQuery) map[string]any {
	cur := strings.ToLower(x.order.Currency)
	total := MinorUnits(x.order.Currency, x.order.Total)
	subtotal, discount := total, int64(0)
	if x.promo != nil {
		subtotal = int64(math.Round(float64(total) * 100 / (100 - percentOff)))
		discount = subtotal - total
	}
	details := map[string]any{"amount_discount": discount, "amount_shipping": 0, "amount_tax": 0}
	if lq.expands("data.total_details.breakdown") {
		discounts := []map[string]any{}
		if x.promo != nil {
			discounts = append(discounts, map[string]any{
				"amount": discount,
				"discount": map[string]any{
					"id":                fmt.Sprintf("di_1FAKE%016d", x.num),
					"object":            "discount",
					"checkout_session":  x.sessionID(),
					"coupon":            s.couponJSON(x.promo, counts[x.promo]),
					"customer":          nil,
					"end":               nil,
					"invoice":           nil,
					"invoice_item":      nil,
					"promotion_code":    x.promo.id,
					"start":             x.created.Unix(),
					"subscription":      nil,
					"subscription_item": nil,
				},
			})
		}
		details["breakdown"] = map[string]any{"discounts": discounts, "taxes": []any{}}
	}
	paymentStatus, intentStatus := "paid", "succeeded"
	if x.pay.PaymentStatus != "" {
		paymentStatus = x.pay.PaymentStatus
		if paymentStatus == "unpaid" {
			intentStatus = "processing"
		}
	}
	if x.pay.IntentStatus != "" {
		intentStatus = x.pay.IntentStatus
	}
	var intent any = x.intentID()
	if lq.expands("data.payment_intent") {
		intent = map[string]any{"id": x.intentID(), "object": "payment_intent", "amount": total, "currency": cur,
			"latest_charge": x.chargeID(), "status": intentStatus, "created": x.completed.Unix()}
	}
	body := map[string]any{
		"id":                    x.sessionID(),
		"object":                "checkout.session",
		"adaptive_pricing":      nil,
		"after_expiration":      nil,
		"allow_promotion_codes": true,
		"amount_subtotal":       subtotal,
		"amount_total":          total,
		"automatic_tax":         map[string]any{"enabled": false, "liability": nil, "status": nil},
		"cancel_url":            nil,
		"client_reference_id":   nil,
		"created":               x.created.Unix(),
		"currency":              cur,
		"customer":              nil,
		"customer_creation":     "if_required",
		"customer_details": map[string]any{
			"address": nil, "email": fmt.Sprintf("buyer%d@example.com", x.num), "name": nil, "phone": nil,
			"tax_exempt": "none", "tax_ids": []any{},
		},
		"customer_email":       nil,
		"expires_at":           x.created.Add(24 * time.Hour).Unix(),
		"invoice":              nil,
		"livemode":             false,
		"locale":               nil,
		"metadata":             map[string]string{},
		"mode":                 "payment",
		"payment_intent":       intent,
		"payment_link":         nil,
		"payment_method_types": []string{"card"},
		"payment_status":       paymentStatus,
		"status":               "complete",
		"submit_type":          nil,
		"subscription":         nil,
		"success_url":          "https://shop.example/thanks",
		"total_details":        details,
		"ui_mode":              "hosted",
		"url":                  nil,
	}
	if x.pay.PresentmentCurrency != "" {
		body["presentment_details"] = map[string]any{
			"presentment_amount":   MinorUnits(x.pay.PresentmentCurrency, x.pay.PresentmentAmount),
			"presentment_currency": strings.ToLower(x.pay.PresentmentCurrency),
		}
	}
	if lq.discountsField {
		discounts := []map[string]any{}
		if x.promo != nil {
			var pc any = x.promo.id
			if lq.expands("data.discounts.promotion_code") {
				pc = s.promoJSON(x.promo, counts)
			}
			discounts = append(discounts, map[string]any{"coupon": nil, "promotion_code": pc})
		}
		body["discounts"] = discounts
	}
	return body
}

func (s *Server) listRefunds(w http.ResponseWriter, r *http.Request) {
	lq, ok := parseList(w, r, "payment_intent", "charge")
	if !ok || !checkExpand(w, lq, map[string]string{"data.charge": "", "data.payment_intent": ""}) {
		return
	}
	q := r.URL.Query()
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	all := map[string]int64{}
	var items []item
	for _, x := range s.sales(now) {
		amount, ok := x.refunded(now)
		if !ok {
			continue
		}
		created := x.order.Updated.Unix()
		all[x.refundID()] = created
		if !lq.created(created) {
			continue
		}
		if pi := q.Get("payment_intent"); pi != "" && pi != x.intentID() {
			continue
		}
		if ch := q.Get("charge"); ch != "" && ch != x.chargeID() {
			continue
		}
		body := map[string]any{
			"id":                       x.refundID(),
			"object":                   "refund",
			"amount":                   MinorUnits(x.order.Currency, amount),
			"balance_transaction":      fmt.Sprintf("txn_3FAKE%016d", x.num),
			"charge":                   x.chargeID(),
			"created":                  created,
			"currency":                 strings.ToLower(x.order.Currency),
			"destination_details":      map[string]any{"type": "card", "card": map[string]any{"reference_status": "pending", "reference_type": "acquirer_reference_number", "type": "refund"}},
			"metadata":                 map[string]string{},
			"payment_intent":           x.intentID(),
			"reason":                   "requested_by_customer",
			"receipt_number":           nil,
			"source_transfer_reversal": nil,
			"status":                   "succeeded",
			"transfer_reversal":        nil,
		}
		items = append(items, item{id: x.refundID(), created: created, render: func() map[string]any { return body }})
	}
	s.writeList(w, r, lq, "refund", items, all)
}

// MinorUnits converts a major-unit amount to the integer Stripe's API
// uses for the currency: cents for most, the unit itself for zero-decimal
// currencies, thousandths for three-decimal ones (whose last digit Stripe
// wants to be 0). ISK, HUF and TWD stay two-decimal in the API.
func MinorUnits(currency string, major float64) int64 {
	switch strings.ToUpper(currency) {
	case "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF":
		return int64(math.Round(major))
	case "BHD", "JOD", "KWD", "OMR", "TND":
		return int64(math.Round(major*100)) * 10
	}
	return int64(math.Round(major * 100))
}

// apiErr is the inside of Stripe's error body.
type apiErr struct {
	Type    string `json:"type"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
	DocURL  string `json:"doc_url,omitempty"`
}

func writeError(w http.ResponseWriter, status int, e apiErr) {
	fakeapi.WriteJSON(w, status, map[string]apiErr{"error": e})
}

func writeAuthError(w http.ResponseWriter, msg string) {
	w.Header().Set("Www-Authenticate", `Bearer realm="Stripe"`)
	writeError(w, http.StatusUnauthorized, apiErr{Type: "invalid_request_error", Message: msg})
}

func writeMissing(w http.ResponseWriter, status int, object, id, param string) {
	writeError(w, status, apiErr{Type: "invalid_request_error", Code: "resource_missing", Param: param,
		Message: fmt.Sprintf("No such %s: '%s'", object, id), DocURL: "https://stripe.com/docs/error-codes/resource-missing"})
}

func writeRateLimited(w http.ResponseWriter) {
	w.Header().Set("Stripe-Should-Retry", "true")
	writeError(w, http.StatusTooManyRequests, apiErr{Type: "invalid_request_error", Code: "rate_limit",
		Message: "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
		DocURL:  "https://stripe.com/docs/error-codes/rate-limit"})
}

// errorWriter writes Stripe's error bodies for injected faults.
type errorWriter struct{}

func (errorWriter) WriteError(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusTooManyRequests:
		writeRateLimited(w)
	case http.StatusInternalServerError:
		writeError(w, status, apiErr{Type: "api_error", Message: "An unknown error occurred"})
	default:
		writeError(w, status, apiErr{Type: "api_error", Message: http.StatusText(status)})
	}
}

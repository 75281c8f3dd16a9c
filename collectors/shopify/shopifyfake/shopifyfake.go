// Package shopifyfake is a local stand-in for one Shopify shop's Admin
// GraphQL API, for tests and the sandbox. It speaks Shopify's wire format:
// POST /admin/api/{version}/graphql.json with {"query","variables"}, the
// X-Shopify-Access-Token header (a wrong one gets Shopify's 401 body),
// GraphQL answers with extensions.cost, cost-based throttling from a leaky
// bucket (THROTTLED errors on HTTP 200), the single-query cost cap
// (MAX_COST_EXCEEDED; SetFieldCost prices a field above the default, as
// Shopify may), the orders connection with cursor pagination up to the
// 25,000 objects Shopify documents, sort keys and Shopify's search syntax
// (updated_at and created_at ranges included, for incremental listings),
// and codeDiscountNodeByCode. The token's access scopes (all the
// collector needs, unless SetScopes says otherwise) are listed by GET
// /admin/oauth/access_scopes.json and enforced as Shopify does: a field
// whose scope is missing is ACCESS_DENIED, and without read_all_orders
// orders older than 60 days are not listed. GET
// /admin/api/{version}/shop.json names the shop.
//
// Orders come from fakeapi.OrderStream values, generated from the fake's
// start by its clock, and from explicit fakeapi.Order values. The bucket
// refills on the wall clock, not the fake's clock, so a throttled client
// recovers by waiting while order times stay where a test put them.
//
// The GraphQL support is a subset: one query operation, aliases,
// variables, inline fragments; the schema holds only what the exporter
// reads (orders, codeDiscountNodeByCode, shop).
package shopifyfake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
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

// Throttling defaults. Shopify documents the restore rate per plan (100
// points a second on Standard); the bucket size here assumes twenty
// seconds of restore, which the documentation does not state for every
// plan.
const (
	DefaultBucketSize  = 2000
	DefaultRestoreRate = 100
	// MaxQueryCost is the highest requested cost Shopify runs in one
	// query, whatever the bucket holds.
	MaxQueryCost = 1000
	// MaxPageSize is the largest first a connection takes.
	MaxPageSize = 250
	// PaginationLimit is how far into a connection Shopify paginates:
	// 25,000 objects ("Shopify API limits", pagination limits).
	PaginationLimit = 25_000
)

// InvalidTokenMessage is Shopify's answer to a wrong or missing access
// token, sent as {"errors": "..."} with HTTP 401.
const InvalidTokenMessage = "[API] Invalid API key or access token (unrecognized login or wrong password)"

const rateLimitDocs = "https://shopify.dev/api/usage/rate-limits"

var apiPath = regexp.MustCompile(`^/admin/api/(\d{4}-(?:01|04|07|10)|unstable)/graphql\.json$`)

// Server is the fake shop. Its zero value is not usable; call New.
type Server struct {
	// Faults switches the API between healthy and failing; Faults.Hits
	// counts every request.
	Faults fakeapi.Faults

	token   string
	clock   fakeapi.Clock
	start   time.Time
	wall    func() time.Time
	handler http.Handler

	mu       sync.Mutex
	codes    map[string]*discount // by lower-case code
	streams  []fakeapi.OrderStream
	explicit []*explicitOrder
	byKey    map[string]*explicitOrder
	payments map[string]Payment // by byKey's key
	bucket   bucket
	forced   int
	depth    int // pagination limit
	costs    fieldCosts
	stats    Stats
	// scopes are the access scopes granted to the token; oldest, if
	// set, the oldest API version still supported.
	scopes map[string]bool
	oldest string
}

// Stats counts what the fake answered.
type Stats struct {
	// Queries is the GraphQL requests that reached the executor,
	// throttled ones included.
	Queries int
	// OrderPages is the orders connections resolved, one per page.
	OrderPages int
	// OrdersServed is the order nodes returned, over all pages.
	OrdersServed int
	// Throttled is the queries answered THROTTLED.
	Throttled int
	// Warnings are the search warnings sent, as "field: message".
	Warnings []string
	// Pages are the orders pages resolved, in order.
	Pages []PageRequest
}

// PageRequest is one page of an orders connection the fake resolved.
type PageRequest struct {
	// Query is the search query, After the cursor asked for ("" for a
	// first page).
	Query, After string
	// EndCursor is the cursor the page answered, "" when it was the last.
	EndCursor string
	// Orders is how many orders the page held.
	Orders int
}

type discount struct {
	id   int64
	code string // as created
}

type explicitOrder struct {
	id int64
	fakeapi.Order
}

// shopOrder is an order as the shop holds it.
type shopOrder struct {
	fakeapi.Order
	id  int64
	pay Payment
}

// Payment is what a fakeapi.Order does not say about an explicit order's
// payment. Its zero value changes nothing.
type Payment struct {
	// FinancialStatus, if set, is the order's displayFinancialStatus
	// (PENDING, AUTHORIZED...) instead of the one its refunds and
	// cancellation imply.
	FinancialStatus string
	// PresentmentCurrency and PresentmentAmount, if set, are the buyer's
	// currency and the order's total in it (the MoneyBags'
	// presentmentMoney); the order's Currency and Total stay the shop's.
	PresentmentCurrency string
	PresentmentAmount   float64
}

// SetPayment sets how the explicit order with code and seq shows its
// payment, until the next SetPayment.
func (s *Server) SetPayment(code string, seq int, p Payment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.payments[strings.ToLower(code)+"#"+strconv.Itoa(seq)] = p
}

func (o *shopOrder) gid() string  { return "gid://shopify/Order/" + strconv.FormatInt(o.id, 10) }
func (o *shopOrder) name() string { return "#" + strconv.FormatInt(o.id, 10) }

// bucket is Shopify's leaky bucket of query cost points.
type bucket struct {
	size, rate, avail float64
	at                time.Time
}

func (b *bucket) level(now time.Time) float64 {
	if now.After(b.at) {
		b.avail = math.Min(b.size, b.avail+b.rate*now.Sub(b.at).Seconds())
		b.at = now
	}
	return b.avail
}

// New returns a fake shop accepting token as its only access token. Order
// streams start at the clock's time when New is called.
func New(token string, clock fakeapi.Clock) *Server {
	s := &Server{
		token: token,
		clock: clock,
		start: clock.Now(),
		wall:  time.Now,
		codes: map[string]*discount{},
		byKey: map[string]*explicitOrder{},

		payments: map[string]Payment{},
		depth:    PaginationLimit,
	}
	s.bucket = bucket{size: DefaultBucketSize, rate: DefaultRestoreRate, avail: DefaultBucketSize, at: s.wall()}
	s.scopes = defaultScopes()
	deny := func(w http.ResponseWriter) {
		fakeapi.WriteJSON(w, http.StatusUnauthorized, map[string]string{"errors": InvalidTokenMessage})
	}
	graphql := fakeapi.RequireHeader("X-Shopify-Access-Token", token, deny, http.HandlerFunc(s.graphql))
	scopes := fakeapi.RequireHeader("X-Shopify-Access-Token", token, deny, http.HandlerFunc(s.accessScopes))
	shop := fakeapi.RequireHeader("X-Shopify-Access-Token", token, deny, http.HandlerFunc(s.shop))
	s.handler = s.Faults.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case apiPath.MatchString(r.URL.Path):
			graphql.ServeHTTP(w, r)
		case r.URL.Path == accessScopesPath:
			scopes.ServeHTTP(w, r)
		case shopPath.MatchString(r.URL.Path):
			shop.ServeHTTP(w, r)
		default:
			fakeapi.WriteJSON(w, http.StatusNotFound, map[string]string{"errors": "Not Found"})
		}
	}), errorWriter{})
	return s
}

// ServeHTTP serves POST /admin/api/{version}/graphql.json.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Read the body first: net/http notices a client hanging up (and
	// cancels the request's context, which ends a Hang fault) only once
	// the body is consumed.
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.handler.ServeHTTP(w, r)
}

// AddStream adds orders redeeming st.Code at a steady rate, and the code.
func (s *Server) AddStream(st fakeapi.OrderStream) {
	s.AddCode(st.Code)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streams = append(s.streams, st)
}

// AddOrder adds an explicit order, and its code. An order with the same
// code (case-insensitively) and Seq replaces the earlier one, keeping its
// id: that is how a test cancels or refunds an order. Seq 0 gets the next
// free number. Updated defaults to Created.
func (s *Server) AddOrder(o fakeapi.Order) {
	s.AddCode(o.Code)
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.Seq == 0 {
		o.Seq = len(s.explicit) + 1
	}
	if o.Updated.IsZero() {
		o.Updated = o.Created
	}
	key := strings.ToLower(o.Code) + "#" + strconv.Itoa(o.Seq)
	if e, ok := s.byKey[key]; ok {
		e.Order = o
		return
	}
	e := &explicitOrder{id: 900_000_000_000 + int64(len(s.explicit)+1), Order: o}
	s.explicit = append(s.explicit, e)
	s.byKey[key] = e
}

// AddCode creates a code discount with that code, unless the shop has
// one already (codes are unique regardless of case).
func (s *Server) AddCode(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(code)
	if _, ok := s.codes[k]; !ok {
		s.codes[k] = &discount{id: int64(1_000_000 + len(s.codes) + 1), code: code}
	}
}

// SetBucket sets the throttle bucket's size and restore rate (points a
// second) and fills it.
func (s *Server) SetBucket(size, restoreRate float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bucket = bucket{size: size, rate: restoreRate, avail: size, at: s.wall()}
}

// SetAvailable sets the points left in the bucket now, as if other calls
// of the same app had spent the rest.
func (s *Server) SetAvailable(points float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bucket.avail, s.bucket.at = points, s.wall()
}

// SetFieldCost makes each object the field name returns cost points
// instead of 1, as Shopify may price a field: for a test of a client that
// must not rely on the default costs alone.
func (s *Server) SetFieldCost(name string, points int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.costs == nil {
		s.costs = fieldCosts{}
	}
	s.costs[name] = points
}

// SetPaginationLimit sets how many objects into a connection the fake
// paginates (PaginationLimit by default): a page reaching past them is
// refused.
func (s *Server) SetPaginationLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.depth = n
}

// ForceThrottle answers the next n queries THROTTLED whatever the bucket
// holds.
func (s *Server) ForceThrottle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forced = n
}

// Stats returns what the fake answered so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Warnings = append([]string(nil), s.stats.Warnings...)
	st.Pages = append([]PageRequest(nil), s.stats.Pages...)
	return st
}

// Orders returns how many orders the shop holds now.
func (s *Server) Orders() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.orders(s.clock.Now()))
}

// orders returns every order as it is at now; call with s.mu held.
func (s *Server) orders(now time.Time) []*shopOrder {
	var out []*shopOrder
	for k, st := range s.streams {
		for _, o := range st.Orders(s.start, now) {
			out = append(out, &shopOrder{Order: o, id: int64(k+1)*1_000_000_000 + int64(o.Seq)})
		}
	}
	for _, e := range s.explicit {
		pay := s.payments[strings.ToLower(e.Code)+"#"+strconv.Itoa(e.Seq)]
		out = append(out, &shopOrder{Order: e.Order, id: e.id, pay: pay})
	}
	return out
}

type errorWriter struct{}

// WriteError writes Shopify's {"errors": "..."} body. Shopify throttles
// GraphQL with THROTTLED errors on HTTP 200; a 429 carries the REST
// message.
func (errorWriter) WriteError(w http.ResponseWriter, status int) {
	msg := http.StatusText(status)
	if status == http.StatusTooManyRequests {
		msg = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
	}
	fakeapi.WriteJSON(w, status, map[string]string{"errors": msg})
}

type costExtension struct {
	RequestedQueryCost int            `json:"requestedQueryCost"`
	ActualQueryCost    *int           `json:"actualQueryCost"`
	ThrottleStatus     throttleStatus `json:"throttleStatus"`
}

type throttleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable float64 `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"`
}

type searchExtension struct {
	Path     []any           `json:"path"`
	Query    string          `json:"query"`
	Warnings []searchWarning `json:"warnings"`
}

// execution is one request's state.
type execution struct {
	s        *Server
	now      time.Time
	orders   []*shopOrder
	searches []searchExtension
}

func (s *Server) graphql(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fakeapi.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"errors": "Method Not Allowed"})
		return
	}
	var req struct {
		Query     string                     `json:"query"`
		Variables map[string]json.RawMessage `json:"variables"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(body, &req) != nil || strings.TrimSpace(req.Query) == "" {
		fakeapi.WriteJSON(w, http.StatusBadRequest, map[string]any{"errors": map[string]string{"query": "Required parameter missing or invalid"}})
		return
	}
	sel, err := parseQuery(req.Query, req.Variables)
	if err != nil {
		writeErrors(w, nil, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	requested := s.costs.requested(sel)
	s.stats.Queries++
	avail := s.bucket.level(s.wall())
	status := func() throttleStatus {
		return throttleStatus{MaximumAvailable: s.bucket.size, CurrentlyAvailable: math.Floor(s.bucket.avail), RestoreRate: s.bucket.rate}
	}
	if requested > MaxQueryCost {
		writeErrors(w, map[string]any{"cost": costExtension{RequestedQueryCost: requested, ThrottleStatus: status()}}, &gqlError{
			Message: fmt.Sprintf("Query cost is %d, which exceeds the single query max cost limit (%d).\n\n"+
				"See %s for more information on how the\ncost of a query is calculated.\n\n"+
				"To query larger amounts of data with fewer limits, bulk operations should be used instead.\n", requested, MaxQueryCost, rateLimitDocs),
			Extensions: map[string]any{"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MaxQueryCost},
		})
		return
	}
	if s.forced > 0 || float64(requested) > avail {
		if s.forced > 0 {
			s.forced--
		}
		s.stats.Throttled++
		writeErrors(w, map[string]any{"cost": costExtension{RequestedQueryCost: requested, ThrottleStatus: status()}}, &gqlError{
			Message:    "Throttled",
			Extensions: map[string]any{"code": "THROTTLED", "documentation": rateLimitDocs},
		})
		return
	}
	// The requested cost is taken up front; what the query did not use
	// goes back once it ran.
	s.bucket.avail -= float64(requested)
	ex := &execution{s: s, now: s.clock.Now()}
	ex.orders = s.orders(ex.now)
	data, actual, err := s.costs.render(ex.root(), sel, nil)
	if err != nil {
		s.bucket.avail += float64(requested)
		writeErrors(w, map[string]any{"cost": costExtension{RequestedQueryCost: requested, ThrottleStatus: status()}}, err)
		return
	}
	s.bucket.avail += float64(requested - actual)
	ext := map[string]any{"cost": costExtension{RequestedQueryCost: requested, ActualQueryCost: &actual, ThrottleStatus: status()}}
	if len(ex.searches) > 0 {
		ext["search"] = ex.searches
	}
	fakeapi.WriteJSON(w, http.StatusOK, map[string]any{"data": data, "extensions": ext})
}

// writeErrors answers HTTP 200 with GraphQL errors and no data.
func writeErrors(w http.ResponseWriter, ext map[string]any, err error) {
	ge, ok := err.(*gqlError)
	if !ok {
		ge = &gqlError{Message: err.Error()}
	}
	body := map[string]any{"errors": []*gqlError{ge}}
	if ext != nil {
		body["extensions"] = ext
	}
	fakeapi.WriteJSON(w, http.StatusOK, body)
}

// node is an object of the schema: its type, what it costs and its
// fields. A field holds a scalar, *node, []*node or a resolver.
type node struct {
	typ    string
	ifaces []string
	weight int // 1 for an object, 2 for a connection, 0 for edges and pageInfo
	fields map[string]any
}

type resolver func(args map[string]any) (any, error)

func object(typ string, fields map[string]any, ifaces ...string) *node {
	return &node{typ: typ, ifaces: ifaces, weight: 1, fields: fields}
}

func (n *node) is(typ string) bool {
	if n.typ == typ {
		return true
	}
	for _, i := range n.ifaces {
		if i == typ {
			return true
		}
	}
	return false
}

// render resolves sel on n and returns the answer and its actual cost.
func (fc fieldCosts) render(n *node, sel []*selection, path []any) (*orderedObject, int, error) {
	out := newObject()
	cost := 0
	var walk func([]*selection) error
	walk = func(sel []*selection) error {
		for _, s := range sel {
			if s.field == nil {
				if n.is(s.typeCond) {
					if err := walk(s.sel); err != nil {
						return err
					}
				}
				continue
			}
			f := s.field
			p := append(path[:len(path):len(path)], f.key())
			if f.name == "__typename" {
				out.set(f.key(), n.typ)
				continue
			}
			v, ok := n.fields[f.name]
			if !ok {
				return &gqlError{
					Message:    fmt.Sprintf("Field '%s' doesn't exist on type '%s'", f.name, n.typ),
					Locations:  []location{{f.line, f.col}},
					Path:       p,
					Extensions: map[string]any{"code": "undefinedField", "typeName": n.typ, "fieldName": f.name},
				}
			}
			if r, ok := v.(resolver); ok {
				var err error
				if v, err = r(f.args); err != nil {
					ge, ok := err.(*gqlError)
					if !ok {
						ge = &gqlError{Message: err.Error()}
					}
					ge.Locations, ge.Path = []location{{f.line, f.col}}, p
					return ge
				}
			}
			val, c, err := fc.renderValue(v, f, p)
			if err != nil {
				return err
			}
			out.set(f.key(), val)
			cost += c
		}
		return nil
	}
	return out, cost, walk(sel)
}

func (fc fieldCosts) renderValue(v any, f *field, path []any) (any, int, error) {
	switch x := v.(type) {
	case *node:
		if x == nil {
			return nil, 0, nil
		}
		if f.sel == nil {
			return nil, 0, &gqlError{
				Message:   fmt.Sprintf("Field must have selections (field '%s' returns %s but has no selections. Did you mean '%s { ... }'?)", f.name, x.typ, f.name),
				Locations: []location{{f.line, f.col}},
				Path:      path,
			}
		}
		obj, c, err := fc.render(x, f.sel, path)
		w := x.weight
		if n, ok := fc[f.name]; ok {
			w = n
		}
		return obj, w + c, err
	case []*node:
		if f.sel == nil {
			return nil, 0, &gqlError{Message: fmt.Sprintf("Field must have selections (field '%s' returns a list of objects but has no selections.)", f.name), Locations: []location{{f.line, f.col}}, Path: path}
		}
		list := make([]any, 0, len(x))
		cost := 0
		for i, e := range x {
			obj, c, err := fc.render(e, f.sel, append(path[:len(path):len(path)], i))
			if err != nil {
				return nil, 0, err
			}
			list = append(list, obj)
			cost += e.weight + c
		}
		return list, cost, nil
	}
	if f.sel != nil {
		return nil, 0, &gqlError{Message: fmt.Sprintf("Selections can't be made on scalars (field '%s')", f.name), Locations: []location{{f.line, f.col}}, Path: path}
	}
	return v, 0, nil
}

// fieldCosts are the costs of fields that return an object, by field
// name, where they differ from the default 1: Shopify may give any field
// a cost of its own.
type fieldCosts map[string]int

func (fc fieldCosts) cost(name string) int {
	if n, ok := fc[name]; ok {
		return n
	}
	return 1
}

// requested is the cost Shopify reserves before running a query:
// scalars 0, objects 1, a connection 2 plus first (or last) times the
// cost of one node; of inline fragments the dearest counts.
func (fc fieldCosts) requested(sel []*selection) int {
	total, frag := 0, 0
	for _, s := range sel {
		if s.field == nil {
			frag = max(frag, fc.requested(s.sel))
			continue
		}
		f := s.field
		if f.sel == nil {
			continue
		}
		if n, ok := pageArg(f.args); ok {
			per := 0
			for _, c := range f.sel {
				if c.field == nil {
					continue
				}
				switch c.field.name {
				case "nodes":
					per = max(per, 1+fc.requested(c.field.sel))
				case "edges":
					for _, e := range c.field.sel {
						if e.field != nil && e.field.name == "node" {
							per = max(per, 1+fc.requested(e.field.sel))
						}
					}
				}
			}
			total += 2 + n*per
			continue
		}
		total += fc.cost(f.name) + fc.requested(f.sel)
	}
	return total + frag
}

func pageArg(args map[string]any) (int, bool) {
	for _, k := range []string{"first", "last"} {
		if n, ok := args[k].(int64); ok {
			return int(n), true
		}
	}
	return 0, false
}

func (ex *execution) root() *node {
	return &node{typ: "QueryRoot", fields: map[string]any{
		"orders":                 resolver(ex.ordersField),
		"codeDiscountNodeByCode": resolver(ex.codeDiscountNodeByCode),
		"shop": object("Shop", map[string]any{
			"id":              "gid://shopify/Shop/1",
			"name":            ShopName,
			"currencyCode":    "USD",
			"ianaTimezone":    "Etc/UTC",
			"myshopifyDomain": ShopDomain,
		}),
	}}
}

// ordersField is the orders connection: orders matching query, ordered by
// sortKey (default ID), first after the cursor.
func (ex *execution) ordersField(args map[string]any) (any, error) {
	if err := ex.s.require("orders", ScopeReadOrders); err != nil {
		return nil, err
	}
	if _, ok := args["last"]; ok {
		return nil, &gqlError{Message: "last and before are not supported by this fake"}
	}
	first, ok := args["first"].(int64)
	switch {
	case !ok:
		return nil, &gqlError{Message: "you must provide one of first or last"}
	case first < 0 || first > MaxPageSize:
		return nil, &gqlError{Message: fmt.Sprintf("Argument 'first' on Field 'orders' must be between 0 and %d", MaxPageSize)}
	}
	sortKey := "ID"
	if v, ok := args["sortKey"].(string); ok {
		sortKey = v
	}
	var keyOf func(o *shopOrder) int64
	switch sortKey {
	case "ID":
		keyOf = func(o *shopOrder) int64 { return o.id }
	case "CREATED_AT", "PROCESSED_AT":
		keyOf = func(o *shopOrder) int64 { return o.Created.UnixNano() }
	case "UPDATED_AT":
		keyOf = func(o *shopOrder) int64 { return o.Updated.UnixNano() }
	default:
		return nil, &gqlError{Message: fmt.Sprintf("Argument 'sortKey' on Field 'orders' has an invalid value (%s). Expected type 'OrderSortKeys'.", sortKey)}
	}
	reverse, _ := args["reverse"].(bool)

	list := ex.s.visibleOrders(ex.orders, ex.now)
	query, _ := args["query"].(string)
	if q := query; strings.TrimSpace(q) != "" {
		expr, warnings := parseSearch(q, ex.now)
		if len(warnings) > 0 {
			ex.searches = append(ex.searches, searchExtension{Path: []any{"orders"}, Query: q, Warnings: warnings})
			for _, w := range warnings {
				ex.s.stats.Warnings = append(ex.s.stats.Warnings, w.Field+": "+w.Message)
			}
		}
		var match []*shopOrder
		for _, o := range list {
			if expr.match(o) {
				match = append(match, o)
			}
		}
		list = match
	}
	less := func(a, b [2]int64) bool {
		if a[0] != b[0] {
			return a[0] < b[0] != reverse
		}
		return a[1] < b[1] != reverse
	}
	key := func(o *shopOrder) [2]int64 { return [2]int64{keyOf(o), o.id} }
	sorted := append([]*shopOrder(nil), list...)
	sort.Slice(sorted, func(i, j int) bool { return less(key(sorted[i]), key(sorted[j])) })
	after, _ := args["after"].(string)
	if after != "" {
		at, err := decodeCursor(after)
		if err != nil {
			return nil, &gqlError{Message: "Invalid cursor for current pagination sort."}
		}
		i := sort.Search(len(sorted), func(i int) bool { return less(at, key(sorted[i])) })
		if err := ex.s.paginationLimit(i, int(first)); err != nil {
			return nil, err
		}
		sorted = sorted[i:]
	} else if err := ex.s.paginationLimit(0, int(first)); err != nil {
		return nil, err
	}
	page := sorted[:min(int(first), len(sorted))]
	ex.s.stats.OrderPages++
	ex.s.stats.OrdersServed += len(page)

	nodes := make([]*node, 0, len(page))
	edges := make([]*node, 0, len(page))
	var start, end any
	for i, o := range page {
		n := ex.orderNode(o)
		cur := encodeCursor(key(o))
		nodes = append(nodes, n)
		edges = append(edges, &node{typ: "OrderEdge", fields: map[string]any{"cursor": cur, "node": n}})
		if i == 0 {
			start = cur
		}
		end = cur
	}
	pr := PageRequest{Query: query, After: after, Orders: len(page)}
	if len(sorted) > len(page) {
		pr.EndCursor, _ = end.(string)
	}
	ex.s.stats.Pages = append(ex.s.stats.Pages, pr)
	return &node{typ: "OrderConnection", weight: 2, fields: map[string]any{
		"nodes": nodes,
		"edges": edges,
		"pageInfo": &node{typ: "PageInfo", fields: map[string]any{
			"hasNextPage":     len(sorted) > len(page),
			"hasPreviousPage": len(sorted) < len(list),
			"startCursor":     start,
			"endCursor":       end,
		}},
	}}, nil
}

// paginationLimit refuses a page of first objects from position at of a
// connection if it reaches past the pagination limit. Shopify documents
// the limit, not how it answers past it: a GraphQL error here, which a
// client that respects the limit never sees.
func (s *Server) paginationLimit(at, first int) error {
	if at+first <= s.depth {
		return nil
	}
	return &gqlError{
		Message:    fmt.Sprintf("Pagination is limited to %d objects; filter the query to page through fewer.", s.depth),
		Extensions: map[string]any{"code": "BAD_REQUEST"},
	}
}

// Cursors are base64 JSON of the last sort value and id, like Shopify's.
func encodeCursor(k [2]int64) string {
	b, _ := json.Marshal(map[string]int64{"last_id": k[1], "last_value": k[0]})
	return base64.StdEncoding.EncodeToString(b)
}

func decodeCursor(c string) ([2]int64, error) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return [2]int64{}, err
	}
	var v struct {
		ID    *int64 `json:"last_id"`
		Value *int64 `json:"last_value"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.ID == nil || v.Value == nil {
		return [2]int64{}, fmt.Errorf("bad cursor")
	}
	return [2]int64{*v.Value, *v.ID}, nil
}

func (ex *execution) orderNode(o *shopOrder) *node {
	var cancelledAt, cancelReason any
	if o.Cancelled {
		cancelledAt, cancelReason = o.Updated.UTC().Format(time.RFC3339), "CUSTOMER"
	}
	status := "PAID"
	switch {
	case o.Refunded > 0 && o.Refunded >= o.Total:
		status = "REFUNDED"
	case o.Refunded > 0:
		status = "PARTIALLY_REFUNDED"
	case o.Cancelled:
		status = "VOIDED"
	}
	if o.pay.FinancialStatus != "" {
		status = o.pay.FinancialStatus
	}
	total := moneyBag(o.Total, o.Currency)
	if o.pay.PresentmentCurrency != "" {
		total = presentedBag(o.Total, o.Currency, o.pay.PresentmentAmount, o.pay.PresentmentCurrency)
	}
	created := o.Created.UTC().Format(time.RFC3339)
	return object("Order", map[string]any{
		"id":                     o.gid(),
		"legacyResourceId":       strconv.FormatInt(o.id, 10),
		"name":                   o.name(),
		"createdAt":              created,
		"processedAt":            created,
		"updatedAt":              o.Updated.UTC().Format(time.RFC3339),
		"cancelledAt":            cancelledAt,
		"cancelReason":           cancelReason,
		"test":                   false,
		"currencyCode":           o.Currency,
		"discountCode":           o.Code,
		"discountCodes":          []string{o.Code},
		"displayFinancialStatus": status,
		"totalPriceSet":          total,
		"currentTotalPriceSet":   moneyBag(math.Max(o.Total-o.Refunded, 0), o.Currency),
		"totalRefundedSet":       moneyBag(o.Refunded, o.Currency),
	}, "Node")
}

// presentedBag is a MoneyBag whose presentmentMoney is in the buyer's
// currency.
func presentedBag(amount float64, currency string, presented float64, presentment string) *node {
	return object("MoneyBag", map[string]any{
		"shopMoney":        object("MoneyV2", map[string]any{"amount": decimal(amount), "currencyCode": currency}),
		"presentmentMoney": object("MoneyV2", map[string]any{"amount": decimal(presented), "currencyCode": presentment}),
	})
}

func moneyBag(amount float64, currency string) *node {
	m := object("MoneyV2", map[string]any{"amount": decimal(amount), "currencyCode": currency})
	return object("MoneyBag", map[string]any{"shopMoney": m, "presentmentMoney": m})
}

// decimal renders an amount as Shopify's Decimal scalar: a string, with at
// least one decimal ("25.0", "19.99").
func decimal(v float64) string {
	s := strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// codeDiscountNodeByCode finds a code discount by code, case-insensitively.
func (ex *execution) codeDiscountNodeByCode(args map[string]any) (any, error) {
	if err := ex.s.require("codeDiscountNodeByCode", ScopeReadDiscounts); err != nil {
		return nil, err
	}
	code, ok := args["code"].(string)
	if !ok {
		return nil, &gqlError{Message: "Field 'codeDiscountNodeByCode' is missing required arguments: code"}
	}
	d, ok := ex.s.codes[strings.ToLower(code)]
	if !ok {
		return (*node)(nil), nil
	}
	// Counted only when asked for: a check of a thousand codes asks
	// for ids alone.
	used := resolver(func(map[string]any) (any, error) {
		n := 0
		for _, o := range ex.orders {
			if strings.EqualFold(o.Code, d.code) {
				n++
			}
		}
		return n, nil
	})
	redeem := object("DiscountRedeemCode", map[string]any{
		"id":              fmt.Sprintf("gid://shopify/DiscountRedeemCode/%d", d.id),
		"code":            d.code,
		"asyncUsageCount": used,
	})
	codes := resolver(func(map[string]any) (any, error) {
		return &node{typ: "DiscountRedeemCodeConnection", weight: 2, fields: map[string]any{
			"nodes": []*node{redeem},
			"pageInfo": &node{typ: "PageInfo", fields: map[string]any{
				"hasNextPage": false, "hasPreviousPage": false, "startCursor": nil, "endCursor": nil,
			}},
		}}, nil
	})
	return object("DiscountCodeNode", map[string]any{
		"id": fmt.Sprintf("gid://shopify/DiscountCodeNode/%d", d.id),
		"codeDiscount": object("DiscountCodeBasic", map[string]any{
			"title":           d.code,
			"status":          "ACTIVE",
			"startsAt":        ex.s.start.Add(-24 * time.Hour).UTC().Format(time.RFC3339),
			"endsAt":          nil,
			"asyncUsageCount": used,
			"codes":           codes,
		}, "DiscountCode"),
	}, "Node"), nil
}

package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// DefaultAPIVersion is the Admin API version asked for. Shopify releases a
// version each quarter (YYYY-01, -04, -07, -10) and supports each for at
// least twelve months; 2026-10 is the newest stable one as this is written.
const DefaultAPIVersion = "2026-10"

// Query costs, computed the way Shopify documents them (shopify.dev,
// "GraphQL Admin API rate limits", cost calculation): scalars and enums
// cost 0, objects 1, a connection 2 plus first times the cost of one node.
// Shopify reserves the requested cost before running a query and refunds
// what it did not use; a query requesting more than maxQueryCost is
// refused outright (MAX_COST_EXCEEDED), whatever the bucket holds.
//
// Not confirmed: that no field the collector selects has a cost of its
// own above the default (the documentation allows it, and names none for
// these fields), and that Shopify bounds neither the aliases of a query nor
// the size of its body below what a query of maxQueryCost points needs.
// The costs below are therefore a starting point: every answer says what
// the query requested (extensions.cost.requestedQueryCost, also sent with
// MAX_COST_EXCEEDED), and api raises them to what the shop charges, so a
// shop that charges more costs one refused query, then smaller batches.
const (
	maxQueryCost = 1000
	// connectionCost is what a connection costs besides its nodes.
	connectionCost = 2
	// orderNodeCost is one node of ordersQuery: the Order, two MoneyBag
	// and two MoneyV2 objects (discountCodes is a list of strings: 0).
	orderNodeCost = 5
	// codeCheckCost is one aliased codeDiscountNodeByCode { id }: the
	// DiscountCodeNode object. 1,000 codes fit in one query.
	codeCheckCost = 1
)

// ordersQuery reads one page of orders. totalPriceSet is the order's
// original total (currentTotalPriceSet shrinks as items are removed or
// refunded); shopMoney is in the shop's currency, presentmentMoney in the
// buyer's. Sorting by UPDATED_AT keeps the cursor walk in the order the
// incremental filter reads.
const ordersQuery = `query Orders($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes {
      id
      createdAt
      updatedAt
      cancelledAt
      displayFinancialStatus
      discountCodes
      totalPriceSet { shopMoney { amount currencyCode } }
      totalRefundedSet { shopMoney { amount currencyCode } }
    }
    pageInfo { hasNextPage endCursor }
  }
}`

// order is the part of Shopify's Order object the collector reads.
type order struct {
	ID          string     `json:"id"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	CancelledAt *time.Time `json:"cancelledAt"`
	// FinancialStatus is OrderDisplayFinancialStatus: PENDING,
	// AUTHORIZED, PARTIALLY_PAID, PAID, PARTIALLY_REFUNDED, REFUNDED,
	// VOIDED, EXPIRED.
	FinancialStatus  string    `json:"displayFinancialStatus"`
	DiscountCodes    []string  `json:"discountCodes"`
	TotalPriceSet    *moneyBag `json:"totalPriceSet"`
	TotalRefundedSet *moneyBag `json:"totalRefundedSet"`
}

type moneyBag struct {
	ShopMoney struct {
		// Amount is Shopify's Decimal scalar, a string like "19.99".
		Amount       string `json:"amount"`
		CurrencyCode string `json:"currencyCode"`
	} `json:"shopMoney"`
}

type ordersPage struct {
	Orders *struct {
		Nodes    []order `json:"nodes"`
		PageInfo struct {
			HasNextPage bool   `json:"hasNextPage"`
			EndCursor   string `json:"endCursor"`
		} `json:"pageInfo"`
	} `json:"orders"`
}

// gqlRequest is the body of a GraphQL call.
type gqlRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables,omitempty"`
}

// gqlResponse is a GraphQL answer: data, errors, and Shopify's extensions.
type gqlResponse struct {
	Data       json.RawMessage `json:"data"`
	Errors     []gqlError      `json:"errors"`
	Extensions struct {
		Cost   *queryCost `json:"cost"`
		Search []struct {
			Query    string `json:"query"`
			Warnings []struct {
				Field   string `json:"field"`
				Message string `json:"message"`
			} `json:"warnings"`
		} `json:"search"`
	} `json:"extensions"`
}

type gqlError struct {
	Message    string        `json:"message"`
	Extensions gqlErrorExtra `json:"extensions"`
}

// gqlErrorExtra is a GraphQL error's extensions: its code and, for
// MAX_COST_EXCEEDED, the query's cost and the limit.
type gqlErrorExtra struct {
	Code    string              `json:"code"`
	Cost    *exporter.FlexFloat `json:"cost"`
	MaxCost *exporter.FlexFloat `json:"maxCost"`
}

// queryCost is extensions.cost, present on every Admin API answer.
type queryCost struct {
	RequestedQueryCost float64        `json:"requestedQueryCost"`
	ActualQueryCost    *float64       `json:"actualQueryCost"`
	ThrottleStatus     throttleStatus `json:"throttleStatus"`
}

// throttleStatus is the app's leaky bucket at this shop: its size, the
// points left and the points restored each second.
type throttleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable float64 `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"`
}

// The numbers of extensions.cost are read as a JSON number or a numeric
// string (exporter.FlexFloat): a proxy or API version that quotes them
// must not fail the refresh.

// UnmarshalJSON reads extensions.cost tolerantly.
func (c *queryCost) UnmarshalJSON(b []byte) error {
	var w struct {
		RequestedQueryCost exporter.FlexFloat  `json:"requestedQueryCost"`
		ActualQueryCost    *exporter.FlexFloat `json:"actualQueryCost"`
		ThrottleStatus     throttleStatus      `json:"throttleStatus"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*c = queryCost{RequestedQueryCost: float64(w.RequestedQueryCost), ThrottleStatus: w.ThrottleStatus}
	if w.ActualQueryCost != nil {
		v := float64(*w.ActualQueryCost)
		c.ActualQueryCost = &v
	}
	return nil
}

// UnmarshalJSON reads extensions.cost.throttleStatus tolerantly.
func (t *throttleStatus) UnmarshalJSON(b []byte) error {
	var w struct {
		MaximumAvailable   exporter.FlexFloat `json:"maximumAvailable"`
		CurrentlyAvailable exporter.FlexFloat `json:"currentlyAvailable"`
		RestoreRate        exporter.FlexFloat `json:"restoreRate"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*t = throttleStatus{float64(w.MaximumAvailable), float64(w.CurrentlyAvailable), float64(w.RestoreRate)}
	return nil
}

// errorMessage extracts Shopify's error text. Auth failures carry a
// string ({"errors":"[API] Invalid API key or access token ..."}), GraphQL
// failures a list of {"message"}, a bad request an object of parameter
// problems.
func errorMessage(_ int, body []byte) string {
	var e struct {
		Errors json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Errors) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(e.Errors, &s) == nil {
		return s
	}
	var list []gqlError
	if json.Unmarshal(e.Errors, &list) == nil {
		msgs := make([]string, 0, len(list))
		for _, g := range list {
			msgs = append(msgs, g.Message)
		}
		return strings.Join(msgs, "; ")
	}
	var obj map[string]any
	if json.Unmarshal(e.Errors, &obj) == nil {
		parts := make([]string, 0, len(obj))
		for k, v := range obj {
			parts = append(parts, fmt.Sprintf("%s: %v", k, v))
		}
		return strings.Join(parts, "; ")
	}
	return ""
}

// noHeaderQuota tells the client that Shopify's GraphQL quota is not in
// headers: it is in each answer's extensions.cost, reported by api.
func noHeaderQuota(http.Header) (float64, time.Time, bool) { return 0, time.Time{}, false }

// api is the shop's GraphQL endpoint on the shared client, with what the
// last answer said of the throttle bucket.
type api struct {
	*exporter.API
	path string
	// retries bounds how often one query is sent again after THROTTLED.
	retries int
	logger  *slog.Logger
	now     func() time.Time

	mu     sync.Mutex
	bucket throttleStatus
	seenAt time.Time // when bucket was read; zero before the first answer
	// codeCost and orderCost are what one code of a check and one order
	// of a page cost: the documented figures (codeCheckCost,
	// orderNodeCost), or more once the shop charged more (see learn).
	codeCost, orderCost float64
}

// query runs one GraphQL query and decodes its data into out, and returns
// the cost Shopify says the query requested (0 if the answer did not
// say). estimate is the cost the query will request: if the bucket,
// restored since the last answer, holds less, the client pauses until it
// holds enough. A THROTTLED answer (HTTP 200 with that error code and no
// data) is waited out and sent again, at most retries times; then, or
// when the wait would be longer than the client's max_retry_wait, the
// error matches exporter.ErrRateLimited. A query dearer than maxQueryCost
// fails with errTooCostly.
func (a *api) query(ctx context.Context, q string, vars map[string]any, estimate float64, out any) (float64, error) {
	for attempt := 0; ; attempt++ {
		a.reserve(estimate)
		var resp gqlResponse
		if _, err := a.Post(ctx, a.path, gqlRequest{Query: q, Variables: vars}, &resp); err != nil {
			return 0, err
		}
		requested := 0.0
		refusedCost, refused := tooCostly(resp.Errors)
		if c := resp.Extensions.Cost; c != nil {
			seen := *c
			if refused {
				// What the bucket must hold for a query it will never
				// run says nothing of when to call next.
				seen.RequestedQueryCost = 0
			}
			a.observe(seen)
			if c.RequestedQueryCost > 0 {
				estimate, requested = c.RequestedQueryCost, c.RequestedQueryCost
			}
		}
		if throttled(resp.Errors) {
			if attempt >= a.retries {
				return requested, a.throttledError(estimate, attempt+1)
			}
			a.logger.Debug("query throttled, waiting for the cost bucket", "requested_cost", estimate, "attempt", attempt+1)
			continue
		}
		if refused {
			if requested == 0 {
				requested = refusedCost
			}
			return requested, fmt.Errorf("%w: %w", errTooCostly, graphQLError(resp.Errors))
		}
		if len(resp.Errors) > 0 {
			return requested, graphQLError(resp.Errors)
		}
		for _, s := range resp.Extensions.Search {
			for _, w := range s.Warnings {
				a.logger.Warn("shop ignored part of a search", "field", w.Field, "message", w.Message)
			}
		}
		if len(bytes.TrimSpace(resp.Data)) == 0 || bytes.Equal(bytes.TrimSpace(resp.Data), []byte("null")) {
			return requested, fmt.Errorf("%w: answer without data or errors", exporter.ErrBadResponse)
		}
		if err := json.Unmarshal(resp.Data, out); err != nil {
			return requested, fmt.Errorf("%w: decode data: %v", exporter.ErrBadResponse, err)
		}
		return requested, nil
	}
}

// errTooCostly marks a query Shopify refused for requesting more than
// maxQueryCost points (MAX_COST_EXCEEDED): the api has learnt what such a
// query costs, and a smaller one may pass.
var errTooCostly = errors.New("query over the single-query cost limit")

// tooCostly reports whether the errors refuse the query for its cost, and
// the cost the error names (extensions.cost), if any.
func tooCostly(errs []gqlError) (float64, bool) {
	for _, e := range errs {
		if e.Extensions.Code == "MAX_COST_EXCEEDED" {
			cost := 0.0
			if e.Extensions.Cost != nil {
				cost = float64(*e.Extensions.Cost)
			}
			return cost, true
		}
	}
	return 0, false
}

// learn raises *unit, the cost of one of n items of a query (a code
// checked, an order of a page), to what Shopify charged: requested points
// for n items, base of them for the query itself. It never lowers it: a
// query's requested cost is an upper bound Shopify computed, and the
// documented cost is the floor.
func (a *api) learn(unit *float64, requested float64, n int, base float64) {
	if requested <= 0 || n <= 0 {
		return
	}
	per := math.Ceil((requested - base) / float64(n))
	a.mu.Lock()
	defer a.mu.Unlock()
	if per > *unit {
		a.logger.Debug("shop charges more than the documented query cost", "documented", *unit, "charged", per)
		*unit = per
	}
}

// codesPerQuery is how many codes one check may ask about: as many as
// maxQueryCost points pay for.
func (a *api) codesPerQuery() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return max(1, int(maxQueryCost/a.codeCost))
}

// pageSize is want, or fewer orders if a page of want would cost more than
// maxQueryCost points.
func (a *api) pageSize(want int) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return max(1, min(want, int((maxQueryCost-connectionCost)/a.orderCost)))
}

// reserve pauses the client until the bucket, as last reported and
// restored since, holds cost points.
func (a *api) reserve(cost float64) {
	a.mu.Lock()
	b, at := a.bucket, a.seenAt
	a.mu.Unlock()
	if at.IsZero() || b.RestoreRate <= 0 {
		return
	}
	now := a.now()
	avail := math.Min(b.MaximumAvailable, b.CurrentlyAvailable+b.RestoreRate*now.Sub(at).Seconds())
	// A query dearer than the whole bucket can never fit; send it and let
	// Shopify say so.
	need := math.Min(cost, b.MaximumAvailable)
	if need > avail {
		a.Client.PauseUntil(now.Add(seconds((need - avail) / b.RestoreRate)))
	}
}

// observe records the bucket an answer reported and exports the points
// left as influencer_api_quota_remaining.
func (a *api) observe(c queryCost) {
	now := a.now()
	a.mu.Lock()
	a.bucket, a.seenAt = c.ThrottleStatus, now
	a.mu.Unlock()
	reset := now
	if st := c.ThrottleStatus; st.RestoreRate > 0 && c.RequestedQueryCost > st.CurrentlyAvailable {
		reset = now.Add(seconds((c.RequestedQueryCost - st.CurrentlyAvailable) / st.RestoreRate))
	}
	a.Client.ReportQuota(c.ThrottleStatus.CurrentlyAvailable, reset)
}

func (a *api) throttledError(cost float64, attempts int) error {
	a.mu.Lock()
	b := a.bucket
	a.mu.Unlock()
	return fmt.Errorf("%w: query throttled %d times (cost %g, %g of %g points available, restoring %g/s)",
		exporter.ErrRateLimited, attempts, cost, b.CurrentlyAvailable, b.MaximumAvailable, b.RestoreRate)
}

func throttled(errs []gqlError) bool {
	for _, e := range errs {
		if e.Extensions.Code == "THROTTLED" {
			return true
		}
	}
	return false
}

// graphQLError turns GraphQL errors into an error matching the closest
// exporter sentinel: a missing access scope is ACCESS_DENIED.
func graphQLError(errs []gqlError) error {
	kind := exporter.ErrBadResponse
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		switch e.Extensions.Code {
		case "ACCESS_DENIED":
			kind = exporter.ErrUnauthorized
		case "INTERNAL_SERVER_ERROR":
			kind = exporter.ErrServer
		}
		m := e.Message
		if e.Extensions.Code != "" {
			m = e.Extensions.Code + ": " + m
		}
		msgs = append(msgs, strings.TrimSpace(m))
	}
	return &queryError{kind: kind, msg: "graphql: " + strings.Join(msgs, "; ")}
}

// queryError is an answer whose GraphQL errors refused the query (a bad
// argument, such as a cursor the shop no longer takes, or a missing
// scope), as opposed to an answer that could not be read.
type queryError struct {
	kind error
	msg  string
}

func (e *queryError) Error() string { return e.kind.Error() + ": " + e.msg }

// Unwrap returns the exporter sentinel the errors match.
func (e *queryError) Unwrap() error { return e.kind }

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// ordersPage reads one page of up to pageSize orders the search query
// matches, after the cursor ("" for the first page), and returns the
// cursor the next page starts after, "" when this page was the last. A
// page the shop refuses for its cost is asked for again, smaller.
func (a *api) ordersPage(ctx context.Context, search string, pageSize int, after string) ([]order, string, error) {
	var got ordersPage
	var cursor any
	if after != "" {
		cursor = after
	}
	for {
		first := a.pageSize(pageSize)
		vars := map[string]any{"first": first, "query": search, "after": cursor}
		requested, err := a.query(ctx, ordersQuery, vars, connectionCost+float64(first)*a.unit(&a.orderCost), &got)
		a.learn(&a.orderCost, requested, first, connectionCost)
		if errors.Is(err, errTooCostly) && a.pageSize(pageSize) < first {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		break
	}
	if got.Orders == nil {
		return nil, "", fmt.Errorf("%w: no orders connection", exporter.ErrBadResponse)
	}
	pi := got.Orders.PageInfo
	if !pi.HasNextPage {
		return got.Orders.Nodes, "", nil
	}
	if pi.EndCursor == "" || pi.EndCursor == after {
		return nil, "", fmt.Errorf("%w: pagination does not advance", exporter.ErrBadResponse)
	}
	return got.Orders.Nodes, pi.EndCursor, nil
}

// unit reads a learnt unit cost.
func (a *api) unit(u *float64) float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return *u
}

// codesExist asks, in one query of aliased codeDiscountNodeByCode fields,
// which codes the shop has (Shopify matches the code case-insensitively).
// Ask about at most codesPerQuery codes: a query the shop refuses for its
// cost fails with errTooCostly, and codesPerQuery is smaller after it.
func (a *api) codesExist(ctx context.Context, codes []string) (map[string]bool, error) {
	var b strings.Builder
	b.WriteString("query Codes(")
	vars := make(map[string]any, len(codes))
	for i, c := range codes {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$c%d: String!", i)
		vars[fmt.Sprintf("c%d", i)] = c
	}
	b.WriteString(") {\n")
	for i := range codes {
		fmt.Fprintf(&b, "  c%d: codeDiscountNodeByCode(code: $c%d) { id }\n", i, i)
	}
	b.WriteString("}")
	var got map[string]*struct {
		ID string `json:"id"`
	}
	requested, err := a.query(ctx, b.String(), vars, float64(len(codes))*a.unit(&a.codeCost), &got)
	a.learn(&a.codeCost, requested, len(codes), 0)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(codes))
	for i, c := range codes {
		n, ok := got[fmt.Sprintf("c%d", i)]
		if !ok {
			return nil, fmt.Errorf("%w: no answer for code %q", exporter.ErrBadResponse, c)
		}
		out[c] = n != nil && n.ID != ""
	}
	return out, nil
}

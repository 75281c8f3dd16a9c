package shopify

import (
	"bytes"
	"context"
	"encoding/json"
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

// Query costs, computed the way Shopify documents them: scalars and enums
// cost 0, objects 1, a connection 2 plus first times the cost of one node.
// Shopify reserves the requested cost before running a query and refunds
// what it did not use; a query requesting more than maxQueryCost is
// refused outright.
const (
	maxQueryCost = 1000
	// orderNodeCost is one node of ordersQuery: the Order, two MoneyBag
	// and two MoneyV2 objects.
	orderNodeCost = 5
	// codeCheckCost is one codeDiscountNodeByCode { id }.
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
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
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
}

// query runs one GraphQL query and decodes its data into out. estimate
// is the cost the query will request: if the bucket, restored since the
// last answer, holds less, the client pauses until it holds enough. A
// THROTTLED answer (HTTP 200 with that error code and no data) is waited
// out and sent again, at most retries times; then, or when the wait would
// be longer than the client's max_retry_wait, the error matches
// exporter.ErrRateLimited.
func (a *api) query(ctx context.Context, q string, vars map[string]any, estimate float64, out any) error {
	for attempt := 0; ; attempt++ {
		a.reserve(estimate)
		var resp gqlResponse
		if _, err := a.Post(ctx, a.path, gqlRequest{Query: q, Variables: vars}, &resp); err != nil {
			return err
		}
		if c := resp.Extensions.Cost; c != nil {
			a.observe(*c)
			if c.RequestedQueryCost > 0 {
				estimate = c.RequestedQueryCost
			}
		}
		if throttled(resp.Errors) {
			if attempt >= a.retries {
				return a.throttledError(estimate, attempt+1)
			}
			a.logger.Debug("query throttled, waiting for the cost bucket", "requested_cost", estimate, "attempt", attempt+1)
			continue
		}
		if len(resp.Errors) > 0 {
			return graphQLError(resp.Errors)
		}
		for _, s := range resp.Extensions.Search {
			for _, w := range s.Warnings {
				a.logger.Warn("shop ignored part of a search", "field", w.Field, "message", w.Message)
			}
		}
		if len(bytes.TrimSpace(resp.Data)) == 0 || bytes.Equal(bytes.TrimSpace(resp.Data), []byte("null")) {
			return fmt.Errorf("%w: answer without data or errors", exporter.ErrBadResponse)
		}
		if err := json.Unmarshal(resp.Data, out); err != nil {
			return fmt.Errorf("%w: decode data: %v", exporter.ErrBadResponse, err)
		}
		return nil
	}
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

// ordersPage reads one page of the orders the search query matches, after
// the cursor ("" for the first page), and returns the cursor the next page
// starts after, "" when this page was the last.
func (a *api) ordersPage(ctx context.Context, search string, pageSize int, after string) ([]order, string, error) {
	var got ordersPage
	vars := map[string]any{"first": pageSize, "query": search}
	if after != "" {
		vars["after"] = after
	} else {
		vars["after"] = nil
	}
	if err := a.query(ctx, ordersQuery, vars, float64(2+pageSize*orderNodeCost), &got); err != nil {
		return nil, "", err
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

// codesExist asks, in one query of aliased codeDiscountNodeByCode fields,
// which codes the shop has (Shopify matches the code case-insensitively).
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
	if err := a.query(ctx, b.String(), vars, float64(len(codes)*codeCheckCost), &got); err != nil {
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

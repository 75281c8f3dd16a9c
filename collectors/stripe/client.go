package stripe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// DefaultBaseURL is the Stripe API root, version path included.
const DefaultBaseURL = "https://api.stripe.com/v1"

// DefaultVersion is the Stripe-Version the collector sends unless
// options.stripe_version says otherwise. Pinning one makes the answers'
// shape independent of the account's default version, which the account
// owner can move at any time. 2025-03-31.basil is the first release of the
// basil line: it has the Checkout Session's discounts field (added in
// 2025-01-27.acacia), and every field the collector reads (promotion code
// id, code and times_redeemed; session created, status, mode, currency,
// amount_total, payment_intent, discounts and total_details.breakdown;
// refund amount, status, created and payment_intent) has the same shape in
// it as in the versions before and after it that we checked.
const DefaultVersion = "2025-03-31.basil"

// discountsSince is the first API version whose Checkout Session has the
// discounts field; asking older versions to expand it is an error.
const discountsSince = "2025-01-27"

// list is Stripe's list envelope.
type list[T any] struct {
	Object  string `json:"object"`
	Data    []T    `json:"data"`
	HasMore bool   `json:"has_more"`
}

// ref is an expandable field: an id, or the object with its id when
// expanded. Code is set when the object is an expanded promotion code,
// Status when it is an expanded payment intent.
type ref struct {
	ID     string
	Code   string
	Status string
}

// UnmarshalJSON reads an id string, an object, or null.
func (r *ref) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*r = ref{}
		return nil
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &r.ID)
	}
	var obj struct {
		ID     string `json:"id"`
		Code   string `json:"code"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	*r = ref{ID: obj.ID, Code: obj.Code, Status: obj.Status}
	return nil
}

// promotionCode is the part of Stripe's promotion code the collector
// reads. Its code never changes once created.
type promotionCode struct {
	ID            string `json:"id"`
	Object        string `json:"object"`
	Code          string `json:"code"`
	Active        bool   `json:"active"`
	TimesRedeemed int64  `json:"times_redeemed"`
}

// session is the part of a Checkout Session the collector reads.
type session struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Status  string `json:"status"`
	// PaymentStatus is paid, unpaid (a delayed payment method, such as
	// a bank debit, not settled yet) or no_payment_required.
	PaymentStatus string `json:"payment_status"`
	Mode          string `json:"mode"`
	Currency      string `json:"currency"`
	// AmountTotal is what the customer paid, discounts, tax and shipping
	// included, in the currency's minor units.
	AmountTotal   *int64 `json:"amount_total"`
	PaymentIntent ref    `json:"payment_intent"`
	// CurrencyConversion is set on sessions created before 2025-03-30
	// that used Adaptive Pricing: then Currency and AmountTotal are the
	// buyer's, and these the account's.
	CurrencyConversion *struct {
		AmountTotal    *int64 `json:"amount_total"`
		SourceCurrency string `json:"source_currency"`
	} `json:"currency_conversion"`
	// Discounts exists from API version 2025-01-27 on.
	Discounts []struct {
		PromotionCode ref `json:"promotion_code"`
	} `json:"discounts"`
	TotalDetails *struct {
		// Breakdown is there only with expand[]=data.total_details.breakdown.
		Breakdown *struct {
			Discounts []struct {
				Discount struct {
					PromotionCode ref `json:"promotion_code"`
				} `json:"discount"`
			} `json:"discounts"`
		} `json:"breakdown"`
	} `json:"total_details"`
}

// promotionCodes returns the ids of the promotion codes the session used,
// with the code where the answer carried it (an expanded discounts entry).
func (s *session) promotionCodes() []ref {
	var out []ref
	seen := map[string]int{}
	add := func(r ref) {
		if r.ID == "" {
			return
		}
		if i, ok := seen[r.ID]; ok {
			if out[i].Code == "" {
				out[i].Code = r.Code
			}
			return
		}
		seen[r.ID] = len(out)
		out = append(out, r)
	}
	for _, d := range s.Discounts {
		add(d.PromotionCode)
	}
	if s.TotalDetails != nil && s.TotalDetails.Breakdown != nil {
		for _, d := range s.TotalDetails.Breakdown.Discounts {
			add(d.Discount.PromotionCode)
		}
	}
	return out
}

// refund is the part of Stripe's refund object the collector reads.
type refund struct {
	ID            string `json:"id"`
	Object        string `json:"object"`
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	Created       int64  `json:"created"`
	Status        string `json:"status"`
	PaymentIntent ref    `json:"payment_intent"`
}

// apiError is Stripe's error body.
type apiError struct {
	Error struct {
		Type    string `json:"type"`
		Code    string `json:"code"`
		Message string `json:"message"`
		Param   string `json:"param"`
	} `json:"error"`
}

// errorMessage renders a Stripe error body as "type/code: message (param
// p)". Stripe masks the key in its invalid-key message, and the shared
// client redacts the key anyway. A restricted key's permission error
// quotes the key masked to its length, which would push the permission it
// names past the length the client keeps of a message: the quote goes.
func errorMessage(_ int, body []byte) string {
	var e apiError
	if json.Unmarshal(body, &e) != nil || (e.Error.Type == "" && e.Error.Message == "") {
		return ""
	}
	kind := e.Error.Type
	if e.Error.Code != "" {
		kind += "/" + e.Error.Code
	}
	msg := kind + ": " + providedKeyRE.ReplaceAllString(e.Error.Message, "The key does not")
	if e.Error.Param != "" {
		msg += " (param " + e.Error.Param + ")"
	}
	return msg
}

// providedKeyRE is the start of Stripe's permission error, with the
// masked key.
var providedKeyRE = regexp.MustCompile(`The provided key '[^']*' does not`)

// permissionError is what Stripe's 403 to a restricted key says: the
// permission the request needs and the key's account.
type permissionError struct {
	Permission, Account string
}

// Stripe's 403 to a restricted key: "The provided key 'rk_test_***…' does
// not have the required permissions for this endpoint on account
// 'acct_…'. Having the 'rak_checkout_session_read' permission would allow
// this request to continue."
var (
	permissionRE = regexp.MustCompile(`Having the '([a-z0-9_]+)' permission`)
	accountRE    = regexp.MustCompile(`on account '(acct_[A-Za-z0-9]+)'`)
)

// classify keeps, in APIError.Detail, the permission and account a
// restricted key's 403 names (a *permissionError).
func classify(status int, body []byte) (error, any) {
	if status != http.StatusForbidden {
		return nil, nil
	}
	var e apiError
	if json.Unmarshal(body, &e) != nil {
		return nil, nil
	}
	p := permissionRE.FindStringSubmatch(e.Error.Message)
	a := accountRE.FindStringSubmatch(e.Error.Message)
	if p == nil && a == nil {
		return nil, nil
	}
	d := &permissionError{}
	if p != nil {
		d.Permission = p[1]
	}
	if a != nil {
		d.Account = a[1]
	}
	return exporter.ErrUnauthorized, d
}

// noQuota reads nothing: Stripe sends no rate-limit headers, only 429s.
func noQuota(http.Header) (float64, time.Time, bool) { return 0, time.Time{}, false }

// api is Stripe's paths on the shared client.
type api struct {
	*exporter.API
	pageSize int
	// expandDiscounts asks for the sessions' discounts with their
	// promotion codes, which carries each code's text and spares a
	// lookup per unknown promotion code id.
	expandDiscounts bool
}

// maxPages bounds one listing, against a cursor that never ends.
const maxPages = 10000

// listPage reads the page of a list that starts after the object after
// ("" for the first page) and returns the cursor of the next page: the
// id of its last object, or "" when the list has no more.
func listPage[T any](ctx context.Context, a *api, path string, q url.Values, after string, id func(T) string) ([]T, string, error) {
	q.Set("limit", strconv.Itoa(a.pageSize))
	if after != "" {
		q.Set("starting_after", after)
	}
	var page list[T]
	if _, err := a.Get(ctx, path, q, &page); err != nil {
		return nil, "", err
	}
	if page.Object != "list" {
		return nil, "", fmt.Errorf("%w: %s answered object %q, not a list", exporter.ErrBadResponse, path, page.Object)
	}
	if !page.HasMore {
		return page.Data, "", nil
	}
	if len(page.Data) == 0 {
		return nil, "", fmt.Errorf("%w: %s has_more without data", exporter.ErrBadResponse, path)
	}
	last := id(page.Data[len(page.Data)-1])
	if last == "" || last == after {
		return nil, "", fmt.Errorf("%w: %s pagination does not advance", exporter.ErrBadResponse, path)
	}
	return page.Data, last, nil
}

// listAll pages through a list with starting_after, handing each page to
// visit.
func listAll[T any](ctx context.Context, a *api, path string, q url.Values, id func(T) string, visit func([]T)) error {
	after := ""
	for range maxPages {
		data, next, err := listPage(ctx, a, path, q, after, id)
		if err != nil {
			return err
		}
		visit(data)
		if next == "" {
			return nil
		}
		after = next
	}
	return fmt.Errorf("%s: more than %d pages", path, maxPages)
}

// promotionCodesByCode returns the promotion codes with code, active or
// not; Stripe's code filter ignores case.
func (a *api) promotionCodesByCode(ctx context.Context, code string) ([]promotionCode, error) {
	var out []promotionCode
	err := listAll(ctx, a, "/promotion_codes", url.Values{"code": {code}},
		func(p promotionCode) string { return p.ID },
		func(page []promotionCode) { out = append(out, page...) })
	return out, err
}

// promotionCodesPage returns one page of the account's promotion codes,
// active or not, newest first, after the one after ("" for the first
// page), and the cursor of the next page ("" after the last).
func (a *api) promotionCodesPage(ctx context.Context, after string) ([]promotionCode, string, error) {
	return listPage(ctx, a, "/promotion_codes", url.Values{}, after, func(p promotionCode) string { return p.ID })
}

// promotionCode returns one promotion code by id.
func (a *api) promotionCode(ctx context.Context, id string) (*promotionCode, error) {
	var p promotionCode
	if _, err := a.Get(ctx, "/promotion_codes/"+url.PathEscape(id), nil, &p); err != nil {
		return nil, err
	}
	if p.ID == "" {
		return nil, fmt.Errorf("%w: promotion code without id", exporter.ErrBadResponse)
	}
	return &p, nil
}

// sessionsPage returns one page of the complete Checkout Sessions created
// since since (all when zero), newest first, after the session after (""
// for the first page), with the discount breakdown that names each
// session's promotion codes, and the cursor of the next page ("" after
// the last).
func (a *api) sessionsPage(ctx context.Context, since time.Time, after string) ([]session, string, error) {
	// The payment intent is expanded for its status: a session completed
	// unpaid whose delayed payment then fails stays unpaid, only its
	// intent says the payment failed.
	q := url.Values{"status": {"complete"}, "expand[]": {"data.total_details.breakdown", "data.payment_intent"}}
	if a.expandDiscounts {
		q["expand[]"] = append(q["expand[]"], "data.discounts.promotion_code")
	}
	if !since.IsZero() {
		q.Set("created[gte]", strconv.FormatInt(since.Unix(), 10))
	}
	return listPage(ctx, a, "/checkout/sessions", q, after, func(s session) string { return s.ID })
}

// refundsPage returns one page of the refunds created since since (all
// when zero), newest first, after the refund after ("" for the first
// page), and the cursor of the next page ("" after the last).
func (a *api) refundsPage(ctx context.Context, since time.Time, after string) ([]refund, string, error) {
	q := url.Values{}
	if !since.IsZero() {
		q.Set("created[gte]", strconv.FormatInt(since.Unix(), 10))
	}
	return listPage(ctx, a, "/refunds", q, after, func(r refund) string { return r.ID })
}

// majorUnits converts an amount in Stripe's minor units to major units.
// Stripe's zero-decimal currencies have no minor unit; its three-decimal
// ones count thousandths. ISK, HUF and TWD stay two-decimal in the API
// (ISK became zero-decimal in 2023, but Stripe kept the amounts in
// hundredths for compatibility). See https://docs.stripe.com/currencies.
func majorUnits(currency string, amount int64) float64 {
	return float64(amount) / minorPerMajor(currency)
}

func minorPerMajor(currency string) float64 {
	switch strings.ToUpper(currency) {
	case "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF":
		return 1
	case "BHD", "JOD", "KWD", "OMR", "TND":
		return 1000
	}
	return 100
}

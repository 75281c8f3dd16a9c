package woocommerce

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// apiPath is where WordPress serves WooCommerce's REST API v3 under the
// site URL (with pretty permalinks, which WooCommerce's API needs).
const apiPath = "/wp-json/wc/v3"

// orderFields are the order fields the collector reads. WordPress trims
// every REST answer to _fields, which keeps pages of 100 orders small.
const orderFields = "id,status,currency,total,date_created_gmt,date_modified_gmt,date_paid_gmt,coupon_lines,refunds"

// dateLayout is how WooCommerce writes dates (no offset; the *_gmt fields
// are UTC) and how the collector sends them with dates_are_gmt=true.
const dateLayout = "2006-01-02T15:04:05"

// coupon is the part of WooCommerce's coupon object the collector reads.
type coupon struct {
	// Ids and counts are read as a JSON number or a numeric string.
	ID exporter.FlexInt `json:"id"`
	// Code is lower case: WooCommerce formats codes with wc_strtolower
	// unless a plugin filters woocommerce_coupon_code.
	Code string `json:"code"`
	// UsageCount counts orders that used the coupon, less cancelled ones:
	// it goes down, so it is logged, not exported.
	UsageCount exporter.FlexInt `json:"usage_count"`
}

// order is the part of WooCommerce's order object the collector reads.
// Amounts are decimal strings in the order's currency.
type order struct {
	ID              exporter.FlexInt `json:"id"`
	Status          string           `json:"status"`
	Currency        string           `json:"currency"`
	Total           string           `json:"total"`
	DateCreatedGMT  string           `json:"date_created_gmt"`
	DateModifiedGMT string           `json:"date_modified_gmt"`
	DatePaidGMT     *string          `json:"date_paid_gmt"`
	CouponLines     []struct {
		Code string `json:"code"`
	} `json:"coupon_lines"`
	// Refunds carry negative totals, "-10.00".
	Refunds []struct {
		Total string `json:"total"`
	} `json:"refunds"`

	// decodeErr is why the order could not be decoded; then only rawID
	// and CouponLines are set, as far as they could be read.
	decodeErr error
	rawID     string
}

// decodeOrders decodes a page of orders one by one: an order that cannot
// be decoded (an id that is not a number, an object where a string
// belongs) is returned with its decodeErr, the others as usual.
func decodeOrders(raw []json.RawMessage) []order {
	out := make([]order, 0, len(raw))
	for _, r := range raw {
		var o order
		if err := json.Unmarshal(r, &o); err != nil {
			var p struct {
				ID          json.RawMessage `json:"id"`
				CouponLines []struct {
					Code string `json:"code"`
				} `json:"coupon_lines"`
			}
			_ = json.Unmarshal(r, &p)
			o = order{CouponLines: p.CouponLines, rawID: strings.Trim(string(p.ID), `"`),
				decodeErr: fmt.Errorf("%w: %v", exporter.ErrBadResponse, err)}
		}
		out = append(out, o)
	}
	return out
}

// apiError is the WordPress REST error body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

var tags = regexp.MustCompile(`<[^>]*>`)

// errorMessage extracts "code: message" from a WordPress REST error body.
// WordPress's fatal-error answer carries HTML in its message.
func errorMessage(_ int, body []byte) string {
	var e apiError
	if json.Unmarshal(body, &e) != nil || e.Code == "" {
		return ""
	}
	msg := strings.Join(strings.Fields(html.UnescapeString(tags.ReplaceAllString(e.Message, " "))), " ")
	if msg == "" {
		return e.Code
	}
	return e.Code + ": " + msg
}

// keyNotReadable is the Detail of a 401 refusing a key without the read
// permission. WooCommerce answers it with the code of a bad secret,
// woocommerce_rest_authentication_error, and only its text tells them
// apart; the client does not show that text.
const keyNotReadable = "key without read permission"

// classify is the client's Classify hook: it keeps, in APIError.Detail,
// that a 401 refused a write-only key. The kind stays unauthorized.
func classify(status int, body []byte) (error, any) {
	var e apiError
	if status != http.StatusUnauthorized || json.Unmarshal(body, &e) != nil {
		return nil, nil
	}
	if e.Code == "woocommerce_rest_authentication_error" && strings.Contains(e.Message, errNoReadPerms) {
		return exporter.ErrUnauthorized, keyNotReadable
	}
	return nil, nil
}

// basicAuth sends the consumer key and secret as HTTP Basic credentials,
// which WooCommerce accepts over HTTPS. (Over plain HTTP it wants OAuth 1.0a
// signatures, hence https base URLs.)
func basicAuth(req *http.Request, token string) {
	key, secret, _ := strings.Cut(token, ":")
	req.SetBasicAuth(key, secret)
}

// api is WooCommerce's paths on the shared client.
type api struct{ *exporter.API }

// couponByCode returns the coupon with the code, or nil if the shop has
// none. WooCommerce resolves code to one coupon id (case-insensitively, as
// its lookup lower-cases the code): an unknown code lists nothing.
func (a *api) couponByCode(ctx context.Context, code string) (*coupon, error) {
	var list []coupon
	if _, err := a.Get(ctx, "/coupons", url.Values{"code": {code}}, &list); err != nil {
		return nil, err
	}
	for i := range list {
		if strings.EqualFold(list[i].Code, code) {
			return &list[i], nil
		}
	}
	return nil, nil
}

// couponsPage returns one page of the shop's coupons, newest first (the
// listing's default order), and the number of pages WooCommerce counts
// for the listing (X-WP-TotalPages; 0 if it did not say).
func (a *api) couponsPage(ctx context.Context, perPage, page int) ([]coupon, int, error) {
	q := url.Values{
		"per_page": {strconv.Itoa(perPage)},
		"page":     {strconv.Itoa(page)},
		"_fields":  {"id,code,usage_count"},
	}
	var list []coupon
	resp, err := a.Get(ctx, "/coupons", q, &list)
	if err != nil {
		return nil, 0, err
	}
	pages, _ := strconv.Atoi(resp.Header.Get("X-WP-TotalPages"))
	return list, pages, nil
}

// orderQuery selects orders: created after createdAfter and modified after
// modifiedAfter, each if not zero, both compared in GMT.
type orderQuery struct {
	createdAfter, modifiedAfter time.Time
	perPage                     int
}

// ordersPage returns one page of orders, oldest id first, the number of
// pages WooCommerce counts for the query (0 if it did not say) and the
// store's time of the answer (its Date header; zero if absent). Sorting by
// id keeps pages stable while orders change: an order modified during the
// listing stays where it is, and new orders come last.
func (a *api) ordersPage(ctx context.Context, oq orderQuery, page int) ([]order, int, time.Time, error) {
	q := url.Values{
		"per_page":      {strconv.Itoa(oq.perPage)},
		"page":          {strconv.Itoa(page)},
		"orderby":       {"id"},
		"order":         {"asc"},
		"dates_are_gmt": {"true"},
		"_fields":       {orderFields},
	}
	if !oq.createdAfter.IsZero() {
		q.Set("after", oq.createdAfter.UTC().Format(dateLayout))
	}
	if !oq.modifiedAfter.IsZero() {
		q.Set("modified_after", oq.modifiedAfter.UTC().Format(dateLayout))
	}
	var raw []json.RawMessage
	resp, err := a.Get(ctx, "/orders", q, &raw)
	if err != nil {
		return nil, 0, time.Time{}, err
	}
	list := decodeOrders(raw)
	pages, _ := strconv.Atoi(resp.Header.Get("X-WP-TotalPages"))
	date, _ := http.ParseTime(resp.Header.Get("Date"))
	return list, pages, date, nil
}

// parseDate reads a WooCommerce *_gmt date.
func parseDate(field, v string) (time.Time, error) {
	t, err := time.ParseInLocation(dateLayout, v, time.UTC)
	if err != nil {
		// Tolerate an offset, should a plugin add one.
		if t2, err2 := time.Parse(time.RFC3339, v); err2 == nil {
			return t2, nil
		}
		return time.Time{}, fmt.Errorf("%w: %s %q is not a date", exporter.ErrBadResponse, field, v)
	}
	return t, nil
}

// parseMoney reads a WooCommerce decimal string.
func parseMoney(field, v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s %q is not an amount", exporter.ErrBadResponse, field, v)
	}
	return f, nil
}

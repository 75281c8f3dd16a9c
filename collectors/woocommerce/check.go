package woocommerce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// What a key needs. WooCommerce checks a REST request twice: the key's own
// permissions (read, write, read_write: a GET needs read), then the
// capability of the key's WordPress user on what is listed, which
// wc_rest_check_post_permissions reads from the post type:
// read_private_shop_orders for orders, read_private_shop_coupons for
// coupons (an administrator or shop manager has both).
const (
	permKeyRead    = "read permission of the API key"
	capOrders      = "read_private_shop_orders"
	capCoupons     = "read_private_shop_coupons"
	errCannotView  = "woocommerce_rest_cannot_view"
	errNoReadPerms = "does not have read permissions"
)

// CheckOnline implements exporter.OnlineChecker. It lists one order (GET
// /wp-json/wc/v3/orders?per_page=1), the cheapest request that proves
// both the key and its user's right to read orders, then looks the
// configured coupons up one request each, as a refresh does, stopping at
// the first the store does not have. REST API keys do not expire.
func (c *collector) CheckOnline(ctx context.Context) exporter.OnlineReport {
	var rep exporter.OnlineReport
	a := c.api.API
	rep.Endpoint = exporter.OnlineEndpoint(a, http.MethodGet, "/orders") + ", " + exporter.OnlineEndpoint(a, http.MethodGet, "/coupons")
	rep.Notes = append(rep.Notes, "WooCommerce REST API keys do not expire; revoking the key in WooCommerce > Settings > Advanced > REST API ends it")
	site := strings.TrimSuffix(a.Base, apiPath)

	var ids []json.RawMessage
	resp, err := a.Get(ctx, "/orders", url.Values{"per_page": {"1"}, "_fields": {"id"}}, &ids)
	if err != nil {
		if !c.refused(&rep, "list orders", capOrders, err) {
			return rep
		}
		rep.Account = "store " + site
	} else {
		rep.Answer(nil)
		rep.Account = "store " + site
		if n := resp.Header.Get("X-WP-Total"); n != "" {
			rep.Account += " (" + n + " orders)"
		}
	}

	if len(c.codes) == 0 {
		rep.Notes = append(rep.Notes, "no coupon codes configured: the collector makes no calls")
		return rep
	}
	objects := make([]exporter.Object, 0, len(c.codes))
	for _, ref := range c.codes {
		objects = append(objects, ref.Object())
	}
	denied := false
	rep.LookUp(ctx, "woocommerce", objects, func(ctx context.Context, o exporter.Object) error {
		cp, err := c.api.couponByCode(ctx, o.ID)
		switch {
		case err != nil:
			denied = isCannotView(err, http.StatusForbidden)
			return err
		case cp == nil:
			return fmt.Errorf("%w: the store has no coupon with this code", exporter.ErrNotFound)
		}
		return nil
	})
	if denied {
		rep.Missing = append(rep.Missing, capCoupons)
	}
	return rep
}

// refused records a failed call of the check and reports whether the
// check goes on: the key was accepted but its user lacks cap (403
// woocommerce_rest_cannot_view). A key without read permission, a wrong
// secret or a key the store does not know (a revoked one) ends it.
func (c *collector) refused(rep *exporter.OnlineReport, what, cap string, err error) bool {
	err = fmt.Errorf("woocommerce: %s: %w", what, err)
	rep.Answer(err)
	var ae *exporter.APIError
	errors.As(err, &ae)
	switch {
	case isCannotView(err, http.StatusForbidden):
		rep.Authenticated = true
		rep.Missing = append(rep.Missing, cap)
		rep.Fail(fmt.Errorf("woocommerce: the API key's user lacks the %s capability: create the key for a shop manager or an administrator", cap))
		return true
	case ae != nil && ae.StatusCode == http.StatusUnauthorized && ae.Detail == keyNotReadable:
		rep.Authenticated = true
		rep.Missing = append(rep.Missing, permKeyRead)
		rep.Fail(errors.New("woocommerce: the API key is write-only: set its permissions to Read"))
	case isCannotView(err, http.StatusUnauthorized):
		// The key authenticated nobody: WooCommerce drops a revoked
		// key, and an unknown key leaves the request anonymous.
		rep.Fail(errors.New("woocommerce: the store does not know this consumer key: it was revoked, or belongs to another store"))
	}
	return false
}

// isCannotView reports whether err is WooCommerce's permission refusal
// with status: 401 for an anonymous request, 403 for a user without the
// capability.
func isCannotView(err error, status int) bool {
	var ae *exporter.APIError
	return errors.As(err, &ae) && ae.StatusCode == status && strings.HasPrefix(ae.Message, errCannotView)
}

package shopify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Access scopes the collector needs: orders to count, discounts to confirm
// that each configured code exists, and all orders for orders older than
// 60 days, which Shopify hides from apps without it (and says nothing).
const (
	scopeOrders    = "read_orders"
	scopeAllOrders = "read_all_orders"
	scopeDiscounts = "read_discounts"
)

// ordersWindow is how far back an app without read_all_orders sees
// orders.
const ordersWindow = 60 * 24 * time.Hour

// Paths of the online check. Both are REST Admin API resources, legacy
// since 2024-10 but still served, and the only ones that list a token's
// own scopes without an app's GraphQL installation query.
const accessScopesPath = "/admin/oauth/access_scopes.json"

func shopPath(version string) string { return "/admin/api/" + version + "/shop.json" }

type accessScopes struct {
	AccessScopes []struct {
		Handle string `json:"handle"`
	} `json:"access_scopes"`
}

type shopInfo struct {
	Shop struct {
		Name            string `json:"name"`
		MyshopifyDomain string `json:"myshopify_domain"`
		Domain          string `json:"domain"`
		PlanDisplayName string `json:"plan_display_name"`
	} `json:"shop"`
}

// CheckOnline implements exporter.OnlineChecker. It lists the token's
// access scopes (GET /admin/oauth/access_scopes.json) and reads the shop's
// name (GET /admin/api/{version}/shop.json), then asks in one GraphQL
// query whether the shop has the configured codes, as many as a refresh
// asks about in one query (1,000).
// Admin API access tokens do not expire: they stop working when the app is
// uninstalled or its token rotated.
func (c *collector) CheckOnline(ctx context.Context) exporter.OnlineReport {
	var rep exporter.OnlineReport
	a := c.api.API
	rep.Endpoint = exporter.OnlineEndpoint(a, "GET", accessScopesPath) + ", " + exporter.OnlineEndpoint(a, "GET", shopPath(c.opts.APIVersion))
	rep.Notes = append(rep.Notes, "Shopify Admin API access tokens do not expire; uninstalling the app or rotating the token revokes them")

	var scopes accessScopes
	if _, err := a.Get(ctx, accessScopesPath, nil, &scopes); !rep.Answer(c.checkErr("list the token's access scopes", err)) {
		return rep
	}
	granted := map[string]bool{}
	var handles []string
	for _, s := range scopes.AccessScopes {
		granted[s.Handle] = true
		handles = append(handles, s.Handle)
	}

	var shop shopInfo
	resp, err := a.Get(ctx, shopPath(c.opts.APIVersion), nil, &shop)
	if rep.Answer(c.checkErr("read the shop", err)) {
		s := shop.Shop
		rep.Account = "shop " + s.MyshopifyDomain
		if s.Name != "" {
			rep.Account += fmt.Sprintf(" (%q)", s.Name)
		}
		// Shopify answers a retired version in the oldest one it still
		// supports, and names the version it answered in.
		if v := resp.Header.Get("X-Shopify-API-Version"); v != "" && v != c.opts.APIVersion {
			rep.Notes = append(rep.Notes, fmt.Sprintf("Shopify answered in API version %s, not options.api_version %s, which it no longer supports: set a supported version", v, c.opts.APIVersion))
		}
	}

	var why []string
	for _, need := range c.neededScopes(c.api.now()) {
		if !hasScope(granted, need.scope) {
			rep.Missing = append(rep.Missing, need.scope)
			why = append(why, need.scope+" ("+need.why+")")
		}
	}
	if len(rep.Missing) > 0 {
		rep.Fail(fmt.Errorf("shopify %s: the access token lacks %s (it has %s): grant the app these scopes and reinstall it, as a token keeps the scopes it was issued with",
			c.shop, strings.Join(why, ", "), orNone(handles)))
	}
	if note := c.allOrdersNote(c.api.now()); note != "" {
		rep.Notes = append(rep.Notes, note)
	}
	if hasScope(granted, scopeDiscounts) {
		c.checkCodesOnline(ctx, &rep)
	}
	return rep
}

// checkErr names the shop and the step in a failed call's error.
func (c *collector) checkErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("shopify %s: %s: %w", c.shop, what, err)
}

type neededScope struct{ scope, why string }

// neededScopes returns the scopes the collector needs now, with why.
func (c *collector) neededScopes(now time.Time) []neededScope {
	out := []neededScope{
		{scopeOrders, "to count orders"},
		{scopeDiscounts, "to confirm the configured codes exist"},
	}
	if len(c.codes) == 0 {
		return out
	}
	switch {
	case c.start == nil:
		out = append(out, neededScope{scopeAllOrders, "a campaign of these codes has no start, so every order is read, and orders older than 60 days are hidden without it"})
	case now.Sub(*c.start) > ordersWindow:
		out = append(out, neededScope{scopeAllOrders, fmt.Sprintf("orders are read from the campaign start, %s, more than 60 days ago, and older orders are hidden without it", c.start.UTC().Format("2006-01-02"))})
	}
	return out
}

// allOrdersNote says when read_all_orders becomes needed, for campaigns
// younger than 60 days: every start of the exporter reads orders from the
// campaign start again.
func (c *collector) allOrdersNote(now time.Time) string {
	if len(c.codes) == 0 {
		return "no discount codes configured: the collector makes no calls"
	}
	if c.start == nil || now.Sub(*c.start) > ordersWindow {
		return ""
	}
	return fmt.Sprintf("read_all_orders is needed from %s on (60 days after the campaign start): the exporter then reads orders older than 60 days when it starts",
		c.start.Add(ordersWindow).UTC().Format("2006-01-02"))
}

// checkCodesOnline asks, in one query as a refresh does, whether the shop
// has the first configured codes (as many as one query's cost allows),
// and records the first in config order it does not have.
func (c *collector) checkCodesOnline(ctx context.Context, rep *exporter.OnlineReport) {
	// The config has each code once per collector, whatever its case.
	refs := c.codes[:min(len(c.codes), c.api.codesPerQuery())]
	if len(refs) == 0 {
		return
	}
	codes := make([]string, len(refs))
	for i, r := range refs {
		codes[i] = r.Code.Code
	}
	found, err := c.api.codesExist(ctx, codes)
	if err != nil {
		rep.Fail(fmt.Errorf("shopify %s: check %s: %w", c.shop, codesText(codes), err))
		return
	}
	for _, r := range refs {
		if !found[r.Code.Code] {
			rep.NotFound = r.Object().String() + ": the shop has no discount with this code"
			rep.Fail(fmt.Errorf("shopify %s: discount code %q (%s): %w", c.shop, r.Code.Code, r.Path(), exporter.ErrNotFound))
			break
		}
	}
	if n := len(c.codes); n > len(refs) {
		rep.Notes = append(rep.Notes, fmt.Sprintf("checked the first %d of %d configured codes (one query of %d points); a refresh checks the other %d", len(refs), n, maxQueryCost, n-len(refs)))
	}
}

// hasScope reports whether granted includes scope; a write scope includes
// the read scope of the same resource, as Shopify documents for
// authenticated access scopes.
func hasScope(granted map[string]bool, scope string) bool {
	if granted[scope] {
		return true
	}
	res, ok := strings.CutPrefix(scope, "read_")
	return ok && granted["write_"+res]
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

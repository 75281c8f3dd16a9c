package shopifyfake

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// Access scopes the fake enforces.
const (
	ScopeReadOrders    = "read_orders"
	ScopeReadAllOrders = "read_all_orders"
	ScopeReadDiscounts = "read_discounts"
)

// ordersWindow is how far back an app without read_all_orders sees
// orders.
const ordersWindow = 60 * 24 * time.Hour

// accessScopesPath lists the token's scopes; it is not versioned.
const accessScopesPath = "/admin/oauth/access_scopes.json"

var shopPath = regexp.MustCompile(`^/admin/api/(\d{4}-(?:01|04|07|10)|unstable)/shop\.json$`)

// Shop is what the fake's shop.json and GraphQL shop answer.
const (
	ShopName   = "Sandbox shop"
	ShopDomain = "sandbox.myshopify.com"
)

func defaultScopes() map[string]bool {
	return map[string]bool{ScopeReadOrders: true, ScopeReadAllOrders: true, ScopeReadDiscounts: true}
}

// SetScopes replaces the access scopes granted to the token; by default it
// has every scope the collector needs (read_orders, read_all_orders,
// read_discounts).
func (s *Server) SetScopes(handles ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = map[string]bool{}
	for _, h := range handles {
		s.scopes[h] = true
	}
}

// SetOldestVersion makes versions older than v unsupported: a request for
// one is answered in v, as Shopify answers a retired version in the oldest
// supported one, saying so in X-Shopify-API-Version.
func (s *Server) SetOldestVersion(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oldest = v
}

// has reports whether the token has scope; a write scope includes the
// read scope of the same resource. Call with s.mu held.
func (s *Server) has(scope string) bool {
	if s.scopes[scope] {
		return true
	}
	res, ok := strings.CutPrefix(scope, "read_")
	return ok && s.scopes["write_"+res]
}

// require is Shopify's answer to a field whose scope the token lacks.
// Call with s.mu held.
func (s *Server) require(field, scope string) error {
	if s.has(scope) {
		return nil
	}
	required := fmt.Sprintf("`%s` access scope.", scope)
	return &gqlError{
		Message: fmt.Sprintf("Access denied for %s field. Required access: %s", field, required),
		Extensions: map[string]any{
			"code":           "ACCESS_DENIED",
			"documentation":  "https://shopify.dev/api/usage/access-scopes",
			"requiredAccess": required,
		},
	}
}

// visibleOrders drops, without read_all_orders, the orders created more
// than 60 days before now: Shopify does not list them, and says nothing.
// Call with s.mu held.
func (s *Server) visibleOrders(orders []*shopOrder, now time.Time) []*shopOrder {
	if s.has(ScopeReadAllOrders) {
		return orders
	}
	cut := now.Add(-ordersWindow)
	var out []*shopOrder
	for _, o := range orders {
		if !o.Created.Before(cut) {
			out = append(out, o)
		}
	}
	return out
}

// restHeaders sets what every REST Admin API answer carries: the version
// answered in, and the REST leaky bucket (40 calls, the fake never fills
// it).
func (s *Server) restHeaders(w http.ResponseWriter, version string) {
	if version != "" {
		if s.oldest != "" && version != "unstable" && version < s.oldest {
			version = s.oldest
		}
		w.Header().Set("X-Shopify-API-Version", version)
	}
	w.Header().Set("X-Shopify-Shop-Api-Call-Limit", "1/40")
}

// accessScopes is GET /admin/oauth/access_scopes.json.
func (s *Server) accessScopes(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		fakeapi.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"errors": "Method Not Allowed"})
		return
	}
	s.mu.Lock()
	handles := make([]string, 0, len(s.scopes))
	for h := range s.scopes {
		handles = append(handles, h)
	}
	s.restHeaders(w, "")
	s.mu.Unlock()
	sort.Strings(handles)
	list := make([]map[string]string, len(handles))
	for i, h := range handles {
		list[i] = map[string]string{"handle": h}
	}
	fakeapi.WriteJSON(w, http.StatusOK, map[string]any{"access_scopes": list})
}

// shop is GET /admin/api/{version}/shop.json: the shop's settings, which
// any valid token may read.
func (s *Server) shop(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		fakeapi.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"errors": "Method Not Allowed"})
		return
	}
	version := shopPath.FindStringSubmatch(r.URL.Path)[1]
	s.mu.Lock()
	s.restHeaders(w, version)
	created := s.start.Add(-365 * 24 * time.Hour).UTC().Format(time.RFC3339)
	s.mu.Unlock()
	fakeapi.WriteJSON(w, http.StatusOK, map[string]any{"shop": map[string]any{
		"id":                1,
		"name":              ShopName,
		"email":             "owner@example.com",
		"domain":            ShopDomain,
		"myshopify_domain":  ShopDomain,
		"country_code":      "US",
		"currency":          "USD",
		"iana_timezone":     "Etc/UTC",
		"timezone":          "(GMT+00:00) Etc/UTC",
		"plan_name":         "basic",
		"plan_display_name": "Basic",
		"shop_owner":        "Sandbox Owner",
		"created_at":        created,
		"updated_at":        created,
	}})
}

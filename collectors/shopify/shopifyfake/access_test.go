package shopifyfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

func get(t *testing.T, url, tok string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	status, h, b := send(t, req, tok)
	return status, h, string(b)
}

func TestAccessScopesAndShop(t *testing.T) {
	fake, srv := newServer(t)
	for _, tc := range []struct {
		path, tok string
		status    int
		body      string
	}{
		{"/admin/oauth/access_scopes.json", token, 200, `{"access_scopes":[{"handle":"read_all_orders"},{"handle":"read_discounts"},{"handle":"read_orders"}]}`},
		{"/admin/oauth/access_scopes.json", "wrong", 401, `{"errors":"` + InvalidTokenMessage + `"}`},
		{"/admin/api/2026-10/shop.json", "wrong", 401, `{"errors":"` + InvalidTokenMessage + `"}`},
		{"/admin/api/2026-10/orders.json", token, 404, `{"errors":"Not Found"}`},
	} {
		status, _, body := get(t, srv.URL+tc.path, tc.tok)
		if status != tc.status || strings.TrimSpace(body) != tc.body {
			t.Errorf("GET %s with %q: %d %s, want %d %s", tc.path, tc.tok, status, body, tc.status, tc.body)
		}
	}

	status, h, body := get(t, srv.URL+"/admin/api/2026-10/shop.json", token)
	var shop struct {
		Shop struct {
			Name            string `json:"name"`
			MyshopifyDomain string `json:"myshopify_domain"`
		} `json:"shop"`
	}
	if err := json.Unmarshal([]byte(body), &shop); err != nil || status != 200 {
		t.Fatalf("shop.json: %d %s", status, body)
	}
	if shop.Shop.Name != ShopName || shop.Shop.MyshopifyDomain != ShopDomain || h.Get("X-Shopify-API-Version") != "2026-10" {
		t.Errorf("shop.json: %+v, version %q", shop, h.Get("X-Shopify-API-Version"))
	}

	// A retired version is answered in the oldest supported one.
	fake.SetOldestVersion("2026-04")
	if _, h, _ := get(t, srv.URL+"/admin/api/2025-07/shop.json", token); h.Get("X-Shopify-API-Version") != "2026-04" {
		t.Errorf("retired version answered in %q", h.Get("X-Shopify-API-Version"))
	}

	fake.SetScopes("write_orders", "read_products")
	if _, _, body := get(t, srv.URL+"/admin/oauth/access_scopes.json", token); strings.TrimSpace(body) != `{"access_scopes":[{"handle":"read_products"},{"handle":"write_orders"}]}` {
		t.Errorf("after SetScopes: %s", body)
	}
}

// TestScopesEnforced: fields need their scope (a write scope includes the
// read one), and without read_all_orders orders older than 60 days are not
// listed.
func TestScopesEnforced(t *testing.T) {
	now := start
	fake := New(token, func() time.Time { return now })
	fake.AddOrder(fakeapi.Order{Code: "OLD", Currency: "USD", Total: 10, Created: start.Add(-90 * 24 * time.Hour)})
	fake.AddOrder(fakeapi.Order{Code: "NEW", Currency: "USD", Total: 10, Created: start.Add(-time.Hour)})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	const orders = `{ orders(first: 10) { nodes { id } } }`
	const codes = `{ codeDiscountNodeByCode(code: "NEW") { id } }`
	count := func(a answer) int {
		var o struct {
			Nodes []json.RawMessage `json:"nodes"`
		}
		_ = json.Unmarshal(a.Data["orders"], &o)
		return len(o.Nodes)
	}
	url := srv.URL + "/admin/api/2026-10/graphql.json"

	if n := count(post(t, url, token, orders, nil)); n != 2 {
		t.Errorf("every scope: %d orders, want 2", n)
	}
	fake.SetScopes("write_orders", "read_discounts")
	if n := count(post(t, url, token, orders, nil)); n != 1 {
		t.Errorf("without read_all_orders: %d orders, want 1", n)
	}
	fake.SetScopes("read_products")
	for q, want := range map[string]string{
		orders: "Access denied for orders field. Required access: `read_orders` access scope.",
		codes:  "Access denied for codeDiscountNodeByCode field. Required access: `read_discounts` access scope.",
	} {
		a := post(t, url, token, q, nil)
		if a.status != 200 || !strings.Contains(string(a.Errors), `"message":"`+want+`"`) || !strings.Contains(string(a.Errors), `"code":"ACCESS_DENIED"`) {
			t.Errorf("%s: %d %s", q, a.status, a.Errors)
		}
	}
}

package woocommerce_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/influencer-exporter/influencer_exporter/collectors/woocommerce/woocommercefake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// codesOf is the spring campaign with one creator a code.
func codesOf(codes ...string) string {
	var b strings.Builder
	b.WriteString(spring)
	for i, c := range codes {
		fmt.Fprintf(&b, "      - name: creator%d\n        codes:\n          - {collector: woocommerce, code: %s}\n", i+1, c)
	}
	return b.String()
}

func checkOnline(t *testing.T, cfg string) exporter.OnlineReport {
	t.Helper()
	rep := exportertest.Build(t, cfg).CheckOnline(t, "woocommerce")
	exportertest.AssertNoSecret(t, rep, token, consumerKey, consumerSecret)
	return rep
}

func TestCheckOnline(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddStream(fakeapi.OrderStream{Code: "alice10", PerMinute: 1, Amount: 20, Currency: "EUR", Initial: 7})
	sb.fake.AddCode("bob15")
	before := sb.fake.Faults.Hits()
	rep := checkOnline(t, sb.config("{}", codesOf("ALICE10", "bob15")))
	exportertest.AssertOnlineErr(t, rep, nil)
	if !rep.Reachable || !rep.Authenticated {
		t.Errorf("reachable %t, authenticated %t", rep.Reachable, rep.Authenticated)
	}
	if want := "store " + sb.srv.URL + " (7 orders)"; rep.Account != want {
		t.Errorf("Account = %q, want %q", rep.Account, want)
	}
	if want := "GET /wp-json/wc/v3/orders, GET /wp-json/wc/v3/coupons"; rep.Endpoint != want {
		t.Errorf("Endpoint = %q, want %q", rep.Endpoint, want)
	}
	if len(rep.Missing) != 0 || rep.NotFound != "" {
		t.Errorf("Missing %v, NotFound %q", rep.Missing, rep.NotFound)
	}
	// One order listing, one lookup per distinct code.
	if n := sb.fake.Faults.Hits() - before; n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
}

// TestCheckOnlineRevokedKey: WooCommerce deletes a revoked key, so the
// store no longer knows it: the request is anonymous and refused.
func TestCheckOnlineRevokedKey(t *testing.T) {
	sb := newSandbox(t, "ck_the_stores_current_key:cs_its_secret_00")
	rep := checkOnline(t, sb.config("{}", codesOf("alice10")))
	if !rep.Reachable || rep.Authenticated {
		t.Errorf("reachable %t, authenticated %t; want reachable, not authenticated", rep.Reachable, rep.Authenticated)
	}
	exportertest.AssertOnlineErr(t, rep, exporter.ErrUnauthorized,
		"HTTP 401: woocommerce_rest_cannot_view: credential refused", "the store does not know this consumer key")
}

func TestCheckOnlineWrongSecret(t *testing.T) {
	sb := newSandbox(t, consumerKey+":cs_another_secret_000")
	rep := checkOnline(t, sb.config("{}", codesOf("alice10")))
	if rep.Authenticated {
		t.Error("authenticated with a wrong consumer secret")
	}
	exportertest.AssertOnlineErr(t, rep, nil, "HTTP 401: woocommerce_rest_authentication_error: credential refused")
}

func TestCheckOnlineMissingPermissions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(*woocommercefake.Server)
		missing []string
		errs    []string // the error's texts; none: the check passes
	}{
		{"write-only key", func(f *woocommercefake.Server) { f.SetKeyPermissions("write") },
			[]string{"read permission of the API key"},
			[]string{"HTTP 401: woocommerce_rest_authentication_error: credential refused", "the API key is write-only"}},
		{"user may not read orders", func(f *woocommercefake.Server) { f.Deny("orders") },
			[]string{"read_private_shop_orders"},
			[]string{"HTTP 403: woocommerce_rest_cannot_view: access denied", "lacks the read_private_shop_orders capability"}},
		{"user may not read coupons", func(f *woocommercefake.Server) { f.Deny("coupons") },
			[]string{"read_private_shop_coupons"},
			[]string{`look up code alice10 (campaign spring, creator creator1)`, "HTTP 403"}},
		{"user may read nothing", func(f *woocommercefake.Server) { f.Deny("orders"); f.Deny("coupons") },
			[]string{"read_private_shop_orders", "read_private_shop_coupons"},
			[]string{"lacks the read_private_shop_orders capability", `look up code alice10 (campaign spring, creator creator1)`}},
		{"read and write key", func(f *woocommercefake.Server) { f.SetKeyPermissions("read_write") }, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t, token)
			sb.fake.AddCode("alice10")
			tc.setup(sb.fake)
			rep := checkOnline(t, sb.config("{}", codesOf("alice10")))
			if !rep.Reachable || !rep.Authenticated {
				t.Errorf("reachable %t, authenticated %t: the key is valid", rep.Reachable, rep.Authenticated)
			}
			if !reflect.DeepEqual(rep.Missing, tc.missing) {
				t.Errorf("Missing = %v, want %v", rep.Missing, tc.missing)
			}
			exportertest.AssertOnlineErr(t, rep, nil, tc.errs...)
		})
	}
}

func TestCheckOnlineCouponNotFound(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddCode("alice10")
	sb.fake.AddCode("carol")
	before := sb.fake.Faults.Hits()
	rep := checkOnline(t, sb.config("{}", codesOf("alice10", "NOPE", "carol")))
	if want := "code NOPE (campaign spring, creator creator2): not found: the store has no coupon with this code"; rep.NotFound != want {
		t.Errorf("NotFound = %q, want %q", rep.NotFound, want)
	}
	exportertest.AssertOnlineErr(t, rep, exporter.ErrNotFound)
	// The lookups stop at the first unknown code.
	if n := sb.fake.Faults.Hits() - before; n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
}

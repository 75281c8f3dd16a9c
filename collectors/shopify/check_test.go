package shopify_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// campaignFrom is a campaign starting at start (none if zero), one code a
// creator.
func campaignFrom(start time.Time, codes ...string) string {
	var b strings.Builder
	b.WriteString("  - name: spring\n")
	if !start.IsZero() {
		fmt.Fprintf(&b, "    start: %s\n", start.UTC().Format(time.RFC3339))
	}
	b.WriteString("    creators:\n")
	for i, c := range codes {
		fmt.Fprintf(&b, "      - name: creator%d\n        codes:\n          - {collector: shopify, code: %s}\n", i+1, c)
	}
	return b.String()
}

func checkOnline(t *testing.T, sb *sandbox, options, campaigns string) exporter.OnlineReport {
	t.Helper()
	rep := exportertest.Build(t, sb.config("", options, campaigns)).CheckOnline(t, "shopify")
	exportertest.AssertNoSecret(t, rep, token)
	return rep
}

func TestCheckOnline(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddCode("ALICE10")
	sb.fake.AddCode("bob15")
	// A campaign younger than 60 days needs no read_all_orders yet.
	begun := time.Now().Add(-24 * time.Hour)
	rep := checkOnline(t, sb, "{}", campaignFrom(begun, "ALICE10", "BOB15"))
	exportertest.AssertOnlineErr(t, rep, nil)
	if !rep.Reachable || !rep.Authenticated {
		t.Errorf("reachable %t, authenticated %t", rep.Reachable, rep.Authenticated)
	}
	if want := `shop sandbox.myshopify.com ("Sandbox shop")`; rep.Account != want {
		t.Errorf("Account = %q, want %q", rep.Account, want)
	}
	if want := "GET /admin/oauth/access_scopes.json, GET /admin/api/2026-10/shop.json"; rep.Endpoint != want {
		t.Errorf("Endpoint = %q, want %q", rep.Endpoint, want)
	}
	if len(rep.Missing) != 0 || rep.NotFound != "" || !rep.Expires.IsZero() {
		t.Errorf("Missing %v, NotFound %q, Expires %v", rep.Missing, rep.NotFound, rep.Expires)
	}
	notes := strings.Join(rep.Notes, "\n")
	for _, want := range []string{
		"access tokens do not expire",
		"read_all_orders is needed from " + begun.Add(60*24*time.Hour).UTC().Format("2006-01-02") + " on",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	// Two REST calls and one GraphQL query for both codes.
	if q := sb.fake.Stats().Queries; q != 1 {
		t.Errorf("GraphQL queries = %d, want 1", q)
	}
}

func TestCheckOnlineRevokedToken(t *testing.T) {
	sb := newSandbox(t, "shpat_the_shops_current_token")
	rep := checkOnline(t, sb, "{}", campaignFrom(time.Now(), "ALICE10"))
	if !rep.Reachable || rep.Authenticated {
		t.Errorf("reachable %t, authenticated %t; want reachable, not authenticated", rep.Reachable, rep.Authenticated)
	}
	exportertest.AssertOnlineErr(t, rep, exporter.ErrUnauthorized, "HTTP 401: credential refused")
	if rep.Account != "" {
		t.Errorf("Account = %q, want none", rep.Account)
	}
}

// TestCheckOnlineMissingScopes: a token without read_orders, for a
// campaign that began more than 60 days ago, lacks read_orders and
// read_all_orders; a refresh with it fails on ACCESS_DENIED, which the
// check foretells.
func TestCheckOnlineMissingScopes(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddCode("ALICE10")
	sb.fake.SetScopes("read_discounts", "read_products")
	old := time.Now().Add(-90 * 24 * time.Hour)
	rep := checkOnline(t, sb, "{}", campaignFrom(old, "ALICE10"))
	if !rep.Authenticated {
		t.Error("a token lacking a scope is still authenticated")
	}
	if want := []string{"read_orders", "read_all_orders"}; !reflect.DeepEqual(rep.Missing, want) {
		t.Errorf("Missing = %v, want %v", rep.Missing, want)
	}
	exportertest.AssertOnlineErr(t, rep, nil, "lacks read_orders (to count orders)",
		"read_all_orders (orders are read from the campaign start, "+old.UTC().Format("2006-01-02"), "it has read_discounts, read_products")

	env := exportertest.Build(t, sb.config("", "{}", campaignFrom(old, "ALICE10")))
	_, err := env.Instance(t, "shopify").Collector.Poll(context.Background())
	if err == nil || !errors.Is(err, exporter.ErrUnauthorized) || !strings.Contains(err.Error(), "ACCESS_DENIED: Access denied for orders field. Required access: `read_orders` access scope.") {
		t.Errorf("refresh without read_orders: %v", err)
	}
}

func TestCheckOnlineScopes(t *testing.T) {
	recent := time.Now().Add(-time.Hour)
	for _, tc := range []struct {
		name      string
		scopes    []string
		campaigns string
		missing   []string
	}{
		{"write scopes include read", []string{"write_orders", "write_discounts"}, campaignFrom(recent, "ALICE10"), nil},
		{"no discounts", []string{"read_orders", "read_all_orders"}, campaignFrom(recent, "ALICE10"), []string{"read_discounts"}},
		{"campaign without start", []string{"read_orders", "read_discounts"}, campaignFrom(time.Time{}, "ALICE10"), []string{"read_all_orders"}},
		{"old campaign", []string{"read_orders", "read_discounts", "read_all_orders"}, campaignFrom(recent.Add(-100*24*time.Hour), "ALICE10"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t, token)
			sb.fake.AddCode("ALICE10")
			sb.fake.SetScopes(tc.scopes...)
			rep := checkOnline(t, sb, "{}", tc.campaigns)
			if !reflect.DeepEqual(rep.Missing, tc.missing) {
				t.Errorf("Missing = %v, want %v", rep.Missing, tc.missing)
			}
			if (rep.Err != nil) != (tc.missing != nil) {
				t.Errorf("Err = %v", rep.Err)
			}
		})
	}
}

func TestCheckOnlineCodeNotFound(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddCode("ALICE10")
	sb.fake.AddCode("CAROL")
	rep := checkOnline(t, sb, "{}", campaignFrom(time.Now(), "alice10", "NOPE", "CAROL", "DAVE"))
	if want := "code NOPE (campaign spring, creator creator2): the shop has no discount with this code"; rep.NotFound != want {
		t.Errorf("NotFound = %q, want %q", rep.NotFound, want)
	}
	exportertest.AssertOnlineErr(t, rep, exporter.ErrNotFound)
	// One query asked about all four codes.
	if notes := strings.Join(rep.Notes, "\n"); strings.Contains(notes, "checked the first") {
		t.Errorf("notes:\n%s", notes)
	}
	if q := sb.fake.Stats().Queries; q != 1 {
		t.Errorf("GraphQL queries = %d, want 1", q)
	}
}

func TestCheckOnlineRetiredVersion(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddCode("ALICE10")
	sb.fake.SetOldestVersion("2026-01")
	rep := checkOnline(t, sb, "{api_version: 2025-10}", campaignFrom(time.Now(), "ALICE10"))
	exportertest.AssertOnlineErr(t, rep, nil)
	if notes := strings.Join(rep.Notes, "\n"); !strings.Contains(notes, "Shopify answered in API version 2026-01, not options.api_version 2025-10") {
		t.Errorf("notes:\n%s", notes)
	}
}

func TestCheckOnlineUnreachable(t *testing.T) {
	sb := newSandbox(t, token)
	cfg := sb.config("{max_retries: 0}", "{}", campaignFrom(time.Now(), "ALICE10"))
	sb.srv.Close()
	env := exportertest.Build(t, cfg)
	rep := env.CheckOnline(t, "shopify")
	if rep.Reachable || rep.Authenticated || rep.Err == nil {
		t.Errorf("reachable %t, authenticated %t, Err %v", rep.Reachable, rep.Authenticated, rep.Err)
	}
}

package stripe_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/influencer-exporter/influencer_exporter/collectors/stripe/stripefake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// restricted is a restricted key the tests give some permissions.
const restricted = "rk_test_51FAKErestrictedKEY0123456789"

func checkOnline(t *testing.T, cfg string, secrets ...string) exporter.OnlineReport {
	t.Helper()
	rep := exportertest.Build(t, cfg).CheckOnline(t, "stripe")
	exportertest.AssertNoSecret(t, rep, append(secrets, token, restricted)...)
	return rep
}

func TestCheckOnline(t *testing.T) {
	sb := newSandbox(t)
	sb.order("ALICE10", 1, "usd", 50, 0)
	sb.fake.AddCode("BOB15")
	before := sb.fake.Faults.Hits()
	rep := checkOnline(t, config(sb.url, token, "{}", "2025-05-01T00:00:00Z", creator("alice", "alice10"), creator("bob", "BOB15")))
	exportertest.AssertOnlineErr(t, rep, nil)
	if !rep.Reachable || !rep.Authenticated {
		t.Errorf("reachable %t, authenticated %t", rep.Reachable, rep.Authenticated)
	}
	if want := `account ` + stripefake.AccountID + ` ("Sandbox Store")`; rep.Account != want {
		t.Errorf("Account = %q, want %q", rep.Account, want)
	}
	if want := "GET /v1/account, GET /v1/promotion_codes, GET /v1/checkout/sessions, GET /v1/refunds"; rep.Endpoint != want {
		t.Errorf("Endpoint = %q, want %q", rep.Endpoint, want)
	}
	if len(rep.Missing) != 0 || rep.NotFound != "" || !rep.Expires.IsZero() {
		t.Errorf("Missing %v, NotFound %q, Expires %v", rep.Missing, rep.NotFound, rep.Expires)
	}
	if notes := strings.Join(rep.Notes, "\n"); !strings.Contains(notes, "a test-mode key") {
		t.Errorf("notes:\n%s", notes)
	}
	// The account, a page of one of each list, a lookup per code.
	if n := sb.fake.Faults.Hits() - before; n != 6 {
		t.Errorf("requests = %d, want 6", n)
	}
}

func TestCheckOnlineRevokedKey(t *testing.T) {
	sb := newSandbox(t)
	const revoked = "sk_test_51FAKErolledKEY0000000000009876"
	rep := checkOnline(t, config(sb.url, revoked, "{}", "", creator("alice", "ALICE10")), revoked)
	if !rep.Reachable || rep.Authenticated {
		t.Errorf("reachable %t, authenticated %t; want reachable, not authenticated", rep.Reachable, rep.Authenticated)
	}
	exportertest.AssertOnlineErr(t, rep, exporter.ErrUnauthorized,
		"stripe: read the account: ", "HTTP 401: invalid_request_error: credential refused")
	if sb.fake.Requests(pathSessions) != 0 {
		t.Error("the check went on after the key was refused")
	}
}

func TestCheckOnlineRestrictedKey(t *testing.T) {
	all := []string{stripefake.PermAccountRead, stripefake.PermPromotionCodeRead, stripefake.PermCheckoutSessionRead, stripefake.PermRefundRead}
	for _, tc := range []struct {
		name    string
		perms   []string
		missing []string
		account bool // the account's details readable
	}{
		{"every permission", all, nil, true},
		{"all the collector needs", all[1:], nil, false},
		{"write includes read", []string{"rak_promotion_code_write", "rak_checkout_session_write", "rak_refund_write"}, nil, false},
		{"no refunds", all[:3], []string{stripefake.PermRefundRead}, true},
		{"sessions only", []string{stripefake.PermCheckoutSessionRead}, []string{stripefake.PermPromotionCodeRead, stripefake.PermRefundRead}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t)
			sb.fake.AddCode("ALICE10")
			sb.fake.AddRestrictedKey(restricted, tc.perms...)
			rep := checkOnline(t, config(sb.url, restricted, "{}", "", creator("alice", "ALICE10")))
			if !rep.Reachable || !rep.Authenticated {
				t.Errorf("reachable %t, authenticated %t: the key is valid", rep.Reachable, rep.Authenticated)
			}
			if want := "account " + stripefake.AccountID; !strings.HasPrefix(rep.Account, want) {
				t.Errorf("Account = %q, want %q…", rep.Account, want)
			}
			notes := strings.Join(rep.Notes, "\n")
			if got := !strings.Contains(notes, "may not read the account's details ("+stripefake.PermAccountRead+")"); got != tc.account {
				t.Errorf("account readable %t, want %t; notes:\n%s", got, tc.account, notes)
			}
			if !reflect.DeepEqual(rep.Missing, tc.missing) {
				t.Errorf("Missing = %v, want %v", rep.Missing, tc.missing)
			}
			// Stripe's refusal: its code, not its text (Missing above
			// names each permission, from the body).
			var refusal []string
			if len(tc.missing) > 0 {
				refusal = []string{"HTTP 403: invalid_request_error: access denied"}
			}
			exportertest.AssertOnlineErr(t, rep, nil, refusal...)
		})
	}
}

func TestCheckOnlineCodeNotFound(t *testing.T) {
	sb := newSandbox(t)
	sb.fake.AddCode("ALICE10")
	rep := checkOnline(t, config(sb.url, token, "{}", "", creator("alice", "alice10"), creator("bob", "NOPE")))
	if want := "code NOPE (campaign spring, creator bob): not found: Stripe has no promotion code with this code"; rep.NotFound != want {
		t.Errorf("NotFound = %q, want %q", rep.NotFound, want)
	}
	exportertest.AssertOnlineErr(t, rep, exporter.ErrNotFound)
}

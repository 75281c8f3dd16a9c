package stripefake

import (
	"strings"
	"testing"

	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

func TestRestrictedKey(t *testing.T) {
	fake, _, base := newServer(t)
	const rk = "rk_test_FAKErestricted0123456789"
	fake.AddRestrictedKey(rk, PermCheckoutSessionRead, "rak_refund_write")
	for _, tc := range []struct {
		auth, path string
		status     int
		permission string
	}{
		{token, "/v1/account", 200, ""},
		{token, "/v1/refunds", 200, ""},
		{rk, "/v1/checkout/sessions", 200, ""},
		{rk, "/v1/refunds", 200, ""}, // write includes read
		{rk, "/v1/promotion_codes", 403, PermPromotionCodeRead},
		{rk, "/v1/promotion_codes/promo_1", 403, PermPromotionCodeRead},
		{rk, "/v1/account", 403, PermAccountRead},
		{"rk_test_unknown0000000000000000", "/v1/refunds", 401, ""},
	} {
		var e stripeError
		code, _ := exportertest.GetJSON(t, base+tc.path, "Bearer "+tc.auth, &e)
		if code != tc.status {
			t.Errorf("%s with %.8s…: HTTP %d, want %d: %+v", tc.path, tc.auth, code, tc.status, e)
			continue
		}
		if tc.status != 403 {
			continue
		}
		want := "The provided key '" + MaskKey(rk) + "' does not have the required permissions for this endpoint on account '" +
			AccountID + "'. Having the '" + tc.permission + "' permission would allow this request to continue."
		if e.Error.Type != "invalid_request_error" || e.Error.Message != want || strings.Contains(e.Error.Message, rk) {
			t.Errorf("%s: %+v, want message %q", tc.path, e, want)
		}
	}

	var acct struct {
		ID       string `json:"id"`
		Object   string `json:"object"`
		Settings struct {
			Dashboard struct {
				DisplayName string `json:"display_name"`
			} `json:"dashboard"`
		} `json:"settings"`
	}
	if code, _ := exportertest.GetJSON(t, base+"/v1/account", "Bearer "+token, &acct); code != 200 || acct.ID != AccountID || acct.Object != "account" || acct.Settings.Dashboard.DisplayName != AccountName {
		t.Errorf("account: %d %+v", code, acct)
	}
}

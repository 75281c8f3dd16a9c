package stripefake

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// Restricted key permissions, as Stripe names them in its permission
// errors. rak_refund_read follows the pattern of the others (rak_<object>
// _read); the fake's use of it is unconfirmed.
const (
	PermAccountRead         = "rak_accounts_kyc_basic_read"
	PermPromotionCodeRead   = "rak_promotion_code_read"
	PermCheckoutSessionRead = "rak_checkout_session_read"
	PermRefundRead          = "rak_refund_read"
)

// AccountID and AccountName are the account the fake's keys belong to.
const (
	AccountID   = "acct_1FakeSandbox00001"
	AccountName = "Sandbox Store"
)

type restrictedKeyCtx struct{}

// AddRestrictedKey makes the fake accept key (rk_test_…) as a restricted
// key with the permissions given (PermPromotionCodeRead…). A write
// permission includes the read permission of the same object.
func (s *Server) AddRestrictedKey(key string, permissions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := map[string]bool{}
	for _, perm := range permissions {
		p[perm] = true
	}
	s.restricted[key] = p
}

// restrictedKey returns the permissions of a restricted key, nil if key is
// not one.
func (s *Server) restrictedKey(key string) map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restricted[key]
}

// permit lets a request through if its key is a secret key, or a
// restricted key with perm; else it answers Stripe's permission error.
func (s *Server) permit(perm string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, _ := r.Context().Value(restrictedKeyCtx{}).(string)
		if key == "" {
			next(w, r)
			return
		}
		perms := s.restrictedKey(key)
		if perms[perm] || perms[strings.TrimSuffix(perm, "_read")+"_write"] {
			next(w, r)
			return
		}
		writeError(w, http.StatusForbidden, apiErr{Type: "invalid_request_error", Message: fmt.Sprintf(
			"The provided key '%s' does not have the required permissions for this endpoint on account '%s'. Having the '%s' permission would allow this request to continue.",
			MaskKey(key), AccountID, perm)})
	}
}

// getAccount is GET /v1/account: the account of the key.
func (s *Server) getAccount(w http.ResponseWriter, _ *http.Request) {
	fakeapi.WriteJSON(w, http.StatusOK, map[string]any{
		"id":     AccountID,
		"object": "account",
		"business_profile": map[string]any{
			"name": AccountName,
			"url":  "https://shop.example",
		},
		"settings": map[string]any{
			"dashboard": map[string]any{"display_name": AccountName, "timezone": "Etc/UTC"},
		},
		"charges_enabled":  true,
		"payouts_enabled":  true,
		"country":          "US",
		"default_currency": "usd",
		"email":            "owner@example.com",
		"type":             "standard",
	})
}

package exporter

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProviderErrorCode(t *testing.T) {
	for _, tc := range []struct {
		name, hook, body, want string
	}{
		{"stripe hook", "invalid_request_error: Invalid API Key provided: sk_t****9876",
			`{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_t****9876"}}`, "invalid_request_error"},
		{"stripe body", "", `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_t****9876"}}`, "invalid_request_error"},
		{"graph code and subcode", "Error validating access token: Session has expired",
			`{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"A1b2"}}`, "190/463"},
		{"graph code only", "", `{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190}}`, "190"},
		{"google hook", "PERMISSION_DENIED: User does not have sufficient permissions for this property.",
			`{"error":{"code":403,"message":"User does not have sufficient permissions for this property.","status":"PERMISSION_DENIED"}}`, "PERMISSION_DENIED"},
		{"google body: error.code is the status number", "",
			`{"error":{"code":403,"message":"The caller does not have permission","status":"PERMISSION_DENIED"}}`, "403"},
		{"youtube hook", "quotaExceeded: The request cannot be completed because you have exceeded your quota.",
			`{"error":{"code":403,"message":"The request cannot be completed","errors":[{"reason":"quotaExceeded"}]}}`, "quotaExceeded"},
		{"google oauth body", "", `{"error":"invalid_grant","error_description":"Bad Request"}`, "invalid_grant"},
		{"woocommerce hook", "woocommerce_rest_cannot_view: Sorry, you cannot list resources.",
			`{"code":"woocommerce_rest_cannot_view","message":"Sorry, you cannot list resources.","data":{"status":401}}`, "woocommerce_rest_cannot_view"},
		{"woocommerce body", "", `{"code":"woocommerce_rest_cannot_view","message":"Sorry, you cannot list resources.","data":{"status":401}}`, "woocommerce_rest_cannot_view"},
		{"bitly hook with description", "FORBIDDEN: You are currently forbidden", `{"message":"FORBIDDEN","description":"You are currently forbidden","resource":"bitlinks"}`, "FORBIDDEN"},
		{"bitly hook, message alone", "FORBIDDEN", `{"message":"FORBIDDEN"}`, "FORBIDDEN"},
		{"dub hook", "unauthorized: Unauthorized: Invalid API key.",
			`{"error":{"code":"unauthorized","message":"Unauthorized: Invalid API key.","doc_url":"https://dub.co/docs/api-reference/errors#unauthorized"}}`, "unauthorized"},
		{"dub body", "", `{"error":{"code":"forbidden","message":"The provided key does not have the required permissions"}}`, "forbidden"},
		{"tiktok hook", "access_token_invalid: The access token is invalid or not found in the request.",
			`{"data":{},"error":{"code":"access_token_invalid","message":"The access token is invalid or not found in the request.","log_id":"2024"}}`, "access_token_invalid"},
		{"tiktok body", "", `{"data":{},"error":{"code":"access_token_invalid","message":"The access token is invalid","log_id":"2024"}}`, "access_token_invalid"},
		{"error_code", "", `{"error_code":"INVALID_KEY","message":"Key sk_live_x is invalid"}`, "INVALID_KEY"},
		{"errors[0].code", "", `{"errors":[{"code":"ACCESS_DENIED","message":"no"}]}`, "ACCESS_DENIED"},
		{"hook text without a code", "Invalid API key or access token", `{"errors":"[API] Invalid API key or access token"}`, ""},
		{"plain text body", "", "Unauthorized: bad key sk_live_1234", ""},
		{"empty body", "", "", ""},
		{"code with spaces is not a code", "", `{"error":{"code":"not a code","type":"auth"}}`, "auth"},
		{"code too long", "", `{"code":"` + strings.Repeat("a", 65) + `"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := providerErrorCode(tc.hook, []byte(tc.body)); got != tc.want {
				t.Errorf("providerErrorCode(%q, %s) = %q, want %q", tc.hook, tc.body, got, tc.want)
			}
		})
	}
}

func TestAuthErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		status     int
		hook, body string
		want       string
	}{
		{401, "invalid_request_error: Invalid API Key provided: sk_t****9876", "", "invalid_request_error: credential refused"},
		{403, "FORBIDDEN: You are currently forbidden", "", "FORBIDDEN: access denied"},
		{401, "", "bad key", "credential refused"},
		{401, "unauthorized: Unauthorized: Invalid API key.", "", "unauthorized: credential refused"},
		{403, "Sorry, you cannot list resources.", `{"code":"woocommerce_rest_cannot_view"}`, "woocommerce_rest_cannot_view: access denied"},
	} {
		if got := authErrorMessage(tc.status, tc.hook, []byte(tc.body)); got != tc.want {
			t.Errorf("authErrorMessage(%d, %q, %q) = %q, want %q", tc.status, tc.hook, tc.body, got, tc.want)
		}
	}
}

// TestAuthErrorHidesProviderText checks that a 401 or 403 body repeating
// a secret, in any form, never reaches the error, while other statuses
// keep the provider's text.
func TestAuthErrorHidesProviderText(t *testing.T) {
	const masked = "sk_t****9876"
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{http.StatusUnauthorized, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: ` + masked + `"}}`,
			"HTTP 401: invalid_request_error: credential refused"},
		{http.StatusForbidden, `{"error":{"code":"forbidden","message":"key ` + testToken + ` lacks links.read"}}`,
			"HTTP 403: forbidden: access denied"},
		{http.StatusUnauthorized, "The key " + masked + " is unknown", "HTTP 401: credential refused"},
		{http.StatusBadRequest, `{"error":{"type":"invalid_request_error","message":"No such coupon"}}`,
			"HTTP 400: invalid_request_error: No such coupon"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		}))
		c, _ := testClient(t, nil)
		c.SetHooks(ClientHooks{ErrorMessage: stripeStyleMessage})
		var v any
		_, err := c.GetJSON(context.Background(), srv.URL+"/v1/account", nil, &v)
		srv.Close()
		if err == nil {
			t.Fatalf("HTTP %d: no error", tc.status)
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) {
			t.Errorf("error %q does not contain %q", msg, tc.want)
		}
		for _, secret := range []string{masked, testToken, "lacks", "unknown"} {
			if strings.Contains(msg, secret) {
				t.Errorf("error %q shows %q", msg, secret)
			}
		}
	}
}

// stripeStyleMessage is an ErrorMessage hook of the common shape: "code:
// message" from {"error":{"type"|"code","message"}}, else the body.
func stripeStyleMessage(_ int, body []byte) string {
	var e struct {
		Error struct{ Type, Code, Message string } `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return strings.TrimSpace(string(body))
	}
	code := e.Error.Type
	if code == "" {
		code = e.Error.Code
	}
	return code + ": " + e.Error.Message
}

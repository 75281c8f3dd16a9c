package exporter

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// The messages of a refused credential. For HTTP 401 and 403 an APIError
// never carries the provider's free text: providers repeat the credential
// in it ("Invalid API Key provided: sk_t****9876"), whole or masked in
// forms redaction cannot all know. The message is the provider's error
// code, when it has one, and one of these fixed texts:
//
//	HTTP 401: invalid_request_error: credential refused
//	HTTP 403: FORBIDDEN: access denied
//	HTTP 401: credential refused
//
// Structured details a collector needs (a missing permission) come from
// the body through ClientHooks.Classify, into APIError.Detail.
const (
	msgCredentialRefused = "credential refused"
	msgAccessDenied      = "access denied"
)

// errorCodeRE is what passes for a provider's error code: one short
// identifier, such as invalid_request_error, PERMISSION_DENIED or
// woocommerce_rest_cannot_view.
var errorCodeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.\-]{0,63}$`)

// isAuthStatus reports whether status is a refused credential, whose
// provider text is not shown.
func isAuthStatus(status int) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden
}

// authErrorMessage is the message of a 401 or 403: the provider's error
// code, from the ErrorMessage hook's "CODE: text" or else from the body,
// and the fixed text of the status.
func authErrorMessage(status int, hookMsg string, body []byte) string {
	fixed := msgCredentialRefused
	if status == http.StatusForbidden {
		fixed = msgAccessDenied
	}
	if code := providerErrorCode(hookMsg, body); code != "" {
		return code + ": " + fixed
	}
	return fixed
}

// providerErrorCode returns the error code of a refused call: the leading
// token of the hook's message ("invalid_request_error: Invalid API Key
// provided: ..."), or a message that is a code by itself ("FORBIDDEN"),
// or else the first identifier or number found in the usual places of a
// JSON error body. It returns "" when there is none.
func providerErrorCode(hookMsg string, body []byte) string {
	lead, _, _ := strings.Cut(strings.TrimSpace(hookMsg), ": ")
	if errorCodeRE.MatchString(lead) {
		return lead
	}
	return bodyErrorCode(body)
}

// bodyErrorCode looks for an error code in a JSON error body, in the
// places providers put one: error.code, error.status, error.type, code,
// error_code, error (a string), errors[0].reason, errors[0].code. Graph's
// numeric code comes with its error_subcode: "190/463".
func bodyErrorCode(body []byte) string {
	var b struct {
		Error     json.RawMessage `json:"error"`
		Code      json.RawMessage `json:"code"`
		ErrorCode json.RawMessage `json:"error_code"`
		Errors    []struct {
			Reason json.RawMessage `json:"reason"`
			Code   json.RawMessage `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	var e struct {
		Code    json.RawMessage `json:"code"`
		Subcode json.RawMessage `json:"error_subcode"`
		Status  json.RawMessage `json:"status"`
		Type    json.RawMessage `json:"type"`
	}
	var candidates []json.RawMessage
	if json.Unmarshal(b.Error, &e) == nil {
		if c := codeValue(e.Code); c != "" {
			if s := codeValue(e.Subcode); s != "" && isInteger(c) && isInteger(s) {
				return c + "/" + s
			}
		}
		candidates = append(candidates, e.Code, e.Status, e.Type)
	}
	candidates = append(candidates, b.Code, b.ErrorCode, b.Error)
	if len(b.Errors) > 0 {
		candidates = append(candidates, b.Errors[0].Reason, b.Errors[0].Code)
	}
	for _, c := range candidates {
		if v := codeValue(c); v != "" {
			return v
		}
	}
	return ""
}

// codeValue returns raw as a code: a short identifier string or an
// integer; anything else is "".
func codeValue(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if errorCodeRE.MatchString(s) {
			return s
		}
		return ""
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil && isInteger(n.String()) {
		return n.String()
	}
	return ""
}

// isInteger reports whether s is a whole number, as Graph's codes are.
func isInteger(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// Package ga4fake is a fake Google Analytics 4 for tests and the sandbox:
// the OAuth2 token endpoint of a service account (JWT bearer grant) and
// the Data API v1beta runReport, with Google's request and response
// shapes, error bodies and property quota.
//
// The fake holds one RSA key, generated once per process (it is a test
// key, never a real credential): ServiceAccountJSON renders a
// service-account JSON key with it, whose token_uri points at the fake.
// The token endpoint (POST /token) checks the assertion's RS256 signature
// against that key and its aud, scope, iat and exp (on the wall clock, as
// Google does), and issues access tokens valid for an hour of the fake's
// clock. It also takes the refresh-token grant of the one authorized user
// AuthorizedUserJSON renders (client_id, client_secret, refresh_token, as
// gcloud writes them). runReport (POST
// /v1beta/properties/{property}:runReport) wants one of them as bearer:
// else 401 UNAUTHENTICATED; one whose scope lacks analytics.readonly gets
// 403 ACCESS_TOKEN_SCOPE_INSUFFICIENT, and credentials the property does
// not grant access 403 PERMISSION_DENIED. Each report spends ReportCost of
// the daily token quota; with none left it answers 429
// RESOURCE_EXHAUSTED. Reports are of the session UTM dimensions by
// sessionSource, or of totals without dimensions.
package ga4fake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// ClientEmail is the service account of the key ServiceAccountJSON renders.
const ClientEmail = "exporter@sandbox-project.iam.gserviceaccount.com"

// Scope is the scope the token endpoint requires.
const Scope = "https://www.googleapis.com/auth/analytics.readonly"

// DailyQuota is a standard property's tokensPerDay.
const DailyQuota = 200000

// ReportCost is the quota tokens one runReport spends in the fake.
const ReportCost = 10

// TokenLifetime is how long an issued access token lasts.
const TokenLifetime = time.Hour

// Google's messages the fake answers with.
const (
	// PermissionDeniedMessage answers credentials without access to the
	// property.
	PermissionDeniedMessage = "User does not have sufficient permissions for this property. " +
		"To learn more about Property ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/property-id."
	// ScopeInsufficientMessage answers an access token without the
	// Analytics scope.
	ScopeInsufficientMessage = "Request had insufficient authentication scopes."
	// DeletedKeyMessage is the token endpoint's invalid_grant for an
	// assertion signed with a key that was deleted (unconfirmed: the
	// text client threads quote).
	DeletedKeyMessage = "Invalid JWT Signature."
	// RevokedMessage is its invalid_grant for a revoked refresh token.
	RevokedMessage = "Token has been expired or revoked."
)

// CloudPlatformScope is what `gcloud auth application-default login`
// grants without --scopes: not enough for the Data API.
const CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// dimensions maps the session dimensions the fake knows to their UTM
// parameter.
var dimensions = map[string]string{
	"sessionManualAdContent":    "utm_content",
	"sessionManualCampaignName": "utm_campaign",
	"sessionManualSource":       "utm_source",
	"sessionManualMedium":       "utm_medium",
	"sessionManualTerm":         "utm_term",
}

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

// key returns the process's test key, generating it on first use.
func key() *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic("ga4fake: generate test key: " + err.Error())
		}
		testKey = k
	})
	return testKey
}

type traffic struct {
	param, value, source string
	users                fakeapi.Growth
}

// Server is the fake. Its zero value is not usable: call New.
type Server struct {
	// Faults switches runReport (not the token endpoint) between healthy
	// and failing.
	Faults fakeapi.Faults

	property string
	clock    fakeapi.Clock
	start    time.Time
	handler  http.Handler

	mu         sync.Mutex
	trusted    *rsa.PublicKey
	publicURL  string
	traffic    []traffic
	tokens     map[string]time.Time // access token -> expiry
	scopes     map[string]string    // access token -> its scopes
	issued     int
	remaining  int
	lastReport json.RawMessage
	// quotaStrings sends propertyQuota's numbers as JSON strings, and
	// countText replaces the count of a UTM value's rows: deviations from
	// the documented shapes, for tolerance tests.
	quotaStrings bool
	countText    map[string]string
	// userScope is what the authorized user granted; revoked and
	// denied make the credentials useless, or the property refuse them.
	userScope       string
	revoked, denied bool
}

// New returns a fake serving the GA4 property with the given numeric id;
// visitor counts grow from the clock's time now.
func New(property string, clock fakeapi.Clock) *Server {
	s := &Server{
		property:  property,
		clock:     clock,
		start:     clock.Now(),
		tokens:    map[string]time.Time{},
		scopes:    map[string]string{},
		remaining: DailyQuota,
		userScope: Scope,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.token)
	mux.Handle("POST /v1beta/properties/{call}", s.Faults.Wrap(http.HandlerFunc(s.runReport), errorWriter{}))
	s.handler = mux
	return s
}

// ServeHTTP serves the token endpoint and the Data API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// SetPublicURL sets the URL the fake is served at, the default token_uri
// of ServiceAccountJSON.
func (s *Server) SetPublicURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publicURL = strings.TrimSuffix(u, "/")
}

// ServiceAccountJSON returns a service-account JSON key the fake accepts,
// as Google's console hands it out. tokenURI "" means SetPublicURL's URL
// + "/token".
func (s *Server) ServiceAccountJSON(tokenURI string) []byte {
	if tokenURI == "" {
		s.mu.Lock()
		tokenURI = s.publicURL + "/token"
		s.mu.Unlock()
	}
	der, err := x509.MarshalPKCS8PrivateKey(key())
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(der)
	b, _ := json.MarshalIndent(map[string]string{
		"type":                        "service_account",
		"project_id":                  "sandbox-project",
		"private_key_id":              hex.EncodeToString(sum[:20]),
		"private_key":                 string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":                ClientEmail,
		"client_id":                   "100000000000000000001",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   tokenURI,
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
	}, "", "  ")
	return b
}

// TrustServiceAccount makes the fake accept JWTs signed by the key of a
// service-account JSON key file instead of its own: the sandbox's key
// file must exist before the exporter reads its config, so it is a file in
// the repository, made for the sandbox only.
func (s *Server) TrustServiceAccount(keyJSON []byte) error {
	var k struct {
		PrivateKey string `json:"private_key"`
	}
	if err := json.Unmarshal(keyJSON, &k); err != nil {
		return fmt.Errorf("ga4fake: service account key: %w", err)
	}
	block, _ := pem.Decode([]byte(k.PrivateKey))
	if block == nil {
		return errors.New("ga4fake: service account key: no PEM private key")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("ga4fake: service account key: %w", err)
	}
	rk, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return errors.New("ga4fake: service account key: not an RSA key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trusted = &rk.PublicKey
	return nil
}

// publicKey is the key JWTs must be signed with.
func (s *Server) publicKey() *rsa.PublicKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.trusted != nil {
		return s.trusted
	}
	return &key().PublicKey
}

// AddTraffic adds visitors whose sessions carried param=value (param
// utm_content, utm_campaign, ...) and came from source; their number
// (activeUsers, over any range) is users.At(fake's start, now).
func (s *Server) AddTraffic(param, value, source string, users fakeapi.Growth) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.traffic = append(s.traffic, traffic{param, value, source, users})
}

// SetQuotaRemaining sets the property's remaining tokensPerDay.
func (s *Server) SetQuotaRemaining(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remaining = n
}

// SetQuotaAsStrings makes propertyQuota's numbers JSON strings
// ("consumed":"10"), which the Data API documents as integers.
func (s *Server) SetQuotaAsStrings(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quotaStrings = on
}

// SetCountText makes the metric value of every row of a UTM value text
// (a broken row, "" for the real count again).
func (s *Server) SetCountText(value, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.countText == nil {
		s.countText = map[string]string{}
	}
	s.countText[value] = text
}

// TokensIssued returns how many access tokens the token endpoint issued.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// RevokeTokens makes every issued access token invalid, as when Google
// revokes them.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]time.Time{}
}

// RevokeCredentials deletes the service account's key and revokes the
// authorized user's refresh token, and with them every access token
// issued: the token endpoint answers invalid_grant from then on.
func (s *Server) RevokeCredentials() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = true
	s.tokens = map[string]time.Time{}
}

// DenyAccess removes the credentials from the property's users: reports
// answer 403 PERMISSION_DENIED, as for a property they were never added
// to.
func (s *Server) DenyAccess() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied = true
}

// SetUserScope sets the scopes the authorized user granted (Scope by
// default), space-separated: the refresh-token grant issues access tokens
// with them.
func (s *Server) SetUserScope(scope string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userScope = scope
}

// LastReport returns the body of the last runReport request.
func (s *Server) LastReport() json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastReport
}

// WriteError writes Google's error body for status.
func WriteError(w http.ResponseWriter, status int, message string) {
	st := map[int]string{
		400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
		404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE",
	}[status]
	if st == "" {
		st = "UNKNOWN"
	}
	fakeapi.WriteJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": message, "status": st}})
}

type errorWriter struct{}

func (errorWriter) WriteError(w http.ResponseWriter, status int) {
	msg := "Internal error encountered."
	if status == http.StatusTooManyRequests {
		msg = "Exhausted concurrent requests quota."
	}
	WriteError(w, status, msg)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	fakeapi.WriteJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// token is the OAuth2 token endpoint: grant_type=jwt-bearer.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, 400, "invalid_request", "Malformed form body.")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
	case "refresh_token":
		s.refresh(w, r)
		return
	default:
		oauthError(w, 400, "unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
		return
	}
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	if len(parts) != 3 {
		oauthError(w, 400, "invalid_grant", "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.")
		return
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	s.mu.Lock()
	revoked := s.revoked
	s.mu.Unlock()
	if err != nil || revoked || rsa.VerifyPKCS1v15(s.publicKey(), crypto.SHA256, sum[:], sig) != nil {
		oauthError(w, 400, "invalid_grant", DeletedKeyMessage)
		return
	}
	var hdr struct{ Alg string }
	var claims struct {
		Iss, Scope, Aud string
		Iat, Exp        int64
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	if err1 != nil || err2 != nil || json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &claims) != nil || hdr.Alg != "RS256" {
		oauthError(w, 400, "invalid_grant", "Invalid JWT.")
		return
	}
	now := s.clock.Now()
	s.mu.Lock()
	wantAud := s.publicURL + "/token"
	s.mu.Unlock()
	// The assertion's iat and exp are checked against the wall clock,
	// as Google checks them against its own: the client signs with its
	// wall clock (golang.org/x/oauth2/jwt has no other), while the test
	// clock runs the access tokens' lifetime and the traffic.
	wall := time.Now()
	switch {
	case claims.Iss != ClientEmail:
		oauthError(w, 401, "invalid_client", "The OAuth client was not found.")
		return
	case claims.Aud != wantAud:
		oauthError(w, 400, "invalid_grant", "Invalid JWT: aud must be "+wantAud)
		return
	case claims.Scope != Scope:
		oauthError(w, 400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
		return
	case claims.Exp-claims.Iat > 3600 || claims.Exp <= wall.Unix() || claims.Iat > wall.Unix()+60:
		oauthError(w, 400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
		return
	}
	s.issue(w, now, claims.Scope, nil)
}

// issue answers a token request with a new access token.
func (s *Server) issue(w http.ResponseWriter, now time.Time, scope string, extra map[string]any) {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := "ya29.fake-" + base64.RawURLEncoding.EncodeToString(b)
	s.mu.Lock()
	s.tokens[tok] = now.Add(TokenLifetime)
	s.scopes[tok] = scope
	s.issued++
	s.mu.Unlock()
	resp := map[string]any{"access_token": tok, "expires_in": int(TokenLifetime.Seconds()) - 1, "token_type": "Bearer"}
	for k, v := range extra {
		resp[k] = v
	}
	fakeapi.WriteJSON(w, 200, resp)
}

// OAuth client and refresh token of the authorized user the fake knows
// (AuthorizedUserJSON).
const (
	UserClientID     = "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com"
	UserClientSecret = "d-FL95Q19q7MQmFpd7hHD0Ty"
	UserRefreshToken = "1//0fake-refresh-token-of-the-sandbox-user"
)

// AuthorizedUserJSON returns an authorized-user file the fake accepts,
// as `gcloud auth application-default login` writes it, with a token_uri
// ("" means SetPublicURL's URL + "/token"; gcloud writes none, and
// Google's endpoint is then the default).
func (s *Server) AuthorizedUserJSON(tokenURI string) []byte {
	if tokenURI == "" {
		s.mu.Lock()
		tokenURI = s.publicURL + "/token"
		s.mu.Unlock()
	}
	b, _ := json.MarshalIndent(map[string]string{
		"account":          "",
		"client_id":        UserClientID,
		"client_secret":    UserClientSecret,
		"quota_project_id": "sandbox-project",
		"refresh_token":    UserRefreshToken,
		"type":             "authorized_user",
		"universe_domain":  "googleapis.com",
		"token_uri":        tokenURI,
	}, "", "  ")
	return b
}

// refresh is the refresh-token grant of an authorized user: the client
// in the form or in Basic auth. Google's answer has no new refresh token
// and carries the scope granted.
func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	s.mu.Lock()
	revoked, scope := s.revoked, s.userScope
	s.mu.Unlock()
	switch {
	case id != UserClientID || secret != UserClientSecret:
		oauthError(w, 401, "invalid_client", "The OAuth client was not found.")
		return
	case r.PostForm.Get("refresh_token") != UserRefreshToken || revoked:
		oauthError(w, 400, "invalid_grant", RevokedMessage)
		return
	}
	// Google issues the scopes the user granted, whatever scope the
	// refresh asks for.
	s.issue(w, s.clock.Now(), scope, map[string]any{"scope": scope})
}

type reportRequest struct {
	Dimensions []struct{ Name string } `json:"dimensions"`
	Metrics    []struct{ Name string } `json:"metrics"`
	DateRanges []struct {
		StartDate string `json:"startDate"`
		EndDate   string `json:"endDate"`
	} `json:"dateRanges"`
	DimensionFilter *struct {
		Filter *struct {
			FieldName    string `json:"fieldName"`
			InListFilter *struct {
				Values []string `json:"values"`
			} `json:"inListFilter"`
		} `json:"filter"`
	} `json:"dimensionFilter"`
	Limit               string `json:"limit"`
	Offset              string `json:"offset"`
	ReturnPropertyQuota bool   `json:"returnPropertyQuota"`
}

// authorized returns whether the request carries a valid access token,
// and its scopes.
func (s *Server) authorized(r *http.Request) (bool, string) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false, ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && s.clock.Now().Before(exp), s.scopes[tok]
}

// readsAnalytics reports whether scopes let a token read reports.
func readsAnalytics(scopes string) bool {
	for _, sc := range strings.Fields(scopes) {
		if sc == Scope || sc == "https://www.googleapis.com/auth/analytics" {
			return true
		}
	}
	return false
}

// writeScopeInsufficient answers a token without the Analytics scope,
// with the ErrorInfo detail Google adds.
func writeScopeInsufficient(w http.ResponseWriter) {
	fakeapi.WriteJSON(w, http.StatusForbidden, map[string]any{"error": map[string]any{
		"code": http.StatusForbidden, "message": ScopeInsufficientMessage, "status": "PERMISSION_DENIED",
		"details": []any{map[string]any{
			"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com",
			"metadata": map[string]string{"service": "analyticsdata.googleapis.com", "method": "google.analytics.data.v1beta.BetaAnalyticsData.RunReport"},
		}},
	}})
}

// runReport is POST /v1beta/properties/{id}:runReport.
func (s *Server) runReport(w http.ResponseWriter, r *http.Request) {
	valid, scopes := s.authorized(r)
	if !valid {
		WriteError(w, 401, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
		return
	}
	if !readsAnalytics(scopes) {
		writeScopeInsufficient(w)
		return
	}
	id, ok := strings.CutSuffix(r.PathValue("call"), ":runReport")
	if !ok {
		WriteError(w, 404, "Method not found.")
		return
	}
	s.mu.Lock()
	denied := s.denied
	s.mu.Unlock()
	if id != s.property || denied {
		WriteError(w, 403, PermissionDeniedMessage)
		return
	}
	var req reportRequest
	var raw json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil || json.Unmarshal(raw, &req) != nil {
		WriteError(w, 400, "Invalid JSON payload received.")
		return
	}
	if len(req.DateRanges) != 1 || !validDate(req.DateRanges[0].StartDate) || !validDate(req.DateRanges[0].EndDate) {
		WriteError(w, 400, "Date range is invalid.")
		return
	}
	for _, m := range req.Metrics {
		if m.Name != "activeUsers" && m.Name != "sessions" {
			WriteError(w, 400, "Field "+m.Name+" is not a valid metric.")
			return
		}
	}
	if len(req.Dimensions) == 0 {
		s.totals(w, req, raw)
		return
	}
	if len(req.Dimensions) != 2 || req.Dimensions[1].Name != "sessionSource" || dimensions[req.Dimensions[0].Name] == "" {
		WriteError(w, 400, "The fake serves [session UTM dimension, sessionSource] reports, and totals, only.")
		return
	}
	dim := req.Dimensions[0].Name
	param := dimensions[dim]
	var in map[string]bool
	if f := req.DimensionFilter; f != nil && f.Filter != nil && f.Filter.InListFilter != nil && f.Filter.FieldName == dim {
		in = map[string]bool{}
		for _, v := range f.Filter.InListFilter.Values {
			in[v] = true
		}
	}
	// GA4 returns at most 250,000 rows a call, whatever the limit asks.
	limit, offset := min(atoi(req.Limit, 10000), 250000), atoi(req.Offset, 0)

	s.mu.Lock()
	remaining, ok := s.spend(raw)
	if !ok {
		s.mu.Unlock()
		WriteError(w, 429, quotaMessage)
		return
	}
	now := s.clock.Now()
	sums := map[[2]string]int64{}
	for _, t := range s.traffic {
		if t.param == param && (in == nil || in[t.value]) {
			sums[[2]string{t.value, t.source}] += t.users.At(s.start, now)
		}
	}
	s.mu.Unlock()

	keys := make([][2]string, 0, len(sums))
	for k, v := range sums {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	// GA4 orders by the first metric, descending, unless told otherwise.
	sort.Slice(keys, func(i, j int) bool {
		if sums[keys[i]] != sums[keys[j]] {
			return sums[keys[i]] > sums[keys[j]]
		}
		return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1]
	})
	total := len(keys)
	if offset > len(keys) {
		offset = len(keys)
	}
	keys = keys[offset:]
	if len(keys) > limit {
		keys = keys[:limit]
	}
	metricHeaders := []map[string]string{}
	for _, m := range req.Metrics {
		metricHeaders = append(metricHeaders, map[string]string{"name": m.Name, "type": "TYPE_INTEGER"})
	}
	rows := []map[string]any{}
	for _, k := range keys {
		var mv []map[string]string
		for _, m := range req.Metrics {
			v := sums[k]
			if m.Name == "sessions" {
				v += v / 2
			}
			text := strconv.FormatInt(v, 10)
			if t := s.countText[k[0]]; t != "" {
				text = t
			}
			mv = append(mv, map[string]string{"value": text})
		}
		rows = append(rows, map[string]any{
			"dimensionValues": []map[string]string{{"value": k[0]}, {"value": k[1]}},
			"metricValues":    mv,
		})
	}
	resp := map[string]any{
		"dimensionHeaders": []map[string]string{{"name": dim}, {"name": "sessionSource"}},
		"metricHeaders":    metricHeaders,
		"metadata":         map[string]any{"currencyCode": "USD", "timeZone": "America/Los_Angeles"},
		"kind":             "analyticsData#runReport",
	}
	if len(rows) > 0 {
		resp["rows"] = rows // GA4 leaves rows out of an empty report
	}
	if total > 0 {
		resp["rowCount"] = total
	}
	if req.ReturnPropertyQuota {
		resp["propertyQuota"] = s.propertyQuota(remaining)
	}
	fakeapi.WriteJSON(w, 200, resp)
}

const quotaMessage = "Exhausted property tokens per day quota. Consider waiting until tomorrow."

// spend records the report and spends its tokens; it returns the tokens
// left, or false when there are too few. Call with mu held.
func (s *Server) spend(raw json.RawMessage) (int, bool) {
	s.lastReport = raw
	if s.remaining < ReportCost {
		return 0, false
	}
	s.remaining -= ReportCost
	return s.remaining, true
}

// propertyQuota renders propertyQuota with remaining tokens left today.
func (s *Server) propertyQuota(remaining int) map[string]any {
	s.mu.Lock()
	asStrings := s.quotaStrings
	s.mu.Unlock()
	status := func(consumed, remaining int) any {
		if asStrings {
			return map[string]string{"consumed": strconv.Itoa(consumed), "remaining": strconv.Itoa(remaining)}
		}
		return map[string]int{"consumed": consumed, "remaining": remaining}
	}
	// consumed is what this request spent, remaining what is left
	// after it (QuotaStatus in the Data API reference).
	return map[string]any{
		"tokensPerDay":            status(ReportCost, remaining),
		"tokensPerHour":           status(ReportCost, 40000-ReportCost),
		"concurrentRequests":      status(0, 10),
		"tokensPerProjectPerHour": status(ReportCost, 14000-ReportCost),
	}
}

// totals answers a report without dimensions: one row of the metrics
// over every visitor the property had, and no dimensionHeaders.
func (s *Server) totals(w http.ResponseWriter, req reportRequest, raw json.RawMessage) {
	s.mu.Lock()
	remaining, ok := s.spend(raw)
	var users int64
	now := s.clock.Now()
	for _, t := range s.traffic {
		users += t.users.At(s.start, now)
	}
	s.mu.Unlock()
	if !ok {
		WriteError(w, 429, quotaMessage)
		return
	}
	metricHeaders := []map[string]string{}
	values := []map[string]string{}
	for _, m := range req.Metrics {
		v := users
		if m.Name == "sessions" {
			v += v / 2
		}
		metricHeaders = append(metricHeaders, map[string]string{"name": m.Name, "type": "TYPE_INTEGER"})
		values = append(values, map[string]string{"value": strconv.FormatInt(v, 10)})
	}
	resp := map[string]any{
		"metricHeaders": metricHeaders,
		"rows":          []map[string]any{{"metricValues": values}},
		"rowCount":      1,
		"metadata":      map[string]any{"currencyCode": "USD", "timeZone": "America/Los_Angeles"},
		"kind":          "analyticsData#runReport",
	}
	if req.ReturnPropertyQuota {
		resp["propertyQuota"] = s.propertyQuota(remaining)
	}
	fakeapi.WriteJSON(w, 200, resp)
}

func validDate(s string) bool {
	if s == "today" || s == "yesterday" {
		return true
	}
	if n, ok := strings.CutSuffix(s, "daysAgo"); ok {
		_, err := strconv.Atoi(n)
		return err == nil
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

func atoi(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		if n == 0 && def > 0 {
			return def
		}
		return n
	}
	return def
}

package ga4

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Scope is the OAuth2 scope the collector asks for: read-only reports.
const Scope = "https://www.googleapis.com/auth/analytics.readonly"

// jwtBearerGrant is the OAuth2 grant type of a signed JWT assertion
// (RFC 7523), what Google's service accounts use.
const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// tokenLifetime is what the collector asks for (exp - iat); Google
// allows at most an hour.
const tokenLifetime = time.Hour

// renewBefore is how long before its expiry an access token is replaced.
const renewBefore = 5 * time.Minute

// serviceAccountKey is the JSON key file Google hands out for a service
// account. Only the fields the JWT flow needs are read.
type serviceAccountKey struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// parseKey reads a service-account key. Its errors never quote the key.
func parseKey(raw []byte) (*serviceAccountKey, *rsa.PrivateKey, error) {
	var k serviceAccountKey
	if err := json.Unmarshal(raw, &k); err != nil {
		return nil, nil, errors.New("the token is not a service-account JSON key (invalid JSON)")
	}
	if k.Type != "service_account" {
		return nil, nil, fmt.Errorf("the JSON key has type %q, want service_account", k.Type)
	}
	if k.ClientEmail == "" || k.PrivateKey == "" {
		return nil, nil, errors.New("the JSON key lacks client_email or private_key")
	}
	if k.TokenURI == "" {
		k.TokenURI = "https://oauth2.googleapis.com/token"
	}
	if u, err := url.Parse(k.TokenURI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, nil, fmt.Errorf("the JSON key's token_uri %q is not an http(s) URL", k.TokenURI)
	}
	block, _ := pem.Decode([]byte(k.PrivateKey))
	if block == nil {
		return nil, nil, errors.New("the JSON key's private_key is not PEM")
	}
	var priv *rsa.PrivateKey
	switch block.Type {
	case "PRIVATE KEY":
		p, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, nil, errors.New("the JSON key's private_key is not a PKCS#8 key")
		}
		r, ok := p.(*rsa.PrivateKey)
		if !ok {
			return nil, nil, errors.New("the JSON key's private_key is not an RSA key")
		}
		priv = r
	case "RSA PRIVATE KEY":
		r, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, nil, errors.New("the JSON key's private_key is not a PKCS#1 key")
		}
		priv = r
	default:
		return nil, nil, fmt.Errorf("the JSON key's private_key is a %q PEM block, want PRIVATE KEY", block.Type)
	}
	return &k, priv, nil
}

// secretsOf returns every form in which the key's secret could be echoed
// back: the PEM text and each of its base64 lines.
func secretsOf(k *serviceAccountKey) []string {
	out := []string{k.PrivateKey}
	for _, line := range strings.Split(k.PrivateKey, "\n") {
		if line = strings.TrimSpace(line); len(line) >= 16 && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
		}
	}
	return out
}

// signJWT returns the RS256 assertion for the JWT bearer flow.
func signJWT(k *serviceAccountKey, priv *rsa.PrivateKey, now time.Time) (string, error) {
	header := map[string]string{"alg": "RS256", "typ": "JWT"}
	if k.PrivateKeyID != "" {
		header["kid"] = k.PrivateKeyID
	}
	claims := map[string]any{
		"iss":   k.ClientEmail,
		"scope": Scope,
		"aud":   k.TokenURI,
		"iat":   now.Unix(),
		"exp":   now.Add(tokenLifetime).Unix(),
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, sum[:])
	if err != nil {
		return "", errors.New("sign the JWT assertion")
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// tokens holds the current access token and gets a new one when it is
// about to expire. Safe for concurrent use.
type tokens struct {
	client  *exporter.Client
	key     *serviceAccountKey
	priv    *rsa.PrivateKey
	secrets []string

	mu      sync.Mutex
	access  string
	expires time.Time
}

// ensure makes sure the client carries a valid access token at now,
// exchanging a new JWT when the current token is absent or expires within
// renewBefore.
func (t *tokens) ensure(ctx context.Context, now time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.access != "" && now.Before(t.expires.Add(-renewBefore)) {
		return nil
	}
	assertion, err := signJWT(t.key, t.priv, now)
	if err != nil {
		return err
	}
	form := url.Values{"grant_type": {jwtBearerGrant}, "assertion": {assertion}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.key.TokenURI, strings.NewReader(form.Encode()))
	if err != nil {
		return errors.New("build token request")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	var tr tokenResponse
	if err := t.client.DecodeJSON(req, resp, &tr); err != nil {
		return err
	}
	if tr.AccessToken == "" || tr.ExpiresIn <= 0 {
		return fmt.Errorf("token endpoint answered without access_token or expires_in: %w", exporter.ErrBadResponse)
	}
	t.access = tr.AccessToken
	t.expires = now.Add(time.Duration(tr.ExpiresIn) * time.Second)
	// The assertion is a credential for its hour too: redact it as well.
	t.client.SetToken(tr.AccessToken, append([]string{assertion}, t.secrets...)...)
	return nil
}

// invalidate drops the access token, after Google refused it.
func (t *tokens) invalidate() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.access = ""
}

// authorize is the client's Authorize hook: the bearer on every call but
// the token exchange itself.
func (t *tokens) authorize(req *http.Request, token string) {
	if req.URL.String() == t.key.TokenURI || strings.HasPrefix(token, "{") {
		return
	}
	exporter.BearerAuth(req, token)
}

// Data API request and response shapes (v1beta).

type dimension struct {
	Name string `json:"name"`
}

type metric struct {
	Name string `json:"name"`
}

type dateRange struct {
	StartDate string `json:"startDate"`
	EndDate   string `json:"endDate"`
}

type inListFilter struct {
	Values        []string `json:"values"`
	CaseSensitive bool     `json:"caseSensitive"`
}

type filter struct {
	FieldName    string        `json:"fieldName"`
	InListFilter *inListFilter `json:"inListFilter,omitempty"`
}

type filterExpression struct {
	Filter *filter `json:"filter,omitempty"`
}

type runReportRequest struct {
	Dimensions          []dimension       `json:"dimensions"`
	Metrics             []metric          `json:"metrics"`
	DateRanges          []dateRange       `json:"dateRanges"`
	DimensionFilter     *filterExpression `json:"dimensionFilter,omitempty"`
	Limit               string            `json:"limit,omitempty"`
	Offset              string            `json:"offset,omitempty"`
	ReturnPropertyQuota bool              `json:"returnPropertyQuota"`
}

type value struct {
	Value string `json:"value"`
}

type row struct {
	DimensionValues []value `json:"dimensionValues"`
	MetricValues    []value `json:"metricValues"`
}

type header struct {
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
}

type quotaStatus struct {
	Consumed  float64 `json:"consumed"`
	Remaining float64 `json:"remaining"`
}

type propertyQuota struct {
	TokensPerDay            *quotaStatus `json:"tokensPerDay"`
	TokensPerHour           *quotaStatus `json:"tokensPerHour"`
	ConcurrentRequests      *quotaStatus `json:"concurrentRequests"`
	TokensPerProjectPerHour *quotaStatus `json:"tokensPerProjectPerHour"`
}

type runReportResponse struct {
	DimensionHeaders []header      `json:"dimensionHeaders"`
	MetricHeaders    []header      `json:"metricHeaders"`
	Rows             []row         `json:"rows"`
	RowCount         int           `json:"rowCount"`
	PropertyQuota    propertyQuota `json:"propertyQuota"`
	Kind             string        `json:"kind"`
}

// googleError is Google's error body: {"error":{"code","message","status"}}.
// The token endpoint answers OAuth2 errors instead:
// {"error":"invalid_grant","error_description":"..."}.
type googleError struct {
	Error json.RawMessage `json:"error"`
	Desc  string          `json:"error_description"`
}

// errorMessage is the client's ErrorMessage hook.
func errorMessage(_ int, body []byte) string {
	var e googleError
	if json.Unmarshal(body, &e) != nil || len(e.Error) == 0 {
		return ""
	}
	var s struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
	}
	if json.Unmarshal(e.Error, &s) == nil {
		if s.Status != "" {
			return s.Status + ": " + s.Message
		}
		return s.Message
	}
	var code string
	if json.Unmarshal(e.Error, &code) == nil {
		if e.Desc != "" {
			return code + ": " + e.Desc
		}
		return code
	}
	return ""
}

// classify is the client's Classify hook: Google names an exhausted
// quota RESOURCE_EXHAUSTED and a refused credential UNAUTHENTICATED.
func classify(_ int, body []byte) (error, any) {
	var oauth struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &oauth) == nil {
		// The token endpoint's OAuth2 errors: a refused key or assertion.
		switch oauth.Error {
		case "invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope", "access_denied":
			return exporter.ErrUnauthorized, oauth.Error
		}
		return nil, nil
	}
	var e struct {
		Error struct {
			Status string `json:"status"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return nil, nil
	}
	switch e.Error.Status {
	case "RESOURCE_EXHAUSTED":
		return exporter.ErrRateLimited, e.Error.Status
	case "UNAUTHENTICATED":
		return exporter.ErrUnauthorized, e.Error.Status
	}
	return nil, nil
}

// quotaReset is when GA4's daily property quota resets: midnight Pacific
// time after now.
func quotaReset(now time.Time) time.Time {
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		loc = time.FixedZone("PT", -8*3600)
	}
	n := now.In(loc)
	return time.Date(n.Year(), n.Month(), n.Day()+1, 0, 0, 0, 0, loc)
}

package ga4

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Scope is the OAuth2 scope the collector asks for: read-only reports.
const Scope = "https://www.googleapis.com/auth/analytics.readonly"

// defaultTokenURI is Google's token endpoint, for a credentials file
// without token_uri (gcloud's authorized-user files have none).
const defaultTokenURI = "https://oauth2.googleapis.com/token"

// renewBefore is how long before its expiry an access token is replaced.
const renewBefore = 5 * time.Minute

// Credential types, the "type" field of the credentials file.
const (
	serviceAccount = "service_account"
	authorizedUser = "authorized_user"
)

// serviceAccountKey is what token_file holds: a service account's JSON
// key as Google's console hands it out, or an OAuth user's authorized-user
// file as `gcloud auth application-default login` writes it (client_id,
// client_secret, refresh_token), told apart by "type". Only the fields
// the token flows need are read.
type serviceAccountKey struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
	// authorized_user
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	RefreshToken string `json:"refresh_token"`
}

// parseKey reads token_file's credentials. Its errors never quote them.
func parseKey(raw []byte) (*serviceAccountKey, error) {
	var k serviceAccountKey
	if err := json.Unmarshal(raw, &k); err != nil {
		return nil, errors.New("the token is not a service-account JSON key nor an authorized-user file (invalid JSON)")
	}
	switch k.Type {
	case serviceAccount:
		if k.ClientEmail == "" || k.PrivateKey == "" {
			return nil, errors.New("the JSON key lacks client_email or private_key")
		}
		if err := checkPrivateKey(k.PrivateKey); err != nil {
			return nil, err
		}
	case authorizedUser:
		if k.ClientID == "" || k.ClientSecret == "" || k.RefreshToken == "" {
			return nil, errors.New("the authorized_user file lacks client_id, client_secret or refresh_token (want a service_account key, or an authorized_user file as gcloud writes it)")
		}
	default:
		return nil, fmt.Errorf("the JSON key has type %q, want service_account (or authorized_user)", k.Type)
	}
	if k.TokenURI == "" {
		k.TokenURI = defaultTokenURI
	}
	if u, err := url.Parse(k.TokenURI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("the JSON key's token_uri %q is not an http(s) URL", k.TokenURI)
	}
	return &k, nil
}

// checkPrivateKey checks, when the config is read, that the key is one
// golang.org/x/oauth2/jwt can sign with: an RSA key in PEM.
func checkPrivateKey(pemText string) error {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return errors.New("the JSON key's private_key is not PEM")
	}
	switch block.Type {
	case "PRIVATE KEY":
		p, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return errors.New("the JSON key's private_key is not a PKCS#8 key")
		}
		if _, ok := p.(*rsa.PrivateKey); !ok {
			return errors.New("the JSON key's private_key is not an RSA key")
		}
	case "RSA PRIVATE KEY":
		if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return errors.New("the JSON key's private_key is not a PKCS#1 key")
		}
	default:
		return fmt.Errorf("the JSON key's private_key is a %q PEM block, want PRIVATE KEY", block.Type)
	}
	return nil
}

// secretsOf returns every form in which the credentials' secrets could be
// echoed back: the PEM text and each of its base64 lines, the client
// secret and the refresh token.
func secretsOf(k *serviceAccountKey) []string {
	var out []string
	for _, s := range []string{k.PrivateKey, k.ClientSecret, k.RefreshToken} {
		if s != "" {
			out = append(out, s)
		}
	}
	for _, line := range strings.Split(k.PrivateKey, "\n") {
		if line = strings.TrimSpace(line); len(line) >= 16 && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
		}
	}
	return out
}

// tokens holds the current access token and gets a new one when it is
// about to expire. Safe for concurrent use.
//
// The exchange itself is golang.org/x/oauth2's: jwt.Config for a service
// account (the JWT bearer grant, RFC 7523: an RS256 assertion with
// iss=client_email, scope, aud=token_uri, one hour), oauth2.Config's
// refresh-token grant for an authorized user. golang.org/x/oauth2/google
// would read the file too, but it brings cloud.google.com/go/compute
// (metadata server lookups) for nothing the collector uses. Its HTTP
// client sends through the shared exporter.Client (retries, metrics,
// error classification, redaction) by way of roundTripper. The cache,
// and the decision to renew, stay here on the collector's clock: the
// token source's own cache runs on the wall clock, which tests cannot
// move.
type tokens struct {
	client  *exporter.Client
	key     *serviceAccountKey
	secrets []string

	mu      sync.Mutex
	access  string
	expires time.Time
	// set is the token the client carries (the credentials file until
	// the first access token); ctx and failed belong to one exchange.
	set    string
	ctx    context.Context
	failed error
}

func newTokens(client *exporter.Client, key *serviceAccountKey, file string) *tokens {
	t := &tokens{client: client, key: key, secrets: secretsOf(key), set: file}
	client.SetToken(file, t.secrets...) // the credentials stay redacted
	return t
}

// source returns a token source that asks the token endpoint once.
func (t *tokens) source(ctx context.Context) oauth2.TokenSource {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: roundTripper{t}})
	if t.key.Type == authorizedUser {
		cfg := &oauth2.Config{
			ClientID:     t.key.ClientID,
			ClientSecret: t.key.ClientSecret,
			// Google takes the client in the form body or in Basic
			// auth; the form never needs a probe.
			Endpoint: oauth2.Endpoint{TokenURL: t.key.TokenURI, AuthStyle: oauth2.AuthStyleInParams},
			Scopes:   []string{Scope},
		}
		return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: t.key.RefreshToken})
	}
	cfg := &jwt.Config{
		Email:        t.key.ClientEmail,
		PrivateKey:   []byte(t.key.PrivateKey),
		PrivateKeyID: t.key.PrivateKeyID,
		Scopes:       []string{Scope},
		TokenURL:     t.key.TokenURI,
		// No Expires: jws dates iat 10 seconds back and exp an hour
		// after it, the most Google allows; Expires would count the
		// hour from now, 10 seconds too long.
	}
	return cfg.TokenSource(ctx)
}

// ensure makes sure the client carries a valid access token at now,
// getting a new one when the current token is absent or expires within
// renewBefore.
func (t *tokens) ensure(ctx context.Context, now time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.access != "" && now.Before(t.expires.Add(-renewBefore)) {
		return nil
	}
	t.ctx, t.failed = ctx, nil
	defer func() { t.ctx, t.failed = nil, nil }()
	tok, err := t.source(ctx).Token()
	if err != nil {
		if t.failed != nil {
			// The shared client's error: classified and redacted.
			return t.failed
		}
		return fmt.Errorf("%s: %w", t.client.Redact(err.Error()), exporter.ErrBadResponse)
	}
	if tok.AccessToken == "" || tok.Expiry.IsZero() {
		return fmt.Errorf("token endpoint answered without access_token or expires_in: %w", exporter.ErrBadResponse)
	}
	t.access = tok.AccessToken
	// The token source dates the expiry on the wall clock: keep its
	// lifetime, on the collector's clock.
	t.expires = now.Add(time.Until(tok.Expiry))
	t.set = tok.AccessToken
	t.client.SetToken(tok.AccessToken)
	t.client.ReportTokenExpiry(t.expires)
	if rt := tok.RefreshToken; rt != "" && rt != t.key.RefreshToken {
		t.key.RefreshToken = rt // Google may rotate it
		t.client.SetToken(tok.AccessToken, rt)
	}
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

// roundTripper sends the token source's requests through the shared
// client, within the refresh's context. It runs with tokens.mu held (from
// ensure).
type roundTripper struct{ t *tokens }

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	t := rt.t
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		// The assertion is a credential for its hour: redact it too.
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("assertion") != "" {
			t.client.SetToken(t.set, form.Get("assertion"))
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	if t.ctx != nil {
		req = req.WithContext(t.ctx)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		t.failed = err
		return nil, err
	}
	header := resp.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{
		Status:        http.StatusText(resp.StatusCode),
		StatusCode:    resp.StatusCode,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          io.NopCloser(bytes.NewReader(resp.Body)),
		ContentLength: int64(len(resp.Body)),
		Request:       req,
	}, nil
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

// quotaStatus is one quota of propertyQuota. Its numbers are read as
// numbers or numeric strings: a proxy or an API version that sends
// "consumed":"10" does not fail the report.
type quotaStatus struct {
	Consumed  exporter.FlexFloat `json:"consumed"`
	Remaining exporter.FlexFloat `json:"remaining"`
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

// scopeInsufficient is the Detail of a 403 refusing a token that lacks a
// scope: the client does not show the text that says so.
const scopeInsufficient = "insufficient authentication scopes"

// classify is the client's Classify hook: Google names an exhausted
// quota RESOURCE_EXHAUSTED and a refused credential UNAUTHENTICATED; a
// token without the scope gets PERMISSION_DENIED saying "insufficient
// authentication scopes".
func classify(status int, body []byte) (error, any) {
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
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return nil, nil
	}
	if status == http.StatusForbidden && strings.Contains(e.Error.Message, scopeInsufficient) {
		return exporter.ErrUnauthorized, scopeInsufficient
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

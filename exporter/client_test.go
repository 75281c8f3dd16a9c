package exporter

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
)

const testToken = "sekrit-token-123"

func testClient(t *testing.T, tr http.RoundTripper) (*Client, *APIMetrics) {
	t.Helper()
	m := NewAPIMetrics()
	c := NewClient(ClientOptions{
		Collector: "test",
		Token:     testToken,
		HTTP: HTTPConfig{
			MaxRetries:       2,
			MinRetryWait:     model.Duration(time.Millisecond),
			MaxRetryWait:     model.Duration(5 * time.Millisecond),
			MaxResponseBytes: 1024,
		},
		Timeout:   2 * time.Second,
		Metrics:   m,
		Transport: tr,
	})
	c.SetHooks(ClientHooks{
		Authorize: func(r *http.Request, tok string) { r.Header.Set("Authorization", "Bearer "+tok) },
		ErrorMessage: func(_ int, body []byte) string {
			return strings.TrimSpace(string(body))
		},
	})
	return c, m
}

func TestClientRetriesAfter429(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			t.Errorf("auth header not set")
		}
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = w.Write([]byte(`{"n": 42}`))
	}))
	defer srv.Close()
	c, m := testClient(t, nil)
	var v struct{ N int }
	if _, err := c.GetJSON(context.Background(), srv.URL+"/x", nil, &v); err != nil {
		t.Fatal(err)
	}
	if v.N != 42 {
		t.Errorf("n = %d", v.N)
	}
	if got := testutil.ToFloat64(m.Retries.WithLabelValues("test")); got != 1 {
		t.Errorf("retries = %g, want 1", got)
	}
	if got := testutil.ToFloat64(m.Requests.WithLabelValues("test", "429")); got != 1 {
		t.Errorf("requests{code=429} = %g, want 1", got)
	}
	if got := testutil.ToFloat64(m.Requests.WithLabelValues("test", "200")); got != 1 {
		t.Errorf("requests{code=200} = %g, want 1", got)
	}
}

func TestClientErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		handler  http.HandlerFunc
		kind     error
		attempts int32
		contains string
	}{
		{
			name: "server error is retried then reported",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "backend down", http.StatusBadGateway)
			},
			kind: ErrServer, attempts: 3, contains: "HTTP 502: backend down",
		},
		{
			name: "unauthorized is not retried and the provider's text is not shown",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "bad token "+testToken, http.StatusUnauthorized)
			},
			kind: ErrUnauthorized, attempts: 1, contains: "HTTP 401: credential refused",
		},
		{
			name: "long Retry-After gives up at once",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "3600")
				http.Error(w, "slow down", http.StatusTooManyRequests)
			},
			kind: ErrRateLimited, attempts: 1, contains: "(retry after 1h0m0s)",
		},
		{
			name: "oversized body",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(strings.Repeat("x", 2048)))
			},
			kind: ErrTooLarge, attempts: 1, contains: "response larger than 1024 bytes",
		},
		{
			name: "malformed JSON",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(`{"n": `))
			},
			kind: ErrBadResponse, attempts: 1, contains: "decode JSON",
		},
		{
			name: "not found",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "no such link", http.StatusNotFound)
			},
			kind: ErrNotFound, attempts: 1, contains: "HTTP 404: no such link",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				tc.handler(w, r)
			}))
			defer srv.Close()
			c, _ := testClient(t, nil)
			var v struct{ N int }
			_, err := c.GetJSON(context.Background(), srv.URL+"/v1/things?api_key="+testToken, nil, &v)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("error %v is not %v", err, tc.kind)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not contain %q", err, tc.contains)
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "api_key") {
				t.Errorf("error leaks the token or query: %q", err)
			}
			if got := calls.Load(); got != tc.attempts {
				t.Errorf("attempts = %d, want %d", got, tc.attempts)
			}
		})
	}
}

func TestClientTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c, _ := testClient(t, nil)
	c.timeout = 50 * time.Millisecond
	_, err := c.GetJSON(context.Background(), srv.URL, nil, new(any))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want a timeout", err)
	}
}

func TestClientConnectionRefused(t *testing.T) {
	// A closed loopback port: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, m := testClient(t, nil)
	_, err = c.GetJSON(context.Background(), "http://"+addr+"/v4/x?access_token="+testToken, nil, new(any))
	if !errors.Is(err, ErrTransport) {
		t.Fatalf("got %v, want a transport error", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("error leaks the token: %q", err)
	}
	if got := testutil.ToFloat64(m.Requests.WithLabelValues("test", "error")); got != 3 {
		t.Errorf("requests{code=error} = %g, want 3 (1 + 2 retries)", got)
	}
}

func TestClientDNSFailure(t *testing.T) {
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "api.example", IsNotFound: true}}
	}}
	c, _ := testClient(t, tr)
	_, err := c.GetJSON(context.Background(), "http://api.example/v1", nil, new(any))
	if !errors.Is(err, ErrTransport) || !strings.Contains(err.Error(), "no such host") {
		t.Fatalf("got %v", err)
	}
}

func TestClientQuotaHeaders(t *testing.T) {
	reset := time.Now().Add(time.Hour).Unix()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c, m := testClient(t, nil)
	if _, err := c.GetJSON(context.Background(), srv.URL, nil, new(any)); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.Quota.WithLabelValues("test")); got != 0 {
		t.Errorf("quota = %g, want 0", got)
	}
	// With the quota spent for an hour, the next call is not sent at all:
	// it would only collect a 429.
	_, err := c.GetJSON(context.Background(), srv.URL, nil, new(any))
	if !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "provider quota spent") {
		t.Fatalf("got %v, want a local rate-limit error", err)
	}
	if got := testutil.ToFloat64(m.Requests.WithLabelValues("test", "200")); got != 1 {
		t.Errorf("requests sent = %g, want 1", got)
	}
}

func TestDefaultQuotaReset(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name, reset string
		want        time.Time
	}{
		{"unix milliseconds", strconv.FormatInt(now.Add(time.Minute).UnixMilli(), 10), now.Add(time.Minute).Truncate(time.Millisecond)},
		{"unix seconds", strconv.FormatInt(now.Add(time.Minute).Unix(), 10), now.Add(time.Minute).Truncate(time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("X-RateLimit-Remaining", "7")
			h.Set("X-RateLimit-Reset", tc.reset)
			rem, reset, ok := DefaultQuota(h)
			if !ok || rem != 7 || !reset.Equal(tc.want) {
				t.Errorf("got %g, %v, %t; want 7, %v", rem, reset, ok, tc.want)
			}
		})
	}
	h := http.Header{}
	h.Set("X-RateLimit-Remaining", "3")
	h.Set("X-RateLimit-Reset", "30")
	if _, reset, _ := DefaultQuota(h); reset.Before(now.Add(29*time.Second)) || reset.After(time.Now().Add(31*time.Second)) {
		t.Errorf("seconds from now: reset %v", reset)
	}
}

func TestRetryAfterForms(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	for _, tc := range []struct {
		value string
		want  time.Duration
	}{
		{"2", 2 * time.Second},
		{"0", 0},
		{strconv.FormatInt(now.Add(90*time.Second).UnixMilli(), 10), 90 * time.Second},
		{strconv.FormatInt(now.Add(30*time.Second).Unix(), 10), 30 * time.Second},
		{strconv.FormatInt(now.Add(-time.Minute).UnixMilli(), 10), 0},
		{now.Add(time.Minute).UTC().Format(http.TimeFormat), time.Minute},
		{"soon", 0},
	} {
		h := http.Header{}
		h.Set("Retry-After", tc.value)
		if got := retryAfter(h, now); got != tc.want {
			t.Errorf("Retry-After %q = %s, want %s", tc.value, got, tc.want)
		}
	}
}

func TestClientPostJSONAndBodyQuota(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("got %s with %q", r.Method, r.Header.Get("Content-Type"))
		}
		_, _ = w.Write([]byte(`{"data": {"ok": true}}`))
	}))
	defer srv.Close()
	c, m := testClient(t, nil)
	var v struct{ Data struct{ OK bool } }
	if _, err := c.PostJSON(context.Background(), srv.URL+"/graphql.json", nil, map[string]string{"query": "{ shop { name } }"}, &v); err != nil || !v.Data.OK {
		t.Fatalf("PostJSON: %v, %+v", err, v)
	}
	c.ReportQuota(850, time.Time{})
	if got := testutil.ToFloat64(m.Quota.WithLabelValues("test")); got != 850 {
		t.Errorf("quota = %g, want 850", got)
	}
	c.PauseUntil(time.Now().Add(time.Hour))
	if _, err := c.PostJSON(context.Background(), srv.URL, nil, nil, &v); !errors.Is(err, ErrRateLimited) {
		t.Errorf("call during a long pause: %v, want rate limited", err)
	}
}

func TestRedactTokenParts(t *testing.T) {
	c := NewClient(ClientOptions{Collector: "woo", Token: "ck_12345abcdef:cs_67890fedcba"})
	got := c.redact("consumer_key=ck_12345abcdef&consumer_secret=cs_67890fedcba")
	if got != "consumer_key=<secret>&consumer_secret=<secret>" {
		t.Errorf("redact = %q", got)
	}
}

func TestSetTokenRedactsOldAndNew(t *testing.T) {
	c := NewClient(ClientOptions{Collector: "tt", Token: "act.first-token"})
	c.SetToken("act.second-token", "rft.refresh-secret")
	if got := c.currentToken(); got != "act.second-token" {
		t.Errorf("token = %q", got)
	}
	got := c.redact("old act.first-token new act.second-token refresh rft.refresh-secret")
	if got != "old <secret> new <secret> refresh <secret>" {
		t.Errorf("redact = %q", got)
	}
}

func TestClientClassifyHook(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":{"code":190,"message":"Session has expired"}}`))
	}))
	defer srv.Close()
	c, _ := testClient(t, nil)
	type detail struct{ Code int }
	c.hooks.Classify = func(status int, body []byte) (error, any) {
		if strings.Contains(string(body), `"code":190`) {
			return ErrUnauthorized, detail{Code: 190}
		}
		return nil, nil
	}
	_, err := c.GetJSON(context.Background(), srv.URL, nil, new(any))
	var ae *APIError
	if !errors.Is(err, ErrUnauthorized) || !errors.As(err, &ae) || ae.Detail != (detail{Code: 190}) {
		t.Fatalf("got %v (detail %+v), want unauthorized with code 190", err, ae)
	}
}

// A call the rate limit cannot let through before the refresh's deadline is
// a refresh out of time, not a failed call: it is not sent, not retried,
// and the caller sees its context end.
func TestClientRateLimitPastDeadlineIsOutOfTime(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = w.Write([]byte(`{"n": 1}`))
	}))
	defer srv.Close()
	m := NewAPIMetrics()
	c := NewClient(ClientOptions{
		Collector: "test",
		HTTP:      HTTPConfig{MaxRetries: 2, RateLimit: 0.1, Burst: 1, MaxResponseBytes: 1024},
		Timeout:   2 * time.Second,
		Metrics:   m,
	})
	var v struct{ N int }
	if _, err := c.GetJSON(context.Background(), srv.URL, nil, &v); err != nil {
		t.Fatal(err)
	}
	// The next token comes in 10s; the refresh ends in 50ms.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.GetJSON(ctx, srv.URL, nil, &v)
	if err == nil || !errors.Is(err, ErrTimeout) {
		t.Errorf("err = %v, want a timeout", err)
	}
	if !OutOfTime(ctx) {
		t.Error("the call returned before the refresh's time was up")
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
	if n := testutil.ToFloat64(m.Retries.WithLabelValues("test")); n != 0 {
		t.Errorf("%g retries, want 0", n)
	}
}

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, written as PEM files into dir.
type testPKI struct {
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
	server                    tls.Certificate
}

func newTestPKI(t *testing.T, dir string) testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "influencer test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: "influencer test " + strconv.FormatInt(serial, 10)},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	write := func(name, typ string, der []byte) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte {
		b, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	p := testPKI{pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.caFile = write("ca.pem", "CERTIFICATE", caDER)
	srvDER, srvKey := issue(2, x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := issue(3, x509.ExtKeyUsageClientAuth, nil)
	p.certFile = write("client.pem", "CERTIFICATE", cliDER)
	p.keyFile = write("client-key.pem", "EC PRIVATE KEY", keyDER(cliKey))
	return p
}

// TestClientHTTPConfig runs a collector's client, built from its
// http_config as Build builds it, against loopback TLS servers and a
// proxy.
func TestClientHTTPConfig(t *testing.T) {
	dir := t.TempDir()
	pki := newTestPKI(t, dir)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	plainTLS := httptest.NewUnstartedServer(ok)
	plainTLS.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}}
	plainTLS.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes are expected
	plainTLS.StartTLS()
	defer plainTLS.Close()
	mutualTLS := httptest.NewUnstartedServer(ok)
	mutualTLS.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.pool}
	mutualTLS.Config.ErrorLog = log.New(io.Discard, "", 0)
	mutualTLS.StartTLS()
	defer mutualTLS.Close()
	redirect := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
	defer redirect.Close()
	var proxied atomic.Int64
	var proxiedURL atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A forward proxy gets the absolute URL; it answers itself.
		proxied.Add(1)
		proxiedURL.Store(r.URL.String())
		ok.ServeHTTP(w, r)
	}))
	defer proxy.Close()

	for _, tc := range []struct {
		name       string
		httpConfig string // the collector's http_config block, "" for none
		url        string
		wantErr    string // "" for success
		wantProxy  int64
	}{
		{name: "ca_file trusts the server", httpConfig: "tls_config: {ca_file: ca.pem}", url: plainTLS.URL},
		{name: "without ca_file the server is unknown", url: plainTLS.URL, wantErr: "certificate signed by unknown authority"},
		{name: "http_config without ca_file", httpConfig: "enable_http2: false", url: plainTLS.URL, wantErr: "certificate signed by unknown authority"},
		{name: "client certificate", httpConfig: "tls_config: {ca_file: ca.pem, cert_file: client.pem, key_file: client-key.pem}", url: mutualTLS.URL},
		{name: "client certificate required", httpConfig: "tls_config: {ca_file: ca.pem}", url: mutualTLS.URL, wantErr: "certificate required"},
		{name: "proxy_url", httpConfig: "proxy_url: " + proxy.URL, url: "http://api.provider.invalid/v4/user", wantProxy: 1},
		{name: "follow_redirects false", httpConfig: "follow_redirects: false", url: redirect.URL, wantErr: "HTTP 302"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxied.Store(0)
			yml := "collectors:\n  - type: fake\n    token: " + testToken + "\n    http: {min_retry_wait: 1ms, max_retry_wait: 2ms}\n"
			if tc.httpConfig != "" {
				yml += "    http_config: {" + tc.httpConfig + "}\n"
			}
			cfg, err := ParseConfig(filepath.Join(dir, "c.yml"), []byte(yml))
			if err != nil {
				t.Fatal(err)
			}
			c, err := newCollectorClient(cfg.Collectors[0], Deps{Metrics: NewAPIMetrics()}, newTransportPool(cfg.Collectors), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			c.SetHooks(ClientHooks{Authorize: func(r *http.Request, tok string) { r.Header.Set("Authorization", "Bearer "+tok) }})
			var out struct{ OK bool }
			_, err = c.GetJSON(context.Background(), tc.url, nil, &out)
			switch {
			case tc.wantErr == "" && (err != nil || !out.OK):
				t.Fatalf("GetJSON = %v, %+v", err, out)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("GetJSON error = %v, want %q", err, tc.wantErr)
			case err != nil && strings.Contains(err.Error(), testToken):
				t.Errorf("error shows the token: %v", err)
			}
			if got := proxied.Load(); got != tc.wantProxy {
				t.Errorf("proxy saw %d requests, want %d", got, tc.wantProxy)
			}
			if tc.wantProxy > 0 {
				if got := proxiedURL.Load(); got != "http://api.provider.invalid/v4/user" {
					t.Errorf("proxy was asked for %v", got)
				}
			}
		})
	}
}

// TestClientReadsBodiesOfChangingSize reads bodies with and without a
// Content-Length, each smaller or larger than the one before (the buffer
// is sized from the last), and one past the limit.
func TestClientReadsBodiesOfChangingSize(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		body := strings.Repeat("x", n)
		if r.URL.Query().Get("length") != "" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
			_, _ = io.WriteString(w, body)
			return
		}
		// Chunked: no length announced.
		for len(body) > 0 {
			k := min(len(body), 100)
			_, _ = io.WriteString(w, body[:k])
			w.(http.Flusher).Flush()
			body = body[k:]
		}
	}))
	defer srv.Close()
	c, _ := testClient(t, nil)
	for _, tc := range []struct {
		n      int
		length bool
	}{{0, false}, {700, false}, {300, false}, {1024, false}, {1, true}, {1000, true}, {10, false}, {1024, true}} {
		q := "?n=" + strconv.Itoa(tc.n)
		if tc.length {
			q += "&length=1"
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+q, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%d bytes (length %v): %v", tc.n, tc.length, err)
		}
		if string(resp.Body) != strings.Repeat("x", tc.n) {
			t.Fatalf("%d bytes (length %v): read %d bytes", tc.n, tc.length, len(resp.Body))
		}
		// A small body after a larger one does not keep the
		// larger one's room.
		if c := cap(resp.Body); c > 2*tc.n+bytes.MinRead {
			t.Fatalf("%d bytes (length %v): the body holds %d bytes of room", tc.n, tc.length, c)
		}
	}
	for _, q := range []string{"?n=1025", "?n=1025&length=1", "?n=5000"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+q, nil)
		if _, err := c.Do(req); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%s: %v, want ErrTooLarge", q, err)
		}
	}
}

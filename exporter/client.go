package exporter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"
	"golang.org/x/time/rate"
)

// Sentinel errors a provider call can match with errors.Is.
var (
	ErrRateLimited  = errors.New("rate limited")
	ErrUnauthorized = errors.New("unauthorized")
	ErrNotFound     = errors.New("not found")
	ErrServer       = errors.New("server error")
	ErrTimeout      = errors.New("timeout")
	ErrTransport    = errors.New("transport error")
	ErrTooLarge     = errors.New("response too large")
	ErrBadResponse  = errors.New("malformed response")
)

// APIError is what Client returns when a provider call fails. It carries
// only redacted text: no token, no query string, no Authorization header,
// whatever the provider or the transport said.
type APIError struct {
	Collector  string
	Method     string
	URL        string // scheme, host and path only
	StatusCode int    // 0 when no response arrived
	// Message is the provider's own error text, from ClientHooks.ErrorMessage;
	// for 401 and 403 only the provider's error code and a fixed text.
	Message    string
	RetryAfter time.Duration
	// Detail is what ClientHooks.Classify parsed from the error body (a
	// provider's error code), for the collector to branch on.
	Detail any
	kind   error
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", e.Method, e.URL)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.StatusCode)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Is matches the sentinel errors.
func (e *APIError) Is(target error) bool { return target == e.kind }

// ClientHooks adapt the shared client to one provider's wire format.
type ClientHooks struct {
	// ErrorMessage extracts a short message from an error response body,
	// for example Bitly's {"message":"FORBIDDEN"}. Nil uses the status text.
	ErrorMessage func(status int, body []byte) string
	// Quota reads the provider's rate-limit headers: the calls left in the
	// current window and when the window resets. Nil reads the common
	// X-RateLimit-Remaining and X-RateLimit-Reset headers.
	Quota func(h http.Header) (remaining float64, reset time.Time, ok bool)
	// Authorize sets the provider's auth header or parameter on a request.
	Authorize func(req *http.Request, token string)
	// Classify reads an error body for providers whose HTTP status says
	// little (the Graph API answers nearly every error with 400): a
	// non-nil kind (ErrRateLimited, ErrUnauthorized, ...) replaces the
	// status-based one, and detail is kept in APIError.Detail.
	Classify func(status int, body []byte) (kind error, detail any)
}

// APIMetrics are the request counters every client of one process shares.
type APIMetrics struct {
	Requests    *prometheus.CounterVec
	Retries     *prometheus.CounterVec
	Quota       *prometheus.GaugeVec
	TokenExpiry *prometheus.GaugeVec
}

// NewAPIMetrics creates the API self-metrics; register them once.
func NewAPIMetrics() *APIMetrics {
	return &APIMetrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "influencer_api_requests_total",
			Help: "HTTP requests sent to provider APIs, by collector and status code (\"error\" when no response arrived).",
		}, []string{"collector", "code"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "influencer_api_retries_total",
			Help: "Provider API requests that were retries of an earlier failed attempt.",
		}, []string{"collector"}),
		Quota: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "influencer_api_quota_remaining",
			Help: "Requests (or quota units) left in the provider's current rate-limit window, as the provider last reported.",
		}, []string{"collector"}),
		TokenExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "influencer_token_expiry_timestamp_seconds",
			Help: "Unix time the collector's access token expires, where the provider tells it.",
		}, []string{"collector"}),
	}
}

// Describe implements prometheus.Collector.
func (m *APIMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.Requests.Describe(ch)
	m.Retries.Describe(ch)
	m.Quota.Describe(ch)
	m.TokenExpiry.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *APIMetrics) Collect(ch chan<- prometheus.Metric) {
	m.Requests.Collect(ch)
	m.Retries.Collect(ch)
	m.Quota.Collect(ch)
	m.TokenExpiry.Collect(ch)
}

// Forget drops the series of a collector that a reload removed.
func (m *APIMetrics) Forget(collector string) {
	m.Requests.DeletePartialMatch(prometheus.Labels{"collector": collector})
	m.Retries.DeleteLabelValues(collector)
	m.Quota.DeleteLabelValues(collector)
	m.TokenExpiry.DeleteLabelValues(collector)
}

// Client is the one HTTP client every provider call goes through: bounded
// retries with backoff honouring Retry-After, a per-collector rate limiter
// that also waits out an exhausted provider quota, a timeout per call, a cap
// on response size, request metrics and secret redaction.
type Client struct {
	collector string
	token     string
	cfg       HTTPConfig
	timeout   time.Duration
	rc        *retryablehttp.Client
	limiter   *rate.Limiter
	metrics   *APIMetrics
	logger    *slog.Logger
	hooks     ClientHooks

	// lastBody is the size of the last body read: the next is read into
	// a buffer of about that size (see readBody).
	lastBody atomic.Int64
	// bodies holds, as *[]byte, the buffers of bodies decoded into a
	// BodyCopier, for the next such body to be read into.
	bodies sync.Pool

	mu         sync.Mutex
	secrets    []string // every token this client used: all are redacted
	pauseUntil time.Time
	now        func() time.Time
}

// ClientOptions builds a Client.
type ClientOptions struct {
	Collector string
	Token     string
	HTTP      HTTPConfig
	Timeout   time.Duration
	Metrics   *APIMetrics
	Logger    *slog.Logger
	// Transport defaults to a clone of http.DefaultTransport; tests inject
	// one with a custom dialer, Build the one of the collector's
	// http_config (NewTransport).
	Transport http.RoundTripper
	// NoRedirects makes a redirect a final answer (an error, not being
	// 2xx): http_config's follow_redirects: false.
	NoRedirects bool
}

// NewTransport returns the transport of a collector's http_config block
// (TLS, proxy, HTTP/2), built by github.com/prometheus/common/config, or
// nil when h is nil: then the client keeps Go's default transport. The
// Client's retries, rate limit, size cap, metrics and redaction wrap it.
// opts are the library's (config.WithDialContextFunc for the link probe's
// dial control).
func NewTransport(h *config.HTTPClientConfig, name string, opts ...config.HTTPClientOption) (http.RoundTripper, error) {
	if h == nil {
		return nil, nil
	}
	return config.NewRoundTripperFromConfig(*h, name, opts...)
}

// NewClient returns a client for one collector.
func NewClient(o ClientOptions) *Client {
	if o.Metrics == nil {
		o.Metrics = NewAPIMetrics()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	limit := rate.Limit(o.HTTP.RateLimit)
	if o.HTTP.RateLimit <= 0 {
		limit = rate.Inf
	}
	burst := o.HTTP.Burst
	if burst <= 0 {
		burst = 1
	}
	c := &Client{
		collector: o.Collector,
		token:     o.Token,
		cfg:       o.HTTP,
		timeout:   o.Timeout,
		limiter:   rate.NewLimiter(limit, burst),
		metrics:   o.Metrics,
		logger:    o.Logger,
		now:       time.Now,
	}
	if o.Token != "" {
		c.secrets = []string{o.Token}
	}
	rc := retryablehttp.NewClient()
	rc.Logger = nil // it logs full URLs; we log redacted ones ourselves
	rc.HTTPClient = &http.Client{Transport: &instrumentedTransport{c: c, next: o.Transport}}
	if o.NoRedirects {
		rc.HTTPClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	rc.RetryMax = o.HTTP.MaxRetries
	rc.RetryWaitMin = time.Duration(o.HTTP.MinRetryWait)
	rc.RetryWaitMax = time.Duration(o.HTTP.MaxRetryWait)
	rc.CheckRetry = c.checkRetry
	rc.Backoff = c.backoff
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	rc.RequestLogHook = func(_ retryablehttp.Logger, req *http.Request, attempt int) {
		if attempt > 0 {
			c.metrics.Retries.WithLabelValues(c.collector).Inc()
			c.logger.Debug("retrying request", "url", redactURL(req.URL), "attempt", attempt)
		}
	}
	c.rc = rc
	return c
}

// SetToken replaces the token, for providers whose access tokens renew
// themselves (TikTok). Old and new tokens, and any extra secrets given
// (a refresh token, a client secret), are all redacted from errors.
func (c *Client) SetToken(token string, extraSecrets ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = token
	for _, s := range append([]string{token}, extraSecrets...) {
		if s != "" {
			c.secrets = append(c.secrets, s)
		}
	}
}

func (c *Client) currentToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// SetHooks installs provider-specific behaviour. Call it from the Factory,
// before the first request.
func (c *Client) SetHooks(h ClientHooks) { c.hooks = h }

// Response is a provider response whose body was read in full (within the
// size cap).
type Response struct {
	StatusCode int
	Header     http.Header
	// Body is nil once decoded into a BodyCopier (see GetJSON).
	Body []byte
}

// Do sends req with retries and returns the response if its status is 2xx,
// else an *APIError. The request's context bounds the whole call, retries
// included; the client's timeout bounds it too.
func (c *Client) Do(req *http.Request) (*Response, error) {
	resp, _, err := c.do(req, false)
	return resp, err
}

// do is Do. With reuse, a 2xx body is read into a buffer of the client's
// pool and that buffer is returned too: the caller gives it back
// (recycle) once nothing refers to the body, or drops it. On an error no
// buffer is out.
func (c *Client) do(req *http.Request, reuse bool) (*Response, *[]byte, error) {
	ctx := req.Context()
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req = req.WithContext(ctx)
	// Make the retry series exist from the first call, so rate() works on
	// the first failure too, and only for collectors that call APIs.
	c.metrics.Retries.WithLabelValues(c.collector)
	if tok := c.currentToken(); c.hooks.Authorize != nil && tok != "" {
		c.hooks.Authorize(req, tok)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.userAgent())
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	rreq, err := retryablehttp.FromRequest(req)
	if err != nil {
		return nil, nil, c.apiError(req, 0, ErrTransport, err.Error())
	}
	resp, err := c.rc.Do(rreq)
	if err != nil {
		var spent errQuotaSpent
		if errors.As(err, &spent) {
			e := c.apiError(req, 0, ErrRateLimited, spent.Error())
			e.RetryAfter = spent.wait
			return nil, nil, e
		}
		kind, msg := ErrTransport, c.redact(rootCause(err).Error())
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			kind, msg = ErrTimeout, "timed out"
		} else if errors.Is(err, context.Canceled) {
			msg = "canceled"
		}
		return nil, nil, c.apiError(req, 0, kind, msg)
	}
	defer resp.Body.Close()
	body, buf, err := c.readBody(resp, reuse)
	tooLarge := int64(len(body)) > c.cfg.MaxResponseBytes
	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	if buf != nil && (err != nil || tooLarge || !ok) {
		if err == nil && !tooLarge {
			// An error answer's body is quoted by the error, and a
			// hook may keep it (Classify's detail): it gets its own.
			body = bytes.Clone(body)
		}
		c.recycle(buf)
		buf = nil
	}
	if err != nil {
		kind := ErrTransport
		if isTimeout(err) || errors.Is(err, context.DeadlineExceeded) {
			kind = ErrTimeout
		}
		return nil, nil, c.apiError(req, resp.StatusCode, kind, "read body: "+c.redact(rootCause(err).Error()))
	}
	if tooLarge {
		return nil, nil, c.apiError(req, resp.StatusCode, ErrTooLarge, fmt.Sprintf("response larger than %d bytes", c.cfg.MaxResponseBytes))
	}
	if !ok {
		e := c.apiError(req, resp.StatusCode, statusKind(resp.StatusCode), c.errorMessage(resp.StatusCode, body))
		if c.hooks.Classify != nil {
			if kind, detail := c.hooks.Classify(resp.StatusCode, body); kind != nil {
				e.kind, e.Detail = kind, detail
			}
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			// Some APIs send Retry-After on every answer; it means
			// something only on these two.
			e.RetryAfter = retryAfter(resp.Header, c.now())
		}
		return nil, nil, e
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, buf, nil
}

// maxPrealloc bounds the buffer a body is read into before it arrives.
const maxPrealloc = 8 << 20

// maxPooled bounds the buffers kept for reuse. A pooled buffer serves
// any later body of its client, however small, and stays until two
// garbage collections find it unused: one answer of many megabytes must
// not hold its room through the pages after it. A page of a hundred
// items is about 20 KB; a body larger than this costs a new buffer, as
// every body did before buffers were reused.
const maxPooled = 4 << 20

// readBody reads a response body, up to one byte past the size limit.
// The buffer starts at the body's announced length, or else at the size
// of the client's last body: a collector's pages are alike, and growing a
// buffer from 512 bytes by doubling, as io.ReadAll does, left as much
// garbage as the body again on every page (a tenth of what a refresh of
// 300,000 series allocated).
//
// With reuse the buffer comes from the client's pool, when one there is
// large enough, and is returned with the body for recycle; else the
// body is the caller's own and the returned buffer nil.
func (c *Client) readBody(resp *http.Response, reuse bool) ([]byte, *[]byte, error) {
	limit := c.cfg.MaxResponseBytes + 1
	// bytes.MinRead more: the room a Buffer wants to read the end.
	size := c.lastBody.Load() + bytes.MinRead
	if resp.ContentLength >= 0 {
		size = resp.ContentLength + bytes.MinRead
	}
	// An announced length is a claim: no more than maxPrealloc is
	// taken on it before the bytes arrive.
	size = min(size, limit, maxPrealloc)
	var (
		pooled *[]byte
		room   []byte
	)
	if reuse {
		pooled, _ = c.bodies.Get().(*[]byte)
		if pooled == nil {
			pooled = new([]byte)
		}
		room = (*pooled)[:0]
	}
	if int64(cap(room)) < size {
		room = make([]byte, 0, size)
	}
	buf := bytes.NewBuffer(room)
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, limit))
	c.lastBody.Store(int64(buf.Len()))
	body := buf.Bytes()
	if pooled != nil {
		// The Buffer may have outgrown room: what goes back to the
		// pool is the array the body is in.
		*pooled = body[:0]
		return body, pooled, err
	}
	if cap(body) > 2*len(body)+bytes.MinRead {
		// A body much smaller than the last: a collector may keep
		// it, so it does not keep the last one's room.
		body = bytes.Clone(body)
	}
	return body, nil, err
}

// recycle gives back to the pool a buffer readBody returned, once nothing
// refers to the body read into it.
func (c *Client) recycle(buf *[]byte) {
	if cap(*buf) > maxPooled {
		return
	}
	c.bodies.Put(buf)
}

// GetJSON sends a GET and decodes the JSON response into v. If v is a
// BodyCopier and decodes the body without error, the returned Response
// has no Body: its buffer is read into again by a later call.
func (c *Client) GetJSON(ctx context.Context, rawURL string, header http.Header, v any) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %s", c.redact(err.Error()))
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	return c.doJSON(req, v)
}

// PostJSON sends body as JSON with POST and decodes the JSON response
// into v (GraphQL APIs such as Shopify's). A BodyCopier v leaves the
// Response without a Body, as with GetJSON.
func (c *Client) PostJSON(ctx context.Context, rawURL string, header http.Header, body, v any) (*Response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("build request: %s", c.redact(err.Error()))
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	return c.doJSON(req, v)
}

// doJSON sends req and decodes the response into v. The body of a 2xx
// answer decoded into a BodyCopier is read into a buffer of the pool and
// goes back to it once decoded; a body that fails to decode stays in the
// Response, as any other.
func (c *Client) doJSON(req *http.Request, v any) (*Response, error) {
	_, reuse := v.(BodyCopier)
	resp, buf, err := c.do(req, reuse)
	if err != nil {
		return nil, err
	}
	if err := c.DecodeJSON(req, resp, v); err != nil {
		return resp, err
	}
	if buf != nil {
		resp.Body = nil
		c.recycle(buf)
	}
	return resp, nil
}

// ReportQuota records a provider's quota read from a response body rather
// than headers (Shopify's GraphQL cost, YouTube's daily units): it sets
// influencer_api_quota_remaining and, when nothing is left, holds further
// calls until reset.
func (c *Client) ReportQuota(remaining float64, reset time.Time) {
	c.applyQuota(remaining, reset)
}

// ReportTokenExpiry records when the collector's token expires, where the
// provider tells it (Instagram's debug_token, TikTok's expires_in), so an
// alert can warn before it does.
func (c *Client) ReportTokenExpiry(t time.Time) {
	c.metrics.TokenExpiry.WithLabelValues(c.collector).Set(float64(t.Unix()))
}

// PauseUntil holds every further call of this client until t: for
// providers whose throttling the collector computes itself, to slow down
// before being throttled. A pause longer than max_retry_wait fails calls
// at once as rate limited.
func (c *Client) PauseUntil(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.pauseUntil) {
		c.pauseUntil = t
	}
}

// A BodyDecoder decodes a JSON response body itself, in place of
// encoding/json: for a collector that reads a small part of large pages.
type BodyDecoder interface {
	DecodeBody(body []byte) error
}

// A BodyCopier is a BodyDecoder whose DecodeBody keeps no reference into
// body once it returns: every string or slice it keeps is a copy. GetJSON
// and PostJSON then read the bodies they decode into it into buffers the
// client reuses, instead of a new buffer a page (garbage that starts
// collections during a large refresh, and slows the scrapes served
// meanwhile), and the Response they return has no Body unless DecodeBody
// failed.
type BodyCopier interface {
	BodyDecoder
	// CopiesBody only marks the type; it is not called.
	CopiesBody()
}

// DecodeJSON decodes a response body into v (with v's DecodeBody if v is
// a BodyDecoder), turning a syntax error into an ErrBadResponse APIError.
// A refresh's checkpoint: it first waits for the scrapes being served
// (see scrapes).
func (c *Client) DecodeJSON(req *http.Request, resp *Response, v any) error {
	scrapes.wait()
	var err error
	if d, ok := v.(BodyDecoder); ok {
		err = d.DecodeBody(resp.Body)
	} else {
		err = json.Unmarshal(resp.Body, v)
	}
	if err != nil {
		return c.apiError(req, resp.StatusCode, ErrBadResponse, "decode JSON: "+c.redact(err.Error()))
	}
	return nil
}

func (c *Client) userAgent() string {
	if c.cfg.UserAgent != "" {
		return c.cfg.UserAgent
	}
	return "influencer_exporter"
}

func (c *Client) apiError(req *http.Request, status int, kind error, msg string) *APIError {
	return &APIError{
		Collector:  c.collector,
		Method:     req.Method,
		URL:        c.redact(redactURL(req.URL)),
		StatusCode: status,
		Message:    msg,
		kind:       kind,
	}
}

// errorMessage is the message of an error answer: the ErrorMessage hook's
// text, or the status text. For 401 and 403 it is only the provider's
// error code and a fixed text (see authErrorMessage): the provider's own
// text there may repeat the credential.
func (c *Client) errorMessage(status int, body []byte) string {
	var m string
	if c.hooks.ErrorMessage != nil {
		m = c.hooks.ErrorMessage(status, body)
	}
	if isAuthStatus(status) {
		return c.redact(authErrorMessage(status, m, body))
	}
	if m != "" {
		return c.redact(truncate(m, 200))
	}
	return strings.ToLower(http.StatusText(status))
}

// Redact removes every token the client knows of (see SetToken) from text
// the client did not produce itself, such as an error in an HTTP 200 body.
func (c *Client) Redact(s string) string { return c.redact(s) }

// redact removes the collector's tokens from s, wherever a provider or the
// transport echoed them, whole or masked (see redactSecrets).
func (c *Client) redact(s string) string {
	c.mu.Lock()
	secrets := c.secrets
	c.mu.Unlock()
	return redactSecrets(s, secrets)
}

func statusKind(code int) error {
	switch {
	case code == http.StatusTooManyRequests:
		return ErrRateLimited
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return ErrUnauthorized
	case code == http.StatusNotFound || code == http.StatusGone:
		return ErrNotFound
	case code >= 500:
		return ErrServer
	}
	return ErrBadResponse
}

func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		var spent errQuotaSpent
		if errors.As(err, &spent) {
			return false, err
		}
		return true, nil // connection refused, reset, DNS: worth another try
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		// A wait longer than we would back off anyway is the provider
		// telling us to stop for now: give up and let the next refresh
		// try, instead of holding a refresh slot for minutes.
		if ra := retryAfter(resp.Header, c.now()); ra > time.Duration(c.cfg.MaxRetryWait) {
			return false, nil
		}
		return true, nil
	}
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented {
		return true, nil
	}
	return false, nil
}

func (c *Client) backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if ra := retryAfter(resp.Header, c.now()); ra > 0 {
			return min(ra, hi)
		}
	}
	// Exponential with full jitter in the upper half, so parallel clients
	// spread out.
	d := lo << min(attempt, 16)
	if d <= 0 || d > hi {
		d = hi
	}
	return d/2 + rand.N(d/2+1)
}

// retryAfter reads Retry-After as seconds, an HTTP date, or a Unix time.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		// The standard says seconds, but some APIs (Dub, through Upstash)
		// send an absolute Unix time in milliseconds.
		var at time.Time
		switch {
		case s > 1e11:
			at = time.UnixMilli(int64(s))
		case s > 1e9:
			at = time.Unix(int64(s), 0)
		default:
			return time.Duration(s * float64(time.Second))
		}
		return max(at.Sub(now), 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// DefaultQuota reads X-RateLimit-Remaining and X-RateLimit-Reset, the
// headers most REST APIs (Dub among them) send. Reset is taken as Unix
// milliseconds or seconds when it looks like one, else as seconds from now.
func DefaultQuota(h http.Header) (float64, time.Time, bool) {
	rem := h.Get("X-RateLimit-Remaining")
	if rem == "" {
		return 0, time.Time{}, false
	}
	r, err := strconv.ParseFloat(rem, 64)
	if err != nil {
		return 0, time.Time{}, false
	}
	var reset time.Time
	if v, err := strconv.ParseFloat(h.Get("X-RateLimit-Reset"), 64); err == nil && v > 0 {
		switch {
		case v > 1e11: // Unix milliseconds (Dub)
			reset = time.UnixMilli(int64(v))
		case v > 1e9: // Unix seconds
			reset = time.Unix(int64(v), 0)
		default: // seconds from now
			reset = time.Now().Add(time.Duration(v * float64(time.Second)))
		}
	}
	return r, reset, true
}

func (c *Client) observeQuota(h http.Header) {
	q := c.hooks.Quota
	if q == nil {
		q = DefaultQuota
	}
	remaining, reset, ok := q(h)
	if !ok {
		return
	}
	c.applyQuota(remaining, reset)
}

func (c *Client) applyQuota(remaining float64, reset time.Time) {
	c.metrics.Quota.WithLabelValues(c.collector).Set(remaining)
	if remaining <= 0 && reset.After(c.now()) {
		// Out of quota: every further call would be a 429. Hold the
		// next ones until the window resets.
		c.PauseUntil(reset)
		c.logger.Debug("provider quota exhausted, pausing", "until", reset)
	}
}

// errQuotaSpent is returned by the transport, without sending anything,
// while the provider's quota is spent for longer than a retry would wait.
type errQuotaSpent struct{ wait time.Duration }

func (e errQuotaSpent) Error() string {
	return fmt.Sprintf("provider quota spent, not calling until its window resets in %s", e.wait.Round(time.Second))
}

// wait blocks for the rate limiter and any short quota pause. A long pause
// fails at once: holding a refresh slot for a minute helps nobody, and the
// next refresh finds the window reset.
func (c *Client) wait(ctx context.Context) error {
	c.mu.Lock()
	until := c.pauseUntil
	c.mu.Unlock()
	if d := until.Sub(c.now()); d > time.Duration(c.cfg.MaxRetryWait) {
		return errQuotaSpent{wait: d}
	} else if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	if err := c.limiter.Wait(ctx); err != nil {
		if ctx.Err() == nil {
			// The limiter refuses at once a wait that would pass the
			// refresh's deadline: time is up before this call could go.
			// Waiting for the deadline makes the caller see its context
			// end, so the object is skipped and read first next refresh,
			// instead of the call failing and being retried.
			<-ctx.Done()
		}
		return ctx.Err()
	}
	return nil
}

// instrumentedTransport counts every attempt and applies the rate limit to
// each, retries included.
type instrumentedTransport struct {
	c    *Client
	next http.RoundTripper
}

func (t *instrumentedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.c.wait(req.Context()); err != nil {
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		t.c.metrics.Requests.WithLabelValues(t.c.collector, "error").Inc()
		return nil, err
	}
	t.c.metrics.Requests.WithLabelValues(t.c.collector, strconv.Itoa(resp.StatusCode)).Inc()
	t.c.observeQuota(resp.Header)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		// The provider asks to wait: every call of this client waits,
		// not only this one's retry, so that the calls a refresh has
		// under way at once (Parallel) do not each run into the limit
		// again. A longer wait than a retry takes fails this call
		// instead (checkRetry) and pauses nothing.
		if ra := retryAfter(resp.Header, t.c.now()); ra > 0 && ra <= time.Duration(t.c.cfg.MaxRetryWait) {
			t.c.PauseUntil(t.c.now().Add(ra))
		}
	}
	return resp, nil
}

// redactURL keeps scheme, host and path: query strings carry API keys at
// some providers, and user info carries passwords.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return r.String()
}

// RedactURL is redactURL for collectors that log or report URLs.
func RedactURL(u *url.URL) string { return redactURL(u) }

func rootCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err // drop Op and the unredacted URL
	}
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

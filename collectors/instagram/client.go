package instagram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// DefaultBaseURL is the Graph API root with the version the collector is
// written against. v26.0 is the newest version the Graph API changelog
// lists (released 2026-07-29); views replaced impressions and plays in
// v22.0. Set base_url to pin another version.
const DefaultBaseURL = "https://graph.facebook.com/v26.0"

// timeLayout is how Graph writes timestamps: ISO 8601 with a +0000 offset.
const timeLayout = "2006-01-02T15:04:05-0700"

// media is the part of an IG Media object the collector reads. Graph
// leaves like_count and comments_count out where it has no count (stories;
// likes the owner hid, when read through another node), hence pointers.
type media struct {
	ID            string `json:"id"`
	Caption       string `json:"caption"`
	MediaType     string `json:"media_type"`
	Product       string `json:"media_product_type"`
	Timestamp     string `json:"timestamp"`
	LikeCount     *int64 `json:"like_count"`
	CommentsCount *int64 `json:"comments_count"`
}

// mediaFields are the fields read of every post.
const mediaFields = "id,caption,media_type,media_product_type,timestamp,like_count,comments_count"

func (m media) published() (time.Time, error) {
	t, err := time.Parse(timeLayout, m.Timestamp)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: media %q has timestamp %q", exporter.ErrBadResponse, m.ID, m.Timestamp)
	}
	return t, nil
}

// mediaPage is one page of GET /{ig-user-id}/media.
type mediaPage struct {
	Data   []media `json:"data"`
	Paging struct {
		Cursors struct {
			After string `json:"after"`
		} `json:"cursors"`
		Next string `json:"next"`
	} `json:"paging"`
}

// account is the part of an IG User the collector reads.
type account struct {
	ID             string `json:"id"`
	FollowersCount *int64 `json:"followers_count"`
}

// insightsReply is GET /{ig-media-id}/insights. Lifetime metrics carry
// their value in values[0]; some clients also see total_value, read as a
// fallback.
type insightsReply struct {
	Data []struct {
		Name   string `json:"name"`
		Values []struct {
			Value *float64 `json:"value"`
		} `json:"values"`
		TotalValue *struct {
			Value *float64 `json:"value"`
		} `json:"total_value"`
	} `json:"data"`
}

// values maps metric names to values; a metric without a value is left
// out.
func (r insightsReply) values() map[string]float64 {
	out := map[string]float64{}
	for _, d := range r.Data {
		switch {
		case len(d.Values) > 0 && d.Values[0].Value != nil:
			out[d.Name] = *d.Values[0].Value
		case d.TotalValue != nil && d.TotalValue.Value != nil:
			out[d.Name] = *d.TotalValue.Value
		}
	}
	return out
}

// tokenInfo is GET /debug_token.
type tokenInfo struct {
	Data struct {
		AppID       string `json:"app_id"`
		Application string `json:"application"`
		Type        string `json:"type"`
		UserID      string `json:"user_id"`
		// Scopes are the permissions the user granted the app in this
		// token.
		Scopes    []string `json:"scopes"`
		IsValid   bool     `json:"is_valid"`
		ExpiresAt int64    `json:"expires_at"`
		// DataAccessExpiresAt is when the app loses access to the user's
		// data unless the user logs in again: the token is useless from
		// then on even if it has not expired.
		DataAccessExpiresAt int64 `json:"data_access_expires_at"`
		Error               *struct {
			Code    int    `json:"code"`
			Subcode int    `json:"subcode"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"data"`
}

// expiry returns the earlier of the two deadlines that are set; zero if
// neither is (a token that never expires reports 0).
func (t tokenInfo) expiry() time.Time {
	var out time.Time
	for _, s := range []int64{t.Data.ExpiresAt, t.Data.DataAccessExpiresAt} {
		if s > 0 && (out.IsZero() || time.Unix(s, 0).Before(out)) {
			out = time.Unix(s, 0)
		}
	}
	return out
}

// graphErrorBody is Graph's error envelope.
type graphErrorBody struct {
	Error *struct {
		Message     string `json:"message"`
		Type        string `json:"type"`
		Code        int    `json:"code"`
		Subcode     int    `json:"error_subcode"`
		IsTransient bool   `json:"is_transient"`
		UserMessage string `json:"error_user_msg"`
	} `json:"error"`
}

// errorText renders a Graph error with its code first, as errors and the
// landing page show it.
func errorText(code, subcode int, transient bool, msg string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Graph error %d", code)
	if subcode != 0 {
		fmt.Fprintf(&b, " (subcode %d)", subcode)
	}
	if transient {
		b.WriteString(" [transient]")
	}
	b.WriteString(": ")
	b.WriteString(msg)
	return b.String()
}

// errorMessage is the client's ErrorMessage hook.
func errorMessage(_ int, body []byte) string {
	var e graphErrorBody
	if json.Unmarshal(body, &e) != nil || e.Error == nil || e.Error.Code == 0 {
		return ""
	}
	msg := e.Error.Message
	if e.Error.UserMessage != "" && !strings.Contains(msg, e.Error.UserMessage) {
		msg += " (" + e.Error.UserMessage + ")"
	}
	return errorText(e.Error.Code, e.Error.Subcode, e.Error.IsTransient, msg)
}

// graphError is a Graph API error, matched by its code with errors.Is
// against the exporter's sentinels: Graph answers nearly every error with
// HTTP 400, so the status says little.
type graphError struct {
	Code, Subcode int
	kind          error
	text          string
}

func (e *graphError) Error() string { return e.text }

// Is matches the sentinel of the error's code.
func (e *graphError) Is(target error) bool { return target == e.kind }

// Graph error codes the collector tells apart
// (developers.facebook.com/docs/graph-api/guides/error-handling).
const (
	codeUnknown       = 1
	codeService       = 2
	codeAppThrottle   = 4
	codePermission    = 10
	codeUserThrottle  = 17
	codeBadParameter  = 100
	codeTokenRequired = 104
	codeToken         = 190
	codePageThrottle  = 32
	codeCustomLimit   = 613
	codeNoSuchAlias   = 803
	codeInstagramBUC  = 80002

	subcodeNoSuchObject = 33
	subcodeExpired      = 463
	subcodePassword     = 460
)

func kindOf(code, subcode int, transient bool) error {
	switch {
	case code == codeToken || code == codeTokenRequired || code == codePermission || (code >= 200 && code <= 299):
		return exporter.ErrUnauthorized
	case code == codeAppThrottle || code == codeUserThrottle || code == codePageThrottle ||
		code == codeCustomLimit || code == codeInstagramBUC:
		return exporter.ErrRateLimited
	case code == codeNoSuchAlias || (code == codeBadParameter && subcode == subcodeNoSuchObject):
		return exporter.ErrNotFound
	case code == codeUnknown || code == codeService || transient:
		return exporter.ErrServer
	}
	return exporter.ErrBadResponse
}

// graphDetail is what classifyBody keeps of a Graph error body.
type graphDetail struct {
	Code, Subcode int
	Transient     bool
}

// classifyBody is the client's Classify hook: Graph answers nearly every
// error with HTTP 400, so the kind comes from the error code.
func classifyBody(_ int, body []byte) (error, any) {
	var e graphErrorBody
	if json.Unmarshal(body, &e) != nil || e.Error == nil || e.Error.Code == 0 {
		return nil, nil
	}
	return kindOf(e.Error.Code, e.Error.Subcode, e.Error.IsTransient), graphDetail{e.Error.Code, e.Error.Subcode, e.Error.IsTransient}
}

// classify turns a client error carrying a Graph error into a graphError
// with the sentinel of its code. Others are returned as they are.
func classify(err error) error {
	var ae *exporter.APIError
	if !errors.As(err, &ae) {
		return err
	}
	d, ok := ae.Detail.(graphDetail)
	if !ok {
		return err
	}
	return &graphError{Code: d.Code, Subcode: d.Subcode, kind: kindOf(d.Code, d.Subcode, d.Transient), text: ae.Error()}
}

// api is the Graph API on the shared client.
type api struct {
	*exporter.API
	// redact removes the token from provider text the shared client does
	// not see: the bodies of batch operations.
	redact func(string) string
}

// authorize is the client's Authorize hook: Graph takes the token as the
// access_token parameter (debug_token also as the token it inspects). The
// client strips query strings from everything it reports.
func authorize(req *http.Request, token string) {
	q := req.URL.Query()
	q.Set("access_token", token)
	if strings.HasSuffix(req.URL.Path, "/debug_token") {
		q.Set("input_token", token)
	}
	req.URL.RawQuery = q.Encode()
}

func (a *api) get(ctx context.Context, path string, q url.Values, v any) error {
	_, err := a.Get(ctx, path, q, v)
	return classify(err)
}

// listMedia returns one page of an account's media, newest first.
func (a *api) listMedia(ctx context.Context, user string, limit int, after string) (*mediaPage, error) {
	var p mediaPage
	if err := a.get(ctx, "/"+mediaRel(user, limit, after), nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// mediaRel is the relative URL of a page of an account's media, for a
// call of its own or a batch operation.
func mediaRel(user string, limit int, after string) string {
	q := url.Values{"fields": {mediaFields}, "limit": {strconv.Itoa(limit)}}
	if after != "" {
		q.Set("after", after)
	}
	return url.PathEscape(user) + "/media?" + q.Encode()
}

// debugToken inspects the collector's own token.
func (a *api) debugToken(ctx context.Context) (*tokenInfo, error) {
	var t tokenInfo
	if err := a.get(ctx, "/debug_token", nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// batchOp is one operation of a batch request.
type batchOp struct {
	Method      string `json:"method"`
	RelativeURL string `json:"relative_url"`
}

// batchResult is one operation's answer. Graph sends null for an
// operation that did not complete in time.
type batchResult struct {
	Code    int `json:"code"`
	Headers []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"headers"`
	Body string `json:"body"`
}

// header returns the operation's headers.
func (r *batchResult) header() http.Header {
	h := http.Header{}
	for _, kv := range r.Headers {
		h.Add(kv.Name, kv.Value)
	}
	return h
}

// batch sends up to 50 GETs in one POST / and returns their answers in
// order. Each operation still counts as one call against Graph's limits.
func (a *api) batch(ctx context.Context, rels []string) ([]*batchResult, error) {
	ops := make([]batchOp, len(rels))
	for i, r := range rels {
		ops[i] = batchOp{Method: http.MethodGet, RelativeURL: r}
	}
	b, err := json.Marshal(ops)
	if err != nil {
		return nil, err
	}
	form := url.Values{"batch": {string(b)}, "include_headers": {"true"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.Base+"/", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("build batch request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := a.Client.Do(req)
	if err != nil {
		return nil, classify(err)
	}
	var out []*batchResult
	if err := a.Client.DecodeJSON(req, resp, &out); err != nil {
		return nil, err
	}
	if len(out) != len(rels) {
		return nil, fmt.Errorf("%w: batch of %d operations answered with %d results", exporter.ErrBadResponse, len(rels), len(out))
	}
	return out, nil
}

// opError is the error of a batch operation that did not answer 200.
func (a *api) opError(rel string, r *batchResult) error {
	path, _, _ := strings.Cut(rel, "?")
	where := fmt.Sprintf("batch GET /%s: HTTP %d", path, r.Code)
	var e graphErrorBody
	if json.Unmarshal([]byte(r.Body), &e) != nil || e.Error == nil || e.Error.Code == 0 {
		kind := exporter.ErrBadResponse
		if r.Code >= 500 {
			kind = exporter.ErrServer
		}
		return fmt.Errorf("%s: %w", where, kind)
	}
	msg := e.Error.Message
	if e.Error.UserMessage != "" && !strings.Contains(msg, e.Error.UserMessage) {
		msg += " (" + e.Error.UserMessage + ")"
	}
	text := a.redact(where + ": " + errorText(e.Error.Code, e.Error.Subcode, e.Error.IsTransient, msg))
	return &graphError{
		Code: e.Error.Code, Subcode: e.Error.Subcode,
		kind: kindOf(e.Error.Code, e.Error.Subcode, e.Error.IsTransient),
		text: text,
	}
}

// usage is what X-App-Usage and X-Business-Use-Case-Usage say: the highest
// percentage of any budget used, and how long until a throttled budget
// lets calls through again.
type usage struct {
	percent float64
	regain  time.Duration
}

// readUsage reads the usage headers; ok is false if there are none. Both
// carry percentages (call_count, total_cputime, total_time); Graph
// throttles at 100.
func readUsage(h http.Header) (u usage, ok bool) {
	type counts struct {
		CallCount    float64 `json:"call_count"`
		TotalCPUTime float64 `json:"total_cputime"`
		TotalTime    float64 `json:"total_time"`
		// EstimatedTimeToRegainAccess is in minutes.
		EstimatedTimeToRegainAccess float64 `json:"estimated_time_to_regain_access"`
	}
	take := func(c counts) {
		ok = true
		u.percent = max(u.percent, c.CallCount, c.TotalCPUTime, c.TotalTime)
		u.regain = max(u.regain, time.Duration(c.EstimatedTimeToRegainAccess*float64(time.Minute)))
	}
	if v := h.Get("X-App-Usage"); v != "" {
		var c counts
		if json.Unmarshal([]byte(v), &c) == nil {
			take(c)
		}
	}
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" {
		var byID map[string][]counts
		if json.Unmarshal([]byte(v), &byID) == nil {
			for _, cs := range byID {
				for _, c := range cs {
					take(c)
				}
			}
		}
	}
	return u, ok
}

// decode decodes an operation's body, a JSON string in the batch answer.
func decode(body string, v any) error {
	if err := json.Unmarshal([]byte(body), v); err != nil {
		return fmt.Errorf("%w: decode JSON: %v", exporter.ErrBadResponse, err)
	}
	return nil
}

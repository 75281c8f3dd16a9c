package tiktok

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// DefaultBaseURL is the root of TikTok's API v2 and its OAuth endpoint.
const DefaultBaseURL = "https://open.tiktokapis.com"

// API limits, from TikTok's Display API reference.
const (
	// maxVideoIDs is how many ids one POST /v2/video/query/ takes.
	maxVideoIDs = 20
	// maxCount is the largest page of POST /v2/video/list/.
	maxCount = 20
)

// The fields the collector asks for. TikTok returns only the fields
// named in the query parameter, on POST as on GET. follower_count needs
// the user.info.stats scope, the video endpoints video.list.
const (
	videoFields = "id,create_time,view_count,like_count,comment_count,share_count,title,video_description"
	userFields  = "open_id,follower_count"
)

// TikTok's error codes the collector tells apart (the envelope's
// error.code).
const (
	codeOK                 = "ok"
	codeAccessTokenInvalid = "access_token_invalid"
)

// video is the part of TikTok's video object the collector reads. Counts
// are pointers: a field TikTok leaves out is a series the exporter leaves
// out, not a zero.
type video struct {
	ID               string `json:"id"`
	CreateTime       int64  `json:"create_time"` // Unix seconds
	Title            string `json:"title"`
	VideoDescription string `json:"video_description"`
	ViewCount        *int64 `json:"view_count"`
	LikeCount        *int64 `json:"like_count"`
	CommentCount     *int64 `json:"comment_count"`
	ShareCount       *int64 `json:"share_count"`
}

// envelope is every API v2 answer: data, and an error object whose code
// is "ok" on success.
type envelope[T any] struct {
	Data  T        `json:"data"`
	Error apiError `json:"error"`
}

// apiError is the envelope's error object.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	LogID   string `json:"log_id"`
}

func (e apiError) String() string {
	s := e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.LogID != "" {
		// TikTok's support asks for the log id.
		s += " (log_id " + e.LogID + ")"
	}
	return s
}

// codeKind maps an error code to the exporter's sentinel errors.
func codeKind(code string) error {
	switch code {
	case codeAccessTokenInvalid, "scope_not_authorized", "scope_permission_missed":
		return exporter.ErrUnauthorized
	case "rate_limit_exceeded":
		return exporter.ErrRateLimited
	case "internal_error":
		return exporter.ErrServer
	}
	return exporter.ErrBadResponse
}

// envelopeError is a non-"ok" error code in an answer the HTTP status
// called a success.
type envelopeError struct {
	method, url string
	err         apiError
}

func (e *envelopeError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.method, e.url, e.err)
}

func (e *envelopeError) Is(target error) bool { return target == codeKind(e.err.Code) }

// userInfo is data of GET /v2/user/info/.
type userInfo struct {
	User struct {
		OpenID        string `json:"open_id"`
		DisplayName   string `json:"display_name"`
		FollowerCount *int64 `json:"follower_count"`
	} `json:"user"`
}

// videoPage is data of POST /v2/video/list/ and /v2/video/query/ (whose
// answer has no cursor).
type videoPage struct {
	Videos  []video `json:"videos"`
	Cursor  int64   `json:"cursor"`
	HasMore bool    `json:"has_more"`
}

// tokenAnswer is POST /v2/oauth/token/: a new access token, and the
// refresh token to use next (it may differ from the one sent). OAuth
// errors come as error and error_description instead.
type tokenAnswer struct {
	AccessToken      string `json:"access_token"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshToken     string `json:"refresh_token"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
	OpenID           string `json:"open_id"`
	// Scope lists the scopes the user granted, comma-separated.
	Scope            string `json:"scope"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	LogID            string `json:"log_id"`
}

func (t tokenAnswer) errorText() string {
	s := t.Error
	if t.ErrorDescription != "" {
		s += ": " + t.ErrorDescription
	}
	if t.LogID != "" {
		s += " (log_id " + t.LogID + ")"
	}
	return s
}

// oauthKind maps an OAuth error to the exporter's sentinel errors: a
// refresh token or client credential TikTok refuses needs a person.
func oauthKind(code string) error {
	switch code {
	case "invalid_grant", "invalid_client", "unauthorized_client", "access_denied":
		return exporter.ErrUnauthorized
	}
	return exporter.ErrBadResponse
}

// errorMessage extracts the provider's text from an error answer: the
// envelope's error, or an OAuth error. redact removes the tokens the
// client does not know of (those a refresh issued).
func errorMessage(redact func(string) string) func(int, []byte) string {
	return func(_ int, body []byte) string {
		var e struct {
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(body, &e) != nil || len(e.Error) == 0 {
			return ""
		}
		var env apiError
		if json.Unmarshal(e.Error, &env) == nil && env.Code != "" {
			return redact(env.String())
		}
		var oauth tokenAnswer
		if json.Unmarshal(body, &oauth) == nil && oauth.Error != "" {
			return redact(oauth.errorText())
		}
		return ""
	}
}

// api is TikTok's endpoints on the shared client. Every call carries the
// access token the token source holds now, set here rather than by the
// client's Authorize hook, because a refresh replaces it.
type api struct {
	*exporter.API
	token func() string
	// redact removes the tokens from provider text the shared client
	// does not see (errors in HTTP 200 answers).
	redact func(string) string
}

// call sends one API request and decodes the envelope's data into v. A
// non-"ok" error code fails the call even on HTTP 200.
func call[T any](ctx context.Context, a *api, method, path, fields string, body any) (T, error) {
	var zero T
	u := a.Base + path + "?" + url.Values{"fields": {fields}}.Encode()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return zero, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return zero, fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	exporter.BearerAuth(req, a.token())
	resp, err := a.Client.Do(req)
	if err != nil {
		return zero, classify(err, codeKind)
	}
	var env envelope[T]
	if err := a.Client.DecodeJSON(req, resp, &env); err != nil {
		return zero, err
	}
	if env.Error.Code != codeOK {
		if env.Error.Code == "" {
			env.Error.Code = "no error.code in the answer"
		}
		env.Error.Message = a.redact(env.Error.Message)
		return zero, &envelopeError{method: method, url: exporter.RedactURL(req.URL), err: env.Error}
	}
	return env.Data, nil
}

// user returns the token's user: open_id and follower count.
func (a *api) user(ctx context.Context) (userInfo, error) {
	return call[userInfo](ctx, a, http.MethodGet, "/v2/user/info/", userFields, nil)
}

// query returns those of ids (at most maxVideoIDs) that are the token
// user's videos; TikTok leaves the others out without an error.
func (a *api) query(ctx context.Context, ids []string) ([]video, error) {
	body := map[string]any{"filters": map[string]any{"video_ids": ids}}
	p, err := call[videoPage](ctx, a, http.MethodPost, "/v2/video/query/", videoFields, body)
	return p.Videos, err
}

// list returns one page of the user's videos, newest first, starting
// below cursor (nil: the newest).
func (a *api) list(ctx context.Context, cursor *int64) (videoPage, error) {
	body := map[string]any{"max_count": maxCount}
	if cursor != nil {
		body["cursor"] = *cursor
	}
	return call[videoPage](ctx, a, http.MethodPost, "/v2/video/list/", videoFields, body)
}

// refresh trades a refresh token for a new access token.
//
// It is hand-written rather than an oauth2.Config TokenSource
// (golang.org/x/oauth2), which does not fit TikTok's endpoint cleanly:
//   - oauth2 sends the client as client_id (form) or in Basic auth; TikTok
//     wants client_key in the form body, and a refresh has no way to add
//     or rename form fields (EndpointParams exist only in
//     clientcredentials), short of a transport rewriting the body;
//   - TikTok may answer an OAuth error with an error field whatever the
//     HTTP status (unconfirmed, see below), and its log_id belongs in the
//     message; oauth2 turns such answers into its own error text;
//   - refresh_expires_in, which influencer_token_expiry_timestamp_seconds
//     exports, and the rotated refresh token would come through
//     Token.Extra, and the expiry on the wall clock, where the collector's
//     renewal runs on its own clock (tests move it).
//
// So the flow stays here, on the shared client, and GA4 (a standard
// endpoint) uses oauth2.
func (a *api) refresh(ctx context.Context, clientKey, clientSecret, refreshToken string) (tokenAnswer, error) {
	form := url.Values{
		"client_key":    {clientKey},
		"client_secret": {clientSecret},
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.Base+"/v2/oauth/token/", strings.NewReader(form.Encode()))
	if err != nil {
		return tokenAnswer{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := a.Client.Do(req)
	if err != nil {
		return tokenAnswer{}, classify(err, oauthKind)
	}
	var t tokenAnswer
	if err := a.Client.DecodeJSON(req, resp, &t); err != nil {
		return tokenAnswer{}, err
	}
	if t.Error != "" {
		// Not documented whether TikTok sends OAuth errors with HTTP 200;
		// an error field fails the refresh whatever the status.
		return tokenAnswer{}, fmt.Errorf("POST %s: %s: %w", exporter.RedactURL(req.URL), a.redact(t.errorText()), oauthKind(t.Error))
	}
	if t.AccessToken == "" || t.ExpiresIn <= 0 {
		return tokenAnswer{}, fmt.Errorf("POST %s: %w: no access_token or expires_in in the answer", exporter.RedactURL(req.URL), exporter.ErrBadResponse)
	}
	return t, nil
}

// classified gives an error the sentinel its provider code means, where
// the HTTP status alone says less: scope_permission_missed comes with 400,
// and OAuth errors (invalid_grant) with a status TikTok does not document.
type classified struct {
	error
	kind error
}

func (e classified) Is(target error) bool { return target == e.kind }
func (e classified) Unwrap() error        { return e.error }

// classify reads the provider code errorMessage put first in an APIError's
// message and, if kind maps it to a sentinel other than ErrBadResponse,
// makes err match that sentinel too.
func classify(err error, kind func(string) error) error {
	var ae *exporter.APIError
	if !errors.As(err, &ae) {
		return err
	}
	code, _, _ := strings.Cut(ae.Message, ":")
	if k := kind(code); k != exporter.ErrBadResponse && !errors.Is(err, k) {
		return classified{err, k}
	}
	return err
}

// isTokenInvalid reports whether err is TikTok refusing the access token
// itself (not a scope): the case a refresh fixes.
func isTokenInvalid(err error) bool {
	var ee *envelopeError
	if errors.As(err, &ee) {
		return ee.err.Code == codeAccessTokenInvalid
	}
	var ae *exporter.APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized && strings.HasPrefix(ae.Message, codeAccessTokenInvalid)
}

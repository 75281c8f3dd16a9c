// Package tiktokfake is a local stand-in for TikTok's Display API v2 and
// its OAuth token endpoint, for tests and the sandbox. It speaks TikTok's
// wire format: Bearer user access tokens (a wrong, revoked or expired one
// gets HTTP 401 access_token_invalid), the {"data":…,"error":{"code":"ok",
// "message":"","log_id":…}} envelope on every answer, the fields query
// parameter on GET and POST alike, GET /v2/user/info/ with the user
// wrapped in data.user, POST /v2/video/query/ with at most 20 video ids
// (the user's own published videos only; others are silently left out),
// POST /v2/video/list/ newest first with max_count ≤ 20 and a millisecond
// time cursor, and POST /v2/oauth/token/ with grant_type=refresh_token.
// Each token carries scopes (all of them unless SetScopes says otherwise):
// an endpoint whose scope the token lacks answers 401
// scope_not_authorized, and a field whose scope it lacks 400
// scope_permission_missed.
//
// An access token serves one user, as at TikTok: the token given to New
// belongs to the first account added without a Token of its own. Counts
// follow each post's curves by the post's age on the fake's clock; a post
// published in the future is invisible until the clock reaches it.
package tiktokfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// TikTok's documented limits and token lifetimes.
const (
	// MaxVideoIDs is how many ids one video query takes.
	MaxVideoIDs = 20
	// MaxCount is the largest page of the video list.
	MaxCount = 20
	// DefaultMaxCount is the page size of a list request without
	// max_count (unconfirmed; TikTok documents 20 as the maximum only).
	DefaultMaxCount = 10
	// AccessTokenTTL is how long an access token issued by a refresh
	// works.
	AccessTokenTTL = 24 * time.Hour
	// RefreshTokenTTL is how long a refresh token works from its first
	// issuance; refreshing does not extend it.
	RefreshTokenTTL = 365 * 24 * time.Hour
)

// InvalidTokenMessage is the message of TikTok's access_token_invalid
// error.
const InvalidTokenMessage = "The access token is invalid or not found in the request."

// Account is a TikTok user the fake knows.
type Account struct {
	// ID is the user's open_id.
	ID string
	// Username is the handle, without @.
	Username    string
	DisplayName string
	// Token is an access token of this user that never expires. Empty:
	// the token given to New, if no other account took it yet.
	Token string
	// Followers is the follower count when the fake started;
	// NewFollowers adds followers by the time since then.
	Followers    int64
	NewFollowers fakeapi.Curve
}

// Post is a video the fake serves.
type Post struct {
	// ID is the video id, a decimal number as a string.
	ID string
	// Account is the owner's open_id; empty: the account of New's token.
	Account string
	Title   string
	// Caption is the video_description.
	Caption   string
	Published time.Time
	// Counts by the post's age. TikTok reports no reach and no saves in
	// this API, so a Post has no curves for them.
	Views, Likes, Comments, Shares fakeapi.Curve
}

type grant struct {
	account string
	expires time.Time // zero: never
	scopes  []string  // nil: DefaultScopes
}

// Scopes a user may grant an app.
const (
	ScopeBasic   = "user.info.basic"
	ScopeProfile = "user.info.profile"
	ScopeStats   = "user.info.stats"
	ScopeVideo   = "video.list"
)

// DefaultScopes are the scopes of a token unless SetScopes says
// otherwise.
var DefaultScopes = []string{ScopeBasic, ScopeProfile, ScopeStats, ScopeVideo}

func (g grant) has(scope string) bool {
	scopes := g.scopes
	if scopes == nil {
		scopes = DefaultScopes
	}
	for _, s := range scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// userFieldScopes is the scope each user info field needs
// (developers.tiktok.com/doc/tiktok-api-v2-get-user-info).
var userFieldScopes = map[string]string{
	"open_id": ScopeBasic, "union_id": ScopeBasic, "avatar_url": ScopeBasic,
	"avatar_url_100": ScopeBasic, "avatar_large_url": ScopeBasic, "display_name": ScopeBasic,
	"bio_description": ScopeProfile, "profile_deep_link": ScopeProfile, "is_verified": ScopeProfile, "username": ScopeProfile,
	"follower_count": ScopeStats, "following_count": ScopeStats, "likes_count": ScopeStats, "video_count": ScopeStats,
}

// Messages of TikTok's scope errors (developers.tiktok.com/doc/
// tiktok-api-v2-error-handling).
const (
	ScopeNotAuthorizedMessage = "The user did not authorize the scope required for completing this request. Please ask the user to authorize and then retry."
	ScopeMissedMessage        = "Access token is invalid, some fields need additional scopes. Please refer to the error message for more details."
)

type injected struct {
	status        int
	code, message string
	n             int
}

// Server is the fake TikTok. Its zero value is not usable; call New.
type Server struct {
	// Faults switches the fake between healthy and failing; Faults.Hits
	// counts requests, the token endpoint's included.
	Faults fakeapi.Faults

	clock   fakeapi.Clock
	start   time.Time
	handler http.Handler

	mu           sync.Mutex
	defaultToken string
	accounts     map[string]*Account
	posts        map[string]*Post
	tokens       map[string]grant // access token -> user
	refresh      map[string]grant // refresh token -> user
	clientKey    string
	clientSecret string
	served       map[string]int
	inject       injected
	seq          int
}

// New returns a fake accepting token as the access token of the first
// account added without a Token of its own. Counts follow clock.
func New(token string, clock fakeapi.Clock) *Server {
	s := &Server{
		clock:        clock,
		start:        clock.Now(),
		defaultToken: token,
		accounts:     map[string]*Account{},
		posts:        map[string]*Post{},
		tokens:       map[string]grant{},
		refresh:      map[string]grant{},
		served:       map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/user/info/", s.authed(ScopeBasic, s.userInfo))
	mux.HandleFunc("POST /v2/video/query/", s.authed(ScopeVideo, func(w http.ResponseWriter, r *http.Request, g grant) { s.videoQuery(w, r, g.account) }))
	mux.HandleFunc("POST /v2/video/list/", s.authed(ScopeVideo, func(w http.ResponseWriter, r *http.Request, g grant) { s.videoList(w, r, g.account) }))
	mux.HandleFunc("POST /v2/oauth/token/", s.oauthToken)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		// Not documented: TikTok's answer to an unknown path.
		s.writeError(w, http.StatusNotFound, "not_found", "The requested resource does not exist.")
	})
	s.handler = s.Faults.Wrap(mux, errorWriter{s})
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// AddAccount adds a user, or replaces the one with the same ID.
func (s *Server) AddAccount(a Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := a
	s.accounts[a.ID] = &cp
	if a.Token != "" {
		s.tokens[a.Token] = grant{account: a.ID}
		return
	}
	if g, ok := s.tokens[s.defaultToken]; !ok || g.account == "" {
		s.tokens[s.defaultToken] = grant{account: a.ID}
	}
}

// AddPost adds a video, or replaces the one with the same ID.
func (s *Server) AddPost(p Post) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Account == "" {
		p.Account = s.tokens[s.defaultToken].account
	}
	cp := p
	s.posts[p.ID] = &cp
}

// DeletePost deletes a video, as its owner would: from then on queries
// leave it out without an error, as TikTok does, and listings skip it.
func (s *Server) DeletePost(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.posts, id)
}

// SetApp sets the client key and secret the token endpoint accepts.
func (s *Server) SetApp(clientKey, clientSecret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clientKey, s.clientSecret = clientKey, clientSecret
}

// AddRefreshToken makes refreshToken renew access tokens of the account
// for RefreshTokenTTL from now.
func (s *Server) AddRefreshToken(refreshToken, account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh[refreshToken] = grant{account: account, expires: s.clock.Now().Add(RefreshTokenTTL)}
}

// SetScopes sets the scopes an access token, or a refresh token and the
// access tokens it issues from then on, carries.
func (s *Server) SetScopes(token string, scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	scopes = append([]string{}, scopes...)
	if g, ok := s.tokens[token]; ok {
		g.scopes = scopes
		s.tokens[token] = g
	}
	if g, ok := s.refresh[token]; ok {
		g.scopes = scopes
		s.refresh[token] = g
	}
}

// Revoke makes an access token invalid, as if the user withdrew the
// app's access or it expired.
func (s *Server) Revoke(accessToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, accessToken)
}

// ExpireTokens makes every access token of the account expire now, as
// a day passing would.
func (s *Server) ExpireTokens(account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	for tok, g := range s.tokens {
		if g.account == account {
			g.expires = now
			s.tokens[tok] = g
		}
	}
}

// SetError makes the next n API requests (not the token endpoint) answer
// status with the envelope's error set to code and message: TikTok's
// documented errors (scope_not_authorized 401, invalid_params 400, …) or
// a non-"ok" code on HTTP 200.
func (s *Server) SetError(status int, code, message string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject = injected{status: status, code: code, message: message, n: n}
}

// Served returns how many answers (video queries and list pages) carried
// the video: how often a client polled it.
func (s *Server) Served(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served[id]
}

// logID returns a TikTok-style log id: a timestamp and a sequence number.
// Call with mu held.
func (s *Server) logID() string {
	s.seq++
	return fmt.Sprintf("%s%06X", s.clock.Now().UTC().Format("20060102150405"), s.seq)
}

type errorWriter struct{ s *Server }

func (e errorWriter) WriteError(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusTooManyRequests:
		e.s.writeError(w, status, "rate_limit_exceeded", "The API rate limit was exceeded. Please try again later.")
	default:
		e.s.writeError(w, status, "internal_error", "Something went wrong. Please try again later.")
	}
}

func (s *Server) writeError(w http.ResponseWriter, status int, code, message string) {
	s.mu.Lock()
	id := s.logID()
	s.mu.Unlock()
	fakeapi.WriteJSON(w, status, map[string]any{
		"data":  map[string]any{},
		"error": map[string]string{"code": code, "message": message, "log_id": id},
	})
}

func (s *Server) writeData(w http.ResponseWriter, data any) {
	s.mu.Lock()
	id := s.logID()
	s.mu.Unlock()
	fakeapi.WriteJSON(w, http.StatusOK, map[string]any{
		"data":  data,
		"error": map[string]string{"code": "ok", "message": "", "log_id": id},
	})
}

// authed checks the Bearer token and the endpoint's scope, and passes the
// user's open_id on.
func (s *Server) authed(scope string, next func(http.ResponseWriter, *http.Request, grant)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		inj := s.inject
		if inj.n != 0 {
			if s.inject.n > 0 {
				s.inject.n--
			}
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		g, known := s.tokens[tok]
		now := s.clock.Now()
		s.mu.Unlock()
		if inj.n != 0 {
			s.writeError(w, inj.status, inj.code, inj.message)
			return
		}
		if !ok || !known || (!g.expires.IsZero() && !now.Before(g.expires)) {
			s.writeError(w, http.StatusUnauthorized, "access_token_invalid", InvalidTokenMessage)
			return
		}
		if !g.has(scope) {
			s.writeError(w, http.StatusUnauthorized, "scope_not_authorized", ScopeNotAuthorizedMessage)
			return
		}
		next(w, r, g)
	}
}

// fields parses the fields query parameter; TikTok requires it and
// ignores names it does not know.
func fields(r *http.Request) (map[string]bool, bool) {
	raw := r.URL.Query().Get("fields")
	if strings.TrimSpace(raw) == "" {
		return nil, false
	}
	out := map[string]bool{}
	for _, f := range strings.Split(raw, ",") {
		out[strings.TrimSpace(f)] = true
	}
	return out, true
}

func (s *Server) userInfo(w http.ResponseWriter, r *http.Request, g grant) {
	want, ok := fields(r)
	if !ok {
		s.writeError(w, http.StatusBadRequest, "invalid_params", "fields is required")
		return
	}
	for f := range want {
		if scope := userFieldScopes[f]; scope != "" && !g.has(scope) {
			s.writeError(w, http.StatusBadRequest, "scope_permission_missed", ScopeMissedMessage)
			return
		}
	}
	user := g.account
	s.mu.Lock()
	now := s.clock.Now()
	a, found := s.accounts[user]
	var likes, videos int64
	for _, p := range s.posts {
		if p.Account == user && !p.Published.After(now) {
			likes += p.Likes.At(now.Sub(p.Published))
			videos++
		}
	}
	s.mu.Unlock()
	if !found {
		a = &Account{ID: user}
	}
	all := map[string]any{
		"open_id":           a.ID,
		"union_id":          "u-" + a.ID,
		"display_name":      a.DisplayName,
		"username":          a.Username,
		"avatar_url":        "https://p16-sign.tiktokcdn.example/avatar/" + a.ID + ".jpeg",
		"profile_deep_link": "https://vm.tiktok.com/" + a.Username,
		"is_verified":       false,
		"follower_count":    a.Followers + a.NewFollowers.At(now.Sub(s.start)),
		"following_count":   int64(0),
		"likes_count":       likes,
		"video_count":       videos,
	}
	user2 := map[string]any{}
	for k, v := range all {
		if want[k] {
			user2[k] = v
		}
	}
	s.writeData(w, map[string]any{"user": user2})
}

// videoJSON renders the requested fields of a post at now. Call with mu
// held.
func (s *Server) videoJSON(p *Post, want map[string]bool, now time.Time) map[string]any {
	age := now.Sub(p.Published)
	all := map[string]any{
		"id":                p.ID,
		"create_time":       p.Published.Unix(),
		"title":             p.Title,
		"video_description": p.Caption,
		"duration":          15,
		"height":            1920,
		"width":             1080,
		"share_url":         "https://www.tiktok.com/@" + p.Account + "/video/" + p.ID,
		"embed_link":        "https://www.tiktok.com/player/v1/" + p.ID,
		"cover_image_url":   "https://p16-sign.tiktokcdn.example/cover/" + p.ID + ".jpeg",
		"view_count":        p.Views.At(age),
		"like_count":        p.Likes.At(age),
		"comment_count":     p.Comments.At(age),
		"share_count":       p.Shares.At(age),
	}
	out := map[string]any{}
	for k, v := range all {
		if want[k] {
			out[k] = v
		}
	}
	s.served[p.ID]++
	return out
}

// decodeBody decodes a JSON request body; TikTok wants the JSON content
// type on its POST endpoints.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.writeError(w, http.StatusBadRequest, "invalid_params", "Content-Type must be application/json")
		return false
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		s.writeError(w, http.StatusBadRequest, "invalid_params", "The request body is not valid JSON.")
		return false
	}
	return true
}

func (s *Server) videoQuery(w http.ResponseWriter, r *http.Request, user string) {
	want, ok := fields(r)
	if !ok {
		s.writeError(w, http.StatusBadRequest, "invalid_params", "fields is required")
		return
	}
	var body struct {
		Filters struct {
			VideoIDs []string `json:"video_ids"`
		} `json:"filters"`
	}
	if !s.decodeBody(w, r, &body) {
		return
	}
	ids := body.Filters.VideoIDs
	switch {
	case len(ids) == 0:
		s.writeError(w, http.StatusBadRequest, "invalid_params", "filters.video_ids is required")
		return
	case len(ids) > MaxVideoIDs:
		s.writeError(w, http.StatusBadRequest, "invalid_params", fmt.Sprintf("filters.video_ids takes at most %d ids", MaxVideoIDs))
		return
	}
	s.mu.Lock()
	now := s.clock.Now()
	videos := []map[string]any{}
	seen := map[string]bool{}
	for _, id := range ids {
		p, ok := s.posts[id]
		if !ok || seen[id] || p.Account != user || p.Published.After(now) {
			continue
		}
		seen[id] = true
		videos = append(videos, s.videoJSON(p, want, now))
	}
	s.mu.Unlock()
	s.writeData(w, map[string]any{"videos": videos})
}

func (s *Server) videoList(w http.ResponseWriter, r *http.Request, user string) {
	want, ok := fields(r)
	if !ok {
		s.writeError(w, http.StatusBadRequest, "invalid_params", "fields is required")
		return
	}
	var body struct {
		MaxCount int   `json:"max_count"`
		Cursor   int64 `json:"cursor"`
	}
	if !s.decodeBody(w, r, &body) {
		return
	}
	switch {
	case body.MaxCount == 0:
		body.MaxCount = DefaultMaxCount
	case body.MaxCount < 0 || body.MaxCount > MaxCount:
		s.writeError(w, http.StatusBadRequest, "invalid_params", fmt.Sprintf("max_count must be between 1 and %d", MaxCount))
		return
	}
	s.mu.Lock()
	now := s.clock.Now()
	var mine []*Post
	for _, p := range s.posts {
		if p.Account != user || p.Published.After(now) {
			continue
		}
		// The cursor is the creation time, in Unix milliseconds, of the
		// last video of the previous page: the next page starts below it.
		if body.Cursor > 0 && p.Published.UnixMilli() >= body.Cursor {
			continue
		}
		mine = append(mine, p)
	}
	sort.Slice(mine, func(i, j int) bool {
		if !mine[i].Published.Equal(mine[j].Published) {
			return mine[i].Published.After(mine[j].Published)
		}
		return mine[i].ID > mine[j].ID
	})
	page := mine[:min(len(mine), body.MaxCount)]
	videos := make([]map[string]any, 0, len(page))
	cursor := body.Cursor
	for _, p := range page {
		videos = append(videos, s.videoJSON(p, want, now))
		cursor = p.Published.UnixMilli()
	}
	s.mu.Unlock()
	s.writeData(w, map[string]any{"videos": videos, "cursor": cursor, "has_more": len(mine) > len(page)})
}

// oauthToken serves grant_type=refresh_token. OAuth errors have their own
// shape, {"error","error_description","log_id"}; the HTTP status TikTok
// sends with them is not documented, 400 here.
func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request) {
	fail := func(code, desc string) {
		s.mu.Lock()
		id := s.logID()
		s.mu.Unlock()
		fakeapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc, "log_id": id})
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		fail("invalid_request", "The request parameters are malformed.")
		return
	}
	if err := r.ParseForm(); err != nil {
		fail("invalid_request", "The request parameters are malformed.")
		return
	}
	f := r.PostForm
	s.mu.Lock()
	key, secret := s.clientKey, s.clientSecret
	g, known := s.refresh[f.Get("refresh_token")]
	now := s.clock.Now()
	s.mu.Unlock()
	switch {
	case f.Get("grant_type") != "refresh_token":
		fail("unsupported_grant_type", "The grant type is not supported.")
		return
	case key == "" || f.Get("client_key") != key || f.Get("client_secret") != secret:
		fail("invalid_client", "Client authentication failed.")
		return
	case !known || !now.Before(g.expires):
		fail("invalid_grant", "Refresh token is invalid or expired.")
		return
	}
	s.mu.Lock()
	s.seq++
	access := "act.fake" + strconv.Itoa(s.seq)
	refresh := "rft.fake" + strconv.Itoa(s.seq)
	s.tokens[access] = grant{account: g.account, expires: now.Add(AccessTokenTTL), scopes: g.scopes}
	// The refresh token rotates; the old one stops working.
	delete(s.refresh, f.Get("refresh_token"))
	s.refresh[refresh] = g
	scopes := g.scopes
	if scopes == nil {
		scopes = DefaultScopes
	}
	s.mu.Unlock()
	fakeapi.WriteJSON(w, http.StatusOK, map[string]any{
		"access_token":       access,
		"expires_in":         int64(AccessTokenTTL / time.Second),
		"open_id":            g.account,
		"refresh_expires_in": int64(g.expires.Sub(now) / time.Second),
		"refresh_token":      refresh,
		"scope":              strings.Join(scopes, ","),
		"token_type":         "Bearer",
	})
}

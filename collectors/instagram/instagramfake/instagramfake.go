// Package instagramfake is a local stand-in for the Instagram Graph API
// (Instagram API with Facebook Login, graph.facebook.com), for tests and the
// sandbox. It speaks the Graph wire format: versioned paths (/v26.0/… or
// unversioned), the access_token query or form parameter, field selection
// with fields=, the {"error":{"message","type","code","error_subcode",
// "fbtrace_id"}} body with HTTP 400 that Graph uses for most errors, IG User
// and IG Media nodes, GET /{ig-user-id}/media with cursor paging, GET
// /{ig-media-id}/insights with the metrics each media product type
// supports, multi-id reads (GET /?ids=a,b), batch requests (POST / with
// batch=[…], at most 50), GET /debug_token with the permissions the token
// carries, and the X-App-Usage and X-Business-Use-Case-Usage headers of an
// hourly call budget. The token can be revoked (error 190, as when the
// user removes the app) or lack permissions (SetScopes): reads then fail
// as Graph fails them.
//
// Counts of a post are its curves at the post's age on the fake's clock; a
// post published in the future does not exist yet. An account's followers
// grow by the time since the fake started.
package instagramfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// Limits of the fake, the real API's where known.
const (
	// DefaultCallLimit is the calls per clock hour the fake answers before
	// throttling. The real budget depends on the app and the account's
	// impressions; this one is large enough for the sandbox.
	DefaultCallLimit = 4800
	// MaxBatch is the most operations one batch request may carry.
	MaxBatch = 50
	// MaxIDs is the most ids one multi-id read may ask for.
	MaxIDs = 50
	// DefaultPageSize and MaxPageSize bound a media listing page (limit=).
	DefaultPageSize = 25
	MaxPageSize     = 100
	// storyLifetime is how long story insights stay available.
	storyLifetime = 24 * time.Hour
	// minStoryViewers is the fewest viewers a story needs for insights.
	minStoryViewers = 5
)

// Media product types and media types.
const (
	Feed     = "FEED"
	Reels    = "REELS"
	Story    = "STORY"
	Image    = "IMAGE"
	Video    = "VIDEO"
	Carousel = "CAROUSEL_ALBUM"
)

// Account is an Instagram professional account (an IG User).
type Account struct {
	// ID is the IG user id, digits.
	ID       string
	Username string
	// Followers is followers_count when the fake started.
	Followers int64
	// FollowersPerHour and NewFollowers add followers by the time since
	// the fake started: a steady growth, and a curve on top of it (a
	// burst of bought followers, say).
	FollowersPerHour float64
	NewFollowers     fakeapi.Curve
}

// followersAt returns followers_count at the given time since the fake
// started.
func (a *Account) followersAt(since time.Duration) int64 {
	if since < 0 {
		since = 0
	}
	return a.Followers + int64(a.FollowersPerHour*since.Hours()) + a.NewFollowers.At(since)
}

// Post is one IG Media object.
type Post struct {
	// ID is the IG media id, digits.
	ID string
	// Account is the owner's IG user id.
	Account string
	Caption string
	// Published is the media's timestamp; before it the post does not
	// exist.
	Published time.Time
	// MediaType is IMAGE (the default), VIDEO or CAROUSEL_ALBUM.
	MediaType string
	// Product is FEED (the default), REELS or STORY. Stories have no
	// likes, comments or saves, and are not listed on /media.
	Product string
	// Counts by age. Likes and Comments are the like_count and
	// comments_count fields; the others are insights metrics.
	Views, Reach, Likes, Comments, Saves, Shares fakeapi.Curve
	// InsightsAfter is how old the post must be before insights have
	// data: Graph answers an empty data array until then.
	InsightsAfter time.Duration
}

// metrics lists the insights metrics each product type accepts (a subset
// of the real lists: the ones the fake can compute).
var metrics = map[string]map[string]bool{
	Feed:  set("views", "reach", "saved", "shares", "likes", "comments", "total_interactions", "follows", "profile_visits"),
	Reels: set("views", "reach", "saved", "shares", "likes", "comments", "total_interactions", "ig_reels_avg_watch_time"),
	Story: set("views", "reach", "shares", "replies", "navigation", "follows", "profile_visits", "total_interactions"),
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Server is the fake Graph API. Its zero value is not usable; call New.
type Server struct {
	// Faults switches the API between healthy and failing; Faults.Hits
	// counts HTTP requests (a batch is one).
	Faults fakeapi.Faults

	clock   fakeapi.Clock
	token   string
	start   time.Time
	handler http.Handler

	mu               sync.Mutex
	accounts         map[string]*Account
	accountOrder     []string
	posts            map[string]*Post
	byAccount        fakeapi.Groups[*Post] // account id -> its posts by id
	tokenExpiry      time.Time
	dataAccessExpiry time.Time
	revoked          bool
	scopes           []string
	callLimit        int
	window           time.Time
	used             int
	insightsCalls    map[string]int
	debugCalls       int
	trace            int
}

// New returns a fake accepting token as its only access token. Counts
// follow clock (nil: the wall clock).
func New(token string, clock fakeapi.Clock) *Server {
	s := &Server{
		clock:         clock,
		token:         token,
		start:         clock.Now(),
		accounts:      map[string]*Account{},
		posts:         map[string]*Post{},
		byAccount:     fakeapi.Groups[*Post]{},
		callLimit:     DefaultCallLimit,
		insightsCalls: map[string]int{},
		scopes:        DefaultScopes,
	}
	s.handler = s.Faults.Wrap(http.HandlerFunc(s.serve), errorWriter{s})
	return s
}

// AddAccount adds an account or replaces the one with the same ID.
func (s *Server) AddAccount(a Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[a.ID]; !ok {
		s.accountOrder = append(s.accountOrder, a.ID)
	}
	s.accounts[a.ID] = &a
}

// AddPost adds a post or replaces the one with the same ID. Its account
// need not exist.
func (s *Server) AddPost(p Post) {
	if p.MediaType == "" {
		p.MediaType = Image
	}
	if p.Product == "" {
		p.Product = Feed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLocked(p.ID)
	s.posts[p.ID] = &p
	s.byAccount.Add(p.Account, p.ID, &p)
}

// deleteLocked forgets a post; call with s.mu held.
func (s *Server) deleteLocked(id string) {
	if old, ok := s.posts[id]; ok {
		s.byAccount.Remove(old.Account, id)
		delete(s.posts, id)
	}
}

// DeletePost deletes a post, as its owner would: from then on Graph
// answers every read of it with error 100, subcode 33, as for an id that
// never existed, and listings leave it out.
func (s *Server) DeletePost(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLocked(id)
}

// SetCallLimit sets how many calls per clock hour the fake answers before
// it throttles with error 80002. Each operation of a batch counts as one
// call, as on the real API.
func (s *Server) SetCallLimit(perHour int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callLimit = perHour
}

// SetTokenExpiry makes the token expire at t (zero: never, the default):
// from then on every call fails with error 190, subcode 463.
func (s *Server) SetTokenExpiry(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenExpiry = t
}

// SetDataAccessExpiry sets what debug_token reports as
// data_access_expires_at (zero: 0, the default).
func (s *Server) SetDataAccessExpiry(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dataAccessExpiry = t
}

// Permissions a token may carry.
const (
	PermBasic    = "instagram_basic"
	PermInsights = "instagram_manage_insights"
	PermPages    = "pages_read_engagement"
	PermPageList = "pages_show_list"
)

// DefaultScopes are the permissions of the fake's token unless SetScopes
// says otherwise: all a reader of accounts, media and insights needs.
var DefaultScopes = []string{PermBasic, PermInsights, PermPages, PermPageList}

// SetScopes sets the permissions the token carries, as debug_token lists
// them. Without instagram_basic, reads of accounts and media fail with
// error 10; without instagram_manage_insights, insights reads do.
func (s *Server) SetScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = append([]string(nil), scopes...)
}

func (s *Server) hasScope(p string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.scopes {
		if x == p {
			return true
		}
	}
	return false
}

// Revoke makes the token invalid, as when its user removes the app or
// withdraws its access: from then on every call fails with error 190,
// subcode 458.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = true
}

// RevokedMessage is Graph's message for a token whose user removed the
// app (error 190, subcode 458), as client libraries quote it: the
// reference documents the code and subcode, not the text.
const RevokedMessage = "Error validating access token: The user has not authorized application 1000000000000001."

// Usage returns the calls counted in the current hour and the limit.
func (s *Server) Usage() (used, limit int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollWindow()
	return s.used, s.callLimit
}

// InsightsCalls returns how many insights reads of the media the fake
// answered, direct or batched.
func (s *Server) InsightsCalls(mediaID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.insightsCalls[mediaID]
}

// DebugTokenCalls returns how many debug_token reads the fake answered.
func (s *Server) DebugTokenCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.debugCalls
}

// ServeHTTP serves the Graph API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

var versionRE = regexp.MustCompile(`^/v\d+\.\d+(/|$)`)

// splitVersion returns the version prefix (/v26.0, or "") and the path
// after it, which starts with a slash.
func splitVersion(p string) (string, string) {
	if m := versionRE.FindString(p); m != "" {
		v := strings.TrimSuffix(m, "/")
		return v, "/" + strings.TrimPrefix(p[len(m):], "/")
	}
	return "", p
}

// reply is one logical answer: a status and a JSON body.
type reply struct {
	status int
	body   any
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.write(w, s.graphError(http.StatusBadRequest, "OAuthException", 100, 0, "(#100) Malformed request"))
		return
	}
	version, path := splitVersion(r.URL.Path)
	tok := r.Form.Get("access_token")
	if rep, ok := s.checkToken(tok); !ok {
		s.write(w, rep)
		return
	}
	base := "http://" + r.Host + version
	if r.Method == http.MethodPost && path == "/" && r.Form.Has("batch") {
		s.batch(w, r.Form, tok, base)
		return
	}
	s.write(w, s.call(r.Method, path, r.Form, base))
}

// call counts one call against the budget and answers it.
func (s *Server) call(method, path string, q url.Values, base string) reply {
	if rep, ok := s.count(); !ok {
		return rep
	}
	if method != http.MethodGet {
		return s.graphError(http.StatusBadRequest, "GraphMethodException", 100, 0,
			"Unsupported "+strings.ToLower(method)+" request. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api")
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if rep, ok := s.permitted(path, parts); !ok {
		return rep
	}
	switch {
	case path == "/debug_token":
		return s.debugToken(q)
	case path == "/" || path == "":
		return s.multi(q)
	case len(parts) == 1:
		return s.node(parts[0], q)
	case len(parts) == 2 && parts[1] == "media":
		return s.media(parts[0], q, base)
	case len(parts) == 2 && parts[1] == "insights":
		return s.insights(parts[0], q)
	}
	return s.unsupportedGet(parts[0])
}

// permitted answers a read the token lacks the permission for. Graph's
// answer to it is not documented per endpoint; the fake answers error 10,
// which client code reports for reads without instagram_basic or
// instagram_manage_insights (unconfirmed).
func (s *Server) permitted(path string, parts []string) (reply, bool) {
	need := PermBasic
	switch {
	case path == "/debug_token":
		return reply{}, true
	case len(parts) == 2 && parts[1] == "insights":
		need = PermInsights
	}
	if s.hasScope(need) {
		return reply{}, true
	}
	return s.graphError(http.StatusBadRequest, "OAuthException", 10, 0, "(#10) Application does not have permission for this action"), false
}

func (s *Server) write(w http.ResponseWriter, rep reply) {
	s.usageHeaders(w.Header())
	if rep.status == http.StatusBadRequest || rep.status == http.StatusUnauthorized {
		if e, ok := rep.body.(graphErrorBody); ok && e.Error.Type == "OAuthException" && e.Error.Code == 190 {
			w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_token" "`+e.Error.Message+`"`)
		}
	}
	fakeapi.WriteJSON(w, rep.status, rep.body)
}

// graphErrorBody is Graph's error envelope.
type graphErrorBody struct {
	Error graphErrorFields `json:"error"`
}

type graphErrorFields struct {
	Message     string `json:"message"`
	Type        string `json:"type"`
	Code        int    `json:"code"`
	Subcode     int    `json:"error_subcode,omitempty"`
	IsTransient bool   `json:"is_transient,omitempty"`
	FBTraceID   string `json:"fbtrace_id"`
}

func (s *Server) graphError(status int, typ string, code, subcode int, msg string) reply {
	s.mu.Lock()
	s.trace++
	id := fmt.Sprintf("AFake%07dTrace", s.trace)
	s.mu.Unlock()
	return reply{status, graphErrorBody{graphErrorFields{
		Message: msg, Type: typ, Code: code, Subcode: subcode, FBTraceID: id,
		IsTransient: code == 1 || code == 2 || code == 4 || code == 80002,
	}}}
}

// errorWriter writes the bodies of switched-on faults.
type errorWriter struct{ s *Server }

func (e errorWriter) WriteError(w http.ResponseWriter, status int) {
	var rep reply
	switch status {
	case http.StatusTooManyRequests:
		// Graph throttles with HTTP 400 and a code (see count); a 429
		// comes from infrastructure in front of it, with the app-level
		// throttling body.
		rep = e.s.graphError(status, "OAuthException", 4, 0, "(#4) Application request limit reached")
	default:
		rep = e.s.graphError(status, "OAuthException", 2, 0, "An unexpected error has occurred. Please retry your request later.")
	}
	fakeapi.WriteJSON(w, rep.status, rep.body)
}

var pst = time.FixedZone("PST", -8*3600)

// checkToken answers a missing, wrong or expired token as Graph does.
func (s *Server) checkToken(tok string) (reply, bool) {
	now := s.clock.Now()
	s.mu.Lock()
	expiry, revoked := s.tokenExpiry, s.revoked
	s.mu.Unlock()
	switch {
	case tok == "":
		return s.graphError(http.StatusBadRequest, "OAuthException", 104, 0, "An access token is required to request this resource."), false
	case tok != s.token:
		return s.graphError(http.StatusBadRequest, "OAuthException", 190, 0, "Invalid OAuth access token - Cannot parse access token"), false
	case revoked:
		return s.graphError(http.StatusBadRequest, "OAuthException", 190, 458, RevokedMessage), false
	case !expiry.IsZero() && !now.Before(expiry):
		const layout = "Monday, 02-Jan-06 15:04:05 MST"
		return s.graphError(http.StatusBadRequest, "OAuthException", 190, 463,
			fmt.Sprintf("Error validating access token: Session has expired on %s. The current time is %s.",
				expiry.In(pst).Format(layout), now.In(pst).Format(layout))), false
	}
	return reply{}, true
}

// rollWindow starts a new budget window each clock hour. Call with mu held.
func (s *Server) rollWindow() {
	w := s.clock.Now().Truncate(time.Hour)
	if !w.Equal(s.window) {
		s.window, s.used = w, 0
	}
}

// count spends one call; over the limit it answers Instagram's throttling
// error instead.
func (s *Server) count() (reply, bool) {
	s.mu.Lock()
	s.rollWindow()
	s.used++
	over := s.used > s.callLimit
	s.mu.Unlock()
	if over {
		return s.graphError(http.StatusBadRequest, "OAuthException", 80002,
			0, "There have been too many calls to this Instagram account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."), false
	}
	return reply{}, true
}

// usageHeaders reports the budget used, in percent, as X-App-Usage and
// X-Business-Use-Case-Usage (one entry, keyed by the first account).
func (s *Server) usageHeaders(h http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollWindow()
	pct := 100
	if s.callLimit > 0 {
		pct = min(100, s.used*100/s.callLimit)
	}
	regain := 0
	if s.used >= s.callLimit {
		regain = int(math.Ceil(s.window.Add(time.Hour).Sub(s.clock.Now()).Minutes()))
	}
	app, _ := json.Marshal(map[string]int{"call_count": pct, "total_cputime": pct / 2, "total_time": pct / 2})
	h.Set("X-App-Usage", string(app))
	key := "0"
	if len(s.accountOrder) > 0 {
		key = s.accountOrder[0]
	}
	buc, _ := json.Marshal(map[string][]map[string]any{key: {{
		"type": "instagram", "call_count": pct, "total_cputime": pct / 2, "total_time": pct / 2,
		"estimated_time_to_regain_access": regain,
	}}})
	h.Set("X-Business-Use-Case-Usage", string(buc))
}

func (s *Server) unsupportedGet(id string) reply {
	return s.graphError(http.StatusBadRequest, "GraphMethodException", 100, 33,
		fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api", id))
}

// visiblePost returns the post if it is published at now. Call with mu
// held.
func (s *Server) visiblePost(id string, now time.Time) *Post {
	p, ok := s.posts[id]
	if !ok || p.Published.After(now) {
		return nil
	}
	return p
}

func fieldList(q url.Values) []string {
	f := strings.TrimSpace(q.Get("fields"))
	if f == "" {
		return []string{"id"}
	}
	var out []string
	for _, x := range strings.Split(f, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// render returns the fields of an account or a visible post, or an error
// reply. Call with mu held.
func (s *Server) render(id string, fields []string, now time.Time) (map[string]any, *reply) {
	if a, ok := s.accounts[id]; ok {
		out := map[string]any{}
		for _, f := range fields {
			switch f {
			case "id":
				out["id"] = a.ID
			case "username":
				out["username"] = a.Username
			case "followers_count":
				out["followers_count"] = a.followersAt(now.Sub(s.start))
			case "media_count":
				n := 0
				for _, p := range s.byAccount[a.ID] {
					if p.Product != Story && !p.Published.After(now) {
						n++
					}
				}
				out["media_count"] = n
			default:
				return nil, nonexistingField(f, "IGUser")
			}
		}
		return out, nil
	}
	p := s.visiblePost(id, now)
	if p == nil {
		return nil, nil
	}
	return s.renderPost(p, fields, now)
}

func nonexistingField(f, node string) *reply {
	// graphError takes mu; callers of render hold it, so build the body
	// directly.
	return &reply{http.StatusBadRequest, graphErrorBody{graphErrorFields{
		Message: fmt.Sprintf("(#100) Tried accessing nonexisting field (%s) on node type (%s)", f, node),
		Type:    "OAuthException", Code: 100, FBTraceID: "AFakeFieldTrace",
	}}}
}

// renderPost renders the requested fields of a post. Call with mu held.
func (s *Server) renderPost(p *Post, fields []string, now time.Time) (map[string]any, *reply) {
	age := now.Sub(p.Published)
	out := map[string]any{}
	for _, f := range fields {
		switch f {
		case "id":
			out["id"] = p.ID
		case "caption":
			if p.Caption != "" {
				out["caption"] = p.Caption
			}
		case "media_type":
			out["media_type"] = p.MediaType
		case "media_product_type":
			out["media_product_type"] = p.Product
		case "timestamp":
			out["timestamp"] = p.Published.UTC().Format("2006-01-02T15:04:05-0700")
		case "like_count":
			if p.Product != Story {
				out["like_count"] = p.Likes.At(age)
			}
		case "comments_count":
			if p.Product != Story {
				out["comments_count"] = p.Comments.At(age)
			}
		case "permalink":
			out["permalink"] = "https://www.instagram.com/p/" + base64.RawURLEncoding.EncodeToString([]byte(p.ID))[:11] + "/"
		case "username":
			if a, ok := s.accounts[p.Account]; ok {
				out["username"] = a.Username
			}
		case "owner":
			out["owner"] = map[string]string{"id": p.Account}
		default:
			return nil, nonexistingField(f, "IGMedia")
		}
	}
	return out, nil
}

// node answers GET /{id}.
func (s *Server) node(id string, q url.Values) reply {
	now := s.clock.Now()
	s.mu.Lock()
	out, rep := s.render(id, fieldList(q), now)
	s.mu.Unlock()
	if rep != nil {
		return *rep
	}
	if out == nil {
		return s.unsupportedGet(id)
	}
	return reply{http.StatusOK, out}
}

// multi answers GET /?ids=a,b: one object per id, or error 803 naming the
// ids that do not exist.
func (s *Server) multi(q url.Values) reply {
	raw := strings.TrimSpace(q.Get("ids"))
	if raw == "" {
		return s.graphError(http.StatusBadRequest, "OAuthException", 100, 0, "(#100) Missing ids parameter")
	}
	ids := strings.Split(raw, ",")
	if len(ids) > MaxIDs {
		return s.graphError(http.StatusBadRequest, "OAuthException", 100, 0, fmt.Sprintf("(#100) Too many IDs. Maximum: %d", MaxIDs))
	}
	now := s.clock.Now()
	fields := fieldList(q)
	out := map[string]any{}
	var missing []string
	s.mu.Lock()
	for _, id := range ids {
		id = strings.TrimSpace(id)
		obj, rep := s.render(id, fields, now)
		if rep != nil {
			s.mu.Unlock()
			return *rep
		}
		if obj == nil {
			missing = append(missing, id)
			continue
		}
		out[id] = obj
	}
	s.mu.Unlock()
	if len(missing) > 0 {
		return s.graphError(http.StatusBadRequest, "OAuthException", 803, 0,
			"(#803) Some of the aliases you requested do not exist: "+strings.Join(missing, ","))
	}
	return reply{http.StatusOK, out}
}

func cursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("fakecursor:" + id))
}

func uncursor(c string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), "fakecursor:") {
		return "", false
	}
	return strings.TrimPrefix(string(b), "fakecursor:"), true
}

// media answers GET /{ig-user-id}/media: the account's published feed
// posts and reels, newest first, a page at a time.
func (s *Server) media(user string, q url.Values, base string) reply {
	now := s.clock.Now()
	limit := DefaultPageSize
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return s.graphError(http.StatusBadRequest, "OAuthException", 100, 0, "(#100) Param limit must be a positive integer")
		}
		limit = min(n, MaxPageSize)
	}
	fields := fieldList(q)
	s.mu.Lock()
	if _, ok := s.accounts[user]; !ok {
		s.mu.Unlock()
		return s.unsupportedGet(user)
	}
	var list []*Post
	for _, p := range s.byAccount[user] {
		if p.Product != Story && !p.Published.After(now) {
			list = append(list, p)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if !list[i].Published.Equal(list[j].Published) {
			return list[i].Published.After(list[j].Published)
		}
		return list[i].ID > list[j].ID
	})
	from := 0
	if c := q.Get("after"); c != "" {
		id, ok := uncursor(c)
		if !ok {
			s.mu.Unlock()
			return s.graphError(http.StatusBadRequest, "OAuthException", 100, 0, "(#100) Invalid cursor")
		}
		from = len(list)
		for i, p := range list {
			if p.ID == id {
				from = i + 1
				break
			}
		}
	}
	page := list[min(from, len(list)):min(from+limit, len(list))]
	data := make([]map[string]any, 0, len(page))
	for _, p := range page {
		obj, rep := s.renderPost(p, fields, now)
		if rep != nil {
			s.mu.Unlock()
			return *rep
		}
		data = append(data, obj)
	}
	s.mu.Unlock()
	out := map[string]any{"data": data}
	if len(page) > 0 {
		paging := map[string]any{"cursors": map[string]string{"before": cursor(page[0].ID), "after": cursor(page[len(page)-1].ID)}}
		if from+limit < len(list) {
			next := url.Values{"access_token": {s.token}, "fields": {strings.Join(fields, ",")}, "limit": {strconv.Itoa(limit)}, "after": {cursor(page[len(page)-1].ID)}}
			paging["next"] = base + "/" + user + "/media?" + next.Encode()
		}
		out["paging"] = paging
	}
	return reply{http.StatusOK, out}
}

var metricTitles = map[string]string{
	"views": "Views", "reach": "Accounts reached", "saved": "Saved", "shares": "Shares",
	"likes": "Likes", "comments": "Comments", "total_interactions": "Interactions",
	"follows": "Follows", "profile_visits": "Profile visits", "replies": "Replies",
	"navigation": "Navigation", "ig_reels_avg_watch_time": "Average watch time",
}

// insights answers GET /{ig-media-id}/insights?metric=…: lifetime values,
// or an empty data array while the post's insights lag; a metric the
// product type does not support fails the whole call with code 100.
func (s *Server) insights(id string, q url.Values) reply {
	now := s.clock.Now()
	s.mu.Lock()
	p := s.visiblePost(id, now)
	if p != nil {
		s.insightsCalls[id]++
	}
	s.mu.Unlock()
	if p == nil {
		return s.unsupportedGet(id)
	}
	raw := strings.TrimSpace(q.Get("metric"))
	if raw == "" {
		return s.graphError(http.StatusBadRequest, "OAuthException", 100, 0, "(#100) The value must be a valid insights metric")
	}
	names := strings.Split(raw, ",")
	var bad []string
	for i, n := range names {
		names[i] = strings.TrimSpace(n)
		if !metrics[p.Product][names[i]] {
			bad = append(bad, names[i])
		}
	}
	if len(bad) > 0 {
		return s.graphError(http.StatusBadRequest, "OAuthException", 100, 0,
			fmt.Sprintf("(#100) The Media Insights API does not support the %s metric for this media product type.", strings.Join(bad, ", ")))
	}
	age := now.Sub(p.Published)
	data := []map[string]any{}
	if p.Product == Story && p.Views.At(age) < minStoryViewers {
		return s.graphError(http.StatusBadRequest, "OAuthException", 10, 0, "(#10) Not enough viewers for the media to show insights")
	}
	if age < p.InsightsAfter || (p.Product == Story && age > storyLifetime) {
		return reply{http.StatusOK, map[string]any{"data": data}}
	}
	for _, n := range names {
		var v int64
		switch n {
		case "views":
			v = p.Views.At(age)
		case "reach":
			v = p.Reach.At(age)
		case "saved":
			v = p.Saves.At(age)
		case "shares":
			v = p.Shares.At(age)
		case "likes":
			v = p.Likes.At(age)
		case "comments":
			v = p.Comments.At(age)
		case "total_interactions":
			v = p.Likes.At(age) + p.Comments.At(age) + p.Saves.At(age) + p.Shares.At(age)
		}
		data = append(data, map[string]any{
			"name": n, "period": "lifetime", "values": []map[string]int64{{"value": v}},
			"title": metricTitles[n], "description": metricTitles[n] + " of the media.",
			"id": id + "/insights/" + n + "/lifetime",
		})
	}
	return reply{http.StatusOK, map[string]any{"data": data}}
}

// debugToken answers GET /debug_token?input_token=…: what Graph knows of
// the token; an expired or unknown input token is reported as invalid.
func (s *Server) debugToken(q url.Values) reply {
	s.mu.Lock()
	s.debugCalls++
	expiry, dataAccess := s.tokenExpiry, s.dataAccessExpiry
	scopes := append([]string{}, s.scopes...)
	user := ""
	if len(s.accountOrder) > 0 {
		user = s.accountOrder[0]
	}
	s.mu.Unlock()
	unix := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.Unix()
	}
	data := map[string]any{
		"app_id": "1000000000000001", "type": "USER", "application": "influencer sandbox",
		"data_access_expires_at": unix(dataAccess), "expires_at": unix(expiry),
		"issued_at": s.start.Unix(), "user_id": user,
		"scopes": scopes,
	}
	in := q.Get("input_token")
	if in == "" {
		return s.graphError(http.StatusBadRequest, "OAuthException", 100, 0, "(#100) The parameter input_token is required")
	}
	if rep, ok := s.checkToken(in); !ok {
		e := rep.body.(graphErrorBody).Error
		data = map[string]any{"is_valid": false, "scopes": []string{}, "error": map[string]any{"code": e.Code, "message": e.Message, "subcode": e.Subcode}}
	} else {
		data["is_valid"] = true
	}
	return reply{http.StatusOK, map[string]any{"data": data}}
}

// batchOp is one operation of a batch request.
type batchOp struct {
	Method      string `json:"method"`
	RelativeURL string `json:"relative_url"`
}

// batch answers POST / with batch=[…]: the operations' answers in order,
// each {"code","headers","body"} with the body as a JSON string. Every
// operation counts against the budget; the batch itself does not.
func (s *Server) batch(w http.ResponseWriter, form url.Values, tok, base string) {
	var ops []batchOp
	if err := json.Unmarshal([]byte(form.Get("batch")), &ops); err != nil {
		s.write(w, s.graphError(http.StatusBadRequest, "GraphBatchException", 100, 0, "(#100) The parameter batch must be a JSON array"))
		return
	}
	if len(ops) > MaxBatch {
		s.write(w, s.graphError(http.StatusBadRequest, "GraphBatchException", 100, 0, fmt.Sprintf("Too many requests in batch message. Maximum batch size is %d", MaxBatch)))
		return
	}
	withHeaders := form.Get("include_headers") != "false"
	out := make([]map[string]any, 0, len(ops))
	for _, op := range ops {
		method := strings.ToUpper(op.Method)
		if method == "" {
			method = http.MethodGet
		}
		u, err := url.Parse("/" + strings.TrimPrefix(op.RelativeURL, "/"))
		if err != nil {
			u = &url.URL{Path: "/"}
		}
		_, path := splitVersion(u.Path)
		q := u.Query()
		opTok := tok
		if t := q.Get("access_token"); t != "" {
			opTok = t
		}
		rep, ok := s.checkToken(opTok)
		if ok {
			rep = s.call(method, path, q, base)
		}
		rec := httptest.NewRecorder()
		s.write(rec, rep)
		res := map[string]any{"code": rec.Code, "body": strings.TrimSuffix(rec.Body.String(), "\n")}
		if withHeaders {
			var hs []map[string]string
			for _, name := range []string{"Content-Type", "X-App-Usage", "X-Business-Use-Case-Usage", "WWW-Authenticate"} {
				if v := rec.Header().Get(name); v != "" {
					hs = append(hs, map[string]string{"name": name, "value": v})
				}
			}
			res["headers"] = hs
		}
		out = append(out, res)
	}
	s.usageHeaders(w.Header())
	fakeapi.WriteJSON(w, http.StatusOK, out)
}

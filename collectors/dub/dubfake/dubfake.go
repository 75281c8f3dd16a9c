// Package dubfake is a local stand-in for the Dub API and its short links,
// for tests and the sandbox. It speaks Dub's wire format: Bearer API keys,
// {"error":{"code","message","doc_url"}} bodies, X-RateLimit-* headers from a
// per-minute quota, restricted keys whose missing scopes answer 403 with
// the permission named (SetScopes), GET /links with tag filters and both
// page and cursor pagination, GET /links/info, and GET /analytics with the
// count and top_links groupings over an interval. A wrong or revoked key
// gets 401 unauthorized, "Unauthorized: Invalid API key.", as Dub answers. Every other path is a short link
// key and answers 301 to the link's destination.
package dubfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// DefaultRateLimit is the fake's requests per minute: Dub's Pro plan.
const DefaultRateLimit = 600

// Plans, for SetPlan. They bound the analytics date range as Dub does.
const (
	PlanFree     = "free"
	PlanPro      = "pro"
	PlanBusiness = "business"
)

// workspaceAge is how long before the fake's start its workspace was
// created: older than a year, so Free and Pro plans refuse interval=all.
const workspaceAge = 400 * 24 * time.Hour

// topLinksCap is the row cap of groupBy=top_links.
const topLinksCap = 5000

const (
	workspaceID = "ws_1FAKE0SANDBOX0WORKSPACE00"
	userID      = "user_1FAKE0SANDBOX0USER0000"
	docErrorURL = "https://dub.co/docs/api-reference/errors"
)

// Link is a short link the fake serves.
type Link struct {
	// ID names the link as domain/key, dub.sh/alice; the key may contain
	// slashes.
	ID string
	// Destination is the URL the short link redirects to.
	Destination string
	// Tags are tag names.
	Tags     []string
	Archived bool
	// Clicks is the lifetime click count, growing from the fake's start.
	Clicks fakeapi.Growth
	// ClicksJSON, when set, is the raw JSON the link's click count is
	// sent as, in link objects and top_links rows (which still rank it by
	// Clicks): "\"12\"" for a count sent as a string, "\"n/a\"" for one
	// that is not a number.
	ClicksJSON string
}

// clicksJSON is the count n of e as the fake sends it.
func clicksJSON(e *entry, n int64) any {
	if e.ClicksJSON != "" {
		return json.RawMessage(e.ClicksJSON)
	}
	return n
}

type entry struct {
	Link
	linkID   string // link_…
	domain   string
	key      string
	created  time.Time
	sequence int
}

// Server is the fake Dub. Its zero value is not usable; call New.
type Server struct {
	// Faults switches the API (not the short links) between healthy and
	// failing; Faults.Hits counts API requests.
	Faults fakeapi.Faults
	// ShortLinks serves the short links and builds their URLs from the
	// public URL (SetPublicURL): this server's address.
	fakeapi.ShortLinks

	clock fakeapi.Clock
	start time.Time
	api   http.Handler

	mu   sync.Mutex
	plan string
	// analyticsStatus, when set, is the status GET /analytics answers
	// with, as an API version or deployment without it does.
	analyticsStatus int
	limit           int
	window          int64 // minute of the current quota window
	used            int
	links           []*entry // in creation order
	byID            map[string]*entry
	byLinkID        map[string]*entry
	tagIDs          map[string]string // lower-case name -> tag_…
	// scopes are the permissions of a restricted key; nil is a key
	// without restriction, which may call every endpoint.
	scopes []string
}

// The scopes (permissions) of Dub's restricted API keys that the fake's
// endpoints require.
const (
	ScopeLinksRead     = "links.read"
	ScopeAnalyticsRead = "analytics.read"
)

// WorkspaceID is the id of the fake's workspace, as link objects and
// permission errors name it.
const WorkspaceID = workspaceID

// SetScopes makes the API key a restricted one with only these scopes
// (links.read, analytics.read, ...): an endpoint needing another answers
// 403 with Dub's message naming the permission missing. No scopes at all
// (the default) is an unrestricted key.
func (s *Server) SetScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = append([]string(nil), scopes...)
}

// require answers 403 forbidden, as Dub's permission check does after the
// key and the rate limit, when a restricted key lacks scope.
func (s *Server) require(scope string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		scopes := s.scopes
		s.mu.Unlock()
		if scopes != nil && !contains(scopes, scope) {
			writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf(
				"The provided key does not have the required permissions for this endpoint on the workspace '%s'. Having the '%s' permission would allow this request to continue.",
				workspaceID, scope))
			return
		}
		next(w, r)
	}
}

// New returns a fake accepting token as its only API key. Click counts grow
// with clock, from the time New is called.
func New(token string, clock fakeapi.Clock) *Server {
	s := &Server{
		clock:    clock,
		start:    clock.Now(),
		plan:     PlanBusiness,
		limit:    DefaultRateLimit,
		byID:     map[string]*entry{},
		byLinkID: map[string]*entry{},
		tagIDs:   map[string]string{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /analytics", s.require(ScopeAnalyticsRead, s.analytics))
	mux.HandleFunc("GET /links", s.require(ScopeLinksRead, s.listLinks))
	mux.HandleFunc("GET /links/info", s.require(ScopeLinksRead, s.linkInfo))
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "The requested resource was not found.")
	})
	invalidKey := func(w http.ResponseWriter) {
		writeError(w, http.StatusUnauthorized, "unauthorized", "Unauthorized: Invalid API key.")
	}
	keyed := fakeapi.RequireHeader("Authorization", "Bearer "+token, invalidKey, s.rateLimit(mux))
	s.api = s.Faults.Wrap(bearerScheme(keyed), errorWriter{})
	return s
}

// SetRateLimit sets the requests per minute before the fake answers 429.
func (s *Server) SetRateLimit(perMinute int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = perMinute
}

// SetPlan sets the workspace plan (PlanFree, PlanPro, PlanBusiness; the
// default is business), which bounds the analytics date range.
func (s *Server) SetPlan(plan string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plan = plan
}

// RefuseAnalytics makes GET /analytics answer status (404 not_found, 403
// forbidden, others by their status text) with Dub's error body, as a
// deployment without analytics does; 0 serves it again.
func (s *Server) RefuseAnalytics(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.analyticsStatus = status
}

// AddLink adds a link, or replaces the one with the same ID. Later links
// are newer and have greater link ids. The short link is served on the
// public URL by its key; of links on two domains sharing one, the last
// added is.
func (s *Server) AddLink(l Link) {
	domain, key, ok := strings.Cut(l.ID, "/")
	if !ok || domain == "" || key == "" {
		panic("dubfake: link id must be domain/key, got " + strconv.Quote(l.ID))
	}
	l.Tags = append([]string(nil), l.Tags...)
	s.AddShortLink(key, l.Destination)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range l.Tags {
		if _, ok := s.tagIDs[strings.ToLower(t)]; !ok {
			s.tagIDs[strings.ToLower(t)] = fmt.Sprintf("tag_1FAKE%020d", len(s.tagIDs)+1)
		}
	}
	if old, ok := s.byID[l.ID]; ok {
		old.Link = l
		return
	}
	n := len(s.links) + 1
	e := &entry{
		Link:     l,
		linkID:   fmt.Sprintf("link_1FAKE%020d", n),
		domain:   domain,
		key:      key,
		created:  s.start.Add(-workspaceAge).Add(time.Duration(n) * time.Hour),
		sequence: n,
	}
	s.links = append(s.links, e)
	s.byID[l.ID] = e
	s.byLinkID[e.linkID] = e
}

// ServeHTTP serves the API paths (/analytics, /links, /links/…) and the
// short links on every other path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/analytics" || strings.HasPrefix(p, "/analytics/") || p == "/links" || strings.HasPrefix(p, "/links/") {
		s.api.ServeHTTP(w, r)
		return
	}
	s.ServeRedirect(w, r)
}

// bearerScheme answers a missing Authorization header, or one without the
// Bearer scheme, with Dub's own errors for them, before the key is checked.
func bearerScheme(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch h := r.Header.Get("Authorization"); {
		case h == "":
			writeError(w, http.StatusUnauthorized, "unauthorized", "Missing Authorization header.")
		case !strings.HasPrefix(h, "Bearer "):
			writeError(w, http.StatusBadRequest, "bad_request", "Misconfigured authorization header. Did you forget to add 'Bearer '? Learn more: https://d.to/auth")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// rateLimit counts requests in fixed one-minute windows and sends Dub's
// headers on every authorized answer. Dub's limiter reports the reset as
// Unix milliseconds, and sends the same value as Retry-After.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := s.clock.Now()
		minute := now.Unix() / 60
		s.mu.Lock()
		if minute != s.window {
			s.window, s.used = minute, 0
		}
		s.used++
		limit, used := s.limit, s.used
		s.mu.Unlock()
		reset := strconv.FormatInt((minute+1)*60*1000, 10)
		h := w.Header()
		h.Set("Retry-After", reset)
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(max(limit-used, 0)))
		h.Set("X-RateLimit-Reset", reset)
		if used > limit {
			writeError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "Too many requests.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// linkJSON renders e as Dub's link object; call with s.mu held.
func (s *Server) linkJSON(e *entry, now time.Time) map[string]any {
	tags := []map[string]any{}
	for _, t := range e.Tags {
		tags = append(tags, map[string]any{"id": s.tagIDs[strings.ToLower(t)], "name": t, "color": "blue"})
	}
	clicks := e.Clicks.At(s.start, now)
	var lastClicked any
	if clicks > 0 {
		lastClicked = now.UTC().Format(time.RFC3339Nano)
	}
	created := e.created.UTC().Format(time.RFC3339Nano)
	return map[string]any{
		"id":              e.linkID,
		"domain":          e.domain,
		"key":             e.key,
		"url":             e.Destination,
		"shortLink":       s.shortLink(e),
		"qrCode":          "https://api.dub.co/qr?url=" + url.QueryEscape("https://"+e.ID+"?qr=1"),
		"archived":        e.Archived,
		"externalId":      nil,
		"tenantId":        nil,
		"programId":       nil,
		"partnerId":       nil,
		"expiresAt":       nil,
		"expiredUrl":      nil,
		"password":        nil,
		"proxy":           false,
		"title":           nil,
		"description":     nil,
		"image":           nil,
		"video":           nil,
		"rewrite":         false,
		"doIndex":         false,
		"ios":             nil,
		"android":         nil,
		"geo":             nil,
		"publicStats":     false,
		"trackConversion": false,
		"tags":            tags,
		"folderId":        nil,
		"webhookIds":      []string{},
		"comments":        nil,
		"utm_source":      nil,
		"utm_medium":      nil,
		"utm_campaign":    nil,
		"utm_term":        nil,
		"utm_content":     nil,
		"userId":          userID,
		"workspaceId":     workspaceID,
		"projectId":       strings.TrimPrefix(workspaceID, "ws_"),
		"clicks":          clicksJSON(e, clicks),
		"leads":           0,
		"conversions":     0,
		"sales":           0,
		"saleAmount":      0,
		"lastClicked":     lastClicked,
		"createdAt":       created,
		"updatedAt":       created,
	}
}

// shortLink is e's short URL: on the public URL, else on its own domain,
// as Dub's are.
func (s *Server) shortLink(e *entry) string {
	if s.PublicHost() != "" {
		return s.ShortURL(e.key)
	}
	return "https://" + e.ID
}

// listLinks is GET /links: newest first; tagNames (case-insensitive) and
// tagIds match links with any of the tags; page/pageSize or a
// startingAfter/endingBefore cursor, which orders by link id.
func (s *Server) listLinks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pageSize, ok := intParam(q, "pageSize", 100)
	if !ok || pageSize < 1 {
		writeUnprocessable(w, "pageSize: Page size must be greater than 0.")
		return
	}
	if pageSize > 100 {
		writeUnprocessable(w, "pageSize: Max page size is 100.")
		return
	}
	page, ok := intParam(q, "page", 0)
	if !ok || page < 0 {
		writeUnprocessable(w, "page: Page must be greater than 0.")
		return
	}
	after, before := q.Get("startingAfter"), q.Get("endingBefore")
	sortBy := q.Get("sortBy")
	if sortBy == "" {
		sortBy = "createdAt"
	}
	cursor := after != "" || before != ""
	switch {
	case after != "" && before != "":
		writeUnprocessable(w, "You cannot use both startingAfter and endingBefore at the same time.")
		return
	case cursor && sortBy != "createdAt":
		writeUnprocessable(w, "Cursor-based pagination only supports sorting by `createdAt`. Use offset-based pagination (page/pageSize) for other sort fields.")
		return
	case cursor && page > 0:
		writeUnprocessable(w, "You cannot use both page and startingAfter/endingBefore at the same time. Please use one pagination method.")
		return
	}
	tagNames := listParam(q, "tagNames")
	tagIDs := append(listParam(q, "tagIds"), listParam(q, "tagId")...)
	domain := q.Get("domain")
	search := q.Get("search")
	showArchived := q.Get("showArchived") == "true"
	now := s.clock.Now()

	s.mu.Lock()
	defer s.mu.Unlock()
	if cursor {
		id := after + before
		if _, ok := s.byLinkID[id]; !ok {
			writeUnprocessable(w, "Invalid cursor: the provided ID does not exist.")
			return
		}
	}
	var match []*entry
	for _, e := range s.links {
		if (!showArchived && e.Archived) || (domain != "" && e.domain != domain) {
			continue
		}
		if search != "" && !strings.Contains(e.ID, search) && !strings.Contains(e.Destination, search) {
			continue
		}
		if len(tagIDs) > 0 {
			if !s.hasTag(e, func(name string) bool { return contains(tagIDs, s.tagIDs[strings.ToLower(name)]) }) {
				continue
			}
		} else if len(tagNames) > 0 {
			if !s.hasTag(e, func(name string) bool {
				for _, n := range tagNames {
					if strings.EqualFold(n, name) {
						return true
					}
				}
				return false
			}) {
				continue
			}
		}
		match = append(match, e)
	}
	// Newest first; link ids grow with creation, so the offset order
	// (createdAt) and the cursor order (id) agree.
	sort.SliceStable(match, func(i, j int) bool {
		if sortBy == "clicks" {
			ci, cj := match[i].Clicks.At(s.start, now), match[j].Clicks.At(s.start, now)
			if ci != cj {
				return ci > cj
			}
		}
		return match[i].sequence > match[j].sequence
	})
	var out []*entry
	switch {
	case after != "":
		// Cursor pages order by id, which here follows creation.
		seq := s.byLinkID[after].sequence
		for i, e := range match {
			if e.sequence < seq {
				out = match[i:min(i+pageSize, len(match))]
				break
			}
		}
	case before != "":
		seq := s.byLinkID[before].sequence
		n := 0
		for n < len(match) && match[n].sequence > seq {
			n++
		}
		out = match[max(n-pageSize, 0):n]
	default:
		p := max(page, 1)
		lo := min((p-1)*pageSize, len(match))
		out = match[lo:min(lo+pageSize, len(match))]
	}
	body := []map[string]any{}
	for _, e := range out {
		body = append(body, s.linkJSON(e, now))
	}
	fakeapi.WriteJSON(w, http.StatusOK, body)
}

func (s *Server) hasTag(e *entry, match func(name string) bool) bool {
	for _, t := range e.Tags {
		if match(t) {
			return true
		}
	}
	return false
}

// linkInfo is GET /links/info: one link by domain and key, linkId or
// externalId (the fake has no external ids).
func (s *Server) linkInfo(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	domain, key, linkID := q.Get("domain"), q.Get("key"), q.Get("linkId")
	if domain == "" && key == "" && linkID == "" && q.Get("externalId") == "" {
		writeErrorDoc(w, http.StatusBadRequest, "bad_request",
			"You must provide a domain and a key or a linkId or an externalId to retrieve a link.",
			"https://dub.co/docs/api-reference/endpoint/retrieve-a-link")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byLinkID[linkID]
	if linkID == "" {
		e, ok = s.byID[domain+"/"+key]
	}
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "Link not found.")
		return
	}
	fakeapi.WriteJSON(w, http.StatusOK, s.linkJSON(e, s.clock.Now()))
}

// analytics is GET /analytics for event=clicks, grouped by count or
// top_links. The window is interval (default 24h) or start/end; the plan
// bounds it as Dub does, all-time reaching back to the workspace's
// creation.
func (s *Server) analytics(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	refused := s.analyticsStatus
	s.mu.Unlock()
	switch refused {
	case 0:
	case http.StatusForbidden:
		writeError(w, refused, "forbidden", "Analytics are not available on this workspace.")
		return
	case http.StatusNotFound:
		writeError(w, refused, "not_found", "The requested resource was not found.")
		return
	default:
		errorWriter{}.WriteError(w, refused)
		return
	}
	q := r.URL.Query()
	event := q.Get("event")
	if event == "" {
		event = "clicks"
	}
	if event != "clicks" && event != "leads" && event != "sales" && event != "composite" {
		writeUnprocessable(w, "event: Invalid enum value.")
		return
	}
	groupBy := q.Get("groupBy")
	if groupBy == "" {
		groupBy = "count"
	}
	if groupBy != "count" && groupBy != "top_links" {
		// The real API has many more groupings; the fake has two.
		writeUnprocessable(w, "groupBy: not supported by this fake.")
		return
	}
	now := s.clock.Now()
	from, to, ok := s.analyticsWindow(q, now)
	if !ok {
		writeUnprocessable(w, "interval: Invalid enum value.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if msg := s.planLimit(from, to); msg != "" {
		writeError(w, http.StatusForbidden, "forbidden", msg)
		return
	}
	selected := s.links
	if linkID := q.Get("linkId"); linkID != "" {
		e, ok := s.byLinkID[linkID]
		if !ok {
			writeError(w, http.StatusNotFound, "not_found", "Link not found.")
			return
		}
		selected = []*entry{e}
	} else if domain, key := q.Get("domain"), q.Get("key"); key != "" {
		e, ok := s.byID[domain+"/"+key]
		if !ok {
			writeError(w, http.StatusNotFound, "not_found", "Link not found.")
			return
		}
		selected = []*entry{e}
	} else if domain != "" {
		selected = nil
		for _, e := range s.links {
			if e.domain == domain {
				selected = append(selected, e)
			}
		}
	}
	clicksOf := func(e *entry) int64 {
		if event == "leads" || event == "sales" {
			return 0
		}
		return s.clicksAt(e, to) - s.clicksAt(e, from)
	}

	if groupBy == "count" {
		var total int64
		for _, e := range selected {
			total += clicksOf(e)
		}
		fakeapi.WriteJSON(w, http.StatusOK, map[string]any{"clicks": total, "leads": 0, "sales": 0, "saleAmount": 0})
		return
	}
	type row struct {
		e      *entry
		clicks int64
	}
	var rows []row
	for _, e := range selected {
		// Rows come from click events: a link without one is absent.
		if n := clicksOf(e); n > 0 {
			rows = append(rows, row{e, n})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].clicks > rows[j].clicks })
	rows = rows[:min(len(rows), topLinksCap)]
	body := []map[string]any{}
	for _, x := range rows {
		body = append(body, map[string]any{
			"link":       x.e.linkID,
			"id":         x.e.linkID,
			"domain":     x.e.domain,
			"key":        x.e.key,
			"shortLink":  s.shortLink(x.e),
			"url":        x.e.Destination,
			"title":      nil,
			"comments":   nil,
			"folderId":   nil,
			"partnerId":  nil,
			"createdAt":  x.e.created.UTC().Format(time.RFC3339Nano),
			"clicks":     clicksJSON(x.e, x.clicks),
			"leads":      0,
			"sales":      0,
			"saleAmount": 0,
		})
	}
	fakeapi.WriteJSON(w, http.StatusOK, body)
}

// clicksAt is e's click count at t. The clicks a link has when the fake
// starts (Growth.Base) date from the workspace's creation: only windows
// reaching back to it, like interval=all, count them.
func (s *Server) clicksAt(e *entry, t time.Time) int64 {
	if !t.After(s.start.Add(-workspaceAge)) {
		return 0
	}
	return e.Clicks.At(s.start, t)
}

// analyticsWindow returns the analytics window.
func (s *Server) analyticsWindow(q url.Values, now time.Time) (from, to time.Time, ok bool) {
	to = now
	if v := q.Get("end"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return from, to, false
		}
		to = t
	}
	if v := q.Get("start"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		return t, to, err == nil
	}
	interval := q.Get("interval")
	if interval == "" {
		interval = "24h"
	}
	y, m, _ := now.Date()
	switch interval {
	case "24h":
		from = now.Add(-24 * time.Hour)
	case "7d":
		from = now.AddDate(0, 0, -7)
	case "30d":
		from = now.AddDate(0, 0, -30)
	case "90d":
		from = now.AddDate(0, 0, -90)
	case "1y":
		from = now.AddDate(-1, 0, 0)
	case "mtd":
		from = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	case "qtd":
		from = time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, time.UTC)
	case "ytd":
		from = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	case "all":
		from = s.start.Add(-workspaceAge)
	default:
		return from, to, false
	}
	return from, to, true
}

// planLimit is Dub's date-range check per plan; call with s.mu held.
func (s *Server) planLimit(from, to time.Time) string {
	days := to.Sub(from).Hours() / 24
	switch {
	case s.plan == PlanFree && days > 31:
		return "You can only get analytics for up to 30 days on a Free plan. Upgrade to Pro or Business to get analytics for longer periods."
	case s.plan == PlanPro && days > 366:
		return "You can only get analytics for up to 1 year on a Pro plan. Upgrade to Business to get analytics for longer periods."
	}
	return ""
}

func intParam(q url.Values, name string, def int) (int, bool) {
	v := q.Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// listParam reads a list given comma-separated, repeated, or both.
func listParam(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, p := range strings.Split(v, ",") {
			if p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// errorWriter writes Dub's error bodies for injected faults.
type errorWriter struct{}

func (errorWriter) WriteError(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusTooManyRequests:
		writeError(w, status, "rate_limit_exceeded", "Too many requests.")
	case http.StatusInternalServerError:
		// Dub's fallback for unhandled errors spells the anchor in full.
		writeErrorDoc(w, status, "internal_server_error",
			"An internal server error occurred. Please contact our support if the problem persists.",
			docErrorURL+"#internal-server-error")
	default:
		writeError(w, status, strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_")), http.StatusText(status))
	}
}

// writeError writes Dub's error body. Its doc_url anchor swaps only the
// first underscore of the code for a hyphen (#rate-limit_exceeded), as Dub
// does.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeErrorDoc(w, status, code, message, docErrorURL+"#"+strings.Replace(code, "_", "-", 1))
}

func writeErrorDoc(w http.ResponseWriter, status int, code, message, doc string) {
	fakeapi.WriteJSON(w, status, map[string]any{
		"error": map[string]string{"code": code, "message": message, "doc_url": doc},
	})
}

func writeUnprocessable(w http.ResponseWriter, message string) {
	writeErrorDoc(w, http.StatusUnprocessableEntity, "unprocessable_entity", message, docErrorURL+"#unprocessable-entity")
}

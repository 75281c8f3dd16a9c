// Package bitlyfake is a local stand-in for the Bitly API v4 and its short
// links, for tests and the sandbox. It speaks Bitly's wire format: Bearer
// token auth answered with 403 FORBIDDEN, UPPER_SNAKE error messages, group
// link listings paged with search_after, the sorted-by-clicks group listing
// and per-link click summaries. Requests outside /v4/ are short links and
// answer 301 to the link's destination.
//
// The fake has one group, GroupGUID, which is also the user's default group.
package bitlyfake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// GroupGUID is the guid of the fake's only group.
const GroupGUID = "Bf4keGr0up1"

// Bitly's timestamp layout: numeric zone without a colon.
const timeLayout = "2006-01-02T15:04:05-0700"

// Link is a Bitlink the fake serves.
type Link struct {
	// ID is the link as Bitly names it: domain/back-half, bit.ly/alice1.
	ID string
	// Destination is the long URL the short link redirects to.
	Destination string
	Title       string
	Tags        []string
	Archived    bool
	// Clicks is the lifetime click count, growing from the fake's start.
	Clicks fakeapi.Growth
	// ClicksJSON, when set, is the raw JSON the link's click count is
	// sent as, in the clicks summary and the sorted links (which still
	// rank it by Clicks): "\"12\"" for a count sent as a string, "\"n/a\""
	// for one that is not a number.
	ClicksJSON string
}

type entry struct {
	Link
	hash    string
	created time.Time
}

// Server is the fake Bitly. Its zero value is not usable; call New.
type Server struct {
	// Faults switches the API (not the short links) between healthy and
	// failing; Faults.Hits counts API requests.
	Faults fakeapi.Faults
	// ShortLinks serves the short links and builds their URLs from the
	// public URL (SetPublicURL): this server's address.
	fakeapi.ShortLinks

	clock   fakeapi.Clock
	start   time.Time
	api     http.Handler
	mu      sync.Mutex
	links   []*entry // in creation order
	byID    map[string]*entry
	created time.Time
	// sortedStatus, when set, is the status the sorted-by-clicks group
	// listing answers with, as a plan or API version without it does.
	sortedStatus int
	// listingStatus, when set, is the status the group's link listing
	// answers with.
	listingStatus int
}

// RefuseListing makes GET /v4/groups/{guid}/bitlinks answer status with
// Bitly's error body, as for a token that may not list the group's links;
// 0 serves it again.
func (s *Server) RefuseListing(status int) {
	s.mu.Lock()
	s.listingStatus = status
	s.mu.Unlock()
}

// RefuseSorted makes GET /v4/groups/{guid}/bitlinks/clicks answer status
// with Bitly's error body (404 NOT_FOUND, 403 FORBIDDEN, ...), as a plan or
// API version without it does; 0 serves it again.
func (s *Server) RefuseSorted(status int) {
	s.mu.Lock()
	s.sortedStatus = status
	s.mu.Unlock()
}

// New returns a fake accepting token as its only valid access token. Click
// counts grow with clock, from the time New is called.
func New(token string, clock fakeapi.Clock) *Server {
	s := &Server{
		clock: clock,
		start: clock.Now(),
		byID:  map[string]*entry{},
	}
	s.created = s.start.Add(-30 * 24 * time.Hour)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v4/user", s.user)
	mux.HandleFunc("GET /v4/groups/{guid}", s.group)
	mux.HandleFunc("GET /v4/groups/{guid}/bitlinks", s.groupBitlinks)
	mux.HandleFunc("GET /v4/groups/{guid}/bitlinks/{sort}", s.sortedBitlinks)
	// A bitlink travels in the path either with its slash raw or as %2F.
	mux.HandleFunc("GET /v4/bitlinks/{domain}/{hash}", s.bitlink)
	mux.HandleFunc("GET /v4/bitlinks/{bitlink}", s.bitlink)
	mux.HandleFunc("GET /v4/bitlinks/{domain}/{hash}/clicks/summary", s.clicksSummary)
	mux.HandleFunc("GET /v4/bitlinks/{bitlink}/clicks/summary", s.clicksSummary)
	mux.HandleFunc("/v4/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "")
	})
	// Bitly answers a missing or wrong token with 403.
	deny := func(w http.ResponseWriter) { writeError(w, http.StatusForbidden, "") }
	s.api = s.Faults.Wrap(fakeapi.RequireHeader("Authorization", "Bearer "+token, deny, mux), errorWriter{})
	return s
}

// AddLink adds a link, or replaces the one with the same ID. Later links
// are newer: listings show them first. The short link is served on the
// public URL by its back-half; of links on two domains sharing one, the
// last added is.
func (s *Server) AddLink(l Link) {
	_, hash, ok := strings.Cut(l.ID, "/")
	if !ok || hash == "" {
		panic("bitlyfake: link id must be domain/back-half, got " + strconv.Quote(l.ID))
	}
	l.Tags = append([]string(nil), l.Tags...)
	s.AddShortLink(hash, l.Destination)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.byID[l.ID]; ok {
		old.Link = l
		return
	}
	e := &entry{Link: l, hash: hash, created: s.created.Add(time.Duration(len(s.links)) * time.Minute)}
	s.links = append(s.links, e)
	s.byID[l.ID] = e
}

// ServeHTTP serves the API under /v4/ and the short links everywhere else.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/v4/") {
		s.api.ServeHTTP(w, r)
		return
	}
	s.ServeRedirect(w, r)
}

func (s *Server) user(w http.ResponseWriter, _ *http.Request) {
	fakeapi.WriteJSON(w, http.StatusOK, map[string]any{
		"login":              "sandbox",
		"name":               "Sandbox User",
		"is_active":          true,
		"created":            s.created.UTC().Format(timeLayout),
		"modified":           s.created.UTC().Format(timeLayout),
		"is_sso_user":        false,
		"is_2fa_enabled":     false,
		"default_group_guid": GroupGUID,
		"emails": []map[string]any{
			{"email": "sandbox@example.com", "is_primary": true, "is_verified": true},
		},
	})
}

// OrganizationGUID is the guid of the organization the fake's group
// belongs to.
const OrganizationGUID = "Of4keOrg001"

// group is GET /v4/groups/{guid}, in the shape of Bitly's Group object.
func (s *Server) group(w http.ResponseWriter, r *http.Request) {
	if !s.checkGroup(w, r) {
		return
	}
	base := apiBase(r)
	fakeapi.WriteJSON(w, http.StatusOK, map[string]any{
		"created":           s.created.UTC().Format(timeLayout),
		"modified":          s.created.UTC().Format(timeLayout),
		"bsds":              []string{},
		"guid":              GroupGUID,
		"organization_guid": OrganizationGUID,
		"name":              "Sandbox group",
		"is_active":         true,
		"role":              "org-admin",
		"references":        map[string]string{"organization": base + "/v4/organizations/" + OrganizationGUID},
	})
}

// bitlinkJSON is a Bitlink as the API returns it.
type bitlinkJSON struct {
	References     map[string]string `json:"references"`
	Link           string            `json:"link"`
	ID             string            `json:"id"`
	LongURL        string            `json:"long_url"`
	Title          string            `json:"title"`
	Archived       bool              `json:"archived"`
	CreatedAt      string            `json:"created_at"`
	CreatedBy      string            `json:"created_by"`
	ClientID       string            `json:"client_id"`
	CustomBitlinks []string          `json:"custom_bitlinks"`
	Tags           []string          `json:"tags"`
	Deeplinks      []any             `json:"deeplinks"`
}

// toJSON renders e; call with s.mu held.
func (s *Server) toJSON(e *entry, apiBase string) bitlinkJSON {
	// Without a public URL the link stands on its own domain, as Bitly's do.
	link := "https://" + e.ID
	if s.PublicHost() != "" {
		link = s.ShortURL(e.hash)
	}
	tags := e.Tags
	if tags == nil {
		tags = []string{}
	}
	return bitlinkJSON{
		References:     map[string]string{"group": apiBase + "/v4/groups/" + GroupGUID},
		Link:           link,
		ID:             e.ID,
		LongURL:        e.Destination,
		Title:          e.Title,
		Archived:       e.Archived,
		CreatedAt:      e.created.UTC().Format(timeLayout),
		CreatedBy:      "sandbox",
		ClientID:       "",
		CustomBitlinks: []string{},
		Tags:           tags,
		Deeplinks:      []any{},
	}
}

func apiBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) checkGroup(w http.ResponseWriter, r *http.Request) bool {
	if r.PathValue("guid") != GroupGUID {
		writeError(w, http.StatusNotFound, "groups")
		return false
	}
	return true
}

// groupBitlinks is GET /v4/groups/{guid}/bitlinks: newest first, filtered
// by tags (a link matches if it has any of them: any/all is not documented)
// and archived (off by default), paged with an opaque search_after token.
func (s *Server) groupBitlinks(w http.ResponseWriter, r *http.Request) {
	if !s.checkGroup(w, r) {
		return
	}
	s.mu.Lock()
	refused := s.listingStatus
	s.mu.Unlock()
	if refused != 0 {
		writeError(w, refused, "bitlinks")
		return
	}
	q := r.URL.Query()
	size, ok := intParam(q, "size", 50)
	if !ok || size < 1 {
		writeInvalidArg(w, "size")
		return
	}
	// Real maximum not documented; clients page with 100.
	size = min(size, 100)
	offset := 0
	if tok := q.Get("search_after"); tok != "" {
		n, err := decodeCursor(tok)
		if err != nil {
			writeInvalidArg(w, "search_after")
			return
		}
		offset = n
	}
	archived := q.Get("archived")
	if archived == "" {
		archived = "off"
	}
	if archived != "on" && archived != "off" && archived != "both" {
		writeInvalidArg(w, "archived")
		return
	}
	tags := q["tags"]

	s.mu.Lock()
	var match []*entry
	for i := len(s.links) - 1; i >= 0; i-- {
		e := s.links[i]
		if (archived == "off" && e.Archived) || (archived == "on" && !e.Archived) {
			continue
		}
		if len(tags) > 0 && !hasAny(e.Tags, tags) {
			continue
		}
		match = append(match, e)
	}
	end := min(offset+size, len(match))
	page := []bitlinkJSON{}
	for _, e := range match[min(offset, end):end] {
		page = append(page, s.toJSON(e, apiBase(r)))
	}
	s.mu.Unlock()

	pagination := map[string]any{"prev": "", "next": "", "size": size, "search_after": ""}
	if end < len(match) {
		tok := encodeCursor(end)
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("search_after", tok)
		pagination["search_after"] = tok
		pagination["next"] = apiBase(r) + r.URL.Path + "?" + nq.Encode()
	}
	fakeapi.WriteJSON(w, http.StatusOK, map[string]any{"links": page, "pagination": pagination})
}

// sortedBitlinks is GET /v4/groups/{guid}/bitlinks/clicks: the most clicked
// links of the window, not paged. Links without a click in the window are
// left out, as click metrics come from click events (unconfirmed).
func (s *Server) sortedBitlinks(w http.ResponseWriter, r *http.Request) {
	if !s.checkGroup(w, r) {
		return
	}
	if r.PathValue("sort") != "clicks" {
		writeInvalidArg(w, "sort")
		return
	}
	s.mu.Lock()
	refused := s.sortedStatus
	s.mu.Unlock()
	if refused != 0 {
		writeError(w, refused, "bitlinks")
		return
	}
	q := r.URL.Query()
	window, ok := parseWindow(w, q)
	if !ok {
		return
	}
	size, ok := intParam(q, "size", 50)
	if !ok || size < 1 {
		writeInvalidArg(w, "size")
		return
	}
	now := s.clock.Now()

	type ranked struct {
		e      *entry
		clicks int64
	}
	s.mu.Lock()
	var rs []ranked
	for _, e := range s.links {
		if n := s.clicksIn(e, now, window); n > 0 {
			rs = append(rs, ranked{e, n})
		}
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].clicks > rs[j].clicks })
	rs = rs[:min(size, len(rs))]
	links := []bitlinkJSON{}
	sorted := []map[string]any{}
	for _, x := range rs {
		links = append(links, s.toJSON(x.e, apiBase(r)))
		sorted = append(sorted, map[string]any{"id": x.e.ID, "clicks": clicksJSON(x.e, x.clicks)})
	}
	s.mu.Unlock()
	fakeapi.WriteJSON(w, http.StatusOK, map[string]any{"links": links, "sorted_links": sorted})
}

// lookup finds the bitlink of the request path, either form.
func (s *Server) lookup(r *http.Request) (*entry, bool) {
	id := r.PathValue("bitlink")
	if id == "" {
		id = r.PathValue("domain") + "/" + r.PathValue("hash")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byID[id]
	return e, ok
}

func (s *Server) bitlink(w http.ResponseWriter, r *http.Request) {
	e, ok := s.lookup(r)
	if !ok {
		writeError(w, http.StatusNotFound, "bitlinks")
		return
	}
	s.mu.Lock()
	b := s.toJSON(e, apiBase(r))
	s.mu.Unlock()
	fakeapi.WriteJSON(w, http.StatusOK, b)
}

func (s *Server) clicksSummary(w http.ResponseWriter, r *http.Request) {
	e, ok := s.lookup(r)
	if !ok {
		writeError(w, http.StatusNotFound, "bitlinks")
		return
	}
	q := r.URL.Query()
	window, ok := parseWindow(w, q)
	if !ok {
		return
	}
	now := s.clock.Now()
	s.mu.Lock()
	total := clicksJSON(e, s.clicksIn(e, now, window))
	s.mu.Unlock()
	fakeapi.WriteJSON(w, http.StatusOK, map[string]any{
		"unit_reference": now.UTC().Format(timeLayout),
		"total_clicks":   total,
		"units":          window.units,
		"unit":           window.unit,
	})
}

// clicksJSON is the count n of e as the fake sends it: a number, or
// e.ClicksJSON when set. Call with s.mu held.
func clicksJSON(e *entry, n int64) any {
	if e.ClicksJSON != "" {
		return json.RawMessage(e.ClicksJSON)
	}
	return n
}

// window is the unit/units pair of a metrics request; units -1 is all time.
type window struct {
	unit  string
	units int
	span  time.Duration
}

var unitSpans = map[string]time.Duration{
	"minute": time.Minute,
	"hour":   time.Hour,
	"day":    24 * time.Hour,
	"week":   7 * 24 * time.Hour,
	"month":  30 * 24 * time.Hour,
}

// parseWindow reads the unit and units of a metrics request, answering
// Bitly's invalid argument error if they are not a window.
func parseWindow(rw http.ResponseWriter, q url.Values) (window, bool) {
	w := window{unit: q.Get("unit"), units: -1}
	if w.unit == "" {
		w.unit = "day"
	}
	span, okUnit := unitSpans[w.unit]
	units, okUnits := intParam(q, "units", -1)
	if !okUnit || !okUnits || units == 0 || units < -1 {
		writeInvalidArg(rw, "unit")
		return w, false
	}
	w.units = units
	if units > 0 {
		w.span = time.Duration(units) * span
	}
	return w, true
}

// clicksIn counts e's clicks in the window ending at now; call with s.mu
// held.
func (s *Server) clicksIn(e *entry, now time.Time, w window) int64 {
	total := e.Clicks.At(s.start, now)
	if w.units == -1 {
		return total
	}
	return total - e.Clicks.At(s.start, now.Add(-w.span))
}

func intParam(q url.Values, name string, def int) (int, bool) {
	v := q.Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

func hasAny(have, want []string) bool {
	for _, w := range want {
		for _, h := range have {
			if h == w {
				return true
			}
		}
	}
	return false
}

func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset)))
}

func decodeCursor(tok string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimPrefix(string(b), "o:"))
}

// errorWriter writes Bitly's error bodies for injected faults.
type errorWriter struct{}

func (errorWriter) WriteError(w http.ResponseWriter, status int) { writeError(w, status, "") }

// Bitly's error messages are UPPER_SNAKE codes with a sentence beside them.
var errorBodies = map[int][2]string{
	http.StatusBadRequest:          {"BAD_REQUEST", "The request was invalid."},
	http.StatusForbidden:           {"FORBIDDEN", "You are currently forbidden to access this resource."},
	http.StatusNotFound:            {"NOT_FOUND", "What you are looking for cannot be found."},
	http.StatusInternalServerError: {"INTERNAL_ERROR", "An internal error occurred."},
	http.StatusServiceUnavailable:  {"TEMPORARILY_UNAVAILABLE", "The service is temporarily unavailable."},
}

func writeError(w http.ResponseWriter, status int, resource string) {
	if status == http.StatusTooManyRequests {
		// Bitly's 429 body carries the code only, and no rate-limit
		// headers come with it.
		fakeapi.WriteJSON(w, status, map[string]any{"message": "RATE_LIMIT_EXCEEDED"})
		return
	}
	b, ok := errorBodies[status]
	if !ok {
		b = [2]string{strings.ToUpper(strings.ReplaceAll(http.StatusText(status), " ", "_")), http.StatusText(status)}
	}
	fakeapi.WriteJSON(w, status, map[string]any{"message": b[0], "resource": resource, "description": b[1]})
}

func writeInvalidArg(w http.ResponseWriter, field string) {
	fakeapi.WriteJSON(w, http.StatusBadRequest, map[string]any{
		"message":     "INVALID_ARG_" + strings.ToUpper(field),
		"resource":    "bitlinks",
		"description": "The value provided is invalid.",
		"errors":      []map[string]string{{"field": field, "error_code": "invalid"}},
	})
}

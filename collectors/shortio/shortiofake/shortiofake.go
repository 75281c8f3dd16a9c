// Package shortiofake is a fake Short.io API for tests and the sandbox. It
// speaks Short.io's wire format on one server: the links API
// (GET /api/domains, GET /api/links, GET /links/expand, GET /domains/{id}),
// the statistics API
// (GET /statistics/domain/{id}/link_clicks) and the short links themselves
// (GET /{path} answers 301 to the destination). Point both base_url and
// options.statistics_base_url of the collector at it.
//
// Authentication is the raw secret key in Authorization; anything else
// gets 401 {"error":"Unauthorized"}. Domains get ids in the order their
// hostnames first appear, from FirstDomainID up.
package shortiofake

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// FirstDomainID is the id of the first domain a fake knows.
const FirstDomainID = 410001

const (
	pageLimit   = 150 // largest page of GET /api/links
	maxStatsIDs = 150 // ids one link_clicks call accepts here (the real limit is undocumented)
)

// Link is a short link the fake serves.
type Link struct {
	// ID is the short link without scheme: hostname/path, like short.gy/alice.
	ID string
	// Destination is the long URL the short link redirects to.
	Destination string
	Tags        []string
	// Clicks is the link's click count over time.
	Clicks fakeapi.Growth
	// Archived links are listed with "archived": true, as GET /api/links
	// has no documented filter for them (unconfirmed).
	Archived bool
	// ClicksJSON, when set, is the raw JSON link_clicks answers for the
	// link instead of its count: "\"12\"" for a count sent as a string,
	// "\"n/a\"" for one that is not a number.
	ClicksJSON string
}

type link struct {
	Link
	host, path string
	domainID   int64
	idString   string
	createdAt  time.Time
}

// Server is the fake. Use New.
type Server struct {
	// Faults switches the API endpoints to failing; short link redirects
	// are not affected, and Hits counts API calls only.
	Faults fakeapi.Faults
	// ShortLinks serves the short links and sets the public base URL
	// (SetPublicURL) the shortURL of links is built from.
	fakeapi.ShortLinks

	clock fakeapi.Clock
	start time.Time
	api   http.Handler // Faults, then the key check, then serveAPI

	mu      sync.Mutex
	links   []*link
	domains map[string]int64
	hosts   map[int64]string
	// stringCounts sends the listing's count as a string ("150").
	stringCounts bool
}

// SetStringCounts makes GET /api/links send its count as a numeric
// string, as it has been seen to.
func (s *Server) SetStringCounts(on bool) {
	s.mu.Lock()
	s.stringCounts = on
	s.mu.Unlock()
}

// New returns a fake accepting token as the secret API key; click counts
// grow from clock's time at New.
func New(token string, clock fakeapi.Clock) *Server {
	s := &Server{
		clock:   clock,
		start:   clock.Now(),
		domains: map[string]int64{},
		hosts:   map[int64]string{},
	}
	s.SetPublicURL("http://127.0.0.1")
	deny := func(w http.ResponseWriter) { writeError(w, http.StatusUnauthorized, "Unauthorized") }
	s.api = s.Faults.Wrap(fakeapi.RequireHeader("Authorization", token, deny, http.HandlerFunc(s.serveAPI)), errorWriter{})
	return s
}

// AddLink adds a link, creating its domain if new. All domains share the
// server, so the last link added with a path serves it; archived links
// still redirect, as Short.io's do (archiving hides a link from the
// dashboard's list).
func (s *Server) AddLink(l Link) {
	host, path, _ := strings.Cut(l.ID, "/")
	host = strings.ToLower(host)
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.domainLocked(host)
	sum := sha1.Sum([]byte(l.ID))
	if path != "" {
		s.AddShortLink(path, l.Destination)
	}
	s.links = append(s.links, &link{
		Link:     l,
		host:     host,
		path:     path,
		domainID: id,
		idString: "lnk_" + strconv.FormatInt(id, 36) + "_" + base64.RawURLEncoding.EncodeToString(sum[:12]),
		// Created a second apart, in the order added, before the start.
		createdAt: s.start.Add(-24*time.Hour + time.Duration(len(s.links))*time.Second).UTC(),
	})
}

// RemoveLink deletes the link with the given ID: the API no longer knows
// it and its clicks. Its short link keeps redirecting in the fake.
func (s *Server) RemoveLink(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.links = slices.DeleteFunc(s.links, func(l *link) bool { return l.ID == id })
}

// DomainID returns the id of the domain with hostname, creating it if new.
func (s *Server) DomainID(hostname string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.domainLocked(strings.ToLower(hostname))
}

func (s *Server) domainLocked(host string) int64 {
	if id, ok := s.domains[host]; ok {
		return id
	}
	id := int64(FirstDomainID + len(s.domains))
	s.domains[host] = id
	s.hosts[id] = host
	return id
}

// ServeHTTP serves the API and the short links, with 301 to the
// destination, the redirect type Short.io uses by default.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/api/domains", p == "/api/links", p == "/links/expand", strings.HasPrefix(p, "/domains/"), strings.HasPrefix(p, "/statistics/"):
		s.api.ServeHTTP(w, r)
	default:
		s.ServeRedirect(w, r)
	}
}

type errorWriter struct{}

// WriteError writes Short.io's {"error": "..."} body.
func (errorWriter) WriteError(w http.ResponseWriter, status int) {
	writeError(w, status, http.StatusText(status))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	fakeapi.WriteJSON(w, status, map[string]string{"error": msg})
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	p := r.URL.Path
	switch {
	case p == "/api/domains":
		s.listDomains(w)
	case p == "/api/links":
		s.listLinks(w, r)
	case p == "/links/expand":
		s.expand(w, r)
	case strings.HasPrefix(p, "/domains/"):
		s.getDomain(w, strings.TrimPrefix(p, "/domains/"))
	case strings.HasPrefix(p, "/statistics/domain/") && strings.HasSuffix(p, "/link_clicks"):
		s.linkClicks(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "/statistics/domain/"), "/link_clicks"))
	default:
		writeError(w, http.StatusNotFound, "Not Found")
	}
}

func (s *Server) domainByParam(w http.ResponseWriter, raw string) (int64, bool) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "domain_id must be a number")
		return 0, false
	}
	s.mu.Lock()
	_, ok := s.hosts[id]
	s.mu.Unlock()
	if !ok {
		fakeapi.WriteJSON(w, http.StatusForbidden, map[string]string{"error": "Access denied", "type": "accessDenied"})
		return 0, false
	}
	return id, true
}

func (s *Server) getDomain(w http.ResponseWriter, raw string) {
	id, ok := s.domainByParam(w, raw)
	if !ok {
		return
	}
	s.mu.Lock()
	host := s.hosts[id]
	s.mu.Unlock()
	fakeapi.WriteJSON(w, http.StatusOK, s.domainJSON(id, host))
}

// listDomains is GET /api/domains: a bare array of every domain the key
// reads, in the shape of GET /domains/{id}, oldest first.
func (s *Server) listDomains(w http.ResponseWriter) {
	s.mu.Lock()
	ids := make([]int64, 0, len(s.hosts))
	for id := range s.hosts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		out = append(out, s.domainJSON(id, s.hosts[id]))
	}
	s.mu.Unlock()
	fakeapi.WriteJSON(w, http.StatusOK, out)
}

// domainJSON is a domain object as Short.io sends it.
func (s *Server) domainJSON(id int64, host string) map[string]any {
	return map[string]any{
		"id":               id,
		"hostname":         host,
		"unicodeHostname":  host,
		"state":            "configured",
		"createdAt":        s.start.UTC().Format(time.RFC3339Nano),
		"updatedAt":        s.start.UTC().Format(time.RFC3339Nano),
		"hasFavicon":       false,
		"hideReferer":      false,
		"linkType":         "random",
		"cloaking":         false,
		"hideVisitorIp":    false,
		"enableAI":         false,
		"httpsLevel":       "none",
		"httpsLinks":       false,
		"clientStorage":    map[string]any{},
		"caseSensitive":    false,
		"incrementCounter": "a",
		"robots":           "allow",
		"exportEnabled":    false,
		"ipExclusions":     []string{},
		"userPlan":         "standard",
	}
}

// listLinks pages with an opaque token; the last page has no
// nextPageToken.
func (s *Server) listLinks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id, ok := s.domainByParam(w, q.Get("domain_id"))
	if !ok {
		return
	}
	limit := pageLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > pageLimit {
			writeError(w, http.StatusBadRequest, "querystring/limit must be <= 150")
			return
		}
		limit = n
	}
	offset := 0
	if tok := q.Get("pageToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "o:"))
		if err != nil || err2 != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "Invalid pageToken")
			return
		}
		offset = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var domainLinks []*link
	for _, l := range s.links {
		if l.domainID == id {
			domainLinks = append(domainLinks, l)
		}
	}
	end := min(offset+limit, len(domainLinks))
	page := []map[string]any{}
	for _, l := range domainLinks[min(offset, end):end] {
		page = append(page, s.linkJSON(l))
	}
	body := map[string]any{"count": len(page), "links": page}
	if s.stringCounts {
		body["count"] = strconv.Itoa(len(page))
	}
	if end < len(domainLinks) {
		body["nextPageToken"] = base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(end)))
	}
	fakeapi.WriteJSON(w, http.StatusOK, body)
}

// expand is GET /links/expand?domain=<hostname>&path=<path>: the link
// object of the listing, or 404 if the domain has no link with the path.
// The root link has path "". A domain the key cannot read answers 403.
func (s *Server) expand(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	host := strings.ToLower(q.Get("domain"))
	if host == "" || !q.Has("path") {
		writeError(w, http.StatusBadRequest, "querystring must have required properties 'domain' and 'path'")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.domains[host]; !ok {
		fakeapi.WriteJSON(w, http.StatusForbidden, map[string]string{"error": "Access denied", "type": "accessDenied"})
		return
	}
	path := q.Get("path")
	for i := len(s.links) - 1; i >= 0; i-- {
		if l := s.links[i]; l.host == host && l.path == path {
			fakeapi.WriteJSON(w, http.StatusOK, s.linkJSON(l))
			return
		}
	}
	writeError(w, http.StatusNotFound, "Link not found")
}

func (s *Server) linkJSON(l *link) map[string]any {
	short := s.ShortURL(l.path)
	secure := short
	if rest, ok := strings.CutPrefix(short, "http://"); ok {
		secure = "https://" + rest
	}
	tags := l.Tags
	if tags == nil {
		tags = []string{}
	}
	return map[string]any{
		"id":             l.idString,
		"idString":       l.idString,
		"path":           l.path,
		"title":          "",
		"originalURL":    l.Destination,
		"shortURL":       short,
		"secureShortURL": secure,
		"tags":           tags,
		"archived":       l.Archived,
		"cloaking":       false,
		"redirectType":   "301",
		"source":         "api",
		"DomainId":       l.domainID,
		"OwnerId":        1,
		"hasPassword":    false,
		"createdAt":      l.createdAt.Format("2006-01-02T15:04:05.000Z"),
		"updatedAt":      l.createdAt.Format("2006-01-02T15:04:05.000Z"),
	}
}

// linkClicks answers {"<idString>": clicks} for the ids of the domain with
// at least one click, as Short.io leaves out links without clicks.
func (s *Server) linkClicks(w http.ResponseWriter, r *http.Request, rawDomain string) {
	id, ok := s.domainByParam(w, rawDomain)
	if !ok {
		return
	}
	ids := strings.Split(r.URL.Query().Get("ids"), ",")
	if len(ids) == 0 || ids[0] == "" {
		writeError(w, http.StatusBadRequest, "querystring must have required property 'ids'")
		return
	}
	if len(ids) > maxStatsIDs {
		writeError(w, http.StatusBadRequest, "too many ids")
		return
	}
	want := make(map[string]bool, len(ids))
	for _, v := range ids {
		want[v] = true
	}
	now := s.clock.Now()
	out := map[string]any{}
	s.mu.Lock()
	for _, l := range s.links {
		if l.domainID != id || !want[l.idString] {
			continue
		}
		if l.ClicksJSON != "" {
			out[l.idString] = json.RawMessage(l.ClicksJSON)
		} else if n := l.Clicks.At(s.start, now); n > 0 {
			out[l.idString] = n
		}
	}
	s.mu.Unlock()
	fakeapi.WriteJSON(w, http.StatusOK, out)
}

// IDString returns the Short.io link id (idString) the fake gave the link
// with the given ID, or "" if there is none.
func (s *Server) IDString(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.links {
		if l.ID == id {
			return l.idString
		}
	}
	return ""
}

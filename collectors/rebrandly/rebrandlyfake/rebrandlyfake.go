// Package rebrandlyfake is a fake Rebrandly API v1 for tests and the
// sandbox. It serves GET /v1/account, GET /v1/links (25 a page, `last`
// cursor, newest first, filtered by domain.fullName, domain.id and
// slashtag), GET /v1/links/count, GET /v1/links/{id} and GET /v1/tags,
// with the key in the `apikey` header, and the short links themselves: GET
// /{slashtag} answers 301 to the destination. Point the collector's
// base_url at PublicURL + "/v1".
//
// Error bodies follow Rebrandly's {"code","message","source"} shape. The
// 404 body is documented; the bodies of 401 (a wrong, missing or revoked
// key), 429 and 500 are not, so they are modelled on it.
package rebrandlyfake

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const pageLimit = 25

// Link is a short link the fake serves.
type Link struct {
	// ID is the short link without scheme: domain/slashtag, like
	// rebrand.ly/alice.
	ID string
	// Destination is the long URL the short link redirects to.
	Destination string
	// Tags are tag names.
	Tags []string
	// Clicks is the link's click count over time.
	Clicks fakeapi.Growth
	// ClicksJSON, when set, is the raw JSON the link's clicks field
	// carries instead of its count: "\"12\"" for a count sent as a
	// string, "\"n/a\"" for one that is not a number.
	ClicksJSON string
}

type link struct {
	Link
	id, domain, slashtag string
	createdAt            time.Time
}

// Server is the fake. Use New.
type Server struct {
	// Faults switches the API to failing; short link redirects are not
	// affected, and Hits counts API calls only.
	Faults fakeapi.Faults
	// ShortLinks serves the short links and sets the public base URL
	// (SetPublicURL) links report, without scheme, as shortUrl; https
	// tells whether the scheme is https.
	fakeapi.ShortLinks

	clock fakeapi.Clock
	start time.Time
	api   http.Handler // Faults, then the key check, then serveAPI

	mu        sync.Mutex
	workspace string
	links     []*link
}

// New returns a fake accepting token as the API key; click counts grow
// from clock's time at New.
func New(token string, clock fakeapi.Clock) *Server {
	s := &Server{clock: clock, start: clock.Now()}
	s.SetPublicURL("http://127.0.0.1")
	deny := func(w http.ResponseWriter) { errorWriter{}.WriteError(w, http.StatusUnauthorized) }
	s.api = s.Faults.Wrap(fakeapi.RequireHeader("apikey", token, deny, http.HandlerFunc(s.serveAPI)), errorWriter{})
	return s
}

// SetWorkspace puts the links in the workspace with this id: requests must
// then name it in the `workspace` header; without the header they read the
// account's default workspace, which is empty.
func (s *Server) SetWorkspace(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.workspace = id
}

// AddLink adds a link. All domains share the server, so the last link
// added with a slashtag serves it.
func (s *Server) AddLink(l Link) {
	domain, slashtag, _ := strings.Cut(l.ID, "/")
	if slashtag != "" {
		s.AddShortLink(slashtag, l.Destination)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.links = append(s.links, &link{
		Link:     l,
		id:       hexID("link:" + l.ID),
		domain:   domain,
		slashtag: slashtag,
		// A second apart in the order added, before the start.
		createdAt: s.start.Add(-24*time.Hour + time.Duration(len(s.links))*time.Second).UTC(),
	})
}

// RemoveLink deletes the link with the given ID from the API, as deleting
// it in Rebrandly does: listings leave it out, and a `last` cursor naming
// it answers 404. Its short link is left as it is.
func (s *Server) RemoveLink(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.links = slices.DeleteFunc(s.links, func(l *link) bool { return l.ID == id })
}

// LinkID returns the Rebrandly id the fake gave the link with the given
// ID, or "".
func (s *Server) LinkID(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.links {
		if l.ID == id {
			return l.id
		}
	}
	return ""
}

// hexID makes the 32 hex digit ids Rebrandly uses.
func hexID(seed string) string {
	sum := md5.Sum([]byte(seed))
	return hex.EncodeToString(sum[:])
}

// ServeHTTP serves the API under /v1 and the short links elsewhere, with
// 301 to the destination.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1" || strings.HasPrefix(r.URL.Path, "/v1/") {
		s.api.ServeHTTP(w, r)
		return
	}
	s.ServeRedirect(w, r)
}

type errorWriter struct{}

// WriteError writes a Rebrandly-style error body.
func (errorWriter) WriteError(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusTooManyRequests:
		writeError(w, status, "RateLimitExceeded", "Too many requests", "")
	case http.StatusUnauthorized:
		writeError(w, status, "Unauthorized", "Unauthorized", "apikey")
	default:
		writeError(w, status, "InternalServerError", "Internal server error", "")
	}
}

func writeError(w http.ResponseWriter, status int, code, msg, source string) {
	body := map[string]any{"code": code, "message": msg}
	if source != "" {
		body["source"] = source
	}
	fakeapi.WriteJSON(w, status, body)
}

func notFound(w http.ResponseWriter, source, id string) {
	fakeapi.WriteJSON(w, http.StatusNotFound, map[string]any{
		"source": source, "message": "Not found", "code": "NotFound", "id": id,
	})
}

// invalid answers a bad query parameter the way Rebrandly reports
// validation failures: 403 InvalidFormat with the property in errors[].
func invalid(w http.ResponseWriter, property, msg string) {
	fakeapi.WriteJSON(w, http.StatusForbidden, map[string]any{
		"code":    "InvalidFormat",
		"message": "Invalid format",
		"source":  property,
		"errors": []map[string]string{{
			"code": "InvalidFormat", "property": property, "message": msg,
			"verbose": property + " " + msg,
		}},
	})
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Method not allowed", "")
		return
	}
	if r.URL.Path == "/v1/account" {
		// The account is the key's user, whatever the workspace header
		// says (decided: Rebrandly documents no workspace effect here).
		s.account(w)
		return
	}
	links, ok := s.workspaceLinks(w, r.Header.Get("workspace"))
	if !ok {
		return
	}
	switch p := strings.TrimPrefix(r.URL.Path, "/v1"); {
	case p == "/links":
		s.listLinks(w, r, links)
	case p == "/links/count":
		fakeapi.WriteJSON(w, http.StatusOK, map[string]int{"count": len(filter(links, r.URL.Query()))})
	case strings.HasPrefix(p, "/links/"):
		id := strings.TrimPrefix(p, "/links/")
		for _, l := range links {
			if l.id == id {
				fakeapi.WriteJSON(w, http.StatusOK, s.linkJSON(l))
				return
			}
		}
		notFound(w, "link", id)
	case p == "/tags":
		s.listTags(w, links)
	default:
		notFound(w, "endpoint", p)
	}
}

// workspaceLinks returns the links the workspace header gives access to.
func (s *Server) workspaceLinks(w http.ResponseWriter, ws string) ([]*link, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case ws == "" && s.workspace != "":
		return nil, true // the default workspace, which is empty
	case ws != s.workspace:
		notFound(w, "workspace", ws)
		return nil, false
	}
	return append([]*link(nil), s.links...), true
}

// Account is the username of the fake's account.
const Account = "sandbox"

// account is GET /v1/account, in the shape of Rebrandly's account object.
func (s *Server) account(w http.ResponseWriter) {
	s.mu.Lock()
	n := len(s.links)
	s.mu.Unlock()
	ts := s.start.Add(-365 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
	fakeapi.WriteJSON(w, http.StatusOK, map[string]any{
		"id":        hexID("account"),
		"createdAt": ts,
		"username":  Account,
		"email":     "sandbox@example.com",
		"fullName":  "Sandbox",
		"avatarUrl": "",
		"subscription": map[string]any{
			"category":  "free",
			"createdAt": ts,
			"limits": map[string]any{
				"links":   map[string]int{"used": n, "included": 500, "blocked": 0},
				"domains": map[string]int{"used": 1, "included": 1},
			},
		},
	})
}

func filter(links []*link, q url.Values) []*link {
	var out []*link
	for _, l := range links {
		if v := q.Get("domain.fullName"); v != "" && !strings.EqualFold(v, l.domain) {
			continue
		}
		if v := q.Get("domain.id"); v != "" && v != hexID("domain:"+l.domain) {
			continue
		}
		if v := q.Get("slashtag"); v != "" && v != l.slashtag {
			continue
		}
		out = append(out, l)
	}
	return out
}

func (s *Server) listLinks(w http.ResponseWriter, r *http.Request, links []*link) {
	q := r.URL.Query()
	limit := pageLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > pageLimit {
			invalid(w, "limit", "must be an integer between 1 and 25")
			return
		}
		limit = n
	}
	links = filter(links, q)
	// Newest first by default, like Rebrandly; orderDir=asc reverses.
	if q.Get("orderDir") != "asc" {
		for i, j := 0, len(links)-1; i < j; i, j = i+1, j-1 {
			links[i], links[j] = links[j], links[i]
		}
	}
	start := 0
	if last := q.Get("last"); last != "" {
		start = -1
		for i, l := range links {
			if l.id == last {
				start = i + 1
				break
			}
		}
		if start < 0 {
			notFound(w, "link", last)
			return
		}
	}
	end := min(start+limit, len(links))
	page := []map[string]any{}
	for _, l := range links[start:end] {
		page = append(page, s.linkJSON(l))
	}
	fakeapi.WriteJSON(w, http.StatusOK, page)
}

func (s *Server) listTags(w http.ResponseWriter, links []*link) {
	seen := map[string]bool{}
	tags := []map[string]any{}
	for _, l := range links {
		for _, t := range l.Tags {
			if !seen[t] {
				seen[t] = true
				tags = append(tags, map[string]any{"id": hexID("tag:" + t), "name": t, "color": "FF9944"})
			}
		}
	}
	fakeapi.WriteJSON(w, http.StatusOK, tags)
}

func (s *Server) linkJSON(l *link) map[string]any {
	scheme, shortURL, _ := strings.Cut(s.ShortURL(l.slashtag), "://")
	clicks := l.Clicks.At(s.start, s.clock.Now())
	tags := []map[string]any{}
	for _, t := range l.Tags {
		tags = append(tags, map[string]any{"id": hexID("tag:" + t), "name": t, "color": "FF9944", "active": true, "clicks": 0})
	}
	domainID := hexID("domain:" + l.domain)
	ts := l.createdAt.Format("2006-01-02T15:04:05.000Z")
	var clicksJSON any = clicks
	if l.ClicksJSON != "" {
		clicksJSON = json.RawMessage(l.ClicksJSON)
	}
	return map[string]any{
		"id":                l.id,
		"title":             l.slashtag,
		"slashtag":          l.slashtag,
		"destination":       l.Destination,
		"createdAt":         ts,
		"updatedAt":         ts,
		"status":            "active",
		"tags":              tags,
		"scripts":           []any{},
		"forwardParameters": true,
		"clicks":            clicksJSON,
		"sessions":          clicks,
		"lastClickAt":       s.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"isPublic":          false,
		"shortUrl":          shortURL,
		"domainId":          domainID,
		"domainName":        l.domain,
		"domain": map[string]any{
			"id": domainID, "ref": "/domains/" + domainID, "fullName": l.domain, "active": true,
		},
		"https":      scheme == "https",
		"favourite":  false,
		"creator":    map[string]any{"id": hexID("creator"), "fullName": "Sandbox", "avatarUrl": ""},
		"integrated": false,
	}
}

// Package jsonfake is a fake affiliate network REST API, a provider no
// collector of its own supports, for the configurable JSON collector's
// tests and the sandbox.
//
// It serves one resource, the partner stats of a campaign:
//
//	GET /v2/affiliates/{campaign}/stats
//	GET /v2/affiliates/{campaign}/partners/{handle}/stats
//
// The listing answers {"data":[row...],"meta":{"next":cursor|null,
// "page":n,"per_page":m,"total":t}} where a row is
//
//	{"partner":{"handle":"alice_ig","name":"Alice"},"campaign":"spring",
//	 "short_url":"aff.example/alice","coupon":"ALICE10",
//	 "stats":{"clicks":120,"orders":"4","revenue":"99.90"}}
//
// (orders and revenue are strings, as many such APIs send decimals). It
// pages three ways at once, as many REST APIs do: an opaque cursor in
// meta.next sent back as ?cursor=, page numbers with ?page= and ?per_page=,
// and an RFC 8288 Link header with rel="next". The partner endpoint answers
// {"data":row}. Auth is one of bearer, header, basic or query, chosen with
// SetAuth; a wrong or missing credential gets 401
// {"error":{"code":"unauthorized","message":"..."}}.
package jsonfake

import (
	"encoding/base64"
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

// DefaultPageSize is the page size when the request does not set per_page.
const DefaultPageSize = 2

// Partner is one affiliate partner of a campaign.
type Partner struct {
	Campaign string
	// Handle is the partner's id at the network, such as alice_ig.
	Handle string
	Name   string
	// ShortURL is the partner's tracking link without scheme.
	ShortURL string
	Coupon   string
	Clicks   fakeapi.Growth
	Orders   fakeapi.Growth
	// RevenueCents grows like a count, in cents.
	RevenueCents fakeapi.Growth
}

// Auth is how the fake wants the credential.
type Auth struct {
	// Type is bearer (default), header, basic or query.
	Type string
	// Name is the header (header) or query parameter (query).
	Name string
}

// Server is the fake API. The zero value is not usable: call New.
type Server struct {
	// Faults switches the fake to failing.
	Faults fakeapi.Faults

	token string
	clock fakeapi.Clock
	start time.Time

	mu       sync.Mutex
	auth     Auth
	partners []Partner
	handler  http.Handler
}

// New returns a fake accepting token, on clock (nil: the wall clock).
func New(token string, clock fakeapi.Clock) *Server {
	s := &Server{token: token, clock: clock, start: clock.Now(), auth: Auth{Type: "bearer"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/affiliates/{campaign}/stats", s.listStats)
	mux.HandleFunc("GET /v2/affiliates/{campaign}/partners/{handle}/stats", s.partnerStats)
	s.handler = s.Faults.Wrap(s.authorized(mux), errorWriter{})
	return s
}

// SetAuth sets how the credential must be sent.
func (s *Server) SetAuth(a Auth) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth = a
}

// AddPartner adds a partner to its campaign.
func (s *Server) AddPartner(p Partner) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partners = append(s.partners, p)
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

type errorWriter struct{}

// WriteError writes the network's error body for status.
func (errorWriter) WriteError(w http.ResponseWriter, status int) {
	code := map[int]string{401: "unauthorized", 404: "not_found", 429: "rate_limited", 500: "internal"}[status]
	if code == "" {
		code = "error"
	}
	writeError(w, status, code, strings.ToLower(http.StatusText(status)))
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	fakeapi.WriteJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

func (s *Server) authorized(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		a := s.auth
		s.mu.Unlock()
		var got string
		switch a.Type {
		case "header":
			got = r.Header.Get(a.Name)
		case "basic":
			u, p, ok := r.BasicAuth()
			if ok {
				got = u + ":" + p
			}
		case "query":
			got = r.URL.Query().Get(a.Name)
		default:
			got, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		if got == "" {
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing credentials")
			return
		}
		if got != s.token {
			writeError(w, http.StatusUnauthorized, "unauthorized", "invalid credentials")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) row(p Partner) map[string]any {
	now := s.clock.Now()
	rev := p.RevenueCents.At(s.start, now)
	return map[string]any{
		"partner":   map[string]any{"handle": p.Handle, "name": p.Name},
		"campaign":  p.Campaign,
		"short_url": p.ShortURL,
		"coupon":    p.Coupon,
		"stats": map[string]any{
			"clicks":  p.Clicks.At(s.start, now),
			"orders":  strconv.FormatInt(p.Orders.At(s.start, now), 10),
			"revenue": fmt.Sprintf("%d.%02d", rev/100, rev%100),
		},
	}
}

func (s *Server) campaignPartners(campaign string) []Partner {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Partner
	for _, p := range s.partners {
		if p.Campaign == campaign {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Handle < out[j].Handle })
	return out
}

func (s *Server) listStats(w http.ResponseWriter, r *http.Request) {
	campaign := r.PathValue("campaign")
	partners := s.campaignPartners(campaign)
	if len(partners) == 0 {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("campaign %q not found", campaign))
		return
	}
	q := r.URL.Query()
	size := DefaultPageSize
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, "invalid_parameter", "per_page must be 1 to 100")
			return
		}
		size = n
	}
	offset := 0
	switch {
	case q.Get("cursor") != "":
		b, err := base64.RawURLEncoding.DecodeString(q.Get("cursor"))
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "off:"))
		if err != nil || err2 != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "invalid_cursor", "cursor is not valid")
			return
		}
		offset = n
	case q.Get("page") != "":
		n, err := strconv.Atoi(q.Get("page"))
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "invalid_parameter", "page must be 1 or more")
			return
		}
		offset = (n - 1) * size
	}
	end := min(offset+size, len(partners))
	rows := []any{}
	for i := offset; i < end; i++ {
		rows = append(rows, s.row(partners[i]))
	}
	var next any
	if end < len(partners) {
		c := base64.RawURLEncoding.EncodeToString([]byte("off:" + strconv.Itoa(end)))
		next = c
		nq := url.Values{}
		for k, v := range q {
			if k != "page" && k != "cursor" {
				nq[k] = v
			}
		}
		nq.Set("cursor", c)
		w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, r.URL.Path, nq.Encode()))
	}
	fakeapi.WriteJSON(w, http.StatusOK, map[string]any{
		"data": rows,
		"meta": map[string]any{"next": next, "page": offset/size + 1, "per_page": size, "total": len(partners)},
	})
}

func (s *Server) partnerStats(w http.ResponseWriter, r *http.Request) {
	for _, p := range s.campaignPartners(r.PathValue("campaign")) {
		if p.Handle == r.PathValue("handle") {
			fakeapi.WriteJSON(w, http.StatusOK, map[string]any{"data": s.row(p)})
			return
		}
	}
	writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("partner %q not found", r.PathValue("handle")))
}

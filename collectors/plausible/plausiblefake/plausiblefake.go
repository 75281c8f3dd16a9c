// Package plausiblefake is a fake Plausible Stats API v2 for tests and the
// sandbox: POST /api/v2/query with bearer auth, one site, visitors that
// arrive with UTM tags at a rate set per (UTM parameter value, source), the
// documented query and answer shapes, pagination, and Plausible's
// {"error": "..."} bodies for 400, 401 (a wrong, missing or revoked key,
// and a site the key cannot read, alike), 402 (a plan without the Stats
// API, SetStatsAPI) and 429.
package plausiblefake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// DefaultSiteID is the site the fake serves until SetSiteID.
const DefaultSiteID = "shop.example"

// Error texts, as Plausible words them (the 401 one confirmed from
// Plausible's own tests; the others decided).
const (
	MsgMissingKey = "Missing API key. Please use a valid Plausible API key as a Bearer Token."
	MsgInvalidKey = "Invalid API key or site ID. Please make sure you're using a valid API key with access to the site you've requested."
	MsgRateLimit  = "Too many API requests. Your API key is limited to 600 requests per hour. Please contact us to request more capacity."
	// MsgNoStatsAPI is the 402 of a key whose account's plan lacks the
	// Stats API (plausible/analytics, PlausibleWeb.Plugs.AuthorizePublicAPI).
	MsgNoStatsAPI = "The account that owns this API key does not have access to Stats API. Please make sure you're using the API key of a subscriber account and that the subscription plan includes Stats API"
)

// maxLimit is the largest pagination limit Plausible accepts.
const maxLimit = 10000

// stream is visitors arriving with one set of UTM tags.
type stream struct {
	tags map[string]string // utm parameter -> value
	g    fakeapi.Growth
}

// Server is the fake. Its zero value is not usable; call New.
type Server struct {
	// Faults switches the fake to failing answers.
	Faults fakeapi.Faults

	token   string
	clock   fakeapi.Clock
	start   time.Time
	handler http.Handler

	mu     sync.Mutex
	siteID string
	// noStatsAPI answers the site's queries 402, as a plan without the
	// Stats API does.
	noStatsAPI bool
	streams    []stream
	queries    []Query
}

// Query is a query the fake received, as decoded.
type Query struct {
	SiteID     string            `json:"site_id"`
	Metrics    []string          `json:"metrics"`
	DateRange  json.RawMessage   `json:"date_range"`
	Dimensions []string          `json:"dimensions"`
	Filters    []json.RawMessage `json:"filters"`
	Pagination *struct {
		Limit  int `json:"limit"`
		Offset int `json:"offset"`
	} `json:"pagination"`
}

// New returns a fake accepting token for DefaultSiteID; visitor counts
// grow from clock's time now.
func New(token string, clock fakeapi.Clock) *Server {
	s := &Server{token: token, clock: clock, start: clock.Now(), siteID: DefaultSiteID}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/query", s.query)
	s.handler = s.Faults.Wrap(s.auth(mux), s)
	return s
}

// SetSiteID sets the one site the fake knows.
func (s *Server) SetSiteID(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.siteID = id
}

// SetStatsAPI says whether the plan of the site's account includes the
// Stats API (the default); without it, queries answer 402.
func (s *Server) SetStatsAPI(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noStatsAPI = !on
}

// AddTraffic adds visitors whose landing URL carried param=value (param is
// a UTM parameter such as utm_content) and utm_source=source (none when
// empty), g.At(start, now) of them by now. With param utm_source, source
// is ignored: value is the source.
func (s *Server) AddTraffic(param, value, source string, g fakeapi.Growth) {
	tags := map[string]string{"utm_source": source}
	tags[param] = value
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streams = append(s.streams, stream{tags: tags, g: g})
}

// ClearTraffic forgets every visitor, as if Plausible had revised its
// figures; traffic added afterwards counts from the fake's start again.
func (s *Server) ClearTraffic() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streams = nil
}

// Queries returns the queries received so far that passed auth.
func (s *Server) Queries() []Query {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Query(nil), s.queries...)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// WriteError writes Plausible's error body for status.
func (s *Server) WriteError(w http.ResponseWriter, status int) {
	msg := http.StatusText(status)
	switch status {
	case http.StatusUnauthorized:
		msg = MsgInvalidKey
	case http.StatusTooManyRequests:
		msg = MsgRateLimit
	case http.StatusInternalServerError:
		msg = "Internal server error"
	}
	fakeapi.WriteJSON(w, status, map[string]string{"error": msg})
}

func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			fakeapi.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": MsgMissingKey})
			return
		}
		if h != "Bearer "+s.token {
			s.WriteError(w, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func badRequest(w http.ResponseWriter, format string, args ...any) {
	fakeapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// row is one answer row.
type row struct {
	Dimensions []string `json:"dimensions"`
	Metrics    []int64  `json:"metrics"`
}

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	var q Query
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&q); err != nil {
		badRequest(w, "Invalid JSON body: %v", err)
		return
	}
	s.mu.Lock()
	s.queries = append(s.queries, q)
	siteID, streams, noStatsAPI := s.siteID, append([]stream(nil), s.streams...), s.noStatsAPI
	s.mu.Unlock()
	if q.SiteID != siteID {
		// Plausible answers an unknown site like a bad key.
		s.WriteError(w, http.StatusUnauthorized)
		return
	}
	if noStatsAPI {
		fakeapi.WriteJSON(w, http.StatusPaymentRequired, map[string]string{"error": MsgNoStatsAPI})
		return
	}
	if len(q.Metrics) == 0 {
		badRequest(w, "#/metrics: Expected a minimum of 1 items")
		return
	}
	for _, m := range q.Metrics {
		if m != "visitors" && m != "pageviews" && m != "visits" {
			badRequest(w, "#/metrics/0: Invalid metric %q", m)
			return
		}
	}
	now := s.clock.Now()
	from, to, err := dateRange(q.DateRange, now)
	if err != nil {
		badRequest(w, "#/date_range: %v", err)
		return
	}
	for _, d := range q.Dimensions {
		if dimTag(d) == "" && d != "visit:source" {
			badRequest(w, "#/dimensions: Invalid dimension %q", d)
			return
		}
	}
	match, err := parseFilters(q.Filters)
	if err != nil {
		badRequest(w, "#/filters: %v", err)
		return
	}
	limit, offset := maxLimit, 0
	if q.Pagination != nil {
		limit, offset = q.Pagination.Limit, q.Pagination.Offset
	}
	if limit < 1 || limit > maxLimit || offset < 0 {
		badRequest(w, "#/pagination: invalid limit or offset")
		return
	}

	// Visitors of each stream in the range: those arrived by the range's
	// end, less those arrived before its start.
	sums := map[string]*row{}
	for _, st := range streams {
		if !match(st.tags) {
			continue
		}
		n := s.arrived(st.g, minTime(to, now))
		if from.After(s.start) {
			n -= s.arrived(st.g, from)
		}
		if n <= 0 {
			continue
		}
		dims := make([]string, len(q.Dimensions))
		for i, d := range q.Dimensions {
			dims[i] = dimValue(st.tags, d)
		}
		key := strings.Join(dims, "\x00")
		if sums[key] == nil {
			sums[key] = &row{Dimensions: dims, Metrics: make([]int64, len(q.Metrics))}
		}
		for i, m := range q.Metrics {
			switch m {
			case "pageviews":
				sums[key].Metrics[i] += 3 * n
			default:
				sums[key].Metrics[i] += n
			}
		}
	}
	rows := make([]row, 0, len(sums))
	for _, rw := range sums {
		rows = append(rows, *rw)
	}
	// Plausible's default order: the first metric, descending.
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Metrics[0] != rows[j].Metrics[0] {
			return rows[i].Metrics[0] > rows[j].Metrics[0]
		}
		return strings.Join(rows[i].Dimensions, "\x00") < strings.Join(rows[j].Dimensions, "\x00")
	})
	if offset > len(rows) {
		offset = len(rows)
	}
	rows = rows[offset:min(offset+limit, len(rows))]
	fakeapi.WriteJSON(w, http.StatusOK, map[string]any{
		"results": rows,
		"meta":    map[string]any{},
		"query":   q,
	})
}

// arrived is how many visitors of g had arrived by t.
func (s *Server) arrived(g fakeapi.Growth, t time.Time) int64 {
	if t.Before(s.start) {
		return 0
	}
	return g.At(s.start, t)
}

// dimTag returns the UTM parameter of a visit:utm_* dimension, else "".
func dimTag(d string) string {
	switch d {
	case "visit:utm_source", "visit:utm_medium", "visit:utm_campaign", "visit:utm_content", "visit:utm_term":
		return strings.TrimPrefix(d, "visit:")
	}
	return ""
}

// dimValue is a stream's value of dimension d: the raw UTM value (empty
// when absent), or for visit:source its utm_source or "Direct / None".
func dimValue(tags map[string]string, d string) string {
	if d == "visit:source" {
		if v := tags["utm_source"]; v != "" {
			return v
		}
		return "Direct / None"
	}
	return tags[dimTag(d)]
}

// parseFilters supports the simple filter ["is", "visit:utm_*", [values]];
// filters are and-ed.
func parseFilters(raw []json.RawMessage) (func(map[string]string) bool, error) {
	type clause struct {
		tag    string
		values map[string]bool
	}
	var clauses []clause
	for _, f := range raw {
		var parts []json.RawMessage
		var op, dim string
		var values []string
		if json.Unmarshal(f, &parts) != nil || len(parts) != 3 ||
			json.Unmarshal(parts[0], &op) != nil || json.Unmarshal(parts[1], &dim) != nil || json.Unmarshal(parts[2], &values) != nil {
			return nil, fmt.Errorf("Invalid filter %s", f)
		}
		if op != "is" || dimTag(dim) == "" {
			return nil, fmt.Errorf("fake supports only is on visit:utm_* dimensions, got %s", f)
		}
		c := clause{tag: dimTag(dim), values: map[string]bool{}}
		for _, v := range values {
			c.values[v] = true
		}
		clauses = append(clauses, c)
	}
	return func(tags map[string]string) bool {
		for _, c := range clauses {
			if !c.values[tags[c.tag]] {
				return false
			}
		}
		return true
	}, nil
}

// dateRange reads "all" or a [from, to] pair of dates (the end day
// inclusive) or RFC 3339 date-times.
func dateRange(raw json.RawMessage, now time.Time) (from, to time.Time, err error) {
	var name string
	if json.Unmarshal(raw, &name) == nil {
		if name == "all" {
			return time.Time{}, now, nil
		}
		return from, to, fmt.Errorf("fake supports only \"all\" and custom ranges, got %q", name)
	}
	var pair []string
	if json.Unmarshal(raw, &pair) != nil || len(pair) != 2 {
		return from, to, fmt.Errorf("Invalid date_range %s", raw)
	}
	if from, err = parseTime(pair[0], false); err != nil {
		return from, to, err
	}
	if to, err = parseTime(pair[1], true); err != nil {
		return from, to, err
	}
	if to.Before(from) {
		return from, to, fmt.Errorf("Invalid date_range %s", raw)
	}
	return from, to, nil
}

func parseTime(s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.Add(24*time.Hour - time.Second)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, fmt.Errorf("Invalid date_range value %q", s)
	}
	return t, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

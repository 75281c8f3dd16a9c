package fakeapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

type plainErrors struct{}

func (plainErrors) WriteError(w http.ResponseWriter, status int) {
	http.Error(w, http.StatusText(status), status)
}

func TestFaults(t *testing.T) {
	var f Faults
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { WriteJSON(w, 200, map[string]int{"n": 1}) })
	h := f.Wrap(ok, plainErrors{})
	do := func() *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		return w
	}
	f.SetRetryAfter(1500 * time.Millisecond)
	f.Set(RateLimited, 1)
	if w := do(); w.Code != 429 || w.Header().Get("Retry-After") != "2" {
		t.Errorf("rate limited: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	if w := do(); w.Code != 200 {
		t.Errorf("after one fault: %d", w.Code)
	}
	f.Set(ServerError, -1)
	for i := 0; i < 3; i++ {
		if w := do(); w.Code != 500 {
			t.Errorf("server error %d: %d", i, w.Code)
		}
	}
	f.Set(Malformed, 1)
	if w := do(); w.Code != 200 || w.Body.String() != `{"links": [{"id": "trunc` {
		t.Errorf("malformed: %d %q", w.Code, w.Body.String())
	}
	if got := f.Hits(); got != 6 {
		t.Errorf("hits = %d, want 6", got)
	}
}

func TestShortLinks(t *testing.T) {
	var s ShortLinks
	s.SetPublicURL("http://127.0.0.1:1234/")
	s.AddShortLink("alice", "http://shop.test/p?utm_source=alice")
	if got := s.ShortURL("alice"); got != "http://127.0.0.1:1234/alice" {
		t.Errorf("ShortURL = %q", got)
	}
	if got := s.PublicHost(); got != "127.0.0.1:1234" {
		t.Errorf("PublicHost = %q", got)
	}
	for _, tc := range []struct {
		method, path string
		code         int
		location     string
	}{
		{"GET", "/alice", 301, "http://shop.test/p?utm_source=alice"},
		{"HEAD", "/alice", 301, "http://shop.test/p?utm_source=alice"},
		{"GET", "/nobody", 404, ""},
		{"POST", "/alice", 405, ""},
	} {
		w := httptest.NewRecorder()
		s.ServeRedirect(w, httptest.NewRequest(tc.method, tc.path, nil))
		if w.Code != tc.code || w.Header().Get("Location") != tc.location {
			t.Errorf("%s %s = %d %q", tc.method, tc.path, w.Code, w.Header().Get("Location"))
		}
	}
}

func TestClickPolicy(t *testing.T) {
	const browser, probe = "Mozilla/5.0 (iPhone)", "influencer_exporter-linkprobe/1.0 (bot)"
	getOnly := ClickPolicy{}
	humans := ClickPolicy{HeadCounts: true, Bot: SelfDeclaredBot}
	for _, tc := range []struct {
		name          string
		p             ClickPolicy
		method, agent string
		want          bool
	}{
		{"get counts", getOnly, "GET", probe, true},
		{"head does not", getOnly, "HEAD", browser, false},
		{"post never", humans, "POST", browser, false},
		{"head of a person", humans, "HEAD", browser, true},
		{"head of a bot", humans, "HEAD", probe, false},
		{"get of a crawler", humans, "GET", "SomeCrawler/2", false},
		{"get of a person", humans, "GET", browser, true},
	} {
		r := httptest.NewRequest(tc.method, "/alice", nil)
		r.Header.Set("User-Agent", tc.agent)
		if got := tc.p.Counts(r); got != tc.want {
			t.Errorf("%s: Counts = %v, want %v", tc.name, got, tc.want)
		}
		if got := LinkPath(r); got != "alice" {
			t.Errorf("%s: LinkPath = %q", tc.name, got)
		}
	}
}

func TestLast(t *testing.T) {
	items := []string{"a1", "b1", "a2"}
	if got, ok := Last(items, func(s string) bool { return s[0] == 'a' }); !ok || got != "a2" {
		t.Errorf("Last(a) = %q, %v; want a2, true", got, ok)
	}
	if got, ok := Last(items, func(s string) bool { return s[0] == 'c' }); ok || got != "" {
		t.Errorf("Last(c) = %q, %v; want none", got, ok)
	}
}

func TestGrowth(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := Growth{Base: 100, PerMinute: 2.5}
	if got := g.At(start, start.Add(10*time.Minute)); got != 125 {
		t.Errorf("At(+10m) = %d, want 125", got)
	}
	if got := g.At(start, start.Add(-time.Minute)); got != 100 {
		t.Errorf("before start = %d, want 100", got)
	}
}

func TestOrderStream(t *testing.T) {
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s := OrderStream{Code: "ALICE10", PerMinute: 2, Amount: 50, Currency: "EUR", Initial: 2, CancelEvery: 3, CancelAfter: time.Minute}
	orders := s.Orders(start, start.Add(2*time.Minute))
	if len(orders) != 6 { // 2 initial + 2 a minute for 2 minutes
		t.Fatalf("orders = %d, want 6", len(orders))
	}
	if !orders[0].Created.Equal(start.Add(-2*time.Minute)) || !orders[2].Created.Equal(start.Add(30*time.Second)) {
		t.Errorf("created: %v, %v", orders[0].Created, orders[2].Created)
	}
	if !orders[2].Cancelled || orders[2].Refunded != orders[2].Total || !orders[2].Updated.Equal(start.Add(90*time.Second)) {
		t.Errorf("order 3 not cancelled a minute later: %+v", orders[2])
	}
	if orders[5].Cancelled {
		t.Errorf("order 6 cancelled before its CancelAfter: %+v", orders[5])
	}
	if orders[0].ID("gid-") != "gid-ALICE10-1" {
		t.Errorf("ID = %q", orders[0].ID("gid-"))
	}
	if again := s.Orders(start, start.Add(2*time.Minute)); again[4].Total != orders[4].Total {
		t.Error("streams are not deterministic")
	}
}

func TestCurve(t *testing.T) {
	c := Curve{Final: 1000, Midpoint: 2 * time.Hour, Spread: 30 * time.Minute}
	if got := c.At(0); got != 0 {
		t.Errorf("At(0) = %d", got)
	}
	if got := c.At(-time.Minute); got != 0 {
		t.Errorf("before publication = %d", got)
	}
	mid, late := c.At(2*time.Hour), c.At(24*time.Hour)
	if mid < 480 || mid > 520 || late != 1000 {
		t.Errorf("At(mid) = %d, At(24h) = %d", mid, late)
	}
	prev := int64(-1)
	for age := time.Duration(0); age < 6*time.Hour; age += 10 * time.Minute {
		v := c.At(age)
		if v < prev {
			t.Fatalf("curve went down at %s: %d < %d", age, v, prev)
		}
		prev = v
	}
}

func TestGroups(t *testing.T) {
	g := Groups[int]{}
	g.Add("alice", "p1", 1)
	g.Add("alice", "p2", 2)
	g.Add("bob", "p3", 3)
	g.Remove("alice", "p1")
	g.Remove("carol", "p9") // a group never filled
	if len(g["alice"]) != 1 || g["alice"]["p2"] != 2 || g["bob"]["p3"] != 3 || len(g["carol"]) != 0 {
		t.Errorf("groups = %v", g)
	}
}

package sitefake

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestSite(t *testing.T) {
	s := New()
	s.Break("/gone")
	s.SetRedirect("/old", "/new", http.StatusMovedPermanently)
	s.SetRedirect("/moved", "http://shop.test/x", 0)
	s.Break("/back")
	s.Restore("/back")

	tests := []struct {
		method, path string
		refuseHEAD   bool
		wantStatus   int
		wantLocation string
		wantType     string
	}{
		{method: "GET", path: "/any/path", wantStatus: 200, wantType: "text/html; charset=utf-8"},
		{method: "HEAD", path: "/any/path", wantStatus: 200, wantType: "text/html; charset=utf-8"},
		{method: "GET", path: "/gone", wantStatus: 404, wantType: "text/html; charset=utf-8"},
		{method: "GET", path: "/back", wantStatus: 200, wantType: "text/html; charset=utf-8"},
		{method: "GET", path: "/old", wantStatus: 301, wantLocation: "/new"},
		{method: "GET", path: "/moved", wantStatus: 302, wantLocation: "http://shop.test/x"},
		{method: "HEAD", path: "/any/path", refuseHEAD: true, wantStatus: 405, wantType: "text/plain; charset=utf-8"},
		{method: "GET", path: "/any/path", refuseHEAD: true, wantStatus: 200, wantType: "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			s.RefuseHEAD(tt.refuseHEAD)
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tt.method, tt.path, nil)
			req.Header.Set("User-Agent", "test-agent")
			s.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("Location"); got != tt.wantLocation {
				t.Errorf("Location = %q, want %q", got, tt.wantLocation)
			}
			if got := rec.Header().Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
		})
	}
	if got := s.Hits("/any/path"); got != 4 {
		t.Errorf("Hits(/any/path) = %d, want 4", got)
	}
	reqs := s.Requests()
	if len(reqs) != len(tests) {
		t.Fatalf("Requests() has %d entries, want %d", len(reqs), len(tests))
	}
	if r := reqs[1]; r.Method != "HEAD" || r.Path != "/any/path" || r.UserAgent != "test-agent" || r.Time.IsZero() {
		t.Errorf("Requests()[1] = %+v", r)
	}
}

func TestSlowGivesUpWithClient(t *testing.T) {
	s := New()
	s.SetSlow("/slow", time.Hour)
	srv := httptest.NewServer(s)
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow", nil)
	done := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for s.Hits("/slow") == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("request to a slow path succeeded before its delay")
	}
	// srv.Close waits for the handler: the test ends only if the handler
	// returned when the client went away.
}

func TestFailNext(t *testing.T) {
	s := New()
	s.FailNext("/p", http.StatusServiceUnavailable, 2)
	var got []int
	for _, method := range []string{"HEAD", "GET", "GET"} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(method, "/p", nil))
		got = append(got, rec.Code)
	}
	if want := []int{503, 503, 200}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	if n := s.Hits("/p"); n != 3 {
		t.Errorf("Hits = %d, want 3", n)
	}

	// Code 0 hangs until the client gives up.
	s.FailNext("/hang", 0, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/hang", nil).WithContext(ctx))
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/hang", nil))
	if rec.Code != 200 {
		t.Errorf("after the hang: %d, want 200", rec.Code)
	}
}

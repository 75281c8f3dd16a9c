// Package sitefake is a fake destination website for the link probe: the
// shop page a tracking link lands on. By default every path answers 200 with
// a small HTML page; a test or the sandbox can break a path, turn it into a
// redirect (for chains and loops), slow it down, or refuse HEAD as some
// shops and CDNs do.
package sitefake

import (
	"fmt"
	"html"
	"net/http"
	"sync"
	"time"
)

// Request is one request the site received.
type Request struct {
	Method    string
	Path      string
	UserAgent string
	Time      time.Time
}

type redirect struct {
	to   string
	code int
}

// Site is the fake website. It is safe for concurrent use.
type Site struct {
	mu         sync.Mutex
	broken     map[string]bool
	redirects  map[string]redirect
	slow       map[string]time.Duration
	failNext   map[string][]int
	refuseHEAD bool
	requests   []Request
}

// New returns a site where every path answers 200.
func New() *Site {
	return &Site{
		broken:    map[string]bool{},
		redirects: map[string]redirect{},
		slow:      map[string]time.Duration{},
		failNext:  map[string][]int{},
	}
}

// Break makes path answer 404.
func (s *Site) Break(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broken[path] = true
}

// Restore returns path to the default 200 page, undoing Break, SetRedirect
// and SetSlow.
func (s *Site) Restore(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.broken, path)
	delete(s.redirects, path)
	delete(s.slow, path)
}

// SetRedirect makes from answer code (302 if 0) with Location: to, sent as
// given, so a relative to tests relative redirects.
func (s *Site) SetRedirect(from, to string, code int) {
	if code == 0 {
		code = http.StatusFound
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.redirects[from] = redirect{to: to, code: code}
}

// SetSlow delays every answer on path by d, or until the client gives up.
func (s *Site) SetSlow(path string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slow[path] = d
}

// FailNext makes the next n requests to path, any method, answer status
// code, or with code 0 hang until the client gives up; then path answers
// as before.
func (s *Site) FailNext(path string, code, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failNext[path] = append(s.failNext[path], code)
	}
}

// RefuseHEAD makes every HEAD request answer 405 Method Not Allowed.
func (s *Site) RefuseHEAD(refuse bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseHEAD = refuse
}

// Hits returns how many requests path received, any method.
func (s *Site) Hits(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Path == path {
			n++
		}
	}
	return n
}

// Requests returns every request received so far, in arrival order.
func (s *Site) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ServeHTTP implements http.Handler.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: path, UserAgent: r.UserAgent(), Time: time.Now()})
	delay := s.slow[path]
	refuse := s.refuseHEAD && r.Method == http.MethodHead
	broken := s.broken[path]
	redir, isRedirect := s.redirects[path]
	fail, failing := -1, len(s.failNext[path]) > 0
	if failing {
		fail, s.failNext[path] = s.failNext[path][0], s.failNext[path][1:]
	}
	s.mu.Unlock()

	switch {
	case failing && fail == 0:
		<-r.Context().Done()
		return
	case failing:
		page(w, fail, http.StatusText(fail))
		return
	}

	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case refuse:
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	case broken:
		page(w, http.StatusNotFound, "Page not found")
	case isRedirect:
		w.Header().Set("Location", redir.to)
		w.WriteHeader(redir.code)
	default:
		page(w, http.StatusOK, path)
	}
}

func page(w http.ResponseWriter, status int, title string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html>\n<html><head><title>%s</title></head><body><h1>%s</h1></body></html>\n",
		html.EscapeString(title), html.EscapeString(title))
}

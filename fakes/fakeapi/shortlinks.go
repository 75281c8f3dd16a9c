package fakeapi

import (
	"net/http"
	"strings"
	"sync"
)

// ShortLinks is the part every fake shortener shares: it serves the short
// links themselves (GET or HEAD /<path> answers 301 to the destination, as
// the real shorteners do) and builds the absolute short URLs the fake's
// API reports. Fakes embed it.
type ShortLinks struct {
	mu     sync.Mutex
	public string
	dest   map[string]string
}

// SetPublicURL sets the base URL the fake is reachable at (its loopback
// listener), used to build short URLs.
func (s *ShortLinks) SetPublicURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.public = strings.TrimSuffix(u, "/")
}

// ShortURL returns the absolute short URL of path.
func (s *ShortLinks) ShortURL(path string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.public + "/" + strings.TrimPrefix(path, "/")
}

// PublicHost returns host:port of the public URL, or "" before it is set.
func (s *ShortLinks) PublicHost() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, host, _ := strings.Cut(s.public, "://")
	return host
}

// AddShortLink makes path redirect to destination.
func (s *ShortLinks) AddShortLink(path, destination string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dest == nil {
		s.dest = map[string]string{}
	}
	s.dest[strings.TrimPrefix(path, "/")] = destination
}

// ServeRedirect answers a request for a short link.
func (s *ShortLinks) ServeRedirect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	dest, ok := s.dest[strings.TrimPrefix(r.URL.Path, "/")]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "private, max-age=90")
	http.Redirect(w, r, dest, http.StatusMovedPermanently)
}

// RequireHeader passes a request on only if header carries want exactly;
// otherwise deny writes the provider's own auth error.
func RequireHeader(header, want string, deny func(http.ResponseWriter), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(header) != want {
			deny(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

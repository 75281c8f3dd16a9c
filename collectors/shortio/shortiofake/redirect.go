package shortiofake

import (
	"net/http"
	"regexp"
	"strings"
)

// Which requests to a short link count as a click, as far as Short.io
// documents it, and as the fake counts them:
//
//   - Short.io says it tells bots and spiders from people "by how they
//     present themselves" and keeps them out of its click counters (its
//     statistics API reports humanClicks beside totalClicks), without
//     saying how. The fake treats a User-Agent that calls itself a bot,
//     crawler or spider as one.
//   - Whether a HEAD counts is not documented (unconfirmed). The fake
//     assumes the worst: a HEAD counts like a GET unless its User-Agent
//     names a bot. The link probe sends HEAD with a User-Agent that says
//     "bot", which is safe either way.
//
// A counted click adds to the link's lifetime total (Link.Clicks.Base), so
// the API reports it.

// botAgent matches User-Agents that say they are not a person.
var botAgent = regexp.MustCompile(`(?i)bot|crawler|spider`)

// ServeRedirect answers a request for a short link as fakeapi.ShortLinks
// does, counting a click where Short.io would.
func (s *Server) ServeRedirect(w http.ResponseWriter, r *http.Request) {
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && !botAgent.MatchString(r.UserAgent()) {
		s.countClick(strings.TrimPrefix(r.URL.Path, "/"))
	}
	s.ShortLinks.ServeRedirect(w, r)
}

// countClick adds a click to the link served at path: of the links not
// archived with that path, the last added.
func (s *Server) countClick(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.links) - 1; i >= 0; i-- {
		if l := s.links[i]; l.path == path && !l.Archived {
			l.Clicks.Base++
			return
		}
	}
}

// LinkClicks returns the lifetime clicks of the link with the given ID
// (hostname/path) as the API reports them now, counted clicks included;
// 0 for an unknown link.
func (s *Server) LinkClicks(id string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.links) - 1; i >= 0; i-- {
		if l := s.links[i]; l.ID == id {
			return l.Clicks.At(s.start, s.clock.Now())
		}
	}
	return 0
}

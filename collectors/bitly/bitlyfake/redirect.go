package bitlyfake

import (
	"net/http"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// Which requests to a short link count as a click, as Bitly documents
// them and as the fake counts them (docs/link-probe.md has the sources):
//
//   - GET counts.
//   - HEAD never counts: Bitly has removed HEAD requests from click counts
//     since 2009, as link expanders and scripts send them without visiting
//     the destination.
//   - Bitly also filters bots and crawlers out of its counts with
//     classifiers it does not document; the fake leaves that out, so a
//     GET counts whatever its User-Agent.
//
// A counted click adds to the link's lifetime total (Link.Clicks.Base), so
// the API reports it; windowed counts do not show it.

// clicks counts every GET, whatever its User-Agent.
var clicks = fakeapi.ClickPolicy{}

// ServeRedirect answers a request for a short link as fakeapi.ShortLinks
// does, counting a click where Bitly would.
func (s *Server) ServeRedirect(w http.ResponseWriter, r *http.Request) {
	s.ShortLinks.ServeCounted(w, r, clicks, s.countClick)
}

// countClick adds a click to the link served at hash: of links sharing a
// back-half, the last added.
func (s *Server) countClick(hash string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := fakeapi.Last(s.links, func(e *entry) bool { return e.hash == hash }); ok {
		e.Clicks.Base++
	}
}

// LinkClicks returns the lifetime clicks of the link with the given ID as
// the API reports them now, counted clicks included; 0 for an unknown
// link.
func (s *Server) LinkClicks(id string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byID[id]
	if !ok {
		return 0
	}
	return e.Clicks.At(s.start, s.clock.Now())
}

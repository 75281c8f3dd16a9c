package rebrandlyfake

import (
	"net/http"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// Which requests to a short link count as a click, as far as Rebrandly
// documents it, and as the fake counts them:
//
//   - Rebrandly says it removes all bot and spider traffic from its click
//     counters, recognising bots by how they present themselves, without
//     saying how. The fake treats a User-Agent that calls itself a bot,
//     crawler or spider as one.
//   - Whether a HEAD counts is not documented (unconfirmed; a Dub user
//     reported that Rebrandly did not count the HEAD requests X sends,
//     https://github.com/dubinc/dub/issues/2309). The fake assumes the
//     worst: a HEAD counts like a GET unless its User-Agent names a bot.
//     The link probe sends HEAD with a User-Agent that says "bot", which
//     is safe either way.
//
// A counted click adds to the link's lifetime total (Link.Clicks.Base), so
// the API reports it (clicks and sessions).

// clicks counts a GET or HEAD unless its User-Agent names a bot.
var clicks = fakeapi.ClickPolicy{HeadCounts: true, Bot: fakeapi.SelfDeclaredBot}

// ServeRedirect answers a request for a short link as fakeapi.ShortLinks
// does, counting a click where Rebrandly would.
func (s *Server) ServeRedirect(w http.ResponseWriter, r *http.Request) {
	s.ShortLinks.ServeCounted(w, r, clicks, s.countClick)
}

// countClick adds a click to the link served at slashtag: of links
// sharing it, the last added.
func (s *Server) countClick(slashtag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := fakeapi.Last(s.links, func(l *link) bool { return l.slashtag == slashtag }); ok {
		l.Clicks.Base++
	}
}

// LinkClicks returns the lifetime clicks of the link with the given ID
// (domain/slashtag) as the API reports them now, counted clicks included;
// 0 for an unknown link.
func (s *Server) LinkClicks(id string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := fakeapi.Last(s.links, func(l *link) bool { return l.ID == id })
	if !ok {
		return 0
	}
	return l.Clicks.At(s.start, s.clock.Now())
}

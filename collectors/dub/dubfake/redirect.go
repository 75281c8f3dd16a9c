package dubfake

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// Which requests to a short link count as a click, as Dub's open-source
// redirect middleware decides (dubinc/dub, apps/web/lib/middleware/link.ts,
// which calls recordClick in apps/web/lib/tinybird/record-click.ts, which
// asks detectBot in apps/web/lib/middleware/utils/detect-bot.ts), and as
// the fake counts them:
//
//   - a request with a dub-no-track header or query parameter does not
//     count;
//   - a bot does not count: a request with a non-empty `bot` query
//     parameter, any HEAD ("real users will always use GET requests"), or
//     a User-Agent matching Dub's bot patterns, which include "bot",
//     "crawler", "spider", "http", "curl", "python" and more (botPatterns
//     keeps the generic ones; Dub's list also names many crawlers, link
//     checkers and monitors);
//   - the same visitor (Dub hashes IP and User-Agent; the fake uses the
//     client's IP and User-Agent) counts once per link per hour.
//
// Dub answers with 302 (301 for a domain's root link); the fake keeps the
// shared 301, which clients follow the same way. A counted click adds to
// the link's lifetime total (Link.Clicks.Base), so the API reports it.

// botPatterns are the generic User-Agent fragments of Dub's UA_BOTS
// (apps/web/lib/middleware/utils/bots-list.ts), matched case-insensitively
// anywhere in the User-Agent, plus a few named crawlers and checkers.
var botPatterns = regexp.MustCompile(`(?i)bot|crawler|spider|http|scraper|fetch|curl|wget|python|node|ruby|` +
	`facebookexternalhit|whatsapp|google|bing|headlesschrome|axios|postman|linkchecker|pingdom|statuscake|upptime`)

// clickDedupe is how long Dub counts one visitor's clicks on a link once.
const clickDedupe = time.Hour

// lastClicks remembers when each visitor's click on a link last counted,
// by server, link key and visitor. It lives beside Server rather than in
// it so that the short link handler stays in this file.
var lastClicks = struct {
	sync.Mutex
	at map[clickKey]time.Time
}{at: map[clickKey]time.Time{}}

type clickKey struct {
	s            *Server
	key, visitor string
}

// clicks is the part of Dub's detectBot that looks at the method and the
// User-Agent: a GET counts unless its User-Agent matches botPatterns.
var clicks = fakeapi.ClickPolicy{Bot: botPatterns}

// ServeRedirect answers a request for a short link as fakeapi.ShortLinks
// does, counting a click where Dub would.
func (s *Server) ServeRedirect(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		s.countClick(r)
	}
	s.ShortLinks.ServeRedirect(w, r)
}

// isBot is Dub's detectBot, less its referrer and IP lists (which its
// User-Agent check returns before).
func isBot(r *http.Request) bool {
	return r.URL.Query().Get("bot") != "" || !clicks.Counts(r)
}

func (s *Server) countClick(r *http.Request) {
	if r.Header.Get("dub-no-track") != "" || r.URL.Query().Has("dub-no-track") || isBot(r) {
		return
	}
	key := fakeapi.LinkPath(r)
	ip := r.RemoteAddr
	if i := strings.LastIndexByte(ip, ':'); i >= 0 {
		ip = ip[:i]
	}
	now := s.clock.Now()
	lastClicks.Lock()
	defer lastClicks.Unlock()
	visitor := clickKey{s: s, key: key, visitor: ip + "\x00" + r.UserAgent()}
	if at, ok := lastClicks.at[visitor]; ok && now.Sub(at) < clickDedupe {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := fakeapi.Last(s.links, func(e *entry) bool { return e.key == key }); ok {
		e.Clicks.Base++
		lastClicks.at[visitor] = now
	}
}

// LinkClicks returns the lifetime clicks of the link with the given ID
// (domain/key) as the API reports them now, counted clicks included; 0
// for an unknown link.
func (s *Server) LinkClicks(id string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byID[id]
	if !ok {
		return 0
	}
	return s.clicksAt(e, s.clock.Now())
}

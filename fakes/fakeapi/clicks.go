package fakeapi

import (
	"net/http"
	"regexp"
	"strings"
)

// What the fake shorteners share about clicks: which requests for a short
// link count as one, which link a request is for, and the newest of the
// links sharing a path. Each fake's redirect.go says, with its sources,
// what its shortener counts.

// SelfDeclaredBot matches User-Agents that say they are not a person
// (bot, crawler, spider): the traffic Rebrandly and Short.io say they keep
// out of their click counts, without saying how they recognise it.
var SelfDeclaredBot = regexp.MustCompile(`(?i)bot|crawler|spider`)

// ClickPolicy says which requests for a short link a shortener counts as a
// click. A GET counts unless its User-Agent matches Bot; any method other
// than GET and HEAD never counts.
type ClickPolicy struct {
	// HeadCounts is true where a HEAD counts like a GET.
	HeadCounts bool
	// Bot matches the User-Agents of requests that never count; nil
	// counts every User-Agent.
	Bot *regexp.Regexp
}

// Counts reports whether the request counts as a click.
func (p ClickPolicy) Counts(r *http.Request) bool {
	switch {
	case r.Method == http.MethodGet:
	case r.Method == http.MethodHead && p.HeadCounts:
	default:
		return false
	}
	return p.Bot == nil || !p.Bot.MatchString(r.UserAgent())
}

// ServeCounted answers a request for a short link as ServeRedirect does,
// first calling count with the link's path (see LinkPath) if p counts the
// request as a click.
func (s *ShortLinks) ServeCounted(w http.ResponseWriter, r *http.Request, p ClickPolicy, count func(path string)) {
	if p.Counts(r) {
		count(LinkPath(r))
	}
	s.ServeRedirect(w, r)
}

// LinkPath returns the path of the short link a request is for, without
// its leading slash: the back-half, key, slashtag or path.
func LinkPath(r *http.Request) string { return strings.TrimPrefix(r.URL.Path, "/") }

// Last returns the last of items, in creation order, that match accepts:
// of links sharing a path, the one the short link serves.
func Last[T any](items []T, match func(T) bool) (T, bool) {
	for i := len(items) - 1; i >= 0; i-- {
		if match(items[i]) {
			return items[i], true
		}
	}
	var zero T
	return zero, false
}

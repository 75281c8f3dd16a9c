package linkprobe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// drainLimit is how much of a response body is read, so the connection can
// be reused; the rest is dropped with the connection.
const drainLimit = 64 << 10

// result is the outcome of probing one link.
type result struct {
	link      exporter.PublishedLink
	up        bool
	status    int // of the last response, 0 if none
	redirects int
	duration  time.Duration
	host      string // final host, "" when no response arrived
	scheme    string // final URL's scheme, "" when no response arrived
	reason    string // why the link is broken
	// note is what the landing page should know about a link, broken or
	// not: a short link redirecting elsewhere than its shortener's API
	// says.
	note string
	at   time.Time // when the probe completed, confirmation included
	// since is when the link entered its current state, up or broken:
	// the completion of the first probe with that outcome.
	since time.Time
	// steps are the short link's requests, dest those of its
	// destination's chain: one slice shared by every link leading there.
	// sharedDest is whether that chain started from another link's URL
	// (the same page with other utm_* values). failed are the expect
	// rules the link failed, for the /links page to point at a hop.
	steps, dest []step
	sharedDest  bool
	failed      expectRule
}

var errTimeout = errors.New("timed out")

// hop is the shortener's answer to one attempt at a short link.
type hop struct {
	status int
	host   string // "" when no response arrived
	took   time.Duration
	// redirects are those followed on short link hosts (the shortener
	// may redirect to its own https or canonical URL first).
	redirects int
	// next is the destination to probe, nil when the answer is final;
	// prior is how many redirects lead to it, method the method its chain
	// starts with.
	next   *url.URL
	prior  int
	method string
	// location is the first Location off the short link hosts, where the
	// shortener sends visitors; nil if none.
	location *url.URL
	final    *url.URL // the last URL requested
	reason   string   // why the attempt failed, "" if it did not
	note     string
	cut      bool // the round ended during a request
	// secure is whether the short link was requested over https;
	// downgrade is then the first URL on http its redirects lead to, nil
	// if none.
	secure    bool
	downgrade *url.URL
	steps     []step // the requests, for the /links page
}

// hopOnce asks the shortener where the short link u leads: HEAD, and the
// redirects that stay on short link hosts, each HEAD too. A short link is
// never sent GET: shorteners count GET as a click.
func (r *round) hopOnce(l exporter.PublishedLink, u *url.URL) hop {
	p := r.p
	h := hop{secure: u.Scheme == "https", steps: make([]step, 0, 1)}
	budget := time.Duration(p.opts.Timeout)
	visited := map[string]bool{u.String(): true}
	shown := detailURL(u)
	var resp *http.Response
	for {
		var (
			took time.Duration
			err  error
		)
		resp, took, err = r.do(p.short, http.MethodHead, u, budget)
		h.took += took
		budget -= took
		st := step{url: shown, took: took}
		if err != nil {
			if r.ctx.Err() != nil {
				return hop{cut: true}
			}
			h.status, h.host, h.final = 0, "", u
			h.reason = p.describe(err)
			st.err = h.reason
			h.steps = p.addStep(h.steps, st)
			return h
		}
		h.status, h.host, h.final = resp.StatusCode, canonicalHost(u), u
		st.status = uint16(resp.StatusCode)
		loc := resp.Header.Get("Location")
		if !isRedirect(resp.StatusCode) || loc == "" {
			h.steps = p.addStep(h.steps, st)
			break
		}
		next, err := u.Parse(loc)
		if why := unfollowable(next, err); why != "" {
			st.location = badLocation(next, err)
			h.reason = fmt.Sprintf("redirect from %s to %s: %s", redact(u), st.location, why)
			st.err = h.reason
			h.steps = p.addStep(h.steps, st)
			return h
		}
		next.Fragment, next.RawFragment = "", ""
		st.location = detailURL(next)
		shown = st.location
		if h.redirects >= p.opts.MaxRedirects {
			h.reason = fmt.Sprintf("more than %d redirects (max_redirects)", p.opts.MaxRedirects)
			st.err = h.reason
			h.steps = p.addStep(h.steps, st)
			return h
		}
		if visited[next.String()] {
			h.reason = fmt.Sprintf("redirect loop: %s leads back to %s", redact(u), redact(next))
			st.err = h.reason
			h.steps = p.addStep(h.steps, st)
			return h
		}
		h.steps = p.addStep(h.steps, st)
		visited[next.String()] = true
		h.redirects++
		if h.secure && h.downgrade == nil && next.Scheme == "http" {
			h.downgrade = next
		}
		if !r.isShortHost(canonicalHost(next)) {
			// Off the shortener: where visitors are sent.
			h.location, h.next, h.prior, h.method = next, next, h.redirects, p.opts.Method
			if dest := apiDestination(l); dest != nil && !sameURL(next, dest) {
				h.note = fmt.Sprintf("short link redirects to %s, not to %s as %s's API reports (geo or device targeting, or an edit since its last refresh)",
					redact(next), redact(dest), l.Provider)
			}
			return h
		}
		u = next
	}

	// A final answer from the shortener.
	dest := apiDestination(l)
	_, override := p.overrides[linkKey(l)]
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		// A url: override may point at the page itself: then it is its
		// own destination, whatever the shortener's API says.
		if dest != nil && !override && !sameURL(u, dest) {
			// A page for bots (Dub serves its preview page to bots for
			// links with a custom preview): visitors go to the
			// destination the API reports.
			h.next, h.prior, h.method = dest, h.redirects+1, p.opts.Method
			h.note = fmt.Sprintf("short link answered HEAD with %d, not a redirect: probed %s, the destination %s's API reports", code, redact(dest), l.Provider)
		}
	case override && code >= 400 && code != http.StatusTooManyRequests:
		// A url: override pointing at a page that refuses HEAD: probe
		// it as the destination it is, from GET.
		h.next, h.prior, h.method = u, h.redirects, http.MethodGet
	case dest != nil && (code == http.StatusMethodNotAllowed || code == http.StatusNotImplemented):
		h.next, h.prior, h.method = dest, h.redirects+1, p.opts.Method
		h.note = fmt.Sprintf("short link refused HEAD (%d): probed %s, the destination %s's API reports", code, redact(dest), l.Provider)
	default:
		h.reason = fmt.Sprintf("final status %d at %s", code, redact(u))
	}
	return h
}

// apiDestination is the link's destination as its shortener's API
// reports it, nil if unknown.
func apiDestination(l exporter.PublishedLink) *url.URL {
	if l.Destination == "" {
		return nil
	}
	u, err := parseProbeURL(l.Destination)
	if err != nil {
		return nil
	}
	return u
}

// chain is the outcome of following a destination's redirect chain.
type chain struct {
	status    int
	redirects int
	took      time.Duration
	final     *url.URL // the last URL requested
	host      string   // its host, "" when no response arrived
	reason    string   // why the chain failed, "" if it ended 2xx
	// dropped are the utm_* parameters of the first URL that the final
	// one lacks: the destination's redirects drop them.
	dropped []string
	// plain is the first URL of the chain requested over http, nil if
	// none: a downgrade for a link that started on https.
	plain *url.URL
	cut   bool
	steps []step // the requests, for the /links page
}

// follow follows the redirect chain from start, prior redirects after the
// short link, and judges where it ends. Short link hosts met on the way
// (a destination that is another short link) are only ever sent HEAD, at
// short_link_interval.
func (r *round) follow(start *url.URL, prior int, method string) chain {
	p := r.p
	c := chain{steps: make([]step, 0, 1)}
	u := start
	budget := time.Duration(p.opts.Timeout)
	visited := map[string]bool{u.String(): true}
	shown := detailURL(u)
	for {
		if c.plain == nil && u.Scheme == "http" {
			c.plain = u
		}
		host := canonicalHost(u)
		m, lim := method, p.dest
		short := r.isShortHost(host)
		if short {
			m, lim = http.MethodHead, p.short
		}
		resp, took, err := r.do(lim, m, u, budget)
		c.took += took
		budget -= took
		if err == nil && m == http.MethodHead && headRefused(resp.StatusCode) && !short {
			c.steps = p.addStep(c.steps, step{url: shown, took: took, status: uint16(resp.StatusCode)})
			m, method = http.MethodGet, http.MethodGet
			resp, took, err = r.do(lim, method, u, budget)
			c.took += took
			budget -= took
		}
		st := step{get: m == http.MethodGet, url: shown, took: took}
		if err != nil {
			if r.ctx.Err() != nil {
				return chain{cut: true}
			}
			c.status, c.host, c.final = 0, "", u
			c.reason = p.describe(err)
			st.err = c.reason
			c.steps = p.addStep(c.steps, st)
			return c
		}
		c.status, c.host, c.final = resp.StatusCode, host, u
		st.status = uint16(resp.StatusCode)
		loc := resp.Header.Get("Location")
		if !isRedirect(resp.StatusCode) || loc == "" {
			// A 3xx without Location is a final answer, and not 2xx:
			// judged below.
			c.steps = p.addStep(c.steps, st)
			break
		}
		next, err := u.Parse(loc)
		if why := unfollowable(next, err); why != "" {
			st.location = badLocation(next, err)
			c.reason = fmt.Sprintf("redirect from %s to %s: %s", redact(u), st.location, why)
			st.err = c.reason
			c.steps = p.addStep(c.steps, st)
			return c
		}
		next.Fragment, next.RawFragment = "", ""
		st.location = detailURL(next)
		shown = st.location
		if prior+c.redirects >= p.opts.MaxRedirects {
			c.reason = fmt.Sprintf("more than %d redirects (max_redirects)", p.opts.MaxRedirects)
			st.err = c.reason
			c.steps = p.addStep(c.steps, st)
			return c
		}
		if visited[next.String()] {
			c.reason = fmt.Sprintf("redirect loop: %s leads back to %s", redact(u), redact(next))
			st.err = c.reason
			c.steps = p.addStep(c.steps, st)
			return c
		}
		c.steps = p.addStep(c.steps, st)
		visited[next.String()] = true
		c.redirects++
		u = next
	}
	if c.status < 200 || c.status > 299 {
		c.reason = fmt.Sprintf("final status %d at %s", c.status, redact(u))
		return c
	}
	if c.redirects > 0 {
		q := u.Query()
		for _, k := range slices.Sorted(maps.Keys(start.Query())) {
			if _, ok := q[k]; !ok && strings.HasPrefix(k, "utm_") {
				c.dropped = append(c.dropped, k)
			}
		}
	}
	return c
}

// do sends one request of the round: after waiting for a free slot of the
// requests in flight and for the host's turn at lim, unless the round is
// an on-demand probe, which is one request at a time outside the pacing.
func (r *round) do(lim *hostLimiter, method string, u *url.URL, budget time.Duration) (*http.Response, time.Duration, error) {
	if r.onDemand {
		return r.p.send(r.ctx, method, u, budget)
	}
	return r.p.do(r.ctx, lim, method, u, budget)
}

// do sends one request after waiting for a free slot of the requests in
// flight and for the host's turn at lim. took counts only the time on the
// network; budget is what is left of the timeout.
func (p *Probe) do(ctx context.Context, lim *hostLimiter, method string, u *url.URL, budget time.Duration) (resp *http.Response, took time.Duration, err error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	defer func() { <-p.sem }()
	if err := lim.wait(ctx, canonicalHost(u)); err != nil {
		return nil, 0, err
	}
	return p.send(ctx, method, u, budget)
}

// send sends one request now, within budget, what is left of the timeout.
func (p *Probe) send(ctx context.Context, method string, u *url.URL, budget time.Duration) (resp *http.Response, took time.Duration, err error) {
	if budget <= 0 {
		return nil, 0, errTimeout
	}
	rctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, u.String(), nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("User-Agent", p.opts.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	start := time.Now()
	proxy, err := p.proxyFor(req)
	if err != nil {
		return nil, 0, err
	}
	if proxy != nil {
		// The proxy connects to the page, not the probe: its address is
		// judged here, and the dial to the proxy is left unchecked.
		if err := p.checkProxied(rctx, req.URL.Hostname()); err != nil {
			return nil, time.Since(start), err
		}
		req = req.WithContext(context.WithValue(rctx, proxyAddrKey{}, proxyDialAddr(proxy)))
	}
	resp, err = p.client.Do(req)
	if err != nil {
		return nil, time.Since(start), err
	}
	_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
	resp.Body.Close()
	return resp, time.Since(start), nil
}

// describe turns a transport error into a reason without the URL, whose
// query string may carry anything.
func (p *Probe) describe(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, errTimeout) || errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Sprintf("timed out after %s", p.opts.Timeout)
	case errors.As(err, &dnsErr):
		return "dns: " + dnsErr.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return scrubURLs(err.Error())
}

// urlInText finds URLs in an error's text: Go's transport quotes a
// malformed header line whole ("malformed MIME header line: \"Location:
// http://user:pass@…?access_token=…\""), credentials included.
var urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)

// rawLine finds the protocol data Go's transport quotes after saying it is
// malformed: a header line, a status line. It is the page's to choose, so
// it can hold anything, a credential without a URL around it too
// ("Location: &access_token=…\x00"): the error keeps what was malformed,
// never the line.
var rawLine = regexp.MustCompile(`(malformed (?:MIME header line|HTTP response|HTTP status code|HTTP version))[: ].*$`)

// scrubURLs drops the raw protocol line of a malformed answer, and
// replaces each URL in s with its scheme, host and path (see redact), or
// with "<url>" when it does not parse.
func scrubURLs(s string) string {
	s = rawLine.ReplaceAllString(s, "$1")
	return urlInText.ReplaceAllStringFunc(s, func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return "<url>"
		}
		return redact(u)
	})
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// headRefused reports whether a HEAD answer should be retried as GET. 429
// is excluded: the host asks to slow down, whatever the method.
func headRefused(code int) bool {
	return code >= 400 && code != http.StatusTooManyRequests
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// unfollowable says why the probe does not follow a redirect to next, the
// Location resolved against the URL requested (err: it did not parse), ""
// if it does. Only http and https are followed: ftp:, file:, data:,
// javascript: or an app's scheme (itms-apps:) are never requested, and end
// the chain.
func unfollowable(next *url.URL, err error) string {
	switch {
	case err != nil:
		return "its Location is not a valid URL"
	case next.Scheme != "http" && next.Scheme != "https":
		return fmt.Sprintf("scheme %s is not followed (only http and https are)", next.Scheme)
	case next.Host == "":
		return "its Location has no host"
	}
	return ""
}

// parseProbeURL parses an absolute http(s) URL, without its fragment,
// which is never sent.
func parseProbeURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("not an absolute http(s) URL")
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// canonicalHost is the host[:port] of u in lower case, without the
// scheme's default port.
func canonicalHost(u *url.URL) string {
	h := strings.ToLower(u.Host)
	switch {
	case u.Scheme == "http" && strings.HasSuffix(h, ":80"):
		h = strings.TrimSuffix(h, ":80")
	case u.Scheme == "https" && strings.HasSuffix(h, ":443"):
		h = strings.TrimSuffix(h, ":443")
	}
	return strings.TrimSuffix(h, ".")
}

// destKey names a destination: its URL without utm_* parameters, the
// rest of the query sorted, so creators' links to one page with their own
// UTM values share one probe. prior is part of it: it counts against
// max_redirects.
func destKey(u *url.URL, prior int) string {
	k := *u
	k.Host = canonicalHost(u)
	k.Scheme = strings.ToLower(u.Scheme)
	q := u.Query()
	for name := range q {
		if strings.HasPrefix(name, "utm_") {
			delete(q, name)
		}
	}
	k.RawQuery = q.Encode()
	k.ForceQuery = false
	return fmt.Sprintf("%d %s", prior, k.String())
}

// sameURL reports whether a and b name the same resource: scheme and
// host compared canonically, an empty path as "/", query parameters in
// any order.
func sameURL(a, b *url.URL) bool {
	path := func(u *url.URL) string {
		if u.EscapedPath() == "" {
			return "/"
		}
		return u.EscapedPath()
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && canonicalHost(a) == canonicalHost(b) &&
		path(a) == path(b) && a.Query().Encode() == b.Query().Encode()
}

// checkScheme judges the schemes of a link's chain: plain is the first URL
// on http after an https start (nil if none), land the landing URL. It
// returns why the link is broken, "" if it is not, and a note for a
// downgrade expect.scheme: http allows. The scheme of the landing URL is
// also the destination_scheme label of influencer_link_destination_info.
func checkScheme(e *exporter.Expect, plain, land *url.URL) (reason, note string) {
	scheme := ""
	if e != nil {
		scheme = e.Scheme
	}
	switch {
	case plain != nil && scheme == "http":
		return "", fmt.Sprintf("downgraded to http at %s (allowed by expect.scheme: http)", redact(plain))
	case plain != nil:
		return fmt.Sprintf("downgraded to http at %s", redact(plain)), ""
	case scheme == "https" && land.Scheme != "https":
		return fmt.Sprintf("landed on %s, expected https (expect.scheme)", redact(land)), ""
	}
	return "", ""
}

// joinFindings joins reasons or notes, skipping empty ones.
func joinFindings(parts ...string) string {
	var out []string
	for _, s := range parts {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, "; ")
}

// checkExpect returns why the landing URL u does not match what the link
// expects, or "".
func checkExpect(e *exporter.Expect, u *url.URL) string {
	reason, _ := judgeExpect(e, u)
	return reason
}

// judgeExpect is checkExpect, with the rule that failed: a wrong host
// hides the UTM parameters, which belong to the expected page.
func judgeExpect(e *exporter.Expect, u *url.URL) (string, expectRule) {
	if e == nil {
		return "", 0
	}
	if e.Host != "" {
		want := strings.TrimSuffix(strings.ToLower(e.Host), ".")
		if got := canonicalHost(u); got != want {
			return fmt.Sprintf("landed on host %q, expected %q", got, want), ruleHost
		}
	}
	if len(e.UTM) == 0 {
		return "", 0
	}
	q := u.Query()
	var problems []string
	for _, k := range slices.Sorted(maps.Keys(e.UTM)) {
		want := e.UTM[k]
		vals, ok := q[k]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("parameter %q missing", k))
		case want != "" && !slices.Contains(vals, want):
			problems = append(problems, fmt.Sprintf("parameter %q is %q, expected %q", k, vals[0], want))
		}
	}
	if len(problems) == 0 {
		return "", 0
	}
	return strings.Join(problems, "; "), ruleUTM
}

// redact keeps scheme, host and path of u: a query string may carry
// anything and is never logged.
func redact(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

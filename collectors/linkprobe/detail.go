package linkprobe

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

var _ exporter.LinkInspector = (*Probe)(nil)

// step is one request of a probe, kept with the link's last result for the
// /links page. It is kept small, for 20,000 links: the method is a bool,
// and a redirect's location shares its string with the next step's URL.
type step struct {
	url      string // secrets stripped (detailURL)
	location string // where a redirect leads, secrets stripped; "" if none
	err      string // why no response arrived, or why the chain stopped here
	took     time.Duration
	status   uint16 // 0: no response
	get      bool   // GET, else HEAD
}

// addStep appends s to steps, which never hold more than max_redirects + 2
// requests (every hop, and one HEAD refused and retried as GET), so that
// no chain can grow a result beyond that.
func (p *Probe) addStep(steps []step, s step) []step {
	if len(steps) >= p.opts.MaxRedirects+2 {
		return steps
	}
	return append(steps, s)
}

// expectRule is a set of expect rules a link failed.
type expectRule uint8

const (
	ruleHost expectRule = 1 << iota
	ruleUTM
	// ruleDowngrade is expect.scheme failed by a redirect to http: the
	// first http request of the chain shows it. ruleLandScheme is
	// expect.scheme https failed by an http landing page.
	ruleDowngrade
	ruleLandScheme
)

// schemeRule is the expect rule a reason of checkScheme stands for: plain
// is the downgrade checkScheme was given.
func schemeRule(reason string, plain *url.URL) expectRule {
	switch {
	case reason == "":
		return 0
	case plain != nil:
		return ruleDowngrade
	}
	return ruleLandScheme
}

// credentialParams are fragments of query parameter names whose values are
// hidden on the /links page: tokens, keys, signatures, passwords, sessions.
var credentialParams = []string{"token", "secret", "key", "pass", "pwd", "auth", "sig", "session", "credential", "jwt", "bearer", "cookie", "otp", "nonce"}

// detailURL is u as the /links page shows it: without user info and
// fragment, and with the value of every query parameter named like a
// credential replaced. Unlike redact, which logs and findings use, it
// keeps the other parameters: the utm_* values are what an operator
// checks when expect.utm fails.
func detailURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.Fragment, c.RawFragment = "", ""
	if c.RawQuery != "" {
		pairs := strings.Split(c.RawQuery, "&")
		for i, pair := range pairs {
			raw, _, hasValue := strings.Cut(pair, "=")
			name := raw
			if n, err := url.QueryUnescape(raw); err == nil {
				name = n
			}
			if hasValue && isCredential(name) {
				pairs[i] = raw + "=REDACTED"
			}
		}
		c.RawQuery = strings.Join(pairs, "&")
	}
	return c.String()
}

func isCredential(param string) bool {
	param = strings.ToLower(param)
	if param == "sid" || param == "code" {
		return true // session ids, OAuth's authorization code
	}
	for _, frag := range credentialParams {
		if strings.Contains(param, frag) {
			return true
		}
	}
	return false
}

// badLocation shows a Location the probe cannot follow: its scheme, host
// and path, never its query.
func badLocation(next *url.URL, err error) string {
	if err != nil || next == nil {
		return "(unparsable)"
	}
	return redact(next)
}

// LinkDetails returns every link the probe watches, with its last result
// and redirect chain: the links of the current round, those probed
// already with this round's result; then the configured links with
// nothing to request (missing).
func (p *Probe) LinkDetails() []exporter.LinkDetail {
	targets := p.targets()
	p.mu.Lock()
	last, skipped, cur := p.last, p.skipped, p.current
	p.mu.Unlock()
	// p.last and p.skipped are replaced by each round, never changed:
	// they can be read without the lock.
	done := map[string]result{}
	if cur != nil {
		cur.mu.Lock()
		for k, res := range cur.done {
			done[k] = cur.withSince(k, res)
		}
		cur.mu.Unlock()
	}

	out := make([]exporter.LinkDetail, 0, len(targets))
	seen := make(map[string]bool, len(targets))
	for _, l := range targets {
		k := linkKey(l)
		seen[k] = true
		d := exporter.LinkDetail{Campaign: l.Campaign, Creator: l.Creator, Provider: l.Provider, Link: l.ID, State: exporter.LinkStatePending}
		if res, ok := done[k]; ok {
			d = res.detail(l)
		} else if res, ok := last[k]; ok {
			d = res.detail(l)
			if why, ok := skipped[k]; ok {
				d.State, d.Reason = exporter.LinkStateSkipped, skippedReason(why, res)
			}
		} else if why, ok := skipped[k]; ok {
			d.State, d.Reason = exporter.LinkStateSkipped, why
		}
		out = append(out, d)
	}
	for _, c := range p.config {
		if c.url != "" || seen[c.key()] {
			continue
		}
		seen[c.key()] = true
		out = append(out, c.missingDetail())
	}
	return out
}

// skippedReason is why a link with a previous result was skipped, and what
// that result was when it was broken.
func skippedReason(why string, prev result) string {
	if prev.up {
		return why + "; last result: up"
	}
	return why + "; last result: broken: " + prev.reason
}

func (c configured) missingDetail() exporter.LinkDetail {
	return exporter.LinkDetail{Campaign: c.campaign, Creator: c.creator, Provider: c.typ, Link: c.id,
		State: exporter.LinkStateMissing, Reason: c.missingReason()}
}

// detail is the result as the /links page shows it, for the link as it is
// published now.
func (res result) detail(l exporter.PublishedLink) exporter.LinkDetail {
	state := exporter.LinkStateBroken
	if res.up {
		state = exporter.LinkStateUp
	}
	d := exporter.LinkDetail{
		Campaign: l.Campaign, Creator: l.Creator, Provider: l.Provider, Link: l.ID,
		State: state, Note: res.note, Since: res.since,
		ProbedAt: res.at, Duration: res.duration, Status: res.status,
		Hops: res.hops(),
	}
	if !res.up {
		d.Reason = res.reason
	}
	return d
}

// hops is the link's redirect chain: the short link's requests, then its
// destination's, with the expect rules it failed on the hops that show
// them.
func (res result) hops() []exporter.Hop {
	if len(res.steps)+len(res.dest) == 0 {
		return nil
	}
	hops := make([]exporter.Hop, 0, len(res.steps)+len(res.dest))
	for _, s := range res.steps {
		hops = append(hops, s.hop())
	}
	for _, s := range res.dest {
		h := s.hop()
		h.Shared = res.sharedDest
		hops = append(hops, h)
	}
	mark := func(h *exporter.Hop, rule string) {
		if h.Expect != "" {
			rule = h.Expect + ", " + rule
		}
		h.Expect = rule
	}
	land := &hops[len(hops)-1]
	if res.failed&ruleHost != 0 {
		mark(land, "host")
	}
	if res.failed&ruleUTM != 0 {
		mark(land, "utm")
	}
	if res.failed&ruleLandScheme != 0 {
		mark(land, "scheme")
	}
	if res.failed&ruleDowngrade != 0 {
		// The first request over http: every link judged for a
		// downgrade started on https.
		for i := range hops {
			if strings.HasPrefix(hops[i].URL, "http:") {
				mark(&hops[i], "scheme")
				break
			}
		}
	}
	return hops
}

func (s step) hop() exporter.Hop {
	m := "HEAD"
	if s.get {
		m = "GET"
	}
	return exporter.Hop{Method: m, URL: s.url, Status: int(s.status), Took: s.took, Location: s.location, Error: s.err}
}

// onDemandNote is the note of every ProbeLink result.
const onDemandNote = "single attempt on demand, not confirmed (a scheduled round tries a failure again confirm_delay later before the link counts as broken); the exported series change only with the next scheduled round"

// ProbeLink probes one link now, outside the schedule: its short link and
// its destination's chain, judged as a round judges them, within the
// timeout and the address rules, but one attempt without confirmation,
// outside the round's pacing (one request at a time, one ProbeLink at a
// time).
// link is the link's `link` label or its short URL. The result changes no
// exported series, stored result or finding: the next round does. A
// configured link with nothing to request is returned missing, without a
// probe.
func (p *Probe) ProbeLink(ctx context.Context, link string) (exporter.LinkDetail, error) {
	l, missing, ok := p.find(link)
	if !ok {
		return exporter.LinkDetail{}, exporter.ErrUnknownLink
	}
	if missing != nil {
		return missing.missingDetail(), nil
	}
	u, err := parseProbeURL(l.URL)
	if err != nil {
		d := exporter.LinkDetail{Campaign: l.Campaign, Creator: l.Creator, Provider: l.Provider, Link: l.ID,
			State: exporter.LinkStateBroken, Reason: "invalid probe URL", Note: onDemandNote}
		return d, nil
	}

	select {
	case p.onDemand <- struct{}{}:
	case <-ctx.Done():
		return exporter.LinkDetail{}, fmt.Errorf("linkprobe: probe %s: %w", l.ID, ctx.Err())
	}
	defer func() { <-p.onDemand }()
	// The short link and the destination's chain each have the timeout.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Duration(p.opts.Timeout)+time.Second)
	defer cancel()

	r := &round{p: p, ctx: ctx, start: p.now(), onDemand: true, shortHosts: map[string]bool{}}
	for _, c := range p.config {
		if host, _, ok := exporter.SplitLinkID(c.id); ok {
			r.shortHosts[host] = true
		}
	}
	for _, t := range p.targets() {
		r.addShortHosts(t)
	}
	h := r.hopOnce(l, u)
	if h.cut {
		return exporter.LinkDetail{}, fmt.Errorf("linkprobe: probe %s: %w", l.ID, ctx.Err())
	}
	res := shortResult(l, h, h.reason, p.now())
	if h.reason == "" && h.next != nil {
		d := &destination{url: h.next, prior: h.prior, method: h.method}
		c := r.follow(h.next, h.prior, h.method)
		if c.cut {
			return exporter.LinkDetail{}, fmt.Errorf("linkprobe: probe %s: %w", l.ID, ctx.Err())
		}
		res = judge(l, h, res, d, chainOutcome{chain: c, reason: c.reason, at: p.now()})
	}

	// Since: the stored state's, when this probe agrees with it.
	p.mu.Lock()
	prev, had := p.last[linkKey(l)]
	p.mu.Unlock()
	res.since = since(prev, had, res)
	d := res.detail(l)
	d.Note = joinFindings(d.Note, onDemandNote)
	return d, nil
}

// find returns the link whose `link` label or short URL is link: a target
// of the probe, or a configured link with nothing to request (missing).
func (p *Probe) find(link string) (exporter.PublishedLink, *configured, bool) {
	link = strings.TrimSpace(link)
	if link == "" {
		return exporter.PublishedLink{}, nil, false
	}
	// A URL is compared as a link id too: https://bit.ly/abc names
	// bit.ly/abc.
	id := normID(link)
	if u, err := parseProbeURL(link); err == nil {
		id = normID(u.Host + u.EscapedPath())
		if u.RawQuery != "" {
			id = "" // no link id has a query
		}
	}
	matches := func(linkID, linkURL string) bool {
		if linkID == link || (id != "" && normID(linkID) == id) {
			return true
		}
		return linkURL != "" && linkURL == link
	}
	targets := p.targets()
	for _, l := range targets {
		if matches(l.ID, l.URL) {
			return l, nil, true
		}
	}
	published := make(map[string]bool, len(targets))
	for _, l := range targets {
		published[linkKey(l)] = true
	}
	for i, c := range p.config {
		if c.url == "" && !published[c.key()] && matches(c.id, "") {
			return exporter.PublishedLink{}, &p.config[i], true
		}
	}
	return exporter.PublishedLink{}, nil, false
}

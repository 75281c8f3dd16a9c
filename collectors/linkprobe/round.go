package linkprobe

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// progressEvery is the least time between two progress exports of a round.
const progressEvery = time.Second

// attempt is a failed attempt waiting for its confirmation.
type attempt struct {
	reason string
	at     time.Time // when it ended
}

// round is one refresh: every target's short link, each distinct
// destination once, spread over the window.
type round struct {
	p     *Probe
	ctx   context.Context
	start time.Time
	plan  roundPlan
	// onDemand marks the single probe of ProbeLink: its requests skip the
	// round's pacing and slots of the requests in flight.
	onDemand bool

	targets []exporter.PublishedLink
	keys    []string // linkKey of each target
	// prev is the last result of every link, as the round started.
	prev map[string]result
	// shortHosts are the hosts of short links (not url: overrides, which
	// may be pages): never sent GET, even inside a destination's chain.
	hostsMu    sync.RWMutex
	shortHosts map[string]bool
	// known are the keys of the round's targets, those that joined late
	// included.
	known map[string]bool
	// slots are the short link requests, by time; left out are the links
	// the window had no room for, with why.
	slots   []slot
	leftOut map[string]string
	// destPlan spreads each destination host's probes over the window.
	destPlan map[string]destSpread

	mu           sync.Mutex
	wg           sync.WaitGroup
	dispatched   []string // link keys, in the order their probe started
	done         map[string]result
	cut          map[string]string // links started and not finished: why
	dests        map[string]*destination
	destSeen     map[string]int // destinations started per host
	lastProgress time.Time
	// progressGap is the least time between two progress exports:
	// progressEvery, or more when the last took long to store.
	progressGap time.Duration
	// flush exports the results that arrived too soon after the last
	// export, once it is time; closed stops it when the round is over.
	// progressMu orders exports with the round's end, so that none lands
	// after Poll returned.
	flush      *time.Timer
	closed     bool
	progressMu sync.Mutex
}

type slot struct {
	at  time.Time
	idx int // into targets
}

// destSpread places the i-th destination probe of a host.
type destSpread struct {
	offsets []time.Duration
}

// newRound plans the round of targets.
func (p *Probe) newRound(ctx context.Context, targets []exporter.PublishedLink) *round {
	r := &round{
		p: p, ctx: ctx, start: p.now(),
		shortHosts: map[string]bool{},
		known:      map[string]bool{},
		leftOut:    map[string]string{},
		destPlan:   map[string]destSpread{},
		done:       map[string]result{},
		cut:        map[string]string{},
		dests:      map[string]*destination{},
		destSeen:   map[string]int{},
	}
	r.lastProgress, r.progressGap = r.start, progressEvery
	p.short.prune()
	p.dest.prune()

	// Least recently probed first: links a late round left out go first
	// now, and links probed last round keep their places, so each link is
	// probed about an interval after its last probe.
	targets = exporter.Rotate(p.rotation, targets, linkKey)
	r.targets = targets
	p.mu.Lock()
	r.prev = make(map[string]result, len(p.last))
	for k, v := range p.last {
		r.prev[k] = v
	}
	destCount := make(map[string]int, len(p.destCount))
	for k, v := range p.destCount {
		destCount[k] = v
	}
	p.prunePending(r.start)
	p.mu.Unlock()

	// The short link hosts of the configured links, so that links
	// joining late (published during the round) start from them too.
	for _, c := range p.config {
		if host, _, ok := exporter.SplitLinkID(c.id); ok {
			r.shortHosts[host] = true
		}
	}
	byHost := map[string][]int{}
	apiDests := map[string]map[string]bool{}
	for i, l := range targets {
		k := linkKey(l)
		r.keys = append(r.keys, k)
		r.known[k] = true
		r.addShortHosts(l)
		u, err := parseProbeURL(l.URL)
		if err != nil {
			continue
		}
		h := canonicalHost(u)
		byHost[h] = append(byHost[h], i)
		if d := apiDestination(l); d != nil {
			dh := canonicalHost(d)
			if apiDests[dh] == nil {
				apiDests[dh] = map[string]bool{}
			}
			apiDests[dh][destKey(d, 1)] = true
		}
	}
	for h, ks := range apiDests {
		destCount[h] = max(destCount[h], len(ks))
	}
	counts := map[string]int{}
	for h, idx := range byHost {
		counts[h] = len(idx)
	}
	r.plan = newRoundPlan(p.opts, p.interval, counts, destCount)

	for j, need := range r.plan.short {
		idx := byHost[need.host]
		fit := need.fits(r.plan.window)
		if fit < len(idx) {
			p.logger.Warn("round cannot probe every link of a short link host in its window; the links left out keep their last result and go first next round",
				"host", need.host, "links", need.n, "probed", fit, "window", r.plan.window, "short_link_interval", need.spacing)
			why := fmt.Sprintf("round too short: host %s has %d links but a round fits %d (%s window at short_link_interval %s)",
				need.host, need.n, fit, fmtDuration(r.plan.window), fmtDuration(need.spacing))
			for _, i := range idx[fit:] {
				r.leftOut[r.keys[i]] = why
			}
			idx = idx[:fit]
		}
		for n, off := range spread(len(idx), r.plan.window, need.spacing, j, len(r.plan.short)) {
			r.slots = append(r.slots, slot{at: r.start.Add(off), idx: idx[n]})
		}
	}
	sort.SliceStable(r.slots, func(a, b int) bool { return r.slots[a].at.Before(r.slots[b].at) })

	for j, need := range r.plan.dest {
		if need.need() > r.plan.window {
			p.logger.Warn("destinations of a host need more than the round's window; links leading there may be left out",
				"host", need.host, "destinations", need.n, "need", need.need(), "window", r.plan.window, "per_host_interval", need.spacing)
		}
		r.destPlan[need.host] = destSpread{offsets: spread(need.n, r.plan.window, need.spacing, j, len(r.plan.dest))}
	}
	return r
}

// addShortHosts records the short link hosts of l: its URL's, unless it
// is a url: override, which may be a page, and its id's.
func (r *round) addShortHosts(l exporter.PublishedLink) {
	r.hostsMu.Lock()
	defer r.hostsMu.Unlock()
	if _, override := r.p.overrides[linkKey(l)]; !override {
		if u, err := parseProbeURL(l.URL); err == nil {
			r.shortHosts[canonicalHost(u)] = true
		}
	}
	if host, _, ok := exporter.SplitLinkID(l.ID); ok {
		r.shortHosts[host] = true
	}
}

func (r *round) isShortHost(host string) bool {
	r.hostsMu.RLock()
	defer r.hostsMu.RUnlock()
	return r.shortHosts[host]
}

// waiting reports whether a configured link without url: is not in the
// round: its shortener collector has not published it yet.
func (r *round) waiting() bool {
	for _, c := range r.p.config {
		if c.url == "" && !r.known[c.key()] {
			return true
		}
	}
	return false
}

// joinEvery is how often a round whose planned requests have all started
// looks for links published since it started, while configured links are
// missing.
const joinEvery = time.Second

// run probes the round's links, each at its slot, then, while configured
// links are missing and until the window ends, the links published
// meanwhile (the shortener collectors' first refreshes end after the
// probe's first round started), and waits for them.
// It returns false if ctx ended before a single probe started.
func (r *round) run() bool {
	started := 0
	for i, l := range r.targets {
		if _, err := parseProbeURL(l.URL); err != nil {
			started++
			r.dispatched = append(r.dispatched, r.keys[i])
			r.finishLink(r.keys[i], result{link: l, reason: "invalid probe URL", at: r.p.now()})
		}
	}
	for _, s := range r.slots {
		if err := r.p.sleepUntil(r.ctx, s.at); err != nil {
			break
		}
		started++
		r.dispatch(r.targets[s.idx], r.keys[s.idx])
	}
	end := r.start.Add(r.plan.window)
	for r.ctx.Err() == nil {
		started += r.join()
		next := r.p.now().Add(joinEvery)
		if !r.waiting() || !next.Before(end) || r.p.sleepUntil(r.ctx, next) != nil {
			break
		}
	}
	r.wg.Wait()
	return started > 0 || r.ctx.Err() == nil
}

func (r *round) dispatch(l exporter.PublishedLink, k string) {
	r.mu.Lock()
	r.dispatched = append(r.dispatched, k)
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.probeLink(l, k)
	}()
}

// join adds the links published since the round started and starts their
// probes, at once: the short link limit still spaces them. It returns how
// many it started.
func (r *round) join() int {
	n := 0
	for _, l := range r.p.targets() {
		k := linkKey(l)
		if r.known[k] {
			continue
		}
		r.known[k] = true
		r.addShortHosts(l)
		r.mu.Lock()
		r.targets = append(r.targets, l)
		r.keys = append(r.keys, k)
		r.mu.Unlock()
		n++
		if _, err := parseProbeURL(l.URL); err != nil {
			r.mu.Lock()
			r.dispatched = append(r.dispatched, k)
			r.mu.Unlock()
			r.finishLink(k, result{link: l, reason: "invalid probe URL", at: r.p.now()})
			continue
		}
		r.dispatch(l, k)
	}
	return n
}

// probeLink requests the short link, then judges the link on its
// destination's probe, shared with the other links leading there.
func (r *round) probeLink(l exporter.PublishedLink, key string) {
	u, _ := parseProbeURL(l.URL)
	var h hop
	reason, cut := r.confirmed(r.p.pendingHop, key, l.Provider+"/"+l.ID, func() (string, bool) {
		h = r.hopOnce(l, u)
		return h.reason, h.cut
	})
	if cut {
		r.cutLink(key, reason)
		return
	}
	res := shortResult(l, h, reason, r.p.now())
	if reason != "" || h.next == nil {
		r.finishLink(key, res)
		return
	}
	d := r.destination(h.next, h.prior, h.method)
	d.subscribe(func(c chainOutcome) {
		if c.cut {
			r.cutLink(key, c.why)
			return
		}
		r.finishLink(key, judge(l, h, res, d, c))
	})
}

// shortResult is a link's result from its short link's answer h: final
// when the attempt failed (reason, confirmed) or the short link answered
// 2xx itself, so far otherwise (judge adds its destination's chain).
func shortResult(l exporter.PublishedLink, h hop, reason string, at time.Time) result {
	res := result{link: l, status: h.status, host: h.host, scheme: schemeOf(h.host, h.final), redirects: h.redirects,
		duration: h.took, note: h.note, at: at, steps: h.steps}
	if reason != "" {
		res.reason = reason
		return res
	}
	if h.next == nil {
		// The short link answered 2xx itself: it is its own destination.
		why, note := checkScheme(l.Expect, h.downgrade, h.final)
		expect, rule := judgeExpect(l.Expect, h.final)
		res.reason = joinFindings(why, expect)
		res.note = joinFindings(res.note, note)
		res.failed = rule | schemeRule(why, h.downgrade)
		res.up = res.reason == ""
	}
	return res
}

// judge combines a link's short link answer h (res so far) with its
// destination's chain c.
func judge(l exporter.PublishedLink, h hop, res result, d *destination, c chainOutcome) result {
	res.status, res.host, res.scheme = c.status, c.host, schemeOf(c.host, c.final)
	res.redirects = h.prior + c.redirects
	res.duration += c.took
	res.dest = c.steps
	if c.at.After(res.at) {
		res.at = c.at
	}
	// Where this link's visitors land: the chain's end, with the link's
	// own query unless it is the one the chain started from, less what
	// the chain's redirects drop.
	from := h.location
	if from == nil {
		from = d.url
	}
	// The chain was requested from another link's URL: the same page,
	// other utm_* values.
	res.sharedDest = h.next.String() != d.url.String()
	if c.reason != "" {
		res.reason = c.reason
		return res
	}
	land := *c.final
	if from.String() != d.url.String() {
		q := from.Query()
		for _, k := range c.dropped {
			q.Del(k)
		}
		land.RawQuery = q.Encode()
	}
	res.reason, res.failed = judgeExpect(l.Expect, &land)
	if res.reason != "" && len(c.dropped) > 0 {
		res.reason += fmt.Sprintf(" (the redirects after %s drop %v)", redact(d.url), c.dropped)
	}
	// A link requested over https must not send its visitors over http,
	// whether the short link's redirects or the destination's do.
	var plain *url.URL
	if h.secure {
		plain = h.downgrade
		if plain == nil {
			plain = c.plain
		}
	}
	why, note := checkScheme(l.Expect, plain, &land)
	res.reason = joinFindings(why, res.reason)
	res.note = joinFindings(res.note, note)
	res.failed |= schemeRule(why, plain)
	res.up = res.reason == ""
	return res
}

// destination is one distinct destination of the round, probed once for
// every link leading there.
type destination struct {
	key    string
	url    *url.URL // as the first link leading there has it
	prior  int
	method string

	mu   sync.Mutex
	out  *chainOutcome
	subs []func(chainOutcome)
}

// chainOutcome is a destination's confirmed chain.
type chainOutcome struct {
	chain
	reason string // with both attempts, "" if healthy
	why    string // why it was cut
	at     time.Time
}

// subscribe calls f with the destination's outcome, now if it is known.
func (d *destination) subscribe(f func(chainOutcome)) {
	d.mu.Lock()
	if d.out == nil {
		d.subs = append(d.subs, f)
		d.mu.Unlock()
		return
	}
	out := *d.out
	d.mu.Unlock()
	f(out)
}

func (d *destination) finish(out chainOutcome) {
	d.mu.Lock()
	d.out = &out
	subs := d.subs
	d.subs = nil
	d.mu.Unlock()
	for _, f := range subs {
		f(out)
	}
}

// destination returns the round's probe of u, starting it at its place
// in the host's spread if it is new.
func (r *round) destination(u *url.URL, prior int, method string) *destination {
	key := destKey(u, prior)
	host := canonicalHost(u)
	r.mu.Lock()
	if d, ok := r.dests[key]; ok {
		r.mu.Unlock()
		return d
	}
	d := &destination{key: key, url: u, prior: prior, method: method}
	r.dests[key] = d
	i := r.destSeen[host]
	r.destSeen[host]++
	r.mu.Unlock()

	at := r.p.now()
	r.p.mu.Lock()
	_, pending := r.p.pendingDest[key]
	r.p.mu.Unlock()
	if offs := r.destPlan[host].offsets; i < len(offs) && !pending {
		at = r.start.Add(offs[i])
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := r.p.sleepUntil(r.ctx, at); err != nil {
			d.finish(chainOutcome{chain: chain{cut: true}, why: "round ran late: its destination was not probed"})
			return
		}
		var c chain
		reason, cut := r.confirmed(r.p.pendingDest, key, redact(u), func() (string, bool) {
			c = r.follow(u, prior, method)
			return c.reason, c.cut
		})
		c.cut = cut
		d.finish(chainOutcome{chain: c, reason: reason, why: reason, at: r.p.now()})
	}()
	return d
}

// confirmed runs try, and if it fails, runs it again confirm_delay later:
// only a second failure counts, with the reasons of both. An attempt of an
// earlier round that failed without confirmation (pending, by key) makes
// the first try the confirmation; the links it was cut short for were not
// probed, so the next round starts with them. It returns the reason of a
// confirmed failure, "" on success; cut, with why, if the round ended
// first. name says what is tried in logs, which never carry a query.
func (r *round) confirmed(pending map[string]attempt, key, name string, try func() (reason string, cut bool)) (string, bool) {
	p := r.p
	p.mu.Lock()
	first, had := pending[key]
	delete(pending, key)
	p.mu.Unlock()
	keep := func(a attempt) {
		p.mu.Lock()
		pending[key] = a
		p.mu.Unlock()
	}
	start := p.now()
	reason, cut := try()
	switch {
	case cut:
		if had {
			keep(first)
			return "round ran late: the confirmation of a failed attempt did not finish", true
		}
		return "round ran late: not probed this round", true
	case reason == "":
		return "", false
	case had:
		return attempts(first, start, reason), false
	}
	first = attempt{reason: reason, at: p.now()}
	if err := p.sleep(r.ctx, time.Duration(p.opts.ConfirmDelay)); err != nil {
		keep(first)
		return "round ran late: a failed attempt could not be confirmed before the round ended, it is confirmed first next round", true
	}
	start = p.now()
	reason, cut = try()
	switch {
	case cut:
		keep(first)
		return "round ran late: a failed attempt could not be confirmed before the round ended, it is confirmed first next round", true
	case reason == "":
		p.logger.Debug("failed attempt not confirmed", "target", name, "reason", first.reason)
		return "", false
	}
	return attempts(first, start, reason), false
}

func attempts(first attempt, second time.Time, reason string) string {
	return fmt.Sprintf("attempt 1: %s; attempt 2 (%s later): %s", first.reason, fmtDuration(second.Sub(first.at)), reason)
}

// prunePending forgets failed attempts too old to confirm anything; call
// with p.mu held.
func (p *Probe) prunePending(now time.Time) {
	for _, m := range []map[string]attempt{p.pendingHop, p.pendingDest} {
		for k, a := range m {
			if now.Sub(a.at) > 2*p.interval {
				delete(m, k)
			}
		}
	}
}

func (r *round) finishLink(key string, res result) {
	if !res.up {
		r.p.logger.Debug("link broken", "campaign", res.link.Campaign, "creator", res.link.Creator,
			"provider", res.link.Provider, "link", res.link.ID, "reason", res.reason)
	}
	r.mu.Lock()
	r.done[key] = res
	r.mu.Unlock()
	if r.p.finished != nil {
		r.p.finished(key)
	}
	r.progress()
}

func (r *round) cutLink(key, why string) {
	r.mu.Lock()
	r.cut[key] = why
	r.mu.Unlock()
}

// progress exports the round's samples so far, at most once every
// progressEvery: a result arriving sooner is exported when that time has
// passed.
func (r *round) progress() { r.export(false) }

// export exports the round's samples so far, if progressEvery has passed
// since the last export or due says it is time.
func (r *round) export(due bool) {
	r.progressMu.Lock()
	defer r.progressMu.Unlock()
	now := r.p.now()
	r.mu.Lock()
	if due {
		r.flush = nil
	}
	if r.closed {
		r.mu.Unlock()
		return
	}
	if wait := r.progressGap - now.Sub(r.lastProgress); wait > 0 && !due {
		if r.flush == nil {
			r.flush = time.AfterFunc(wait, func() { r.export(true) })
		}
		r.mu.Unlock()
		return
	}
	r.lastProgress = now
	samples := r.samplesLocked()
	r.mu.Unlock()
	took := exporter.Progress(r.ctx, samples)
	r.mu.Lock()
	r.progressGap = max(progressEvery, exporter.ProgressCost*took)
	r.mu.Unlock()
}

// samplesLocked returns every target's samples: this round's result, else
// the previous one. Call with r.mu held.
func (r *round) samplesLocked() []exporter.Sample {
	var out []exporter.Sample
	for i, k := range r.keys {
		res, ok := r.done[k]
		if !ok {
			if res, ok = r.prev[k]; !ok {
				continue
			}
			// Keep the previous outcome, with this round's labels.
			res.link = r.targets[i]
		}
		out = append(out, res.samples()...)
	}
	return out
}

// finish stores the round's results and coverage and returns its samples.
func (r *round) finish() []exporter.Sample {
	p := r.p
	r.progressMu.Lock()
	defer r.progressMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.flush != nil {
		r.flush.Stop()
	}
	samples := r.samplesLocked()
	now := p.now()

	last := make(map[string]result, len(r.keys))
	skippedWhy := map[string]string{}
	findings := map[string]string{}
	var coverage []exporter.ObjectStatus
	covered := map[string]bool{}
	skipped := 0
	for i, k := range r.keys {
		l := r.targets[i]
		obj := exporter.Object{Kind: exporter.KindProbe, Campaign: l.Campaign, Creator: l.Creator, ID: l.ID}
		covered[k] = true
		res, ok := r.done[k]
		if ok {
			coverage = append(coverage, exporter.ObjectStatus{Object: obj, State: exporter.StateExported})
			res = r.withSince(k, res)
		} else {
			skipped++
			why := r.leftOut[k]
			if why == "" {
				why = r.cut[k]
			}
			if why == "" {
				why = "round ran late: not probed this round"
			}
			prev, had := r.prev[k]
			if had {
				why += fmt.Sprintf(", last probed %s ago", fmtDuration(now.Sub(prev.at).Round(time.Second)))
			} else {
				why += ", never probed yet"
			}
			coverage = append(coverage, exporter.ObjectStatus{Object: obj, State: exporter.StateSkipped, Reason: why})
			skippedWhy[k] = why
			if !had {
				continue
			}
			prev.link = l
			res = prev
		}
		last[k] = res
		switch {
		case !res.up && res.note != "":
			findings[l.Provider+"/"+l.ID] = res.reason + "; " + res.note
		case !res.up:
			findings[l.Provider+"/"+l.ID] = res.reason
		case res.note != "":
			findings[l.Provider+"/"+l.ID] = res.note
		}
	}
	for _, c := range p.config {
		k := c.key()
		if covered[k] {
			continue
		}
		covered[k] = true
		coverage = append(coverage, exporter.ObjectStatus{
			Object: exporter.Object{Kind: exporter.KindProbe, Campaign: c.campaign, Creator: c.creator, ID: c.id},
			State:  exporter.StateMissing,
			Reason: c.missingReason(),
		})
	}
	if skipped > 0 {
		p.logger.Warn("round ended before every link was probed, keeping their previous results",
			"skipped", skipped, "links", len(r.keys))
	}

	// The links probed, in the order they started: the next round keeps
	// that order, and starts with those left out.
	for _, k := range r.dispatched {
		if _, ok := r.done[k]; ok {
			p.rotation.Done(k)
		}
	}
	destCount := map[string]int{}
	for _, d := range r.dests {
		destCount[canonicalHost(d.url)]++
	}

	p.mu.Lock()
	p.last, p.findings, p.coverage, p.destCount = last, findings, coverage, destCount
	p.skipped, p.current = skippedWhy, nil
	p.mu.Unlock()
	return samples
}

// withSince sets res.since from the link's result before the round.
func (r *round) withSince(key string, res result) result {
	prev, had := r.prev[key]
	res.since = since(prev, had, res)
	return res
}

// since is when the link entered the state of res (up or broken): the
// previous result's since when it had the same state, else when res
// completed.
func since(prev result, had bool, res result) time.Time {
	if had && prev.up == res.up && !prev.since.IsZero() {
		return prev.since
	}
	return res.at
}

// sleepUntil waits until t on the probe's clock.
func (p *Probe) sleepUntil(ctx context.Context, t time.Time) error {
	if d := t.Sub(p.now()); d > 0 {
		return p.sleep(ctx, d)
	}
	return ctx.Err()
}

// schemeOf is the scheme of the last URL requested, "" when no response
// arrived (host is then "").
func schemeOf(host string, final *url.URL) string {
	if host == "" || final == nil {
		return ""
	}
	return final.Scheme
}

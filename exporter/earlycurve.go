package exporter

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
)

// The early curve: each post's views, saves and shares at fixed ages since
// publishing, so posts published at different times can be compared at the
// same age, which PromQL cannot align by itself. Saves and shares are the
// early signal of a post that keeps travelling; likes and comments are not
// recorded, to keep the series few.
//
// For a post and an age A, the values come from the poll nearest to A
// among the last poll before A and the first poll at or after A (a tie goes
// to the later one). A poll's time is when the collector read the post, for
// collectors that say so (PollTimes: they repeat the last values of the
// posts not due, which are no poll); otherwise when the refresh that
// returned it ended. A post first seen at or after A gets no value for A,
// and neither does one whose nearest poll is more than max(10% of A, 5m)
// from A: nothing is interpolated. A recorded value never changes.
//
// Only what the next pending age needs is kept per post: its last poll
// before that age. A post with no pending age keeps only what it recorded.

const (
	curvePending uint8 = iota
	curveRecorded
	curveMissed
)

var curveStates = [...]string{curvePending: "pending", curveRecorded: "recorded", curveMissed: "missed"}

// minCurveTolerance is the least distance allowed between an age and the
// poll recorded for it: a tenth of a one-hour age is only 6 minutes, and
// some posts are polled every 5 minutes.
const minCurveTolerance = 5 * time.Minute

// curveTypes are the engagement types recorded at age.
var curveTypes = []string{"saves", "shares"}

// curveFileVersion is the layout of the state file; a file of another
// version is ignored.
const curveFileVersion = 1

var earlyCurvePosts = makeMetric("influencer_early_curve_posts",
	"Posts by early-curve state per age since publishing: recorded, pending (not decided yet: younger than the age, or waiting for the poll after it) or missed (first seen after the age, or no poll within max(10% of the age, 5m) of it). Ages print as Prometheus durations: 24h is 1d.",
	prometheus.GaugeValue, LabelCampaign, "age", "state")

// EarlyCurve records, for every post the collectors poll, its views, saves
// and shares at fixed ages since publishing, and exports them. It is fed
// by the scheduler (Observe, after each successful refresh) and is the
// prometheus.Collector of the at-age series. Safe for concurrent use.
type EarlyCurve struct {
	logger *slog.Logger

	mu    sync.RWMutex
	file  string
	ages  []curveAge
	posts map[string]map[string]*curvePost // by collector, then post key
	gen   uint64                           // counts Observe calls

	// saveMu orders writes of the state file.
	saveMu sync.Mutex

	// The at-age series and post counts rendered in the text formats
	// (see MetricsHandler): recorded values never change, so the series
	// are rendered again only when a post records an age or goes, and
	// then only the part (shard) that post is in; the counts after every
	// refresh. A post's shard follows from its labels, whichever collector
	// reports it, so a post two collectors report is rendered once (the
	// first collector by name wins; renderSamples drops the other). view
	// is what a scrape reads, without e.mu. renderMu orders the renders
	// and guards shards and shardsOf, the collectors rendered in them.
	renderMu sync.Mutex
	shards   *[curveShards]*exposition
	shardsOf map[string]bool
	view     atomic.Pointer[exposition]
}

// curveShards is how many parts a collector's at-age series are rendered
// in: a post that records an age renders only its part again, a 256th of
// the collector's series (2,500 of 640,000 at 40,000 posts and 4 ages).
const curveShards = 256

var curveSeed = maphash.MakeSeed()

// curveShard is the part a post's series are rendered in, by its key.
func curveShard(key string) int { return int(maphash.String(curveSeed, key) % curveShards) }

// curveDirty names the parts to render again, by collector: nil is every
// part.
type curveDirty map[string]*[curveShards]bool

type curveAge struct {
	d     time.Duration
	tol   time.Duration
	label string
}

// curvePost is one post of one collector. Times are Unix nanoseconds,
// zero when unknown.
type curvePost struct {
	campaign, creator, provider, post string

	published int64
	firstSeen int64 // the first poll that read the post's values
	lastPoll  int64 // the last poll taken: a poll no later is a repeat
	// types are the post's engagement types among curveTypes; a poll's
	// vals hold views at 0, then types[i] at 1+i, NaN where absent.
	types []string
	// open: some age is still pending.
	open bool
	ages []curveRecord // as EarlyCurve.ages

	prev    curvePoll // the last poll before the next pending age
	hasPrev bool

	// Scratch of the Observe under way (generation gen): filled is set
	// when this refresh read the post, at pollAt.
	seen, filled, pubGen uint64
	cur                  []float64
	newPub, pollAt       int64

	// shard is the part its series are rendered in; newRecord is set
	// when it records an age, until the part is rendered again.
	shard     int
	newRecord bool
}

type curvePoll struct {
	at   int64
	vals []float64
}

type curveRecord struct {
	state uint8
	curvePoll
}

var (
	_ prometheus.Collector = (*EarlyCurve)(nil)
	_ RenderedCollector    = (*EarlyCurve)(nil)
)

// NewEarlyCurve returns a tracker recording at the given ages since
// publishing. With a state file, it starts from the values recorded there
// and writes them back after each refresh that decides an age. A missing
// file is normal (the first start); an unreadable or corrupt one is logged
// and ignored.
func NewEarlyCurve(ages []time.Duration, stateFile string, logger *slog.Logger) *EarlyCurve {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := &EarlyCurve{
		logger: logger,
		file:   stateFile,
		ages:   curveAges(ages),
		posts:  map[string]map[string]*curvePost{},
	}
	e.view.Store(&exposition{})
	if stateFile != "" {
		e.restore(stateFile)
	}
	e.render(true, nil)
	return e
}

// restore loads the state file into the empty tracker, logging what it
// found; the caller holds e.mu or owns e alone.
func (e *EarlyCurve) restore(file string) {
	n, err := e.load(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		e.logger.Warn("ignoring early curve state file", "file", file, "err", err)
	default:
		e.logger.Info("early curve state loaded", "file", file, "posts", n)
	}
}

// curveAges sorts ages and drops duplicates and non-positive ones.
func curveAges(ds []time.Duration) []curveAge {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	ds = slices.Compact(ds)
	out := make([]curveAge, 0, len(ds))
	for _, d := range ds {
		if d <= 0 {
			continue
		}
		out = append(out, curveAge{d: d, tol: max(d/10, minCurveTolerance), label: model.Duration(d).String()})
	}
	return out
}

// SetAges changes the recorded ages, for a reload. Values recorded at ages
// still configured stay; those of ages no longer configured are dropped. A
// new age is decided by the same rule from the next poll on: a post well
// past it misses it, its earlier polls were not kept.
func (e *EarlyCurve) SetAges(ages []time.Duration) {
	defs := curveAges(ages)
	e.mu.Lock()
	if slices.Equal(defs, e.ages) {
		e.mu.Unlock()
		return
	}
	from := make([]int, len(defs))
	for i, a := range defs {
		from[i] = slices.IndexFunc(e.ages, func(o curveAge) bool { return o.d == a.d })
	}
	for _, posts := range e.posts {
		for _, p := range posts {
			recs := make([]curveRecord, len(defs))
			for i, j := range from {
				if j >= 0 {
					recs[i] = p.ages[j]
				}
			}
			p.ages = recs
			p.reopen()
		}
	}
	e.ages = defs
	e.mu.Unlock()
	e.render(true, nil)
}

// SetStateFile changes where the state is kept, for a reload. A tracker
// that holds nothing and has observed nothing yet (a runner's first load)
// starts from the file, as NewEarlyCurve does; any other writes its state
// to the new file at once, without reading it.
func (e *EarlyCurve) SetStateFile(file string) {
	e.mu.Lock()
	if file == e.file {
		e.mu.Unlock()
		return
	}
	e.file = file
	if file != "" && e.gen == 0 && len(e.posts) == 0 {
		e.restore(file)
		e.mu.Unlock()
		e.render(true, nil)
		return
	}
	e.mu.Unlock()
	if file != "" {
		e.save()
	}
}

// Forget drops the posts of collectors not in keep: a reload removed them.
func (e *EarlyCurve) Forget(keep map[string]bool) {
	e.mu.Lock()
	for c := range e.posts {
		if !keep[c] {
			delete(e.posts, c)
		}
	}
	e.mu.Unlock()
	e.render(false, nil)
}

// Observe takes one successful refresh of the collector c named collector:
// fresh are the samples c returned, current is its whole snapshot after the
// samples of skipped objects were carried over, and at is when the refresh
// returned. A post's poll time is when c read it if c implements PollTimes
// and knows the post, else at; a post whose poll time did not advance since
// the last one taken (c repeated its last values) is no new poll, and
// neither are carried-over samples. Posts absent from current are
// forgotten: the collector stopped watching them. c may be nil. It fits
// Scheduler.Observer.
func (e *EarlyCurve) Observe(collector string, c Collector, at time.Time, fresh, current []Sample) {
	end := at.UnixNano()
	polls, _ := c.(PollTimes)
	e.mu.Lock()
	e.gen++
	gen := e.gen
	posts := e.posts[collector]
	if posts == nil {
		posts = map[string]*curvePost{}
	}
	var key []byte
	var p *curvePost
	for _, s := range fresh {
		if s.Metric != PostViews && s.Metric != PostEngagements || len(s.LabelValues) != len(s.Metric.Labels) {
			continue
		}
		lv := s.LabelValues
		if p == nil || !p.is(lv) {
			key = curveKey(key[:0], lv)
			p = posts[string(key)]
			if p == nil {
				p = &curvePost{campaign: lv[0], creator: lv[1], provider: lv[2], post: lv[3], ages: make([]curveRecord, len(e.ages)), shard: curveShard(string(key))}
				p.reopen()
				posts[string(key)] = p
			}
			if p.seen != gen {
				p.seen = gen
				p.take(gen, pollTime(polls, p.post, end))
			}
		}
		if p.filled != gen {
			continue
		}
		i := 0
		if s.Metric == PostEngagements {
			if !slices.Contains(curveTypes, lv[4]) {
				continue
			}
			i = 1 + p.typeIndex(lv[4])
			if i >= len(p.cur) {
				p.cur = nanFill(p.cur, i+1)
			}
		}
		// The first of duplicate series wins, as in the snapshot.
		if math.IsNaN(p.cur[i]) {
			p.cur[i] = s.Value
		}
	}
	p = nil
	for _, s := range current {
		if s.Metric != PostPublished && s.Metric != PostViews && s.Metric != PostEngagements || len(s.LabelValues) != len(s.Metric.Labels) {
			continue
		}
		lv := s.LabelValues
		if p == nil || !p.is(lv) {
			key = curveKey(key[:0], lv)
			if p = posts[string(key)]; p == nil {
				continue
			}
		}
		p.seen = gen
		if s.Metric == PostPublished && s.Value > 0 && !math.IsInf(s.Value, 0) {
			p.newPub, p.pubGen = int64(s.Value*1e9), gen
		}
	}
	// changed: an age was decided, to be saved; dirty: the parts whose
	// at-age series changed, to be rendered again.
	changed := false
	var dirty [curveShards]bool
	for k, p := range posts {
		if p.seen != gen {
			if p.recorded() > 0 {
				dirty[p.shard] = true
			}
			delete(posts, k)
			continue
		}
		if p.pubGen == gen && p.newPub != p.published {
			// Unknown until now, or corrected by the platform: what is
			// recorded stays, the pending ages move with it.
			p.published = p.newPub
			if p.open && p.hasPrev {
				p.hasPrev = false
				changed = e.advance(p, p.prev.at, p.prev.vals) || changed
			}
		}
		if p.open && p.filled == gen {
			p.lastPoll = p.pollAt
			changed = e.advance(p, p.pollAt, p.cur) || changed
		}
		if p.newRecord {
			dirty[p.shard], p.newRecord = true, false
		}
	}
	if len(posts) > 0 {
		e.posts[collector] = posts
	} else {
		delete(e.posts, collector)
	}
	e.mu.Unlock()
	e.render(false, curveDirty{collector: &dirty})
	if changed {
		e.save()
	}
}

// pollTime returns when post was read: as polls says, else at the end of
// the refresh.
func pollTime(polls PollTimes, post string, end int64) int64 {
	if polls != nil {
		if t, ok := polls.PolledAt(post); ok {
			return t.UnixNano()
		}
	}
	return end
}

// take starts the poll of the post at at in the Observe of generation gen,
// unless nothing is pending or the poll is not newer than the last taken.
func (p *curvePost) take(gen uint64, at int64) {
	p.pollAt = at
	if !p.open || at <= p.lastPoll {
		return
	}
	p.filled = gen
	p.cur = nanFill(p.cur[:0], 1+len(p.types))
}

// advance applies one poll of a post to its pending ages and reports
// whether it decided any.
func (e *EarlyCurve) advance(p *curvePost, at int64, vals []float64) bool {
	if p.firstSeen == 0 {
		p.firstSeen = at
	}
	if p.published == 0 {
		p.setPrev(at, vals)
		return false
	}
	changed := false
	for i, a := range e.ages {
		r := &p.ages[i]
		if r.state != curvePending {
			continue
		}
		target := p.published + int64(a.d)
		if p.firstSeen >= target {
			r.state, changed = curveMissed, true
			continue
		}
		if at < target {
			p.setPrev(at, vals)
			return changed
		}
		best := curvePoll{at: at, vals: vals}
		if p.hasPrev && absNanos(p.prev.at-target) < absNanos(at-target) {
			best = p.prev
		}
		changed = true
		if absNanos(best.at-target) > int64(a.tol) {
			r.state = curveMissed
			continue
		}
		r.state = curveRecorded
		p.newRecord = true
		r.curvePoll = curvePoll{at: best.at, vals: slices.Clone(best.vals)}
	}
	p.open, p.hasPrev = false, false
	p.prev.vals, p.cur = nil, nil
	return changed
}

func (p *curvePost) setPrev(at int64, vals []float64) {
	p.prev.at = at
	p.prev.vals = append(p.prev.vals[:0], vals...)
	p.hasPrev = true
}

// reopen sets open from the ages' states and frees the poll buffers of a
// post with nothing pending.
func (p *curvePost) reopen() {
	p.open = slices.ContainsFunc(p.ages, func(r curveRecord) bool { return r.state == curvePending })
	if !p.open {
		p.hasPrev = false
		p.prev.vals, p.cur = nil, nil
	}
}

// recorded counts the post's recorded ages.
func (p *curvePost) recorded() int {
	n := 0
	for _, r := range p.ages {
		if r.state == curveRecorded {
			n++
		}
	}
	return n
}

func (p *curvePost) is(lv []string) bool {
	return lv[3] == p.post && lv[0] == p.campaign && lv[1] == p.creator && lv[2] == p.provider
}

func (p *curvePost) typeIndex(t string) int {
	if i := slices.Index(p.types, t); i >= 0 {
		return i
	}
	p.types = append(p.types, t)
	return len(p.types) - 1
}

// curveKey is the post's campaign, creator, provider and id.
func curveKey(b []byte, lv []string) []byte {
	for i, v := range lv[:4] {
		if i > 0 {
			b = append(b, 0xff)
		}
		b = append(b, v...)
	}
	return b
}

func nanFill(b []float64, n int) []float64 {
	for len(b) < n {
		b = append(b, math.NaN())
	}
	return b
}

func absNanos(d int64) int64 {
	if d < 0 {
		return -d
	}
	return d
}

// Describe implements prometheus.Collector.
func (e *EarlyCurve) Describe(ch chan<- *prometheus.Desc) {
	ch <- PostViewsAtAge.Desc()
	ch <- PostEngagementsAtAge.Desc()
	ch <- PostAtAgePolled.Desc()
	ch <- earlyCurvePosts.Desc()
}

// Collect implements prometheus.Collector. It builds the metrics on each
// call: the text formats never call it.
func (e *EarlyCurve) Collect(ch chan<- prometheus.Metric) {
	e.mu.RLock()
	var samples []Sample
	for _, posts := range e.posts {
		samples = e.atAgeSamples(samples, posts)
	}
	samples = e.countSamples(samples)
	e.mu.RUnlock()
	for _, s := range samples {
		// A post id that is not UTF-8 (no platform sends one) is left
		// out, as rendering leaves it out.
		if m, err := prometheus.NewConstMetric(s.Metric.desc, s.Metric.Type, s.Value, s.LabelValues...); err == nil {
			ch <- m
		}
	}
}

// atAgeSamples appends the at-age series of posts to out. The caller
// holds e.mu.
func (e *EarlyCurve) atAgeSamples(out []Sample, posts map[string]*curvePost) []Sample {
	for _, p := range posts {
		out = e.postSamples(out, p)
	}
	return out
}

// postSamples appends the at-age series of p to out. Samples of one age
// share their label values. The caller holds e.mu.
func (e *EarlyCurve) postSamples(out []Sample, p *curvePost) []Sample {
	for i, r := range p.ages {
		if r.state != curveRecorded {
			continue
		}
		lv := []string{p.campaign, p.creator, p.provider, p.post, e.ages[i].label}
		out = append(out, PostAtAgePolled.Sample(float64(r.at)/1e9, lv...))
		if len(r.vals) > 0 && !math.IsNaN(r.vals[0]) {
			out = append(out, PostViewsAtAge.Sample(r.vals[0], lv...))
		}
		for j, t := range p.types {
			if 1+j < len(r.vals) && !math.IsNaN(r.vals[1+j]) {
				out = append(out, PostEngagementsAtAge.Sample(r.vals[1+j], lv[0], lv[1], lv[2], lv[3], t, lv[4]))
			}
		}
	}
	return out
}

// countSamples appends influencer_early_curve_posts to out. The caller
// holds e.mu.
func (e *EarlyCurve) countSamples(out []Sample) []Sample {
	counts := map[string][][len(curveStates)]int{}
	var last string
	var c [][len(curveStates)]int
	for _, posts := range e.posts {
		for _, p := range posts {
			if c == nil || p.campaign != last {
				var ok bool
				if c, ok = counts[p.campaign]; !ok {
					c = make([][len(curveStates)]int, len(e.ages))
					counts[p.campaign] = c
				}
				last = p.campaign
			}
			for i, r := range p.ages {
				c[i][r.state]++
			}
		}
	}
	campaigns := slices.Sorted(maps.Keys(counts))
	for _, campaign := range campaigns {
		for i, n := range counts[campaign] {
			for state, v := range n {
				out = append(out, earlyCurvePosts.Sample(float64(v), campaign, e.ages[i].label, curveStates[state]))
			}
		}
	}
	return out
}

// rendered implements RenderedCollector.
func (e *EarlyCurve) rendered() *exposition { return e.view.Load() }

// render renders again the at-age series dirty names (every collector's
// if all) and the post counts, then publishes them with the parts
// rendered before. It takes e.mu only to read.
func (e *EarlyCurve) render(all bool, dirty curveDirty) {
	e.renderMu.Lock()
	defer e.renderMu.Unlock()
	e.mu.RLock()
	live := make(map[string]bool, len(e.posts))
	for c := range e.posts {
		live[c] = true
	}
	// A collector gone takes its posts out of every shard they were in.
	for c := range e.shardsOf {
		if !live[c] {
			all = true
		}
	}
	if e.shards == nil {
		all = true
	}
	var redo [curveShards]bool
	for _, shards := range dirty {
		if shards == nil {
			all = true
			break
		}
		for k, d := range shards {
			redo[k] = redo[k] || d
		}
	}
	if all {
		for k := range redo {
			redo[k] = true
		}
	}
	var byShard [curveShards][]Sample
	if slices.Contains(redo[:], true) {
		for _, c := range slices.Sorted(maps.Keys(e.posts)) {
			for _, p := range e.posts[c] {
				if redo[p.shard] {
					byShard[p.shard] = e.postSamples(byShard[p.shard], p)
				}
			}
		}
	}
	counts := e.countSamples(nil)
	e.mu.RUnlock()

	if e.shards == nil {
		e.shards = new([curveShards]*exposition)
	}
	for k, d := range redo {
		if !d {
			continue
		}
		e.shards[k] = nil
		if len(byShard[k]) > 0 {
			// Errors are label values that are not UTF-8, and a post
			// a second collector reports: both left out.
			e.shards[k], _, _ = renderSamples(byShard[k])
		}
	}
	e.shardsOf = live
	countsRendered, _, _ := renderSamples(counts)
	e.view.Store(mergeExpositions(append(e.shards[:], countsRendered)...))
}

// The state file: JSON, one entry per post, ages by their label.
type curveFile struct {
	Version int             `json:"version"`
	Posts   []curveFilePost `json:"posts"`
}

type curveFilePost struct {
	Collector string                  `json:"collector"`
	Campaign  string                  `json:"campaign"`
	Creator   string                  `json:"creator"`
	Provider  string                  `json:"provider"`
	Post      string                  `json:"post"`
	Published time.Time               `json:"published,omitzero"`
	FirstSeen time.Time               `json:"first_seen,omitzero"`
	LastPoll  *curveFilePoll          `json:"last_poll,omitempty"`
	Ages      map[string]curveFileAge `json:"ages,omitempty"`
}

type curveFilePoll struct {
	Polled      time.Time          `json:"polled,omitzero"`
	Views       *float64           `json:"views,omitempty"`
	Engagements map[string]float64 `json:"engagements,omitempty"`
}

// curveFileAge is an age a post recorded or missed; a missed one has no
// poll.
type curveFileAge struct {
	State string `json:"state"`
	curveFilePoll
}

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (p *curvePost) filePoll(c curvePoll) curveFilePoll {
	fp := curveFilePoll{Polled: unixTime(c.at)}
	if len(c.vals) > 0 && finite(c.vals[0]) {
		v := c.vals[0]
		fp.Views = &v
	}
	for j, t := range p.types {
		if 1+j < len(c.vals) && finite(c.vals[1+j]) {
			if fp.Engagements == nil {
				fp.Engagements = map[string]float64{}
			}
			fp.Engagements[t] = c.vals[1+j]
		}
	}
	return fp
}

// pollOf turns a file poll back into vals, adding its engagement types to
// the post's; types not recorded at age are dropped.
func (p *curvePost) pollOf(fp curveFilePoll) curvePoll {
	types := make([]string, 0, len(fp.Engagements))
	for t := range fp.Engagements {
		if slices.Contains(curveTypes, t) {
			types = append(types, t)
		}
	}
	sort.Strings(types)
	vals := []float64{math.NaN()}
	if fp.Views != nil {
		vals[0] = *fp.Views
	}
	for _, t := range types {
		i := 1 + p.typeIndex(t)
		vals = nanFill(vals, i+1)
		vals[i] = fp.Engagements[t]
	}
	return curvePoll{at: unixNanos(fp.Polled), vals: vals}
}

func (e *EarlyCurve) snapshot() curveFile {
	f := curveFile{Version: curveFileVersion, Posts: []curveFilePost{}}
	for collector, posts := range e.posts {
		for _, p := range posts {
			fp := curveFilePost{
				Collector: collector, Campaign: p.campaign, Creator: p.creator, Provider: p.provider, Post: p.post,
				Published: unixTime(p.published), FirstSeen: unixTime(p.firstSeen),
			}
			if p.hasPrev {
				last := p.filePoll(p.prev)
				fp.LastPoll = &last
			}
			for i, r := range p.ages {
				if r.state == curvePending {
					continue
				}
				if fp.Ages == nil {
					fp.Ages = map[string]curveFileAge{}
				}
				a := curveFileAge{State: curveStates[r.state]}
				if r.state == curveRecorded {
					a.curveFilePoll = p.filePoll(r.curvePoll)
				}
				fp.Ages[e.ages[i].label] = a
			}
			f.Posts = append(f.Posts, fp)
		}
	}
	slices.SortFunc(f.Posts, func(a, b curveFilePost) int {
		return cmp.Or(cmp.Compare(a.Collector, b.Collector), cmp.Compare(a.Campaign, b.Campaign),
			cmp.Compare(a.Creator, b.Creator), cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Post, b.Post))
	})
	return f
}

// load reads the state file into the (empty) tracker and returns how many
// posts it holds. Entries it cannot use are skipped.
func (e *EarlyCurve) load(file string) (int, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	var f curveFile
	if err := json.Unmarshal(data, &f); err != nil {
		return 0, fmt.Errorf("parse %s: %w", file, err)
	}
	if f.Version != curveFileVersion {
		return 0, fmt.Errorf("%s: unknown version %d (want %d)", file, f.Version, curveFileVersion)
	}
	byLabel := map[time.Duration]int{}
	for i, a := range e.ages {
		byLabel[a.d] = i
	}
	n := 0
	for _, fp := range f.Posts {
		if fp.Collector == "" || fp.Post == "" {
			continue
		}
		p := &curvePost{
			campaign: fp.Campaign, creator: fp.Creator, provider: fp.Provider, post: fp.Post,
			published: unixNanos(fp.Published), firstSeen: unixNanos(fp.FirstSeen),
			ages: make([]curveRecord, len(e.ages)),
		}
		if fp.LastPoll != nil && !fp.LastPoll.Polled.IsZero() {
			p.prev, p.hasPrev = p.pollOf(*fp.LastPoll), true
			p.lastPoll = p.prev.at
		}
		for label, a := range fp.Ages {
			d, err := model.ParseDuration(label)
			i, ok := byLabel[time.Duration(d)]
			if err != nil || !ok {
				continue
			}
			switch a.State {
			case curveStates[curveMissed]:
				p.ages[i].state = curveMissed
			case curveStates[curveRecorded]:
				if a.Polled.IsZero() {
					continue
				}
				p.ages[i] = curveRecord{state: curveRecorded, curvePoll: p.pollOf(a.curveFilePoll)}
			}
		}
		p.reopen()
		posts := e.posts[fp.Collector]
		if posts == nil {
			posts = map[string]*curvePost{}
			e.posts[fp.Collector] = posts
		}
		key := string(curveKey(nil, []string{p.campaign, p.creator, p.provider, p.post}))
		p.shard = curveShard(key)
		posts[key] = p
		n++
	}
	return n, nil
}

// save writes the state file, if there is one; a failure is logged: the
// values in memory are still exported.
func (e *EarlyCurve) save() {
	e.saveMu.Lock()
	defer e.saveMu.Unlock()
	e.mu.RLock()
	file := e.file
	var f curveFile
	if file != "" {
		f = e.snapshot()
	}
	e.mu.RUnlock()
	if file == "" {
		return
	}
	data, err := json.Marshal(f)
	if err == nil {
		err = writeFileAtomic(file, data)
	}
	if err != nil {
		e.logger.Warn("cannot write early curve state file", "file", file, "err", err)
	}
}

// writeFileAtomic replaces file with data, readable by its owner only: a
// crash mid-write leaves the previous file, never half of one.
func writeFileAtomic(file string, data []byte) error {
	dir, base := filepath.Split(file)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+strings.TrimPrefix(base, ".")+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

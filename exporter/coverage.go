package exporter

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
)

// Coverage: what each refresh was asked to watch, and what became of it.
// Every object a collector is asked to cover (configured links, codes,
// posts, accounts, analytics sites, probe targets, and those found by tags,
// hashtags or listings) ends a refresh in exactly one state:
//
//   - exported: its series carry a value read by this refresh;
//   - skipped: known, but not read by this refresh (it ran out of time, or
//     a probe round ran late); it keeps the values of the last refresh that
//     read it, and the next refresh reads it first;
//   - missing: asked for but not exported at all, with the reason (the
//     provider does not know it, a post was deleted, a shortener has not
//     published the link).
//
// influencer_collector_objects counts them per collector, kind and state,
// and the landing page lists each missing or skipped object with its
// campaign, creator and reason, so nothing the exporter was asked to watch
// drops out of the live view without a sign.

// Object kinds, the `kind` label of influencer_collector_objects.
const (
	KindLink    = "link"
	KindCode    = "code"
	KindPost    = "post"
	KindAccount = "account"
	// KindSite is a creator's referral traffic on an analytics site or
	// property: one object per creator and site.
	KindSite = "site"
	// KindProbe is a tracking link the link probe checks.
	KindProbe = "probe"
)

// Object states, the `state` label of influencer_collector_objects.
const (
	StateExported = "exported"
	StateMissing  = "missing"
	StateSkipped  = "skipped"
)

// Kinds lists the object kinds in the order the landing page shows them.
var Kinds = []string{KindLink, KindCode, KindPost, KindAccount, KindSite, KindProbe}

// States lists the object states, in the order they are exported.
var States = []string{StateExported, StateMissing, StateSkipped}

// Object is one thing a collector is asked to watch.
type Object struct {
	Kind              string
	Campaign, Creator string
	// ID is the object's label value: the link id, the code as
	// configured, the post or account id; for a site, the site or
	// property id. Sites match a collector's samples by campaign and
	// creator alone.
	ID string
}

// SiteObject is the object a web analytics collector covers for a
// creator: its referral traffic on site, the site or property id.
func SiteObject(cr CreatorRef, site string) Object {
	return Object{Kind: KindSite, Campaign: cr.Campaign, Creator: cr.Creator, ID: site}
}

// SiteObjects returns the SiteObject of each creator, in order.
func SiteObjects(creators []CreatorRef, site string) []Object {
	out := make([]Object, 0, len(creators))
	for _, cr := range creators {
		out = append(out, SiteObject(cr, site))
	}
	return out
}

func (o Object) key() string {
	if o.Kind == KindSite {
		return o.Kind + "\x00" + o.Campaign + "\x00" + o.Creator
	}
	id := o.ID
	if o.Kind == KindLink || o.Kind == KindProbe {
		id = normalizeID(id)
	}
	return o.Kind + "\x00" + o.Campaign + "\x00" + o.Creator + "\x00" + id
}

// ObjectStatus is the state of one object after a refresh.
type ObjectStatus struct {
	Object
	State string
	// Reason says why a missing or skipped object was not exported.
	Reason string
}

// ObjectError reports one object a refresh did not export. Collectors
// return it, built with Missing or Skipped, inside a PartialError (see
// Partial): the scheduler counts the object in that state, shows the
// reason, and for a skipped object keeps its previous values.
type ObjectError struct {
	Object
	// Skipped is true when the object was not read this refresh and keeps
	// its previous values; false when it is missing.
	Skipped bool
	Err     error
}

func (e *ObjectError) Error() string { return e.Err.Error() }

// Unwrap returns the reason.
func (e *ObjectError) Unwrap() error { return e.Err }

// Missing marks an object as asked for but not exported, for the reason
// err (which names the provider and the object, as every error does).
func Missing(o Object, err error) error {
	return &ObjectError{Object: o, Err: err}
}

// Skipped marks an object as not read by this refresh: it keeps its
// previous values and is read first by the next refresh.
func Skipped(o Object, err error) error {
	return &ObjectError{Object: o, Skipped: true, Err: err}
}

// OutOfTime reports whether the refresh's time is up: ctx ended, so the
// objects not read yet are to be skipped (see Skipped), not failed. A
// collector checks it when a call fails, and before each call.
func OutOfTime(ctx context.Context) bool { return ctx.Err() != nil }

// ErrOutOfTime is the reason of objects a refresh skipped because its
// time was up.
var ErrOutOfTime = errors.New("the refresh ran out of time before reading it; it is read first next refresh")

// Coverer is implemented by collectors that are asked to watch objects
// other than the config entries naming them, such as an analytics
// collector's per-creator sites. Expected is called after each refresh.
type Coverer interface {
	Expected() []Object
}

// CoverageReporter is implemented by collectors that account for their
// objects themselves (the link probe). Coverage is called after each
// successful or partial refresh and replaces what the scheduler would
// infer.
type CoverageReporter interface {
	Coverage() []ObjectStatus
}

// ObjectsFor returns the objects the config asks the named collector to
// watch: the links, codes, posts and accounts naming it.
func (c *Config) ObjectsFor(collector string) []Object {
	var out []Object
	for _, l := range c.LinksFor(collector) {
		out = append(out, Object{Kind: KindLink, Campaign: l.Campaign, Creator: l.Creator, ID: l.ID})
	}
	for _, cd := range c.CodesFor(collector) {
		out = append(out, Object{Kind: KindCode, Campaign: cd.Campaign, Creator: cd.Creator, ID: cd.Code.Code})
	}
	for _, p := range c.PostsFor(collector) {
		out = append(out, Object{Kind: KindPost, Campaign: p.Campaign, Creator: p.Creator, ID: p.ID})
	}
	for _, a := range c.AccountsFor(collector) {
		out = append(out, Object{Kind: KindAccount, Campaign: a.Campaign, Creator: a.Creator, ID: a.ID})
	}
	return out
}

// objectLabels maps a label of a per-creator metric to the kind of object
// it names.
var objectLabels = map[string]string{
	"link":    KindLink,
	"code":    KindCode,
	"post":    KindPost,
	"account": KindAccount,
}

// sampleObject returns the object a sample is about, if any.
func sampleObject(s Sample) (Object, bool) {
	if s.Metric == nil {
		return Object{}, false
	}
	if s.Metric == ReferralVisitors {
		return Object{Kind: KindSite, Campaign: s.Label(LabelCampaign), Creator: s.Label(LabelCreator)}, true
	}
	for _, l := range s.Metric.Labels {
		if kind, ok := objectLabels[l]; ok {
			return Object{Kind: kind, Campaign: s.Label(LabelCampaign), Creator: s.Label(LabelCreator), ID: s.Label(l)}, true
		}
	}
	return Object{}, false
}

// objectKey identifies an object as key does, without building a string:
// two objects have equal objectKeys exactly when their keys are equal.
// Coverage is worked out after every refresh over every object and series
// of a collector (hundreds of thousands at an agency), so a key string per
// object and per sample was most of its cost.
//
// Its fields hold the object's own strings: the kind, campaign, creator
// and the id as key uses it (normalised for links and probes, empty for
// sites). When one of them holds a NUL byte, key's separator, fields could
// run into each other in the key; such a key is kept whole in kind, which
// no other objectKey's kind can equal, as it holds a NUL.
type objectKey struct {
	kind, campaign, creator, id string
}

func (o Object) objectKey() objectKey {
	return makeObjectKey(o.Kind, o.Campaign, o.Creator, o.ID)
}

func makeObjectKey(kind, campaign, creator, id string) objectKey {
	k := objectKey{kind: kind, campaign: campaign, creator: creator, id: id}
	// clean is true when kind and k.id are known to hold no NUL, as
	// KindSite and a plain link id do.
	clean := false
	switch kind {
	case KindSite:
		k.id, clean = "", true
	case KindLink, KindProbe:
		if clean = plainLinkID(id); !clean {
			k.id = keyLinkID(id)
		}
	}
	if !clean && (strings.IndexByte(kind, 0) >= 0 || strings.IndexByte(k.id, 0) >= 0) ||
		strings.IndexByte(campaign, 0) >= 0 || strings.IndexByte(creator, 0) >= 0 {
		return objectKey{kind: Object{Kind: kind, Campaign: campaign, Creator: creator, ID: id}.key()}
	}
	return k
}

// keyLinkID returns normalizeID(id), and id itself rather than a copy
// when normalising leaves it as it is, as it does for the ids collectors
// export.
func keyLinkID(id string) string {
	if plainLinkID(id) {
		return id
	}
	host, path, ok := SplitRootLinkID(id)
	if !ok {
		return id
	}
	if n := len(host); len(id) == n+1+len(path) && id[n] == '/' && id[:n] == host && id[n+1:] == path {
		return id
	}
	return host + "/" + path
}

// plainLinkID reports whether id is host/path as SplitLinkID returns
// them: no space, query, fragment, upper case or other than ASCII, and a
// slash with something either side. normalizeID returns such an id as it
// is; checking for it in one pass is much cheaper than splitting it.
func plainLinkID(id string) bool {
	slash := -1
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c <= ' ', c >= 0x80, 'A' <= c && c <= 'Z', c == '?', c == '#':
			return false
		case c == '/' && slash < 0:
			slash = i
		}
	}
	return slash > 0 && slash < len(id)-1
}

// objectIndex numbers object keys in the order they are added. It is a
// map from key to number that hashes one string of each key, its id (else
// its creator, else its kind) rather than all four: most of coverage's
// time goes to looking up the object of each sample.
type objectIndex struct {
	first map[string]int32 // the last key added of each hashed string
	keys  []objectKey
	next  []int32 // the key added before with the same hashed string, or -1
}

func newObjectIndex(n int) *objectIndex {
	return &objectIndex{first: make(map[string]int32, n), keys: make([]objectKey, 0, n), next: make([]int32, 0, n)}
}

func (k objectKey) hashed() string {
	switch {
	case k.id != "":
		return k.id
	case k.creator != "":
		return k.creator
	}
	return k.kind
}

// find returns the number of k, -1 if it was not added.
func (x *objectIndex) find(k objectKey) int {
	i, ok := x.first[k.hashed()]
	if !ok {
		return -1
	}
	for ; i >= 0; i = x.next[i] {
		if x.keys[i] == k {
			return int(i)
		}
	}
	return -1
}

// add numbers k, which find does not know yet.
func (x *objectIndex) add(k objectKey) {
	h, n := k.hashed(), int32(len(x.keys))
	prev, ok := x.first[h]
	if !ok {
		prev = -1
	}
	x.first[h] = n
	x.keys = append(x.keys, k)
	x.next = append(x.next, prev)
}

// sampleObjects finds the objects of samples, looking up where each
// metric keeps an object's labels once rather than for each sample.
type sampleObjects struct {
	metrics []metricObject
	last    int
}

// metricObject is where a metric keeps the labels naming an object.
type metricObject struct {
	metric                *Metric
	kind                  string // "" when the metric names no object
	campaign, creator, id int    // label positions, -1 if the metric lacks the label
}

// of returns the object s is about and its key, as sampleObject does.
func (m *sampleObjects) of(s Sample) (Object, objectKey, bool) {
	if s.Metric == nil {
		return Object{}, objectKey{}, false
	}
	mo := m.find(s.Metric)
	if mo.kind == "" {
		return Object{}, objectKey{}, false
	}
	o := Object{Kind: mo.kind, Campaign: label(s, mo.campaign), Creator: label(s, mo.creator), ID: label(s, mo.id)}
	return o, o.objectKey(), true
}

// find returns what is known of metric, learning it on first sight. A
// collector exports a few dozen metrics at most, grouped by object or by
// metric, so the search starts where the last one ended.
func (m *sampleObjects) find(metric *Metric) *metricObject {
	for i := range m.metrics {
		j := (m.last + i) % len(m.metrics)
		if m.metrics[j].metric == metric {
			m.last = j
			return &m.metrics[j]
		}
	}
	pos := func(name string) int {
		if i, ok := metric.labelsIdx[name]; ok {
			return i
		}
		return -1
	}
	mo := metricObject{metric: metric, campaign: pos(LabelCampaign), creator: pos(LabelCreator), id: -1}
	if metric == ReferralVisitors {
		mo.kind = KindSite
	} else {
		for _, l := range metric.Labels {
			if kind, ok := objectLabels[l]; ok {
				mo.kind, mo.id = kind, pos(l)
				break
			}
		}
	}
	m.last = len(m.metrics)
	m.metrics = append(m.metrics, mo)
	return &m.metrics[m.last]
}

// label returns the value at position i of s, "" if there is none, as
// Sample.Label does.
func label(s Sample, i int) string {
	if i < 0 || i >= len(s.LabelValues) {
		return ""
	}
	return s.LabelValues[i]
}

// objectErrors splits the errors of a PartialError into object errors, by
// object key, and the rest.
func objectErrors(err error) (map[string]*ObjectError, []error) {
	var pe *PartialError
	if !errors.As(err, &pe) {
		return nil, nil
	}
	byKey := map[string]*ObjectError{}
	var rest []error
	for _, e := range pe.Errs {
		var oe *ObjectError
		if errors.As(e, &oe) {
			byKey[oe.key()] = oe
			continue
		}
		rest = append(rest, e)
	}
	return byKey, rest
}

// coverage is what a refresh did with the objects a collector watches:
// how many of each kind ended in each state, and the objects not exported
// (gaps), sorted. The exported objects themselves are only counted: at an
// agency's scale a status each would be the largest thing a refresh
// builds, to be thrown away.
type coverage struct {
	// counts are by kind and state; every state of a kind present is
	// counted, zeros included, so alerts see 0 rather than nothing.
	counts map[[2]string]int
	gaps   []ObjectStatus
}

// coverageOfStatuses is the coverage of a collector's own account of its
// objects (CoverageReporter).
func coverageOfStatuses(st []ObjectStatus) coverage {
	sortStatuses(st)
	return coverage{counts: coverageCounts(st), gaps: Gaps(st)}
}

// states returns the objects counted by state, nil when there are none.
func (c coverage) states() map[string]int {
	if len(c.counts) == 0 {
		return nil
	}
	out := map[string]int{}
	for k, n := range c.counts {
		out[k[1]] += n
	}
	return out
}

// Object states while coverage is worked out.
const (
	stateNone uint8 = iota
	stateExported
	stateMissing
	stateSkipped
)

// inferCoverage works out the state of every object from what the
// collector was asked to watch, what its samples carry and the object
// errors it returned, keyed by key as objectErrors keys them. Objects
// found in samples but not asked for (links found by tag, posts found by
// hashtag) count as exported. Of objects with the same key, the first
// listed is shown: expected ones first, then those of errs (objects only
// samples name are always exported, never shown). hint is how many
// objects there may be (the last refresh's count): what is built for them
// is made that large at once, not grown.
func inferCoverage(expected []Object, samples []Sample, errs map[string]*ObjectError, hint int) coverage {
	var errOf map[objectKey]*ObjectError
	if len(errs) > 0 {
		errOf = make(map[objectKey]*ObjectError, len(errs))
		for _, oe := range errs {
			errOf[oe.objectKey()] = oe
		}
	}
	// index numbers each object's key; state is its state, and from
	// where it was first listed: expected[from], or the errs' object
	// -from-1 (listed is errs' objects, in the order met).
	n := max(hint, len(expected)+len(errs))
	index := newObjectIndex(n)
	var (
		state  = make([]uint8, 0, n)
		from   = make([]int32, 0, n)
		listed []Object
	)
	add := func(o Object, src int32) {
		k := o.objectKey()
		if index.find(k) >= 0 {
			return
		}
		index.add(k)
		st := stateNone
		if oe, ok := errOf[k]; ok {
			st = stateMissing
			if oe.Skipped {
				st = stateSkipped
			}
		}
		state, from = append(state, st), append(from, src)
	}
	for i, o := range expected {
		add(o, int32(i))
	}
	for _, oe := range errs {
		listed = append(listed, oe.Object)
		add(oe.Object, -int32(len(listed)))
	}
	var objs sampleObjects
	for _, s := range samples {
		_, k, ok := objs.of(s)
		if !ok {
			continue
		}
		if i := index.find(k); i >= 0 {
			if state[i] == stateNone {
				state[i] = stateExported
			}
			continue
		}
		index.add(k)
		state, from = append(state, stateExported), append(from, 0)
	}
	cov := coverage{counts: map[[2]string]int{}}
	names := [...]string{stateNone: StateMissing, stateExported: StateExported, stateMissing: StateMissing, stateSkipped: StateSkipped}
	for i, k := range index.keys {
		if _, ok := cov.counts[[2]string{k.kind, StateExported}]; !ok {
			for _, st := range States {
				cov.counts[[2]string{k.kind, st}] = 0
			}
		}
		cov.counts[[2]string{k.kind, names[state[i]]}]++
		if state[i] == stateExported {
			continue
		}
		o := listedObject(expected, listed, from[i])
		st := ObjectStatus{Object: o, State: names[state[i]], Reason: "not in the provider's answer"}
		if oe, ok := errOf[k]; ok {
			st.Reason = oe.Err.Error()
		}
		cov.gaps = append(cov.gaps, st)
	}
	sortStatuses(cov.gaps)
	return cov
}

// listedObject returns the object inferCoverage numbered from.
func listedObject(expected, listed []Object, from int32) Object {
	if from >= 0 {
		return expected[from]
	}
	return listed[-from-1]
}

// carryOver returns prev's samples of the skipped objects that samples
// does not already carry: a skipped object keeps its previous values.
func carryOver(prev, samples []Sample, errs map[string]*ObjectError) []Sample {
	skipped := newObjectIndex(0)
	for _, oe := range errs {
		if k := oe.objectKey(); oe.Skipped && skipped.find(k) < 0 {
			skipped.add(k)
		}
	}
	if len(skipped.keys) == 0 {
		return samples
	}
	var carry []int
	var objs sampleObjects
	for i, s := range prev {
		if _, k, ok := objs.of(s); ok && skipped.find(k) >= 0 {
			carry = append(carry, i)
		}
	}
	if len(carry) == 0 {
		return samples
	}
	// Which of those series samples already carries, found by hashing
	// each series key rather than building it: only a hash shared with a
	// candidate has its keys built and compared.
	seed := maphash.MakeSeed()
	var h maphash.Hash
	want := make(map[uint64][]int, len(carry)) // hash: samples of it
	for _, i := range carry {
		want[seriesHash(&h, seed, prev[i])] = nil
	}
	for j, s := range samples {
		x := seriesHash(&h, seed, s)
		if js, ok := want[x]; ok {
			want[x] = append(js, j)
		}
	}
	add := carry[:0]
	for _, i := range carry {
		if !carried(samples, want[seriesHash(&h, seed, prev[i])], prev[i]) {
			add = append(add, i)
		}
	}
	samples = slices.Grow(samples, len(add))
	for _, i := range add {
		samples = append(samples, prev[i])
	}
	return samples
}

// carried reports whether one of samples at positions js has the series
// key of s.
func carried(samples []Sample, js []int, s Sample) bool {
	if len(js) == 0 {
		return false
	}
	key := seriesKey(s)
	for _, j := range js {
		if seriesKey(samples[j]) == key {
			return true
		}
	}
	return false
}

func seriesKey(s Sample) string {
	if s.Metric == nil {
		return ""
	}
	return s.Metric.Name + "\xff" + strings.Join(s.LabelValues, "\xff")
}

// seriesHash hashes the bytes of seriesKey(s) without building it.
func seriesHash(h *maphash.Hash, seed maphash.Seed, s Sample) uint64 {
	h.SetSeed(seed)
	if s.Metric != nil {
		h.WriteString(s.Metric.Name)
		h.WriteByte(0xff)
		for i, v := range s.LabelValues {
			if i > 0 {
				h.WriteByte(0xff)
			}
			h.WriteString(v)
		}
	}
	return h.Sum64()
}

func sortStatuses(st []ObjectStatus) {
	slices.SortStableFunc(st, func(a, b ObjectStatus) int { return compareStatuses(&a, &b) })
}

// compareStatuses orders statuses by kind, in the order of Kinds (a kind
// not in Kinds ranks with the first), then campaign, creator and id.
func compareStatuses(a, b *ObjectStatus) int {
	if a.Kind != b.Kind {
		return cmp.Compare(kindRank(a.Kind), kindRank(b.Kind))
	}
	if c := strings.Compare(a.Campaign, b.Campaign); c != 0 {
		return c
	}
	if c := strings.Compare(a.Creator, b.Creator); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// kindRank returns the position of kind in Kinds (the last, should it be
// listed twice), 0 if it is not listed.
func kindRank(kind string) int {
	r := 0
	for i, k := range Kinds {
		if k == kind {
			r = i
		}
	}
	return r
}

// coverageCounts counts objects by kind and state; every state of a kind
// present is counted, zeros included, so alerts see 0 rather than nothing.
func coverageCounts(st []ObjectStatus) map[[2]string]int {
	out := map[[2]string]int{}
	for _, s := range st {
		for _, state := range States {
			out[[2]string{s.Kind, state}] += 0
		}
		out[[2]string{s.Kind, s.State}]++
	}
	return out
}

// Gaps returns the missing and skipped objects of st.
func Gaps(st []ObjectStatus) []ObjectStatus {
	var out []ObjectStatus
	for _, s := range st {
		if s.State != StateExported {
			out = append(out, s)
		}
	}
	return out
}

// String names the object for people: kind, id, campaign and creator.
func (o Object) String() string {
	id := o.ID
	if id == "" {
		id = "-"
	}
	return fmt.Sprintf("%s %s (campaign %s, creator %s)", o.Kind, id, o.Campaign, o.Creator)
}

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

// objectSet is the set of objects coverage is worked out over, found by
// key in an open-addressing table. It copies no object: a slot holds the
// number of the object where it was first listed (the expected objects,
// then the object errors, then the samples, numbered in that order), and
// a probe that meets the same hash tag takes that object from where it is
// to compare keys. It takes 8 bytes a slot, the object's state included,
// 11 to 21 bytes an object, where a map and a copy of each key took about
// 100: built anew after each refresh of hundreds of thousands of objects,
// that was garbage enough to start garbage collector cycles while scrapes
// were served.
type objectSet struct {
	expected []Object
	listed   []*ObjectError
	samples  []Sample
	objs     sampleObjects
	seed     maphash.Seed
	// slots hold 1 + the number of an object in the lower 32 bits, 0
	// when free, its state in the next 2 bits and the upper bits of
	// the hash of its key above them (its tag); their number is a power
	// of two, kept above 4/3 of the objects.
	slots []uint64
	n     int
}

const (
	slotStateShift = 32
	slotTagShift   = 34
)

// newObjectSet returns a set with room for n objects, of expected, of
// the object errors the caller appends to listed before adding any
// sample's object, and of samples.
func newObjectSet(n int, expected []Object, samples []Sample) *objectSet {
	size := 8
	for size*3 < n*4 {
		size *= 2
	}
	return &objectSet{expected: expected, samples: samples, seed: maphash.MakeSeed(), slots: make([]uint64, size)}
}

// object returns object number i.
func (s *objectSet) object(i int) Object {
	if i < len(s.expected) {
		return s.expected[i]
	}
	if i -= len(s.expected); i < len(s.listed) {
		return s.listed[i].Object
	}
	o, _ := s.objs.of(s.samples[i-len(s.listed)])
	return o
}

func (s *objectSet) hash(k objectKey) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	// The NUL between fields keeps ("a", "bc") and ("ab", "c") apart:
	// only a key kept whole in kind holds one.
	_, _ = h.WriteString(k.kind)
	_ = h.WriteByte(0)
	_, _ = h.WriteString(k.campaign)
	_ = h.WriteByte(0)
	_, _ = h.WriteString(k.creator)
	_ = h.WriteByte(0)
	_, _ = h.WriteString(k.id)
	return h.Sum64()
}

// find returns the slot of o, or the free slot where it goes, and the
// hash and key of o.
func (s *objectSet) find(o Object) (int, uint64, objectKey) {
	k := o.objectKey()
	h := s.hash(k)
	return s.probe(o, k, h), h, k
}

// probe returns the slot of o, whose key is k and hash h, or the free
// slot where it goes. The object in a slot is the same as o far more
// often than its key is merely equal, so that is tried first.
func (s *objectSet) probe(o Object, k objectKey, h uint64) int {
	mask, tag := uint64(len(s.slots)-1), h>>slotTagShift
	for j := h & mask; ; j = (j + 1) & mask {
		slot := s.slots[j]
		if slot == 0 {
			return int(j)
		}
		if slot>>slotTagShift == tag {
			if had := s.object(int(uint32(slot)) - 1); had == o || had.objectKey() == k {
				return int(j)
			}
		}
	}
}

// add puts object number i, of hash h, in state st into the free slot j.
func (s *objectSet) add(j int, h uint64, i int, st uint8) {
	s.slots[j] = h>>slotTagShift<<slotTagShift | uint64(st)<<slotStateShift | uint64(i+1)
	if s.n++; s.n*4 > len(s.slots)*3 {
		s.grow()
	}
}

// grow doubles the slots and places every object again.
func (s *objectSet) grow() {
	old := s.slots
	s.slots = make([]uint64, 2*len(old))
	mask := uint64(len(s.slots) - 1)
	for _, slot := range old {
		if slot == 0 {
			continue
		}
		h := s.hash(s.object(int(uint32(slot)) - 1).objectKey())
		j := h & mask
		for s.slots[j] != 0 {
			j = (j + 1) & mask
		}
		s.slots[j] = h>>slotTagShift<<slotTagShift | slot&(1<<slotTagShift-1)
	}
}

// slotState returns the state of the object in slot.
func slotState(slot uint64) uint8 { return uint8(slot>>slotStateShift) & 3 }

// setState sets the state of the object in slot j.
func (s *objectSet) setState(j int, st uint8) {
	s.slots[j] = s.slots[j]&^(3<<slotStateShift) | uint64(st)<<slotStateShift
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

// of returns the object s is about, as sampleObject does.
func (m *sampleObjects) of(s Sample) (Object, bool) {
	if s.Metric == nil {
		return Object{}, false
	}
	mo := m.find(s.Metric)
	if mo.kind == "" {
		return Object{}, false
	}
	return Object{Kind: mo.kind, Campaign: label(s, mo.campaign), Creator: label(s, mo.creator), ID: label(s, mo.id)}, true
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
	set := newObjectSet(max(hint, len(expected)+len(errs)), expected, samples)
	set.listed = make([]*ObjectError, 0, len(errs))
	for i, o := range expected {
		if j, h, _ := set.find(o); set.slots[j] == 0 {
			set.add(j, h, i, stateNone)
		}
	}
	// errOf pairs 1 + the number of each expected object that has an
	// object error, in the upper 32 bits, with the error's place in
	// listed.
	errOf := make([]uint64, 0, len(errs))
	for _, oe := range errs {
		set.listed = append(set.listed, oe)
		st := stateMissing
		if oe.Skipped {
			st = stateSkipped
		}
		j, h, _ := set.find(oe.Object)
		switch slot := set.slots[j]; {
		case slot == 0:
			set.add(j, h, len(expected)+len(set.listed)-1, st)
		case slotState(slot) == stateNone:
			set.setState(j, st)
			errOf = append(errOf, slot<<32|uint64(len(set.listed)-1))
		}
	}
	// exported counts the exported objects by the kind of their key.
	exported := map[string]int{}
	var last Object
	for i, s := range samples {
		o, ok := set.objs.of(s)
		// Samples of one object usually come one after another: a
		// sample of the object before has nothing to change.
		if !ok || o == last {
			continue
		}
		last = o
		j, h, k := set.find(o)
		switch slot := set.slots[j]; {
		case slot == 0:
			set.add(j, h, len(expected)+len(set.listed)+i, stateExported)
		case slotState(slot) == stateNone:
			set.setState(j, stateExported)
		default:
			continue
		}
		exported[k.kind]++
	}
	cov := coverage{counts: map[[2]string]int{}}
	count := func(kind, state string, n int) {
		if _, ok := cov.counts[[2]string{kind, StateExported}]; !ok {
			for _, st := range States {
				cov.counts[[2]string{kind, st}] = 0
			}
		}
		cov.counts[[2]string{kind, state}] += n
	}
	gaps := set.n
	for kind, n := range exported {
		count(kind, StateExported, n)
		gaps -= n
	}
	if gaps == 0 {
		return cov
	}
	// The gaps, each as 1 + the number of its object and its state,
	// sorted into the order their objects were listed, so that objects
	// sortStatuses ranks the same stay in that order.
	order := make([]uint64, 0, gaps)
	for _, slot := range set.slots {
		if slot != 0 && slotState(slot) != stateExported {
			order = append(order, uint64(uint32(slot))<<2|uint64(slotState(slot)))
		}
	}
	slices.Sort(order)
	slices.Sort(errOf)
	names := [...]string{stateNone: StateMissing, stateExported: StateExported, stateMissing: StateMissing, stateSkipped: StateSkipped}
	cov.gaps = make([]ObjectStatus, 0, len(order))
	for _, g := range order {
		i, state := int(g>>2)-1, uint8(g&3)
		st := ObjectStatus{Object: set.object(i), State: names[state], Reason: "not in the provider's answer"}
		if state != stateNone {
			var oe *ObjectError
			if i >= len(expected) {
				oe = set.listed[i-len(expected)]
			} else {
				oe, errOf = set.listed[uint32(errOf[0])], errOf[1:]
			}
			st.Reason = oe.Err.Error()
		}
		count(st.objectKey().kind, st.State, 1)
		cov.gaps = append(cov.gaps, st)
	}
	sortStatuses(cov.gaps)
	return cov
}

// carryOver returns prev's samples of the skipped objects that samples
// does not already carry: a skipped object keeps its previous values.
func carryOver(prev, samples []Sample, errs map[string]*ObjectError) []Sample {
	skipped := newObjectSet(len(errs), nil, nil)
	for _, oe := range errs {
		if !oe.Skipped {
			continue
		}
		if j, h, _ := skipped.find(oe.Object); skipped.slots[j] == 0 {
			skipped.listed = append(skipped.listed, oe)
			skipped.add(j, h, len(skipped.listed)-1, stateSkipped)
		}
	}
	if skipped.n == 0 {
		return samples
	}
	var carry []int
	var objs sampleObjects
	var last Object
	lastSkipped := false
	for i, s := range prev {
		o, ok := objs.of(s)
		if !ok {
			continue
		}
		if o != last {
			j, _, _ := skipped.find(o)
			last, lastSkipped = o, skipped.slots[j] != 0
		}
		if lastSkipped {
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

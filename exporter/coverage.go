package exporter

import (
	"context"
	"errors"
	"fmt"
	"sort"
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

// inferCoverage works out the state of every object from what the
// collector was asked to watch, what its samples carry and the object
// errors it returned. Objects found in samples but not asked for (links
// found by tag, posts found by hashtag) count as exported.
func inferCoverage(expected []Object, samples []Sample, errs map[string]*ObjectError) []ObjectStatus {
	seen := map[string]bool{}
	var out []ObjectStatus
	exported := map[string]bool{}
	for _, s := range samples {
		if o, ok := sampleObject(s); ok {
			exported[o.key()] = true
		}
	}
	add := func(o Object) {
		k := o.key()
		if seen[k] {
			return
		}
		seen[k] = true
		st := ObjectStatus{Object: o, State: StateExported}
		if oe, ok := errs[k]; ok {
			st.State, st.Reason = StateMissing, oe.Err.Error()
			if oe.Skipped {
				st.State = StateSkipped
			}
		} else if !exported[k] {
			st.State, st.Reason = StateMissing, "not in the provider's answer"
		}
		out = append(out, st)
	}
	for _, o := range expected {
		add(o)
	}
	for _, oe := range errs {
		add(oe.Object)
	}
	for _, s := range samples {
		if o, ok := sampleObject(s); ok {
			add(o)
		}
	}
	sortStatuses(out)
	return out
}

// carryOver returns prev's samples of the skipped objects that samples
// does not already carry: a skipped object keeps its previous values.
func carryOver(prev, samples []Sample, errs map[string]*ObjectError) []Sample {
	skipped := map[string]bool{}
	for k, oe := range errs {
		if oe.Skipped {
			skipped[k] = true
		}
	}
	if len(skipped) == 0 {
		return samples
	}
	have := map[string]bool{}
	for _, s := range samples {
		have[seriesKey(s)] = true
	}
	for _, s := range prev {
		o, ok := sampleObject(s)
		if !ok || !skipped[o.key()] || have[seriesKey(s)] {
			continue
		}
		samples = append(samples, s)
	}
	return samples
}

func seriesKey(s Sample) string {
	if s.Metric == nil {
		return ""
	}
	return s.Metric.Name + "\xff" + strings.Join(s.LabelValues, "\xff")
}

func sortStatuses(st []ObjectStatus) {
	order := map[string]int{}
	for i, k := range Kinds {
		order[k] = i
	}
	sort.SliceStable(st, func(i, j int) bool {
		a, b := st[i], st[j]
		if a.Kind != b.Kind {
			return order[a.Kind] < order[b.Kind]
		}
		if a.Campaign != b.Campaign {
			return a.Campaign < b.Campaign
		}
		if a.Creator != b.Creator {
			return a.Creator < b.Creator
		}
		return a.ID < b.ID
	})
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

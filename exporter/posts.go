package exporter

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/common/model"
)

// What social collectors share: which posts to poll on this refresh, and
// the last values of the posts they did not poll.
//
// Engagement velocity is about a post's first hours, so young posts are
// polled often and old ones rarely: the collector runs on a short interval
// and polls, on each refresh, only the posts whose cadence step says they
// are due. Posts not polled keep their last values, so the exported series
// never gap.
//
// For coverage (influencer_collector_objects), a post the cadence does not
// poll on a refresh is exported: Samples returns its last poll's samples,
// as designed, not a gap. A due post a refresh could not reach before its
// time ran out is another matter: the collector reports it
// Skipped(post, ErrOutOfTime) (its samples in the book still carry its
// last values) and polls it first next time, ordering due posts with a
// Rotation.

// CadenceStep says how often to poll a post from a given age on.
type CadenceStep struct {
	Age   model.Duration `yaml:"age"`
	Every model.Duration `yaml:"every"`
}

// Cadence is a post's polling schedule by age, steps sorted by age; the
// first step must start at age 0.
type Cadence []CadenceStep

// DefaultCadence polls a post every minute in its first 6 hours, every 5
// minutes until it is 2 days old, then every 15 minutes.
var DefaultCadence = Cadence{
	{Age: 0, Every: model.Duration(time.Minute)},
	{Age: model.Duration(6 * time.Hour), Every: model.Duration(5 * time.Minute)},
	{Age: model.Duration(48 * time.Hour), Every: model.Duration(15 * time.Minute)},
}

// Validate checks the steps; path names the option in errors.
func (c Cadence) Validate(cfg *Config, path string) error {
	if len(c) == 0 {
		return nil
	}
	if c[0].Age != 0 {
		return cfg.Errorf(path+"[0].age", "the first step must start at age 0, got %s", c[0].Age)
	}
	for i, s := range c {
		if s.Every <= 0 {
			return cfg.Errorf(fmt.Sprintf("%s[%d].every", path, i), "must be positive")
		}
		if i > 0 && s.Age <= c[i-1].Age {
			return cfg.Errorf(fmt.Sprintf("%s[%d].age", path, i), "steps must be sorted by age, %s is not after %s", s.Age, c[i-1].Age)
		}
	}
	return nil
}

// Every returns the polling interval of a post of the given age.
func (c Cadence) Every(age time.Duration) time.Duration {
	if len(c) == 0 {
		c = DefaultCadence
	}
	every := time.Duration(c[0].Every)
	for _, s := range c {
		if age >= time.Duration(s.Age) {
			every = time.Duration(s.Every)
		}
	}
	return every
}

// PostBook remembers, per post, when it was published and polled and the
// samples of its last poll. Safe for concurrent use.
type PostBook struct {
	mu    sync.Mutex
	posts map[string]*postState
}

type postState struct {
	published time.Time // zero until the platform told us
	polled    time.Time
	samples   []Sample
}

// NewPostBook returns an empty book.
func NewPostBook() *PostBook { return &PostBook{posts: map[string]*postState{}} }

// Due returns, of ids, those to poll at now: never polled, publish time
// unknown, or polled longer ago than the cadence allows for their age. A
// small slack (a tenth of the interval) absorbs the scheduler's jitter.
func (b *PostBook) Due(ids []string, cadence Cadence, now time.Time) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var due []string
	for _, id := range ids {
		s, ok := b.posts[id]
		if !ok || s.polled.IsZero() || s.published.IsZero() {
			due = append(due, id)
			continue
		}
		every := cadence.Every(now.Sub(s.published))
		if now.Sub(s.polled) >= every-every/10 {
			due = append(due, id)
		}
	}
	return due
}

// Store records a post's poll. published may be zero if unknown.
func (b *PostBook) Store(id string, published, polled time.Time, samples []Sample) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.posts[id] = &postState{published: published, polled: polled, samples: samples}
}

// PolledAt returns when the post's values were last read, as given to
// Store; false if the book has no poll of it.
func (b *PostBook) PolledAt(post string) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.posts[post]
	if !ok || s.polled.IsZero() {
		return time.Time{}, false
	}
	return s.polled, true
}

// PollTimes is implemented by the collectors that return every post on each
// refresh but read only those their cadence says are due, repeating the
// last values of the others (the social collectors, through a PostBook).
// The early curve asks it when each post was read, by the post's id (its
// post label): a post repeated from an earlier read is not a new poll, and
// one read on this refresh was read when the collector read it, not when
// the refresh returned. A post it does not know is taken as read at the
// end of the refresh, as are the posts of collectors without it.
type PollTimes interface {
	PolledAt(post string) (time.Time, bool)
}

// Samples returns the last samples of the posts in keep (all posts if keep
// is nil), sorted by post id, and forgets the others: a post that left the
// config or the campaign window stops being exported.
func (b *PostBook) Samples(keep map[string]bool) []Sample {
	b.mu.Lock()
	defer b.mu.Unlock()
	ids := make([]string, 0, len(b.posts))
	for id := range b.posts {
		if keep != nil && !keep[id] {
			delete(b.posts, id)
			continue
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []Sample
	for _, id := range ids {
		out = append(out, b.posts[id].samples...)
	}
	return out
}

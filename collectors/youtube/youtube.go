// Package youtube collects the views, likes and comments of creators'
// videos and their channels' subscribers from the YouTube Data API v3,
// with an API key.
//
// Videos come from the config (posts) and from the uploads of a creator's
// channel (accounts with a match): every video published in the campaign
// window whose title or description carries the match. YouTube has no
// reach, saves or shares in this API, and leaves likeCount or
// commentCount out when the owner hides them: those series are absent,
// not zero. So is the subscriber count of a channel that hides it.
//
// Calls per refresh, each costing one quota unit:
//
//   - ceil(due videos / 50) GET /videos?part=statistics,snippet&id=…:
//     only the videos whose post_refresh step says they are due (young
//     videos often, old ones rarely); the others keep their last values;
//   - when account_refresh has passed: ceil(channels / 50) GET
//     /channels?part=statistics,contentDetails, and for each channel with
//     a match, GET /playlistItems over its uploads playlist, 50 videos a
//     page, newest first, until a page reaches back before the campaign
//     start (usually one page), at most max_pages.
//
// search.list, which costs 100 units, is never used.
//
// The calls of each kind are independent: http.max_concurrent_requests of
// them are under way at once, each still waiting for rate_limit, and each
// holding a unit of the day's budget until its answer spends it, so that
// together they never pass daily_quota. 10,000 channels with a match
// take 10,400 calls a refresh: at 50 ms an answer, about 9 minutes one
// after another, about 65 seconds eight at a time.
//
// A configured video or channel YouTube does not return (deleted, private,
// a wrong id), and a channel whose owner hides its subscriber count, is
// reported missing with the reason. A refresh that runs out of time (its
// interval) stops calling: what it read is exported, the due videos and
// the channels it did not reach are reported skipped and keep their last
// values, and the next refresh reads them first (videos and channels
// least recently read first; an account refresh cut short goes on with
// the channels it did not read). Videos the post_refresh cadence does not
// poll on a refresh, and channels between account refreshes, are exported
// with their last values, by design, and count as exported.
//
// YouTube gives each Google Cloud project a daily quota of units (10,000
// by default) that resets at midnight Pacific time, and sends no headers
// about it. The collector counts the units it spends per Pacific day,
// exports daily_quota minus that as influencer_api_quota_remaining, and
// stops calling when it reaches zero or when YouTube answers
// quotaExceeded, until the next midnight Pacific time. The gauge only goes
// down within a Pacific day and goes back to daily_quota at Pacific
// midnight, never earlier: a call answered after midnight counts in the
// new day even when its refresh started the day before. A config reload
// keeps the count; a restart keeps it with --storage.path (saved after
// each refresh), and without it starts again at daily_quota. Run as one
// of several shards (--shard.count), the collector counts to its share of
// daily_quota (daily_quota / shards, the remainder to the lowest shard
// indexes), so that the replicas together never spend more than one
// exporter would.
//
// The plan the default quota allows: 1,000 videos polled every 5 minutes
// are 20 calls a refresh × 288 refreshes a day = 5,760 units, and 10
// channels with a match, refreshed every 5 minutes, 11 × 288 = 3,168 more:
// 8,928. With the default post_refresh and a 1m interval, 1,000 videos
// older than 48 hours cost 20 × 96 = 1,920 units a day, and a handful of
// young ones about one call a minute. README.md has the arithmetic.
package youtube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Option defaults.
const (
	// DefaultDailyQuota is the daily quota of a new Google Cloud project.
	DefaultDailyQuota = 10000
	// DefaultAccountRefresh is how often channels are read and their
	// uploads listed.
	DefaultAccountRefresh = model.Duration(5 * time.Minute)
	// DefaultMaxPages bounds one uploads listing: 1,000 videos.
	DefaultMaxPages = 20
	maxMaxPages     = 1000
)

var (
	// Video ids are 11 characters of the URL-safe base64 alphabet;
	// channel ids are UC and 22 more.
	videoID   = regexp.MustCompile(`^[A-Za-z0-9_-]{11}$`)
	channelID = regexp.MustCompile(`^UC[A-Za-z0-9_-]{22}$`)
)

func init() {
	exporter.Register("youtube", New)
}

// options are the youtube collector's provider options.
type options struct {
	// DailyQuota is the units this collector may spend per Pacific day:
	// the project's quota, less what other users of the project need.
	DailyQuota int `yaml:"daily_quota"`
	// PostRefresh is how often a video is polled by its age. It cannot
	// be faster than the collector's interval, so run the collector on a
	// short interval (1m) for the young-video steps to take effect.
	PostRefresh exporter.Cadence `yaml:"post_refresh"`
	// AccountRefresh is how often subscriber counts are read and uploads
	// listed for discovery: a new video shows up within it. 0: every
	// refresh.
	AccountRefresh model.Duration `yaml:"account_refresh"`
	// MaxPages bounds an uploads listing, for a channel with many videos
	// and a campaign without start.
	MaxPages int `yaml:"max_pages"`
}

// target is what a video is reported under.
type target struct {
	campaign, creator string
	path              string // config path, for errors
}

// gone is a video YouTube did not return.
type gone struct {
	checked time.Time
	err     error
}

type collector struct {
	name, typ string
	client    *exporter.Client
	api       api
	logger    *slog.Logger
	opts      options
	posts     []exporter.PostRef
	accounts  []exporter.AccountRef
	book      *exporter.PostBook
	quota     *quota
	// storage keeps the quota spent today across restarts.
	storage *exporter.Storage
	// now is the clock of cadence and quota day; tests replace it.
	now func() time.Time

	interval   time.Duration
	rot, chRot *exporter.Rotation // videos and channels, least recently read first

	mu         sync.Mutex
	accountsAt time.Time // start of the last complete account refresh
	// pending are the channels the account refresh under way has still
	// to read (nil: none under way); one cut short goes on with them.
	pending  map[string]bool
	roundAt  time.Time
	channels map[string]*channelState // by channel id, from its last read
	missing  map[string]gone
}

// channelState is what the last read of a channel gave.
type channelState struct {
	followers []exporter.Sample
	found     map[string]target // videos its uploads listing found
	errs      []error           // its refs missing, or its listing failed
}

// New builds a youtube collector from its config block.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	opts := options{DailyQuota: DefaultDailyQuota, AccountRefresh: DefaultAccountRefresh, MaxPages: DefaultMaxPages}
	// An option that does not decode keeps its default, so the checks
	// below still run and --config.check shows every error at once.
	var errs []error
	if err := cc.DecodeOptions(&opts); err != nil {
		errs = append(errs, err)
	}
	if len(opts.PostRefresh) == 0 {
		opts.PostRefresh = exporter.DefaultCadence
	}
	add := func(path, format string, args ...any) {
		errs = append(errs, cfg.Errorf(path, format, args...))
	}
	if cc.Token == "" {
		add(cc.Path()+".token", "youtube needs an API key: set token, token_env or token_file")
	}
	if opts.DailyQuota < 1 {
		add(cc.Path()+".options.daily_quota", "must be at least 1 unit, got %d", opts.DailyQuota)
	}
	if err := opts.PostRefresh.Validate(cfg, cc.Path()+".options.post_refresh"); err != nil {
		errs = append(errs, err)
	}
	if opts.AccountRefresh < 0 {
		add(cc.Path()+".options.account_refresh", "must not be negative, got %s", opts.AccountRefresh)
	}
	if opts.MaxPages < 1 || opts.MaxPages > maxMaxPages {
		add(cc.Path()+".options.max_pages", "must be between 1 and %d, got %d", maxMaxPages, opts.MaxPages)
	}
	posts := cfg.PostsFor(cc.Name)
	for _, p := range posts {
		if !videoID.MatchString(p.ID) {
			add(p.Path()+".id", "youtube video id %q must be the 11-character id, like dQw4w9WgXcQ, not a URL", p.ID)
		}
	}
	accounts := cfg.AccountsFor(cc.Name)
	for _, a := range accounts {
		if !channelID.MatchString(a.ID) {
			add(a.Path()+".id", "youtube account id %q must be a channel id, UC and 22 more characters; handles and custom URLs are not supported", a.ID)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// Sharded, every replica spends from the project's one daily quota
	// with the same key: each counts to its share, and the shares add up
	// to daily_quota.
	opts.DailyQuota = cfg.Shard().Share(opts.DailyQuota)

	c := &collector{
		name:     cc.Name,
		typ:      cc.Type,
		client:   s.Client,
		logger:   s.Logger,
		opts:     opts,
		posts:    posts,
		accounts: accounts,
		book:     exporter.NewPostBook(),
		quota:    carriedQuota(s.Links, s.Storage, cc.Name, opts.DailyQuota),
		storage:  s.Storage,
		now:      time.Now,
		interval: time.Duration(cc.Interval),
		rot:      exporter.NewRotation(),
		chRot:    exporter.NewRotation(),
		channels: map[string]*channelState{},
		missing:  map[string]gone{},
	}
	s.Client.SetHooks(exporter.ClientHooks{
		ErrorMessage: errorMessage,
		Authorize:    authorize,
		// YouTube sends no quota headers. The hook runs once for every
		// response, retries and errors included, which is what Google
		// charges: each call of the three methods used costs one unit.
		Quota: func(http.Header) (float64, time.Time, bool) {
			c.quota.spend(c.now(), 1)
			return 0, time.Time{}, false
		},
	})
	c.api = api{exporter.NewAPI(cc, DefaultBaseURL, s.Client)}
	return c, nil
}

// Poll implements exporter.Collector.
func (c *collector) Poll(ctx context.Context) ([]exporter.Sample, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Whatever the refresh ends with, what it spent is kept.
	defer func() { c.storage.Save(c.name, "quota", c.quota.state()) }()
	now := c.now()
	c.reportQuota(now) // a new day shows its full quota before any call
	var (
		skipped []error
		cut     bool
	)
	if c.accountsDue(now) {
		var err error
		if cut, err = c.refreshAccounts(ctx, now); err != nil {
			return nil, err
		}
		if cut {
			for _, a := range c.accounts {
				if c.pending[a.ID] {
					skipped = append(skipped, exporter.Skipped(accountObject(a), fmt.Errorf("youtube: channel %q (%s): %w", a.ID, a.Path(), exporter.ErrOutOfTime)))
				}
			}
		}
	}

	// Due videos least recently read first: those a refresh cut short
	// did not reach go first next time.
	targets, ids := c.targets()
	isDue := map[string]bool{}
	for _, id := range c.recheckGone(c.book.Due(ids, c.opts.PostRefresh, now), now) {
		isDue[id] = true
	}
	var due []string
	for _, id := range exporter.Rotate(c.rot, ids, func(id string) string { return id }) {
		if isDue[id] {
			due = append(due, id)
		}
	}
	// The videos.list calls go max_concurrent_requests at a time, and
	// each answer is stored in order. Out of time, the batches not read
	// are skipped; any other failure fails the refresh.
	batches := chunks(due, maxIDs)
	lists := make([]*videoList, len(batches))
	fetched := make([]bool, len(batches))
	var fetchErr error
	if !cut {
		fetched, fetchErr = c.callsInOrder(ctx, now, c.client.MaxConcurrentRequests(), len(batches), func(ctx context.Context, i int, held bool) error {
			return c.callHeld(now, fmt.Sprintf("videos.list (%d ids)", len(batches[i])), held, func() (err error) {
				lists[i], err = c.api.videos(ctx, batches[i])
				return err
			})
		})
	}
	notRead := map[string]bool{}
	for i, batch := range batches {
		read := fetched[i]
		if read {
			if err := c.storeVideos(now, batch, lists[i], targets); err != nil {
				if !exporter.OutOfTime(ctx) {
					return nil, err
				}
				read = false
			}
		}
		if !read {
			for _, id := range batch {
				notRead[id] = true
				skipped = append(skipped, exporter.Skipped(targets[id].object(id), fmt.Errorf("youtube: video %q: %w", id, exporter.ErrOutOfTime)))
			}
		}
	}
	if fetchErr != nil {
		return nil, fetchErr
	}
	c.logger.Debug("polled videos", "due", len(due), "videos", len(ids), "skipped", len(notRead), "quota_remaining", c.quota.remaining(now))

	for _, id := range c.channelIDs() {
		if st := c.channels[id]; st != nil && !(cut && c.pending[id]) {
			skipped = append(skipped, st.errs...)
		}
	}
	keep := make(map[string]bool, len(ids))
	for _, id := range ids {
		if g, ok := c.missing[id]; ok && !notRead[id] {
			skipped = append(skipped, exporter.Missing(targets[id].object(id), g.err))
			continue
		}
		keep[id] = true
	}
	for id := range c.missing {
		if _, ok := targets[id]; !ok {
			delete(c.missing, id)
		}
	}
	samples := c.book.Samples(keep)
	for _, id := range c.channelIDs() {
		if st := c.channels[id]; st != nil {
			samples = append(samples, st.followers...)
		}
	}
	return samples, exporter.Partial(skipped)
}

// PolledAt implements exporter.PollTimes: a refresh reads only the due
// posts and repeats the others' last values, and the early curve needs the
// time of the read. The book is keyed by video id, the post label.
func (c *collector) PolledAt(post string) (time.Time, bool) { return c.book.PolledAt(post) }

var _ exporter.PollTimes = (*collector)(nil)

func (t target) object(id string) exporter.Object {
	return exporter.Object{Kind: exporter.KindPost, Campaign: t.campaign, Creator: t.creator, ID: id}
}

func accountObject(a exporter.AccountRef) exporter.Object {
	return exporter.Object{Kind: exporter.KindAccount, Campaign: a.Campaign, Creator: a.Creator, ID: a.ID}
}

// channelIDs returns the configured channels, once each, in config order.
func (c *collector) channelIDs() []string {
	var ids []string
	seen := map[string]bool{}
	for _, a := range c.accounts {
		if !seen[a.ID] {
			seen[a.ID] = true
			ids = append(ids, a.ID)
		}
	}
	return ids
}

// call makes one API call, within the day's budget, and reports the
// quota left after it. Calls under way at once each hold a unit until
// their answer spends it, so together they never go past the budget.
func (c *collector) call(now time.Time, what string, fn func() error) error {
	return c.callHeld(now, what, c.quota.reserve(now), fn)
}

// callsInOrder makes n calls at most limit at once, as exporter.ReadEach
// does, call(i) making the i-th with callHeld. Their units are reserved
// together and in order, as calls one after another would take them:
// with k units left, the first k calls are made and the others refused,
// whichever goroutine runs first (reserved each on its own, a later call
// could take the last unit, and the refusal of an earlier one cancel it).
func (c *collector) callsInOrder(ctx context.Context, now time.Time, limit, n int, call func(ctx context.Context, i int, held bool) error) ([]bool, error) {
	held := c.quota.reserveUpTo(now, n)
	var mu sync.Mutex
	used := 0
	defer func() { c.quota.release(held - used) }()
	return exporter.ReadEach(ctx, limit, n, func(ctx context.Context, i int) error {
		if i < held {
			mu.Lock()
			used++
			mu.Unlock()
		}
		return call(ctx, i, i < held)
	})
}

// callHeld is call for a call that holds a unit (held) or found none left.
func (c *collector) callHeld(now time.Time, what string, held bool, fn func() error) error {
	if held && c.quota.refused(now) {
		// YouTube said the quota is spent since the unit was reserved.
		c.quota.release(1)
		held = false
	}
	if !held {
		cause := fmt.Sprintf("this collector spent its daily_quota of %d units", c.opts.DailyQuota)
		if c.quota.refused(now) {
			cause = "YouTube answered quotaExceeded earlier today"
		}
		return fmt.Errorf("youtube: %s: %w", what, &quotaError{until: c.quota.reset(now), cause: cause})
	}
	err := classify(fn())
	c.quota.release(1)
	var qe *quotaError
	if errors.As(err, &qe) {
		c.quota.exhaust(now)
		qe.until = c.quota.reset(now)
		c.client.PauseUntil(qe.until)
	}
	c.reportQuota(now)
	if err != nil {
		return fmt.Errorf("youtube: %s: %w", what, err)
	}
	return nil
}

func (c *collector) reportQuota(now time.Time) {
	c.client.ReportQuota(float64(c.quota.remaining(now)), c.quota.reset(now))
}

// targets returns every video to report, configured ones first (they win
// over the same video discovered), then discovered ones by id.
func (c *collector) targets() (map[string]target, []string) {
	t := make(map[string]target, len(c.posts))
	ids := make([]string, 0, len(c.posts))
	for _, p := range c.posts {
		t[p.ID] = target{p.Campaign, p.Creator, p.Path()}
		ids = append(ids, p.ID)
	}
	// A video two channels found is the first channel's, in config
	// order.
	all := map[string]target{}
	for _, ch := range c.channelIDs() {
		if st := c.channels[ch]; st != nil {
			for id, tg := range st.found {
				if _, dup := all[id]; !dup {
					all[id] = tg
				}
			}
		}
	}
	found := make([]string, 0, len(all))
	for id := range all {
		if _, ok := t[id]; !ok {
			found = append(found, id)
		}
	}
	sort.Strings(found)
	for _, id := range found {
		t[id] = all[id]
		ids = append(ids, id)
	}
	return t, ids
}

// recheckGone drops from due the videos YouTube did not return, until
// the slowest cadence step has passed: a deleted video must not cost a
// call on every refresh.
func (c *collector) recheckGone(due []string, now time.Time) []string {
	every := c.opts.PostRefresh.Every(math.MaxInt64)
	out := due[:0]
	for _, id := range due {
		if g, ok := c.missing[id]; ok && now.Sub(g.checked) < every-every/10 {
			continue
		}
		out = append(out, id)
	}
	return out
}

// chunks cuts ids into batches of n, the last one shorter.
func chunks(ids []string, n int) [][]string {
	var out [][]string
	for start := 0; start < len(ids); start += n {
		out = append(out, ids[start:min(start+n, len(ids))])
	}
	return out
}

// storeVideos stores the samples of a batch of up to 50 videos from its
// videos.list answer.
func (c *collector) storeVideos(now time.Time, batch []string, l *videoList, targets map[string]target) error {
	got := make(map[string]*video, len(l.Items))
	for i := range l.Items {
		got[l.Items[i].ID] = &l.Items[i]
	}
	for _, id := range batch {
		t := targets[id]
		v, ok := got[id]
		if !ok {
			c.missing[id] = gone{checked: now, err: fmt.Errorf("youtube: video %q (%s): %w: videos.list does not return it (deleted, private or a wrong id)", id, t.path, exporter.ErrNotFound)}
			continue
		}
		delete(c.missing, id)
		samples, published, err := c.videoSamples(t, v)
		if err != nil {
			return fmt.Errorf("youtube: video %q: %w", id, err)
		}
		c.book.Store(id, published, now, samples)
	}
	for _, id := range batch {
		c.rot.Done(id)
	}
	return nil
}

// videoSamples maps a video to samples: only the counts YouTube gave.
func (c *collector) videoSamples(t target, v *video) ([]exporter.Sample, time.Time, error) {
	var out []exporter.Sample
	if s := v.Statistics.ViewCount; s != nil {
		n, err := parseCount(*s)
		if err != nil {
			return nil, time.Time{}, err
		}
		out = append(out, exporter.PostViews.Sample(n, t.campaign, t.creator, c.typ, v.ID))
	}
	for _, e := range []struct {
		typ   string
		count *string
	}{{"likes", v.Statistics.LikeCount}, {"comments", v.Statistics.CommentCount}} {
		if e.count == nil {
			continue
		}
		n, err := parseCount(*e.count)
		if err != nil {
			return nil, time.Time{}, err
		}
		out = append(out, exporter.PostEngagements.Sample(n, t.campaign, t.creator, c.typ, v.ID, e.typ))
	}
	published := parseTime(v.Snippet.PublishedAt)
	if !published.IsZero() {
		out = append(out, exporter.PostPublished.Sample(float64(published.Unix()), t.campaign, t.creator, c.typ, v.ID))
	}
	return out, published, nil
}

func (c *collector) accountsDue(now time.Time) bool {
	if len(c.accounts) == 0 {
		return false
	}
	every := time.Duration(c.opts.AccountRefresh)
	return c.pending != nil || c.accountsAt.IsZero() || now.Sub(c.accountsAt) >= every-every/10
}

// refreshAccounts reads the channels' subscribers and discovers their
// campaign videos, channels least recently read first. A channel's state
// changes once all its calls succeeded. If the refresh runs out of time
// (cut), the channels not read stay pending and the next refresh reads
// them first; the account refresh is complete once none is pending.
func (c *collector) refreshAccounts(ctx context.Context, now time.Time) (cut bool, err error) {
	if c.pending == nil {
		c.pending, c.roundAt = map[string]bool{}, now
		for _, id := range c.channelIDs() {
			c.pending[id] = true
		}
	}
	var ids []string
	for _, id := range exporter.Rotate(c.chRot, c.channelIDs(), func(id string) string { return id }) {
		if c.pending[id] {
			ids = append(ids, id)
		}
	}
	// channels.list, then each channel's uploads listing, are
	// independent calls: max_concurrent_requests at a time. Out of time,
	// the channels not read stay pending; any other failure fails the
	// refresh.
	limit := c.client.MaxConcurrentRequests()
	batches := chunks(ids, maxIDs)
	lists := make([]*channelList, len(batches))
	listed, err := c.callsInOrder(ctx, now, limit, len(batches), func(ctx context.Context, i int, held bool) error {
		return c.callHeld(now, fmt.Sprintf("channels.list (%d ids)", len(batches[i])), held, func() (err error) {
			lists[i], err = c.api.channels(ctx, batches[i])
			return err
		})
	})
	if err != nil {
		return false, err
	}
	channels := map[string]*channel{}
	var answered []string // in the order of ids
	for i, ok := range listed {
		if !ok {
			cut = true
			continue
		}
		for j := range lists[i].Items {
			channels[lists[i].Items[j].ID] = &lists[i].Items[j]
		}
		answered = append(answered, batches[i]...)
	}

	states := make([]*channelState, len(answered))
	read, err := exporter.ReadEach(ctx, limit, len(answered), func(ctx context.Context, i int) (err error) {
		states[i], err = c.readChannel(ctx, now, answered[i], channels[answered[i]])
		return err
	})
	if err != nil {
		return false, err
	}
	for i, id := range answered {
		if !read[i] {
			cut = true
			continue
		}
		c.channels[id] = states[i]
		delete(c.pending, id)
		c.chRot.Done(id)
	}
	if len(c.pending) == 0 {
		c.pending, c.accountsAt = nil, c.roundAt
	}
	return cut, nil
}

// readChannel returns the state of a channel from its channels.list item
// (nil: YouTube did not return it), listing its uploads if an account of
// it has a match.
func (c *collector) readChannel(ctx context.Context, now time.Time, id string, ch *channel) (*channelState, error) {
	st := &channelState{found: map[string]target{}}
	var refs []exporter.AccountRef
	for _, a := range c.accounts {
		if a.ID != id {
			continue
		}
		switch {
		case ch == nil:
			st.errs = append(st.errs, exporter.Missing(accountObject(a), fmt.Errorf("youtube: channel %q (%s): %w: channels.list does not return it", a.ID, a.Path(), exporter.ErrNotFound)))
			continue
		case ch.Statistics.HiddenSubscriberCount || ch.Statistics.SubscriberCount == nil:
			st.errs = append(st.errs, exporter.Missing(accountObject(a), fmt.Errorf("youtube: channel %q (%s): its owner hides the subscriber count", a.ID, a.Path())))
		default:
			n, err := parseCount(*ch.Statistics.SubscriberCount)
			if err != nil {
				return nil, fmt.Errorf("youtube: subscribers of channel %q: %w", a.ID, err)
			}
			st.followers = append(st.followers, exporter.AccountFollowers.Sample(n, a.Campaign, a.Creator, c.typ, a.ID))
		}
		if a.Match != "" {
			refs = append(refs, a)
		}
	}
	if len(refs) == 0 {
		return st, nil
	}
	playlist := ch.ContentDetails.RelatedPlaylists.Uploads
	if playlist == "" {
		st.errs = append(st.errs, fmt.Errorf("youtube: channel %q (%s): %w: no uploads playlist", id, refs[0].Path(), exporter.ErrNotFound))
		return st, nil
	}
	items, err := c.listUploads(ctx, now, playlist, earliestStart(refs))
	var ae *exporter.APIError
	if errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.StatusCode == http.StatusForbidden) {
		st.errs = append(st.errs, fmt.Errorf("%w (channel %q, %s)", err, id, refs[0].Path()))
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		vid := it.ContentDetails.VideoID
		published := parseTime(it.ContentDetails.VideoPublishedAt)
		if vid == "" || published.IsZero() {
			continue // private or deleted
		}
		if _, dup := st.found[vid]; dup {
			continue
		}
		text := it.Snippet.Title + "\n" + it.Snippet.Description
		for _, r := range refs {
			if r.InWindow(published) && r.Matches(text) {
				st.found[vid] = target{r.Campaign, r.Creator, r.Path()}
				break
			}
		}
	}
	c.logger.Debug("listed uploads", "channel", id, "uploads", len(items))
	return st, nil
}

// listUploads pages through an uploads playlist, newest first, until a
// page reaches back before start (nil: no bound) or max_pages.
func (c *collector) listUploads(ctx context.Context, now time.Time, playlist string, start *time.Time) ([]playlistItem, error) {
	var (
		out   []playlistItem
		token string
		seen  = map[string]bool{}
	)
	for range c.opts.MaxPages {
		if exporter.OutOfTime(ctx) {
			return nil, ctx.Err()
		}
		var p *playlistItems
		err := c.call(now, fmt.Sprintf("playlistItems.list of uploads playlist %q", playlist), func() (err error) {
			p, err = c.api.uploads(ctx, playlist, token)
			return err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if (start != nil && reachesBefore(p.Items, *start)) || p.NextPageToken == "" {
			return out, nil
		}
		if seen[p.NextPageToken] {
			return nil, fmt.Errorf("youtube: uploads of playlist %q: %w: page token repeats", playlist, exporter.ErrBadResponse)
		}
		seen[p.NextPageToken] = true
		token = p.NextPageToken
	}
	c.logger.Debug("uploads listing stopped at max_pages", "playlist", playlist, "max_pages", c.opts.MaxPages)
	return out, nil
}

// reachesBefore reports whether a page of the newest-first uploads
// playlist holds an item added before start: the following pages hold
// only older ones. The playlist is ordered by when an item was added
// (snippet.publishedAt), which for a scheduled video is before it went
// public, so that time decides, not videoPublishedAt.
func reachesBefore(items []playlistItem, start time.Time) bool {
	for _, it := range items {
		t := parseTime(it.Snippet.PublishedAt)
		if t.IsZero() {
			t = parseTime(it.ContentDetails.VideoPublishedAt)
		}
		if !t.IsZero() && t.Before(start) {
			return true
		}
	}
	return false
}

// earliestStart returns the earliest campaign start of refs; nil if one
// has none.
func earliestStart(refs []exporter.AccountRef) *time.Time {
	var start *time.Time
	for _, r := range refs {
		if r.Start == nil {
			return nil
		}
		if start == nil || r.Start.Before(*start) {
			start = r.Start
		}
	}
	return start
}

// Plan implements exporter.Planner: the calls, and quota units, of a
// refresh that polls every configured video and reads every channel (see
// the package comment), and the most units a day that costs.
func (c *collector) Plan() exporter.Plan {
	channels, matched := 0, 0
	for _, id := range c.channelIDs() {
		channels++
		for _, a := range c.accounts {
			if a.ID == id && a.Match != "" {
				matched++
				break
			}
		}
	}
	videoCalls := ceilDiv(len(c.posts), maxIDs)
	accountCalls := 0
	if channels > 0 {
		accountCalls = ceilDiv(channels, maxIDs) + matched
	}
	perDay := func(calls int, every time.Duration) int {
		every = max(every, c.interval, time.Second)
		return calls * int(math.Ceil(float64(24*time.Hour)/float64(every)))
	}
	day := perDay(videoCalls, c.opts.PostRefresh.Every(0)) + perDay(accountCalls, time.Duration(c.opts.AccountRefresh))
	note := fmt.Sprintf("%d quota units per full refresh, 1 a call: %d videos.list for %d configured videos (50 a call; videos a match finds add 1 per 50), "+
		"%d channels.list and %d uploads pages, 1 per channel with a match (assumed), every account_refresh; "+
		"at most %d units a day with every video polled at the first post_refresh step, of daily_quota %d",
		videoCalls+accountCalls, videoCalls, len(c.posts), ceilDiv(channels, maxIDs), matched, day, c.opts.DailyQuota)
	return exporter.Plan{Calls: videoCalls + accountCalls, Note: note}
}

func ceilDiv(n, d int) int { return (n + d - 1) / d }

// Package instagram collects attention metrics of creators' Instagram posts
// and accounts from the Instagram Graph API (Instagram API with Facebook
// Login): views, reach, likes, comments, saves and shares per post, the
// publish time, and followers per account.
//
// Posts come from the config (posts: by IG media id) and, for accounts
// with a match, from the account's media published in the campaign window
// whose caption carries the hashtag or keyword. A post is reported once,
// for the first creator it belongs to: configured posts first, then
// discovered ones in config order.
//
// The collector runs on a short interval and, on each refresh, polls only
// the posts its post_refresh cadence says are due (by default every minute
// in a post's first 6 hours, every 5 minutes until it is 2 days old, then
// every 15 minutes); the others keep their last values. Followers and the
// discovery listings are read on every refresh.
//
// Calls per refresh (HTTP requests; Graph counts each batch operation as a
// call against its limits):
//
//   - per account with a match, ceil(media listed / page_size) pages of GET
//     /{ig-user-id}/media, newest first, stopping at the first page that
//     reaches back before the campaign start (at most max_pages); the first
//     pages are operations of batch requests, batch_size accounts a
//     request, the pages after them calls of their own. 10,000 accounts
//     cost 200 batch requests a refresh, not 10,000 calls;
//   - ceil(operations / batch_size) batch requests (POST / with up to 50
//     operations), the operations being: one multi-id read (?ids=…, up to
//     50 ids) of followers_count per 50 accounts; one multi-id read of the
//     media fields per 50 due posts the listings did not return; one
//     /{ig-media-id}/insights read per due post. A post's first poll needs
//     its media product type first, so its insights go in a second round of
//     batches. 120 due posts of one account cost 124 operations in 3 batch
//     requests (4 operations then 120, in 1 + 3 requests, on the first).
//   - once an hour, GET /debug_token for the token's expiry, exported as
//     influencer_token_expiry_timestamp_seconds (the earlier of expires_at
//     and data_access_expires_at; absent for a token that never expires).
//
// Insights are read with the metrics each media product type supports,
// since one unsupported metric fails the whole call (code 100): views,
// reach, saved and shares for FEED and REELS; views, reach and shares for
// STORY, which has no saves, likes or comments. A metric Graph reports no
// data for yet (insights lag up to 48 hours) is absent, not zero.
//
// Graph reports its rate-limit usage as percentages in X-App-Usage and
// X-Business-Use-Case-Usage. The collector exports 100 minus the highest
// as influencer_api_quota_remaining and, when the highest reaches
// max_usage_percent, holds every call for estimated_time_to_regain_access
// (or usage_backoff when Graph gives no estimate), before Graph throttles.
// Graph answers most errors with HTTP 400; the collector tells them apart
// by code: 190 (token expired or invalid) is exporter.ErrUnauthorized, 4,
// 17, 32, 613 and 80002 (throttling) are exporter.ErrRateLimited, 100
// with subcode 33 and 803 (no such object) skip the post or account as a
// partial refresh.
//
// Options, with their defaults:
//
//	post_refresh: [{age: 0s, every: 1m}, {age: 6h, every: 5m}, {age: 48h, every: 15m}]
//	page_size: 50              # media listing page, 1 to 100
//	max_pages: 10              # listing pages per account and refresh
//	batch_size: 50             # operations per batch request, 1 to 50
//	max_usage_percent: 90      # pause calls at this rate-limit usage
//	usage_backoff: 10m         # pause when Graph gives no estimate
//	token_check_interval: 1h   # debug_token; 0 turns it off, else >= 1h
//
// An account whose campaign has no start is listed max_pages deep on every
// refresh; give campaigns a start to keep listings to a page or two.
//
// # Coverage
//
// A configured post or account Graph does not know (deleted, not the
// token's to read, a wrong id) is reported missing with Graph's error. A
// refresh that runs out of time (its interval) stops calling: the posts
// and accounts it read are exported, the others are reported skipped and
// keep their last values, and the next refresh reads them first (due
// posts least recently read first, and account listings likewise). A post
// counts as read once its fields and insights are both in; one whose
// insights batch was not reached keeps its previous values whole rather
// than lose its views for a refresh. Posts the post_refresh cadence does
// not poll on a refresh are exported with the values of their last poll,
// by design, and count as exported.
package instagram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/model"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Option defaults and limits.
const (
	// DefaultPageSize is the media listing page size.
	DefaultPageSize = 50
	// maxPageSize is the largest page Graph serves for media listings
	// (decided from client code; Graph does not document it).
	maxPageSize = 100
	// DefaultMaxPages bounds one account's listing per refresh.
	DefaultMaxPages = 10
	// maxBatch is Graph's limit of operations per batch request.
	maxBatch = 50
	// maxIDs is the most ids one multi-id read (?ids=) asks for. Decided:
	// Graph's documentation found gives no limit for ?ids=; 50 matches
	// its batch limit and keeps the URL short.
	maxIDs = 50
	// DefaultMaxUsagePercent is the usage at which the collector pauses.
	DefaultMaxUsagePercent = 90
	// DefaultUsageBackoff is how long it pauses when Graph gives no
	// estimate of when access returns.
	DefaultUsageBackoff = 10 * time.Minute
	// DefaultTokenCheckInterval is how often debug_token is read.
	DefaultTokenCheckInterval = time.Hour
	// maxRounds bounds the batch rounds of one refresh: fields and
	// insights, insights of posts whose type the first round told, and
	// the one-by-one reads of ids a multi-id read did not find.
	maxRounds = 4
)

func init() {
	exporter.Register("instagram", New)
}

// options are the instagram collector's provider options.
type options struct {
	// PostRefresh is the polling cadence by post age.
	PostRefresh exporter.Cadence `yaml:"post_refresh"`
	// PageSize is the media listing page size (limit=).
	PageSize int `yaml:"page_size"`
	// MaxPages bounds one account's media listing per refresh.
	MaxPages int `yaml:"max_pages"`
	// BatchSize is the number of operations per batch request.
	BatchSize int `yaml:"batch_size"`
	// MaxUsagePercent is the rate-limit usage at which calls pause.
	MaxUsagePercent float64 `yaml:"max_usage_percent"`
	// UsageBackoff is the pause when Graph gives no estimate.
	UsageBackoff model.Duration `yaml:"usage_backoff"`
	// TokenCheckInterval is how often the token's expiry is read with
	// debug_token; 0 turns the check off.
	TokenCheckInterval model.Duration `yaml:"token_check_interval"`
}

// Product types with insights, and the metrics read for each.
var insightMetrics = map[string][]string{
	"FEED":  {"views", "reach", "saved", "shares"},
	"REELS": {"views", "reach", "saved", "shares"},
	// Stories have no saves (Graph rejects the metric), and no likes or
	// comments fields.
	"STORY": {"views", "reach", "shares"},
}

type collector struct {
	name, typ string
	api       *api
	client    *exporter.Client
	logger    *slog.Logger
	opts      options
	posts     []exporter.PostRef
	accounts  []exporter.AccountRef
	book      *exporter.PostBook
	// now is the clock post ages and the token check go by; tests set it.
	now func() time.Time
	// paused is set when the usage hook paused calls during a refresh, so
	// a throttling error does not pause again over it, and the pause is
	// logged once.
	paused atomic.Bool

	// rot orders the due posts, and lists the accounts to list, least
	// recently read first, so that a refresh cut short reads next time
	// what it left out.
	rot, lists *exporter.Rotation

	mu             sync.Mutex
	types          map[string]string   // media id -> media_product_type
	missing        map[string]bool     // ids Graph did not find: read one by one
	found          map[string][]target // account id -> posts its last complete listing found
	lastTokenCheck time.Time
}

// New builds an instagram collector from its config block.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	opts := options{
		PostRefresh:        exporter.DefaultCadence,
		PageSize:           DefaultPageSize,
		MaxPages:           DefaultMaxPages,
		BatchSize:          maxBatch,
		MaxUsagePercent:    DefaultMaxUsagePercent,
		UsageBackoff:       model.Duration(DefaultUsageBackoff),
		TokenCheckInterval: model.Duration(DefaultTokenCheckInterval),
	}
	// An option that does not decode keeps its default, so the checks
	// below still run and --config.check shows every error at once.
	var errs []error
	if err := cc.DecodeOptions(&opts); err != nil {
		errs = append(errs, err)
	}
	p := cc.Path() + ".options"
	if cc.Token == "" {
		errs = append(errs, cfg.Errorf(cc.Path()+".token", "instagram needs a Graph API access token: set token, token_env or token_file"))
	}
	if err := opts.PostRefresh.Validate(cfg, p+".post_refresh"); err != nil {
		errs = append(errs, err)
	}
	if opts.PageSize < 1 || opts.PageSize > maxPageSize {
		errs = append(errs, cfg.Errorf(p+".page_size", "must be between 1 and %d, got %d", maxPageSize, opts.PageSize))
	}
	if opts.MaxPages < 1 {
		errs = append(errs, cfg.Errorf(p+".max_pages", "must be at least 1, got %d", opts.MaxPages))
	}
	if opts.BatchSize < 1 || opts.BatchSize > maxBatch {
		errs = append(errs, cfg.Errorf(p+".batch_size", "must be between 1 and %d (Graph's batch limit), got %d", maxBatch, opts.BatchSize))
	}
	if opts.MaxUsagePercent <= 0 || opts.MaxUsagePercent > 100 {
		errs = append(errs, cfg.Errorf(p+".max_usage_percent", "must be above 0 and at most 100, got %g", opts.MaxUsagePercent))
	}
	if opts.UsageBackoff <= 0 {
		errs = append(errs, cfg.Errorf(p+".usage_backoff", "must be positive"))
	}
	if t := time.Duration(opts.TokenCheckInterval); t != 0 && t < time.Hour {
		errs = append(errs, cfg.Errorf(p+".token_check_interval", "must be 0 (off) or at least 1h, got %s", opts.TokenCheckInterval))
	}
	c := &collector{
		name: cc.Name, typ: cc.Type, client: s.Client, logger: s.Logger, opts: opts,
		book: exporter.NewPostBook(), now: time.Now,
		rot: exporter.NewRotation(), lists: exporter.NewRotation(),
		types: map[string]string{}, missing: map[string]bool{}, found: map[string][]target{},
	}
	for _, po := range cfg.PostsFor(cc.Name) {
		if !isID(po.ID) {
			errs = append(errs, cfg.Errorf(po.Path()+".id", "instagram post id %q must be the IG media id (digits), not a URL or shortcode", po.ID))
			continue
		}
		c.posts = append(c.posts, po)
	}
	for _, a := range cfg.AccountsFor(cc.Name) {
		if !isID(a.ID) {
			errs = append(errs, cfg.Errorf(a.Path()+".id", "instagram account id %q must be the IG user id (digits), not a username", a.ID))
			continue
		}
		c.accounts = append(c.accounts, a)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	token := string(cc.Token)
	s.Client.SetHooks(exporter.ClientHooks{ErrorMessage: errorMessage, Classify: classifyBody, Quota: c.observeUsage, Authorize: authorize})
	c.api = &api{
		API:    exporter.NewAPI(cc, DefaultBaseURL, s.Client),
		redact: func(s string) string { return strings.ReplaceAll(s, token, "<secret>") },
	}
	return c, nil
}

func isID(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// observeUsage is the client's Quota hook: it reads Graph's usage headers,
// reports 100 minus the highest percentage, and pauses calls once usage
// reaches max_usage_percent. The pause is on the wall clock, as the
// client's is.
func (c *collector) observeUsage(h http.Header) (float64, time.Time, bool) {
	u, ok := readUsage(h)
	if !ok {
		return 0, time.Time{}, false
	}
	var reset time.Time
	if u.regain > 0 {
		reset = time.Now().Add(u.regain)
	}
	if u.percent >= c.opts.MaxUsagePercent {
		wait := u.regain
		if wait <= 0 {
			wait = time.Duration(c.opts.UsageBackoff)
		}
		until := time.Now().Add(wait)
		c.client.PauseUntil(until)
		if !c.paused.Swap(true) {
			c.logger.Info("graph api usage high, pausing calls", "usage_percent", u.percent, "until", until)
		}
	}
	return max(0, 100-u.percent), reset, true
}

// observeOp feeds a batch operation's usage headers to the same logic.
func (c *collector) observeOp(r *batchResult) {
	if remaining, reset, ok := c.observeUsage(r.header()); ok {
		c.client.ReportQuota(remaining, reset)
	}
}

// target is a post of this refresh and whom it belongs to.
type target struct {
	campaign, creator, id string
	path                  string // config path of a configured post, "" if discovered
}

func (t target) name() string {
	if t.path != "" {
		return fmt.Sprintf("post %q (%s)", t.id, t.path)
	}
	return fmt.Sprintf("post %q", t.id)
}

func (t target) object() exporter.Object {
	return exporter.Object{Kind: exporter.KindPost, Campaign: t.campaign, Creator: t.creator, ID: t.id}
}

func accountObject(a exporter.AccountRef) exporter.Object {
	return exporter.Object{Kind: exporter.KindAccount, Campaign: a.Campaign, Creator: a.Creator, ID: a.ID}
}

// Poll implements exporter.Collector.
func (c *collector) Poll(ctx context.Context) ([]exporter.Sample, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paused.Store(false)
	samples, err := c.poll(ctx)
	if throttledByGraph(err) && !c.paused.Load() {
		// Throttled without usage headers to say for how long: give
		// Graph a rest rather than knock again on the next refresh.
		c.client.PauseUntil(time.Now().Add(time.Duration(c.opts.UsageBackoff)))
	}
	return samples, err
}

// PolledAt implements exporter.PollTimes: a refresh reads only the due
// posts and repeats the others' last values, and the early curve needs the
// time of the read. The book is keyed by media id, the post label.
func (c *collector) PolledAt(post string) (time.Time, bool) { return c.book.PolledAt(post) }

var _ exporter.PollTimes = (*collector)(nil)

// throttledByGraph tells Graph's throttling (a throttling code, or a 429
// the client gave up on) from the client refusing to call during a pause.
func throttledByGraph(err error) bool {
	var (
		ge *graphError
		ae *exporter.APIError
	)
	switch {
	case errors.As(err, &ge):
		return errors.Is(ge, exporter.ErrRateLimited)
	case errors.As(err, &ae):
		return ae.StatusCode == http.StatusTooManyRequests
	}
	return false
}

func (c *collector) poll(ctx context.Context) ([]exporter.Sample, error) {
	now := c.now()
	if err := c.checkToken(ctx, now); err != nil {
		return nil, err
	}
	listed, targets, cut, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(targets))
	for i, t := range targets {
		ids[i] = t.id
	}
	r := &refresh{
		c: c, listed: listed, fields: map[string]media{}, insights: map[string]map[string]float64{},
		followers: map[string]float64{}, gone: map[string]bool{}, insightsQueued: map[string]bool{},
		accountGone: map[string]bool{}, insightsDone: map[string]bool{},
	}
	// Due posts least recently read first: those a refresh cut short
	// did not reach go first next time.
	dueSet := map[string]bool{}
	for _, id := range c.book.Due(ids, c.opts.PostRefresh, now) {
		dueSet[id] = true
	}
	var due []string
	for _, id := range exporter.Rotate(c.rot, ids, func(id string) string { return id }) {
		if dueSet[id] {
			due = append(due, id)
		}
	}
	if !cut {
		if cut, err = r.fetch(ctx, due, targets); err != nil {
			return nil, err
		}
	}

	byID := make(map[string]target, len(targets))
	for _, t := range targets {
		byID[t.id] = t
	}
	for _, id := range due {
		if r.gone[id] {
			continue
		}
		m, ok := r.fields[id]
		if !ok || (r.insightsQueued[id] && !r.insightsDone[id]) {
			if cut {
				r.skipped = append(r.skipped, exporter.Skipped(byID[id].object(), fmt.Errorf("instagram: %s: %w", byID[id].name(), exporter.ErrOutOfTime)))
				continue
			}
			return nil, fmt.Errorf("instagram: %s: %w: no media fields", byID[id].name(), exporter.ErrBadResponse)
		}
		published, err := m.published()
		if err != nil {
			return nil, fmt.Errorf("instagram: %s: %w", byID[id].name(), err)
		}
		c.book.Store(id, published, now, postSamples(byID[id], m, published, r.insights[id]))
		c.rot.Done(id)
	}
	keep := make(map[string]bool, len(targets))
	for _, t := range targets {
		if !r.gone[t.id] {
			keep[t.id] = true
		}
	}

	var out []exporter.Sample
	seen := map[[3]string]bool{}
	for _, a := range c.accounts {
		n, ok := r.followers[a.ID]
		key := [3]string{a.Campaign, a.Creator, a.ID}
		if seen[key] {
			continue
		}
		seen[key] = true
		if !ok {
			if cut && !r.accountGone[a.ID] {
				r.skipped = append(r.skipped, exporter.Skipped(accountObject(a), fmt.Errorf("instagram: followers of account %q (%s): %w", a.ID, a.Path(), exporter.ErrOutOfTime)))
			}
			continue
		}
		out = append(out, exporter.AccountFollowers.Sample(n, a.Campaign, a.Creator, c.typ, a.ID))
	}
	out = append(out, c.book.Samples(keep)...)
	if cut {
		c.logger.Debug("refresh ran out of time", "posts_due", len(due), "skipped", len(r.skipped))
	}
	return out, exporter.Partial(r.skipped)
}

// postSamples maps one poll of a post to samples: only what Graph reported.
func postSamples(t target, m media, published time.Time, ins map[string]float64) []exporter.Sample {
	labels := []string{t.campaign, t.creator, "instagram", t.id}
	eng := func(v float64, typ string) exporter.Sample {
		return exporter.PostEngagements.Sample(v, append(append([]string(nil), labels...), typ)...)
	}
	out := []exporter.Sample{exporter.PostPublished.Sample(float64(published.Unix()), labels...)}
	if m.LikeCount != nil {
		out = append(out, eng(float64(*m.LikeCount), "likes"))
	}
	if m.CommentsCount != nil {
		out = append(out, eng(float64(*m.CommentsCount), "comments"))
	}
	if v, ok := ins["views"]; ok {
		out = append(out, exporter.PostViews.Sample(v, labels...))
	}
	if v, ok := ins["reach"]; ok {
		out = append(out, exporter.PostReach.Sample(v, labels...))
	}
	if v, ok := ins["saved"]; ok {
		out = append(out, eng(v, "saves"))
	}
	if v, ok := ins["shares"]; ok {
		out = append(out, eng(v, "shares"))
	}
	return out
}

// checkToken reads the token's expiry with debug_token, at most once per
// token_check_interval. A rejected token fails the refresh; any other
// failure is logged and the check waits for the next interval, since it
// only feeds an early warning.
func (c *collector) checkToken(ctx context.Context, now time.Time) error {
	every := time.Duration(c.opts.TokenCheckInterval)
	if every == 0 || (!c.lastTokenCheck.IsZero() && now.Sub(c.lastTokenCheck) < every) {
		return nil
	}
	info, err := c.api.debugToken(ctx)
	if errors.Is(err, exporter.ErrUnauthorized) || errors.Is(err, exporter.ErrRateLimited) {
		return c.wrap("check access token", err)
	}
	if err != nil && exporter.OutOfTime(ctx) {
		return nil // checked next refresh; the rest of this one is skipped
	}
	c.lastTokenCheck = now
	if err != nil {
		c.logger.Warn("token expiry check failed", "err", err)
		return nil
	}
	if e := info.Data.Error; !info.Data.IsValid && e != nil {
		return c.wrap("check access token", &graphError{
			Code: e.Code, Subcode: e.Subcode, kind: exporter.ErrUnauthorized,
			text: c.api.redact("debug_token: " + errorText(e.Code, e.Subcode, false, e.Message)),
		})
	}
	if t := info.expiry(); !t.IsZero() {
		c.client.ReportTokenExpiry(t)
	}
	return nil
}

// wrap names the provider and the object, and says what to do about an
// unusable token.
func (c *collector) wrap(what string, err error) error {
	if errors.Is(err, exporter.ErrUnauthorized) {
		return fmt.Errorf("instagram: %s: %s: %w", authHint(err), what, err)
	}
	return fmt.Errorf("instagram: %s: %w", what, err)
}

func authHint(err error) string {
	var ge *graphError
	if errors.As(err, &ge) {
		switch {
		case ge.Code == codeToken && ge.Subcode == subcodeExpired:
			return "access token expired, renew the long-lived token"
		case ge.Code == codeToken && ge.Subcode == subcodePassword:
			return "access token invalidated by a password change, log in again"
		case ge.Code == codeToken || ge.Code == codeTokenRequired:
			return "access token invalid"
		default:
			return "permission missing for the access token"
		}
	}
	return "access token rejected"
}

// discover lists the media of every account with a match and returns them
// by id, with the posts of this refresh: configured ones, then those
// discovered in the campaign windows. Accounts are listed least recently
// listed first; if the refresh runs out of time (cut), the accounts not
// listed keep the posts their last listing found.
func (c *collector) discover(ctx context.Context) (listed map[string]media, targets []target, cut bool, err error) {
	claimed := map[string]bool{}
	for _, p := range c.posts {
		if claimed[p.ID] {
			continue
		}
		claimed[p.ID] = true
		targets = append(targets, target{campaign: p.Campaign, creator: p.Creator, id: p.ID, path: p.Path()})
	}
	var users []string
	refs := map[string][]exporter.AccountRef{}
	for _, a := range c.accounts {
		if a.Match == "" {
			continue
		}
		if _, ok := refs[a.ID]; !ok {
			users = append(users, a.ID)
		}
		refs[a.ID] = append(refs[a.ID], a)
	}
	listed = map[string]media{}
	found := map[string][]target{}
	done := map[string]bool{}
	// The first page of each account's listing is one operation of a
	// batch request, batch_size accounts a request; a listing that goes
	// on past its first page is paged on with calls of its own.
	rotated := exporter.Rotate(c.lists, users, func(u string) string { return u })
	var firsts []*batchResult
	for start := 0; start < len(rotated) && !cut; start += c.opts.BatchSize {
		chunk := rotated[start:min(start+c.opts.BatchSize, len(rotated))]
		if cut = exporter.OutOfTime(ctx); cut {
			break
		}
		rels := make([]string, len(chunk))
		for i, user := range chunk {
			rels[i] = mediaRel(user, c.opts.PageSize, "")
		}
		results, err := c.api.batch(ctx, rels)
		if err != nil && exporter.OutOfTime(ctx) {
			cut = true
			break
		}
		if err != nil {
			what := fmt.Sprintf("media of account %q", chunk[0])
			if len(chunk) > 1 {
				what = fmt.Sprintf("media of %d accounts (%q first)", len(chunk), chunk[0])
			}
			return nil, nil, false, c.wrap(what, err)
		}
		for i, res := range results {
			if res == nil {
				return nil, nil, false, fmt.Errorf("instagram: batch GET /%s/media: %w: operation did not complete", chunk[i], exporter.ErrServer)
			}
			c.observeOp(res)
		}
		firsts = append(firsts, results...)
	}
	// Accounts whose first page is in are listed, even out of time when
	// that page is the whole listing; those the batches did not reach
	// keep what their last listing found.
	for i, user := range rotated[:len(firsts)] {
		list, err := c.listAccount(ctx, user, refs[user], firsts[i])
		if err != nil && exporter.OutOfTime(ctx) {
			cut = true
			continue
		}
		if err != nil {
			return nil, nil, false, err
		}
		c.lists.Done(user)
		done[user] = true
		for _, m := range list {
			listed[m.ID] = m
			if claimed[m.ID] {
				continue
			}
			published, err := m.published()
			if err != nil {
				return nil, nil, false, fmt.Errorf("instagram: media of account %q: %w", user, err)
			}
			for _, ref := range refs[user] {
				if ref.InWindow(published) && ref.Matches(m.Caption) {
					found[user] = append(found[user], target{campaign: ref.Campaign, creator: ref.Creator, id: m.ID})
					break
				}
			}
		}
	}
	// In config order, as ever: the accounts not listed this time with
	// what their last listing found.
	for _, user := range users {
		ts := c.found[user]
		if done[user] {
			ts = found[user]
			c.found[user] = ts
		}
		for _, t := range ts {
			if !claimed[t.id] {
				claimed[t.id] = true
				targets = append(targets, t)
			}
		}
	}
	return listed, targets, cut, nil
}

// listAccount pages through an account's media, newest first, until a page
// reaches back before every window's start. Graph lists feed posts and
// reels newest first (observed; not documented as a guarantee); stories
// are not listed. first is the answer to the first page, read in a batch.
func (c *collector) listAccount(ctx context.Context, user string, refs []exporter.AccountRef, first *batchResult) ([]media, error) {
	var oldest *time.Time
	for _, r := range refs {
		if r.Start == nil {
			oldest = nil
			break
		}
		if oldest == nil || r.Start.Before(*oldest) {
			oldest = r.Start
		}
	}
	var (
		out   []media
		after string
	)
	for page := 0; ; page++ {
		if page == c.opts.MaxPages {
			c.logger.Debug("media listing stopped at max_pages", "account", user, "pages", page)
			return out, nil
		}
		var (
			p   *mediaPage
			err error
		)
		switch {
		case page == 0:
			p, err = firstPage(c.api, user, first)
		case exporter.OutOfTime(ctx):
			return nil, ctx.Err()
		default:
			p, err = c.api.listMedia(ctx, user, c.opts.PageSize, after)
		}
		if err != nil {
			return nil, c.wrap(fmt.Sprintf("media of account %q", user), err)
		}
		out = append(out, p.Data...)
		if len(p.Data) == 0 || p.Paging.Next == "" || p.Paging.Cursors.After == "" {
			return out, nil
		}
		if p.Paging.Cursors.After == after {
			return nil, fmt.Errorf("instagram: media of account %q: %w: paging does not advance", user, exporter.ErrBadResponse)
		}
		if oldest != nil {
			last, err := p.Data[len(p.Data)-1].published()
			if err != nil {
				return nil, fmt.Errorf("instagram: media of account %q: %w", user, err)
			}
			if last.Before(*oldest) {
				return out, nil
			}
		}
		// The cursor, not paging.next: next is an absolute URL carrying
		// the token, and the collector only calls its own base URL.
		after = p.Paging.Cursors.After
	}
}

// firstPage decodes the batch operation that read an account's first
// page of media.
func firstPage(a *api, user string, res *batchResult) (*mediaPage, error) {
	if res.Code != http.StatusOK {
		return nil, a.opError(user+"/media", res)
	}
	var p mediaPage
	if err := decode(res.Body, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// refresh is the state of one refresh's batch rounds.
type refresh struct {
	c              *collector
	listed         map[string]media
	fields         map[string]media
	insights       map[string]map[string]float64
	followers      map[string]float64
	gone           map[string]bool // posts Graph does not know (any more)
	accountGone    map[string]bool // accounts Graph does not know
	insightsQueued map[string]bool
	insightsDone   map[string]bool // insights read, or known to have none
	skipped        []error
	targets        map[string]target
	due            map[string]bool
	pending        []op
}

// op is one batch operation and what to do with its answer.
type op struct {
	rel    string
	handle func(res *batchResult) error
}

func (r *refresh) add(o op) { r.pending = append(r.pending, o) }

// fetch reads followers of every account and fields and insights of the
// due posts, in as few batch requests as the rounds allow, in the order
// of due. If the refresh runs out of time it stops before the next batch
// request and reports cut: what the batches sent so far read is kept.
func (r *refresh) fetch(ctx context.Context, due []string, targets []target) (cut bool, err error) {
	c := r.c
	r.targets = make(map[string]target, len(targets))
	for _, t := range targets {
		r.targets[t.id] = t
	}
	r.due = make(map[string]bool, len(due))
	for _, id := range due {
		r.due[id] = true
	}

	var accountIDs []string
	seen := map[string]bool{}
	for _, a := range c.accounts {
		if !seen[a.ID] {
			seen[a.ID] = true
			accountIDs = append(accountIDs, a.ID)
		}
	}
	r.readIDs(accountIDs, "followers_count", r.handleAccount)

	// Fields first, then insights in the order of due: a refresh cut
	// short has the fields of every post and the insights of the first.
	var lookup []string
	for _, id := range due {
		if m, ok := r.listed[id]; ok {
			r.fields[id] = m
			c.types[id] = m.Product
			continue
		}
		lookup = append(lookup, id)
	}
	r.readIDs(lookup, mediaFields, r.handleMedia)
	for _, id := range due {
		if _, known := c.types[id]; known {
			// Listed, or known from an earlier poll: read insights in
			// the same round as the fields.
			r.queueInsights(id)
		}
	}

	for round := 0; len(r.pending) > 0; round++ {
		if round == maxRounds {
			return false, fmt.Errorf("instagram: %w: more than %d batch rounds", exporter.ErrBadResponse, maxRounds)
		}
		ops := r.pending
		r.pending = nil
		for start := 0; start < len(ops); start += c.opts.BatchSize {
			chunk := ops[start:min(start+c.opts.BatchSize, len(ops))]
			rels := make([]string, len(chunk))
			for i, o := range chunk {
				rels[i] = o.rel
			}
			if exporter.OutOfTime(ctx) {
				return true, nil
			}
			results, err := c.api.batch(ctx, rels)
			if err != nil && exporter.OutOfTime(ctx) {
				return true, nil
			}
			if err != nil {
				return false, c.wrap(fmt.Sprintf("batch of %d requests", len(rels)), err)
			}
			for i, res := range results {
				if res == nil {
					return false, fmt.Errorf("instagram: batch GET /%s: %w: operation did not complete", strings.SplitN(rels[i], "?", 2)[0], exporter.ErrServer)
				}
				c.observeOp(res)
				if err := chunk[i].handle(res); err != nil {
					return false, err
				}
			}
		}
	}
	return false, nil
}

// readIDs queues multi-id reads of fields for ids, 50 at a time; ids Graph
// did not find before are read one by one, so one deleted post does not
// fail the read of 49 others.
func (r *refresh) readIDs(ids []string, fields string, handle func(id string, res *batchResult, body map[string]json.RawMessage) error) {
	var multi []string
	for _, id := range ids {
		if r.c.missing[id] {
			r.readOne(id, fields, handle)
			continue
		}
		multi = append(multi, id)
	}
	for start := 0; start < len(multi); start += maxIDs {
		chunk := multi[start:min(start+maxIDs, len(multi))]
		q := url.Values{"ids": {strings.Join(chunk, ",")}, "fields": {fields}}
		r.add(op{rel: "?" + q.Encode(), handle: func(res *batchResult) error {
			if res.Code != http.StatusOK {
				err := r.c.api.opError("", res)
				if !errors.Is(err, exporter.ErrNotFound) {
					return r.c.wrap(fmt.Sprintf("read of %d objects", len(chunk)), err)
				}
				// Error 803 names the missing ids, but not reliably
				// for every node type: ask each one.
				for _, id := range chunk {
					r.readOne(id, fields, handle)
				}
				return nil
			}
			var byID map[string]json.RawMessage
			if err := decode(res.Body, &byID); err != nil {
				return fmt.Errorf("instagram: read of %d objects: %w", len(chunk), err)
			}
			for _, id := range chunk {
				if err := handle(id, res, byID); err != nil {
					return err
				}
			}
			return nil
		}})
	}
}

// readOne queues the read of one object's fields.
func (r *refresh) readOne(id, fields string, handle func(id string, res *batchResult, body map[string]json.RawMessage) error) {
	rel := url.PathEscape(id) + "?" + url.Values{"fields": {fields}}.Encode()
	r.add(op{rel: rel, handle: func(res *batchResult) error {
		if res.Code != http.StatusOK {
			return handle(id, res, nil)
		}
		return handle(id, res, map[string]json.RawMessage{id: json.RawMessage(res.Body)})
	}})
}

// object decodes one object of a multi-id answer into v. A non-200
// answer is the object's own error.
func (r *refresh) object(id string, res *batchResult, byID map[string]json.RawMessage, v any) error {
	if byID == nil {
		return r.c.api.opError(id, res)
	}
	raw, ok := byID[id]
	if !ok {
		return fmt.Errorf("%w: object %q missing from the answer", exporter.ErrBadResponse, id)
	}
	return decode(string(raw), v)
}

func (r *refresh) handleAccount(id string, res *batchResult, byID map[string]json.RawMessage) error {
	var a account
	err := r.object(id, res, byID, &a)
	switch {
	case errors.Is(err, exporter.ErrNotFound):
		r.c.missing[id] = true
		r.accountGone[id] = true
		for _, ref := range r.c.accounts {
			if ref.ID == id {
				r.skipped = append(r.skipped, exporter.Missing(accountObject(ref), fmt.Errorf("instagram: account %q (%s): %w", id, ref.Path(), err)))
			}
		}
		return nil
	case err != nil:
		return r.c.wrap(fmt.Sprintf("followers of account %q", id), err)
	case a.FollowersCount == nil:
		return fmt.Errorf("instagram: followers of account %q: %w: no followers_count (is it a professional account?)", id, exporter.ErrBadResponse)
	}
	delete(r.c.missing, id)
	r.followers[id] = float64(*a.FollowersCount)
	return nil
}

func (r *refresh) handleMedia(id string, res *batchResult, byID map[string]json.RawMessage) error {
	t := r.targets[id]
	var m media
	err := r.object(id, res, byID, &m)
	switch {
	case errors.Is(err, exporter.ErrNotFound):
		r.c.missing[id] = true
		r.postGone(t, err)
		return nil
	case err != nil:
		return r.c.wrap(t.name(), err)
	}
	delete(r.c.missing, id)
	r.fields[id] = m
	r.c.types[id] = m.Product
	r.queueInsights(id)
	return nil
}

// postGone skips a post Graph does not know: deleted, not published yet,
// or not the token's to read.
func (r *refresh) postGone(t target, err error) {
	if r.gone[t.id] {
		return
	}
	r.gone[t.id] = true
	r.skipped = append(r.skipped, exporter.Missing(t.object(), fmt.Errorf("instagram: %s: %w", t.name(), err)))
}

// queueInsights queues the insights read of a due post whose product type
// is known, once.
func (r *refresh) queueInsights(id string) {
	if r.insightsQueued[id] || !r.due[id] {
		return
	}
	product := r.c.types[id]
	metrics := insightMetrics[product]
	if len(metrics) == 0 {
		// AD and unknown product types: no organic insights to read.
		return
	}
	r.insightsQueued[id] = true
	t := r.targets[id]
	rel := url.PathEscape(id) + "/insights?" + url.Values{"metric": {strings.Join(metrics, ",")}}.Encode()
	r.add(op{rel: rel, handle: func(res *batchResult) error {
		if res.Code == http.StatusOK {
			var ins insightsReply
			if err := decode(res.Body, &ins); err != nil {
				return fmt.Errorf("instagram: insights of %s: %w", t.name(), err)
			}
			r.insights[id] = ins.values()
			r.insightsDone[id] = true
			return nil
		}
		err := r.c.api.opError(id+"/insights", res)
		var ge *graphError
		switch {
		case errors.As(err, &ge) && ge.Code == codePermission && product == "STORY":
			// A story seen by fewer than 5 accounts has no insights.
			r.insightsDone[id] = true
			return nil
		case errors.Is(err, exporter.ErrNotFound):
			r.postGone(t, err)
			return nil
		case errors.As(err, &ge) && ge.Code == codeBadParameter:
			// The post has no insights of this kind (posted before the
			// account became a professional one, or a metric Graph
			// changed): report its fields, skip its insights. The
			// post itself is exported.
			r.insightsDone[id] = true
			r.skipped = append(r.skipped, fmt.Errorf("instagram: insights of %s: %w", t.name(), err))
			return nil
		}
		return r.c.wrap("insights of "+t.name(), err)
	}})
}

// Plan implements exporter.Planner: the HTTP requests of one refresh that
// polls every configured post, the post types known (the package comment
// lists the calls).
func (c *collector) Plan() exporter.Plan {
	accounts, listings := map[string]bool{}, map[string]bool{}
	for _, a := range c.accounts {
		accounts[a.ID] = true
		if a.Match != "" {
			listings[a.ID] = true
		}
	}
	posts := len(c.posts)
	ops := ceilDiv(len(accounts), maxIDs) + ceilDiv(posts, maxIDs) + posts
	batches := ceilDiv(ops, c.opts.BatchSize)
	listingBatches := ceilDiv(len(listings), c.opts.BatchSize)
	note := fmt.Sprintf("%d media listing pages, one per account with a match, in %d batch requests (assumed; a listing that goes on past a page, when the account posted over page_size since the campaign start, costs a call a page more), "+
		"+ %d batch requests of %d operations, which Graph counts as calls: followers of %d accounts, fields and insights of %d configured posts; "+
		"each post a hashtag finds adds an insights operation, and a post's first poll a second round; debug_token once per token_check_interval",
		len(listings), listingBatches, batches, ops, len(accounts), posts)
	return exporter.Plan{Calls: listingBatches + batches, Note: note}
}

func ceilDiv(n, d int) int { return (n + d - 1) / d }

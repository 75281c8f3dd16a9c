// Package tiktok collects the attention a creator's TikTok videos get
// (views, likes, comments, shares, publish time) and the account's
// followers, through TikTok's Display API v2 (open.tiktokapis.com) with a
// user access token carrying the scopes user.info.basic, user.info.stats
// and video.list.
//
// # One user per collector
//
// A TikTok user access token serves exactly one TikTok user: the video
// endpoints only answer for that user's own videos. So a tiktok collector
// reads one account, its token's; a creator with two TikTok accounts, or
// two creators, need one collector each. Every account configured on one
// collector must have the same id (it may appear in several campaigns);
// a second id is a config error.
//
// The account id is the `account` label as configured: a readable handle
// (alice.makes) is the better label, since the open_id TikTok gives an app
// is an opaque string; the collector never checks the one against the
// other (reading the handle needs the user.info.profile scope).
//
// # What is exported
//
// influencer_post_views, influencer_post_engagements{type=likes|comments|
// shares} and influencer_post_published_timestamp_seconds per video, and
// influencer_account_followers per account. The Display API reports no
// reach and no saves, so influencer_post_reach and type="saves" are absent
// for TikTok, never zero; so is any count a video's answer leaves out.
//
// # Adaptive refresh
//
// The collector is meant to run on a short interval (1m). Each refresh
// polls only the videos whose cadence (options.post_refresh, default:
// every minute in a video's first 6 hours, every 5 minutes until it is 2
// days old, then every 15 minutes) says are due, and keeps the last values
// of the others; see exporter.PostBook.
//
// # Discovery
//
// An account with a match (a hashtag like #spring or a keyword) makes the
// collector list the user's videos, newest first, and report those
// published in the campaign window whose title or description carries
// it. The first refresh, and one every options.full_listing_every, pages
// back to the earliest window start; the others page only until they
// reach videos already seen (usually one page), so a new video appears
// within one refresh. A listed video's counts come with the listing, so
// it costs no query on that refresh. A discovered video that disappears
// (deleted, made private) stops being exported; a configured one is
// reported missing, with the reason, on the landing page and in
// influencer_collector_objects, its series absent, and asked for again on
// every refresh.
//
// # A refresh out of time
//
// A refresh that runs out of time (its interval) stops calling and keeps
// what it read: the videos of the listing pages read count, and a listing
// cut short goes on from its cursor, down to where it was going, on the
// next refresh (new videos at the top wait for the refresh after); the
// videos it did not query, and the account if user info was not read, are
// reported skipped and keep their last values. Videos are queried least
// recently read first, so those skipped go first next time. Videos the
// post_refresh cadence does not poll on a refresh are exported with their
// last values, by design, and count as exported.
//
// # Calls per refresh
//
//   - 1 GET /v2/user/info/, if the collector has an account;
//   - discovery, if an account has a match: ceil(videos since the window
//     start / 20) POST /v2/video/list/ on a full listing (at least 1), else
//     usually 1;
//   - ceil(due videos not in this refresh's listing / 20) POST
//     /v2/video/query/ (45 due videos: 3 calls, measured in the tests);
//   - 1 POST /v2/oauth/token/ when the access token is renewed: about once
//     a day, and when TikTok refuses the token.
//
// TikTok limits each endpoint to 600 requests a minute (sliding window)
// and sends no rate-limit headers (unconfirmed); a 429 is retried with the
// client's backoff. There is no daily quota to account for.
//
// # Tokens
//
// TikTok access tokens last 24 hours. A static token (token, token_env or
// token_file) therefore works for a day at most; for anything longer set
// options.client_key, options.client_secret_env (the name of an
// environment variable holding the client secret) and
// options.refresh_token_file (a file holding the user's refresh token,
// which the collector rewrites when TikTok hands out a new one: it must be
// writable). The collector then renews the access token half an hour
// before it expires, and once when TikTok refuses it, through POST
// /v2/oauth/token/ with grant_type=refresh_token. The refresh token lasts
// 365 days from its first issuance and needs the user to authorize the app
// again after that: its expiry is what
// influencer_token_expiry_timestamp_seconds reports, since the access
// token's own, a day ahead at most, renews itself. A static token's expiry
// is unknown and not exported. When TikTok refuses the refresh token the
// collector holds and the file holds another, written by `check --online`
// or a second exporter on the same file, the collector renews with the
// file's.
package tiktok

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

const provider = "tiktok"

// Option defaults and limits.
const (
	// DefaultFullListingEvery is how often discovery lists back to the
	// window start, catching a caption edited to carry the match after
	// its video left the first page.
	DefaultFullListingEvery = time.Hour
	// renewBefore is how long before its expiry an access token is
	// renewed.
	renewBefore = 30 * time.Minute
	// maxPages bounds one listing: 10,000 videos.
	maxPages = 500
)

func init() {
	exporter.Register(provider, New)
}

// options are the tiktok collector's provider options.
type options struct {
	// PostRefresh is how often a video is polled by its age.
	PostRefresh exporter.Cadence `yaml:"post_refresh"`
	// FullListingEvery is how often discovery pages back to the window
	// start; 0 does on every refresh.
	FullListingEvery model.Duration `yaml:"full_listing_every"`
	// ClientKey, ClientSecretEnv and RefreshTokenFile, all three or none,
	// renew the access token.
	ClientKey        string `yaml:"client_key"`
	ClientSecretEnv  string `yaml:"client_secret_env"`
	RefreshTokenFile string `yaml:"refresh_token_file"`
}

// owner is who a video is reported for.
type owner struct{ campaign, creator string }

type collector struct {
	api       *api
	client    *exporter.Client
	logger    *slog.Logger
	cadence   exporter.Cadence
	fullEvery time.Duration
	tokens    *tokens

	accounts    []exporter.AccountRef // followers are exported for each
	matchers    []exporter.AccountRef // accounts with a match
	windowStart time.Time             // earliest start of the matchers; zero: open
	configured  map[string]exporter.PostRef
	posts       []exporter.PostRef // configured, in config order

	book *exporter.PostBook
	// now is the clock; tests replace it.
	now func() time.Time

	// rot orders the videos to query least recently read first, so that
	// a refresh cut short reads next time those it did not reach.
	rot *exporter.Rotation

	// mu serializes refreshes and guards the discovery state.
	mu           sync.Mutex
	discovered   map[string][]owner // video id -> the accounts it matched
	newestListed time.Time          // newest video listed so far
	lastFull     time.Time          // when discovery last listed back to the window start
	resume       *listing           // a listing cut short, to go on with
}

// New builds a tiktok collector from its config block.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	opts := options{FullListingEvery: model.Duration(DefaultFullListingEvery)}
	// An option that does not decode keeps its default, so the checks
	// below still run and --config.check shows every error at once.
	var errs []error
	if err := cc.DecodeOptions(&opts); err != nil {
		errs = append(errs, err)
	}
	path := cc.Path() + ".options"
	if err := opts.PostRefresh.Validate(cfg, path+".post_refresh"); err != nil {
		errs = append(errs, err)
	}
	tok, tokErrs := newTokens(cc, opts)
	errs = append(errs, tokErrs...)

	c := &collector{
		client:     s.Client,
		logger:     s.Logger,
		cadence:    opts.PostRefresh,
		fullEvery:  time.Duration(opts.FullListingEvery),
		tokens:     tok,
		configured: map[string]exporter.PostRef{},
		book:       exporter.NewPostBook(),
		now:        time.Now,
		discovered: map[string][]owner{},
		rot:        exporter.NewRotation(),
	}
	for _, p := range cfg.PostsFor(cc.Name) {
		if !isVideoID(p.ID) {
			errs = append(errs, cfg.Errorf(p.Path()+".id", "tiktok video id %q must be the number at the end of the video's URL (tiktok.com/@user/video/<id>)", p.ID))
			continue
		}
		c.configured[p.ID] = p
		c.posts = append(c.posts, p)
	}
	var first *exporter.AccountRef
	openStart := false
	for _, a := range cfg.AccountsFor(cc.Name) {
		if first != nil && a.ID != first.ID {
			errs = append(errs, cfg.Errorf(a.Path()+".id",
				"account %q differs from %q (%s): a tiktok collector reads the one user its token belongs to; configure a collector per account", a.ID, first.ID, first.Path()))
			continue
		}
		if first == nil {
			first = &a
		}
		c.accounts = append(c.accounts, a)
		if a.Match == "" {
			continue
		}
		c.matchers = append(c.matchers, a)
		switch {
		case a.Start == nil:
			openStart = true
		case c.windowStart.IsZero() || a.Start.Before(c.windowStart):
			c.windowStart = *a.Start
		}
	}
	if openStart {
		c.windowStart = time.Time{}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// The client redacts every token it was told of: the configured or
	// renewed access token, the refresh token and the client secret.
	s.Client.SetToken(string(cc.Token), tok.refreshToken, tok.clientSecret)
	s.Client.SetHooks(exporter.ClientHooks{ErrorMessage: errorMessage(s.Client.Redact)})
	c.api = &api{API: exporter.NewAPI(cc, DefaultBaseURL, s.Client), token: tok.current, redact: s.Client.Redact}
	return c, nil
}

func isVideoID(id string) bool {
	if id == "" || len(id) > 30 {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Poll implements exporter.Collector.
func (c *collector) Poll(ctx context.Context) ([]exporter.Sample, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &run{c: c, now: c.now()}
	// cut is set once the refresh's time is up: what was read is kept,
	// the rest skipped.
	cut := false
	if c.tokens.due(r.now) {
		if err := r.renew(ctx); err != nil {
			if cut = exporter.OutOfTime(ctx); !cut {
				return nil, fmt.Errorf("tiktok: %w", err)
			}
		}
	}

	var (
		samples []exporter.Sample
		skipped []error
	)
	if len(c.accounts) > 0 && !cut {
		var u userInfo
		err := r.authed(ctx, func() (err error) { u, err = c.api.user(ctx); return err })
		switch {
		case err != nil && exporter.OutOfTime(ctx):
			cut = true
		case err != nil:
			return nil, c.wrap("followers of the token's user", err)
		default:
			if u.User.FollowerCount != nil {
				for _, a := range c.accounts {
					samples = append(samples, exporter.AccountFollowers.Sample(float64(*u.User.FollowerCount), a.Campaign, a.Creator, provider, a.ID))
				}
			}
			c.logger.Debug("read user info", "open_id", u.User.OpenID)
		}
	}
	if cut {
		for _, a := range c.accounts {
			skipped = append(skipped, exporter.Skipped(exporter.Object{Kind: exporter.KindAccount, Campaign: a.Campaign, Creator: a.Creator, ID: a.ID},
				fmt.Errorf("tiktok: followers of account %q (%s): %w", a.ID, a.Path(), exporter.ErrOutOfTime)))
		}
	}

	listed := map[string]video{}
	if len(c.matchers) > 0 && !cut {
		videos, complete, err := r.list(ctx)
		if err != nil {
			return nil, err
		}
		cut = !complete
		for _, v := range videos {
			listed[v.ID] = v
		}
	}

	owners := c.owners()
	ids := make([]string, 0, len(owners))
	for id := range owners {
		ids = append(ids, id)
	}
	sort.Strings(ids)

	// Videos the listing carried are fresh already; the others are
	// queried when their cadence says so, least recently read first.
	var rest []string
	for _, id := range ids {
		if v, ok := listed[id]; ok {
			c.store(v, owners[id], r.now)
			continue
		}
		rest = append(rest, id)
	}
	isDue := map[string]bool{}
	for _, id := range c.book.Due(rest, c.cadence, r.now) {
		isDue[id] = true
	}
	var due []string
	for _, id := range exporter.Rotate(c.rot, ids, func(id string) string { return id }) {
		if isDue[id] {
			due = append(due, id)
		}
	}
	missing := map[string]bool{}
	for i := 0; i < len(due); i += maxVideoIDs {
		batch := due[i:min(i+maxVideoIDs, len(due))]
		var videos []video
		var err error
		if cut = cut || exporter.OutOfTime(ctx); !cut {
			err = r.authed(ctx, func() (err error) { videos, err = c.api.query(ctx, batch); return err })
			cut = err != nil && exporter.OutOfTime(ctx)
		}
		if cut {
			for _, id := range batch {
				for _, o := range owners[id] {
					skipped = append(skipped, exporter.Skipped(videoObject(o, id), fmt.Errorf("tiktok: video %q: %w", id, exporter.ErrOutOfTime)))
				}
			}
			continue
		}
		if err != nil {
			return nil, c.wrap(fmt.Sprintf("query %d videos", len(batch)), err)
		}
		got := map[string]bool{}
		for _, v := range videos {
			if o, ok := owners[v.ID]; ok && !got[v.ID] {
				got[v.ID] = true
				c.store(v, o, r.now)
			}
		}
		for _, id := range batch {
			if !got[id] {
				missing[id] = true
			}
		}
	}

	keep := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !missing[id] {
			keep[id] = true
			continue
		}
		if p, ok := c.configured[id]; ok {
			skipped = append(skipped, exporter.Missing(videoObject(owner{p.Campaign, p.Creator}, id),
				fmt.Errorf("tiktok: video %q (%s): not among the public videos of the token's user (deleted, private, or another user's): %w", id, p.Path(), exporter.ErrNotFound)))
			continue
		}
		c.logger.Debug("discovered video gone", "video", id)
		delete(c.discovered, id)
	}
	samples = append(samples, c.book.Samples(keep)...)
	return samples, exporter.Partial(skipped)
}

// PolledAt implements exporter.PollTimes: a refresh reads only the due
// posts and repeats the others' last values, and the early curve needs the
// time of the read. The book is keyed by video id, the post label.
func (c *collector) PolledAt(post string) (time.Time, bool) { return c.book.PolledAt(post) }

var _ exporter.PollTimes = (*collector)(nil)

func videoObject(o owner, id string) exporter.Object {
	return exporter.Object{Kind: exporter.KindPost, Campaign: o.campaign, Creator: o.creator, ID: id}
}

// discover updates the discovered videos from a listing. A full listing
// read in one refresh replaces them (replace); any other listing adds to
// them, and videos gone since are dropped when a query misses them.
func (c *collector) discover(videos []video, replace bool) {
	if replace {
		c.discovered = map[string][]owner{}
	}
	for _, v := range videos {
		pub := time.Unix(v.CreateTime, 0)
		if pub.After(c.newestListed) {
			c.newestListed = pub
		}
		text := v.Title + "\n" + v.VideoDescription
		var matched []owner
		for _, m := range c.matchers {
			o := owner{m.Campaign, m.Creator}
			if m.InWindow(pub) && m.Matches(text) && !containsOwner(matched, o) {
				matched = append(matched, o)
			}
		}
		if len(matched) == 0 {
			delete(c.discovered, v.ID)
			continue
		}
		c.discovered[v.ID] = matched
	}
}

func containsOwner(owners []owner, o owner) bool {
	for _, x := range owners {
		if x == o {
			return true
		}
	}
	return false
}

// owners returns who each tracked video is reported for: configured
// videos for their creator (configured wins), discovered ones for every
// account whose window and match they fit.
func (c *collector) owners() map[string][]owner {
	out := make(map[string][]owner, len(c.configured)+len(c.discovered))
	for id, o := range c.discovered {
		out[id] = o
	}
	for id, p := range c.configured {
		out[id] = []owner{{p.Campaign, p.Creator}}
	}
	return out
}

// store records a video's counts as polled now.
func (c *collector) store(v video, owners []owner, now time.Time) {
	var published time.Time
	if v.CreateTime > 0 {
		published = time.Unix(v.CreateTime, 0)
	}
	c.book.Store(v.ID, published, now, videoSamples(v, owners))
	c.rot.Done(v.ID)
}

// videoSamples maps a video to its series for each owner. TikTok has no
// reach and no saves here: those series do not exist, and neither does a
// count the answer left out.
func videoSamples(v video, owners []owner) []exporter.Sample {
	var out []exporter.Sample
	for _, o := range owners {
		if v.ViewCount != nil {
			out = append(out, exporter.PostViews.Sample(float64(*v.ViewCount), o.campaign, o.creator, provider, v.ID))
		}
		for _, e := range []struct {
			typ string
			n   *int64
		}{{"likes", v.LikeCount}, {"comments", v.CommentCount}, {"shares", v.ShareCount}} {
			if e.n != nil {
				out = append(out, exporter.PostEngagements.Sample(float64(*e.n), o.campaign, o.creator, provider, v.ID, e.typ))
			}
		}
		if v.CreateTime > 0 {
			out = append(out, exporter.PostPublished.Sample(float64(v.CreateTime), o.campaign, o.creator, provider, v.ID))
		}
	}
	return out
}

// wrap names the provider and the call, and says plainly when TikTok
// refused the access token.
func (c *collector) wrap(what string, err error) error {
	if isTokenInvalid(err) {
		hint := "set a new one: TikTok access tokens last 24 hours, options.refresh_token_file renews them"
		if c.tokens.refreshing() {
			hint = "even just after a renewal"
		}
		return fmt.Errorf("tiktok: %s: access token invalid or expired (%s): %w", what, hint, err)
	}
	return fmt.Errorf("tiktok: %s: %w", what, err)
}

// run is one refresh: its time, and whether it renewed the token already.
type run struct {
	c       *collector
	now     time.Time
	renewed bool
}

func (r *run) renew(ctx context.Context) error {
	r.renewed = true
	return r.c.tokens.renew(ctx, r.c, r.now)
}

// authed runs one call; if TikTok refuses the access token and a refresh
// token is configured, it renews the token once and runs the call again.
func (r *run) authed(ctx context.Context, call func() error) error {
	err := call()
	if err == nil || r.renewed || !r.c.tokens.refreshing() || !isTokenInvalid(err) {
		return err
	}
	r.c.logger.Debug("access token refused, renewing it")
	if rerr := r.renew(ctx); rerr != nil {
		return rerr
	}
	return call()
}

// list pages through the user's videos, newest first: back to the window
// start on a full listing, else until it reaches videos the last listing
// saw. It applies what it read to the discovered videos and returns the
// videos read, and whether the listing is complete: one the refresh's
// time cut short goes on from its cursor, down to the same end, on the
// next refresh.
func (r *run) list(ctx context.Context) ([]video, bool, error) {
	c := r.c
	l := listing{full: c.lastFull.IsZero() || r.now.Sub(c.lastFull) >= c.fullEvery, stopAt: c.newestListed}
	resumed := c.resume != nil
	if resumed {
		l = *c.resume
	}
	var (
		out  []video
		seen = map[int64]bool{}
	)
	// done applies a complete listing; suspend keeps the cursor of one
	// cut short. Both apply the pages read.
	done := func() ([]video, bool, error) {
		c.resume = nil
		c.discover(out, l.full && !resumed)
		if l.full {
			c.lastFull = r.now
		}
		return out, true, nil
	}
	suspend := func() ([]video, bool, error) {
		if l.cursor != nil {
			c.resume = &l
		}
		c.discover(out, false)
		c.logger.Debug("video listing ran out of time, resuming next refresh", "videos", len(out), "full", l.full)
		return out, false, nil
	}
	for range maxPages {
		if exporter.OutOfTime(ctx) {
			return suspend()
		}
		var p videoPage
		err := r.authed(ctx, func() (err error) { p, err = c.api.list(ctx, l.cursor); return err })
		if err != nil && exporter.OutOfTime(ctx) {
			return suspend()
		}
		if err != nil {
			return nil, false, c.wrap("list videos", err)
		}
		out = append(out, p.Videos...)
		if !p.HasMore || len(p.Videos) == 0 {
			return done()
		}
		oldest := time.Unix(p.Videos[0].CreateTime, 0)
		for _, v := range p.Videos[1:] {
			if t := time.Unix(v.CreateTime, 0); t.Before(oldest) {
				oldest = t
			}
		}
		if !c.windowStart.IsZero() && oldest.Before(c.windowStart) {
			return done()
		}
		if !l.full && !l.stopAt.IsZero() && !oldest.After(l.stopAt) {
			return done()
		}
		if seen[p.Cursor] {
			return nil, false, fmt.Errorf("tiktok: list videos: %w: cursor %d repeats", exporter.ErrBadResponse, p.Cursor)
		}
		seen[p.Cursor] = true
		next := p.Cursor
		l.cursor = &next
	}
	return nil, false, fmt.Errorf("tiktok: list videos: more than %d pages", maxPages)
}

// listing is where a listing goes: all the way to the window start
// (full), or down to the newest video of the listing before (stopAt); and
// for one cut short, where it goes on from.
type listing struct {
	full   bool
	stopAt time.Time
	cursor *int64
}

// tokens holds the access token: a static one, or one renewed with a
// refresh token.
type tokens struct {
	mu           sync.Mutex
	access       string
	expires      time.Time // zero: unknown
	clientKey    string
	clientSecret string
	refreshFile  string
	refreshToken string
	// What the last renewal said: the scopes granted, and when the
	// refresh token expires (zero: unknown).
	scopes         []string
	refreshExpires time.Time
}

// newTokens checks the token options: a static token or a refresh token,
// not both and not neither.
func newTokens(cc *exporter.CollectorConfig, opts options) (*tokens, []error) {
	cfg := cc.Config()
	path := cc.Path() + ".options"
	t := &tokens{access: string(cc.Token), clientKey: opts.ClientKey}
	var errs []error
	set := map[string]bool{
		"client_key":         opts.ClientKey != "",
		"client_secret_env":  opts.ClientSecretEnv != "",
		"refresh_token_file": opts.RefreshTokenFile != "",
	}
	refresh := set["client_key"] || set["client_secret_env"] || set["refresh_token_file"]
	if refresh {
		for _, name := range []string{"client_key", "client_secret_env", "refresh_token_file"} {
			if !set[name] {
				errs = append(errs, cfg.Errorf(path+"."+name, "missing: renewing the access token needs client_key, client_secret_env and refresh_token_file"))
			}
		}
	}
	switch {
	case refresh && t.access != "":
		errs = append(errs, cfg.Errorf(cc.Path()+".token", "set either a static access token or options.refresh_token_file, not both: with a refresh token the collector gets its own access tokens"))
	case !refresh && t.access == "":
		errs = append(errs, cfg.Errorf(cc.Path()+".token", "tiktok needs the user's access token: set token, token_env or token_file (it lasts 24 hours), or options.client_key, client_secret_env and refresh_token_file to renew it"))
	}
	if opts.ClientSecretEnv != "" {
		v, ok := os.LookupEnv(opts.ClientSecretEnv)
		if !ok || strings.TrimSpace(v) == "" {
			errs = append(errs, cfg.Errorf(path+".client_secret_env", "environment variable %s is not set", opts.ClientSecretEnv))
		}
		t.clientSecret = strings.TrimSpace(v)
	}
	if f := opts.RefreshTokenFile; f != "" {
		if !filepath.IsAbs(f) {
			f = filepath.Join(filepath.Dir(cfg.File()), f)
		}
		t.refreshFile = f
		b, err := os.ReadFile(f)
		switch {
		case err != nil:
			// The error names the file, never its content.
			errs = append(errs, cfg.Errorf(path+".refresh_token_file", "read refresh token: %v", err))
		case strings.TrimSpace(string(b)) == "":
			errs = append(errs, cfg.Errorf(path+".refresh_token_file", "file %s is empty", opts.RefreshTokenFile))
		}
		t.refreshToken = strings.TrimSpace(string(b))
	}
	return t, errs
}

// refreshing reports whether the token is renewed with a refresh token.
func (t *tokens) refreshing() bool { return t.refreshFile != "" }

// current returns the access token to send.
func (t *tokens) current() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.access
}

// due reports whether the access token should be renewed before calling.
func (t *tokens) due(now time.Time) bool {
	if !t.refreshing() {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.access == "" || (!t.expires.IsZero() && !now.Before(t.expires.Add(-renewBefore)))
}

// renew trades the refresh token for a new access token, keeps the
// refresh token TikTok returns (writing it back to the file if it
// changed) and reports the refresh token's expiry.
func (t *tokens) renew(ctx context.Context, c *collector, now time.Time) error {
	t.mu.Lock()
	key, secret, rt := t.clientKey, t.clientSecret, t.refreshToken
	t.mu.Unlock()
	a, err := c.api.refresh(ctx, key, secret, rt)
	if errors.Is(err, exporter.ErrUnauthorized) {
		// Another process sharing the file (check --online, or an
		// exporter run beside this one) may have renewed, and TikTok
		// may have retired the refresh token this one holds: the
		// file's, if it changed, is the one to use.
		if b, rerr := os.ReadFile(t.refreshFile); rerr == nil {
			if fresh := strings.TrimSpace(string(b)); fresh != "" && fresh != rt {
				c.client.SetToken(t.current(), fresh)
				t.mu.Lock()
				t.refreshToken = fresh
				t.mu.Unlock()
				a, err = c.api.refresh(ctx, key, secret, fresh)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("renew the access token with options.refresh_token_file: %w", err)
	}
	c.client.SetToken(a.AccessToken, a.RefreshToken)
	t.mu.Lock()
	t.access = a.AccessToken
	t.expires = now.Add(time.Duration(a.ExpiresIn) * time.Second)
	changed := a.RefreshToken != "" && a.RefreshToken != t.refreshToken
	if changed {
		t.refreshToken = a.RefreshToken
	}
	expires := t.expires
	if a.Scope != "" {
		t.scopes = nil
		for _, sc := range strings.Split(a.Scope, ",") {
			if sc = strings.TrimSpace(sc); sc != "" {
				t.scopes = append(t.scopes, sc)
			}
		}
	}
	if a.RefreshExpiresIn > 0 {
		t.refreshExpires = now.Add(time.Duration(a.RefreshExpiresIn) * time.Second)
	}
	t.mu.Unlock()
	if changed {
		if err := writeFileAtomic(t.refreshFile, a.RefreshToken+"\n"); err != nil {
			// The new refresh token is kept in memory, so refreshes go
			// on; a restart would read the old one back.
			c.logger.Error("could not save the new refresh token; the file keeps the old one", "file", t.refreshFile, "err", err)
		}
	}
	if a.RefreshExpiresIn > 0 {
		c.client.ReportTokenExpiry(now.Add(time.Duration(a.RefreshExpiresIn) * time.Second))
	}
	c.logger.Info("renewed the access token", "expires", expires.UTC().Format(time.RFC3339), "open_id", a.OpenID)
	return nil
}

// writeFileAtomic replaces the file's content through a temporary file in
// the same directory, readable by the owner only.
func writeFileAtomic(path, content string) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Plan implements exporter.Planner: the calls of a refresh that queries
// every configured video (see the package comment).
func (c *collector) Plan() exporter.Plan {
	calls, parts := 0, []string{}
	if len(c.accounts) > 0 {
		calls++
		parts = append(parts, "1 user info")
	}
	if len(c.matchers) > 0 {
		calls++
		parts = append(parts, "1 video list page (assumed; a full listing every full_listing_every pages back to the campaign start, 20 videos a page)")
	}
	q := (len(c.configured) + maxVideoIDs - 1) / maxVideoIDs
	calls += q
	parts = append(parts, fmt.Sprintf("%d video queries for %d configured videos (20 a call; videos a listing carries need none, and those a hashtag finds outside it add 1 per 20)", q, len(c.configured)))
	return exporter.Plan{Calls: calls, Note: strings.Join(parts, " + ") + "; the access token renewal adds 1 about once a day"}
}

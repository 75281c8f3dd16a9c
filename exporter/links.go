package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
)

// What link shorteners share: link ids, base URLs, auth, and the mapping
// of one refresh's links to samples and probe targets.

// SplitLinkID splits a short link id, host/path without scheme, into its
// lowercased host and its path (the back-half, key or slashtag, whose case
// matters). ok is false for anything else.
func SplitLinkID(id string) (host, path string, ok bool) {
	host, path, ok = strings.Cut(strings.TrimSpace(id), "/")
	if !ok || host == "" || path == "" || strings.ContainsAny(id, "?# ") {
		return "", "", false
	}
	return strings.ToLower(host), path, true
}

// SplitRootLinkID is SplitLinkID that also accepts a domain's root link,
// the bare domain: "short.gy/" or "short.gy", whose path is "".
func SplitRootLinkID(id string) (host, path string, ok bool) {
	if host, path, ok = SplitLinkID(id); ok {
		return host, path, true
	}
	h := strings.TrimSuffix(strings.TrimSpace(id), "/")
	if h == "" || strings.ContainsAny(h, "/?# ") {
		return "", "", false
	}
	return strings.ToLower(h), "", true
}

// LinkID joins host and path into a link id, the `link` label.
func LinkID(host, path string) string { return strings.ToLower(host) + "/" + path }

// CheckBaseURL accepts an absolute http(s) URL without user info or query:
// credentials belong in token_env or token_file, where they are redacted.
func CheckBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an absolute http or https URL, got %q", raw)
	}
	if u.User != nil || u.RawQuery != "" {
		return errors.New("must not carry credentials or a query string")
	}
	return nil
}

// BearerAuth sends the token as "Authorization: Bearer <token>".
func BearerAuth(req *http.Request, token string) {
	req.Header.Set("Authorization", "Bearer "+token)
}

// HeaderAuth sends the token as the raw value of the named header, as
// Short.io (Authorization) and Rebrandly (apikey) want it.
func HeaderAuth(name string) func(*http.Request, string) {
	return func(req *http.Request, token string) { req.Header.Set(name, token) }
}

// API is a provider's REST API on the shared client: a base URL, headers
// every call carries, and GET with query parameters.
type API struct {
	Base   string
	Client *Client
	Header http.Header
}

// NewAPI returns the API at the collector's base_url, or at def.
func NewAPI(cc *CollectorConfig, def string, c *Client) *API {
	base := cc.BaseURL
	if base == "" {
		base = def
	}
	return &API{Base: strings.TrimSuffix(base, "/"), Client: c}
}

// Get sends GET base+path?q and decodes the JSON answer into v.
func (a *API) Get(ctx context.Context, path string, q url.Values, v any) (*Response, error) {
	u := a.Base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return a.Client.GetJSON(ctx, u, a.Header, v)
}

// Post sends body as JSON to base+path and decodes the JSON answer into v.
func (a *API) Post(ctx context.Context, path string, body, v any) (*Response, error) {
	return a.Client.PostJSON(ctx, a.Base+path, a.Header, body, v)
}

// LinkReport gathers one refresh of a link shortener: configured links
// first, then links discovered by tag. Each link is reported once; a
// configured link wins over the same link found by tag. Every link the
// refresh was asked for ends in one of Configured or Discovered (read),
// Skip (missing) or Defer (not read this time). Finish publishes the links
// for the probe and returns the samples.
type LinkReport struct {
	provider  string
	seen      map[string]bool
	samples   []Sample
	published []PublishedLink
	errs      []error
	// deferred are the keys of links Defer recorded: their previously
	// published entries stay published.
	deferred map[string]bool
}

// NewLinkReport starts the report of one refresh.
func NewLinkReport(provider string) *LinkReport {
	return &LinkReport{provider: provider, seen: map[string]bool{}, deferred: map[string]bool{}}
}

// Configured reports a configured link: its clicks, the absolute short
// URL the provider reported (the link's url: overrides it for the probe)
// and the long URL the provider says it redirects to ("" where the
// collector does not read it).
func (r *LinkReport) Configured(ref LinkRef, shortURL, destination string, clicks float64) {
	probeURL := shortURL
	if ref.URL != "" {
		probeURL = ref.URL
	}
	r.add(ref.Campaign, ref.Creator, ref.ID, probeURL, destination, ref.Expect, clicks)
}

// Discovered reports a link found by a creator's tag, unless it was
// already reported, with its short URL and destination as in Configured.
func (r *LinkReport) Discovered(tag TagRef, id, shortURL, destination string, clicks float64) {
	r.add(tag.Campaign, tag.Creator, id, shortURL, destination, tag.Expect, clicks)
}

// Seen reports whether the link id is already in the report.
func (r *LinkReport) Seen(id string) bool { return r.seen[normalizeID(id)] }

// Skip records a link the refresh cannot export for a permanent reason,
// such as a configured link the provider does not know: it is counted
// missing, with err (naming the provider and the link) as the reason (see
// Missing). A link skipped is not reported by tag either.
func (r *LinkReport) Skip(campaign, creator, id string, err error) {
	r.seen[normalizeID(id)] = true
	r.errs = append(r.errs, Missing(LinkObject(campaign, creator, id), err))
}

// Defer records a link the refresh did not read because its time ran out
// (see OutOfTime): it keeps its previous values and its place in the
// probe's links, and the collector reads it first next refresh.
func (r *LinkReport) Defer(campaign, creator, id string) {
	key := normalizeID(id)
	if r.seen[key] {
		return
	}
	r.seen[key] = true
	r.deferred[key] = true
	r.errs = append(r.errs, Skipped(LinkObject(campaign, creator, id), fmt.Errorf("%s: link %q: %w", r.provider, id, ErrOutOfTime)))
}

// Note records a problem of the refresh that is about no one link, such
// as a tag that cannot be resolved: the landing page shows it.
func (r *LinkReport) Note(err error) { r.errs = append(r.errs, err) }

// LinkObject is the link a shortener is asked to watch, for Missing and
// Skipped.
func LinkObject(campaign, creator, id string) Object {
	return Object{Kind: KindLink, Campaign: campaign, Creator: creator, ID: id}
}

// Len returns the number of links reported.
func (r *LinkReport) Len() int { return len(r.samples) }

func (r *LinkReport) add(campaign, creator, id, probeURL, destination string, expect *Expect, clicks float64) {
	key := normalizeID(id)
	if r.seen[key] {
		return
	}
	r.seen[key] = true
	r.samples = append(r.samples, LinkClicks.Sample(clicks, campaign, creator, r.provider, id))
	r.published = append(r.published, PublishedLink{
		Campaign: campaign, Creator: creator, Provider: r.provider,
		ID: id, URL: probeURL, Destination: destination, Expect: expect,
	})
}

// Finish publishes the reported links under the collector's name, with
// the deferred ones as the collector last published them, and returns the
// samples, with a PartialError if links were skipped or deferred.
func (r *LinkReport) Finish(links *LinkSet, collector string) ([]Sample, error) {
	if links != nil {
		published := r.published
		if len(r.deferred) > 0 {
			links.mu.RLock()
			for _, l := range links.byCol[collector] {
				if r.deferred[normalizeID(l.ID)] {
					published = append(published, l)
				}
			}
			links.mu.RUnlock()
		}
		links.Publish(collector, published)
	}
	return r.samples, Partial(r.errs)
}

func normalizeID(id string) string {
	if host, path, ok := SplitRootLinkID(id); ok {
		return host + "/" + path
	}
	return id
}

// Refused reports whether err is a provider's answer that a batch or
// optional call is not available to this token, plan or API version (HTTP
// 403, 404 or 501), where the collector can fall back to per-object calls
// or leave one figure out instead of failing the refresh.
func Refused(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.StatusCode {
	case http.StatusForbidden, http.StatusNotFound, http.StatusNotImplemented:
		return true
	}
	return false
}

// Fallbacks remembers which optional calls of a collector were refused,
// so that each change is logged once, not on every refresh.
type Fallbacks struct {
	mu      sync.Mutex
	refused map[string]string
}

// Update records whether the optional call named what was refused this
// refresh (err non-nil) or answered (err nil), and logs a change: a
// warning when it starts being refused or the reason changes, an info
// line when it answers again.
func (f *Fallbacks) Update(logger *slog.Logger, what string, err error) {
	f.mu.Lock()
	prev, was := f.refused[what]
	switch {
	case err != nil && (!was || prev != err.Error()):
		if f.refused == nil {
			f.refused = map[string]string{}
		}
		f.refused[what] = err.Error()
	case err == nil && was:
		delete(f.refused, what)
	default:
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	if logger == nil {
		return
	}
	if err != nil {
		logger.Warn("optional call refused, falling back", "call", what, "err", err)
	} else {
		logger.Info("optional call answers again", "call", what)
	}
}

// TaggedLink is a link a shortener found by a configured tag.
type TaggedLink struct {
	Tag TagRef
	ID  string
}

// LinkTarget is a link one refresh of a shortener reads: configured (Ref
// set) or found by tag.
type LinkTarget struct {
	Ref    *LinkRef
	Tagged TaggedLink
}

// LinkTargets returns the configured links, in file order, then the links
// found by tag.
func LinkTargets(links []LinkRef, found []TaggedLink) []LinkTarget {
	targets := make([]LinkTarget, 0, len(links)+len(found))
	for i := range links {
		targets = append(targets, LinkTarget{Ref: &links[i]})
	}
	for _, d := range found {
		targets = append(targets, LinkTarget{Tagged: d})
	}
	return targets
}

// ID returns the link id.
func (t LinkTarget) ID() string {
	if t.Ref != nil {
		return t.Ref.ID
	}
	return t.Tagged.ID
}

// Key is the link's key in a Rotation: its id.
func (t LinkTarget) Key() string { return t.ID() }

// Owner returns the campaign and creator of the link, and the config path
// that asks for it.
func (t LinkTarget) Owner() (campaign, creator, path string) {
	if t.Ref != nil {
		return t.Ref.Campaign, t.Ref.Creator, t.Ref.Path()
	}
	return t.Tagged.Tag.Campaign, t.Tagged.Tag.Creator, t.Tagged.Tag.Path()
}

// Report reports the link, read, to r: as Configured or as Discovered.
func (t LinkTarget) Report(r *LinkReport, shortURL, destination string, clicks float64) {
	if t.Ref != nil {
		r.Configured(*t.Ref, shortURL, destination, clicks)
		return
	}
	r.Discovered(t.Tagged.Tag, t.Tagged.ID, shortURL, destination, clicks)
}

// LinkRead is what a shortener read of one link: the absolute short URL
// and destination it reported (see Configured) and its clicks.
type LinkRead struct {
	ShortURL, Destination string
	Clicks                float64
}

// SkipLink marks err, the reason one link's read cannot be used (a click
// count that is not a number), so that ReadTargets skips that link as
// missing with err as the reason instead of failing the refresh.
func SkipLink(err error) error { return &skipLinkError{err} }

type skipLinkError struct{ err error }

func (e *skipLinkError) Error() string { return e.err.Error() }
func (e *skipLinkError) Unwrap() error { return e.err }

// ReadTargets reads targets into the report, least recently read first
// (see Rotate): a refresh cut short by its deadline leaves the others for
// the next, which reads them first. Once the refresh is out of time, a
// link that costs a call (costly) is deferred unread. read returns what
// the provider has on a link; an error matching ErrNotFound, or made by
// SkipLink, skips the link as missing, any other error defers it if the
// refresh is out of time and else fails the refresh, and ReadTargets
// returns it.
func (r *LinkReport) ReadTargets(ctx context.Context, rot *Rotation, targets []LinkTarget, costly func(LinkTarget) bool, read func(LinkTarget) (LinkRead, error)) error {
	for _, t := range Rotate(rot, targets, LinkTarget.Key) {
		campaign, creator, path := t.Owner()
		if costly(t) && OutOfTime(ctx) {
			r.Defer(campaign, creator, t.ID())
			continue
		}
		got, err := read(t)
		var skip *skipLinkError
		switch {
		case errors.Is(err, ErrNotFound), errors.As(err, &skip):
			r.Skip(campaign, creator, t.ID(), fmt.Errorf("%s: link %q (%s): %w", r.provider, t.ID(), path, err))
		case err != nil && OutOfTime(ctx):
			r.Defer(campaign, creator, t.ID())
			continue
		case err != nil:
			return err
		default:
			t.Report(r, got.ShortURL, got.Destination, got.Clicks)
		}
		rot.Done(t.Key())
	}
	return nil
}

// TaggedLinks remembers the links a shortener's last tag listings found,
// for a refresh whose listing its time cut short.
type TaggedLinks struct {
	mu   sync.Mutex
	last []TaggedLink
}

// Update returns found, sorted by id, and remembers it. If the listing was
// not complete, found also gets the links the last listings found that
// are not in known (and known gets them): they stay known until a listing
// completes.
func (f *TaggedLinks) Update(found []TaggedLink, known map[string]bool, complete bool) []TaggedLink {
	f.mu.Lock()
	if !complete {
		for _, d := range f.last {
			if !known[d.ID] {
				known[d.ID] = true
				found = append(found, d)
			}
		}
	}
	f.last = slices.Clone(found)
	f.mu.Unlock()
	sort.Slice(found, func(i, j int) bool { return found[i].ID < found[j].ID })
	return found
}

// ShortenerRefs are a link shortener collector's configured links and tags,
// checked by CheckShortener.
type ShortenerRefs struct {
	Links []LinkRef
	Tags  []TagRef
}

// ShortenerRules say what a shortener accepts, for CheckShortener.
type ShortenerRules struct {
	// Form describes a link id in errors: "domain/back-half, like bit.ly/abc".
	Form string
	// Domain, when set, is the only host this collector's links may be on.
	Domain string
	// FoldTags is true where the provider matches tag names
	// case-insensitively, so "Spring" and "spring" are one tag.
	FoldTags bool
	// AllowRoot accepts a domain's root link, the bare domain
	// ("short.gy/" or "short.gy"), as a link id: its path is "" and its
	// id the domain with a trailing slash (see SplitRootLinkID).
	AllowRoot bool
}

// CheckShortener checks what every link shortener needs from the config: a
// token, link ids of the form host/path (on rules.Domain, if set), and each
// tag claimed by one creator only, since a link carrying it could not be
// attributed otherwise. It returns every problem as a config error.
func CheckShortener(cc *CollectorConfig, rules ShortenerRules) (ShortenerRefs, []error) {
	cfg := cc.Config()
	var (
		refs ShortenerRefs
		errs []error
	)
	if cc.Token == "" {
		errs = append(errs, cfg.Errorf(cc.Path()+".token", "%s needs an API token: set token, token_env or token_file", cc.Type))
	}
	split := SplitLinkID
	if rules.AllowRoot {
		split = SplitRootLinkID
	}
	for _, l := range cfg.LinksFor(cc.Name) {
		host, _, ok := split(l.ID)
		switch {
		case !ok:
			errs = append(errs, cfg.Errorf(l.Path()+".id", "%s link id %q must be %s", cc.Type, l.ID, rules.Form))
		case rules.Domain != "" && host != rules.Domain:
			errs = append(errs, cfg.Errorf(l.Path()+".id", "link %q is not on domain %s, the only one collector %q reads", l.ID, rules.Domain, cc.Name))
		default:
			refs.Links = append(refs.Links, l)
		}
	}
	seen := map[string]TagRef{}
	for _, t := range cfg.TagsFor(cc.Name) {
		key := t.Tag.Tag
		if rules.FoldTags {
			key = strings.ToLower(key)
		}
		if prev, dup := seen[key]; dup {
			errs = append(errs, cfg.Errorf(t.Path()+".tag", "tag %q is already used by creator %q in campaign %q (%s)", t.Tag.Tag, prev.Creator, prev.Campaign, prev.Path()))
			continue
		}
		seen[key] = t
		refs.Tags = append(refs.Tags, t)
	}
	return refs, errs
}

package tiktok

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// The scopes the collector needs (developers.tiktok.com/doc/
// tiktok-api-v2-get-user-info, tiktok-api-v2-video-list and -video-query):
// user.info.basic for user info itself (open_id, display_name),
// user.info.stats for its follower_count, video.list for the video
// endpoints.
const (
	scopeBasic = "user.info.basic"
	scopeStats = "user.info.stats"
	scopeVideo = "video.list"
)

// TikTok's error codes for a scope the token lacks: the user did not
// authorize the endpoint's scope (401), or a field asked for needs one
// (400).
const (
	codeScopeNotAuthorized = "scope_not_authorized"
	codeScopeMissed        = "scope_permission_missed"
)

// scopes returns the scopes this collector's config needs.
func (c *collector) scopes() []string {
	out := []string{scopeBasic}
	if len(c.accounts) > 0 {
		out = append(out, scopeStats)
	}
	if len(c.posts) > 0 || len(c.matchers) > 0 {
		out = append(out, scopeVideo)
	}
	return out
}

// CheckOnline implements exporter.OnlineChecker, in up to four requests:
//
//   - with a refresh token, POST /v2/oauth/token/ when the access token is
//     due for renewal (always in a process that has not renewed it yet):
//     TikTok has no way to inspect a token, so the check renews it as a
//     refresh would, keeps the refresh token TikTok returns (rewriting
//     options.refresh_token_file when it changed) and reads the scopes
//     granted and the refresh token's expiry from the answer;
//   - GET /v2/user/info/?fields=open_id,display_name, whose answer is the
//     report's account; then, if the collector has an account,
//     fields=follower_count, which TikTok refuses with
//     scope_permission_missed without user.info.stats;
//   - if the collector reads videos, POST /v2/video/query/ with the first
//     20 configured videos (which finds the first TikTok does not return),
//     or with none configured one page of POST /v2/video/list/; both
//     answer scope_not_authorized without video.list.
//
// Expires is the refresh token's expiry, what
// influencer_token_expiry_timestamp_seconds exports: the access token,
// which lasts a day, renews itself before then. A static access token's
// expiry is unknown.
func (c *collector) CheckOnline(ctx context.Context) exporter.OnlineReport {
	c.mu.Lock()
	defer c.mu.Unlock()
	chk := &check{c: c, run: &run{c: c, now: c.now()}}
	chk.do(ctx)
	chk.report.Endpoint = strings.Join(chk.endpoints, ", ")
	return chk.report
}

// check is one CheckOnline.
type check struct {
	c         *collector
	run       *run
	report    exporter.OnlineReport
	endpoints []string
}

// answer records a request's outcome: reachable once TikTok answered,
// authenticated once it took the access token (a scope it lacks is an
// answer to an accepted token).
func (k *check) answer(method, path string, err error) {
	k.endpoints = append(k.endpoints, exporter.OnlineEndpoint(k.c.api.API, method, path))
	if !answered(err) {
		return
	}
	k.report.Reachable = true
	if code := errorCode(err); err == nil || code == codeScopeNotAuthorized || code == codeScopeMissed {
		k.report.Authenticated = true
	}
}

// lacks records a scope the token lacks, once.
func (k *check) lacks(scope string) {
	if !slices.Contains(k.report.Missing, scope) {
		k.report.Missing = append(k.report.Missing, scope)
	}
}

func (k *check) do(ctx context.Context) {
	c, r := k.c, &k.report
	if c.tokens.due(k.run.now) {
		before := c.tokens.refresh()
		err := k.run.renew(ctx)
		k.answer(http.MethodPost, "/v2/oauth/token/", err)
		// The token endpoint answering says nothing of the access
		// token's use yet.
		r.Authenticated = false
		if err != nil {
			r.Fail(fmt.Errorf("tiktok: %w", err))
			return
		}
		if c.tokens.refresh() != before {
			r.Notes = append(r.Notes, "TikTok rotated the refresh token: the new one is saved in options.refresh_token_file, "+
				"where an exporter running on the same file finds it when TikTok refuses the old one")
		}
	}
	expires, refreshExpires, granted := c.tokens.state()
	if c.tokens.refreshing() {
		r.Expires = refreshExpires
		r.Notes = append(r.Notes, fmt.Sprintf("access token renewed with the refresh token: it lasts until %s and renews itself",
			expires.UTC().Format(time.RFC3339)))
	} else {
		r.Notes = append(r.Notes, "a static access token lasts 24 hours from when it was issued, and TikTok does not say when that was: "+
			"set options.refresh_token_file to have it renewed")
	}
	if granted != nil {
		for _, s := range c.scopes() {
			if !slices.Contains(granted, s) {
				k.lacks(s)
			}
		}
	}

	var u userInfo
	err := k.run.authed(ctx, func() (err error) {
		u, err = call[userInfo](ctx, c.api, http.MethodGet, "/v2/user/info/", "open_id,display_name", nil)
		return err
	})
	k.answer(http.MethodGet, "/v2/user/info/", err)
	if !k.scopeError(err, scopeBasic, "user info") {
		return
	}
	switch {
	case err == nil && u.User.DisplayName != "":
		r.Account = fmt.Sprintf("user %q (open_id %s)", u.User.DisplayName, u.User.OpenID)
	case err == nil:
		r.Account = "user with open_id " + u.User.OpenID
	}
	if len(c.accounts) > 0 {
		_, err := call[userInfo](ctx, c.api, http.MethodGet, "/v2/user/info/", "follower_count", nil)
		if !k.scopeError(err, scopeStats, "followers of the token's user") {
			return
		}
	}
	k.videos(ctx)
	if len(r.Missing) > 0 {
		r.Fail(fmt.Errorf("tiktok: the access token lacks scopes the collector needs: %s (the user must authorize the app again with them)",
			strings.Join(r.Missing, ", ")))
	}
}

// scopeError records a call's error: a scope error as scope missing, any
// other as the check's failure. It reports whether the check goes on.
func (k *check) scopeError(err error, scope, what string) bool {
	switch code := errorCode(err); {
	case err == nil:
	case code == codeScopeNotAuthorized || code == codeScopeMissed:
		k.lacks(scope)
	default:
		k.report.Fail(k.c.wrap(what, err))
		return false
	}
	return true
}

// videos checks the video scope and finds the first configured video
// TikTok does not return.
func (k *check) videos(ctx context.Context) {
	c, r := k.c, &k.report
	switch {
	case len(c.posts) > 0:
		var ids []string
		seen := map[string]bool{}
		for _, p := range c.posts {
			if !seen[p.ID] {
				seen[p.ID] = true
				ids = append(ids, p.ID)
			}
		}
		if len(ids) > maxVideoIDs {
			r.Notes = append(r.Notes, fmt.Sprintf("looked up the first %d of %d configured videos; the other %d were not checked",
				maxVideoIDs, len(ids), len(ids)-maxVideoIDs))
			ids = ids[:maxVideoIDs]
		}
		videos, err := c.api.query(ctx, ids)
		k.answer(http.MethodPost, "/v2/video/query/", err)
		if err != nil {
			k.scopeError(err, scopeVideo, fmt.Sprintf("query %d videos", len(ids)))
			return
		}
		got := map[string]bool{}
		for _, v := range videos {
			got[v.ID] = true
		}
		for _, p := range c.posts {
			if !got[p.ID] && seen[p.ID] {
				o := videoObject(owner{p.Campaign, p.Creator}, p.ID)
				r.NotFound = o.String() + ": not among the public videos of the token's user (deleted, private, or another user's)"
				r.Fail(fmt.Errorf("tiktok: %s not found: POST /v2/video/query/ does not return it", o))
				return
			}
		}
	case len(c.matchers) > 0:
		_, err := c.api.list(ctx, nil)
		k.answer(http.MethodPost, "/v2/video/list/", err)
		k.scopeError(err, scopeVideo, "list videos")
	}
}

// state returns the access token's expiry and what the last renewal said
// of the refresh token's expiry and the scopes granted (nil: unknown).
func (t *tokens) state() (expires, refreshExpires time.Time, scopes []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.expires, t.refreshExpires, slices.Clone(t.scopes)
}

// refresh returns the refresh token held now.
func (t *tokens) refresh() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.refreshToken
}

// errorCode returns TikTok's error code of a failed call: the envelope's,
// or the one errorMessage put first in the client's error.
func errorCode(err error) string {
	var ee *envelopeError
	if errors.As(err, &ee) {
		return ee.err.Code
	}
	var ae *exporter.APIError
	if errors.As(err, &ae) && ae.StatusCode != 0 {
		code, _, _ := strings.Cut(ae.Message, ":")
		return code
	}
	return ""
}

// answered reports whether err came with an answer from TikTok.
func answered(err error) bool {
	var ee *envelopeError
	return err == nil || errors.As(err, &ee) || exporter.HTTPStatus(err) != 0
}

var _ exporter.OnlineChecker = (*collector)(nil)

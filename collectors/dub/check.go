package dub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// CheckOnline implements exporter.OnlineChecker. Dub API keys belong to
// one workspace; a restricted key carries scopes, and Dub names the one a
// call lacks in its 403 (see missingPermission). The check asks:
//
//   - GET /links?pageSize=1, the cheapest call the collector's links.read
//     scope allows: a wrong or revoked key gets 401, and the link carries
//     the workspace's id;
//   - with options.analytics, GET /analytics?event=clicks&groupBy=count&interval=all,
//     one number, for the analytics.read scope and whether the plan
//     covers all-time analytics (a refusal there is a note: the collector
//     then reads links one call each);
//   - GET /links/info?domain=…&key=… for each configured link until the
//     first Dub does not know.
//
// Dub reports no key expiry. Its X-RateLimit headers give the quota note.
func (c *collector) CheckOnline(ctx context.Context) exporter.OnlineReport {
	r := exporter.OnlineReport{Endpoint: exporter.OnlineEndpoint(c.api.API, http.MethodGet, "/links")}
	var first []struct {
		WorkspaceID string `json:"workspaceId"`
	}
	resp, err := c.api.Get(ctx, "/links", url.Values{"pageSize": {"1"}}, &first)
	linksRead := answer(&r, "list links", err)
	switch {
	case linksRead && len(first) > 0 && first[0].WorkspaceID != "":
		r.Account = "workspace " + first[0].WorkspaceID
	case linksRead:
		r.Notes = append(r.Notes, "the workspace has no links yet")
	case !r.Authenticated:
		return r
	}
	if resp != nil {
		if n := exporter.QuotaNote(resp.Header); n != "" {
			r.Notes = append(r.Notes, n)
		}
	}

	if c.opts.Analytics {
		q := url.Values{"event": {"clicks"}, "groupBy": {"count"}, "interval": {"all"}}
		var count struct{}
		_, err := c.api.Get(ctx, "/analytics", q, &count)
		if _, ok := permissionOf(err); ok || !exporter.Refused(err) {
			answer(&r, "all-time clicks", err)
		} else {
			r.Notes = append(r.Notes, fmt.Sprintf("all-time analytics refused (%v): the collector reads each configured link with one /links/info call instead; set options.analytics: false to spare the analytics call", err))
		}
	}

	if linksRead {
		r.LookUp(ctx, "dub", exporter.LinkObjects(c.links), func(ctx context.Context, o exporter.Object) error {
			domain, key, _ := exporter.SplitLinkID(o.ID)
			_, err := c.api.linkInfo(ctx, domain, key)
			return err
		})
	}
	return r
}

// answer records the outcome of a call of the check. A 403 naming the
// permissions the key lacks comes from a valid key: they are listed in
// Missing, and the workspace it names is the account.
func answer(r *exporter.OnlineReport, what string, err error) bool {
	mp, ok := permissionOf(err)
	if !ok {
		return r.Answer(wrap(what, err))
	}
	r.Reachable, r.Authenticated = true, true
	r.Missing = append(r.Missing, mp.Permissions...)
	if r.Account == "" && mp.Workspace != "" {
		r.Account = "workspace " + mp.Workspace
	}
	r.Fail(fmt.Errorf("dub: %s: the API key lacks the %s permission: %w", what, strings.Join(mp.Permissions, " and "), err))
	return false
}

// permissionOf returns the permissions a 403 says the key lacks.
func permissionOf(err error) (missingPermission, bool) {
	var ae *exporter.APIError
	if !errors.As(err, &ae) {
		return missingPermission{}, false
	}
	mp, ok := ae.Detail.(missingPermission)
	return mp, ok
}

// wrap names the provider and what was asked in a failed call's error.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("dub: %s: %w", what, err)
}

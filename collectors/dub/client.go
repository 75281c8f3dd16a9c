package dub

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// DefaultBaseURL is the Dub API root.
const DefaultBaseURL = "https://api.dub.co"

// linkClicks is what both the link object and a top_links row carry about
// a link. clicks is the link's lifetime counter, the one Dub's own all-time
// count reads; url is the destination the short link redirects to.
type linkClicks struct {
	ID        string `json:"id"`
	Domain    string `json:"domain"`
	Key       string `json:"key"`
	ShortLink string `json:"shortLink"`
	URL       string `json:"url"`
	// Clicks is read by clicks: a number, or a numeric string.
	Clicks json.RawMessage `json:"clicks"`
}

// hasClicks reports whether the clicks field is there at all.
func (l linkClicks) hasClicks() bool {
	t := strings.TrimSpace(string(l.Clicks))
	return t != "" && t != "null"
}

// clicks reads the click count, sent as a number or a numeric string
// (Dub documents a number). Anything else is an error for that one link.
func (l linkClicks) clicks() (int64, error) {
	var n exporter.FlexInt
	if !l.hasClicks() || strings.TrimSpace(string(l.Clicks)) == `""` {
		return 0, fmt.Errorf("%w: no clicks", exporter.ErrBadResponse)
	}
	if err := json.Unmarshal(l.Clicks, &n); err != nil {
		return 0, fmt.Errorf("%w: clicks %s are not a number", exporter.ErrBadResponse, l.Clicks)
	}
	return int64(n), nil
}

// linkID names the link as the config does, domain/key.
func (l linkClicks) linkID() string { return exporter.LinkID(l.Domain, l.Key) }

// link is the part of Dub's link object the collector reads.
type link struct {
	linkClicks
	Tags []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"tags"`
}

// apiError is Dub's error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// errorMessage extracts "code: message" from a Dub error body.
func errorMessage(_ int, body []byte) string {
	var e apiError
	if json.Unmarshal(body, &e) != nil || e.Error.Code == "" {
		return ""
	}
	if e.Error.Message == "" {
		return e.Error.Code
	}
	return e.Error.Code + ": " + e.Error.Message
}

// missingPermission is what Dub's 403 says a restricted API key lacks:
// "The provided key does not have the required permissions for this
// endpoint on the workspace 'ws_…'. Having the 'analytics.read' permission
// would allow this request to continue." (dubinc/dub,
// apps/web/lib/api/tokens/permissions.ts, throwIfNoAccess; several
// permissions are joined with spaces).
type missingPermission struct {
	Workspace   string
	Permissions []string
}

var missingPermissionRE = regexp.MustCompile(`on the workspace '([^']*)'\. Having the '([^']+)' permission`)

// classify keeps, in APIError.Detail, the permissions a 403 says the key
// lacks. The kind stays what the status says: unauthorized.
func classify(status int, body []byte) (error, any) {
	if status != http.StatusForbidden {
		return nil, nil
	}
	var e apiError
	if json.Unmarshal(body, &e) != nil {
		return nil, nil
	}
	m := missingPermissionRE.FindStringSubmatch(e.Error.Message)
	if m == nil {
		return nil, nil
	}
	return exporter.ErrUnauthorized, missingPermission{Workspace: m[1], Permissions: strings.Fields(m[2])}
}

// api is Dub's paths on the shared client.
type api struct{ *exporter.API }

// topLinksCap is Dub's row cap for groupBy=top_links (unconfirmed: Dub's
// analytics schema caps the rows, the number is not documented).
const topLinksCap = 5000

// topLinks returns the workspace's links with at least one click, most
// clicked first, with their all-time clicks: one call for up to
// topLinksCap links. interval defaults to 24h, hence all.
func (a *api) topLinks(ctx context.Context) ([]linkClicks, error) {
	q := url.Values{"event": {"clicks"}, "groupBy": {"top_links"}, "interval": {"all"}}
	var rows []linkClicks
	if _, err := a.Get(ctx, "/analytics", q, &rows); err != nil {
		return nil, err
	}
	return rows, nil
}

// linksByTags returns one page of the links carrying any of the tags (Dub
// matches tag names case-insensitively), or of every link of the
// workspace without tags, archived ones included: GET /links leaves
// archived links out unless showArchived=true (default false, Dub's links
// schema), though they still redirect and count clicks. Pages after the
// first start after the id of the previous page's last link.
func (a *api) linksByTags(ctx context.Context, tags []string, pageSize int, startingAfter string) ([]link, error) {
	q := url.Values{"pageSize": {strconv.Itoa(pageSize)}, "showArchived": {"true"}}
	if len(tags) > 0 {
		q.Set("tagNames", strings.Join(tags, ","))
	}
	if startingAfter != "" {
		q.Set("startingAfter", startingAfter)
	}
	var links []link
	if _, err := a.Get(ctx, "/links", q, &links); err != nil {
		return nil, err
	}
	return links, nil
}

// linkInfo returns one link by domain and key.
func (a *api) linkInfo(ctx context.Context, domain, key string) (*link, error) {
	var l link
	if _, err := a.Get(ctx, "/links/info", url.Values{"domain": {domain}, "key": {key}}, &l); err != nil {
		return nil, err
	}
	if !l.hasClicks() {
		return nil, fmt.Errorf("%w: link without clicks field", exporter.ErrBadResponse)
	}
	return &l, nil
}

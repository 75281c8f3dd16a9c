package shortio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Default API hosts. Short.io serves link management and statistics from
// different hosts; the statistics host is also reachable as
// api-v2.short.io and api-v2.short.cm, which older documentation uses.
const (
	DefaultBaseURL           = "https://api.short.io"
	DefaultStatisticsBaseURL = "https://statistics.short.io"
)

// pageLimit is the largest page GET /api/links serves.
const pageLimit = 150

// statsBatch is how many link ids one link_clicks call carries. Short.io
// documents no limit for the ids parameter (unconfirmed); clients in the
// wild send one listing page's ids, up to 150, in one call, so 150 is
// known to work and keeps the query string short. Lower it if the API
// starts rejecting long id lists.
const statsBatch = 150

// apiLink is a link as GET /api/links returns it. Only the fields the
// collector reads are decoded: `id` changed from a number to a string over
// the API's life, so the collector relies on idString alone.
type apiLink struct {
	IDString       string   `json:"idString"`
	Path           string   `json:"path"`
	ShortURL       string   `json:"shortURL"`
	SecureShortURL string   `json:"secureShortURL"`
	OriginalURL    string   `json:"originalURL"`
	Tags           []string `json:"tags"`
	Archived       bool     `json:"archived"`
}

// linksPage is a page of GET /api/links. count is a number in Short.io's
// documentation but has been seen as a string ("150"): it is read either
// way, and not relied on.
type linksPage struct {
	Count         exporter.FlexInt `json:"count"`
	Links         []apiLink        `json:"links"`
	NextPageToken string           `json:"nextPageToken"`
}

type apiDomain struct {
	ID       int64  `json:"id"`
	Hostname string `json:"hostname"`
}

// apiError is Short.io's error body: {"error":"Unauthorized"} on a bad key
// (HTTP 401), {"error":"...","type":"accessDenied"} on a domain the key
// cannot read (HTTP 403); some endpoints answer {"message":"..."} instead.
type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func errorMessage(_ int, body []byte) string {
	var e apiError
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	if e.Error != "" {
		return e.Error
	}
	return e.Message
}

// api makes the Short.io calls of one collector: links and statistics
// are served by different hosts.
type api struct {
	links, stats *exporter.API
	domainID     int64
}

// domain returns the domain's hostname: GET /domains/{id}.
func (a *api) domain(ctx context.Context) (apiDomain, error) {
	var d apiDomain
	if _, err := a.links.Get(ctx, fmt.Sprintf("/domains/%d", a.domainID), nil, &d); err != nil {
		return d, err
	}
	if d.Hostname == "" {
		return d, errors.New("domain has no hostname")
	}
	return d, nil
}

// listLinks returns every link of the domain, following nextPageToken,
// and the number of calls it took. It stops before a page once ctx is
// done.
func (a *api) listLinks(ctx context.Context) ([]apiLink, int, error) {
	var out []apiLink
	calls, err := a.eachLinksPage(ctx, func(page []apiLink) bool {
		out = append(out, page...)
		return true
	})
	if err != nil {
		return nil, calls, err
	}
	return out, calls, nil
}

// eachLinksPage pages through the domain's links, pageLimit a page, and
// hands each page to fn until fn returns false or the listing ends. It
// returns the number of calls it made, and stops before a page once ctx
// is done.
func (a *api) eachLinksPage(ctx context.Context, fn func([]apiLink) bool) (int, error) {
	var (
		token string
		calls int
		seen  = map[string]bool{}
	)
	for {
		if err := ctx.Err(); err != nil {
			return calls, err
		}
		q := url.Values{}
		q.Set("domain_id", strconv.FormatInt(a.domainID, 10))
		q.Set("limit", strconv.Itoa(pageLimit))
		if token != "" {
			q.Set("pageToken", token)
		}
		var page linksPage
		calls++
		if _, err := a.links.Get(ctx, "/api/links", q, &page); err != nil {
			return calls, err
		}
		if !fn(page.Links) {
			return calls, nil
		}
		token = page.NextPageToken
		if token == "" {
			return calls, nil
		}
		if seen[token] {
			// A cursor that comes back would page forever.
			return calls, fmt.Errorf("page token repeated after %d pages: %w", calls, exporter.ErrBadResponse)
		}
		seen[token] = true
	}
}

// expand returns the link of the domain with the path: GET
// /links/expand?domain=<hostname>&path=<path> on the links host, which
// answers the link object of the listing, or 404 if the domain has no such
// link (developers.short.io reference "get_links-expand"). The domain's
// root link has the empty path; that expand accepts path= empty for it is
// unconfirmed.
func (a *api) expand(ctx context.Context, hostname, path string) (apiLink, error) {
	var l apiLink
	q := url.Values{"domain": {hostname}, "path": {path}}
	if _, err := a.links.Get(ctx, "/links/expand", q, &l); err != nil {
		return l, err
	}
	if l.IDString == "" {
		return l, fmt.Errorf("%w: link without idString", exporter.ErrBadResponse)
	}
	return l, nil
}

// linkClicks returns the lifetime clicks of the links, keyed by idString,
// in one call: GET /statistics/domain/{id}/link_clicks?ids=a,b,c answers
// {"<idString>": clicks, ...}. Without startDate/endDate the counts are
// all-time totals. Links without clicks are absent from the answer. A
// count sent as a numeric string is read; one that is not a number at all
// fails that link only, in bad.
func (a *api) linkClicks(ctx context.Context, ids []string) (clicks map[string]float64, bad map[string]error, err error) {
	q := url.Values{}
	q.Set("ids", strings.Join(ids, ","))
	var raw map[string]json.RawMessage
	if _, err := a.stats.Get(ctx, fmt.Sprintf("/statistics/domain/%d/link_clicks", a.domainID), q, &raw); err != nil {
		return nil, nil, err
	}
	clicks = make(map[string]float64, len(raw))
	for id, msg := range raw {
		var n exporter.FlexFloat
		if t := strings.TrimSpace(string(msg)); t == "null" || t == `""` {
			// FlexFloat leaves these unset: no count is not 0 clicks.
			msg = json.RawMessage(t)
			err = errors.New("no count")
		} else {
			err = json.Unmarshal(msg, &n)
		}
		if err != nil {
			if bad == nil {
				bad = map[string]error{}
			}
			bad[id] = fmt.Errorf("clicks %s are not a number: %w", msg, exporter.ErrBadResponse)
			err = nil
			continue
		}
		clicks[id] = float64(n)
	}
	return clicks, bad, nil
}

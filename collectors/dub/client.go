package dub

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// DefaultBaseURL is the Dub API root.
const DefaultBaseURL = "https://api.dub.co"

// link is the part of Dub's link object the collector reads. clicks is the
// link's lifetime counter, the one Dub's own all-time count reads.
type link struct {
	ID        string `json:"id"`
	Domain    string `json:"domain"`
	Key       string `json:"key"`
	ShortLink string `json:"shortLink"`
	Clicks    *int64 `json:"clicks"`
	Tags      []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"tags"`
}

// topLink is a row of GET /analytics?groupBy=top_links.
type topLink struct {
	ID        string `json:"id"`
	Domain    string `json:"domain"`
	Key       string `json:"key"`
	ShortLink string `json:"shortLink"`
	Clicks    *int64 `json:"clicks"`
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

func authorize(req *http.Request, token string) {
	req.Header.Set("Authorization", "Bearer "+token)
}

// api wraps the shared client with Dub's paths.
type api struct {
	base   string
	client *exporter.Client
}

func (a *api) get(ctx context.Context, path string, q url.Values, v any) error {
	u := a.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	_, err := a.client.GetJSON(ctx, u, nil, v)
	return err
}

// topLinks returns the workspace's links with at least one click, most
// clicked first, with their all-time clicks: one call for up to 5000 links
// (Dub's row cap for top_links). interval defaults to 24h, hence all.
func (a *api) topLinks(ctx context.Context) ([]topLink, error) {
	q := url.Values{"event": {"clicks"}, "groupBy": {"top_links"}, "interval": {"all"}}
	var rows []topLink
	if err := a.get(ctx, "/analytics", q, &rows); err != nil {
		return nil, err
	}
	return rows, nil
}

// linksByTags returns one page of the links carrying any of the tags (Dub
// matches tag names case-insensitively). Pages after the first start after
// the id of the previous page's last link.
func (a *api) linksByTags(ctx context.Context, tags []string, pageSize int, startingAfter string) ([]link, error) {
	q := url.Values{"tagNames": {strings.Join(tags, ",")}, "pageSize": {strconv.Itoa(pageSize)}}
	if startingAfter != "" {
		q.Set("startingAfter", startingAfter)
	}
	var links []link
	if err := a.get(ctx, "/links", q, &links); err != nil {
		return nil, err
	}
	return links, nil
}

// linkInfo returns one link by domain and key.
func (a *api) linkInfo(ctx context.Context, domain, key string) (*link, error) {
	var l link
	if err := a.get(ctx, "/links/info", url.Values{"domain": {domain}, "key": {key}}, &l); err != nil {
		return nil, err
	}
	if l.Clicks == nil {
		return nil, fmt.Errorf("%w: link without clicks field", exporter.ErrBadResponse)
	}
	return &l, nil
}

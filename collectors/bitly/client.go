package bitly

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

// DefaultBaseURL is the Bitly API v4 root.
const DefaultBaseURL = "https://api-ssl.bitly.com/v4"

// bitlink is the part of Bitly's Bitlink object the collector reads. It
// carries no click count: clicks come from the metrics endpoints.
type bitlink struct {
	ID      string   `json:"id"`   // bit.ly/abc, no scheme
	Link    string   `json:"link"` // https://bit.ly/abc
	LongURL string   `json:"long_url"`
	Tags    []string `json:"tags"`
}

// groupBitlinks is a page of GET /groups/{group_guid}/bitlinks.
type groupBitlinks struct {
	Links      []bitlink `json:"links"`
	Pagination struct {
		Next        string `json:"next"`
		SearchAfter string `json:"search_after"`
		Size        int    `json:"size"`
	} `json:"pagination"`
}

// sortedBitlinks is GET /groups/{group_guid}/bitlinks/clicks: the links and,
// in a separate list, their click counts.
// Click counts are read with readClicks: a number, or a numeric string.
type sortedBitlinks struct {
	Links       []bitlink `json:"links"`
	SortedLinks []struct {
		ID     string          `json:"id"`
		Clicks json.RawMessage `json:"clicks"`
	} `json:"sorted_links"`
}

// clicksSummary is GET /bitlinks/{bitlink}/clicks/summary.
type clicksSummary struct {
	TotalClicks json.RawMessage `json:"total_clicks"`
	Units       int             `json:"units"`
	Unit        string          `json:"unit"`
}

// readClicks reads a click count sent as a number or a numeric string
// (Bitly documents a number). Anything else, null included, is an error
// for that one link.
func readClicks(raw json.RawMessage) (int64, error) {
	var n exporter.FlexInt
	if t := strings.TrimSpace(string(raw)); t == "" || t == "null" || t == `""` {
		return 0, errMissingTotal
	}
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("%w: clicks %s are not a number", exporter.ErrBadResponse, raw)
	}
	return int64(n), nil
}

// errMissingTotal is a 200 answer without the one field the collector needs.
var errMissingTotal = fmt.Errorf("%w: no total_clicks in clicks summary", exporter.ErrBadResponse)

// user is GET /user.
type user struct {
	Login            string `json:"login"`
	DefaultGroupGUID string `json:"default_group_guid"`
}

// group is GET /groups/{group_guid}.
type group struct {
	GUID     string `json:"guid"`
	Name     string `json:"name"`
	IsActive *bool  `json:"is_active"`
}

// apiError is Bitly's error body: message is an UPPER_SNAKE code.
type apiError struct {
	Message     string `json:"message"`
	Description string `json:"description"`
}

// errorMessage extracts "CODE: description" from a Bitly error body.
func errorMessage(_ int, body []byte) string {
	var e apiError
	if json.Unmarshal(body, &e) != nil || e.Message == "" {
		return ""
	}
	if e.Description != "" {
		return e.Message + ": " + e.Description
	}
	return e.Message
}

// api is Bitly's paths on the shared client.
type api struct{ *exporter.API }

// bitlinkPath escapes each segment of a bitlink id but keeps its slash raw,
// as Bitly's examples send it (bit.ly/abc; %2F is accepted too).
func bitlinkPath(id string) string {
	parts := strings.Split(id, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return "/bitlinks/" + strings.Join(parts, "/")
}

// defaultGroup returns the token owner's default group.
func (a *api) defaultGroup(ctx context.Context) (string, error) {
	var u user
	if _, err := a.Get(ctx, "/user", nil, &u); err != nil {
		return "", err
	}
	return u.DefaultGroupGUID, nil
}

// linksByTag lists one page of the group's links carrying tag, or of all
// its links when tag is empty, archived ones included: Bitly's archived
// filter is on|off|both and defaults to off, which leaves archived links
// out although they still redirect and count clicks (Bitly v4 OpenAPI,
// GET /groups/{group_guid}/bitlinks).
func (a *api) linksByTag(ctx context.Context, group, tag string, size int, searchAfter string) (*groupBitlinks, error) {
	q := url.Values{"size": {strconv.Itoa(size)}, "archived": {"both"}}
	if tag != "" {
		q.Set("tags", tag)
	}
	if searchAfter != "" {
		q.Set("search_after", searchAfter)
	}
	var page groupBitlinks
	if _, err := a.Get(ctx, "/groups/"+url.PathEscape(group)+"/bitlinks", q, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// topClicked returns the group's size most clicked links with their lifetime
// clicks (units=-1), in one call.
func (a *api) topClicked(ctx context.Context, group string, size int) (*sortedBitlinks, error) {
	q := url.Values{"unit": {"day"}, "units": {"-1"}, "size": {strconv.Itoa(size)}}
	var s sortedBitlinks
	if _, err := a.Get(ctx, "/groups/"+url.PathEscape(group)+"/bitlinks/clicks", q, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// totalClicks returns a link's lifetime clicks.
func (a *api) totalClicks(ctx context.Context, id string) (int64, error) {
	q := url.Values{"unit": {"day"}, "units": {"-1"}}
	var s clicksSummary
	if _, err := a.Get(ctx, bitlinkPath(id)+"/clicks/summary", q, &s); err != nil {
		return 0, err
	}
	n, err := readClicks(s.TotalClicks)
	if err != nil && !errors.Is(err, errMissingTotal) {
		// A count that is there but not a number fails this link only.
		return 0, exporter.SkipLink(err)
	}
	return n, err
}

// bitlink returns one link's metadata.
func (a *api) bitlink(ctx context.Context, id string) (*bitlink, error) {
	var b bitlink
	if _, err := a.Get(ctx, bitlinkPath(id), nil, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

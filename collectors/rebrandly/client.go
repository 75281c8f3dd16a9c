package rebrandly

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

// DefaultBaseURL is Rebrandly's API v1.
const DefaultBaseURL = "https://api.rebrandly.com/v1"

// pageLimit is the largest page GET /links serves (documented: max 25).
const pageLimit = 25

// apiTag is a tag as embedded in a listed link.
type apiTag struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// apiLink is a link as GET /links returns it; only the fields the collector
// reads are decoded.
type apiLink struct {
	ID          string `json:"id"`
	Slashtag    string `json:"slashtag"`
	Destination string `json:"destination"`
	// ShortURL has no scheme: rebrand.ly/abc.
	ShortURL string `json:"shortUrl"`
	Domain   struct {
		ID       string `json:"id"`
		FullName string `json:"fullName"`
	} `json:"domain"`
	DomainName string `json:"domainName"`
	// HTTPS says whether the short link is served over https; absent on
	// old payloads, taken as true then.
	HTTPS *bool `json:"https"`
	// Clicks is the link's lifetime click count ("sessions" counts
	// deduplicated visits; we report clicks, like the other shorteners),
	// read by clicks: a number, or a numeric string.
	Clicks json.RawMessage `json:"clicks"`
	// Tags is nil when the listing carries no tags field at all. The
	// public docs do not list it, but listed links carry their tags as
	// [{id,name,color,active,clicks}] (Dub's Rebrandly importer reads
	// them), which is what tag discovery relies on.
	Tags *[]apiTag `json:"tags"`
}

// clicks returns the link's click count, sent as a number or a numeric
// string; absent or null is 0, as before any click. Anything else is an
// error for this link only.
func (l apiLink) clicks() (float64, error) {
	var n exporter.FlexFloat
	if len(l.Clicks) == 0 {
		return 0, nil
	}
	if err := json.Unmarshal(l.Clicks, &n); err != nil {
		return 0, fmt.Errorf("clicks %s are not a number: %w", l.Clicks, exporter.ErrBadResponse)
	}
	return float64(n), nil
}

// host is the link's domain as the `link` label shows it.
func (l apiLink) host() string {
	if l.Domain.FullName != "" {
		return l.Domain.FullName
	}
	return l.DomainName
}

// shortURL is the short URL Rebrandly reports, which has no scheme: the
// link's https flag picks it.
func (l apiLink) shortURL() string {
	short := l.ShortURL
	if short == "" {
		short = l.host() + "/" + l.Slashtag
	}
	if strings.Contains(short, "://") {
		return short
	}
	if l.HTTPS != nil && !*l.HTTPS {
		return "http://" + short
	}
	return "https://" + short
}

// apiError is Rebrandly's error body, for example 404
// {"code":"NotFound","message":"Not found","source":"link","id":"..."}
// and validation failures with errors[] detailing each property.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Source  string `json:"source"`
	Errors  []struct {
		Code     string `json:"code"`
		Property string `json:"property"`
		Message  string `json:"message"`
		Verbose  string `json:"verbose"`
	} `json:"errors"`
}

func errorMessage(_ int, body []byte) string {
	var e apiError
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	msg := e.Message
	if len(e.Errors) > 0 {
		d := e.Errors[0]
		detail := d.Verbose
		if detail == "" {
			detail = strings.TrimSpace(d.Property + " " + d.Message)
		}
		if detail != "" {
			msg = strings.TrimPrefix(msg+": "+detail, ": ")
		}
	}
	if e.Code != "" && e.Code != msg {
		msg = strings.TrimSuffix(e.Code+": "+msg, ": ")
	}
	if e.Source != "" {
		msg += " (" + e.Source + ")"
	}
	return msg
}

// api makes the Rebrandly calls of one collector; its Header carries the
// workspace, when set.
type api struct {
	*exporter.API
	domain string // domain.fullName filter, when set
}

// linksPage returns one page of links (of the domain, if set), newest
// first, after the link with id last: "" starts from the newest.
func (a *api) linksPage(ctx context.Context, last string) ([]apiLink, error) {
	q := url.Values{}
	q.Set("orderBy", "createdAt")
	q.Set("orderDir", "desc")
	q.Set("limit", strconv.Itoa(pageLimit))
	if a.domain != "" {
		q.Set("domain.fullName", a.domain)
	}
	if last != "" {
		q.Set("last", last)
	}
	var page []apiLink
	if _, err := a.Get(ctx, "/links", q, &page); err != nil {
		return nil, err
	}
	return page, nil
}

// walk is one pass over every link (of the domain, if set), paged with
// the `last` cursor: the id of the last link of the previous page. A page
// shorter than the limit is the last one. It starts after the link with
// id from, where the previous pass stopped, reads to the end, then from
// the newest link until it meets one it already read: the links the
// previous pass did not reach come first. from "" starts from the newest.
//
// Once ctx is done, before a page or on a failed call, it stops and
// returns the links read, complete false, and the cursor to start the
// next pass from. A cursor naming a link deleted since starts over from
// the newest.
func (a *api) walk(ctx context.Context, from string) (links []apiLink, next string, complete bool, calls int, err error) {
	var (
		seen    = map[string]bool{}
		cursors = map[string]bool{}
		last    = from
		wrapped = from == ""
	)
	for {
		if ctx.Err() != nil {
			return links, last, false, calls, nil
		}
		calls++
		page, err := a.linksPage(ctx, last)
		switch {
		case err != nil && exporter.OutOfTime(ctx):
			return links, last, false, calls, nil
		case err != nil && errors.Is(err, exporter.ErrNotFound) && last != "" && last == from && !wrapped:
			last, wrapped = "", true
			continue
		case err != nil:
			return nil, "", false, calls, err
		}
		for _, l := range page {
			if seen[l.ID] && from != "" && wrapped {
				return links, "", true, calls, nil // back where the pass began
			}
			if !seen[l.ID] {
				seen[l.ID] = true
				links = append(links, l)
			}
		}
		if len(page) < pageLimit {
			if wrapped {
				return links, "", true, calls, nil
			}
			last, wrapped = "", true
			continue
		}
		last = page[len(page)-1].ID
		if last == "" || cursors[last] {
			// A cursor that does not move would page forever.
			return nil, "", false, calls, fmt.Errorf("pagination stuck after %d links: %w", len(links), exporter.ErrBadResponse)
		}
		cursors[last] = true
	}
}

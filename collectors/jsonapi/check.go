package jsonapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// checkURL is one URL the collector requests, named for a report.
type checkURL struct{ target }

func (u checkURL) String() string {
	switch {
	case u.creator != "":
		return fmt.Sprintf("creator %q of campaign %q (url %s)", u.creator, u.campaign, u.rel)
	case u.campaign != "":
		return fmt.Sprintf("campaign %q (url %s)", u.campaign, u.rel)
	}
	return "url " + u.rel
}

// CheckOnline implements exporter.OnlineChecker. It requests the first
// page of the configured URL with the configured auth, as a refresh does;
// with {campaign} or {creator} in the URL, the first page of each
// campaign's or creator's URL in turn (up to exporter.OnlineLookups of
// them) until the first the provider answers 404. A generic API says no
// more about a credential than its status: 401 and 403 are a refused
// credential, any other answer one that was let through. Then it follows
// the configured paths into the first page that answered: items must
// lead to the items, creator.path and campaign.path must be in at least
// one item, and every value and label path must be in the first item of a
// configured creator. The first path that leads nowhere is reported as
// not found. Where the provider sends the common X-RateLimit headers, the
// quota left is a note.
func (c *collector) CheckOnline(ctx context.Context) exporter.OnlineReport {
	r := exporter.OnlineReport{Endpoint: exporter.OnlineEndpoint(c.f.api, http.MethodGet, c.targets[0].rel)}
	var (
		first  *target // the first URL that answered, and its answer
		body   any
		status int
	)
	urls := make([]checkURL, len(c.targets))
	for i, t := range c.targets {
		urls[i] = checkURL{t}
	}
	noun := "URLs"
	switch {
	case c.targets[0].creator != "":
		noun = "creators' URLs"
	case c.targets[0].campaign != "":
		noun = "campaigns' URLs"
	}
	exporter.LookUpEach(ctx, &r, "json "+c.provider, noun, urls, func(ctx context.Context, u checkURL) error {
		resp, b, err := c.f.firstPage(ctx, u.rel)
		switch st := exporter.HTTPStatus(err); {
		case err == nil:
			r.Reachable, r.Authenticated = true, true
			if first == nil {
				first, body, status = &u.target, b, resp.StatusCode
				if n := exporter.QuotaNote(resp.Header); n != "" {
					r.Notes = append(r.Notes, n)
				}
			}
		case st == http.StatusUnauthorized || st == http.StatusForbidden:
			r.Reachable = true
		case st != 0:
			r.Reachable, r.Authenticated = true, true
		}
		return err
	})
	if first == nil {
		return r
	}
	host := c.f.api.Base
	if u, err := url.Parse(c.f.api.Base); err == nil {
		host = u.Host
	}
	items, err := itemsOf(body, c.f.itemsAt)
	r.Account = fmt.Sprintf("%s: HTTP %d, %d items on the first page of %s", host, status, len(items), checkURL{*first})
	if r.Err != nil {
		return r // a URL not found or refused: its report comes first
	}
	if err != nil {
		c.pathMissing(&r, *first, fmt.Sprintf("items path %q: %v", c.f.itemsAt.String(), err))
		return r
	}
	c.checkPaths(&r, *first, items)
	return r
}

// checkPaths follows the mapping and value paths into the items of a
// first page.
func (c *collector) checkPaths(r *exporter.OnlineReport, t target, items []any) {
	if len(items) == 0 {
		r.Notes = append(r.Notes, "the first page has no items: the paths into an item were not checked")
		return
	}
	inSome := func(m mapping) bool {
		for _, it := range items {
			if _, ok := m.at.scalar(it); ok {
				return true
			}
		}
		return false
	}
	if c.creator.set && !inSome(c.creator) {
		c.pathMissing(r, t, fmt.Sprintf("creator.path %q: in none of the %d items of the first page", c.creator.at.String(), len(items)))
		return
	}
	if c.campaign.set && c.campaign.fixed == "" && !inSome(c.campaign) {
		c.pathMissing(r, t, fmt.Sprintf("campaign.path %q: in none of the %d items of the first page", c.campaign.at.String(), len(items)))
		return
	}
	var (
		item    any
		creator string
	)
	for _, it := range items {
		if _, cr, ok := c.attribute(t, it); ok {
			item, creator = it, cr
			break
		}
	}
	if creator == "" {
		r.Notes = append(r.Notes, "no item of the first page belongs to a configured creator: the value paths were not checked")
		return
	}
	for i, v := range c.values {
		if _, err := v.at.number(item); err != nil {
			c.pathMissing(r, t, fmt.Sprintf("values[%d].path %q (%s): %v in the first item of creator %q", i, v.at.String(), v.metric.Name, err, creator))
			return
		}
		for _, l := range v.labels {
			if l.lit != nil {
				continue
			}
			if s, ok := l.at.scalar(item); !ok || s == "" {
				c.pathMissing(r, t, fmt.Sprintf("values[%d].labels.%s %q: no value in the first item of creator %q", i, l.name, l.at.String(), creator))
				return
			}
		}
	}
}

// pathMissing reports a configured path that leads nowhere in the answer
// to t: a refresh would fail on it, or find nobody's items.
func (c *collector) pathMissing(r *exporter.OnlineReport, t target, problem string) {
	r.NotFound = problem
	r.Fail(fmt.Errorf("json %s: %s, in the answer to %s: %w", c.provider, problem, checkURL{t}, exporter.ErrBadResponse))
}

package shortio

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// maxDomainNames bounds the domains a report names.
const maxDomainNames = 10

// CheckOnline implements exporter.OnlineChecker. It asks GET /api/domains,
// the cheapest call a key can make, which lists every domain the key
// reaches: a wrong or revoked key gets 401 {"error":"Unauthorized"}, and
// the list tells whether options.domain_id is among them. Then GET
// /links/expand for each configured link until the first Short.io does
// not know, and one link_clicks call for the links found, on the
// statistics host, which has its own base URL and its own limit of about
// 10 calls a minute.
//
// Short.io keys carry no scopes the API reports, and no expiry.
func (c *collector) CheckOnline(ctx context.Context) exporter.OnlineReport {
	r := exporter.OnlineReport{Endpoint: exporter.OnlineEndpoint(c.api.links, http.MethodGet, "/api/domains")}
	var domains []apiDomain
	resp, err := c.api.links.Get(ctx, "/api/domains", nil, &domains)
	if !r.Answer(wrap("domains of the key", err)) {
		return r
	}
	if n := exporter.QuotaNote(resp.Header); n != "" {
		r.Notes = append(r.Notes, n)
	}
	var host string
	names := make([]string, 0, len(domains))
	for _, d := range domains {
		names = append(names, d.Hostname)
		if d.ID == c.api.domainID {
			host = strings.ToLower(d.Hostname)
		}
	}
	reach := fmt.Sprintf("the key reaches %d domains", len(names))
	if len(names) > 0 {
		reach += ": " + strings.Join(names[:min(len(names), maxDomainNames)], ", ")
		if len(names) > maxDomainNames {
			reach += fmt.Sprintf(" and %d more", len(names)-maxDomainNames)
		}
	}
	if host == "" {
		r.Account = reach
		r.Fail(fmt.Errorf("shortio: domain %d of options.domain_id is not among the domains the key reaches: %w", c.api.domainID, exporter.ErrNotFound))
		return r
	}
	r.Account = fmt.Sprintf("domain %s (id %d); %s", host, c.api.domainID, reach)
	c.mu.Lock()
	configured := c.hostname
	c.mu.Unlock()
	if configured != "" && configured != host {
		r.Fail(fmt.Errorf("shortio: options.domain %q is not the hostname of domain %d, %s", configured, c.api.domainID, host))
		return r
	}

	var ids []string
	r.LookUp(ctx, Provider, exporter.LinkObjects(c.links), func(ctx context.Context, o exporter.Object) error {
		h, path, _ := exporter.SplitRootLinkID(o.ID)
		if h != host {
			return fmt.Errorf("not on domain %s (id %d): %w", host, c.api.domainID, exporter.ErrNotFound)
		}
		l, err := c.api.expand(ctx, host, path)
		if err == nil {
			ids = append(ids, l.IDString)
		}
		return err
	})
	if len(ids) == 0 {
		r.Notes = append(r.Notes, "the statistics host was not checked: no configured link was found to ask it about")
		return r
	}
	if err := c.limiter.Wait(ctx); err != nil {
		r.Fail(fmt.Errorf("shortio: statistics host: %w", err))
		return r
	}
	_, _, err = c.api.linkClicks(ctx, ids)
	r.Answer(wrap(fmt.Sprintf("statistics host: clicks of %d links", len(ids)), err))
	return r
}

// wrap names the provider and what was asked in a failed call's error.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("shortio: %s: %w", what, err)
}

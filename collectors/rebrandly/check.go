package rebrandly

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// CheckOnline implements exporter.OnlineChecker. It asks GET /account,
// the cheapest call a key can make, for the account's username: a wrong or
// revoked key gets 401. Then GET /links/count with the workspace header
// and domain filter the collector lists with, which fails on a workspace
// the account cannot read, and GET /links?domain.fullName=…&slashtag=…
// for each configured link until the first Rebrandly does not know.
//
// Rebrandly keys carry no scopes and no expiry the API reports.
func (c *collector) CheckOnline(ctx context.Context) exporter.OnlineReport {
	r := exporter.OnlineReport{Endpoint: exporter.OnlineEndpoint(c.api.API, http.MethodGet, "/account")}
	var acc struct {
		Username string `json:"username"`
	}
	resp, err := c.api.Get(ctx, "/account", nil, &acc)
	if !r.Answer(wrap("account of the key", err)) {
		return r
	}
	if n := exporter.QuotaNote(resp.Header); n != "" {
		r.Notes = append(r.Notes, n)
	}
	r.Account = "account " + acc.Username

	where := "the default workspace"
	if ws := c.api.Header.Get("workspace"); ws != "" {
		where = fmt.Sprintf("workspace %s", ws)
	}
	q := url.Values{}
	if c.api.domain != "" {
		q.Set("domain.fullName", c.api.domain)
		where += " on domain " + c.api.domain
	}
	var count struct {
		Count int `json:"count"`
	}
	if _, err := c.api.Get(ctx, "/links/count", q, &count); !r.Answer(wrap("links of "+where, err)) {
		return r
	}
	r.Account = fmt.Sprintf("account %s, %s: %d links", acc.Username, where, count.Count)

	r.LookUp(ctx, Provider, exporter.LinkObjects(c.links), func(ctx context.Context, o exporter.Object) error {
		host, slashtag, _ := exporter.SplitLinkID(o.ID)
		q := url.Values{"domain.fullName": {host}, "slashtag": {slashtag}, "limit": {"1"}}
		var page []apiLink
		if _, err := c.api.Get(ctx, "/links", q, &page); err != nil {
			return err
		}
		if len(page) == 0 {
			return fmt.Errorf("no link with slashtag %q on %s in %s: %w", slashtag, host, where, exporter.ErrNotFound)
		}
		if l := page[0]; l.Slashtag != slashtag || !strings.EqualFold(l.host(), host) {
			// A listing that ignored the filter proves nothing either way.
			return fmt.Errorf("the link listing answered %s/%s, ignoring the slashtag filter: %w", l.host(), l.Slashtag, exporter.ErrBadResponse)
		}
		return nil
	})
	return r
}

// wrap names the provider and what was asked in a failed call's error.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("rebrandly: %s: %w", what, err)
}

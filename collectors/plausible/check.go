package plausible

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// CheckOnline implements exporter.OnlineChecker. It runs the cheapest
// query the collector's key is for: the site's visitors of today, no
// dimension, one row.
//
// Plausible's Stats API answers a wrong or revoked key and a good key
// without access to the site alike: 401 "Invalid API key or site ID"
// (plausible/analytics, PlausibleWeb.Plugs.AuthorizePublicAPI). No call
// open to a Stats API key on every instance tells the two apart, so the
// report says the key was refused for that site. 402 is a key whose
// account's plan has no Stats API, or a site locked for want of a
// subscription: the key was accepted. Keys carry no expiry, and Plausible
// sends no rate-limit headers.
func (c *collector) CheckOnline(ctx context.Context) exporter.OnlineReport {
	r := exporter.OnlineReport{Endpoint: exporter.OnlineEndpoint(c.api.API, http.MethodPost, queryPath)}
	today := c.now().UTC().Format(time.DateOnly)
	q := query{
		SiteID:     c.opts.SiteID,
		Metrics:    []string{"visitors"},
		DateRange:  []string{today, today},
		Pagination: pagination{Limit: 1},
	}
	rows, err := c.api.query(ctx, q)
	switch status := exporter.HTTPStatus(err); {
	case status == http.StatusUnauthorized:
		r.Answer(fmt.Errorf("plausible: the key is invalid, revoked or without access to site %q (Plausible answers all three alike): %w", c.opts.SiteID, err))
		return r
	case status == http.StatusPaymentRequired:
		r.Answer(fmt.Errorf("plausible: site %q: %w", c.opts.SiteID, err))
		r.Authenticated = true
		return r
	case !r.Answer(wrapSite(c.opts.SiteID, err)):
		return r
	}
	var visitors float64
	if len(rows) > 0 {
		visitors = rows[0].Metrics[0]
	}
	r.Account = fmt.Sprintf("site %s (%g visitors today, UTC date %s)", c.opts.SiteID, visitors, today)
	return r
}

// wrapSite names the provider and the site in a failed query's error.
func wrapSite(site string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("plausible: visitors of site %q today: %w", site, err)
}

package ga4

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// CheckOnline implements exporter.OnlineChecker in two requests: the
// credentials' token exchange at token_uri (which tells whether Google
// takes the key, or the refresh token), and the smallest report there is
// on the property, activeUsers of today without dimensions and one row,
// asked with returnPropertyQuota. A report is what the collector runs, so
// it checks the very permission a refresh needs; getMetadata would check
// access too, but it spends Core tokens as well (Google does not say how
// many; a report's depend on its rows, columns and range, and this one
// has one of each) and its answer lists every dimension and metric.
//
// A 403 PERMISSION_DENIED means the credentials are not a user of the
// property; ACCESS_TOKEN_SCOPE_INSUFFICIENT, that the access token lacks
// the analytics.readonly scope (an authorized-user file made without it).
// Both are listed in Missing. Expires stays zero: a service account key
// or a refresh token does not expire by itself (Google does not say when
// it would), and the access token, which lasts an hour, renews itself; a
// note gives its expiry, which influencer_token_expiry_timestamp_seconds
// exports.
func (c *collector) CheckOnline(ctx context.Context) exporter.OnlineReport {
	r := exporter.OnlineReport{Endpoint: "POST " + tokenPath(c.tokens.key.TokenURI)}
	who := "service account " + c.tokens.key.ClientEmail
	if c.tokens.key.Type == authorizedUser {
		who = "the OAuth user of the authorized-user file"
	}
	err := c.tokens.ensure(ctx, c.now())
	r.Reachable = err == nil || exporter.HTTPStatus(err) != 0
	if err != nil {
		if oauthCode(err) == "invalid_scope" {
			r.Missing = append(r.Missing, "scope "+Scope)
		}
		r.Fail(fmt.Errorf("ga4: access token for %s: %w", who, err))
		return r
	}
	r.Notes = append(r.Notes, fmt.Sprintf("access token valid until %s; the collector renews it before then, and the credentials behind it do not expire unless revoked",
		c.tokens.expiry().UTC().Format(time.RFC3339)))

	path := "/v1beta/properties/" + c.property + ":runReport"
	r.Endpoint += ", " + exporter.OnlineEndpoint(c.api, http.MethodPost, path)
	resp, err := c.runReport(ctx, runReportRequest{
		Dimensions:          []dimension{},
		Metrics:             []metric{{Name: "activeUsers"}},
		DateRanges:          []dateRange{{StartDate: "today", EndDate: "today"}},
		Limit:               "1",
		ReturnPropertyQuota: true,
	})
	r.Reachable = r.Reachable || err == nil || exporter.HTTPStatus(err) != 0
	var ae *exporter.APIError
	switch {
	case err == nil:
		r.Authenticated = true
		r.Account = fmt.Sprintf("property %s (%s)", c.property, who)
		if q := resp.PropertyQuota.TokensPerDay; q != nil {
			c.client.ReportQuota(float64(q.Remaining), quotaReset(c.now()))
			r.Notes = append(r.Notes, fmt.Sprintf("property quota: %g tokens left today (tokensPerDay), this check spent %g",
				float64(q.Remaining), float64(q.Consumed)))
		}
	case !errors.As(err, &ae) || ae.StatusCode != http.StatusForbidden:
		// 401 after a new token: Google refuses the token it just
		// issued; 429: the quota is spent, with the credentials good.
		r.Authenticated = errors.Is(err, exporter.ErrRateLimited)
		r.Fail(fmt.Errorf("ga4: report on property %s: %w", c.property, err))
	case ae.Detail == scopeInsufficient:
		r.Authenticated = true
		r.Missing = append(r.Missing, "scope "+Scope)
		r.Fail(fmt.Errorf("ga4: the access token of %s lacks the scope %s: make the authorized-user file again with it "+
			"(gcloud auth application-default login --scopes=%s,https://www.googleapis.com/auth/cloud-platform): %w", who, Scope, Scope, err))
	default:
		r.Authenticated = true
		r.Missing = append(r.Missing, "access to property "+c.property)
		r.Fail(fmt.Errorf("ga4: %s has no access to property %s: add it as a Viewer under Admin > Property access management "+
			"(or check the property id): %w", who, c.property, err))
	}
	return r
}

// expiry returns when the access token expires, on the collector's clock.
func (t *tokens) expiry() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.expires
}

// oauthCode returns the token endpoint's OAuth2 error code (invalid_grant)
// of a failed token exchange, which classify keeps.
func oauthCode(err error) string {
	var ae *exporter.APIError
	if errors.As(err, &ae) {
		if code, ok := ae.Detail.(string); ok {
			return code
		}
	}
	return ""
}

// tokenPath returns the path of the token endpoint, which the report's
// endpoint names: the host is Google's, or the credentials' token_uri.
func tokenPath(tokenURI string) string {
	u, err := url.Parse(tokenURI)
	if err != nil {
		return ""
	}
	return u.Path
}

var _ exporter.OnlineChecker = (*collector)(nil)

package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// account is the part of GET /v1/account the check reads.
type account struct {
	ID              string `json:"id"`
	BusinessProfile struct {
		Name string `json:"name"`
	} `json:"business_profile"`
	Settings struct {
		Dashboard struct {
			DisplayName string `json:"display_name"`
		} `json:"dashboard"`
	} `json:"settings"`
}

// CheckOnline implements exporter.OnlineChecker. It reads the key's
// account (GET /v1/account), then asks each list the collector reads for
// one object, with the parameters a refresh sends (expansions included),
// so that a restricted key lacking a permission is caught with Stripe's
// name for it; then it looks the configured promotion codes up, one
// request each. Stripe's API does not say when a key expires.
func (c *collector) CheckOnline(ctx context.Context) exporter.OnlineReport {
	var rep exporter.OnlineReport
	a := c.api.API
	// The lists are asked for one object each.
	probe := *c.api
	probe.pageSize = 1
	lists := []struct {
		what, path string
		list       func() error
	}{
		{"promotion codes", "/promotion_codes", func() error {
			_, _, err := listPage(ctx, &probe, "/promotion_codes", url.Values{}, "", func(p promotionCode) string { return p.ID })
			return err
		}},
		{"checkout sessions", "/checkout/sessions", func() error {
			_, _, err := probe.sessionsPage(ctx, time.Time{}, "")
			return err
		}},
		{"refunds", "/refunds", func() error {
			_, _, err := probe.refundsPage(ctx, time.Time{}, "")
			return err
		}},
	}
	endpoints := []string{exporter.OnlineEndpoint(a, http.MethodGet, "/account")}
	for _, l := range lists {
		endpoints = append(endpoints, exporter.OnlineEndpoint(a, http.MethodGet, l.path))
	}
	rep.Endpoint = strings.Join(endpoints, ", ")
	if c.testMode {
		rep.Notes = append(rep.Notes, "a test-mode key: it sees test-mode data only")
	}

	var acct account
	_, err := a.Get(ctx, "/account", nil, &acct)
	switch {
	case err == nil:
		rep.Answer(nil)
		rep.Account = "account " + acct.ID
		name := acct.Settings.Dashboard.DisplayName
		if name == "" {
			name = acct.BusinessProfile.Name
		}
		if name != "" {
			rep.Account += fmt.Sprintf(" (%q)", name)
		}
	case exporter.HTTPStatus(err) == http.StatusForbidden:
		// A restricted key may not read the account, which the collector
		// does not need; the refusal proves the key valid, and names the
		// account.
		rep.Reachable, rep.Authenticated = true, true
		if d := denied(err); d != nil && d.Account != "" {
			rep.Account = "account " + d.Account
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("the restricted key may not read the account's details (%s), which the collector does not need", permission(err, "account read")))
	default:
		rep.Answer(fmt.Errorf("stripe: read the account: %w", err))
		return rep
	}

	promotionCodes := true
	for _, l := range lists {
		err := l.list()
		if err == nil {
			continue
		}
		if l.path == "/promotion_codes" {
			promotionCodes = false
		}
		err = fmt.Errorf("stripe: list %s: %w", l.what, err)
		if exporter.HTTPStatus(err) == http.StatusForbidden {
			rep.Missing = append(rep.Missing, permission(err, "read access to "+l.what))
			rep.Fail(err)
			continue
		}
		rep.Answer(err)
		if exporter.HTTPStatus(err) == http.StatusUnauthorized {
			rep.Authenticated = false
			return rep
		}
	}

	if len(c.codes) == 0 {
		rep.Notes = append(rep.Notes, "no promotion codes configured: the collector makes no calls")
		return rep
	}
	if !promotionCodes {
		return rep
	}
	objects := make([]exporter.Object, 0, len(c.codes))
	for _, ref := range c.codes {
		objects = append(objects, ref.Object())
	}
	rep.LookUp(ctx, "stripe", objects, func(ctx context.Context, o exporter.Object) error {
		// Codes are unique regardless of case among active codes; one is
		// enough to know the code exists.
		found, _, err := listPage(ctx, &probe, "/promotion_codes", url.Values{"code": {o.ID}}, "", func(p promotionCode) string { return p.ID })
		if err == nil && len(found) == 0 {
			err = fmt.Errorf("%w: Stripe has no promotion code with this code", exporter.ErrNotFound)
		}
		return err
	})
	return rep
}

// denied returns what Stripe's 403 to a restricted key names, nil if err
// is not one.
func denied(err error) *permissionError {
	var ae *exporter.APIError
	if errors.As(err, &ae) {
		if d, ok := ae.Detail.(*permissionError); ok {
			return d
		}
	}
	return nil
}

// permission is the restricted key permission Stripe's 403 names, or
// otherwise if it names none.
func permission(err error, otherwise string) string {
	if d := denied(err); d != nil && d.Permission != "" {
		return d.Permission
	}
	return otherwise
}

package bitly

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// CheckOnline implements exporter.OnlineChecker. It asks GET /user, the
// cheapest call the token can make, for the user and its default group;
// GET /groups/{group_guid} when options.group_guid names another group;
// then GET /bitlinks/{bitlink} for each configured link until the first
// Bitly does not know.
//
// Bitly answers a missing, wrong or revoked token with 403 FORBIDDEN, not
// 401, and its tokens carry no scopes and no expiry to report. It sends no
// rate-limit headers either, so the report has no quota note.
func (c *collector) CheckOnline(ctx context.Context) exporter.OnlineReport {
	r := exporter.OnlineReport{Endpoint: exporter.OnlineEndpoint(c.api.API, http.MethodGet, "/user")}
	var u user
	if _, err := c.api.Get(ctx, "/user", nil, &u); !r.Answer(wrap("user of the token", err)) {
		return r
	}
	r.Account = fmt.Sprintf("user %s (default group %s)", u.Login, u.DefaultGroupGUID)
	switch g := c.opts.GroupGUID; {
	case g == "" && u.DefaultGroupGUID == "" && (len(c.tags) > 0 || c.opts.TopLinks > 0):
		r.Fail(errors.New("bitly: the token's user has no default group: set options.group_guid"))
	case g != "":
		var grp group
		_, err := c.api.Get(ctx, "/groups/"+url.PathEscape(g), nil, &grp)
		switch {
		case !r.Answer(wrap(fmt.Sprintf("group %q of options.group_guid", g), err)):
		case grp.IsActive != nil && !*grp.IsActive:
			r.Fail(fmt.Errorf("bitly: group %q of options.group_guid is not active", g))
		default:
			r.Account = fmt.Sprintf("user %s, group %s (%s)", u.Login, g, grp.Name)
		}
	}
	r.LookUp(ctx, "bitly", exporter.LinkObjects(c.links), func(ctx context.Context, o exporter.Object) error {
		_, err := c.api.bitlink(ctx, o.ID)
		return err
	})
	return r
}

// wrap names the provider and what was asked in a failed call's error.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("bitly: %s: %w", what, err)
}

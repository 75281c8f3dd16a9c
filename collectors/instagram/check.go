package instagram

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

// The permissions the collector needs with Facebook Login for Business
// (developers.facebook.com/docs/instagram-platform/insights and the IG
// User and IG Media references): instagram_basic reads accounts, media
// listings and media fields; pages_read_engagement is asked by every IG
// endpoint, an account being reached through its Facebook Page;
// instagram_manage_insights reads post insights. A user whose role on the
// Page comes through Business Manager needs ads_read or ads_management
// too; debug_token cannot tell that case, so they are not required here,
// and Graph's answer to the lookups names the refusal instead.
const (
	permBasic    = "instagram_basic"
	permInsights = "instagram_manage_insights"
	permPages    = "pages_read_engagement"
)

// permissions returns the permissions this collector's config needs:
// insights only when it reads posts, configured or found by a match.
func (c *collector) permissions() []string {
	insights := len(c.posts) > 0
	for _, a := range c.accounts {
		insights = insights || a.Match != ""
	}
	out := []string{permBasic}
	if insights {
		out = append(out, permInsights)
	}
	return append(out, permPages)
}

// CheckOnline implements exporter.OnlineChecker with at most two requests:
// GET /debug_token, which says whether Graph takes the token, which
// permissions it carries and when it expires; and one batch request (POST
// /) reading the username of each configured account and the id of each
// configured post, the first 50 of them (Graph's batch limit; each counts
// as a call against the rate limits, as a refresh's do), which finds the
// first one Graph does not know.
//
// debug_token is asked with the token itself as access_token (and
// input_token; the client strips both from everything it reports): Graph
// documents an app token or an app developer's user token there, and
// answers a user token inspecting itself in practice (unconfirmed). If it
// refuses, a note says so and the lookups tell whether the token works.
func (c *collector) CheckOnline(ctx context.Context) exporter.OnlineReport {
	r := exporter.OnlineReport{Endpoint: exporter.OnlineEndpoint(c.api.API, http.MethodGet, "/debug_token")}
	info, err := c.api.debugToken(ctx)
	r.Reachable = answered(err)
	switch {
	case err == nil:
		if !c.readToken(&r, info) {
			return r
		}
	case errors.Is(err, exporter.ErrUnauthorized), !r.Reachable:
		r.Fail(c.wrap("check access token", err))
		return r
	case len(c.checkObjects()) == 0:
		// Nothing to look up: nothing else would tell whether the
		// token works.
		r.Fail(c.wrap("check access token", err))
		return r
	default:
		r.Notes = append(r.Notes, "debug_token failed, so the token's permissions and expiry are unknown: "+err.Error())
	}
	objects := c.checkObjects()
	if len(objects) > maxBatch {
		r.Notes = append(r.Notes, fmt.Sprintf("looked up the first %d of %d configured accounts and posts; the other %d were not checked",
			maxBatch, len(objects), len(objects)-maxBatch))
		objects = objects[:maxBatch]
	}
	if len(objects) > 0 {
		r.Endpoint += ", " + exporter.OnlineEndpoint(c.api.API, http.MethodPost, "/")
		c.lookUp(ctx, &r, objects)
	}
	return r
}

// readToken fills the report from debug_token's answer and reports
// whether the token is valid.
func (c *collector) readToken(r *exporter.OnlineReport, info *tokenInfo) bool {
	d := info.Data
	if !d.IsValid {
		ge := &graphError{kind: exporter.ErrUnauthorized, text: "debug_token: the token is not valid"}
		if e := d.Error; e != nil {
			ge.Code, ge.Subcode = e.Code, e.Subcode
			ge.text = c.api.redact("debug_token: " + errorText(e.Code, e.Subcode, false, e.Message))
		}
		r.Fail(c.wrap("check access token", ge))
		return false
	}
	r.Authenticated = true
	r.Expires = info.expiry()
	if r.Expires.IsZero() {
		r.Notes = append(r.Notes, "the token does not expire (debug_token's expires_at is 0)")
	} else if d.ExpiresAt > 0 && d.DataAccessExpiresAt > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("expires_at %s, data_access_expires_at %s (the earlier is when the token stops working)",
			time.Unix(d.ExpiresAt, 0).UTC().Format(time.RFC3339), time.Unix(d.DataAccessExpiresAt, 0).UTC().Format(time.RFC3339)))
	}
	if d.UserID != "" {
		r.Account = "Facebook user " + d.UserID
	}
	if d.Application != "" || d.AppID != "" {
		r.Notes = append(r.Notes, fmt.Sprintf("%s token of app %q (%s)", strings.ToLower(d.Type), d.Application, d.AppID))
	}
	granted := map[string]bool{}
	for _, s := range d.Scopes {
		granted[s] = true
	}
	for _, p := range c.permissions() {
		if !granted[p] {
			r.Missing = append(r.Missing, p)
		}
	}
	if len(r.Missing) > 0 {
		r.Fail(fmt.Errorf("instagram: the access token lacks permissions the collector needs: %s (log in to the app again granting them, and configure the new token)",
			strings.Join(r.Missing, ", ")))
	}
	return true
}

// checkObject is a configured object and the batch operation that reads
// it.
type checkObject struct {
	exporter.Object
	rel     string
	account bool
}

// checkObjects returns the configured accounts, then posts, each once, in
// config order.
func (c *collector) checkObjects() []checkObject {
	var out []checkObject
	seen := map[string]bool{}
	for _, a := range c.accounts {
		if !seen[a.ID] {
			seen[a.ID] = true
			out = append(out, checkObject{accountObject(a), url.PathEscape(a.ID) + "?fields=username", true})
		}
	}
	for _, p := range c.posts {
		if !seen[p.ID] {
			seen[p.ID] = true
			o := exporter.Object{Kind: exporter.KindPost, Campaign: p.Campaign, Creator: p.Creator, ID: p.ID}
			out = append(out, checkObject{o, url.PathEscape(p.ID) + "?fields=id", false})
		}
	}
	return out
}

// lookUp reads the objects in one batch request: the accounts' usernames
// make the report's account, the first object Graph does not know its
// NotFound.
func (c *collector) lookUp(ctx context.Context, r *exporter.OnlineReport, objects []checkObject) {
	rels := make([]string, len(objects))
	for i, o := range objects {
		rels[i] = o.rel
	}
	results, err := c.api.batch(ctx, rels)
	if err != nil {
		r.Reachable = r.Reachable || answered(err)
		if errors.Is(err, exporter.ErrUnauthorized) {
			r.Authenticated = false
		}
		r.Fail(c.wrap(fmt.Sprintf("look up %d configured accounts and posts", len(rels)), err))
		return
	}
	r.Reachable, r.Authenticated = true, true
	var (
		names  []string
		failed bool
	)
	for i, res := range results {
		o := objects[i]
		if res == nil {
			r.Notes = append(r.Notes, o.String()+": Graph did not complete its lookup in time")
			continue
		}
		c.observeOp(res)
		if res.Code == http.StatusOK {
			if o.account {
				var a struct {
					Username string `json:"username"`
				}
				if decode(res.Body, &a) == nil && a.Username != "" {
					names = append(names, fmt.Sprintf("@%s (%s)", a.Username, o.ID))
				} else {
					names = append(names, o.ID)
				}
			}
			continue
		}
		opErr := c.api.opError(o.ID, res)
		var ge *graphError
		switch {
		case errors.Is(opErr, exporter.ErrNotFound):
			if r.NotFound == "" {
				r.NotFound = o.String() + ": " + opErr.Error()
				r.Fail(fmt.Errorf("instagram: %s not found: %w", o, opErr))
			}
		case !failed:
			failed = true
			if errors.As(opErr, &ge) && (ge.Code == codeToken || ge.Code == codeTokenRequired) {
				r.Authenticated = false
			}
			r.Fail(c.wrap("look up "+o.String(), opErr))
		}
	}
	if len(names) > 0 {
		r.Account = strings.Join(names, ", ")
	}
}

// answered reports whether err came with an answer from Graph: an HTTP
// status, or a Graph error read from one.
func answered(err error) bool {
	if err == nil {
		return true
	}
	var ge *graphError
	return errors.As(err, &ge) || exporter.HTTPStatus(err) != 0
}

var _ exporter.OnlineChecker = (*collector)(nil)

package exporter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// What collectors share when they check their credentials online (see
// OnlineChecker): reading the outcome of each request into the report,
// looking the configured objects up one request each, and the quota a
// response reports.

// OnlineLookups bounds the configured objects one CheckOnline looks up,
// one request each: enough to catch a mistyped link in a campaign's list,
// few enough to spend only a handful of the provider's quota.
const OnlineLookups = 20

// OnlineEndpoint names a request for OnlineReport.Endpoint: the method and
// the URL's path under the API's base, without scheme, host or query
// values ("GET /v4/user").
func OnlineEndpoint(a *API, method, path string) string {
	p := path
	if u, err := url.Parse(a.Base); err == nil {
		p = u.Path + path
	}
	return method + " " + p
}

// Answer records the outcome of one of the check's requests: Reachable
// once any HTTP answer arrived, Authenticated once a request succeeded, and
// a failure in Err. err names the provider and what was asked, and wraps
// the APIError of the call, whose text is already redacted. It reports
// whether the request succeeded.
//
// A failed request leaves Authenticated as it was: only the collector
// knows whether its provider's 403 means a bad credential (Bitly) or a
// good one lacking a permission (Dub), and sets it then.
func (r *OnlineReport) Answer(err error) bool {
	if err == nil {
		r.Reachable, r.Authenticated = true, true
		return true
	}
	if HTTPStatus(err) != 0 {
		r.Reachable = true
	}
	r.Fail(err)
	return false
}

// Fail adds err to the reasons the check failed.
func (r *OnlineReport) Fail(err error) {
	if err == nil {
		return
	}
	if r.Err == nil {
		r.Err = err
		return
	}
	r.Err = errors.Join(r.Err, err)
}

// HTTPStatus returns the HTTP status of the answer a failed call got, 0
// when no answer arrived (a transport error, a timeout) or err is not an
// APIError: what an online check reads to tell unreachable from refused.
func HTTPStatus(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode
	}
	return 0
}

// LookUp is LookUpEach for configured objects, named in the note by their
// kind.
func (r *OnlineReport) LookUp(ctx context.Context, provider string, objects []Object, find func(context.Context, Object) error) {
	if len(objects) == 0 {
		return
	}
	LookUpEach(ctx, r, provider, kindOf(objects)+"s", objects, find)
}

// kindOf names the kind of the objects, "object" when they are of several.
func kindOf(objects []Object) string {
	kind := objects[0].Kind
	for _, o := range objects[1:] {
		if o.Kind != kind {
			return "object"
		}
	}
	return kind
}

// LookUpEach looks up the configured objects, in order, with find, one
// request each, and records in r the first the provider does not know:
// the first find answers with an error matching ErrNotFound, named by the
// object's String (Object's names its kind, id, campaign and creator). It
// stops there, or at another error, which is recorded as a failure of the
// check; provider names the collector's provider in both. Only the first
// OnlineLookups objects are looked up; a note says how many of the noun
// ("links") were not.
func LookUpEach[T fmt.Stringer](ctx context.Context, r *OnlineReport, provider, noun string, objects []T, find func(context.Context, T) error) {
	looked := objects[:min(len(objects), OnlineLookups)]
	for _, o := range looked {
		if ctx.Err() != nil {
			r.Fail(fmt.Errorf("%s: look up %s: %w", provider, o, ctx.Err()))
			return
		}
		err := find(ctx, o)
		switch {
		case err == nil:
		case errors.Is(err, ErrNotFound):
			r.NotFound = o.String() + ": " + lookupReason(err)
			r.Fail(fmt.Errorf("%s: %s not found: %w", provider, o, err))
			return
		default:
			r.Fail(fmt.Errorf("%s: look up %s: %w", provider, o, err))
			return
		}
	}
	if rest := len(objects) - len(looked); rest > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("looked up the first %d of %d configured %s; the other %d were not checked",
			len(looked), len(objects), noun, rest))
	}
}

// LinkObjects returns the LinkObject of each configured link, in order:
// what a link shortener's check looks up.
func LinkObjects(links []LinkRef) []Object {
	out := make([]Object, 0, len(links))
	for _, l := range links {
		out = append(out, LinkObject(l.Campaign, l.Creator, l.ID))
	}
	return out
}

// lookupReason is why a lookup found nothing, in the provider's words
// where it gave some.
func lookupReason(err error) string {
	var ae *APIError
	if errors.As(err, &ae) && ae.StatusCode != 0 {
		if ae.Message != "" {
			return fmt.Sprintf("HTTP %d: %s", ae.StatusCode, ae.Message)
		}
		return fmt.Sprintf("HTTP %d", ae.StatusCode)
	}
	return err.Error()
}

// QuotaNote says how much of the provider's rate-limit window a response
// reports left, from the common X-RateLimit-Remaining, -Limit and -Reset
// headers (see DefaultQuota), or "" when it reports none.
func QuotaNote(h http.Header) string {
	remaining, reset, ok := DefaultQuota(h)
	if !ok {
		return ""
	}
	note := "rate limit: " + strconv.FormatFloat(remaining, 'f', -1, 64)
	if limit, err := strconv.ParseFloat(h.Get("X-RateLimit-Limit"), 64); err == nil && limit > 0 {
		note += " of " + strconv.FormatFloat(limit, 'f', -1, 64)
	}
	note += " requests left in the current window"
	if !reset.IsZero() {
		note += ", which resets at " + reset.UTC().Format(time.RFC3339)
	}
	return note
}

// Strings returns every text the report carries, Err's included: what a
// test searches for a secret that must not be there.
func (r OnlineReport) Strings() []string {
	out := []string{r.Endpoint, r.Account, r.NotFound}
	out = append(out, r.Missing...)
	out = append(out, r.Notes...)
	if r.Err != nil {
		out = append(out, r.Err.Error())
	}
	return out
}

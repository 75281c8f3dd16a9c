package exporter

import (
	"context"
	"time"
)

// OnlineReport is what `influencer_exporter check --online` learns of one
// collector's credentials from its provider's cheapest authenticated
// endpoint. Texts never carry a secret: they come from APIError and the
// collector's own words.
type OnlineReport struct {
	// Endpoint is the request made, method and path, no query values
	// ("GET /v4/user").
	Endpoint string
	// Reachable: an HTTP answer arrived (any status).
	Reachable bool
	// Authenticated: the provider accepted the credential.
	Authenticated bool
	// Account is what the credential reaches, in the provider's words:
	// "user alice (default group Bg1)", "shop demo.myshopify.com",
	// "property 123456". "" when unknown.
	Account string
	// Missing lists the scopes or permissions the collector needs that
	// the credential lacks ("read_orders", "instagram_manage_insights").
	Missing []string
	// Expires is when the credential expires, where the provider says;
	// zero when it does not expire or the provider does not say.
	Expires time.Time
	// NotFound is the first configured object the provider does not
	// know (Object.String()), with why; "" when all were found or the
	// collector has no cheap way to look them up.
	NotFound string
	// Notes are other facts worth printing (quota left, API version).
	Notes []string
	// Err is why the check failed, nil when it passed. Missing scopes and
	// a NotFound object are failures too: set Err for them.
	Err error
}

// OnlineChecker is implemented by collectors that can check their
// credentials against the provider without polling: one or a few
// requests, through the collector's own Client (so retries, redaction and
// rate limits apply), never spending more than a handful of quota units.
type OnlineChecker interface {
	CheckOnline(ctx context.Context) OnlineReport
}

package exporter

import (
	"context"
	"errors"
	"strings"
	"time"
)

// LinkDetail is everything the link probe knows of one tracking link's last
// probe, for the /links page: what an operator reads to learn why a link is
// down. URLs in it have their secrets stripped (userinfo, and query values
// of parameters named like credentials).
type LinkDetail struct {
	Campaign string `json:"campaign"`
	Creator  string `json:"creator"`
	Provider string `json:"provider"`
	// Link is the `link` label: the short link without scheme.
	Link string `json:"link"`
	// State is "up", "broken", "pending" (not probed yet), "skipped"
	// (left out of its last round, previous result kept) or "missing"
	// (configured, nothing to request).
	State string `json:"state"`
	// Reason says why a link is broken, skipped or missing; Note what the
	// operator should know of a link that is up.
	Reason string `json:"reason,omitempty"`
	Note   string `json:"note,omitempty"`
	// Since is when the link entered its current state (broken since),
	// zero when unknown.
	Since time.Time `json:"since,omitzero"`
	// ProbedAt is when the last probe completed; Duration its network
	// time.
	ProbedAt time.Time     `json:"probed_at,omitzero"`
	Duration time.Duration `json:"duration_ns"`
	Status   int           `json:"status,omitempty"`
	// Hops is the redirect chain, the short link first.
	Hops []Hop `json:"hops,omitempty"`
}

// The states of a LinkDetail.
const (
	LinkStateUp      = "up"
	LinkStateBroken  = "broken"
	LinkStatePending = "pending"
	LinkStateSkipped = "skipped"
	LinkStateMissing = "missing"
)

// Hop is one request of a probe's redirect chain.
type Hop struct {
	Method string        `json:"method"`
	URL    string        `json:"url"`
	Status int           `json:"status,omitempty"` // 0: no response
	Took   time.Duration `json:"took_ns"`
	// Location is where the response redirected, secrets stripped.
	Location string `json:"location,omitempty"`
	// Error is why no response arrived, or why the chain stopped here
	// (denied address, loop, too many redirects).
	Error string `json:"error,omitempty"`
	// Expect is the expect rule this hop failed (host, utm, scheme), ""
	// when it failed none.
	Expect string `json:"expect,omitempty"`
	// Shared marks a request of the destination's chain made once for
	// every link leading there (the same URL less its utm_* parameters),
	// from another of those links' URL: its utm_* values are that link's,
	// its outcome holds for this one.
	Shared bool `json:"shared,omitempty"`
}

// LinkInspector is implemented by the link probe: the detail of every link
// it watches, and one probe run now, outside the schedule, whose result
// changes no exported series (the next scheduled round does).
type LinkInspector interface {
	LinkDetails() []LinkDetail
	// ProbeLink probes the link whose `link` label (or short URL) is
	// link. It returns ErrUnknownLink when the probe does not watch it.
	ProbeLink(ctx context.Context, link string) (LinkDetail, error)
}

// ErrUnknownLink is ProbeLink's error for a link the probe does not watch.
var ErrUnknownLink = errors.New("no such link: the probe watches no link with this label or URL")

// LinkAnchor is the HTML id of a link's row on the /links page, so the
// landing page can link findings to it: /links#<LinkAnchor>.
func LinkAnchor(provider, link string) string {
	var b strings.Builder
	b.WriteString("link-")
	for _, r := range provider + "-" + link {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

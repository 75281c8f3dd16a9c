// Package rebrandly collects the lifetime clicks of a creator's Rebrandly
// links.
//
// A link is configured by its short link without scheme, the branded
// domain's full name and the slashtag: rebrand.ly/alice. Links can also be
// discovered by tag name.
//
// Rebrandly's link objects carry their click count, so listing the links is
// the batch: one refresh pages through GET /links, 25 links a page (the
// API's maximum) with the `last` cursor, and needs no other call. For N
// links in the workspace (or on options.domain, when set) that is
// floor(N/25)+1 calls per refresh; set options.domain to page through one
// branded domain only. Tag discovery filters the same listing by the tags
// embedded in each link, at no extra call.
//
// Each listed link carries its destination, which the link probe checks
// the redirect against: it costs no call.
//
// Archiving: Rebrandly's API v1 has no archived state or listing flag
// (unconfirmed: its link object documents none, only status "active"), so
// the listing needs no flag to carry every link; a deleted link is gone
// from it. A click count sent as a numeric string is read; one that is
// not a number fails that link only, counted missing with the reason.
//
// Rebrandly has no batch or optional call to degrade: the listing is the
// only call.
//
// A refresh that runs out of time (its interval) part way through the
// listing exports the links of the pages it read; the others keep their
// last values, counted skipped. The next refresh starts its pass after the
// last link read, reads to the end, then from the newest link round to
// where it started, so the links left out are read first.
//
// Rebrandly allows 10 requests a second on api.rebrandly.com (and a
// workspace quota per hour); the shared client's default of 5 a second
// stays below it.
//
// Quota: every GET /links page counts toward both limits. The link probe's
// requests to the short links themselves are not API calls and count
// toward neither.
package rebrandly

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Provider is the collector type and the `provider` label value.
const Provider = "rebrandly"

func init() {
	exporter.Register(Provider, New)
}

// Options are the provider-specific settings under `options:`.
type Options struct {
	// Workspace is the id of the Rebrandly workspace to read, sent as the
	// `workspace` header. Empty reads the account's default workspace.
	Workspace string `yaml:"workspace"`
	// Domain limits the listing to one branded domain (its full name,
	// like rebrand.ly), which saves calls on accounts with many domains.
	Domain string `yaml:"domain"`
}

type collector struct {
	name   string
	api    *api
	links  []exporter.LinkRef
	tags   []exporter.TagRef
	set    *exporter.LinkSet
	logger *slog.Logger

	mu sync.Mutex
	// cursor is the id of the last link a pass cut short by its deadline
	// read: the next pass starts after it. "" starts from the newest.
	cursor string
	tagged []exporter.TaggedLink // links found by tag, as of the last passes
}

// New builds a Rebrandly collector. It validates options and configured
// links and makes no call.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	var opts Options
	// An option that does not decode keeps its default, so the checks
	// below still run and --config.check shows every error at once.
	var errs []error
	if err := cc.DecodeOptions(&opts); err != nil {
		errs = append(errs, err)
	}
	p := cc.Path() + ".options"
	opts.Workspace = strings.TrimSpace(opts.Workspace)
	if strings.ContainsAny(opts.Workspace, " /\r\n") {
		errs = append(errs, cfg.Errorf(p+".workspace", "must be a workspace id, got %q", opts.Workspace))
	}
	domain := strings.ToLower(strings.TrimSpace(opts.Domain))
	if strings.ContainsAny(domain, "/: ") {
		errs = append(errs, cfg.Errorf(p+".domain", "must be a domain name like rebrand.ly, got %q", opts.Domain))
	}
	refs, refErrs := exporter.CheckShortener(cc, exporter.ShortenerRules{Form: "domain/slashtag, like rebrand.ly/alice", Domain: domain})
	if err := errors.Join(append(errs, refErrs...)...); err != nil {
		return nil, err
	}

	a := &api{API: exporter.NewAPI(cc, DefaultBaseURL, s.Client), domain: domain}
	if opts.Workspace != "" {
		a.Header = http.Header{}
		a.Header.Set("workspace", opts.Workspace)
	}
	s.Client.SetHooks(exporter.ClientHooks{
		ErrorMessage: errorMessage,
		Authorize:    exporter.HeaderAuth("apikey"),
	})
	return &collector{
		name:   cc.Name,
		api:    a,
		links:  refs.Links,
		tags:   refs.Tags,
		set:    s.Links,
		logger: s.Logger,
	}, nil
}

// Poll lists the links once and reports the configured and tagged ones.
func (c *collector) Poll(ctx context.Context) ([]exporter.Sample, error) {
	c.mu.Lock()
	from := c.cursor
	c.mu.Unlock()
	listed, next, complete, calls, err := c.api.walk(ctx, from)
	if err != nil {
		what := "links"
		if c.api.domain != "" {
			what = "links of domain " + c.api.domain
		}
		return nil, fmt.Errorf("rebrandly: list %s: %w", what, err)
	}
	byID := make(map[string]apiLink, len(listed))
	tagsListed := false
	for _, l := range listed {
		if l.Tags != nil {
			tagsListed = true
		}
		if l.Slashtag == "" || l.host() == "" {
			continue
		}
		byID[exporter.LinkID(l.host(), l.Slashtag)] = l
	}

	report := exporter.NewLinkReport(Provider)
	missing := 0
	for _, ref := range c.links {
		h, slashtag, _ := exporter.SplitLinkID(ref.ID)
		l, ok := byID[exporter.LinkID(h, slashtag)]
		n, clicksErr := l.clicks()
		switch {
		case ok && clicksErr != nil:
			report.Skip(ref.Campaign, ref.Creator, ref.ID, fmt.Errorf("rebrandly: link %q: %w", ref.ID, clicksErr))
			missing++
		case ok:
			report.Configured(ref, l.shortURL(), l.Destination, n)
		case !complete:
			// Not in the pages read before the time ran out.
			report.Defer(ref.Campaign, ref.Creator, ref.ID)
		default:
			where := "in the workspace"
			if c.api.domain != "" {
				where = "on domain " + c.api.domain
			}
			report.Skip(ref.Campaign, ref.Creator, ref.ID, fmt.Errorf("rebrandly: link %q: not found %s: %w", ref.ID, where, exporter.ErrNotFound))
			missing++
		}
	}
	var found []exporter.TaggedLink
	for _, tag := range c.tags {
		if !tagsListed && len(listed) > 0 {
			// Without the field we cannot tell "no link has the tag"
			// from "the API stopped sending tags": say so.
			report.Note(fmt.Errorf("rebrandly: tag %q: the link listing carries no tags, links cannot be discovered by tag", tag.Tag.Tag))
			continue
		}
		for _, l := range listed {
			if l.Slashtag == "" || l.host() == "" || !hasTag(l.Tags, tag.Tag.Tag) {
				continue
			}
			id := exporter.LinkID(l.host(), l.Slashtag)
			if report.Seen(id) {
				continue
			}
			found = append(found, exporter.TaggedLink{Tag: tag, ID: id})
			n, err := l.clicks()
			if err != nil {
				report.Skip(tag.Campaign, tag.Creator, id, fmt.Errorf("rebrandly: link %q: %w", id, err))
				missing++
				continue
			}
			report.Discovered(tag, id, l.shortURL(), l.Destination, n)
		}
	}

	c.mu.Lock()
	if complete {
		c.tagged = found
	} else {
		// The links found by tag that this pass did not reach keep
		// their values, and stay known until a pass completes.
		for _, d := range c.tagged {
			if !report.Seen(d.ID) {
				found = append(found, d)
			}
			report.Defer(d.Tag.Campaign, d.Tag.Creator, d.ID)
		}
		c.tagged = found
	}
	c.cursor = next
	c.mu.Unlock()

	samples, err := report.Finish(c.set, c.name)
	c.logger.Debug("refreshed links", "listed", len(listed), "complete", complete, "reported", report.Len(), "missing", missing, "api_calls", calls)
	return samples, err
}

func hasTag(tags *[]apiTag, want string) bool {
	return tags != nil && slices.ContainsFunc(*tags, func(t apiTag) bool { return t.Name == want })
}

// Plan implements exporter.Planner: the pages of one pass, by the call
// pattern above.
func (c *collector) Plan() exporter.Plan {
	links := len(c.links)
	where := "the workspace"
	if c.api.domain != "" {
		where = "domain " + c.api.domain
	}
	return exporter.Plan{
		Calls: links/pageLimit + 1,
		Note: fmt.Sprintf("pages of %d links of GET /links: at least floor(%d configured links/%d)+1; every %d other links on %s, tagged or not, cost 1 call more (not known from config)",
			pageLimit, links, pageLimit, pageLimit, where),
	}
}

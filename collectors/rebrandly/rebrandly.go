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
// Rebrandly allows 10 requests a second on api.rebrandly.com (and a
// workspace quota per hour); the shared client's default of 5 a second
// stays below it.
package rebrandly

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

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
}

// New builds a Rebrandly collector. It validates options and configured
// links and makes no call.
func New(s exporter.Settings) (exporter.Collector, error) {
	cc := s.Config
	cfg := cc.Config()
	var opts Options
	if err := cc.DecodeOptions(&opts); err != nil {
		return nil, err
	}
	p := cc.Path() + ".options"
	opts.Workspace = strings.TrimSpace(opts.Workspace)
	if strings.ContainsAny(opts.Workspace, " /\r\n") {
		return nil, cfg.Errorf(p+".workspace", "must be a workspace id, got %q", opts.Workspace)
	}
	domain := strings.ToLower(strings.TrimSpace(opts.Domain))
	if strings.ContainsAny(domain, "/: ") {
		return nil, cfg.Errorf(p+".domain", "must be a domain name like rebrand.ly, got %q", opts.Domain)
	}
	refs, errs := exporter.CheckShortener(cc, exporter.ShortenerRules{Form: "domain/slashtag, like rebrand.ly/alice", Domain: domain})
	if err := errors.Join(errs...); err != nil {
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
	listed, calls, err := c.api.listLinks(ctx)
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
	skipped := 0
	skip := func(err error) {
		report.Skip(err)
		skipped++
	}
	for _, ref := range c.links {
		h, slashtag, _ := exporter.SplitLinkID(ref.ID)
		l, ok := byID[exporter.LinkID(h, slashtag)]
		if !ok {
			where := "in the workspace"
			if c.api.domain != "" {
				where = "on domain " + c.api.domain
			}
			skip(fmt.Errorf("rebrandly: link %q: not found %s: %w", ref.ID, where, exporter.ErrNotFound))
			continue
		}
		report.Configured(ref, l.shortURL(), l.Clicks)
	}
	for _, tag := range c.tags {
		if !tagsListed && len(listed) > 0 {
			// Without the field we cannot tell "no link has the tag"
			// from "the API stopped sending tags": say so.
			skip(fmt.Errorf("rebrandly: tag %q: the link listing carries no tags, links cannot be discovered by tag", tag.Tag.Tag))
			continue
		}
		for _, l := range listed {
			if l.Slashtag == "" || l.host() == "" || !hasTag(l.Tags, tag.Tag.Tag) {
				continue
			}
			report.Discovered(tag, exporter.LinkID(l.host(), l.Slashtag), l.shortURL(), l.Clicks)
		}
	}

	samples, err := report.Finish(c.set, c.name)
	c.logger.Debug("refreshed links", "listed", len(listed), "reported", report.Len(), "skipped", skipped, "api_calls", calls)
	return samples, err
}

func hasTag(tags *[]apiTag, want string) bool {
	return tags != nil && slices.ContainsFunc(*tags, func(t apiTag) bool { return t.Name == want })
}

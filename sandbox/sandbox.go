// Package sandbox runs the built-in sandbox campaign: fakes of every
// supported provider API, and a fake shop the tracking links lead to, each
// on its own loopback address from the config's sandbox block. The fakes
// are the same ones the collectors' tests use, so the sandbox exercises the
// real wire formats with no credentials and no internet.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/bitly/bitlyfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/dub/dubfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/ga4/ga4fake"
	"github.com/influencer-exporter/influencer_exporter/collectors/instagram/instagramfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/linkprobe/sitefake"
	"github.com/influencer-exporter/influencer_exporter/collectors/plausible/plausiblefake"
	"github.com/influencer-exporter/influencer_exporter/collectors/rebrandly/rebrandlyfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/shopify/shopifyfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/shortio/shortiofake"
	"github.com/influencer-exporter/influencer_exporter/collectors/stripe/stripefake"
	"github.com/influencer-exporter/influencer_exporter/collectors/tiktok/tiktokfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/woocommerce/woocommercefake"
	"github.com/influencer-exporter/influencer_exporter/collectors/youtube/youtubefake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// Tokens the fakes accept. config.yaml reads them from sandbox/tokens/, as a
// real deployment reads real tokens from files.
const (
	BitlyToken     = "sandbox-bitly-token"
	DubToken       = "dub_sandbox_token"
	ShortioToken   = "sk_sandbox_shortio"
	RebrandlyToken = "sandbox-rebrandly-key"
	ShopifyToken   = "shpat_sandbox_token"
	// WooCommerce authenticates with a consumer key and secret; the token
	// file holds both, joined by a colon.
	WooCommerceToken = "ck_sandbox_key:cs_sandbox_secret"
	StripeToken      = "sk_test_sandbox_key"
	InstagramToken   = "IGQsandboxaccesstoken"
	TikTokToken      = "act.sandbox-access-token"
	YouTubeKey       = "AIzaSandboxYouTubeKey"
	PlausibleToken   = "plausible_sandbox_key"
	// GA4Property is the sandbox's GA4 property. Its service-account key,
	// sandbox/tokens/ga4.json, is a key made for the sandbox only: it
	// opens nothing anywhere else.
	GA4Property = "314159265"
)

// DefaultBreakAfter is when the scripted link breaks if the config does not
// say.
const DefaultBreakAfter = 3 * time.Minute

// Destinations names the fake shop in SandboxConfig.Servers.
const Destinations = "destinations"

// linkFake is what the sandbox needs of a shortener fake.
type linkFake interface {
	http.Handler
	SetPublicURL(string)
}

// Sandbox is a running sandbox.
type Sandbox struct {
	Bitly     *bitlyfake.Server
	Dub       *dubfake.Server
	Shortio   *shortiofake.Server
	Rebrandly *rebrandlyfake.Server
	Shopify   *shopifyfake.Server
	Woo       *woocommercefake.Server
	Stripe    *stripefake.Server
	Instagram *instagramfake.Server
	TikTok    *tiktokfake.Server
	YouTube   *youtubefake.Server
	Plausible *plausiblefake.Server
	GA4       *ga4fake.Server
	Site      *sitefake.Site

	servers []*http.Server
	timer   *time.Timer
	wg      sync.WaitGroup
	logger  *slog.Logger
}

// Start listens on every configured address and serves the fakes. Every
// address must be loopback; the config validation enforces it too.
func Start(cfg *exporter.SandboxConfig, logger *slog.Logger) (*Sandbox, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	sb := &Sandbox{
		Bitly:     bitlyfake.New(BitlyToken, nil),
		Dub:       dubfake.New(DubToken, nil),
		Shortio:   shortiofake.New(ShortioToken, nil),
		Rebrandly: rebrandlyfake.New(RebrandlyToken, nil),
		Shopify:   shopifyfake.New(ShopifyToken, nil),
		Woo:       woocommercefake.New(WooCommerceToken, nil),
		Stripe:    stripefake.New(StripeToken, nil),
		Instagram: instagramfake.New(InstagramToken, nil),
		TikTok:    tiktokfake.New(TikTokToken, nil),
		YouTube:   youtubefake.New(YouTubeKey, nil),
		Plausible: plausiblefake.New(PlausibleToken, nil),
		GA4:       ga4fake.New(GA4Property, nil),
		Site:      sitefake.New(),
		logger:    logger,
	}
	handlers := map[string]http.Handler{
		"bitly":       sb.Bitly,
		"dub":         sb.Dub,
		"shortio":     sb.Shortio,
		"rebrandly":   sb.Rebrandly,
		"shopify":     sb.Shopify,
		"woocommerce": sb.Woo,
		"stripe":      sb.Stripe,
		"instagram":   sb.Instagram,
		"tiktok":      sb.TikTok,
		"youtube":     sb.YouTube,
		"plausible":   sb.Plausible,
		"ga4":         sb.GA4,
		Destinations:  sb.Site,
	}
	for name := range cfg.Servers {
		if _, ok := handlers[name]; !ok {
			return nil, fmt.Errorf("sandbox: unknown server %q (known: %s)", name, strings.Join(sortedNames(handlers), ", "))
		}
	}
	dest, ok := cfg.Servers[Destinations]
	if !ok {
		return nil, fmt.Errorf("sandbox: servers.%s is required: the tracking links lead there", Destinations)
	}
	destBase := "http://" + dest

	for _, l := range scenario {
		if _, ok := cfg.Servers[l.provider]; !ok {
			continue // the config leaves this provider out
		}
		target := destBase + "/p/" + l.product + "?" + url.Values{
			"utm_source":   {l.creator},
			"utm_medium":   {"influencer"},
			"utm_campaign": {l.campaign},
		}.Encode()
		switch l.provider {
		case "bitly":
			sb.Bitly.AddLink(bitlyfake.Link{ID: l.id, Destination: target, Tags: l.tags, Clicks: l.clicks})
		case "dub":
			sb.Dub.AddLink(dubfake.Link{ID: l.id, Destination: target, Tags: l.tags, Clicks: l.clicks})
		case "shortio":
			sb.Shortio.AddLink(shortiofake.Link{ID: l.id, Destination: target, Tags: l.tags, Clicks: l.clicks})
		case "rebrandly":
			sb.Rebrandly.AddLink(rebrandlyfake.Link{ID: l.id, Destination: target, Tags: l.tags, Clicks: l.clicks})
		}
	}

	for _, o := range shopScenario {
		switch o.shop {
		case "shopify":
			sb.Shopify.AddStream(o.stream)
		case "woocommerce":
			sb.Woo.AddStream(o.stream)
		case "stripe":
			sb.Stripe.AddStream(o.stream)
		}
	}

	seedSocial(sb, start)
	if err := seedReferrals(sb); err != nil {
		return nil, err
	}

	for _, name := range sortedNames(handlers) {
		addr, ok := cfg.Servers[name]
		if !ok {
			continue
		}
		ln, err := listenLoopback(addr)
		if err != nil {
			sb.Close()
			return nil, fmt.Errorf("sandbox: %s: %w", name, err)
		}
		if f, ok := handlers[name].(linkFake); ok {
			f.SetPublicURL("http://" + ln.Addr().String())
		}
		srv := &http.Server{Handler: handlers[name], ReadHeaderTimeout: 5 * time.Second}
		sb.servers = append(sb.servers, srv)
		sb.wg.Add(1)
		go func() {
			defer sb.wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("sandbox server stopped", "server", name, "err", err)
			}
		}()
		logger.Info("sandbox fake listening", "server", name, "address", ln.Addr().String())
	}

	breakAfter := time.Duration(cfg.BreakAfter)
	if breakAfter <= 0 {
		breakAfter = DefaultBreakAfter
	}
	path := "/p/" + brokenProduct
	sb.timer = time.AfterFunc(breakAfter-time.Since(start), func() {
		sb.Site.Break(path)
		logger.Info("sandbox: a tracking link's destination now answers 404", "path", path)
	})
	return sb, nil
}

// Close stops the fakes.
func (sb *Sandbox) Close() {
	if sb.timer != nil {
		sb.timer.Stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range sb.servers {
		_ = s.Shutdown(ctx)
	}
	sb.wg.Wait()
}

// Faults returns the fault switch of a provider fake, for tests that make
// providers fail or hang; nil for an unknown name.
func (sb *Sandbox) Faults(provider string) *fakeapi.Faults {
	return map[string]*fakeapi.Faults{
		"bitly": &sb.Bitly.Faults, "dub": &sb.Dub.Faults, "shortio": &sb.Shortio.Faults, "rebrandly": &sb.Rebrandly.Faults,
		"shopify": &sb.Shopify.Faults, "woocommerce": &sb.Woo.Faults, "stripe": &sb.Stripe.Faults,
		"instagram": &sb.Instagram.Faults, "tiktok": &sb.TikTok.Faults, "youtube": &sb.YouTube.Faults,
		"plausible": &sb.Plausible.Faults, "ga4": &sb.GA4.Faults,
	}[provider]
}

func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("refusing to listen on %q: the sandbox stays on loopback", addr)
	}
	return net.Listen("tcp", addr)
}

func sortedNames(m map[string]http.Handler) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

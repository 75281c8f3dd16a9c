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

	"github.com/influencer-exporter/influencer_exporter/collectors/linkprobe/sitefake"
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

// publicFake is a fake that reports its own URL in what it serves (short
// links, token endpoints): it is told where it listens.
type publicFake interface {
	SetPublicURL(string)
}

// Fake is one provider's fake in the sandbox: what serves it, and its fault
// switch for tests.
type Fake struct {
	Handler http.Handler
	Faults  *fakeapi.Faults
}

// Seed is what a provider's sandbox entry gets to build its fake.
type Seed struct {
	// Start is when the sandbox started: counts grow from it.
	Start time.Time
	// Destination returns the URL of a product page of the fake shop,
	// with the creator's UTM parameters, where tracking links lead.
	Destination func(product, campaign, creator string) string
}

var registry = map[string]func(Seed) (Fake, error){}

// register adds a provider's fake to the sandbox: each provider has one
// entry, in this package, next to its part of the scenario.
func register(name string, build func(Seed) (Fake, error)) {
	if _, dup := registry[name]; dup {
		panic("sandbox: " + name + " registered twice")
	}
	registry[name] = build
}

// Sandbox is a running sandbox.
type Sandbox struct {
	// Site is the fake shop the tracking links lead to.
	Site *sitefake.Site

	fakes   map[string]Fake
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
	sb := &Sandbox{Site: sitefake.New(), fakes: map[string]Fake{}, logger: logger}
	for name := range cfg.Servers {
		if _, ok := registry[name]; !ok && name != Destinations {
			return nil, fmt.Errorf("sandbox: unknown server %q (known: %s, %s)", name, Destinations, strings.Join(sortedNames(registry), ", "))
		}
	}
	dest, ok := cfg.Servers[Destinations]
	if !ok {
		return nil, fmt.Errorf("sandbox: servers.%s is required: the tracking links lead there", Destinations)
	}
	seed := Seed{
		Start: time.Now(),
		Destination: func(product, campaign, creator string) string {
			return "http://" + dest + "/p/" + product + "?" + url.Values{
				"utm_source":   {creator},
				"utm_medium":   {"influencer"},
				"utm_campaign": {campaign},
			}.Encode()
		},
	}
	handlers := map[string]http.Handler{Destinations: sb.Site}
	for name, build := range registry {
		if _, ok := cfg.Servers[name]; !ok {
			continue // the config leaves this provider out
		}
		f, err := build(seed)
		if err != nil {
			return nil, fmt.Errorf("sandbox: %s: %w", name, err)
		}
		sb.fakes[name] = f
		handlers[name] = f.Handler
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
		if f, ok := handlers[name].(publicFake); ok {
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
	sb.timer = time.AfterFunc(breakAfter-time.Since(seed.Start), func() {
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
// providers fail or hang; nil for a provider the sandbox does not run.
func (sb *Sandbox) Faults(provider string) *fakeapi.Faults { return sb.fakes[provider].Faults }

// Providers lists the provider fakes the sandbox runs, sorted.
func (sb *Sandbox) Providers() []string { return sortedNames(sb.fakes) }

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

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

package exporter

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// Collector polls one provider account. Poll runs in the background on the
// collector's interval, never during a scrape; it returns every sample of
// one refresh. On error the scheduler keeps the previous snapshot.
type Collector interface {
	Poll(ctx context.Context) ([]Sample, error)
}

// Settings is what a Factory gets to build a collector.
type Settings struct {
	// Config is the collector's own block; Config.Config() is the whole
	// file, for LinksFor, TagsFor and Errorf.
	Config *CollectorConfig
	// Client is the collector's HTTP client: retries, rate limit, size cap,
	// request metrics and secret redaction are already set up.
	Client *Client
	Logger *slog.Logger
	// Links is where link shorteners publish the tracking links they
	// resolved, and where the link probe reads them.
	Links *LinkSet
	// Storage keeps state across restarts (--storage.path); nil keeps
	// nothing, and its methods do nothing.
	Storage *Storage
}

// Factory builds a collector from its settings. It validates the options and
// returns config errors (Config.Errorf) but does no network I/O: it runs for
// --config.check and on every reload.
type Factory func(Settings) (Collector, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Factory{}
	// defaultIntervals are the providers' own default intervals.
	defaultIntervals = map[string]time.Duration{}
)

// Register makes a provider available as a collector type. It is called
// from the init function of the provider's package, which main imports.
func Register(provider string, f Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[provider]; dup {
		panic(fmt.Sprintf("exporter: provider %q registered twice", provider))
	}
	registry[provider] = f
}

// IsRegistered reports whether a provider type is known.
func IsRegistered(provider string) bool {
	registryMu.RLock()
	defer registryMu.RUnlock()
	_, ok := registry[provider]
	return ok
}

// Providers lists the registered provider types, sorted.
func Providers() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return sortedKeys(registry)
}

// SetDefaultInterval makes the provider's collectors refresh every d when
// their block sets no interval, instead of global.refresh_interval: the link
// probe's round is part of the paging budget, not a provider API's polling
// cadence. Call it from the provider's init, after Register.
func SetDefaultInterval(provider string, d time.Duration) {
	registryMu.Lock()
	defer registryMu.Unlock()
	defaultIntervals[provider] = d
}

func defaultInterval(provider string) (time.Duration, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	d, ok := defaultIntervals[provider]
	return d, ok
}

func lookup(provider string) (Factory, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	r, ok := registry[provider]
	return r, ok
}

// PublishedLink is a tracking link a shortener collector resolved: what the
// link probe requests and how it labels the result.
type PublishedLink struct {
	Campaign, Creator string
	Provider          string
	// ID is the short link without scheme, the `link` label.
	ID string
	// URL is the absolute short URL the probe requests.
	URL string
	// Destination is the long URL the shortener's API says the link
	// redirects to, "" where the collector does not read it. The probe
	// checks the short link's redirect against it and probes each
	// distinct destination once per round.
	Destination string
	Expect      *Expect
}

// LinkSet holds the links each shortener collector published on its last
// successful refresh.
type LinkSet struct {
	mu    sync.RWMutex
	byCol map[string][]PublishedLink
}

// NewLinkSet returns an empty set.
func NewLinkSet() *LinkSet { return &LinkSet{byCol: map[string][]PublishedLink{}} }

// Publish replaces the links of one collector.
func (s *LinkSet) Publish(collector string, links []PublishedLink) {
	cp := append([]PublishedLink(nil), links...)
	s.mu.Lock()
	s.byCol[collector] = cp
	s.mu.Unlock()
}

// Forget drops the links of collectors not in keep (after a reload removed
// them).
func (s *LinkSet) Forget(keep map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.byCol {
		if !keep[c] {
			delete(s.byCol, c)
		}
	}
}

// All returns every published link, sorted by provider and id. Two
// collectors may publish the same link; the probe deduplicates.
func (s *LinkSet) All() []PublishedLink {
	s.mu.RLock()
	var out []PublishedLink
	for _, ls := range s.byCol {
		out = append(out, ls...)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Provider != out[j].Provider {
			return out[i].Provider < out[j].Provider
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Finder is implemented by collectors whose successful refresh still has
// findings worth showing on the landing page, such as the link probe's
// broken links: not refresh errors, but what an operator looks for first.
type Finder interface {
	// Findings maps an object (provider/link) to what is wrong with it.
	Findings() map[string]string
}

package exporter

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Deps are the process-wide parts every collector instance shares.
type Deps struct {
	Metrics *APIMetrics
	Logger  *slog.Logger
	Links   *LinkSet
	// Transport, when set, replaces the default HTTP transport of every
	// client, and the one of a collector's http_config (tests inject
	// dialers and resolvers with it).
	Transport http.RoundTripper
	// Storage keeps state across restarts; nil keeps nothing.
	Storage *Storage
	// DialContext, when set, opens the connections of the transports
	// the collectors share (see transportPool), in place of Go's dialer:
	// tests count the connections a collector holds with it.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Instance is one built collector.
type Instance struct {
	Name      string
	Type      string
	Interval  time.Duration
	Config    *CollectorConfig
	Collector Collector
	// Redact removes the collector's secrets from text, in every form
	// its client knows (see Client.Redact); nil redacts nothing.
	Redact func(string) string
}

// Build creates every configured collector. Factory errors (bad options,
// links a provider cannot handle) are gathered, so --config.check shows
// them all at once. On a config that failed to load (see Check), the
// collectors whose block did not decode, or whose type, token or
// http_config is invalid, are not built.
func Build(cfg *Config, d Deps) ([]*Instance, error) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = NewAPIMetrics()
	}
	if d.Links == nil {
		d.Links = NewLinkSet()
	}
	var (
		out  []*Instance
		errs []error
	)
	pool := newTransportPool(cfg.Collectors)
	pool.dial = d.DialContext
	for _, cc := range cfg.Collectors {
		if cc == nil || cfg.problems.unbuildable(cc.path) {
			continue
		}
		factory, ok := lookup(cc.Type)
		if !ok {
			errs = append(errs, cfg.Errorf(cc.path+".type", "unknown collector type %q", cc.Type))
			continue
		}
		logger := d.Logger.With("collector", cc.Name)
		client, err := newCollectorClient(cc, d, pool, logger)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		col, err := factory(Settings{Config: cc, Client: client, Logger: logger, Links: d.Links, Storage: d.Storage})
		if err != nil {
			// Each error on a line of its own, and each located: one
			// the collector did not place names its block.
			for _, e := range flattenErrors(err) {
				var ce *ConfigError
				if !errors.As(e, &ce) {
					e = cfg.Errorf(cc.path, "%s: %w", cc.Type, e)
				}
				errs = append(errs, e)
			}
			continue
		}
		out = append(out, &Instance{
			Name:      cc.Name,
			Type:      cc.Type,
			Interval:  time.Duration(cc.Interval),
			Config:    cc,
			Collector: col,
			Redact:    client.Redact,
		})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// newCollectorClient builds the API client of one collector: the
// transport its type and http_config share in pool (unless d.Transport
// replaces it) under the collector's own retries, limits, token, metrics
// and redaction.
func newCollectorClient(cc *CollectorConfig, d Deps, pool *transportPool, logger *slog.Logger) (*Client, error) {
	transport := d.Transport
	if transport == nil {
		t, err := pool.transport(cc)
		if err != nil {
			return nil, cc.cfg.Errorf(cc.path+".http_config", "%v", err)
		}
		transport = t
	}
	return NewClient(ClientOptions{
		Collector: cc.Name,
		Token:     string(cc.Token),
		HTTP:      cc.HTTP,
		Timeout:   time.Duration(cc.Timeout),
		Metrics:   d.Metrics,
		Logger:    logger,
		Transport: transport,
		// Without http_config, redirects are followed, as by Go's
		// default client.
		NoRedirects: cc.HTTPClient != nil && !cc.HTTPClient.FollowRedirects,
	}), nil
}

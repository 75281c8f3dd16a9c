package exporter

import (
	"errors"

	"log/slog"
	"net/http"
	"time"
)

// Deps are the process-wide parts every collector instance shares.
type Deps struct {
	Metrics *APIMetrics
	Logger  *slog.Logger
	Links   *LinkSet
	// Transport, when set, replaces the default HTTP transport of every
	// client (tests inject dialers and resolvers with it).
	Transport http.RoundTripper
}

// Instance is one built collector.
type Instance struct {
	Name      string
	Type      string
	Interval  time.Duration
	Config    *CollectorConfig
	Collector Collector
}

// Build creates every configured collector. Factory errors (bad options,
// links a provider cannot handle) are gathered, so --config.check shows
// them all at once.
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
	for _, cc := range cfg.Collectors {
		factory, ok := lookup(cc.Type)
		if !ok {
			errs = append(errs, cfg.Errorf(cc.path+".type", "unknown collector type %q", cc.Type))
			continue
		}
		logger := d.Logger.With("collector", cc.Name)
		client := NewClient(ClientOptions{
			Collector: cc.Name,
			Token:     string(cc.Token),
			HTTP:      cc.HTTP,
			Timeout:   time.Duration(cc.Timeout),
			Metrics:   d.Metrics,
			Logger:    logger,
			Transport: d.Transport,
		})
		col, err := factory(Settings{Config: cc, Client: client, Logger: logger, Links: d.Links})
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				err = cfg.Errorf(cc.path, "%s: %w", cc.Type, err)
			}
			errs = append(errs, err)
			continue
		}
		out = append(out, &Instance{
			Name:      cc.Name,
			Type:      cc.Type,
			Interval:  time.Duration(cc.Interval),
			Config:    cc,
			Collector: col,
		})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

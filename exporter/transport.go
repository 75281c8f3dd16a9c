package exporter

import (
	"context"
	"net"
	"net/http"
	"reflect"

	"github.com/prometheus/common/config"
)

// transportPool hands the collectors of one type whose http_config blocks
// are equal one transport, and so one pool of connections: a TikTok token
// reads one account only, so an agency runs a collector per account, and
// a transport each would hold a connection per account. The transport
// carries no credential: each collector's Client sets its own token on
// each request, and counts its own requests, retries and quota.
//
// A pool holds at most as many connections to a host as the largest
// http.max_concurrent_requests among its collectors (the requests of
// more wait for one to be free), where the transport is Go's own:
// always without http_config, and with it unless tls_config reads files,
// which prometheus/common reloads into transports of its own making.
type transportPool struct {
	shared []*sharedTransport
	// dial, when set, opens the connections (Deps.DialContext).
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// sharedTransport is the transport of one type and http_config.
type sharedTransport struct {
	typ      string
	http     *config.HTTPClientConfig // nil: Go's default transport
	maxConns int
	rt       http.RoundTripper // built on first use
	err      error
}

// newTransportPool groups the collectors by type and http_config.
func newTransportPool(collectors []*CollectorConfig) *transportPool {
	p := &transportPool{}
	for _, cc := range collectors {
		if cc == nil {
			continue
		}
		s := p.find(cc)
		if s == nil {
			s = &sharedTransport{typ: cc.Type, http: cc.HTTPClient}
			p.shared = append(p.shared, s)
		}
		s.maxConns = max(s.maxConns, cc.HTTP.MaxConcurrentRequests, 1)
	}
	return p
}

// find returns the group of cc, nil if it has none yet. Blocks compare
// by value, secrets included, so collectors whose TLS keys or proxy
// headers differ never share connections.
func (p *transportPool) find(cc *CollectorConfig) *sharedTransport {
	for _, s := range p.shared {
		if s.typ == cc.Type && reflect.DeepEqual(s.http, cc.HTTPClient) {
			return s
		}
	}
	return nil
}

// transport returns the shared transport of cc, building it on first use.
func (p *transportPool) transport(cc *CollectorConfig) (http.RoundTripper, error) {
	s := p.find(cc)
	if s == nil {
		// Not among the collectors the pool was made for: its own.
		s = &sharedTransport{typ: cc.Type, http: cc.HTTPClient, maxConns: max(cc.HTTP.MaxConcurrentRequests, 1)}
		p.shared = append(p.shared, s)
	}
	if s.rt == nil && s.err == nil {
		s.rt, s.err = s.build(p.dial)
	}
	return s.rt, s.err
}

func (s *sharedTransport) build(dial func(ctx context.Context, network, addr string) (net.Conn, error)) (http.RoundTripper, error) {
	if s.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if dial != nil {
			t.DialContext = dial
		}
		t.MaxConnsPerHost = s.maxConns
		// Go keeps two idle connections a host by default: the others
		// would be closed after each call and dialled again.
		t.MaxIdleConnsPerHost = s.maxConns
		return t, nil
	}
	var opts []config.HTTPClientOption
	if dial != nil {
		opts = append(opts, config.WithDialContextFunc(dial))
	}
	rt, err := NewTransport(s.http, s.typ, opts...)
	if err != nil {
		return nil, err
	}
	if t, ok := rt.(*http.Transport); ok {
		t.MaxConnsPerHost = s.maxConns
		t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, s.maxConns)
	}
	return rt, nil
}

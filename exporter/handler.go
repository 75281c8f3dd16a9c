package exporter

import (
	"bufio"
	"cmp"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// RenderedCollector is a collector whose series are also kept rendered in
// the text format, so a text scrape copies them instead of collecting
// them. The Cache and the EarlyCurve are; only this package implements it.
type RenderedCollector interface {
	prometheus.Collector
	rendered() *exposition
}

// MetricsHandler serves /metrics as promhttp does (content negotiation,
// OpenMetrics, gzip, name[] filters, errors counted in
// promhttp_metric_handler_errors_total, an error only when nothing at all
// can be served), but writes the text formats Prometheus scrapes
// (OpenMetrics 1.0.0, which it asks for first, and the classic text
// format, its fallback and what curl gets) from rendered bytes:
//
//   - The rendered collectors' families are copied as they were rendered
//     when their snapshot changed, gzip members included.
//   - The registry's families (build info, Go and process metrics, API,
//     reload and steering metrics: a few hundred series that change
//     between refreshes) are gathered and encoded on each scrape, as
//     promhttp would.
//
// Both are written family by family in name order, one HELP and TYPE per
// family. A name both hold is written once: the registry's family, then
// the rendered lines, if their help and type agree; otherwise the rendered
// lines are dropped and counted as a gathering error, as
// prometheus.Gatherers drops an inconsistent family. Duplicate series
// across the two are not looked for.
//
// Delimited protobuf, which Prometheus asks for first when it ingests
// native histograms, is written from the same families in the same order,
// one message per family: the registry's encoded as promhttp encodes
// them, the rendered ones encoded from their lines on each scrape (see
// protobuf.go). The other protobuf formats (text and compact text, for
// debugging) go through promhttp with the registry and the rendered
// collectors, which then build their metrics from their samples.
type MetricsHandler struct {
	gatherer prometheus.Gatherer
	rendered []RenderedCollector
	others   http.Handler
	errors   *prometheus.CounterVec
	logger   *slog.Logger
}

// NewMetricsHandler returns the handler of reg's metrics and of rendered.
// It registers promhttp_metric_handler_errors_total with reg; rendered must
// not be registered with reg.
func NewMetricsHandler(reg Registry, logger *slog.Logger, rendered ...RenderedCollector) (*MetricsHandler, error) {
	return newMetricsHandler(reg, reg, logger, rendered...)
}

// newMetricsHandler is NewMetricsHandler with the gatherer of the
// per-scrape families apart from where the errors counter goes.
func newMetricsHandler(g prometheus.Gatherer, reg prometheus.Registerer, logger *slog.Logger, rendered ...RenderedCollector) (*MetricsHandler, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	errCnt := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "promhttp_metric_handler_errors_total",
		Help: "Total number of internal errors encountered by the promhttp metric handler.",
	}, []string{"cause"})
	errCnt.WithLabelValues("gathering")
	errCnt.WithLabelValues("encoding")
	if err := reg.Register(errCnt); err != nil {
		are := prometheus.AlreadyRegisteredError{}
		if !errors.As(err, &are) {
			return nil, err
		}
		existing, ok := are.ExistingCollector.(*prometheus.CounterVec)
		if !ok {
			return nil, err
		}
		errCnt = existing
	}
	onDemand := prometheus.NewRegistry()
	for _, c := range rendered {
		if err := onDemand.Register(c); err != nil {
			return nil, err
		}
	}
	return &MetricsHandler{
		gatherer: g,
		rendered: rendered,
		// promhttp finds the errors counter registered above and counts
		// in it too.
		others: promhttp.HandlerFor(prometheus.Gatherers{g, onDemand}, promhttp.HandlerOpts{
			ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelError),
			ErrorHandling: promhttp.ContinueOnError,
			// Prometheus 3 asks for OpenMetrics first; offer it, as
			// node_exporter does.
			EnableOpenMetrics: true,
			Registry:          reg,
		}),
		errors: errCnt,
		logger: logger,
	}, nil
}

// ServeHTTP implements http.Handler. While it serves, refreshes wait at
// their checkpoints (see scrapes).
func (h *MetricsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	scrapes.enter()
	defer scrapes.exit()
	format := expfmt.NegotiateAccept(r.Header, expfmt.DefaultOpenMetricsAcceptedFormats()...)
	var (
		f     int
		proto bool
	)
	switch {
	case format.FormatType() == expfmt.TypeTextPlain:
		f = formatText
	case format.FormatType() == expfmt.TypeOpenMetrics &&
		(format.Version() == expfmt.OpenMetricsVersion_1_0_0 || format.Version() == expfmt.OpenMetricsVersion_0_0_1):
		f = formatOpenMetrics
	case format.FormatType() == expfmt.TypeProtoDelim:
		proto = true
	default:
		h.others.ServeHTTP(w, r)
		return
	}
	mfs, err := h.gatherer.Gather()
	if err != nil {
		h.logger.Error("error gathering metrics", "err", err)
		h.errors.WithLabelValues("gathering").Inc()
	}
	var filter map[string]bool
	if r.URL != nil {
		if names := r.URL.Query()["name[]"]; len(names) > 0 {
			filter = make(map[string]bool, len(names))
			for _, n := range names {
				filter[n] = true
			}
		}
	}
	plan := h.plan(mfs, filter)
	if err != nil && len(plan) == 0 {
		http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
		return
	}

	header := w.Header()
	header.Add("Vary", "Accept")
	header.Add("Vary", "Accept-Encoding")
	header.Set("Content-Type", string(format))
	gz := negotiateGzip(r)
	if gz {
		header.Set("Content-Encoding", "gzip")
	}
	if r.Method == http.MethodHead {
		return
	}
	if proto {
		h.serveProto(w, format, plan, gz)
		return
	}

	bw := newBody(w, format, f, gz)
	defer bw.release()
	for _, p := range plan {
		if p.gathered != nil {
			if err := bw.encode(p.gathered); err != nil && bw.failed() == nil {
				h.logger.Error("error encoding metric family", "family", p.gathered.GetName(), "err", err)
				h.errors.WithLabelValues("encoding").Inc()
			}
		}
		for i, fam := range p.rendered {
			bw.rendered(fam, i == 0 && p.gathered == nil)
		}
		if bw.failed() != nil {
			break
		}
	}
	if err := bw.finish(); err != nil {
		h.logger.Error("error writing metrics", "err", err)
		h.errors.WithLabelValues("encoding").Inc()
	}
}

// serveProto writes the body of a protobuf scrape of plan.
func (h *MetricsHandler) serveProto(w io.Writer, format expfmt.Format, plan []planned, gz bool) {
	pb := newProtoBody(w, format, gz)
	defer pb.release()
	for _, p := range plan {
		if err := pb.family(p); err != nil && pb.failed() == nil {
			name := p.gathered.GetName()
			if p.gathered == nil {
				name = p.rendered[0].metric.Name
			}
			h.logger.Error("error encoding metric family", "family", name, "err", err)
			h.errors.WithLabelValues("encoding").Inc()
		}
		if pb.failed() != nil {
			break
		}
	}
	if err := pb.finish(); err != nil {
		h.logger.Error("error writing metrics", "err", err)
		h.errors.WithLabelValues("encoding").Inc()
	}
}

// planned is one family of a scrape: the registry's, the rendered
// collectors', or both.
type planned struct {
	gathered *dto.MetricFamily
	rendered []family
}

// plan merges the gathered families (sorted by name, as Gather returns
// them) with the rendered ones, by name.
func (h *MetricsHandler) plan(mfs []*dto.MetricFamily, filter map[string]bool) []planned {
	type entry struct {
		name     string
		gathered *dto.MetricFamily
		rendered family
	}
	n := len(mfs)
	for _, rc := range h.rendered {
		n += len(rc.rendered().families)
	}
	all := make([]entry, 0, n)
	for _, mf := range mfs {
		all = append(all, entry{name: mf.GetName(), gathered: mf})
	}
	for _, rc := range h.rendered {
		for _, f := range rc.rendered().families {
			all = append(all, entry{name: f.metric.Name, rendered: f})
		}
	}
	// Stable: the registry's family comes first under its name.
	slices.SortStableFunc(all, func(a, b entry) int { return cmp.Compare(a.name, b.name) })
	out := make([]planned, 0, len(all))
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].name == all[i].name {
			j++
		}
		group := all[i:j]
		i = j
		if filter != nil && !filter[group[0].name] {
			continue
		}
		var p planned
		for _, e := range group {
			switch {
			case e.gathered != nil:
				p.gathered = e.gathered
			case p.gathered != nil && !sameFamily(p.gathered.GetHelp(), p.gathered.GetType(), e.rendered.metric):
				h.inconsistent(e.rendered.metric, p.gathered.GetHelp(), p.gathered.GetType())
			case len(p.rendered) > 0 && !sameFamily(p.rendered[0].metric.Help, dtoType(p.rendered[0].metric.Type), e.rendered.metric):
				h.inconsistent(e.rendered.metric, p.rendered[0].metric.Help, dtoType(p.rendered[0].metric.Type))
			default:
				p.rendered = append(p.rendered, e.rendered)
			}
		}
		out = append(out, p)
	}
	return out
}

func (h *MetricsHandler) inconsistent(m *Metric, help string, typ dto.MetricType) {
	h.logger.Error("error gathering metrics: family rendered with another help or type, dropped",
		"family", m.Name, "help", m.Help, "type", dtoType(m.Type).String(), "want_help", help, "want_type", typ.String())
	h.errors.WithLabelValues("gathering").Inc()
}

func sameFamily(help string, typ dto.MetricType, m *Metric) bool {
	return m.Help == help && dtoType(m.Type) == typ
}

func dtoType(t prometheus.ValueType) dto.MetricType {
	switch t {
	case prometheus.CounterValue:
		return dto.MetricType_COUNTER
	case prometheus.GaugeValue:
		return dto.MetricType_GAUGE
	default:
		return dto.MetricType_UNTYPED
	}
}

// negotiateGzip reports whether the response is gzipped: as promhttp
// decides between identity and gzip (the offer with the highest q wins,
// identity on a tie or when nothing matches).
func negotiateGzip(r *http.Request) bool {
	best, bestQ := "identity", -1.0
	specs := acceptEncodings(r.Header.Values("Accept-Encoding"))
	for _, offer := range []string{"identity", "gzip"} {
		for _, s := range specs {
			if s.q > bestQ && (s.value == "*" || s.value == offer) {
				best, bestQ = offer, s.q
			}
		}
	}
	return best == "gzip" && bestQ > 0
}

type acceptSpec struct {
	value string
	q     float64
}

// acceptEncodings parses Accept-Encoding values: codings with an optional
// q; a value is read up to its first malformed element, as promhttp's
// parser does.
func acceptEncodings(values []string) []acceptSpec {
	var out []acceptSpec
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			name, params, hasParams := strings.Cut(part, ";")
			s := acceptSpec{value: strings.TrimSpace(name), q: 1}
			if s.value == "" {
				break
			}
			if hasParams {
				q, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
				f, err := strconv.ParseFloat(strings.TrimSpace(q), 64)
				if !ok || err != nil || f < 0 || f > 1 {
					break
				}
				s.q = f
			}
			out = append(out, s)
		}
	}
	return out
}

// body writes a text scrape: gathered families through expfmt's encoder,
// rendered ones as stored. With gzip, the rendered families' segments are
// copied into the stream and the gathered ones compressed between them.
type body struct {
	format int // formatText or formatOpenMetrics
	ew     *errWriter
	out    *bufio.Writer
	gz     *gzipStream // nil without gzip
	enc    expfmt.Encoder
}

// errWriter keeps the first error of the response's writes: after it,
// nothing more is written.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

var bodyBuffers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

func newBody(w io.Writer, format expfmt.Format, f int, gz bool) *body {
	b := &body{ew: &errWriter{w: w}, format: f}
	b.out = bodyBuffers.Get().(*bufio.Writer)
	b.out.Reset(b.ew)
	if gz {
		// A failed write shows in failed().
		b.gz, _ = newGzipStream(b.out)
		b.enc = expfmt.NewEncoder(b.gz, format)
	} else {
		b.enc = expfmt.NewEncoder(b.out, format)
	}
	return b
}

func (b *body) failed() error { return b.ew.err }

func (b *body) encode(mf *dto.MetricFamily) error { return b.enc.Encode(mf) }

// rendered writes the lines of f, after its header if head.
func (b *body) rendered(f family, head bool) {
	if head {
		b.write(f.metric.header())
	}
	for _, c := range f.chunks {
		b.write(c)
	}
}

// write writes c as rendered.
func (b *body) write(c chunk) {
	if b.gz == nil {
		// A failed write shows in failed(); a segment that does not
		// inflate cannot be: it was compressed here.
		_ = inflate(b.out, c.gz[b.format])
		return
	}
	_ = b.gz.segment(c.gz[b.format])
}

// finish ends the body (OpenMetrics with its # EOF, gzip with its
// trailer) and flushes it.
func (b *body) finish() error {
	if b.format == formatOpenMetrics {
		b.write(openMetricsEOF())
	}
	if b.gz != nil {
		_ = b.gz.Close()
	}
	_ = b.out.Flush()
	return b.ew.err
}

func (b *body) release() {
	b.out.Reset(nil)
	bodyBuffers.Put(b.out)
}

package exporter

import (
	"cmp"
	"compress/gzip"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// The rendered exposition. A snapshot changes only when its collector
// refreshes, so it is written in the text format once, when it is stored,
// rather than on every scrape: a scrape between two refreshes copies
// bytes. kube-state-metrics keeps its series serialized for the same
// reason (its metrics-store performance proposal). Each family's lines are
// also kept compressed, as a DEFLATE segment a gzip scrape copies into its
// stream (see gzipStream), so a gzip scrape copies bytes too.
//
// The lines are what client_golang's encoders write for the same series:
// label pairs sorted by name, values escaped and floats formatted the same
// way. Series keep the order the collector returned them in: the
// text format asks for no order within a family, and sorting 300,000
// series on every refresh would cost more than it gives.

// renderGzipLevel is the compression of rendered segments. It runs on
// every refresh (every second for a link probe reporting progress):
// BestSpeed writes about a quarter more bytes than the default level in
// less than half the time.
const renderGzipLevel = gzip.BestSpeed

// The rendered formats: the classic text format, and OpenMetrics 1.0.0,
// which Prometheus (2.5 and later) asks for first. Their lines differ only
// in how floats are written (OpenMetrics writes 1 as 1.0) and in the
// headers; OpenMetrics 0.0.1 has the same lines as 1.0.0.
const (
	formatText = iota
	formatOpenMetrics
	numFormats
)

// chunk is lines of each format, as text and compressed (see gzipStream).
type chunk struct {
	text [numFormats][]byte
	gz   [numFormats]segment
}

// family is the rendered series of one metric family: a chunk per source
// (collector), all under the header of metric.
type family struct {
	metric *Metric
	chunks []chunk
}

// exposition is families rendered in the text format, sorted by name, one
// entry per name. It never changes once built: a new snapshot gets a new
// exposition.
type exposition struct {
	families []family
	series   int
}

// bytes returns how many bytes the rendered lines and members take.
func (e *exposition) bytes() int {
	n := 0
	for _, f := range e.families {
		for _, c := range f.chunks {
			for k := range numFormats {
				n += len(c.text[k]) + len(c.gz[k].deflate)
			}
		}
	}
	return n
}

// seriesSeed hashes series identities to find duplicates.
var seriesSeed = maphash.MakeSeed()

// renderSamples renders samples as ToMetrics turns them into metrics: a
// sample without a metric is ignored; one with the wrong number of label
// values, a label value that is not UTF-8, or a series an earlier sample
// already gave, is dropped and reported. It returns the exposition and the
// indexes, in order, of the samples it left out.
func renderSamples(samples []Sample) (*exposition, []int32, error) {
	e, skipped, _, err := renderOwned(samples, nil)
	return e, skipped, err
}

// seriesRef is a rendered series: the hash of its identity and its
// sample's index.
type seriesRef struct {
	sum uint64
	idx int32
}

// seriesIndex is the series one collector's snapshot exports, sorted by
// hash: how the cache finds a series another collector exports already.
type seriesIndex struct {
	name    string
	refs    []seriesRef
	samples []Sample
}

// has reports whether the index holds the series of s, whose hash is sum.
func (x *seriesIndex) has(sum uint64, s Sample) bool {
	i, _ := slices.BinarySearchFunc(x.refs, sum, func(r seriesRef, t uint64) int { return cmp.Compare(r.sum, t) })
	for ; i < len(x.refs) && x.refs[i].sum == sum; i++ {
		if sameSeries(x.samples[x.refs[i].idx], s) {
			return true
		}
	}
	return false
}

// renderOwned is renderSamples for one collector's snapshot: a series one
// of others (the other collectors' snapshots) exports already is dropped
// and reported too, so two collectors reporting one series never export
// it twice; the first to store it keeps it. It also returns the index of
// the series it rendered.
func renderOwned(samples []Sample, others []*seriesIndex) (*exposition, []int32, *seriesIndex, error) {
	var (
		metrics  []*Metric // by family, in order of first sample
		sizes    [][numFormats]int
		fam      = make([]int32, len(samples))
		sums     = make([]uint64, len(samples))
		seen     = make(map[uint64]int32, len(samples))
		collided map[string]struct{}
		skipped  []int32
		firstErr error
		dropped  int
		num      []byte
		h        maphash.Hash
		last     = -1
	)
	h.SetSeed(seriesSeed)
	drop := func(i int, err error) {
		fam[i] = -1
		skipped = append(skipped, int32(i))
		if err == nil {
			return
		}
		dropped++
		if firstErr == nil {
			firstErr = err
		}
	}
	for i, s := range samples {
		m := s.Metric
		if m == nil {
			drop(i, nil)
			continue
		}
		if err := checkLabelValues(m, s.LabelValues); err != nil {
			drop(i, fmt.Errorf("%s: %w", m.Name, err))
			continue
		}
		h.Reset()
		_, _ = h.WriteString(m.Name)
		for _, v := range s.LabelValues {
			_ = h.WriteByte(0xff)
			_, _ = h.WriteString(v)
		}
		sum := h.Sum64()
		if owner := ownerOf(others, sum, s); owner != "" {
			drop(i, fmt.Errorf("duplicate series %s%q: collector %s exports it already", m.Name, s.LabelValues, owner))
			continue
		}
		sums[i] = sum
		if j, ok := seen[sum]; ok {
			if sameSeries(samples[j], s) {
				drop(i, fmt.Errorf("duplicate series %s%q", m.Name, s.LabelValues))
				continue
			}
			// Two series with one hash: tell them apart by their
			// whole identity, which almost never happens.
			if collided == nil {
				collided = map[string]struct{}{}
			}
			key := seriesKey(s)
			if _, dup := collided[key]; dup {
				drop(i, fmt.Errorf("duplicate series %s%q", m.Name, s.LabelValues))
				continue
			}
			collided[key] = struct{}{}
		} else {
			seen[sum] = int32(i)
		}
		f := last
		if f < 0 || metrics[f].Name != m.Name {
			f = slices.IndexFunc(metrics, func(x *Metric) bool { return x.Name == m.Name })
			if f < 0 {
				metrics = append(metrics, m)
				sizes = append(sizes, [numFormats]int{})
				f = len(metrics) - 1
			}
			last = f
		}
		fam[i] = int32(f)
		num = appendFloat(num[:0], s.Value)
		n := lineLen(m, s.LabelValues) + len(num)
		sizes[f][formatText] += n
		if pointZero(num) {
			n += 2
		}
		sizes[f][formatOpenMetrics] += n
	}

	// One allocation holds every family's lines, each sized exactly, so
	// the snapshot keeps no slack.
	total := 0
	for _, fs := range sizes {
		for _, n := range fs {
			total += n
		}
	}
	buf := make([]byte, total)
	texts := make([][numFormats][]byte, len(metrics))
	off := 0
	for f, fs := range sizes {
		for k, n := range fs {
			texts[f][k] = buf[off : off : off+n]
			off += n
		}
	}
	for i, s := range samples {
		f := fam[i]
		if f < 0 {
			continue
		}
		t, om := texts[f][formatText], texts[f][formatOpenMetrics]
		start := len(t)
		t = appendSeries(t, s.Metric, s.LabelValues)
		om = append(om, t[start:]...)
		num = appendFloat(num[:0], s.Value)
		t = append(append(t, num...), '\n')
		om = append(om, num...)
		if pointZero(num) {
			om = append(om, '.', '0')
		}
		texts[f][formatText], texts[f][formatOpenMetrics] = t, append(om, '\n')
	}
	flat := make([][]byte, 0, numFormats*len(texts))
	for _, t := range texts {
		flat = append(flat, t[:]...)
	}
	gz := deflateSegments(flat)
	e := &exposition{families: make([]family, len(metrics)), series: len(samples) - len(skipped)}
	for f, m := range metrics {
		var c chunk
		for k := range numFormats {
			c.text[k], c.gz[k] = texts[f][k], gz[f*numFormats+k]
		}
		e.families[f] = family{metric: m, chunks: []chunk{c}}
	}
	slices.SortFunc(e.families, func(a, b family) int { return cmp.Compare(a.metric.Name, b.metric.Name) })
	index := &seriesIndex{refs: make([]seriesRef, 0, e.series), samples: samples}
	for i, f := range fam {
		if f >= 0 {
			index.refs = append(index.refs, seriesRef{sums[i], int32(i)})
		}
	}
	slices.SortFunc(index.refs, func(a, b seriesRef) int { return cmp.Compare(a.sum, b.sum) })
	if firstErr != nil {
		return e, skipped, index, fmt.Errorf("dropped %d invalid samples, first: %w", dropped, firstErr)
	}
	return e, skipped, index, nil
}

// ownerOf returns the name of the first of others that exports the series
// of s, "" if none does.
func ownerOf(others []*seriesIndex, sum uint64, s Sample) string {
	for _, o := range others {
		if o.has(sum, s) {
			return o.name
		}
	}
	return ""
}

// pointZero reports whether OpenMetrics writes num, a float as the text
// format writes it, with ".0" after it: when it has the form of an
// integer.
func pointZero(num []byte) bool {
	for _, c := range num {
		if (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// checkLabelValues checks what prometheus.NewConstMetric checks of label
// values, with its words.
func checkLabelValues(m *Metric, values []string) error {
	if len(values) != len(m.Labels) {
		return fmt.Errorf("inconsistent label cardinality: expected %d label values but got %d in %#v", len(m.Labels), len(values), values)
	}
	for _, v := range values {
		if !utf8.ValidString(v) {
			return fmt.Errorf("label value %q is not valid UTF-8", v)
		}
	}
	return nil
}

func sameSeries(a, b Sample) bool {
	return a.Metric.Name == b.Metric.Name && slices.Equal(a.LabelValues, b.LabelValues)
}

// lineLen is the length of a sample's line without its value.
func lineLen(m *Metric, values []string) int {
	n := len(m.Name) + 2 // the space before the value, the newline
	if len(values) == 0 {
		return n
	}
	n += 1 + len(values) // '{', a ',' between pairs and the '}'
	for i, v := range values {
		n += len(m.Labels[i]) + 3 + escapedLen(v) // name="value"
	}
	return n
}

// appendSeries appends the start of a sample's line, up to its value, as
// expfmt's encoders write it in either format.
func appendSeries(b []byte, m *Metric, values []string) []byte {
	b = append(b, m.Name...)
	if len(values) > 0 {
		sep := byte('{')
		for _, i := range m.order {
			b = append(b, sep)
			b = append(b, m.Labels[i]...)
			b = append(b, '=', '"')
			b = appendEscaped(b, values[i], true)
			b = append(b, '"')
			sep = ','
		}
		b = append(b, '}')
	}
	return append(b, ' ')
}

// escapedLen is the length of v once escaped as a label value.
func escapedLen(v string) int {
	n := len(v)
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\', '\n', '"':
			n++
		}
	}
	return n
}

// appendEscaped escapes as expfmt does: a backslash, a newline and, in a
// label value (quoted), a double quote.
func appendEscaped(b []byte, v string, quoted bool) []byte {
	special := "\\\n"
	if quoted {
		special = "\\\n\""
	}
	for {
		i := strings.IndexAny(v, special)
		if i < 0 {
			return append(b, v...)
		}
		b = append(b, v[:i]...)
		switch v[i] {
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '"':
			b = append(b, '\\', '"')
		}
		v = v[i+1:]
	}
}

// appendFloat formats f as expfmt's text encoder does (-0 is written 0).
func appendFloat(b []byte, f float64) []byte {
	switch {
	case f == 1:
		return append(b, '1')
	case f == 0:
		return append(b, '0')
	case f == -1:
		return append(b, '-', '1')
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, +1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	default:
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	}
}

// header returns the family's HELP and TYPE lines in each format.
func (m *Metric) header() chunk {
	m.headOnce.Do(func() {
		var c chunk
		b := append([]byte("# HELP "), m.Name...)
		b = append(b, ' ')
		b = appendEscaped(b, m.Help, false)
		b = append(b, "\n# TYPE "...)
		b = append(b, m.Name...)
		b = append(b, ' ')
		b = append(b, typeName(m.Type)...)
		c.text[formatText] = append(b, '\n')

		// OpenMetrics names a counter family without its _total, and
		// has no untyped: expfmt writes unknown.
		name, typ := m.Name, "unknown"
		switch {
		case m.Type == prometheus.CounterValue && strings.HasSuffix(name, "_total"):
			name, typ = strings.TrimSuffix(name, "_total"), "counter"
		case m.Type == prometheus.GaugeValue:
			typ = "gauge"
		}
		b = append([]byte("# HELP "), name...)
		b = append(b, ' ')
		b = appendEscaped(b, m.Help, true)
		b = append(b, "\n# TYPE "...)
		b = append(b, name...)
		b = append(b, ' ')
		b = append(b, typ...)
		c.text[formatOpenMetrics] = append(b, '\n')

		copy(c.gz[:], deflateSegments(c.text[:]))
		m.head = c
	})
	return m.head
}

// openMetricsEOF ends an OpenMetrics exposition.
var openMetricsEOF = sync.OnceValue(func() chunk {
	var c chunk
	c.text[formatOpenMetrics] = []byte("# EOF\n")
	c.gz[formatOpenMetrics] = deflateSegments(c.text[formatOpenMetrics:])[0]
	return c
})

func typeName(t prometheus.ValueType) string {
	switch t {
	case prometheus.CounterValue:
		return "counter"
	case prometheus.GaugeValue:
		return "gauge"
	default:
		return "untyped"
	}
}

// mergeExpositions merges expositions into one: a family present in
// several keeps the header of the first and takes the chunks of all, in
// the order given.
func mergeExpositions(exps ...*exposition) *exposition {
	out := &exposition{}
	n := 0
	for _, e := range exps {
		if e != nil {
			n += len(e.families)
			out.series += e.series
		}
	}
	all := make([]family, 0, n)
	for _, e := range exps {
		if e != nil {
			all = append(all, e.families...)
		}
	}
	slices.SortStableFunc(all, func(a, b family) int { return cmp.Compare(a.metric.Name, b.metric.Name) })
	for _, f := range all {
		if k := len(out.families); k > 0 && out.families[k-1].metric.Name == f.metric.Name {
			out.families[k-1].chunks = append(out.families[k-1].chunks, f.chunks...)
			continue
		}
		out.families = append(out.families, family{metric: f.metric, chunks: slices.Clip(slices.Clone(f.chunks))})
	}
	return out
}

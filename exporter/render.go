package exporter

import (
	"cmp"
	"compress/gzip"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"runtime"
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
// kept compressed, as a DEFLATE segment a gzip scrape copies into its
// stream (see gzipStream) and a scrape without gzip inflates.
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

// chunk is lines of each format, compressed (see gzipStream). Only the
// compressed lines are kept: they take a twentieth of the text's memory,
// and so a refresh leaves a twentieth of the garbage, which keeps the
// garbage collector out of the scrapes that run during it. Prometheus
// asks for gzip by default; a scrape without it gets the segments
// inflated as they are written, about 3 ms a megabyte.
type chunk struct {
	gz [numFormats]segment
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

// bytes returns how many bytes the rendered segments take.
func (e *exposition) bytes() int {
	n := 0
	for _, f := range e.families {
		for _, c := range f.chunks {
			for k := range numFormats {
				n += len(c.gz[k].deflate)
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

// seriesIndex is the series one collector's snapshot exports, sorted by
// hash: how the cache finds a series another collector exports already.
// Each series is one number: the upper bits of the hash of its identity
// above its sample's index, which takes the low idxBits bits (the
// index is kept for as long as the snapshot: a number rather than a
// hash and an index halves it, and what a refresh allocates for it).
// Series whose hashes share the upper bits are told apart by their
// identity.
type seriesIndex struct {
	name    string
	refs    []uint64
	idxBits uint
	samples []Sample
}

// seriesSum returns the hash of the identity of s, with h seeded with
// seriesSeed.
func seriesSum(h *maphash.Hash, s Sample) uint64 {
	h.Reset()
	_, _ = h.WriteString(s.Metric.Name)
	for _, v := range s.LabelValues {
		_ = h.WriteByte(0xff)
		_, _ = h.WriteString(v)
	}
	return h.Sum64()
}

// indexBits returns how many bits the index of one of n samples takes.
func indexBits(n int) uint { return uint(bits.Len(uint(n))) }

// has reports whether the index holds the series of s, whose hash is sum.
func (x *seriesIndex) has(sum uint64, s Sample) bool {
	mask := uint64(1)<<x.idxBits - 1
	key := sum &^ mask
	i, _ := slices.BinarySearch(x.refs, key)
	for ; i < len(x.refs) && x.refs[i]&^mask == key; i++ {
		if sameSeries(x.samples[x.refs[i]&mask], s) {
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
		counts   []int32   // samples by family
		fam      = make([]int32, len(samples))
		idxBits  = indexBits(len(samples))
		mask     = uint64(1)<<idxBits - 1
		refs     = make([]uint64, 0, len(samples))
		skipped  []int32
		errIdx   = -1 // the first sample dropped with an error
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
		if errIdx < 0 || i < errIdx {
			errIdx, firstErr = i, err
		}
	}
	for i, s := range samples {
		yieldEvery(i)
		m := s.Metric
		if m == nil {
			drop(i, nil)
			continue
		}
		if err := checkLabelValues(m, s.LabelValues); err != nil {
			drop(i, fmt.Errorf("%s: %w", m.Name, err))
			continue
		}
		sum := seriesSum(&h, s)
		if owner := ownerOf(others, sum, s); owner != "" {
			drop(i, fmt.Errorf("duplicate series %s%q: collector %s exports it already", m.Name, s.LabelValues, owner))
			continue
		}
		refs = append(refs, sum&^mask|uint64(i))
	}
	// Sorted by hash (then by position), a series given twice is next
	// to itself: the first keeps it. Sorting is cheaper than a map of
	// every series, and the index keeps the sorted refs.
	slices.Sort(refs)
	kept := refs[:0]
	for run := 0; run < len(refs); {
		end := run + 1
		for end < len(refs) && refs[end]&^mask == refs[run]&^mask {
			end++
		}
		first := len(kept)
		for _, r := range refs[run:end] {
			s := samples[r&mask]
			// Two series with one hash almost never happen: they
			// are told apart by their whole identity.
			if slices.ContainsFunc(kept[first:], func(k uint64) bool { return sameSeries(samples[k&mask], s) }) {
				drop(int(r&mask), fmt.Errorf("duplicate series %s%q", s.Metric.Name, s.LabelValues))
				continue
			}
			kept = append(kept, r)
		}
		run = end
	}
	slices.Sort(skipped)
	for i, s := range samples {
		if fam[i] < 0 {
			continue
		}
		m := s.Metric
		f := last
		if f < 0 || metrics[f].Name != m.Name {
			f = slices.IndexFunc(metrics, func(x *Metric) bool { return x.Name == m.Name })
			if f < 0 {
				metrics = append(metrics, m)
				counts = append(counts, 0)
				f = len(metrics) - 1
			}
			last = f
		}
		fam[i] = int32(f)
		counts[f]++
	}

	// The samples of each family in order, for a pass by family.
	starts := make([]int32, len(metrics)+1)
	for f, n := range counts {
		starts[f+1] = starts[f] + n
	}
	byFamily := make([]int32, starts[len(metrics)])
	next := slices.Clone(starts[:len(metrics)])
	for i, f := range fam {
		if f >= 0 {
			byFamily[next[f]] = int32(i)
			next[f]++
		}
	}
	// Each family's lines, in each format, are written a few kilobytes
	// at a time into a segment of their own.
	var (
		ws    [numFormats]*segmentWriter
		lines [numFormats][]byte
	)
	for k := range numFormats {
		ws[k] = newSegmentWriter()
		lines[k] = make([]byte, 0, 32<<10)
	}
	for f := range metrics {
		for k := range numFormats {
			ws[k].begin()
		}
		for _, i := range byFamily[starts[f]:starts[f+1]] {
			yieldEvery(int(i))
			s := samples[i]
			t, om := lines[formatText], lines[formatOpenMetrics]
			start := len(t)
			t = appendSeries(t, s.Metric, s.LabelValues)
			om = append(om, t[start:]...)
			num = appendFloat(num[:0], s.Value)
			t = append(append(t, num...), '\n')
			om = append(om, num...)
			if pointZero(num) {
				om = append(om, '.', '0')
			}
			lines[formatText], lines[formatOpenMetrics] = t, append(om, '\n')
			if len(lines[formatOpenMetrics]) >= 28<<10 {
				for k := range numFormats {
					_, _ = ws[k].Write(lines[k])
					lines[k] = lines[k][:0]
				}
			}
		}
		for k := range numFormats {
			_, _ = ws[k].Write(lines[k])
			lines[k] = lines[k][:0]
			ws[k].end()
		}
	}
	var gz [numFormats][]segment
	for k := range numFormats {
		gz[k] = ws[k].finish()
	}
	e := &exposition{families: make([]family, len(metrics)), series: len(samples) - len(skipped)}
	for f, m := range metrics {
		var c chunk
		for k := range numFormats {
			c.gz[k] = gz[k][f]
		}
		e.families[f] = family{metric: m, chunks: []chunk{c}}
	}
	slices.SortFunc(e.families, func(a, b family) int { return cmp.Compare(a.metric.Name, b.metric.Name) })
	index := &seriesIndex{refs: slices.Clip(kept), idxBits: idxBits, samples: samples}
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
		var text [numFormats][]byte
		b := append([]byte("# HELP "), m.Name...)
		b = append(b, ' ')
		b = appendEscaped(b, m.Help, false)
		b = append(b, "\n# TYPE "...)
		b = append(b, m.Name...)
		b = append(b, ' ')
		b = append(b, typeName(m.Type)...)
		text[formatText] = append(b, '\n')

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
		text[formatOpenMetrics] = append(b, '\n')

		var c chunk
		copy(c.gz[:], deflateSegments(text[:]))
		m.head = c
	})
	return m.head
}

// openMetricsEOF ends an OpenMetrics exposition.
var openMetricsEOF = sync.OnceValue(func() chunk {
	var c chunk
	c.gz[formatOpenMetrics] = deflateSegments([][]byte{[]byte("# EOF\n")})[0]
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

// yieldEvery is a checkpoint of a loop over a snapshot, every 1,024
// iterations: the refresh waits there for the scrapes being served (see
// scrapes), then lets other goroutines run. A refresh renders hundreds of
// thousands of series on one processor, and a scrape that arrives
// meanwhile would otherwise wait for the scheduler to preempt it (up to
// 10 ms) whenever every processor is busy. Without a scrape a checkpoint
// costs about 0.1 µs, a thousandth of the work between two.
func yieldEvery(i int) {
	if i&1023 == 1023 {
		scrapes.wait()
		runtime.Gosched()
	}
}

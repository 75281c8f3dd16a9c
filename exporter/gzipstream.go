package exporter

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
	"sync"
)

// A gzip scrape is one gzip member whose DEFLATE stream is the rendered
// families' segments, each compressed once when rendered, with the
// registry's families compressed between them during the scrape. A
// segment is compressed by a fresh compressor (no back-reference before
// its start) and ends with a sync flush (byte-aligned, no final block), so
// segments concatenate into one valid stream, as pigz joins its blocks.
// Concatenated gzip members would be simpler, but curl --compressed and
// other clients read only the first member. The member's CRC-32 is
// combined from the segments' own, without reading their text again.

// segment is text compressed as a DEFLATE segment, with the length and
// CRC-32 of the text and the operator that shifts a CRC-32 over its
// length.
type segment struct {
	deflate []byte
	size    int
	crc     uint32
	shift   uint32
}

// segmentWriters and segmentBuffers keep the compressors and output
// buffers of renders for the next ones. A sync.Pool would drop them at
// every garbage collection, and between two refreshes of a collector
// there are several, so each refresh made them again: a compressor
// (about 1 MB of state) a format, and a buffer regrown to the
// snapshot's compressed size, 8.6 MB of garbage a 300,000-series
// refresh, which starts collections beside the scrapes (see keptPool).
var segmentWriters = keptPool[*flate.Writer]{max: keptRenders, new: func() *flate.Writer {
	w, err := flate.NewWriter(nil, renderGzipLevel)
	if err != nil {
		panic(err)
	}
	return w
}}

// keptRenders is how many renders' writers and buffers are kept: a
// render takes one of each a format, and a few collectors may store at
// once.
const keptRenders = 2 * numFormats

// A keptPool keeps up to max values for reuse, as a sync.Pool does, but
// across garbage collections; values made while it is empty beyond max
// are left to the collector.
type keptPool[T any] struct {
	max int
	new func() T

	mu    sync.Mutex
	items []T
}

func (p *keptPool[T]) get() T {
	p.mu.Lock()
	if n := len(p.items); n > 0 {
		x := p.items[n-1]
		var zero T
		p.items[n-1] = zero
		p.items = p.items[:n-1]
		p.mu.Unlock()
		return x
	}
	p.mu.Unlock()
	return p.new()
}

func (p *keptPool[T]) put(x T) {
	p.mu.Lock()
	if len(p.items) < p.max {
		p.items = append(p.items, x)
	}
	p.mu.Unlock()
}

// segmentWriter compresses texts into segments, one after the other, and
// then gives them one allocation of their exact size: begin starts a
// segment, Write compresses its text, end closes it.
type segmentWriter struct {
	fw   *flate.Writer
	out  *bytes.Buffer
	segs []segment
	ends []int
	crc  uint32
	size int
}

var segmentBuffers = keptPool[*bytes.Buffer]{max: keptRenders, new: func() *bytes.Buffer { return new(bytes.Buffer) }}

func newSegmentWriter() *segmentWriter {
	out := segmentBuffers.get()
	out.Reset()
	return &segmentWriter{fw: segmentWriters.get(), out: out}
}

func (w *segmentWriter) begin() {
	w.fw.Reset(w.out)
	w.crc, w.size = 0, 0
}

// Write compresses p into the open segment. Writes to a bytes.Buffer do
// not fail.
func (w *segmentWriter) Write(p []byte) (int, error) {
	w.crc = crc32.Update(w.crc, crc32.IEEETable, p)
	w.size += len(p)
	_, _ = w.fw.Write(p)
	return len(p), nil
}

func (w *segmentWriter) end() {
	_ = w.fw.Flush()
	w.segs = append(w.segs, segment{size: w.size, crc: w.crc, shift: crc32Shift(w.size)})
	w.ends = append(w.ends, w.out.Len())
}

// finish returns the segments, in the order they were written, and
// releases the writer.
func (w *segmentWriter) finish() []segment {
	all := bytes.Clone(w.out.Bytes())
	start := 0
	for i, end := range w.ends {
		w.segs[i].deflate = all[start:end:end]
		start = end
	}
	w.fw.Reset(io.Discard)
	segmentWriters.put(w.fw)
	// A buffer grown by the largest snapshot is not kept for the
	// small ones.
	if w.out.Cap() <= 16<<20 {
		segmentBuffers.put(w.out)
	}
	w.fw, w.out = nil, nil
	return w.segs
}

// deflateSegments compresses each text into a segment of its own; the
// segments share one allocation of their exact size.
func deflateSegments(texts [][]byte) []segment {
	w := newSegmentWriter()
	for _, t := range texts {
		w.begin()
		_, _ = w.Write(t)
		w.end()
	}
	return w.finish()
}

var segmentReaders = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}

// inflate writes the text of s to out: what a scrape without gzip gets.
// A segment has no final block, so its reader ends with an unexpected
// EOF once it has given the whole text.
func inflate(out io.Writer, s segment) error {
	if s.size == 0 {
		return nil
	}
	r := segmentReaders.Get().(io.ReadCloser)
	defer segmentReaders.Put(r)
	if err := r.(flate.Resetter).Reset(bytes.NewReader(s.deflate), nil); err != nil {
		return err
	}
	n, err := io.CopyN(out, r, int64(s.size))
	if n == int64(s.size) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// gzipStream writes one gzip member of segments and of text compressed as
// it is written.
type gzipStream struct {
	out  io.Writer
	fw   *flate.Writer // compresses what Write is given, between segments
	open bool          // fw has written since the last segment
	crc  uint32
	size uint32 // modulo 2^32, as the trailer wants it
}

// scrapeCompressors compress the registry's families during a scrape (the
// exporter's own, Go and process metrics, a few tens of KiB) at the speed
// level, as the rendered segments are: at promhttp's default level they
// took a sixth of a scrape's CPU for a few hundred bytes less.
var scrapeCompressors = sync.Pool{New: func() any {
	w, err := flate.NewWriter(nil, flate.BestSpeed)
	if err != nil {
		panic(err)
	}
	return w
}}

// gzipHeader is the member's header: no name, no time, unknown OS.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

func newGzipStream(out io.Writer) (*gzipStream, error) {
	z := &gzipStream{out: out, fw: scrapeCompressors.Get().(*flate.Writer)}
	_, err := out.Write(gzipHeader)
	return z, err
}

// Write compresses p into the stream.
func (z *gzipStream) Write(p []byte) (int, error) {
	if !z.open {
		z.fw.Reset(z.out)
		z.open = true
	}
	z.crc = crc32.Update(z.crc, crc32.IEEETable, p)
	z.size += uint32(len(p))
	return z.fw.Write(p)
}

// segment writes s.
func (z *gzipStream) segment(s segment) error {
	if err := z.flush(); err != nil {
		return err
	}
	z.crc = crc32Combine(z.crc, s.crc, s.shift)
	z.size += uint32(s.size)
	_, err := z.out.Write(s.deflate)
	return err
}

// flush ends what Write compressed on a byte boundary.
func (z *gzipStream) flush() error {
	if !z.open {
		return nil
	}
	z.open = false
	return z.fw.Flush()
}

// Close ends the stream: a final empty stored block, the CRC-32 and the
// size. It does not close out.
func (z *gzipStream) Close() error {
	err := z.flush()
	z.fw.Reset(io.Discard)
	scrapeCompressors.Put(z.fw)
	z.fw = nil
	if err != nil {
		return err
	}
	var trailer [13]byte
	copy(trailer[:], []byte{1, 0, 0, 0xff, 0xff})
	binary.LittleEndian.PutUint32(trailer[5:], z.crc)
	binary.LittleEndian.PutUint32(trailer[9:], z.size)
	_, err = z.out.Write(trailer[:])
	return err
}

// CRC-32 arithmetic, after zlib's crc32_combine_gen and crc32_combine_op:
// the CRC-32 of a followed by b is that of a shifted over len(b) bytes
// (multiplied by x^(8·len(b)) modulo the polynomial), plus that of b.

// crc32Combine returns the CRC-32 of a then b, given theirs and b's
// shift.
func crc32Combine(a, b, shiftB uint32) uint32 { return multModP(shiftB, a) ^ b }

// crc32Shift returns x^(8n) modulo the CRC-32 polynomial.
func crc32Shift(n int) uint32 {
	p := uint32(1) << 31 // x^0
	for k := 3; n != 0; k++ {
		if n&1 != 0 {
			p = multModP(x2nModP[k&31], p)
		}
		n >>= 1
	}
	return p
}

// multModP returns a(x)·b(x) modulo the CRC-32 polynomial, bits reflected
// as the CRC is.
func multModP(a, b uint32) uint32 {
	m := uint32(1) << 31
	var p uint32
	for {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				return p
			}
		}
		m >>= 1
		if b&1 != 0 {
			b = b>>1 ^ crc32.IEEE
		} else {
			b >>= 1
		}
	}
}

// x2nModP[k] is x^(2^k) modulo the CRC-32 polynomial.
var x2nModP = func() (t [32]uint32) {
	p := uint32(1) << 30 // x^1
	t[0] = p
	for k := 1; k < 32; k++ {
		p = multModP(p, p)
		t[k] = p
	}
	return t
}()

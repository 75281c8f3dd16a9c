package jsonapi

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unsafe"
)

// A shape is the part of a page the collector reads: the configured paths
// (items, cursor_path, and in each item creator.path, campaign.path and
// the values' paths and label paths) merged into one tree. A page is
// decoded to that part only: the members and elements no path leads to
// are checked as JSON and skipped, never built, so a page of wide items
// costs what its read fields cost (the decoding of whole pages into maps
// was half of a refresh's CPU and most of its garbage at 300,000 series).
//
// The result is what encoding/json would give for the same page, cut to
// the shape, so a path reads the same value from either: a value read
// whole as encoding/json gives it (objects as map[string]any, arrays as
// []any, numbers as float64, strings, booleans and nil), an object on the
// way to one as an object of the members read (a map took most of the
// garbage of a refresh), an array on the way as []any of its length, its
// unread elements nil. Decoded into an arena, a string is a *string and a
// number a *float64 instead (see pageArena): path's readers take both.
// The one difference: a number out of float64's range where no path
// leads is skipped, as encoding/json skips it when decoding into a
// struct, rather than failing the page.
type shape struct {
	// name is the member's key, where the shape is an object member's.
	name string
	// whole keeps the value and everything in it.
	whole bool
	// keys are the object members read, elems the array elements.
	keys  map[string]*shape
	elems map[int]*shape
	// item, set where the items path ends, is the shape of one item:
	// of each element of an array there, or of an object there.
	item *shape
}

// An object is the members read of a JSON object on the way to a value
// read whole, in their order; of a key given twice, the last counts, as
// in encoding/json.
type object []member

type member struct {
	key string
	v   any
}

// get returns the value of key.
func (o object) get(key string) (any, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].key == key {
			return o[i].v, true
		}
	}
	return nil, false
}

// add merges p, read whole, into s.
func (s *shape) add(p path) { s.at(p).whole = true }

// addItems merges the items path p into s, each item read as item.
func (s *shape) addItems(p path, item *shape) { s.at(p).item = item }

// at returns the node of p in s, adding the nodes on the way.
func (s *shape) at(p path) *shape {
	n := s
	for _, st := range p {
		if st.isIdx {
			if n.elems == nil {
				n.elems = map[int]*shape{}
			}
			if n.elems[st.index] == nil {
				n.elems[st.index] = &shape{}
			}
			n = n.elems[st.index]
			continue
		}
		if n.keys == nil {
			n.keys = map[string]*shape{}
		}
		if n.keys[st.key] == nil {
			n.keys[st.key] = &shape{name: st.key}
		}
		n = n.keys[st.key]
	}
	return n
}

// union returns a shape reading what a or b reads (either may be nil).
func union(a, b *shape) *shape {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.whole || b.whole:
		return &shape{name: a.name, whole: true}
	}
	u := &shape{name: a.name, item: union(a.item, b.item)}
	for _, s := range []*shape{a, b} {
		for k, c := range s.keys {
			if u.keys == nil {
				u.keys = map[string]*shape{}
			}
			u.keys[k] = union(u.keys[k], c)
		}
		for i, c := range s.elems {
			if u.elems == nil {
				u.elems = map[int]*shape{}
			}
			u.elems[i] = union(u.elems[i], c)
		}
	}
	return u
}

// compile resolves the items nodes: where the items path ends, an object
// is read as the union of the node and an item, and an array's elements
// as an item and what the node reads of them. It returns the shape
// decode reads.
func (s *shape) compile() *shape {
	if s == nil || s.whole {
		return s
	}
	c := &shape{name: s.name}
	for k, ch := range s.keys {
		if c.keys == nil {
			c.keys = map[string]*shape{}
		}
		c.keys[k] = ch.compile()
	}
	for i, ch := range s.elems {
		if c.elems == nil {
			c.elems = map[int]*shape{}
		}
		c.elems[i] = ch.compile()
	}
	if s.item == nil {
		return c
	}
	item := s.item.compile()
	own := &shape{keys: c.keys}
	// An object at the items path is one item.
	asObject := union(own, item)
	c.keys = asObject.keys
	if asObject.whole {
		return &shape{name: s.name, whole: true}
	}
	// An array's elements are items.
	c.item = item
	for i, ch := range c.elems {
		c.elems[i] = union(ch, item)
	}
	return c
}

// prunedPage is a page decoded to a shape: exporter.Client decodes the
// body with DecodeBody instead of encoding/json.
type prunedPage struct {
	shape *shape
	// arena, if set, holds the page's objects, arrays, strings and
	// numbers (see pageArena): decoding the page overwrites the last
	// page decoded into it, strings read from that page included.
	arena *pageArena
	v     any
}

// DecodeBody decodes a response body.
func (p *prunedPage) DecodeBody(data []byte) error {
	p.arena.reset()
	v, err := decodeInto(data, p.shape, p.arena)
	if err != nil {
		return err
	}
	p.v = v
	return nil
}

// A pageArena holds a decoded page in slabs that the next page of a
// listing reuses: at 300,000 series a refresh decodes 1,000 pages of 100
// items, each item an object or three on the way to its values and a
// few strings and numbers, and allocating each of those, and the
// interface it was boxed in, was most of what a refresh allocated.
// Allocating less during a refresh starts fewer garbage collector cycles
// beside the scrapes served meanwhile.
//
// An object on the way is then a *object, pointing into the arena (a
// pointer goes into an interface without an allocation), and an array's
// elements are copied into the arena once it ends. A string's bytes are
// copied into the arena's bytes, never left in the body, whose buffer
// the client reads the next response into; the string views them and
// goes into an interface as a *string into the arena, a number as a
// *float64. Nearly every string read is dropped at once: the series it
// labels was there the refresh before, and keeps the label values it
// had. Objects and arrays read whole are still allocated maps and []any,
// their keys, strings and numbers the arena's like any other: a path
// that leads to one reads no value (number and scalar refuse it), so
// they are rare, and nothing keeps them.
//
// So a page decoded into an arena, and every string read from it, is
// valid until the next page is decoded into it; whoever keeps a string
// beyond copies it first. The fetch loop hands each page's items to the
// mapping, which copies the label values of the series it has not seen
// before (seriesSet.add) and reads its numbers out as float64, and
// copies the cursor it keeps, before it asks for the next page. The nil
// arena allocates everything, as encoding/json does.
type pageArena struct {
	members []member
	objects []object
	anys    []any
	strings []string
	numbers []float64
	// bytes holds the strings' bytes.
	bytes []byte
	// stack holds the elements of the arrays being decoded, innermost
	// last.
	stack []any
}

// minSlab is the smallest slab an arena allocates, in elements.
const minSlab = 64

// reset makes the arena's slabs free for the next page: the last page's
// strings are overwritten by the next one's. The last page's slots are
// cleared so that it keeps nothing alive.
func (a *pageArena) reset() {
	if a == nil {
		return
	}
	clear(a.members)
	clear(a.objects)
	clear(a.anys)
	clear(a.strings)
	clear(a.stack)
	a.members, a.objects, a.anys, a.stack = a.members[:0], a.objects[:0], a.anys[:0], a.stack[:0]
	a.strings, a.numbers, a.bytes = a.strings[:0], a.numbers[:0], a.bytes[:0]
}

// room makes room for n more elements in the slab *s. A slab too small
// is replaced by a larger one; what was taken from the old one keeps it.
func room[T any](s *[]T, n int) {
	if len(*s)+n > cap(*s) {
		*s = make([]T, 0, max(2*cap(*s), n, minSlab))
	}
}

// keep returns v, kept in the slab *s, as a value for an interface.
func keep[T any](s *[]T, v T) *T {
	room(s, 1)
	*s = append(*s, v)
	return &(*s)[len(*s)-1]
}

// object returns an empty object with room for n members.
func (a *pageArena) object(n int) object {
	room(&a.members, n)
	i := len(a.members)
	a.members = a.members[:i+n]
	return a.members[i : i : i+n]
}

// text returns raw copied into the arena, as a string that views the
// copy.
func (a *pageArena) text(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	room(&a.bytes, len(raw))
	i := len(a.bytes)
	a.bytes = append(a.bytes, raw...)
	return unsafe.String(&a.bytes[i], len(raw))
}

// array returns the elements stacked from mark on, copied into the
// arena, and takes them off the stack.
func (a *pageArena) array(mark int) []any {
	n := len(a.stack) - mark
	if n == 0 {
		a.stack = a.stack[:mark]
		return []any{}
	}
	room(&a.anys, n)
	i := len(a.anys)
	a.anys = append(a.anys, a.stack[mark:]...)
	clear(a.stack[mark:])
	a.stack = a.stack[:mark]
	return a.anys[i:len(a.anys):len(a.anys)]
}

// maxDepth is encoding/json's limit of nesting.
const maxDepth = 10000

// decoder reads one JSON document in one pass, checking all of it.
type decoder struct {
	data  []byte
	pos   int
	depth int
	arena *pageArena // nil: allocate every object and array
}

// decodeInto decodes the JSON document data to the part s reads, with
// the objects and arrays on the way to the values read kept in arena,
// unless it is nil.
func decodeInto(data []byte, s *shape, arena *pageArena) (any, error) {
	d := &decoder{data: data, arena: arena}
	d.space()
	v, err := d.value(s)
	if err != nil {
		return nil, err
	}
	d.space()
	if d.pos < len(d.data) {
		return nil, d.invalid("after top-level value")
	}
	return v, nil
}

// errEnd is encoding/json's text for a document cut short.
func (d *decoder) errEnd() error { return fmt.Errorf("unexpected end of JSON input") }

// invalid reports the byte at pos as unexpected.
func (d *decoder) invalid(context string) error {
	if d.pos >= len(d.data) {
		return d.errEnd()
	}
	return fmt.Errorf("invalid character %s %s (offset %d)", quoteChar(d.data[d.pos]), context, d.pos)
}

// quoteChar formats c as encoding/json's errors do.
func quoteChar(c byte) string {
	switch {
	case c == '\'':
		return `'\''`
	case c == '"':
		return `'"'`
	case c < 0x20 || c >= 0x7f:
		return strconv.Quote(string(rune(c)))
	}
	return "'" + string(c) + "'"
}

func (d *decoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// value decodes the value at pos, after whitespace, as s reads it: nil
// s checks and skips it.
func (d *decoder) value(s *shape) (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.errEnd()
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(s)
	case c == '[':
		return d.array(s)
	case c == '"':
		start := d.pos
		plain, err := d.str()
		if err != nil || s == nil {
			return nil, err
		}
		t, err := d.text(start, plain)
		if err != nil || d.arena == nil {
			return t, err
		}
		return keep(&d.arena.strings, t), nil
	case c == '-' || c >= '0' && c <= '9':
		start := d.pos
		if err := d.number(); err != nil || s == nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(string(d.data[start:d.pos]), 64)
		if err != nil {
			// encoding/json's text for a number out of range.
			return nil, fmt.Errorf("cannot unmarshal number %s into Go value of type float64", d.data[start:d.pos])
		}
		if d.arena == nil {
			return f, nil
		}
		return keep(&d.arena.numbers, f), nil
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, d.invalid("looking for beginning of value")
}

func (d *decoder) literal(want string) error {
	for i := 0; i < len(want); i++ {
		if d.pos >= len(d.data) {
			return d.errEnd()
		}
		if d.data[d.pos] != want[i] {
			return d.invalid("in literal " + want + " (expecting " + quoteChar(want[i]) + ")")
		}
		d.pos++
	}
	return nil
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > maxDepth {
		return fmt.Errorf("exceeded max depth")
	}
	return nil
}

// object decodes the object at pos.
func (d *decoder) object(s *shape) (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	d.pos++ // {
	var (
		m   map[string]any // read whole
		obj object         // on the way to values read
	)
	switch {
	case s == nil:
	case s.whole:
		m = map[string]any{}
	case d.arena != nil:
		obj = d.arena.object(len(s.keys))
	default:
		obj = make(object, 0, len(s.keys))
	}
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return d.objectValue(m, obj, s), nil
	}
	for {
		if d.pos >= len(d.data) {
			return nil, d.errEnd()
		}
		if d.data[d.pos] != '"' {
			return nil, d.invalid("looking for beginning of object key string")
		}
		start := d.pos
		plain, err := d.str()
		if err != nil {
			return nil, err
		}
		// Which member this is: the raw key when it needs no unquoting.
		var (
			child *shape
			key   string
		)
		if s != nil {
			raw := d.data[start+1 : d.pos-1]
			switch {
			case s.whole:
				k, err := d.text(start, plain)
				if err != nil {
					return nil, err
				}
				key, child = k, s
			case plain:
				// The shape's key: no copy of the page's.
				if c, ok := s.keys[string(raw)]; ok {
					key, child = c.name, c
				}
			default:
				k, err := d.text(start, false)
				if err != nil {
					return nil, err
				}
				if c, ok := s.keys[k]; ok {
					key, child = c.name, c
				}
			}
		}
		d.space()
		if d.pos >= len(d.data) {
			return nil, d.errEnd()
		}
		if d.data[d.pos] != ':' {
			return nil, d.invalid("after object key")
		}
		d.pos++
		d.space()
		v, err := d.value(child)
		if err != nil {
			return nil, err
		}
		switch {
		case m != nil:
			m[key] = v
		case child != nil:
			obj = append(obj, member{key, v})
		}
		if more, err := d.more('}', "after object key:value pair"); err != nil || !more {
			return d.objectValue(m, obj, s), err
		}
	}
}

// objectValue returns the object decoded as s reads it: an object on
// the way to values read is a *object when it is kept in the arena.
func (d *decoder) objectValue(m map[string]any, obj object, s *shape) any {
	switch {
	case s == nil:
		return nil
	case s.whole:
		return m
	case d.arena != nil:
		return keep(&d.arena.objects, obj)
	}
	return obj
}

// array decodes the array at pos.
func (d *decoder) array(s *shape) (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	d.pos++ // [
	var a []any
	keep := s != nil
	// An array on the way to values read stacks its elements in the
	// arena; one read whole is the collector's, allocated.
	inArena := keep && !s.whole && d.arena != nil
	mark := 0
	switch {
	case inArena:
		mark = len(d.arena.stack)
	case keep:
		a = []any{}
	}
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		if inArena {
			return d.arena.array(mark), nil
		}
		return asArray(a, keep), nil
	}
	for i := 0; ; i++ {
		var child *shape
		switch {
		case s == nil:
		case s.whole:
			child = s
		default:
			if child = s.elems[i]; child == nil {
				child = s.item
			}
		}
		v, err := d.value(child)
		if err != nil {
			return nil, err
		}
		switch {
		case inArena:
			d.arena.stack = append(d.arena.stack, v)
		case keep:
			a = append(a, v)
		}
		if more, err := d.more(']', "after array element"); err != nil || !more {
			if inArena {
				return d.arena.array(mark), err
			}
			return asArray(a, keep), err
		}
	}
}

// more reads what follows a member or an element: a comma (true), or
// closing, which ends the object or array.
func (d *decoder) more(closing byte, context string) (bool, error) {
	d.space()
	if d.pos >= len(d.data) {
		return false, d.errEnd()
	}
	switch d.data[d.pos] {
	case ',':
		d.pos++
		d.space()
		return true, nil
	case closing:
		d.pos++
		d.depth--
		return false, nil
	}
	return false, d.invalid(context)
}

func asArray(a []any, keep bool) any {
	if !keep {
		return nil
	}
	return a
}

// str checks the string at pos and moves past it. plain reports that its
// bytes are its value: printable ASCII without escapes.
func (d *decoder) str() (plain bool, err error) {
	d.pos++ // "
	plain = true
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return plain, nil
		case c < 0x20:
			return false, d.invalid("in string literal")
		case c == '\\':
			plain = false
			d.pos++
			if d.pos >= len(d.data) {
				return false, d.errEnd()
			}
			switch d.data[d.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.pos++
			case 'u':
				d.pos++
				for range 4 {
					if d.pos >= len(d.data) {
						return false, d.errEnd()
					}
					if !isHex(d.data[d.pos]) {
						return false, d.invalid("in \\u hexadecimal character escape")
					}
					d.pos++
				}
			default:
				return false, d.invalid("in string escape code")
			}
		default:
			if c >= 0x80 {
				plain = false
			}
			d.pos++
		}
	}
	return false, d.errEnd()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// text returns the value of the string checked from start to pos:
// escapes and UTF-8 are left to encoding/json, so that both give the
// same string. It never views the body, whose buffer is reused for the
// next page (prunedPage is an exporter.BodyCopier): a plain string views
// its copy in the arena, valid until the arena's next page (see
// pageArena), or, without an arena, is a copy of its own; encoding/json
// allocates the others.
func (d *decoder) text(start int, plain bool) (string, error) {
	raw := d.data[start:d.pos]
	if plain {
		if d.arena != nil {
			return d.arena.text(raw[1 : len(raw)-1]), nil
		}
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", err
	}
	return s, nil
}

// number checks the number at pos and moves past it.
func (d *decoder) number() error {
	if d.data[d.pos] == '-' {
		d.pos++
		if d.pos >= len(d.data) {
			return d.errEnd()
		}
	}
	switch c := d.data[d.pos]; {
	case c == '0':
		d.pos++
	case c >= '1' && c <= '9':
		d.digits()
	default:
		return d.invalid("in numeric literal")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if d.pos >= len(d.data) {
			return d.errEnd()
		}
		if !isDigit(d.data[d.pos]) {
			return d.invalid("after decimal point in numeric literal")
		}
		d.digits()
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if d.pos >= len(d.data) {
			return d.errEnd()
		}
		if !isDigit(d.data[d.pos]) {
			return d.invalid("in exponent of numeric literal")
		}
		d.digits()
	}
	return nil
}

func (d *decoder) digits() {
	for d.pos < len(d.data) && isDigit(d.data[d.pos]) {
		d.pos++
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

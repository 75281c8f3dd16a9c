package shopifyfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// A GraphQL subset, enough for the queries an Admin API client sends: one
// query operation with variable definitions, fields with aliases and
// arguments, nested selections and inline fragments. No mutations, named
// fragments or directives.

// field is one selected field, its arguments resolved against the
// request's variables.
type field struct {
	alias, name string
	args        map[string]any
	sel         []*selection
	line, col   int
}

// selection is a field or an inline fragment.
type selection struct {
	field    *field
	typeCond string // inline fragment "... on Type"
	sel      []*selection
}

// key is the name the field has in the answer.
func (f *field) key() string {
	if f.alias != "" {
		return f.alias
	}
	return f.name
}

// gqlError is a GraphQL error as Shopify writes it.
type gqlError struct {
	Message    string         `json:"message"`
	Locations  []location     `json:"locations,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

type location struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

func (e *gqlError) Error() string { return e.Message }

type lexToken struct {
	kind      byte // 'n' name, 's' string, '0' number, 'p' punctuation, 0 end
	text      string
	line, col int
}

type lexer struct {
	src       string
	pos       int
	line, col int
}

func (l *lexer) next() (lexToken, error) {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '\n':
			l.pos++
			l.line++
			l.col = 1
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == ',':
			l.advance(1)
			continue
		case c == '#':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.advance(1)
			}
			continue
		}
		break
	}
	t := lexToken{line: l.line, col: l.col}
	if l.pos >= len(l.src) {
		return t, nil
	}
	c := l.src[l.pos]
	switch {
	case strings.HasPrefix(l.src[l.pos:], "..."):
		t.kind, t.text = 'p', "..."
		l.advance(3)
	case strings.ContainsRune("{}():$!=[]@|", rune(c)):
		t.kind, t.text = 'p', string(c)
		l.advance(1)
	case c == '_' || isLetter(c):
		start := l.pos
		for l.pos < len(l.src) && (l.src[l.pos] == '_' || isLetter(l.src[l.pos]) || isDigit(l.src[l.pos])) {
			l.advance(1)
		}
		t.kind, t.text = 'n', l.src[start:l.pos]
	case c == '-' || isDigit(c):
		start := l.pos
		l.advance(1)
		for l.pos < len(l.src) && strings.ContainsRune("0123456789.eE+-", rune(l.src[l.pos])) {
			l.advance(1)
		}
		t.kind, t.text = '0', l.src[start:l.pos]
	case c == '"':
		s, err := l.str()
		if err != nil {
			return t, err
		}
		t.kind, t.text = 's', s
	default:
		return t, l.errorf(t, "unexpected character %q", c)
	}
	return t, nil
}

func (l *lexer) advance(n int) {
	l.pos += n
	l.col += n
}

// str reads a string literal, block strings included.
func (l *lexer) str() (string, error) {
	start := lexToken{line: l.line, col: l.col}
	if strings.HasPrefix(l.src[l.pos:], `"""`) {
		end := strings.Index(l.src[l.pos+3:], `"""`)
		if end < 0 {
			return "", l.errorf(start, "unterminated string")
		}
		s := l.src[l.pos+3 : l.pos+3+end]
		for range 6 + end {
			if l.src[l.pos] == '\n' {
				l.line++
				l.col = 0
			}
			l.advance(1)
		}
		return s, nil
	}
	i := l.pos + 1
	for i < len(l.src) && l.src[i] != '"' && l.src[i] != '\n' {
		if l.src[i] == '\\' {
			i++
		}
		i++
	}
	if i >= len(l.src) || l.src[i] != '"' {
		return "", l.errorf(start, "unterminated string")
	}
	var s string
	if err := json.Unmarshal([]byte(l.src[l.pos:i+1]), &s); err != nil {
		return "", l.errorf(start, "bad string literal")
	}
	l.advance(i + 1 - l.pos)
	return s, nil
}

func (l *lexer) errorf(t lexToken, format string, args ...any) error {
	return &gqlError{
		Message:   "syntax error, " + fmt.Sprintf(format, args...),
		Locations: []location{{t.line, t.col}},
	}
}

func isLetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

type parser struct {
	lex  lexer
	tok  lexToken
	vars map[string]json.RawMessage
}

// parseQuery parses one query operation and resolves its variables.
func parseQuery(src string, vars map[string]json.RawMessage) ([]*selection, error) {
	if vars == nil {
		vars = map[string]json.RawMessage{}
	}
	p := &parser{lex: lexer{src: src, line: 1, col: 1}, vars: vars}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == 'n' {
		switch p.tok.text {
		case "query":
		case "mutation", "subscription":
			return nil, &gqlError{Message: p.tok.text + " operations are not supported by this fake", Locations: []location{{p.tok.line, p.tok.col}}}
		default:
			return nil, p.unexpected()
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == 'n' { // operation name
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		if p.is("(") {
			if err := p.varDefs(); err != nil {
				return nil, err
			}
		}
	}
	sel, err := p.selectionSet()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != 0 {
		return nil, p.unexpected()
	}
	return sel, nil
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	p.tok = t
	return err
}

func (p *parser) is(punct string) bool { return p.tok.kind == 'p' && p.tok.text == punct }

func (p *parser) expect(punct string) error {
	if !p.is(punct) {
		return p.unexpected()
	}
	return p.advance()
}

func (p *parser) unexpected() error {
	what := strconv.Quote(p.tok.text)
	if p.tok.kind == 0 {
		what = "end of file"
	}
	return p.lex.errorf(p.tok, "unexpected %s", what)
}

// varDefs reads ($name: Type! = default, ...), checking that non-null
// variables were given.
func (p *parser) varDefs() error {
	if err := p.expect("("); err != nil {
		return err
	}
	for !p.is(")") {
		if err := p.expect("$"); err != nil {
			return err
		}
		if p.tok.kind != 'n' {
			return p.unexpected()
		}
		name, at := p.tok.text, p.tok
		if err := p.advance(); err != nil {
			return err
		}
		if err := p.expect(":"); err != nil {
			return err
		}
		typ, err := p.typeRef()
		if err != nil {
			return err
		}
		if p.is("=") {
			if err := p.advance(); err != nil {
				return err
			}
			def, err := p.value()
			if err != nil {
				return err
			}
			if _, ok := p.vars[name]; !ok {
				b, _ := json.Marshal(def)
				p.vars[name] = b
			}
		}
		v, ok := p.vars[name]
		if strings.HasSuffix(typ, "!") && (!ok || bytes.Equal(bytes.TrimSpace(v), []byte("null"))) {
			return &gqlError{
				Message:    fmt.Sprintf("Variable $%s of type %s was provided invalid value", name, typ),
				Locations:  []location{{at.line, at.col}},
				Extensions: map[string]any{"value": nil, "problems": []map[string]any{{"path": []any{}, "explanation": "Expected value to not be null"}}},
			}
		}
	}
	return p.advance()
}

func (p *parser) typeRef() (string, error) {
	var typ string
	if p.is("[") {
		if err := p.advance(); err != nil {
			return "", err
		}
		inner, err := p.typeRef()
		if err != nil {
			return "", err
		}
		if err := p.expect("]"); err != nil {
			return "", err
		}
		typ = "[" + inner + "]"
	} else {
		if p.tok.kind != 'n' {
			return "", p.unexpected()
		}
		typ = p.tok.text
		if err := p.advance(); err != nil {
			return "", err
		}
	}
	if p.is("!") {
		typ += "!"
		if err := p.advance(); err != nil {
			return "", err
		}
	}
	return typ, nil
}

func (p *parser) selectionSet() ([]*selection, error) {
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	var out []*selection
	for !p.is("}") {
		if p.tok.kind == 0 {
			return nil, p.unexpected()
		}
		if p.is("...") {
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind != 'n' || p.tok.text != "on" {
				return nil, &gqlError{Message: "named fragments are not supported by this fake", Locations: []location{{p.tok.line, p.tok.col}}}
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind != 'n' {
				return nil, p.unexpected()
			}
			cond := p.tok.text
			if err := p.advance(); err != nil {
				return nil, err
			}
			sel, err := p.selectionSet()
			if err != nil {
				return nil, err
			}
			out = append(out, &selection{typeCond: cond, sel: sel})
			continue
		}
		f, err := p.field()
		if err != nil {
			return nil, err
		}
		out = append(out, &selection{field: f})
	}
	return out, p.advance()
}

func (p *parser) field() (*field, error) {
	if p.tok.kind != 'n' {
		return nil, p.unexpected()
	}
	f := &field{name: p.tok.text, line: p.tok.line, col: p.tok.col}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.is(":") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != 'n' {
			return nil, p.unexpected()
		}
		f.alias, f.name = f.name, p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if p.is("(") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		f.args = map[string]any{}
		for !p.is(")") {
			if p.tok.kind != 'n' {
				return nil, p.unexpected()
			}
			name := p.tok.text
			if err := p.advance(); err != nil {
				return nil, err
			}
			if err := p.expect(":"); err != nil {
				return nil, err
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			f.args[name] = v
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if p.is("@") {
		return nil, &gqlError{Message: "directives are not supported by this fake", Locations: []location{{p.tok.line, p.tok.col}}}
	}
	if p.is("{") {
		sel, err := p.selectionSet()
		if err != nil {
			return nil, err
		}
		f.sel = sel
	}
	return f, nil
}

// value reads a literal or a variable. Numbers become int64 or float64,
// enums strings, variables their JSON value.
func (p *parser) value() (any, error) {
	t := p.tok
	switch {
	case p.is("$"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != 'n' {
			return nil, p.unexpected()
		}
		name := p.tok.text
		var v any
		if raw, ok := p.vars[name]; ok {
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			if err := d.Decode(&v); err != nil {
				return nil, &gqlError{Message: fmt.Sprintf("Variable $%s has an invalid value", name)}
			}
			v = fromJSON(v)
		}
		return v, p.advance()
	case t.kind == 's':
		return t.text, p.advance()
	case t.kind == '0':
		if i, err := strconv.ParseInt(t.text, 10, 64); err == nil {
			return i, p.advance()
		}
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, p.lex.errorf(t, "bad number %q", t.text)
		}
		return f, p.advance()
	case t.kind == 'n':
		var v any = t.text
		switch t.text {
		case "true":
			v = true
		case "false":
			v = false
		case "null":
			v = nil
		}
		return v, p.advance()
	case p.is("["):
		if err := p.advance(); err != nil {
			return nil, err
		}
		list := []any{}
		for !p.is("]") {
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		return list, p.advance()
	}
	return nil, p.unexpected()
}

// fromJSON turns json.Number into int64 or float64.
func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = fromJSON(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = fromJSON(x[k])
		}
	}
	return v
}

// orderedObject is a JSON object that keeps the order of its keys, as a
// GraphQL answer follows the order of the selection.
type orderedObject struct {
	keys []string
	vals map[string]any
}

func newObject() *orderedObject { return &orderedObject{vals: map[string]any{}} }

func (o *orderedObject) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// MarshalJSON implements json.Marshaler.
func (o *orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

package shopifyfake

import (
	"strconv"
	"strings"
	"time"
)

// Shopify's search syntax, as its API documentation gives the grammar:
//
//	Query      = Term { [ whitespace Connective ] whitespace Term }
//	Connective = "AND" | "OR"          (AND when absent)
//	Term       = [ Modifier ] ( "(" Query ")" | [ name Comparator ] value )
//	Modifier   = "-" | "NOT" whitespace
//	Comparator = ":" | ":<" | ":>" | ":<=" | ":>="
//
// Values are bare words or single- or double-quoted strings, with
// backslash escapes. The documentation does not say whether AND binds
// tighter than OR; the fake assumes it does, and the collector always
// groups with parentheses.

// searchExpr is a parsed search query.
type searchExpr interface {
	match(o *shopOrder) bool
}

type andExpr []searchExpr
type orExpr []searchExpr
type notExpr struct{ e searchExpr }

// term is one name-comparator-value term, or free text without a name.
type term struct {
	name, cmp, value string
	at               time.Time // value of a time field
	ignored          bool      // unknown field or bad value: matches everything
}

// searchWarning is what Shopify reports under extensions.search when it
// ignores part of a query.
type searchWarning struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Code    string `json:"code"`
}

func (a andExpr) match(o *shopOrder) bool {
	for _, e := range a {
		if !e.match(o) {
			return false
		}
	}
	return true
}

func (x orExpr) match(o *shopOrder) bool {
	for _, e := range x {
		if e.match(o) {
			return true
		}
	}
	return false
}

func (n notExpr) match(o *shopOrder) bool { return !n.e.match(o) }

func (t *term) match(o *shopOrder) bool {
	if t.ignored {
		return true
	}
	switch t.name {
	case "":
		v := strings.ToLower(t.value)
		return strings.Contains(strings.ToLower(o.name()), v) || strings.Contains(strings.ToLower(o.Code), v)
	case "discount_code":
		// Case-insensitive, as Shopify matches codes at checkout.
		return t.cmp == ":" && strings.EqualFold(o.Code, t.value)
	case "id":
		n, _ := strconv.ParseInt(t.value, 10, 64)
		return compare(t.cmp, o.id, n)
	case "created_at", "processed_at":
		return compare(t.cmp, o.Created.UnixNano(), t.at.UnixNano())
	case "updated_at":
		return compare(t.cmp, o.Updated.UnixNano(), t.at.UnixNano())
	}
	return true
}

func compare(cmp string, a, b int64) bool {
	switch cmp {
	case ":<":
		return a < b
	case ":<=":
		return a <= b
	case ":>":
		return a > b
	case ":>=":
		return a >= b
	}
	return a == b
}

// parseSearchTime reads a time the way the orders search takes it: with
// an offset, or without one in the shop's time zone (UTC here), or now.
func parseSearchTime(v string, now time.Time) (time.Time, bool) {
	if v == "now" {
		return now, true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseSearch parses a search query. Unknown fields and values that do not
// parse are ignored with a warning, as Shopify does.
func parseSearch(q string, now time.Time) (searchExpr, []searchWarning) {
	p := &searchParser{toks: tokenizeSearch(q), now: now}
	if len(p.toks) == 0 {
		return andExpr{}, nil
	}
	e := p.or()
	for p.i < len(p.toks) { // a stray ")": Shopify is lenient, so is the fake
		p.i++
		if p.i < len(p.toks) {
			e = andExpr{e, p.or()}
		}
	}
	return e, p.warnings
}

type searchParser struct {
	toks     []string
	i        int
	now      time.Time
	warnings []searchWarning
}

func (p *searchParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *searchParser) or() searchExpr {
	out := orExpr{p.and()}
	for p.peek() == "OR" {
		p.i++
		out = append(out, p.and())
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
}

func (p *searchParser) and() searchExpr {
	out := andExpr{p.unary()}
	for {
		switch p.peek() {
		case "", ")", "OR":
			if len(out) == 1 {
				return out[0]
			}
			return out
		case "AND":
			p.i++
		}
		out = append(out, p.unary())
	}
}

func (p *searchParser) unary() searchExpr {
	tok := p.peek()
	switch {
	case tok == "":
		return andExpr{}
	case tok == "NOT" || tok == "-":
		p.i++
		return notExpr{p.unary()}
	case tok == "(":
		p.i++
		e := p.or()
		if p.peek() == ")" {
			p.i++
		}
		return e
	}
	p.i++
	if strings.HasPrefix(tok, "-") {
		return notExpr{p.term(tok[1:])}
	}
	return p.term(tok)
}

// term splits name, comparator and value, and checks the value.
func (p *searchParser) term(tok string) searchExpr {
	t := &term{cmp: ":"}
	if i := unquotedColon(tok); i >= 0 {
		t.name = strings.ToLower(tok[:i])
		rest := tok[i:]
		for _, c := range []string{":<=", ":>=", ":<", ":>", ":"} {
			if strings.HasPrefix(rest, c) {
				t.cmp, rest = c, rest[len(c):]
				break
			}
		}
		t.value = unquote(rest)
	} else {
		t.value = unquote(tok)
	}
	switch t.name {
	case "", "discount_code", "id":
	case "created_at", "processed_at", "updated_at":
		at, ok := parseSearchTime(t.value, p.now)
		if !ok {
			t.ignored = true
			p.warnings = append(p.warnings, searchWarning{Field: t.name, Message: "Invalid value for a time field: " + strconv.Quote(t.value), Code: "invalid_value"})
		} else {
			t.at = at
		}
	default:
		t.ignored = true
		p.warnings = append(p.warnings, searchWarning{Field: t.name, Message: "Invalid search field for this query.", Code: "invalid_field"})
	}
	return t
}

func unquotedColon(s string) int {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == ':':
			return i
		}
	}
	return -1
}

// unquote removes surrounding quotes and backslash escapes.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		s = s[1 : len(s)-1]
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// tokenizeSearch splits a query into parentheses and words; a word keeps
// its quoted parts whole, spaces included.
func tokenizeSearch(q string) []string {
	var toks []string
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
			continue
		case c == '-' && i+1 < len(q) && q[i+1] == '(':
			toks = append(toks, "-")
			i++
			continue
		}
		start := i
		var quote byte
		for i < len(q) {
			c := q[i]
			if c == '\\' {
				i += 2
				continue
			}
			if quote != 0 {
				if c == quote {
					quote = 0
				}
				i++
				continue
			}
			if c == '\'' || c == '"' {
				quote = c
				i++
				continue
			}
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ')' || (c == '(' && i > start) {
				break
			}
			i++
		}
		toks = append(toks, q[start:min(i, len(q))])
	}
	return toks
}

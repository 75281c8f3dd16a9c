package exporter

import (
	"bytes"
	"errors"
	"math/bits"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// yaml.v3 reports a syntax error with the line of its context rather than
// of the problem when it has one ("line 3: found a tab character that
// violates indentation" for a tab on line 4, the line of the scalar
// before it), counts the lines of parser errors from 0, leaves the line
// out on the first line, and never gives a column. The position of the
// problem is not exported, so it is found again. The parser fails where it
// reads the problem, so the problem's line is the first with which the
// lines from the start of the file fail with the same error. A line the
// message points to (the first indented with a tab after the one yaml.v3
// gives, for a tab) is checked first: that and the lines before it; else
// the lines are searched. The column is found on the line from what the
// message names.

var yamlErrorRE = regexp.MustCompile(`(?s)^yaml: (?:line (\d+): )?(.*)$`)

// The bytes parsed to find the line of a syntax error are bounded by
// syntaxSearchFactor times the file's size, or syntaxSearchMin: a search
// that would cost more keeps the line yaml.v3 gave, without a column. A
// tab costs two parses of the lines up to it.
const (
	syntaxSearchFactor = 2
	syntaxSearchMin    = 1 << 20
)

// syntaxError returns the ConfigError for err, the error yaml.v3 gave
// parsing data: at the line and column of the problem, with the path of
// the field it sits in when the lines before it parse.
func syntaxError(file string, data []byte, err error) *ConfigError {
	m := yamlErrorRE.FindStringSubmatch(err.Error())
	if m == nil {
		return &ConfigError{File: file, Err: yamlError(err)}
	}
	msg := m[2]
	reported, _ := strconv.Atoi(m[1])
	s := &syntaxSearch{
		data:   data,
		ends:   lineEnds(data),
		budget: max(syntaxSearchFactor*len(data), syntaxSearchMin),
		same:   func(e error) bool { return e.Error() == err.Error() },
	}
	from := max(1, reported)
	if strings.Contains(msg, "end of stream") {
		// What is left open (a quote) is where the lines start to fail;
		// the line yaml.v3 gives may be the end's, which moves with it.
		from = 1
		s.same = func(e error) bool { return strings.HasSuffix(e.Error(), ": "+msg) || e.Error() == "yaml: "+msg }
	}
	line := s.find(from, candidateLine(data, s.ends, from, msg))
	if line == 0 {
		return &ConfigError{File: file, Err: yamlError(err)}
	}
	text := lineText(data, s.ends, line)
	at := problemOffset(text, msg)
	col := utf8.RuneCount(text[:at]) + 1
	switch {
	case at >= len(text):
	case text[at] == '\t' && strings.Contains(msg, "tab"):
		msg += ": YAML indents with spaces only"
	case text[at] == '\t':
		msg += ": the character is a tab; YAML indents with spaces only"
	case strings.Contains(msg, "end of stream") && (text[at] == '"' || text[at] == '\''):
		msg += ": the quote opened here is not closed"
	}
	field := ""
	if root := s.before(line); root != nil {
		field = enclosingField(root, text, bytes.IndexByte(indentOf(text), '\t') >= 0)
	}
	return &ConfigError{File: file, Line: line, Column: col, Field: field, Err: errors.New(msg)}
}

// indentOf returns the blanks a line starts with.
func indentOf(text []byte) []byte {
	return text[:len(text)-len(bytes.TrimLeft(text, " \t"))]
}

// candidateLine returns the line the message points to, 0 if none: the
// first line from `from` on indented with a tab, for a message about a
// tab; `from` itself for a character that cannot start a token, where
// yaml.v3's line is the problem's.
func candidateLine(data []byte, ends []int, from int, msg string) int {
	switch {
	case strings.Contains(msg, "tab character"):
		for line := from; line <= len(ends); line++ {
			if bytes.IndexByte(indentOf(lineText(data, ends, line)), '\t') >= 0 {
				return line
			}
		}
	case strings.Contains(msg, "cannot start any token"):
		return min(from, len(ends))
	}
	return 0
}

// lineEnds returns the offset just past each line of data, its line break
// included.
func lineEnds(data []byte) []int {
	var ends []int
	for off := 0; off < len(data); {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			ends = append(ends, len(data))
			break
		}
		off += i + 1
		ends = append(ends, off)
	}
	return ends
}

func lineText(data []byte, ends []int, line int) []byte {
	start := 0
	if line > 1 {
		start = ends[line-2]
	}
	return bytes.TrimRight(data[start:ends[line-1]], "\r\n")
}

// syntaxSearch finds the line of a syntax error by parsing the lines up
// to a line, within a budget of bytes parsed.
type syntaxSearch struct {
	data   []byte
	ends   []int
	same   func(error) bool
	budget int
	buf    []byte
	// okLine is the last line up to which the lines parsed without
	// error, okRoot what they parsed to.
	okLine int
	okRoot *yaml.Node
}

// fails reports whether the lines up to line fail with the error; ok is
// false when the budget does not allow to know. Blank lines are added to
// the lines parsed: an error the end of the lines causes (a flow sequence
// left open) then moves with the end, and is not taken for the error of
// the whole file.
func (s *syntaxSearch) fails(line int) (fails, ok bool) {
	if line < 1 {
		return false, true
	}
	if line >= len(s.ends) {
		return true, true // the whole file
	}
	end := s.ends[line-1]
	if s.budget -= end; s.budget < 0 {
		return false, false
	}
	s.buf = append(append(s.buf[:0], s.data[:end]...), "\n\n\n"...)
	var root yaml.Node
	err := yaml.Unmarshal(s.buf, &root)
	if err == nil {
		s.okLine, s.okRoot = line, &root
	}
	return err != nil && s.same(err), true
}

// find returns the problem's line, 0 if the budget does not allow to
// find it. candidate, if not 0, is checked first.
func (s *syntaxSearch) find(from, candidate int) int {
	if len(s.ends) == 0 {
		return 0
	}
	lo, hi := from-1, 0 // the lines up to lo do not fail with the error, up to hi they do
	if candidate > 0 {
		f, ok := s.fails(candidate)
		if !ok {
			return 0
		}
		if f {
			if f, ok = s.fails(candidate - 1); ok && !f {
				return candidate
			}
			hi = candidate - 1
		} else {
			lo = max(lo, candidate)
		}
	}
	// One, two, four... lines further, then halve down to the first
	// line that fails.
	for step := 1; hi == 0; step *= 2 {
		line := min(lo+step, len(s.ends))
		f, ok := s.fails(line)
		if !ok {
			return 0
		}
		if f {
			hi = line
		} else {
			lo = line
		}
	}
	if bits.Len(uint(hi-lo-1))*s.ends[hi-1] > s.budget {
		return 0 // halving down would overrun the budget
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		f, ok := s.fails(mid)
		if !ok {
			return 0
		}
		if f {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// before returns what the lines before line parse to, nil if they do not
// parse, or if the budget does not allow to parse them again.
func (s *syntaxSearch) before(line int) *yaml.Node {
	if line < 2 {
		return nil
	}
	if s.okLine != line-1 {
		if _, ok := s.fails(line - 1); !ok || s.okLine != line-1 {
			return nil
		}
	}
	if len(s.okRoot.Content) == 0 {
		return nil
	}
	return s.okRoot.Content[0]
}

// problemOffset returns the offset on the line of the problem msg
// describes: of the tab, the character that cannot start a token, the
// second ':' of a mapping value, the alias, the quote or the escape; else
// of the first character that is not blank.
func problemOffset(line []byte, msg string) int {
	at := -1
	indent := len(line) - len(bytes.TrimLeft(line, " \t"))
	switch {
	case strings.Contains(msg, "tab character"):
		if at = bytes.IndexByte(line[:indent], '\t'); at < 0 {
			at = bytes.IndexByte(line, '\t')
		}
	case strings.Contains(msg, "cannot start any token"):
		if at = bytes.IndexByte(line[:indent], '\t'); at < 0 {
			at = tokenStart(line, "@`")
		}
	case strings.Contains(msg, "mapping values are not allowed"):
		first := valueColon(line, 0)
		if at = valueColon(line, first+1); first < 0 || at < 0 {
			at = first
		}
	case strings.HasPrefix(msg, "unknown anchor '"):
		name, _, _ := strings.Cut(strings.TrimPrefix(msg, "unknown anchor '"), "'")
		at = bytes.Index(line, []byte("*"+name))
	case strings.Contains(msg, "end of stream"):
		at = tokenStart(line, `"'`)
	case strings.Contains(msg, "escape"):
		at = bytes.IndexByte(line, '\\')
	}
	if at < 0 {
		at = indent
	}
	return at
}

// tokenStart returns the offset of the first of chars on line where a
// token starts: at the start of the line, after a blank or a flow
// indicator; -1 if none.
func tokenStart(line []byte, chars string) int {
	for i, c := range line {
		if strings.IndexByte(chars, c) >= 0 && (i == 0 || strings.IndexByte(" \t[{,", line[i-1]) >= 0) {
			return i
		}
	}
	return -1
}

// valueColon returns the offset of the first ':' from `from` on that
// ends a key (followed by a blank or the end of the line); -1 if none.
func valueColon(line []byte, from int) int {
	if from < 0 {
		return -1
	}
	for i := from; i < len(line); i++ {
		if line[i] == ':' && (i+1 == len(line) || line[i+1] == ' ' || line[i+1] == '\t') {
			return i
		}
	}
	return -1
}

// enclosingField returns the path of the field the problem line (text)
// is written in, root holding the lines before it; "" when no field holds
// it. Without tabs, that is the last key or list item before the line that
// starts left of the line's first character. A tab counts as one column,
// whatever it looks like in an editor, so a line indented with a tab is
// taken for meant to go on where the line before left off: in the last
// key, if its value is empty, else beside it.
func enclosingField(root *yaml.Node, text []byte, tabbed bool) string {
	col := len(indentOf(text)) + 1
	best, lastKey, lastParent := "", "", ""
	lastEmpty := false
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := path + "[" + strconv.Itoa(i) + "]"
				if c.Column < col {
					best = p
				}
				walk(c, p)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := joinPath(path, k.Value)
				if k.Column < col {
					best = p
				}
				lastKey, lastParent, lastEmpty = p, path, v.Kind == yaml.ScalarNode && v.Value == ""
				walk(v, p)
			}
		}
	}
	walk(root, "")
	switch {
	case !tabbed:
		return best
	case lastEmpty:
		return lastKey
	}
	return lastParent
}

package jsonapi

import (
	"fmt"
	"strconv"
	"strings"
)

// A path picks one value out of a decoded JSON document. The subset is
// small on purpose: dot-separated object keys, each optionally followed by
// one or more [n] array indexes, such as `data`, `stats.clicks`,
// `partner.handle`, `rows[0].value` or `[2]`. The empty path is the value
// itself. There are no wildcards, filters, quoting or negative indexes, so
// a key that contains a dot or a bracket cannot be reached.
type path []step

// step is one object key, or one array index when key is empty and index
// is set.
type step struct {
	key   string
	index int
	isIdx bool
}

// parsePath parses the subset above.
func parsePath(s string) (path, error) {
	var p path
	if s == "" {
		return p, nil
	}
	for i, part := range strings.Split(s, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key == "" && (i > 0 || rest == "" && !strings.HasPrefix(part, "[")) {
			return nil, fmt.Errorf("empty key in path %q (the subset is dot-separated keys with [n] indexes, like stats.clicks or rows[0].value)", s)
		}
		if key != "" {
			if strings.ContainsAny(key, "]*?@$()'\" ") {
				return nil, fmt.Errorf("path %q: key %q has a character the path subset does not support", s, key)
			}
			p = append(p, step{key: key})
		}
		if strings.Contains(part, "[") {
			idx := part[len(key):]
			for idx != "" {
				if !strings.HasPrefix(idx, "[") {
					return nil, fmt.Errorf("path %q: unexpected %q after an index", s, idx)
				}
				end := strings.Index(idx, "]")
				if end < 0 {
					return nil, fmt.Errorf("path %q: unclosed [", s)
				}
				n, err := strconv.Atoi(idx[1:end])
				if err != nil || n < 0 {
					return nil, fmt.Errorf("path %q: index %q is not a non-negative integer", s, idx[1:end])
				}
				p = append(p, step{index: n, isIdx: true})
				idx = idx[end+1:]
			}
		}
	}
	return p, nil
}

// get returns the value at p in v, and false when a key or index is
// absent or the value on the way has the wrong type.
func (p path) get(v any) (any, bool) {
	for _, st := range p {
		if st.isIdx {
			a, ok := v.([]any)
			if !ok || st.index >= len(a) {
				return nil, false
			}
			v = a[st.index]
			continue
		}
		var ok bool
		switch m := v.(type) {
		case map[string]any:
			v, ok = m[st.key]
		case object:
			v, ok = m.get(st.key)
		case *object:
			v, ok = m.get(st.key)
		}
		if !ok {
			return nil, false
		}
	}
	return v, true
}

// scalar returns a string or number at p as text; ok is false for an
// absent value, null, an object or an array. A string decoded into a
// page's arena is valid until the arena's next page: one kept longer
// must be copied.
func (p path) scalar(v any) (string, bool) {
	v, ok := p.get(v)
	if !ok {
		return "", false
	}
	if s, ok := stringOf(v); ok {
		return s, true
	}
	if f, ok := numberOf(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64), true
	}
	if b, ok := v.(bool); ok {
		return strconv.FormatBool(b), true
	}
	return "", false
}

// number returns a JSON number, or a string holding one, at p.
func (p path) number(v any) (float64, error) {
	v, ok := p.get(v)
	if !ok {
		return 0, fmt.Errorf("no value")
	}
	if f, ok := numberOf(v); ok {
		return f, nil
	}
	if s, ok := stringOf(v); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", s)
		}
		return f, nil
	}
	switch v.(type) {
	case nil:
		return 0, fmt.Errorf("null")
	case map[string]any, object, *object:
		return 0, fmt.Errorf("an object is not a number")
	case []any:
		return 0, fmt.Errorf("an array is not a number")
	}
	return 0, fmt.Errorf("a %T is not a number", v)
}

// stringOf returns the string v holds: a string, or a *string into a
// page's arena (see pageArena).
func stringOf(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case *string:
		return *x, true
	}
	return "", false
}

// numberOf returns the number v holds: a float64, or a *float64 into a
// page's arena.
func numberOf(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case *float64:
		return *x, true
	}
	return 0, false
}

package exporter

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/config"
	"gopkg.in/yaml.v3"
)

// yaml.v3's KnownFields applies only to a Decoder, not to Node.Decode, and
// provider options are decoded from nodes. A walker checks a node against
// the Go type it will be decoded into, and records where each field path
// sits in the file so later errors can name a line.
//
// The walk returns a copy of the node holding only what decodes: an
// unknown key is reported and left out, and so is a value that does not
// decode (a sequence item becomes null instead, so the items after it keep
// their index, and their paths). Decoding the copy then reads everything
// else: one bad value hides no other error. yaml.v3 stops decoding at the
// first value a custom decoder (durations, secrets, timestamps) refuses,
// which is why those are tried one by one here.

var (
	typeOfConfig           = reflect.TypeFor[Config]()
	typeOfNode             = reflect.TypeFor[yaml.Node]()
	typeOfTime             = reflect.TypeFor[time.Time]()
	typeOfHTTPClientConfig = reflect.TypeFor[config.HTTPClientConfig]()
	typeOfPEM              = reflect.TypeFor[pemText]()
	unmarshalerV3          = reflect.TypeFor[yaml.Unmarshaler]()
	unmarshalerV2          = reflect.TypeFor[interface {
		UnmarshalYAML(func(any) error) error
	}]()
)

func typeOf(v any) reflect.Type { return reflect.TypeOf(v) }

// walkIssue is one problem the walk found.
type walkIssue struct {
	path      string
	line, col int
	msg       string
	// dropped: the value was left out of the copy, the decoded config
	// holds its zero value or default. Otherwise the key was ignored.
	// An empty msg drops the value silently: the errors already
	// reported inside it explain it.
	dropped bool
}

type walker struct {
	pos    map[string]position
	issues []walkIssue
	// active are the anchored nodes being walked through an alias, to
	// stop at an anchor whose value contains itself.
	active map[*yaml.Node]bool
}

func newWalker(pos map[string]position) *walker {
	return &walker{pos: pos, active: map[*yaml.Node]bool{}}
}

func (w *walker) report(path string, n *yaml.Node, msg string, dropped bool) {
	w.issues = append(w.issues, walkIssue{path: path, line: n.Line, col: n.Column, msg: msg, dropped: dropped})
}

// errors returns the issues found as ConfigErrors of file, and the paths
// of the values left out.
func (w *walker) errors(file string) ([]error, []string) {
	var (
		errs    []error
		dropped []string
	)
	for _, is := range w.issues {
		if is.dropped {
			dropped = append(dropped, is.path)
		}
		if is.msg != "" {
			errs = append(errs, &ConfigError{File: file, Line: is.line, Column: is.col, Field: is.path, Err: errors.New(is.msg)})
		}
	}
	return errs, dropped
}

// clean returns the copy of n to decode into t; false when n itself does
// not decode and must be left out.
func (w *walker) clean(n *yaml.Node, t reflect.Type, path string) (*yaml.Node, bool) {
	if n == nil {
		return nil, true
	}
	if path != "" {
		if _, seen := w.pos[path]; !seen {
			w.pos[path] = position{n.Line, n.Column}
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return n, true
		}
		c, ok := w.clean(n.Content[0], t, path)
		if !ok {
			return nil, false
		}
		doc := *n
		doc.Content = []*yaml.Node{c}
		return &doc, true
	case yaml.AliasNode:
		if n.Alias == nil || w.active[n.Alias] {
			w.report(path, n, fmt.Sprintf("anchor %q value contains itself", n.Value), true)
			return nil, false
		}
		w.active[n.Alias] = true
		defer delete(w.active, n.Alias)
		return w.clean(n.Alias, t, path)
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return n, true // decodes to the zero value, whatever t is
		}
	}
	if t == typeOfNode {
		return n, true
	}
	if t == typeOfHTTPClientConfig {
		return w.cleanHTTPClient(n, path)
	}
	if t == typeOfTime || reflect.PointerTo(t).Implements(unmarshalerV3) || reflect.PointerTo(t).Implements(unmarshalerV2) {
		// Custom decoders (durations, secrets) and timestamps report
		// errors without a line, and end the whole decode: decode the
		// value alone here to place the error.
		return w.try(n, t, path)
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.String:
		return w.try(n, t, path)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return w.try(n, t, path)
		}
		fields := yamlFields(t)
		out := *n
		out.Content = nil
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			fp := keyPath(path, k)
			ft, ok := fields[k.Value]
			if !ok {
				w.report(fp, k, fmt.Sprintf("unknown field %q (known: %s)", k.Value, strings.Join(sortedFieldNames(fields), ", ")), false)
				continue
			}
			w.pos[fp] = position{k.Line, k.Column}
			if cv, ok := w.clean(v, ft, fp); ok {
				out.Content = append(out.Content, k, cv)
			}
		}
		return same(n, &out), true
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return w.try(n, t, path)
		}
		out := *n
		out.Content = make([]*yaml.Node, 0, len(n.Content))
		for i, item := range n.Content {
			cv, ok := w.clean(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
			if !ok {
				cv = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: item.Line, Column: item.Column}
			}
			out.Content = append(out.Content, cv)
		}
		return same(n, &out), true
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return w.try(n, t, path)
		}
		out := *n
		out.Content = nil
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			fp := keyPath(path, k)
			if msg := scalarProblem(k, maxValueBytes); msg != "" {
				w.report(fp, k, "key "+msg, true)
				continue
			}
			w.pos[fp] = position{k.Line, k.Column}
			if cv, ok := w.clean(n.Content[i+1], t.Elem(), fp); ok {
				out.Content = append(out.Content, k, cv)
			}
		}
		return same(n, &out), true
	}
	return n, true
}

// same returns n when its copy holds the same nodes: a file without
// problems is decoded as it was parsed.
func same(n, out *yaml.Node) *yaml.Node {
	if slices.Equal(n.Content, out.Content) {
		return n
	}
	return out
}

// try decodes n alone into a new t, reporting the error at n. A string
// is checked too (see textProblem): every string of the file, options
// included, is a name, an id, a token, a header value, a URL or a path.
func (w *walker) try(n *yaml.Node, t reflect.Type, path string) (*yaml.Node, bool) {
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		w.report(path, n, decodeMessage(err), true)
		return nil, false
	}
	if n.Kind == yaml.ScalarNode && t.Kind() == reflect.String && !isCollectorToken(path) {
		msg := scalarProblem(n, maxValueBytes)
		if t == typeOfPEM {
			msg = pemProblem(n.Value)
		}
		if msg != "" {
			w.report(path, n, msg, true)
			return nil, false
		}
	}
	return n, true
}

// isCollectorToken reports whether path is a collector's token
// (collectors[0].token), which resolveToken checks wherever the token
// comes from (see tokenProblem).
func isCollectorToken(path string) bool {
	i, ok := strings.CutPrefix(path, "collectors[")
	n, ok2 := strings.CutSuffix(i, "].token")
	if !ok || !ok2 || n == "" {
		return false
	}
	_, err := strconv.Atoi(n)
	return err == nil
}

// keyPath is the path of the field key of the mapping at path. A key
// with control characters is quoted, to keep the error naming it on one
// line.
func keyPath(path string, k *yaml.Node) string {
	if strings.ContainsFunc(k.Value, isControl) {
		return joinPath(path, strconv.Quote(k.Value))
	}
	return joinPath(path, k.Value)
}

// decodeMessage is a decode error of one value, without yaml.v3's prefix
// and line: the ConfigError places it.
func decodeMessage(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			msgs[i] = typeErrorLine.ReplaceAllString(m, "$2")
		}
		return strings.Join(msgs, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// cleanHTTPClient walks a collector's http_config field by field: the
// library's decoder is not strict. Credentials are refused and left out.
// What remains is decoded as a whole, for the library's own checks; a
// block with a value left out does not get their error on top (it is
// likely about that value), but is left out all the same.
func (w *walker) cleanHTTPClient(n *yaml.Node, path string) (*yaml.Node, bool) {
	if n.Kind != yaml.MappingNode {
		return w.try(n, typeOfHTTPClientConfig, path)
	}
	before := len(w.issues)
	rest := *n
	rest.Content = nil
	for j := 0; j+1 < len(n.Content); j += 2 {
		k := n.Content[j]
		if credentialKeys[k.Value] {
			w.report(path+"."+k.Value, k, "credentials are not set in http_config: the collector sends its provider credential from token, token_env or token_file", false)
			continue
		}
		rest.Content = append(rest.Content, k, n.Content[j+1])
	}
	cleaned, _ := w.clean(&rest, reflect.TypeFor[httpClientShape](), path)
	if err := cleaned.Decode(new(config.HTTPClientConfig)); err != nil {
		msg := decodeMessage(err)
		for _, is := range w.issues[before:] {
			if is.dropped {
				msg = ""
			}
		}
		w.report(path, n, msg, true)
		return nil, false
	}
	return cleaned, true
}

func joinPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func sortedFieldNames(m map[string]reflect.Type) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func splitHostPort(addr string) (string, string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", "", fmt.Errorf("invalid address %q: %w", addr, err)
	}
	return host, port, nil
}

func isLoopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

package exporter

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// yaml.v3's KnownFields applies only to a Decoder, not to Node.Decode, and
// provider options are decoded from nodes. checkKnownFields walks a node
// against the Go type it will be decoded into, reports every unknown key
// with its position, and records where each field path sits in the file so
// later validation errors can name a line.

var (
	typeOfConfig  = reflect.TypeFor[Config]()
	typeOfNode    = reflect.TypeFor[yaml.Node]()
	typeOfTime    = reflect.TypeFor[time.Time]()
	unmarshalerV3 = reflect.TypeFor[yaml.Unmarshaler]()
	unmarshalerV2 = reflect.TypeFor[interface {
		UnmarshalYAML(func(any) error) error
	}]()
)

func typeOf(v any) reflect.Type { return reflect.TypeOf(v) }

func checkKnownFields(n *yaml.Node, t reflect.Type, path string, pos map[string]position, report func(path string, n *yaml.Node, msg string)) {
	if n == nil {
		return
	}
	if path != "" {
		if _, seen := pos[path]; !seen {
			pos[path] = position{n.Line, n.Column}
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if t == typeOfNode {
		return
	}
	if t == typeOfTime || reflect.PointerTo(t).Implements(unmarshalerV3) || reflect.PointerTo(t).Implements(unmarshalerV2) {
		// Custom decoders (durations, secrets) and timestamps report
		// errors without a line: decode the value alone here to place
		// the error.
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			report(path, n, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.String:
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			var te *yaml.TypeError
			msg := strings.TrimPrefix(err.Error(), "yaml: ")
			if errors.As(err, &te) && len(te.Errors) > 0 {
				msg = typeErrorLine.ReplaceAllString(te.Errors[0], "$2")
			}
			report(path, n, msg)
		}
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // a type mismatch; Decode reports it with its line
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			fp := joinPath(path, k.Value)
			ft, ok := fields[k.Value]
			if !ok {
				report(fp, k, fmt.Sprintf("unknown field %q (known: %s)", k.Value, strings.Join(sortedFieldNames(fields), ", ")))
				continue
			}
			pos[fp] = position{k.Line, k.Column}
			checkKnownFields(v, ft, fp, pos, report)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, item := range n.Content {
			checkKnownFields(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), pos, report)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			fp := joinPath(path, k.Value)
			pos[fp] = position{k.Line, k.Column}
			checkKnownFields(n.Content[i+1], t.Elem(), fp, pos, report)
		}
	}
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

package jsonapi

import (
	"encoding/json"
	"testing"
)

func TestPath(t *testing.T) {
	var doc any
	if err := json.Unmarshal([]byte(`{"a":{"b":[{"c":1.5},{"c":"2"}],"s":"x","n":null},"top":[[7]]}`), &doc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, want string
		ok         bool
	}{
		{"a.b[0].c", "1.5", true},
		{"a.b[1].c", "2", true},
		{"a.s", "x", true},
		{"top[0][0]", "7", true},
		{"a.b[2].c", "", false},
		{"a.n", "", false},
		{"a.b", "", false},
		{"a.missing", "", false},
		{"a.s.deeper", "", false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			p, err := parsePath(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if p.String() != tc.path {
				t.Errorf("String() = %q", p.String())
			}
			got, ok := p.scalar(doc)
			if got != tc.want || ok != tc.ok {
				t.Errorf("scalar = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	for _, bad := range []string{"a..b", ".a", "a.", "a[", "a[-1]", "a[x]", "a[0]b", "$.a", "a[*]", "a.[0]"} {
		if _, err := parsePath(bad); err == nil {
			t.Errorf("parsePath(%q) accepted", bad)
		}
	}
	p, _ := parsePath("[1]")
	if v, ok := p.scalar([]any{"x", "y"}); !ok || v != "y" {
		t.Errorf("[1] = %q, %v", v, ok)
	}
}

func TestNextLink(t *testing.T) {
	for _, tc := range []struct {
		header, want string
		ok           bool
	}{
		{`</v2/s?cursor=b>; rel="next", </v2/s?cursor=a>; rel="prev"`, "http://h/v2/s?cursor=b", true},
		{`<http://h/v2/s?page=3>; rel="last", <http://h/v2/s?page=2>; rel=next`, "http://h/v2/s?page=2", true},
		{`<http://h/a,b>; title="x, y"; rel="prev next"`, "http://h/a,b", true},
		{`</v2/s?page=1>; rel="first"`, "", false},
	} {
		h := map[string][]string{"Link": {tc.header}}
		got, ok, err := nextLink(h, "http://h/v2/s", "http://h/v2")
		if err != nil || got != tc.want || ok != tc.ok {
			t.Errorf("%s: got %q, %v, %v; want %q, %v", tc.header, got, ok, err, tc.want, tc.ok)
		}
	}
}

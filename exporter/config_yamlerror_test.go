package exporter

import (
	"testing"
)

// TestSyntaxErrorPositions: a YAML syntax error names the line and
// column of the problem, and the field it is written in when the lines
// before it parse, where yaml.v3 gives the line of its context, counts
// some lines from 0 and gives no column.
func TestSyntaxErrorPositions(t *testing.T) {
	for _, tc := range []struct{ yml, want string }{
		// yaml.v3: "line 3: found a tab character that violates indentation".
		{"a: 1\nb:\n  c: 2\n\td: 3\n", "s.yml:4:1: b: found a tab character that violates indentation: YAML indents with spaces only"},
		{"a:\n  b: 1\n  c: 2\n\t\n  d: 3\n", "s.yml:4:1: a: found a tab character that violates indentation: YAML indents with spaces only"},
		{"x:\n  - a: 1\n    b:\t2\n  - a:\t\t3\n\t- c\n", "s.yml:5:1: x[1]: found a tab character that violates indentation: YAML indents with spaces only"},
		{"campaigns:\n  - name: x\n    creators:\n\t  - name: y\n", "s.yml:4:1: campaigns[0].creators: found character that cannot start any token: the character is a tab; YAML indents with spaces only"},
		{"a: |\n\tfoo\n", "s.yml:2:1: a: found a tab character where an indentation space is expected: YAML indents with spaces only"},
		// yaml.v3: no line on the first line.
		{"a: @x\n", "s.yml:1:4: found character that cannot start any token"},
		{"key: value: other\n", "s.yml:1:11: mapping values are not allowed in this context"},
		{"a: \"\\q\"\n", "s.yml:1:5: found unknown escape character"},
		{"a: *nope\n", "s.yml:1:4: unknown anchor 'nope' referenced"},
		{"a: 1\nb: `x\n", "s.yml:2:4: found character that cannot start any token"},
		// yaml.v3: "line 3", the end of the file.
		{"a: 'x\nb: 2\n", "s.yml:1:4: found unexpected end of stream: the quote opened here is not closed"},
		// yaml.v3: "line 1", counted from 0.
		{"a: [1, 2\nb: 3\nc: 4\n", "s.yml:2:1: did not find expected ',' or ']'"},
		{"- a\nb: 1\n", "s.yml:2:1: did not find expected '-' indicator"},
		{"a:\n  b: c\n d: e\n", "s.yml:3:2: a: did not find expected key"},
		{"a: 1\n b: 2\n", "s.yml:2:3: a: mapping values are not allowed in this context"},
	} {
		_, err := ParseConfig("s.yml", []byte(tc.yml))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got: %v\nwant: %s", tc.yml, err, tc.want)
		}
	}

	const file = "testdata/config/tab_indent.yml"
	want := file + ":11:1: campaigns[0].creators[0].links[0]: found a tab character that violates indentation: YAML indents with spaces only"
	if _, err := LoadConfig(file); err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

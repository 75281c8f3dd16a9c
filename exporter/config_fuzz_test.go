package exporter

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseConfig: whatever the file holds, loading it never panics,
// allocates no more than a budget proportional to its size (the alias
// and size limits hold), and every error it reports names the file.
func FuzzParseConfig(f *testing.F) {
	for _, glob := range []string{"../config.yaml", "../examples/*.yml", "testdata/*.yml", "testdata/bad/*.yml", "testdata/config/*.yml"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, s := range []string{
		"",
		"\ufeffcollectors:\n  - type: fake\n    token: x\n",
		"collectors:\n  - type: fake\n    token: \"a\\r\\nb\"\n    http: {user_agent: \"bot\\r\\nX: 1\"}\n",
		"collectors:\n  - type: fake\n    token: |\n      abc\n",
		"collectors:\n  - type: fake\n    token_file: fake.token\n",
		"collectors:\n  - type: fake\n\ttoken: x\n",
		"a: 1\nb:\n  c: 2\n\td: 3\n",
		"campaigns:\n  - name: x\n    creators:\n\t  - name: y\n",
		"a: 'x\nb: 2\n",
		"a: [1, 2\nb: 3\n",
		"campaigns: &a [*a]\n",
		"collectors:\n  - &c {type: fake, token: x}\n  - <<: *c\n    name: b\n",
		"campaigns:\n  - name: \"" + strings.Repeat("x", 2<<10) + "\"\n",
		"collectors:\n  - type: fake\n    token: " + strings.Repeat("t", 9<<10) + "\n",
		strings.Repeat("[", 1000) + strings.Repeat("]", 1000),
		strings.Repeat("- ", 1000) + "x\n",
		"campaigns:\n  - name: spring\n    creators:\n      - name: \"alice\\0\"\n        links: [{collector: fake, id: \"a\\x7f\"}]\n",
		"collectors:\n  - type: fake\n    token: x\n    http_config:\n      proxy_url: http://127.0.0.1:3128\n      proxy_connect_header: {\"X\\nY\": [\"a\\nb\"]}\n",
		"---\ncollectors: []\n---\ncampaigns: []\n",
		// Found by the fuzzer: yaml.v3 quotes the value that does not
		// decode, line breaks and all.
		"00\n\n00\n0\n\n0",
	} {
		f.Add([]byte(s))
	}
	f.Setenv("FAKE_TOKEN", "fake-token-from-env")
	file := filepath.Join(f.TempDir(), "fuzz.yml")
	f.Fuzz(func(t *testing.T, data []byte) {
		var err error
		got := allocated(func() { _, err = ParseConfig(file, data) })
		if budget := 32<<20 + 8<<10*uint64(len(data)); got > budget {
			t.Errorf("loading %d bytes allocated %d bytes, above the budget of %d", len(data), got, budget)
		}
		if err == nil {
			return
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, file+":") {
				t.Errorf("an error does not name the file: %q", line)
			}
		}
		if bytes.Contains(data, []byte("fake-token-from-env")) {
			return
		}
		if strings.Contains(err.Error(), "fake-token-from-env") {
			t.Errorf("an error shows the token of token_env: %v", err)
		}
	})
}

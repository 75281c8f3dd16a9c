package exporter

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func setMaxConfigSize(t testing.TB, n int64) {
	prev := MaxConfigSize()
	SetMaxConfigSize(n)
	t.Cleanup(func() { SetMaxConfigSize(prev) })
}

func TestConfigMaxSize(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "big.yml")
	// A valid config padded with a comment to 2 KiB + 1 byte.
	data := []byte("collectors:\n  - type: fake\n    token: x\n#")
	data = append(data, bytes.Repeat([]byte("x"), 2<<10+1-len(data))...)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}

	setMaxConfigSize(t, 2<<10)
	want := file + ": the file is 2049 bytes (2.0 KiB), above the limit of 2 KiB (--config.max-size)"
	if _, err := LoadConfig(file); err == nil || err.Error() != want {
		t.Errorf("LoadConfig = %v, want %s", err, want)
	}
	if _, err := ParseConfig(file, data); err == nil || err.Error() != want {
		t.Errorf("ParseConfig = %v, want %s", err, want)
	}
	if _, _, err := Check(file); err == nil || err.Error() != want {
		t.Errorf("Check = %v, want %s", err, want)
	}
	// A file without a size (a device, a pipe) is read up to the limit
	// and one byte more.
	if _, err := os.Stat("/dev/zero"); err == nil {
		got := allocated(func() {
			_, err := LoadConfig("/dev/zero")
			if want := "/dev/zero: the file is more than 2048 bytes, above the limit of 2 KiB (--config.max-size)"; err == nil || err.Error() != want {
				t.Errorf("LoadConfig(/dev/zero) = %v, want %s", err, want)
			}
		})
		if got > 64<<10 {
			t.Errorf("reading /dev/zero to a limit of 2 KiB allocated %d bytes", got)
		}
	}

	setMaxConfigSize(t, 2<<10+1)
	if _, err := LoadConfig(file); err != nil {
		t.Errorf("a file of exactly the limit: %v", err)
	}
	setMaxConfigSize(t, 0)
	if _, err := LoadConfig(file); err != nil {
		t.Errorf("no limit: %v", err)
	}
}

// TestAliasBomb: a kilobyte of nested anchors that would expand to
// millions of nodes is refused before any of it is walked, naming the
// alias, its anchor and where they are.
func TestAliasBomb(t *testing.T) {
	const file = "testdata/config/alias_bomb.yml"
	want := file + ":7:621: campaigns[0].creators[1]: alias *c0 repeats anchor &c0 (line 7) as 3684 nodes: " +
		"excessive aliasing: the file's 227 nodes would make 5896208 nodes once its aliases are expanded: more than yaml.v3 accepts"
	var err error
	got := allocated(func() { _, err = LoadConfig(file) })
	if err == nil || err.Error() != want {
		t.Errorf("LoadConfig:\n got: %v\nwant: %s", err, want)
	}
	if got > 4<<20 {
		t.Errorf("refusing the bomb allocated %d bytes, want under 4 MiB", got)
	}
}

// TestAliasesWithinLimits: anchors shared within the limits load as if
// written out.
func TestAliasesWithinLimits(t *testing.T) {
	cfg, err := ParseConfig("anchors.yml", []byte(`collectors:
  - type: fake
    token: x
    http: &http {max_retries: 2, user_agent: campaign-bot/1.0}
  - name: other
    type: fake
    token: y
    http: *http
campaigns:
  - name: spring
    creators:
      - name: alice
        fee: &fee {amount: 1500, currency: EUR}
        links:
          - {collector: fake, id: fk.io/a, expect: &shop {host: shop.example, utm: {utm_source: instagram, utm_campaign: spring}}}
          - {collector: other, id: fk.io/b, expect: *shop}
      - name: bob
        fee: *fee
        links:
          - {collector: fake, id: fk.io/c, expect: *shop}
`))
	if err != nil {
		t.Fatal(err)
	}
	links := cfg.LinksFor("fake")
	if len(links) != 2 || links[1].Expect.Host != "shop.example" || links[1].Expect.UTM["utm_campaign"] != "spring" {
		t.Errorf("links = %+v", links)
	}
	if h := cfg.Collectors[1].HTTP; h.MaxRetries != 2 || h.UserAgent != "campaign-bot/1.0" {
		t.Errorf("http of the second collector = %+v", h)
	}
	if f := cfg.Campaigns[0].Creators[1].Fee; f == nil || f.Amount != 1500 {
		t.Errorf("bob's fee = %+v", f)
	}
}

// TestAliasLimitOwn: aliases may add at most 10 nodes per node written
// and 10,000, even where yaml.v3 would decode them.
func TestAliasLimitOwn(t *testing.T) {
	doc := func(links, copies int) string {
		var b strings.Builder
		b.WriteString("collectors:\n  - type: fake\n    token: x\ncampaigns:\n  - name: spring\n    creators:\n      - &c {name: c, links: [")
		for i := range links {
			fmt.Fprintf(&b, "{collector: fake, id: l%d}, ", i)
		}
		b.WriteString("]}\n")
		for range copies {
			b.WriteString("      - *c\n")
		}
		return b.String()
	}
	_, err := ParseConfig("copies.yml", []byte(doc(100, 100)))
	want := "copies.yml:8:9: campaigns[0].creators[1]: alias *c repeats anchor &c (line 7) as 505 nodes: excessive aliasing: " +
		"the file's 621 nodes would make 51121 nodes once its aliases are expanded: aliases may add 16210 nodes at most (10 per node written, plus 10000)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc(100, 100)), &root); err != nil {
		t.Fatal(err)
	}
	if err := root.Decode(new(any)); err != nil {
		t.Errorf("yaml.v3 refuses it too (%v): the test does not test the limit of its own", err)
	}
	// The same copies, fewer of them: 20 copies of 505 nodes.
	if _, err := ParseConfig("copies.yml", []byte(doc(100, 20))); err == nil || strings.Contains(err.Error(), "aliasing") {
		t.Errorf("got %v, want duplicate creator errors only", err)
	}
}

// TestAliasVerdictIsYAMLs: the replay refuses exactly the documents
// yaml.v3 refuses to decode for excessive aliasing.
func TestAliasVerdictIsYAMLs(t *testing.T) {
	n := 0
	for _, anchored := range []int{1, 10, 100} {
		for _, aliases := range []int{5, 50, 99, 100, 101, 200, 1000} {
			for _, plain := range []int{0, 10, 500, 2000} {
				for _, nested := range []bool{false, true} {
					var b strings.Builder
					b.WriteString("a: &a [")
					for range anchored {
						b.WriteString("x, ")
					}
					b.WriteString("]\n")
					ref := "*a"
					if nested {
						b.WriteString("d: &d [*a, *a, *a]\n")
						ref = "*d"
					}
					b.WriteString("p: [")
					for range plain {
						b.WriteString("y, ")
					}
					b.WriteString("]\nb: [")
					for range aliases {
						b.WriteString(ref + ", ")
					}
					b.WriteString("]\n")
					var root yaml.Node
					if err := yaml.Unmarshal([]byte(b.String()), &root); err != nil {
						t.Fatal(err)
					}
					a := &aliasCounter{sizes: map[*yaml.Node]int{}, busy: map[*yaml.Node]bool{}}
					a.replay(&root)
					err := yaml.Unmarshal([]byte(b.String()), new(any))
					refused := err != nil && strings.Contains(err.Error(), "excessive aliasing")
					if a.excessive != refused {
						t.Errorf("anchored %d, aliases %d, plain %d, nested %v: replay says excessive=%v, yaml.v3: %v", anchored, aliases, plain, nested, a.excessive, err)
					}
					if refused {
						n++
					}
				}
			}
		}
	}
	if n == 0 {
		t.Error("no document was refused: the test tests nothing")
	}
}

// TestStringRules: control characters and lengths are refused at load,
// with the place of the value, never the value itself.
func TestStringRules(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const secret = "s3cr3t-t0k3n"
	write("two-lines.token", secret+"\n"+secret+"\n")
	write("one-line.token", secret+"\r\n")
	write("big.token", strings.Repeat("x", 70<<10))
	write("key.json", "{\n  \"type\": \"service_account\",\n\t\"client_email\": \"exporter@example.iam.gserviceaccount.com\"\n}\n")
	t.Setenv("INFLUENCER_TEST_TOKEN_CR", secret+"\rX")
	long := strings.Repeat("a", 1025)
	file := filepath.Join(dir, "c.yml")
	for _, tc := range []struct {
		name, yml string
		want      string // "" for valid
	}{
		{"token with a line feed", `collectors:
  - type: fake
    token: "` + secret + `\n"
`, ":3:5: collectors[0].token: the token contains a line feed (U+000A) at byte 12: control characters are not allowed (the token ends with a line break: a block scalar keeps its last one unless written |- or >-)"},
		{"token as a block scalar", `collectors:
  - type: fake
    token: |
      ` + secret + `
`, ":3:5: collectors[0].token: the token contains a line feed (U+000A) at byte 12: control characters are not allowed (the token ends with a line break: a block scalar keeps its last one unless written |- or >-)"},
		{"token that is a JSON key", `collectors:
  - type: fake
    token: |
      {
        "type": "service_account",
        "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----\n"
      }
`, ""},
		{"token_file that is a JSON key", "collectors:\n  - type: fake\n    token_file: key.json\n", ""},
		{"token that is not quite JSON", `collectors:
  - type: fake
    token: |
      {"type": "service_account",
`, ":3:5: collectors[0].token: the token contains a line feed (U+000A) at byte 27: control characters are not allowed (the token ends with a line break: a block scalar keeps its last one unless written |- or >-)"},
		{"token as a block scalar without its line break", `collectors:
  - type: fake
    token: |-
      ` + secret + `
`, ""},
		{"token_file of two lines", "collectors:\n  - type: fake\n    token_file: two-lines.token\n",
			":2:5: collectors[0].token: token_file two-lines.token: the token contains a line feed (U+000A) at byte 12: control characters are not allowed"},
		{"token_file ending with CR LF", "collectors:\n  - type: fake\n    token_file: one-line.token\n", ""},
		{"token_file too large", "collectors:\n  - type: fake\n    token_file: big.token\n",
			":2:5: collectors[0].token: read token_file: " + filepath.Join(dir, "big.token") + " is 71680 bytes (70 KiB), above the limit of 64 KiB"},
		{"token_file that is a device", "collectors:\n  - type: fake\n    token_file: /dev/zero\n",
			":2:5: collectors[0].token: read token_file: /dev/zero is not a regular file"},
		{"token_env with a carriage return", "collectors:\n  - type: fake\n    token_env: INFLUENCER_TEST_TOKEN_CR\n",
			":2:5: collectors[0].token: environment variable INFLUENCER_TEST_TOKEN_CR (token_env): the token contains a carriage return (U+000D) at byte 12: control characters are not allowed"},
		{"token too long", "collectors:\n  - type: fake\n    token: " + strings.Repeat("t", 8<<10+1) + "\n",
			":3:5: collectors[0].token: the token is 8193 bytes long, above the limit of 8 KiB"},
		{"user_agent with CR LF", `collectors:
  - type: fake
    token: x
    http: {user_agent: "bot/1.0\r\nX-Injected: 1"}
`, ":4:24: collectors[0].http.user_agent: contains a carriage return (U+000D) at byte 7: control characters are not allowed"},
		{"proxy header value with LF", `collectors:
  - type: fake
    token: x
    http_config:
      proxy_url: http://127.0.0.1:3128
      proxy_connect_header: {X-Auth: ["a\nb"]}
`, ":6:39: collectors[0].http_config.proxy_connect_header.X-Auth[0]: contains a line feed (U+000A) at byte 1: control characters are not allowed"},
		{"proxy header name with LF", `collectors:
  - type: fake
    token: x
    http_config:
      proxy_url: http://127.0.0.1:3128
      proxy_connect_header: {"X\nAuth": [a]}
`, `:6:30: collectors[0].http_config.proxy_connect_header."X\nAuth": key contains a line feed (U+000A) at byte 1: control characters are not allowed`},
		{"creator name with NUL", `collectors:
  - type: fake
    token: x
campaigns:
  - name: spring
    creators:
      - name: "alice\0"
`, ":7:15: campaigns[0].creators[0].name: contains NUL (U+0000) at byte 5: control characters are not allowed"},
		{"link id with DEL", `collectors:
  - type: fake
    token: x
campaigns:
  - name: spring
    creators:
      - name: alice
        links: [{collector: fake, id: "fk.io/a\x7f"}]
`, ":8:39: campaigns[0].creators[0].links[0].id: contains DEL (U+007F) at byte 7: control characters are not allowed"},
		{"post id too long", `collectors:
  - type: fake
    token: x
campaigns:
  - name: spring
    creators:
      - name: alice
        posts: [{collector: fake, id: ` + long + `}]
`, ":8:35: campaigns[0].creators[0].posts[0].id: is 1025 bytes long, above the limit of 1 KiB for a label value"},
		{"campaign name too long", "campaigns:\n  - name: " + long + "\n",
			":2:5: campaigns[0].name: is 1025 bytes long, above the limit of 1 KiB for a label value"},
		{"discount code with a tab", `collectors:
  - type: fake
    token: x
campaigns:
  - name: spring
    creators:
      - name: alice
        codes: [{collector: fake, code: "SPRING\t10"}]
`, ":8:41: campaigns[0].creators[0].codes[0].code: contains a tab (U+0009) at byte 6: control characters are not allowed"},
		{"option with a line feed", `collectors:
  - type: fake
    token: x
    options: {size: 3, wait: "1s\n"}
`, ""}, // options are checked when the collector decodes them: see TestDecodeOptionsStringRules
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(file, []byte(tc.yml))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want no error, got %v", err)
			case tc.want == "":
				return
			case err == nil:
				t.Fatalf("no error, want %s", tc.want)
			}
			if got := err.Error(); got != file+tc.want {
				t.Errorf("error:\n got: %s\nwant: %s", got, file+tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}

func TestDecodeOptionsStringRules(t *testing.T) {
	cfg, err := ParseConfig("o.yml", []byte("collectors:\n  - type: fake\n    token: x\n    options: {wait: 1s, size: 3, name: \"a\\nb\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Size int    `yaml:"size"`
		Wait string `yaml:"wait"`
		Name string `yaml:"name"`
	}
	err = cfg.Collectors[0].DecodeOptions(&o)
	if want := `o.yml:4:40: collectors[0].options.name: contains a line feed (U+000A) at byte 1: control characters are not allowed`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestInlinePEM: inline certificates are PEM text, lines and all.
func TestInlinePEM(t *testing.T) {
	dir := t.TempDir()
	pki := newTestPKI(t, dir)
	ca, err := os.ReadFile(pki.caFile)
	if err != nil {
		t.Fatal(err)
	}
	indented := "          " + strings.ReplaceAll(strings.TrimSpace(string(ca)), "\n", "\n          ")
	yml := "collectors:\n  - type: fake\n    token: x\n    http_config:\n      tls_config:\n        ca: |\n" + indented + "\n"
	if _, err := ParseConfig(filepath.Join(dir, "c.yml"), []byte(yml)); err != nil {
		t.Errorf("inline CA: %v", err)
	}
	yml = "collectors:\n  - type: fake\n    token: x\n    http_config:\n      tls_config:\n        ca: \"-----BEGIN\\0\"\n"
	if _, err := ParseConfig(filepath.Join(dir, "c.yml"), []byte(yml)); err == nil || !strings.Contains(err.Error(), "collectors[0].http_config.tls_config.ca: contains NUL (U+0000) at byte 10: control characters other than line breaks and tabs are not allowed in PEM text") {
		t.Errorf("NUL in an inline CA: %v", err)
	}
}

// TestConfigErrorsAreOneLine: a value quoted in an error keeps its
// line breaks escaped, so that every error is one line naming the file.
func TestConfigErrorsAreOneLine(t *testing.T) {
	_, err := ParseConfig("f.yml", []byte("00\n\n00\n0\n\n0"))
	if want := "f.yml:1:1: cannot unmarshal !!str `00\\n00 0\\n0` into exporter.Config"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// BenchmarkRejectAliasBomb: how long refusing the bomb takes, and what
// it allocates.
func BenchmarkRejectAliasBomb(b *testing.B) {
	data, err := os.ReadFile("testdata/config/alias_bomb.yml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseConfig("bomb.yml", data); err == nil {
			b.Fatal("the bomb loaded")
		}
	}
}

// BenchmarkRejectOversizedFile: a 50 MB file is refused by its size,
// unread.
func BenchmarkRejectOversizedFile(b *testing.B) {
	file := filepath.Join(b.TempDir(), "big.yml")
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	line := []byte("# " + strings.Repeat("x", 97) + "\n")
	for range 500_000 {
		if _, err := f.Write(line); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadConfig(file); err == nil || !strings.Contains(err.Error(), "above the limit") {
			b.Fatalf("got %v", err)
		}
	}
}

// agencyConfig is the config of an agency's campaign: 10,000 creators,
// each with two links, a code, four posts, an account and a fee. It is
// what --config.max-size is sized for: about 6 MB.
func agencyConfig() []byte {
	var b bytes.Buffer
	b.WriteString("collectors:\n  - type: fake\n    token: x\ncampaigns:\n  - name: agency\n    creators:\n")
	for i := range 10_000 {
		fmt.Fprintf(&b, "      - name: c%05d\n        links:\n", i)
		for j := range 2 {
			fmt.Fprintf(&b, "          - {collector: fake, id: bit.ly/l%05d}\n", i*2+j)
		}
		fmt.Fprintf(&b, "        codes:\n          - {collector: fake, code: SPRING%05d}\n        posts:\n", i)
		for j := range 4 {
			fmt.Fprintf(&b, "          - {collector: fake, id: \"179%012d\"}\n", i*4+j)
		}
		fmt.Fprintf(&b, "        accounts:\n          - {collector: fake, id: \"178%012d\", match: \"#spring\"}\n", i)
		b.WriteString("        fee: {amount: 1500, per_post: 300, currency: EUR, budget: 3000}\n")
	}
	return b.Bytes()
}

// BenchmarkParseConfigAgency: loading the largest config the exporter is
// built for, which every limit must leave as it was.
func BenchmarkParseConfigAgency(b *testing.B) {
	data := agencyConfig()
	b.ReportMetric(float64(len(data)), "file-bytes")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseConfig("agency.yml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSyntaxErrorAgency: finding the line of a tab near the end of
// the agency's config, and of a line indented one space short, early on.
func BenchmarkSyntaxErrorAgency(b *testing.B) {
	data := agencyConfig()
	lines := bytes.SplitAfter(data, []byte("\n"))
	creator := func(i int) int { // the index of creator i's line
		return slices.IndexFunc(lines, func(l []byte) bool { return bytes.HasSuffix(l, fmt.Appendf(nil, "- name: c%05d\n", i)) })
	}
	for _, tc := range []struct {
		name, want string
		line       int
		edit       func([]byte) []byte
	}{
		// The links: of the last creator, indented with a tab.
		{"tab near the end", ":%d:1: campaigns[0].creators[9999]: found a tab character", creator(9999) + 1,
			func(l []byte) []byte { return append([]byte("\t"), bytes.TrimLeft(l, " ")...) }},
		// The 100th creator, one space short.
		{"indentation early", ":%d:6: campaigns[0].creators: did not find expected key", creator(99),
			func(l []byte) []byte { return l[1:] }},
	} {
		tc.want = fmt.Sprintf(tc.want, tc.line+1)
		b.Run(tc.name, func(b *testing.B) {
			edited := bytes.Join(append(append(append([][]byte{}, lines[:tc.line]...), tc.edit(lines[tc.line])), lines[tc.line+1:]...), nil)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseConfig("agency.yml", edited); err == nil || !strings.Contains(err.Error(), tc.want) {
					b.Fatalf("got %.200v, want %s", err, tc.want)
				}
			}
		})
	}
}

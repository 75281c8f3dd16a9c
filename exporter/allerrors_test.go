package exporter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckReportsEveryPhase: one run of --config.check shows unknown
// fields, values of the wrong type, invalid values and what a collector
// refuses in its options, each once, sorted by line.
func TestCheckReportsEveryPhase(t *testing.T) {
	const file = "testdata/bad/every_phase.yml"
	want := []string{
		file + `:2:3: global.refresh_intervall: unknown field "refresh_intervall" (known: early_curve, jitter, max_concurrent_refreshes, post_series, refresh_interval, timeout)`,
		file + ":3:11: global.jitter: cannot unmarshal !!str `lots` into float64",
		file + `:6:5: collectors[0].interval: 1s is below the minimum of 10s`,
		file + ":8:13: collectors[0].options.size: cannot unmarshal !!str `many` into int",
		file + `:11:14: collectors[1].timeout: not a valid duration string: "soon"`,
		file + `:16:12: campaigns[0].start: parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"`,
		file + `:20:31: campaigns[0].creators[0].links[0].id: link id "https://fk.io/a" must be the short link without a scheme, like bit.ly/abc`,
		file + `:22:28: campaigns[0].creators[0].fee.currency: must be an ISO 4217 code in upper case (EUR, USD), got "eur"`,
	}
	cfg, instances, err := Check(file)
	if cfg != nil || instances != nil {
		t.Errorf("Check returned a config or instances with errors")
	}
	if err == nil {
		t.Fatal("no error")
	}
	if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n got:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}

	// Loading alone reports the same, but what collectors refuse: they
	// are not built. The config is nil, so a reload keeps the running one.
	cfg, err = LoadConfig(file)
	if cfg != nil {
		t.Errorf("LoadConfig returned a config with errors")
	}
	var loadWant []string
	for _, w := range want {
		if !strings.Contains(w, ".options.") {
			loadWant = append(loadWant, w)
		}
	}
	if err == nil || err.Error() != strings.Join(loadWant, "\n") {
		t.Errorf("LoadConfig errors:\n got:\n%v\nwant:\n%s", err, strings.Join(loadWant, "\n"))
	}
}

// TestCheckLeavesOutFollowOns: an error that only follows from one
// already reported is not reported, and what could not be decoded is not
// judged again.
func TestCheckLeavesOutFollowOns(t *testing.T) {
	for _, tc := range []struct {
		name, yml string
		want      []string
	}{
		{
			name: "a name that does not decode hides no collector",
			yml: `collectors:
  - type: fake
    name: [eu]
campaigns:
  - name: spring
    creators:
      - name: alice
        links: [{collector: eu, id: fk.io/a}]
`,
			want: []string{"3:11: collectors[0].name: cannot unmarshal !!seq into string"},
		},
		{
			name: "an unknown key may be the collector's name",
			yml: `collectors:
  - type: fake
    nmae: eu
  - type: fake
campaigns:
  - name: spring
    creators:
      - name: alice
        links: [{collector: eu, id: fk.io/a}]
`,
			want: []string{`3:5: collectors[0].nmae: unknown field "nmae"`},
		},
		{
			name: "a misspelt collectors key",
			yml: `colectors:
  - type: fake
campaigns:
  - name: spring
    creators:
      - name: alice
        links: [{collector: fake, id: fk.io/a}]
`,
			want: []string{`1:1: colectors: unknown field "colectors" (known: campaigns, collectors, global, sandbox)`},
		},
		{
			name: "a misspelt or broken fee amount is not also a fee paying nothing",
			yml: `campaigns:
  - name: spring
    creators:
      - name: alice
        fee: {amout: 100, currency: EUR}
      - name: bob
        fee: {per_post: lots, currency: EUR}
`,
			want: []string{
				`5:15: campaigns[0].creators[0].fee.amout: unknown field "amout"`,
				"7:25: campaigns[0].creators[1].fee.per_post: cannot unmarshal !!str `lots` into float64",
			},
		},
		{
			name: "a link's misspelt collector key or broken id",
			yml: `collectors:
  - type: fake
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {colector: fake, id: fk.io/a}
          - {collector: fake, id: [x]}
          - {collector: fake, id: [y]}
`,
			want: []string{
				`8:14: campaigns[0].creators[0].links[0].colector: unknown field "colector"`,
				"9:35: campaigns[0].creators[0].links[1].id: cannot unmarshal !!seq into string",
				"10:35: campaigns[0].creators[0].links[2].id: cannot unmarshal !!seq into string",
			},
		},
		{
			name: "a collector whose block does not decode is not built",
			yml: `collectors:
  - type: fake
    timeout: soon
    options: {colour: blue}
`,
			want: []string{`3:14: collectors[0].timeout: not a valid duration string: "soon"`},
		},
		{
			name: "a collector without its token is not built; refused credentials are left out and it is",
			yml: `collectors:
  - type: fake
    token_env: INFLUENCER_TEST_UNSET_VARIABLE
    options: {colour: blue}
  - name: b
    type: fake
    http_config: {basic_auth: {username: u}}
    options: {colour: blue}
`,
			want: []string{
				"2:5: collectors[0].token: environment variable INFLUENCER_TEST_UNSET_VARIABLE (token_env) is not set",
				"7:19: collectors[1].http_config.basic_auth: credentials are not set in http_config",
				`8:15: collectors[1].options.colour: unknown field "colour" (known: size, wait)`,
			},
		},
		{
			name: "an unknown type is reported once",
			yml:  "collectors:\n  - type: bitlyy\n    options: {colour: blue}\n",
			want: []string{`2:5: collectors[0].type: unknown collector type "bitlyy" (known: fake)`},
		},
		{
			name: "an item that does not decode keeps the next items' paths",
			yml:  "campaigns: [oops, {name: ''}]\n",
			want: []string{
				"1:13: campaigns[0]: cannot unmarshal !!str `oops` into exporter.Campaign",
				"1:20: campaigns[1].name: campaign name is empty",
			},
		},
		{
			name: "an age that does not decode is not also out of order",
			yml:  "global:\n  early_curve:\n    ages: [3h, soon, 1h, 6h]\n",
			want: []string{`3:16: global.early_curve.ages[1]: not a valid duration string: "soon"`},
		},
		{
			name: "a key given twice",
			yml:  "global: {jitter: 0.1, jitter: 0.2}\ncampaigns: [{name: ''}]\n",
			want: []string{
				`1:23: global.jitter: mapping key "jitter" already defined at line 1`,
				"2:14: campaigns[0].name: campaign name is empty",
			},
		},
		{
			name: "a block of the wrong kind",
			yml:  "global: 5\ncollectors: [{type: fake, interval: 1s, options: {size: x}}]\n",
			want: []string{
				"1:9: global: cannot unmarshal !!int `5` into exporter.GlobalConfig",
				"2:27: collectors[0].interval: 1s is below the minimum of 10s",
				"2:57: collectors[0].options.size: cannot unmarshal !!str `x` into int",
			},
		},
		{
			name: "http_config checked by the library once the unknown key is left out",
			yml: `collectors:
  - type: fake
    http_config:
      tls_config: {ca_fil: x}
      no_proxy: localhost
    options: {colour: blue}
`,
			want: []string{
				"4:7: collectors[0].http_config: if no_proxy is configured, proxy_url must also be configured",
				`4:20: collectors[0].http_config.tls_config.ca_fil: unknown field "ca_fil"`,
			},
		},
		{
			name: "http_config with a value that does not decode",
			yml: `collectors:
  - type: fake
    http_config:
      proxy_url: "http://[::1"
      no_proxy: localhost
`,
			want: []string{`4:18: collectors[0].http_config.proxy_url: parse "http://[::1": missing ']' in host`},
		},
		{
			name: "an alias to a value of the wrong kind",
			yml:  "sandbox:\n  servers: &s {fake: *s}\n",
			want: []string{"2:12: sandbox.servers.fake: cannot unmarshal !!map into string"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "c.yml")
			if err := os.WriteFile(file, []byte(tc.yml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := Check(file)
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.Split(err.Error(), "\n")
			if len(got) != len(tc.want) {
				t.Fatalf("want %d errors, got:\n%v", len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], file+":"+w) {
					t.Errorf("error %d:\n got: %s\nwant: %s:%s...", i, got[i], file, w)
				}
			}
		})
	}
}

// TestDecodeOptionsReportsEveryError: an unknown option and one of the
// wrong type are reported together, with their lines, and the other
// options decoded; the same once the config has let go of its positions
// (as a running one has, which check --online builds again).
func TestDecodeOptionsReportsEveryError(t *testing.T) {
	cfg, err := ParseConfig("o.yml", []byte("collectors:\n  - type: fake\n    options:\n      colour: blue\n      wait: soon\n      size: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, when := range []string{"loaded", "released"} {
		if when == "released" {
			cfg.releasePositions()
		}
		var o testOptions
		err = cfg.Collectors[0].DecodeOptions(&o)
		want := `o.yml:4:7: collectors[0].options.colour: unknown field "colour" (known: size, wait)` + "\n" +
			`o.yml:5:13: collectors[0].options.wait: not a valid duration string: "soon"`
		if err == nil || err.Error() != want {
			t.Errorf("%s: error:\n got: %v\nwant: %s", when, err, want)
		}
		if o.Size != 3 {
			t.Errorf("%s: size = %d, want 3: the options that decode are decoded", when, o.Size)
		}
		if cfg.pos != nil && when == "released" {
			t.Errorf("decoding the options of a released config kept %d positions", len(cfg.pos))
		}
	}
}

// TestDecodeOptionsAnchorCycle: an anchor whose value contains itself is
// an error, not an endless walk.
func TestDecodeOptionsAnchorCycle(t *testing.T) {
	type tree struct {
		Name  string `yaml:"name"`
		Child *tree  `yaml:"child"`
	}
	cfg, err := ParseConfig("o.yml", []byte("collectors:\n  - type: fake\n    options: &a {name: root, child: *a}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var v tree
	err = cfg.Collectors[0].DecodeOptions(&v)
	want := `o.yml:3:37: collectors[0].options.child.child: anchor "a" value contains itself`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got: %v\nwant: %s", err, want)
	}
	if v.Name != "root" || v.Child == nil || v.Child.Name != "root" || v.Child.Child != nil {
		t.Errorf("decoded %+v", v)
	}
}

// TestFlattenErrors: a join is split into its errors, one a line; an error
// wrapping several others with fmt.Errorf stays whole.
func TestFlattenErrors(t *testing.T) {
	a, b, c := errors.New("a"), errors.New("b"), errors.New("c")
	if got := flattenErrors(errors.Join(a, errors.Join(b, c))); len(got) != 3 || got[0] != a || got[1] != b || got[2] != c {
		t.Errorf("join: %v", got)
	}
	wrapped := fmt.Errorf("%w: %w", a, b)
	if got := flattenErrors(wrapped); len(got) != 1 || got[0] != wrapped {
		t.Errorf("wrapped: %v", got)
	}
	if got := flattenErrors(nil); got != nil {
		t.Errorf("nil: %v", got)
	}
}

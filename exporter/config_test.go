package exporter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestLoadConfigGood(t *testing.T) {
	t.Setenv("FAKE_TOKEN", "fake-token-from-env")
	cfg, err := LoadConfig("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(cfg.Global.RefreshInterval); got != 2*time.Minute {
		t.Errorf("refresh_interval = %s, want 2m", got)
	}
	first, second := cfg.Collectors[0], cfg.Collectors[1]
	if first.Name != "fake" {
		t.Errorf("name defaults to type: got %q", first.Name)
	}
	if string(first.Token) != "fake-token-from-env" {
		t.Errorf("token_env not resolved")
	}
	if string(second.Token) != "fake-token-from-file" {
		t.Errorf("token_file not resolved or not trimmed: %q", second.Token)
	}
	if time.Duration(first.Interval) != 2*time.Minute || time.Duration(second.Interval) != 30*time.Second {
		t.Errorf("intervals: %s, %s", first.Interval, second.Interval)
	}
	if first.HTTP.MaxRetries != DefaultHTTP.MaxRetries || first.HTTP.MaxResponseBytes != DefaultHTTP.MaxResponseBytes {
		t.Errorf("http defaults not applied: %+v", first.HTTP)
	}
	links := cfg.LinksFor("fake")
	if len(links) != 2 || links[0].Creator != "alice" || links[1].ID != "fk.io/bob" || links[0].Campaign != "spring" {
		t.Errorf("LinksFor: %+v", links)
	}
	if tags := cfg.TagsFor("fake-eu"); len(tags) != 1 || tags[0].Tag.Tag != "alice" {
		t.Errorf("TagsFor: %+v", tags)
	}
	if links[0].Expect.UTM["utm_source"] != "alice" {
		t.Errorf("expect not decoded: %+v", links[0].Expect)
	}
	var o testOptions
	if err := first.DecodeOptions(&o); err != nil || o.Size != 3 {
		t.Errorf("DecodeOptions = %+v, %v", o, err)
	}
	// A secret never shows when the config is printed.
	out, err := yaml.Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "fake-token") {
		t.Errorf("marshalled config shows the token:\n%s", out)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	t.Setenv("FAKE_TOKEN", "x")
	for _, tc := range []struct {
		file string
		want string
	}{
		{"unknown_field.yml", `testdata/bad/unknown_field.yml:3:5: collectors[0].intervall: unknown field "intervall" (known: base_url, http, interval, name, options, timeout, token, token_env, token_file, type)`},
		{"unknown_type.yml", `testdata/bad/unknown_type.yml:2:5: collectors[0].type: unknown collector type "bitlyy" (known: fake)`},
		{"duplicate_creator.yml", `testdata/bad/duplicate_creator.yml:7:9: campaigns[0].creators[1].name: duplicate creator "alice" in campaign "spring"`},
		{"duplicate_link.yml", `testdata/bad/duplicate_link.yml:11:31: campaigns[0].creators[1].links[0].id: duplicate link "fk.io/a" (first at campaigns[0].creators[0].links[0])`},
		{"empty_name.yml", `testdata/bad/empty_name.yml:6:9: campaigns[0].creators[0].name: creator name is empty`},
		{"interval_too_short.yml", `testdata/bad/interval_too_short.yml:3:5: collectors[0].interval: 2s is below the minimum of 10s`},
		{"unknown_collector_ref.yml", `testdata/bad/unknown_collector_ref.yml:8:14: campaigns[0].creators[0].links[0].collector: unknown collector "bitly" (configured: fake)`},
		{"missing_env.yml", `testdata/bad/missing_env.yml:2:5: collectors[0].token: environment variable INFLUENCER_TEST_UNSET_VARIABLE (token_env) is not set`},
		{"two_token_sources.yml", `testdata/bad/two_token_sources.yml:3:5: collectors[0].token: set only one of token, token_env and token_file`},
		{"link_with_scheme.yml", `testdata/bad/link_with_scheme.yml:8:31: campaigns[0].creators[0].links[0].id: link id "https://fk.io/a" must be the short link without a scheme, like bit.ly/abc`},
		{"bad_option.yml", `testdata/bad/bad_option.yml:5:7: collectors[0].options.colour: unknown field "colour" (known: size, wait)`},
		{"bad_yaml.yml", `testdata/bad/bad_yaml.yml: line 1: did not find expected '-' indicator`},
		{"wrong_type.yml", "testdata/bad/wrong_type.yml:2:29: global.max_concurrent_refreshes: cannot unmarshal !!str `many` into int"},
		{"bad_duration_option.yml", `testdata/bad/bad_duration_option.yml:4:13: collectors[0].options.wait: not a valid duration string: "soon"`},
		{"base_url_credentials.yml", `testdata/bad/base_url_credentials.yml:3:5: collectors[0].base_url: must not carry credentials or a query string`},
		{"sandbox_not_loopback.yml", `testdata/bad/sandbox_not_loopback.yml:3:5: sandbox.servers.fake: sandbox servers listen on loopback only, got "0.0.0.0:19401"`},
		{"duplicate_collector.yml", `testdata/bad/duplicate_collector.yml:3:5: collectors[1].name: duplicate collector name "fake" (first at collectors[0])`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, _, err := Check(filepath.Join("testdata/bad", tc.file))
			if err == nil {
				t.Fatal("no error")
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error:\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func TestLoadConfigReportsEveryError(t *testing.T) {
	cfg := `collectors:
  - type: fake
    interval: 1s
  - type: nope
campaigns:
  - name: ""
`
	_, err := ParseConfig("many.yml", []byte(cfg))
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 {
		t.Errorf("want 3 errors, one per line, got:\n%s", err)
	}
}

func TestTokenFileErrorDoesNotLeak(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "c.yml")
	if err := os.WriteFile(f, []byte("collectors:\n  - type: fake\n    token_file: missing.token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(f)
	if err == nil || !strings.Contains(err.Error(), "collectors[0].token: read token_file") {
		t.Fatalf("got %v", err)
	}
}

func TestTypeErrorsNameTheField(t *testing.T) {
	_, err := ParseConfig("types.yml", []byte(`global:
  jitter: lots
campaigns:
  - name: spring
    start: yesterday
`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"types.yml:2:11: global.jitter: cannot unmarshal !!str `lots` into float64",
		`types.yml:5:12: campaigns[0].start: parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestCreatorsUTM(t *testing.T) {
	cfg, err := ParseConfig("utm.yml", []byte(`campaigns:
  - name: spring
    utm_parameter: utm_campaign
    creators:
      - name: alice
        utm: alice-ig
  - name: summer
    creators:
      - name: bob
`))
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Creators()
	if len(got) != 2 || got[0].UTMParameter != "utm_campaign" || got[0].UTMValue != "alice-ig" ||
		got[1].UTMParameter != "utm_content" || got[1].UTMValue != "bob" {
		t.Errorf("Creators = %+v", got)
	}
	_, err = ParseConfig("utm.yml", []byte("campaigns:\n  - name: x\n    utm_parameter: ref\n"))
	if err == nil || !strings.Contains(err.Error(), `utm.yml:3:5: campaigns[0].utm_parameter: must be one of utm_content, utm_campaign, utm_source, utm_medium, utm_term, got "ref"`) {
		t.Errorf("got %v", err)
	}
}

package exporter

import (
	"fmt"
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
		{"unknown_field.yml", `testdata/bad/unknown_field.yml:3:5: collectors[0].intervall: unknown field "intervall" (known: base_url, http, http_config, interval, name, options, timeout, token, token_env, token_file, type)`},
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
		{"bad_yaml.yml", `testdata/bad/bad_yaml.yml:3:4: collectors: did not find expected '-' indicator`},
		{"wrong_type.yml", "testdata/bad/wrong_type.yml:2:29: global.max_concurrent_refreshes: cannot unmarshal !!str `many` into int"},
		{"bad_duration_option.yml", `testdata/bad/bad_duration_option.yml:4:13: collectors[0].options.wait: not a valid duration string: "soon"`},
		{"base_url_credentials.yml", `testdata/bad/base_url_credentials.yml:3:5: collectors[0].base_url: must not carry credentials or a query string`},
		{"sandbox_not_loopback.yml", `testdata/bad/sandbox_not_loopback.yml:3:5: sandbox.servers.fake: sandbox servers listen on loopback only, got "0.0.0.0:19401"`},
		{"duplicate_collector.yml", `testdata/bad/duplicate_collector.yml:3:5: collectors[1].name: duplicate collector name "fake" (first at collectors[0])`},
		{"fee_missing_currency.yml", `testdata/bad/fee_missing_currency.yml:5:9: campaigns[0].creators[0].fee.currency: currency is required with a fee (an ISO 4217 code such as EUR)`},
		{"fee_lowercase_currency.yml", `testdata/bad/fee_lowercase_currency.yml:7:11: campaigns[0].creators[0].fee.currency: must be an ISO 4217 code in upper case (EUR, USD), got "eur"`},
		{"fee_negative.yml", `testdata/bad/fee_negative.yml:7:11: campaigns[0].creators[0].fee.per_post: must not be negative, got -300`},
		{"fee_negative_budget.yml", `testdata/bad/fee_negative_budget.yml:8:11: campaigns[0].creators[0].fee.budget: must not be negative, got -1`},
		{"fee_not_finite.yml", `testdata/bad/fee_not_finite.yml:6:11: campaigns[0].creators[0].fee.amount: must be a finite number, got +Inf`},
		{"fee_nothing_paid.yml", `testdata/bad/fee_nothing_paid.yml:5:9: campaigns[0].creators[0].fee: set amount, per_post or both above 0 (a creator paid nothing has no fee)`},
		{"checkpoints_empty.yml", `testdata/bad/checkpoints_empty.yml:3:5: campaigns[0].checkpoints.at: at least one time of day is required (HH:MM, like 09:00)`},
		{"checkpoints_bad_time.yml", `testdata/bad/checkpoints_bad_time.yml:4:21: campaigns[0].checkpoints.at[1]: invalid time of day "24:00": want HH:MM, from 00:00 to 23:59`},
		{"checkpoints_bad_format.yml", `testdata/bad/checkpoints_bad_format.yml:4:12: campaigns[0].checkpoints.at[0]: invalid time of day "9:00": want HH:MM, from 00:00 to 23:59`},
		{"checkpoints_duplicate.yml", `testdata/bad/checkpoints_duplicate.yml:4:30: campaigns[0].checkpoints.at[2]: duplicate time "09:00" (first at campaigns[0].checkpoints.at[0])`},
		{"checkpoints_bad_zone.yml", `testdata/bad/checkpoints_bad_zone.yml:5:7: campaigns[0].checkpoints.time_zone: unknown time zone Europe/Pariss (want an IANA zone such as Europe/Paris)`},
		{"early_curve_zero_age.yml", `testdata/bad/early_curve_zero_age.yml:3:12: global.early_curve.ages[0]: must be positive, got 0s`},
		{"early_curve_too_old.yml", `testdata/bad/early_curve_too_old.yml:3:16: global.early_curve.ages[1]: 31d is above the maximum of 30d`},
		{"early_curve_unsorted.yml", `testdata/bad/early_curve_unsorted.yml:3:16: global.early_curve.ages[1]: ages must be in increasing order: 1h is not after 3h`},
		{"early_curve_duplicate.yml", `testdata/bad/early_curve_duplicate.yml:3:20: global.early_curve.ages[2]: duplicate age 3h (first at global.early_curve.ages[1])`},
		{"post_series_global.yml", `testdata/bad/post_series_global.yml:2:3: global.post_series: must be per_post or per_creator, got "per_campaign"`},
		{"post_series_campaign.yml", `testdata/bad/post_series_campaign.yml:3:5: campaigns[0].post_series: must be per_post or per_creator, got "creator"`},
		{"post_id_reserved.yml", `testdata/bad/post_id_reserved.yml:8:31: campaigns[0].creators[0].posts[0].id: post id "all" is reserved: it is the post label of a creator's summed posts (post_series: per_creator)`},
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

func TestHTTPConfigErrors(t *testing.T) {
	dir := t.TempDir()
	pki := newTestPKI(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "not-a-cert.pem"), []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "c.yml")
	for _, tc := range []struct {
		name, block string
		want        []string
	}{
		{
			name:  "relative ca_file resolves against the config file",
			block: "tls_config:\n        ca_file: ca.pem\n        cert_file: client.pem\n        key_file: client-key.pem\n        server_name: api.example\n        min_version: TLS12\n      proxy_url: http://127.0.0.1:3128\n      no_proxy: localhost\n      follow_redirects: false\n      enable_http2: false",
		},
		{
			name:  "missing ca_file",
			block: "tls_config:\n        ca_file: missing.pem",
			want:  []string{file + ":6:9: collectors[0].http_config.tls_config.ca_file: stat " + filepath.Join(dir, "missing.pem") + ": no such file or directory"},
		},
		{
			name:  "ca_file that is no certificate",
			block: "tls_config:\n        ca_file: not-a-cert.pem",
			want:  []string{file + ":6:9: collectors[0].http_config.tls_config.ca_file: unable to use specified CA cert file " + filepath.Join(dir, "not-a-cert.pem")},
		},
		{
			name:  "client key that does not match",
			block: "tls_config:\n        cert_file: client.pem\n        key_file: not-a-cert.pem",
			want:  []string{file + ":6:9: collectors[0].http_config.tls_config.cert_file: unable to use specified client cert (file " + filepath.Join(dir, "client.pem") + ") & key (file " + filepath.Join(dir, "not-a-cert.pem") + "): tls: failed to find any PEM data in key input"},
		},
		{
			name:  "basic_auth",
			block: "basic_auth:\n        username: u\n        password: p",
			want:  []string{file + ":5:7: collectors[0].http_config.basic_auth: credentials are not set in http_config: the collector sends its provider credential from token, token_env or token_file"},
		},
		{
			name:  "authorization and bearer_token",
			block: "authorization:\n        credentials: x\n      bearer_token: y",
			want: []string{
				file + ":5:7: collectors[0].http_config.authorization: credentials are not set in http_config",
				file + ":7:7: collectors[0].http_config.bearer_token: credentials are not set in http_config",
			},
		},
		{
			name:  "oauth2",
			block: "oauth2:\n        client_id: x\n        token_url: http://127.0.0.1/token",
			want:  []string{file + ":5:7: collectors[0].http_config.oauth2: credentials are not set in http_config"},
		},
		{
			name:  "unknown field in tls_config",
			block: "tls_config:\n        ca_fil: ca.pem",
			want:  []string{file + `:6:9: collectors[0].http_config.tls_config.ca_fil: unknown field "ca_fil" (known: ca, ca_file, cert, cert_file, insecure_skip_verify, key, key_file, max_version, min_version, server_name)`},
		},
		{
			name:  "secret manager reference",
			block: "tls_config:\n        ca_ref: vault",
			want:  []string{`collectors[0].http_config.tls_config.ca_ref: unknown field "ca_ref"`},
		},
		{
			name:  "bad min_version",
			block: "tls_config:\n        min_version: TLS99",
			want:  []string{file + ":6:22: collectors[0].http_config.tls_config.min_version: unknown TLS version: TLS99"},
		},
		{
			name:  "proxy_url scheme",
			block: "proxy_url: ftp://127.0.0.1:21",
			want:  []string{file + `:5:7: collectors[0].http_config.proxy_url: scheme must be http, https, socks5 or socks5h, got "ftp"`},
		},
		{
			name:  "no_proxy without proxy_url",
			block: "no_proxy: localhost",
			want:  []string{file + ":5:7: collectors[0].http_config: if no_proxy is configured, proxy_url must also be configured"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yml := "collectors:\n  - type: fake\n    token: x\n    http_config:\n      " + tc.block + "\n"
			cfg, err := ParseConfig(file, []byte(yml))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				h := cfg.Collectors[0].HTTPClient
				if h.TLSConfig.CAFile != pki.caFile || h.TLSConfig.KeyFile != pki.keyFile || h.FollowRedirects || h.EnableHTTP2 {
					t.Errorf("http_config = %+v", h)
				}
				if _, err := NewTransport(h, "fake"); err != nil {
					t.Errorf("NewTransport: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if n := strings.Count(err.Error(), "\n") + 1; n != len(tc.want) {
				t.Errorf("want %d errors, got:\n%v", len(tc.want), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in:\n%v", w, err)
				}
			}
		})
	}
}

func TestHTTPConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig("d.yml", []byte("collectors:\n  - type: fake\n    token: x\n  - name: other\n    type: fake\n    token: x\n    http_config: {tls_config: {server_name: api.example}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if h := cfg.Collectors[0].HTTPClient; h != nil {
		t.Errorf("no http_config: got %+v, want nil (Go's default transport)", h)
	}
	// A block present starts from Prometheus' defaults.
	if h := cfg.Collectors[1].HTTPClient; !h.FollowRedirects || !h.EnableHTTP2 || h.TLSConfig.ServerName != "api.example" {
		t.Errorf("http_config = %+v", h)
	}
}

func TestExpectScheme(t *testing.T) {
	base := "collectors:\n  - type: fake\ncampaigns:\n  - name: spring\n    creators:\n      - name: alice\n        links:\n          - collector: fake\n            id: fk.io/a\n            expect: {scheme: %s}\n"
	for _, tc := range []struct{ scheme, want string }{
		{"http", ""},
		{"https", ""},
		{"ftp", `e.yml:10:22: campaigns[0].creators[0].links[0].expect.scheme: must be https or http, got "ftp"`},
	} {
		cfg, err := ParseConfig("e.yml", []byte(fmt.Sprintf(base, tc.scheme)))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.scheme, err)
		case tc.want == "" && cfg.LinksFor("fake")[0].Expect.Scheme != tc.scheme:
			t.Errorf("%s: decoded %+v", tc.scheme, cfg.LinksFor("fake")[0].Expect)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("%s: error = %v, want %s", tc.scheme, err, tc.want)
		}
	}
}

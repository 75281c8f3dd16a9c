package exportertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// What the tests of every provider do the same way: a config with one
// collector, a fake provider served on loopback, and checks of failed and
// partial refreshes, config errors, link clicks, the API self-metrics and
// the links published for the probe.

// AssertFailed checks a refresh that failed as a whole: an error, not a
// partial one, matching want; no samples; each of contains in the error
// text, and never secret (the token).
func AssertFailed(t testing.TB, samples []exporter.Sample, err, want error, secret string, contains ...string) {
	t.Helper()
	if err == nil || exporter.IsPartial(err) || !errors.Is(err, want) {
		t.Fatalf("got %v, want a failed refresh matching %v", err, want)
	}
	if samples != nil {
		t.Errorf("samples returned with the error: %v", samples)
	}
	assertText(t, err, contains)
	if secret != "" && strings.Contains(err.Error(), secret) {
		t.Errorf("error %q contains the token", err)
	}
}

// AssertPartial checks the error of a refresh that skipped objects for a
// permanent reason: a partial error matching want, with each of contains
// (the object, its config path, the provider's message) in its text.
func AssertPartial(t testing.TB, err, want error, contains ...string) {
	t.Helper()
	if !exporter.IsPartial(err) || !errors.Is(err, want) {
		t.Fatalf("got %v, want a partial error matching %v", err, want)
	}
	assertText(t, err, contains)
}

// AssertConfigError checks that config is refused with an error located in
// its file and containing each of contains (the field's path and what is
// wrong with it).
func AssertConfigError(t testing.TB, config string, contains ...string) {
	t.Helper()
	_, err := TryBuild(config)
	if err == nil {
		t.Fatal("config accepted")
	}
	if !strings.HasPrefix(err.Error(), "test.yml:") {
		t.Errorf("error %q is not located in test.yml", err)
	}
	assertText(t, err, contains)
}

func assertText(t testing.TB, err error, contains []string) {
	t.Helper()
	for _, s := range contains {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

// MetricText is the exposition of one metric for CompareText: its HELP and
// TYPE lines, then series, one a line.
func MetricText(m *exporter.Metric, series ...string) string {
	typ := map[prometheus.ValueType]string{prometheus.CounterValue: "counter", prometheus.GaugeValue: "gauge"}[m.Type]
	if typ == "" {
		typ = "untyped"
	}
	return "# HELP " + m.Name + " " + m.Help + "\n# TYPE " + m.Name + " " + typ + "\n" + strings.Join(series, "\n") + "\n"
}

// LinkClicksText is MetricText of influencer_link_clicks_total for one
// creator's links, each given as "link=clicks".
func LinkClicksText(campaign, creator, provider string, links ...string) string {
	var series []string
	for _, l := range links {
		id, n, _ := strings.Cut(l, "=")
		series = append(series, fmt.Sprintf("%s{campaign=%q,creator=%q,link=%q,provider=%q} %s", exporter.LinkClicks.Name, campaign, creator, id, provider, n))
	}
	return MetricText(exporter.LinkClicks, series...)
}

// OneCollectorConfig renders a config with one collector of type typ at
// baseURL, polled with short retry waits and no rate limit to speak of.
// options is a YAML flow map; creators are the YAML list items of
// campaign spring's creators, indented by six spaces.
func OneCollectorConfig(typ, baseURL, token, options, creators string) string {
	return fmt.Sprintf(`
collectors:
  - type: %s
    base_url: %s
    token: %s
    interval: 1m
    http: {max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 5ms, rate_limit: 1000}
    options: %s
campaigns:
  - name: spring
    creators:
%s`, typ, baseURL, token, options, creators)
}

// CreatorLinks renders a creator of OneCollectorConfig's campaign with the
// collector's links, by id.
func CreatorLinks(creator, collector string, ids ...string) string {
	return creatorYAML(creator, "links", collector, "id", ids)
}

// CreatorTags renders a creator of OneCollectorConfig's campaign with the
// collector's tags.
func CreatorTags(creator, collector string, tags ...string) string {
	return creatorYAML(creator, "tags", collector, "tag", tags)
}

func creatorYAML(creator, list, collector, key string, values []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "      - name: %s\n", creator)
	if len(values) > 0 {
		fmt.Fprintf(&b, "        %s:\n", list)
	}
	for _, v := range values {
		fmt.Fprintf(&b, "          - {collector: %s, %s: %q}\n", collector, key, v)
	}
	return b.String()
}

// Retries returns influencer_api_retries_total of the named collector.
func (e *Env) Retries(collector string) float64 {
	return testutil.ToFloat64(e.Metrics.Retries.WithLabelValues(collector))
}

// Quota returns influencer_api_quota_remaining of the named collector.
func (e *Env) Quota(collector string) float64 {
	return testutil.ToFloat64(e.Metrics.Quota.WithLabelValues(collector))
}

// ComparePublished compares the links published for the probe, in the
// link set's order, with want.
func (e *Env) ComparePublished(t testing.TB, want []exporter.PublishedLink) {
	t.Helper()
	if got := e.Links.All(); !reflect.DeepEqual(got, want) {
		t.Errorf("published links:\n got %+v\nwant %+v", got, want)
	}
}

// Serve serves h on loopback until the test ends and returns its URL. A
// fake provider, which serves its short links too (it has SetPublicURL), is
// told the URL.
func Serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if p, ok := h.(interface{ SetPublicURL(string) }); ok {
		p.SetPublicURL(srv.URL)
	}
	return srv.URL
}

// ServeFake adds links to a fake provider and serves it with Serve.
func ServeFake[L any](t testing.TB, fake interface {
	http.Handler
	AddLink(L)
}, links ...L) string {
	t.Helper()
	for _, l := range links {
		fake.AddLink(l)
	}
	return Serve(t, fake)
}

// GetJSON is RawGet with an Authorization header unless auth is empty,
// decoding the JSON answer into v unless v is nil.
func GetJSON(t testing.TB, url, auth string, v any) (int, http.Header) {
	t.Helper()
	header := map[string]string{}
	if auth != "" {
		header["Authorization"] = auth
	}
	code, h, body := RawGet(t, url, header)
	if v != nil {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("GET %s: %v in %s", url, err, body)
		}
	}
	return code, h
}

// AssertRefreshDown refreshes the named collector once through the real
// scheduler and checks what an operator then sees: the collector attempted
// and down, its landing-page error carrying every wanted text and none of
// the secrets, and influencer_collector_up 0.
func AssertRefreshDown(t testing.TB, e *Env, name string, secrets []string, contains ...string) {
	t.Helper()
	cache := exporter.NewCache()
	(&exporter.Scheduler{Cache: cache}).Refresh(context.Background(), e.Instance(t, name))
	st := cache.Status()
	if len(st) != 1 || st[0].Up || !st[0].Attempted {
		t.Fatalf("status %+v, want one collector, attempted and down", st)
	}
	for _, c := range contains {
		if !strings.Contains(st[0].LastError, c) {
			t.Errorf("landing page error %q lacks %q", st[0].LastError, c)
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(st[0].LastError, s) {
			t.Error("the landing page error shows a secret")
		}
	}
	want := fmt.Sprintf(`
# HELP influencer_collector_up Whether the collector's last refresh succeeded (1) or failed (0); on failure its last good values are still exported.
# TYPE influencer_collector_up gauge
influencer_collector_up{collector=%q} 0
`, name)
	if err := testutil.CollectAndCompare(cache, strings.NewReader(want), "influencer_collector_up"); err != nil {
		t.Error(err)
	}
}

package jsonapi

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/jsonapi/jsonfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const token = "aff_live_7d21c9e4b0"

// fixture is the fake affiliate network on loopback, on a clock the test
// moves, with five partners in spring (one not configured) and one in
// summer.
type fixture struct {
	fake  *jsonfake.Server
	url   string
	clock *exportertest.ManualClock
}

func newFixture(t *testing.T, auth jsonfake.Auth, tok string) *fixture {
	t.Helper()
	f := &fixture{clock: exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))}
	f.fake = jsonfake.New(tok, f.clock.Now)
	f.fake.SetAuth(auth)
	for _, p := range []jsonfake.Partner{
		{Campaign: "spring", Handle: "alice_ig", ShortURL: "aff.example/alice", Coupon: "ALICE10", Clicks: fakeapi.Growth{Base: 100, PerMinute: 2}, Orders: fakeapi.Growth{Base: 4}, RevenueCents: fakeapi.Growth{Base: 12345}},
		{Campaign: "spring", Handle: "bob", ShortURL: "aff.example/bob", Coupon: "BOB5", Clicks: fakeapi.Growth{Base: 50, PerMinute: 0.5}, Orders: fakeapi.Growth{Base: 1, PerMinute: 0.1}, RevenueCents: fakeapi.Growth{Base: 1999}},
		{Campaign: "spring", Handle: "zed", ShortURL: "aff.example/zed", Coupon: "ZED", Clicks: fakeapi.Growth{Base: 999}, Orders: fakeapi.Growth{Base: 9}},
		{Campaign: "spring", Handle: "dan_tt", ShortURL: "aff.example/dan", Coupon: "DAN", Clicks: fakeapi.Growth{Base: 7}},
		{Campaign: "spring", Handle: "erin", ShortURL: "aff.example/erin", Coupon: "ERIN", Clicks: fakeapi.Growth{}},
		{Campaign: "summer", Handle: "carol", ShortURL: "aff.example/carol", Coupon: "CAROL", Clicks: fakeapi.Growth{Base: 30}, Orders: fakeapi.Growth{Base: 2}, RevenueCents: fakeapi.Growth{Base: 500}},
	} {
		f.fake.AddPartner(p)
	}
	f.url = exportertest.Serve(t, f.fake)
	f.clock.Advance(30 * time.Minute)
	return f
}

// values is the usual values block: clicks by link, orders by code.
const values = `
      values:
        - {metric: influencer_link_clicks_total, path: stats.clicks, labels: {link: short_url}}
        - {metric: influencer_code_redemptions_total, path: stats.orders, labels: {code: coupon}}
        - {metric: influencer_code_revenue_total, path: stats.revenue, labels: {code: coupon, currency: "=EUR"}}`

// config renders a json collector named aff at base with options (YAML
// lines indented by six spaces), and campaigns spring (alice, bob, dan,
// erin) and summer (carol).
func config(base, tok, options string) string {
	return fmt.Sprintf(`
collectors:
  - type: json
    name: aff
    base_url: %s
    token: %q
    interval: 1m
    http: {max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 5ms, rate_limit: 1000}
    options:
      provider: affnet
%s
campaigns:
  - name: spring
    creators:
      - name: alice
      - name: bob
      - name: dan
      - name: erin
  - name: summer
    creators:
      - name: carol
`, base, tok, options)
}

// perCampaign is the options of the example, with pagination.
func perCampaign(pagination, auth string) string {
	return `      url: /v2/affiliates/{campaign}/stats
      auth: ` + auth + `
      pagination: ` + pagination + `
      items: data
      creator: {path: partner.handle, map: {alice_ig: alice, dan_tt: dan}}` + values
}

func TestPollPaginationStyles(t *testing.T) {
	for _, tc := range []struct {
		name, pagination string
		query            string
		calls            int // spring has 5 partners, summer 1
	}{
		{"cursor", "{type: cursor, cursor_path: meta.next, param: cursor}", "", 3 + 1},
		{"page", "{type: page, param: page, size_param: per_page, size: 2}", "", 3 + 1},
		{"page with a full last page", "{type: page, start: 1, size_param: per_page, size: 5}", "", 1 + 1 + 1},
		{"link", "{type: link}", "", 3 + 1},
		{"none", "{type: none}", "      query: {per_page: \"100\"}\n", 1 + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, jsonfake.Auth{Type: "bearer"}, token)
			env := exportertest.Build(t, config(f.url, token, tc.query+perCampaign(tc.pagination, "{type: bearer}")))
			samples, err := env.Poll(t, "aff")
			if err != nil {
				t.Fatalf("poll: %v", err)
			}
			exportertest.CompareGolden(t, samples, "values.prom")
			if got := f.fake.Faults.Hits(); got != tc.calls {
				t.Errorf("calls per refresh = %d, want %d", got, tc.calls)
			}
		})
	}
}

func TestPollAuthStyles(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fake   jsonfake.Auth
		auth   string
		secret string
	}{
		{"bearer", jsonfake.Auth{Type: "bearer"}, "{type: bearer}", token},
		{"header", jsonfake.Auth{Type: "header", Name: "X-Api-Key"}, "{type: header, name: X-Api-Key}", token},
		{"basic", jsonfake.Auth{Type: "basic"}, "{type: basic}", "acct_42:" + token},
		{"query", jsonfake.Auth{Type: "query", Name: "api_key"}, "{type: query, param: api_key}", token},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.fake, tc.secret)
			opts := perCampaign("{type: cursor, cursor_path: meta.next, param: cursor}", tc.auth)
			env := exportertest.Build(t, config(f.url, tc.secret, opts))
			samples, err := env.Poll(t, "aff")
			if err != nil {
				t.Fatalf("poll: %v", err)
			}
			exportertest.CompareGolden(t, samples, "values.prom")

			wrong := "acct_42:wrong_key_0000"
			env = exportertest.Build(t, config(f.url, wrong, opts))
			samples, err = env.Poll(t, "aff")
			exportertest.AssertFailed(t, samples, err, exporter.ErrUnauthorized, wrong, "json affnet", "HTTP 401", "HTTP 401: unauthorized: credential refused")
			if strings.Contains(err.Error(), "wrong_key_0000") {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
}

func TestPollPerCreator(t *testing.T) {
	f := newFixture(t, jsonfake.Auth{Type: "bearer"}, token)
	env := exportertest.Build(t, config(f.url, token, `      url: /v2/affiliates/{campaign}/partners/{creator}/stats
      items: data
      creator: {map: {alice_ig: alice, dan_tt: dan}}`+values))
	samples, err := env.Poll(t, "aff")
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	exportertest.CompareGolden(t, samples, "values.prom")
	if got := f.fake.Faults.Hits(); got != 5 {
		t.Errorf("calls per refresh = %d, want one per creator, 5", got)
	}

	// A creator the network does not know: 404, a partial error, and the
	// others are still reported.
	env = exportertest.Build(t, strings.Replace(config(f.url, token, `      url: /v2/affiliates/{campaign}/partners/{creator}/stats
      items: data
      creator: {map: {alice_ig: alice, dan_tt: dan}}`+values), "      - name: carol", "      - name: carol\n      - name: frank", 1))
	samples, err = env.Poll(t, "aff")
	exportertest.AssertPartial(t, err, exporter.ErrNotFound, `stats of creator "frank"`, `partner "frank" not found`)
	if strings.Contains(err.Error(), "alice") {
		t.Errorf("partial error %q names a creator that was found", err)
	}
	exportertest.CompareGolden(t, samples, "values.prom")
}

func TestPollFixedCampaign(t *testing.T) {
	f := newFixture(t, jsonfake.Auth{Type: "bearer"}, token)
	env := exportertest.Build(t, config(f.url, token, `      url: /v2/affiliates/summer/stats
      items: data
      campaign: {value: summer}
      creator: {path: partner.handle}
      values:
        - {metric: influencer_link_clicks_total, path: stats.clicks, labels: {link: short_url}}`))
	samples, err := env.Poll(t, "aff")
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	exportertest.CompareText(t, samples, exportertest.LinkClicksText("summer", "carol", "affnet", "aff.example/carol=30"))
}

func TestPollErrors(t *testing.T) {
	opts := perCampaign("{type: cursor, cursor_path: meta.next, param: cursor}", "{type: bearer}")
	for _, tc := range []struct {
		name     string
		fault    fakeapi.Kind
		options  string
		want     error
		contains []string
	}{
		{"server error", fakeapi.ServerError, opts, exporter.ErrServer, []string{"HTTP 500", "internal"}},
		{"malformed body", fakeapi.Malformed, opts, exporter.ErrBadResponse, []string{"json affnet", `stats of campaign "spring"`}},
		{"items not an array", fakeapi.None, strings.Replace(opts, "items: data", "items: meta.total", 1), exporter.ErrBadResponse, []string{"items path holds a float64"}},
		{"no items", fakeapi.None, strings.Replace(opts, "items: data", "items: rows", 1), exporter.ErrBadResponse, []string{"no items at the items path"}},
		{"value not a number", fakeapi.None, strings.Replace(opts, "path: stats.orders", "path: coupon", 1), exporter.ErrBadResponse, []string{"influencer_code_redemptions_total at \"coupon\"", "is not a number"}},
		{"missing label", fakeapi.None, strings.Replace(opts, "{link: short_url}", "{link: partner.url}", 1), exporter.ErrBadResponse, []string{`no link label at "partner.url"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, jsonfake.Auth{Type: "bearer"}, token)
			env := exportertest.Build(t, config(f.url, token, tc.options))
			f.fake.Faults.Set(tc.fault, -1)
			samples, err := env.Poll(t, "aff")
			exportertest.AssertFailed(t, samples, err, tc.want, token, tc.contains...)
		})
	}
}

func TestPollRetriesRateLimit(t *testing.T) {
	f := newFixture(t, jsonfake.Auth{Type: "bearer"}, token)
	env := exportertest.Build(t, config(f.url, token, perCampaign("{type: link}", "{type: bearer}")))
	samples := exportertest.PollAfterRateLimit(t, env, &f.fake.Faults, "aff")
	exportertest.CompareGolden(t, samples, "values.prom")
}

func TestLinkOffHostRefused(t *testing.T) {
	var hits int
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Header().Set("Link", `<http://127.0.0.2:1/steal?page=2>; rel="next"`)
		fakeapi.WriteJSON(w, http.StatusOK, map[string]any{"data": []any{}})
	})
	base := exportertest.Serve(t, h)
	env := exportertest.Build(t, config(base, token, `      url: /stats
      pagination: {type: link}
      items: data
      creator: {path: who}`+values))
	samples, err := env.Poll(t, "aff")
	exportertest.AssertFailed(t, samples, err, exporter.ErrBadResponse, token, "link rel=next leads off")
	if hits != 1 {
		t.Errorf("hits = %d, want 1", hits)
	}
}

func TestDuplicateSeriesAreSummed(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"rows":[
			{"who":"alice","day":"2025-03-01","link":"aff.example/alice","n":3},
			{"who":"alice","day":"2025-03-02","link":"aff.example/alice","n":"4.5"},
			{"who":"nobody","day":"2025-03-02","link":"aff.example/x","n":100},
			{"who":"carol","day":"2025-03-02","link":"aff.example/carol","n":1}]}`))
	})
	base := exportertest.Serve(t, h)
	env := exportertest.Build(t, config(base, token, `      url: /report
      items: rows
      creator: {path: who}
      values:
        - {metric: influencer_link_clicks_total, path: n, labels: {link: link}}`))
	samples, err := env.Poll(t, "aff")
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	want := exportertest.MetricText(exporter.LinkClicks,
		`influencer_link_clicks_total{campaign="spring",creator="alice",link="aff.example/alice",provider="affnet"} 7.5`,
		`influencer_link_clicks_total{campaign="summer",creator="carol",link="aff.example/carol",provider="affnet"} 1`)
	exportertest.CompareText(t, samples, want)
}

func TestMappingErrorNamesFileLineField(t *testing.T) {
	cfg := config("http://127.0.0.1:1", token, `      url: /v2/affiliates/{campaign}/stats
      items: data
      creator: {path: partner.handle}
      values:
        - {metric: influencer_link_clicks_total, path: stats.clicks, labels: {link: short_url}}
        - {metric: influencer_sales_total, path: stats.orders, labels: {code: coupon}}`)
	_, err := exportertest.TryBuild(cfg)
	if err == nil {
		t.Fatal("config accepted")
	}
	var ce *exporter.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("got %T %v, want a ConfigError", err, err)
	}
	if ce.File != "test.yml" || ce.Line != 16 || ce.Field != "collectors[0].options.values[1].metric" {
		t.Errorf("error at %s:%d %s, want test.yml:16 collectors[0].options.values[1].metric", ce.File, ce.Line, ce.Field)
	}
	exportertest.AssertConfigError(t, cfg, "test.yml:16:12:", "collectors[0].options.values[1].metric", `unknown metric "influencer_sales_total"`, "influencer_link_clicks_total")
}

func TestBadOptions(t *testing.T) {
	ok := perCampaign("{type: cursor, cursor_path: meta.next, param: cursor}", "{type: bearer}")
	for _, tc := range []struct {
		name, options string
		contains      []string
	}{
		{"unknown option", ok + "\n      jsonpath: $.data", []string{"jsonpath"}},
		{"no provider", strings.Replace(config("http://127.0.0.1:1", token, ok), "provider: affnet", "provider: \"\"", 1), []string{"options.provider"}},
		{"absolute url", strings.Replace(ok, "url: /v2", "url: https://evil.example/v2", 1), []string{"options.url", "must be a path"}},
		{"unknown placeholder", strings.Replace(ok, "{campaign}", "{account}", 1), []string{"options.url", "unknown placeholder {account}"}},
		{"unknown auth", strings.Replace(ok, "{type: bearer}", "{type: oauth2}", 1), []string{"options.auth.type", `unknown auth type "oauth2"`}},
		{"header without name", strings.Replace(ok, "{type: bearer}", "{type: header}", 1), []string{"options.auth.name"}},
		{"query without param", strings.Replace(ok, "{type: bearer}", "{type: query}", 1), []string{"options.auth.param"}},
		{"unknown pagination", strings.Replace(ok, "type: cursor,", "type: offset,", 1), []string{"options.pagination.type", `"offset"`}},
		{"cursor without param", strings.Replace(ok, ", param: cursor", "", 1), []string{"options.pagination.param"}},
		{"bad path", strings.Replace(ok, "path: stats.clicks", "path: \"stats[x].clicks\"", 1), []string{"options.values[0].path", "not a non-negative integer"}},
		{"jsonpath wildcard", strings.Replace(ok, "items: data", "items: data[*]", 1), []string{"options.items"}},
		{"missing label", strings.Replace(ok, "labels: {link: short_url}", "labels: {}", 1), []string{"options.values[0].labels", `needs label "link"`}},
		{"extra label", strings.Replace(ok, "labels: {link: short_url}", "labels: {link: short_url, creator: x}", 1), []string{"options.values[0].labels.creator", `no label "creator"`}},
		{"link health metric", strings.Replace(ok, "influencer_link_clicks_total", "influencer_link_up", 1), []string{"options.values[0].metric", "unknown metric"}},
		{"probe time metric", strings.Replace(ok, "influencer_link_clicks_total", "influencer_link_last_probe_timestamp_seconds", 1), []string{"options.values[0].metric", `unknown metric "influencer_link_last_probe_timestamp_seconds"`}},
		{"metric the exporter records", strings.Replace(ok, "influencer_link_clicks_total, path: stats.clicks, labels: {link: short_url}", "influencer_post_views_at_age, path: stats.clicks, labels: {post: short_url, age: =1h}", 1), []string{"options.values[0].metric", `unknown metric "influencer_post_views_at_age"`}},
		{"posts the exporter summed", strings.Replace(ok, "influencer_link_clicks_total, path: stats.clicks, labels: {link: short_url}", "influencer_aggregated_posts, path: stats.clicks", 1), []string{"options.values[0].metric", `unknown metric "influencer_aggregated_posts"`}},
		{"not a catalogue metric", strings.Replace(ok, "influencer_link_clicks_total", "influencer_api_retries_total", 1), []string{"options.values[0].metric", "unknown metric"}},
		{"map to unknown creator", strings.Replace(ok, "dan_tt: dan", "dan_tt: daniel", 1), []string{"options.creator.map.dan_tt", `no creator "daniel"`}},
		{"no creator mapping", strings.Replace(ok, "creator: {path: partner.handle, map: {alice_ig: alice, dan_tt: dan}}", "", 1), []string{"options.creator", "creator.path"}},
		{"ambiguous campaign", strings.Replace(ok, "{campaign}", "all", 1), nil},
		{"unknown campaign value", strings.Replace(ok, "url: /v2/affiliates/{campaign}/stats", "url: /v2/stats\n      campaign: {value: winter}", 1), []string{"options.campaign.value", `no campaign "winter"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.options
			if !strings.Contains(cfg, "collectors:") {
				cfg = config("http://127.0.0.1:1", token, cfg)
			}
			if tc.name == "ambiguous campaign" {
				cfg = strings.Replace(cfg, "      - name: carol", "      - name: carol\n      - name: alice", 1)
				tc.contains = []string{"options.campaign", `creator "alice" is in campaigns spring, summer`}
			}
			exportertest.AssertConfigError(t, cfg, tc.contains...)
		})
	}

	t.Run("basic token without colon", func(t *testing.T) {
		exportertest.AssertConfigError(t, config("http://127.0.0.1:1", token, strings.Replace(ok, "{type: bearer}", "{type: basic}", 1)), "collectors[0].token", "user:password")
	})
}

// TestBoundedSource: the source label of referral visitors takes only
// the sources list's values and "other", whatever the items say; items of
// one creator whose sources map to one label are summed.
func TestBoundedSource(t *testing.T) {
	for _, tc := range []struct {
		name, sources, label string
		want                 []string // creator source value
	}{
		// The partner handle stands for a crafted utm_source (the first
		// page: alice_ig, bob; summer: carol).
		{"path, configured list", "[BOB, instagram]", "partner.handle", []string{"alice other 160", "bob bob 65", "carol other 30"}},
		{"path, no social collector", "", "partner.handle", []string{"alice other 160", "bob other 65", "carol other 30"}},
		{"literal host", "[instagram]", `"=l.instagram.com"`, []string{"alice instagram 160", "bob instagram 65", "carol instagram 30"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, jsonfake.Auth{Type: "bearer"}, token)
			opts := `      url: /v2/affiliates/{campaign}/stats
      auth: {type: bearer}
      items: data
      creator: {path: partner.handle, map: {alice_ig: alice, dan_tt: dan}}
      values:
        - {metric: influencer_referral_visitors_total, path: stats.clicks, labels: {source: ` + tc.label + `}}`
			if tc.sources != "" {
				opts = "      sources: " + tc.sources + "\n" + opts
			}
			env := exportertest.Build(t, config(f.url, token, opts))
			samples, err := env.Poll(t, "aff")
			if err != nil {
				t.Fatalf("poll: %v", err)
			}
			var got []string
			for _, s := range samples {
				if s.Metric == exporter.ReferralVisitors {
					got = append(got, fmt.Sprintf("%s %s %g", s.Label("creator"), s.Label("source"), s.Value))
				}
			}
			if strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
				t.Errorf("series %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCreatorsOf: every creator maps to its campaigns in the order the
// config gives them; creators of one campaign share its set, and adding a
// campaign to a creator never changes another's.
func TestCreatorsOf(t *testing.T) {
	refs := []exporter.CreatorRef{
		{Campaign: "spring", Creator: "ana"},
		{Campaign: "spring", Creator: "ben"},
		{Campaign: "summer", Creator: "ana"},
		{Campaign: "summer", Creator: "cleo"},
		{Campaign: "autumn", Creator: "ana"},
		{Campaign: "spring", Creator: "dan"},
		{Campaign: "spring", Creator: "ana"}, // twice: once in the set
	}
	cs, campaigns, got := creatorsOf(refs)
	if !slices.Equal(got, refs) {
		t.Errorf("refs = %v, want them as given", got)
	}
	if want := map[string]bool{"spring": true, "summer": true, "autumn": true}; !maps.Equal(campaigns, want) {
		t.Errorf("campaigns = %v, want %v", campaigns, want)
	}
	for creator, want := range map[string][]string{
		"ana":  {"spring", "summer", "autumn"},
		"ben":  {"spring"},
		"cleo": {"summer"},
		"dan":  {"spring"},
	} {
		if got, ok := cs.get(creator); !ok || !slices.Equal(got, want) {
			t.Errorf("campaigns of %s = %v, %v; want %v", creator, got, ok, want)
		}
	}
	if got, ok := cs.get("eve"); ok || got != nil {
		t.Errorf("campaigns of an unknown creator = %v, %v; want none", got, ok)
	}
	if cs.of["ben"] != cs.of["dan"] {
		t.Error("two creators of spring alone do not share its set")
	}
	if len(cs.sets) != 3 {
		t.Errorf("%d sets, want 3 (spring, summer, ana's own): %v", len(cs.sets), cs.sets)
	}
}

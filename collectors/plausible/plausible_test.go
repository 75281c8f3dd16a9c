package plausible_test

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/plausible"
	"github.com/influencer-exporter/influencer_exporter/collectors/plausible/plausiblefake"
	_ "github.com/influencer-exporter/influencer_exporter/collectors/tiktok"
	_ "github.com/influencer-exporter/influencer_exporter/collectors/youtube"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const token = "plausible_test_5ecret_key"

// fakeStart is when the fake's visitors begin to arrive; campaign spring
// starts an hour later.
var fakeStart = time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC)

// sandbox is a fake Plausible on loopback and the clock the fake and the
// collector share.
type sandbox struct {
	fake  *plausiblefake.Server
	clock *exportertest.ManualClock
	url   string
	// cut decides when a refresh runs out of time.
	cut *exportertest.Cutoff
}

func newSandbox(t *testing.T, fakeToken string) *sandbox {
	t.Helper()
	clock := exportertest.NewManualClock(fakeStart)
	fake := plausiblefake.New(fakeToken, clock.Now)
	clock.Advance(2 * time.Hour) // 13:00, an hour into campaign spring
	cut := exportertest.NewCutoff(fake)
	return &sandbox{fake: fake, clock: clock, url: exportertest.Serve(t, cut), cut: cut}
}

// config renders a config with one plausible collector on the fake;
// options is a YAML flow map, campaigns the YAML list of campaigns.
func (s *sandbox) config(options, campaigns string) string {
	return configAt(s.url, options, campaigns)
}

// testSources is the sources list of the tests' collectors unless their
// options set one: these configs have no social collector, whose types
// would be the default. "(none)" keeps visits without utm_source apart.
const testSources = `sources: [instagram, tiktok, youtube, "(none)"], `

// configAt is that config for a server at url.
func configAt(url, options, campaigns string) string {
	if !strings.Contains(options, "sources:") {
		options = strings.Replace(options, "{", "{"+testSources, 1)
	}
	return fmt.Sprintf(`
collectors:
  - type: plausible
    base_url: %s
    token: %s
    interval: 1m
    http: {max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 5ms, rate_limit: 1000}
    options: %s
campaigns:
%s`, url, token, options, campaigns)
}

// build builds that config, the collector on the sandbox's clock.
func (s *sandbox) build(t *testing.T, options, campaigns string) *exportertest.Env {
	t.Helper()
	env := exportertest.Build(t, s.config(options, campaigns))
	plausible.SetClock(env.Instance(t, "plausible").Collector, s.clock.Now)
	return env
}

// spring is a campaign with a start, attributed by utm_content.
const spring = `
  - name: spring
    start: 2025-03-01T12:00:00Z
    creators:
      - name: alice
      - name: bob
        utm: bob-yt
      - name: carol
`

// visitors is the exposition of influencer_referral_visitors_total, one
// series a "campaign creator source value" line (% for a space in source).
func visitors(series ...string) string {
	var lines []string
	for _, s := range series {
		f := strings.Fields(s)
		lines = append(lines, fmt.Sprintf("%s{campaign=%q,creator=%q,provider=\"plausible\",source=%q} %s",
			exporter.ReferralVisitors.Name, f[0], f[1], strings.ReplaceAll(f[2], "%", " "), f[3]))
	}
	return exportertest.MetricText(exporter.ReferralVisitors, lines...)
}

// poll polls, and fails on any error but creators without visitors.
func poll(t *testing.T, env *exportertest.Env) []exporter.Sample {
	t.Helper()
	samples, _ := pollMissing(t, env)
	return samples
}

// pollMissing polls and returns the samples and the creators reported
// missing, as "campaign/creator"; any other error fails the test.
func pollMissing(t *testing.T, env *exportertest.Env) ([]exporter.Sample, []string) {
	t.Helper()
	samples, err := env.Poll(t, "plausible")
	if err == nil {
		return samples, nil
	}
	objs, rest := exportertest.ObjectErrors(t, err)
	var missing []string
	for _, oe := range objs {
		if oe.Skipped || oe.Kind != exporter.KindSite || oe.ID != "shop.example" {
			t.Fatalf("poll: %s: %v", exportertest.ObjectKey(oe), oe)
		}
		missing = append(missing, oe.Campaign+"/"+oe.Creator)
	}
	if len(rest) > 0 {
		t.Fatalf("poll: %v", rest)
	}
	return samples, missing
}

// solo is a campaign with one creator, alice.
const solo = `
  - name: spring
    start: 2025-03-01T12:00:00Z
    creators:
      - name: alice
`

func TestPoll(t *testing.T) {
	sb := newSandbox(t, token)
	// Base visitors arrive at the fake's start, before spring starts, so
	// spring's range leaves them out; summer has no start and counts all.
	sb.fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{Base: 1000, PerMinute: 2})     // 120
	sb.fake.AddTraffic("utm_content", "alice", "tiktok", fakeapi.Growth{PerMinute: 0.5})                  // 30
	sb.fake.AddTraffic("utm_content", "alice", "", fakeapi.Growth{PerMinute: 0.1})                        // 6, as (none)
	sb.fake.AddTraffic("utm_content", "bob-yt", "youtube", fakeapi.Growth{PerMinute: 1})                  // 60
	sb.fake.AddTraffic("utm_content", "dave", "instagram", fakeapi.Growth{PerMinute: 9})                  // nobody's
	sb.fake.AddTraffic("utm_campaign", "summer-erin", "instagram", fakeapi.Growth{Base: 5, PerMinute: 1}) // 125, all time
	env := sb.build(t, `{site_id: shop.example}`, spring+`
  - name: summer
    utm_parameter: utm_campaign
    creators:
      - name: erin
        utm: summer-erin
`)
	samples, missing := pollMissing(t, env)
	exportertest.CompareGolden(t, samples, "poll.prom")
	// carol had no visitor.
	if !reflect.DeepEqual(missing, []string{"spring/carol"}) {
		t.Errorf("missing %v, want carol", missing)
	}

	// One query per campaign here: the two differ in parameter and start.
	if got := sb.fake.Faults.Hits(); got != 2 {
		t.Errorf("API calls per refresh: %d, want 2", got)
	}
	qs := sb.fake.Queries()
	if len(qs) != 2 {
		t.Fatalf("%d queries, want 2", len(qs))
	}
	checks := []struct {
		dateRange, filters string
		dims               []string
	}{
		{`["2025-03-01T12:00:00+00:00","2025-03-01T13:00:00+00:00"]`, `["is","visit:utm_content",["alice","bob-yt","carol"]]`, []string{"visit:utm_content", "visit:utm_source"}},
		{`"all"`, `["is","visit:utm_campaign",["summer-erin"]]`, []string{"visit:utm_campaign", "visit:utm_source"}},
	}
	for i, want := range checks {
		q := qs[i]
		if q.SiteID != "shop.example" || !reflect.DeepEqual(q.Metrics, []string{"visitors"}) || !reflect.DeepEqual(q.Dimensions, want.dims) {
			t.Errorf("query %d: site %q metrics %v dimensions %v", i, q.SiteID, q.Metrics, q.Dimensions)
		}
		if string(q.DateRange) != want.dateRange {
			t.Errorf("query %d: date_range %s, want %s", i, q.DateRange, want.dateRange)
		}
		if len(q.Filters) != 1 || string(q.Filters[0]) != want.filters {
			t.Errorf("query %d: filters %s, want [%s]", i, q.Filters, want.filters)
		}
		if q.Pagination == nil || q.Pagination.Limit != plausible.DefaultPageSize || q.Pagination.Offset != 0 {
			t.Errorf("query %d: pagination %+v", i, q.Pagination)
		}
	}
}

// TestCounterSemantics: each refresh reads unique visitors over the whole
// range so far, never a sum of days; a figure revised down leaves the
// counter at its high-water mark, and a series gone from the answer stays.
func TestCounterSemantics(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{PerMinute: 1})
	sb.fake.AddTraffic("utm_content", "alice", "tiktok", fakeapi.Growth{PerMinute: 1})
	env := sb.build(t, `{site_id: shop.example}`, spring)

	steps := []struct {
		name    string
		advance time.Duration
		revise  bool
		want    []string
	}{
		{"an hour in", 0, false, []string{"spring alice instagram 60", "spring alice tiktok 60"}},
		{"a day later the whole range is asked again", 24 * time.Hour, false, []string{"spring alice instagram 1500", "spring alice tiktok 1500"}},
		{"figures revised down", time.Minute, true, []string{"spring alice instagram 1500", "spring alice tiktok 1500"}},
		{"grows past the mark again", 72 * time.Hour, false, []string{"spring alice instagram 2910", "spring alice tiktok 1500"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			sb.clock.Advance(st.advance)
			if st.revise {
				// Half the instagram visitors (750 now) and no tiktok
				// ones at all.
				sb.fake.ClearTraffic()
				sb.fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{PerMinute: 0.5})
			}
			exportertest.CompareText(t, poll(t, env), visitors(st.want...))
		})
	}
	qs := sb.fake.Queries()
	if got := string(qs[len(qs)-1].DateRange); got != `["2025-03-01T12:00:00+00:00","2025-03-05T13:01:00+00:00"]` {
		t.Errorf("last date_range %s, want the campaign's start to now", got)
	}
}

func TestSinceAndSourceDimension(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{Base: 1000, PerMinute: 1})
	sb.fake.AddTraffic("utm_content", "alice", "", fakeapi.Growth{Base: 1000, PerMinute: 1})
	env := sb.build(t, `{site_id: shop.example, since: 2025-03-01T12:30:00Z, source_dimension: source}`, `
  - name: autumn
    creators:
      - name: alice
`)
	exportertest.CompareText(t, poll(t, env), visitors("autumn alice instagram 30", "autumn alice other 30")) // "Direct / None" is not in sources
	q := sb.fake.Queries()[0]
	if string(q.DateRange) != `["2025-03-01T12:30:00+00:00","2025-03-01T13:00:00+00:00"]` || !reflect.DeepEqual(q.Dimensions, []string{"visit:utm_content", "visit:source"}) {
		t.Errorf("query: date_range %s dimensions %v", q.DateRange, q.Dimensions)
	}
}

func TestUTMSourceParameter(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddTraffic("utm_source", "alice", "", fakeapi.Growth{PerMinute: 1})
	env := sb.build(t, `{site_id: shop.example}`, `
  - name: spring
    start: 2025-03-01T12:00:00Z
    utm_parameter: utm_source
    creators:
      - name: alice
`)
	exportertest.CompareText(t, poll(t, env), visitors("spring alice other 60")) // the creator's value is no platform
	if q := sb.fake.Queries()[0]; !reflect.DeepEqual(q.Dimensions, []string{"visit:utm_source"}) {
		t.Errorf("dimensions %v, want the one", q.Dimensions)
	}
}

func TestNotStarted(t *testing.T) {
	sb := newSandbox(t, token)
	env := sb.build(t, `{site_id: shop.example}`, `
  - name: winter
    start: 2025-12-01T00:00:00Z
    creators:
      - name: alice
`)
	samples, err := env.Poll(t, "plausible")
	if len(samples) != 0 {
		t.Errorf("samples before the campaign starts: %v", samples)
	}
	// alice is missing, and the reason says why.
	var oe *exporter.ObjectError
	if !errors.As(err, &oe) || exportertest.ObjectKey(oe) != "missing site winter/alice/shop.example" ||
		oe.Error() != `plausible: site "shop.example": campaign "winter" starts at 2025-12-01T00:00:00Z: no visitors to count yet` {
		t.Errorf("got %v, want alice missing until winter starts", err)
	}
	if got := sb.fake.Faults.Hits(); got != 0 {
		t.Errorf("%d API calls before the campaign starts, want 0", got)
	}
}

func TestPagination(t *testing.T) {
	sb := newSandbox(t, token)
	var campaign strings.Builder
	campaign.WriteString("\n  - name: spring\n    start: 2025-03-01T12:00:00Z\n    creators:\n")
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("c%d", i)
		sb.fake.AddTraffic("utm_content", name, "instagram", fakeapi.Growth{PerMinute: float64(i + 1)})
		fmt.Fprintf(&campaign, "      - name: %s\n", name)
		want = append(want, fmt.Sprintf("spring %s instagram %d", name, 60*(i+1)))
	}
	env := sb.build(t, `{site_id: shop.example, page_size: 2}`, campaign.String())
	exportertest.CompareText(t, poll(t, env), visitors(want...))
	// 5 rows in pages of 2: 2, 2, 1.
	if got := sb.fake.Faults.Hits(); got != 3 {
		t.Errorf("API calls: %d, want 3", got)
	}
	for i, q := range sb.fake.Queries() {
		if q.Pagination.Limit != 2 || q.Pagination.Offset != 2*i {
			t.Errorf("page %d: pagination %+v", i, *q.Pagination)
		}
	}
}

func TestRateLimitThenSuccess(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{PerMinute: 1})
	env := sb.build(t, `{site_id: shop.example}`, solo)
	samples := exportertest.PollAfterRateLimit(t, env, &sb.fake.Faults, "plausible")
	exportertest.CompareText(t, samples, visitors("spring alice instagram 60"))
	if got := sb.fake.Faults.Hits(); got != 2 {
		t.Errorf("API calls: %d, want the 429 and the retry", got)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name     string
		fakeTok  string
		site     string
		fault    fakeapi.Kind
		want     error
		contains []string
	}{
		{"wrong key", "another-key", "shop.example", fakeapi.None, exporter.ErrUnauthorized,
			[]string{"plausible", `site "shop.example"`, "HTTP 401: credential refused"}},
		{"unknown site", token, "other.example", fakeapi.None, exporter.ErrUnauthorized,
			[]string{"plausible", `site "other.example"`, "HTTP 401: credential refused"}},
		{"server error", token, "shop.example", fakeapi.ServerError, exporter.ErrServer, []string{"plausible", "HTTP 500"}},
		{"malformed body", token, "shop.example", fakeapi.Malformed, exporter.ErrBadResponse, []string{"plausible"}},
		{"rate limited throughout", token, "shop.example", fakeapi.RateLimited, exporter.ErrRateLimited,
			[]string{"plausible", "HTTP 429", "600 requests per hour"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, tt.fakeTok)
			sb.fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{PerMinute: 1})
			sb.fake.Faults.Set(tt.fault, -1)
			env := sb.build(t, fmt.Sprintf(`{site_id: %s}`, tt.site), spring)
			samples, err := env.Poll(t, "plausible")
			exportertest.AssertFailed(t, samples, err, tt.want, token, tt.contains...)
		})
	}
}

func TestMalformedRows(t *testing.T) {
	for name, body := range map[string]string{
		"no results":        `{"meta":{}}`,
		"short dimensions":  `{"results":[{"dimensions":["alice"],"metrics":[3]}]}`,
		"missing metrics":   `{"results":[{"dimensions":["alice","x"],"metrics":[]}]}`,
		"metric not number": `{"results":[{"dimensions":["alice","x"],"metrics":["3"]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			url := exportertest.Serve(t, fakeBody(body))
			env := exportertest.Build(t, configAt(url, `{site_id: shop.example}`, spring))
			samples, err := env.Poll(t, "plausible")
			exportertest.AssertFailed(t, samples, err, exporter.ErrBadResponse, token, "plausible")
		})
	}
}

func TestBadOptions(t *testing.T) {
	tests := []struct{ options, field, msg string }{
		{`{}`, "options.site_id", "required"},
		{`{site_id: " "}`, "options.site_id", "required"},
		{`{site_id: a.example, page_size: 0}`, "options.page_size", "between 1 and 10000"},
		{`{site_id: a.example, page_size: 10001}`, "options.page_size", "between 1 and 10000"},
		{`{site_id: a.example, since: yesterday}`, "options.since", `"yesterday"`},
		{`{site_id: a.example, source_dimension: utm_medium}`, "options.source_dimension", "utm_source or source"},
		{`{site_id: a.example, metrics: [pageviews]}`, "options.metrics", ""},
	}
	for _, tt := range tests {
		t.Run(tt.options, func(t *testing.T) {
			exportertest.AssertConfigError(t, configAt("http://127.0.0.1:1", tt.options, spring), tt.field, tt.msg)
		})
	}
}

// fakeBody answers every request with 200 and body.
type fakeBody string

func (b fakeBody) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(b))
}

// TestBoundedSource: whatever utm_source or referrer visitors bring, the
// source label takes only the values of the sources list and "other";
// the default list is the platforms of the config's social collectors.
func TestBoundedSource(t *testing.T) {
	crafted := []string{"Instagram", "l.instagram.com", "ig", "youtu.be", "m.youtube.com", "t.co", "newsletter", "x-evil-1", "x-evil-2", "attacker.example", "\u202eevil"}
	tests := []struct {
		name    string
		options string
		social  string // social collectors and their posts, "" for none
		want    []string
	}{
		{"configured list", `{site_id: shop.example, sources: [Instagram, TWITTER]}`, "", []string{
			"spring alice instagram 360", "spring alice other 840", "spring alice twitter 120"}},
		{"default: the platforms posted on", `{site_id: shop.example}`, "youtube", []string{
			"spring alice other 1080", "spring alice youtube 240"}},
		{"default without social collectors", `{site_id: shop.example}`, "none", []string{
			"spring alice other 1320"}},
		{"source dimension", `{site_id: shop.example, source_dimension: source, sources: [instagram]}`, "", []string{
			"spring alice instagram 360", "spring alice other 960"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, token)
			for _, src := range crafted {
				sb.fake.AddTraffic("utm_content", "alice", src, fakeapi.Growth{PerMinute: 1}) // 120 each by 13:00
			}
			sb.clock.Advance(time.Hour)
			config := configAt(sb.url, tt.options, solo)
			if tt.social != "" { // the default list, not the tests' one
				config = strings.Replace(config, testSources, "", 1)
			}
			switch tt.social {
			case "youtube":
				config = strings.Replace(config, "campaigns:", `  - type: youtube
    token: AIzaSy-test
  - type: tiktok
    token: act.test
campaigns:`, 1) + "        posts: [{collector: youtube, id: abcdefghijk}]\n"
			}
			env := exportertest.Build(t, config)
			plausible.SetClock(env.Instance(t, "plausible").Collector, sb.clock.Now)
			samples, err := env.Poll(t, "plausible")
			if err != nil {
				t.Fatal(err)
			}
			exportertest.CompareText(t, samples, visitors(tt.want...))
		})
	}
}

package ga4_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/influencer-exporter/influencer_exporter/collectors/ga4"
	"github.com/influencer-exporter/influencer_exporter/collectors/ga4/ga4fake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const property = "123456789"

type sandbox struct {
	fake  *ga4fake.Server
	clock *exportertest.ManualClock
	env   *exportertest.Env
	key   []byte
	// cut decides when a refresh runs out of time.
	cut *exportertest.Cutoff
}

// campaigns: spring (utm_content, started) with alice and bob (utm
// "bob-yt"), summer (utm_campaign, no start) with carol.
const campaigns = `
campaigns:
  - name: spring
    start: 2026-03-01T00:00:00Z
    creators:
      - name: alice
      - name: bob
        utm: bob-yt
  - name: summer
    utm_parameter: utm_campaign
    creators:
      - name: carol
`

// testSources is the sources list of the tests' collectors unless their
// options set one: these configs have no social collector, whose types
// would be the default.
const testSources = "sources: [instagram, tiktok, youtube, newsletter], "

func newSandbox(t *testing.T, options string) *sandbox {
	t.Helper()
	return newSandboxWith(t, options, campaigns)
}

// newSandboxWith is newSandbox with other campaigns.
func newSandboxWith(t *testing.T, options, campaigns string) *sandbox {
	t.Helper()
	clock := exportertest.NewManualClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	fake := ga4fake.New(property, clock.Now)
	cut := exportertest.NewCutoff(fake)
	url := exportertest.Serve(t, cut)
	key := fake.ServiceAccountJSON("")
	file := filepath.Join(t.TempDir(), "ga4-key.json")
	if err := os.WriteFile(file, key, 0o600); err != nil {
		t.Fatal(err)
	}
	if options == "" {
		options = "{property: \"" + property + "\"}"
	}
	if !strings.Contains(options, "sources:") {
		options = strings.Replace(options, "{", "{"+testSources, 1)
	}
	env := exportertest.Build(t, fmt.Sprintf(`
collectors:
  - type: ga4
    base_url: %s
    token_file: %s
    interval: 1m
    http: {max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 5ms, rate_limit: 1000}
    options: %s
%s`, url, file, options, campaigns))
	ga4.SetClock(env.Instance(t, "ga4").Collector, clock.Now)
	return &sandbox{fake: fake, clock: clock, env: env, key: key, cut: cut}
}

// buildWithCredentials builds a ga4 collector without retries on url,
// with options and the campaigns above, reading the credentials file creds
// (a service account key or an authorized user), on the clock now.
func buildWithCredentials(t *testing.T, url string, creds []byte, options string, now func() time.Time) *exportertest.Env {
	t.Helper()
	file := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(file, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	env := exportertest.Build(t, fmt.Sprintf(`
collectors:
  - type: ga4
    base_url: %s
    token_file: %s
    http: {max_retries: 0}
    options: %s
%s`, url, file, options, campaigns))
	ga4.SetClock(env.Instance(t, "ga4").Collector, now)
	return env
}

func (sb *sandbox) traffic() {
	sb.fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{Base: 100, PerMinute: 2})
	sb.fake.AddTraffic("utm_content", "alice", "tiktok", fakeapi.Growth{Base: 40})
	sb.fake.AddTraffic("utm_content", "bob-yt", "youtube", fakeapi.Growth{Base: 7, PerMinute: 1})
	sb.fake.AddTraffic("utm_content", "carol", "youtube", fakeapi.Growth{Base: 999}) // wrong parameter for carol
	sb.fake.AddTraffic("utm_campaign", "carol", "newsletter", fakeapi.Growth{Base: 12})
	sb.fake.AddTraffic("utm_content", "stranger", "google", fakeapi.Growth{Base: 50})
}

// poll polls, and fails on any error but creators without visitors.
func (sb *sandbox) poll(t *testing.T) []exporter.Sample {
	t.Helper()
	samples, _ := sb.pollMissing(t)
	return samples
}

// pollMissing polls and returns the samples and the creators reported
// missing, as "campaign/creator"; any other error fails the test.
func (sb *sandbox) pollMissing(t *testing.T) ([]exporter.Sample, []string) {
	t.Helper()
	samples, err := sb.env.Poll(t, "ga4")
	if err == nil {
		return samples, nil
	}
	objs, rest := exportertest.ObjectErrors(t, err)
	var missing []string
	for _, oe := range objs {
		if oe.Skipped || oe.Kind != exporter.KindSite || oe.ID != property {
			t.Fatalf("poll: %s: %v", exportertest.ObjectKey(oe), oe)
		}
		missing = append(missing, oe.Campaign+"/"+oe.Creator)
	}
	if len(rest) > 0 {
		t.Fatalf("poll: %v", rest)
	}
	return samples, missing
}

func TestPoll(t *testing.T) {
	sb := newSandbox(t, "")
	sb.traffic()
	samples, missing := sb.pollMissing(t)
	exportertest.CompareGolden(t, samples, "poll.prom")
	if len(missing) != 0 {
		t.Errorf("missing %v: every creator has visitors", missing)
	}
	// One report per (parameter, start): spring and summer.
	if got := sb.fake.Faults.Hits(); got != 2 {
		t.Errorf("runReport calls = %d, want 2", got)
	}
	if got, want := sb.env.Quota("ga4"), float64(ga4fake.DailyQuota-2*ga4fake.ReportCost); got != want {
		t.Errorf("quota remaining = %g, want %g", got, want)
	}
	var req struct {
		Dimensions      []struct{ Name string }
		Metrics         []struct{ Name string }
		DateRanges      []struct{ StartDate, EndDate string }
		DimensionFilter struct {
			Filter struct {
				FieldName    string
				InListFilter struct{ Values []string }
			}
		}
		ReturnPropertyQuota bool
	}
	if err := json.Unmarshal(sb.fake.LastReport(), &req); err != nil {
		t.Fatal(err)
	}
	// The last report is summer's: no start, so options.since.
	if got := fmt.Sprint(req.Dimensions, req.Metrics, req.DateRanges, req.DimensionFilter.Filter, req.ReturnPropertyQuota); got != "[{sessionManualCampaignName} {sessionSource}] [{activeUsers}] [{2015-08-14 today}] {sessionManualCampaignName {[carol]}} true" {
		t.Errorf("summer request = %s", got)
	}
}

func TestSince(t *testing.T) {
	sb := newSandbox(t, `{property: "`+property+`", since: 2026-02-01}`)
	sb.traffic()
	sb.poll(t)
	if !strings.Contains(string(sb.fake.LastReport()), `"startDate":"2026-02-01"`) {
		t.Errorf("summer report does not start at since: %s", sb.fake.LastReport())
	}
}

// TestCounterNeverGoesDown: visitors over the whole range grow with
// time; a lower revised figure keeps the high-water mark, and a source
// GA4 stops reporting keeps its last value.
func TestCounterNeverGoesDown(t *testing.T) {
	sb := newSandbox(t, "")
	sb.fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{Base: 100, PerMinute: 2})
	want := func(ig float64) string {
		return fmt.Sprintf(`# HELP influencer_referral_visitors_total Visitors referred by a creator, as the analytics provider reports them.
# TYPE influencer_referral_visitors_total counter
influencer_referral_visitors_total{campaign="spring",creator="alice",provider="ga4",source="instagram"} %g
`, ig)
	}
	exportertest.CompareText(t, sb.poll(t), want(100))
	sb.clock.Advance(10 * time.Minute)
	exportertest.CompareText(t, sb.poll(t), want(120))

	// Revisions: negative traffic lowers GA4's figure for the same range.
	sb2 := newSandbox(t, "")
	sb2.fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{Base: 100})
	exportertest.CompareText(t, sb2.poll(t), want(100))
	sb2.fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{Base: -30})
	exportertest.CompareText(t, sb2.poll(t), want(100)) // GA4 says 70: the mark holds
	sb2.fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{Base: -70})
	exportertest.CompareText(t, sb2.poll(t), want(100)) // row gone: the mark holds
	sb2.fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{Base: 150})
	exportertest.CompareText(t, sb2.poll(t), want(150))
}

// TestTokenLifecycle: one token for many refreshes, a new one shortly
// before it expires, and one more when Google revokes it.
func TestTokenLifecycle(t *testing.T) {
	sb := newSandbox(t, "")
	sb.traffic()
	sb.poll(t)
	if got := sb.fake.TokensIssued(); got != 1 {
		t.Fatalf("tokens after first poll = %d, want 1", got)
	}
	for range 5 {
		sb.clock.Advance(10 * time.Minute) // 50 minutes: within the hour
		sb.poll(t)
	}
	if got := sb.fake.TokensIssued(); got != 1 {
		t.Errorf("tokens after 50 minutes = %d, want 1 (reused)", got)
	}
	sb.clock.Advance(6 * time.Minute) // 56 minutes: within renewBefore of expiry
	sb.poll(t)
	if got := sb.fake.TokensIssued(); got != 2 {
		t.Errorf("tokens after 56 minutes = %d, want 2 (renewed)", got)
	}
	sb.fake.RevokeTokens()
	sb.poll(t)
	if got := sb.fake.TokensIssued(); got != 3 {
		t.Errorf("tokens after revocation = %d, want 3", got)
	}
}

func TestRateLimitedThenSuccess(t *testing.T) {
	sb := newSandbox(t, "")
	sb.traffic()
	samples := exportertest.PollAfterRateLimit(t, sb.env, &sb.fake.Faults, "ga4")
	exportertest.CompareGolden(t, samples, "poll.prom")
}

func TestFailures(t *testing.T) {
	privateKey := func(key []byte) string {
		var k struct {
			PrivateKey string `json:"private_key"`
		}
		if err := json.Unmarshal(key, &k); err != nil {
			t.Fatal(err)
		}
		return strings.Split(k.PrivateKey, "\n")[1]
	}
	for _, tc := range []struct {
		name     string
		setup    func(sb *sandbox)
		want     error
		contains []string
	}{
		{"quota exhausted", func(sb *sandbox) { sb.fake.SetQuotaRemaining(5) }, exporter.ErrRateLimited,
			[]string{"ga4", "RESOURCE_EXHAUSTED", "tokens per day"}},
		{"server error", func(sb *sandbox) { sb.fake.Faults.Set(fakeapi.ServerError, -1) }, exporter.ErrServer,
			[]string{"ga4", "INTERNAL"}},
		{"malformed", func(sb *sandbox) { sb.fake.Faults.Set(fakeapi.Malformed, -1) }, exporter.ErrBadResponse,
			[]string{"ga4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t, "")
			sb.traffic()
			tc.setup(sb)
			samples, err := sb.env.Poll(t, "ga4")
			t.Log(err)
			exportertest.AssertFailed(t, samples, err, tc.want, privateKey(sb.key), tc.contains...)
		})
	}
}

// TestAuthFailure: a key the token endpoint refuses (another account)
// fails with Google's message and never quotes the key.
func TestAuthFailure(t *testing.T) {
	clock := exportertest.NewManualClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	fake := ga4fake.New(property, clock.Now)
	url := exportertest.Serve(t, fake)
	key := strings.Replace(string(fake.ServiceAccountJSON("")), ga4fake.ClientEmail, "intruder@evil.iam.gserviceaccount.com", 1)
	env := buildWithCredentials(t, url, []byte(key), `{property: "`+property+`"}`, clock.Now)
	samples, err := env.Poll(t, "ga4")
	t.Log(err)
	var k struct {
		PrivateKey string `json:"private_key"`
	}
	_ = json.Unmarshal([]byte(key), &k)
	exportertest.AssertFailed(t, samples, err, exporter.ErrUnauthorized, strings.Split(k.PrivateKey, "\n")[1],
		"ga4", "access token", "invalid_client")

	// Wrong property: 403 from the Data API.
	env = buildWithCredentials(t, url, fake.ServiceAccountJSON(""), `{property: "42"}`, clock.Now)
	samples, err = env.Poll(t, "ga4")
	exportertest.AssertFailed(t, samples, err, exporter.ErrUnauthorized, "", "ga4", "property 42", "PERMISSION_DENIED")
}

func TestBadConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, ga4fake.New(property, nil).ServiceAccountJSON("http://127.0.0.1:1/token"), 0o600); err != nil {
		t.Fatal(err)
	}
	notKey := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(notKey, []byte(`{"type":"authorized_user","client_id":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, options string
		contains            []string
	}{
		{"no property", good, `{}`, []string{"options.property", "numeric"}},
		{"bad since", good, `{property: "1", since: 2026-3-1}`, []string{"options.since", "YYYY-MM-DD"}},
		{"unknown option", good, `{property: "1", view: 2}`, []string{"view"}},
		{"not a service account", notKey, `{property: "1"}`, []string{"token_file", "service_account"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exportertest.AssertConfigError(t, fmt.Sprintf(`
collectors:
  - type: ga4
    token_file: %s
    options: %s
%s`, tc.file, tc.options, campaigns), tc.contains...)
		})
	}
}

// TestTolerantDecoding: propertyQuota numbers sent as strings are read;
// a row whose count cannot be read fails its creator only.
func TestTolerantDecoding(t *testing.T) {
	tests := []struct {
		name        string
		strings     bool
		bad, text   string // a UTM value whose count is text
		want        []string
		wantMissing []string
	}{
		{name: "quota as strings", strings: true, want: []string{
			`spring alice instagram 100`, `spring alice tiktok 40`, `spring bob youtube 7`, `summer carol newsletter 12`}},
		{name: "a count that is no number", bad: "alice", text: "many", want: []string{
			`spring bob youtube 7`, `summer carol newsletter 12`}, wantMissing: []string{"spring/alice"}},
		{name: "a negative count", bad: "carol", text: "-3", want: []string{
			`spring alice instagram 100`, `spring alice tiktok 40`, `spring bob youtube 7`}, wantMissing: []string{"summer/carol"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, "")
			sb.traffic()
			sb.fake.SetQuotaAsStrings(tt.strings)
			if tt.bad != "" {
				sb.fake.SetCountText(tt.bad, tt.text)
			}
			samples, missing := sb.pollMissing(t)
			exportertest.CompareText(t, samples, visitorLines(tt.want...))
			if fmt.Sprint(missing) != fmt.Sprint(tt.wantMissing) {
				t.Errorf("missing %v, want %v", missing, tt.wantMissing)
			}
			if got, want := sb.env.Quota("ga4"), float64(ga4fake.DailyQuota-2*ga4fake.ReportCost); got != want {
				t.Errorf("quota remaining = %g, want %g", got, want)
			}
			if tt.bad == "" {
				return
			}
			// Read again once the row is whole: the creator is back.
			sb.fake.SetCountText(tt.bad, "")
			samples, missing = sb.pollMissing(t)
			exportertest.CompareText(t, samples, visitorLines(`spring alice instagram 100`, `spring alice tiktok 40`, `spring bob youtube 7`, `summer carol newsletter 12`))
			if len(missing) != 0 {
				t.Errorf("missing %v after the row was repaired", missing)
			}
		})
	}
}

// TestBoundedSource: crafted session sources never make a new series.
func TestBoundedSource(t *testing.T) {
	tests := []struct {
		name    string
		sources string
		want    []string
	}{
		{"configured list", `[Instagram, youtube]`, []string{"spring alice instagram 300", "spring alice other 200", "spring alice youtube 200"}},
		{"empty list", `[]`, []string{"spring alice other 700"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, `{property: "`+property+`", sources: `+tt.sources+`}`)
			for _, src := range []string{"instagram", "l.instagram.com", "IG", "youtube.com", "youtu.be", "utm-crafted-1", "crafted.example"} {
				sb.fake.AddTraffic("utm_content", "alice", src, fakeapi.Growth{Base: 100})
			}
			samples, _ := sb.pollMissing(t)
			exportertest.CompareText(t, samples, visitorLines(tt.want...))
		})
	}
}

// visitorLines is the exposition of influencer_referral_visitors_total,
// one series a "campaign creator source value" line.
func visitorLines(series ...string) string {
	var lines []string
	for _, s := range series {
		f := strings.Fields(s)
		lines = append(lines, fmt.Sprintf("%s{campaign=%q,creator=%q,provider=\"ga4\",source=%q} %s",
			exporter.ReferralVisitors.Name, f[0], f[1], f[2], f[3]))
	}
	return exportertest.MetricText(exporter.ReferralVisitors, lines...)
}

// TestCredentialTypes: token_file may hold a service account's key or an
// authorized user's file (told apart by "type"); both get their access
// token from the fake's /token, renew it on the collector's clock, export
// its expiry, and never quote their secrets.
func TestCredentialTypes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    func(*ga4fake.Server) []byte
		wantErr error
		secret  string
		reason  string
	}{
		{name: "service account", file: func(f *ga4fake.Server) []byte { return f.ServiceAccountJSON("") }},
		{name: "authorized user", file: func(f *ga4fake.Server) []byte { return f.AuthorizedUserJSON("") }},
		{name: "revoked refresh token", file: func(f *ga4fake.Server) []byte {
			return []byte(strings.Replace(string(f.AuthorizedUserJSON("")), ga4fake.UserRefreshToken, "1//0revoked-refresh-token", 1))
		}, wantErr: exporter.ErrUnauthorized, secret: "1//0revoked-refresh-token", reason: "invalid_grant"},
		{name: "unknown client", file: func(f *ga4fake.Server) []byte {
			return []byte(strings.Replace(string(f.AuthorizedUserJSON("")), ga4fake.UserClientSecret, "wrong-client-secret", 1))
		}, wantErr: exporter.ErrUnauthorized, secret: "wrong-client-secret", reason: "invalid_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := exportertest.NewManualClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
			fake := ga4fake.New(property, clock.Now)
			url := exportertest.Serve(t, fake)
			env := buildWithCredentials(t, url, tc.file(fake), `{property: "`+property+`", sources: [instagram]}`, clock.Now)
			fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{Base: 100})
			samples, err := env.Poll(t, "ga4")
			if tc.wantErr != nil {
				exportertest.AssertFailed(t, samples, err, tc.wantErr, tc.secret, "ga4", "access token", tc.reason)
				return
			}
			if _, rest := exportertest.ObjectErrors(t, err); len(rest) > 0 {
				t.Fatalf("poll: %v", rest)
			}
			exportertest.CompareText(t, samples, visitorLines("spring alice instagram 100"))
			expiry := testutil.ToFloat64(env.Metrics.TokenExpiry.WithLabelValues("ga4"))
			if want := clock.Now().Add(ga4fake.TokenLifetime - time.Second); math.Abs(expiry-float64(want.Unix())) > 2 {
				t.Errorf("token expiry %v, want %v", time.Unix(int64(expiry), 0).UTC(), want)
			}
			steps := []struct {
				advance time.Duration
				issued  int
			}{
				{50 * time.Minute, 1}, // reused
				{6 * time.Minute, 2},  // within 5 minutes of expiry: renewed
			}
			for _, st := range steps {
				clock.Advance(st.advance)
				if _, err := env.Poll(t, "ga4"); err != nil {
					if _, rest := exportertest.ObjectErrors(t, err); len(rest) > 0 {
						t.Fatalf("poll: %v", rest)
					}
				}
				if got := fake.TokensIssued(); got != st.issued {
					t.Errorf("after %s more: %d tokens issued, want %d", st.advance, got, st.issued)
				}
			}
		})
	}
}

package ga4_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	file := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(file, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	env := exportertest.Build(t, fmt.Sprintf(`
collectors:
  - type: ga4
    base_url: %s
    token_file: %s
    http: {max_retries: 0}
    options: {property: "%s"}
%s`, url, file, property, campaigns))
	ga4.SetClock(env.Instance(t, "ga4").Collector, clock.Now)
	samples, err := env.Poll(t, "ga4")
	t.Log(err)
	var k struct {
		PrivateKey string `json:"private_key"`
	}
	_ = json.Unmarshal([]byte(key), &k)
	exportertest.AssertFailed(t, samples, err, exporter.ErrUnauthorized, strings.Split(k.PrivateKey, "\n")[1],
		"ga4", "access token", "invalid_client")

	// Wrong property: 403 from the Data API.
	file2 := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(file2, fake.ServiceAccountJSON(""), 0o600); err != nil {
		t.Fatal(err)
	}
	env = exportertest.Build(t, fmt.Sprintf(`
collectors:
  - type: ga4
    base_url: %s
    token_file: %s
    http: {max_retries: 0}
    options: {property: "42"}
%s`, url, file2, campaigns))
	ga4.SetClock(env.Instance(t, "ga4").Collector, clock.Now)
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

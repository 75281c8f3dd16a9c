package exporter

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	// The schedules below name IANA zones; main embeds them too.
	_ "time/tzdata"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
)

// checkpointsOf parses a config with one campaign on the schedule and
// returns its validated checkpoints.
func checkpointsOf(t *testing.T, zone string, at ...string) *Checkpoints {
	t.Helper()
	yml := fmt.Sprintf("campaigns:\n  - name: spring\n    checkpoints:\n      at: [%q", at[0])
	for _, a := range at[1:] {
		yml += fmt.Sprintf(", %q", a)
	}
	yml += "]\n"
	if zone != "" {
		yml += "      time_zone: " + zone + "\n"
	}
	cfg, err := ParseConfig("c.yml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Campaigns[0].Checkpoints
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCheckpointsLastNext(t *testing.T) {
	// Clocks change in 2026: Europe/Paris on March 29 (02:00 CET to 03:00
	// CEST) and October 25 (03:00 CEST to 02:00 CET); America/New_York on
	// March 8 (02:00 EST to 03:00 EDT) and November 1 (02:00 EDT to 01:00
	// EST).
	for _, tc := range []struct {
		name       string
		zone       string
		at         []string
		t          string
		last, next string
	}{
		{"utc by default, before midnight", "", []string{"23:30", "00:15"},
			"2026-05-01T23:59:00Z", "2026-05-01T23:30:00Z", "2026-05-02T00:15:00Z"},
		{"at a checkpoint: it is the last, not the next", "", []string{"23:30", "00:15"},
			"2026-05-02T00:15:00Z", "2026-05-02T00:15:00Z", "2026-05-02T23:30:00Z"},
		{"one a day, across the year", "UTC", []string{"00:00"},
			"2026-12-31T23:59:59Z", "2026-12-31T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"paris, evening before spring forward", "Europe/Paris", []string{"09:00", "18:00"},
			"2026-03-28T20:00:00+01:00", "2026-03-28T18:00:00+01:00", "2026-03-29T09:00:00+02:00"},
		{"paris, a second before the first summer read", "Europe/Paris", []string{"09:00", "18:00"},
			"2026-03-29T08:59:59+02:00", "2026-03-28T18:00:00+01:00", "2026-03-29T09:00:00+02:00"},
		{"paris, spring forward day", "Europe/Paris", []string{"09:00", "18:00"},
			"2026-03-29T09:00:00+02:00", "2026-03-29T09:00:00+02:00", "2026-03-29T18:00:00+02:00"},
		{"paris, fall back night", "Europe/Paris", []string{"09:00", "18:00"},
			"2026-10-25T08:30:00+01:00", "2026-10-24T18:00:00+02:00", "2026-10-25T09:00:00+01:00"},
		{"paris, 02:30 in the gap falls on 03:30 CEST", "Europe/Paris", []string{"02:30"},
			"2026-03-29T12:00:00+02:00", "2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"},
		{"paris, just after the gap", "Europe/Paris", []string{"02:30"},
			"2026-03-29T03:00:00+02:00", "2026-03-28T02:30:00+01:00", "2026-03-29T03:30:00+02:00"},
		{"paris, first 02:45 of fall back: 02:30 CET still to come", "Europe/Paris", []string{"02:30"},
			"2026-10-25T02:45:00+02:00", "2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+01:00"},
		{"paris, second 02:45 of fall back", "Europe/Paris", []string{"02:30"},
			"2026-10-25T02:45:00+01:00", "2026-10-25T02:30:00+01:00", "2026-10-26T02:30:00+01:00"},
		{"new york, 02:30 in the gap falls on 01:30 EST", "America/New_York", []string{"02:30"},
			"2026-03-08T12:00:00-04:00", "2026-03-08T01:30:00-05:00", "2026-03-09T02:30:00-04:00"},
		{"new york, the gap's 02:30 comes before 01:45", "America/New_York", []string{"01:45", "02:30"},
			"2026-03-08T01:40:00-05:00", "2026-03-08T01:30:00-05:00", "2026-03-08T01:45:00-05:00"},
		{"new york, after both on spring forward day", "America/New_York", []string{"01:45", "02:30"},
			"2026-03-08T01:50:00-05:00", "2026-03-08T01:45:00-05:00", "2026-03-09T01:45:00-04:00"},
		{"new york, 01:30 twice on fall back: read at the first, EDT", "America/New_York", []string{"01:30"},
			"2026-11-01T01:45:00-05:00", "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"},
		{"new york, between the two 01:30s", "America/New_York", []string{"01:30"},
			"2026-11-01T01:15:00-05:00", "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"},
		{"new york, across midnight", "America/New_York", []string{"18:00"},
			"2026-07-01T00:30:00-04:00", "2026-06-30T18:00:00-04:00", "2026-07-01T18:00:00-04:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := mustTime(t, tc.t)
			for _, cp := range []*Checkpoints{
				checkpointsOf(t, tc.zone, tc.at...),
				// Built in code, not validated: read the same way.
				{At: tc.at, TimeZone: tc.zone},
			} {
				if got, want := cp.Last(at), mustTime(t, tc.last); !got.Equal(want) {
					t.Errorf("Last(%s) = %s, want %s", tc.t, got, want)
				}
				if got, want := cp.Next(at), mustTime(t, tc.next); !got.Equal(want) {
					t.Errorf("Next(%s) = %s, want %s", tc.t, got, want)
				}
			}
		})
	}
}

// TestCheckpointsConsistent walks a year in steps that are no divisor of
// an hour, through both clock changes: the last checkpoint is never after
// t, the next always after it, and nothing lies between them.
func TestCheckpointsConsistent(t *testing.T) {
	for _, zone := range []string{"Europe/Paris", "America/New_York", "Australia/Lord_Howe", "UTC"} {
		cp := checkpointsOf(t, zone, "01:45", "02:30", "09:00", "23:59")
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for at := start; at.Before(start.AddDate(1, 0, 0)); at = at.Add(37 * time.Minute) {
			last, next := cp.Last(at), cp.Next(at)
			if last.IsZero() || next.IsZero() || last.After(at) || !next.After(at) {
				t.Fatalf("%s: at %s: last %s, next %s", zone, at, last, next)
			}
			if got := cp.Next(last); !got.Equal(next) {
				t.Fatalf("%s: at %s: Next(Last) = %s, want %s", zone, at, got, next)
			}
			if got := cp.Last(next); !got.Equal(next) {
				t.Fatalf("%s: at %s: Last(Next) = %s, want %s", zone, at, got, next)
			}
		}
	}
}

func TestCheckpointsWithoutSchedule(t *testing.T) {
	var none *Checkpoints
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	if got := none.Last(at); !got.IsZero() {
		t.Errorf("nil Last = %s", got)
	}
	if got := (&Checkpoints{At: []string{"09:00"}, TimeZone: "Mars/Olympus"}).Next(at); !got.IsZero() {
		t.Errorf("unknown zone Next = %s", got)
	}
	if got := (&Campaign{}).CheckpointsBetween(at, at.AddDate(0, 0, 7)); got != nil {
		t.Errorf("CheckpointsBetween without checkpoints = %v", got)
	}
}

func TestCheckpointsBetween(t *testing.T) {
	camp := &Campaign{Name: "spring", Checkpoints: checkpointsOf(t, "Europe/Paris", "09:00", "18:00")}
	got := camp.CheckpointsBetween(mustTime(t, "2026-03-28T12:00:00+01:00"), mustTime(t, "2026-03-30T09:00:00+02:00"))
	var want []time.Time
	for _, s := range []string{
		"2026-03-28T18:00:00+01:00",
		"2026-03-29T09:00:00+02:00",
		"2026-03-29T18:00:00+02:00",
		"2026-03-30T09:00:00+02:00",
	} {
		want = append(want, mustTime(t, s))
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if !got[i].Equal(want[i]) || got[i].Location().String() != "Europe/Paris" {
			t.Errorf("[%d] = %s, want %s in Europe/Paris", i, got[i], want[i])
		}
	}
}

func TestCheckpointZones(t *testing.T) {
	for _, tc := range []struct{ zone, want string }{
		{"", "UTC"},
		{"UTC", "UTC"},
		{"America/New_York", "America/New_York"},
		{"Local", `c.yml:5:7: campaigns[0].checkpoints.time_zone: "Local" depends on the host: name an IANA zone such as Europe/Paris, or UTC`},
	} {
		yml := "campaigns:\n  - name: spring\n    checkpoints:\n      at: [\"09:00\"]\n"
		if tc.zone != "" {
			yml += "      time_zone: " + tc.zone + "\n"
		}
		cfg, err := ParseConfig("c.yml", []byte(yml))
		if strings.Contains(tc.want, ":") {
			if err == nil || err.Error() != tc.want {
				t.Errorf("%q: error = %v, want %s", tc.zone, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.zone, err)
			continue
		}
		if got := cfg.Campaigns[0].Checkpoints.Location().String(); got != tc.want {
			t.Errorf("%q: location %s, want %s", tc.zone, got, tc.want)
		}
	}
}

func TestSteeringConfig(t *testing.T) {
	t.Setenv("FAKE_TOKEN", "x")
	cfg, err := LoadConfig("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	alice := cfg.Campaigns[0].Creators[0]
	if f := alice.Fee; f == nil || *f != (Fee{Amount: 1500, PerPost: 300, Currency: "EUR", Budget: 3000}) {
		t.Errorf("alice's fee = %+v", f)
	}
	if got := alice.Fee.Owed(2); got != 2100 {
		t.Errorf("Owed(2) = %g, want 2100", got)
	}
	if f := cfg.Campaigns[0].Creators[1].Fee; f == nil || f.Amount != 0 || f.PerPost != 250 || f.Currency != "USD" {
		t.Errorf("bob's fee = %+v", f)
	}
	if got := cfg.Campaigns[1].Creators[0].Fee; got != nil {
		t.Errorf("carol has no fee, got %+v", got)
	}
	// Times given out of order are read in order.
	cp := cfg.Campaigns[0].Checkpoints
	if got := cp.Next(mustTime(t, "2026-06-01T10:00:00+02:00")); !got.Equal(mustTime(t, "2026-06-01T18:00:00+02:00")) {
		t.Errorf("Next = %s", got)
	}
	if got := cfg.Campaigns[1].Checkpoints.Location(); got != time.UTC {
		t.Errorf("default zone %s, want UTC", got)
	}
	if got, want := cfg.Global.EarlyCurve.Ages, []model.Duration{model.Duration(time.Hour), model.Duration(3 * time.Hour), model.Duration(24 * time.Hour)}; !reflect.DeepEqual(got, want) {
		t.Errorf("ages = %v, want %v", got, want)
	}
	if got, want := cfg.EarlyCurveStateFile(), filepath.Join("testdata", "early-curve.json"); got != want {
		t.Errorf("state file %q, want %q", got, want)
	}
}

func TestEarlyCurveDefaults(t *testing.T) {
	for _, tc := range []struct {
		yml, stateFile string
		ages           string
	}{
		{"campaigns: []\n", "", "1h 3h 6h 1d"},
		{"global:\n  early_curve:\n    ages: []\n", "", "1h 3h 6h 1d"},
		{"global:\n  early_curve:\n    ages: [30m, 2h, 30d]\n    state_file: /var/lib/influencer/early-curve.json\n", "/var/lib/influencer/early-curve.json", "30m 2h 30d"},
		{"global:\n  early_curve:\n    state_file: state/curve.json\n", filepath.Join("conf", "state", "curve.json"), "1h 3h 6h 1d"},
	} {
		cfg, err := ParseConfig("conf/c.yml", []byte(tc.yml))
		if err != nil {
			t.Errorf("%q: %v", tc.yml, err)
			continue
		}
		// The ages' strings are the age label's values.
		var ages []string
		for _, a := range cfg.Global.EarlyCurve.Ages {
			ages = append(ages, a.String())
		}
		if got := strings.Join(ages, " "); got != tc.ages {
			t.Errorf("%q: ages %s, want %s", tc.yml, got, tc.ages)
		}
		if got := cfg.EarlyCurveStateFile(); got != tc.stateFile {
			t.Errorf("%q: state file %q, want %q", tc.yml, got, tc.stateFile)
		}
	}
	// The defaults are copied, never shared with a config.
	cfg, _ := ParseConfig("c.yml", []byte("campaigns: []\n"))
	cfg.Global.EarlyCurve.Ages[0] = 0
	if DefaultEarlyCurveAges[0] != model.Duration(time.Hour) {
		t.Error("a config changed DefaultEarlyCurveAges")
	}
}

const steeringConfig = `campaigns:
  - name: spring
    checkpoints:
      at: ["09:00", "18:00"]
      time_zone: Europe/Paris
    creators:
      - name: alice
        fee: {amount: 1500, currency: EUR, budget: 3000}
      - name: bob
        fee: {amount: 100, per_post: 300, currency: EUR}
      - name: carol
      - name: dan
        fee: {per_post: 50, currency: USD}
  - name: summer
    creators:
      - name: bob
        fee: {per_post: 10, currency: EUR}
`

func TestSteeringMetrics(t *testing.T) {
	cfg, err := ParseConfig("c.yml", []byte(steeringConfig))
	if err != nil {
		t.Fatal(err)
	}
	now := mustTime(t, "2026-03-29T12:00:00+02:00")
	future := float64(now.Add(time.Hour).Unix())
	published := float64(now.Add(-time.Hour).Unix())

	cache := NewCache()
	_ = cache.store("instagram", "instagram", []Sample{
		PostPublished.Sample(published, "spring", "bob", "instagram", "p1"),
		PostViews.Sample(1000, "spring", "bob", "instagram", "p1"),
		// Scheduled, not published yet: not owed.
		PostPublished.Sample(future, "spring", "bob", "instagram", "p2"),
		PostPublished.Sample(published, "summer", "bob", "instagram", "p9"),
		// Carol has no fee: her posts change nothing.
		PostPublished.Sample(published, "spring", "carol", "instagram", "p3"),
	})
	_ = cache.store("tiktok", "tiktok", []Sample{
		PostPublished.Sample(published, "spring", "bob", "tiktok", "t1"),
		PostPublished.Sample(float64(now.Unix()), "spring", "bob", "tiktok", "t2"),
	})
	// A second account of the same platform reporting p1 again: one post.
	_ = cache.store("instagram-eu", "instagram", []Sample{
		PostPublished.Sample(published, "spring", "bob", "instagram", "p1"),
	})

	clock := now
	m := NewSteeringMetrics(func() *Config { return cfg }, cache, func() time.Time { return clock })

	// Bob: 100 + 300 × 3 (p1, t1, and t2 published at now); p2 is in the
	// future. The last checkpoint is 09:00 CEST, the first of summer time.
	want := `
# HELP influencer_campaign_checkpoint_timestamp_seconds Unix time of the campaign's last checkpoint read passed, per the checkpoint schedule in the config.
# TYPE influencer_campaign_checkpoint_timestamp_seconds gauge
influencer_campaign_checkpoint_timestamp_seconds{campaign="spring"} 1.7747676e+09
# HELP influencer_creator_budget Budget set for a creator in the campaign, from the config, in major units of the currency.
# TYPE influencer_creator_budget gauge
influencer_creator_budget{campaign="spring",creator="alice",currency="EUR"} 3000
# HELP influencer_creator_fee Fee owed to a creator for the campaign so far, from the config: the flat amount plus the per-post amount for each campaign post the exporter tracks, in major units of the currency.
# TYPE influencer_creator_fee gauge
influencer_creator_fee{campaign="spring",creator="alice",currency="EUR"} 1500
influencer_creator_fee{campaign="spring",creator="bob",currency="EUR"} 1000
influencer_creator_fee{campaign="spring",creator="dan",currency="USD"} 0
influencer_creator_fee{campaign="summer",creator="bob",currency="EUR"} 10
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want)); err != nil {
		t.Error(err)
	}

	// Two hours on: p2 is out, and 18:00 has not come yet.
	clock = now.Add(2 * time.Hour)
	if err := testutil.CollectAndCompare(m, strings.NewReader(strings.Replace(want, `creator="bob",currency="EUR"} 1000`, `creator="bob",currency="EUR"} 1300`, 1))); err != nil {
		t.Error(err)
	}

	// The instagram snapshots lose their posts and the tiktok collector
	// leaves the config: only the flat amounts are owed.
	_ = cache.store("instagram", "instagram", nil)
	_ = cache.store("instagram-eu", "instagram", nil)
	cache.Retain(map[string]string{"instagram": "instagram", "instagram-eu": "instagram"})
	want = `
# HELP influencer_creator_fee Fee owed to a creator for the campaign so far, from the config: the flat amount plus the per-post amount for each campaign post the exporter tracks, in major units of the currency.
# TYPE influencer_creator_fee gauge
influencer_creator_fee{campaign="spring",creator="alice",currency="EUR"} 1500
influencer_creator_fee{campaign="spring",creator="bob",currency="EUR"} 100
influencer_creator_fee{campaign="spring",creator="dan",currency="USD"} 0
influencer_creator_fee{campaign="summer",creator="bob",currency="EUR"} 0
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want), "influencer_creator_fee"); err != nil {
		t.Error(err)
	}
}

func TestSteeringMetricsAtCheckpoint(t *testing.T) {
	cfg, err := ParseConfig("c.yml", []byte(steeringConfig))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ now, want string }{
		{"2026-03-29T08:59:59+02:00", "2026-03-28T18:00:00+01:00"},
		{"2026-03-29T09:00:00+02:00", "2026-03-29T09:00:00+02:00"},
		{"2026-03-29T18:00:00+02:00", "2026-03-29T18:00:00+02:00"},
	} {
		now := mustTime(t, tc.now)
		m := NewSteeringMetrics(func() *Config { return cfg }, NewCache(), func() time.Time { return now })
		want := fmt.Sprintf(`
# HELP influencer_campaign_checkpoint_timestamp_seconds Unix time of the campaign's last checkpoint read passed, per the checkpoint schedule in the config.
# TYPE influencer_campaign_checkpoint_timestamp_seconds gauge
influencer_campaign_checkpoint_timestamp_seconds{campaign="spring"} %g
`, float64(mustTime(t, tc.want).Unix()))
		if err := testutil.CollectAndCompare(m, strings.NewReader(want), "influencer_campaign_checkpoint_timestamp_seconds"); err != nil {
			t.Errorf("at %s: %v", tc.now, err)
		}
	}
}

func TestSteeringMetricsWithoutConfig(t *testing.T) {
	m := NewSteeringMetrics(func() *Config { return nil }, NewCache(), nil)
	if n := testutil.CollectAndCount(m); n != 0 {
		t.Errorf("nil config: %d series, want 0", n)
	}
	cfg, err := ParseConfig("c.yml", []byte("campaigns:\n  - name: spring\n    creators:\n      - name: alice\n"))
	if err != nil {
		t.Fatal(err)
	}
	m = NewSteeringMetrics(func() *Config { return cfg }, nil, nil)
	if n := testutil.CollectAndCount(m); n != 0 {
		t.Errorf("no fee, no checkpoints: %d series, want 0", n)
	}
}

// TestSteeringMetricsCheckpointCrossed checks the checkpoint series follow
// the clock across checkpoints, forwards and back, on one collector.
func TestSteeringMetricsCheckpointCrossed(t *testing.T) {
	cfg, err := ParseConfig("c.yml", []byte(steeringConfig))
	if err != nil {
		t.Fatal(err)
	}
	var clock time.Time
	m := NewSteeringMetrics(func() *Config { return cfg }, NewCache(), func() time.Time { return clock })
	for _, tc := range []struct{ now, want string }{
		{"2026-03-29T12:00:00+02:00", "2026-03-29T09:00:00+02:00"},
		{"2026-03-29T17:59:59+02:00", "2026-03-29T09:00:00+02:00"},
		{"2026-03-29T18:00:00+02:00", "2026-03-29T18:00:00+02:00"},
		{"2026-03-30T08:59:59+02:00", "2026-03-29T18:00:00+02:00"},
		{"2026-03-30T09:00:00+02:00", "2026-03-30T09:00:00+02:00"},
		// The clock set back.
		{"2026-03-29T08:59:59+02:00", "2026-03-28T18:00:00+01:00"},
		{"2026-03-29T09:00:00+02:00", "2026-03-29T09:00:00+02:00"},
	} {
		clock = mustTime(t, tc.now)
		want := fmt.Sprintf(`
# HELP influencer_campaign_checkpoint_timestamp_seconds Unix time of the campaign's last checkpoint read passed, per the checkpoint schedule in the config.
# TYPE influencer_campaign_checkpoint_timestamp_seconds gauge
influencer_campaign_checkpoint_timestamp_seconds{campaign="spring"} %g
`, float64(mustTime(t, tc.want).Unix()))
		if err := testutil.CollectAndCompare(m, strings.NewReader(want), "influencer_campaign_checkpoint_timestamp_seconds"); err != nil {
			t.Errorf("at %s: %v", tc.now, err)
		}
	}
}

// TestSteeringMetricsReload checks a scrape exports the fees of the config
// loaded last, with scrapes running while configs are swapped.
func TestSteeringMetricsReload(t *testing.T) {
	first, err := ParseConfig("c.yml", []byte(steeringConfig))
	if err != nil {
		t.Fatal(err)
	}
	second, err := ParseConfig("c.yml", []byte("campaigns:\n  - name: autumn\n    creators:\n      - name: erin\n        fee: {amount: 700, per_post: 5, currency: GBP, budget: 900}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg atomic.Pointer[Config]
	cfg.Store(first)
	now := mustTime(t, "2026-03-29T12:00:00+02:00")
	m := NewSteeringMetrics(cfg.Load, NewCache(), func() time.Time { return now })
	if n := testutil.CollectAndCount(m, "influencer_creator_fee"); n != 4 {
		t.Errorf("first config: %d fee series, want 4", n)
	}

	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				_ = testutil.CollectAndCount(m)
			}
		}()
	}
	for i := range 50 {
		if i%2 == 0 {
			cfg.Store(second)
		} else {
			cfg.Store(first)
		}
	}
	wg.Wait()

	cfg.Store(second)
	want := `
# HELP influencer_creator_budget Budget set for a creator in the campaign, from the config, in major units of the currency.
# TYPE influencer_creator_budget gauge
influencer_creator_budget{campaign="autumn",creator="erin",currency="GBP"} 900
# HELP influencer_creator_fee Fee owed to a creator for the campaign so far, from the config: the flat amount plus the per-post amount for each campaign post the exporter tracks, in major units of the currency.
# TYPE influencer_creator_fee gauge
influencer_creator_fee{campaign="autumn",creator="erin",currency="GBP"} 700
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

package exporter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The runner exports fees, budgets and checkpoints from the running config,
// and its early curve outlives reloads: values recorded before a reload
// (here, read back from the state file at the first load) are still
// exported after it, until their collector is removed.
func TestRunnerSteeringAndEarlyCurve(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.yml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	config := func(ages, amount string) string {
		return `global:
  early_curve:
    ages: [` + ages + `]
    state_file: curve.json
collectors:
  - type: fake
    name: runner-social
campaigns:
  - name: spring
    checkpoints:
      at: ["00:00"]
    creators:
      - name: alice
        fee: {amount: ` + amount + `, per_post: 300, currency: EUR, budget: 3000}
`
	}

	// A post of runner-social recorded at 1h by an earlier run.
	published := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	post := func(views float64) []Sample { return curvePostSamples("spring", "p1", published, views, 4, 2) }
	prev := NewEarlyCurve([]time.Duration{time.Hour}, filepath.Join(dir, "curve.json"), nil)
	prev.Observe("runner-social", nil, published.Add(59*time.Minute), post(59), post(59))
	prev.Observe("runner-social", nil, published.Add(61*time.Minute), post(61), post(61))

	col := &testCollector{}
	col.set(post(5000), nil)
	testMu.Lock()
	testCollectors["runner-social"] = col
	testMu.Unlock()

	write(config("1h", "1500"))
	r, reg := startRunner(t, file)
	for deadline := time.Now().Add(10 * time.Second); len(r.Cache.samplesOf("runner-social")) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("runner-social never refreshed")
		}
	}

	const atAge = `
# HELP influencer_post_engagements_at_age Saves and shares of a creator's post by type at a fixed age since publishing, from the poll nearest that age; absent if the post was first seen after it, or if its platform does not report the type.
# TYPE influencer_post_engagements_at_age gauge
influencer_post_engagements_at_age{age="1h",campaign="spring",creator="alice",post="p1",provider="instagram",type="saves"} 4
influencer_post_engagements_at_age{age="1h",campaign="spring",creator="alice",post="p1",provider="instagram",type="shares"} 2
# HELP influencer_post_views_at_age Views of a creator's post at a fixed age since publishing, from the poll nearest that age; absent if the post was first seen after it.
# TYPE influencer_post_views_at_age gauge
influencer_post_views_at_age{age="1h",campaign="spring",creator="alice",post="p1",provider="instagram"} 61
`
	steering := func(fee string) string {
		return `
# HELP influencer_creator_budget Budget set for a creator in the campaign, from the config, in major units of the currency.
# TYPE influencer_creator_budget gauge
influencer_creator_budget{campaign="spring",creator="alice",currency="EUR"} 3000
# HELP influencer_creator_fee Fee owed to a creator for the campaign so far, from the config: the flat amount plus the per-post amount for each campaign post the exporter tracks, in major units of the currency.
# TYPE influencer_creator_fee gauge
influencer_creator_fee{campaign="spring",creator="alice",currency="EUR"} ` + fee + `
`
	}
	check := func(t *testing.T, fee string) {
		t.Helper()
		// One post tracked: 300 on top of the flat amount.
		if err := testutil.GatherAndCompare(reg, strings.NewReader(steering(fee)+atAge),
			"influencer_creator_fee", "influencer_creator_budget", "influencer_post_views_at_age", "influencer_post_engagements_at_age"); err != nil {
			t.Error(err)
		}
		before := time.Now().UTC().Truncate(24 * time.Hour)
		got, err := testutil.GatherAndCount(reg, "influencer_campaign_checkpoint_timestamp_seconds")
		if err != nil || got != 1 {
			t.Fatalf("checkpoint series = %d, %v; want 1", got, err)
		}
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		after := time.Now().UTC().Truncate(24 * time.Hour)
		for _, mf := range mfs {
			if mf.GetName() != "influencer_campaign_checkpoint_timestamp_seconds" {
				continue
			}
			v := mf.GetMetric()[0].GetGauge().GetValue()
			if v != float64(before.Unix()) && v != float64(after.Unix()) {
				t.Errorf("checkpoint = %s, want the last midnight UTC, %s", time.Unix(int64(v), 0).UTC(), after)
			}
		}
	}
	check(t, "1800")

	// A new age and fee: the value recorded at 1h stays.
	write(config("1h, 3h", "2000"))
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	check(t, "2300")
	if n, err := testutil.GatherAndCount(reg, "influencer_early_curve_posts"); err != nil || n != 6 {
		t.Errorf("early curve posts = %d series, %v; want 2 ages × 3 states", n, err)
	}

	// A failed reload changes none of it.
	write(config("1h, 3h, 0s", "1"))
	if err := r.Reload(); err == nil {
		t.Fatal("reload of an invalid config succeeded")
	}
	check(t, "2300")
	if n, err := testutil.GatherAndCount(reg, "influencer_early_curve_posts"); err != nil || n != 6 {
		t.Errorf("early curve posts = %d series after a failed reload, %v; want 6", n, err)
	}

	// Without its collector, the post's curve goes.
	write("campaigns:\n  - name: spring\n")
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, "influencer_post_views_at_age", "influencer_early_curve_posts"); err != nil || n != 0 {
		t.Errorf("%d early curve series once the collector is gone (%v), want 0", n, err)
	}
}

// Load then Start reads and builds the config file once: Start runs what
// Load built, with the runner's dependencies, and records it as a
// successful reload, as a first Reload would. Load reports every problem
// at once, as Check does.
func TestRunnerLoadThenStart(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.yml")
	const config = "collectors:\n  - type: fake\n    name: start-a\n"
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	col := &testCollector{}
	col.set([]Sample{clicks(7, "fk.io/a")}, nil)
	testMu.Lock()
	testCollectors["start-a"] = col
	testMu.Unlock()

	r := NewRunner(file, nil)
	reg := prometheus.NewPedanticRegistry()
	if err := r.Register(reg); err != nil {
		t.Fatal(err)
	}
	cfg, instances, err := r.Load()
	if err != nil {
		t.Fatal(err)
	}
	if r.Config() != nil || !r.LastReload().At.IsZero() || testutil.ToFloat64(r.reloadOK) != 0 {
		t.Fatal("Load ran the config or recorded a reload")
	}

	// Start must not read the file again: without it, it still runs
	// what Load built.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	r.Start(cfg, instances)
	t.Cleanup(r.Stop)
	if r.Config() != cfg {
		t.Error("Start did not run the config Load returned")
	}
	if got := r.Instances(); len(got) != 1 || got[0] != instances[0] {
		t.Errorf("running instances = %v, want those Load built", got)
	}
	if rs := r.LastReload(); rs.Err != nil || rs.LastSuccess.IsZero() {
		t.Errorf("last reload after Start = %+v, want a success", rs)
	}
	if got := testutil.ToFloat64(r.reloadOK); got != 1 {
		t.Errorf("influencer_config_last_reload_successful = %g after Start, want 1", got)
	}
	if got := testutil.ToFloat64(r.reloadTime); got <= 0 {
		t.Errorf("influencer_config_last_reload_success_timestamp_seconds = %g after Start, want the time", got)
	}
	for deadline := time.Now().Add(10 * time.Second); len(r.Cache.samplesOf("start-a")) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("start-a never refreshed")
		}
	}

	// Reloads read the file as before: now missing, the running config
	// stays.
	if err := r.Reload(); err == nil {
		t.Fatal("reload of a missing file succeeded")
	}
	if r.Config() != cfg || testutil.ToFloat64(r.reloadOK) != 0 {
		t.Error("a failed reload after Start did not keep the running config, or reported success")
	}

	// Load's error is Check's: every phase, sorted by line.
	bad := NewRunner(filepath.Join("testdata", "bad", "every_phase.yml"), nil)
	_, _, want := Check(filepath.Join("testdata", "bad", "every_phase.yml"))
	cfg, instances, err = bad.Load()
	if cfg != nil || instances != nil || err == nil || want == nil || err.Error() != want.Error() {
		t.Errorf("Load = %v, %v, %v; want no config and Check's error:\n%v", cfg, instances, err, want)
	}
}

// BenchmarkRunnerStartAgency: starting on the agency's config, as serve
// did (Check to start the sandbox, then a first Reload, both reading and
// building it all) and as it does (Load then Start, once).
func BenchmarkRunnerStartAgency(b *testing.B) {
	file := filepath.Join(b.TempDir(), "agency.yml")
	if err := os.WriteFile(file, agencyConfig(), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		start func(r *Runner) error
	}{
		{"check then reload", func(r *Runner) error {
			if _, _, err := Check(file); err != nil {
				return err
			}
			return r.Reload()
		}},
		{"load then start", func(r *Runner) error {
			cfg, instances, err := r.Load()
			if err != nil {
				return err
			}
			r.Start(cfg, instances)
			return nil
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := NewRunner(file, nil)
				if err := tc.start(r); err != nil {
					b.Fatal(err)
				}
				r.Stop()
			}
		})
	}
}

// TestRunningConfigReleasesPositions: once a config runs, it keeps no
// position of the file's fields (38 MB of an agency config's 53 MB,
// BenchmarkConfigHeap), and an error it reports still names the file and
// the field.
func TestRunningConfigReleasesPositions(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(file, []byte("collectors:\n  - type: fake\n    token: x\ncampaigns:\n  - name: spring\n    creators:\n      - name: ana\n        links:\n          - {collector: fake, id: bit.ly/a}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	const field = "campaigns[0].creators[0].links[0].id"
	if got, want := loaded.Errorf(field, "bad").Error(), file+":9:31: "+field+": bad"; got != want {
		t.Errorf("a loaded config's error = %q, want %q", got, want)
	}

	for _, start := range []struct {
		name string
		run  func(r *Runner) error
	}{
		{"load then start", func(r *Runner) error {
			cfg, instances, err := r.Load()
			if err == nil {
				if cfg.pos != nil {
					t.Errorf("Load's config keeps %d positions", len(cfg.pos))
				}
				r.Start(cfg, instances)
			}
			return err
		}},
		{"reload", func(r *Runner) error { return r.Reload() }},
	} {
		r := NewRunner(file, nil)
		if err := start.run(r); err != nil {
			t.Fatal(err)
		}
		cfg := r.Config()
		if cfg.pos != nil {
			t.Errorf("%s: the running config keeps %d positions", start.name, len(cfg.pos))
		}
		if got, want := cfg.Errorf(field, "bad").Error(), file+": "+field+": bad"; got != want {
			t.Errorf("%s: the running config's error = %q, want %q", start.name, got, want)
		}
		r.Stop()
	}
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/internal/promprog"
	"github.com/influencer-exporter/influencer_exporter/sandbox"
)

// TestShardFlags: a --shard.count or --shard.index the exporter cannot
// use stops it at start, with exit code 2 and a message naming the value.
func TestShardFlags(t *testing.T) {
	t.Setenv(exporter.PodNameEnv, "influencer-exporter-5")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--shard.count=0"}, "--shard.count must be at least 1 (1: no sharding), got 0"},
		{[]string{"--shard.count=3", "--shard.index=3"}, "--shard.index=3 is out of range for --shard.count=3: the index goes from 0 to 2"},
		{[]string{"--shard.count=3", "--shard.index=first"}, `--shard.index must be a number from 0 to 2, or auto, got "first"`},
		{[]string{"--shard.count=3", "--shard.index=auto"}, `--shard.index=auto: the pod "influencer-exporter-5" (from $POD_NAME) has ordinal 5, out of range for --shard.count=3 (0 to 2)`},
		{[]string{"--shard.index=1"}, "--shard.index=1 is out of range for --shard.count=1"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"--config.file=config.yaml", "--web.listen-address=127.0.0.1:0"}, tc.args...)
			if code := run(context.Background(), args, &out, &errOut); code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, errOut.String())
			}
			if !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, errOut.String())
			}
		})
	}
}

// serveForTest runs the program on configFile with extra flags, as a
// replica runs, and waits until it is ready. The config must start no
// sandbox: the test runs the one its exporters share.
func serveForTest(t *testing.T, configFile string, extra ...string) *exporterProcess {
	t.Helper()
	p := &exporterProcess{addr: freeAddr(t), configFile: configFile, done: make(chan int, 1), logs: &exportertest.SyncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	args := append([]string{"--config.file=" + configFile, "--web.listen-address=" + p.addr, "--log.level=debug"}, extra...)
	go func() { p.done <- run(ctx, args, io.Discard, p.logs) }()
	t.Cleanup(func() {
		cancel()
		if code := <-p.done; code != 0 {
			t.Errorf("exporter %v exited with %d", extra, code)
		}
		if t.Failed() {
			t.Logf("exporter %v log:\n%s", extra, p.logs.String())
		}
	})
	waitFor(t, "the exporter to be ready", func() bool {
		select {
		case code := <-p.done:
			p.done <- code
			t.Fatalf("exporter %v exited with %d:\n%s", extra, code, p.logs.String())
		default:
		}
		return isReady(p.addr)
	})
	return p
}

// seriesKind says how the series of a metric family compare between
// shards and one exporter.
func seriesKind(name string) string {
	switch {
	case name == "influencer_early_curve_posts", name == "influencer_collector_objects", name == "influencer_shard_creators":
		// Counts over a replica's objects: summed over the shards.
		return "additive"
	case name == "influencer_collector_up":
		// Every replica runs every collector.
		return "every"
	case !strings.HasPrefix(name, "influencer_"), strings.HasPrefix(name, "influencer_collector_"),
		strings.HasPrefix(name, "influencer_api_"), strings.HasPrefix(name, "influencer_config_"),
		strings.HasPrefix(name, "influencer_refresh_"),
		name == "influencer_token_expiry_timestamp_seconds", name == "influencer_exporter_build_info",
		name == "influencer_shard_info":
		// Each process's own.
		return "process"
	}
	// Provider series, and the config's: each from one shard.
	return "union"
}

// movingFamilies move between two polls of the sandbox (clicks, views and
// visitors grow by the second, probes are timed): exporters that poll
// apart read them apart, so only their label sets are compared.
var movingFamilies = map[string]bool{
	"influencer_link_clicks_total": true, "influencer_referral_visitors_total": true,
	"influencer_post_views": true, "influencer_post_reach": true, "influencer_post_engagements": true,
	"influencer_account_followers":                 true,
	"influencer_link_last_probe_timestamp_seconds": true, "influencer_link_probe_duration_seconds": true,
	"influencer_post_views_at_age": true, "influencer_post_engagements_at_age": true,
	"influencer_post_at_age_polled_timestamp_seconds": true,
}

// shardDiff is how the shards' scrapes differ from one exporter's.
type shardDiff struct {
	// labels are label sets missing from one side, or exported twice.
	labels []string
	// values are the values compared, by series: true where they agree.
	values map[string]bool
	// why says how a value differs.
	why map[string]string
}

// compareShards compares the scrapes of the shards with one exporter's.
func compareShards(single map[string]float64, shards []map[string]float64) shardDiff {
	d := shardDiff{values: map[string]bool{}, why: map[string]string{}}
	family := func(key string) string { return key[:strings.IndexByte(key, '{')] }
	union := map[string]float64{}
	sums := map[string]float64{}
	for i, s := range shards {
		for k, v := range s {
			switch seriesKind(family(k)) {
			case "union":
				if _, dup := union[k]; dup {
					d.labels = append(d.labels, fmt.Sprintf("%s: exported by two shards (again by shard %d)", k, i))
				}
				union[k] = v
			case "additive":
				sums[k] += v
			case "every":
				if _, ok := single[k]; !ok {
					d.labels = append(d.labels, fmt.Sprintf("%s: shard %d only", k, i))
				}
			}
		}
	}
	value := func(k string, one, shards float64, how string) {
		d.values[k] = one == shards
		if one != shards {
			d.why[k] = fmt.Sprintf("%s: %g, %s %g", k, one, how, shards)
		}
	}
	for k, v := range single {
		switch seriesKind(family(k)) {
		case "union":
			u, ok := union[k]
			switch {
			case !ok:
				d.labels = append(d.labels, k+": not from the shards")
			case !movingFamilies[family(k)]:
				value(k, v, u, "the shards")
			}
		case "additive":
			value(k, v, sums[k], "summed over the shards")
		case "every":
			for i, s := range shards {
				if _, ok := s[k]; !ok {
					d.labels = append(d.labels, fmt.Sprintf("%s: not from shard %d", k, i))
				}
			}
		}
	}
	for k := range union {
		if _, ok := single[k]; !ok {
			d.labels = append(d.labels, k+": from the shards only")
		}
	}
	for k, v := range sums {
		if _, ok := single[k]; !ok && v != 0 {
			d.labels = append(d.labels, k+": from the shards only")
		}
	}
	sort.Strings(d.labels)
	return d
}

// agreement waits for the shards to agree with one exporter: a round of
// reads whose label sets agree, once every value compared has agreed in
// some round (the sandbox's shops take an order at any second, so two
// exporters polling apart agree only between orders). read returns one
// round's diff; the deadline only bounds a broken run.
func agreement(t *testing.T, what string, read func() shardDiff) shardDiff {
	t.Helper()
	agreed := map[string]bool{}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		d := read()
		var pending []string
		for k, ok := range d.values {
			agreed[k] = agreed[k] || ok
		}
		for k, ok := range d.values {
			if !agreed[k] && !ok {
				pending = append(pending, d.why[k])
			}
		}
		if len(d.labels) == 0 && len(pending) == 0 {
			return d
		}
		if time.Now().After(deadline) {
			sort.Strings(pending)
			t.Fatalf("%s never agreed; the last round's differences:\n%s\nvalues that never agreed:\n%s",
				what, strings.Join(d.labels, "\n"), strings.Join(pending, "\n"))
		}
		time.Sleep(time.Second)
	}
}

// TestShardsEqualOneExporter runs three shards and one unsharded exporter
// on one sandbox, the program itself with its flags, and checks that the
// shards together export what the one exporter does, series for series:
// each provider series of the one exporter comes from exactly one shard,
// with the same value where the sandbox's figures hold still between
// polls; counts over each replica's objects add up to its; every shard
// runs every collector. Then a real Prometheus scrapes the shards under
// one job and the one exporter under another, evaluates alerts/*.rules.yml,
// and the jobs' recording rules and alerts must agree the same way.
func TestShardsEqualOneExporter(t *testing.T) {
	file := sandboxConfigWith(t, true)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// The scripted broken link would break between one exporter's probe
	// and another's.
	text := strings.Replace(string(data), "break_after: 1ms", "break_after: 24h", 1)
	cfg, err := exporter.ParseConfig(file, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(cfg.Sandbox, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	// The replicas share the test's sandbox: their config starts none.
	i, j := strings.Index(text, "\nsandbox:\n"), strings.Index(text, "\ncollectors:\n")
	if i < 0 || j < i {
		t.Fatal("config.yaml has no sandbox block before its collectors")
	}
	replicaFile := filepath.Join(filepath.Dir(file), "replicas.yaml")
	if err := os.WriteFile(replicaFile, []byte(text[:i]+text[j:]), 0o600); err != nil {
		t.Fatal(err)
	}

	const n = 3
	single := serveForTest(t, replicaFile)
	// The last shard reads its index from the pod name, as in a
	// StatefulSet.
	t.Setenv(exporter.PodNameEnv, fmt.Sprintf("influencer-exporter-%d", n-1))
	var shards []*exporterProcess
	for i := range n {
		index := fmt.Sprint(i)
		if i == n-1 {
			index = exporter.ShardAuto
		}
		shards = append(shards, serveForTest(t, replicaFile, fmt.Sprintf("--shard.count=%d", n), "--shard.index="+index))
	}
	for i, p := range shards {
		if _, s := p.scrape(t); s[fmt.Sprintf(`influencer_shard_info{count="%d",index="%d"}`, n, i)] != 1 {
			t.Errorf("shard %d: no influencer_shard_info{index=\"%d\",count=\"%d\"} 1", i, i, n)
		}
	}
	if _, s := single.scrape(t); s[`influencer_shard_info{count="1",index="0"}`] != 1 {
		t.Errorf("the unsharded exporter: no influencer_shard_info{index=\"0\",count=\"1\"} 1")
	}

	var one map[string]float64
	d := agreement(t, "the shards' series and one exporter's", func() shardDiff {
		_, one = single.scrape(t)
		var parts []map[string]float64
		for _, p := range shards {
			_, s := p.scrape(t)
			parts = append(parts, s)
		}
		return compareShards(one, parts)
	})
	families, compared := map[string]int{}, 0
	for k := range one {
		if f := k[:strings.IndexByte(k, '{')]; seriesKind(f) == "union" || seriesKind(f) == "additive" {
			families[f]++
			compared++
		}
	}
	t.Logf("the shards export one exporter's %d series of %d families (values compared: %d)", compared, len(families), len(d.values))
	for _, f := range []string{"influencer_link_up", "influencer_code_revenue_total", "influencer_post_views", "influencer_referral_visitors_total", "influencer_creator_fee", "influencer_campaign_checkpoint_timestamp_seconds"} {
		if families[f] == 0 {
			t.Errorf("no %s series compared: the sandbox exports some", f)
		}
	}

	t.Run("rules", func(t *testing.T) {
		prometheusBin := promprog.Prometheus.Path(t)
		compareRules(t, prometheusBin, single, shards)
	})
}

// compareRules runs Prometheus on alerts/*.rules.yml, scraping the shards
// as one job and the single exporter as another, and waits until the two
// jobs' recording rules and alerts agree: the same series, job and
// instance aside, and the same values for the rules whose inputs hold
// still in the sandbox (fees, budgets, shop revenue and orders).
func compareRules(t *testing.T, bin string, single *exporterProcess, shards []*exporterProcess) {
	t.Helper()
	rules, err := filepath.Abs(filepath.Join("alerts", "*.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, p := range shards {
		targets = append(targets, p.addr)
	}
	const shardedJob, singleJob = "influencer-sharded", "influencer-single"
	cfg, err := yaml.Marshal(map[string]any{
		"global":     map[string]any{"scrape_interval": "1s", "evaluation_interval": "1s"},
		"rule_files": []string{rules},
		"scrape_configs": []any{
			map[string]any{"job_name": shardedJob, "static_configs": []any{map[string]any{"targets": targets}}},
			map[string]any{"job_name": singleJob, "static_configs": []any{map[string]any{"targets": []string{single.addr}}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	prom, api := startPrometheus(t, bin, dir, cfg)
	// Ten scrapes of every target first, so that every rule over a
	// window has its samples on both jobs.
	prom.waitUntil(t, "ten scrapes of every exporter", time.Minute, func() bool {
		v, ok := api.value(`count(count_over_time(up{job=~"influencer-.*"}[1m]) >= 10)`)
		return ok && v == float64(len(shards)+1)
	})

	// stable are the rules whose values hold still in the sandbox
	// between polls, as their inputs do.
	stable := func(name string) bool {
		for _, s := range []string{"influencer_budget_spent", "influencer_code_net_revenue", "influencer_cost_per_redemption", "influencer_return_on_spend"} {
			if strings.Contains(name, ":"+s+":") {
				return true
			}
		}
		return false
	}
	var records map[string]int
	d := agreement(t, "the jobs' recording rules and alerts", func() shardDiff {
		var data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		}
		// Recording rules are the names with colons; ALERTS the alerts,
		// pending and firing.
		if !api.get("/api/v1/query", url.Values{"query": {`{__name__=~".+:.+:.+|ALERTS"}`}}, &data) {
			return shardDiff{labels: []string{"query failed"}}
		}
		byJob := map[string]map[string]float64{shardedJob: {}, singleJob: {}}
		records = map[string]int{}
		for _, r := range data.Result {
			job := r.Metric["job"]
			var labels []string
			for k, v := range r.Metric {
				if k != "job" && k != "instance" && k != "__name__" {
					labels = append(labels, fmt.Sprintf("%s=%q", k, v))
				}
			}
			sort.Strings(labels)
			key := r.Metric["__name__"] + "{" + strings.Join(labels, ",") + "}"
			var v float64
			fmt.Sscan(fmt.Sprint(r.Value[1]), &v)
			if m, ok := byJob[job]; ok {
				m[key] = v
			}
			if job == singleJob {
				records[r.Metric["__name__"]]++
			}
		}
		d := shardDiff{values: map[string]bool{}, why: map[string]string{}}
		for k, v := range byJob[singleJob] {
			u, ok := byJob[shardedJob][k]
			switch {
			case !ok:
				d.labels = append(d.labels, k+": from the single exporter's job only")
			case stable(k[:strings.IndexByte(k, '{')]):
				d.values[k] = u == v
				if u != v {
					d.why[k] = fmt.Sprintf("%s: single %g, sharded %g", k, v, u)
				}
			}
		}
		for k := range byJob[shardedJob] {
			if _, ok := byJob[singleJob][k]; !ok {
				d.labels = append(d.labels, k+": from the shards' job only")
			}
		}
		if len(records) == 0 {
			d.labels = append(d.labels, "no rule has results yet")
		}
		sort.Strings(d.labels)
		return d
	})
	series := 0
	for _, c := range records {
		series += c
	}
	t.Logf("the jobs agree on %d series of %d recording rules and ALERTS (%d values compared)", series, len(records), len(d.values))
}

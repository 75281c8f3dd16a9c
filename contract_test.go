package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// TestMetricsDocMatchesCode keeps docs/metrics.md and the code's metric
// catalogue in step: a metric added to one must be added to the other.
func TestMetricsDocMatchesCode(t *testing.T) {
	doc, err := os.ReadFile("docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| (influencer_[a-z_]+) \|`).FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}

	inCode := map[string]bool{}
	for _, m := range exporter.Catalogue() {
		inCode[m.Name] = true
	}
	// Self-metrics: whatever a runner registers, plus build info.
	reg := prometheus.NewRegistry()
	r := exporter.NewRunner("unused.yml", nil)
	if err := r.Register(reg); err != nil {
		t.Fatal(err)
	}
	descs := make(chan *prometheus.Desc, 100)
	r.Metrics.Describe(descs)
	close(descs)
	for d := range descs {
		inCode[regexp.MustCompile(`fqName: "([^"]+)"`).FindStringSubmatch(d.String())[1]] = true
	}
	// And every series the runner's registered collectors export before
	// the first refresh.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		inCode[mf.GetName()] = true
	}
	for _, n := range []string{
		"influencer_collector_up", "influencer_collector_last_success_timestamp_seconds",
		"influencer_collector_refresh_duration_seconds", "influencer_collector_objects", "influencer_config_last_reload_successful",
		"influencer_config_last_reload_success_timestamp_seconds", "influencer_exporter_build_info",
		"influencer_campaign_checkpoint_timestamp_seconds", "influencer_early_curve_posts",
		"influencer_shard_info", "influencer_shard_creators",
	} {
		inCode[n] = true
	}
	if missing := diff(inCode, documented); len(missing) > 0 {
		t.Errorf("in the code but not in docs/metrics.md: %v", missing)
	}
	if extra := diff(documented, inCode); len(extra) > 0 {
		t.Errorf("in docs/metrics.md but not in the code: %v", extra)
	}
}

func diff(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// TestGofmt fails on unformatted Go files, so CI catches them.
func TestGofmt(t *testing.T) {
	gofmt := filepath.Join(runtime.GOROOT(), "bin", "gofmt")
	if _, err := os.Stat(gofmt); err != nil {
		gofmt = "gofmt"
	}
	out, err := exec.Command(gofmt, "-l", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("gofmt: %v\n%s", err, out)
	}
	if files := strings.TrimSpace(string(out)); files != "" {
		t.Errorf("gofmt would change:\n%s", files)
	}
}

// TestVet runs go vet, so CI catches what it reports.
func TestVet(t *testing.T) {
	if testing.Short() {
		t.Skip("go vet skipped in -short mode")
	}
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "vet", "./...").CombinedOutput()
	if err != nil {
		t.Errorf("go vet ./...: %v\n%s", err, out)
	}
}

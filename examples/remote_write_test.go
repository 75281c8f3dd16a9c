package examples_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/influencer-exporter/influencer_exporter/internal/promprog"
	"github.com/influencer-exporter/influencer_exporter/internal/promtool"
)

// TestMain ends the run with a visible line when tests skipped for want
// of promtool.
func TestMain(m *testing.M) { promprog.Main(m) }

// remoteWriteExample is the Prometheus configuration docs/deployment.md
// shows for a remote store.
const remoteWriteExample = "remote-write/prometheus.yml"

// TestRemoteWriteExample checks the remote_write example with promtool as
// written (Grafana Mimir) and with each commented alternative (Thanos
// Receive, VictoriaMetrics) in its place, for a Prometheus server and for
// one in agent mode: the file users copy is one Prometheus accepts,
// whichever store they pick.
func TestRemoteWriteExample(t *testing.T) {
	data, err := os.ReadFile(remoteWriteExample)
	if err != nil {
		t.Fatal(err)
	}
	variants := remoteWriteVariants(t, string(data))
	stores := map[string]string{
		"mimir":           "/api/v1/push",
		"thanos":          "/api/v1/receive",
		"victoriametrics": "/insert/0/prometheus/api/v1/write",
	}
	found := map[string]bool{}
	bin := promtool.Path(t)
	dir := t.TempDir()
	for i, text := range variants {
		var cfg struct {
			ScrapeConfigs []struct {
				JobName string `yaml:"job_name"`
			} `yaml:"scrape_configs"`
			RemoteWrite []struct {
				URL string `yaml:"url"`
			} `yaml:"remote_write"`
			RuleFiles []string `yaml:"rule_files"`
		}
		if err := yaml.Unmarshal([]byte(text), &cfg); err != nil {
			t.Fatalf("variant %d: %v", i, err)
		}
		if len(cfg.RemoteWrite) != 1 {
			t.Fatalf("variant %d: %d remote_write entries, want one", i, len(cfg.RemoteWrite))
		}
		url := cfg.RemoteWrite[0].URL
		for store, path := range stores {
			if strings.HasSuffix(url, path) {
				found[store] = true
			}
		}
		// InfluencerExporterDown selects the exporter's job by
		// job=~"influencer.*"; agent mode evaluates no rules.
		if len(cfg.ScrapeConfigs) != 1 || !strings.HasPrefix(cfg.ScrapeConfigs[0].JobName, "influencer") {
			t.Errorf("variant %d: want one scrape job named influencer...", i)
		}
		if len(cfg.RuleFiles) > 0 {
			t.Errorf("variant %d: rule_files: agent mode evaluates no rules", i)
		}
		file := filepath.Join(dir, "prometheus.yml")
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, mode := range [][]string{nil, {"--agent"}} {
			args := append(append([]string{"check", "config"}, mode...), file)
			if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
				t.Errorf("%s %s (remote_write to %s): %v\n%s", filepath.Base(bin), strings.Join(args[:len(args)-1], " "), url, err, out)
			}
		}
	}
	for store := range stores {
		if !found[store] {
			t.Errorf("%s: no remote_write example for %s", remoteWriteExample, store)
		}
	}
}

// remoteWriteVariants returns text as written and, for each commented
// "# - url:" entry of its remote_write list, text with that entry in place
// of the one written.
func remoteWriteVariants(t *testing.T, text string) []string {
	t.Helper()
	lines := strings.Split(text, "\n")
	start := -1
	for i, l := range lines {
		if l == "remote_write:" {
			start = i
		}
	}
	if start < 0 {
		t.Fatal("no remote_write list")
	}
	var active, alternatives []int
	for i := start + 1; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "  - url: "):
			active = append(active, i)
		case len(active) > 0 && active[len(active)-1] == i-1 && strings.HasPrefix(l, "    "):
			active = append(active, i) // the entry's other keys
		case strings.HasPrefix(l, "  # - url: "):
			alternatives = append(alternatives, i)
		}
	}
	if len(active) == 0 || len(alternatives) == 0 {
		t.Fatalf("want a remote_write entry and commented alternatives, got %d lines and %d", len(active), len(alternatives))
	}
	out := []string{text}
	for _, alt := range alternatives {
		v := make([]string, 0, len(lines))
		for i, l := range lines {
			switch {
			case i == alt:
				v = append(v, strings.Replace(l, "  # - url: ", "  - url: ", 1))
			case i >= active[0] && i <= active[len(active)-1]:
			default:
				v = append(v, l)
			}
		}
		out = append(out, strings.Join(v, "\n"))
	}
	return out
}

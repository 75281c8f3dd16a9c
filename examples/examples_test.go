package examples_test

import (
	"net"
	"net/url"
	"path/filepath"
	"testing"

	_ "github.com/influencer-exporter/influencer_exporter/collectors/all"
	"github.com/influencer-exporter/influencer_exporter/examples"
	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// TestExamples runs the check of --config.check on every example: the
// file loads, every collector builds, and no collector's planned calls
// overrun its interval.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("*.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no example configurations (*.yml) found")
	}
	for k, v := range examples.Tokens {
		t.Setenv(k, v)
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			cfg, instances, err := exporter.Check(file)
			if err != nil {
				t.Fatalf("%s: configuration is invalid:\n%v", file, err)
			}
			if cfg.Sandbox != nil {
				t.Errorf("%s: an example of a real campaign must not start the sandbox", file)
			}
			for _, cc := range cfg.Collectors {
				if cc.BaseURL == "" {
					continue
				}
				u, err := url.Parse(cc.BaseURL)
				if err != nil {
					t.Errorf("%s: collector %s: base_url: %v", file, cc.Name, err)
					continue
				}
				if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback()) {
					t.Errorf("%s: collector %s: base_url %s is on loopback: examples configure the real APIs", file, cc.Name, cc.BaseURL)
				}
			}
			if len(instances) != len(cfg.Collectors) {
				t.Errorf("%s: %d collectors configured, %d built", file, len(cfg.Collectors), len(instances))
			}
			for _, p := range exporter.Plans(instances) {
				t.Logf("%s", p)
				if p.Over {
					t.Errorf("%s: plan warning: %s", file, p)
				}
			}
		})
	}
}

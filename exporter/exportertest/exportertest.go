// Package exportertest helps collector tests: build one collector from a
// YAML snippet and compare its samples with a golden exposition file.
package exportertest

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Update rewrites golden files instead of comparing: go test ./collectors/bitly -update.
var Update = flag.Bool("update", false, "rewrite golden testdata/*.prom files")

// Env is a built config with its instances and shared parts.
type Env struct {
	Config    *exporter.Config
	Instances []*exporter.Instance
	Metrics   *exporter.APIMetrics
	Links     *exporter.LinkSet
}

// Build parses a config from text and builds every collector in it; the test
// fails on any error.
func Build(t testing.TB, config string) *Env {
	t.Helper()
	env, err := TryBuild(config)
	if err != nil {
		t.Fatalf("build config: %v", err)
	}
	return env
}

// BuildStored is Build with storage kept across restarts (--storage.path):
// building again with the same storage is a restart.
func BuildStored(t testing.TB, config string, storage *exporter.Storage) *Env {
	t.Helper()
	env, err := tryBuild(config, storage)
	if err != nil {
		t.Fatalf("build config: %v", err)
	}
	return env
}

// BuildShard is Build for one shard of the creators (--shard.index,
// --shard.count), as a replica builds the config.
func BuildShard(t testing.TB, config string, s exporter.Shard) *Env {
	t.Helper()
	env, err := tryBuildShard(config, nil, s)
	if err != nil {
		t.Fatalf("build config for shard %s: %v", s, err)
	}
	return env
}

// TryBuild is Build returning the error, for tests of bad options.
func TryBuild(config string) (*Env, error) { return tryBuild(config, nil) }

func tryBuild(config string, storage *exporter.Storage) (*Env, error) {
	return tryBuildShard(config, storage, exporter.Shard{})
}

func tryBuildShard(config string, storage *exporter.Storage, s exporter.Shard) (*Env, error) {
	cfg, err := exporter.ParseConfig("test.yml", []byte(config))
	if err != nil {
		return nil, err
	}
	cfg.ApplyShard(s)
	env := &Env{Config: cfg, Metrics: exporter.NewAPIMetrics(), Links: exporter.NewLinkSet()}
	env.Instances, err = exporter.Build(cfg, exporter.Deps{Metrics: env.Metrics, Links: env.Links, Storage: storage})
	if err != nil {
		return nil, err
	}
	return env, nil
}

// Instance returns the named instance.
func (e *Env) Instance(t testing.TB, name string) *exporter.Instance {
	t.Helper()
	for _, i := range e.Instances {
		if i.Name == name {
			return i
		}
	}
	t.Fatalf("no collector %q in config", name)
	return nil
}

// Poll polls the named collector once.
func (e *Env) Poll(t testing.TB, name string) ([]exporter.Sample, error) {
	t.Helper()
	return e.Instance(t, name).Collector.Poll(context.Background())
}

// Exposition renders samples in the text exposition format.
func Exposition(t testing.TB, samples []exporter.Sample) []byte {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(exporter.SamplesCollector(samples)); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// CompareGolden compares samples with the golden exposition file (under
// testdata/), or rewrites it with -update. metricNames limits the
// comparison, as in testutil.CollectAndCompare.
func CompareGolden(t testing.TB, samples []exporter.Sample, golden string, metricNames ...string) {
	t.Helper()
	path := filepath.Join("testdata", golden)
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, Exposition(t, samples), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if err := testutil.CollectAndCompare(exporter.SamplesCollector(samples), bytes.NewReader(want), metricNames...); err != nil {
		t.Errorf("%s: %v", path, err)
	}
}

// CompareText compares samples with an inline exposition.
func CompareText(t testing.TB, samples []exporter.Sample, want string, metricNames ...string) {
	t.Helper()
	if err := testutil.CollectAndCompare(exporter.SamplesCollector(samples), strings.NewReader(want), metricNames...); err != nil {
		t.Error(err)
	}
}

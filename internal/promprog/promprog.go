// Package promprog finds or builds the real Prometheus programs for tests.
// Tests run the same promtool, prometheus, alertmanager and amtool users
// run, each pinned to one release and built once per machine into the user
// cache directory.
package promprog

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// Releases the tests pin. Alertmanager v0.29 and later do not install with
// `go install`: their web UI assets are not in the module.
const (
	PrometheusVersion   = "v0.316.0"
	AlertmanagerVersion = "v0.28.1"
)

// Program is one command of a pinned Go module.
type Program struct {
	// Name is the command's name, and the binary's.
	Name string
	// Package is the command's import path.
	Package string
	// Version is the module version to build.
	Version string
	// Env names the environment variable that, when set, points at a
	// binary to use instead.
	Env string
	// Release names the cache subdirectory shared by the programs of one
	// module version.
	Release string
}

// The programs the tests use.
var (
	Promtool = Program{
		Name:    "promtool",
		Package: "github.com/prometheus/prometheus/cmd/promtool",
		Version: PrometheusVersion,
		Env:     "PROMTOOL",
		Release: "prometheus-" + PrometheusVersion,
	}
	Prometheus = Program{
		Name:    "prometheus",
		Package: "github.com/prometheus/prometheus/cmd/prometheus",
		Version: PrometheusVersion,
		Env:     "PROMETHEUS",
		Release: "prometheus-" + PrometheusVersion,
	}
	Alertmanager = Program{
		Name:    "alertmanager",
		Package: "github.com/prometheus/alertmanager/cmd/alertmanager",
		Version: AlertmanagerVersion,
		Env:     "ALERTMANAGER",
		Release: "alertmanager-" + AlertmanagerVersion,
	}
	Amtool = Program{
		Name:    "amtool",
		Package: "github.com/prometheus/alertmanager/cmd/amtool",
		Version: AlertmanagerVersion,
		Env:     "AMTOOL",
		Release: "alertmanager-" + AlertmanagerVersion,
	}
)

type result struct {
	once sync.Once
	path string
	err  error
}

var (
	mu      sync.Mutex
	results = map[Program]*result{}
)

// Path returns the program's binary: the file (or command in $PATH) named by
// its environment variable if set, else the pinned release from the cache directory, built
// with `go install` on first use. In CI (CI=true) a program that cannot be
// found or built fails the test; elsewhere the test is skipped.
func (p Program) Path(t testing.TB) string {
	t.Helper()
	path, err := p.Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", p.Name, err)
		}
		t.Skipf("%s not available: %v", p.Name, err)
	}
	return path
}

// Find is Path without the test: it returns the binary or why there is
// none. It looks once per process.
func (p Program) Find() (string, error) {
	mu.Lock()
	r, ok := results[p]
	if !ok {
		r = &result{}
		results[p] = r
	}
	mu.Unlock()
	r.once.Do(func() { r.path, r.err = p.find() })
	return r.path, r.err
}

// Dir is where the pinned release of the program is installed.
func (p Program) Dir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, "influencer_exporter", p.Release), nil
}

func (p Program) find() (string, error) {
	if env := os.Getenv(p.Env); env != "" {
		bin, err := exec.LookPath(env)
		if err != nil {
			return "", fmt.Errorf("$%s: %w", p.Env, err)
		}
		return bin, nil
	}
	dir, err := p.Dir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, p.Name)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Several test binaries may want the program at once: build it once.
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	// Build into a fresh directory and rename, so an interrupted build
	// never leaves a truncated binary where the next run would use it.
	tmp, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	target := p.Package + "@" + p.Version
	cmd := exec.Command("go", "install", target)
	cmd.Dir = tmp // outside any module or workspace
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=-mod=mod", "CGO_ENABLED=0", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %w\n%s", target, err, out)
	}
	if err := os.Rename(filepath.Join(tmp, p.Name), bin); err != nil {
		return "", fmt.Errorf("go install %s: %w", target, err)
	}
	return bin, nil
}

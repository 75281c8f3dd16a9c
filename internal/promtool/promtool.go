// Package promtool finds or builds the real promtool for tests. Tests that
// check exposition or rules run the same promtool users run, pinned to one
// Prometheus release, built once per machine into the user cache directory.
package promtool

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// Version is the Prometheus release whose promtool the tests use.
const Version = "v0.316.0"

const module = "github.com/prometheus/prometheus/cmd/promtool"

var (
	once    sync.Once
	path    string
	findErr error
)

// Path returns a promtool binary: $PROMTOOL if set, else the pinned release
// from the cache directory, building it with `go install` on first use. In
// CI (CI=true) a missing promtool fails the test; elsewhere it skips.
func Path(t testing.TB) string {
	t.Helper()
	once.Do(func() { path, findErr = find() })
	if findErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("promtool is required in CI: %v", findErr)
		}
		t.Skipf("promtool not available: %v", findErr)
	}
	return path
}

// Dir is where the pinned promtool is installed.
func Dir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, "influencer_exporter", "prometheus-"+Version), nil
}

func find() (string, error) {
	if p := os.Getenv("PROMTOOL"); p != "" {
		return p, nil
	}
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "promtool")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Several test binaries may want promtool at once: build it once.
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
	cmd := exec.Command("go", "install", module+"@"+Version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %w\n%s", module, Version, err, out)
	}
	return bin, nil
}

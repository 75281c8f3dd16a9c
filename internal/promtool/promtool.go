// Package promtool finds or builds the real promtool for tests. Tests that
// check exposition or rules run the same promtool users run, pinned to one
// Prometheus release, built once per machine into the user cache directory.
package promtool

import (
	"testing"

	"github.com/influencer-exporter/influencer_exporter/internal/promprog"
)

// Version is the Prometheus release whose promtool the tests use.
const Version = promprog.PrometheusVersion

// Path returns a promtool binary: $PROMTOOL if set, else the pinned release
// from the cache directory, building it with `go install` on first use. In
// CI (CI=true) a missing promtool fails the test; elsewhere it skips.
func Path(t testing.TB) string {
	t.Helper()
	return promprog.Promtool.Path(t)
}

// Dir is where the pinned promtool is installed.
func Dir() (string, error) {
	return promprog.Promtool.Dir()
}

package exporter

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestReloadRefusesHostileFiles: a reload of an alias bomb or of a file
// above the size limit fails, keeps the running config, and leaves the
// heap about where it was.
func TestReloadRefusesHostileFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(file, []byte("collectors:\n  - type: fake\n    name: hostile-reload\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, _ := startRunner(t, file)
	running := r.Config()

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	before := heap()

	bomb, err := os.ReadFile("testdata/config/alias_bomb.yml")
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 0, 50<<20)
	big = append(big, "collectors:\n  - type: fake\n    name: hostile-reload\n"...)
	for len(big) < 50<<20-100 {
		big = append(big, "# "+strings.Repeat("x", 97)+"\n"...)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"alias bomb", bomb, "excessive aliasing"},
		{"50 MB", big, "above the limit of 16 MiB (--config.max-size)"},
	} {
		if err := os.WriteFile(file, tc.data, 0o600); err != nil {
			t.Fatal(err)
		}
		err := r.Reload()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), file+":") {
			t.Errorf("%s: reload error = %v, want one naming %s and saying %q", tc.name, err, file, tc.want)
		}
		if r.Config() != running {
			t.Errorf("%s: the failed reload replaced the running config", tc.name)
		}
		if got := testutil.ToFloat64(r.reloadOK); got != 0 {
			t.Errorf("%s: influencer_config_last_reload_successful = %g, want 0", tc.name, got)
		}
	}
	after := heap()
	t.Logf("heap in use: %d bytes before, %d after the failed reloads", before, after)
	if after > before+20<<20 {
		t.Errorf("heap in use grew from %d to %d bytes over the failed reloads", before, after)
	}
}

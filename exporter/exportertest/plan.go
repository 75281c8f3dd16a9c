package exportertest

import (
	"strings"
	"testing"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// AssertPlan checks the Plan of the named collector, which must implement
// exporter.Planner: calls API calls, and a note that contains each of
// note.
func (e *Env) AssertPlan(t testing.TB, name string, calls int, note ...string) {
	t.Helper()
	planner, ok := e.Instance(t, name).Collector.(exporter.Planner)
	if !ok {
		t.Fatalf("collector %q does not plan its calls", name)
	}
	p := planner.Plan()
	if p.Calls != calls {
		t.Errorf("Calls = %d, want %d (%s)", p.Calls, calls, p.Note)
	}
	for _, s := range note {
		if !strings.Contains(p.Note, s) {
			t.Errorf("note %q lacks %q", p.Note, s)
		}
	}
}

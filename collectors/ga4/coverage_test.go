package ga4_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// TestSiteCoverage: every creator is a site object of the property; one
// without visitors, or whose campaign starts later, is missing with the
// reason, and a campaign not started costs no report.
func TestSiteCoverage(t *testing.T) {
	sb := newSandboxWith(t, "", campaigns+`
  - name: autumn
    start: 2026-09-01T00:00:00Z
    creators:
      - name: dora
`)
	sb.fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{Base: 100, PerMinute: 2})
	sb.fake.AddTraffic("utm_campaign", "carol", "newsletter", fakeapi.Growth{Base: 12})
	inst := sb.env.Instance(t, "ga4")
	if got := inst.Collector.(exporter.Coverer).Expected(); len(got) != 4 || got[3] != (exporter.Object{Kind: exporter.KindSite, Campaign: "autumn", Creator: "dora", ID: property}) {
		t.Errorf("expected %+v", got)
	}
	cache := exporter.NewCache()
	sb.env.RefreshWithin(t, cache, "ga4", sb.cut, -1)
	gaps, reasons := exportertest.GapKeys(t, cache, "ga4")
	want := map[string]string{
		"missing site autumn/dora/" + property: `ga4: property 123456789: campaign "autumn" starts on 2026-09-01: no visitors to count yet`,
		"missing site spring/bob/" + property:  "ga4: property 123456789: no session with utm_content=bob-yt (sessionManualAdContent) since 2026-03-01",
	}
	if len(gaps) != len(want) {
		t.Fatalf("gaps %v, want %v", gaps, want)
	}
	for _, g := range gaps {
		if reasons[g] != want[g] {
			t.Errorf("gap %s: reason %q, want %q", g, reasons[g], want[g])
		}
	}
	if got := exportertest.CollectorObjects(t, cache, "ga4"); got["site exported"] != 2 || got["site missing"] != 2 {
		t.Errorf("objects %v", got)
	}
	// The reports of spring and summer: none for autumn.
	if got := sb.fake.Faults.Hits(); got != 2 {
		t.Errorf("runReport calls = %d, want 2", got)
	}
}

// TestResumeWhenOutOfTime: a refresh whose time runs out counts the
// reports it read, skips the creators of the others (last values kept),
// and asks for those first next time, so both advance over two refreshes.
func TestResumeWhenOutOfTime(t *testing.T) {
	sb := newSandbox(t, "")
	sb.fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{Base: 100, PerMinute: 2})
	sb.fake.AddTraffic("utm_content", "bob-yt", "youtube", fakeapi.Growth{Base: 7, PerMinute: 1})
	sb.fake.AddTraffic("utm_campaign", "carol", "newsletter", fakeapi.Growth{Base: 12, PerMinute: 3})
	cache := exporter.NewCache()
	visitors := func() map[string]float64 {
		return exportertest.CachedValues(t, cache, exporter.ReferralVisitors, "creator")
	}
	sb.env.RefreshWithin(t, cache, "ga4", sb.cut, -1)
	first := visitors()

	skipped := [][]string{
		{"skipped site summer/carol/" + property},
		{"skipped site spring/alice/" + property, "skipped site spring/bob/" + property},
	}
	for i, want := range skipped {
		sb.clock.Advance(time.Minute)
		// The token is still good: one report, then time is up.
		sb.env.RefreshWithin(t, cache, "ga4", sb.cut, 1)
		exportertest.AssertSkippedGaps(t, cache, "ga4", fmt.Sprintf("refresh %d", i+2), want)
		if got := visitors(); i == 0 && got["carol"] != first["carol"] {
			t.Errorf("refresh 2: carol shows %g, want her last value %g", got["carol"], first["carol"])
		}
	}
	got := visitors()
	for _, c := range []string{"alice", "bob", "carol"} {
		if got[c] <= first[c] {
			t.Errorf("%s: %g after two refreshes, want above %g", c, got[c], first[c])
		}
	}
}

func TestPlan(t *testing.T) {
	sb := newSandbox(t, "")
	sb.env.AssertPlan(t, "ga4", 2, "for 3 creators")
}

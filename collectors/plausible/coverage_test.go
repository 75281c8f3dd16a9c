package plausible_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// TestSiteCoverage: every creator is a site object; one without visitors,
// or whose campaign has not started, is missing with the reason, and
// exported from its first visitor on.
func TestSiteCoverage(t *testing.T) {
	sb := newSandbox(t, token)
	sb.fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{PerMinute: 1})
	sb.fake.AddTraffic("utm_content", "carol", "tiktok", fakeapi.Growth{PerMinute: 1})
	env := sb.build(t, `{site_id: shop.example}`, spring+`
  - name: winter
    start: 2025-12-01T00:00:00Z
    creators:
      - name: erin
`)
	inst := env.Instance(t, "plausible")
	if got := inst.Collector.(exporter.Coverer).Expected(); len(got) != 4 || got[1] != (exporter.Object{Kind: exporter.KindSite, Campaign: "spring", Creator: "bob", ID: "shop.example"}) {
		t.Errorf("expected %+v", got)
	}
	cache := exporter.NewCache()
	env.RefreshWithin(t, cache, "plausible", sb.cut, -1)
	gaps, reasons := exportertest.GapKeys(t, cache, "plausible")
	want := []string{"missing site spring/bob/shop.example", "missing site winter/erin/shop.example"}
	if !reflect.DeepEqual(gaps, want) {
		t.Fatalf("gaps %v, want %v", gaps, want)
	}
	for gap, reason := range map[string]string{
		want[0]: `plausible: site "shop.example": no visit with utm_content=bob-yt since 2025-03-01T12:00:00Z`,
		want[1]: `plausible: site "shop.example": campaign "winter" starts at 2025-12-01T00:00:00Z: no visitors to count yet`,
	} {
		if reasons[gap] != reason {
			t.Errorf("%s: reason %q, want %q", gap, reasons[gap], reason)
		}
	}
	if got := exportertest.CollectorObjects(t, cache, "plausible"); got["site exported"] != 2 || got["site missing"] != 2 || got["site skipped"] != 0 {
		t.Errorf("objects %v", got)
	}
	if st := cache.Status()[0]; !st.Up {
		t.Errorf("status %+v, want up", st)
	}

	// bob's first visitor.
	sb.fake.AddTraffic("utm_content", "bob-yt", "youtube", fakeapi.Growth{PerMinute: 1})
	sb.clock.Advance(time.Minute)
	env.RefreshWithin(t, cache, "plausible", sb.cut, -1)
	if gaps, _ := exportertest.GapKeys(t, cache, "plausible"); !reflect.DeepEqual(gaps, want[1:]) {
		t.Errorf("gaps %v, want %v", gaps, want[1:])
	}
}

// TestResumeWhenOutOfTime: a refresh whose time runs out counts the
// queries it finished, skips the creators of the others (last values
// kept), and queries those first next time; a query cut between its pages
// counts nothing.
func TestResumeWhenOutOfTime(t *testing.T) {
	summer := `
  - name: summer
    utm_parameter: utm_campaign
    creators:
      - name: erin
        utm: summer-erin
`
	tests := []struct {
		name, options, campaigns string
		calls                    int // answered calls of each refresh cut short
		skipped                  [2][]string
	}{{
		name: "two queries", options: `{site_id: shop.example}`, campaigns: solo + summer, calls: 1,
		skipped: [2][]string{{"skipped site summer/erin/shop.example"}, {"skipped site spring/alice/shop.example"}},
	}, {
		// alice's query, then erin's pages of one row: 1, 1 and the
		// empty one that ends them.
		name: "pages of one query", options: `{site_id: shop.example, page_size: 1}`, campaigns: solo + summer, calls: 3,
		skipped: [2][]string{{"skipped site summer/erin/shop.example"}, {"skipped site spring/alice/shop.example"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, token)
			alice := fakeapi.Growth{PerMinute: 2}
			erin := fakeapi.Growth{Base: 5, PerMinute: 1}
			sb.fake.AddTraffic("utm_content", "alice", "instagram", alice)
			sb.fake.AddTraffic("utm_campaign", "summer-erin", "instagram", erin)
			// A second source makes erin's query two pages of one row.
			sb.fake.AddTraffic("utm_campaign", "summer-erin", "tiktok", fakeapi.Growth{Base: 1})
			env := sb.build(t, tt.options, tt.campaigns)
			cache := exporter.NewCache()
			visitors := func() map[string]float64 {
				return exportertest.CachedValues(t, cache, exporter.ReferralVisitors, "creator", "source")
			}
			env.RefreshWithin(t, cache, "plausible", sb.cut, -1)
			first := visitors()

			for i := range 2 {
				sb.clock.Advance(time.Minute)
				env.RefreshWithin(t, cache, "plausible", sb.cut, tt.calls)
				exportertest.AssertSkippedGaps(t, cache, "plausible", fmt.Sprintf("refresh %d", i+2), tt.skipped[i])
				got := visitors()
				_, creator, _ := strings.Cut(strings.TrimPrefix(tt.skipped[i][0], "skipped site "), "/")
				creator, _, _ = strings.Cut(creator, "/")
				if k := creator + "/instagram"; i == 0 && got[k] != first[k] {
					t.Errorf("refresh 2: skipped %s shows %g, want its last value %g", creator, got[k], first[k])
				}
			}
			// Over the two refreshes, both advanced.
			got := visitors()
			if got["alice/instagram"] <= first["alice/instagram"] || got["erin/instagram"] <= first["erin/instagram"] {
				t.Errorf("visitors %v, both above %v", got, first)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	sb := newSandbox(t, token)
	env := sb.build(t, `{site_id: shop.example}`, spring+`
  - name: summer
    utm_parameter: utm_campaign
    creators:
      - name: erin
`)
	env.AssertPlan(t, "plausible", 2, "for 4 creators")
}

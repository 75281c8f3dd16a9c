package jsonapi

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/jsonapi/jsonfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// perCreatorOptions requests each creator's stats.
const perCreatorOptions = `      url: /v2/affiliates/{campaign}/partners/{creator}/stats
      items: data
      creator: {map: {alice_ig: alice, dan_tt: dan}}` + values

// TestMissingObjects: the config's objects of a creator the network does
// not know are missing with its answer; with referral visitors mapped,
// every configured creator is a site object, and one without an item is
// missing.
func TestMissingObjects(t *testing.T) {
	tests := []struct {
		name, options, creators string
		missing                 []string
		reason                  string
		objects                 map[string]float64
		gaps                    []string
	}{{
		name:     "unknown creator's link and code",
		options:  perCreatorOptions,
		creators: "      - name: frank\n        links:\n          - {collector: aff, id: aff.example/frank}\n        codes:\n          - {collector: aff, code: FRANK}\n",
		missing:  []string{"missing code summer/frank/FRANK", "missing link summer/frank/aff.example/frank"},
		reason:   `json affnet: stats of creator "frank": GET`,
		objects:  map[string]float64{"link missing": 1, "code missing": 1},
		gaps:     []string{"missing code summer/frank/FRANK", "missing link summer/frank/aff.example/frank"},
	}, {
		name: "creator without visitors",
		options: `      url: /v2/affiliates/{campaign}/stats
      pagination: {type: link}
      items: data
      creator: {path: partner.handle, map: {alice_ig: alice, dan_tt: dan}}
      values:
        - {metric: influencer_referral_visitors_total, path: stats.clicks, labels: {source: "=affnet"}}`,
		creators: "      - name: gus\n",
		missing:  nil,
		objects:  map[string]float64{"site exported": 5, "site missing": 1},
		// Not in the network's answer: the scheduler says so.
		gaps: []string{"missing site summer/gus/affnet"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, jsonfake.Auth{Type: "bearer"}, token)
			cfg := strings.Replace(config(f.url, token, tt.options), "      - name: carol\n", "      - name: carol\n"+tt.creators, 1)
			env := exportertest.Build(t, cfg)
			_, err := env.Poll(t, "aff")
			if tt.missing != nil {
				exportertest.AssertObjectKeys(t, err, tt.missing...)
				var oe *exporter.ObjectError
				if !errors.As(err, &oe) || oe.Skipped || !errors.Is(err, exporter.ErrNotFound) || !strings.HasPrefix(oe.Error(), tt.reason) ||
					!strings.Contains(oe.Error(), `HTTP 404: not_found: partner "frank" not found`) {
					t.Errorf("object error %v, want %q", oe, tt.reason)
				}
			} else if err != nil {
				t.Fatalf("poll: %v", err)
			}

			cache := exporter.NewCache()
			(&exporter.Scheduler{Cache: cache}).Refresh(t.Context(), env.Instance(t, "aff"))
			exportertest.AssertObjects(t, cache, "aff", tt.objects)
			gaps, reasons := exportertest.GapKeys(t, cache, "aff")
			if !reflect.DeepEqual(gaps, tt.gaps) {
				t.Errorf("gaps %v, want %v", gaps, tt.gaps)
			}
			for _, g := range gaps {
				if strings.Contains(g, "frank") && !strings.Contains(reasons[g], `partner "frank" not found`) {
					t.Errorf("gap %s: reason %q", g, reasons[g])
				}
			}
		})
	}
}

// TestResumeWhenOutOfTime: refreshes whose time runs out after three of
// five creators report those three, keep the others' last values
// (skipped) and request them first next time: every creator's clicks
// advance over two such refreshes.
func TestResumeWhenOutOfTime(t *testing.T) {
	clock := exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	fake := jsonfake.New(token, clock.Now)
	for i, p := range []struct{ campaign, handle, link string }{
		{"spring", "alice_ig", "aff.example/alice"}, {"spring", "bob", "aff.example/bob"}, {"spring", "dan_tt", "aff.example/dan"},
		{"spring", "erin", "aff.example/erin"}, {"summer", "carol", "aff.example/carol"},
	} {
		fake.AddPartner(jsonfake.Partner{Campaign: p.campaign, Handle: p.handle, ShortURL: p.link, Coupon: strings.ToUpper(p.handle),
			Clicks: fakeapi.Growth{Base: 10, PerMinute: float64(i + 1)}})
	}
	cut := exportertest.NewCutoff(fake)
	env := exportertest.Build(t, config(exportertest.Serve(t, cut), token, perCreatorOptions))
	cache := exporter.NewCache()
	clicks := func() map[string]float64 { return exportertest.CachedValues(t, cache, exporter.LinkClicks, "creator") }
	env.RefreshWithin(t, cache, "aff", cut, -1)
	first := clicks()

	for i, skipped := range [][]string{{"carol", "erin"}, {"bob", "dan"}} {
		clock.Advance(time.Minute)
		env.RefreshWithin(t, cache, "aff", cut, 3)
		var want []string
		for _, c := range skipped {
			campaign := "spring"
			if c == "carol" {
				campaign = "summer"
			}
			code := map[string]string{"bob": "BOB", "carol": "CAROL", "dan": "DAN_TT", "erin": "ERIN"}[c]
			want = append(want, fmt.Sprintf("skipped code %s/%s/%s", campaign, c, code), fmt.Sprintf("skipped link %s/%s/aff.example/%s", campaign, c, c))
		}
		slices.Sort(want)
		exportertest.AssertSkippedGaps(t, cache, "aff", fmt.Sprintf("refresh %d", i+2), want)
		got := clicks()
		for _, c := range skipped {
			if i == 0 && got[c] != first[c] {
				t.Errorf("refresh 2: %s shows %g, want the last value %g", c, got[c], first[c])
			}
		}
	}
	got := clicks()
	for c, v := range first {
		if got[c] <= v {
			t.Errorf("%s: %g clicks after two refreshes, want above %g", c, got[c], v)
		}
	}
}

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		name, options string
		calls         int
	}{
		{"per campaign", perCampaign("{type: link}", "{type: bearer}"), 2},
		{"per creator", perCreatorOptions, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := exportertest.Build(t, config("http://127.0.0.1:1", token, tc.options))
			env.AssertPlan(t, "aff", tc.calls, "1 page each")
		})
	}
}

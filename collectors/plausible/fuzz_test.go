package plausible_test

import (
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/plausible"
	"github.com/influencer-exporter/influencer_exporter/collectors/plausible/plausiblefake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
	"github.com/influencer-exporter/influencer_exporter/internal/fuzzci"
)

// FuzzPoll answers one Plausible Stats API query of a refresh with the
// fuzz input: see fuzzci.FuzzPoll.
func FuzzPoll(f *testing.F) {
	clock := exportertest.NewManualClock(fakeStart)
	fake := plausiblefake.New(token, clock.Now)
	clock.Advance(2 * time.Hour)
	fake.AddTraffic("utm_content", "alice", "instagram", fakeapi.Growth{Base: 1000, PerMinute: 2})
	fake.AddTraffic("utm_content", "alice", "", fakeapi.Growth{PerMinute: 0.1})
	fake.AddTraffic("utm_content", "bob-yt", "youtube", fakeapi.Growth{PerMinute: 1})
	fake.AddTraffic("utm_campaign", "summer-erin", "instagram", fakeapi.Growth{Base: 5, PerMinute: 1})
	fuzzci.FuzzPoll(f, fuzzci.Provider{
		Collector: "plausible",
		Fake:      fake,
		Config: func(url string) string {
			return configAt(url, `{site_id: shop.example}`, spring+`
  - name: summer
    utm_parameter: utm_campaign
    creators:
      - name: erin
        utm: summer-erin
`)
		},
		Prepare: func(c exporter.Collector) { plausible.SetClock(c, clock.Now) },
		Secrets: []string{token},
	})
}

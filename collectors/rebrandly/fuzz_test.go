package rebrandly

import (
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/rebrandly/rebrandlyfake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/internal/fuzzci"
)

// FuzzPoll answers one Rebrandly call of a refresh (a link listing, a
// link) with the fuzz input: see fuzzci.FuzzPoll.
func FuzzPoll(f *testing.F) {
	clock := exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	fake := rebrandlyfake.New(apiKey, clock.Now)
	for _, l := range []rebrandlyfake.Link{
		link("rebrand.ly/alice1", 100, 2),
		link("rebrand.ly/alice2", 7, 0, "carol"),
		link("go.brand.example/bob", 50, 0.5),
		link("rebrand.ly/carol-ig", 30, 0, "carol"),
		link("go.brand.example/carol-tt", 0, 0, "tiktok", "carol"),
	} {
		fake.AddLink(l)
	}
	fake.SetWorkspace("ws42")
	clock.Advance(30 * time.Minute)
	fuzzci.FuzzPoll(f, fuzzci.Provider{
		Collector: Provider,
		Fake:      fake,
		Config: func(url string) string {
			return exportertest.OneCollectorConfig(Provider, url+"/v1", apiKey, `{workspace: ws42}`,
				exportertest.CreatorLinks("alice", Provider, "rebrand.ly/alice1", "rebrand.ly/alice2", "rebrand.ly/gone")+
					exportertest.CreatorTags("carol", Provider, "carol"))
		},
		Secrets: []string{apiKey},
	})
}

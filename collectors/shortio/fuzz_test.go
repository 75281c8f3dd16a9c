package shortio

import (
	"fmt"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/shortio/shortiofake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/internal/fuzzci"
)

// FuzzPoll answers one Short.io call of a refresh (a link listing, a
// link's statistics) with the fuzz input: see fuzzci.FuzzPoll.
func FuzzPoll(f *testing.F) {
	clock := exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	fake := shortiofake.New(token, clock.Now)
	for _, l := range []shortiofake.Link{
		link("alice1", 100, 2),
		link("alice2", 7, 0, "carol"),
		link("bob", 50, 0.5),
		link("carol-ig", 30, 0, "carol"),
		link("carol-tt", 0, 0, "tiktok", "carol"),
	} {
		fake.AddLink(l)
	}
	clock.Advance(30 * time.Minute)
	fuzzci.FuzzPoll(f, fuzzci.Provider{
		Collector: Provider,
		Fake:      fake,
		Config: func(url string) string {
			opts := fmt.Sprintf("{statistics_base_url: %s, domain_id: %d}", url, fake.DomainID("short.gy"))
			return exportertest.OneCollectorConfig(Provider, url, token, opts,
				exportertest.CreatorLinks("alice", Provider, "short.gy/alice1", "short.gy/alice2", "short.gy/bob")+
					exportertest.CreatorTags("carol", Provider, "carol"))
		},
		Secrets: []string{token},
	})
}

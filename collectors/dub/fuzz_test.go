package dub_test

import (
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/dub/dubfake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/internal/fuzzci"
)

// FuzzPoll answers one Dub call of a refresh (a link listing, the clicks
// grouped by link, a link's clicks) with the fuzz input: see
// fuzzci.FuzzPoll.
func FuzzPoll(f *testing.F) {
	clock := exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	fake := dubfake.New(token, clock.Now)
	clock.Advance(10 * time.Minute)
	for _, l := range []dubfake.Link{
		link("dub.sh/alice", 100, 3),
		link("go.example/alice/tiktok", 7, 0),
		link("dub.sh/bob", 0, 0),
		link("dub.sh/carol1", 40, 0, "carol"),
		link("dub.sh/carol2", 0, 0, "Carol"),
	} {
		fake.AddLink(l)
	}
	fuzzci.FuzzPoll(f, fuzzci.Provider{
		Collector: "dub",
		Fake:      fake,
		Config: func(url string) string {
			return exportertest.OneCollectorConfig("dub", url, token, `{}`,
				alice("dub.sh/alice", "go.example/alice/tiktok", "dub.sh/bob")+exportertest.CreatorTags("carol", "dub", "CAROL"))
		},
		Secrets: []string{token},
	})
}

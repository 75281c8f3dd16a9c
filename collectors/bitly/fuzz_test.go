package bitly_test

import (
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/bitly/bitlyfake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/internal/fuzzci"
)

// FuzzPoll answers one Bitly call of a refresh (the user, the tag
// listing, the most clicked links, a clicks summary, a link) with the
// fuzz input: see fuzzci.FuzzPoll.
func FuzzPoll(f *testing.F) {
	clock := exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	fake := bitlyfake.New(token, clock.Now)
	clock.Advance(10 * time.Minute)
	for _, l := range []bitlyfake.Link{
		link("bit.ly/alice1", 100, 3),
		link("bit.ly/alice2", 7, 0),
		link("bit.ly/carol1", 40, 0, "carol"),
		link("bit.ly/carol2", 2, 1, "carol"),
	} {
		fake.AddLink(l)
	}
	fuzzci.FuzzPoll(f, fuzzci.Provider{
		Collector: "bitly",
		Fake:      fake,
		Config: func(url string) string {
			// top_links 1: the other links cost a clicks summary each.
			return exportertest.OneCollectorConfig("bitly", url+"/v4", token, `{top_links: 1}`,
				alice("bit.ly/alice1", "bit.ly/alice2", "bit.ly/gone")+exportertest.CreatorTags("carol", "bitly", "carol"))
		},
		Secrets: []string{token},
	})
}

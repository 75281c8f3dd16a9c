package instagram

import (
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/instagram/instagramfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/internal/fuzzci"
)

// FuzzPoll answers one Graph API call of a refresh (debug_token, an
// account's media listing, a batch of fields or insights) with the fuzz
// input: see fuzzci.FuzzPoll.
func FuzzPoll(f *testing.F) {
	clock := exportertest.NewManualClock(t0)
	fake := instagramfake.New(token, clock.Now)
	seed(fake)
	fake.SetTokenExpiry(t0.Add(50 * 24 * time.Hour))
	sb := &sandbox{fake: fake, clock: clock}
	fuzzci.FuzzPoll(f, fuzzci.Provider{
		Collector: "instagram",
		Fake:      fake,
		Config: func(url string) string {
			sb.url = url + "/v26.0"
			return sb.config(`{}`, seedCreators)
		},
		Prepare: func(c exporter.Collector) { c.(*collector).now = clock.Now },
		Secrets: []string{token},
	})
}

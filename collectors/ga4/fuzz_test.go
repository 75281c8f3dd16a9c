package ga4_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/ga4"
	"github.com/influencer-exporter/influencer_exporter/collectors/ga4/ga4fake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/internal/fuzzci"
)

// FuzzPoll answers one GA4 call of a refresh (the service account's token
// exchange, a runReport) with the fuzz input: see fuzzci.FuzzPoll.
func FuzzPoll(f *testing.F) {
	clock := exportertest.NewManualClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	fake := ga4fake.New(property, clock.Now)
	sb := &sandbox{fake: fake, clock: clock}
	sb.traffic()
	secrets := []string{"ya29.", "PRIVATE KEY"}
	if lines := strings.Split(string(fake.ServiceAccountJSON("")), `\n`); len(lines) > 2 {
		secrets = append(secrets, lines[1]) // a line of the private key
	}
	fuzzci.FuzzPoll(f, fuzzci.Provider{
		Collector: "ga4",
		Fake:      fake,
		Config: func(url string) string {
			// The key names the fake's token endpoint: made once the
			// fake knows its URL.
			key := fake.ServiceAccountJSON("")
			file := filepath.Join(f.TempDir(), "ga4-key.json")
			if err := os.WriteFile(file, key, 0o600); err != nil {
				f.Fatal(err)
			}
			return fmt.Sprintf(`
collectors:
  - type: ga4
    base_url: %s
    token_file: %s
    http: {max_retries: 2, min_retry_wait: 1ms, max_retry_wait: 5ms, rate_limit: 1000}
    options: {%sproperty: %q}
%s`, url, file, testSources, property, campaigns)
		},
		Prepare: func(c exporter.Collector) { ga4.SetClock(c, clock.Now) },
		Secrets: secrets,
	})
}

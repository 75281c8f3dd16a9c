package exporter

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// steeringBenchConfig returns a config of campaigns of 1,000 creators
// each, creators in all, each campaign with a morning and an evening
// checkpoint. With fees, every creator has one: a third a flat amount with
// a budget, a third a per-post amount, a third both with a budget.
func steeringBenchConfig(b *testing.B, creators int, fees bool) *Config {
	b.Helper()
	cfg := &Config{}
	for i := 0; i < creators; i++ {
		if i%1000 == 0 {
			cp := &Checkpoints{At: []string{"09:00", "18:00"}, TimeZone: "Europe/Paris"}
			cfg.validateCheckpoints(cp, "checkpoints", func(p, f string, a ...any) { b.Fatalf("%s: "+f, append([]any{p}, a...)...) })
			cfg.Campaigns = append(cfg.Campaigns, &Campaign{Name: fmt.Sprintf("camp-%d", i/1000), Checkpoints: cp})
		}
		camp := cfg.Campaigns[len(cfg.Campaigns)-1]
		cr := &Creator{Name: fmt.Sprintf("creator-%d", i)}
		if fees {
			switch i % 3 {
			case 0:
				cr.Fee = &Fee{Amount: 1000, Currency: "EUR", Budget: 3000}
			case 1:
				cr.Fee = &Fee{PerPost: 250, Currency: "USD"}
			case 2:
				cr.Fee = &Fee{Amount: 500, PerPost: 100, Currency: "EUR", Budget: 2000}
			}
		}
		camp.Creators = append(camp.Creators, cr)
	}
	return cfg
}

// BenchmarkSteeringCollect measures one scrape of the fees, budgets and
// checkpoints: with a large config whose creators have no fee, which
// exports only the checkpoints, and with a config whose creators all have
// fees, per-post fees counting the posts of a snapshot holding two posts
// of each creator, one published and one scheduled.
func BenchmarkSteeringCollect(b *testing.B) {
	now := time.Date(2026, 3, 29, 12, 0, 0, 0, time.UTC)
	for _, bc := range []struct {
		creators int
		fees     bool
	}{
		{100_000, false},
		{10_000, true},
	} {
		b.Run(fmt.Sprintf("creators=%d/fees=%t", bc.creators, bc.fees), func(b *testing.B) {
			cfg := steeringBenchConfig(b, bc.creators, bc.fees)
			cache := NewCache()
			if bc.fees {
				var samples []Sample
				for _, camp := range cfg.Campaigns {
					for _, cr := range camp.Creators {
						id := "p-" + cr.Name
						samples = append(samples,
							PostPublished.Sample(float64(now.Add(-time.Hour).Unix()), camp.Name, cr.Name, "instagram", id+"-a"),
							PostPublished.Sample(float64(now.Add(time.Hour).Unix()), camp.Name, cr.Name, "instagram", id+"-b"),
						)
					}
				}
				if err := cache.store("instagram", "instagram", samples); err != nil {
					b.Fatal(err)
				}
			}
			m := NewSteeringMetrics(func() *Config { return cfg }, cache, func() time.Time { return now })
			ch := make(chan prometheus.Metric, 3*bc.creators)
			// The first scrape of a config works out what the config
			// alone sets; the figures are those of the scrapes after it.
			m.Collect(ch)
			for len(ch) > 0 {
				<-ch
			}
			series := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m.Collect(ch)
				series = len(ch)
				for len(ch) > 0 {
					<-ch
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(series), "series/op")
		})
	}
}

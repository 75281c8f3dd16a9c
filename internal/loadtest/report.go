package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// The targets the run checks.
const (
	targetP99Ratio       = 1.5
	targetPeakRatio      = 1.3
	targetBytesPerSeries = 1024
)

// Report is what a run measured. Durations are in seconds, scrape times
// in milliseconds, memory in bytes.
type Report struct {
	SeriesConfigured int      `json:"series_configured"`
	SeriesSeen       int      `json:"series_seen"`
	Partners         int      `json:"partners"`
	PagesPerRefresh  int      `json:"pages_per_refresh"`
	Interval         float64  `json:"interval_seconds"`
	Latency          float64  `json:"provider_latency_seconds"`
	ChildEnv         []string `json:"child_env,omitempty"`
	ChildArgs        []string `json:"child_args,omitempty"`
	// Busy is how many processes kept CPUs busy beside the exporter.
	Busy int `json:"busy_processes,omitempty"`
	// TCPCongestion is the machine's default TCP congestion control.
	TCPCongestion string `json:"tcp_congestion_control,omitempty"`
	// ProviderNice is how many nice steps below this process the fake
	// provider was served, and ProviderLoweredConns on how many
	// connections.
	ProviderNice         int   `json:"provider_nice"`
	ProviderLoweredConns int64 `json:"provider_lowered_connections,omitempty"`
	// ScrapeRate is the scrapes started a second, 0 back to back.
	ScrapeRate float64 `json:"scrape_rate,omitempty"`
	// Cgroup is the directory of the exporter's CPU cgroup of its own.
	Cgroup string `json:"cgroup,omitempty"`

	ContentType   string `json:"content_type"`
	BodyBytes     int64  `json:"body_bytes"`
	BodyGzipBytes int64  `json:"body_gzip_bytes"`

	// LoadAverage is the machine's one-minute load average at the
	// start of the measured run and at its end.
	LoadAverage [2]float64 `json:"load_average_1m"`

	ColdStart float64 `json:"cold_start_seconds"`
	// FirstRequest is when the provider saw the first request, from the
	// process's start: loading the config and starting up.
	FirstRequest float64         `json:"first_request_seconds"`
	Refreshes    []RefreshReport `json:"refreshes"`
	// ProviderMisses counts requests the provider could not replay.
	ProviderMisses int `json:"provider_misses"`

	Idle   ScrapeStats `json:"scrapes_idle"`
	During ScrapeStats `json:"scrapes_during_refresh"`
	// AfterFetch are the scrapes during refreshes that overlapped the
	// time from a refresh's last provider answer to its end: the
	// collector mapping the items and the cache storing the snapshot,
	// without the wait for the provider.
	AfterFetch ScrapeStats `json:"scrapes_after_fetch"`
	// Around are the scrapes within aroundRefresh of a refresh, before,
	// during or after it, and FarIdle the others: a refresh's cost that
	// falls just outside its window (a garbage collection it started)
	// shows in their ratio.
	Around   ScrapeStats `json:"scrapes_around_refresh"`
	FarIdle  ScrapeStats `json:"scrapes_far_from_refresh"`
	P99Ratio float64     `json:"p99_ratio"`
	// P99RatioLow and P99RatioHigh are the 5th and 95th percentiles of
	// the ratio over runs resampled from this one's refresh windows and
	// idle gaps (see ratioInterval): where another run of the same code
	// may land. Zero with fewer than two watched refreshes.
	P99RatioLow  float64 `json:"p99_ratio_5th_percentile,omitempty"`
	P99RatioHigh float64 `json:"p99_ratio_95th_percentile,omitempty"`
	ScrapeErrors int     `json:"scrape_errors"`

	BaselineRSS int64 `json:"baseline_rss_bytes,omitempty"`
	IdleRSS     int64 `json:"idle_rss_bytes"`
	// IdleRSSPerSeries is the idle RSS over the series;
	// IdleRSSPerSeriesOverBaseline takes the baseline off first.
	IdleRSSPerSeries             float64 `json:"idle_rss_per_series_bytes"`
	IdleRSSPerSeriesOverBaseline float64 `json:"idle_rss_per_series_over_baseline_bytes,omitempty"`
	// BetweenRSS is the median RSS sampled between the watched
	// refreshes, after the first: what the exporter settles at once
	// its refreshes have run (what it keeps for the next refresh
	// included), where IdleRSS is before the first watched one.
	BetweenRSS          int64   `json:"between_rss_bytes,omitempty"`
	BetweenRSSPerSeries float64 `json:"between_rss_per_series_bytes,omitempty"`
	IdlePeak            int64   `json:"idle_peak_rss_bytes"`
	RefreshPeak         int64   `json:"refresh_peak_rss_bytes"`
	IdlePeakRatio       float64 `json:"idle_peak_ratio"`
	PeakRatio           float64 `json:"refresh_peak_ratio"`
	// PeakOverBetween is the refresh peak over the RSS between
	// refreshes: the idle the exporter settles at, where PeakRatio is
	// over the RSS of the idle phase, measured before it has.
	PeakOverBetween float64 `json:"refresh_peak_over_between_rss,omitempty"`

	// The exporter's garbage collections per second, idle and during
	// refreshes, and its heap goal (go_memstats_next_gc_bytes): the
	// median idle and the largest during refreshes. With GOGC=100 the
	// goal is twice the heap live after the last collection.
	GCIdle             float64 `json:"gc_per_second_idle"`
	GCRefresh          float64 `json:"gc_per_second_during_refresh"`
	HeapGoalIdle       int64   `json:"heap_goal_idle_bytes"`
	HeapGoalRefreshMax int64   `json:"heap_goal_refresh_max_bytes"`

	ProfileDir string `json:"profile_dir,omitempty"`
}

// RefreshReport is one refresh, the first being the cold start's.
type RefreshReport struct {
	// Duration runs from the provider's first request of the refresh to
	// the first status poll that showed its new last-success timestamp.
	Duration float64 `json:"duration_seconds"`
	// Fetch runs from the first request to the last answer.
	Fetch float64 `json:"fetch_seconds"`
	// Exporter is influencer_collector_refresh_duration_seconds: the
	// collector's poll, without storing the snapshot.
	Exporter float64 `json:"exporter_duration_seconds"`
	Requests int     `json:"requests"`
	// Complete is false when the refresh read fewer pages than the
	// listing has: cut short by its interval.
	Complete bool `json:"complete"`
	// MaxRSS is the highest RSS sampled during the refresh.
	MaxRSS int64 `json:"max_rss_sampled_bytes"`
}

// ScrapeStats summarises scrape durations.
type ScrapeStats struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// stats summarises ds, which it sorts.
func stats(ds []time.Duration) ScrapeStats {
	if len(ds) == 0 {
		return ScrapeStats{}
	}
	slices.Sort(ds)
	return ScrapeStats{Count: len(ds), P50: ms(quantile(ds, 0.5)), P99: ms(quantile(ds, 0.99)), Max: ms(ds[len(ds)-1])}
}

// quantile is the nearest-rank q-quantile of sorted ds.
func quantile[T any](sorted []T, q float64) T {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "series: %d configured (%d partners, %d pages a refresh), %d seen on /metrics\n",
		r.SeriesConfigured, r.Partners, r.PagesPerRefresh, r.SeriesSeen)
	fmt.Fprintf(&b, "refresh interval: %gs, provider latency: %gs", r.Interval, r.Latency)
	if r.ProviderNice > 0 {
		fmt.Fprintf(&b, ", provider served %d nice steps below the load test (%d connections)", r.ProviderNice, r.ProviderLoweredConns)
	} else {
		b.WriteString(", provider served at the load test's priority")
	}
	if len(r.ChildEnv) > 0 || len(r.ChildArgs) > 0 {
		fmt.Fprintf(&b, ", exporter env %q args %q", r.ChildEnv, r.ChildArgs)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "body: %d bytes, %d gzipped (%.1f B a series), %s\n",
		r.BodyBytes, r.BodyGzipBytes, ratio(float64(r.BodyGzipBytes), float64(r.SeriesSeen)), r.ContentType)
	if r.ScrapeRate > 0 {
		fmt.Fprintf(&b, "scrapes: %g a second", r.ScrapeRate)
	} else {
		b.WriteString("scrapes: back to back")
	}
	if r.TCPCongestion != "" {
		fmt.Fprintf(&b, ", TCP congestion control %s", r.TCPCongestion)
	}
	b.WriteString("\n")
	if r.Busy > 0 {
		fmt.Fprintf(&b, "%d processes kept CPUs busy from the idle phase on\n", r.Busy)
	}
	if r.Cgroup != "" {
		fmt.Fprintf(&b, "exporter in a CPU cgroup of its own: %s\n", r.Cgroup)
	}
	fmt.Fprintf(&b, "machine load average (1m): %.1f at the start, %.1f at the end\n", r.LoadAverage[0], r.LoadAverage[1])
	fmt.Fprintf(&b, "cold start: %.2fs to the first complete snapshot, the first provider request after %.2fs\n", r.ColdStart, r.FirstRequest)
	for i, f := range r.Refreshes {
		name := fmt.Sprintf("refresh %d", i)
		if i == 0 {
			name = "refresh 0 (cold)"
		}
		fmt.Fprintf(&b, "%s: %.2fs to visible (fetch %.2fs, collector %.2fs), %d requests", name, f.Duration, f.Fetch, f.Exporter, f.Requests)
		if f.MaxRSS > 0 {
			fmt.Fprintf(&b, ", max RSS sampled %s", mib(f.MaxRSS))
		}
		if !f.Complete {
			b.WriteString(", CUT SHORT")
		}
		b.WriteString("\n")
	}
	if r.ProviderMisses > 0 {
		fmt.Fprintf(&b, "provider: %d requests answered by the fake itself, not replayed\n", r.ProviderMisses)
	}
	fmt.Fprintf(&b, "scrapes idle:    %6d  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n", r.Idle.Count, r.Idle.P50, r.Idle.P99, r.Idle.Max)
	fmt.Fprintf(&b, "scrapes refresh: %6d  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n", r.During.Count, r.During.P50, r.During.P99, r.During.Max)
	fmt.Fprintf(&b, "  after fetch:   %6d  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  (%.2fx idle p99)\n",
		r.AfterFetch.Count, r.AfterFetch.P50, r.AfterFetch.P99, r.AfterFetch.Max, ratio(r.AfterFetch.P99, r.Idle.P99))
	fmt.Fprintf(&b, "  within %v:     %6d  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  (%.2fx the p99 of the %d scrapes further away)\n",
		aroundRefresh, r.Around.Count, r.Around.P50, r.Around.P99, r.Around.Max, ratio(r.Around.P99, r.FarIdle.P99), r.FarIdle.Count)
	fmt.Fprintf(&b, "p99 during refresh / idle: %.2f (target <= %.1f: %s)\n", r.P99Ratio, targetP99Ratio, verdict(r.P99Ratio <= targetP99Ratio))
	if r.P99RatioHigh > 0 {
		fmt.Fprintf(&b, "  90%% of runs resampled from this one's refreshes and idle gaps: %.2f-%.2f\n", r.P99RatioLow, r.P99RatioHigh)
	}
	if r.ScrapeErrors > 0 {
		fmt.Fprintf(&b, "scrape errors: %d\n", r.ScrapeErrors)
	}
	if r.BaselineRSS > 0 {
		fmt.Fprintf(&b, "baseline RSS (one series' config, idle): %s\n", mib(r.BaselineRSS))
	}
	fmt.Fprintf(&b, "idle RSS (median): %s, %.0f B a series (target <= %d: %s)", mib(r.IdleRSS), r.IdleRSSPerSeries,
		targetBytesPerSeries, verdict(r.IdleRSSPerSeries <= targetBytesPerSeries))
	if r.BaselineRSS > 0 {
		fmt.Fprintf(&b, ", %.0f B a series over the baseline", r.IdleRSSPerSeriesOverBaseline)
	}
	b.WriteString("\n")
	if r.BetweenRSS > 0 {
		fmt.Fprintf(&b, "RSS between refreshes (median, from the first watched one on): %s, %.0f B a series (target <= %d: %s)\n",
			mib(r.BetweenRSS), r.BetweenRSSPerSeries, targetBytesPerSeries, verdict(r.BetweenRSSPerSeries <= targetBytesPerSeries))
	}
	fmt.Fprintf(&b, "idle peak RSS: %s (%.2fx idle)\n", mib(r.IdlePeak), r.IdlePeakRatio)
	fmt.Fprintf(&b, "refresh peak RSS: %s (%.2fx idle; target <= %.1f: %s)", mib(r.RefreshPeak), r.PeakRatio,
		targetPeakRatio, verdict(r.PeakRatio <= targetPeakRatio))
	if r.PeakOverBetween > 0 {
		fmt.Fprintf(&b, ", %.2fx the RSS between refreshes (%s)", r.PeakOverBetween, verdict(r.PeakOverBetween <= targetPeakRatio))
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "GC: %.2f collections/s idle, %.2f/s during refreshes; heap goal %s idle (median), %s at most during refreshes\n",
		r.GCIdle, r.GCRefresh, mib(r.HeapGoalIdle), mib(r.HeapGoalRefreshMax))
	if r.ProfileDir != "" {
		fmt.Fprintf(&b, "profiles: %s\n", r.ProfileDir)
	}
	_, _ = io.WriteString(w, b.String())
}

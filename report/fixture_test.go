package report

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"
)

// The fixture is a day and a half of one exporter's series, as Prometheus
// would have scraped them every minute, written as OpenMetrics for promtool
// to backfill. Samples fall at hh:mm:30, minute m being t0 + m minutes, so
// no sample sits on a checkpoint or a window boundary.
//
// Checkpoints (UTC): 2025-06-01 09:00, 2025-06-01 18:00, 2025-06-02 09:00,
// 2025-06-02 18:00. The checkpoint read of 18:00 covers 09:00 to 18:00
// (minutes 960 to 1499: its readings are those of minute 1499, its
// baselines those of minute 959) and the previous read 06-01 18:00 to 09:00
// (baselines of minute 59).
var t0 = time.Date(2025, 6, 1, 17, 0, 30, 0, time.UTC)

const (
	mPrevStart = 59   // last sample before 2025-06-01T18:00
	mStart     = 959  // last sample before 2025-06-02T09:00
	mEnd       = 1499 // last sample before 2025-06-02T18:00
	mLast      = 1590 // 2025-06-02T19:30:30, the last sample
)

var (
	checkpointRead = time.Date(2025, 6, 2, 18, 0, 0, 0, time.UTC)
	interimRead    = time.Date(2025, 6, 2, 19, 30, 0, 0, time.UTC)
)

type fixtureSeries struct {
	name     string
	labels   string
	from, to int // minutes present, to included
	value    func(m int) float64
}

// points interpolates linearly between (minute, value) pairs, floored: the
// integer counts of a counter or gauge that read exactly the given values
// at the given minutes.
func points(p ...float64) func(int) float64 {
	return func(m int) float64 {
		x := float64(m)
		if x <= p[0] {
			return p[1]
		}
		for i := 2; i < len(p); i += 2 {
			if x <= p[i] {
				x0, y0, x1, y1 := p[i-2], p[i-1], p[i], p[i+1]
				return math.Floor(y0 + (y1-y0)*(x-x0)/(x1-x0))
			}
		}
		return p[len(p)-1]
	}
}

func constant(v float64) func(int) float64 { return func(int) float64 { return v } }

// upExcept is a link probe's verdict: 1, but 0 on the minutes [from, to).
func upExcept(down ...[2]int) func(int) float64 {
	return func(m int) float64 {
		for _, d := range down {
			if m >= d[0] && m < d[1] {
				return 0
			}
		}
		return 1
	}
}

// checkpoint is influencer_campaign_checkpoint_timestamp_seconds: the last
// checkpoint passed at the sample's time.
func checkpoint(m int) float64 {
	at := t0.Add(time.Duration(m) * time.Minute)
	last := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	for _, c := range []time.Time{
		time.Date(2025, 6, 1, 18, 0, 0, 0, time.UTC),
		time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC),
		time.Date(2025, 6, 2, 18, 0, 0, 0, time.UTC),
	} {
		if !at.Before(c) {
			last = c
		}
	}
	return float64(last.Unix())
}

func lbl(campaign, creator string, kv ...string) string {
	s := fmt.Sprintf(`job="influencer",instance="exporter:10194",campaign=%q,creator=%q`, campaign, creator)
	for i := 0; i < len(kv); i += 2 {
		s += fmt.Sprintf(",%s=%q", kv[i], kv[i+1])
	}
	return s
}

func all(name, labels string, v func(int) float64) fixtureSeries {
	return fixtureSeries{name: name, labels: labels, from: 0, to: mLast, value: v}
}

func span(name, labels string, from, to int, v func(int) float64) fixtureSeries {
	return fixtureSeries{name: name, labels: labels, from: from, to: to, value: v}
}

// alert is an ALERTS series of a firing (or pending) alert.
func alert(name, state string, from, to int, labels string) fixtureSeries {
	return span("ALERTS", fmt.Sprintf("alertname=%q,alertstate=%q,", name, state)+labels, from, to, constant(1))
}

// fixture: the figures each creator is built to show are in the
// expectations of TestCheckpointRead.
func fixture() []fixtureSeries {
	const sl = "spring-launch"
	var s []fixtureSeries
	add := func(f ...fixtureSeries) { s = append(s, f...) }

	add(span("influencer_campaign_checkpoint_timestamp_seconds",
		`job="influencer",instance="exporter:10194",campaign="spring-launch"`, 0, mLast, checkpoint))

	// alice: EUR fee with a budget; two analytics providers seeing
	// the same visitors.
	add(
		all("influencer_creator_fee", lbl(sl, "alice", "currency", "EUR"), constant(1500)),
		all("influencer_creator_budget", lbl(sl, "alice", "currency", "EUR"), constant(3000)),
		all("influencer_link_clicks_total", lbl(sl, "alice", "provider", "bitly", "link", "bit.ly/alice-spring"),
			points(0, 1000, mPrevStart, 1020, mStart, 1920, mEnd, 3000, mLast, 3100)),
		all("influencer_link_up", lbl(sl, "alice", "provider", "bitly", "link", "bit.ly/alice-spring"), upExcept()),
		all("influencer_code_redemptions_total", lbl(sl, "alice", "provider", "shopify", "code", "ALICE10"),
			points(mPrevStart, 0, mStart, 10, mEnd, 30, mLast, 31)),
		all("influencer_code_revenue_total", lbl(sl, "alice", "provider", "shopify", "code", "ALICE10", "currency", "EUR"),
			points(mPrevStart, 0, mStart, 500, mEnd, 2000, mLast, 2100)),
		all("influencer_code_refunded_revenue_total", lbl(sl, "alice", "provider", "shopify", "code", "ALICE10", "currency", "EUR"),
			points(mStart, 0, mEnd, 100)),
		all("influencer_referral_visitors_total", lbl(sl, "alice", "provider", "plausible", "source", "instagram"),
			points(mPrevStart, 100, mStart, 700, mEnd, 1500, mLast, 1600)),
		all("influencer_referral_visitors_total", lbl(sl, "alice", "provider", "ga4", "source", "instagram"),
			points(mPrevStart, 50, mStart, 700, mEnd, 1480, mLast, 1560)),
		all("influencer_post_views", lbl(sl, "alice", "provider", "instagram", "post", "17900000000000011"),
			points(mPrevStart, 5000, mStart, 20000, mEnd, 50000, mLast, 52000)),
		all("influencer_post_engagements", lbl(sl, "alice", "provider", "instagram", "post", "17900000000000011", "type", "saves"),
			points(mPrevStart, 100, mStart, 300, mEnd, 600)),
		all("influencer_post_engagements", lbl(sl, "alice", "provider", "instagram", "post", "17900000000000011", "type", "shares"),
			points(mPrevStart, 50, mStart, 100, mEnd, 200)),
		all("influencer_post_engagements", lbl(sl, "alice", "provider", "instagram", "post", "17900000000000011", "type", "likes"),
			points(mPrevStart, 1000, mStart, 5000, mEnd, 9000)),
		all("influencer_account_followers", lbl(sl, "alice", "provider", "instagram", "account", "17841400000000001"),
			points(mPrevStart, 10000, mStart, 10500, mEnd, 11500)),
	)

	// bruno: USD fee, revenue in EUR and USD, a link broken for 17
	// minutes in the window (5 in the previous one), a TikTok post
	// published during the window.
	add(
		all("influencer_creator_fee", lbl(sl, "bruno", "currency", "USD"), constant(600)),
		all("influencer_link_clicks_total", lbl(sl, "bruno", "provider", "dub", "link", "dub.sh/bruno-spring"),
			points(mPrevStart, 0, mStart, 300, mEnd, 500, mLast, 520)),
		all("influencer_link_up", lbl(sl, "bruno", "provider", "dub", "link", "dub.sh/bruno-spring"),
			upExcept([2]int{300, 305}, [2]int{1200, 1217})),
		all("influencer_code_redemptions_total", lbl(sl, "bruno", "provider", "woocommerce", "code", "BRUNO15"),
			points(mPrevStart, 1, mStart, 4, mEnd, 12)),
		all("influencer_code_revenue_total", lbl(sl, "bruno", "provider", "woocommerce", "code", "BRUNO15", "currency", "EUR"),
			points(mStart, 0, mEnd, 80)),
		all("influencer_code_revenue_total", lbl(sl, "bruno", "provider", "stripe", "code", "bruno", "currency", "USD"),
			points(mPrevStart, 0, mStart, 200, mEnd, 900)),
		span("influencer_post_views", lbl(sl, "bruno", "provider", "tiktok", "post", "7400000000000000002"), 1000, mLast,
			points(1000, 1000, mEnd, 9000, mLast, 9500)),
		span("influencer_post_engagements", lbl(sl, "bruno", "provider", "tiktok", "post", "7400000000000000002", "type", "shares"), 1000, mLast,
			points(1000, 2, mEnd, 6)),
	)

	// chloe: no fee; clicks without visits fired in the window (after a
	// pending spell, which is no flag).
	add(
		all("influencer_link_clicks_total", lbl(sl, "chloe", "provider", "shortio", "link", "short.gy/chloe-spring"),
			points(mPrevStart, 100, mStart, 500, mEnd, 1100)),
		all("influencer_link_up", lbl(sl, "chloe", "provider", "shortio", "link", "short.gy/chloe-spring"), upExcept()),
		all("influencer_code_redemptions_total", lbl(sl, "chloe", "provider", "stripe", "code", "chloe"),
			points(mPrevStart, 0, mStart, 2, mEnd, 5)),
		all("influencer_code_revenue_total", lbl(sl, "chloe", "provider", "stripe", "code", "chloe", "currency", "EUR"),
			points(mPrevStart, 0, mStart, 100, mEnd, 250)),
		all("influencer_code_refunded_revenue_total", lbl(sl, "chloe", "provider", "stripe", "code", "chloe", "currency", "EUR"),
			constant(0)),
		all("influencer_referral_visitors_total", lbl(sl, "chloe", "provider", "plausible", "source", "instagram"),
			points(mPrevStart, 0, mStart, 20, mEnd, 30)),
		all("influencer_post_views", lbl(sl, "chloe", "provider", "instagram", "post", "17900000000000031"),
			points(mPrevStart, 1000, mStart, 3000, mEnd, 4000)),
		all("influencer_post_engagements", lbl(sl, "chloe", "provider", "instagram", "post", "17900000000000031", "type", "saves"),
			points(mPrevStart, 10, mStart, 40, mEnd, 60)),
		all("influencer_post_engagements", lbl(sl, "chloe", "provider", "instagram", "post", "17900000000000031", "type", "shares"),
			points(mPrevStart, 5, mStart, 5, mEnd, 10)),
		alert("InfluencerClicksWithoutVisits", "pending", 1280, 1299, lbl(sl, "chloe", "severity", "warning")),
		alert("InfluencerClicksWithoutVisits", "firing", 1300, 1350, lbl(sl, "chloe", "severity", "warning")),
	)

	// dev: EUR fee and budget, no redemption (no cost per redemption), a
	// follower spike in the previous read only.
	add(
		all("influencer_creator_fee", lbl(sl, "dev", "currency", "EUR"), constant(900)),
		all("influencer_creator_budget", lbl(sl, "dev", "currency", "EUR"), constant(1000)),
		all("influencer_link_clicks_total", lbl(sl, "dev", "provider", "rebrandly", "link", "rebrand.ly/dev-spring"),
			points(mPrevStart, 0, mStart, 900, mEnd, 1800)),
		all("influencer_link_up", lbl(sl, "dev", "provider", "rebrandly", "link", "rebrand.ly/dev-spring"), upExcept()),
		all("influencer_code_redemptions_total", lbl(sl, "dev", "provider", "shopify", "code", "DEV"), constant(0)),
		all("influencer_code_revenue_total", lbl(sl, "dev", "provider", "shopify", "code", "DEV", "currency", "EUR"), constant(0)),
		all("influencer_account_followers", lbl(sl, "dev", "provider", "instagram", "account", "17841400000000004"),
			points(mPrevStart, 2000, mStart, 2100, mEnd, 2150)),
		alert("InfluencerFollowerSpike", "firing", 400, 420, lbl(sl, "dev", "provider", "instagram", "account", "17841400000000004", "severity", "info")),
	)

	// emma: EUR fee, cheaper per redemption than alice at the previous
	// read, dearer now; an engagement-rate outlier in the window.
	add(
		all("influencer_creator_fee", lbl(sl, "emma", "currency", "EUR"), constant(800)),
		all("influencer_link_clicks_total", lbl(sl, "emma", "provider", "bitly", "link", "bit.ly/emma-spring"),
			points(mPrevStart, 0, mStart, 100, mEnd, 160)),
		all("influencer_link_up", lbl(sl, "emma", "provider", "bitly", "link", "bit.ly/emma-spring"), upExcept()),
		all("influencer_code_redemptions_total", lbl(sl, "emma", "provider", "shopify", "code", "EMMA"),
			points(mPrevStart, 0, mStart, 8, mEnd, 10)),
		all("influencer_code_revenue_total", lbl(sl, "emma", "provider", "shopify", "code", "EMMA", "currency", "EUR"),
			points(mPrevStart, 0, mStart, 400, mEnd, 500)),
		alert("InfluencerEngagementRateOutlier", "firing", 1000, 1100, lbl(sl, "emma", "direction", "high", "severity", "info")),
	)

	// The early curve: saves+shares at 1h and 3h. At 3h: 40, 6, 25, 80,
	// 15, so p25 15, p50 25, p75 40; at 1h: 14, 2, 10, 40, 6, 3, so p25
	// 3.75, p50 8, p75 13. Likes never count.
	atAge := func(creator, provider, post, age, typ string, from int, v float64) fixtureSeries {
		return span("influencer_post_engagements_at_age",
			lbl(sl, creator, "provider", provider, "post", post, "type", typ, "age", age), from, mLast, constant(v))
	}
	add(
		atAge("alice", "instagram", "17900000000000011", "1h", "saves", 0, 10),
		atAge("alice", "instagram", "17900000000000011", "1h", "shares", 0, 4),
		atAge("alice", "instagram", "17900000000000011", "1h", "likes", 0, 500),
		atAge("alice", "instagram", "17900000000000011", "3h", "saves", 0, 30),
		atAge("alice", "instagram", "17900000000000011", "3h", "shares", 0, 10),
		atAge("bruno", "tiktok", "7400000000000000002", "1h", "shares", 1060, 2),
		atAge("bruno", "tiktok", "7400000000000000002", "3h", "shares", 1180, 6),
		atAge("chloe", "instagram", "17900000000000031", "1h", "saves", 0, 8),
		atAge("chloe", "instagram", "17900000000000031", "1h", "shares", 0, 2),
		atAge("chloe", "instagram", "17900000000000031", "3h", "saves", 0, 20),
		atAge("chloe", "instagram", "17900000000000031", "3h", "shares", 0, 5),
		atAge("chloe", "instagram", "17900000000000032", "1h", "saves", 1400, 3),
		atAge("chloe", "instagram", "17900000000000032", "1h", "shares", 1400, 0),
		atAge("dev", "instagram", "17900000000000041", "1h", "saves", 0, 5),
		atAge("dev", "instagram", "17900000000000041", "1h", "shares", 0, 1),
		atAge("dev", "instagram", "17900000000000041", "3h", "saves", 0, 12),
		atAge("dev", "instagram", "17900000000000041", "3h", "shares", 0, 3),
		atAge("emma", "instagram", "17900000000000051", "1h", "saves", 0, 30),
		atAge("emma", "instagram", "17900000000000051", "1h", "shares", 0, 10),
		atAge("emma", "instagram", "17900000000000051", "3h", "saves", 0, 50),
		atAge("emma", "instagram", "17900000000000051", "3h", "shares", 0, 30),
		alert("InfluencerPostStalledEarly", "firing", 1250, 1300,
			lbl(sl, "bruno", "provider", "tiktok", "post", "7400000000000000002", "age", "3h", "severity", "info")),
	)

	// summer-drop: no checkpoints, and no series after 03:00 on 06-02.
	add(span("influencer_link_clicks_total", lbl("summer-drop", "farid", "provider", "dub", "link", "dub.sh/farid-tiktok"), 0, 600,
		points(0, 0, 600, 600)))
	// shared: one campaign name in two exporters' jobs.
	for _, job := range []string{"eu", "us"} {
		add(all("influencer_link_clicks_total",
			fmt.Sprintf(`job=%q,instance="x",campaign="shared",creator="gia",provider="bitly",link="bit.ly/gia"`, job), constant(1)))
	}
	return s
}

// writeOpenMetrics writes the fixture for promtool, one metric family
// after the other.
func writeOpenMetrics(path string, series []fixtureSeries) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	series = slices.Clone(series)
	slices.SortStableFunc(series, func(a, b fixtureSeries) int { return strings.Compare(a.name, b.name) })
	for _, s := range series {
		for m := s.from; m <= s.to; m++ {
			fmt.Fprintf(w, "%s{%s} %g %d\n", s.name, s.labels, s.value(m), t0.Add(time.Duration(m)*time.Minute).Unix())
		}
	}
	fmt.Fprintln(w, "# EOF")
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

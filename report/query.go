package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// queries writes the PromQL of a read. Every aggregation keeps job, and
// every selector matches one job, so two exporters' series are never added
// together.
type queries struct{ job, campaign string }

func (q queries) sel(metric string, more ...string) string {
	return fmt.Sprintf("%s{%s}", metric, selector(q.job, q.campaign, more...))
}

// counterGain is what a counter gained in the window, per series: its last
// reading in the window minus its reading at the start (the last one in the
// hour before it). A series first read during the window counts from that
// first reading: counters never go down, so it is the window's minimum.
func (q queries) counterGain(m string, w Window) string {
	r := promDuration(w.duration())
	return fmt.Sprintf("last_over_time(%[1]s[%[2]s]) - (last_over_time(%[1]s[%[3]s] @ %[4]s) or min_over_time(%[1]s[%[2]s]))",
		m, r, promDuration(baselineLookback), promTime(w.Start))
}

// postGain is what a post's gauge gained in the window; a post first read
// during the window is new, and counts from zero.
func (q queries) postGain(m string, w Window) string {
	r := promDuration(w.duration())
	return fmt.Sprintf("last_over_time(%[1]s[%[2]s]) - (last_over_time(%[1]s[%[3]s] @ %[4]s) or last_over_time(%[1]s[%[2]s]) * 0)",
		m, r, promDuration(baselineLookback), promTime(w.Start))
}

// accountGain is what an account's gauge gained in the window; an account
// first read during the window has no gain (its followers came before).
func (q queries) accountGain(m string, w Window) string {
	r := promDuration(w.duration())
	return fmt.Sprintf("last_over_time(%[1]s[%[2]s]) - last_over_time(%[1]s[%[3]s] @ %[4]s)",
		m, r, promDuration(baselineLookback), promTime(w.Start))
}

// lastReading is each series' last reading in the window.
func (q queries) lastReading(m string, w Window) string {
	return fmt.Sprintf("last_over_time(%s[%s])", m, promDuration(w.duration()))
}

const byCreator = "job, campaign, creator"

// windowQueries are the per-creator queries of one window, all evaluated
// at its end.
func (q queries) window(w Window) map[string]string {
	r := promDuration(w.duration())
	sum := func(by, e string) string { return fmt.Sprintf("sum by (%s) (%s)", by, e) }
	return map[string]string{
		"clicks":      sum(byCreator, q.counterGain(q.sel("influencer_link_clicks_total"), w)),
		"redemptions": sum(byCreator, q.counterGain(q.sel("influencer_code_redemptions_total"), w)),
		"revenue":     sum(byCreator+", currency", q.counterGain(q.sel("influencer_code_revenue_total"), w)),
		"refunded":    sum(byCreator+", currency", q.counterGain(q.sel("influencer_code_refunded_revenue_total"), w)),
		// Plausible and GA4 count the same visitors: never add providers.
		"visitors": fmt.Sprintf("max by (%s) (%s)", byCreator,
			sum(byCreator+", provider", q.counterGain(q.sel("influencer_referral_visitors_total"), w))),
		"views":        sum(byCreator, q.postGain(q.sel("influencer_post_views"), w)),
		"saves_shares": sum(byCreator, q.postGain(q.sel("influencer_post_engagements", `type=~"saves|shares"`), w)),
		"followers":    sum(byCreator, q.accountGain(q.sel("influencer_account_followers"), w)),
		// Each 1-minute step of the window at which the probe's last
		// verdict was "down" is a broken minute.
		"broken": fmt.Sprintf("sum by (%s, provider, link) (sum_over_time((%s == bool 0)[%s:%s]))",
			byCreator, q.sel("influencer_link_up"), r, promDuration(brokenStep)),
		"flags": fmt.Sprintf("max by (%s, alertname) (max_over_time(%s[%s]))",
			byCreator, q.sel("ALERTS", `alertstate="firing"`, fmt.Sprintf("alertname=~%q", strings.Join(Flags, "|"))), r),
		"lifetime_clicks":      sum(byCreator, q.lastReading(q.sel("influencer_link_clicks_total"), w)),
		"lifetime_redemptions": sum(byCreator, q.lastReading(q.sel("influencer_code_redemptions_total"), w)),
		"lifetime_revenue":     sum(byCreator+", currency", q.lastReading(q.sel("influencer_code_revenue_total"), w)),
		"lifetime_refunded":    sum(byCreator+", currency", q.lastReading(q.sel("influencer_code_refunded_revenue_total"), w)),
		"fee":                  fmt.Sprintf("max by (%s, currency) (%s)", byCreator, q.lastReading(q.sel("influencer_creator_fee"), w)),
		"budget":               fmt.Sprintf("max by (%s, currency) (%s)", byCreator, q.lastReading(q.sel("influencer_creator_budget"), w)),
	}
}

// earlyCurveQueries read each post's saves+shares at each recorded age,
// and the campaign's quartiles per age, as the early-curve rules compute
// them.
func (q queries) earlyCurve(w Window) map[string]string {
	post := fmt.Sprintf("sum by (job, campaign, creator, provider, post, age) (%s)",
		q.lastReading(q.sel("influencer_post_engagements_at_age", `type=~"saves|shares"`), w))
	return map[string]string{
		"posts": post,
		"count": fmt.Sprintf("count by (job, campaign, age) (%s)", post),
		"p25":   fmt.Sprintf("quantile by (job, campaign, age) (0.25, %s)", post),
		"p50":   fmt.Sprintf("quantile by (job, campaign, age) (0.5, %s)", post),
		"p75":   fmt.Sprintf("quantile by (job, campaign, age) (0.75, %s)", post),
	}
}

// promDuration writes d as a PromQL duration in milliseconds, exact for
// any window.
func promDuration(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// promTime writes t for the @ modifier and comparisons.
func promTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

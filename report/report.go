// Package report writes a campaign's checkpoint read from a Prometheus
// server that scrapes the exporter: per creator, the action and attention
// gained since the last checkpoint, the cost per action, broken-link
// minutes, authenticity flags, the early curve, and what changed since the
// previous read.
//
// It queries the exporter's own series (and Prometheus' ALERTS series), not
// the recording rules, so it works on any Prometheus that scrapes the
// exporter, whether or not it loads the rules.
package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Lookback bounds how far back a read looks for the campaign's series and
// for the checkpoint before a window: checkpoints come at least daily, so a
// week covers an exporter that was down for days.
const Lookback = 7 * 24 * time.Hour

const lookbackText = "7 days"

// SettlingPeriod is how long platform insights and web analytics keep
// revising their figures.
const SettlingPeriod = 48 * time.Hour

// baselineLookback is how far before a window's start a series' reading
// still counts as its reading at the start. It is longer than Prometheus'
// 5m lookback so that an exporter restarting around a checkpoint does not
// turn every series into one first seen during the window.
const baselineLookback = time.Hour

// brokenStep is the resolution at which broken-link minutes are counted.
const brokenStep = time.Minute

// Flags are the authenticity alerts a read reports, in the order shown.
var Flags = []string{
	"InfluencerClicksWithoutVisits",
	"InfluencerFollowerSpike",
	"InfluencerEngagementWithoutReach",
	"InfluencerEngagementRateOutlier",
	"InfluencerPostStalledEarly",
}

// Sentinel errors, for errors.Is; the errors returned say more.
var (
	ErrUnreachable     = errors.New("cannot reach Prometheus")
	ErrUnknownCampaign = errors.New("unknown campaign")
	ErrNoCheckpoint    = errors.New("no checkpoint")
	ErrNoData          = errors.New("no data in the window")
)

// Since is where a read's window starts: at the last checkpoint before its
// end, a duration before its end, or a fixed time.
type Since struct {
	duration time.Duration
	time     time.Time
}

// LastCheckpoint is the default Since.
var LastCheckpoint = Since{}

// ParseSince reads "last-checkpoint", a duration ("12h", "1d") or an RFC
// 3339 time.
func ParseSince(s string) (Since, error) {
	if s == "last-checkpoint" {
		return LastCheckpoint, nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		if d <= 0 {
			return Since{}, fmt.Errorf("--since=%s: the duration must be positive", s)
		}
		return Since{duration: time.Duration(d)}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return Since{time: t}, nil
	}
	return Since{}, fmt.Errorf("--since=%q: want last-checkpoint, a duration such as 12h, or an RFC 3339 time such as 2025-06-02T09:00:00Z", s)
}

// String is the flag's value.
func (s Since) String() string {
	switch {
	case s.duration > 0:
		return model.Duration(s.duration).String()
	case !s.time.IsZero():
		return s.time.UTC().Format(time.RFC3339)
	}
	return "last-checkpoint"
}

// IsLastCheckpoint reports whether the window starts at the last checkpoint.
func (s Since) IsLastCheckpoint() bool { return s.duration == 0 && s.time.IsZero() }

// Request is what to read.
type Request struct {
	Campaign string
	// Job is the job label of the exporter's series; empty: the only job
	// with series of the campaign.
	Job string
	// Since is where the window starts.
	Since Since
	// End is the end of the window.
	End time.Time
}

// Report is one read of a campaign. Its JSON form is the report's JSON
// output: figures are numbers, null when the series they come from are
// absent.
type Report struct {
	Campaign string `json:"campaign"`
	Job      string `json:"job"`
	// Since is the --since the window was chosen by.
	Since  string `json:"since"`
	Window Window `json:"window"`
	// Previous is the window of the previous read, null when there is
	// none (the campaign's first checkpoint).
	Previous *Window  `json:"previous_window"`
	Settling Settling `json:"settling"`
	// Creators are ranked by cost per redemption (see Rank).
	Creators    []Creator    `json:"creators"`
	BrokenLinks []BrokenLink `json:"broken_links"`
	EarlyCurve  EarlyCurve   `json:"early_curve"`
}

// Window is a read's time range.
type Window struct {
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Seconds float64   `json:"seconds"`
}

func newWindow(start, end time.Time) Window {
	return Window{Start: start.UTC(), End: end.UTC(), Seconds: end.Sub(start).Seconds()}
}

func (w Window) duration() time.Duration { return w.End.Sub(w.Start) }

// Settling says which figures may still change.
type Settling struct {
	// From: figures of this time and later are still settling as of the
	// end of the window.
	From time.Time `json:"from"`
	Note string    `json:"note"`
}

const settlingNote = "Figures of the last 48 h are still settling: platform insights and web analytics revise them for up to two days."

// Creator is one creator's read.
type Creator struct {
	Creator string `json:"creator"`
	// Window holds the figures of the read's window.
	Window Figures `json:"window"`
	// Previous holds the same figures over the previous read's window;
	// null without a previous window.
	Previous *Figures `json:"previous"`
	// Change compares Window with Previous; null without a previous
	// window.
	Change *Change `json:"change"`
	// Lifetime totals at the end of the window, which the costs divide.
	Lifetime Lifetime `json:"lifetime"`
	// Cost is null for a creator without a fee.
	Cost *Cost `json:"cost"`
}

// Figures are what a creator gained in a window.
type Figures struct {
	LinkClicks      *float64 `json:"link_clicks"`
	CodeRedemptions *float64 `json:"code_redemptions"`
	// NetRevenue is revenue minus refunded revenue, per currency.
	NetRevenue []Money `json:"net_revenue"`
	// ReferralVisitors is the largest count among the analytics
	// providers: two providers see the same visitors.
	ReferralVisitors *float64 `json:"referral_visitors"`
	Views            *float64 `json:"views"`
	SavesShares      *float64 `json:"saves_shares"`
	Followers        *float64 `json:"followers"`
	// BrokenLinkMinutes is summed over the creator's probed links.
	BrokenLinkMinutes *float64 `json:"broken_link_minutes"`
	// Flags are the authenticity alerts that fired in the window.
	Flags []string `json:"flags"`
}

// Money is an amount in one currency, in major units.
type Money struct {
	Currency string  `json:"currency"`
	Amount   float64 `json:"amount"`
}

// Change is each figure's relative change against the previous window, per
// hour: 0.12 is a pace 12% faster, so windows of different lengths (a 9 h
// day and a 15 h night, a read made mid-window) compare. A figure is null
// when either window lacks it or the previous window's is 0.
type Change struct {
	LinkClicks       *float64         `json:"link_clicks"`
	CodeRedemptions  *float64         `json:"code_redemptions"`
	NetRevenue       []CurrencyChange `json:"net_revenue"`
	ReferralVisitors *float64         `json:"referral_visitors"`
	Views            *float64         `json:"views"`
	SavesShares      *float64         `json:"saves_shares"`
	Followers        *float64         `json:"followers"`
}

// CurrencyChange is the change of the net revenue in one currency.
type CurrencyChange struct {
	Currency string   `json:"currency"`
	Ratio    *float64 `json:"ratio"`
}

// Lifetime totals, as last read in the window.
type Lifetime struct {
	LinkClicks      *float64 `json:"link_clicks"`
	CodeRedemptions *float64 `json:"code_redemptions"`
	NetRevenue      []Money  `json:"net_revenue"`
}

// Cost is what the creator costs per action, over lifetime totals, in the
// fee's currency. Figures that would divide by zero, or divide amounts in
// different currencies, are null.
type Cost struct {
	Currency          string   `json:"currency"`
	Fee               float64  `json:"fee"`
	Budget            *float64 `json:"budget"`
	BudgetSpent       *float64 `json:"budget_spent_ratio"`
	CostPerClick      *float64 `json:"cost_per_click"`
	CostPerRedemption *float64 `json:"cost_per_redemption"`
	// ReturnOnSpend is the net revenue in the fee's currency over the fee.
	ReturnOnSpend *float64 `json:"return_on_spend"`
	// Rank is the creator's place by cost per redemption, lowest first,
	// among the creators paid in the same currency; null without a cost
	// per redemption.
	Rank *int `json:"cost_per_redemption_rank"`
	// PreviousRank is the same at the start of the window.
	PreviousRank *int `json:"previous_cost_per_redemption_rank"`
}

// BrokenLink is a tracking link found down during the window.
type BrokenLink struct {
	Creator  string  `json:"creator"`
	Provider string  `json:"provider"`
	Link     string  `json:"link"`
	Minutes  float64 `json:"minutes"`
}

// EarlyCurve compares posts at the same ages since publishing.
type EarlyCurve struct {
	Ages  []AgeQuartiles `json:"ages"`
	Posts []PostCurve    `json:"posts"`
}

// AgeQuartiles are the campaign's quartiles of saves+shares at one age.
type AgeQuartiles struct {
	Age   string  `json:"age"`
	Posts int     `json:"posts"`
	P25   float64 `json:"p25"`
	P50   float64 `json:"p50"`
	P75   float64 `json:"p75"`
}

// PostCurve is one post's saves+shares at each recorded age.
type PostCurve struct {
	Creator  string      `json:"creator"`
	Provider string      `json:"provider"`
	Post     string      `json:"post"`
	AtAge    []PostAtAge `json:"at_age"`
}

// PostAtAge is a post's saves+shares at one age and its standing against
// the campaign's quartiles at that age.
type PostAtAge struct {
	Age         string  `json:"age"`
	SavesShares float64 `json:"saves_shares"`
	// Standing is below_p25, p25_p50, p50_p75 or p75_and_above.
	Standing string `json:"standing"`
}

// Standings, from the bottom.
const (
	BelowP25   = "below_p25"
	P25toP50   = "p25_p50"
	P50toP75   = "p50_p75"
	P75OrAbove = "p75_and_above"
)

// standingAge is the age posts are ranked by, the one
// InfluencerPostStalledEarly watches.
const standingAge = "3h"

// Reader reads checkpoint reports from a Prometheus server.
type Reader struct {
	api     promAPI
	address string
	timeout time.Duration
}

// NewReader reads from the Prometheus server at address, which may carry
// basic-auth credentials (https://user:pass@host). timeout bounds each
// query.
func NewReader(address string, timeout time.Duration) (*Reader, error) {
	u, err := url.Parse(address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--prometheus.url=%s: want an http or https URL such as http://localhost:9090", Redact(address))
	}
	client, err := api.NewClient(api.Config{Address: address})
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", Redact(address), err)
	}
	return &Reader{api: v1API{v1.NewAPI(client)}, address: Redact(address), timeout: timeout}, nil
}

// Redact returns a URL without its credentials, query and fragment: what
// an error may name.
func Redact(address string) string {
	u, err := url.Parse(address)
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return r.String()
}

// wrap turns a client error into one that names the server without
// credentials, and says whether it could be reached.
func (r *Reader) wrap(what string, err error) error {
	var uerr *url.Error
	var aerr *v1.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("prometheus at %s: %s: no answer within %s (--prometheus.timeout)", r.address, what, r.timeout)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("prometheus at %s: %w", r.address, context.Canceled)
	case errors.As(err, &uerr):
		// url.Error names the request URL, with the user name and the
		// query; say only what failed.
		return fmt.Errorf("%w at %s: %w", ErrUnreachable, r.address, uerr.Err)
	case errors.As(err, &aerr) && aerr.Detail != "" && (aerr.Type == v1.ErrClient || aerr.Type == v1.ErrServer):
		// An answer that is not the API's (a proxy's 401, a 502 page):
		// its body says more than the status alone.
		detail := strings.TrimSpace(aerr.Detail)
		if len(detail) > 200 {
			detail = detail[:200] + "…"
		}
		return fmt.Errorf("prometheus at %s: %s: %s (%s)", r.address, what, aerr.Msg, detail)
	}
	return fmt.Errorf("prometheus at %s: %s: %w", r.address, what, err)
}

// query runs an instant query and returns its vector.
func (r *Reader) query(ctx context.Context, q string, at time.Time) (model.Vector, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	v, err := r.api.Query(ctx, q, at)
	if err != nil {
		return nil, r.wrap("query "+q, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("prometheus at %s: query %s: got a %s, want a vector", r.address, q, v.Type())
	}
	return vec, nil
}

func (r *Reader) labelValues(ctx context.Context, label, match string, start, end time.Time) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	vals, err := r.api.LabelValues(ctx, label, []string{match}, start, end)
	if err != nil {
		return nil, r.wrap(fmt.Sprintf("label values of %s for %s", label, match), err)
	}
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		out = append(out, string(v))
	}
	slices.Sort(out)
	return out, nil
}

// Job returns the job whose series carry the campaign in the Lookback before
// end: job itself if given and it has the campaign, else the only such job.
// Several exporters scraped under different jobs may each have a campaign
// of that name; their figures are never added together, so the caller must
// choose one.
func (r *Reader) Job(ctx context.Context, campaign, job string, end time.Time) (string, error) {
	start := end.Add(-Lookback)
	jobs, err := r.labelValues(ctx, "job", fmt.Sprintf(`{campaign=%q}`, campaign), start, end)
	if err != nil {
		return "", err
	}
	if len(jobs) == 0 {
		campaigns, err := r.labelValues(ctx, "campaign", `{__name__=~"influencer_.+"}`, start, end)
		if err != nil {
			return "", err
		}
		known := "none"
		if len(campaigns) > 0 {
			known = strings.Join(campaigns, ", ")
		}
		return "", fmt.Errorf("%w %q: Prometheus at %s has no series with campaign=%q in the %s before %s; campaigns it has: %s",
			ErrUnknownCampaign, campaign, r.address, campaign, lookbackText, formatTime(end), known)
	}
	if job != "" {
		if !slices.Contains(jobs, job) {
			return "", fmt.Errorf("%w %q in job %q: Prometheus at %s has the campaign only in job %s",
				ErrUnknownCampaign, campaign, job, r.address, strings.Join(jobs, ", "))
		}
		return job, nil
	}
	if len(jobs) > 1 {
		return "", fmt.Errorf("campaign %q is in several jobs (%s): their figures are never added together, choose one with --job",
			campaign, strings.Join(jobs, ", "))
	}
	return jobs[0], nil
}

// selector matches the campaign's series of one job.
func selector(job, campaign string, more ...string) string {
	return strings.Join(append([]string{fmt.Sprintf("job=%q", job), fmt.Sprintf("campaign=%q", campaign)}, more...), ", ")
}

const checkpointMetric = "influencer_campaign_checkpoint_timestamp_seconds"

// LastCheckpoint returns the last checkpoint the exporter reported by at:
// the campaign's latest influencer_campaign_checkpoint_timestamp_seconds in
// the Lookback before at.
func (r *Reader) LastCheckpoint(ctx context.Context, job, campaign string, at time.Time) (time.Time, error) {
	q := fmt.Sprintf(`max by (job, campaign) (max_over_time(%s{%s}[%s]))`,
		checkpointMetric, selector(job, campaign), promDuration(Lookback))
	t, ok, err := r.timestamp(ctx, q, at)
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, r.noCheckpoint(job, campaign, at)
	}
	return t, nil
}

func (r *Reader) noCheckpoint(job, campaign string, at time.Time) error {
	return fmt.Errorf("%w for campaign %q: %s{%s} has no value in the %s before %s; the campaign needs checkpoints in the exporter's configuration (campaigns[].checkpoints.at), or choose a window with --since=12h",
		ErrNoCheckpoint, campaign, checkpointMetric, selector(job, campaign), lookbackText, formatTime(at))
}

// checkpointBefore returns the last checkpoint strictly before t: the
// largest value of the checkpoint timestamp below t seen in the Lookback
// before t. Checkpoint timestamps only grow, so this is the metric's value
// just before it moved to t (or past it), which also holds when the
// exporter's clock runs a little ahead of Prometheus'.
func (r *Reader) checkpointBefore(ctx context.Context, job, campaign string, t time.Time) (time.Time, bool, error) {
	q := fmt.Sprintf(`max by (job, campaign) (max_over_time((%s{%s} < %s)[%s:%s]))`,
		checkpointMetric, selector(job, campaign), promTime(t), promDuration(Lookback), promDuration(brokenStep))
	return r.timestamp(ctx, q, t)
}

func (r *Reader) timestamp(ctx context.Context, q string, at time.Time) (time.Time, bool, error) {
	vec, err := r.query(ctx, q, at)
	if err != nil || len(vec) == 0 {
		return time.Time{}, false, err
	}
	sec := float64(vec[0].Value)
	return time.UnixMilli(int64(math.Round(sec * 1000))).UTC(), true, nil
}

// Read reads the campaign over the request's window and the previous one.
func (r *Reader) Read(ctx context.Context, req Request) (*Report, error) {
	end := req.End.UTC()
	job, err := r.Job(ctx, req.Campaign, req.Job, end)
	if err != nil {
		return nil, err
	}
	var cur Window
	var prev *Window
	switch {
	case req.Since.IsLastCheckpoint():
		start, ok, err := r.checkpointBefore(ctx, job, req.Campaign, end)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, r.noCheckpoint(job, req.Campaign, end)
		}
		cur = newWindow(start, end)
		before, ok, err := r.checkpointBefore(ctx, job, req.Campaign, start)
		if err != nil {
			return nil, err
		}
		if ok {
			w := newWindow(before, start)
			prev = &w
		}
	default:
		start := req.Since.time
		if req.Since.duration > 0 {
			start = end.Add(-req.Since.duration)
		}
		if !start.Before(end) {
			return nil, fmt.Errorf("--since=%s is not before the end of the window, %s", req.Since, formatTime(end))
		}
		cur = newWindow(start, end)
		w := newWindow(start.Add(-cur.duration()), start)
		prev = &w
	}

	rep := &Report{
		Campaign: req.Campaign,
		Job:      job,
		Since:    req.Since.String(),
		Window:   cur,
		Previous: prev,
		Settling: Settling{From: end.Add(-SettlingPeriod), Note: settlingNote},
	}
	q := queries{job: job, campaign: req.Campaign}
	now, err := r.figures(ctx, q, cur)
	if err != nil {
		return nil, err
	}
	if !now.hasData() {
		return nil, fmt.Errorf("%w: campaign %q of job %q has no action, attention or link-probe series with samples from %s to %s",
			ErrNoData, req.Campaign, job, formatTime(cur.Start), formatTime(cur.End))
	}
	var before *windowFigures
	if prev != nil {
		if before, err = r.figures(ctx, q, *prev); err != nil {
			return nil, err
		}
	}
	rep.Creators = assemble(now, before)
	rep.BrokenLinks = now.brokenLinks
	if rep.EarlyCurve, err = r.earlyCurve(ctx, q, cur); err != nil {
		return nil, err
	}
	return rep, nil
}

// windowFigures are a window's results by creator.
type windowFigures struct {
	w           Window
	creators    map[string]*Figures
	lifetime    map[string]*Lifetime
	fee         map[string]Money
	budget      map[string]Money
	brokenLinks []BrokenLink
}

func (f *windowFigures) hasData() bool {
	for _, c := range f.creators {
		if c.LinkClicks != nil || c.CodeRedemptions != nil || len(c.NetRevenue) > 0 || c.ReferralVisitors != nil ||
			c.Views != nil || c.SavesShares != nil || c.Followers != nil || c.BrokenLinkMinutes != nil {
			return true
		}
	}
	return false
}

func (r *Reader) figures(ctx context.Context, q queries, w Window) (*windowFigures, error) {
	res := map[string]model.Vector{}
	qs := q.window(w)
	for _, name := range slices.Sorted(maps.Keys(qs)) {
		vec, err := r.query(ctx, qs[name], w.End)
		if err != nil {
			return nil, err
		}
		res[name] = vec
	}
	f := &windowFigures{w: w, creators: map[string]*Figures{}, lifetime: map[string]*Lifetime{}, fee: map[string]Money{}, budget: map[string]Money{}}
	fig := func(creator string) *Figures {
		if f.creators[creator] == nil {
			f.creators[creator] = &Figures{NetRevenue: []Money{}, Flags: []string{}}
		}
		return f.creators[creator]
	}
	life := func(creator string) *Lifetime {
		if f.lifetime[creator] == nil {
			f.lifetime[creator] = &Lifetime{NetRevenue: []Money{}}
		}
		fig(creator)
		return f.lifetime[creator]
	}
	set := func(name string, field func(*Figures) **float64) {
		for _, s := range res[name] {
			v := float64(s.Value)
			*field(fig(creatorOf(s))) = &v
		}
	}
	set("clicks", func(f *Figures) **float64 { return &f.LinkClicks })
	set("redemptions", func(f *Figures) **float64 { return &f.CodeRedemptions })
	set("visitors", func(f *Figures) **float64 { return &f.ReferralVisitors })
	set("views", func(f *Figures) **float64 { return &f.Views })
	set("saves_shares", func(f *Figures) **float64 { return &f.SavesShares })
	set("followers", func(f *Figures) **float64 { return &f.Followers })
	for creator, m := range netRevenue(res["revenue"], res["refunded"]) {
		fig(creator).NetRevenue = m
	}
	for _, s := range res["broken"] {
		c := fig(creatorOf(s))
		v := float64(s.Value)
		if c.BrokenLinkMinutes == nil {
			c.BrokenLinkMinutes = new(float64)
		}
		*c.BrokenLinkMinutes += v
		if v > 0 {
			f.brokenLinks = append(f.brokenLinks, BrokenLink{
				Creator: creatorOf(s), Provider: string(s.Metric["provider"]), Link: string(s.Metric["link"]), Minutes: v,
			})
		}
	}
	slices.SortFunc(f.brokenLinks, func(a, b BrokenLink) int {
		return cmp.Or(cmp.Compare(b.Minutes, a.Minutes), cmp.Compare(a.Creator, b.Creator),
			cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Link, b.Link))
	})
	if f.brokenLinks == nil {
		f.brokenLinks = []BrokenLink{}
	}
	for _, s := range res["flags"] {
		if s.Value > 0 {
			c := fig(creatorOf(s))
			c.Flags = append(c.Flags, string(s.Metric["alertname"]))
		}
	}
	for _, c := range f.creators {
		slices.SortFunc(c.Flags, func(a, b string) int { return cmp.Compare(slices.Index(Flags, a), slices.Index(Flags, b)) })
	}
	for _, s := range res["lifetime_clicks"] {
		v := float64(s.Value)
		life(creatorOf(s)).LinkClicks = &v
	}
	for _, s := range res["lifetime_redemptions"] {
		v := float64(s.Value)
		life(creatorOf(s)).CodeRedemptions = &v
	}
	for creator, m := range netRevenue(res["lifetime_revenue"], res["lifetime_refunded"]) {
		life(creator).NetRevenue = m
	}
	// A creator has one fee currency; should the configuration have
	// changed it within the window, the first currency in order is kept.
	for _, name := range []string{"fee", "budget"} {
		dst := f.fee
		if name == "budget" {
			dst = f.budget
		}
		vec := slices.Clone(res[name])
		slices.SortFunc(vec, func(a, b *model.Sample) int { return cmp.Compare(a.Metric["currency"], b.Metric["currency"]) })
		for _, s := range vec {
			c := creatorOf(s)
			if _, ok := dst[c]; !ok {
				dst[c] = Money{Currency: string(s.Metric["currency"]), Amount: float64(s.Value)}
				life(c)
			}
		}
	}
	// Every series read has a creator label; an ALERTS series of some
	// other alert of the same name might not.
	delete(f.creators, "")
	delete(f.lifetime, "")
	return f, nil
}

func creatorOf(s *model.Sample) string { return string(s.Metric["creator"]) }

// netRevenue is revenue minus refunded revenue per creator and currency; a
// currency without refunds has none to subtract.
func netRevenue(revenue, refunded model.Vector) map[string][]Money {
	type key struct{ creator, currency string }
	ref := map[key]float64{}
	for _, s := range refunded {
		ref[key{creatorOf(s), string(s.Metric["currency"])}] = float64(s.Value)
	}
	out := map[string][]Money{}
	for _, s := range revenue {
		k := key{creatorOf(s), string(s.Metric["currency"])}
		out[k.creator] = append(out[k.creator], Money{Currency: k.currency, Amount: float64(s.Value) - ref[k]})
	}
	for _, m := range out {
		slices.SortFunc(m, func(a, b Money) int { return cmp.Compare(a.Currency, b.Currency) })
	}
	return out
}

// assemble builds the creators' reads, ranked.
func assemble(now, before *windowFigures) []Creator {
	var out []Creator
	for name, fig := range now.creators {
		c := Creator{Creator: name, Window: *fig}
		if l := now.lifetime[name]; l != nil {
			c.Lifetime = *l
		} else {
			c.Lifetime = Lifetime{NetRevenue: []Money{}}
		}
		if fee, ok := now.fee[name]; ok {
			c.Cost = cost(fee, now.budget[name], c.Lifetime)
		}
		if before != nil {
			p := before.creators[name]
			if p == nil {
				p = &Figures{NetRevenue: []Money{}, Flags: []string{}}
			}
			c.Previous = p
			c.Change = change(fig, p, now.w.Seconds, before.w.Seconds)
		}
		out = append(out, c)
	}
	rank(out, func(c *Creator) **int { return &c.Cost.Rank }, func(c *Creator) *float64 { return c.Cost.CostPerRedemption })
	if before != nil {
		// The rank at the previous read: lifetime figures at the start.
		prev := map[string]*float64{}
		for name, fee := range before.fee {
			l := before.lifetime[name]
			if l == nil {
				continue
			}
			prev[name] = cost(fee, before.budget[name], *l).CostPerRedemption
		}
		rank(out, func(c *Creator) **int { return &c.Cost.PreviousRank }, func(c *Creator) *float64 {
			if before.fee[c.Creator].Currency != c.Cost.Currency {
				return nil
			}
			return prev[c.Creator]
		})
	}
	slices.SortFunc(out, compareCreators)
	return out
}

// compareCreators orders creators by cost per redemption within each fee
// currency, lowest first; then those with a fee but no cost per redemption;
// then those without a fee; by name within each group.
func compareCreators(a, b Creator) int {
	group := func(c Creator) int {
		switch {
		case c.Cost == nil:
			return 2
		case c.Cost.CostPerRedemption == nil:
			return 1
		}
		return 0
	}
	if d := cmp.Compare(group(a), group(b)); d != 0 {
		return d
	}
	if group(a) == 0 {
		if d := cmp.Or(cmp.Compare(a.Cost.Currency, b.Cost.Currency), cmp.Compare(*a.Cost.CostPerRedemption, *b.Cost.CostPerRedemption)); d != 0 {
			return d
		}
	}
	return cmp.Compare(a.Creator, b.Creator)
}

// rank numbers creators by value, lowest first, within each fee currency;
// ties share a rank.
func rank(cs []Creator, dst func(*Creator) **int, value func(*Creator) *float64) {
	byCurrency := map[string][]*Creator{}
	for i := range cs {
		c := &cs[i]
		if c.Cost == nil || value(c) == nil {
			continue
		}
		byCurrency[c.Cost.Currency] = append(byCurrency[c.Cost.Currency], c)
	}
	for _, group := range byCurrency {
		for _, c := range group {
			n := 1
			for _, o := range group {
				if *value(o) < *value(c) {
					n++
				}
			}
			*dst(c) = &n
		}
	}
}

// cost divides the fee by lifetime totals: never by zero, never across
// currencies.
func cost(fee, budget Money, l Lifetime) *Cost {
	c := &Cost{Currency: fee.Currency, Fee: fee.Amount}
	if budget.Currency == fee.Currency && budget.Amount > 0 {
		b, spent := budget.Amount, fee.Amount/budget.Amount
		c.Budget, c.BudgetSpent = &b, &spent
	}
	div := func(n float64, d *float64) *float64 {
		if d == nil || *d <= 0 {
			return nil
		}
		v := n / *d
		return &v
	}
	c.CostPerClick = div(fee.Amount, l.LinkClicks)
	c.CostPerRedemption = div(fee.Amount, l.CodeRedemptions)
	if fee.Amount > 0 {
		for _, m := range l.NetRevenue {
			if m.Currency == fee.Currency {
				v := m.Amount / fee.Amount
				c.ReturnOnSpend = &v
			}
		}
	}
	return c
}

// ratio is the change of pace: now over nowSec against before over
// prevSec. Null without both, or when before is 0.
func ratio(now, before *float64, nowSec, prevSec float64) *float64 {
	if now == nil || before == nil || *before == 0 {
		return nil
	}
	// Multiplied before dividing: whole counts over whole seconds stay
	// exact.
	v := (*now*prevSec)/(*before*nowSec) - 1
	return &v
}

func change(now, before *Figures, nowSec, prevSec float64) *Change {
	r := func(a, b *float64) *float64 { return ratio(a, b, nowSec, prevSec) }
	c := &Change{
		LinkClicks:       r(now.LinkClicks, before.LinkClicks),
		CodeRedemptions:  r(now.CodeRedemptions, before.CodeRedemptions),
		ReferralVisitors: r(now.ReferralVisitors, before.ReferralVisitors),
		Views:            r(now.Views, before.Views),
		SavesShares:      r(now.SavesShares, before.SavesShares),
		Followers:        r(now.Followers, before.Followers),
		NetRevenue:       []CurrencyChange{},
	}
	for _, m := range now.NetRevenue {
		a := m.Amount
		c.NetRevenue = append(c.NetRevenue, CurrencyChange{Currency: m.Currency, Ratio: r(&a, moneyIn(before.NetRevenue, m.Currency))})
	}
	return c
}

func moneyIn(ms []Money, currency string) *float64 {
	for _, m := range ms {
		if m.Currency == currency {
			v := m.Amount
			return &v
		}
	}
	return nil
}

func (r *Reader) earlyCurve(ctx context.Context, q queries, w Window) (EarlyCurve, error) {
	res := map[string]model.Vector{}
	qs := q.earlyCurve(w)
	for _, name := range slices.Sorted(maps.Keys(qs)) {
		vec, err := r.query(ctx, qs[name], w.End)
		if err != nil {
			return EarlyCurve{}, err
		}
		res[name] = vec
	}
	quart := map[string]*AgeQuartiles{}
	get := func(s *model.Sample) *AgeQuartiles {
		age := string(s.Metric["age"])
		if quart[age] == nil {
			quart[age] = &AgeQuartiles{Age: age}
		}
		return quart[age]
	}
	for _, s := range res["count"] {
		get(s).Posts = int(s.Value)
	}
	for _, s := range res["p25"] {
		get(s).P25 = float64(s.Value)
	}
	for _, s := range res["p50"] {
		get(s).P50 = float64(s.Value)
	}
	for _, s := range res["p75"] {
		get(s).P75 = float64(s.Value)
	}
	ec := EarlyCurve{Ages: []AgeQuartiles{}, Posts: []PostCurve{}}
	for _, a := range quart {
		ec.Ages = append(ec.Ages, *a)
	}
	slices.SortFunc(ec.Ages, func(a, b AgeQuartiles) int { return compareAges(a.Age, b.Age) })

	type key struct{ creator, provider, post string }
	posts := map[key]*PostCurve{}
	for _, s := range res["posts"] {
		k := key{creatorOf(s), string(s.Metric["provider"]), string(s.Metric["post"])}
		p := posts[k]
		if p == nil {
			p = &PostCurve{Creator: k.creator, Provider: k.provider, Post: k.post}
			posts[k] = p
		}
		age := string(s.Metric["age"])
		v := float64(s.Value)
		p.AtAge = append(p.AtAge, PostAtAge{Age: age, SavesShares: v, Standing: standing(v, quart[age])})
	}
	rankAge := standingAge
	if quart[rankAge] == nil && len(ec.Ages) > 0 {
		rankAge = ec.Ages[0].Age
	}
	for _, p := range posts {
		slices.SortFunc(p.AtAge, func(a, b PostAtAge) int { return compareAges(a.Age, b.Age) })
		ec.Posts = append(ec.Posts, *p)
	}
	// Ranked by saves+shares at 3h (the age InfluencerPostStalledEarly
	// watches), best first; posts not yet 3h old last.
	slices.SortFunc(ec.Posts, func(a, b PostCurve) int {
		va, oka := a.at(rankAge)
		vb, okb := b.at(rankAge)
		if oka != okb {
			if oka {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(vb, va), cmp.Compare(a.Creator, b.Creator), cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Post, b.Post))
	})
	return ec, nil
}

func (p PostCurve) at(age string) (float64, bool) {
	for _, a := range p.AtAge {
		if a.Age == age {
			return a.SavesShares, true
		}
	}
	return 0, false
}

// standing places v among the quartiles; below p25 is what
// InfluencerPostStalledEarly alerts on.
func standing(v float64, q *AgeQuartiles) string {
	switch {
	case q == nil:
		return ""
	case v < q.P25:
		return BelowP25
	case v < q.P50:
		return P25toP50
	case v < q.P75:
		return P50toP75
	}
	return P75OrAbove
}

// compareAges orders age labels ("1h", "3h", "1d") by duration.
func compareAges(a, b string) int {
	da, erra := model.ParseDuration(a)
	db, errb := model.ParseDuration(b)
	if erra != nil || errb != nil {
		return cmp.Compare(a, b)
	}
	return cmp.Compare(da, db)
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

package exporter

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
)

// Metric describes one exported metric family: its name, help, type and the
// ordered label names every sample of it carries. The catalogue below is the
// single place metric names are written; docs/metrics.md mirrors it.
type Metric struct {
	Name      string
	Help      string
	Type      prometheus.ValueType
	Labels    []string
	desc      *prometheus.Desc
	labelsIdx map[string]int
	// order lists the positions of Labels sorted by name: client_golang
	// writes label pairs in that order, and so does the rendered
	// exposition.
	order []int
	// head is the family's HELP and TYPE lines, as text and as a gzip
	// member, made on first use.
	headOnce sync.Once
	head     chunk
}

var catalogue []*Metric

// Catalogue returns every provider metric, in declaration order.
func Catalogue() []*Metric { return append([]*Metric(nil), catalogue...) }

func newMetric(name, help string, t prometheus.ValueType, labels ...string) *Metric {
	m := makeMetric(name, help, t, labels...)
	catalogue = append(catalogue, m)
	return m
}

// makeMetric returns a metric outside the catalogue: the exporter's own
// series, which the cache renders as it renders the collectors' samples.
// Names must be valid in the classic (legacy) scheme: the rendered
// exposition writes them unquoted, as client_golang does for such names.
func makeMetric(name, help string, t prometheus.ValueType, labels ...string) *Metric {
	if !model.LegacyValidation.IsValidMetricName(name) {
		panic(fmt.Sprintf("metric name %q is not a classic Prometheus name", name))
	}
	idx := make(map[string]int, len(labels))
	for i, l := range labels {
		if !model.LegacyValidation.IsValidLabelName(l) {
			panic(fmt.Sprintf("label name %q of %s is not a classic Prometheus name", l, name))
		}
		idx[l] = i
	}
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(labels[a], labels[b]) })
	return &Metric{
		Name:      name,
		Help:      help,
		Type:      t,
		Labels:    labels,
		desc:      prometheus.NewDesc(name, help, labels, nil),
		labelsIdx: idx,
		order:     order,
	}
}

// Desc returns the Prometheus descriptor of the metric.
func (m *Metric) Desc() *prometheus.Desc { return m.desc }

// Sample builds a sample of m. Label values are given in the order of
// m.Labels; a wrong count is caught when the snapshot is stored.
func (m *Metric) Sample(value float64, labelValues ...string) Sample {
	return Sample{Metric: m, LabelValues: labelValues, Value: value}
}

// Sample is one value a collector reports for one series.
type Sample struct {
	Metric      *Metric
	LabelValues []string
	Value       float64
}

// Label returns the value of the named label, or "" if the metric has no
// such label.
func (s Sample) Label(name string) string {
	i, ok := s.Metric.labelsIdx[name]
	if !ok || i >= len(s.LabelValues) {
		return ""
	}
	return s.LabelValues[i]
}

// Per-creator labels, in the order every per-creator metric starts with.
const (
	LabelCampaign = "campaign"
	LabelCreator  = "creator"
	LabelProvider = "provider"
)

// Action metrics.
var (
	LinkClicks = newMetric("influencer_link_clicks_total",
		"Clicks on a creator's tracking link, as the link shortener reports its lifetime total.",
		prometheus.CounterValue, LabelCampaign, LabelCreator, LabelProvider, "link")
	CodeRedemptions = newMetric("influencer_code_redemptions_total",
		"Orders that used a creator's discount code.",
		prometheus.CounterValue, LabelCampaign, LabelCreator, LabelProvider, "code")
	CodeRevenue = newMetric("influencer_code_revenue_total",
		"Revenue of orders that used a creator's discount code, in major units of the currency.",
		prometheus.CounterValue, LabelCampaign, LabelCreator, LabelProvider, "code", "currency")
	CodeRefunds = newMetric("influencer_code_refunds_total",
		"Paid orders that used a creator's discount code and had money refunded (full or partial), once each.",
		prometheus.CounterValue, LabelCampaign, LabelCreator, LabelProvider, "code")
	CodePendingOrders = newMetric("influencer_code_pending_orders",
		"Orders that used a creator's discount code and are not paid yet; never counted in revenue.",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, LabelProvider, "code")
	CodeRefundedRevenue = newMetric("influencer_code_refunded_revenue_total",
		"Revenue refunded on orders that used a creator's discount code, in major units of the currency.",
		prometheus.CounterValue, LabelCampaign, LabelCreator, LabelProvider, "code", "currency")
	ReferralVisitors = newMetric("influencer_referral_visitors_total",
		"Visitors referred by a creator, as the analytics provider reports them.",
		prometheus.CounterValue, LabelCampaign, LabelCreator, LabelProvider, "source")
)

// Attention metrics. Gauges: platforms' counts can go down.
var (
	PostViews = newMetric("influencer_post_views",
		"Views of a creator's post as the platform reports them.",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, LabelProvider, "post")
	PostReach = newMetric("influencer_post_reach",
		"Unique accounts reached by a creator's post as the platform reports them.",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, LabelProvider, "post")
	PostEngagements = newMetric("influencer_post_engagements",
		"Engagements on a creator's post by type (likes, comments, saves, shares).",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, LabelProvider, "post", "type")
	PostPublished = newMetric("influencer_post_published_timestamp_seconds",
		"Unix time a creator's post was published.",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, LabelProvider, "post")
	AccountFollowers = newMetric("influencer_account_followers",
		"Followers of a creator's account.",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, LabelProvider, "account")
	// AggregatedPosts is written by the exporter, not by a collector: see
	// aggregatePosts.
	AggregatedPosts = newMetric("influencer_aggregated_posts",
		"Posts of a creator on a platform whose series are summed into the post=\"all\" series, in a campaign with post_series per_creator; absent in per_post campaigns.",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, LabelProvider)
)

// Tracking-link health metrics, written by the link probe.
var (
	LinkUp = newMetric("influencer_link_up",
		"Whether the last probe of a tracking link reached a healthy destination (1) or not (0).",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, LabelProvider, "link")
	LinkStatusCode = newMetric("influencer_link_http_status_code",
		"HTTP status code of the last response in the tracking link's redirect chain (0 if none).",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, LabelProvider, "link")
	LinkRedirects = newMetric("influencer_link_redirects",
		"Redirects the probe followed from the short link to its destination.",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, LabelProvider, "link")
	LinkProbeDuration = newMetric("influencer_link_probe_duration_seconds",
		"Duration of the last probe of a tracking link, redirects included.",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, LabelProvider, "link")
	LinkDestinationInfo = newMetric("influencer_link_destination_info",
		"Host and scheme (http or https) a tracking link finally lands on; always 1.",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, LabelProvider, "link", "destination_host", "destination_scheme")
	LinkLastProbe = newMetric("influencer_link_last_probe_timestamp_seconds",
		"Unix time the last probe of the tracking link completed, confirmation included.",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, LabelProvider, "link")
)

// Steering metrics: what the config says a creator costs, and each post's
// attention at fixed ages since publishing, recorded by the exporter from
// the values its collectors polled.
var (
	CreatorFee = newMetric("influencer_creator_fee",
		"Fee owed to a creator for the campaign so far, from the config: the flat amount plus the per-post amount for each campaign post the exporter tracks, in major units of the currency.",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, "currency")
	CreatorBudget = newMetric("influencer_creator_budget",
		"Budget set for a creator in the campaign, from the config, in major units of the currency.",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, "currency")
	PostViewsAtAge = newMetric("influencer_post_views_at_age",
		"Views of a creator's post at a fixed age since publishing, from the poll nearest that age; absent if the post was first seen after it.",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, LabelProvider, "post", "age")
	PostEngagementsAtAge = newMetric("influencer_post_engagements_at_age",
		"Saves and shares of a creator's post by type at a fixed age since publishing, from the poll nearest that age; absent if the post was first seen after it, or if its platform does not report the type.",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, LabelProvider, "post", "type", "age")
	PostAtAgePolled = newMetric("influencer_post_at_age_polled_timestamp_seconds",
		"Unix time of the poll whose values influencer_post_views_at_age and influencer_post_engagements_at_age carry for that age.",
		prometheus.GaugeValue, LabelCampaign, LabelCreator, LabelProvider, "post", "age")
)

package dashboards

import (
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

// postFamilies are the series a campaign with post_series: per_creator
// exports summed per creator and platform, post="all".
var postFamilies = []string{
	"influencer_post_views", "influencer_post_reach", "influencer_post_engagements",
	"influencer_post_published_timestamp_seconds",
}

// perPostReads reports what a query reads that a per_creator campaign
// changes: a post's series, or a per-post recording rule, kept per post
// (not summed away by an aggregation without post); and the early curve,
// which such a campaign does not record at all.
func perPostReads(e parser.Expr) (perPost, earlyCurve []string) {
	parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok || vs.Name == "" {
			return nil
		}
		level, _, _ := strings.Cut(vs.Name, ":")
		switch {
		case strings.Contains(vs.Name, "_at_age") || vs.Name == "influencer_early_curve_posts":
			earlyCurve = append(earlyCurve, vs.Name)
		case slices.Contains(postFamilies, vs.Name) || strings.HasSuffix(level, "_post"):
			if !slices.ContainsFunc(path, dropsPost) {
				perPost = append(perPost, vs.Name)
			}
		}
		return nil
	})
	return perPost, earlyCurve
}

// dropsPost reports whether n is an aggregation whose result has no post
// label.
func dropsPost(n parser.Node) bool {
	ae, ok := n.(*parser.AggregateExpr)
	if !ok {
		return false
	}
	return slices.Contains(ae.Grouping, "post") == ae.Without
}

// Every panel that shows posts one by one, or the early curve, says what
// it shows for a campaign whose post_series is per_creator, whose posts are
// summed per creator and platform (docs/metrics.md, "The cardinality
// guard"). Panels that add posts up per creator show the same numbers
// either way and need no word.
func TestPerCreatorPanels(t *testing.T) {
	n := 0
	for _, d := range load(t) {
		for _, p := range d.AllPanels() {
			var perPost, earlyCurve []string
			for _, tg := range p.Targets {
				e, err := parser.NewParser(parser.Options{}).ParseExpr(Expand(tg.Expr, testVars))
				if err != nil {
					continue // TestQueries reports it.
				}
				pp, ec := perPostReads(e)
				perPost, earlyCurve = append(perPost, pp...), append(earlyCurve, ec...)
			}
			if len(perPost)+len(earlyCurve) == 0 {
				continue
			}
			n++
			switch {
			case len(earlyCurve) > 0 && !strings.Contains(p.Description, "Needs post_series: per_post"):
				t.Errorf("%s: panel %d %q shows the early curve (%s), which a per_creator campaign does not record, and its description does not say it needs post_series: per_post",
					d.UID, p.ID, p.Title, strings.Join(earlyCurve, ", "))
			case !strings.Contains(p.Description, "post_series: per_creator") && !strings.Contains(p.Description, "Needs post_series: per_post"):
				t.Errorf("%s: panel %d %q shows posts one by one (%s), and its description does not say what a campaign with post_series: per_creator shows",
					d.UID, p.ID, p.Title, strings.Join(perPost, ", "))
			}
		}
	}
	if n == 0 {
		t.Error("no panel shows posts one by one")
	}
}

func TestPerPostReads(t *testing.T) {
	for _, tc := range []struct {
		expr                string
		perPost, earlyCurve int
	}{
		{`sum by (job, campaign, creator) (influencer_post_views)`, 0, 0},
		{`sum by (job, campaign, creator, provider, post) (influencer_post_views)`, 1, 0},
		{`sum without (post) (influencer_post_views)`, 0, 0},
		{`(time() - influencer_post_published_timestamp_seconds) / 3600`, 1, 0},
		{`campaign_creator_post:influencer_post_engagements:deriv1h`, 1, 0},
		{`campaign_creator:influencer_post_engagements:deriv1h`, 0, 0},
		{`sum by (job, campaign, age) (influencer_early_curve_posts)`, 0, 1},
		{`campaign_age:influencer_post_saves_shares_at_age:p25`, 0, 1},
	} {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		pp, ec := perPostReads(e)
		if len(pp) != tc.perPost || len(ec) != tc.earlyCurve {
			t.Errorf("%s: per post %v, early curve %v; want %d and %d", tc.expr, pp, ec, tc.perPost, tc.earlyCurve)
		}
	}
}

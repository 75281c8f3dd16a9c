package alerts

import (
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
)

// postSeries are the families a campaign with post_series: per_creator
// sums per creator and platform (post="all"), or does not record at all
// (the early curve).
var postSeries = []string{
	"influencer_post_views", "influencer_post_reach", "influencer_post_engagements",
	"influencer_post_published_timestamp_seconds",
	"influencer_post_views_at_age", "influencer_post_engagements_at_age",
	"influencer_post_at_age_polled_timestamp_seconds", "influencer_early_curve_posts",
}

// Every rule that reads a post family, directly or through another rule,
// is in the outcome table of docs/metrics.md's section on post_series:
// none changes meaning under per_creator without the contract saying how.
func TestPerCreatorRulesDocumented(t *testing.T) {
	reads := map[string][]string{}
	for _, f := range ruleFiles(t) {
		for _, g := range readRules(t, f).Groups {
			for _, r := range g.Rules {
				reads[ruleName(r)] = selectors(t, f+": "+ruleName(r), r.Expr)
			}
		}
	}
	affected := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for name, names := range reads {
			if !affected[name] && slices.ContainsFunc(names, func(n string) bool { return affected[n] || slices.Contains(postSeries, n) }) {
				affected[name], changed = true, true
			}
		}
	}
	if len(affected) == 0 {
		t.Fatal("no rule reads a post family")
	}
	doc, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## The cardinality guard")
	if !ok {
		t.Fatal(`docs/metrics.md has no "## The cardinality guard" section`)
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	var missing []string
	for name := range affected {
		if !strings.Contains(section, "`"+name+"`") {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("rules reading post series that docs/metrics.md's cardinality guard section does not name: %s", strings.Join(missing, ", "))
	}
}

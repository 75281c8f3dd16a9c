package alerts

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/influencer-exporter/influencer_exporter/internal/jobcheck"
	"github.com/influencer-exporter/influencer_exporter/internal/promprog"
	"github.com/influencer-exporter/influencer_exporter/internal/promtool"
)

// TestMain ends the run with a visible line when tests skipped for want of
// promtool, prometheus, alertmanager or amtool.
func TestMain(m *testing.M) { promprog.Main(m) }

// ruleFile is the part of a Prometheus rules file the checks below read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
	// line is where the rule starts, for error messages.
	line int
}

// scrapeSeries are the series Prometheus itself writes for every scrape,
// which rules may read besides the exporter's: up is how
// InfluencerExporterDown sees a failed scrape.
var scrapeSeries = map[string]bool{"up": true}

const runbookBase = "https://github.com/influencer-exporter/influencer_exporter/blob/main/docs/runbooks.md#"

var (
	recordName = regexp.MustCompile(`^[a-z_]+:[a-z_0-9]+:[a-z_0-9]+$`)
	alertName  = regexp.MustCompile(`^Influencer[A-Z][A-Za-z0-9]*$`)
	// A metric in a table row of docs/metrics.md: | influencer_x | type | ...
	docMetric = regexp.MustCompile("(?m)^\\| *`?(influencer_[a-z_]+)`? *\\|")
	// A Markdown heading of docs/runbooks.md.
	heading = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)
)

func ruleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no *.rules.yml in alerts/")
	}
	return files
}

// TestPromtoolCheckRules lints every rules file with the real promtool.
func TestPromtoolCheckRules(t *testing.T) {
	bin := promtool.Path(t)
	for _, f := range ruleFiles(t) {
		t.Run(f, func(t *testing.T) {
			out, err := exec.Command(bin, "check", "rules", f).CombinedOutput()
			if err != nil {
				t.Fatalf("promtool check rules %s: %v\n%s", f, err, out)
			}
		})
	}
}

// TestPromtoolTestRules runs the rule unit tests beside each rules file.
func TestPromtoolTestRules(t *testing.T) {
	bin := promtool.Path(t)
	for _, f := range ruleFiles(t) {
		test := strings.TrimSuffix(f, ".rules.yml") + ".test.yml"
		t.Run(test, func(t *testing.T) {
			if _, err := os.Stat(test); err != nil {
				t.Fatalf("%s has no unit tests: %v", f, err)
			}
			out, err := exec.Command(bin, "test", "rules", test).CombinedOutput()
			if err != nil {
				t.Fatalf("promtool test rules %s: %v\n%s", test, err, out)
			}
		})
	}
}

// TestRuleConventions checks what promtool does not: the project's naming,
// labels and annotations, that every runbook link has its section, that
// every metric an expression reads is in the metric contract or recorded
// here, and that no expression adds up or joins series of different jobs.
func TestRuleConventions(t *testing.T) {
	metrics := contractMetrics(t)
	anchors := runbookAnchors(t)

	files := map[string]ruleFile{}
	recorded := map[string]bool{}
	for _, f := range ruleFiles(t) {
		rf := readRules(t, f)
		files[f] = rf
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					recorded[r.Record] = true
				}
			}
		}
	}

	alerts := map[string]string{}
	for f, rf := range files {
		if len(rf.Groups) != 1 {
			t.Errorf("%s: %d groups, want one group per concern and file", f, len(rf.Groups))
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				where := f + ":" + strconv.Itoa(r.line)
				if r.Alert != "" {
					if prev, dup := alerts[r.Alert]; dup {
						t.Errorf("%s: alert %s already defined at %s", where, r.Alert, prev)
					}
					alerts[r.Alert] = where
					checkAlert(t, where, r, anchors)
				} else if !recordName.MatchString(r.Record) {
					t.Errorf("%s: recording rule %q is not named level:metric:operation", where, r.Record)
				}
				for _, name := range selectors(t, where, r.Expr) {
					if !metrics[name] && !recorded[name] && !scrapeSeries[name] {
						t.Errorf("%s: %s reads %s, which is neither in docs/metrics.md nor a recording rule", where, ruleName(r), name)
					}
				}
				for _, p := range jobProblems(t, where, r.Expr) {
					t.Errorf("%s: %s: %s; keep job, so that exporters scraped under different jobs are never added together", where, ruleName(r), p)
				}
			}
		}
	}
	for _, want := range []string{
		"InfluencerExporterDown", "InfluencerCollectorDown", "InfluencerCollectorDataStale", "InfluencerCoverageGap",
		"InfluencerProviderRateLimited", "InfluencerProviderQuotaLow", "InfluencerProviderTokenExpiringSoon",
		"InfluencerTrackingLinkBroken", "InfluencerTrackingLinkWrongDestination", "InfluencerTrackingLinkClicksStalled",
		"InfluencerDiscountCodeNotRedeeming", "InfluencerAttentionWithoutAction", "InfluencerPostStalledEarly",
		"InfluencerClicksWithoutVisits", "InfluencerFollowerSpike", "InfluencerEngagementWithoutReach", "InfluencerEngagementRateOutlier",
	} {
		if _, ok := alerts[want]; !ok {
			t.Errorf("alert %s is missing", want)
		}
	}
}

func checkAlert(t *testing.T, where string, r rule, anchors map[string]bool) {
	t.Helper()
	if !alertName.MatchString(r.Alert) {
		t.Errorf("%s: alert %q is not CamelCase with the Influencer prefix", where, r.Alert)
	}
	if r.For == "" {
		t.Errorf("%s: %s has no for:", where, r.Alert)
	}
	if s := r.Labels["severity"]; !slices.Contains([]string{"critical", "warning", "info"}, s) {
		t.Errorf("%s: %s has severity %q, want critical, warning or info", where, r.Alert, s)
	}
	for _, a := range []string{"summary", "description", "runbook_url"} {
		if strings.TrimSpace(r.Annotations[a]) == "" {
			t.Errorf("%s: %s has no %s annotation", where, r.Alert, a)
		}
	}
	if strings.Contains(r.Annotations["summary"], "{{") {
		t.Errorf("%s: %s has a templated summary; keep it static so notifications group", where, r.Alert)
	}
	desc := r.Annotations["description"]
	if !strings.Contains(desc, "$labels.") || !strings.Contains(desc, "$value") {
		t.Errorf("%s: %s: description should name the object with $labels and give $value", where, r.Alert)
	}
	want := runbookBase + strings.ToLower(r.Alert)
	url := r.Annotations["runbook_url"]
	if url != want {
		t.Errorf("%s: %s: runbook_url %q, want %q", where, r.Alert, url, want)
	}
	if anchor, ok := strings.CutPrefix(url, runbookBase); ok && !anchors[anchor] {
		t.Errorf("%s: %s: docs/runbooks.md has no heading with anchor #%s", where, r.Alert, anchor)
	}
}

func readRules(t *testing.T, path string) ruleFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.Unmarshal(data, &rf); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	// Decode again as nodes to know each rule's line.
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for gi, g := range nodeSeq(nodeKey(doc.Content[0], "groups")) {
		for ri, r := range nodeSeq(nodeKey(g, "rules")) {
			if gi < len(rf.Groups) && ri < len(rf.Groups[gi].Rules) {
				rf.Groups[gi].Rules[ri].line = r.Line
			}
		}
	}
	return rf
}

func nodeKey(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func nodeSeq(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// selectors returns the metric names an expression reads.
func selectors(t *testing.T, where, expr string) []string {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return nil
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			if vs.Name == "" {
				t.Errorf("%s: selector %s has no metric name", where, vs)
			}
			names = append(names, vs.Name)
		}
		return nil
	})
	return names
}

// jobProblems returns the places where an expression would mix series of
// different jobs: an aggregation whose result drops the job label, or a
// vector match (on, ignoring) that does not match on it.
func jobProblems(t *testing.T, where, expr string) []string {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return nil
	}
	return jobcheck.Problems(e)
}

// contractMetrics returns the metric names docs/metrics.md lists.
func contractMetrics(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range docMetric.FindAllStringSubmatch(string(data), -1) {
		out[m[1]] = true
	}
	if len(out) < 10 {
		t.Fatalf("found only %d metrics in docs/metrics.md: has its table format changed?", len(out))
	}
	return out
}

// runbookAnchors returns the anchors GitHub gives the headings of
// docs/runbooks.md.
func runbookAnchors(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "docs", "runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(string(data), -1) {
		out[githubAnchor(m[1])] = true
	}
	return out
}

// githubAnchor is the fragment GitHub links a Markdown heading to: lower
// case, spaces to hyphens, punctuation other than hyphens and underscores
// dropped.
func githubAnchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

func ruleName(r rule) string {
	if r.Alert != "" {
		return r.Alert
	}
	return r.Record
}

// testFile is the part of a promtool unit test file the coverage check reads.
type testFile struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		AlertRuleTests []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
		PromQLExprTests []struct {
			Expr       string `yaml:"expr"`
			ExpSamples []any  `yaml:"exp_samples"`
		} `yaml:"promql_expr_test"`
	} `yaml:"tests"`
}

// TestRuleTestCoverage checks that the unit tests beside each rules file
// have, for every alert, a case where it fires and one where it does not,
// and for every recording rule a case checking its values.
func TestRuleTestCoverage(t *testing.T) {
	for _, f := range ruleFiles(t) {
		test := strings.TrimSuffix(f, ".rules.yml") + ".test.yml"
		data, err := os.ReadFile(test)
		if err != nil {
			t.Errorf("%s has no unit tests: %v", f, err)
			continue
		}
		var tf testFile
		if err := yaml.Unmarshal(data, &tf); err != nil {
			t.Fatalf("%s: %v", test, err)
		}
		if !slices.Contains(tf.RuleFiles, f) {
			t.Errorf("%s does not load %s", test, f)
		}
		firing, quiet, checked := map[string]bool{}, map[string]bool{}, map[string]bool{}
		for _, tc := range tf.Tests {
			for _, a := range tc.AlertRuleTests {
				if len(a.ExpAlerts) > 0 {
					firing[a.Alertname] = true
				} else {
					quiet[a.Alertname] = true
				}
			}
			for _, e := range tc.PromQLExprTests {
				if len(e.ExpSamples) > 0 {
					checked[strings.TrimSpace(e.Expr)] = true
				}
			}
		}
		for _, g := range readRules(t, f).Groups {
			for _, r := range g.Rules {
				switch {
				case r.Alert != "" && !firing[r.Alert]:
					t.Errorf("%s: no case where %s fires", test, r.Alert)
				case r.Alert != "" && !quiet[r.Alert]:
					t.Errorf("%s: no case where %s stays quiet", test, r.Alert)
				case r.Record != "" && !checked[r.Record]:
					t.Errorf("%s: no promql_expr_test with expr %s", test, r.Record)
				}
			}
		}
	}
}

// TestAlertmanagerConfig checks the example Alertmanager configuration
// against the rules: amtool validates its syntax, this checks that it
// routes every severity the rules use, that its inhibitions name existing
// alerts and labels those alerts carry, and that the webhook reports
// resolutions.
func TestAlertmanagerConfig(t *testing.T) {
	var cfg struct {
		Route struct {
			GroupBy []string `yaml:"group_by"`
			Routes  []struct {
				Matchers          []string `yaml:"matchers"`
				MuteTimeIntervals []string `yaml:"mute_time_intervals"`
			} `yaml:"routes"`
		} `yaml:"route"`
		TimeIntervals []struct {
			Name string `yaml:"name"`
		} `yaml:"time_intervals"`
		InhibitRules []struct {
			SourceMatchers []string `yaml:"source_matchers"`
			TargetMatchers []string `yaml:"target_matchers"`
			Equal          []string `yaml:"equal"`
		} `yaml:"inhibit_rules"`
		Receivers []struct {
			Name           string `yaml:"name"`
			WebhookConfigs []struct {
				URL          string `yaml:"url"`
				SendResolved bool   `yaml:"send_resolved"`
			} `yaml:"webhook_configs"`
		} `yaml:"receivers"`
	}
	data, err := os.ReadFile("alertmanager.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}

	// The labels each alert carries: its expression's output labels are
	// not known without evaluating it, so take them from the unit tests'
	// expected alerts, which promtool has checked exactly.
	alertLabels := map[string]map[string]bool{}
	for _, f := range ruleFiles(t) {
		for _, g := range readRules(t, f).Groups {
			for _, r := range g.Rules {
				if r.Alert != "" {
					alertLabels[r.Alert] = map[string]bool{}
				}
			}
		}
		test := strings.TrimSuffix(f, ".rules.yml") + ".test.yml"
		data, err := os.ReadFile(test)
		if err != nil {
			continue
		}
		var tf struct {
			Tests []struct {
				AlertRuleTests []struct {
					Alertname string `yaml:"alertname"`
					ExpAlerts []struct {
						ExpLabels map[string]string `yaml:"exp_labels"`
					} `yaml:"exp_alerts"`
				} `yaml:"alert_rule_test"`
			} `yaml:"tests"`
		}
		if err := yaml.Unmarshal(data, &tf); err != nil {
			t.Fatalf("%s: %v", test, err)
		}
		for _, tc := range tf.Tests {
			for _, a := range tc.AlertRuleTests {
				for _, e := range a.ExpAlerts {
					for l := range e.ExpLabels {
						if alertLabels[a.Alertname] != nil {
							alertLabels[a.Alertname][l] = true
						}
					}
				}
			}
		}
	}

	routed := map[string]bool{}
	intervals := map[string]bool{}
	for _, ti := range cfg.TimeIntervals {
		intervals[ti.Name] = true
	}
	for _, r := range cfg.Route.Routes {
		for _, m := range r.Matchers {
			if v, ok := strings.CutPrefix(m, `severity="`); ok {
				routed[strings.TrimSuffix(v, `"`)] = true
			}
		}
		for _, mi := range r.MuteTimeIntervals {
			if !intervals[mi] {
				t.Errorf("route mutes with undefined time interval %q", mi)
			}
		}
	}
	for _, s := range []string{"critical", "warning", "info"} {
		if !routed[s] {
			t.Errorf("no route for severity %q", s)
		}
	}
	for _, l := range []string{"alertname", "campaign", "creator"} {
		if !slices.Contains(cfg.Route.GroupBy, l) {
			t.Errorf("route does not group by %s", l)
		}
	}

	names := func(matchers []string) []string {
		var out []string
		for _, m := range matchers {
			for _, op := range []string{`alertname=~"`, `alertname="`} {
				if v, ok := strings.CutPrefix(m, op); ok {
					out = append(out, strings.Split(strings.TrimSuffix(v, `"`), "|")...)
				}
			}
		}
		return out
	}
	for i, ir := range cfg.InhibitRules {
		src, dst := names(ir.SourceMatchers), names(ir.TargetMatchers)
		if len(src) == 0 || len(dst) == 0 || len(ir.Equal) == 0 {
			t.Errorf("inhibit_rules[%d]: want alertname source and target matchers and equal labels", i)
		}
		// Several exporters may share one Prometheus: one exporter's
		// alerts must not silence another's.
		if !slices.Contains(ir.Equal, "job") {
			t.Errorf("inhibit_rules[%d]: equal %v does not match on job", i, ir.Equal)
		}
		for _, a := range append(src, dst...) {
			labels, ok := alertLabels[a]
			if !ok {
				t.Errorf("inhibit_rules[%d]: no alert %s", i, a)
				continue
			}
			// Alertmanager treats a label missing on both sides as equal,
			// which would inhibit across every provider or link.
			for _, l := range ir.Equal {
				if !labels[l] {
					t.Errorf("inhibit_rules[%d]: %s has no label %s to match on", i, a, l)
				}
			}
		}
	}

	webhooks := 0
	for _, r := range cfg.Receivers {
		for _, w := range r.WebhookConfigs {
			webhooks++
			if !w.SendResolved {
				t.Errorf("receiver %s: webhook %s does not send resolved notifications", r.Name, w.URL)
			}
		}
	}
	if webhooks == 0 {
		t.Error("no webhook receiver")
	}
}

// TestAmtoolCheckConfig validates the example Alertmanager configuration and
// its templates with the real amtool.
func TestAmtoolCheckConfig(t *testing.T) {
	bin := promprog.Amtool.Path(t)
	out, err := exec.Command(bin, "check-config", "alertmanager.yml").CombinedOutput()
	if err != nil {
		t.Fatalf("amtool check-config alertmanager.yml: %v\n%s", err, out)
	}
}

func TestGithubAnchor(t *testing.T) {
	for h, want := range map[string]string{
		"InfluencerTrackingLinkBroken": "influencertrackinglinkbroken",
		"How the alerts relate":        "how-the-alerts-relate",
		"`up` == 0, then: what?":       "up--0-then-what",
		"snake_case-and-hyphens":       "snake_case-and-hyphens",
	} {
		if got := githubAnchor(h); got != want {
			t.Errorf("githubAnchor(%q) = %q, want %q", h, got, want)
		}
	}
}

func TestJobProblems(t *testing.T) {
	for expr, want := range map[string]int{
		`sum by (job, campaign) (rate(m[5m]))`:                   0,
		`sum without (instance) (m)`:                             0,
		`up{job=~"influencer.*"} == 0 or absent(up)`:             0,
		`a / on (job, campaign) group_left () b`:                 0,
		`a * ignoring (destination_host) group_left () b`:        0,
		`sum by (campaign) (m)`:                                  1,
		`count(m)`:                                               1,
		`sum without (job) (m)`:                                  1,
		`quantile by (campaign) (0.5, m)`:                        1,
		`a and on (campaign, creator) b`:                         1,
		`a + ignoring (job) b`:                                   1,
		`sum by (campaign) (a) + on (campaign) group_right () b`: 2,
	} {
		if got := jobProblems(t, "test", expr); len(got) != want {
			t.Errorf("jobProblems(%s) = %q, want %d problems", expr, got, want)
		}
	}
}

package dashboards

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/internal/jobcheck"
	"github.com/influencer-exporter/influencer_exporter/internal/promprog"
	"github.com/influencer-exporter/influencer_exporter/internal/promtool"
)

// TestMain ends the run with a visible line when tests skipped for want of
// promtool, prometheus, alertmanager or amtool.
func TestMain(m *testing.M) { promprog.Main(m) }

// testVars are what the tests put in for Grafana's variables before parsing
// a query: durations for the interval variables, and regexes that are safe
// inside a =~ matcher for the template variables.
var testVars = map[string]string{
	"__rate_interval": "1m",
	"__interval":      "1m",
	"__range":         "5m",
	"__to":            "1700000000000",
	"campaign":        ".*",
	"creator":         ".*",
	"collector":       ".*",
	"job":             ".*",
	"age":             ".*",
	"datasource":      "prometheus",
}

// jobVariableQuery is the query of every dashboard's job variable: the jobs
// that scrape an exporter.
const jobVariableQuery = "label_values(influencer_exporter_build_info, job)"

// wantDatasource is the data source reference of every panel, target and
// annotation: the dashboard's datasource variable, never a fixed uid.
var wantDatasource = Datasource{Type: "prometheus", UID: "${datasource}"}

// attentionAndAction are the dashboards about campaigns, which keep action
// and attention panels in separate rows.
var attentionAndAction = []string{"influencer-overview", "influencer-velocity", "influencer-creator"}

func load(t *testing.T) []Dashboard {
	t.Helper()
	ds, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 4 {
		t.Fatalf("found %d dashboards, want 4", len(ds))
	}
	return ds
}

func TestFormatted(t *testing.T) {
	for _, d := range load(t) {
		if !json.Valid(d.Raw) {
			t.Errorf("%s: invalid JSON", d.File)
			continue
		}
		var compact, want bytes.Buffer
		if err := json.Compact(&compact, d.Raw); err != nil {
			t.Fatal(err)
		}
		if err := json.Indent(&want, compact.Bytes(), "", "  "); err != nil {
			t.Fatal(err)
		}
		want.WriteByte('\n')
		if !bytes.Equal(d.Raw, want.Bytes()) {
			t.Errorf("%s: not formatted with 2-space indentation and a final newline; first difference at line %d", d.File, firstDiffLine(d.Raw, want.Bytes()))
		}
	}
}

func firstDiffLine(a, b []byte) int {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range min(len(la), len(lb)) {
		if !bytes.Equal(la[i], lb[i]) {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}

func TestStructure(t *testing.T) {
	ds := load(t)
	uids := map[string]string{}
	titles := map[string]bool{}
	for _, d := range ds {
		if d.UID == "" || len(d.UID) > 40 {
			t.Errorf("%s: uid %q: want a fixed uid of 1 to 40 characters", d.File, d.UID)
		}
		if other, ok := uids[d.UID]; ok {
			t.Errorf("%s: uid %q is also %s's", d.File, d.UID, other)
		}
		uids[d.UID] = d.File
		if titles[d.Title] {
			t.Errorf("%s: title %q is not unique", d.File, d.Title)
		}
		titles[d.Title] = true
		if string(d.ID) != "null" {
			t.Errorf("%s: id is %s, want null (Grafana assigns it)", d.File, d.ID)
		}
		if d.SchemaVersion != SchemaVersion {
			t.Errorf("%s: schemaVersion %d, want %d", d.File, d.SchemaVersion, SchemaVersion)
		}
		if d.Description == "" {
			t.Errorf("%s: no description", d.File)
		}
	}

	for _, d := range ds {
		t.Run(d.UID, func(t *testing.T) {
			checkPanels(t, d)
			checkVariables(t, d)
			checkAnnotations(t, d)
			checkLinks(t, d, uids)
		})
	}
}

func checkPanels(t *testing.T, d Dashboard) {
	ids := map[int]string{}
	var rows []string
	for _, p := range d.AllPanels() {
		if p.ID <= 0 {
			t.Errorf("panel %q: id %d", p.Title, p.ID)
		}
		if other, ok := ids[p.ID]; ok {
			t.Errorf("panel %q: id %d is also panel %q's", p.Title, p.ID, other)
		}
		ids[p.ID] = p.Title
		if p.Title == "" {
			t.Errorf("panel %d has no title", p.ID)
		}
		if p.Type == "row" {
			rows = append(rows, p.Title)
			continue
		}
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if p.Datasource == nil || *p.Datasource != wantDatasource {
			t.Errorf("%s: datasource %v, want %v", where, p.Datasource, wantDatasource)
		}
		if p.Description == "" {
			t.Errorf("%s: no description", where)
		}
		if p.FieldConfig.Defaults.Unit == "" {
			t.Errorf("%s: no unit", where)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no queries", where)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || *tg.Datasource != wantDatasource {
				t.Errorf("%s target %s: datasource %v, want %v", where, tg.RefID, tg.Datasource, wantDatasource)
			}
			if tg.Expr == "" {
				t.Errorf("%s target %s: no expr", where, tg.RefID)
			}
			if refs[tg.RefID] {
				t.Errorf("%s: refId %q twice", where, tg.RefID)
			}
			refs[tg.RefID] = true
		}
	}
	if slices.Contains(attentionAndAction, d.UID) {
		for _, family := range []string{"Action", "Attention"} {
			if !slices.ContainsFunc(rows, func(r string) bool { return strings.HasPrefix(r, family) }) {
				t.Errorf("no row titled %q...: action and attention panels go in separate rows (rows: %q)", family, rows)
			}
		}
	}
}

func checkVariables(t *testing.T, d Dashboard) {
	vars := map[string]Variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	ds, ok := vars["datasource"]
	if !ok || ds.Type != "datasource" || ds.QueryString() != "prometheus" {
		t.Errorf("want a datasource variable of type datasource, query prometheus; got %+v", ds)
	}
	// The job variable comes right after the datasource: every other
	// variable and every query depends on it.
	if i := slices.IndexFunc(d.Templating.List, func(v Variable) bool { return v.Name == "job" }); i < 1 || d.Templating.List[i-1].Name != "datasource" {
		t.Errorf("the job variable is not right after the datasource variable (at %d)", i)
	}
	if v := vars["job"]; v.QueryString() != jobVariableQuery {
		t.Errorf("variable job: query %q, want %q", v.QueryString(), jobVariableQuery)
	}
	for _, name := range []string{"job", "campaign", "creator"} {
		v, ok := vars[name]
		if !ok {
			t.Errorf("no %s variable", name)
			continue
		}
		if v.Type != "query" || !v.Multi || !v.IncludeAll {
			t.Errorf("variable %s: type %q multi %v includeAll %v, want a multi-select query variable with All", name, v.Type, v.Multi, v.IncludeAll)
		}
		if _, label, ok := LabelValues(v.QueryString()); !ok || label != name {
			t.Errorf("variable %s: query %q, want label_values(..., %s)", name, v.QueryString(), name)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		if v.Datasource == nil || *v.Datasource != wantDatasource {
			t.Errorf("variable %s: datasource %v, want %v", v.Name, v.Datasource, wantDatasource)
		}
		sel, _, ok := LabelValues(v.QueryString())
		if !ok {
			t.Errorf("variable %s: query %q is not label_values(...)", v.Name, v.QueryString())
			continue
		}
		if sel == "" {
			continue
		}
		if _, err := parser.NewParser(parser.Options{}).ParseMetricSelector(Expand(sel, testVars)); err != nil {
			t.Errorf("variable %s: selector %q: %v", v.Name, sel, err)
		}
	}
}

func checkAnnotations(t *testing.T, d Dashboard) {
	found := false
	for _, a := range d.Annotations.List {
		if a.Datasource == nil || *a.Datasource != wantDatasource {
			t.Errorf("annotation %q: datasource %v, want %v", a.Name, a.Datasource, wantDatasource)
		}
		found = found || (strings.Contains(a.Expr, "ALERTS{") && strings.Contains(a.Expr, `alertstate="firing"`) && strings.Contains(a.Expr, `campaign=~"$campaign"`))
	}
	if !found {
		t.Error(`no annotation on ALERTS{alertstate="firing", campaign=~"$campaign"}`)
	}

	var raw struct {
		Annotations struct {
			List []annotationOptions `json:"list"`
		} `json:"annotations"`
	}
	if err := json.Unmarshal(d.Raw, &raw); err != nil {
		t.Fatal(err)
	}
	byName := map[string]annotationOptions{}
	for _, a := range raw.Annotations.List {
		byName[a.Name] = a
	}
	if a, ok := byName["Checkpoints"]; !ok || a.Expr != checkpointsExpr || !a.UseValueForTime || !a.Enable {
		t.Errorf("want an enabled annotation Checkpoints on %s with useValueForTime; got %+v", checkpointsExpr, a)
	}
	a, ok := byName["Settling"]
	if !ok || a.Expr != settlingExpr || a.UseValueForTime || !strings.Contains(a.TextFormat, "two days") {
		t.Errorf("want an annotation Settling on %s, without useValueForTime, whose text says figures settle for up to two days; got %+v", settlingExpr, a)
	}
	if slices.Contains(attentionAndAction, d.UID) && !a.Enable {
		t.Error("the Settling annotation is off: the campaign dashboards show it")
	}
}

// The annotations every dashboard has besides the firing alerts: the
// campaigns' checkpoint reads, and the last 48 hours before the end of the
// time range, whose platform and analytics figures still settle.
//
// Grafana's Prometheus annotations run a range query and, with
// useValueForTime, take each step's value as the event's time in
// milliseconds; steps with the same value make one event. The checkpoint
// gauge holds the time of the last checkpoint passed, so each checkpoint is
// one event at its own time, however long it stays the last. Without
// useValueForTime, consecutive steps with a value above 0 make one region:
// the Settling query is 1 at the steps within 48 hours of ${__to} (the end
// of the time range, in milliseconds) and absent before.
const (
	checkpointsExpr = `influencer_campaign_checkpoint_timestamp_seconds{job=~"$job", campaign=~"$campaign"} * 1000`
	settlingExpr    = `vector(1) and (vector(time()) > ${__to} / 1000 - 172800)`
)

// annotationOptions is the part of an annotation the steering checks read.
type annotationOptions struct {
	Name            string `json:"name"`
	Expr            string `json:"expr"`
	Enable          bool   `json:"enable"`
	UseValueForTime bool   `json:"useValueForTime"`
	TextFormat      string `json:"textFormat"`
}

// TestAnnotationQueries evaluates the Checkpoints and Settling queries with
// the real promtool: a checkpoint's value is its time in milliseconds, and
// the Settling query has a value exactly over the 48 hours before ${__to}.
func TestAnnotationQueries(t *testing.T) {
	bin := promtool.Path(t)
	vars := maps.Clone(testVars)
	vars["__to"] = "259200000" // 72h after the test's time 0, in milliseconds
	type sample struct {
		Labels string  `yaml:"labels"`
		Value  float64 `yaml:"value"`
	}
	type exprTest struct {
		Expr       string   `yaml:"expr"`
		EvalTime   string   `yaml:"eval_time"`
		ExpSamples []sample `yaml:"exp_samples"`
	}
	checkpoint := func(at string, ms float64) exprTest {
		return exprTest{Expand(checkpointsExpr, vars), at, []sample{{`{job="influencer", campaign="spring-launch"}`, ms}}}
	}
	settling := func(at string, in bool) exprTest {
		e := exprTest{Expr: Expand(settlingExpr, vars), EvalTime: at}
		if in {
			e.ExpSamples = []sample{{"{}", 1}}
		}
		return e
	}
	file := map[string]any{
		"evaluation_interval": "1m",
		"tests": []map[string]any{{
			"interval": "1h",
			// Checkpoints at 09:00 and 18:00 from time 0 on (the day
			// before ended with one at 18:00).
			"input_series": []map[string]string{{
				"series": `influencer_campaign_checkpoint_timestamp_seconds{job="influencer", campaign="spring-launch"}`,
				"values": "-21600x8 32400x8 64800x14 118800x8",
			}},
			"promql_expr_test": []exprTest{
				checkpoint("5h", -21600000),
				checkpoint("12h", 32400000),
				checkpoint("20h", 64800000),
				checkpoint("35h", 118800000),
				settling("0s", false),
				settling("23h59m", false),
				settling("24h1m", true),
				settling("50h", true),
				settling("72h", true),
			},
		}},
	}
	data, err := yaml.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "annotations.test.yml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "test", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("promtool test rules: %v\n%s\n%s", err, out, data)
	}
}

// steeringPanel is the part of a panel the steering checks read.
type steeringPanel struct {
	Type        string      `json:"type"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Links       []panelLink `json:"links"`
	Options     struct {
		SortBy []struct {
			DisplayName string `json:"displayName"`
			Desc        bool   `json:"desc"`
		} `json:"sortBy"`
	} `json:"options"`
	Targets []Target `json:"targets"`
	// Row is the title of the row the panel is in.
	Row string `json:"-"`
}

// steeringPanels returns a dashboard's panels, each with its row's title.
func steeringPanels(t *testing.T, uid string) map[string]steeringPanel {
	t.Helper()
	for _, d := range load(t) {
		if d.UID != uid {
			continue
		}
		var raw struct {
			Panels []steeringPanel `json:"panels"`
		}
		if err := json.Unmarshal(d.Raw, &raw); err != nil {
			t.Fatal(err)
		}
		out := map[string]steeringPanel{}
		row := ""
		for _, p := range raw.Panels {
			if p.Type == "row" {
				row = p.Title
				continue
			}
			p.Row = row
			out[p.Title] = p
		}
		return out
	}
	t.Fatalf("no dashboard %s", uid)
	return nil
}

// selects returns the metric and recording rule names a panel's queries
// select.
func (p steeringPanel) selects(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, tg := range p.Targets {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(Expand(tg.Expr, testVars))
		if err != nil {
			t.Fatalf("panel %q target %s: %v", p.Title, tg.RefID, err)
		}
		for _, n := range metricNames(e) {
			out[n] = true
		}
	}
	return out
}

// panelLink is a link in a panel's header.
type panelLink struct {
	URL string `json:"url"`
}

func (p steeringPanel) links(url string) bool {
	return slices.Contains(p.Links, panelLink{URL: url})
}

const runbookURL = "https://github.com/influencer-exporter/influencer_exporter/blob/main/docs/runbooks.md#"

// TestSteeringPanels checks the panels a campaign team steers with at its
// checkpoint reads: cost per action and the Reallocate table on the
// overview's action side, a panel per authenticity signal in its Traction
// or inflation row, and the velocity dashboard's early curve.
func TestSteeringPanels(t *testing.T) {
	overview := steeringPanels(t, "influencer-overview")

	realloc, ok := overview["Reallocate"]
	switch {
	case !ok:
		t.Error("overview: no Reallocate panel")
	case realloc.Type != "table" || !strings.HasPrefix(realloc.Row, "Action"):
		t.Errorf("overview: Reallocate is a %s in row %q, want a table in an Action row", realloc.Type, realloc.Row)
	case len(realloc.Options.SortBy) == 0 || realloc.Options.SortBy[0].DisplayName != "Cost per redemption" || realloc.Options.SortBy[0].Desc:
		t.Errorf("overview: Reallocate sorts by %+v, want cost per redemption, cheapest first", realloc.Options.SortBy)
	case !strings.Contains(realloc.Description, "without a fee"):
		t.Error("overview: the Reallocate description does not say what becomes of a creator without a fee")
	}
	sel := realloc.selects(t)
	for _, want := range []string{
		"campaign_creator_currency:influencer_cost_per_redemption:ratio",
		"campaign_currency:influencer_cost_per_redemption:median",
		"campaign_creator_currency:influencer_return_on_spend:ratio",
		"campaign_currency:influencer_return_on_spend:median",
		"campaign_creator_currency:influencer_budget_spent:ratio",
		"campaign_creator_currency:influencer_code_net_revenue:sum",
		"influencer_creator_fee",
		"influencer_link_clicks_total",
		"influencer_code_redemptions_total",
	} {
		if !sel[want] {
			t.Errorf("overview: the Reallocate table does not show %s", want)
		}
	}

	// Each cost per action per creator, with its campaign median, in an
	// action row.
	for rule, median := range map[string]string{
		"campaign_creator_currency:influencer_cost_per_click:ratio":      "campaign_currency:influencer_cost_per_click:median",
		"campaign_creator_currency:influencer_cost_per_redemption:ratio": "campaign_currency:influencer_cost_per_redemption:median",
		"campaign_creator_currency:influencer_return_on_spend:ratio":     "campaign_currency:influencer_return_on_spend:median",
	} {
		found := false
		for title, p := range overview {
			sel := p.selects(t)
			if title == "Reallocate" || !sel[rule] {
				continue
			}
			found = true
			if !sel[median] || !strings.HasPrefix(p.Row, "Action") || p.Type != "timeseries" {
				t.Errorf("overview: panel %q shows %s: want a time series with %s, in an Action row (it is a %s in %q)", title, rule, median, p.Type, p.Row)
			}
		}
		if !found {
			t.Errorf("overview: no panel besides Reallocate shows %s", rule)
		}
	}

	// One panel per authenticity signal in the Traction or inflation row,
	// each linking its alert's runbook and saying what a genuine and an
	// inflated curve look like.
	for alert, rules := range map[string][]string{
		"InfluencerClicksWithoutVisits":    {"campaign_creator:influencer_visits_per_click:ratio6h", "campaign:influencer_visits_per_click:median6h"},
		"InfluencerFollowerSpike":          {"campaign_creator_account:influencer_account_followers:delta1h", "campaign_creator_account:influencer_account_followers:deriv24h_offset1h"},
		"InfluencerEngagementWithoutReach": {"campaign_creator_post:influencer_post_engagements:delta6h", "campaign_creator_post:influencer_post_reach:delta6h"},
		"InfluencerEngagementRateOutlier":  {"campaign_creator:influencer_engagements_per_view:ratio", "campaign:influencer_engagements_per_view:median"},
	} {
		url := runbookURL + strings.ToLower(alert)
		var panels []string
		for title, p := range overview {
			if !p.links(url) {
				continue
			}
			panels = append(panels, title)
			if !strings.HasPrefix(p.Row, "Traction or inflation") {
				t.Errorf("overview: panel %q is in row %q, want the Traction or inflation row", title, p.Row)
			}
			desc := strings.ToLower(p.Description)
			if !strings.Contains(p.Description, url) || !strings.Contains(desc, "genuine") || !strings.Contains(desc, "inflated") {
				t.Errorf("overview: the description of %q does not say what a genuine and an inflated curve look like, with the runbook %s", title, url)
			}
			sel := p.selects(t)
			for _, r := range rules {
				if !sel[r] {
					t.Errorf("overview: panel %q does not show %s", title, r)
				}
			}
		}
		if len(panels) != 1 {
			t.Errorf("overview: panels %q link the runbook of %s, want one", panels, alert)
		}
	}

	velocity := steeringPanels(t, "influencer-velocity")
	early, ok := velocity["Early curve"]
	if !ok || !strings.HasPrefix(early.Row, "Attention") || !early.links(runbookURL+"influencerpoststalledearly") {
		t.Errorf("velocity: want an Early curve panel in an Attention row, linking the InfluencerPostStalledEarly runbook; got %+v", early)
	}
	sel = early.selects(t)
	for _, want := range []string{
		"campaign_creator_post_age:influencer_post_saves_shares_at_age:sum",
		"campaign_age:influencer_post_saves_shares_at_age:p25",
		"campaign_age:influencer_post_saves_shares_at_age:p50",
		"campaign_age:influencer_post_saves_shares_at_age:p75",
		"influencer_post_views_at_age",
	} {
		if !sel[want] {
			t.Errorf("velocity: the Early curve panel does not show %s", want)
		}
	}
}

// runbookAnchorRE finds the runbook sections dashboards link to.
var runbookAnchorRE = regexp.MustCompile(`docs/runbooks\.md#([a-z0-9-]+)`)

// TestRunbookLinks checks that every runbook section a dashboard links to
// is a heading of docs/runbooks.md.
func TestRunbookLinks(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "docs", "runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if h, ok := strings.CutPrefix(line, "#"); ok {
			anchors[githubAnchor(strings.TrimLeft(h, "#"))] = true
		}
	}
	n := 0
	for _, d := range load(t) {
		seen := map[string]bool{}
		for _, m := range runbookAnchorRE.FindAllStringSubmatch(string(d.Raw), -1) {
			n++
			if !anchors[m[1]] && !seen[m[1]] {
				t.Errorf("%s links to docs/runbooks.md#%s, which is no section there", d.UID, m[1])
			}
			seen[m[1]] = true
		}
	}
	if n == 0 {
		t.Error("no dashboard links to a runbook")
	}
}

// githubAnchor is the anchor GitHub gives a Markdown heading: lower case,
// spaces as hyphens, other punctuation dropped.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ' || r == '-':
			b.WriteRune('-')
		case r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// settlingMetrics are the figures that change after the fact: platform
// insights and web analytics settle for up to two days, and refunds come
// days after an order. The early-curve values never change once recorded.
var settlingMetrics = []string{
	"influencer_post_views",
	"influencer_post_reach",
	"influencer_post_engagements",
	"influencer_referral_visitors_total",
	"influencer_code_refunds_total",
	"influencer_code_refunded_revenue_total",
}

// TestSettlingPanels checks that every panel showing a figure that still
// settles, directly or through a recording rule, says so.
func TestSettlingPanels(t *testing.T) {
	settling := map[string]bool{}
	for _, m := range settlingMetrics {
		settling[m] = true
	}
	rules := recordingRules(t)
	for changed := true; changed; {
		changed = false
		for name, e := range rules {
			if !settling[name] && slices.ContainsFunc(metricNames(e), func(n string) bool { return settling[n] }) {
				settling[name], changed = true, true
			}
		}
	}
	n := 0
	for _, d := range load(t) {
		for _, p := range d.AllPanels() {
			var reads []string
			for _, tg := range p.Targets {
				e, err := parser.NewParser(parser.Options{}).ParseExpr(Expand(tg.Expr, testVars))
				if err != nil {
					continue // TestQueries reports it.
				}
				for _, name := range metricNames(e) {
					if settling[name] && !slices.Contains(reads, name) {
						reads = append(reads, name)
					}
				}
			}
			if len(reads) == 0 {
				continue
			}
			n++
			if !strings.Contains(strings.ToLower(p.Description), "settl") {
				t.Errorf("%s: panel %d %q shows %s, which settle for up to two days, and its description does not say so", d.UID, p.ID, p.Title, strings.Join(reads, ", "))
			}
		}
	}
	if n == 0 {
		t.Error("no panel shows a settling figure")
	}
}

var dashboardURLRE = regexp.MustCompile(`/d/([A-Za-z0-9_-]+)`)

func checkLinks(t *testing.T, d Dashboard, uids map[string]string) {
	for _, m := range dashboardURLRE.FindAllStringSubmatch(string(d.Raw), -1) {
		if _, ok := uids[m[1]]; !ok {
			t.Errorf("link to /d/%s: no dashboard has that uid", m[1])
		}
	}
	linked := map[string]bool{}
	for _, l := range d.Links {
		if m := dashboardURLRE.FindStringSubmatch(l.URL); m != nil {
			linked[m[1]] = true
		}
	}
	for uid := range uids {
		if uid != d.UID && !linked[uid] {
			t.Errorf("no dashboard link to %s", uid)
		}
	}
}

// rangeFuncRE finds rate, irate and increase calls and their range.
var rangeFuncRE = regexp.MustCompile(`\b(rate|irate|increase)\([^\[]*\[([^\]]*)\]`)

func TestQueries(t *testing.T) {
	metrics, prefixes := contractMetrics(t)
	rules := recordingRules(t)
	for _, d := range load(t) {
		for _, q := range d.Queries() {
			for _, m := range rangeFuncRE.FindAllStringSubmatch(q.Expr, -1) {
				if m[2] != "$__rate_interval" && m[2] != "$__range" {
					t.Errorf("%s: %s over [%s]: use $__rate_interval (or $__range for the selected range)", q.Where, m[1], m[2])
				}
			}
			expr := Expand(q.Expr, testVars)
			e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
			if err != nil {
				t.Errorf("%s: %s: %v", q.Where, expr, err)
				continue
			}
			for _, name := range metricNames(e) {
				known := metrics[name] || rules[name] != nil || name == "ALERTS" ||
					slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) })
				if !known {
					t.Errorf("%s: %s is neither in docs/metrics.md nor a recording rule in alerts/", q.Where, name)
				}
			}
			for _, r := range recomputed(e, rules) {
				t.Errorf("%s: recomputes recording rule %s; use it", q.Where, r)
			}
		}
	}
}

// TestQueriesKeepJob checks that every panel and annotation query shows the
// selected jobs only (job=~"$job" on every selector) and never adds up or
// joins series of different jobs: several exporters may be scraped by one
// Prometheus under different jobs, and two of them must never double a
// sum.
func TestQueriesKeepJob(t *testing.T) {
	vars := maps.Clone(testVars)
	vars["job"] = "$job" // kept as written, to find the matcher
	n := 0
	for _, d := range load(t) {
		for _, q := range d.Queries() {
			e, err := parser.NewParser(parser.Options{}).ParseExpr(Expand(q.Expr, vars))
			if err != nil {
				continue // TestQueries reports it.
			}
			n++
			for _, p := range jobProblems(e) {
				t.Errorf("%s: %s", q.Where, p)
			}
		}
	}
	if n == 0 {
		t.Fatal("no queries checked")
	}
}

// jobProblems returns what in a query ignores the job variable or mixes
// jobs: a selector without job=~"$job", an aggregation whose result drops
// job, or a vector match (on, ignoring) that does not match on job. The one
// match allowed without job is `or on () <constant>`, the fallback of panels
// that count problems, which adds a series only when there is none.
func jobProblems(e parser.Expr) []string {
	var out []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if n, ok := n.(*parser.VectorSelector); ok && !slices.ContainsFunc(n.LabelMatchers, func(m *labels.Matcher) bool {
			return m.Name == "job" && m.Type == labels.MatchRegexp && m.Value == "$job"
		}) {
			out = append(out, fmt.Sprintf(`selector %s has no job=~"$job"`, n))
		}
		return nil
	})
	return append(out, jobcheck.Problems(e)...)
}

// metricNames returns the metric names a query selects.
func metricNames(e parser.Expr) []string {
	var out []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && vs.Name != "" {
			out = append(out, vs.Name)
		}
		return nil
	})
	return out
}

// recomputed returns the recording rules whose value a query repeats: an
// aggregation in the query that is a rule's whole expression (give or take a
// constant factor), with the same grouping over the same function of the
// same metric and the same label matchers apart from the campaign and
// creator filters. An aggregation that is only a part of a rule, such as
// the lifetime clicks under a cost per click, has no rule of its own to use.
func recomputed(e parser.Expr, rules map[string]parser.Expr) []string {
	sigs := map[string]string{}
	for name, re := range rules {
		if ae := wholeAggregation(re); ae != nil {
			if s, ok := aggSignature(ae); ok {
				sigs[s] = name
			}
		}
	}
	var out []string
	for _, s := range aggSignatures(e) {
		if name, ok := sigs[s]; ok {
			out = append(out, name)
		}
	}
	return out
}

// wholeAggregation returns the aggregation a rule's expression is, possibly
// multiplied or divided by a number (deriv() per second times 3600), or nil.
func wholeAggregation(e parser.Expr) *parser.AggregateExpr {
	switch e := unwrap(e).(type) {
	case *parser.AggregateExpr:
		return e
	case *parser.BinaryExpr:
		if e.Op != parser.MUL && e.Op != parser.DIV {
			return nil
		}
		if _, ok := unwrap(e.RHS).(*parser.NumberLiteral); ok {
			return wholeAggregation(e.LHS)
		}
		if _, ok := unwrap(e.LHS).(*parser.NumberLiteral); ok && e.Op == parser.MUL {
			return wholeAggregation(e.RHS)
		}
	}
	return nil
}

// aggSignatures describes each aggregation of a selector in e, such as
// sum by (labels) (metric{matchers}) or sum by (labels) (fn(metric[range])).
func aggSignatures(e parser.Expr) []string {
	var out []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if ae, ok := n.(*parser.AggregateExpr); ok {
			if s, ok := aggSignature(ae); ok {
				out = append(out, s)
			}
		}
		return nil
	})
	return out
}

// aggSignature describes an aggregation of a selector, or of a function of
// one; ok is false for an aggregation of anything else.
func aggSignature(ae *parser.AggregateExpr) (sig string, ok bool) {
	fn := ""
	inner := unwrap(ae.Expr)
	if call, ok := inner.(*parser.Call); ok && len(call.Args) == 1 {
		fn = call.Func.Name
		inner = unwrap(call.Args[0])
	}
	if ms, ok := inner.(*parser.MatrixSelector); ok {
		inner = ms.VectorSelector
	}
	vs, ok := inner.(*parser.VectorSelector)
	if !ok {
		return "", false
	}
	var matchers []string
	for _, m := range vs.LabelMatchers {
		if m.Name == "__name__" || m.Name == "job" || m.Name == "campaign" || m.Name == "creator" {
			continue
		}
		matchers = append(matchers, m.String())
	}
	sort.Strings(matchers)
	grouping := slices.Clone(ae.Grouping)
	sort.Strings(grouping)
	return fmt.Sprintf("%s without=%v %v %s %s %v", ae.Op, ae.Without, grouping, fn, vs.Name, matchers), true
}

func TestRecomputed(t *testing.T) {
	rules := map[string]string{
		"campaign_creator:clicks:rate5m":    `sum by (job, campaign, creator) (rate(clicks_total[5m]))`,
		"campaign_creator_post:eng:deriv1h": `sum by (job, campaign, creator, post) (deriv(eng{type=~"saves|shares"}[1h])) * 3600`,
		"campaign_creator:cost:ratio":       `sum by (job, campaign, creator) (fee) / on (job, campaign, creator) (sum by (job, campaign, creator) (clicks_total) > 0)`,
	}
	parsed := map[string]parser.Expr{}
	for name, expr := range rules {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		parsed[name] = e
	}
	for expr, want := range map[string]string{
		`sum by (job, campaign, creator) (rate(clicks_total{job=~"$job", creator=~"$creator"}[$__rate_interval]))`: "campaign_creator:clicks:rate5m",
		`sum by (job, campaign, creator, post) (deriv(eng{type=~"saves|shares"}[5m]))`:                             "campaign_creator_post:eng:deriv1h",
		`sum by (job, campaign, creator, post) (deriv(eng{type="likes"}[5m]))`:                                     "",
		`sum by (job, campaign) (rate(clicks_total[5m]))`:                                                          "",
		// Parts of a ratio: the rule is the ratio, not its sides.
		`sum by (job, campaign, creator) (clicks_total)`: "",
		`sum by (job, campaign, creator) (fee)`:          "",
	} {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(Expand(expr, testVars))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if got := strings.Join(recomputed(e, parsed), ","); got != want {
			t.Errorf("recomputed(%s) = %q, want %q", expr, got, want)
		}
	}
}

func unwrap(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// contractMetrics returns the metric names in the first column of the
// tables of docs/metrics.md, and the prefixes of its `go_*, process_*` rows.
func contractMetrics(t *testing.T) (map[string]bool, []string) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]bool{}
	var prefixes []string
	nameRE := regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*\*?$`)
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cell := strings.TrimSpace(strings.Split(line, "|")[1])
		for _, n := range strings.Split(cell, ",") {
			n = strings.Trim(strings.TrimSpace(n), "`")
			if !nameRE.MatchString(n) || n == "metric" {
				continue
			}
			if p, ok := strings.CutSuffix(n, "*"); ok {
				prefixes = append(prefixes, p)
			} else {
				names[n] = true
			}
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) < 20 {
		t.Fatalf("found only %d metrics in docs/metrics.md: has its table format changed?", len(names))
	}
	return names, prefixes
}

// recordingRules returns the recording rules of alerts/*.rules.yml.
func recordingRules(t *testing.T) map[string]parser.Expr {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "alerts", "*.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no alerts/*.rules.yml")
	}
	out := map[string]parser.Expr{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rf struct {
			Groups []struct {
				Rules []struct {
					Record string `yaml:"record"`
					Expr   string `yaml:"expr"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(data, &rf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Record == "" {
					continue
				}
				e, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr)
				if err != nil {
					t.Fatalf("%s: %s: %v", f, r.Record, err)
				}
				out[r.Record] = e
			}
		}
	}
	return out
}

// TestRecordingRulesUsed checks that every per-creator recording rule is on
// a dashboard, so a rule added in alerts/ without a panel shows up here.
func TestRecordingRulesUsed(t *testing.T) {
	rules := recordingRules(t)
	used := map[string]bool{}
	for _, d := range load(t) {
		for _, q := range d.Queries() {
			e, err := parser.NewParser(parser.Options{}).ParseExpr(Expand(q.Expr, testVars))
			if err != nil {
				continue // TestQueries reports it.
			}
			for _, n := range metricNames(e) {
				used[n] = true
			}
		}
	}
	for name := range rules {
		// Campaign-level rules feed alerts; the dashboards sum or compare
		// creators themselves.
		if strings.HasPrefix(name, "campaign:") {
			continue
		}
		if !used[name] {
			t.Errorf("recording rule %s is on no dashboard", name)
		}
	}
}

// compose is the part of docker-compose.yml the tests read.
type compose struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
		Environment map[string]string `yaml:"environment"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

type mount struct {
	service, host, container string
}

// stack reads docker-compose.yml: its services' mounts of host paths and
// the container ports each service publishes.
func stack(t *testing.T) (compose, []mount, map[string][]string) {
	t.Helper()
	var c compose
	exportertest.ReadYAML(t, filepath.Join("..", "docker-compose.yml"), &c)
	var mounts []mount
	ports := map[string][]string{}
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			if len(parts) < 2 || len(parts) > 3 || (len(parts) == 3 && parts[2] != "ro" && parts[2] != "rw") {
				t.Errorf("service %s: volume %q: want source:target[:ro]", name, v)
				continue
			}
			src, dst := parts[0], parts[1]
			if !path.IsAbs(dst) {
				t.Errorf("service %s: volume %q: target is not absolute", name, v)
			}
			if !strings.HasPrefix(src, ".") && !path.IsAbs(src) {
				if _, ok := c.Volumes[src]; !ok {
					t.Errorf("service %s: named volume %q is not declared under volumes", name, src)
				}
				continue
			}
			mounts = append(mounts, mount{name, src, dst})
		}
		for _, p := range s.Ports {
			parts := strings.Split(p, ":")
			ports[name] = append(ports[name], parts[len(parts)-1])
		}
	}
	return c, mounts, ports
}

// hostPath maps a path inside a service's container to the host file or
// directory mounted there, relative to the repository root.
func hostPath(mounts []mount, service, p string) (string, bool) {
	for _, m := range mounts {
		if m.service != service {
			continue
		}
		if p == m.container {
			return m.host, true
		}
		if rest, ok := strings.CutPrefix(p, m.container+"/"); ok {
			return path.Join(m.host, rest), true
		}
	}
	return "", false
}

func flagValue(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

func TestCompose(t *testing.T) {
	c, mounts, ports := stack(t)
	for _, name := range []string{"exporter", "prometheus", "alertmanager", "grafana"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("no %s service", name)
		}
	}
	for name, s := range c.Services {
		if s.Build != nil {
			continue
		}
		if err := pinned(s.Image); err != nil {
			t.Errorf("service %s: %v", name, err)
		}
	}
	for _, m := range mounts {
		p := m.host
		if !filepath.IsAbs(p) {
			p = filepath.Join("..", filepath.FromSlash(p))
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("service %s mounts %s, which does not exist: %v", m.service, m.host, err)
		}
	}
	// Every published port is one the service listens on.
	for service, want := range map[string]string{"exporter": "10194", "prometheus": "9090", "alertmanager": "9093", "grafana": "3000"} {
		if !slices.Contains(ports[service], want) {
			t.Errorf("service %s publishes %v, want %s", service, ports[service], want)
		}
	}
	checkPrometheusConfig(t, c, mounts, ports)
	checkAlertmanagerConfig(t, c, mounts)
	checkGrafana(t, c, mounts, ports)
	checkDockerfile(t, ports["exporter"])
}

// pinned checks that an image names a version: a tag with digits in it, or
// a digest.
func pinned(image string) error {
	tag, err := imageTag(image)
	if err != nil || tag == "" {
		return err
	}
	if !strings.ContainsAny(tag, "0123456789") {
		return fmt.Errorf("image %q: tag %q is not a version", image, tag)
	}
	return nil
}

// imageTag returns an image's tag, or "" for a digest, and fails for an
// image without a tag or tagged latest.
func imageTag(image string) (string, error) {
	if strings.Contains(image, "@sha256:") {
		return "", nil
	}
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return "", fmt.Errorf("image %q has no tag", image)
	}
	if tag := image[i+1:]; tag != "latest" && tag != "" {
		return tag, nil
	}
	return "", fmt.Errorf("image %q is not pinned", image)
}

// checkTarget checks that host:port names a compose service and a port it
// publishes.
func checkTarget(t *testing.T, where, target string, c compose, ports map[string][]string) {
	t.Helper()
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		t.Errorf("%s: target %q: %v", where, target, err)
		return
	}
	if _, ok := c.Services[host]; !ok {
		t.Errorf("%s: target %q: no service %q in docker-compose.yml", where, target, host)
		return
	}
	if !slices.Contains(ports[host], port) {
		t.Errorf("%s: target %q: service %s listens on %v", where, target, host, ports[host])
	}
}

type prometheusConfig struct {
	RuleFiles []string `yaml:"rule_files"`
	Alerting  struct {
		Alertmanagers []struct {
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"alertmanagers"`
	} `yaml:"alerting"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

func checkPrometheusConfig(t *testing.T, c compose, mounts []mount, ports map[string][]string) {
	configFile := flagValue(c.Services["prometheus"].Command, "config.file")
	host, ok := hostPath(mounts, "prometheus", configFile)
	if !ok || host != "./deploy/prometheus.yml" {
		t.Errorf("prometheus: --config.file=%s is %q on the host, want ./deploy/prometheus.yml", configFile, host)
	}
	var cfg prometheusConfig
	exportertest.ReadYAML(t, filepath.Join("..", "deploy", "prometheus.yml"), &cfg)
	scraped := false
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				checkTarget(t, "deploy/prometheus.yml: job "+sc.JobName, target, c, ports)
				scraped = scraped || strings.HasPrefix(target, "exporter:")
			}
		}
	}
	if !scraped {
		t.Error("deploy/prometheus.yml does not scrape the exporter")
	}
	alerting := false
	for _, am := range cfg.Alerting.Alertmanagers {
		for _, st := range am.StaticConfigs {
			for _, target := range st.Targets {
				checkTarget(t, "deploy/prometheus.yml: alerting", target, c, ports)
				alerting = alerting || strings.HasPrefix(target, "alertmanager:")
			}
		}
	}
	if !alerting {
		t.Error("deploy/prometheus.yml sends alerts to no alertmanager service")
	}
	if len(cfg.RuleFiles) == 0 {
		t.Error("deploy/prometheus.yml loads no rule files")
	}
	for _, rf := range cfg.RuleFiles {
		host, ok := hostPath(mounts, "prometheus", rf)
		if !ok {
			t.Errorf("deploy/prometheus.yml: rule_files %s is not in a mounted directory", rf)
			continue
		}
		matches, _ := filepath.Glob(filepath.Join("..", filepath.FromSlash(host)))
		if len(matches) == 0 {
			t.Errorf("deploy/prometheus.yml: rule_files %s (%s on the host) matches no file", rf, host)
		}
	}
}

func checkAlertmanagerConfig(t *testing.T, c compose, mounts []mount) {
	configFile := flagValue(c.Services["alertmanager"].Command, "config.file")
	host, ok := hostPath(mounts, "alertmanager", configFile)
	if !ok || host != "./deploy/alertmanager.yml" {
		t.Errorf("alertmanager: --config.file=%s is %q on the host, want ./deploy/alertmanager.yml", configFile, host)
		return
	}
	var cfg struct {
		Templates []string `yaml:"templates"`
	}
	exportertest.ReadYAML(t, filepath.Join("..", "deploy", "alertmanager.yml"), &cfg)
	// The time zone database its time intervals' locations need is in the
	// image (deploy/alertmanager.Dockerfile), not mounted: the root
	// package's TestDockerAlertmanagerTimeZones checks it.
	for _, tmpl := range cfg.Templates {
		if !path.IsAbs(tmpl) {
			tmpl = path.Join(path.Dir(configFile), tmpl)
		}
		host, ok := hostPath(mounts, "alertmanager", tmpl)
		if !ok {
			t.Errorf("deploy/alertmanager.yml: templates %s is not mounted into the alertmanager service", tmpl)
			continue
		}
		if matches, _ := filepath.Glob(filepath.Join("..", filepath.FromSlash(host))); len(matches) == 0 {
			t.Errorf("deploy/alertmanager.yml: templates %s (%s on the host) matches no file", tmpl, host)
		}
	}
}

func checkGrafana(t *testing.T, c compose, mounts []mount, ports map[string][]string) {
	host, ok := hostPath(mounts, "grafana", "/etc/grafana/provisioning")
	if !ok || host != "./dashboards/provisioning" {
		t.Errorf("grafana: /etc/grafana/provisioning is %q on the host, want ./dashboards/provisioning", host)
	}
	var ds struct {
		Datasources []struct {
			Name      string `yaml:"name"`
			UID       string `yaml:"uid"`
			Type      string `yaml:"type"`
			URL       string `yaml:"url"`
			IsDefault bool   `yaml:"isDefault"`
		} `yaml:"datasources"`
	}
	exportertest.ReadYAML(t, filepath.Join("provisioning", "datasources", "prometheus.yml"), &ds)
	defaultPrometheus := false
	for _, d := range ds.Datasources {
		u, err := url.Parse(d.URL)
		if err != nil {
			t.Errorf("data source %s: url %q: %v", d.Name, d.URL, err)
			continue
		}
		checkTarget(t, "data source "+d.Name, u.Host, c, ports)
		if d.UID == "" {
			t.Errorf("data source %s has no fixed uid", d.Name)
		}
		defaultPrometheus = defaultPrometheus || (d.Type == "prometheus" && d.IsDefault)
	}
	if !defaultPrometheus {
		t.Error("no default Prometheus data source: the dashboards' datasource variable would start empty")
	}

	var prov struct {
		Providers []struct {
			Name    string `yaml:"name"`
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	exportertest.ReadYAML(t, filepath.Join("provisioning", "dashboards", "influencer.yml"), &prov)
	if len(prov.Providers) != 1 {
		t.Fatalf("want one dashboard provider, got %d", len(prov.Providers))
	}
	p := prov.Providers[0]
	host, ok = hostPath(mounts, "grafana", p.Options.Path)
	if p.Type != "file" || !ok || host != "./dashboards" {
		t.Errorf("dashboard provider %s: type %s, path %s is %q on the host, want a file provider on ./dashboards", p.Name, p.Type, p.Options.Path, host)
	}
	if home := c.Services["grafana"].Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]; home != "" {
		host, ok := hostPath(mounts, "grafana", home)
		if _, err := os.Stat(filepath.Join("..", filepath.FromSlash(host))); !ok || err != nil {
			t.Errorf("grafana: home dashboard %s is not a mounted file", home)
		}
	}
}

func checkDockerfile(t *testing.T, exporterPorts []string) {
	data, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	var froms, users, exposes []string
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "FROM":
			froms = append(froms, f[1])
		case "USER":
			users = append(users, f[1])
		case "EXPOSE":
			exposes = append(exposes, f[1:]...)
		}
	}
	if len(froms) < 2 {
		t.Errorf("Dockerfile: %d stages, want a build stage and a runtime stage", len(froms))
	}
	// The build image is a Go release. The runtime base may be a
	// distroless variant tag (nonroot), which follows its Debian release's
	// security updates.
	for i, image := range froms {
		check := pinned
		if i == len(froms)-1 {
			check = func(image string) error { _, err := imageTag(image); return err }
		}
		if err := check(image); err != nil {
			t.Errorf("Dockerfile: %v", err)
		}
	}
	if len(users) == 0 || slices.Contains([]string{"root", "0", "0:0", "root:root"}, users[len(users)-1]) {
		t.Errorf("Dockerfile: runtime user %v, want a non-root user", users)
	}
	for _, want := range []string{"CGO_ENABLED=0", "COPY config.yaml ", "COPY sandbox/tokens/ "} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if !slices.Contains(exposes, "10194") || !slices.Contains(exporterPorts, "10194") {
		t.Errorf("Dockerfile exposes %v and the exporter service publishes %v; want 10194, the default --web.listen-address", exposes, exporterPorts)
	}
	ignore, err := os.ReadFile(filepath.Join("..", ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(ignore), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, needed := range []string{"go.mod", "go.sum", "main.go", "config.yaml", "sandbox", "exporter", "collectors", "fakes"} {
			if ok, _ := path.Match(strings.Trim(line, "/"), needed); ok {
				t.Errorf(".dockerignore: %q leaves %s out of the build", line, needed)
			}
		}
	}
}

// TestPromtoolCheckConfig runs the real promtool on deploy/prometheus.yml.
// The rule files it names are paths inside the Prometheus container, so a
// temporary copy names the repository's alerts/*.rules.yml instead, and
// promtool checks those too.
func TestPromtoolCheckConfig(t *testing.T) {
	bin := promtool.Path(t)
	data, err := os.ReadFile(filepath.Join("..", "deploy", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	alerts, err := filepath.Abs(filepath.Join("..", "alerts"))
	if err != nil {
		t.Fatal(err)
	}
	rules, _ := cfg["rule_files"].([]any)
	if len(rules) == 0 {
		t.Fatal("deploy/prometheus.yml has no rule_files")
	}
	for i, r := range rules {
		s, _ := r.(string)
		rules[i] = filepath.Join(alerts, path.Base(s))
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "check", "config", file)
	res, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, res)
	}
	if !strings.Contains(string(res), "rules found") {
		t.Errorf("promtool checked no rule files:\n%s", res)
	}
	t.Logf("%s", res)
}

func TestJobProblems(t *testing.T) {
	for expr, want := range map[string]int{
		`sum by (job, campaign) (rate(m{job=~"$job"}[1m]))`:       0,
		`count by (job) (m{job=~"$job"} == 0) or on () vector(0)`: 0,
		`a{job=~"$job"} / on (job, post) (b{job=~"$job"} > 0)`:    0,
		`m{campaign=~".*"}`:                                                 1,
		`m{job="influencer"}`:                                               1,
		`count(m{job=~"$job"}) or vector(0)`:                                1,
		`max(m{job=~"$job"})`:                                               1,
		`a{job=~"$job"} and on (post) b{job=~"$job"}`:                       1,
		`a{job=~"$job"} or on () b{job=~"$job"}`:                            1,
		`sum by (campaign) (a{job=~"$job"}) / on (campaign) b{job=~"$job"}`: 2,
	} {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if got := jobProblems(e); len(got) != want {
			t.Errorf("jobProblems(%s) = %q, want %d problems", expr, got, want)
		}
	}
}

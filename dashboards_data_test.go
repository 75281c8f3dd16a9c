package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/dashboards"
	"github.com/influencer-exporter/influencer_exporter/internal/promprog"
)

// dashboardVars are what Grafana would put in for the dashboards'
// variables: every job, campaign, creator, collector and early-curve age,
// intervals that fit the test's 2s scrape interval, and a time range that
// ends now (${__to} is in milliseconds).
var dashboardVars = map[string]string{
	"__rate_interval": "1m",
	"__interval":      "1m",
	"__range":         "5m",
	"__to":            fmt.Sprint(time.Now().UnixMilli()),
	"campaign":        ".*",
	"creator":         ".*",
	"collector":       ".*",
	"job":             ".*",
	"age":             ".*",
}

// emptyByDesign are the panels that show data only when the situation they
// watch exists, by dashboard uid and panel title, with the reason. Panels
// that count problems use `or vector(0)` instead, so they always have data.
var emptyByDesign = map[string]string{
	"influencer-exporter/Token expiry": "no sandbox provider reports a token expiry",
	// The last hour's growth shows at once; the baseline beside it is the
	// slope over the 24 hours before the last hour.
	"influencer-overview/Follower growth, last hour vs baseline": "the follower baseline needs more than an hour of history",
}

// TestDashboardQueries runs every query of every dashboard against a real
// Prometheus that scrapes the sandbox exporter and evaluates the rules in
// alerts/, and checks that each returns data, as the panels would in
// Grafana on `docker compose up`. Annotations of firing alerts must run,
// but may be empty; checkpoint and settling annotations must have data.
func TestDashboardQueries(t *testing.T) {
	prometheusBin := promprog.Prometheus.Path(t)
	ds, err := dashboards.Load()
	if err != nil {
		t.Fatal(err)
	}
	alertsDir, err := filepath.Abs("alerts")
	if err != nil {
		t.Fatal(err)
	}
	if rules, _ := filepath.Glob(filepath.Join(alertsDir, "*.rules.yml")); len(rules) == 0 {
		t.Fatalf("no rules files match %s", filepath.Join(alertsDir, "*.rules.yml"))
	}

	exp := startExporter(t, sandboxConfig(t))
	dir := t.TempDir()
	promYAML := fmt.Sprintf(`global:
  scrape_interval: 2s
  evaluation_interval: 2s
rule_files:
  - %q
scrape_configs:
  - job_name: influencer
    static_configs:
      - targets: [%q]
`, filepath.Join(alertsDir, "*.rules.yml"), exp.addr)
	prom, api := startPrometheus(t, prometheusBin, dir, []byte(promYAML))
	base := api.base

	type check struct {
		where, query, path string
		params             url.Values
		mayBeEmpty         string
	}
	var checks []check
	allowed := map[string]bool{}
	for _, d := range ds {
		for _, q := range d.Queries() {
			expr := dashboards.Expand(q.Expr, dashboardVars)
			c := check{where: q.Where, query: expr, path: "/api/v1/query", params: url.Values{"query": {expr}}}
			switch key := d.UID + "/" + q.Panel; {
			case q.Annotation && strings.Contains(q.Expr, "ALERTS"):
				// Checkpoint and settling annotations must have data.
				c.mayBeEmpty = "alerts fire only when something is wrong"
			case emptyByDesign[key] != "":
				c.mayBeEmpty = emptyByDesign[key]
				allowed[key] = true
			}
			checks = append(checks, c)
		}
		for _, v := range d.Templating.List {
			selector, label, ok := dashboards.LabelValues(v.QueryString())
			if v.Type != "query" || !ok {
				continue
			}
			params := url.Values{}
			if selector != "" {
				params.Set("match[]", dashboards.Expand(selector, dashboardVars))
			}
			checks = append(checks, check{
				where: fmt.Sprintf("%s: variable %s", d.UID, v.Name), query: v.QueryString(),
				path: "/api/v1/label/" + label + "/values", params: params,
			})
		}
	}
	for key := range emptyByDesign {
		if !allowed[key] {
			t.Errorf("emptyByDesign names %s, which is no panel", key)
		}
	}

	// Poll until every query has data. Rates and derivatives need a few
	// scrapes and rule evaluations, and the sandbox's collectors their
	// first refreshes; the deadline only bounds a broken run.
	pending := checks
	deadline := time.Now().Add(3 * time.Minute)
	start := time.Now()
	for {
		var still []check
		for _, c := range pending {
			n, err := promResultCount(base+c.path, c.params)
			switch {
			case err != nil:
				t.Errorf("%s: %s: %v", c.where, c.query, err)
			case n == 0:
				still = append(still, c)
			}
		}
		pending = still
		empty := 0
		for _, c := range pending {
			if c.mayBeEmpty == "" {
				empty++
			}
		}
		if empty == 0 || time.Now().After(deadline) || t.Failed() {
			break
		}
		if prom.hasExited() {
			t.Fatalf("prometheus exited (%v)", prom.err)
		}
		time.Sleep(time.Second)
	}
	t.Logf("%d queries over %d dashboards ran against Prometheus; data after %.0fs", len(checks), len(ds), time.Since(start).Seconds())
	for _, c := range pending {
		if c.mayBeEmpty != "" {
			t.Logf("%s: empty, as designed (%s)", c.where, c.mayBeEmpty)
			continue
		}
		t.Errorf("%s: no data: %s", c.where, c.query)
	}
}

// promResultCount runs a Prometheus API GET and returns how many results
// it answered, or the error it reported.
func promResultCount(u string, params url.Values) (int, error) {
	resp, err := http.Get(u + "?" + params.Encode())
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, r.Error)
	}
	var result struct {
		Result []json.RawMessage `json:"result"`
	}
	if json.Unmarshal(r.Data, &result) == nil && result.Result != nil {
		return len(result.Result), nil
	}
	var values []json.RawMessage // label values
	if err := json.Unmarshal(r.Data, &values); err != nil {
		return 0, err
	}
	return len(values), nil
}

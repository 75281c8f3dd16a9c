// Package dashboards holds the Grafana dashboards of influencer_exporter and
// the provisioning files that load them into Grafana, in provisioning/. The
// JSON files are the product; the Go code reads them for the tests, which
// check what Grafana would load without a Grafana server: valid, formatted
// JSON, stable uids, the datasource variable on every panel, units and
// descriptions, the job variable on every query (job=~"$job" on each
// selector, job kept by every aggregation and match), and every query
// parsed as PromQL against the metric contract in docs/metrics.md and the
// recording rules in alerts/. The main
// package's TestDashboardQueries runs every query against a real Prometheus.
package dashboards

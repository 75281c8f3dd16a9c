// Package alerts holds the Prometheus alerting and recording rules of
// influencer_exporter, their promtool unit tests, the runbooks' anchors they
// point to and an example Alertmanager configuration. It has no Go code
// besides the tests that run promtool over the rules and check them against
// the metric contract in docs/metrics.md.
package alerts

// Package examples holds example configurations of influencer_exporter for
// real campaigns: minimal.yml, one campaign on one shortener and one shop,
// and agency.yml, an agency's campaign set over every kind of provider.
// The package's test checks each file as --config.check does, and checks
// remote-write/prometheus.yml, a Prometheus configuration that scrapes the
// exporter's shards and remote-writes to a horizontally scalable store
// (docs/deployment.md), with promtool.
package examples

// Package examples holds example configurations of influencer_exporter for
// real campaigns: minimal.yml, one campaign on one shortener and one shop,
// and agency.yml, an agency's campaign set over every kind of provider.
// The package's test checks each file as --config.check does.
package examples

package jsonapi

import (
	"testing"

	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// TestPagesReadIntoOneBuffer: the client reads each page into the buffer
// of the page before (a prunedPage is an exporter.BodyCopier), so the
// label values of a page must be its own copies. Each page here is no
// longer than the one before, so that it fits in that page's buffer, and
// its strings differ from the others' in every byte: a label value still
// pointing into the buffer would read a later page's bytes.
func TestPagesReadIntoOneBuffer(t *testing.T) {
	spring := []page{
		{rows: []string{`{"partner":{"handle":"alice_ig"},"short_url":"aff.example/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","stats":{"clicks":11}}`}},
		{rows: []string{`{"partner":{"handle":"bob"},"short_url":"aff.example/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","stats":{"clicks":22}}`}},
		// Escaped: decoded by encoding/json, not sliced from the page.
		{rows: []string{`{"partner":{"handle":"dan_tt"},"short_url":"aff.example/d\u00e4n\/ddd","stats":{"clicks":33}}`}},
		{rows: []string{`{"partner":{"handle":"erin"},"short_url":"aff.example/eeee","stats":{"clicks":44}}`}},
	}
	summer := []page{{rows: []string{row("carol", "30")}}}
	p := &pages{byCampaign: map[string][]page{"spring": spring, "summer": summer}}
	env := exportertest.Build(t, config(exportertest.Serve(t, p), token, clicksOptions))
	want := exportertest.MetricText(exporter.LinkClicks,
		`influencer_link_clicks_total{campaign="spring",creator="alice",link="aff.example/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",provider="affnet"} 11`,
		`influencer_link_clicks_total{campaign="spring",creator="bob",link="aff.example/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",provider="affnet"} 22`,
		`influencer_link_clicks_total{campaign="spring",creator="dan",link="aff.example/dän/ddd",provider="affnet"} 33`,
		`influencer_link_clicks_total{campaign="spring",creator="erin",link="aff.example/eeee",provider="affnet"} 44`,
		`influencer_link_clicks_total{campaign="summer",creator="carol",link="aff.example/carol",provider="affnet"} 30`)
	// Twice: the second refresh's pages go into buffers of the first's.
	for range 2 {
		samples, err := env.Poll(t, "aff")
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		exportertest.CompareText(t, samples, want)
	}
}

package jsonapi

import (
	"fmt"
	"net/http"
	"slices"
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
	pollAndCompare(t, env, want, 2)
}

// poisonArena overwrites the bytes of the strings decoded into a, as the
// next page decoded into it would.
func poisonArena(a *pageArena) {
	b := a.bytes[:cap(a.bytes)]
	for i := range b {
		b[i] = '#'
	}
}

// TestNothingKeptViewsTheArena: the strings read from a page view its
// arena, which the next page overwrites, so what the collector keeps of
// a page must be copies. Here each page's arena is overwritten once the
// collector is done with the page: the label values read from the
// items (creators not in creator.map, links) and the cursors must come
// out whole, on the first refresh, whose series are new, and on the
// second, whose series share the first's label values.
func TestNothingKeptViewsTheArena(t *testing.T) {
	spring := []page{
		{rows: []string{row("alice_ig", "1"), row("bob", "2")}},
		{rows: []string{row("dan_tt", "3"), row("erin", "4")}},
		{rows: []string{row("bob", "5")}},
	}
	summer := []page{{rows: []string{row("carol", "30")}}}
	p := &pages{byCampaign: map[string][]page{"spring": spring, "summer": summer}}
	env := exportertest.Build(t, config(exportertest.Serve(t, p), token, clicksOptions))
	env.Instance(t, "aff").Collector.(*collector).f.pageRead = poisonArena
	want := exportertest.MetricText(exporter.LinkClicks,
		`influencer_link_clicks_total{campaign="spring",creator="alice",link="aff.example/alice_ig",provider="affnet"} 1`,
		`influencer_link_clicks_total{campaign="spring",creator="bob",link="aff.example/bob",provider="affnet"} 7`,
		`influencer_link_clicks_total{campaign="spring",creator="dan",link="aff.example/dan_tt",provider="affnet"} 3`,
		`influencer_link_clicks_total{campaign="spring",creator="erin",link="aff.example/erin",provider="affnet"} 4`,
		`influencer_link_clicks_total{campaign="summer",creator="carol",link="aff.example/carol",provider="affnet"} 30`)
	pollAndCompare(t, env, want, 2)
	served := []string{"spring p1", "spring p2", "spring p3", "summer p1"}
	if got := p.log(); !slices.Equal(got, slices.Concat(served, served)) {
		t.Errorf("pages served %q, want %q twice", got, served)
	}
}

// TestRepeatedCursorAfterItsPage: the cursors seen are kept to tell a
// listing that goes round in circles, and a cursor that viewed its page's
// arena would no longer be found once the arena is overwritten. The
// second page's cursor lies elsewhere in the arena than the first's, so
// that it does not write the first's bytes back.
func TestRepeatedCursorAfterItsPage(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handle := "bob"
		if r.URL.Query().Has("cursor") {
			handle = "erin"
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"data":[%s],"meta":{"next":"again"}}`, row(handle, "1"))
	})
	env := exportertest.Build(t, config(exportertest.Serve(t, h), token, clicksOptions))
	env.Instance(t, "aff").Collector.(*collector).f.pageRead = poisonArena
	samples, err := env.Poll(t, "aff")
	exportertest.AssertFailed(t, samples, err, exporter.ErrBadResponse, token, `cursor "again" repeated after 2 items`)
}

// TestSeriesTablesReused: a refresh's series table is the one a refresh
// before it replaced, cleared, when the sizes agree; here two targets of
// one size share three tables however many refreshes run, and every
// refresh's values are those of its own items.
func TestSeriesTablesReused(t *testing.T) {
	spring := []page{{rows: []string{row("alice_ig", "1"), row("bob", "2")}}}
	summer := []page{{rows: []string{row("carol", "30")}}}
	p := &pages{byCampaign: map[string][]page{"spring": spring, "summer": summer}}
	env := exportertest.Build(t, config(exportertest.Serve(t, p), token, clicksOptions))
	c := env.Instance(t, "aff").Collector.(*collector)
	want := exportertest.MetricText(exporter.LinkClicks,
		`influencer_link_clicks_total{campaign="spring",creator="alice",link="aff.example/alice_ig",provider="affnet"} 1`,
		`influencer_link_clicks_total{campaign="spring",creator="bob",link="aff.example/bob",provider="affnet"} 2`,
		`influencer_link_clicks_total{campaign="summer",creator="carol",link="aff.example/carol",provider="affnet"} 30`)
	tables := map[*uint64]bool{}
	for range 5 {
		pollAndCompare(t, env, want, 1)
		for _, s := range c.lastSeries {
			tables[&s.slots[0]] = true
		}
	}
	if len(tables) != 3 {
		t.Errorf("%d series tables over 5 refreshes of 2 targets, want 3", len(tables))
	}
}

// pollAndCompare polls the aff collector n times, each time comparing
// its samples with want.
func pollAndCompare(t *testing.T, env *exportertest.Env, want string, n int) {
	t.Helper()
	for range n {
		samples, err := env.Poll(t, "aff")
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		exportertest.CompareText(t, samples, want)
	}
}

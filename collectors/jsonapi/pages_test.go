package jsonapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/influencer-exporter/influencer_exporter/collectors/jsonapi/jsonfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// pages serves each campaign's listing from fixed pages, in the network's
// shape: {"data":[row...],"meta":{"next":cursor|null}}, the cursor being
// "p2", "p3" and so on. A page given as a status answers the network's
// error body with it.
type pages struct {
	byCampaign map[string][]page

	mu     sync.Mutex
	served []string // "spring p1", in order
}

// page is the rows of a page, or the status it fails with.
type page struct {
	rows   []string
	status int
}

// row is a partner's row with the clicks given as JSON.
func row(handle, clicks string) string {
	return fmt.Sprintf(`{"partner":{"handle":%q},"short_url":"aff.example/%s","stats":{"clicks":%s}}`, handle, handle, clicks)
}

func (p *pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	campaign, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/v2/affiliates/"), "/stats")
	list := p.byCampaign[campaign]
	n := 1
	if c := r.URL.Query().Get("cursor"); c != "" {
		_, _ = fmt.Sscanf(c, "p%d", &n)
	}
	if !ok || n < 1 || n > len(list) {
		http.NotFound(w, r)
		return
	}
	p.mu.Lock()
	p.served = append(p.served, fmt.Sprintf("%s p%d", campaign, n))
	p.mu.Unlock()
	pg := list[n-1]
	if pg.status != 0 {
		fakeapi.WriteJSON(w, pg.status, map[string]any{"error": map[string]any{"code": "error", "message": http.StatusText(pg.status)}})
		return
	}
	next := "null"
	if n < len(list) {
		next = fmt.Sprintf(`"p%d"`, n+1)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"data":[%s],"meta":{"next":%s}}`, strings.Join(pg.rows, ","), next)
}

func (p *pages) log() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.served)
}

// clicksOptions reads the clicks of each campaign's listing, paged by
// cursor.
const clicksOptions = `      url: /v2/affiliates/{campaign}/stats
      pagination: {type: cursor, cursor_path: meta.next, param: cursor}
      items: data
      creator: {path: partner.handle, map: {alice_ig: alice, dan_tt: dan}}
      values:
        - {metric: influencer_link_clicks_total, path: stats.clicks, labels: {link: short_url}}`

// TestPagesMappedAsTheyArrive: the fetcher hands each page's items over
// before it requests the next page, so that a refresh holds one page's
// decoded JSON at a time, not the whole listing's.
func TestPagesMappedAsTheyArrive(t *testing.T) {
	f := newFixture(t, jsonfake.Auth{Type: "bearer"}, token)
	var (
		mu     sync.Mutex
		events []string
	)
	record := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record("request")
		f.fake.ServeHTTP(w, r)
	})
	env := exportertest.Build(t, config(exportertest.Serve(t, h), token, perCampaign("{type: cursor, cursor_path: meta.next, param: cursor}", "{type: bearer}")))
	c := env.Instance(t, "aff").Collector.(*collector)
	calls, err := c.f.fetch(t.Context(), "/v2/affiliates/spring/stats", func(items []any) {
		record(fmt.Sprintf("%d items", len(items)))
	})
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	// Spring has five partners, two a page.
	want := []string{"request", "2 items", "request", "2 items", "request", "1 items"}
	if !slices.Equal(events, want) || calls != 3 {
		t.Errorf("events %q, %d calls; want %q, 3 calls", events, calls, want)
	}
}

// TestErrorAfterAPage: pages mapped as they arrive change nothing of what
// a refresh reports when a later page fails: a URL cut between its pages
// counts nothing, an error of a later page wins over a malformed item of
// an earlier one, a malformed item is numbered over the URL's items, and
// the pages after a malformed item are still requested.
func TestErrorAfterAPage(t *testing.T) {
	summer := []page{{rows: []string{row("carol", "30")}}}
	carol := exportertest.LinkClicksText("summer", "carol", "affnet", "aff.example/carol=30")
	for _, tc := range []struct {
		name   string
		spring []page
		// check checks the refresh.
		check  func(t *testing.T, samples []exporter.Sample, err error)
		served []string
	}{{
		name:   "server error on page 2",
		spring: []page{{rows: []string{row("alice_ig", "1"), row("bob", "2")}}, {status: http.StatusInternalServerError}},
		check: func(t *testing.T, samples []exporter.Sample, err error) {
			exportertest.AssertFailed(t, samples, err, exporter.ErrServer, token, `stats of campaign "spring"`, "HTTP 500")
		},
		// Retried, as every 5xx is.
		served: []string{"spring p1", "spring p2", "spring p2", "spring p2"},
	}, {
		name:   "not found on page 2 after a malformed item",
		spring: []page{{rows: []string{row("alice_ig", "1"), row("bob", `"n/a"`)}}, {status: http.StatusNotFound}},
		check: func(t *testing.T, samples []exporter.Sample, err error) {
			exportertest.AssertPartial(t, err, exporter.ErrNotFound, `stats of campaign "spring"`, "HTTP 404")
			if errors.Is(err, exporter.ErrBadResponse) {
				t.Errorf("error %v: the malformed item of the URL's first page shows", err)
			}
			exportertest.CompareText(t, samples, carol)
		},
		served: []string{"spring p1", "spring p2", "summer p1"},
	}, {
		name: "malformed item on page 1",
		spring: []page{{rows: []string{row("alice_ig", "1"), row("bob", `"n/a"`)}},
			{rows: []string{row("dan_tt", "3"), row("erin", "4")}}, {rows: []string{row("zed", "5")}}},
		check: func(t *testing.T, samples []exporter.Sample, err error) {
			exportertest.AssertFailed(t, samples, err, exporter.ErrBadResponse, token, `stats of campaign "spring": item 1: influencer_link_clicks_total at "stats.clicks": "n/a" is not a number`)
		},
		served: []string{"spring p1", "spring p2", "spring p3"},
	}, {
		name: "malformed item on page 2",
		spring: []page{{rows: []string{row("alice_ig", "1"), row("bob", "2")}},
			{rows: []string{row("dan_tt", "3"), row("erin", "null")}}},
		check: func(t *testing.T, samples []exporter.Sample, err error) {
			exportertest.AssertFailed(t, samples, err, exporter.ErrBadResponse, token, `item 3: influencer_link_clicks_total at "stats.clicks": null`)
		},
		served: []string{"spring p1", "spring p2"},
	}, {
		name: "items of three pages summed",
		spring: []page{{rows: []string{row("alice_ig", "1"), row("bob", "2")}},
			{rows: []string{row("alice_ig", "10"), row("zed", "4")}}, {rows: []string{row("bob", `"20"`)}}},
		check: func(t *testing.T, samples []exporter.Sample, err error) {
			if err != nil {
				t.Fatalf("poll: %v", err)
			}
			exportertest.CompareText(t, samples, exportertest.MetricText(exporter.LinkClicks,
				`influencer_link_clicks_total{campaign="spring",creator="alice",link="aff.example/alice_ig",provider="affnet"} 11`,
				`influencer_link_clicks_total{campaign="spring",creator="bob",link="aff.example/bob",provider="affnet"} 22`,
				`influencer_link_clicks_total{campaign="summer",creator="carol",link="aff.example/carol",provider="affnet"} 30`))
		},
		served: []string{"spring p1", "spring p2", "spring p3", "summer p1"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			p := &pages{byCampaign: map[string][]page{"spring": tc.spring, "summer": summer}}
			env := exportertest.Build(t, config(exportertest.Serve(t, p), token, clicksOptions))
			samples, err := env.Poll(t, "aff")
			tc.check(t, samples, err)
			if got := p.log(); !slices.Equal(got, tc.served) {
				t.Errorf("pages served %q, want %q", got, tc.served)
			}
		})
	}
}

// TestSeriesSet: series that share a slot's place stay apart, values of
// one series are summed, series keep the order they first appeared in,
// and the table grows as series come (from 8 slots to 1,024 here).
func TestSeriesSet(t *testing.T) {
	s := newSeriesSet(0, nil)
	var want []exporter.Sample
	for round := range 2 {
		for i := range 500 {
			for _, m := range []*exporter.Metric{exporter.LinkClicks, exporter.CodeRedemptions} {
				labels := []string{"spring", "alice", "affnet", fmt.Sprintf("aff.example/%d", i)}
				s.add(m, labels, float64(i), true)
				if round == 0 {
					want = append(want, m.Sample(float64(2*i), labels...))
				}
			}
		}
	}
	if got, want := fmt.Sprint(s.samples), fmt.Sprint(want); got != want {
		t.Errorf("samples:\n got %s\nwant %s", got, want)
	}
	if len(s.slots) != 2048 {
		t.Errorf("%d slots for %d series, want 2048", len(s.slots), len(s.samples))
	}
	// Two metrics' series of one item share one copy of its labels.
	if &s.samples[0].LabelValues[0] != &s.samples[1].LabelValues[0] {
		t.Error("the series of one item do not share their labels")
	}
}

// TestDisjoint: only targets that each name a different campaign and
// creator are known to give different series.
func TestDisjoint(t *testing.T) {
	for _, tc := range []struct {
		targets []target
		want    bool
	}{
		{[]target{{rel: "/stats"}}, true},
		{[]target{{rel: "/a", campaign: "spring"}, {rel: "/b", campaign: "summer"}}, true},
		{[]target{{rel: "/a", campaign: "spring", creator: "alice"}, {rel: "/b", campaign: "spring", creator: "bob"}}, true},
		{[]target{{rel: "/a", campaign: "spring", creator: "alice"}, {rel: "/b", campaign: "spring", creator: "alice"}}, false},
		{[]target{{rel: "/a"}, {rel: "/b"}}, false},
	} {
		if got := disjoint(tc.targets); got != tc.want {
			t.Errorf("disjoint(%v) = %v, want %v", tc.targets, got, tc.want)
		}
	}
}

// TestSeriesSetSharesLastRefreshLabels: a refresh's series that the last
// refresh had share its label values; a new series gets its own copy.
func TestSeriesSetSharesLastRefreshLabels(t *testing.T) {
	prev := newSeriesSet(0, nil)
	prev.add(exporter.LinkClicks, []string{"spring", "alice", "affnet", "aff.example/a"}, 1, true)
	next := newSeriesSet(0, nil)
	next.prev, next.seed = prev, prev.seed
	next.add(exporter.LinkClicks, []string{"spring", "alice", "affnet", "aff.example/a"}, 2, true)
	next.add(exporter.LinkClicks, []string{"spring", "alice", "affnet", "aff.example/b"}, 3, true)
	if &next.samples[0].LabelValues[0] != &prev.samples[0].LabelValues[0] {
		t.Error("a series the last refresh had does not share its label values")
	}
	if got := next.samples[1].LabelValues[3]; got != "aff.example/b" {
		t.Errorf("new series labelled %q", got)
	}
	if next.samples[0].Value != 2 || prev.samples[0].Value != 1 {
		t.Errorf("values %v and %v, want 2 and 1", next.samples[0].Value, prev.samples[0].Value)
	}
}

package bitly_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/bitly"
	"github.com/influencer-exporter/influencer_exporter/collectors/bitly/bitlyfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/agency"
)

// TestCallsAtAgencyScale measures the calls of a refresh at agency scale:
// all 20,000 tracking links on Bitly, two per creator, in a group that
// holds just them, every link with clicks.
//
// Bitly's batch limits: no call returns the clicks of chosen links
// together. GET /groups/{group_guid}/bitlinks/clicks returns the group's
// size most clicked links with their clicks (Bitly documents the default,
// 50, and no maximum: the collector accepts top_links up to 1000);
// every other link costs GET /bitlinks/{bitlink}/clicks/summary. So a
// refresh of L links takes 1 + (L - top_links) calls: 19,951 for 20,000
// with the default, 19,001 with top_links 1000, where one call per link is
// 20,000. The first refresh also needs each link's short and long URL,
// which the group's listing gives 100 at a time: ceil(L/100) pages, 200,
// since the links left to read are the least clicked, the oldest, at the
// listing's end; GET
// /bitlinks/{bitlink} costs a call a link. At Bitly's rate limits (per
// hour, a tenth of it per minute) a refresh of 20,000 links spans hours:
// each refresh reads what its interval allows, least recently read first.
//
// The clicks summaries go max_concurrent_requests (8 by default) at a
// time, so the collector holds at most 8 connections; the calls and their
// count are those of reading the links one after another.
//
// At full size the two cases make 80,000 calls, about 12 seconds, and far
// more than 20 seconds under the race detector: there they run at a
// tenth of it.
func TestCallsAtAgencyScale(t *testing.T) {
	links := agency.SlowSize(agency.Links)
	for _, top := range []int{50, 1000} {
		t.Run(fmt.Sprintf("top_links %d", top), func(t *testing.T) {
			srv, env := agencyScale(t, links, top, "1m", 0)
			const (
				sorted  = "GET /v4/groups/{guid}/bitlinks/{sort}"
				listing = "GET /v4/groups/{guid}/bitlinks"
				summary = "GET /v4/bitlinks/{domain}/{hash}/clicks/summary"
			)
			beyond := max(0, links-top)
			for _, step := range []struct {
				refresh string
				want    agency.Calls
			}{
				{"first refresh", agency.Calls{sorted: 1, listing: agency.CeilDiv(links, 100), summary: beyond}},
				{"next refresh", agency.Calls{sorted: 1, summary: beyond}},
			} {
				srv.Refresh(t, step.refresh, links, func() (int, error) {
					samples, err := env.Poll(t, "bitly")
					return len(samples), err
				}, step.want)
			}
			srv.CheckConns(t, exporter.DefaultHTTP.MaxConcurrentRequests)
		})
	}
}

// BenchmarkColdStart measures the time from startup to the first
// complete snapshot of the agency's links on Bitly, two a creator, with
// the default top_links (50), max_concurrent_requests (8) and interval (5
// minutes, which bounds a refresh), every answer 50 ms late: 1 + 200
// group listing pages one after another, then 19,950 clicks summaries
// eight at a time. The client's rate limit and retry waits are lifted,
// as in TestCallsAtAgencyScale, so the figure is the latency's and the
// concurrency's: at Bitly's own limits (the default rate_limit is 5 calls
// a second) the first refresh reads what its interval allows and the
// next ones go on, least recently read first. It runs at a tenth of the
// agency unless -agency.full is given.
func BenchmarkColdStart(b *testing.B) {
	links := agency.BenchSize(agency.Links)
	b.Run(fmt.Sprintf("links=%d", links), func(b *testing.B) {
		agency.RunColdStart(b, func(b *testing.B) (*agency.Server, *exportertest.Env) {
			return agencyScale(b, links, bitly.DefaultTopLinks, "5m", agency.Latency)
		})
	})
}

// TestColdStart runs the cold start BenchmarkColdStart measures at a
// hundredth of the agency, answers 1 ms late: the scheduler stores a
// complete first snapshot, read over at most max_concurrent_requests
// connections.
func TestColdStart(t *testing.T) {
	srv, env := agencyScale(t, agency.Links/100, bitly.DefaultTopLinks, "5m", time.Millisecond)
	agency.ColdStart(t, env)
	srv.CheckConns(t, exporter.DefaultHTTP.MaxConcurrentRequests)
}

// agencyScale serves a fake Bitly group holding the given number of
// links, every one with clicks, each answer delay late, and builds a
// bitly collector asking for them all, two a creator, with top_links top
// and the interval given.
func agencyScale(tb testing.TB, links, top int, interval string, delay time.Duration) (*agency.Server, *exportertest.Env) {
	tb.Helper()
	clock := exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	fake := bitlyfake.New(token, clock.Now)
	for i := range links {
		fake.AddLink(link(fmt.Sprintf("bit.ly/l%05d", i), int64(i+1), 0))
	}
	srv := agency.Serve(tb, agency.Slow(fake, delay), nil)
	const perCreator = 2
	cfg := agency.Config{Type: "bitly", BaseURL: srv.URL + "/v4", Token: token, Interval: interval,
		Options:  fmt.Sprintf("{group_guid: %s, top_links: %d}", bitlyfake.GroupGUID, top),
		Creators: max(1, links/perCreator), Creator: agency.CreatorLinks("bitly", "bit.ly/l%05d", perCreator)}
	return srv, srv.Build(tb, cfg.YAML())
}

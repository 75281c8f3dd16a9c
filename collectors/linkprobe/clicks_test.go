package linkprobe

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/bitly/bitlyfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/dub/dubfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/linkprobe/sitefake"
	"github.com/influencer-exporter/influencer_exporter/collectors/rebrandly/rebrandlyfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/shortio/shortiofake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// browserUA is what a visitor's phone sends.
const browserUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"

// shortener is one fake shortener serving one link, alice's, with 100
// clicks on a stopped clock: its count moves only by clicks its short link
// handler counts.
type shortener struct {
	name, id string
	// start serves the fake and returns the link's short URL and a
	// reader of its lifetime clicks as the fake's API reports them.
	start func(t *testing.T, id, dest string) (shortURL string, clicks func() int64)
}

var stopped = fakeapi.Clock(func() time.Time { return clockStart })

// fake is what the test needs of a fake shortener with links of type L.
type fake[L any] interface {
	http.Handler
	AddLink(L)
	ShortURL(path string) string
	LinkClicks(id string) int64
}

// serveFake serves f with l, the link id, and returns its short URL and a
// reader of its clicks.
func serveFake[L any](t *testing.T, f fake[L], id string, l L) (string, func() int64) {
	exportertest.ServeFake(t, f, l)
	return f.ShortURL("alice"), func() int64 { return f.LinkClicks(id) }
}

// hundred is the clicks of each shortener's link before the test.
var hundred = fakeapi.Growth{Base: 100}

var shorteners = []shortener{
	{name: "bitly", id: "bit.ly/alice", start: func(t *testing.T, id, dest string) (string, func() int64) {
		return serveFake(t, bitlyfake.New("token", stopped), id, bitlyfake.Link{ID: id, Destination: dest, Clicks: hundred})
	}},
	{name: "dub", id: "dub.sh/alice", start: func(t *testing.T, id, dest string) (string, func() int64) {
		return serveFake(t, dubfake.New("dub_token", stopped), id, dubfake.Link{ID: id, Destination: dest, Clicks: hundred})
	}},
	{name: "shortio", id: "short.gy/alice", start: func(t *testing.T, id, dest string) (string, func() int64) {
		return serveFake(t, shortiofake.New("sk_token", stopped), id, shortiofake.Link{ID: id, Destination: dest, Clicks: hundred})
	}},
	{name: "rebrandly", id: "rebrand.ly/alice", start: func(t *testing.T, id, dest string) (string, func() int64) {
		return serveFake(t, rebrandlyfake.New("key", stopped), id, rebrandlyfake.Link{ID: id, Destination: dest, Clicks: hundred})
	}},
}

// TestProbeCountsNoClick runs probe rounds against each shortener's fake,
// which counts clicks by the rules its shortener documents
// (docs/link-probe.md), and checks that the count did not move; then that
// requests a shortener does count move it, so the counter works.
func TestProbeCountsNoClick(t *testing.T) {
	shop := sitefake.New()
	shopURL := httptest.NewServer(shop)
	t.Cleanup(shopURL.Close)
	dest := shopURL.URL + "/p/serum?utm_source=alice&utm_campaign=spring"

	// Requests after the probe's rounds, in order, and the clicks each
	// adds at each shortener.
	requests := []struct {
		name, method, ua string
		add              map[string]int64
	}{
		{"a browser's HEAD", http.MethodHead, browserUA,
			// Bitly and Dub drop HEAD; Short.io and Rebrandly do not say,
			// and their fakes assume the worst.
			map[string]int64{"bitly": 0, "dub": 0, "shortio": 1, "rebrandly": 1}},
		{"a GET with the probe's User-Agent", http.MethodGet, DefaultUserAgent,
			// Bitly's bot filter is undocumented: its fake counts any GET.
			map[string]int64{"bitly": 1, "dub": 0, "shortio": 0, "rebrandly": 0}},
		{"a browser's GET", http.MethodGet, browserUA,
			map[string]int64{"bitly": 1, "dub": 1, "shortio": 1, "rebrandly": 1}},
		{"the same browser's GET again", http.MethodGet, browserUA,
			// Dub counts one click per visitor and link an hour.
			map[string]int64{"bitly": 1, "dub": 0, "shortio": 1, "rebrandly": 1}},
	}

	for _, sh := range shorteners {
		t.Run(sh.name, func(t *testing.T) {
			short, clicks := sh.start(t, sh.id, dest)
			env, p := build(t, nil, "user_agent: "+DefaultUserAgent, "")
			env.Links.Publish("stub", []exporter.PublishedLink{{
				Campaign: "spring", Creator: "alice", Provider: sh.name, ID: sh.id, URL: short, Destination: dest,
				Expect: &exporter.Expect{UTM: map[string]string{"utm_source": "alice"}},
			}})
			before := clicks()
			for round := 1; round <= 3; round++ {
				samples, err := env.Poll(t, "linkprobe")
				if err != nil {
					t.Fatal(err)
				}
				if o := outcomes(samples)[sh.name+"/"+sh.id]; o == nil || o.up != 1 || o.redirects != 1 {
					t.Fatalf("round %d: %+v (%s), want the link up after one redirect", round, o, p.Findings())
				}
				if got := clicks(); got != before {
					t.Fatalf("after %d probe rounds: %d clicks, want %d: the probe counted as a click", round, got, before)
				}
			}

			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			want := before
			for _, rq := range requests {
				req, _ := http.NewRequest(rq.method, short, nil)
				req.Header.Set("User-Agent", rq.ua)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusMovedPermanently {
					t.Errorf("%s: status %d", rq.name, resp.StatusCode)
				}
				want += rq.add[sh.name]
				if got := clicks(); got != want {
					t.Errorf("after %s: %d clicks, want %d", rq.name, got, want)
				}
			}
		})
	}
}

package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestScraperProcess: the scraper process scrapes at the rate it is given
// until its input closes, and the load test reads back every scrape with
// its times and body size.
func TestScraperProcess(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.Header.Get("Accept") != prometheusAccept {
			t.Errorf("Accept %q, want Prometheus's", r.Header.Get("Accept"))
		}
		_, _ = io.WriteString(w, strings.Repeat("x", 1000))
	}))
	defer srv.Close()

	before := time.Now()
	p, err := startScraper(srv.URL+"/metrics", 50)
	if err != nil {
		t.Fatal(err)
	}
	// Until the first scrape, then a few tenths of a second more.
	for served.Load() == 0 && time.Since(before) < 30*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	scrapes, err := p.stop()
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if len(scrapes) == 0 || int64(len(scrapes)) != served.Load() {
		t.Fatalf("%d scrapes read back, the server answered %d; want the same, at least one", len(scrapes), served.Load())
	}
	for i, s := range scrapes {
		if s.err || s.bytes != 1000 || s.start.Before(before) || s.end.After(after) || s.end.Before(s.start) {
			t.Errorf("scrape %d: %+v, want 1000 bytes, no error, between %v and %v", i, s, before, after)
		}
	}
	// 50 a second, never more: a scrape waits for its tick.
	if most := int(after.Sub(before)/(20*time.Millisecond)) + 1; len(scrapes) > most {
		t.Errorf("%d scrapes in %v, want at most %d at 50 a second", len(scrapes), after.Sub(before), most)
	}
}

// TestReadScrapesRejectsGarbage: a scraper process's broken output is an
// error, not a run without scrapes.
func TestReadScrapesRejectsGarbage(t *testing.T) {
	got, err := readScrapes(strings.NewReader(`{"start":1,"end":2,"bytes":3}` + "\nnot json\n"))
	if err == nil || len(got) != 1 || got[0].bytes != 3 {
		t.Errorf("readScrapes: %+v, %v; want the first scrape and an error", got, err)
	}
}

// TestScrapeLoopAtAnImpossibleRate: a rate whose period is under a
// nanosecond scrapes back to back instead of failing to make its ticker.
func TestScrapeLoopAtAnImpossibleRate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "x")
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	scrapes := scrapeLoop(ctx, srv.URL+"/metrics", 1e12)
	if len(scrapes) < 2 {
		t.Fatalf("%d scrapes in 200ms back to back, want more", len(scrapes))
	}
	for i, s := range scrapes {
		if s.err || s.bytes != 1 {
			t.Errorf("scrape %d: %+v, want 1 byte, no error", i, s)
		}
	}
}

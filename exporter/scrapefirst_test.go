package exporter

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// waitIn runs g.wait on a goroutine of its own and returns a channel
// closed when it returns.
func waitIn(g *scrapeGate) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.wait()
	}()
	return done
}

// stillWaiting fails the test if done is closed after a while: a wait
// that should go on until a scrape ends. (A wait that returned too late
// to be seen here passes; one that returns too early is caught.)
func stillWaiting(t *testing.T, done <-chan struct{}, why string) {
	t.Helper()
	select {
	case <-done:
		t.Fatalf("the refresh's wait returned %s", why)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestScrapeGateWaitsForEveryScrape(t *testing.T) {
	g := newScrapeGate(time.Hour, 3)
	g.wait() // no scrape: returns at once
	if n := g.waits.Load(); n != 0 {
		t.Fatalf("waits without a scrape = %d, want 0", n)
	}
	g.enter()
	g.enter()
	done := waitIn(g)
	stillWaiting(t, done, "while two scrapes were served")
	g.exit()
	stillWaiting(t, done, "while one scrape of two was still served")
	g.exit()
	<-done
	if n, d := g.waits.Load(), time.Duration(g.waited.Load()); n != 1 || d < 50*time.Millisecond {
		t.Errorf("waits = %d, waited %v; want 1, of about the 100ms the scrapes were held", n, d)
	}

	// A scrape after the others begins a new wait, once the refresh
	// has run its share (here a third of about 100ms).
	time.Sleep(100 * time.Millisecond)
	g.enter()
	done = waitIn(g)
	stillWaiting(t, done, "for a second scrape")
	g.exit()
	<-done
	if n := g.waits.Load(); n != 2 {
		t.Errorf("waits = %d, want 2", n)
	}
}

func TestScrapeGateWaitIsBounded(t *testing.T) {
	// One wait of at most 20ms, then the refresh is owed as long again
	// (share 1): a second checkpoint right after does not wait.
	g := newScrapeGate(20*time.Millisecond, 1)
	g.enter()
	defer g.exit()
	g.wait()
	if n, d := g.waits.Load(), time.Duration(g.waited.Load()); n != 1 || d < 20*time.Millisecond {
		t.Fatalf("waits = %d, waited %v; want 1 wait of the whole 20ms", n, d)
	}
	g.wait()
	if n := g.waits.Load(); n != 1 {
		t.Errorf("waits = %d right after a wait, want 1: the refresh is owed its share of running", n)
	}
}

func TestScrapeGateOff(t *testing.T) {
	g := newScrapeGate(time.Hour, 3)
	g.off.Store(true)
	g.enter()
	defer g.exit()
	g.wait() // would wait an hour if on
	if n := g.waits.Load(); n != 0 {
		t.Errorf("waits while off = %d, want 0", n)
	}
}

func TestScrapeGateMetrics(t *testing.T) {
	g := newScrapeGate(time.Hour, 3)
	g.waits.Store(3)
	g.waited.Store(int64(1500 * time.Millisecond))
	want := `
# HELP influencer_refresh_scrape_wait_seconds_total Time refreshes waited for /metrics scrapes being served to end (--refresh.yield-to-scrapes).
# TYPE influencer_refresh_scrape_wait_seconds_total counter
influencer_refresh_scrape_wait_seconds_total 1.5
# HELP influencer_refresh_scrape_waits_total Times a refresh waited for /metrics scrapes being served to end (--refresh.yield-to-scrapes).
# TYPE influencer_refresh_scrape_waits_total counter
influencer_refresh_scrape_waits_total 3
`
	if err := testutil.CollectAndCompare(scrapeGateMetrics{g}, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// blockedResponse is a ResponseWriter whose first Write waits for
// release: a scrape held open while its body is written.
type blockedResponse struct {
	header   http.Header
	writing  chan struct{}
	release  chan struct{}
	released bool
}

func (b *blockedResponse) Header() http.Header { return b.header }
func (b *blockedResponse) WriteHeader(int)     {}
func (b *blockedResponse) Write(p []byte) (int, error) {
	if !b.released {
		b.released = true
		close(b.writing)
		<-b.release
	}
	return len(p), nil
}

// TestRefreshCheckpointsWaitForScrapes holds a /metrics scrape open and
// checks that each kind of refresh checkpoint waits for it: decoding an
// API response and rendering a snapshot.
func TestRefreshCheckpointsWaitForScrapes(t *testing.T) {
	h, err := NewMetricsHandler(selfRegistry(), nil, NewCache())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"n": 1}`))
	}))
	defer srv.Close()
	c, _ := testClient(t, nil)
	samples := benchSamples(1000) // 6,000 series: five render checkpoints and more

	for _, tc := range []struct {
		name    string
		refresh func() error
	}{
		{"decode", func() error {
			var v struct{ N int }
			_, err := c.GetJSON(context.Background(), srv.URL+"/x", nil, &v)
			return err
		}},
		{"render", func() error {
			_, _, err := renderSamples(samples)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scrapes.notBefore.Store(0)
			before := scrapes.waits.Load()
			w := &blockedResponse{header: http.Header{}, writing: make(chan struct{}), release: make(chan struct{})}
			served := make(chan struct{})
			go func() {
				defer close(served)
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			}()
			<-w.writing
			refreshed := make(chan error, 1)
			start := time.Now()
			go func() { refreshed <- tc.refresh() }()
			var err error
			select {
			case err = <-refreshed:
			case <-time.After(time.Minute):
				t.Fatal("the refresh did not end while a scrape was held: its waits are not bounded")
			}
			took := time.Since(start)
			close(w.release)
			<-served
			if err != nil {
				t.Fatal(err)
			}
			if n := scrapes.waits.Load() - before; n == 0 || took < maxScrapeWait {
				t.Errorf("%d waits in %v while a scrape was served; want at least one of %v", n, took, maxScrapeWait)
			}
			if n := scrapes.serving.Load(); n != 0 {
				t.Errorf("%d scrapes counted as served after the last ended", n)
			}
		})
	}
}

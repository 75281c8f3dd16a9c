package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
)

// under counts the calls under way and remembers the most at once.
type under struct {
	mu        sync.Mutex
	now, peak int
}

func (u *under) enter() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.now++
	u.peak = max(u.peak, u.now)
}

func (u *under) leave() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.now--
}

func TestParallel(t *testing.T) {
	errAt := func(i int) error { return fmt.Errorf("call %d failed", i) }
	for _, tc := range []struct {
		name     string
		limit, n int
		fail     []int // indices whose call fails
		want     error // nil, or errAt of the index
		// ran are the indices that must have run; with limit 1, exactly
		// those.
		ran []int
	}{
		{name: "none", limit: 4, n: 0},
		{name: "one after another", limit: 1, n: 5, ran: []int{0, 1, 2, 3, 4}},
		{name: "one after another, stops at the failure", limit: 1, n: 5, fail: []int{2, 4}, want: errAt(2), ran: []int{0, 1, 2}},
		{name: "concurrent", limit: 4, n: 20, ran: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}},
		{name: "concurrent, lowest failure wins", limit: 4, n: 20, fail: []int{3, 9}, want: errAt(3), ran: []int{0, 1, 2, 3}},
		{name: "limit above n", limit: 64, n: 3, ran: []int{0, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				u   under
				mu  sync.Mutex
				ran []int
			)
			err := Parallel(context.Background(), tc.limit, tc.n, func(_ context.Context, i int) error {
				u.enter()
				defer u.leave()
				time.Sleep(time.Millisecond) // long enough for the others to start
				mu.Lock()
				ran = append(ran, i)
				mu.Unlock()
				if slices.Contains(tc.fail, i) {
					return errAt(i)
				}
				return nil
			})
			if fmt.Sprint(err) != fmt.Sprint(tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			slices.Sort(ran)
			for _, i := range tc.ran {
				if !slices.Contains(ran, i) {
					t.Errorf("call %d did not run (ran %v)", i, ran)
				}
			}
			if tc.limit == 1 && !slices.Equal(ran, tc.ran) {
				t.Errorf("ran %v, want %v", ran, tc.ran)
			}
			if u.peak > max(tc.limit, 1) {
				t.Errorf("%d calls at once, limit %d", u.peak, tc.limit)
			}
		})
	}
}

// TestParallelReachesLimit checks that limit calls do run at once: each
// waits until all of them are under way.
func TestParallelReachesLimit(t *testing.T) {
	const limit = 4
	var started sync.WaitGroup
	started.Add(limit)
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := Parallel(ctx, limit, limit, func(ctx context.Context, _ int) error {
		started.Done()
		select {
		case <-all:
			return nil
		case <-ctx.Done():
			return errors.New("the calls did not run at once")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestParallelStopsAfterFailure checks what a failure does to the other
// calls: those after it are canceled and none starts, those before it run
// to their end, as they would one after another.
func TestParallelStopsAfterFailure(t *testing.T) {
	errBoom := errors.New("boom")
	var (
		started        = [4]chan struct{}{make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})}
		release        = make(chan struct{})
		canceled       [4]atomic.Bool
		startedAfter   atomic.Int32
		firstCompleted atomic.Bool
	)
	done := make(chan error, 1)
	go func() {
		done <- Parallel(context.Background(), 4, 10, func(ctx context.Context, i int) error {
			if i >= 4 {
				startedAfter.Add(1)
				return nil
			}
			close(started[i])
			switch i {
			case 0:
				select {
				case <-release:
					firstCompleted.Store(true)
					return nil
				case <-ctx.Done():
					canceled[0].Store(true)
					return ctx.Err()
				}
			case 1:
				<-started[2]
				<-started[3]
				return errBoom
			default:
				<-ctx.Done()
				canceled[i].Store(true)
				return ctx.Err()
			}
		})
	}()
	// Calls 2 and 3 end canceled; then call 0 may finish.
	for !canceled[2].Load() || !canceled[3].Load() {
		select {
		case err := <-done:
			t.Fatalf("Parallel returned %v before call 0 ended", err)
		case <-time.After(time.Millisecond):
		}
	}
	close(release)
	if err := <-done; !errors.Is(err, errBoom) {
		t.Errorf("error %v, want call 1's", err)
	}
	if canceled[0].Load() || !firstCompleted.Load() {
		t.Error("call 0, before the failure, was canceled")
	}
	if n := startedAfter.Load(); n != 0 {
		t.Errorf("%d calls started after the failure", n)
	}
}

func TestParallelPanics(t *testing.T) {
	defer func() {
		if p := recover(); p != "mapping bug" {
			t.Errorf("recovered %v, want the call's panic", p)
		}
	}()
	_ = Parallel(context.Background(), 3, 10, func(_ context.Context, i int) error {
		if i == 4 {
			panic("mapping bug")
		}
		return nil
	})
	t.Error("Parallel did not panic")
}

// TestReadTargetsConcurrently checks that reading links concurrently
// reports what reading them one after another does.
func TestReadTargetsConcurrently(t *testing.T) {
	errServer := &APIError{StatusCode: 500, kind: ErrServer, Message: "internal error"}
	var refs []LinkRef
	for i := range 40 {
		refs = append(refs, LinkRef{Campaign: "spring", Creator: fmt.Sprintf("c%02d", i%7), Link: &Link{ID: fmt.Sprintf("fk.io/l%02d", i)}})
	}
	targets := LinkTargets(refs, nil)
	for _, tc := range []struct {
		name     string
		answer   func(i int) (LinkRead, error)
		costly   func(i int) bool
		canceled bool // the refresh is out of time before it starts
	}{
		{name: "all read", answer: func(i int) (LinkRead, error) { return LinkRead{Clicks: float64(i)}, nil }},
		{name: "some unknown or unusable", answer: func(i int) (LinkRead, error) {
			switch i % 5 {
			case 1:
				return LinkRead{}, fmt.Errorf("fk.io/l%02d: %w", i, ErrNotFound)
			case 3:
				return LinkRead{}, SkipLink(errors.New("clicks are not a number"))
			}
			return LinkRead{Clicks: float64(i)}, nil
		}},
		{name: "a failure fails the refresh", answer: func(i int) (LinkRead, error) {
			if i == 17 || i == 30 {
				return LinkRead{}, fmt.Errorf("link %d: %w", i, errServer)
			}
			return LinkRead{Clicks: float64(i)}, nil
		}},
		{name: "out of time", canceled: true, costly: func(i int) bool { return i%2 == 0 },
			answer: func(i int) (LinkRead, error) { return LinkRead{Clicks: float64(i)}, nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			index := func(lt LinkTarget) int {
				i, err := strconv.Atoi(strings.TrimPrefix(lt.ID(), "fk.io/l"))
				if err != nil {
					t.Fatal(err)
				}
				return i
			}
			costly := func(lt LinkTarget) bool { return tc.costly == nil || tc.costly(index(lt)) }
			run := func(limit int) (string, error, []string) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tc.canceled {
					cancel()
				}
				rot := NewRotation()
				for _, lt := range targets[:10] {
					rot.Done(lt.Key()) // read last time: read last now
				}
				r := NewLinkReport("fake")
				var err error
				if limit == 0 {
					err = r.ReadTargets(ctx, rot, targets, costly, func(lt LinkTarget) (LinkRead, error) { return tc.answer(index(lt)) })
				} else {
					err = r.ReadTargetsConcurrently(ctx, limit, rot, targets, costly, func(_ context.Context, lt LinkTarget) (LinkRead, error) { return tc.answer(index(lt)) })
				}
				samples, partial := r.Finish(nil, "fake")
				var b strings.Builder
				for _, s := range samples {
					fmt.Fprintf(&b, "%s=%g ", s.Label("link"), s.Value)
				}
				var objs []string
				if oerrs, _ := objectErrors(partial); oerrs != nil {
					for k, oe := range oerrs {
						objs = append(objs, fmt.Sprintf("%s skipped=%v: %v", k, oe.Skipped, oe.Err))
					}
				}
				slices.Sort(objs)
				// The rotation's order next time tells what was read.
				for _, lt := range Rotate(rot, targets, LinkTarget.Key) {
					b.WriteString(lt.ID() + " ")
				}
				return b.String(), err, objs
			}
			wantSamples, wantErr, wantObjs := run(0)
			for _, limit := range []int{1, 4, 64} {
				samples, err, objs := run(limit)
				if samples != wantSamples {
					t.Errorf("limit %d: samples and order\n got %s\nwant %s", limit, samples, wantSamples)
				}
				if fmt.Sprint(err) != fmt.Sprint(wantErr) {
					t.Errorf("limit %d: error %v, want %v", limit, err, wantErr)
				}
				if !slices.Equal(objs, wantObjs) {
					t.Errorf("limit %d: object errors\n got %q\nwant %q", limit, objs, wantObjs)
				}
			}
		})
	}
}

// TestParallelKeepsTheRateLimit checks that calls made at once still wait
// for the client's rate limiter: with a burst of 3 and the next token far
// away, 3 of 10 calls reach the provider before the refresh's time is up.
func TestParallelKeepsTheRateLimit(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c := NewClient(ClientOptions{Collector: "test", HTTP: HTTPConfig{
		RateLimit: 0.001, Burst: 3, MaxConcurrentRequests: 8,
		MaxRetryWait: model.Duration(time.Millisecond), MaxResponseBytes: 1024,
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var failed atomic.Int32
	err := c.Parallel(ctx, 10, func(ctx context.Context, _ int) error {
		if _, err := c.GetJSON(ctx, srv.URL, nil, &struct{}{}); err != nil {
			failed.Add(1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := calls.Load(); got != 3 {
		t.Errorf("%d calls reached the provider, want the burst of 3", got)
	}
	if got := failed.Load(); got != 7 {
		t.Errorf("%d calls failed, want 7 out of time", got)
	}
}

// TestRetryAfterPausesTheClient checks that a 429's Retry-After holds
// every call of the client, not only the retry of the call it answered,
// unless it is longer than a retry waits.
func TestRetryAfterPausesTheClient(t *testing.T) {
	for _, tc := range []struct {
		retryAfter string
		pause      bool
	}{
		{"0.05", true},
		{"60", false},
	} {
		t.Run(tc.retryAfter, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					w.Header().Set("Retry-After", tc.retryAfter)
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				_, _ = w.Write([]byte(`{}`))
			}))
			defer srv.Close()
			c := NewClient(ClientOptions{Collector: "test", HTTP: HTTPConfig{
				MaxRetries: 1, MinRetryWait: model.Duration(time.Millisecond), MaxRetryWait: model.Duration(time.Second),
				MaxResponseBytes: 1024,
			}})
			before := time.Now()
			_, err := c.GetJSON(context.Background(), srv.URL, nil, &struct{}{})
			c.mu.Lock()
			until := c.pauseUntil
			c.mu.Unlock()
			switch {
			case tc.pause && err != nil:
				t.Fatal(err)
			case tc.pause && until.Before(before.Add(50*time.Millisecond)):
				t.Errorf("paused until %s, want at least 50ms after the call", until)
			case !tc.pause && !errors.Is(err, ErrRateLimited):
				t.Errorf("error %v, want rate limited", err)
			case !tc.pause && !until.IsZero():
				t.Errorf("paused until %s, want no pause", until)
			}
		})
	}
}

func TestMaxConcurrentRequestsOption(t *testing.T) {
	cfg, err := ParseConfig("c.yml", []byte("collectors:\n  - type: fake\n  - type: fake\n    name: two\n    http: {max_concurrent_requests: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Collectors[0].HTTP.MaxConcurrentRequests; got != DefaultHTTP.MaxConcurrentRequests {
		t.Errorf("default max_concurrent_requests %d, want %d", got, DefaultHTTP.MaxConcurrentRequests)
	}
	if got := cfg.Collectors[1].HTTP.MaxConcurrentRequests; got != 1 {
		t.Errorf("max_concurrent_requests %d, want 1", got)
	}

	_, _, err = Check(filepath.Join("testdata/bad", "max_concurrent_requests.yml"))
	want := "testdata/bad/max_concurrent_requests.yml:3:27: collectors[0].http.max_concurrent_requests: must be between 1 and 64, got 65\n" +
		"testdata/bad/max_concurrent_requests.yml:7:7: collectors[1].http.max_concurrent_requests: must be between 1 and 64, got -1"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got: %v\nwant: %s", err, want)
	}
}

// TestSharedTransport checks that the collectors of one type and
// http_config share one connection pool, bounded by their largest
// max_concurrent_requests, while each sends its own token and counts its
// own requests.
func TestSharedTransport(t *testing.T) {
	var (
		mu          sync.Mutex
		open, peak  int
		conns       int
		wrongTokens []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// /<collector>: the request must carry that collector's token.
		if got, want := r.Header.Get("Authorization"), "Bearer token-of-"+strings.TrimPrefix(r.URL.Path, "/"); got != want {
			mu.Lock()
			wrongTokens = append(wrongTokens, r.URL.Path)
			mu.Unlock()
		}
		time.Sleep(2 * time.Millisecond)
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	// The connections are counted where the client opens and closes
	// them: the server sees a close late, and Go's transport replaces a
	// connection now and then (on a busy machine, one whose request write
	// it did not see end within 50 ms of the answer).
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		conns++
		open++
		peak = max(peak, open)
		return &closeCounter{Conn: c, closed: func() { mu.Lock(); open--; mu.Unlock() }}, nil
	}

	var yml strings.Builder
	yml.WriteString("collectors:\n")
	for i := range 6 {
		fmt.Fprintf(&yml, "  - {type: fake, name: c%d, token: token-of-c%d, http: {max_concurrent_requests: %d, rate_limit: 100000, burst: 100}}\n", i, i, 1+i%3)
	}
	yml.WriteString("  - {type: fake, name: tls, token: token-of-tls, http_config: {enable_http2: false}}\n")
	cfg, err := ParseConfig("c.yml", []byte(yml.String()))
	if err != nil {
		t.Fatal(err)
	}
	pool := newTransportPool(cfg.Collectors)
	pool.dial = dial
	metrics := NewAPIMetrics()
	var clients []*Client
	for _, cc := range cfg.Collectors {
		c, err := newCollectorClient(cc, Deps{Metrics: metrics}, pool, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		c.SetHooks(ClientHooks{Authorize: BearerAuth})
		clients = append(clients, c)
	}
	next := func(c *Client) http.RoundTripper { return c.rc.HTTPClient.Transport.(*instrumentedTransport).next }
	for i, c := range clients[1:6] {
		if next(c) != next(clients[0]) {
			t.Errorf("c%d has a transport of its own", i+1)
		}
	}
	if next(clients[6]) == next(clients[0]) {
		t.Error("a collector with another http_config shares the transport")
	}
	if got := next(clients[0]).(*http.Transport).MaxConnsPerHost; got != 3 {
		t.Errorf("MaxConnsPerHost %d, want the largest max_concurrent_requests, 3", got)
	}

	// All six at once, each with its own calls at once.
	var wg sync.WaitGroup
	for i, c := range clients[:6] {
		wg.Go(func() {
			err := c.Parallel(context.Background(), 20, func(ctx context.Context, _ int) error {
				_, err := c.GetJSON(ctx, fmt.Sprintf("%s/c%d", srv.URL, i), nil, &struct{}{})
				return err
			})
			if err != nil {
				t.Errorf("c%d: %v", i, err)
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if peak > 3 {
		t.Errorf("%d connections at once (%d in all), want at most 3", peak, conns)
	}
	if len(wrongTokens) > 0 {
		t.Errorf("requests with another collector's token: %q", wrongTokens)
	}
	for i := range 6 {
		if got := testutilCount(t, metrics, fmt.Sprintf("c%d", i)); got != 20 {
			t.Errorf("c%d counted %g requests, want its own 20", i, got)
		}
	}
}

func testutilCount(t *testing.T, m *APIMetrics, collector string) float64 {
	t.Helper()
	c, err := m.Requests.GetMetricWithLabelValues(collector, "200")
	if err != nil {
		t.Fatal(err)
	}
	return testutil.ToFloat64(c)
}

// closeCounter calls closed once, when the connection is first closed.
type closeCounter struct {
	net.Conn
	once   sync.Once
	closed func()
}

func (c *closeCounter) Close() error {
	c.once.Do(c.closed)
	return c.Conn.Close()
}

func TestReadEach(t *testing.T) {
	errServer := errors.New("HTTP 500")
	t.Run("all read", func(t *testing.T) {
		done, err := ReadEach(context.Background(), 4, 10, func(context.Context, int) error { return nil })
		if err != nil || slices.Contains(done, false) {
			t.Errorf("done %v, %v; want all read", done, err)
		}
	})
	t.Run("a failure fails the refresh", func(t *testing.T) {
		_, err := ReadEach(context.Background(), 4, 10, func(_ context.Context, i int) error {
			if i == 3 || i == 7 {
				return fmt.Errorf("object %d: %w", i, errServer)
			}
			return nil
		})
		if err == nil || err.Error() != "object 3: HTTP 500" {
			t.Errorf("error %v, want object 3's", err)
		}
	})
	t.Run("out of time", func(t *testing.T) {
		// The refresh's time runs out during call 5: calls then under
		// way fail and leave their objects unread, and none starts.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var (
			started atomic.Int32
			first   sync.WaitGroup // calls 0 to 4
		)
		first.Add(5)
		done, err := ReadEach(ctx, 3, 20, func(ctx context.Context, i int) error {
			started.Add(1)
			if i < 5 {
				first.Done()
			}
			if i == 5 {
				first.Wait()
				cancel()
			}
			if i >= 5 {
				<-ctx.Done()
				return fmt.Errorf("object %d: %w", i, ctx.Err())
			}
			return nil
		})
		if err != nil {
			t.Fatalf("error %v, want none: out of time is no failure", err)
		}
		for i, ok := range done {
			if ok != (i < 5) {
				t.Errorf("object %d read: %t", i, ok)
			}
		}
		if n := started.Load(); n > 5+3 {
			t.Errorf("%d calls started, want none after the time ran out but those under way", n)
		}
	})
}

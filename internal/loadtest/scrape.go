package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// prometheusAccept is the Accept header of Prometheus 3's scrapes.
const prometheusAccept = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6," +
	"application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4," +
	"text/plain;version=0.0.4;q=0.3,*/*;q=0.2"

// scrapeTimeout is Prometheus' default scrape timeout.
const scrapeTimeout = 10 * time.Second

// collectorName is the json collector's name: its type, the config
// giving it none.
const collectorName = "json"

// The collector's series on /metrics.
var collectorMetrics = map[string]bool{
	"influencer_link_clicks_total":      true,
	"influencer_code_redemptions_total": true,
	"influencer_code_revenue_total":     true,
}

// newClient returns a client keeping one connection to the exporter
// alive, as a Prometheus scrape loop does. It asks for gzip itself, so
// the body arrives as sent.
func newClient() *http.Client {
	return &http.Client{
		Timeout: scrapeTimeout,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: 1,
			MaxConnsPerHost:     1,
			DisableCompression:  true,
			IdleConnTimeout:     time.Minute,
		},
	}
}

// scrape is one timed /metrics request.
type scrape struct {
	start, end time.Time
	bytes      int64
	err        bool
}

func (s scrape) duration() time.Duration { return s.end.Sub(s.start) }

// get asks for url as Prometheus does and copies the body, as sent, to w.
func get(ctx context.Context, c *http.Client, url string, w io.Writer) (contentType, encoding string, n int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", "", 0, err
	}
	req.Header.Set("Accept", prometheusAccept)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := c.Do(req)
	if err != nil {
		return "", "", 0, err
	}
	defer resp.Body.Close()
	n, err = io.Copy(w, resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: status %s", url, resp.Status)
	}
	return resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding"), n, err
}

// scrapeLoop scrapes url, each body read whole, until ctx is done, and
// returns the scrapes. With a rate above zero a scrape starts every
// 1/rate seconds, or as soon as the last one ended if it took longer;
// otherwise (or at a rate above a scrape a nanosecond) they run back to
// back.
func scrapeLoop(ctx context.Context, url string, rate float64) []scrape {
	c := newClient()
	defer c.CloseIdleConnections()
	var (
		out  []scrape
		tick <-chan time.Time
	)
	if period := time.Duration(float64(time.Second) / rate); rate > 0 && period > 0 {
		t := time.NewTicker(period)
		defer t.Stop()
		tick = t.C
	}
	for ctx.Err() == nil {
		if tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
				return out
			}
		}
		s := scrape{start: time.Now()}
		_, _, n, err := get(ctx, c, url, io.Discard)
		s.end, s.bytes, s.err = time.Now(), n, err != nil
		if err != nil && ctx.Err() != nil {
			break
		}
		out = append(out, s)
		if err != nil {
			// Do not spin on a server that refuses.
			time.Sleep(10 * time.Millisecond)
		}
	}
	return out
}

// exposition is what one full scrape found.
type exposition struct {
	contentType string
	gzipBytes   int64
	bytes       int64
	// series counts the collector's series.
	series int
}

// checkScrape scrapes url once, as Prometheus does, and counts the
// collector's series in the body.
func checkScrape(ctx context.Context, url string) (exposition, error) {
	c := newClient()
	defer c.CloseIdleConnections()
	var buf bytes.Buffer
	ct, enc, n, err := get(ctx, c, url, &buf)
	if err != nil {
		return exposition{}, err
	}
	e := exposition{contentType: ct, gzipBytes: n}
	var r io.Reader = &buf
	if enc == "gzip" {
		zr, err := gzip.NewReader(&buf)
		if err != nil {
			return e, fmt.Errorf("/metrics body: %w", err)
		}
		r = zr
	} else {
		e.gzipBytes = 0
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		e.bytes += int64(len(line)) + 1
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if i := bytes.IndexAny(line, "{ "); i > 0 && collectorMetrics[string(line[:i])] {
			e.series++
		}
	}
	if err := sc.Err(); err != nil {
		return e, fmt.Errorf("/metrics body: %w", err)
	}
	return e, nil
}

// status is the collector's own series, and the exporter's garbage
// collector's, as one poll saw them.
type status struct {
	at          time.Time
	up          float64
	lastSuccess float64
	duration    float64
	// heapGoal is go_memstats_next_gc_bytes, the heap size at which the
	// next collection starts; gcs is go_gc_duration_seconds_count, the
	// collections so far.
	heapGoal, gcs float64
}

// poller watches the collector's status series through the metrics
// path's name[] filter: a small body on a connection of its own, so the
// end of a refresh is seen within a poll period without reading the
// scraped bodies.
type poller struct {
	url    string
	period time.Duration

	mu sync.Mutex
	// changes has one status per new last-success timestamp, in order:
	// the end of each refresh, as a scrape first saw it.
	changes []status
	failed  *status
	notify  chan struct{}
	// all holds every poll's status, for the collections' figures.
	all []status
}

func newPoller(addr string, period time.Duration) *poller {
	return &poller{
		url: "http://" + addr + "/metrics?name[]=influencer_collector_up&name[]=influencer_collector_last_success_timestamp_seconds" +
			"&name[]=influencer_collector_refresh_duration_seconds&name[]=go_memstats_next_gc_bytes&name[]=go_gc_duration_seconds",
		period: period,
		notify: make(chan struct{}, 1),
	}
}

// run polls until ctx is done. Errors (the exporter not listening yet)
// are retried at the next poll.
func (p *poller) run(ctx context.Context) {
	c := newClient()
	defer c.CloseIdleConnections()
	t := time.NewTicker(p.period)
	defer t.Stop()
	for {
		if st, found, ok := p.poll(ctx, c); ok {
			p.mu.Lock()
			p.all = append(p.all, st)
			p.mu.Unlock()
			if found {
				p.observe(st)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// poll reads the status once; ok is false when the exporter did not
// answer, found when the collector's series were there: they appear once
// its first refresh ended.
func (p *poller) poll(ctx context.Context, c *http.Client) (st status, found, ok bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return st, false, false
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := c.Do(req)
	if err != nil {
		return st, false, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return st, false, false
	}
	st.at = time.Now()
	for _, line := range strings.Split(string(body), "\n") {
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		switch line[:i] {
		case `influencer_collector_up{collector="` + collectorName + `"}`:
			st.up, found = v, true
		case `influencer_collector_last_success_timestamp_seconds{collector="` + collectorName + `"}`:
			st.lastSuccess = v
		case `influencer_collector_refresh_duration_seconds{collector="` + collectorName + `"}`:
			st.duration = v
		case "go_memstats_next_gc_bytes":
			st.heapGoal = v
		case "go_gc_duration_seconds_count":
			st.gcs = v
		}
	}
	return st, found, true
}

func (p *poller) observe(st status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch n := len(p.changes); {
	case st.up == 0:
		if p.failed != nil {
			return
		}
		p.failed = &st
	case n == 0 || st.lastSuccess != p.changes[n-1].lastSuccess:
		p.changes = append(p.changes, st)
	default:
		return
	}
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// polls returns every poll's status so far.
func (p *poller) polls() []status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.all)
}

// errRefreshFailed is a refresh that did not succeed: the run measures
// successful ones.
var errRefreshFailed = errors.New("a refresh of the collector failed (influencer_collector_up 0)")

// wait returns the first n refresh ends once seen.
func (p *poller) wait(ctx context.Context, n int) ([]status, error) {
	for {
		p.mu.Lock()
		changes, failed := append([]status(nil), p.changes...), p.failed
		p.mu.Unlock()
		if failed != nil {
			return changes, errRefreshFailed
		}
		if len(changes) >= n {
			return changes, nil
		}
		select {
		case <-ctx.Done():
			return changes, ctx.Err()
		case <-p.notify:
		}
	}
}

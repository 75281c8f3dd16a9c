// Package fuzzci holds what the collectors' fuzz targets share, and a test
// that runs every fuzz target of the module for a few seconds in CI.
//
// A collector's fuzz target (FuzzPoll in collectors/<provider>) serves its
// provider's fake on loopback and replaces the fake's answer to one API
// call of a refresh with the fuzz input. The collector then polls through
// the real client, decoder and mapping, so the fuzzer explores exactly
// what a provider could send. The seed corpus is the fake's own answers,
// recorded from a healthy refresh, plus a few hostile variants of each.
package fuzzci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Provider is what a collector's fuzz target sets up.
type Provider struct {
	// Collector is the collector's name in the config.
	Collector string
	// Fake serves the provider's API, populated with the objects the
	// config asks for. It answers every call the fuzz input does not.
	Fake http.Handler
	// Config returns the config file, given the URL the fake is served
	// on.
	Config func(url string) string
	// Secrets are the tokens and keys of the config: no error may
	// contain one.
	Secrets []string
	// Prepare, if set, adjusts each collector built before it polls (a
	// test clock).
	Prepare func(exporter.Collector)
	// Deadline bounds one refresh; zero means two seconds. A refresh
	// must return within it (plus a grace period) whatever it reads.
	Deadline time.Duration
}

// strictEcho, set in the environment, makes the secret check apply to
// inputs that contain the secret too: a provider echoing a token back in
// an id or a name that an error quotes.
const strictEcho = "FUZZCI_STRICT_ECHO"

// hangGrace is how long after its deadline a refresh may still run before
// the fuzz target reports it as hung.
const hangGrace = 20 * time.Second

// FuzzPoll is the fuzz target of one collector: the input is an API call
// of a healthy refresh (by number, modulo the calls recorded) and the body
// the provider answers the first such call with, with HTTP 200 and the
// content type the fake sent. The refresh must not panic, must return
// within its deadline, and must return either an error without any secret
// in it, or samples that a scrape can export: a known metric, the right
// label count, valid UTF-8 and finite values.
//
// Each execution builds the collector afresh from the parsed config, so
// no state carries over from one input to the next.
func FuzzPoll(f *testing.F, p Provider) {
	h := &replayer{next: p.Fake, answers: map[string]answer{}}
	srv := httptest.NewServer(h)
	f.Cleanup(srv.Close)
	if pub, ok := p.Fake.(interface{ SetPublicURL(string) }); ok {
		pub.SetPublicURL(srv.URL)
	}
	cfg, err := exporter.ParseConfig("fuzz.yml", []byte(p.Config(srv.URL)))
	if err != nil {
		f.Fatalf("config: %v", err)
	}
	// One transport for every refresh, so connections are reused rather
	// than left behind by each exec.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	f.Cleanup(tr.CloseIdleConnections)
	deadline := p.Deadline
	if deadline == 0 {
		deadline = 2 * time.Second
	}
	poll := func(t testing.TB) ([]exporter.Sample, error) {
		t.Helper()
		insts, err := exporter.Build(cfg, exporter.Deps{Transport: tr})
		if err != nil {
			t.Fatalf("build: %v", err)
		}
		var inst *exporter.Instance
		for _, i := range insts {
			if i.Name == p.Collector {
				inst = i
			}
		}
		if inst == nil {
			t.Fatalf("no collector %q in the config", p.Collector)
		}
		if p.Prepare != nil {
			p.Prepare(inst.Collector)
		}
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		type result struct {
			samples []exporter.Sample
			err     error
		}
		done := make(chan result, 1)
		go func() {
			s, err := inst.Collector.Poll(ctx)
			done <- result{s, err}
		}()
		select {
		case r := <-done:
			return r.samples, r.err
		case <-time.After(deadline + hangGrace):
			t.Fatalf("refresh still running %s after its deadline", hangGrace)
			return nil, nil
		}
	}

	// Record a healthy refresh: every distinct call and its answer.
	h.record(true)
	samples, err := poll(f)
	h.record(false)
	if err != nil && !exporter.IsPartial(err) {
		f.Fatalf("healthy refresh failed: %v", err)
	}
	if len(samples) == 0 {
		f.Fatal("healthy refresh returned no samples")
	}
	calls := h.calls()
	if len(calls) == 0 {
		f.Fatal("healthy refresh made no API call")
	}
	// Each call must be made again, and known by the same key, or the
	// fuzz input would never be served.
	for _, c := range calls {
		h.replace(c, h.answers[c].body)
		_, _ = poll(f)
		if !h.wasServed() {
			f.Fatalf("a second refresh did not make the call %s", c)
		}
	}
	h.replace("", nil)
	for i, c := range calls {
		f.Logf("call %d: %s", i, c)
		for _, body := range variants(h.answers[c].body, p.Secrets) {
			f.Add(uint8(i), body)
		}
	}

	f.Fuzz(func(t *testing.T, call uint8, body []byte) {
		h.replace(calls[int(call)%len(calls)], body)
		defer h.replace("", nil)
		samples, err := poll(t)
		if err != nil {
			for _, s := range p.Secrets {
				// A provider that echoes the token in a 200 answer
				// puts it in ids and names that errors quote: unless
				// strictEcho is set, only inputs without the token
				// are checked, where a token in the error can only
				// come from the exporter itself.
				if strings.Contains(err.Error(), s) && (os.Getenv(strictEcho) != "" || !bytes.Contains(body, []byte(s))) {
					t.Fatalf("error shows a secret: %s", strings.ReplaceAll(err.Error(), s, "<secret>"))
				}
			}
		}
		if msg := CheckSamples(samples); msg != "" {
			t.Fatal(msg)
		}
	})
}

// CheckSamples returns what is wrong with samples a scrape would export,
// "" if nothing is.
func CheckSamples(samples []exporter.Sample) string {
	for i, s := range samples {
		switch {
		case s.Metric == nil:
			return fmt.Sprintf("sample %d has no metric", i)
		case len(s.LabelValues) != len(s.Metric.Labels):
			return fmt.Sprintf("sample %d of %s has %d label values for labels %v", i, s.Metric.Name, len(s.LabelValues), s.Metric.Labels)
		case math.IsNaN(s.Value) || math.IsInf(s.Value, 0):
			return fmt.Sprintf("sample %d of %s%q is %g", i, s.Metric.Name, s.LabelValues, s.Value)
		}
		for _, v := range s.LabelValues {
			if !utf8.ValidString(v) {
				return fmt.Sprintf("sample %d of %s has label value %q, not UTF-8", i, s.Metric.Name, v)
			}
		}
	}
	return ""
}

// variants returns the seeds made of one recorded answer: the answer
// itself, and what a broken or hostile provider sends instead.
func variants(body []byte, secrets []string) [][]byte {
	out := [][]byte{body, body[:len(body)/2], []byte("null"), []byte("{}"), []byte("[]"),
		[]byte("<html><body>Service Unavailable</body></html>")}
	// Numbers where a provider could not send them, and the secret
	// echoed back in every string.
	out = append(out, bytes.ReplaceAll(body, []byte(`:0`), []byte(`:1e400`)))
	out = append(out, bytes.ReplaceAll(body, []byte(`":"`), []byte(`":"\ud800`)))
	if len(secrets) > 0 {
		out = append(out, bytes.ReplaceAll(body, []byte(`":"`), []byte(`":"`+secrets[0])))
	}
	return out
}

// answer is a recorded answer to one call.
type answer struct {
	contentType string
	body        []byte
}

// replayer serves the fake, records its answers to a healthy refresh, and
// replaces the answer to one call with the fuzz input.
type replayer struct {
	next http.Handler

	mu        sync.Mutex
	recording bool
	order     []string
	answers   map[string]answer
	target    string
	body      []byte
	served    bool // the fuzz input was served: later calls reach the fake
}

func (r *replayer) record(on bool) {
	r.mu.Lock()
	r.recording = on
	r.mu.Unlock()
}

// calls returns the calls recorded, sorted: the same numbering in every
// run whatever order concurrent calls arrived in.
func (r *replayer) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.order...)
	sort.Strings(out)
	return out
}

func (r *replayer) replace(call string, body []byte) {
	r.mu.Lock()
	r.target, r.body, r.served = call, body, false
	r.mu.Unlock()
}

func (r *replayer) wasServed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.served
}

// callKey names a call by method, path, query and request body, which
// tells apart GraphQL queries and batch requests sent to one path. Digits
// in the query and body count as one: dates, time ranges and page numbers
// change from run to run and page to page, and the call stays the same.
func callKey(req *http.Request) string {
	q := req.URL.Query()
	names := make([]string, 0, len(q))
	for n := range q {
		names = append(names, n)
	}
	sort.Strings(names)
	var k strings.Builder
	k.WriteString(req.Method + " " + req.URL.Path)
	for i, n := range names {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		k.WriteString(sep + n + "=" + digits.ReplaceAllString(strings.Join(q[n], ","), "#"))
	}
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(b))
		form, err := url.ParseQuery(string(b))
		switch {
		case len(b) == 0:
		case strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") && err == nil:
			// A token exchange: its assertion is signed anew each
			// time; the fields it sends name the call.
			k.WriteString(" form:" + strings.Join(slices.Sorted(maps.Keys(form)), ","))
		default:
			sum := sha256.Sum256(digits.ReplaceAll(b, []byte("#")))
			k.WriteString(" body:" + hex.EncodeToString(sum[:6]))
		}
	}
	return k.String()
}

var digits = regexp.MustCompile(`[0-9]+`)

func (r *replayer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	key := callKey(req)
	r.mu.Lock()
	recording, body := r.recording, r.body
	ct := r.answers[key].contentType
	// Only the first such call gets the fuzz input: pages after it come
	// from the fake, so a page that always says "more" ends.
	fuzzed := key == r.target && !r.served
	if fuzzed {
		r.served = true
	}
	r.mu.Unlock()
	if fuzzed {
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		return
	}
	if !recording {
		r.next.ServeHTTP(w, req)
		return
	}
	rec := httptest.NewRecorder()
	r.next.ServeHTTP(rec, req)
	res := rec.Result()
	for k, vs := range res.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(rec.Body.Bytes())
	if res.StatusCode/100 != 2 {
		return
	}
	r.mu.Lock()
	if _, seen := r.answers[key]; !seen {
		r.order = append(r.order, key)
		r.answers[key] = answer{contentType: res.Header.Get("Content-Type"), body: bytes.Clone(rec.Body.Bytes())}
	}
	r.mu.Unlock()
}

package linkprobe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// drainLimit is how much of a response body is read, so the connection can
// be reused; the rest is dropped with the connection.
const drainLimit = 64 << 10

// result is the outcome of probing one link.
type result struct {
	link      exporter.PublishedLink
	up        bool
	status    int // of the last response, 0 if none
	redirects int
	duration  time.Duration
	host      string // final host, "" when no response arrived
	reason    string // why the link is broken
	skipped   bool   // the refresh ended before this link was probed
}

var errTimeout = errors.New("timed out")

// probe follows one link's redirect chain and judges where it lands.
func (p *Probe) probe(ctx context.Context, l exporter.PublishedLink) result {
	r := result{link: l}
	u, err := url.Parse(l.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.reason = "invalid probe URL"
		return r
	}
	u.Fragment, u.RawFragment = "", "" // never sent to the server
	method := p.opts.Method
	budget := time.Duration(p.opts.Timeout)
	visited := map[string]bool{u.String(): true}
	for {
		resp, took, err := p.do(ctx, method, u, budget)
		r.duration += took
		budget -= took
		if err == nil && method == http.MethodHead && headRefused(resp.StatusCode) {
			method = http.MethodGet
			resp, took, err = p.do(ctx, method, u, budget)
			r.duration += took
			budget -= took
		}
		if err != nil {
			if ctx.Err() != nil {
				// The refresh ran out of time, not the link.
				return result{link: l, skipped: true}
			}
			r.status, r.host = 0, ""
			r.reason = p.describe(err)
			return r
		}
		r.status, r.host = resp.StatusCode, canonicalHost(u)
		if !isRedirect(resp.StatusCode) {
			break
		}
		loc := resp.Header.Get("Location")
		if loc == "" {
			break // a final answer, and not 2xx: judged below
		}
		next, err := u.Parse(loc)
		if err != nil || (next.Scheme != "http" && next.Scheme != "https") || next.Host == "" {
			r.reason = fmt.Sprintf("redirect from %s to a Location that is not an http(s) URL", redact(u))
			return r
		}
		next.Fragment, next.RawFragment = "", ""
		if r.redirects >= p.opts.MaxRedirects {
			r.reason = fmt.Sprintf("more than %d redirects (max_redirects)", p.opts.MaxRedirects)
			return r
		}
		if visited[next.String()] {
			r.reason = fmt.Sprintf("redirect loop: %s leads back to %s", redact(u), redact(next))
			return r
		}
		visited[next.String()] = true
		r.redirects++
		u = next
	}
	if r.status < 200 || r.status > 299 {
		r.reason = fmt.Sprintf("final status %d at %s", r.status, redact(u))
		return r
	}
	if reason := checkExpect(l.Expect, u); reason != "" {
		r.reason = reason
		return r
	}
	r.up = true
	return r
}

// do sends one request after waiting for the host's turn. took counts only
// the time on the network; budget is what is left of the probe's timeout.
func (p *Probe) do(ctx context.Context, method string, u *url.URL, budget time.Duration) (resp *http.Response, took time.Duration, err error) {
	if err := p.limiter.wait(ctx, canonicalHost(u)); err != nil {
		return nil, 0, err
	}
	if budget <= 0 {
		return nil, 0, errTimeout
	}
	rctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, u.String(), nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("User-Agent", p.opts.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	start := time.Now()
	resp, err = p.client.Do(req)
	if err != nil {
		return nil, time.Since(start), err
	}
	_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
	resp.Body.Close()
	return resp, time.Since(start), nil
}

// describe turns a transport error into a reason without the URL, whose
// query string may carry anything.
func (p *Probe) describe(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, errTimeout) || errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Sprintf("timed out after %s", p.opts.Timeout)
	case errors.As(err, &dnsErr):
		return "dns: " + dnsErr.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// headRefused reports whether a HEAD answer should be retried as GET. 429
// is excluded: the host asks to slow down, whatever the method.
func headRefused(code int) bool {
	return code >= 400 && code != http.StatusTooManyRequests
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// canonicalHost is the host[:port] of u in lower case, without the
// scheme's default port.
func canonicalHost(u *url.URL) string {
	h := strings.ToLower(u.Host)
	switch {
	case u.Scheme == "http" && strings.HasSuffix(h, ":80"):
		h = strings.TrimSuffix(h, ":80")
	case u.Scheme == "https" && strings.HasSuffix(h, ":443"):
		h = strings.TrimSuffix(h, ":443")
	}
	return strings.TrimSuffix(h, ".")
}

// checkExpect returns why the final URL u does not match what the link
// expects, or "".
func checkExpect(e *exporter.Expect, u *url.URL) string {
	if e == nil {
		return ""
	}
	if e.Host != "" {
		want := strings.TrimSuffix(strings.ToLower(e.Host), ".")
		if got := canonicalHost(u); got != want {
			return fmt.Sprintf("landed on host %q, expected %q", got, want)
		}
	}
	if len(e.UTM) == 0 {
		return ""
	}
	q := u.Query()
	var problems []string
	for _, k := range slices.Sorted(maps.Keys(e.UTM)) {
		want := e.UTM[k]
		vals, ok := q[k]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("parameter %q missing", k))
		case want != "" && !slices.Contains(vals, want):
			problems = append(problems, fmt.Sprintf("parameter %q is %q, expected %q", k, vals[0], want))
		}
	}
	return strings.Join(problems, "; ")
}

// redact keeps scheme, host and path of u: a query string may carry
// anything and is never logged.
func redact(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

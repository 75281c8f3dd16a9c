package exporter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestOnlineReportAnswer(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		err                      error
		ok, reachable, authentic bool
	}{
		{"success", nil, true, true, true},
		{"refused", fmt.Errorf("bitly: user: %w", &APIError{Method: "GET", URL: "https://api/v4/user", StatusCode: 403, Message: "FORBIDDEN", kind: ErrUnauthorized}), false, true, false},
		{"server error", &APIError{Method: "GET", URL: "https://api/v4/user", StatusCode: 500, kind: ErrServer}, false, true, false},
		{"no answer", &APIError{Method: "GET", URL: "https://api/v4/user", Message: "connection refused", kind: ErrTransport}, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r OnlineReport
			if got := r.Answer(tc.err); got != tc.ok || r.Reachable != tc.reachable || r.Authenticated != tc.authentic || r.Err != tc.err {
				t.Errorf("Answer = %v, report %+v; want %v, reachable %v, authenticated %v, err %v", got, r, tc.ok, tc.reachable, tc.authentic, tc.err)
			}
		})
	}
	// A later failure keeps what an earlier success established, and
	// joins the reasons.
	var r OnlineReport
	r.Answer(nil)
	first := errors.New("first")
	r.Fail(first)
	r.Answer(&APIError{StatusCode: 404, kind: ErrNotFound})
	if !r.Reachable || !r.Authenticated || !errors.Is(r.Err, first) || !errors.Is(r.Err, ErrNotFound) {
		t.Errorf("report %+v: want reachable, authenticated, both errors", r)
	}
}

func TestOnlineReportLookUp(t *testing.T) {
	links := func(n int) []Object {
		var out []Object
		for i := range n {
			out = append(out, LinkObject("spring", "alice", fmt.Sprintf("bit.ly/l%d", i)))
		}
		return out
	}
	notFound := &APIError{Method: "GET", URL: "https://api/v4/bitlinks/bit.ly/l2", StatusCode: 404, Message: "NOT_FOUND: gone", kind: ErrNotFound}
	for _, tc := range []struct {
		name     string
		objects  []Object
		answer   map[string]error // by id; nil: found
		asked    int
		notFound string
		err      []string
		notes    []string
	}{
		{name: "all found", objects: links(3), asked: 3},
		{name: "none configured", asked: 0},
		{
			name: "stops at the first not found", objects: links(5), answer: map[string]error{"bit.ly/l2": notFound, "bit.ly/l3": notFound},
			asked: 3, notFound: "link bit.ly/l2 (campaign spring, creator alice): HTTP 404: NOT_FOUND: gone",
			err: []string{"bitly: link bit.ly/l2 (campaign spring, creator alice) not found: GET https://api/v4/bitlinks/bit.ly/l2: HTTP 404"},
		},
		{
			name: "not found without an answer", objects: links(2), answer: map[string]error{"bit.ly/l0": fmt.Errorf("not on domain x: %w", ErrNotFound)},
			asked: 1, notFound: "link bit.ly/l0 (campaign spring, creator alice): not on domain x: not found",
			err: []string{"bitly: link bit.ly/l0 (campaign spring, creator alice) not found: not on domain x"},
		},
		{
			name: "stops at another failure", objects: links(3), answer: map[string]error{"bit.ly/l1": &APIError{Method: "GET", URL: "https://api/x", StatusCode: 500, kind: ErrServer}},
			asked: 2, err: []string{"bitly: look up link bit.ly/l1 (campaign spring, creator alice): GET https://api/x: HTTP 500"},
		},
		{
			name: "bounded", objects: links(OnlineLookups + 5), asked: OnlineLookups,
			notes: []string{"looked up the first 20 of 25 configured links; the other 5 were not checked"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				r     OnlineReport
				asked int
			)
			r.LookUp(context.Background(), "bitly", tc.objects, func(_ context.Context, o Object) error {
				asked++
				return tc.answer[o.ID]
			})
			if asked != tc.asked || r.NotFound != tc.notFound || !slices.Equal(r.Notes, tc.notes) {
				t.Errorf("asked %d, report %+v; want %d asked, not found %q, notes %q", asked, r, tc.asked, tc.notFound, tc.notes)
			}
			if (r.Err != nil) != (len(tc.err) > 0) {
				t.Fatalf("error %v, want one with %q", r.Err, tc.err)
			}
			for _, s := range tc.err {
				if !strings.Contains(r.Err.Error(), s) {
					t.Errorf("error %q does not contain %q", r.Err, s)
				}
			}
			if tc.notFound != "" && !errors.Is(r.Err, ErrNotFound) {
				t.Errorf("error %v does not match ErrNotFound", r.Err)
			}
		})
	}

	t.Run("context done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var r OnlineReport
		r.LookUp(ctx, "bitly", links(2), func(context.Context, Object) error {
			t.Error("looked up after the context ended")
			return nil
		})
		if !errors.Is(r.Err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", r.Err)
		}
	})
}

// named is a configured thing that is not an Object.
type named string

func (n named) String() string { return string(n) }

func TestLookUpEach(t *testing.T) {
	var r OnlineReport
	var urls []named
	for i := range OnlineLookups + 1 {
		urls = append(urls, named(fmt.Sprintf("url /v2/%d", i)))
	}
	LookUpEach(context.Background(), &r, "json affnet", "URLs", urls, func(context.Context, named) error { return nil })
	if want := []string{"looked up the first 20 of 21 configured URLs; the other 1 were not checked"}; !slices.Equal(r.Notes, want) || r.Err != nil {
		t.Errorf("report %+v, want notes %q", r, want)
	}
}

func TestQuotaNote(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   string
	}{
		{"none", nil, ""},
		{"remaining only", map[string]string{"X-RateLimit-Remaining": "42"}, "rate limit: 42 requests left in the current window"},
		{"limit and reset in Unix milliseconds", map[string]string{"X-RateLimit-Remaining": "598", "X-RateLimit-Limit": "600", "X-RateLimit-Reset": "1740830460000"},
			"rate limit: 598 of 600 requests left in the current window, which resets at 2025-03-01T12:01:00Z"},
		{"not a number", map[string]string{"X-RateLimit-Remaining": "lots"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			if got := QuotaNote(h); got != tc.want {
				t.Errorf("QuotaNote = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOnlineEndpoint(t *testing.T) {
	for _, tc := range []struct{ base, path, want string }{
		{"https://api-ssl.bitly.com/v4", "/user", "GET /v4/user"},
		{"https://api.dub.co", "/links", "GET /links"},
		{"http://127.0.0.1:8080/", "/v1/account", "GET /v1/account"},
	} {
		if got := OnlineEndpoint(&API{Base: strings.TrimSuffix(tc.base, "/")}, http.MethodGet, tc.path); got != tc.want {
			t.Errorf("OnlineEndpoint(%s, %s) = %q, want %q", tc.base, tc.path, got, tc.want)
		}
	}
}

func TestOnlineReportStrings(t *testing.T) {
	r := OnlineReport{Endpoint: "GET /x", Account: "user a", NotFound: "link b", Missing: []string{"links.read"}, Notes: []string{"n"}, Err: errors.New("e")}
	if got, want := r.Strings(), []string{"GET /x", "user a", "link b", "links.read", "n", "e"}; !slices.Equal(got, want) {
		t.Errorf("Strings = %q, want %q", got, want)
	}
}

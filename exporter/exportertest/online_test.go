package exportertest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// recorder keeps what an assertion reports instead of failing the test.
type recorder struct {
	testing.TB
	errors []string
	fatal  string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatal(args ...any) {
	r.fatal = fmt.Sprint(args...)
	runtime.Goexit()
}

// record runs assert with a recorder, in its own goroutine so that a
// fatal report ends only the assertion.
func record(t *testing.T, assert func(testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		assert(r)
	}()
	<-done
	return r
}

func TestAssertOnlineErr(t *testing.T) {
	refused := fmt.Errorf("bitly: user of the token: %w", exporter.ErrUnauthorized)
	for _, tc := range []struct {
		name     string
		err      error
		errIs    error
		contains []string
		want     []string // reports, in order
	}{
		{name: "passed, as wanted"},
		{name: "failed, want it passed", err: refused, want: []string{"check failed: bitly: user of the token: unauthorized"}},
		{name: "passed, want an error", errIs: exporter.ErrUnauthorized, contains: []string{"HTTP 403"},
			want: []string{`check passed, want an error matching unauthorized with ["HTTP 403"]`}},
		{name: "passed, want any error with a text", contains: []string{"HTTP 403"},
			want: []string{`check passed, want an error with ["HTTP 403"]`}},
		{name: "failed as wanted", err: refused, errIs: exporter.ErrUnauthorized, contains: []string{"bitly:", "user of the token"}},
		{name: "failed, any kind wanted", err: refused, contains: []string{"user of the token"}},
		{name: "failed otherwise", err: refused, errIs: exporter.ErrNotFound, contains: []string{"user of the token", "HTTP 404"},
			want: []string{
				"error bitly: user of the token: unauthorized does not match not found",
				`error "bitly: user of the token: unauthorized" does not contain "HTTP 404"`,
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := record(t, func(tb testing.TB) {
				AssertOnlineErr(tb, exporter.OnlineReport{Err: tc.err}, tc.errIs, tc.contains...)
			})
			if strings.Join(r.errors, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("reports:\n%s\nwant:\n%s", strings.Join(r.errors, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestAssertNoSecret(t *testing.T) {
	const token = "tok_live_5ecret"
	rep := exporter.OnlineReport{
		Endpoint: "GET /v4/user",
		Account:  "user sandbox",
		Notes:    []string{"rate limit: 10 requests left", "renewed with " + token},
		Err:      fmt.Errorf("GET /v4/user?access_token=%s: %w", token, exporter.ErrUnauthorized),
	}
	r := record(t, func(tb testing.TB) { AssertNoSecret(tb, rep, "nothing-here", token) })
	want := []string{
		`the report shows a secret: "renewed with <secret>"`,
		`the report shows a secret: "GET /v4/user?access_token=<secret>: unauthorized"`,
	}
	if strings.Join(r.errors, "\n") != strings.Join(want, "\n") {
		t.Errorf("reports:\n%s\nwant:\n%s", strings.Join(r.errors, "\n"), strings.Join(want, "\n"))
	}
	for _, e := range r.errors {
		if strings.Contains(e, token) {
			t.Errorf("a report shows the secret it found: %q", e)
		}
	}

	if r := record(t, func(tb testing.TB) { AssertNoSecret(tb, rep, "nothing-here") }); len(r.errors) != 0 || r.fatal != "" {
		t.Errorf("a clean report: %q, %q", r.errors, r.fatal)
	}
	// An empty secret would be found in every text.
	if r := record(t, func(tb testing.TB) { AssertNoSecret(tb, rep, token, "") }); r.fatal == "" || len(r.errors) != 0 {
		t.Errorf("an empty secret: errors %q, fatal %q", r.errors, r.fatal)
	}
}

func TestAssertNotFoundAndNotes(t *testing.T) {
	rep := exporter.OnlineReport{
		NotFound: "link bit.ly/nope (campaign spring, creator alice): HTTP 404",
		Notes:    []string{"looked up the first 20 of 30 configured links", "rate limit: 10 requests left"},
	}
	for _, tc := range []struct {
		name   string
		assert func(testing.TB)
		want   int
	}{
		{"not found, its prefix", func(tb testing.TB) { AssertNotFound(tb, rep, "link bit.ly/nope ") }, 0},
		{"not found, another prefix", func(tb testing.TB) { AssertNotFound(tb, rep, "link bit.ly/a ") }, 1},
		{"not found, none wanted", func(tb testing.TB) { AssertNotFound(tb, rep, "") }, 1},
		{"all found, one wanted", func(tb testing.TB) { AssertNotFound(tb, exporter.OnlineReport{}, "link") }, 1},
		{"all found, as wanted", func(tb testing.TB) { AssertNotFound(tb, exporter.OnlineReport{}, "") }, 0},
		{"notes say it", func(tb testing.TB) { AssertNotes(tb, rep, "first 20 of 30", "10 requests left") }, 0},
		{"notes do not say it", func(tb testing.TB) { AssertNotes(tb, rep, "first 20 of 30", "token expires", "quota") }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := record(t, tc.assert); len(r.errors) != tc.want {
				t.Errorf("reports %q, want %d", r.errors, tc.want)
			}
		})
	}
}

package exportertest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// What the tests of every collector's online check (exporter.OnlineChecker)
// assert the same way: the report's error, its first unknown object, its
// notes, and that no secret shows in it.

// CheckOnline runs the named collector's online check; the test fails if
// the collector has none.
func (e *Env) CheckOnline(t testing.TB, name string) exporter.OnlineReport {
	t.Helper()
	checker, ok := e.Instance(t, name).Collector.(exporter.OnlineChecker)
	if !ok {
		t.Fatalf("the %s collector has no online check", name)
	}
	return checker.CheckOnline(context.Background())
}

// AssertOnlineErr checks the report's error. With neither errIs nor
// contains the check must have passed. Otherwise it must have failed, with
// an error matching errIs (errors.Is) unless errIs is nil, and carrying
// each of contains in its text.
func AssertOnlineErr(t testing.TB, rep exporter.OnlineReport, errIs error, contains ...string) {
	t.Helper()
	wantErr := errIs != nil || len(contains) > 0
	switch {
	case !wantErr && rep.Err != nil:
		t.Errorf("check failed: %v", rep.Err)
	case wantErr && rep.Err == nil && errIs == nil:
		t.Errorf("check passed, want an error with %q", contains)
	case wantErr && rep.Err == nil:
		t.Errorf("check passed, want an error matching %v with %q", errIs, contains)
	case rep.Err != nil:
		if errIs != nil && !errors.Is(rep.Err, errIs) {
			t.Errorf("error %v does not match %v", rep.Err, errIs)
		}
		assertText(t, rep.Err, contains)
	}
}

// AssertNoSecret checks that none of secrets (tokens, keys, parts of a key
// file) shows in any text of the report (OnlineReport.Strings), its error
// included. A failure shows the text with the secret cut out.
func AssertNoSecret(t testing.TB, rep exporter.OnlineReport, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		if secret == "" {
			// Every text contains "": a test passing one has lost its
			// secret somewhere.
			t.Fatal("AssertNoSecret: an empty secret")
		}
	}
	for _, s := range rep.Strings() {
		shown := s
		for _, secret := range secrets {
			shown = strings.ReplaceAll(shown, secret, "<secret>")
		}
		if shown != s {
			t.Errorf("the report shows a secret: %q", shown)
		}
	}
}

// AssertNotFound checks the report's first unknown object: NotFound starts
// with prefix, and is empty exactly when prefix is.
func AssertNotFound(t testing.TB, rep exporter.OnlineReport, prefix string) {
	t.Helper()
	if !strings.HasPrefix(rep.NotFound, prefix) || (prefix == "") != (rep.NotFound == "") {
		t.Errorf("not found %q, want it to start with %q", rep.NotFound, prefix)
	}
}

// AssertNotes checks that the report's notes, one a line, contain each
// of notes.
func AssertNotes(t testing.TB, rep exporter.OnlineReport, notes ...string) {
	t.Helper()
	joined := strings.Join(rep.Notes, "\n")
	for _, n := range notes {
		if !strings.Contains(joined, n) {
			t.Errorf("notes %q do not say %q", rep.Notes, n)
		}
	}
}

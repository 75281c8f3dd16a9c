package promprog

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// lines collects what the package shows, safe for concurrent writers.
type lines struct{ exportertest.SyncBuffer }

// waitFor waits until the output contains s.
func (l *lines) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(l.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in output:\n%s", s, l)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fake sets up a private cache directory and a build that runs script (sh)
// instead of `go install`, with $GOBIN set as for go install. It returns
// what the package shows.
func fake(t *testing.T, script string) *lines {
	t.Helper()
	root := t.TempDir()
	out := &lines{}
	oldRoot, oldBuild, oldEvery := cacheRoot, buildCommand, progressEvery
	cacheRoot = func() (string, error) { return root, nil }
	buildCommand = func(string) *exec.Cmd { return exec.Command("sh", "-c", script) }
	restore := SetOutput(out)
	t.Cleanup(func() {
		restore()
		cacheRoot, buildCommand, progressEvery = oldRoot, oldBuild, oldEvery
		mu.Lock()
		results = map[Program]*result{}
		skipped = map[string]skip{}
		mu.Unlock()
	})
	return out
}

// program is a fake program; variant makes distinct Program values that
// share one binary, as two test processes would.
func program(variant string) Program {
	return Program{
		Name:    "fake",
		Package: "example.com/fake/cmd/fake",
		Version: "v1.0.0",
		Env:     "PROMPROG_FAKE" + variant,
		Release: "fake-v1.0.0",
	}
}

const install = `printf '#!/bin/sh\n' >"$GOBIN/fake" && chmod +x "$GOBIN/fake"`

func TestLockBuildsOnce(t *testing.T) {
	dir := t.TempDir()
	count := filepath.Join(dir, "builds")
	release := filepath.Join(dir, "release")
	// The build counts itself and holds on until the test lets it finish,
	// so the second caller certainly finds it running.
	out := fake(t, `echo x >>'`+count+`'; while [ ! -e '`+release+`' ]; do sleep 0.01; done; `+install)

	type got struct {
		path string
		err  error
	}
	first, second := make(chan got, 1), make(chan got, 1)
	go func() { p, err := program("_A").Find(); first <- got{p, err} }()
	out.waitFor(t, "promprog: building fake v1.0.0")
	go func() { p, err := program("_B").Find(); second <- got{p, err} }()
	out.waitFor(t, "promprog: waiting for another test process building fake-v1.0.0")
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	a, b := <-first, <-second
	if a.err != nil || b.err != nil {
		t.Fatalf("errors: %v, %v\n%s", a.err, b.err, out)
	}
	if a.path != b.path {
		t.Errorf("paths differ: %s, %s", a.path, b.path)
	}
	data, err := os.ReadFile(count)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "x"); n != 1 {
		t.Errorf("built %d times, want once\n%s", n, out)
	}
}

// TestLockWaits: a second holder of the lock waits, saying for what,
// until the first releases it.
func TestLockWaits(t *testing.T) {
	out := fake(t, install)
	path := filepath.Join(t.TempDir(), "thing.lock")
	unlock, err := Lock(path, "installing thing")
	if err != nil {
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() {
		unlock, err := Lock(path, "installing thing")
		if err == nil {
			unlock()
		}
		second <- err
	}()
	out.waitFor(t, "promprog: waiting for another test process installing thing (lock "+path+")\n")
	select {
	case err := <-second:
		t.Fatalf("the second holder took the lock while the first held it: %v", err)
	default:
	}
	unlock()
	if err := <-second; err != nil {
		t.Fatalf("second holder: %v", err)
	}
	// Released by both: taken again without waiting.
	before := out.String()
	unlock, err = Lock(path, "installing thing")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if out.String() != before {
		t.Errorf("a free lock waited:\n%s", strings.TrimPrefix(out.String(), before))
	}
}

func TestBuildSaysWhatItDoes(t *testing.T) {
	out := fake(t, `sleep 0.3; `+install)
	progressEvery = 20 * time.Millisecond
	p := program("")
	bin, err := p.Find()
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := p.Dir()
	if bin != filepath.Join(dir, "fake") {
		t.Errorf("binary %s, want it in %s", bin, dir)
	}
	text := out.String()
	for _, want := range []string{
		"promprog: building fake v1.0.0 for the tests with `go install example.com/fake/cmd/fake@v1.0.0`",
		"needs the Go module proxy (GOPROXY=",
		"takes several minutes, once, and installs into " + dir,
		"promprog: still building fake v1.0.0: ",
		"promprog: built fake v1.0.0 in ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in output:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "still building"); n < 3 {
		t.Errorf("%d progress lines in 0.3s at 20ms, want several:\n%s", n, text)
	}
	// Built once, found afterwards without a word.
	before := text
	if _, err := program("_again").Find(); err != nil {
		t.Fatal(err)
	}
	if out.String() != before {
		t.Errorf("found binary still printed:\n%s", strings.TrimPrefix(out.String(), before))
	}
}

func TestSkipSummary(t *testing.T) {
	t.Setenv("CI", "")
	out := fake(t, `echo 'go: example.com/fake@v1.0.0: proxy unreachable' >&2; exit 1`)
	p := program("")
	t.Run("needs fake", func(t *testing.T) {
		p.Path(t)
		t.Error("Path returned without the program")
	})
	if _, err := os.Stat(filepath.Join(must(p.Dir()), "fake")); err == nil {
		t.Error("a failed build left a binary")
	}
	t.Setenv("PROMPROG_FAKE_SET", "/nonexistent/fake")
	t.Run("needs fake from $PROMPROG_FAKE_SET", func(t *testing.T) {
		p := program("_SET")
		p.Name = "other"
		p.Path(t)
		t.Error("Path returned without the program")
	})
	ReportSkips()
	text := out.String()
	if !strings.Contains(text, "promprog: building fake v1.0.0 failed after ") {
		t.Errorf("no failure line:\n%s", text)
	}
	wantSet := "SKIPPED: tests needing other were skipped: $PROMPROG_FAKE_SET: "
	if !strings.Contains(text, wantSet) || !strings.Contains(text, "; point PROMPROG_FAKE_SET at the other binary or unset it\n") {
		t.Errorf("no line for the unusable $PROMPROG_FAKE_SET:\n%s", text)
	}
	want := "SKIPPED: tests needing fake were skipped: go install example.com/fake/cmd/fake@v1.0.0: exit status 1 ... go: example.com/fake@v1.0.0: proxy unreachable; set PROMPROG_FAKE=/path or allow the Go module proxy\n"
	if !strings.Contains(text, want) {
		t.Errorf("no line\n%s\ngot:\n%s", want, text)
	}
}

func TestNoSkipNoSummary(t *testing.T) {
	out := fake(t, install)
	ReportSkips()
	if s := out.String(); s != "" {
		t.Errorf("summary without skips: %q", s)
	}
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

// ender records how Unavailable ends a test instead of ending it.
type ender struct {
	testing.TB
	fatal, skip string
}

func (e *ender) Helper()                           {}
func (e *ender) Fatalf(format string, args ...any) { e.fatal = fmt.Sprintf(format, args...) }
func (e *ender) Skipf(format string, args ...any)  { e.skip = fmt.Sprintf(format, args...) }

// A program found by other means reports its absence the same way: a
// failure in CI, elsewhere a skip named at the end of the run.
func TestUnavailable(t *testing.T) {
	out := fake(t, install)
	t.Setenv("CI", "true")
	e := &ender{TB: t}
	Unavailable(e, "chromium", errors.New("not installed"), "install it")
	if e.fatal != "chromium is required in CI: not installed" || e.skip != "" {
		t.Errorf("in CI: fatal %q, skip %q", e.fatal, e.skip)
	}
	ReportSkips()
	if s := out.String(); s != "" {
		t.Errorf("a CI failure reported as a skip: %q", s)
	}

	t.Setenv("CI", "")
	e = &ender{TB: t}
	Unavailable(e, "chromium", errors.New("not installed\napt-get: exit status 100"), "install it")
	if e.fatal != "" || e.skip == "" {
		t.Errorf("off CI: fatal %q, skip %q", e.fatal, e.skip)
	}
	ReportSkips()
	want := "SKIPPED: tests needing chromium were skipped: not installed ... apt-get: exit status 100; install it\n"
	if s := out.String(); s != want {
		t.Errorf("report = %q, want %q", s, want)
	}
}

// Package promprog finds or builds the real Prometheus programs for tests.
// Tests run the same promtool, prometheus, alertmanager and amtool users
// run, each pinned to one release and built once per machine into the user
// cache directory.
//
// Building takes minutes and needs the Go module proxy, so it says what it
// does: a line before the build, a progress line at least every 30 seconds
// and a line when done. Off CI a program that cannot be had skips its tests,
// and Main (or ReportSkips) ends the package's run with a SKIPPED line.
//
// `go test ./...` without -v drops the output of a package that passes, so
// these lines go to the test's stderr (shown with -v, in local directory
// mode and when the package fails), to the terminal the tests were started
// from (/dev/tty, when there is one and stderr is not it), and to the file
// promprog.log in the cache directory (LogFile). A cached package result
// replays nothing.
package promprog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Releases the tests pin. Alertmanager v0.29 and later do not install with
// `go install`: their web UI assets are not in the module.
const (
	PrometheusVersion   = "v0.316.0"
	AlertmanagerVersion = "v0.28.1"
)

// Program is one command of a pinned Go module.
type Program struct {
	// Name is the command's name, and the binary's.
	Name string
	// Package is the command's import path.
	Package string
	// Version is the module version to build.
	Version string
	// Env names the environment variable that, when set, points at a
	// binary to use instead.
	Env string
	// Release names the cache subdirectory shared by the programs of one
	// module version.
	Release string
}

// The programs the tests use.
var (
	Promtool = Program{
		Name:    "promtool",
		Package: "github.com/prometheus/prometheus/cmd/promtool",
		Version: PrometheusVersion,
		Env:     "PROMTOOL",
		Release: "prometheus-" + PrometheusVersion,
	}
	Prometheus = Program{
		Name:    "prometheus",
		Package: "github.com/prometheus/prometheus/cmd/prometheus",
		Version: PrometheusVersion,
		Env:     "PROMETHEUS",
		Release: "prometheus-" + PrometheusVersion,
	}
	Alertmanager = Program{
		Name:    "alertmanager",
		Package: "github.com/prometheus/alertmanager/cmd/alertmanager",
		Version: AlertmanagerVersion,
		Env:     "ALERTMANAGER",
		Release: "alertmanager-" + AlertmanagerVersion,
	}
	Amtool = Program{
		Name:    "amtool",
		Package: "github.com/prometheus/alertmanager/cmd/amtool",
		Version: AlertmanagerVersion,
		Env:     "AMTOOL",
		Release: "alertmanager-" + AlertmanagerVersion,
	}
)

// Seams for tests of this package.
var (
	// progressEvery is how often a long build or wait says it is still
	// going.
	progressEvery = 30 * time.Second
	// buildCommand returns the command that installs target into the
	// directory in $GOBIN; find sets its directory and environment.
	buildCommand = func(target string) *exec.Cmd {
		return exec.Command("go", "install", target)
	}
	// cacheRoot is the directory holding every pinned release.
	cacheRoot = func() (string, error) {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(cache, "influencer_exporter"), nil
	}
	// output, when set, receives the lines instead of stderr, the
	// terminal and the log file.
	output io.Writer
)

var sayMu sync.Mutex

// emit shows one line: on stderr, on the terminal if stderr is not one,
// and in the log file.
func emit(line string) {
	line = strings.TrimRight(line, "\n") + "\n"
	sayMu.Lock()
	defer sayMu.Unlock()
	if output != nil {
		io.WriteString(output, line) //nolint:errcheck
		return
	}
	os.Stderr.WriteString(line) //nolint:errcheck
	if !isTerminal(os.Stderr) {
		if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
			tty.WriteString(line) //nolint:errcheck
			tty.Close()
		}
	}
	if name, err := LogFile(); err == nil {
		if fi, err := os.Stat(name); err == nil && fi.Size() > 1<<20 {
			os.Truncate(name, 0) //nolint:errcheck // keep the log small
		}
		if f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			fmt.Fprintf(f, "%s %s: %s", time.Now().Format(time.RFC3339), filepath.Base(os.Args[0]), line)
			f.Close()
		}
	}
}

// SetOutput sends the lines this package shows, Say's included, to w
// instead of stderr, the terminal and LogFile, until restore is called:
// for tests of packages that wait or say what they do through this one.
func SetOutput(w io.Writer) (restore func()) {
	sayMu.Lock()
	defer sayMu.Unlock()
	old := output
	output = w
	return func() {
		sayMu.Lock()
		defer sayMu.Unlock()
		output = old
	}
}

func say(format string, args ...any) {
	Say("promprog", format, args...)
}

// Say shows one line, prefixed with who, where this package shows its own:
// on stderr, on the terminal when stderr is not it, and in LogFile. Other
// packages that fetch or install a program for tests use it, so the first
// run says what it waits for in one place.
func Say(who, format string, args ...any) {
	emit(who + ": " + fmt.Sprintf(format, args...))
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// LogFile is the file in the cache directory that keeps every line this
// package shows, for runs whose output `go test` does not show.
func LogFile() (string, error) {
	root, err := CacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "promprog.log"), nil
}

type result struct {
	once sync.Once
	path string
	err  error
}

var (
	mu      sync.Mutex
	results = map[Program]*result{}
	// skipped holds, by program name, why tests needing it skipped.
	skipped = map[string]skip{}
)

type skip struct {
	reason string
	hint   string
}

// Path returns the program's binary: the file (or command in $PATH) named by
// its environment variable if set, else the pinned release from the cache directory, built
// with `go install` on first use. In CI (CI=true) a program that cannot be
// found or built fails the test; elsewhere the test is skipped, and Main
// or ReportSkips says so at the end of the package's run.
func (p Program) Path(t testing.TB) string {
	t.Helper()
	path, err := p.Find()
	if err != nil {
		hint := fmt.Sprintf("set %s=/path or allow the Go module proxy", p.Env)
		if os.Getenv(p.Env) != "" {
			hint = fmt.Sprintf("point %s at the %s binary or unset it", p.Env, p.Name)
		}
		Unavailable(t, p.Name, err, hint)
	}
	return path
}

// Unavailable ends a test that needs the program name, which cannot be
// had for the reason err. In CI (CI=true) the test fails: CI must run
// every test. Elsewhere it is skipped, and Main or ReportSkips names the
// program, err and hint (what the user can do about it) at the end of the
// run. Programs found by other means than Program (a browser from the
// system's packages) report their absence with it too.
func Unavailable(t testing.TB, name string, err error, hint string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI: %v", name, err)
		return
	}
	mu.Lock()
	skipped[name] = skip{reason: oneLine(err), hint: hint}
	mu.Unlock()
	t.Skipf("%s not available: %v", name, err)
}

// Main runs the package's tests, reports skips for want of a program
// (ReportSkips) and exits. Use it as the package's TestMain:
//
//	func TestMain(m *testing.M) { promprog.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	ReportSkips()
	os.Exit(code)
}

// ReportSkips shows, for each program whose absence skipped tests in this
// process, one line naming it and why. A TestMain that does more than
// Main calls it after m.Run.
func ReportSkips() {
	for _, line := range skipLines() {
		emit(line)
	}
}

func skipLines() []string {
	mu.Lock()
	defer mu.Unlock()
	names := make([]string, 0, len(skipped))
	for name := range skipped {
		names = append(names, name)
	}
	sort.Strings(names)
	lines := make([]string, 0, len(names))
	for _, name := range names {
		s := skipped[name]
		lines = append(lines, fmt.Sprintf("SKIPPED: tests needing %s were skipped: %s; %s", name, s.reason, s.hint))
	}
	return lines
}

// oneLine shortens an error, which may carry a build's whole output, to
// its first line and, if different, its last (FirstLast).
func oneLine(err error) string {
	if s := FirstLast(err.Error()); s != "" {
		return s
	}
	return "unknown error"
}

// FirstLast shortens a command's output to its first non-empty line and,
// if different, its last: enough to say why a build or install failed on
// one line.
func FirstLast(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	switch len(lines) {
	case 0:
		return ""
	case 1:
		return lines[0]
	}
	return lines[0] + " ... " + lines[len(lines)-1]
}

// Find is Path without the test: it returns the binary or why there is
// none. It looks once per process.
func (p Program) Find() (string, error) {
	mu.Lock()
	r, ok := results[p]
	if !ok {
		r = &result{}
		results[p] = r
	}
	mu.Unlock()
	r.once.Do(func() { r.path, r.err = p.find() })
	return r.path, r.err
}

// CacheDir is the directory in the user cache directory that holds the
// programs tests build or install, their lock files and LogFile.
func CacheDir() (string, error) {
	root, err := cacheRoot()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	return root, nil
}

// Dir is where the pinned release of the program is installed.
func (p Program) Dir() (string, error) {
	root, err := cacheRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, p.Release), nil
}

// goproxy is the module proxy `go install` will use.
func goproxy() string {
	out, err := exec.Command("go", "env", "GOPROXY").Output()
	if v := strings.TrimSpace(string(out)); err == nil && v != "" {
		return v
	}
	if v := os.Getenv("GOPROXY"); v != "" {
		return v
	}
	return "https://proxy.golang.org,direct"
}

// during runs f, saying "still <what>: <elapsed>" every progressEvery
// until it returns.
func during(what string, f func() error) error {
	return During("promprog", what, f)
}

// During runs f, saying (see Say) "<who>: still <what>: <elapsed>" every
// 30 seconds until it returns, so a long install is never silent.
func During(who, what string, f func() error) error {
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- f() }()
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			Say(who, "still %s: %s", what, time.Since(start).Round(time.Second))
		}
	}
}

// Lock takes the lock file at path for this process alone (flock), and
// returns the function that releases it. Test binaries of several packages
// start at once, and parallel tests in one: the one holding the lock
// builds or installs a program, the others wait for it, then find it done.
// A process that waits says so, naming what the holder does ("building
// prometheus-v0.316.0"), and says every 30 seconds that it still waits.
func Lock(path, what string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	if err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		say("waiting for another test process %s (lock %s)", what, path)
		if err := during("waiting for another test process "+what, func() error {
			return syscall.Flock(fd, syscall.LOCK_EX)
		}); err != nil {
			f.Close()
			return nil, err
		}
	}
	return func() {
		syscall.Flock(fd, syscall.LOCK_UN) //nolint:errcheck // closing releases it too
		f.Close()
	}, nil
}

func (p Program) find() (string, error) {
	if env := os.Getenv(p.Env); env != "" {
		bin, err := exec.LookPath(env)
		if err != nil {
			return "", fmt.Errorf("$%s: %w", p.Env, err)
		}
		return bin, nil
	}
	dir, err := p.Dir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, p.Name)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Several test binaries (and parallel tests in one) may want the
	// program at once: build it once, the others wait for it.
	unlock, err := Lock(filepath.Join(dir, ".lock"), "building "+p.Release)
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	// Build into a fresh directory and rename, so an interrupted build
	// never leaves a truncated binary where the next run would use it.
	tmp, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	target := p.Package + "@" + p.Version
	say("building %s %s for the tests with `go install %s`: this needs the Go module proxy (GOPROXY=%s), takes several minutes, once, and installs into %s (set %s=/path to use an installed one)",
		p.Name, p.Version, target, goproxy(), dir, p.Env)
	start := time.Now()
	cmd := buildCommand(target)
	cmd.Dir = tmp // outside any module or workspace
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=-mod=mod", "CGO_ENABLED=0", "GOWORK=off")
	var out []byte
	err = during("building "+p.Name+" "+p.Version, func() error {
		var err error
		out, err = cmd.CombinedOutput()
		return err
	})
	if err != nil {
		err = fmt.Errorf("go install %s: %w\n%s", target, err, out)
		say("building %s %s failed after %s: %s", p.Name, p.Version, time.Since(start).Round(time.Second), oneLine(err))
		return "", err
	}
	if err := os.Rename(filepath.Join(tmp, p.Name), bin); err != nil {
		err = fmt.Errorf("go install %s: %w", target, err)
		say("building %s %s failed after %s: %v", p.Name, p.Version, time.Since(start).Round(time.Second), err)
		return "", err
	}
	say("built %s %s in %s: %s", p.Name, p.Version, time.Since(start).Round(time.Second), bin)
	return bin, nil
}

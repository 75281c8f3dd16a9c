package fuzzci

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	fuzzTime = flag.Duration("fuzzci.time", 0, "run every fuzz target of the module for this long each (CI=true: 5s)")
	fuzzOnly = flag.String("fuzzci.run", "", "run only the fuzz targets whose package/name matches this regular expression")
)

// defaultCITime is each target's time under CI=true: the module has
// about fifteen targets, and each costs a build on top of its time, so
// the whole run stays within about five minutes on two cores.
const defaultCITime = 5 * time.Second

// target is one fuzz target: a func FuzzX(f *testing.F) in a _test.go
// file of package dir (relative to the module root, with ./).
type target struct {
	dir, name string
}

func (t target) String() string { return t.dir + " " + t.name }

var fuzzFunc = regexp.MustCompile(`(?m)^func (Fuzz\w*)\(\w+ \*testing\.F\)`)

// targets finds every fuzz target under root, sorted by package and name:
// a target added anywhere in the module is run without being listed here.
func targets(root string) ([]target, error) {
	var out []target
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		for _, m := range fuzzFunc.FindAllSubmatch(src, -1) {
			out = append(out, target{dir: "./" + filepath.ToSlash(rel), name: string(m[1])})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].dir != out[j].dir {
			return out[i].dir < out[j].dir
		}
		return out[i].name < out[j].name
	})
	return out, err
}

// moduleRoot is the directory of the go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func TestTargetsFound(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ts, err := targets(root)
	if err != nil {
		t.Fatal(err)
	}
	// Every provider decoder has a target: a collector package without
	// one is a decoder nobody fuzzes.
	have := map[string]bool{}
	for _, tg := range ts {
		have[tg.dir] = true
	}
	dirs, err := filepath.Glob(filepath.Join(root, "collectors", "*", "client.go"))
	if err != nil {
		t.Fatal(err)
	}
	dirs = append(dirs, filepath.Join(root, "collectors", "linkprobe", "probe.go"))
	for _, d := range dirs {
		rel, _ := filepath.Rel(root, filepath.Dir(d))
		if !have["./"+filepath.ToSlash(rel)] {
			t.Errorf("package ./%s has no fuzz target", filepath.ToSlash(rel))
		}
	}
}

// TestFuzzTargets runs every fuzz target of the module for a short time,
// each as go test -fuzz in a subprocess, and fails on any crasher, showing
// the failing input and the command that replays it. It runs under
// CI=true, or with -fuzzci.time:
//
//	go test ./internal/fuzzci -run TestFuzzTargets -v -fuzzci.time=30s
func TestFuzzTargets(t *testing.T) {
	d := *fuzzTime
	if d == 0 && os.Getenv("CI") == "true" {
		d = defaultCITime
	}
	if d == 0 {
		t.Skip("fuzz targets run under CI=true, or with: go test ./internal/fuzzci -run TestFuzzTargets -v -fuzzci.time=5s")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ts, err := targets(root)
	if err != nil {
		t.Fatal(err)
	}
	if *fuzzOnly != "" {
		re, err := regexp.Compile(*fuzzOnly)
		if err != nil {
			t.Fatalf("-fuzzci.run: %v", err)
		}
		var kept []target
		for _, tg := range ts {
			if re.MatchString(tg.String()) {
				kept = append(kept, tg)
			}
		}
		ts = kept
	}
	if len(ts) == 0 {
		t.Fatal("no fuzz target found")
	}
	// The corpus a run finds goes to a directory of its own, not to the
	// build cache: short runs do not grow it, and runs do not share
	// inputs. Crashers are still written to the package's
	// testdata/fuzz, where go test -run replays them.
	cache := t.TempDir()
	started := time.Now()
	var summary []string
	for i, tg := range ts {
		progress("fuzzci: [%d/%d] %s for %s", i+1, len(ts), tg, d)
		res := runTarget(t, root, cache, tg, d)
		line := fmt.Sprintf("%-28s %-22s %9d execs in %s", tg.dir, tg.name, res.execs, res.took.Round(time.Second))
		summary = append(summary, line)
		progress("fuzzci: %s", line)
		if res.failure != "" {
			t.Errorf("%s: %s", tg, res.failure)
		}
	}
	t.Logf("fuzz targets, %s each (%s in all):\n%s", d, time.Since(started).Round(time.Second), strings.Join(summary, "\n"))
}

// progress prints at once, not when the test ends: the run takes
// minutes.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

type result struct {
	execs   int64
	took    time.Duration
	failure string
}

var (
	execsLine   = regexp.MustCompile(`^fuzz: elapsed: .*, execs: (\d+) `)
	crasherLine = regexp.MustCompile(`Failing input written to (testdata/fuzz/\S+)`)
	rerunLine   = regexp.MustCompile(`go test -run=(\S+)`)
	// coordinatorRace is the whole failure report of a run that ends in
	// the coordinator's deadline race.
	coordinatorRace = regexp.MustCompile(`(?m)^--- FAIL: Fuzz\w* \([0-9.]+s\)\n(?:\s+\S+\.go:\d+: .*\n)*\s+context deadline exceeded\nFAIL\n`)
)

// runTarget fuzzes one target for d and reports its executions, and a
// crasher if one was found.
func runTarget(t *testing.T, root, cache string, tg target, d time.Duration) result {
	t.Helper()
	start := time.Now()
	cmd := exec.Command("go", "test", "-run", "^$", "-fuzz", "^"+tg.name+"$", "-fuzztime", d.String(),
		// Minimizing an input that found new code reruns it many times;
		// bounded here, it leaves the time to fuzzing.
		"-fuzzminimizetime", "2s",
		tg.dir, "-test.fuzzcachedir="+filepath.Join(cache, strings.TrimPrefix(tg.dir, "./"), tg.name))
	cmd.Dir = root
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		res    result
		text   strings.Builder
		crash  string
		rerun  string
		reader = bufio.NewScanner(io.TeeReader(out, &text))
	)
	reader.Buffer(make([]byte, 64*1024), 1<<20)
	for reader.Scan() {
		line := reader.Text()
		if m := execsLine.FindStringSubmatch(line); m != nil {
			res.execs, _ = strconv.ParseInt(m[1], 10, 64)
			progress("  %s", line)
		}
		if m := crasherLine.FindStringSubmatch(line); m != nil {
			crash = m[1]
		}
		if m := rerunLine.FindStringSubmatch(line); m != nil {
			rerun = m[1]
		}
	}
	err = cmd.Wait()
	res.took = time.Since(start)
	if err == nil {
		return res
	}
	if crash == "" && coordinatorRace.MatchString(text.String()) {
		// Go's fuzzing coordinator can report its own -fuzztime
		// deadline as a failure when it expires while a worker is
		// mid-call (go.dev/issue/75804, fixed in Go 1.27): no input
		// failed, and none was written.
		progress("fuzzci: %s stopped with the fuzzing coordinator's deadline race (go.dev/issue/75804), not a crasher", tg)
		return res
	}
	var b strings.Builder
	fmt.Fprintf(&b, "go test -fuzz failed: %v\n%s", err, text.String())
	if crash != "" {
		file := filepath.Join(root, strings.TrimPrefix(tg.dir, "./"), crash)
		if content, err := os.ReadFile(file); err == nil {
			fmt.Fprintf(&b, "\ncrasher %s:\n%s", file, content)
		}
		if rerun == "" {
			rerun = tg.name + "/" + filepath.Base(crash)
		}
		fmt.Fprintf(&b, "\nreproduce with: go test -run=%s %s", rerun, tg.dir)
	}
	res.failure = b.String()
	return res
}

func TestCoordinatorRace(t *testing.T) {
	for _, tc := range []struct {
		out  string
		race bool
	}{
		{`fuzz: elapsed: 41s, execs: 26166 (530/sec), new interesting: 66 (total: 92)
--- FAIL: FuzzPoll (40.97s)
    harness.go:159: call 0: GET /youtube/v3/channels?id=UCalice#,UCbob#&part=statistics
    context deadline exceeded
FAIL
exit status 1
`, true},
		{`--- FAIL: FuzzPath (31.00s)
    context deadline exceeded
FAIL
`, true},
		{`--- FAIL: FuzzPoll (3.20s)
    --- FAIL: FuzzPoll (0.01s)
        fuzz_test.go:40: error shows a secret: context deadline exceeded
    Failing input written to testdata/fuzz/FuzzPoll/b3874a5b4f0e160c
    To re-run:
    go test -run=FuzzPoll/b3874a5b4f0e160c
FAIL
`, false},
		{`--- FAIL: FuzzPoll (3.20s)
    fuzzing process hung or terminated unexpectedly: exit status 2
FAIL
`, false},
	} {
		if got := coordinatorRace.MatchString(tc.out); got != tc.race {
			t.Errorf("coordinator race %t, want %t, in:\n%s", got, tc.race, tc.out)
		}
	}
}

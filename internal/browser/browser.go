// Package browser finds, or installs, Debian's Chromium for tests that look
// at the exporter's pages as a person does, and renders pages with it
// headless: the DOM after the page loaded (DumpDOM), or a screenshot.
//
// A machine without the browser gets it once: as root, with apt-get, Find
// runs `apt-get install -y --no-install-recommends chromium` (and `apt-get
// update` first when the package lists do not know it), saying what it does
// on stderr the way promprog does for the Prometheus programs. A lock file
// in the user cache directory makes test binaries running side by side
// install it once. In CI (CI=true) a browser that cannot be had fails the
// test; elsewhere the test skips, and promprog.Main names it at the end of
// the run.
package browser

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/internal/promprog"
)

// Env names the environment variable that, when set, points at the
// Chromium (or Chrome) binary to use instead of Debian's.
const Env = "CHROMIUM"

// Timeout bounds one headless run whose context has no earlier deadline:
// it only stops a browser that hangs.
const Timeout = 2 * time.Minute

// hint is what a user can do about a missing browser.
const hint = "install Debian's chromium (apt-get install chromium, as root) or set " + Env + "=/path"

// Seams for tests of this package.
var (
	// systemBin is where Debian's chromium package installs the browser.
	systemBin = "/usr/bin/chromium"
	lookPath  = exec.LookPath
	// aptGet returns the apt-get command with args.
	aptGet = func(args ...string) *exec.Cmd { return exec.Command("apt-get", args...) }
	isRoot = func() bool { return os.Geteuid() == 0 }
	// lockDir holds the lock file of the install.
	lockDir = promprog.CacheDir
	say     = func(format string, args ...any) { promprog.Say("browser", format, args...) }
	during  = func(what string, f func() error) error { return promprog.During("browser", what, f) }
)

var (
	once    sync.Once
	found   string
	findErr error
)

// Path returns the browser for a test: $CHROMIUM if set, else Debian's
// chromium, installed on first use when it is missing (see Find). In CI
// (CI=true) a browser that cannot be had fails the test; elsewhere the test
// is skipped and promprog.Main reports it at the end of the run.
func Path(t testing.TB) string {
	t.Helper()
	bin, err := Find()
	if err != nil {
		promprog.Unavailable(t, "chromium", err, hint)
	}
	return bin
}

// Find is Path without the test: it returns the browser or why there is
// none. It looks, and installs, once per process.
func Find() (string, error) {
	once.Do(func() { found, findErr = find() })
	return found, findErr
}

func find() (string, error) {
	if env := os.Getenv(Env); env != "" {
		bin, err := lookPath(env)
		if err != nil {
			return "", fmt.Errorf("$%s: %w", Env, err)
		}
		return bin, nil
	}
	if bin, ok := installed(); ok {
		return bin, nil
	}
	if !isRoot() {
		return "", errors.New("Debian's chromium is not installed, and installing it takes root")
	}
	if _, err := lookPath("apt-get"); err != nil {
		return "", fmt.Errorf("chromium is not installed, and there is no apt-get to install it: %w", err)
	}
	dir, err := lockDir()
	if err != nil {
		return "", err
	}
	// Test binaries of several packages may start at once: one installs,
	// the others wait for it and find the browser it installed.
	unlock, err := promprog.Lock(filepath.Join(dir, "chromium.lock"), "installing chromium")
	if err != nil {
		return "", err
	}
	defer unlock()
	if bin, ok := installed(); ok {
		return bin, nil
	}
	return install()
}

// installed returns Debian's chromium, or a chromium in $PATH.
func installed() (string, bool) {
	if fi, err := os.Stat(systemBin); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return systemBin, true
	}
	if bin, err := lookPath("chromium"); err == nil {
		return bin, true
	}
	return "", false
}

// install runs apt-get install, and apt-get update before a second try
// when the package lists do not know chromium or name files the mirror no
// longer has.
func install() (string, error) {
	start := time.Now()
	say("installing Debian's chromium for the landing page test (needs Debian's package mirror): `apt-get install -y --no-install-recommends chromium`, once per machine; set %s=/path to use another browser", Env)
	out, err := apt("installing chromium", "install", "-y", "--no-install-recommends", "chromium")
	if err != nil && staleLists(out) {
		say("apt-get has no usable package list for chromium: running `apt-get update` (needs Debian's package mirror)")
		if out, err := apt("updating the package lists", "update"); err != nil {
			return "", failed(start, fmt.Errorf("apt-get update: %w\n%s", err, out))
		}
		out, err = apt("installing chromium", "install", "-y", "--no-install-recommends", "chromium")
	}
	if err != nil {
		return "", failed(start, fmt.Errorf("apt-get install chromium: %w\n%s", err, out))
	}
	bin, ok := installed()
	if !ok {
		return "", failed(start, fmt.Errorf("apt-get installed chromium, but neither %s nor chromium in $PATH exists", systemBin))
	}
	say("installed Debian's chromium in %s: %s", time.Since(start).Round(time.Second), bin)
	return bin, nil
}

func failed(start time.Time, err error) error {
	say("installing chromium failed after %s: %s", time.Since(start).Round(time.Second), promprog.FirstLast(err.Error()))
	return err
}

// apt runs apt-get with args, non-interactive, waiting for a dpkg lock
// another apt-get holds rather than failing at once.
func apt(what string, args ...string) ([]byte, error) {
	cmd := aptGet(append([]string{"-o", "DPkg::Lock::Timeout=300"}, args...)...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	var out []byte
	err := during(what, func() error {
		var err error
		out, err = cmd.CombinedOutput()
		return err
	})
	return out, err
}

// staleLists reports whether apt-get's output says its package lists are
// missing or older than the mirror.
func staleLists(out []byte) bool {
	for _, s := range []string{"Unable to locate package", "has no installation candidate", "Failed to fetch", "Unable to fetch"} {
		if bytes.Contains(out, []byte(s)) {
			return true
		}
	}
	return false
}

package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/influencer-exporter/influencer_exporter/internal/promprog"
)

// Flags are what every headless run passes besides its output flag and
// the profile directory. --no-sandbox: tests run as root in containers,
// where Chromium's sandbox cannot start. The rest keep the browser from
// calling home (updates, sync, field trials, QUIC probes), so a test talks
// to the page it loads and nothing else.
var Flags = []string{
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-dev-shm-usage",
	"--disable-quic",
	"--no-first-run",
	"--no-default-browser-check",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--disable-extensions",
	"--disable-default-apps",
	"--disable-domain-reliability",
	"--disable-breakpad",
	"--hide-scrollbars",
	"--mute-audio",
}

// WindowSize is the window a screenshot shows: wide enough for the
// collectors table, tall enough for a sandbox landing page.
const WindowSize = "1280,2000"

// DumpDOM loads url in headless Chromium bin and returns the page's DOM
// once it has loaded, serialized as HTML: what a person's browser made of
// the page, not the bytes the server sent.
func DumpDOM(ctx context.Context, bin, url string) (string, error) {
	out, err := run(ctx, bin, "--dump-dom", url)
	if err != nil {
		return "", err
	}
	if len(bytes.TrimSpace(out)) == 0 {
		return "", fmt.Errorf("chromium --dump-dom %s printed no DOM", url)
	}
	return string(out), nil
}

// Screenshot loads url in headless Chromium bin and saves a PNG of the
// WindowSize window to file.
func Screenshot(ctx context.Context, bin, url, file string) error {
	if _, err := run(ctx, bin, "--screenshot="+file, "--window-size="+WindowSize, url); err != nil {
		return err
	}
	fi, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("chromium --screenshot %s: %w", url, err)
	}
	if fi.Size() == 0 {
		return fmt.Errorf("chromium --screenshot %s: empty %s", url, file)
	}
	return nil
}

// run starts bin headless with a fresh profile and args, and returns its
// standard output. The browser and its helper processes share a process
// group, which a cancelled or timed-out run kills whole.
func run(ctx context.Context, bin string, args ...string) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, Timeout)
		defer cancel()
	}
	profile, err := os.MkdirTemp("", "chromium-profile-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(profile)
	argv := append(append(append([]string(nil), Flags...), "--user-data-dir="+profile), args...)
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A helper process that outlives the browser keeps the output pipes
	// open; do not wait for it.
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = errors.Join(err, ctxErr)
		}
		return nil, fmt.Errorf("chromium %s: %w: %s", args[len(args)-1], err, promprog.FirstLast(stderr.String()))
	}
	return stdout.Bytes(), nil
}

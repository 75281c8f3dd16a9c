package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// binaryName is the exporter's binary, as built into the run's directory.
const binaryName = "influencer_exporter"

// profileEnv names the loopback address the profiling build serves
// net/http/pprof on.
const profileEnv = "INFLUENCER_EXPORTER_PPROF_ADDRESS"

// profileSource is added to the exporter's main package when the run
// profiles it: the exporter serves no profiles of its own, and these
// must not reach its metrics port.
const profileSource = `package main

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("` + profileEnv + `"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
`

// moduleRoot returns the directory of the go.mod of the module the
// current directory is in.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the exporter's module: run from its directory or pass -binary")
	}
	return filepath.Dir(mod), nil
}

// build builds the exporter into dir and returns the binary's path. With
// profile, the binary also serves net/http/pprof where profileEnv says.
func build(ctx context.Context, dir string, profile bool) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, binaryName)
	args := []string{"build", "-o", bin}
	if profile {
		src := filepath.Join(dir, "pprof.go")
		if err := os.WriteFile(src, []byte(profileSource), 0o644); err != nil {
			return "", err
		}
		overlay, err := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(root, "zz_loadtest_pprof.go"): src}})
		if err != nil {
			return "", err
		}
		ov := filepath.Join(dir, "overlay.json")
		if err := os.WriteFile(ov, overlay, 0o644); err != nil {
			return "", err
		}
		args = append(args, "-overlay", ov)
	}
	cmd := exec.CommandContext(ctx, "go", append(args, ".")...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, stderr.Bytes())
	}
	return bin, nil
}

// freeAddr returns a loopback address nothing listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// child is a running exporter.
type child struct {
	cmd   *exec.Cmd
	pid   int
	addr  string
	start time.Time
	log   string
	done  chan struct{}
}

// startChild starts the exporter on config, listening on a free loopback
// port, its log written to logPath. env is added to this process's
// environment, args to the exporter's flags. Unless cg is nil, the
// exporter is moved into cg as soon as it has started: its runtime and
// config are still loading, and it serves nothing yet.
func startChild(bin, config, logPath string, args, env []string, cg *cgroup) (*child, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{
		"--config.file=" + config,
		"--web.listen-address=" + addr,
	}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttr()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start exporter: %w", err)
	}
	c := &child{cmd: cmd, pid: cmd.Process.Pid, addr: addr, start: start, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(c.done)
	}()
	if cg != nil {
		if err := cg.add(c.pid); err != nil {
			// Waited for, so that the cgroup can be removed.
			c.kill()
			return nil, err
		}
	}
	return c, nil
}

// exited reports whether the exporter has stopped.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// kill stops the exporter and waits for it.
func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	<-c.done
}

// logTail returns the last lines of the exporter's log, for errors.
func (c *child) logTail() string {
	b, err := os.ReadFile(c.log)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

// failed wraps err with the exporter's state and the end of its log.
func (c *child) failed(err error) error {
	state := "running"
	if c.exited() {
		state = "exited: " + c.cmd.ProcessState.String()
	}
	return fmt.Errorf("%w (exporter %s; end of its log:\n%s)", err, state, c.logTail())
}

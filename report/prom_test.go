package report

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/internal/promprog"
	"github.com/influencer-exporter/influencer_exporter/internal/promtool"
)

// update is exportertest.Update: go test ./report -update rewrites the
// golden files.
var update = exportertest.Update

// server is a real Prometheus holding the fixture, shared by the tests
// and stopped by TestMain.
var server struct {
	once sync.Once
	url  string
	err  error
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	logs bytes.Buffer
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	stopPrometheus()
	promprog.ReportSkips()
	os.Exit(code)
}

// prometheus returns the URL of a Prometheus serving the fixture: blocks
// made by `promtool tsdb create-blocks-from openmetrics`, loaded by a
// Prometheus on a loopback port. In CI a missing program fails the test.
func prometheus(t *testing.T) string {
	t.Helper()
	promBin := promprog.Prometheus.Path(t)
	toolBin := promtool.Path(t)
	server.once.Do(func() { server.url, server.err = startPrometheus(promBin, toolBin) })
	if server.err != nil {
		t.Fatalf("start Prometheus: %v\n%s", server.err, server.logs.String())
	}
	return server.url
}

func startPrometheus(promBin, toolBin string) (string, error) {
	dir, err := os.MkdirTemp("", "report-prometheus-")
	if err != nil {
		return "", err
	}
	server.dir = dir
	input := filepath.Join(dir, "fixture.om")
	if err := writeOpenMetrics(input, fixture()); err != nil {
		return "", err
	}
	data := filepath.Join(dir, "data")
	if out, err := exec.Command(toolBin, "tsdb", "create-blocks-from", "openmetrics", input, data).CombinedOutput(); err != nil {
		return "", fmt.Errorf("promtool: %w\n%s", err, out)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global: {}\n"), 0o600); err != nil {
		return "", err
	}
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	// The fixture lies in 2025: a retention longer than its age keeps
	// Prometheus from deleting the backfilled blocks at start.
	cmd := exec.Command(promBin,
		"--config.file="+cfg,
		"--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=100y",
		"--web.listen-address="+addr,
	)
	cmd.Stdout = &server.logs
	cmd.Stderr = &server.logs
	if err := cmd.Start(); err != nil {
		return "", err
	}
	server.cmd = cmd
	server.done = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(server.done)
	}()
	url := "http://" + addr
	client := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		select {
		case <-server.done:
			return "", errors.New("prometheus exited")
		default:
		}
		resp, err := client.Get(url + "/-/ready")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return url, nil
		}
	}
	return "", errors.New("prometheus not ready after a minute")
}

func stopPrometheus() {
	if server.cmd != nil && server.cmd.Process != nil {
		_ = server.cmd.Process.Signal(os.Interrupt)
		select {
		case <-server.done:
		case <-time.After(15 * time.Second):
			_ = server.cmd.Process.Kill()
			<-server.done
		}
	}
	if server.dir != "" {
		os.RemoveAll(server.dir)
	}
}

// freeAddr is a loopback address nothing listens on right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// TestWebConfigBasicAuth checks that --web.config.file reaches
// exporter-toolkit: with basic auth configured, /metrics refuses anonymous
// scrapes and serves authenticated ones.
func TestWebConfigBasicAuth(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webCfg := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(webCfg, []byte("basic_auth_users:\n  prometheus: "+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("collectors: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	logs := &exportertest.SyncBuffer{}
	go func() {
		done <- run(ctx, []string{"--config.file=" + cfg, "--web.listen-address=" + addr, "--web.config.file=" + webCfg}, io.Discard, logs)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit %d:\n%s", code, logs.String())
		}
	}()
	get := func(user, pass string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor(t, "the exporter to listen", func() bool { return get("", "") != 0 })
	if code := get("", ""); code != http.StatusUnauthorized {
		t.Errorf("anonymous scrape: HTTP %d, want 401", code)
	}
	if code := get("prometheus", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong password: HTTP %d, want 401", code)
	}
	if code := get("prometheus", "scrape-pass"); code != http.StatusOK {
		t.Errorf("authenticated scrape: HTTP %d, want 200", code)
	}
}

// TestLifecycleAndMethods checks what may change the running process over
// HTTP. Without --web.enable-lifecycle, POST /-/reload and /-/quit are
// refused (403) and the landing page has no reload button; with it, PUT
// and POST reload and /-/quit stops the exporter with exit code 0. The
// read-only pages answer 405 to anything but GET and HEAD.
func TestLifecycleAndMethods(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("collectors: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func(t *testing.T, args ...string) (string, chan int, context.CancelFunc) {
		t.Helper()
		addr := freeAddr(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int, 1)
		logs := &exportertest.SyncBuffer{}
		go func() {
			done <- run(ctx, append([]string{"--config.file=" + cfg, "--web.listen-address=" + addr}, args...), io.Discard, logs)
		}()
		waitFor(t, "the exporter to listen", func() bool {
			resp, err := http.Get("http://" + addr + "/-/ready")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return true
		})
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("exporter log:\n%s", logs.String())
			}
		})
		return addr, done, cancel
	}
	do := func(t *testing.T, method, url string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(method, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}

	t.Run("lifecycle off", func(t *testing.T) {
		addr, done, cancel := start(t)
		defer func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("exit %d", code)
			}
		}()
		base := "http://" + addr
		for _, path := range []string{"/-/reload", "/-/quit"} {
			for _, method := range []string{http.MethodPost, http.MethodPut} {
				if code, _, body := do(t, method, base+path); code != http.StatusForbidden || !strings.Contains(body, "--web.enable-lifecycle") {
					t.Errorf("%s %s = %d %q, want 403 naming --web.enable-lifecycle", method, path, code, body)
				}
			}
			if code, h, _ := do(t, http.MethodGet, base+path); code != http.StatusMethodNotAllowed || h.Get("Allow") != "POST, PUT" {
				t.Errorf("GET %s = %d, Allow %q; want 405, POST, PUT", path, code, h.Get("Allow"))
			}
		}
		_, _, page := do(t, http.MethodGet, base+"/")
		if strings.Contains(page, "<button") || !strings.Contains(page, "SIGHUP") {
			t.Errorf("landing page without the lifecycle API: a reload button, or no word of SIGHUP:\n%s", page)
		}
		for _, path := range []string{"/", "/metrics", "/links", "/-/healthy", "/-/ready"} {
			for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
				if code, h, _ := do(t, method, base+path); code != http.StatusMethodNotAllowed || h.Get("Allow") != "GET, HEAD" {
					t.Errorf("%s %s = %d, Allow %q; want 405, GET, HEAD", method, path, code, h.Get("Allow"))
				}
			}
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				if code, _, _ := do(t, method, base+path); code != http.StatusOK {
					t.Errorf("%s %s = %d, want 200", method, path, code)
				}
			}
		}
	})

	t.Run("lifecycle on", func(t *testing.T) {
		addr, done, cancel := start(t, "--web.enable-lifecycle")
		defer cancel()
		base := "http://" + addr
		for _, method := range []string{http.MethodPost, http.MethodPut} {
			if code, _, body := do(t, method, base+"/-/reload"); code != http.StatusOK || !strings.Contains(body, "Configuration reloaded.") {
				t.Errorf("%s /-/reload = %d %q, want 200", method, code, body)
			}
		}
		if _, _, page := do(t, http.MethodGet, base+"/"); !strings.Contains(page, `<button type="submit">Reload configuration</button>`) {
			t.Errorf("landing page with the lifecycle API has no reload button:\n%s", page)
		}
		if code, _, _ := do(t, http.MethodPost, base+"/-/quit"); code != http.StatusOK {
			t.Errorf("POST /-/quit = %d, want 200", code)
		}
		// The deadline only bounds a broken run.
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("exit %d after /-/quit, want 0", code)
			}
		case <-time.After(time.Minute):
			t.Fatal("the exporter did not stop after /-/quit")
		}
	})
}

// TestShutdownWithRefreshesInFlight checks a shutdown (SIGTERM or SIGINT
// cancel run's context) is bounded while every provider hangs mid-refresh:
// the refreshes' calls are cancelled and the exporter exits 0, well inside
// the 30 s Kubernetes and systemd allow after SIGTERM.
func TestShutdownWithRefreshesInFlight(t *testing.T) {
	p := startExporter(t, sandboxConfig(t))
	for _, prov := range p.sb.Providers() {
		p.sb.Faults(prov).Set(fakeapi.Hang, -1)
	}
	hits := p.sb.Faults("bitly").Hits()
	if _, err := http.Post("http://"+p.addr+"/-/reload", "text/plain", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a refresh to hit the hanging fake", func() bool { return p.sb.Faults("bitly").Hits() > hits })
	p.cancel()
	bound := 2*shutdownGrace + 5*time.Second
	select {
	case code := <-p.done:
		if code != 0 {
			t.Errorf("exit %d, want 0", code)
		}
		p.done <- code // for the cleanup
	case <-time.After(bound):
		t.Fatalf("the exporter did not stop within %s of its context's end", bound)
	}
}

package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
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

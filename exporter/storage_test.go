package exporter

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStorage(t *testing.T) {
	var logs bytes.Buffer
	dir := filepath.Join(t.TempDir(), "state")
	s, err := OpenStorage(dir, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("storage directory: %v, %v; want created, owner only", err, info)
	}
	type state struct {
		Day   string `json:"day"`
		Spent int    `json:"spent"`
	}
	var got state
	if s.Load("yt/main", "quota", &got) {
		t.Error("Load found a state before any was saved")
	}
	s.Save("yt/main", "quota", state{"2025-04-01", 1234})
	if file := s.Path("yt/main", "quota"); filepath.Base(file) != "yt_main.quota.json" {
		t.Errorf("file name %q: a collector's name must not make a path", filepath.Base(file))
	}
	if !s.Load("yt/main", "quota", &got) || got != (state{"2025-04-01", 1234}) {
		t.Errorf("Load = %+v, want what was saved", got)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(matches) != 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}

	// A corrupt file, or one of another format version, is ignored with
	// a warning.
	for _, bad := range []string{`{"version":1,"state":{"day":`, `{"version":99,"state":{"day":"x","spent":1}}`, "\x00\x01"} {
		logs.Reset()
		if err := os.WriteFile(s.Path("yt/main", "quota"), []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if s.Load("yt/main", "quota", &state{}) {
			t.Errorf("Load of %q reported a state", bad)
		}
		if !strings.Contains(logs.String(), "ignoring stored state") {
			t.Errorf("Load of %q: no warning in %q", bad, logs.String())
		}
	}

	// No storage: nothing kept, nothing loaded.
	none, err := OpenStorage("", nil)
	if err != nil || none != nil {
		t.Fatalf("OpenStorage(\"\") = %v, %v; want nil, nil", none, err)
	}
	none.Save("x", "y", 1)
	if none.Load("x", "y", &got) || none.Path("x", "y") != "" {
		t.Error("a nil storage loaded something")
	}

	// A path that cannot be a directory is refused at start.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStorage(filepath.Join(file, "sub"), nil); err == nil {
		t.Error("OpenStorage under a file succeeded")
	}
}

// TestStoredOrderBook checks a book saves itself when a pass ends and comes
// back, orders and watermarks, for the same scope only.
func TestStoredOrderBook(t *testing.T) {
	s, err := OpenStorage(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	cc := &CollectorConfig{Name: "shop", Type: "woocommerce", BaseURL: "https://shop.example"}
	code := &Code{Code: "ALICE10"}
	codes := []CodeRef{{Campaign: "spring", Creator: "alice", Start: &start, Code: code}}
	ordersAt := start.Add(time.Hour)

	b := StoredOrderBook(s, cc, codes)
	b.Resume("orders", time.Minute)
	b.ApplyPage("orders", Page{Orders: []Order{{ID: "1", Codes: []string{"alice10"}, Currency: "EUR", Total: 30, Created: ordersAt, Updated: ordersAt}}, Next: "2"})
	if _, err := os.Stat(s.Path("shop", "orders")); err == nil {
		t.Error("the book saved itself before its pass ended")
	}
	b.ApplyPage("orders", Page{Orders: []Order{{ID: "2", Codes: []string{"ALICE10"}, Currency: "EUR", Total: 20, Created: ordersAt, Updated: ordersAt}}, Latest: ordersAt})

	again := StoredOrderBook(s, cc, codes)
	if again.Len() != 2 || !again.Counted("1") || !again.Watermark("orders").Equal(ordersAt) {
		t.Errorf("restored book: %d orders, watermark %s; want 2 and %s", again.Len(), again.Watermark("orders"), ordersAt)
	}
	if p := again.Resume("orders", time.Minute); p.Full || !p.Since.Equal(ordersAt.Add(-time.Minute)) {
		t.Errorf("restored book's next pass: %+v, want incremental from the watermark less the overlap", p)
	}
	if got, want := sampleText(again.Samples("woocommerce", codes)), sampleText(b.Samples("woocommerce", codes)); got != want {
		t.Errorf("restored book's samples:\n%s\nwant:\n%s", got, want)
	}

	// Another scope (a campaign start moved earlier) starts afresh.
	earlier := start.Add(-24 * time.Hour)
	moved := []CodeRef{{Campaign: "spring", Creator: "alice", Start: &earlier, Code: code}}
	if other := StoredOrderBook(s, cc, moved); other.Len() != 0 || other.Resume("orders", time.Minute) != (Pass{Full: true}) {
		t.Error("a book stored for another scope was taken back")
	}
}

func sampleText(samples []Sample) string {
	var b strings.Builder
	for _, s := range samples {
		b.WriteString(s.Metric.Name + "{" + strings.Join(s.LabelValues, ",") + "} ")
		b.WriteString(strconv.FormatFloat(s.Value, 'g', -1, 64) + "\n")
	}
	return b.String()
}

package kubernetes

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// sizingConfig is an agency's configuration of n creators, each with two
// tracking links, a discount code, four posts, an account and a fee: the
// creator of BENCHMARKS.md's agency, as every shard loads it whole.
func sizingConfig(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`collectors:
  - {type: bitly, token: example-bitly-token}
  - {type: shopify, base_url: https://example.myshopify.com, token: shpat_example}
  - {type: instagram, token: example-instagram-token}
campaigns:
  - name: agency
    start: 2026-05-01T00:00:00Z
    creators:
`)
	for i := range n {
		fmt.Fprintf(&b, "      - name: c%05d\n", i)
		fmt.Fprintf(&b, "        fee: {amount: 1500, per_post: 200, currency: EUR, budget: 3000}\n")
		b.WriteString("        links:\n")
		for j := range 2 {
			fmt.Fprintf(&b, "          - {collector: bitly, id: bit.ly/c%05d-%d, expect: {host: shop.example.com, utm: {utm_content: c%05d}}}\n", i, j, i)
		}
		fmt.Fprintf(&b, "        codes:\n          - {collector: shopify, code: C%05d}\n", i)
		fmt.Fprintf(&b, "        accounts:\n          - {collector: instagram, id: \"178414%011d\"}\n", i)
		b.WriteString("        posts:\n")
		for j := range 4 {
			fmt.Fprintf(&b, "          - {collector: instagram, id: \"179%012d\"}\n", i*4+j)
		}
	}
	return b.Bytes()
}

// BenchmarkConfigMemory measures what a loaded configuration costs each
// shard, which holds all of it whatever its share of the creators: the
// heap it keeps (after a GC), and on Linux how far the resident set grows
// while it loads. The StatefulSet's memory request and limit count both.
//
//	go test -run '^$' -bench ConfigMemory -benchtime 1x ./deploy/kubernetes
func BenchmarkConfigMemory(b *testing.B) {
	const creators = 6400
	file := filepath.Join(b.TempDir(), "config.yaml")
	cfg := sizingConfig(creators)
	if err := os.WriteFile(file, cfg, 0o600); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rssBefore, resetOK := resetPeakRSS()
		r := exporter.NewRunner(file, nil)
		c, instances, err := r.Load()
		if err != nil {
			b.Fatal(err)
		}
		peak := peakRSS()
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(c)
		runtime.KeepAlive(instances)
		runtime.KeepAlive(r)
		b.ReportMetric(float64(len(cfg))/creators, "config-B/creator")
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/creators, "held-B/creator")
		if resetOK && peak > 0 {
			b.ReportMetric(float64(peak-rssBefore)/creators, "load-peak-RSS-B/creator")
		}
	}
}

// resetPeakRSS resets the kernel's peak resident set (VmHWM) to the
// current one and returns it; false where /proc does not allow it.
func resetPeakRSS() (int64, bool) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return 0, false
	}
	return procStatus("VmRSS:"), true
}

func peakRSS() int64 { return procStatus("VmHWM:") }

// procStatus returns a "kB" field of /proc/self/status in bytes, or 0.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

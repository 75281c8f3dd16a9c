package exporter

import (
	"encoding/binary"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
)

// gatherProcess gathers c alone, its families by name.
func gatherProcess(t testing.TB, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	out := map[string]*dto.MetricFamily{}
	for _, mf := range gatherPedantic(t, c) {
		out[mf.GetName()] = mf
	}
	return out
}

func familyValue(mf *dto.MetricFamily) float64 {
	m := mf.GetMetric()[0]
	if m.GetCounter() != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

// The collector exports what client_golang's does: the same families,
// help and types, one series each without labels, and the same values
// (those that move between the two reads within a margin).
func TestProcessCollectorMatchesClientGolang(t *testing.T) {
	ours := NewProcessCollector()
	if _, ok := ours.(*processCollector); !ok {
		t.Fatalf("NewProcessCollector returned %T: /proc not read", ours)
	}
	want := gatherProcess(t, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	got := gatherProcess(t, ours)
	if len(want) != 9 {
		t.Fatalf("client_golang exported %d process families, want 9: %v", len(want), slices.Sorted(maps.Keys(want)))
	}
	if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want))) {
		t.Fatalf("families %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	margins := map[string]float64{
		"process_start_time_seconds":           0,
		"process_max_fds":                      0,
		"process_virtual_memory_max_bytes":     0,
		"process_open_fds":                     1,
		"process_cpu_seconds_total":            1,
		"process_virtual_memory_bytes":         256 << 20,
		"process_resident_memory_bytes":        64 << 20,
		"process_network_receive_bytes_total":  1 << 20,
		"process_network_transmit_bytes_total": 1 << 20,
	}
	for name, w := range want {
		g := got[name]
		if g.GetHelp() != w.GetHelp() || g.GetType() != w.GetType() || len(g.GetMetric()) != 1 || len(g.GetMetric()[0].GetLabel()) != 0 {
			t.Errorf("%s: help %q type %v, %d series; want help %q type %v, one series without labels",
				name, g.GetHelp(), g.GetType(), len(g.GetMetric()), w.GetHelp(), w.GetType())
			continue
		}
		margin, ok := margins[name]
		if !ok {
			t.Errorf("%s: no margin set in the test", name)
			continue
		}
		if gv, wv := familyValue(g), familyValue(w); math.Abs(gv-wv) > margin {
			t.Errorf("%s = %v, want %v (within %v)", name, gv, wv, margin)
		}
	}
	if v := familyValue(got["process_start_time_seconds"]); v < 1e9 {
		t.Errorf("process_start_time_seconds = %v, not a time", v)
	}
}

// A scrape's collection reuses the collector's buffers: it allocates the
// metrics it sends and nothing per file read, a fraction of what
// client_golang's collector allocates.
func TestProcessCollectorAllocations(t *testing.T) {
	collect := func(c prometheus.Collector) float64 {
		ch := make(chan prometheus.Metric, 32)
		c.Collect(ch) // the buffers grow once
		for len(ch) > 0 {
			<-ch
		}
		return testing.AllocsPerRun(20, func() {
			c.Collect(ch)
			for len(ch) > 0 {
				<-ch
			}
		})
	}
	ours := collect(NewProcessCollector())
	theirs := collect(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Nine const metrics, about three allocations each, and a path
	// made for each file opened.
	if ours > 45 || ours*8 > theirs {
		t.Errorf("%v allocations a collection, client_golang's collector %v", ours, theirs)
	}
}

func TestParseStat(t *testing.T) {
	// A command with spaces and parentheses; fields 14, 15, 22, 23 and 24
	// are 1400 1500 2200 2300 2400.
	fields := make([]string, 0, 50)
	for i := 3; i <= 52; i++ {
		switch i {
		case 3:
			fields = append(fields, "S")
		case 14, 15, 22, 23, 24:
			fields = append(fields, strconv.Itoa(i*100))
		default:
			fields = append(fields, "7")
		}
	}
	line := "4242 (my (odd) cmd) " + strings.Join(fields, " ") + "\n"
	st, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if want := (procStat{utime: 1400, stime: 1500, startTicks: 2200, vsize: 2300, rss: 2400}); st != want {
		t.Errorf("parseStat = %+v, want %+v", st, want)
	}
	for _, bad := range []string{"", "4242 no parentheses 1 2 3", "4242 (cmd) S 1 2 3", "4242 (cmd) " + strings.Join(fields[:11], " ") + " x " + strings.Join(fields[12:], " ")} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) gave no error", bad)
		}
	}
}

func TestParseNetOctets(t *testing.T) {
	const tcp = "TcpExt: SyncookiesSent SyncookiesRecv\nTcpExt: 1 2\n"
	for _, c := range []struct {
		name, data string
		in, out    float64
		err        bool
	}{
		{"both", tcp + "IpExt: InNoRoutes InOctets OutOctets InNoECTPkts\nIpExt: 0 12345 67890 9\n", 12345, 67890, false},
		{"no IpExt lines: zero, as procfs", tcp, 0, 0, false},
		{"no OutOctets: zero, as procfs", "IpExt: InOctets\nIpExt: 5\n", 5, 0, false},
		{"fewer values than names", "IpExt: InOctets OutOctets\nIpExt: 5\n", 0, 0, true},
		{"not a number", "IpExt: InOctets OutOctets\nIpExt: 5 x\n", 0, 0, true},
	} {
		in, out, err := parseNetOctets([]byte(c.data))
		if (err != nil) != c.err || in != c.in || out != c.out {
			t.Errorf("%s: parseNetOctets = %v, %v, %v; want %v, %v, error %v", c.name, in, out, err, c.in, c.out, c.err)
		}
	}
}

// dirent builds a linux_dirent64 record of name, padded to 8 bytes.
func dirent(name string) []byte {
	n := (19 + len(name) + 1 + 7) &^ 7
	b := make([]byte, n)
	binary.LittleEndian.PutUint16(b[16:], uint16(n))
	copy(b[19:], name)
	return b
}

func TestCountDirents(t *testing.T) {
	var buf []byte
	for _, name := range []string{".", "..", "0", "1", "2", "17", "1024"} {
		buf = append(buf, dirent(name)...)
	}
	if n := countDirents(buf); n != 5 {
		t.Errorf("countDirents = %d, want 5", n)
	}
	// A record cut short is not counted.
	if n := countDirents(buf[:len(buf)-3]); n != 4 {
		t.Errorf("countDirents of a cut buffer = %d, want 4", n)
	}
}

// BenchmarkProcessCollector measures one collection of the process_
// series, done on every scrape: the exporter's collector against
// client_golang's.
func BenchmarkProcessCollector(b *testing.B) {
	for _, c := range []struct {
		name string
		c    prometheus.Collector
	}{
		{"exporter", NewProcessCollector()},
		{"client_golang", collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})},
	} {
		b.Run(c.name, func(b *testing.B) {
			ch := make(chan prometheus.Metric, 32)
			b.ReportAllocs()
			for b.Loop() {
				c.c.Collect(ch)
				for len(ch) > 0 {
					<-ch
				}
			}
		})
	}
}

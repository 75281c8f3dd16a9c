package exporter

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// goroutineCollector records the goroutine each collection runs on.
type goroutineCollector struct {
	desc *prometheus.Desc
	mu   *sync.Mutex
	seen *[]string
}

func newGoroutineCollector(name string, mu *sync.Mutex, seen *[]string) goroutineCollector {
	return goroutineCollector{desc: prometheus.NewDesc(name, "Collections.", nil, nil), mu: mu, seen: seen}
}

func (c goroutineCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c goroutineCollector) Collect(ch chan<- prometheus.Metric) {
	buf := make([]byte, 64)
	id, _, _ := strings.Cut(strings.TrimPrefix(string(buf[:runtime.Stack(buf, false)]), "goroutine "), " ")
	c.mu.Lock()
	*c.seen = append(*c.seen, id)
	c.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, 1)
}

// TestSerialRegistryGathersAsARegistry: the same collectors give the same
// families as a prometheus.Registry, gathered on one goroutine.
func TestSerialRegistryGathersAsARegistry(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	counter := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "test_requests_total", Help: "Requests."}, []string{"code"})
	counter.WithLabelValues("200").Add(3)
	counter.WithLabelValues("500").Inc()
	gauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_up", Help: "Up.", ConstLabels: prometheus.Labels{"shard": "0"}})
	gauge.Set(1)
	cs := []prometheus.Collector{counter, gauge}
	for i := range 8 {
		cs = append(cs, newGoroutineCollector("test_collections_"+string(rune('a'+i)), &mu, &seen))
	}

	serial := NewSerialRegistry()
	serial.MustRegister(cs...)
	plain := prometheus.NewRegistry()
	plain.MustRegister(cs...)

	want, err := plain.Gather()
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	seen = nil
	mu.Unlock()
	got, err := serial.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d families, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].String() != want[i].String() {
			t.Errorf("family %d:\n%s\nwant\n%s", i, got[i], want[i])
		}
	}
	if len(seen) != 8 {
		t.Fatalf("%d collections, want 8", len(seen))
	}
	for _, id := range seen[1:] {
		if id != seen[0] {
			t.Errorf("collected on goroutines %v, want one", seen)
			break
		}
	}

	// testutil reads it as it reads a registry.
	if err := testutil.GatherAndCompare(serial, strings.NewReader(`
# HELP test_up Up.
# TYPE test_up gauge
test_up{shard="0"} 1
`), "test_up"); err != nil {
		t.Error(err)
	}
}

// TestSerialRegistryRegistration: registering checks as a registry does,
// with its errors, and unregistering stops the gathering.
func TestSerialRegistryRegistration(t *testing.T) {
	r := NewSerialRegistry()
	first := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_total", Help: "Test."})
	if err := r.Register(first); err != nil {
		t.Fatal(err)
	}
	again := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_total", Help: "Test."})
	var are prometheus.AlreadyRegisteredError
	if err := r.Register(again); !errors.As(err, &are) || are.ExistingCollector != first {
		t.Errorf("registering the same series again: %v, want AlreadyRegisteredError naming the first", err)
	}
	other := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_total", Help: "Another help."})
	if err := r.Register(other); err == nil {
		t.Error("registering the name with another help and type: no error")
	}
	if n, err := testutil.GatherAndCount(r); err != nil || n != 1 {
		t.Errorf("gathered %d series (%v), want 1: a refused collector is not gathered", n, err)
	}
	if !r.Unregister(first) {
		t.Fatal("Unregister: false, want true")
	}
	if r.Unregister(first) {
		t.Error("Unregister twice: true, want false")
	}
	if n, err := testutil.GatherAndCount(r); err != nil || n != 0 {
		t.Errorf("gathered %d series (%v) after unregistering, want 0", n, err)
	}
	if err := r.Register(again); err != nil {
		t.Errorf("registering after unregistering: %v", err)
	}
}

type panickingMetrics struct{ desc *prometheus.Desc }

func (c panickingMetrics) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c panickingMetrics) Collect(chan<- prometheus.Metric)    { panic("broken collector") }

// TestSerialRegistryErrors: a collector that panics, and series that
// disagree across collectors, are errors of the gathering, as a registry
// reports them; the other collectors are still gathered.
func TestSerialRegistryErrors(t *testing.T) {
	r := NewSerialRegistry()
	ok := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_ok", Help: "OK."})
	r.MustRegister(panickingMetrics{prometheus.NewDesc("test_panics", "Panics.", nil, nil)}, ok)
	mfs, err := r.Gather()
	if err == nil || !strings.Contains(err.Error(), "broken collector") {
		t.Errorf("error %v, want the panic", err)
	}
	if len(mfs) != 1 || mfs[0].GetName() != "test_ok" {
		t.Errorf("families %v, want test_ok", mfs)
	}

	// Two unchecked collectors (describing nothing) giving one series:
	// caught when gathered, as a registry catches it.
	r = NewSerialRegistry()
	desc := prometheus.NewDesc("test_twice", "Twice.", nil, nil)
	r.MustRegister(uncheckedCollector{desc}, uncheckedCollector{desc})
	if _, err := r.Gather(); err == nil || !strings.Contains(err.Error(), "collected before with the same name and label values") {
		t.Errorf("one series from two collectors: %v, want the registry's duplicate error", err)
	}
}

// uncheckedCollector describes nothing and collects one series.
type uncheckedCollector struct{ desc *prometheus.Desc }

func (uncheckedCollector) Describe(chan<- *prometheus.Desc) {}
func (c uncheckedCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, 1)
}

//go:build !linux

package exporter

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewProcessCollector returns client_golang's process collector: the
// collector of its own is for Linux's /proc (see process_linux.go).
func NewProcessCollector() prometheus.Collector {
	return collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})
}

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// checkPlatform reports whether this system has what the run reads: the
// child's memory in /proc.
func checkPlatform() error { return nil }

// memStatus returns a process's resident set (VmRSS) and its peak since
// start or the last resetPeak (VmHWM), in bytes.
func memStatus(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(k) {
		case "VmRSS":
			dst = &rss
		case "VmHWM":
			dst = &hwm
		default:
			continue
		}
		kb, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status: %s: %w", pid, k, err)
		}
		*dst = kb << 10
	}
	if rss == 0 || hwm == 0 {
		return 0, 0, fmt.Errorf("/proc/%d/status: no VmRSS or VmHWM", pid)
	}
	return rss, hwm, nil
}

// loadAverage returns the system's load average over the last minute:
// the run shares the machine, and its figures are only as quiet as it.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := bytes.Cut(b, []byte(" "))
	v, _ := strconv.ParseFloat(string(f), 64)
	return v
}

// tcpCongestion returns the machine's default TCP congestion control,
// which the exporter's connections use. Under BBR, scrapes at a steady
// rate over loopback took 15-20 ms now and then, served in 1-2 ms: the
// body arrived late, which pacing would explain (BENCHMARKS.md).
func tcpCongestion() string {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_congestion_control")
	if err != nil {
		return ""
	}
	return string(bytes.TrimSpace(b))
}

// resetPeak sets a process's VmHWM to its current resident set: 5 is
// the value of clear_refs that resets the peak (proc(5)).
func resetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// childAttr kills the exporter when this process dies, even by a signal
// that runs no deferred cleanup.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }

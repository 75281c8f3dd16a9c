package exporter

import (
	"fmt"
	"os"
	"path/filepath"
)

// AutoRefreshPriority is the refresh priority of
// --refresh.scheduling-policy=auto, and why: SCHED_IDLE when the process
// is alone in a CPU cgroup of its own, as in a container, else nice steps
// below the process.
//
// Under SCHED_IDLE a refresh runs only when no other thread of its group
// wants the CPU. In a group of its own that is the exporter's scrapes,
// which it should yield to; the group's share against the rest of the
// machine is the cgroup's weight, whatever runs inside. Outside one, every
// busy process of the machine goes first: on two cores kept busy by two
// other processes, a 300,000-series refresh took 248 s instead of 2 s, and
// the refresh's own deadline could not stop it, since it runs on the same
// starved thread (BENCHMARKS.md). A nice value has no such cliff: it
// shares the CPU by weight.
func AutoRefreshPriority(nice int) (RefreshPriority, string) {
	fallback := RefreshPriority{Nice: nice}
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return fallback, err.Error()
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fallback, err.Error()
	}
	h, err := FindCPUHierarchy(string(self), string(mounts))
	if err != nil {
		return fallback, err.Error()
	}
	dir, ok := h.Dir()
	if !ok {
		return fallback, fmt.Sprintf("its CPU cgroup %s is not under the mount %s", h.Self, h.Mount)
	}
	v2 := h.V2
	procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return fallback, err.Error()
	}
	var controllers []byte
	if v2 {
		if controllers, err = os.ReadFile(filepath.Join(dir, "cgroup.controllers")); err != nil {
			return fallback, err.Error()
		}
	}
	alone, why := aloneInCgroup(string(procs), string(controllers), v2, os.Getpid())
	why = fmt.Sprintf("%s (%s)", why, dir)
	if !alone {
		return fallback, why
	}
	return RefreshPriority{Idle: true}, why
}

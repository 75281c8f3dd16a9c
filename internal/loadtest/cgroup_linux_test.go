package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// TestCgroupParentDir: the new cgroup goes under this process's cgroup,
// or under the mount point when that is not there to be found.
func TestCgroupParentDir(t *testing.T) {
	all := func(string) bool { return true }
	none := func(string) bool { return false }
	for _, tc := range []struct {
		name   string
		h      exporter.CPUHierarchy
		exists func(string) bool
		want   string
	}{
		{"v1", exporter.CPUHierarchy{Mount: "/sys/fs/cgroup/cpu", Root: "/", Self: "/user.slice"}, all, "/sys/fs/cgroup/cpu/user.slice"},
		{"v1, not under the mount", exporter.CPUHierarchy{Mount: "/sys/fs/cgroup/cpu", Root: "/", Self: "/user.slice"}, none, "/sys/fs/cgroup/cpu"},
		{"the root cgroup", exporter.CPUHierarchy{Mount: "/sys/fs/cgroup/cpu", Root: "/", Self: "/"}, all, "/sys/fs/cgroup/cpu"},
		{
			"v2", exporter.CPUHierarchy{V2: true, Mount: "/sys/fs/cgroup", Root: "/", Self: "/user.slice/user-1000.slice/session-3.scope"}, all,
			"/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope",
		},
		{"container, its own cgroup mounted", exporter.CPUHierarchy{Mount: "/sys/fs/cgroup/cpu", Root: "/docker/0123abcd", Self: "/docker/0123abcd"}, all, "/sys/fs/cgroup/cpu"},
		{"container, a cgroup under its own", exporter.CPUHierarchy{Mount: "/sys/fs/cgroup/cpu", Root: "/docker/0123abcd", Self: "/docker/0123abcd/app"}, all, "/sys/fs/cgroup/cpu/app"},
		{"a mount of another cgroup", exporter.CPUHierarchy{Mount: "/sys/fs/cgroup/cpu", Root: "/docker/0123abcd", Self: "/docker/0123abcdef"}, all, "/sys/fs/cgroup/cpu"},
		// A process outside its cgroup namespace's root.
		{"outside the namespace", exporter.CPUHierarchy{V2: true, Mount: "/sys/fs/cgroup", Root: "/", Self: "/../../user.slice"}, all, "/sys/fs/cgroup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parentDir(tc.h, tc.exists); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestCgroupHasWord: cgroup.controllers and cgroup.subtree_control name
// controllers whole, cpu not within cpuset.
func TestCgroupHasWord(t *testing.T) {
	if !hasWord("cpuset cpu io memory pids\n", "cpu") {
		t.Error("cpu not found in a list that has it")
	}
	if hasWord("cpuset io memory\n", "cpu") || hasWord("", "cpu") {
		t.Error("cpu found in a list without it")
	}
}

// TestCgroup makes a cgroup, moves a process into it and removes it, on
// machines where this process may make one.
func TestCgroup(t *testing.T) {
	name := fmt.Sprintf("%stest-%d", cgroupPrefix, os.Getpid())
	cg, err := newCgroup(name)
	if err != nil {
		t.Skipf("no CPU cgroup can be made here (the load test's -cgroup needs one): %v", err)
	}
	removed := false
	t.Cleanup(func() {
		if !removed {
			_ = cg.remove()
		}
	})
	if path.Base(cg.path()) != name {
		t.Errorf("cgroup %s, want one named %s", cg.path(), name)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "sleep", "30")
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	waited := false
	stop := func() {
		if !waited {
			cancel()
			_ = cmd.Wait()
			waited = true
		}
	}
	t.Cleanup(stop)
	pid := cmd.Process.Pid
	if err := cg.add(pid); err != nil {
		t.Fatal(err)
	}

	procCgroup, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	h, err := exporter.FindCPUHierarchy(string(procCgroup), string(mountinfo))
	if err != nil {
		t.Fatal(err)
	}
	if path.Base(h.Self) != name {
		t.Errorf("/proc/%d/cgroup: CPU cgroup %s, want %s\n%s", pid, h.Self, name, procCgroup)
	}
	procs, err := os.ReadFile(cg.path() + "/cgroup.procs")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains("\n"+string(procs), "\n"+strconv.Itoa(pid)+"\n") {
		t.Errorf("cgroup.procs %q does not hold pid %d", procs, pid)
	}

	// A cgroup that still holds a process cannot go: the run must
	// report it, not leave it behind unsaid.
	if err := cg.remove(); err == nil || !strings.Contains(err.Error(), strconv.Itoa(pid)) {
		t.Errorf("removing the cgroup that holds pid %d: %v, want an error naming it", pid, err)
	}

	stop()
	if err := cg.remove(); err != nil {
		t.Fatal(err)
	}
	removed = true
	if _, err := os.Stat(cg.path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after remove, stat %s: %v, want it gone", cg.path(), err)
	}
}

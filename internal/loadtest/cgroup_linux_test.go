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
)

// The layouts below are what /proc/self/cgroup and /proc/self/mountinfo
// read on common systems, shortened.
const (
	// cgroup v1 only, cpu and cpuacct in one hierarchy, as systemd
	// mounts them; cpuacct and cpuset come first, to be told from cpu.
	v1Cgroup = `12:cpuset:/
11:pids:/user.slice/user-1000.slice/session-3.scope
4:cpu,cpuacct:/user.slice
1:name=systemd:/user.slice/user-1000.slice/session-3.scope
`
	v1Mountinfo = `25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
28 25 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,name=systemd
29 25 0:26 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,cpuset
30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
31 25 0:28 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,pids
`
	// cgroup v1, cpu and cpuacct in hierarchies of their own.
	v1SplitCgroup = `3:cpuacct:/
2:cpu:/
0::/
`
	v1SplitMountinfo = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
`
	// cgroup v2 only.
	v2Cgroup     = "0::/user.slice/user-1000.slice/session-3.scope\n"
	v2Mountinfo  = "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
	hybridCgroup = `4:cpu,cpuacct:/user.slice
1:name=systemd:/user.slice/user-1000.slice/session-3.scope
0::/user.slice/user-1000.slice/session-3.scope
`
	// Hybrid: cgroup v2 mounted beside the v1 controllers, listed first.
	hybridMountinfo = `25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
28 25 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
`
	// Hybrid, the cpu controller in neither hierarchy.
	hybridNoCPUCgroup    = "1:name=systemd:/user.slice\n0::/user.slice\n"
	hybridNoCPUMountinfo = `26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
28 25 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
`
	// cgroup v1 with neither cpu nor cgroup v2 mounted.
	noCPUCgroup    = "5:memory:/\n1:name=systemd:/\n"
	noCPUMountinfo = `28 25 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
29 25 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,memory
`
	// A Docker container of cgroup v1 without a cgroup namespace: it
	// mounts its own cgroup, read-only.
	containerCgroup    = "4:cpu,cpuacct:/docker/0123abcd\n1:name=systemd:/docker/0123abcd\n"
	containerMountinfo = "700 690 0:27 /docker/0123abcd /sys/fs/cgroup/cpu,cpuacct ro,nosuid,nodev,noexec,relatime master:12 - cgroup cpu ro,cpu,cpuacct\n"
)

// TestCgroupFindCPUHierarchy: the CPU controller's hierarchy is found in
// v1, v2 and hybrid layouts, and its absence named.
func TestCgroupFindCPUHierarchy(t *testing.T) {
	for _, tc := range []struct {
		name              string
		cgroup, mountinfo string
		want              cpuHierarchy
		wantErr           string
	}{
		{"v1", v1Cgroup, v1Mountinfo, cpuHierarchy{mount: "/sys/fs/cgroup/cpu,cpuacct", root: "/", self: "/user.slice"}, ""},
		{"v1, cpu on its own", v1SplitCgroup, v1SplitMountinfo, cpuHierarchy{mount: "/sys/fs/cgroup/cpu", root: "/", self: "/"}, ""},
		{"v2", v2Cgroup, v2Mountinfo, cpuHierarchy{v2: true, mount: "/sys/fs/cgroup", root: "/", self: "/user.slice/user-1000.slice/session-3.scope"}, ""},
		{"hybrid: cpu in v1", hybridCgroup, hybridMountinfo, cpuHierarchy{mount: "/sys/fs/cgroup/cpu,cpuacct", root: "/", self: "/user.slice"}, ""},
		{"hybrid: no cpu in v1", hybridNoCPUCgroup, hybridNoCPUMountinfo, cpuHierarchy{v2: true, mount: "/sys/fs/cgroup/unified", root: "/", self: "/user.slice"}, ""},
		{"container", containerCgroup, containerMountinfo, cpuHierarchy{mount: "/sys/fs/cgroup/cpu,cpuacct", root: "/docker/0123abcd", self: "/docker/0123abcd"}, ""},
		{
			"escaped mount point", "2:cpu:/\n", `32 31 0:29 / /mnt/cgroup\040cpu rw,relatime - cgroup cgroup rw,cpu` + "\n",
			cpuHierarchy{mount: "/mnt/cgroup cpu", root: "/", self: "/"}, "",
		},
		{"no cpu controller", noCPUCgroup, noCPUMountinfo, cpuHierarchy{}, "no CPU controller"},
		{"cpu not mounted", "2:cpu:/\n", "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n", cpuHierarchy{}, "no CPU controller"},
		{"nothing", "", "", cpuHierarchy{}, "no CPU controller"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := findCPUHierarchy(tc.cgroup, tc.mountinfo)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("got %+v, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// TestCgroupParentDir: the new cgroup goes under this process's cgroup,
// or under the mount point when that is not there to be found.
func TestCgroupParentDir(t *testing.T) {
	all := func(string) bool { return true }
	none := func(string) bool { return false }
	for _, tc := range []struct {
		name   string
		h      cpuHierarchy
		exists func(string) bool
		want   string
	}{
		{"v1", cpuHierarchy{mount: "/sys/fs/cgroup/cpu", root: "/", self: "/user.slice"}, all, "/sys/fs/cgroup/cpu/user.slice"},
		{"v1, not under the mount", cpuHierarchy{mount: "/sys/fs/cgroup/cpu", root: "/", self: "/user.slice"}, none, "/sys/fs/cgroup/cpu"},
		{"the root cgroup", cpuHierarchy{mount: "/sys/fs/cgroup/cpu", root: "/", self: "/"}, all, "/sys/fs/cgroup/cpu"},
		{
			"v2", cpuHierarchy{v2: true, mount: "/sys/fs/cgroup", root: "/", self: "/user.slice/user-1000.slice/session-3.scope"}, all,
			"/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope",
		},
		{"container, its own cgroup mounted", cpuHierarchy{mount: "/sys/fs/cgroup/cpu", root: "/docker/0123abcd", self: "/docker/0123abcd"}, all, "/sys/fs/cgroup/cpu"},
		{"container, a cgroup under its own", cpuHierarchy{mount: "/sys/fs/cgroup/cpu", root: "/docker/0123abcd", self: "/docker/0123abcd/app"}, all, "/sys/fs/cgroup/cpu/app"},
		{"a mount of another cgroup", cpuHierarchy{mount: "/sys/fs/cgroup/cpu", root: "/docker/0123abcd", self: "/docker/0123abcdef"}, all, "/sys/fs/cgroup/cpu"},
		// A process outside its cgroup namespace's root.
		{"outside the namespace", cpuHierarchy{v2: true, mount: "/sys/fs/cgroup", root: "/", self: "/../../user.slice"}, all, "/sys/fs/cgroup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.h.parentDir(tc.exists); got != tc.want {
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
	h, err := findCPUHierarchy(string(procCgroup), string(mountinfo))
	if err != nil {
		t.Fatal(err)
	}
	if path.Base(h.self) != name {
		t.Errorf("/proc/%d/cgroup: CPU cgroup %s, want %s\n%s", pid, h.self, name, procCgroup)
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

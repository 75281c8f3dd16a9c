package exporter

import (
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

// TestFindCPUHierarchy: the CPU controller's hierarchy is found in
// v1, v2 and hybrid layouts, and its absence named.
func TestFindCPUHierarchy(t *testing.T) {
	for _, tc := range []struct {
		name              string
		cgroup, mountinfo string
		want              CPUHierarchy
		wantErr           string
	}{
		{"v1", v1Cgroup, v1Mountinfo, CPUHierarchy{Mount: "/sys/fs/cgroup/cpu,cpuacct", Root: "/", Self: "/user.slice"}, ""},
		{"v1, cpu on its own", v1SplitCgroup, v1SplitMountinfo, CPUHierarchy{Mount: "/sys/fs/cgroup/cpu", Root: "/", Self: "/"}, ""},
		{"v2", v2Cgroup, v2Mountinfo, CPUHierarchy{V2: true, Mount: "/sys/fs/cgroup", Root: "/", Self: "/user.slice/user-1000.slice/session-3.scope"}, ""},
		{"hybrid: cpu in v1", hybridCgroup, hybridMountinfo, CPUHierarchy{Mount: "/sys/fs/cgroup/cpu,cpuacct", Root: "/", Self: "/user.slice"}, ""},
		{"hybrid: no cpu in v1", hybridNoCPUCgroup, hybridNoCPUMountinfo, CPUHierarchy{V2: true, Mount: "/sys/fs/cgroup/unified", Root: "/", Self: "/user.slice"}, ""},
		{"container", containerCgroup, containerMountinfo, CPUHierarchy{Mount: "/sys/fs/cgroup/cpu,cpuacct", Root: "/docker/0123abcd", Self: "/docker/0123abcd"}, ""},
		{
			"escaped mount point", "2:cpu:/\n", `32 31 0:29 / /mnt/cgroup\040cpu rw,relatime - cgroup cgroup rw,cpu` + "\n",
			CPUHierarchy{Mount: "/mnt/cgroup cpu", Root: "/", Self: "/"}, "",
		},
		{"no cpu controller", noCPUCgroup, noCPUMountinfo, CPUHierarchy{}, "no CPU controller"},
		{"cpu not mounted", "2:cpu:/\n", "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n", CPUHierarchy{}, "no CPU controller"},
		{"nothing", "", "", CPUHierarchy{}, "no CPU controller"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FindCPUHierarchy(tc.cgroup, tc.mountinfo)
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

// TestCPUHierarchyDir: this process's cgroup under the mount, unless
// the mount does not show it.
func TestCPUHierarchyDir(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    CPUHierarchy
		want string
		ok   bool
	}{
		{"v1", CPUHierarchy{Mount: "/sys/fs/cgroup/cpu", Root: "/", Self: "/user.slice"}, "/sys/fs/cgroup/cpu/user.slice", true},
		{"the root cgroup", CPUHierarchy{Mount: "/sys/fs/cgroup/cpu", Root: "/", Self: "/"}, "/sys/fs/cgroup/cpu", true},
		{"v2 service", CPUHierarchy{V2: true, Mount: "/sys/fs/cgroup", Root: "/", Self: "/system.slice/influencer_exporter.service"}, "/sys/fs/cgroup/system.slice/influencer_exporter.service", true},
		{"container, its own cgroup mounted", CPUHierarchy{Mount: "/sys/fs/cgroup/cpu", Root: "/docker/0123abcd", Self: "/docker/0123abcd"}, "/sys/fs/cgroup/cpu", true},
		{"container, a cgroup under its own", CPUHierarchy{Mount: "/sys/fs/cgroup/cpu", Root: "/docker/0123abcd", Self: "/docker/0123abcd/app"}, "/sys/fs/cgroup/cpu/app", true},
		{"a mount of another cgroup", CPUHierarchy{Mount: "/sys/fs/cgroup/cpu", Root: "/docker/0123abcd", Self: "/docker/0123abcdef"}, "", false},
		{"outside the namespace", CPUHierarchy{V2: true, Mount: "/sys/fs/cgroup", Root: "/", Self: "/../../user.slice"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, ok := tc.h.Dir(); got != tc.want || ok != tc.ok {
				t.Errorf("got %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestAloneInCgroup(t *testing.T) {
	for _, tc := range []struct {
		name, procs, controllers string
		v2, alone                bool
		why                      string
	}{
		{"v1 alone", "123\n", "", false, true, "alone"},
		{"v1 shared", "1\n123\n77\n", "", false, false, "2 other processes"},
		{"v2 alone with cpu", "123\n", "cpuset cpu io memory pids\n", true, true, "alone"},
		{"v2 alone without cpu", "123\n", "cpuset io memory pids\n", true, false, "no cpu controller"},
		{"v2 cpuset only is not cpu", "123\n", "cpuset\n", true, false, "no cpu controller"},
		{"not ours", "1\n", "", false, false, "not in the cgroup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alone, why := aloneInCgroup(tc.procs, tc.controllers, tc.v2, 123)
			if alone != tc.alone || !strings.Contains(why, tc.why) {
				t.Errorf("got %v, %q; want %v, %q", alone, why, tc.alone, tc.why)
			}
		})
	}
}

// TestAutoRefreshPriority: on this machine, whatever it is, auto picks
// SCHED_IDLE or the nice value asked for, and says why.
func TestAutoRefreshPriority(t *testing.T) {
	p, why := AutoRefreshPriority(7)
	if p != (RefreshPriority{Idle: true}) && p != (RefreshPriority{Nice: 7}) && p != (RefreshPriority{}) {
		t.Errorf("priority %+v, want SCHED_IDLE, nice 7 or none", p)
	}
	if why == "" {
		t.Error("no reason given")
	}
	t.Logf("%s: %s", p, why)
}

package exporter

import (
	"strings"
	"testing"
)

func TestCPUCgroupDir(t *testing.T) {
	const (
		v1Root   = "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
		v1Others = "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
		unified  = "30 25 0:26 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
		v2Root   = "30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
	)
	for _, tc := range []struct {
		name, self, mounts string
		dir                string
		v2                 bool
		err                string
	}{
		{"v1 root", "5:memory:/\n1:cpu:/\n", v1Others + v1Root, "/sys/fs/cgroup/cpu", false, ""},
		{"v1 container: the mount starts at its cgroup", "4:cpu,cpuacct:/docker/abc\n",
			"40 31 0:30 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid - cgroup cgroup rw,cpu,cpuacct\n", "/sys/fs/cgroup/cpu,cpuacct", false, ""},
		{"v1 service under the mount's root", "4:cpu,cpuacct:/system.slice/x.service\n",
			"40 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n", "/sys/fs/cgroup/cpu,cpuacct/system.slice/x.service", false, ""},
		{"v2 container with a cgroup namespace", "0::/\n", v2Root, "/sys/fs/cgroup", true, ""},
		{"v2 service", "0::/system.slice/influencer_exporter.service\n", v2Root, "/sys/fs/cgroup/system.slice/influencer_exporter.service", true, ""},
		{"hybrid: cpu on v1", "1:cpu:/a\n0::/user.slice\n", unified + v1Root, "/sys/fs/cgroup/cpu/a", false, ""},
		{"hybrid: no cpu on v1", "5:memory:/\n0::/user.slice\n", v1Others + unified, "/sys/fs/cgroup/unified/user.slice", true, ""},
		{"escaped mount point", "1:cpu:/\n", `32 31 0:29 / /sys/fs/cgroup/cpu\040x rw - cgroup cgroup rw,cpu` + "\n", "/sys/fs/cgroup/cpu x", false, ""},
		{"no cpu controller", "5:memory:/\n", v1Others, "", false, "no CPU cgroup"},
		{"cpu hierarchy not mounted", "1:cpu:/\n", v1Others, "", false, "not mounted"},
		{"outside the mount's root", "4:cpu:/docker/abcdef\n",
			"40 31 0:30 /docker/abc /sys/fs/cgroup/cpu ro - cgroup cgroup rw,cpu\n", "", false, "outside its mount's root"},
		{"cpuset is not cpu", "3:cpuset:/\n", "34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n", "", false, "no CPU cgroup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, v2, err := cpuCgroupDir(tc.self, tc.mounts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %q, %v, %v; want an error containing %q", dir, v2, err, tc.err)
				}
				return
			}
			if err != nil || dir != tc.dir || v2 != tc.v2 {
				t.Errorf("got %q, v2 %v, %v; want %q, v2 %v", dir, v2, err, tc.dir, tc.v2)
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

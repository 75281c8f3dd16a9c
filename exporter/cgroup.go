package exporter

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// cpuCgroupDir returns the directory of this process's CPU cgroup, from
// the contents of /proc/self/cgroup and /proc/self/mountinfo: the cgroup
// v1 hierarchy that has the cpu controller, or else the v2 one. v2 also
// reports whether the cpu controller is on for the cgroup (listed in its
// cgroup.controllers, read later): a v2 cgroup without it is scheduled
// with its parent's.
func cpuCgroupDir(selfCgroup, mountinfo string) (dir string, v2 bool, err error) {
	var v1Path, v2Path string
	haveV1, haveV2 := false, false
	for _, line := range strings.Split(selfCgroup, "\n") {
		// hierarchy-ID:controller-list:cgroup-path
		id, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		controllers, p, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		switch {
		case id == "0" && controllers == "":
			v2Path, haveV2 = p, true
		case slices.Contains(strings.Split(controllers, ","), "cpu"):
			v1Path, haveV1 = p, true
		}
	}
	if !haveV1 && !haveV2 {
		return "", false, fmt.Errorf("no CPU cgroup in /proc/self/cgroup")
	}
	for _, line := range strings.Split(mountinfo, "\n") {
		// id parent major:minor root mount-point options [optional...] - type source super-options
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 {
			continue
		}
		root, mnt := unescapeMountinfo(f[3]), unescapeMountinfo(f[4])
		var p string
		switch {
		case haveV1 && g[0] == "cgroup" && slices.Contains(strings.Split(g[2], ","), "cpu"):
			p = v1Path
		case !haveV1 && haveV2 && g[0] == "cgroup2":
			p, v2 = v2Path, true
		default:
			continue
		}
		// The mount shows the hierarchy from root down: a container's
		// view may start at its own cgroup.
		if root != "/" {
			rel, ok := strings.CutPrefix(p, root)
			if !ok || (rel != "" && rel[0] != '/') {
				return "", false, fmt.Errorf("CPU cgroup %s is outside its mount's root %s", p, root)
			}
			p = rel
		}
		return path.Join(mnt, p), v2, nil
	}
	return "", false, fmt.Errorf("CPU cgroup hierarchy not mounted")
}

// unescapeMountinfo undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// aloneInCgroup checks the cgroup.procs of a CPU cgroup (one process id
// a line) and, for v2, its cgroup.controllers: the process is alone in a
// group the kernel schedules as one when the cgroup holds its own id only
// and, on v2, has the cpu controller.
func aloneInCgroup(procs, controllers string, v2 bool, pid int) (bool, string) {
	if v2 && !slices.Contains(strings.Fields(controllers), "cpu") {
		return false, "its cgroup has no cpu controller of its own"
	}
	others, found := 0, false
	for _, f := range strings.Fields(procs) {
		if f == strconv.Itoa(pid) {
			found = true
		} else {
			others++
		}
	}
	if !found {
		return false, "its process id is not in the cgroup it reads"
	}
	if others > 0 {
		return false, fmt.Sprintf("%d other processes share its CPU cgroup", others)
	}
	return true, "it is alone in its CPU cgroup"
}

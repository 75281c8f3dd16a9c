package exporter

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// CPUHierarchy is the hierarchy of the CPU controller and this process's
// cgroup in it.
type CPUHierarchy struct {
	// V2 is a cgroup v2 hierarchy.
	V2 bool
	// Mount is where the hierarchy is mounted, and Root the cgroup that
	// appears there (the fourth field of mountinfo): not the
	// hierarchy's root in a container that sees only its own part.
	Mount, Root string
	// Self is this process's cgroup, as /proc/self/cgroup names it.
	Self string
}

// FindCPUHierarchy finds the CPU controller's hierarchy in the contents
// of /proc/self/cgroup and /proc/self/mountinfo. A cgroup v1 hierarchy
// with the cpu controller comes first: on a hybrid system, where both
// versions are mounted, the cpu controller cannot be in the cgroup v2
// hierarchy as well.
func FindCPUHierarchy(procCgroup, mountinfo string) (CPUHierarchy, error) {
	var (
		v1Self, v2Self string
		hasV1, hasV2   bool
	)
	for line := range strings.Lines(procCgroup) {
		// hierarchy-ID:controller-list:cgroup-path (cgroups(7)); the
		// path may hold colons.
		f := strings.SplitN(strings.TrimRight(line, "\n"), ":", 3)
		if len(f) != 3 {
			continue
		}
		switch {
		case f[0] == "0" && f[1] == "":
			v2Self, hasV2 = f[2], true
		case slices.Contains(strings.Split(f[1], ","), "cpu"):
			v1Self, hasV1 = f[2], true
		}
	}
	var v2Mount *CPUHierarchy
	for line := range strings.Lines(mountinfo) {
		// ID parent major:minor root mount-point options [optional...] -
		// fstype source super-options (proc(5)).
		f := strings.Fields(line)
		sep := slices.Index(f, "-")
		if sep < 5 || len(f) < sep+4 {
			continue
		}
		root, mount := unescapeMountinfo(f[3]), unescapeMountinfo(f[4])
		switch f[sep+1] {
		case "cgroup":
			if hasV1 && slices.Contains(strings.Split(f[sep+3], ","), "cpu") {
				return CPUHierarchy{Mount: mount, Root: root, Self: v1Self}, nil
			}
		case "cgroup2":
			if hasV2 && v2Mount == nil {
				v2Mount = &CPUHierarchy{V2: true, Mount: mount, Root: root, Self: v2Self}
			}
		}
	}
	if v2Mount != nil {
		return *v2Mount, nil
	}
	return CPUHierarchy{}, errors.New("no CPU controller: neither a cgroup v1 hierarchy with cpu nor a cgroup2 one is mounted for this process (/proc/self/cgroup, /proc/self/mountinfo)")
}

// unescapeMountinfo undoes the octal escapes (\040 for a space) of a path
// in mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
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

// Dir is this process's cgroup directory under the mount, and whether
// the mount shows it: not when this process is outside the mount's root,
// or outside the root of its cgroup namespace.
func (h CPUHierarchy) Dir() (string, bool) {
	// A container without a cgroup namespace mounts its own cgroup,
	// which /proc/self/cgroup names in full.
	rel, ok := strings.CutPrefix(h.Self, strings.TrimSuffix(h.Root, "/"))
	if !ok || rel != "" && rel[0] != '/' {
		return "", false
	}
	rel = strings.TrimPrefix(rel, "/")
	if rel == "" {
		return h.Mount, true
	}
	if !filepath.IsLocal(rel) {
		return "", false
	}
	return filepath.Join(h.Mount, rel), true
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

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroup is a cgroup of the CPU controller made for the exporter, as a
// container runtime makes one for a container: the exporter's threads
// then share the CPU with the machine's other work as one group, and a
// refresh under SCHED_IDLE is weighed against the group's threads only,
// not against the machine's.
type cgroup struct {
	// dir is the cgroup's directory, made in parent.
	dir, parent string
	// enabled says that making the cgroup turned cgroup v2's cpu
	// controller on in the parent's cgroup.subtree_control: remove turns
	// it off again, to leave the hierarchy as it was.
	enabled bool
}

// cpuHierarchy is the hierarchy of the CPU controller and this process's
// cgroup in it.
type cpuHierarchy struct {
	v2 bool
	// mount is where the hierarchy is mounted, and root the cgroup that
	// appears there (the fourth field of mountinfo): not the
	// hierarchy's root in a container that sees only its own part.
	mount, root string
	// self is this process's cgroup, as /proc/self/cgroup names it.
	self string
}

// findCPUHierarchy finds the CPU controller's hierarchy in the contents
// of /proc/self/cgroup and /proc/self/mountinfo. A cgroup v1 hierarchy
// with the cpu controller comes first: on a hybrid system, where both
// versions are mounted, the cpu controller cannot be in the cgroup v2
// hierarchy as well.
func findCPUHierarchy(procCgroup, mountinfo string) (cpuHierarchy, error) {
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
	var v2Mount *cpuHierarchy
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
				return cpuHierarchy{mount: mount, root: root, self: v1Self}, nil
			}
		case "cgroup2":
			if hasV2 && v2Mount == nil {
				v2Mount = &cpuHierarchy{v2: true, mount: mount, root: root, self: v2Self}
			}
		}
	}
	if v2Mount != nil {
		return *v2Mount, nil
	}
	return cpuHierarchy{}, errors.New("no CPU controller: neither a cgroup v1 hierarchy with cpu nor a cgroup2 one is mounted for this process (/proc/self/cgroup, /proc/self/mountinfo)")
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

// parentDir returns the directory the new cgroup is made in: this
// process's cgroup under the hierarchy's mount point, or the mount point
// itself when that directory does not exist (exists says) or the mount
// does not show it, as when this process is outside the root of its
// cgroup namespace.
func (h cpuHierarchy) parentDir(exists func(string) bool) string {
	// A container without a cgroup namespace mounts its own cgroup,
	// which /proc/self/cgroup names in full.
	rel, ok := strings.CutPrefix(h.self, strings.TrimSuffix(h.root, "/"))
	if !ok || rel != "" && rel[0] != '/' {
		return h.mount
	}
	rel = strings.TrimPrefix(rel, "/")
	if rel == "" || !filepath.IsLocal(rel) {
		return h.mount
	}
	if dir := filepath.Join(h.mount, rel); exists(dir) {
		return dir
	}
	return h.mount
}

// hasWord reports whether the space-separated list s, such as
// cgroup.controllers, holds w.
func hasWord(s, w string) bool { return slices.Contains(strings.Fields(s), w) }

// newCgroup makes the cgroup name with the CPU controller under this
// process's cgroup.
func newCgroup(name string) (*cgroup, error) {
	procCgroup, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	h, err := findCPUHierarchy(string(procCgroup), string(mountinfo))
	if err != nil {
		return nil, err
	}
	parent := h.parentDir(func(dir string) bool {
		fi, err := os.Stat(dir)
		return err == nil && fi.IsDir()
	})
	c := &cgroup{dir: filepath.Join(parent, name), parent: parent}
	if h.v2 {
		if c.enabled, err = enableCPU(parent); err != nil {
			return nil, err
		}
	}
	if err := os.Mkdir(c.dir, 0o755); err != nil {
		return nil, errors.Join(fmt.Errorf("making the cgroup: %w", err), c.restore())
	}
	return c, nil
}

// enableCPU makes sure cgroup v2 gives the cpu controller to the
// children of parent, and reports whether it had to turn it on.
func enableCPU(parent string) (enabled bool, err error) {
	subtree := filepath.Join(parent, "cgroup.subtree_control")
	b, err := os.ReadFile(subtree)
	if err != nil {
		return false, err
	}
	if hasWord(string(b), "cpu") {
		return false, nil
	}
	if b, err := os.ReadFile(filepath.Join(parent, "cgroup.controllers")); err != nil {
		return false, err
	} else if !hasWord(string(b), "cpu") {
		return false, fmt.Errorf("cgroup v2: the cpu controller is not available in %s (cgroup.controllers: %q)", parent, strings.TrimSpace(string(b)))
	}
	if err := writeCgroupFile(subtree, "+cpu"); err != nil {
		// Typically EBUSY: the parent is this process's own cgroup,
		// which holds this process.
		return false, fmt.Errorf("cgroup v2: %s does not give the cpu controller to its children, and turning it on failed: %w "+
			"(only the root cgroup and cgroups that hold no process may give it)", subtree, err)
	}
	return true, nil
}

// writeCgroupFile writes s to a cgroup's file in one write, as the
// kernel reads it, without creating the file.
func writeCgroupFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s)
	return errors.Join(err, f.Close())
}

// path returns the cgroup's directory.
func (c *cgroup) path() string { return c.dir }

// add moves the process pid into the cgroup: writing a pid to
// cgroup.procs moves all of its threads.
func (c *cgroup) add(pid int) error {
	if err := writeCgroupFile(filepath.Join(c.dir, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("moving pid %d into the cgroup: %w", pid, err)
	}
	return nil
}

// remove removes the cgroup, which must hold no process: call it once
// those it held have been waited for.
func (c *cgroup) remove() error {
	var err error
	// rmdir may find the cgroup busy for a moment after its last task
	// was reaped; container runtimes (runc) retry it too.
	for i := range 50 {
		if err = syscall.Rmdir(c.dir); !errors.Is(err, syscall.EBUSY) {
			break
		}
		if i < 49 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err != nil {
		err = &os.PathError{Op: "rmdir", Path: c.dir, Err: err}
		if procs, rerr := os.ReadFile(filepath.Join(c.dir, "cgroup.procs")); rerr == nil && len(procs) > 0 {
			err = fmt.Errorf("%w: it still holds the processes %s", err, strings.Fields(string(procs)))
		}
		return fmt.Errorf("removing the cgroup: %w", err)
	}
	return c.restore()
}

// restore turns cgroup v2's cpu controller off in the parent again if
// newCgroup turned it on.
func (c *cgroup) restore() error {
	if !c.enabled {
		return nil
	}
	if err := writeCgroupFile(filepath.Join(c.parent, "cgroup.subtree_control"), "-cpu"); err != nil {
		return fmt.Errorf("turning the cpu controller off again in %s: %w", c.parent, err)
	}
	c.enabled = false
	return nil
}

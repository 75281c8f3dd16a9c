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

	"github.com/influencer-exporter/influencer_exporter/exporter"
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

// parentDir returns the directory the new cgroup is made in: this
// process's cgroup under the hierarchy's mount point, or the mount point
// itself when that directory does not exist (exists says) or the mount
// does not show it, as when this process is outside the root of its
// cgroup namespace.
func parentDir(h exporter.CPUHierarchy, exists func(string) bool) string {
	if dir, ok := h.Dir(); ok && exists(dir) {
		return dir
	}
	return h.Mount
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
	h, err := exporter.FindCPUHierarchy(string(procCgroup), string(mountinfo))
	if err != nil {
		return nil, err
	}
	parent := parentDir(h, func(dir string) bool {
		fi, err := os.Stat(dir)
		return err == nil && fi.IsDir()
	})
	c := &cgroup{dir: filepath.Join(parent, name), parent: parent}
	if h.V2 {
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

//go:build !linux

package main

import (
	"errors"
	"runtime"
)

// cgroup is Linux's: elsewhere newCgroup fails.
type cgroup struct{}

func newCgroup(string) (*cgroup, error) {
	return nil, errors.New("cgroups are Linux's: no CPU cgroup on " + runtime.GOOS)
}

func (*cgroup) path() string { return "" }

func (*cgroup) add(int) error { return errPlatform }

func (*cgroup) remove() error { return errPlatform }

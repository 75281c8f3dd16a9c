package main

import (
	"context"
	"fmt"
	"os/exec"
)

// startBusy starts n processes that each keep a CPU busy, at this
// process's priority and outside the exporter's cgroup: the other work of
// a machine whose CPUs are never free. They stop when ctx is done, when
// the returned stop is called, or when this process dies; stop waits
// for them to exit.
func startBusy(ctx context.Context, n int) (pids []int, stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	var cmds []*exec.Cmd
	stop = func() {
		cancel()
		for _, c := range cmds {
			_ = c.Wait()
		}
	}
	for i := range n {
		c := exec.CommandContext(ctx, "/bin/sh", "-c", "while :; do :; done")
		c.SysProcAttr = childAttr()
		if err := c.Start(); err != nil {
			stop()
			return nil, nil, fmt.Errorf("busy process %d of %d: %w", i+1, n, err)
		}
		cmds, pids = append(cmds, c), append(pids, c.Process.Pid)
	}
	return pids, stop, nil
}

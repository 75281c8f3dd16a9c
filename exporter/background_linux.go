package exporter

import (
	"fmt"

	"golang.org/x/sys/unix"
)

const canLowerThreadPriority = true

// lowerThreadPriority lowers the calling thread's priority to p. On Linux
// setpriority and sched_setattr with a thread id set that thread's only,
// and lowering one's own priority needs no privilege. A failure leaves the
// thread as it was.
func lowerThreadPriority(p RefreshPriority) error {
	tid := unix.Gettid()
	// The raw getpriority answers 20 - nice.
	raw, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if err != nil {
		return fmt.Errorf("getpriority: %w", err)
	}
	nice := 20 - raw
	if p.Idle {
		// The nice value is kept: asking for a lower one than the
		// thread's would need privilege. Under SCHED_IDLE it does not
		// weigh anyway.
		if err := unix.SchedSetAttr(tid, &unix.SchedAttr{Policy: unix.SCHED_IDLE, Nice: int32(nice)}, 0); err != nil {
			return fmt.Errorf("sched_setattr SCHED_IDLE: %w", err)
		}
		return nil
	}
	if err := unix.Setpriority(unix.PRIO_PROCESS, tid, min(nice+p.Nice, 19)); err != nil {
		return fmt.Errorf("setpriority: %w", err)
	}
	return nil
}

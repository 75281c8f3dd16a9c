package exporter

import "syscall"

const canLowerThreadPriority = true

// lowerThreadPriority raises the calling thread's nice value by n, to 19
// at most. On Linux setpriority with a thread id sets that thread's only;
// raising one's nice value needs no privilege. A failure leaves the
// thread as it was: the refresh runs anyway.
func lowerThreadPriority(n int) {
	tid := syscall.Gettid()
	// The raw getpriority answers 20 - nice.
	cur, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
	if err != nil {
		return
	}
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, min(20-cur+n, 19))
}

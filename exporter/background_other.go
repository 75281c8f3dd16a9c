//go:build !linux

package exporter

const canLowerThreadPriority = false

func lowerThreadPriority(RefreshPriority) error { return nil }

// AutoRefreshPriority leaves refreshes at the process's priority: there
// is none to lower them to here.
func AutoRefreshPriority(int) (RefreshPriority, string) {
	return RefreshPriority{}, "refresh priorities are set on Linux only"
}

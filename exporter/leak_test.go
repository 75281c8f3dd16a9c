package exporter

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is left running
// when they end: the scheduler, runner, online checks and rate limiters start goroutines and timers, and each must stop with what started it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

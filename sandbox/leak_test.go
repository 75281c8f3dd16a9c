package sandbox

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is left running
// when they end: the sandbox serves each fake from its own goroutine and breaks a link from a timer, and each must stop with what started it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

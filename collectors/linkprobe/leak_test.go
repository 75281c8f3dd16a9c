package linkprobe

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is left running
// when they end: a probe round starts a goroutine per link and per destination, and a timer for progress exports, and each must stop with what started it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

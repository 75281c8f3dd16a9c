package promprog

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is left running
// when they end: a build runs in its own goroutine while progress is reported, and each must stop with what started it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

package soak

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the soak if anything it started (the sandbox's servers,
// the scheduler, refreshes, scrapes) is still running once it ends.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

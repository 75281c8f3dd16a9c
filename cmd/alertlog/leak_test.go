package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is left running
// when they end: the receiver serves from its own goroutine, and each must stop with what started it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBusy: the busy processes run on a CPU until stopped, and are gone
// once stop returns.
func TestBusy(t *testing.T) {
	pids, stop, err := startBusy(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) != 2 {
		stop()
		t.Fatalf("%d processes started, want 2", len(pids))
	}
	// A busy process is running or ready to: state R.
	for _, pid := range pids {
		var state string
		for range 100 {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil {
				stop()
				t.Fatal(err)
			}
			// pid (comm) state ...
			if f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:])); len(f) > 0 {
				state = f[0]
			}
			if state == "R" {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if state != "R" {
			t.Errorf("busy process %d is in state %q, want R", pid, state)
		}
	}
	stop()
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("busy process %d: kill 0 after stop: %v, want ESRCH", pid, err)
		}
	}
}

package exportertest

import (
	"net"
	"sync"
	"testing"
)

var (
	freeMu sync.Mutex
	// handedOut are the addresses FreeAddr returned: the kernel may offer
	// a port again once its listener is closed, and servers a test runs
	// side by side (the sandbox's thirteen fakes, Prometheus,
	// Alertmanager) must never be given the same one twice.
	handedOut = map[string]bool{}
)

// FreeAddr returns a loopback address nothing listens on right now, and
// that no other call in this test process returned: for a server a test
// starts, or a closed port to connect to.
func FreeAddr(t testing.TB) string {
	t.Helper()
	freeMu.Lock()
	defer freeMu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		if !handedOut[addr] {
			handedOut[addr] = true
			return addr
		}
	}
	t.Fatal("no free loopback port not handed out before")
	return ""
}

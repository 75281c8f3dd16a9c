package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestProviderServesOnALoweredThread checks that the provider serves a
// connection on a thread lowered by its nice steps, once a connection,
// and that the thread ends with the connection: no other goroutine of
// this process runs lowered afterwards.
func TestProviderServesOnALoweredThread(t *testing.T) {
	own, err := threadNice(unix.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	const steps = 3
	want := min(own+steps, 19)
	prov := newProvider(1, 0, steps)
	if err := prov.prerender(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := prov.start(); err != nil {
		t.Fatal(err)
	}
	defer prov.close()

	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	for range 3 {
		req, err := http.NewRequest(http.MethodGet, prov.URL+listingPath+"?per_page=100", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+providerToken)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200", resp.StatusCode)
		}
	}
	if n, err := prov.loweredConns(); n != 1 || err != nil {
		t.Errorf("lowered %d connections (%v), want the one connection the three requests shared", n, err)
	}
	if want == own {
		t.Logf("this process runs at nice %d already: its threads cannot be told apart by priority", own)
		return
	}
	if got := threadsAt(t, want); got != 1 {
		t.Errorf("%d threads at nice %d while the connection is open, want the one serving it", got, want)
	}
	c.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for threadsAt(t, want) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("a thread at nice %d outlived the connection it served", want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n, err := threadNice(unix.Gettid()); err != nil || n != own {
		t.Errorf("the test's thread is at nice %d (%v), want %d as before", n, err, own)
	}
}

// threadsAt counts this process's threads at nice n.
func threadsAt(t *testing.T, n int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// A thread may end between the listing and the question.
		if nice, err := threadNice(tid); err == nil && nice == n {
			count++
		}
	}
	return count
}

// threadNice returns a thread's nice value.
func threadNice(tid int) (int, error) {
	// The raw getpriority answers 20 - nice.
	raw, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if err != nil {
		return 0, err
	}
	return 20 - raw, nil
}

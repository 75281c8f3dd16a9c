package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			t.Errorf("method %s, want GET", r.Method)
		}
		w.Write([]byte("Ready.\n"))
	})
	mux.HandleFunc("/-/starting", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "Not ready: no configuration\nloaded.", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/-/empty", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	mux.HandleFunc("/-/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/-/ready", http.StatusFound)
	})
	// Answers only once the test is over.
	stuck := make(chan struct{})
	mux.HandleFunc("/-/stuck", func(http.ResponseWriter, *http.Request) { <-stuck })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stuck) })

	// A loopback port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/-/ready"
	l.Close()

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"ready", []string{srv.URL + "/-/ready"}, 0, nil},
		{"not ready", []string{srv.URL + "/-/starting"}, 1, []string{"GET " + srv.URL + "/-/starting: 503 Service Unavailable: Not ready: no configuration loaded."}},
		{"error without body", []string{srv.URL + "/-/empty"}, 1, []string{"500 Internal Server Error\n"}},
		{"redirect", []string{srv.URL + "/-/moved"}, 1, []string{"302 Found"}},
		{"no answer in time", []string{"--timeout=50ms", srv.URL + "/-/stuck"}, 1, []string{"GET " + srv.URL + "/-/stuck: no answer within 50ms"}},
		{"nothing listens", []string{closed}, 1, []string{"GET " + closed + ": ", "connection refused"}},
		{"query not shown", []string{srv.URL + "/-/starting?token=s3cr3t"}, 1, []string{"GET " + srv.URL + "/-/starting: 503"}},
		{"not http", []string{"ftp://127.0.0.1/-/ready"}, 1, []string{`"ftp://127.0.0.1/-/ready" is not an http or https URL`}},
		{"no url", nil, 1, []string{"required argument 'url' not provided"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.code, stderr.String())
			}
			if tc.code == 0 && stderr.Len() > 0 {
				t.Errorf("healthy, yet stderr says %q", stderr.String())
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr %q lacks %q", stderr.String(), want)
				}
			}
			if strings.Contains(stderr.String(), "s3cr3t") {
				t.Errorf("stderr shows the URL's query: %q", stderr.String())
			}
			if n := strings.Count(stderr.String(), "\n"); n > 1 {
				t.Errorf("stderr has %d lines, want one reason line: %q", n, stderr.String())
			}
		})
	}
}

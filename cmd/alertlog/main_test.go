package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var listening = regexp.MustCompile(`msg="listening for Alertmanager notifications" address=(127\.0\.0\.1:\d+)`)

// TestRun runs the program as the container does, on a loopback port, and
// stops it as docker stop does.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	stdout := &syncBuffer{}
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"--web.listen-address=127.0.0.1:0"}, stdout, &stderr) }()

	var addr string
	deadline := time.Now().Add(time.Minute) // bounds a broken run only
	for addr == "" {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			addr = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("exited with %d before listening: %s%s", code, stdout.String(), stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("not listening; log:\n%s", stdout.String())
		}
	}

	if code, _, body := get(t, "http://"+addr+"/-/healthy"); code != http.StatusOK || body != "alertlog is Healthy.\n" {
		t.Errorf("/-/healthy: status %d, body %q", code, body)
	}
	resp, err := http.Post("http://"+addr+"/alerts", "application/json", bytes.NewReader(readTestdata(t, "firing.json")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST /alerts: status %d", resp.StatusCode)
	}
	if _, _, page := get(t, "http://"+addr+"/"); !strings.Contains(page, "  FIRING   critical InfluencerTrackingLinkBroken  campaign=spring-launch creator=chloe") {
		t.Errorf("page lacks the alert:\n%s", page)
	}

	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit code %d after the stop signal, want 0", code)
	}
	if !strings.Contains(stdout.String(), "msg=alert receiver=oncall-webhook status=firing alertname=InfluencerTrackingLinkBroken") {
		t.Errorf("stdout lacks the alert's line:\n%s", stdout.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
}

func TestRunBadFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--web.listen-adress=:9095"}, &stdout, &stderr); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "alertlog: unknown long flag '--web.listen-adress'") {
		t.Errorf("stderr %q", stderr.String())
	}
}

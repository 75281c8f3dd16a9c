package linkprobe

import (
	"strings"
	"testing"
)

// A transport error that quotes a header line whole must not carry the
// credentials of a URL in it to findings, /links or the log.
func TestScrubURLs(t *testing.T) {
	in := "net/http: HTTP/1.x transport connection broken: malformed MIME header line: \"Location: http://user:pass@shop.t\x00\x00p?access_token=s3cr3tV4lue&utm_source=alice\""
	got := scrubURLs(in)
	for _, secret := range []string{"pass", "s3cr3tV4lue", "user:"} {
		if strings.Contains(got, secret) {
			t.Errorf("scrubURLs kept %q: %q", secret, got)
		}
	}
	if !strings.Contains(got, "malformed MIME header line") {
		t.Errorf("scrubURLs lost the error itself: %q", got)
	}
	// A relative Location carries no URL for the scrubbing to find: the
	// line goes whole.
	in = "net/http: HTTP/1.x transport connection broken: malformed MIME header line: \"Location: &access_token=s3cr3tV4lue\\x00\""
	if got, want := scrubURLs(in), "net/http: HTTP/1.x transport connection broken: malformed MIME header line"; got != want {
		t.Errorf("scrubURLs = %q, want %q", got, want)
	}
	if got := scrubURLs(`dial tcp: lookup shop.example: no such host, see https://a:b@x.example/p?k=v`); got != `dial tcp: lookup shop.example: no such host, see https://x.example/p` {
		t.Errorf("scrubURLs = %q", got)
	}
}

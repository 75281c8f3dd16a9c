package exporter

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

func TestRedactSecrets(t *testing.T) {
	const (
		stripe = "sk_test_h3WRk9s0dLf02q-777"
		woo    = "ck_5a1b2c3d4e:cs_9f8e7d6c5b"
		odd    = "tok+en/with=chars&more"
	)
	secrets := []string{stripe, woo, odd}
	for _, c := range []struct{ in, want string }{
		{"Invalid API Key provided: " + stripe, "Invalid API Key provided: <secret>"},
		// Stripe's own mask: first and last characters around asterisks.
		{"Invalid API Key provided: sk_t******************-777", "Invalid API Key provided: <secret>"},
		{"Invalid API Key provided: sk_test_h3WR******-777.", "Invalid API Key provided: <secret>."},
		{"key ending in ••••f02q-777 was revoked", "key ending in <secret> was revoked"},
		{"key=sk_t**** rejected", "<secret> rejected"},
		{"consumer key ck_5a1b…", "consumer key <secret>"},
		{"GET /v1/x?key=" + url.QueryEscape(odd) + " failed", "GET /v1/x?key=<secret> failed"},
		{"path /" + url.PathEscape(odd) + "/y", "path /<secret>/y"},
		{"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(woo)), "Authorization: Basic <secret>"},
		{"consumer secret cs_9f8e7d6c5b is wrong", "consumer secret <secret> is wrong"},
		// Masks that show nothing of a secret, and text that only
		// looks masked, stay.
		{"Invalid API Key provided: ************", "Invalid API Key provided: ************"},
		{"order xxxx-1234 of box 0x7f failed", "order xxxx-1234 of box 0x7f failed"},
		{"rate limited... try again", "rate limited... try again"},
		{"sk_live_****", "sk_live_****"},
	} {
		if got := redactSecrets(c.in, secrets); got != c.want {
			t.Errorf("redactSecrets(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// Secrets shorter than 4 characters are never replaced.
	if got := redactSecrets("a b c", []string{"b"}); got != "a b c" {
		t.Errorf("a 1-character secret was replaced: %q", got)
	}
	// A client's own error path uses the same rules.
	c := NewClient(ClientOptions{Collector: "stripe", Token: stripe})
	if got := c.Redact("Invalid API Key provided: sk_t******-777"); strings.Contains(got, "-777") {
		t.Errorf("client Redact left a fragment: %q", got)
	}
}

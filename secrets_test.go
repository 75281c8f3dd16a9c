package main

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestSecretsInNoChannel runs the sandbox with one more Stripe collector
// whose key is wrong (Stripe answers a wrong key by echoing it, masked:
// its first and last characters around asterisks) and a reload of a file
// with a token that cannot be sent, then greps every output channel for
// every secret, whole, URL-encoded or base64, and for any masked fragment
// of one: the debug log, the landing page, /links (HTML and JSON),
// /metrics (text and OpenMetrics), --config.check, check --online, and
// the answers to reloads, good and bad.
func TestSecretsInNoChannel(t *testing.T) {
	const wrongKey = "sk_test_wR0ngKEYfromAnOldRotation9876"
	file := sandboxConfigWith(t, true)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	stripeURL := regexp.MustCompile(`(?m)^  - type: stripe\n    base_url: (\S+)`).FindStringSubmatch(text)
	if stripeURL == nil {
		t.Fatal("config.yaml has no stripe collector with a base_url")
	}
	extra := "  - type: stripe\n    name: stripe-old-key\n    base_url: " + stripeURL[1] + "\n    token: " + wrongKey + "\n    interval: 10s\n"
	text = strings.Replace(text, "  - type: instagram\n", extra+"  - type: instagram\n", 1)
	text = strings.Replace(text, "          - {collector: stripe, code: chloe}\n",
		"          - {collector: stripe, code: chloe}\n          - {collector: stripe-old-key, code: chloe}\n", 1)
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := append(sandboxSecrets(t), wrongKey)

	outputs := map[string]string{}
	_, out, errOut := runCheck(t, "--config.check", "--config.file="+file)
	outputs["--config.check"] = out + errOut

	p := startExporter(t, file)
	waitFor(t, "the wrong key to be refused", func() bool {
		_, page := p.get(t, "/")
		return strings.Contains(page, "stripe-old-key") && strings.Contains(page, "HTTP 401")
	})
	for _, path := range []string{"/", "/links", "/links?format=json", "/-/healthy", "/-/ready"} {
		_, body := p.get(t, path)
		outputs[path] = body
	}
	outputs["/metrics"], _ = p.scrape(t)
	req, _ := http.NewRequest(http.MethodGet, "http://"+p.addr+"/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0")
	outputs["/metrics OpenMetrics"] = readAll(t, req)

	reload := func(name string) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+"/-/reload", nil)
		outputs[name] = readAll(t, req)
	}
	reload("good reload")
	// A token with a line break cannot be sent in a header: the reload
	// fails, and says where without the token.
	bad := strings.Replace(text, "token: "+wrongKey+"\n", "token: \""+wrongKey+"\\nX-Injected: 1\"\n", 1)
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	reload("bad reload")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, out, errOut = runCheck(t, "check", "--online", "--collector=stripe-old-key", "--config.file="+file)
	outputs["check --online"] = out + errOut
	if !strings.Contains(outputs["check --online"], "stripe-old-key") {
		t.Errorf("check --online did not check the collector:\n%s", outputs["check --online"])
	}
	outputs["debug log"] = p.logs.String()
	if !strings.Contains(outputs["debug log"], "level=DEBUG") {
		t.Error("the log has no debug lines: the log channel was not checked at debug level")
	}

	for channel, body := range outputs {
		for _, s := range secrets {
			for _, form := range secretForms(s) {
				if strings.Contains(body, form) {
					t.Errorf("%s: shows a secret (%q)", channel, form)
				}
			}
			if m := maskedFragment(s).FindString(body); m != "" {
				t.Errorf("%s: shows a masked fragment of a secret: %q", channel, m)
			}
		}
	}
}

// secretForms are a secret and the encodings a provider or a transport
// may echo it in; for a key:secret pair, each part too.
func secretForms(s string) []string {
	forms := []string{s, url.QueryEscape(s), base64.StdEncoding.EncodeToString([]byte(s))}
	if k, v, ok := strings.Cut(s, ":"); ok && !strings.Contains(s, "\n") {
		forms = append(forms, k, v)
	}
	return forms
}

// maskedFragment matches 4 or more of a secret's first characters, or of
// its last, beside a mask (as Stripe echoes a key).
func maskedFragment(s string) *regexp.Regexp {
	const mask = `(?:[*•●…]{1,}|x{4,}|X{4,})`
	head, tail := regexp.QuoteMeta(s[:4]), regexp.QuoteMeta(s[len(s)-4:])
	return regexp.MustCompile(head + `[^\s"<]{0,12}` + mask + `|` + mask + `[^\s"<]{0,12}` + tail)
}

func readAll(t *testing.T, req *http.Request) string {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

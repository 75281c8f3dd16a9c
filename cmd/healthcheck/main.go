// Command healthcheck asks a service's health endpoint whether it is up, for
// container healthchecks in images that have no shell, curl or wget: the
// exporter's and alertlog's distroless images carry this binary for it.
//
//	healthcheck http://127.0.0.1:10194/-/ready
//
// It exits 0 when the endpoint answers 2xx within the timeout, and 1
// otherwise, with the reason on stderr, which Docker keeps in the
// container's health log (docker inspect). Exit code 2 means something else
// to Docker, so bad arguments exit 1 too.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

const program = "healthcheck"

// maxReason bounds how much of a failing answer's body the reason quotes.
const maxReason = 256

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := kingpin.New(program, "Exit 0 if an HTTP health endpoint answers 2xx, 1 otherwise.")
	timeout := app.Flag("timeout", "How long to wait for the answer; keep it below the healthcheck's own timeout, so the reason is logged.").
		Default("3s").Duration()
	target := app.Arg("url", "The health endpoint, for example http://127.0.0.1:10194/-/ready.").Required().String()
	app.HelpFlag.Short('h')
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	if _, err := app.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 1
	}
	if err := check(ctx, *target, *timeout); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 1
	}
	return 0
}

// check returns nil if target answers a GET with a 2xx status within
// timeout.
func check(ctx context.Context, target string, timeout time.Duration) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http or https URL", shown(u))
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	client := &http.Client{
		// The endpoint is the container's own: never through a proxy
		// the environment may name.
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		// A health endpoint that redirects is not the one meant.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("GET %s: no answer within %s", shown(u), timeout)
		}
		// The URL in a *url.Error would repeat the query.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("GET %s: %w", shown(u), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxReason))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		reason := oneLine(string(body))
		if reason == "" {
			return fmt.Errorf("GET %s: %s", shown(u), resp.Status)
		}
		return fmt.Errorf("GET %s: %s: %s", shown(u), resp.Status, reason)
	}
	return nil
}

// shown is u as messages may show it: without credentials or query.
func shown(u *url.URL) string {
	v := *u
	v.User = nil
	v.RawQuery = ""
	v.ForceQuery = false
	return v.String()
}

// oneLine keeps a body's text on one line, for the health log.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == '\n' || r == '\r' || r == '\t'
	}), " ")
}

package exporter

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/config"
)

// onlineFake is a collector whose online check returns a set report.
type onlineFake struct {
	report OnlineReport
	// wait, when set, holds the check until it is closed.
	wait  chan struct{}
	check func(context.Context) OnlineReport
}

func (*onlineFake) Poll(context.Context) ([]Sample, error) { return nil, nil }

func (f *onlineFake) CheckOnline(ctx context.Context) OnlineReport {
	if f.wait != nil {
		<-f.wait
	}
	if f.check != nil {
		return f.check(ctx)
	}
	return f.report
}

// noChecker is a collector without an online check.
type noChecker struct{}

func (noChecker) Poll(context.Context) ([]Sample, error) { return nil, nil }

func instance(name, typ, token string, c Collector) *Instance {
	return &Instance{Name: name, Type: typ, Config: &CollectorConfig{Name: name, Type: typ, Token: config.Secret(token)}, Collector: c}
}

func runOnline(t *testing.T, instances []*Instance, only string) (string, bool) {
	t.Helper()
	var b strings.Builder
	ok, err := RunOnline(context.Background(), &Config{}, instances, only, &b)
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), ok
}

// block returns the lines of the named collector's block in out.
func block(t *testing.T, out, name string) string {
	t.Helper()
	for _, b := range strings.Split(out, "\n\n") {
		if strings.HasPrefix(b, name+" (") {
			return b
		}
	}
	t.Fatalf("no block for %s in:\n%s", name, out)
	return ""
}

func TestRunOnlineFormat(t *testing.T) {
	now := time.Now()
	expires := now.Add(30*24*time.Hour + time.Hour)
	instances := []*Instance{
		instance("bitly", "bitly", "tok-good", &onlineFake{report: OnlineReport{
			Endpoint: "GET /v4/user", Reachable: true, Authenticated: true,
			Account: "user alice (default group Bg1)", Expires: expires,
			Notes: []string{"rate limit: 99 of 100 requests left in the current window"},
		}}),
		instance("shop", "shopify", "tok-shop", &onlineFake{report: OnlineReport{
			Endpoint: "GET /admin/oauth/access_scopes.json", Reachable: true, Authenticated: true,
			Account: "shop Demo (demo.myshopify.com)", Missing: []string{"read_orders", "read_all_orders"},
			Err: fmt.Errorf("shopify: the token lacks read_orders, read_all_orders"),
		}}),
		instance("stripe", "stripe", "tok-stripe", &onlineFake{report: OnlineReport{
			Endpoint: "GET /v1/account", Reachable: true, Authenticated: false,
			Err: fmt.Errorf("stripe: GET http://127.0.0.1/v1/account: HTTP 401: invalid_request_error: Invalid API Key provided"),
		}}),
		instance("down", "dub", "tok-dub", &onlineFake{report: OnlineReport{
			Endpoint: "GET /tokens", Err: fmt.Errorf("dub: GET http://127.0.0.1/tokens: connection refused"),
		}}),
		instance("linkprobe", "linkprobe", "", noChecker{}),
		instance("tiktok", "tiktok", "tok-tiktok", noChecker{}),
	}
	out, ok := runOnline(t, instances, "")
	if ok {
		t.Errorf("RunOnline = ok, want failed:\n%s", out)
	}

	for _, tc := range []struct {
		name string
		want []string
	}{
		{"bitly", []string{
			"bitly (bitly)\n",
			"  endpoint        GET /v4/user\n",
			"  reachable       yes\n",
			"  authenticated   yes\n",
			"  account         user alice (default group Bg1)\n",
			"  missing scopes  none\n",
			"  token expiry    " + expires.UTC().Format("2006-01-02 15:04 UTC") + " (in 30 d)\n",
			"  not found       none\n",
			"  note            rate limit: 99 of 100 requests left in the current window\n",
			"  result          OK",
		}},
		{"shop", []string{
			"shop (shopify)\n",
			"  account         shop Demo (demo.myshopify.com)\n",
			"  missing scopes  read_orders, read_all_orders\n",
			"  token expiry    not told by the provider\n",
			"  result          FAILED: shopify: the token lacks read_orders, read_all_orders",
		}},
		{"stripe", []string{
			"  reachable       yes\n",
			"  authenticated   no\n",
			"  account         -\n",
			"  result          FAILED: stripe: GET http://127.0.0.1/v1/account: HTTP 401: invalid_request_error: Invalid API Key provided",
		}},
		{"down", []string{
			"  reachable       no\n",
			"  authenticated   no\n",
			"  result          FAILED: dub: GET http://127.0.0.1/tokens: connection refused",
		}},
		{"linkprobe", []string{"linkprobe (linkprobe)\n  result          not checked: no credential to check"}},
		{"tiktok", []string{"tiktok (tiktok)\n  result          not checked: no online check for tiktok collectors yet"}},
	} {
		b := block(t, out, tc.name)
		for _, w := range tc.want {
			if !strings.Contains(b, w) {
				t.Errorf("%s: block lacks %q:\n%s", tc.name, w, b)
			}
		}
	}
	// Config order, and the summary last.
	last := -1
	for _, in := range instances {
		i := strings.Index(out, "\n"+in.Name+" (")
		if i < last {
			t.Errorf("%s is out of config order:\n%s", in.Name, out)
		}
		last = i
	}
	wantSummary := "Online check: 6 collectors, 1 OK, 3 FAILED (shop, stripe, down), 2 not checked.\n"
	if !strings.HasSuffix(out, wantSummary) {
		t.Errorf("summary: want suffix %q, got:\n%s", wantSummary, out)
	}
}

func TestRunOnlineAllOK(t *testing.T) {
	instances := []*Instance{
		instance("a", "fake", "tok-aaaa", &onlineFake{report: OnlineReport{Endpoint: "GET /me", Reachable: true, Authenticated: true}}),
		instance("linkprobe", "linkprobe", "", noChecker{}),
	}
	out, ok := runOnline(t, instances, "")
	if !ok {
		t.Errorf("RunOnline failed:\n%s", out)
	}
	if !strings.HasSuffix(out, "Online check: 2 collectors, 1 OK, 0 FAILED, 1 not checked.\n") {
		t.Errorf("summary:\n%s", out)
	}
}

// TestRunOnlineReportShowsFailureWithoutErr: a report showing a missing
// scope, an unknown object or a refused credential fails even if the
// checker forgot to set Err.
func TestRunOnlineReportShowsFailureWithoutErr(t *testing.T) {
	for _, tc := range []struct {
		name string
		rep  OnlineReport
		want string
	}{
		{"missing", OnlineReport{Reachable: true, Authenticated: true, Missing: []string{"read_orders"}}, "FAILED: the credential lacks read_orders"},
		{"notfound", OnlineReport{Reachable: true, Authenticated: true, NotFound: "code X (campaign c, creator a): no such code"}, "FAILED: not found: code X (campaign c, creator a): no such code"},
		{"refused", OnlineReport{Reachable: true}, "FAILED: the provider refused the credential"},
		{"unreachable", OnlineReport{}, "FAILED: the provider did not answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, ok := runOnline(t, []*Instance{instance("c", "fake", "tok-cccc", &onlineFake{report: tc.rep})}, "")
			if ok {
				t.Error("RunOnline = ok, want failed")
			}
			if !strings.Contains(out, "  result          "+tc.want+"\n") {
				t.Errorf("output lacks %q:\n%s", tc.want, out)
			}
		})
	}
}

func TestRunOnlineExpiry(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Time{}, "not told by the provider"},
		{now.Add(60 * 24 * time.Hour), "2027-02-01 12:00 UTC (in 60 d)"},
		{now.Add(3*24*time.Hour + 2*time.Hour), "2026-12-06 14:00 UTC (in 3 d 2 h: renew it now)"},
		{now.Add(-5 * 24 * time.Hour), "2026-11-28 12:00 UTC (expired 5 d ago)"},
	} {
		if got := expiry(now, tc.at); got != tc.want {
			t.Errorf("expiry(%v) = %q, want %q", tc.at, got, tc.want)
		}
	}
}

func TestRunOnlineOnly(t *testing.T) {
	instances := []*Instance{
		instance("a", "fake", "tok-aaaa", &onlineFake{report: OnlineReport{Reachable: true, Authenticated: true, Account: "account A"}}),
		instance("b", "fake", "tok-bbbb", &onlineFake{report: OnlineReport{Err: fmt.Errorf("b is down")}}),
	}
	out, ok := runOnline(t, instances, "a")
	if !ok {
		t.Errorf("--collector=a failed:\n%s", out)
	}
	if !strings.Contains(out, "\na (fake)\n") || strings.Contains(out, "\nb (fake)") {
		t.Errorf("--collector=a: want only a's block:\n%s", out)
	}
	if !strings.HasSuffix(out, "Online check: 1 collector, 1 OK, 0 FAILED.\n") {
		t.Errorf("summary:\n%s", out)
	}

	var b strings.Builder
	ok, err := RunOnline(context.Background(), &Config{}, instances, "c", &b)
	if err == nil || ok {
		t.Fatalf("unknown collector: ok %t, err %v", ok, err)
	}
	if want := `no collector named "c"; the configured collectors are: a, b`; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if b.Len() != 0 {
		t.Errorf("unknown collector: nothing should be written, got:\n%s", b.String())
	}
}

// TestRunOnlineOrder: blocks come in config order whatever order the
// checks end in.
func TestRunOnlineOrder(t *testing.T) {
	release := make(chan struct{})
	lastDone := make(chan struct{})
	first := &onlineFake{wait: release, report: OnlineReport{Reachable: true, Authenticated: true}}
	last := &onlineFake{check: func(context.Context) OnlineReport {
		defer close(lastDone)
		return OnlineReport{Reachable: true, Authenticated: true}
	}}
	go func() {
		<-lastDone
		close(release) // the first check ends only after the last
	}()
	out, ok := runOnline(t, []*Instance{
		instance("first", "fake", "tok-1111", first),
		instance("last", "fake", "tok-2222", last),
	}, "")
	if !ok {
		t.Errorf("failed:\n%s", out)
	}
	if i, j := strings.Index(out, "first (fake)"), strings.Index(out, "last (fake)"); i < 0 || j < i {
		t.Errorf("blocks out of config order:\n%s", out)
	}
}

func TestRunOnlinePanic(t *testing.T) {
	c := &onlineFake{check: func(context.Context) OnlineReport { panic("boom") }}
	out, ok := runOnline(t, []*Instance{instance("p", "fake", "tok-pppp", c)}, "")
	if ok || !strings.Contains(out, "FAILED: the check failed: boom") {
		t.Errorf("ok %t:\n%s", ok, out)
	}
}

// TestRunOnlineNoSecrets: a provider echoing the token in its error body,
// and a checker quoting it, leave no trace of it in the output.
func TestRunOnlineNoSecrets(t *testing.T) {
	const token = "ck_live_5ecret:cs_live_0ther5ecret"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		// Echoes the key, the secret and the Authorization header.
		fmt.Fprintf(w, `{"message":"bad key %s, secret cs_live_0ther5ecret, header %s"}`, token, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	client := NewClient(ClientOptions{Collector: "echo", Token: token})
	client.SetHooks(ClientHooks{
		Authorize: BearerAuth,
		ErrorMessage: func(_ int, body []byte) string {
			return string(body)
		},
	})
	api := &API{Base: srv.URL, Client: client}
	echo := &onlineFake{check: func(ctx context.Context) OnlineReport {
		var rep OnlineReport
		rep.Endpoint = OnlineEndpoint(api, "GET", "/me")
		_, err := api.Get(ctx, "/me", nil, &struct{}{})
		rep.Answer(err)
		return rep
	}}
	leaky := &onlineFake{report: OnlineReport{
		Reachable: true, Authenticated: true,
		Account: "key " + token,
		Notes:   []string{"secret part cs_live_0ther5ecret", "key part ck_live_5ecret"},
		Err:     fmt.Errorf("quoted %s", token),
	}}
	out, _ := runOnline(t, []*Instance{
		instance("echo", "fake", token, echo),
		instance("leaky", "fake", token, leaky),
	}, "")
	for _, s := range []string{token, "ck_live_5ecret", "cs_live_0ther5ecret"} {
		if strings.Contains(out, s) {
			t.Errorf("output carries %q:\n%s", s, out)
		}
	}
	if !strings.Contains(block(t, out, "echo"), "HTTP 401") {
		t.Errorf("echo: the provider's refusal is not shown:\n%s", out)
	}
}

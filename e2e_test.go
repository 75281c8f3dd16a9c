package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/internal/promprog"
)

// The link the end-to-end test breaks: jade's is the only one landing on
// /p/pencil-case, so breaking that page breaks exactly one link.
var e2eLink = struct{ campaign, creator, provider, link, path string }{
	"back-to-school", "jade", "shortio", "short.gy/jade-bts", "/p/pencil-case",
}

const e2eAlert = "InfluencerTrackingLinkBroken"

// TestEndToEnd proves the chain an on-call person relies on, with the
// shipped defaults: the exporter probes a tracking link (config.yaml's link
// probe sets no timing of its own, so its interval, timeout and confirmation
// delay are the defaults), a real Prometheus loads alerts/*.rules.yml and
// scrapes and evaluates at deploy/prometheus.yml's intervals, and a real
// Alertmanager running alerts/alertmanager.yml as shipped (its group_wait and
// group_interval untouched) notifies a webhook. It checks that a single
// failed probe never notifies, then measures break → notification and
// repair → resolved notification in the worst phase of the probe round: the
// link breaks, and is repaired, just after its probe.
func TestEndToEnd(t *testing.T) {
	prometheusBin := promprog.Prometheus.Path(t)
	alertmanagerBin := promprog.Alertmanager.Path(t)

	alertsDir, err := filepath.Abs("alerts")
	if err != nil {
		t.Fatal(err)
	}
	rules, _ := filepath.Glob(filepath.Join(alertsDir, "*.rules.yml"))
	if len(rules) == 0 {
		t.Fatalf("no rules files match %s", filepath.Join(alertsDir, "*.rules.yml"))
	}
	amConfig, err := os.ReadFile(filepath.Join(alertsDir, "alertmanager.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	// The receivers inside the test.
	hooks := &hookRecorder{}
	hookServer := httptest.NewServer(hooks)
	t.Cleanup(hookServer.Close)

	// The exporter, on the sandbox campaign with the shipped probe
	// defaults. Its scripted broken link is pushed out of the test's way:
	// the test breaks a link itself, once Prometheus has seen it healthy.
	cfgFile := sandboxConfigWith(t, false)
	cfg, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), "break_after: 1ms") {
		t.Fatal("the sandbox config has no break_after to push back")
	}
	cfg = []byte(strings.Replace(string(cfg), "break_after: 1ms", "break_after: 24h", 1))
	if err := os.WriteFile(cfgFile, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	assertProbeDefaults(t, cfg)
	exp := startExporter(t, cfgFile)

	// Alertmanager, on the example config with every receiver pointing at
	// the test; its timings are the shipped ones.
	amYAML := alertmanagerForTest(t, amConfig, alertsDir, hookServer.URL)
	amFile := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(amFile, amYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	amAddr := freeAddr(t)
	am := startProgram(t, "alertmanager", alertmanagerBin,
		"--config.file="+amFile,
		"--storage.path="+filepath.Join(dir, "alertmanager-data"),
		"--web.listen-address="+amAddr,
		"--cluster.listen-address=",
	)
	am.waitReady(t, "http://"+amAddr+"/-/ready")

	// Prometheus, on deploy/prometheus.yml with the addresses moved to the
	// test's.
	promYAML := prometheusForTest(t, filepath.Join(alertsDir, "*.rules.yml"), amAddr, exp.addr)
	prom, api := startPrometheus(t, prometheusBin, dir, promYAML)

	var ruleCount int
	prom.waitUntil(t, "Prometheus to load the "+e2eAlert+" rule", time.Minute, func() bool {
		var data struct {
			Groups []struct {
				Rules []struct {
					Name string `json:"name"`
					Type string `json:"type"`
				} `json:"rules"`
			} `json:"groups"`
		}
		if !api.get("/api/v1/rules", nil, &data) {
			return false
		}
		found := false
		ruleCount = 0
		for _, g := range data.Groups {
			for _, r := range g.Rules {
				ruleCount++
				found = found || (r.Type == "alerting" && r.Name == e2eAlert)
			}
		}
		return found
	})
	t.Logf("Prometheus loaded %d rules from %d files", ruleCount, len(rules))
	prom.waitUntil(t, "Prometheus to discover Alertmanager", time.Minute, func() bool {
		var data struct {
			Active []struct {
				URL string `json:"url"`
			} `json:"activeAlertmanagers"`
		}
		return api.get("/api/v1/alertmanagers", nil, &data) && len(data.Active) > 0
	})
	linkUp := fmt.Sprintf(`influencer_link_up{campaign=%q,creator=%q,provider=%q,link=%q}`,
		e2eLink.campaign, e2eLink.creator, e2eLink.provider, e2eLink.link)
	// The first round may start before the shorteners publish their
	// links; the next comes an interval later.
	prom.waitUntil(t, "Prometheus to see the link up", 4*time.Minute, func() bool {
		v, ok := api.value(linkUp)
		return ok && v == 1
	})
	upKey := linkUpKey(e2eLink.campaign, e2eLink.creator, e2eLink.provider, e2eLink.link)
	probedKey := fmt.Sprintf(`influencer_link_last_probe_timestamp_seconds{campaign=%q,creator=%q,link=%q,provider=%q}`,
		e2eLink.campaign, e2eLink.creator, e2eLink.link, e2eLink.provider)
	// nextProbe waits for the link's next completed probe, confirmation
	// included, and returns its time.
	nextProbe := func(after float64) float64 {
		t.Helper()
		var at float64
		prom.waitUntil(t, "the link's next probe", 4*time.Minute, func() bool {
			_, s := exp.scrape(t)
			at = s[probedKey]
			return at > after
		})
		return at
	}
	_, s := exp.scrape(t)
	last := s[probedKey]

	// One failed probe never notifies: the page's next request hangs
	// until the probe times out, and the probe's confirmation, 5 seconds
	// later, succeeds. The exporter must never export the link as down.
	last = nextProbe(last)
	exp.sb.Site.FailNext(e2eLink.path, 0, 1)
	flapped := last
	for last <= flapped || time.Since(time.Unix(0, int64(last*1e9))) < 2*15*time.Second {
		_, s := exp.scrape(t)
		if s[upKey] != 1 {
			t.Fatalf("one failed probe set %s to %g", upKey, s[upKey])
		}
		last = s[probedKey]
		time.Sleep(250 * time.Millisecond)
	}
	if v, ok := api.value("min_over_time(" + linkUp + "[5m])"); !ok || v != 1 {
		t.Errorf("Prometheus saw the link down after one failed probe: min_over_time = %g (%t)", v, ok)
	}
	// The sandbox's steering alerts (a stalled post, bot clicks) may
	// notify meanwhile, as designed; the flapping link may not.
	for _, a := range hooks.alerts() {
		if a.isE2ELink() {
			t.Fatalf("one failed probe notified: %v", a)
		}
	}
	t.Logf("one failed probe (a timeout): the link stayed up")

	// Break the link just after its probe: the worst phase.
	last = nextProbe(last)
	broken := time.Now()
	exp.sb.Site.Break(e2eLink.path)
	restored := false
	defer func() {
		if !restored {
			exp.sb.Site.Restore(e2eLink.path)
		}
	}()
	// The deadline only bounds a broken run.
	firing := waitNotification(t, prom, am, hooks, "firing", 10*time.Minute)
	toFire := time.Since(broken).Seconds()
	t.Logf("%s firing notification %.1fs after the break: %s", e2eAlert, toFire, firing)
	fmt.Printf("e2e: %s notification arrived %.1f seconds after the link broke just after its probe\n", e2eAlert, toFire)
	for _, name := range []string{"summary", "description", "runbook_url"} {
		t.Logf("  %s: %s", name, firing.Annotations[name])
	}

	// Repair it just after a probe confirmed it broken: the worst phase.
	_, s = exp.scrape(t)
	nextProbe(s[probedKey])
	repaired := time.Now()
	exp.sb.Site.Restore(e2eLink.path)
	restored = true
	resolved := waitNotification(t, prom, am, hooks, "resolved", 10*time.Minute)
	toResolve := time.Since(repaired).Seconds()
	t.Logf("%s resolved notification %.1fs after the repair: %s", e2eAlert, toResolve, resolved)
	fmt.Printf("e2e: %s resolved notification arrived %.1f seconds after the link was repaired just after its probe\n", e2eAlert, toResolve)
}

// assertProbeDefaults fails unless the config's link probe leaves every
// timing to the defaults, which the paging budget in docs/runbooks.md is
// worked out for.
func assertProbeDefaults(t *testing.T, cfg []byte) {
	t.Helper()
	var c struct {
		Collectors []map[string]any `yaml:"collectors"`
	}
	if err := yaml.Unmarshal(cfg, &c); err != nil {
		t.Fatal(err)
	}
	for _, col := range c.Collectors {
		if col["type"] != "linkprobe" {
			continue
		}
		if _, ok := col["interval"]; ok {
			t.Errorf("config.yaml's link probe sets interval %v: the end-to-end test measures the default", col["interval"])
		}
		opts, _ := col["options"].(map[string]any)
		for _, k := range []string{"timeout", "confirm_delay"} {
			if v, ok := opts[k]; ok {
				t.Errorf("config.yaml's link probe sets %s %v: the end-to-end test measures the default", k, v)
			}
		}
		return
	}
	t.Fatal("config.yaml has no linkprobe collector")
}

// prometheusForTest is deploy/prometheus.yml with its rule files, its
// Alertmanager and its scrape target moved to the test's; its intervals are
// the shipped ones.
func prometheusForTest(t *testing.T, rules, amAddr, exporterAddr string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("deploy", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("deploy/prometheus.yml: %v", err)
	}
	global, _ := cfg["global"].(map[string]any)
	if global["scrape_interval"] != "15s" || global["evaluation_interval"] != "15s" {
		t.Errorf("deploy/prometheus.yml: intervals %v/%v, but the paging budget is worked out for 15s/15s", global["scrape_interval"], global["evaluation_interval"])
	}
	cfg["rule_files"] = []string{rules}
	cfg["alerting"] = map[string]any{"alertmanagers": []any{map[string]any{"static_configs": []any{map[string]any{"targets": []string{amAddr}}}}}}
	scrapes, _ := cfg["scrape_configs"].([]any)
	if len(scrapes) != 1 {
		t.Fatalf("deploy/prometheus.yml: %d scrape configs, want the exporter's only", len(scrapes))
	}
	sc, _ := scrapes[0].(map[string]any)
	sc["static_configs"] = []any{map[string]any{"targets": []string{exporterAddr}}}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// waitNotification waits for a webhook notification of the broken-link
// alert for e2eLink in status ("firing" or "resolved").
func waitNotification(t *testing.T, prom, am *process, hooks *hookRecorder, status string, timeout time.Duration) webhookAlert {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, a := range hooks.alerts() {
			if a.Status == status && a.isE2ELink() {
				return a
			}
		}
		for _, p := range []*process{prom, am} {
			if p.hasExited() {
				t.Fatalf("%s exited while waiting for a %s notification", p.name, status)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s %s notification for %s within %s; the receivers got:\n%s", status, e2eAlert, e2eLink.link, timeout, hooks.dump())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// alertmanagerForTest rewrites the example Alertmanager config so every
// notification stays inside the test: webhook receivers post to
// base/webhook/<receiver>, Slack receivers to base/slack/<receiver>, and
// other integrations, which cannot be kept on loopback, are dropped.
// Everything else, the route's waits included, is the example's.
func alertmanagerForTest(t *testing.T, data []byte, alertsDir, base string) []byte {
	t.Helper()
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("alertmanager.yml: %v", err)
	}
	if global, ok := cfg["global"].(map[string]any); ok {
		delete(global, "slack_api_url")
		delete(global, "slack_api_url_file")
	}
	receivers, _ := cfg["receivers"].([]any)
	webhooks := 0
	for _, r := range receivers {
		r, _ := r.(map[string]any)
		name, _ := r["name"].(string)
		for key, v := range r {
			if !strings.HasSuffix(key, "_configs") {
				continue
			}
			configs, _ := v.([]any)
			switch key {
			case "webhook_configs":
				for _, c := range configs {
					c, _ := c.(map[string]any)
					if c["send_resolved"] == false {
						t.Errorf("alertmanager.yml: receiver %q: its webhook sets send_resolved: false, so repairs are never notified", name)
					}
					delete(c, "url_file")
					c["url"] = base + "/webhook/" + url.PathEscape(name)
					webhooks++
				}
			case "slack_configs":
				for _, c := range configs {
					c, _ := c.(map[string]any)
					delete(c, "api_url_file")
					c["api_url"] = base + "/slack/" + url.PathEscape(name)
				}
			default:
				t.Logf("alertmanager.yml: receiver %q: dropping %s, which would leave the machine", name, key)
				delete(r, key)
			}
		}
	}
	if webhooks == 0 {
		t.Fatal("alertmanager.yml has no webhook receiver")
	}
	if _, ok := cfg["route"].(map[string]any); !ok {
		t.Fatal("alertmanager.yml has no route")
	}
	// Template paths are relative to the config file, which moves.
	if templates, ok := cfg["templates"].([]any); ok {
		for i, tmpl := range templates {
			if s, ok := tmpl.(string); ok && !filepath.IsAbs(s) {
				templates[i] = filepath.Join(alertsDir, s)
			}
		}
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// webhookAlert is one alert of an Alertmanager webhook notification.
type webhookAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
}

// isE2ELink reports whether a is the broken-link alert of e2eLink.
func (a webhookAlert) isE2ELink() bool {
	l := a.Labels
	return l["alertname"] == e2eAlert && l["campaign"] == e2eLink.campaign && l["creator"] == e2eLink.creator &&
		l["link"] == e2eLink.link && l["provider"] == e2eLink.provider
}

func (a webhookAlert) String() string {
	return fmt.Sprintf("%s %v", a.Status, a.Labels)
}

// hookRecorder records what Alertmanager posts to the test's receivers.
type hookRecorder struct {
	mu       sync.Mutex
	webhooks []webhookAlert
	log      []string
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = append(h.log, fmt.Sprintf("%s %s %s", time.Now().Format(time.TimeOnly), r.URL.Path, body))
	if strings.HasPrefix(r.URL.Path, "/webhook/") {
		var n struct {
			Alerts []webhookAlert `json:"alerts"`
		}
		if err := json.Unmarshal(body, &n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.webhooks = append(h.webhooks, n.Alerts...)
	}
}

func (h *hookRecorder) alerts() []webhookAlert {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]webhookAlert(nil), h.webhooks...)
}

func (h *hookRecorder) dump() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.log) == 0 {
		return "(nothing)"
	}
	return strings.Join(h.log, "\n")
}

// process is a Prometheus or Alertmanager process the test runs.
type process struct {
	name   string
	cmd    *exec.Cmd
	logs   *exportertest.SyncBuffer
	exited chan struct{}
	err    error
}

// startProgram runs bin and stops it when the test ends. Its log is shown
// only if the test fails.
// startPrometheus writes cfg to dir, starts the Prometheus binary bin on a
// free loopback port with its data under dir, and waits until it is ready.
func startPrometheus(t *testing.T, bin, dir string, cfg []byte) (*process, *promAPI) {
	t.Helper()
	promFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promFile, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	promAddr := freeAddr(t)
	prom := startProgram(t, "prometheus", bin,
		"--config.file="+promFile,
		"--storage.tsdb.path="+filepath.Join(dir, "prometheus-data"),
		"--web.listen-address="+promAddr,
	)
	prom.waitReady(t, "http://"+promAddr+"/-/ready")
	return prom, &promAPI{base: "http://" + promAddr}
}

func startProgram(t *testing.T, name, bin string, args ...string) *process {
	t.Helper()
	p := &process{name: name, cmd: exec.Command(bin, args...), logs: &exportertest.SyncBuffer{}, exited: make(chan struct{})}
	p.cmd.Stdout = p.logs
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		if !p.hasExited() {
			_ = p.cmd.Process.Signal(os.Interrupt)
			select {
			case <-p.exited:
			case <-time.After(15 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.exited
			}
		}
		if t.Failed() {
			t.Logf("%s log (%v):\n%s", name, p.err, p.logs.String())
		}
	})
	return p
}

func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// waitUntil polls cond until it holds, failing if the program exits or the
// timeout, which only bounds a broken run, passes.
func (p *process) waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if p.hasExited() {
			t.Fatalf("%s exited (%v) while waiting for %s", p.name, p.err, what)
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (p *process) waitReady(t *testing.T, readyURL string) {
	t.Helper()
	p.waitUntil(t, p.name+" to be ready", time.Minute, func() bool {
		resp, err := http.Get(readyURL)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// promAPI queries Prometheus' HTTP API.
type promAPI struct{ base string }

// get decodes the data of a successful API answer into data.
func (a *promAPI) get(path string, query url.Values, data any) bool {
	u := a.base + path
	if query != nil {
		u += "?" + query.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var r struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		return false
	}
	return json.Unmarshal(r.Data, data) == nil
}

// value returns the value of an instant query that selects one series.
func (a *promAPI) value(query string) (float64, bool) {
	var data struct {
		Result []struct {
			Value [2]any `json:"value"`
		} `json:"result"`
	}
	if !a.get("/api/v1/query", url.Values{"query": {query}}, &data) || len(data.Result) != 1 {
		return 0, false
	}
	s, _ := data.Result[0].Value[1].(string)
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil {
		return 0, false
	}
	return v, true
}

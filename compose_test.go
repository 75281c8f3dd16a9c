package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/internal/promprog"
)

// These tests check what docker-compose.yml wires without a Docker engine:
// healthchecks that run a program their image has, ports on loopback by
// default, no host time zone files, and Alertmanager's receivers pointing
// at alertlog. TestComposeLive then runs the programs the stack runs that
// exist here, and asks each the healthcheck's question.

// composeProject is the part of docker-compose.yml these tests read.
type composeProject struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string                       `yaml:"image"`
	Build       *composeBuild                `yaml:"build"`
	Command     []string                     `yaml:"command"`
	Ports       []string                     `yaml:"ports"`
	Volumes     []string                     `yaml:"volumes"`
	Healthcheck *composeHealthcheck          `yaml:"healthcheck"`
	DependsOn   map[string]composeDependency `yaml:"depends_on"`
}

// composeBuild is a service's build, in either of its forms: a context
// directory, or a mapping.
type composeBuild struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
	Target     string `yaml:"target"`
}

func (b *composeBuild) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		b.Context = n.Value
		return nil
	}
	type plain composeBuild
	return n.Decode((*plain)(b))
}

type composeHealthcheck struct {
	Test        []string `yaml:"test"`
	Interval    string   `yaml:"interval"`
	Timeout     string   `yaml:"timeout"`
	Retries     int      `yaml:"retries"`
	StartPeriod string   `yaml:"start_period"`
}

type composeDependency struct {
	Condition string `yaml:"condition"`
}

// composeImagePrograms are the programs of the pinned upstream images that
// a healthcheck may run. prom/prometheus and prom/alertmanager are built on
// quay.io/prometheus/busybox, whose busybox has wget; Grafana's Dockerfile
// installs curl on its Alpine and Ubuntu variants alike (busybox wget is on
// Alpine only).
var composeImagePrograms = map[string][]string{
	"prom/prometheus":   {"wget"},
	"prom/alertmanager": {"wget"},
	"grafana/grafana":   {"curl"},
}

func loadCompose(t *testing.T) composeProject {
	t.Helper()
	var c composeProject
	data, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	if len(c.Services) == 0 {
		t.Fatal("docker-compose.yml has no services")
	}
	return c
}

// composeInterpolate expands ${VAR}, ${VAR:-default} and ${VAR-default}
// as Compose does, with env as the environment.
func composeInterpolate(t *testing.T, s string, env map[string]string) string {
	t.Helper()
	variable := regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}`)
	out := variable.ReplaceAllStringFunc(s, func(m string) string {
		g := variable.FindStringSubmatch(m)
		v, set := env[g[1]]
		switch {
		case g[2] == ":-" && v == "", g[2] == "-" && !set:
			return g[3]
		}
		return v
	})
	if strings.Contains(out, "$") {
		t.Errorf("%q: interpolation this test does not read", s)
	}
	return out
}

// composePort is a published port: host address, host port, container port.
type composePort struct{ address, host, container string }

func composePorts(t *testing.T, service string, s composeService, env map[string]string) []composePort {
	t.Helper()
	var out []composePort
	for _, p := range s.Ports {
		parts := strings.Split(composeInterpolate(t, p, env), ":")
		if len(parts) != 3 {
			t.Errorf("service %s: port %q: want address:host port:container port; without the address Docker publishes on every interface", service, p)
			continue
		}
		out = append(out, composePort{parts[0], parts[1], parts[2]})
	}
	return out
}

// TestComposePortsOnLoopback checks that every published port binds
// 127.0.0.1 unless BIND_ADDRESS says otherwise, as the file's header
// tells.
func TestComposePortsOnLoopback(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		if len(s.Ports) == 0 {
			t.Errorf("service %s publishes no port", name)
		}
		ports := composePorts(t, name, s, nil)
		for _, p := range ports {
			if p.address != "127.0.0.1" {
				t.Errorf("service %s: port %s:%s is published on %q by default, want 127.0.0.1", name, p.host, p.container, p.address)
			}
		}
		if len(ports) < len(s.Ports) {
			continue
		}
		for _, p := range composePorts(t, name, s, map[string]string{"BIND_ADDRESS": "0.0.0.0"}) {
			if p.address != "0.0.0.0" {
				t.Errorf("service %s: port %s:%s is published on %q with BIND_ADDRESS=0.0.0.0", name, p.host, p.container, p.address)
			}
		}
	}
	data, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "#   BIND_ADDRESS=0.0.0.0 docker compose up") {
		t.Error("docker-compose.yml's header does not tell how to publish on every interface (BIND_ADDRESS=0.0.0.0)")
	}
}

// TestComposeMountsArePortable checks that the stack mounts only files of
// this repository: no host time zone files (the Alertmanager image brings
// its own database), nothing outside the repository, which Docker Desktop
// may not share.
func TestComposeMountsArePortable(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			src, dst := parts[0], ""
			if len(parts) > 1 {
				dst = parts[1]
			}
			hostTZ := func(p string) bool {
				for _, tz := range []string{"/usr/share/zoneinfo", "/etc/localtime", "/etc/timezone"} {
					if p == tz || strings.HasPrefix(p, tz+"/") {
						return true
					}
				}
				return false
			}
			if hostTZ(src) || hostTZ(dst) {
				t.Errorf("service %s mounts %q: the host's time zone files", name, v)
			}
			if strings.HasPrefix(src, "/") || strings.HasPrefix(src, "~") || strings.HasPrefix(src, "..") {
				t.Errorf("service %s mounts %q, outside the repository", name, v)
			}
		}
	}
}

// TestComposeDependsOn checks the start order: what a service waits for
// exists, and waiting for healthy means a healthcheck to wait for.
func TestComposeDependsOn(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		for dep, d := range s.DependsOn {
			target, ok := c.Services[dep]
			if !ok {
				t.Errorf("service %s depends on %s, which is not a service", name, dep)
				continue
			}
			switch d.Condition {
			case "service_healthy":
				if target.Healthcheck == nil {
					t.Errorf("service %s waits for %s to be healthy, which has no healthcheck", name, dep)
				}
			case "service_started":
			default:
				t.Errorf("service %s depends on %s with condition %q", name, dep, d.Condition)
			}
		}
	}
	for _, want := range []struct{ service, dep, condition string }{
		{"alertmanager", "alertlog", "service_healthy"},
		{"prometheus", "alertmanager", "service_healthy"},
		{"grafana", "prometheus", "service_healthy"},
		// Prometheus must run to tell that the exporter is down.
		{"prometheus", "exporter", "service_started"},
	} {
		if got := c.Services[want.service].DependsOn[want.dep].Condition; got != want.condition {
			t.Errorf("service %s depends on %s with condition %q, want %s", want.service, want.dep, got, want.condition)
		}
	}
}

// TestComposeHealthchecks checks every service's healthcheck: exec form (the
// exporter's and alertlog's images have no shell), a program the image has,
// and a loopback URL on a port the service listens on.
func TestComposeHealthchecks(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		t.Run(name, func(t *testing.T) {
			h := s.Healthcheck
			if h == nil {
				t.Fatal("no healthcheck")
			}
			if len(h.Test) < 2 || h.Test[0] != "CMD" {
				t.Fatalf("healthcheck test %q: want exec form, [\"CMD\", program, args...]", h.Test)
			}
			interval, err1 := time.ParseDuration(h.Interval)
			timeout, err2 := time.ParseDuration(h.Timeout)
			if err1 != nil || err2 != nil || timeout >= interval || h.Retries < 1 {
				t.Errorf("healthcheck interval %q, timeout %q, retries %d: want a timeout below the interval and retries", h.Interval, h.Timeout, h.Retries)
			}
			if _, err := time.ParseDuration(h.StartPeriod); err != nil {
				t.Errorf("healthcheck start_period %q: %v", h.StartPeriod, err)
			}

			programs := composeServicePrograms(t, name, s)
			if !slices.Contains(programs, h.Test[1]) {
				t.Errorf("healthcheck runs %s; the image has %v", h.Test[1], programs)
			}

			u := composeHealthURL(t, h)
			if u == nil {
				return
			}
			if u.Hostname() != "127.0.0.1" {
				t.Errorf("healthcheck asks %s: want the container's own 127.0.0.1", u)
			}
			var listens []string
			for _, p := range composePorts(t, name, s, nil) {
				listens = append(listens, p.container)
			}
			if !slices.Contains(listens, u.Port()) {
				t.Errorf("healthcheck asks port %s; the service listens on %v", u.Port(), listens)
			}
		})
	}
}

// composeHealthURL is the one http URL a healthcheck's command asks.
func composeHealthURL(t *testing.T, h *composeHealthcheck) *url.URL {
	t.Helper()
	var urls []*url.URL
	for _, a := range h.Test[2:] {
		if strings.HasPrefix(a, "http://") {
			u, err := url.Parse(a)
			if err != nil {
				t.Errorf("healthcheck %q: %v", a, err)
				continue
			}
			urls = append(urls, u)
		}
	}
	if len(urls) != 1 {
		t.Errorf("healthcheck %q: want one http URL, found %d", h.Test, len(urls))
		return nil
	}
	return urls[0]
}

// composeServicePrograms returns the programs a healthcheck can run in a
// service's image: the base image's known ones, and for an image built
// here, the files its Dockerfile copies from a `go build` of ./cmd/<name>.
func composeServicePrograms(t *testing.T, name string, s composeService) []string {
	t.Helper()
	if s.Build == nil {
		return composeImagePrograms[imageRepo(s.Image)]
	}
	file := composeDockerfile(s.Build)
	stages := parseDockerfile(t, file)
	final := stages[len(stages)-1]
	if s.Build.Target != "" {
		i := slices.IndexFunc(stages, func(st dockerStage) bool { return st.name == s.Build.Target })
		if i < 0 {
			t.Fatalf("%s has no stage %s", file, s.Build.Target)
		}
		final = stages[i]
	}
	programs := slices.Clone(composeImagePrograms[imageRepo(final.from)])
	for _, in := range final.instructions {
		if in.cmd != "COPY" {
			continue
		}
		f := strings.Fields(in.args)
		from := ""
		if len(f) == 3 && strings.HasPrefix(f[0], "--from=") {
			from = strings.TrimPrefix(f[0], "--from=")
			f = f[1:]
		}
		if from == "" || len(f) != 2 {
			continue
		}
		src, dst := f[0], f[1]
		if !goBuilds(stages, from, src) {
			continue
		}
		programs = append(programs, dst)
	}
	return programs
}

// goBuilds reports whether a stage of a Dockerfile builds file with go
// build from ./cmd/<its name>: `-o file` or `-o dir/` with the package.
func goBuilds(stages []dockerStage, stage, file string) bool {
	for _, st := range stages {
		if st.name != stage {
			continue
		}
		for _, in := range st.instructions {
			if in.cmd != "RUN" || !strings.Contains(in.args, "go build") {
				continue
			}
			f := strings.Fields(in.args)
			o := slices.Index(f, "-o")
			if o < 0 || o+1 == len(f) {
				continue
			}
			out, pkg := f[o+1], "./cmd/"+path.Base(file)
			if slices.Contains(f, pkg) && (out == file || out == path.Dir(file)+"/") {
				return true
			}
		}
	}
	return false
}

func composeDockerfile(b *composeBuild) string {
	dockerfile := b.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	return filepath.Join(filepath.FromSlash(b.Context), filepath.FromSlash(dockerfile))
}

// imageRepo is an image reference without its tag or digest.
func imageRepo(image string) string {
	image, _, _ = strings.Cut(image, "@")
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	return image
}

type dockerStage struct {
	from, name   string
	instructions []dockerInstruction
}

type dockerInstruction struct{ cmd, args string }

// parseDockerfile reads a Dockerfile's stages: its instructions, with
// continued lines joined and comments dropped.
func parseDockerfile(t *testing.T, file string) []dockerStage {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var stages []dockerStage
	var line string
	for _, l := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
			line += cont + " "
			continue
		}
		line += trimmed
		f := strings.Fields(line)
		line = ""
		if len(f) == 0 {
			continue
		}
		in := dockerInstruction{strings.ToUpper(f[0]), strings.Join(f[1:], " ")}
		if in.cmd == "FROM" {
			st := dockerStage{from: f[1]}
			if len(f) == 4 && strings.EqualFold(f[2], "AS") {
				st.name = f[3]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			continue // ARG before FROM
		}
		stages[len(stages)-1].instructions = append(stages[len(stages)-1].instructions, in)
	}
	if len(stages) == 0 {
		t.Fatalf("%s has no FROM", file)
	}
	return stages
}

// composeAlertmanagerConfig returns the host file the alertmanager service
// runs as its configuration.
func composeAlertmanagerConfig(t *testing.T, c composeProject) string {
	t.Helper()
	s := c.Services["alertmanager"]
	var configFile string
	for _, a := range s.Command {
		if v, ok := strings.CutPrefix(a, "--config.file="); ok {
			configFile = v
		}
	}
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == configFile {
			return filepath.Clean(filepath.FromSlash(parts[0]))
		}
	}
	t.Fatalf("alertmanager: --config.file=%q is not a file mounted from the repository", configFile)
	return ""
}

// alertmanagerYAML is the part of an Alertmanager configuration these tests
// read.
type alertmanagerYAML struct {
	TimeIntervals []struct {
		Name          string `yaml:"name"`
		TimeIntervals []struct {
			Location string `yaml:"location"`
		} `yaml:"time_intervals"`
	} `yaml:"time_intervals"`
	Receivers []map[string]any `yaml:"receivers"`
}

// TestComposeAlertsGoToAlertlog checks that every receiver of the stack's
// Alertmanager posts to the alertlog service, at the address alertlog
// listens on, with resolutions, and nothing else: no integration that
// needs an account or a secret.
func TestComposeAlertsGoToAlertlog(t *testing.T) {
	c := loadCompose(t)
	file := composeAlertmanagerConfig(t, c)
	if file != filepath.Join("deploy", "alertmanager.yml") {
		t.Errorf("alertmanager runs %s, want deploy/alertmanager.yml", file)
	}
	var cfg alertmanagerYAML
	exportertest.ReadYAML(t, file, &cfg)

	alertlog, ok := c.Services["alertlog"]
	if !ok || alertlog.Build == nil {
		t.Fatal("no alertlog service built from this repository")
	}
	var listen string
	for _, a := range alertlog.Command {
		if v, ok := strings.CutPrefix(a, "--web.listen-address="); ok {
			listen = v
		}
	}
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		t.Fatalf("alertlog: --web.listen-address=%q: %v", listen, err)
	}
	published := false
	for _, p := range composePorts(t, "alertlog", alertlog, nil) {
		published = published || p.container == port
	}
	if !published {
		t.Errorf("alertlog listens on %s, which it does not publish: its page would be out of reach", port)
	}
	alertlogStages := parseDockerfile(t, composeDockerfile(alertlog.Build))
	for _, in := range alertlogStages[len(alertlogStages)-1].instructions {
		if in.cmd == "EXPOSE" && in.args != port {
			t.Errorf("%s exposes %s, alertlog listens on %s", composeDockerfile(alertlog.Build), in.args, port)
		}
	}

	if len(cfg.Receivers) == 0 {
		t.Fatal("no receivers")
	}
	for _, r := range cfg.Receivers {
		name := r["name"]
		hooks, _ := r["webhook_configs"].([]any)
		if len(hooks) == 0 {
			t.Errorf("receiver %v has no webhook to alertlog", name)
		}
		for key := range r {
			if key != "name" && key != "webhook_configs" {
				t.Errorf("receiver %v: %s cannot deliver without an account; the stack sends everything to alertlog", name, key)
			}
		}
		for _, h := range hooks {
			h, _ := h.(map[string]any)
			raw, _ := h["url"].(string)
			u, err := url.Parse(raw)
			if err != nil {
				t.Errorf("receiver %v: %v", name, err)
				continue
			}
			// /alerts is the path alertlog serves, which TestComposeLive
			// posts a notification to.
			if u.Scheme != "http" || u.Hostname() != "alertlog" || u.Port() != port || u.Path != "/alerts" {
				t.Errorf("receiver %v posts to %s, want http://alertlog:%s/alerts", name, raw, port)
			}
			if h["send_resolved"] != true {
				t.Errorf("receiver %v does not send resolved notifications", name)
			}
		}
	}

	bin := promprog.Amtool.Path(t)
	if out, err := exec.Command(bin, "check-config", file).CombinedOutput(); err != nil {
		t.Errorf("amtool check-config %s: %v\n%s", file, err, out)
	}
}

// TestComposeAlertmanagerMatchesExample checks that the stack's
// Alertmanager routes, waits, mutes and inhibits as alerts/alertmanager.yml
// does: only the receivers' integrations (and the Slack templates they no
// longer use) differ.
func TestComposeAlertmanagerMatchesExample(t *testing.T) {
	var example, stack map[string]any
	exportertest.ReadYAML(t, filepath.Join("alerts", "alertmanager.yml"), &example)
	exportertest.ReadYAML(t, filepath.Join("deploy", "alertmanager.yml"), &stack)
	names := func(cfg map[string]any) []any {
		var out []any
		receivers, _ := cfg["receivers"].([]any)
		for _, r := range receivers {
			r, _ := r.(map[string]any)
			out = append(out, r["name"])
		}
		return out
	}
	if a, b := names(example), names(stack); !reflect.DeepEqual(a, b) {
		t.Errorf("receivers %v, alerts/alertmanager.yml has %v: keep the names, so the routes are the same", b, a)
	}
	for _, cfg := range []map[string]any{example, stack} {
		delete(cfg, "receivers")
		delete(cfg, "templates")
	}
	for key := range example {
		if !reflect.DeepEqual(example[key], stack[key]) {
			t.Errorf("deploy/alertmanager.yml: %s differs from alerts/alertmanager.yml's; change both together", key)
		}
	}
	for key := range stack {
		if _, ok := example[key]; !ok {
			t.Errorf("deploy/alertmanager.yml: %s is not in alerts/alertmanager.yml", key)
		}
	}
}

// TestDockerAlertmanagerTimeZones checks how the stack's Alertmanager gets
// the time zone database its time intervals' locations need, without a
// host mount: its image is the pinned Alertmanager with Go's zoneinfo.zip,
// taken from the Go image the exporter is built with, and ZONEINFO names
// it. The zip of the Go installed here must hold every location.
func TestDockerAlertmanagerTimeZones(t *testing.T) {
	c := loadCompose(t)
	am := c.Services["alertmanager"]
	if am.Build == nil {
		t.Fatal("alertmanager is not built here: the upstream image has no time zone database")
	}
	file := composeDockerfile(am.Build)
	stages := parseDockerfile(t, file)
	final := stages[len(stages)-1]
	if want := "prom/alertmanager:" + promprog.AlertmanagerVersion; final.from != want {
		t.Errorf("%s: FROM %s, want %s, the release amtool checks the configuration with", file, final.from, want)
	}
	exporterGo := parseDockerfile(t, "Dockerfile")[0].from
	var copied, zoneinfo string
	for _, in := range final.instructions {
		f := strings.Fields(in.args)
		switch {
		case in.cmd == "COPY" && len(f) == 3 && strings.HasSuffix(f[1], "/lib/time/zoneinfo.zip"):
			from := strings.TrimPrefix(f[0], "--from=")
			for _, st := range stages {
				if st.name == from && st.from != exporterGo {
					t.Errorf("%s: zoneinfo.zip comes from %s, the exporter is built with %s: the stack would pull two Go images", file, st.from, exporterGo)
				}
			}
			// GOROOT of the official Go images.
			if f[1] != "/usr/local/go/lib/time/zoneinfo.zip" {
				t.Errorf("%s: copies %s, which is not the Go image's zoneinfo.zip", file, f[1])
			}
			copied = f[2]
		case in.cmd == "ENV":
			if v, ok := strings.CutPrefix(in.args, "ZONEINFO="); ok {
				zoneinfo = v
			}
		}
	}
	if copied == "" || zoneinfo != copied {
		t.Errorf("%s: copies zoneinfo.zip to %q and sets ZONEINFO=%q; want the same path", file, copied, zoneinfo)
	}

	var cfg alertmanagerYAML
	exportertest.ReadYAML(t, composeAlertmanagerConfig(t, c), &cfg)
	var locations []string
	for _, ti := range cfg.TimeIntervals {
		for _, i := range ti.TimeIntervals {
			if i.Location != "" && i.Location != "UTC" && i.Location != "Local" {
				locations = append(locations, i.Location)
			}
		}
	}
	if len(locations) == 0 {
		return
	}
	zipFile := filepath.Join(goEnv(t, "GOROOT"), "lib", "time", "zoneinfo.zip")
	z, err := zip.OpenReader(zipFile)
	if err != nil {
		t.Fatalf("Go's time zone database: %v", err)
	}
	defer z.Close()
	for _, loc := range locations {
		f, err := z.Open(loc)
		if err != nil {
			t.Errorf("time interval location %s is not in Go's zoneinfo.zip: %v", loc, err)
			continue
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := time.LoadLocationFromTZData(loc, data); err != nil {
			t.Errorf("time interval location %s: %v", loc, err)
		}
	}
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// TestComposeLive runs the stack's programs that exist here (the exporter,
// alertlog, Prometheus and Alertmanager; not Grafana) on loopback, asks each
// its healthcheck's URL, with the exporter's and alertlog's healthcheck
// program itself, then lets Alertmanager on deploy/alertmanager.yml send a
// real alert and reads it in alertlog's log and page.
func TestComposeLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus and Alertmanager")
	}
	c := loadCompose(t)
	alertmanagerBin := promprog.Alertmanager.Path(t)
	prometheusBin := promprog.Prometheus.Path(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if out, err := exec.Command("go", "build", "-o", bin+"/", "./cmd/alertlog", "./cmd/healthcheck").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// Where each service listens here.
	addrs := map[string]string{}

	exp := startExporter(t, sandboxConfig(t))
	addrs["exporter"] = exp.addr

	addrs["alertlog"] = freeAddr(t)
	alertlog := startProgram(t, "alertlog", filepath.Join(bin, "alertlog"), "--web.listen-address="+addrs["alertlog"])

	// deploy/alertmanager.yml with alertlog's address moved to the test's.
	// The waits are cut to a second: TestEndToEnd measures them; this test
	// checks where notifications go.
	amConfig, err := os.ReadFile(composeAlertmanagerConfig(t, c))
	if err != nil {
		t.Fatal(err)
	}
	var alertlogPort string
	for _, a := range c.Services["alertlog"].Command {
		if v, ok := strings.CutPrefix(a, "--web.listen-address="); ok {
			_, alertlogPort, _ = net.SplitHostPort(v)
		}
	}
	text := strings.ReplaceAll(string(amConfig), "http://alertlog:"+alertlogPort+"/", "http://"+addrs["alertlog"]+"/")
	text = regexp.MustCompile(`(group_wait|group_interval): \w+`).ReplaceAllString(text, "$1: 1s")
	amFile := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(amFile, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	// The image's time zone database: Go's, as deploy/alertmanager.Dockerfile
	// sets it.
	t.Setenv("ZONEINFO", filepath.Join(goEnv(t, "GOROOT"), "lib", "time", "zoneinfo.zip"))
	addrs["alertmanager"] = freeAddr(t)
	am := startProgram(t, "alertmanager", alertmanagerBin,
		"--config.file="+amFile,
		"--storage.path="+filepath.Join(dir, "alertmanager-data"),
		"--web.listen-address="+addrs["alertmanager"],
		"--cluster.listen-address=",
	)

	promConfig := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promConfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	addrs["prometheus"] = freeAddr(t)
	prom := startProgram(t, "prometheus", prometheusBin,
		"--config.file="+promConfig,
		"--storage.tsdb.path="+filepath.Join(dir, "prometheus-data"),
		"--web.listen-address="+addrs["prometheus"],
	)

	for name, p := range map[string]*process{"alertlog": alertlog, "alertmanager": am, "prometheus": prom} {
		p.waitUntil(t, name+" to listen", time.Minute, func() bool {
			conn, err := net.Dial("tcp", addrs[name])
			if err == nil {
				conn.Close()
			}
			return err == nil
		})
	}

	t.Run("healthchecks", func(t *testing.T) {
		for name, s := range c.Services {
			addr, ok := addrs[name]
			if !ok {
				t.Logf("%s does not run here; its healthcheck is only read", name)
				continue
			}
			u := composeHealthURL(t, s.Healthcheck)
			if u == nil {
				continue
			}
			u.Host = addr
			program := s.Healthcheck.Test[1]
			if path.Base(program) == "healthcheck" {
				args := slices.Clone(s.Healthcheck.Test[2:])
				for i, a := range args {
					if strings.HasPrefix(a, "http://") {
						args[i] = u.String()
					}
				}
				out, err := exec.Command(filepath.Join(bin, "healthcheck"), args...).CombinedOutput()
				if err != nil {
					t.Errorf("%s: healthcheck %q: %v\n%s", name, args, err, out)
				}
				continue
			}
			// wget and curl of the images are not here: ask as they do.
			resp, err := http.Get(u.String())
			if err != nil {
				t.Errorf("%s: %s %s: %v", name, program, u, err)
				continue
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				t.Errorf("%s: %s %s: %s, so the service would never be healthy", name, program, u, resp.Status)
			}
		}
	})

	t.Run("alerts reach alertlog", func(t *testing.T) {
		// The alert of testdata/firing.json, as Prometheus posts it.
		var n struct {
			Alerts []struct {
				Labels       map[string]string `json:"labels"`
				Annotations  map[string]string `json:"annotations"`
				GeneratorURL string            `json:"generatorURL"`
			} `json:"alerts"`
		}
		data, err := os.ReadFile(filepath.Join("cmd", "alertlog", "testdata", "firing.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &n); err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(n.Alerts)
		resp, err := http.Post("http://"+addrs["alertmanager"]+"/api/v2/alerts", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("posting the alert to Alertmanager: %s", resp.Status)
		}

		// A critical alert goes to both critical receivers (continue: true).
		want := []string{
			`msg=alert receiver=oncall-webhook status=firing alertname=InfluencerTrackingLinkBroken severity=critical campaign=spring-launch creator=chloe provider=shortio link=short.gy/chloe-spring summary="A creator's tracking link is broken."`,
			`msg=alert receiver=campaign-team-slack status=firing alertname=InfluencerTrackingLinkBroken severity=critical campaign=spring-launch creator=chloe provider=shortio link=short.gy/chloe-spring summary="A creator's tracking link is broken."`,
		}
		alertlog.waitUntil(t, "alertlog to log the alert for both critical receivers", time.Minute, func() bool {
			logs := alertlog.logs.String()
			return strings.Contains(logs, want[0]) && strings.Contains(logs, want[1])
		})
		resp, err = http.Get("http://" + addrs["alertlog"] + "/")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, r := range []string{"oncall-webhook", "campaign-team-slack"} {
			if !strings.Contains(string(page), "  "+r+"  FIRING  1 alert(s)  alertname=InfluencerTrackingLinkBroken campaign=spring-launch creator=chloe\n") {
				t.Errorf("alertlog's page lacks the notification to %s:\n%s", r, page)
			}
		}
	})
	if t.Failed() {
		t.Logf("alertlog log:\n%s", alertlog.logs.String())
	}
}

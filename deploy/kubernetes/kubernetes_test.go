package kubernetes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"

	_ "github.com/influencer-exporter/influencer_exporter/collectors/all"
	"github.com/influencer-exporter/influencer_exporter/examples"
	"github.com/influencer-exporter/influencer_exporter/exporter"
)

const (
	root = "../.."
	// tokensSecret is the Secret the StatefulSet reads tokens from; it is
	// created beside the manifests, never part of them.
	tokensSecret = "influencer-exporter-tokens"
	// regenerate rewrites the generated manifests.
	regenerate = "go generate ./deploy/kubernetes"
)

// object is one object of a kustomize build.
type object struct {
	APIVersion, Kind, Name, Namespace string
	// Doc is the object as kustomize wrote it, in YAML.
	Doc []byte
	// Typed is Doc decoded strictly into its Go type.
	Typed any
}

func (o object) String() string { return o.Kind + " " + o.Name }

// kustomizations returns every directory under deploy/kubernetes that
// holds a kustomization.
func kustomizations(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "kustomization.yaml" {
			dirs = append(dirs, filepath.ToSlash(filepath.Dir(p)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(dirs)
	if len(dirs) == 0 {
		t.Fatal("no kustomization.yaml under deploy/kubernetes")
	}
	return dirs
}

// build runs kustomize on dir as `kustomize build` does, with the
// default load restrictor: no file outside dir's tree is read.
func build(t *testing.T, dir string) []object {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var objs []object
	for _, r := range m.Resources() {
		doc, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, object{
			APIVersion: r.GetApiVersion(), Kind: r.GetKind(), Name: r.GetName(), Namespace: r.GetNamespace(),
			Doc: doc,
		})
	}
	if len(objs) == 0 {
		t.Fatalf("kustomize build %s: no objects", dir)
	}
	return objs
}

// strictDecode decodes an object into the Go type of its kind, refusing
// unknown and duplicate fields: the second check, after kubeconform's,
// at the API releases of go.mod (k8s.io/api, prometheus-operator's
// monitoring/v1).
func strictDecode(o object) (any, error) {
	var v any
	switch (typeKey{o.APIVersion, o.Kind}) {
	case typeKey{"apps/v1", "StatefulSet"}:
		v = &appsv1.StatefulSet{}
	case typeKey{"v1", "Service"}:
		v = &corev1.Service{}
	case typeKey{"v1", "ConfigMap"}:
		v = &corev1.ConfigMap{}
	case typeKey{"monitoring.coreos.com/v1", "ServiceMonitor"}:
		v = &monitoringv1.ServiceMonitor{}
	case typeKey{"monitoring.coreos.com/v1", "PrometheusRule"}:
		v = &monitoringv1.PrometheusRule{}
	default:
		return nil, fmt.Errorf("%s %s: a kind the manifests are not expected to hold", o.APIVersion, o.Kind)
	}
	if err := sigsyaml.UnmarshalStrict(o.Doc, v); err != nil {
		return nil, err
	}
	return v, nil
}

// TestKustomizations builds every kustomization and validates each object
// of its output with kubeconform, against the Kubernetes and
// prometheus-operator schemas (schemas_test.go), and with a strict decode
// into the Go types.
func TestKustomizations(t *testing.T) {
	builds := map[string][]object{}
	need := map[typeKey]bool{}
	for _, dir := range kustomizations(t) {
		builds[dir] = build(t, dir)
		for _, o := range builds[dir] {
			need[typeKey{o.APIVersion, o.Kind}] = true
		}
	}
	v := newValidator(t, need)
	for dir, objs := range builds {
		t.Run(dir, func(t *testing.T) {
			for _, o := range objs {
				if err := validate(v, dir+": "+o.String(), o.Doc); err != nil {
					t.Errorf("%s: %v", o, err)
				}
				if _, err := strictDecode(o); err != nil {
					t.Errorf("%s: strict decode: %v", o, err)
				}
				if o.Kind == "Secret" {
					t.Errorf("%s: the manifests hold a Secret; tokens stay out of the repository, in %s created beside it", o, tokensSecret)
				}
			}
		})
	}
}

// built builds dir and decodes its objects, failing on any that does not
// decode.
func built(t *testing.T, dir string) []object {
	t.Helper()
	objs := build(t, dir)
	for i, o := range objs {
		v, err := strictDecode(o)
		if err != nil {
			t.Fatalf("%s: %s: %v", dir, o, err)
		}
		objs[i].Typed = v
	}
	return objs
}

func only[T any](t *testing.T, objs []object) *T {
	t.Helper()
	var found []*T
	for _, o := range objs {
		if v, ok := o.Typed.(*T); ok {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d objects of type %T, want 1", len(found), (*T)(nil))
	}
	return found[0]
}

func all[T any](objs []object) []*T {
	var found []*T
	for _, o := range objs {
		if v, ok := o.Typed.(*T); ok {
			found = append(found, v)
		}
	}
	return found
}

// TestExporter checks, in every kustomization that deploys the exporter,
// what its manifests must agree on with the rest of the repository and
// with each other.
func TestExporter(t *testing.T) {
	listenPort := mainDefault(t, `defaultAddress = ":(\d+)"`)
	metricsPath := mainDefault(t, `Flag\("web\.telemetry-path",[^)]*\)\.Default\("([^"]+)"\)`)
	user := dockerUser(t)
	interval := scrapeInterval(t)

	deployed := 0
	for _, dir := range kustomizations(t) {
		t.Run(dir, func(t *testing.T) {
			objs := built(t, dir)
			if len(all[appsv1.StatefulSet](objs)) == 0 {
				return
			}
			deployed++
			sts := only[appsv1.StatefulSet](t, objs)
			pod := sts.Spec.Template.Spec
			if len(pod.Containers) != 1 {
				t.Fatalf("%d containers, want 1", len(pod.Containers))
			}
			c := pod.Containers[0]
			args := flags(c.Args)

			// Shards: --shard.count is the number of replicas.
			if sts.Spec.Replicas == nil {
				t.Fatal("StatefulSet: replicas not set")
			}
			if want := strconv.Itoa(int(*sts.Spec.Replicas)); args["shard.count"] != want {
				t.Errorf("--shard.count=%s, but %s replicas: change both together", args["shard.count"], want)
			}
			if args["shard.index"] != "auto" {
				t.Errorf("--shard.index=%q, want auto", args["shard.index"])
			}
			if !hasFieldEnv(c, "POD_NAME", "metadata.name") {
				t.Error("POD_NAME is not set from the downward API's metadata.name: --shard.index=auto reads the ordinal from it")
			}

			// The image's user, the listen port and the probes.
			checkSecurity(t, pod, c, user)
			port := containerPort(t, c, "http")
			if strconv.Itoa(int(port)) != listenPort {
				t.Errorf("container port http is %d, main.go listens on :%s by default", port, listenPort)
			}
			if a, ok := args["web.listen-address"]; ok && a != ":"+listenPort {
				t.Errorf("--web.listen-address=%s: the port must stay %s or follow the container port", a, listenPort)
			}
			checkProbe(t, "liveness", c.LivenessProbe, "/-/healthy")
			checkProbe(t, "readiness", c.ReadinessProbe, "/-/ready")
			checkResources(t, c.Resources)

			// Volumes: the configuration from the generated ConfigMap, the
			// state on a writable volume, tokens from the Secret by name.
			cfgData := checkConfigVolume(t, objs, pod, c, args["config.file"])
			checkStorage(t, sts, c, args["storage.path"])
			checkTokens(t, c, cfgData)

			// Services and the ServiceMonitor.
			checkServices(t, objs, sts, metricsPath, interval)

			// Rules: what alerts/ holds.
			checkRules(t, only[monitoringv1.PrometheusRule](t, objs))
		})
	}
	if deployed < 2 {
		t.Errorf("%d kustomizations deploy the exporter, want base and overlays/single at least", deployed)
	}
}

// flags returns --name=value arguments by name.
func flags(args []string) map[string]string {
	m := map[string]string{}
	for _, a := range args {
		name, value, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		m[name] = value
	}
	return m
}

func hasFieldEnv(c corev1.Container, name, fieldPath string) bool {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == fieldPath {
			return true
		}
	}
	return false
}

// mainDefault returns the first group of re in main.go.
func mainDefault(t *testing.T, re string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(re).FindSubmatch(b)
	if m == nil {
		t.Fatalf("main.go: %s not found", re)
	}
	return string(m[1])
}

// dockerUser returns the numeric user and group the Dockerfile runs as.
func dockerUser(t *testing.T) [2]int64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^USER (\d+):(\d+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("Dockerfile: no USER uid:gid")
	}
	uid, _ := strconv.ParseInt(string(m[1]), 10, 64)
	gid, _ := strconv.ParseInt(string(m[2]), 10, 64)
	return [2]int64{uid, gid}
}

// scrapeInterval returns the scrape interval of deploy/prometheus.yml,
// which the paging budget of docs/runbooks.md is worked out for.
func scrapeInterval(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Global struct {
			ScrapeInterval string `yaml:"scrape_interval"`
		} `yaml:"global"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Global.ScrapeInterval == "" {
		t.Fatal("deploy/prometheus.yml: no global scrape_interval")
	}
	return cfg.Global.ScrapeInterval
}

func checkSecurity(t *testing.T, pod corev1.PodSpec, c corev1.Container, user [2]int64) {
	t.Helper()
	psc := pod.SecurityContext
	if psc == nil {
		t.Fatal("pod: no securityContext")
	}
	if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Error("pod: runAsNonRoot is not true")
	}
	if psc.RunAsUser == nil || *psc.RunAsUser != user[0] || psc.RunAsGroup == nil || *psc.RunAsGroup != user[1] {
		t.Errorf("pod: runAsUser/runAsGroup are not the Dockerfile's USER %d:%d", user[0], user[1])
	}
	if psc.FSGroup == nil || *psc.FSGroup != user[1] {
		t.Errorf("pod: fsGroup is not %d: the state volume would not be writable", user[1])
	}
	if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("pod: seccompProfile is not RuntimeDefault")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("pod: the service account token is mounted, and the exporter never calls the Kubernetes API")
	}
	sc := c.SecurityContext
	if sc == nil {
		t.Fatal("container: no securityContext")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("container: readOnlyRootFilesystem is not true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("container: allowPrivilegeEscalation is not false")
	}
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Error("container: runAsNonRoot is not true")
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Error("container: capabilities are not drop [ALL], add none")
	}
}

func containerPort(t *testing.T, c corev1.Container, name string) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Fatalf("container has no port named %s", name)
	return 0
}

func checkProbe(t *testing.T, kind string, p *corev1.Probe, wantPath string) {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Errorf("%s probe: not an HTTP GET", kind)
		return
	}
	if p.HTTPGet.Path != wantPath || p.HTTPGet.Port.String() != "http" {
		t.Errorf("%s probe: GET %s on port %s, want %s on http", kind, p.HTTPGet.Path, p.HTTPGet.Port.String(), wantPath)
	}
}

func checkResources(t *testing.T, r corev1.ResourceRequirements) {
	t.Helper()
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := r.Requests[name]
		lim, okLim := r.Limits[name]
		if !okReq || !okLim {
			t.Errorf("resources: %s request or limit missing", name)
			continue
		}
		if req.Cmp(lim) > 0 {
			t.Errorf("resources: %s request %s above its limit %s", name, req.String(), lim.String())
		}
	}
}

// checkConfigVolume checks that --config.file is the config.yaml of a
// ConfigMap of the build, mounted read-only, and that it is the
// configuration generated for this kustomization; it returns it.
func checkConfigVolume(t *testing.T, objs []object, pod corev1.PodSpec, c corev1.Container, configFile string) []byte {
	t.Helper()
	if configFile == "" {
		t.Fatal("no --config.file")
	}
	dir, file := path.Split(configFile)
	mount := mountAt(c, strings.TrimSuffix(dir, "/"))
	if mount == nil {
		t.Fatalf("--config.file=%s is in no mounted volume", configFile)
	}
	if !mount.ReadOnly {
		t.Errorf("volume %s with the configuration is not mounted read-only", mount.Name)
	}
	vol := volume(pod, mount.Name)
	if vol == nil || vol.ConfigMap == nil {
		t.Fatalf("volume %s of --config.file is not a ConfigMap", mount.Name)
	}
	for _, cm := range all[corev1.ConfigMap](objs) {
		if cm.Name != vol.ConfigMap.Name {
			continue
		}
		data, ok := cm.Data[file]
		if !ok {
			t.Fatalf("ConfigMap %s has no key %s", cm.Name, file)
		}
		return []byte(data)
	}
	t.Fatalf("ConfigMap %s of --config.file is not in the build", vol.ConfigMap.Name)
	return nil
}

func mountAt(c corev1.Container, dir string) *corev1.VolumeMount {
	for i, m := range c.VolumeMounts {
		if path.Clean(m.MountPath) == path.Clean(dir) {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func volume(pod corev1.PodSpec, name string) *corev1.Volume {
	for i, v := range pod.Volumes {
		if v.Name == name {
			return &pod.Volumes[i]
		}
	}
	return nil
}

// checkStorage checks that --storage.path is a writable volume that
// outlives the pod: one claim per shard.
func checkStorage(t *testing.T, sts *appsv1.StatefulSet, c corev1.Container, dir string) {
	t.Helper()
	if dir == "" {
		t.Fatal("no --storage.path: shop order books, YouTube's quota and the early curve would restart from nothing")
	}
	mount := mountAt(c, dir)
	if mount == nil {
		t.Fatalf("--storage.path=%s is not a mounted volume, and the root filesystem is read-only", dir)
	}
	if mount.ReadOnly {
		t.Errorf("--storage.path=%s is mounted read-only", dir)
	}
	for _, pvc := range sts.Spec.VolumeClaimTemplates {
		if pvc.Name == mount.Name {
			if _, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; !ok {
				t.Errorf("volumeClaimTemplate %s requests no storage", pvc.Name)
			}
			return
		}
	}
	t.Errorf("--storage.path=%s is on volume %s, not one of the volumeClaimTemplates", dir, mount.Name)
}

// checkTokens checks that the tokens come from the Secret, by name, and
// that the configuration loads with one variable per token_env, as the
// Secret gives them.
func checkTokens(t *testing.T, c corev1.Container, cfgData []byte) {
	t.Helper()
	fromSecret := false
	for _, e := range c.EnvFrom {
		if e.SecretRef != nil && e.SecretRef.Name == tokensSecret {
			fromSecret = true
			if e.SecretRef.Optional != nil && *e.SecretRef.Optional {
				t.Errorf("Secret %s is optional: a pod without its tokens would start and fail every refresh", tokensSecret)
			}
		}
	}
	if !fromSecret {
		t.Errorf("the container does not read the Secret %s (envFrom)", tokensSecret)
	}
	names := tokenEnvs(t, cfgData)
	if len(names) == 0 {
		t.Error("the configuration names no token_env")
	}
	for _, n := range names {
		for _, e := range c.Env {
			if e.Name == n {
				t.Errorf("%s is set in env, which would hide the Secret's key", n)
			}
		}
	}
	checkConfigLoads(t, cfgData, names)
	checkSecretDocumented(t, names)
}

func tokenEnvs(t *testing.T, cfgData []byte) []string {
	t.Helper()
	var cfg struct {
		Collectors []struct {
			TokenEnv string `yaml:"token_env"`
		} `yaml:"collectors"`
	}
	if err := yaml.Unmarshal(cfgData, &cfg); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cfg.Collectors {
		if c.TokenEnv != "" {
			names = append(names, c.TokenEnv)
		}
	}
	return names
}

// checkConfigLoads runs the check of --config.check on the configuration
// the pods read, with the variables the Secret gives: it loads, builds
// every collector, and no collector's planned calls overrun its interval.
func checkConfigLoads(t *testing.T, cfgData []byte, names []string) {
	t.Helper()
	for _, n := range names {
		v, ok := examples.Tokens[n]
		if !ok {
			t.Fatalf("token_env %s: no example value in examples.Tokens", n)
		}
		t.Setenv(n, v)
	}
	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, cfgData, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, instances, err := exporter.Check(file)
	if err != nil {
		t.Fatalf("the pods' configuration is invalid (%s):\n%v", regenerate, err)
	}
	if cfg.Sandbox != nil {
		t.Error("the pods' configuration starts the sandbox")
	}
	for _, p := range exporter.Plans(instances) {
		if p.Over {
			t.Errorf("plan warning: %s", p)
		}
	}
}

// checkSecretDocumented checks that docs/deployment.md names every key
// the Secret must hold.
func checkSecretDocumented(t *testing.T, names []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs", "deployment.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("create secret generic "+tokensSecret)) {
		t.Errorf("docs/deployment.md does not show how to create the Secret %s", tokensSecret)
	}
	for _, n := range names {
		if !bytes.Contains(b, []byte(n)) {
			t.Errorf("docs/deployment.md does not name %s, a key the Secret %s must hold", n, tokensSecret)
		}
	}
}

// checkServices checks the headless Service of the StatefulSet, and that
// the ServiceMonitor scrapes every shard once: through one Service, at
// the exporter's metrics path and the project's scrape interval.
func checkServices(t *testing.T, objs []object, sts *appsv1.StatefulSet, metricsPath, interval string) {
	t.Helper()
	podLabels := labels.Set(sts.Spec.Template.Labels)
	var headless, scraped []*corev1.Service
	services := all[corev1.Service](objs)
	for _, s := range services {
		if !labels.SelectorFromSet(s.Spec.Selector).Matches(podLabels) || len(s.Spec.Selector) == 0 {
			t.Errorf("Service %s does not select the exporter's pods", s.Name)
		}
		if s.Spec.ClusterIP == corev1.ClusterIPNone {
			headless = append(headless, s)
		}
		for _, p := range s.Spec.Ports {
			if p.TargetPort.String() != "http" {
				t.Errorf("Service %s: port %s targets %s, want the container port http", s.Name, p.Name, p.TargetPort.String())
			}
		}
	}
	if len(headless) != 1 || headless[0].Name != sts.Spec.ServiceName {
		t.Errorf("StatefulSet serviceName %q is not the one headless Service", sts.Spec.ServiceName)
	}

	sm := only[monitoringv1.ServiceMonitor](t, objs)
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range services {
		if sel.Matches(labels.Set(s.Labels)) {
			scraped = append(scraped, s)
		}
	}
	if len(scraped) != 1 {
		t.Fatalf("the ServiceMonitor selects %d Services, want 1: every shard is scraped once", len(scraped))
	}
	if scraped[0].Spec.ClusterIP == corev1.ClusterIPNone {
		t.Errorf("the ServiceMonitor selects the headless Service %s", scraped[0].Name)
	}
	if !strings.HasPrefix(scraped[0].Name, "influencer") {
		t.Errorf("the scraped Service %s names the job, which InfluencerExporterDown selects with job=~\"influencer.*\"", scraped[0].Name)
	}
	if len(sm.Spec.Endpoints) != 1 {
		t.Fatalf("the ServiceMonitor has %d endpoints, want 1", len(sm.Spec.Endpoints))
	}
	ep := sm.Spec.Endpoints[0]
	found := false
	for _, p := range scraped[0].Spec.Ports {
		found = found || p.Name == ep.Port
	}
	if !found {
		t.Errorf("ServiceMonitor port %q is not a port of Service %s", ep.Port, scraped[0].Name)
	}
	if ep.Path != metricsPath {
		t.Errorf("ServiceMonitor path %q, the exporter serves %s", ep.Path, metricsPath)
	}
	if string(ep.Interval) != interval {
		t.Errorf("ServiceMonitor interval %q, deploy/prometheus.yml scrapes every %s (the paging budget counts on it)", ep.Interval, interval)
	}
}

// ruleFile is a Prometheus rules file, decoded into the operator's types
// strictly: a field of alerts/ the PrometheusRule cannot carry fails it.
type ruleFile struct {
	Groups []monitoringv1.RuleGroup `json:"groups"`
}

// checkRules checks that the PrometheusRule holds the groups of
// alerts/*.rules.yml, in file name order, field for field.
func checkRules(t *testing.T, pr *monitoringv1.PrometheusRule) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "alerts", "*.rules.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("alerts/*.rules.yml: %v, %d files", err, len(files))
	}
	slices.Sort(files)
	var want []monitoringv1.RuleGroup
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rf ruleFile
		if err := sigsyaml.UnmarshalStrict(b, &rf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		want = append(want, rf.Groups...)
	}
	got := pr.Spec.Groups
	if len(got) != len(want) {
		t.Fatalf("the PrometheusRule has %d groups, alerts/ %d; run %s", len(got), len(want), regenerate)
	}
	n := 0
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name {
			t.Errorf("group %d is %s, alerts/ has %s; run %s", i, g.Name, w.Name, regenerate)
			continue
		}
		if len(g.Rules) != len(w.Rules) {
			t.Errorf("group %s: %d rules, alerts/ has %d; run %s", g.Name, len(g.Rules), len(w.Rules), regenerate)
			continue
		}
		for j := range w.Rules {
			if !reflect.DeepEqual(g.Rules[j], w.Rules[j]) {
				gj, _ := json.Marshal(g.Rules[j])
				wj, _ := json.Marshal(w.Rules[j])
				t.Errorf("group %s, rule %d differs from alerts/; run %s\n got: %s\nwant: %s", g.Name, j, regenerate, gj, wj)
			}
			n++
		}
		g.Rules, w.Rules = nil, nil
		if !reflect.DeepEqual(g, w) {
			t.Errorf("group %s: its fields differ from alerts/; run %s", g.Name, regenerate)
		}
	}
	if n == 0 {
		t.Error("no rules compared")
	}
}

// TestDashboards checks that the grafana kustomization carries every
// dashboard of dashboards/, byte for byte, in a ConfigMap of its own
// labelled for the Grafana sidecar.
func TestDashboards(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("dashboards/*.json: %v, %d files", err, len(files))
	}
	objs := built(t, "grafana")
	cms := all[corev1.ConfigMap](objs)
	if len(cms) != len(objs) {
		t.Errorf("the grafana kustomization holds %d objects, %d of them ConfigMaps", len(objs), len(cms))
	}
	carried := map[string]string{}
	for _, cm := range cms {
		if cm.Labels["grafana_dashboard"] != "1" {
			t.Errorf("ConfigMap %s is not labelled grafana_dashboard: \"1\", which the sidecar looks for", cm.Name)
		}
		if len(cm.Data) != 1 {
			t.Errorf("ConfigMap %s holds %d files, want one dashboard", cm.Name, len(cm.Data))
		}
		for k, v := range cm.Data {
			if _, dup := carried[k]; dup {
				t.Errorf("%s is in two ConfigMaps", k)
			}
			carried[k] = v
		}
		// kubectl's client-side apply keeps the whole object in an
		// annotation, which may hold 256 KiB.
		if b, _ := json.Marshal(cm); len(b) >= 256<<10 {
			t.Errorf("ConfigMap %s is %d bytes: above what kubectl apply (client side) can keep", cm.Name, len(b))
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		got, ok := carried[name]
		if !ok {
			t.Errorf("dashboard %s is in no ConfigMap; run %s", name, regenerate)
			continue
		}
		if got != string(b) {
			t.Errorf("dashboard %s differs from dashboards/%s; run %s", name, name, regenerate)
		}
		delete(carried, name)
	}
	for name := range carried {
		t.Errorf("ConfigMaps carry %s, which is not in dashboards/; run %s", name, regenerate)
	}
}

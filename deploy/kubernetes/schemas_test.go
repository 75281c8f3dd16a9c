package kubernetes

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yannh/kubeconform/pkg/resource"
	"github.com/yannh/kubeconform/pkg/validator"
	"k8s.io/client-go/openapi/openapitest"
	"sigs.k8s.io/yaml"
)

// The schemas kubeconform validates against, from Go modules only, so the
// test runs offline once the modules are downloaded (kubeconform's default
// registry is a web site):
//
//   - Kubernetes: the OpenAPI v3 documents of core/v1 and apps/v1 that
//     k8s.io/client-go embeds for its tests (openapitest). They are the
//     documents Kubernetes' API server serves, but of an older release
//     than the client (about 1.26: a pod's resourceClaims and
//     schedulingGates are there, a container's resizePolicy is not), so
//     the manifests use no newer field. strictDecode checks every object
//     again against the Go types of k8s.io/api at go.mod's release.
//   - prometheus-operator: the CRDs' openAPIV3Schema, from
//     example/prometheus-operator-crd-full of the operator's root module,
//     v0.85.0 (the Go types of strictDecode are monitoring/v1 v0.95.2's:
//     a field only one of the two releases knows fails one check).
//
// Both are written in kubeconform's layout (<kind>-<group>-<version>.json)
// as standalone schemas, strict as kubeconform's -strict schemas are: an
// object with properties allows no others.

// crdModule is the module whose example/ directory holds the CRDs. The
// test imports a package of it (crdmodule_test.go) to keep it in go.mod.
const crdModule = "github.com/prometheus-operator/prometheus-operator"

// crds are the CRD files the manifests need, in crdModule.
var crds = []string{
	"example/prometheus-operator-crd-full/monitoring.coreos.com_servicemonitors.yaml",
	"example/prometheus-operator-crd-full/monitoring.coreos.com_prometheusrules.yaml",
}

// kubernetesAPIs are the OpenAPI documents of openapitest the manifests
// need.
var kubernetesAPIs = []string{"api/v1", "apis/apps/v1"}

// typeKey is an object's apiVersion and kind.
type typeKey struct{ APIVersion, Kind string }

// newValidator writes the schemas of the kinds in need into a temporary
// directory and returns a kubeconform validator reading them, and nothing
// else: a kind without a schema there is an error, never skipped.
func newValidator(t *testing.T, need map[typeKey]bool) validator.Validator {
	t.Helper()
	dir := t.TempDir()
	written := map[typeKey]bool{}
	writeKubernetesSchemas(t, dir, need, written)
	writeCRDSchemas(t, dir, need, written)
	for k := range need {
		if !written[k] {
			t.Errorf("no schema for %s %s among the Kubernetes APIs %v and the CRDs %v", k.APIVersion, k.Kind, kubernetesAPIs, crds)
		}
	}
	v, err := validator.New([]string{filepath.Join(dir, "{{ .ResourceKind }}{{ .KindSuffix }}.json")}, validator.Opts{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// validate runs kubeconform over one object.
func validate(v validator.Validator, name string, doc []byte) error {
	r := v.ValidateResource(resource.Resource{Path: name, Bytes: doc})
	switch r.Status {
	case validator.Valid:
		return nil
	case validator.Invalid:
		// r.Err holds the whole tree of causes; r.ValidationErrors only
		// its first level ("/spec: allOf failed").
		return fmt.Errorf("kubeconform: invalid: %v", r.Err)
	case validator.Skipped, validator.Empty:
		return fmt.Errorf("kubeconform: not validated (status %d)", r.Status)
	default:
		return fmt.Errorf("kubeconform: %v", r.Err)
	}
}

func writeKubernetesSchemas(t *testing.T, dir string, need, written map[typeKey]bool) {
	t.Helper()
	paths, err := openapitest.NewEmbeddedFileClient().Paths()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range kubernetesAPIs {
		gv, ok := paths[p]
		if !ok {
			t.Fatalf("openapitest has no OpenAPI document for %s", p)
		}
		b, err := gv.Schema("application/json")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Components struct {
				Schemas map[string]map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		defs := map[string]any{}
		for name, s := range doc.Components.Schemas {
			defs[name] = rewriteRefs(s)
		}
		for _, s := range doc.Components.Schemas {
			gvks, _ := s["x-kubernetes-group-version-kind"].([]any)
			for _, g := range gvks {
				gvk := g.(map[string]any)
				group, version, kind := gvk["group"].(string), gvk["version"].(string), gvk["kind"].(string)
				apiVersion := version
				if group != "" {
					apiVersion = group + "/" + version
				}
				key := typeKey{apiVersion, kind}
				if !need[key] {
					continue
				}
				standalone := rewriteRefs(s).(map[string]any)
				standalone["definitions"] = defs
				pinKind(standalone, apiVersion, kind)
				strict(standalone)
				writeSchema(t, dir, kind, apiVersion, standalone)
				written[key] = true
			}
		}
	}
}

func writeCRDSchemas(t *testing.T, dir string, need, written map[typeKey]bool) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", crdModule).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", crdModule, err)
	}
	modDir := strings.TrimSpace(string(out))
	for _, f := range crds {
		b, err := os.ReadFile(filepath.Join(modDir, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		var crd struct {
			Spec struct {
				Group string `json:"group"`
				Names struct {
					Kind string `json:"kind"`
				} `json:"names"`
				Versions []struct {
					Name   string `json:"name"`
					Schema struct {
						OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
					} `json:"schema"`
				} `json:"versions"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(b, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, v := range crd.Spec.Versions {
			s := v.Schema.OpenAPIV3Schema
			if s == nil {
				t.Fatalf("%s: version %s has no openAPIV3Schema", f, v.Name)
			}
			apiVersion := crd.Spec.Group + "/" + v.Name
			key := typeKey{apiVersion, crd.Spec.Names.Kind}
			if !need[key] {
				continue
			}
			pinKind(s, apiVersion, crd.Spec.Names.Kind)
			strict(s)
			writeSchema(t, dir, crd.Spec.Names.Kind, apiVersion, s)
			written[key] = true
		}
	}
}

// writeSchema writes s where kubeconform's template
// {{ .ResourceKind }}{{ .KindSuffix }}.json finds it: kind in lower case,
// then the group's first label and the version (core/v1: the version
// only).
func writeSchema(t *testing.T, dir, kind, apiVersion string, s map[string]any) {
	t.Helper()
	suffix := "-" + apiVersion
	if group, version, ok := strings.Cut(apiVersion, "/"); ok {
		suffix = "-" + strings.ToLower(strings.Split(group, ".")[0]) + "-" + strings.ToLower(version)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, strings.ToLower(kind)+suffix+".json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// rewriteRefs returns a copy of an OpenAPI v3 schema whose references
// point into the standalone schema's definitions.
func rewriteRefs(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			if s, ok := e.(string); ok && k == "$ref" {
				out[k] = strings.Replace(s, "#/components/schemas/", "#/definitions/", 1)
				continue
			}
			out[k] = rewriteRefs(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = rewriteRefs(e)
		}
		return out
	default:
		return v
	}
}

// pinKind makes a schema accept one apiVersion and kind only: the API
// documents describe them as any string.
func pinKind(s map[string]any, apiVersion, kind string) {
	props, _ := s["properties"].(map[string]any)
	if props == nil {
		return
	}
	props["apiVersion"] = map[string]any{"type": "string", "enum": []any{apiVersion}}
	props["kind"] = map[string]any{"type": "string", "enum": []any{kind}}
}

// strict forbids properties a schema does not list, in every object
// schema that lists some and says nothing of others, as kubeconform's
// -strict schemas do; a schema that keeps unknown fields on purpose
// (x-kubernetes-preserve-unknown-fields) is left open.
func strict(s map[string]any) {
	if props, ok := s["properties"].(map[string]any); ok {
		_, set := s["additionalProperties"]
		if preserve, _ := s["x-kubernetes-preserve-unknown-fields"].(bool); !set && !preserve {
			s["additionalProperties"] = false
		}
		for _, p := range props {
			strictAny(p)
		}
	}
	for _, k := range []string{"definitions"} {
		if defs, ok := s[k].(map[string]any); ok {
			for _, d := range defs {
				strictAny(d)
			}
		}
	}
	for _, k := range []string{"items", "additionalProperties", "not"} {
		strictAny(s[k])
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		if list, ok := s[k].([]any); ok {
			for _, e := range list {
				strictAny(e)
			}
		}
	}
}

func strictAny(v any) {
	if s, ok := v.(map[string]any); ok {
		strict(s)
	}
}

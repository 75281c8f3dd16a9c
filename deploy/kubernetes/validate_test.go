package kubernetes

import (
	"strings"
	"testing"
)

// TestValidatorRefuses checks that the validators catch what they are
// there for: an unknown field, a wrong type, an apiVersion the kind does
// not have, and a kind without a schema.
func TestValidatorRefuses(t *testing.T) {
	need := map[typeKey]bool{
		{"apps/v1", "StatefulSet"}:                     true,
		{"v1", "Service"}:                              true,
		{"monitoring.coreos.com/v1", "ServiceMonitor"}: true,
		{"monitoring.coreos.com/v1", "PrometheusRule"}: true,
	}
	v := newValidator(t, need)
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"unknown field in a pod template", `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: x}
spec:
  serviceName: x
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers:
        - name: x
          image: x
          readinessProbe: {httpGet: {path: /, port: 1, schema: HTTP}}
`, "additional properties 'schema' not allowed"},
		{"wrong type", `
apiVersion: v1
kind: Service
metadata: {name: x}
spec:
  ports: [{port: "ten"}]
`, "got string, want integer"},
		{"unknown field in a ServiceMonitor endpoint", `
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: x}
spec:
  selector: {}
  endpoints: [{port: http, intervall: 15s}]
`, "additional properties 'intervall' not allowed"},
		{"bad duration in a PrometheusRule", `
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: x}
spec:
  groups: [{name: g, rules: [{alert: A, expr: up, for: 5 minutes}]}]
`, "'5 minutes' does not match pattern"},
		{"kind without a schema", `
apiVersion: v1
kind: Secret
metadata: {name: x}
`, "could not find schema for Secret"},
		{"apiVersion of another release", `
apiVersion: apps/v1beta2
kind: StatefulSet
metadata: {name: x}
`, "could not find schema for StatefulSet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validate(v, tc.name, []byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestStrictDecodeRefuses checks the second check: a field the Go types
// of the API do not have.
func TestStrictDecodeRefuses(t *testing.T) {
	for _, o := range []object{
		{APIVersion: "apps/v1", Kind: "StatefulSet", Doc: []byte("apiVersion: apps/v1\nkind: StatefulSet\nspec: {replica: 3}\n")},
		{APIVersion: "monitoring.coreos.com/v1", Kind: "PrometheusRule", Doc: []byte("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec: {groups: [{name: g, rules: [{alert: A, expr: up, four: 5m}]}]}\n")},
		{APIVersion: "v1", Kind: "ConfigMap", Doc: []byte("apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\ndata: {c: d}\n")},
		{APIVersion: "v1", Kind: "Secret", Doc: []byte("apiVersion: v1\nkind: Secret\n")},
	} {
		if _, err := strictDecode(o); err == nil {
			t.Errorf("%s: decoded, want an error:\n%s", o, o.Doc)
		}
	}
}

package kubernetes

// The prometheus-operator module ships its CRDs (example/) but no package
// this test needs; importing a small one keeps the module, and so the
// CRDs, in go.mod and in the module cache (schemas_test.go reads them).
import _ "github.com/prometheus-operator/prometheus-operator/pkg/versionutil"

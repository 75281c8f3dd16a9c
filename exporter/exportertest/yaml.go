package exportertest

import (
	"os"
	"testing"

	"gopkg.in/yaml.v3"
)

// ReadYAML decodes the YAML file into v, for tests of the configuration
// files the project ships; the test fails if it cannot.
func ReadYAML(t testing.TB, file string, v any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

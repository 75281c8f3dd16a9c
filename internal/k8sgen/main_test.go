package main

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const root = "../.."

// TestGeneratedFilesUpToDate fails while a committed file of
// deploy/kubernetes differs from what alerts/, dashboards/ and examples/
// give, so the manifests never drift from their sources.
func TestGeneratedFilesUpToDate(t *testing.T) {
	files, err := generate(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%s: %v; run %s", name, err, regenerate)
			continue
		}
		if !bytes.Equal(got, files[name]) {
			t.Errorf("%s differs from what its sources give (first difference at line %d); run %s", name, firstDiffLine(got, files[name]), regenerate)
		}
	}
}

func firstDiffLine(a, b []byte) int {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}

// TestWrite writes into a copy of the sources and reads back what
// generate gives.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	for _, pattern := range []string{"alerts/*.rules.yml", "dashboards/*.json", "examples/*.yml"} {
		matches, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(pattern)))
		if err != nil || len(matches) == 0 {
			t.Fatalf("%s: %v, %d files", pattern, err, len(matches))
		}
		for _, m := range matches {
			b, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(root, m)
			dst := filepath.Join(dir, rel)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, d := range []string{"base", "grafana", "overlays/single"} {
		if err := os.MkdirAll(filepath.Join(dir, "deploy", "kubernetes", filepath.FromSlash(d)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := write(dir); err != nil {
		t.Fatal(err)
	}
	want, err := generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range want {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, b) {
			t.Errorf("%s: written content differs from generate's", name)
		}
	}
}

// TestPodConfigRefuses checks the two edits of an example are made or
// refused, never half made.
func TestPodConfigRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, src, err string
	}{
		{"no header", "global: {}\n", "no leading comment"},
		{"two state files", "# x\nglobal:\n  early_curve:\n    state_file: a.json\n  other:\n    state_file: b.json\n", "2 state_file lines"},
		{"flow state file", "# x\nglobal:\n  early_curve: {state_file: a.json}\n", "early_curve.state_file is still set"},
		{"token file", "# x\ncollectors:\n  - type: bitly\n    token_file: bitly.token\n", "token_file bitly.token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "x.yml"), []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := podConfig(dir, "x.yml")
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("podConfig: %v, want an error containing %q", err, tc.err)
			}
		})
	}
}

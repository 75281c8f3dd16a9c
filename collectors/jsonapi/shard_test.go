package jsonapi

import (
	"slices"
	"strings"
	"testing"

	"github.com/influencer-exporter/influencer_exporter/collectors/jsonapi/jsonfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// TestShards: every shard accepts a creator.map that names creators of
// other shards, exports its own creators' items only, and the shards
// together export what one exporter does.
func TestShards(t *testing.T) {
	f := newFixture(t, jsonfake.Auth{Type: "bearer"}, token)
	cfg := config(f.url, token, perCampaign("{type: none}", "{type: bearer}"))
	series := func(samples []exporter.Sample) []string {
		lines := strings.Split(strings.TrimSpace(string(exportertest.Exposition(t, samples))), "\n")
		return slices.DeleteFunc(lines, func(l string) bool { return l == "" || strings.HasPrefix(l, "#") })
	}
	samples, err := exportertest.Build(t, cfg).Poll(t, "aff")
	if err != nil {
		t.Fatal(err)
	}
	want := series(samples)

	const n = 3
	var union []string
	foreign := false // some shard's map names a creator it does not poll
	for i := range n {
		s := exporter.Shard{Index: i, Count: n}
		foreign = foreign || !s.Owns("spring", "alice") || !s.Owns("spring", "dan")
		samples, err := exportertest.BuildShard(t, cfg, s).Poll(t, "aff")
		if err != nil {
			t.Fatalf("shard %d: %v", i, err)
		}
		for _, smp := range samples {
			if !s.Owns(smp.Label("campaign"), smp.Label("creator")) {
				t.Errorf("shard %d exports %s/%s", i, smp.Label("campaign"), smp.Label("creator"))
			}
		}
		union = append(union, series(samples)...)
	}
	if !foreign {
		t.Fatal("every shard polls alice and dan: the test proves nothing")
	}
	slices.Sort(union)
	slices.Sort(want)
	if !slices.Equal(union, want) {
		t.Errorf("the shards' series:\n%s\nwant one exporter's:\n%s", strings.Join(union, "\n"), strings.Join(want, "\n"))
	}
}

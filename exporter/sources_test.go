package exporter

import (
	"fmt"
	"testing"
)

func TestSourcesMap(t *testing.T) {
	s := NewSources([]string{"Instagram", "tiktok", "youtube", "twitter", "(none)"})
	tests := []struct{ raw, want string }{
		{"instagram", "instagram"},
		{"Instagram", "instagram"},
		{" INSTAGRAM ", "instagram"},
		{"l.instagram.com", "instagram"},
		{"https://l.instagram.com/?u=x", "instagram"},
		{"www.instagram.com", "instagram"},
		{"ig", "instagram"},
		{"youtube.com", "youtube"},
		{"m.youtube.com", "youtube"},
		{"youtu.be", "youtube"},
		{"YouTube", "youtube"},
		{"tiktok.com", "tiktok"},
		{"vm.tiktok.com", "tiktok"},
		{"t.co", "twitter"},
		{"x.com", "twitter"},
		{"(none)", "(none)"},
		// Not in the list, or not a platform: other.
		{"facebook.com", SourceOther},
		{"newsletter", SourceOther},
		{"instagram.com.evil.example", SourceOther},
		{"", SourceOther},
		{"other", SourceOther},
	}
	for _, tt := range tests {
		if got := s.Map(tt.raw); got != tt.want {
			t.Errorf("Map(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

// TestSourcesBounded: crafted values never make a new label value.
func TestSourcesBounded(t *testing.T) {
	s := NewSources([]string{"instagram", "tiktok"})
	seen := map[string]bool{}
	for i := range 1000 {
		seen[s.Map(fmt.Sprintf("crafted-%d.example", i))] = true
		seen[s.Map(fmt.Sprintf("utm_%d", i))] = true
	}
	if len(seen) != 1 || !seen[SourceOther] {
		t.Errorf("labels %v, want only %q", seen, SourceOther)
	}
	if empty := NewSources(nil); empty.Map("instagram") != SourceOther {
		t.Errorf("an empty list maps instagram to %q, want %q", empty.Map("instagram"), SourceOther)
	}
}

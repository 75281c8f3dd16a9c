package exporter

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"testing"
)

// fakeListing serves pages of ids, the cursor being the index of a page's
// first id, and records the cursors it was asked for.
type fakeListing struct {
	ids      []string
	size     int
	fail     map[string]error // cursor -> error answered
	repeat   bool             // answer the cursor asked for as the next one
	cancel   func()           // called after the call numbered cancelAt
	cancelAt int
	asked    []string
}

func (f *fakeListing) fetch(_ context.Context, cursor string) ([]string, string, error) {
	f.asked = append(f.asked, cursor)
	if f.cancel != nil && len(f.asked) == f.cancelAt {
		f.cancel()
	}
	if err := f.fail[cursor]; err != nil {
		return nil, "", err
	}
	start := 0
	if cursor != "" {
		start, _ = strconv.Atoi(cursor)
	}
	end := min(start+f.size, len(f.ids))
	next := ""
	if end < len(f.ids) {
		next = strconv.Itoa(end)
	}
	if f.repeat && cursor != "" {
		next = cursor
	}
	return f.ids[start:end], next, nil
}

func TestListUntilFound(t *testing.T) {
	ids := []string{"a", "b", "c", "d", "e", "f", "g", "h"} // four pages of two
	refused := &APIError{StatusCode: http.StatusForbidden}
	broken := &APIError{StatusCode: http.StatusInternalServerError}
	tests := []struct {
		name      string
		plan      ListingPlan
		want      []string // ids to find
		fail      map[string]error
		repeat    bool
		cancelAt  int // cancel the context during this call
		wantAsked []string
		wantFound []string
		wantRes   ListingResult
		wantErr   error
	}{
		{
			name:      "stops once everything is found",
			plan:      ListingPlan{MaxPages: 2},
			want:      []string{"a", "d"},
			wantAsked: []string{"", "2"},
			wantFound: []string{"a", "d"},
			wantRes:   ListingResult{Pages: 2, Calls: 2},
		},
		{
			name:      "stops after the page cap",
			plan:      ListingPlan{MaxPages: 2},
			want:      []string{"a", "h"},
			wantAsked: []string{"", "2"},
			wantFound: []string{"a"},
			wantRes:   ListingResult{Pages: 2, Calls: 2},
		},
		{
			name:      "reads a listing to its end",
			plan:      ListingPlan{MaxPages: 10},
			want:      []string{"a", "x"},
			wantAsked: []string{"", "2", "4", "6"},
			wantFound: []string{"a"},
			wantRes:   ListingResult{Pages: 4, Calls: 4, Complete: true},
		},
		{
			name:      "resumes and goes round once",
			plan:      ListingPlan{Resume: "4", MaxPages: 10},
			want:      []string{"b", "x"},
			wantAsked: []string{"4", "6", "", "2", "4", "6"},
			wantFound: []string{"b"},
			wantRes:   ListingResult{Pages: 6, Calls: 6, Complete: true},
		},
		{
			name:      "starts over when the saved cursor fails",
			plan:      ListingPlan{Resume: "5", MaxPages: 3},
			want:      []string{"a", "c"},
			fail:      map[string]error{"5": broken},
			wantAsked: []string{"5", "", "2"},
			wantFound: []string{"a", "c"},
			wantRes:   ListingResult{Pages: 2, Calls: 3},
		},
		{
			name:      "returns a refusal as it came",
			plan:      ListingPlan{MaxPages: 4},
			want:      []string{"a", "c"},
			fail:      map[string]error{"2": refused},
			wantAsked: []string{"", "2"},
			wantFound: []string{"a"},
			wantRes:   ListingResult{Pages: 1, Calls: 2},
			wantErr:   refused,
		},
		{
			name:      "out of time during a call keeps its cursor",
			plan:      ListingPlan{Resume: "2", MaxPages: 4},
			want:      []string{"a", "h"},
			fail:      map[string]error{"4": context.Canceled},
			cancelAt:  2,
			wantAsked: []string{"2", "4"},
			wantRes:   ListingResult{Pages: 1, Calls: 2, Cut: true, Resume: "4"},
		},
		{
			name:      "out of time between calls keeps the next cursor",
			plan:      ListingPlan{MaxPages: 4},
			want:      []string{"a", "h"},
			cancelAt:  1,
			wantAsked: []string{""},
			wantFound: []string{"a"},
			wantRes:   ListingResult{Pages: 1, Calls: 1, Cut: true, Resume: "2"},
		},
		{
			name:      "a cursor that does not advance is a bad response",
			plan:      ListingPlan{MaxPages: 4},
			want:      []string{"a", "h"},
			repeat:    true,
			wantAsked: []string{"", "2"},
			wantFound: []string{"a"},
			wantRes:   ListingResult{Pages: 2, Calls: 2},
			wantErr:   ErrBadResponse,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f := &fakeListing{ids: ids, size: 2, fail: tt.fail, repeat: tt.repeat, cancel: cancel, cancelAt: tt.cancelAt}
			want := map[string]bool{}
			for _, id := range tt.want {
				want[id] = true
			}
			var found []string
			take := func(page []string) bool {
				for _, id := range page {
					if want[id] {
						found = append(found, id)
						delete(want, id)
					}
				}
				return len(want) == 0
			}
			res, err := ListUntilFound(ctx, tt.plan, f.fetch, take)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("error: got %v, want %v", err, tt.wantErr)
			}
			if res != tt.wantRes {
				t.Errorf("result: got %+v, want %+v", res, tt.wantRes)
			}
			if !reflect.DeepEqual(f.asked, tt.wantAsked) {
				t.Errorf("cursors asked: got %q, want %q", f.asked, tt.wantAsked)
			}
			if !reflect.DeepEqual(found, tt.wantFound) {
				t.Errorf("found: got %q, want %q", found, tt.wantFound)
			}
		})
	}
}

package shopify

import (
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

func TestSearchQuery(t *testing.T) {
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	since := time.Date(2026, 5, 2, 8, 30, 15, 500, time.UTC)
	tests := []struct {
		codes []string
		start *time.Time
		since time.Time
		want  string
	}{
		{nil, nil, time.Time{}, ``},
		{nil, nil, since, `updated_at:>='2026-05-02T08:30:15Z'`},
		{nil, &start, since, `created_at:>='2026-05-01T10:00:00Z' AND updated_at:>='2026-05-02T08:30:15Z'`},
		{[]string{"ALICE10"}, nil, time.Time{}, `(discount_code:ALICE10)`},
		{[]string{"alice-10", "BOB_15", "c.5"}, &start, time.Time{},
			`(discount_code:alice-10 OR discount_code:BOB_15 OR discount_code:c.5) AND created_at:>='2026-05-01T10:00:00Z'`},
		{[]string{`A:B`, `Q"T`, `(x)`, `back\slash`}, &start, since,
			`(discount_code:"A:B" OR discount_code:"Q\"T" OR discount_code:"(x)" OR discount_code:"back\\slash") AND created_at:>='2026-05-01T10:00:00Z' AND updated_at:>='2026-05-02T08:30:15Z'`},
	}
	for _, tt := range tests {
		if got := withUpdatedSince(searchQuery(tt.codes, tt.start), tt.since); got != tt.want {
			t.Errorf("searchQuery(%q):\n got %s\nwant %s", tt.codes, got, tt.want)
		}
	}
}

// TestLearnCost: the documented costs size the first batches; a shop that
// charges more shrinks them, one that charges less never grows them.
func TestLearnCost(t *testing.T) {
	a := &api{logger: slog.New(slog.DiscardHandler), codeCost: codeCheckCost, orderCost: orderNodeCost}
	if n, p := a.codesPerQuery(), a.pageSize(250); n != 1000 || p != 199 {
		t.Fatalf("documented: %d codes a check, pages of %d; want 1000, 199", n, p)
	}
	if p := a.pageSize(50); p != 50 {
		t.Errorf("page of %d, want the 50 asked for", p)
	}
	a.learn(&a.codeCost, 500, 1000, 0)     // cheaper: ignored
	a.learn(&a.orderCost, 2+199*3, 199, 2) // cheaper: ignored
	if n, p := a.codesPerQuery(), a.pageSize(250); n != 1000 || p != 199 {
		t.Errorf("after cheaper answers: %d codes, pages of %d; want 1000, 199", n, p)
	}
	a.learn(&a.codeCost, 2000, 1000, 0)
	a.learn(&a.orderCost, 2+199*7, 199, 2)
	if n, p := a.codesPerQuery(), a.pageSize(250); n != 500 || p != 142 {
		t.Errorf("after dearer answers: %d codes, pages of %d; want 500, 142", n, p)
	}
	a.learn(&a.codeCost, 0, 10, 0) // no cost reported
	if n := a.codesPerQuery(); n != 500 {
		t.Errorf("%d codes, want 500", n)
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`, "[API] Invalid API key or access token (unrecognized login or wrong password)"},
		{`{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}},{"message":"Second"}]}`, "Throttled; Second"},
		{`{"errors":{"query":"Required parameter missing or invalid"}}`, "query: Required parameter missing or invalid"},
		{`<html>Bad Gateway</html>`, ""},
		{`{"data":{}}`, ""},
	}
	for _, tt := range tests {
		if got := errorMessage(400, []byte(tt.body)); got != tt.want {
			t.Errorf("errorMessage(%s) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestGraphQLError(t *testing.T) {
	tests := []struct {
		errs []gqlError
		kind error
		text string
	}{
		{[]gqlError{{Message: "Access denied for orders field.", Extensions: gqlErrorExtra{Code: "ACCESS_DENIED"}}}, exporter.ErrUnauthorized, "unauthorized: graphql: ACCESS_DENIED: Access denied for orders field."},
		{[]gqlError{{Message: "Field 'x' doesn't exist on type 'Order'"}}, exporter.ErrBadResponse, "malformed response: graphql: Field 'x' doesn't exist on type 'Order'"},
	}
	for _, tt := range tests {
		err := graphQLError(tt.errs)
		if !errors.Is(err, tt.kind) || err.Error() != tt.text {
			t.Errorf("graphQLError = %v, want %q matching %v", err, tt.text, tt.kind)
		}
	}
}

// TestCostNumbersAsStrings: extensions.cost numbers sent as JSON strings
// are read like numbers; a cost that is no number fails the answer.
func TestCostNumbersAsStrings(t *testing.T) {
	for _, tc := range []struct {
		name, cost string
		want       queryCost
		wantErr    bool
	}{
		{"numbers", `{"requestedQueryCost":502,"actualQueryCost":12,"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":1988,"restoreRate":100.0}}`,
			queryCost{502, ptr(12), throttleStatus{2000, 1988, 100}}, false},
		{"strings", `{"requestedQueryCost":"502","actualQueryCost":"12","throttleStatus":{"maximumAvailable":"2000.0","currentlyAvailable":"1988","restoreRate":"100.0"}}`,
			queryCost{502, ptr(12), throttleStatus{2000, 1988, 100}}, false},
		{"null actual", `{"requestedQueryCost":5,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":1000,"currentlyAvailable":995,"restoreRate":50}}`,
			queryCost{5, nil, throttleStatus{1000, 995, 50}}, false},
		{"not a number", `{"requestedQueryCost":"lots","throttleStatus":{}}`, queryCost{}, true},
	} {
		var r gqlResponse
		err := json.Unmarshal([]byte(`{"data":{},"extensions":{"cost":`+tc.cost+`}}`), &r)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%s: no error", tc.name)
			}
			continue
		}
		if err != nil || r.Extensions.Cost == nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := *r.Extensions.Cost
		if got.RequestedQueryCost != tc.want.RequestedQueryCost || got.ThrottleStatus != tc.want.ThrottleStatus ||
			(got.ActualQueryCost == nil) != (tc.want.ActualQueryCost == nil) ||
			(got.ActualQueryCost != nil && *got.ActualQueryCost != *tc.want.ActualQueryCost) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func ptr(v float64) *float64 { return &v }

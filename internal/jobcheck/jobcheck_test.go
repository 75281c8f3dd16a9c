package jobcheck

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

func TestProblems(t *testing.T) {
	tests := []struct {
		expr string
		want string
	}{
		{`sum by (job, campaign) (rate(x[5m]))`, ""},
		{`sum by (campaign) (rate(x[5m]))`, "sum by (campaign) drops job"},
		{`sum without (instance) (x)`, ""},
		{`sum without (job) (x)`, "sum without (job) drops job"},
		{`a / on (job, campaign) b`, ""},
		{`a / on (campaign) b`, "/ on (campaign) does not match on job"},
		{`a * ignoring (job) b`, "* ignoring (job) does not match on job"},
		{`count by (job) (x) or on () vector(0)`, ""},
		{`count by (job) (x) or on () y`, "or on () does not match on job"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			e, err := parser.NewParser(parser.Options{}).ParseExpr(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(Problems(e), "; "); got != tt.want {
				t.Errorf("Problems = %q, want %q", got, tt.want)
			}
		})
	}
}

// Package jobcheck finds where a PromQL expression would mix the series of
// different exporters: the rules' and the dashboards' tests both hold every
// query to keeping the job label apart, so that two exporters scraped by one
// Prometheus never double a sum.
package jobcheck

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// Problems returns the places where e mixes jobs: an aggregation whose
// result drops the job label, or a vector match (on, ignoring) that does not
// match on it. The one match allowed without job is `or on () <constant>`,
// the fallback of queries that count problems, which adds a series only
// when there is none.
func Problems(e parser.Expr) []string {
	var out []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.AggregateExpr:
			if n.Without == slices.Contains(n.Grouping, "job") {
				out = append(out, fmt.Sprintf("%s drops job", Aggregation(n)))
			}
		case *parser.BinaryExpr:
			vm := n.VectorMatching
			if vm == nil || vm.On == slices.Contains(vm.MatchingLabels, "job") {
				return nil
			}
			if n.Op == parser.LOR && vm.On && len(vm.MatchingLabels) == 0 && !selects(n.RHS) {
				return nil
			}
			kw := "ignoring"
			if vm.On {
				kw = "on"
			}
			out = append(out, fmt.Sprintf("%s %s (%s) does not match on job", n.Op, kw, strings.Join(vm.MatchingLabels, ", ")))
		}
		return nil
	})
	return out
}

// Aggregation writes an aggregation's operator and grouping, for messages.
func Aggregation(a *parser.AggregateExpr) string {
	kw := "by"
	if a.Without {
		kw = "without"
	}
	return fmt.Sprintf("%s %s (%s)", a.Op, kw, strings.Join(a.Grouping, ", "))
}

// selects reports whether e reads any series.
func selects(e parser.Expr) bool {
	found := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if _, ok := n.(*parser.VectorSelector); ok {
			found = true
		}
		return nil
	})
	return found
}

package report

import (
	"context"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// promAPI is the part of Prometheus' HTTP API a read uses: client_golang's
// api/prometheus/v1, less its warnings and infos (a read has nowhere to show them),
// so tests can stand in for a server.
type promAPI interface {
	Query(ctx context.Context, query string, ts time.Time) (model.Value, error)
	LabelValues(ctx context.Context, label string, matches []string, start, end time.Time) (model.LabelValues, error)
}

// v1API adapts v1.API to promAPI.
type v1API struct{ api v1.API }

func (a v1API) Query(ctx context.Context, query string, ts time.Time) (model.Value, error) {
	v, _, _, err := a.api.Query(ctx, query, ts)
	return v, err
}

func (a v1API) LabelValues(ctx context.Context, label string, matches []string, start, end time.Time) (model.LabelValues, error) {
	vals, _, _, err := a.api.LabelValues(ctx, label, matches, start, end)
	return vals, err
}

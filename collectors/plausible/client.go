package plausible

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// DefaultBaseURL is Plausible's hosted instance; base_url points a
// collector at a self-hosted one (its root, without /api).
const DefaultBaseURL = "https://plausible.io"

// queryPath is the Stats API v2 endpoint, the same on every instance.
const queryPath = "/api/v2/query"

// query is a Stats API v2 query body. DateRange is either a period name
// ("all") or a [from, to] pair of ISO 8601 dates or date-times.
type query struct {
	SiteID     string     `json:"site_id"`
	Metrics    []string   `json:"metrics"`
	DateRange  any        `json:"date_range"`
	Dimensions []string   `json:"dimensions,omitempty"`
	Filters    []any      `json:"filters,omitempty"`
	Pagination pagination `json:"pagination"`
}

type pagination struct {
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

// result is one row of a query's answer: dimension values and metric
// values, each in the order the query listed them.
type result struct {
	Dimensions []string  `json:"dimensions"`
	Metrics    []float64 `json:"metrics"`
}

// queryResponse is the answer to a query. meta and query (the query as
// the server ran it) are not read.
type queryResponse struct {
	Results []result `json:"results"`
}

// errorMessage extracts the text of Plausible's {"error":"..."} body.
func errorMessage(_ int, body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Error
}

// api is Plausible's Stats API on the shared client.
type api struct{ *exporter.API }

// query runs one page of q.
func (a *api) query(ctx context.Context, q query) ([]result, error) {
	var resp queryResponse
	if _, err := a.Post(ctx, queryPath, q, &resp); err != nil {
		return nil, err
	}
	if resp.Results == nil {
		return nil, fmt.Errorf("%w: no results field", exporter.ErrBadResponse)
	}
	for _, r := range resp.Results {
		if len(r.Dimensions) != len(q.Dimensions) || len(r.Metrics) != len(q.Metrics) {
			return nil, fmt.Errorf("%w: row with %d dimensions and %d metrics, want %d and %d",
				exporter.ErrBadResponse, len(r.Dimensions), len(r.Metrics), len(q.Dimensions), len(q.Metrics))
		}
	}
	return resp.Results, nil
}

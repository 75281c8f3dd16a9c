package dashboards

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
)

// SchemaVersion is the Grafana dashboard schema every dashboard is written
// in: Grafana 12's (41). Grafana migrates older schemas when it loads them,
// so a dashboard at this version loads unchanged in Grafana 12 and later.
const SchemaVersion = 41

// FS holds the dashboards' JSON files, as Grafana's file provider reads them.
//
//go:embed *.json
var FS embed.FS

// Dashboard is the part of a Grafana dashboard the tests read.
type Dashboard struct {
	// File is the dashboard's file name in FS.
	File string `json:"-"`
	// Raw is the file's content.
	Raw []byte `json:"-"`

	UID           string          `json:"uid"`
	ID            json.RawMessage `json:"id"`
	Title         string          `json:"title"`
	Description   string          `json:"description"`
	SchemaVersion int             `json:"schemaVersion"`
	Panels        []Panel         `json:"panels"`
	Links         []Link          `json:"links"`
	Templating    struct {
		List []Variable `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []Annotation `json:"list"`
	} `json:"annotations"`
}

// Panel is a panel or a row. Rows collapsed in the JSON hold their panels.
type Panel struct {
	ID          int         `json:"id"`
	Type        string      `json:"type"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Datasource  *Datasource `json:"datasource"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []Target `json:"targets"`
	Panels  []Panel  `json:"panels"`
}

// Target is a panel's query.
type Target struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	Datasource *Datasource `json:"datasource"`
}

// Datasource refers to a Grafana data source.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Link is a dashboard link.
type Link struct {
	Title string `json:"title"`
	Type  string `json:"type"`
	URL   string `json:"url"`
}

// Variable is a template variable.
type Variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource *Datasource     `json:"datasource"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
}

// Annotation is an annotation query.
type Annotation struct {
	Name       string      `json:"name"`
	Expr       string      `json:"expr"`
	Datasource *Datasource `json:"datasource"`
}

// Load reads every dashboard in FS, in file name order.
func Load() ([]Dashboard, error) {
	files, err := fs.Glob(FS, "*.json")
	if err != nil {
		return nil, err
	}
	var out []Dashboard
	for _, f := range files {
		data, err := FS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		d := Dashboard{File: f, Raw: data}
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// AllPanels returns the dashboard's panels and rows, with the panels of
// collapsed rows after their row.
func (d Dashboard) AllPanels() []Panel {
	var out []Panel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

// Query is one PromQL query of a dashboard, with Grafana's variables in it.
type Query struct {
	// Where names the query for messages: dashboard uid, panel and refId.
	Where string
	// Panel is the panel's title; empty for annotations.
	Panel string
	// Annotation is true for an annotation query.
	Annotation bool
	Expr       string
}

// Queries returns the PromQL queries of every panel target and annotation.
func (d Dashboard) Queries() []Query {
	var out []Query
	for _, p := range d.AllPanels() {
		for _, t := range p.Targets {
			out = append(out, Query{
				Where: fmt.Sprintf("%s: panel %d %q target %s", d.UID, p.ID, p.Title, t.RefID),
				Panel: p.Title,
				Expr:  t.Expr,
			})
		}
	}
	for _, a := range d.Annotations.List {
		if a.Expr == "" {
			continue
		}
		out = append(out, Query{
			Where:      fmt.Sprintf("%s: annotation %q", d.UID, a.Name),
			Annotation: true,
			Expr:       a.Expr,
		})
	}
	return out
}

// QueryString returns a query variable's query, which Grafana stores as a
// string or as an object with a query field.
func (v Variable) QueryString() string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	if json.Unmarshal(v.Query, &o) == nil {
		return o.Query
	}
	return ""
}

var labelValuesRE = regexp.MustCompile(`^label_values\((?:(.+),\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\)\s*$`)

// LabelValues splits a label_values(selector, label) variable query into
// its series selector (empty for label_values(label)) and label name.
func LabelValues(query string) (selector, label string, ok bool) {
	m := labelValuesRE.FindStringSubmatch(strings.TrimSpace(query))
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

var variableRE = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[A-Za-z0-9_]+)?\}|\$([A-Za-z0-9_]+)`)

// Expand replaces Grafana variables ($name and ${name}) with the values
// given. Variables not in vars are left as they are, so a query using one
// fails to parse.
func Expand(expr string, vars map[string]string) string {
	return variableRE.ReplaceAllStringFunc(expr, func(m string) string {
		sm := variableRE.FindStringSubmatch(m)
		name := sm[1] + sm[2]
		if v, ok := vars[name]; ok {
			return v
		}
		return m
	})
}

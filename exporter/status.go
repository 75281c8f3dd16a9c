package exporter

import (
	"html/template"
	"net/http"
	"sort"
	"time"
)

// gap is a missing or skipped object on the landing page, with the
// collector that was to export it.
type gap struct {
	ObjectStatus
	Collector string
}

// StatusPage serves the landing page: links to the endpoints and, for every
// collector, its state, last success, last error and next refresh. Errors
// shown here come from APIError and ConfigError, which never carry secrets.
type StatusPage struct {
	Cache       *Cache
	Version     string
	MetricsPath string
	Now         func() time.Time
}

var statusTmpl = template.Must(template.New("status").Funcs(template.FuncMap{
	"ago": func(now, t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return now.Sub(t).Truncate(time.Second).String() + " ago"
	},
	"in": func(now, t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		d := t.Sub(now).Truncate(time.Second)
		if d <= 0 {
			return "due"
		}
		return "in " + d.String()
	},
	"rfc3339": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>influencer_exporter</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
.up { color: #1a7f37; } .down { color: #cf222e; font-weight: bold; } .pending { color: #777; }
.finding { color: #cf222e; } .partial { color: #9a6700; font-weight: bold; }
.err { font-family: monospace; max-width: 50em; word-break: break-word; }
</style>
</head>
<body>
<h1>influencer_exporter</h1>
<p>Per-creator campaign metrics from link shorteners, shops and social platforms. Version {{.Version}}.</p>
<ul>
<li><a href="{{.MetricsPath}}">Metrics</a></li>
<li><a href="-/healthy">Health</a> · <a href="-/ready">Readiness</a></li>
</ul>
<form action="-/reload" method="post"><button type="submit">Reload configuration</button></form>
{{- with .Gaps}}
<h2 id="not-covered">Not covered</h2>
<p>Objects the configuration asks for that the last refresh did not export (missing) or did not read (skipped: previous values kept, read first next time).</p>
<table>
<thead><tr><th>campaign</th><th>creator</th><th>kind</th><th>object</th><th>collector</th><th>state</th><th>reason</th></tr></thead>
<tbody>
{{- range .}}
<tr><td>{{.Campaign}}</td><td>{{.Creator}}</td><td>{{.Kind}}</td><td>{{.ID}}</td><td><a href="#collector-{{.Collector}}">{{.Collector}}</a></td><td class="{{if eq .State "missing"}}down{{else}}partial{{end}}">{{.State}}</td><td class="err">{{.Reason}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
<h2>Collectors</h2>
<table>
<thead><tr><th>collector</th><th>type</th><th>state</th><th>objects</th><th>series</th><th>last success</th><th>last refresh took</th><th>next refresh</th><th>last error / findings</th></tr></thead>
<tbody>
{{- $now := .Now}}
{{- range .Collectors}}
<tr id="collector-{{.Name}}">
<td>{{.Name}}</td><td>{{.Type}}</td>
<td>{{if not .Attempted}}<span class="pending">pending</span>{{else if not .Up}}<span class="down">down</span>{{else if .Partial}}<span class="partial">partial</span>{{else}}<span class="up">up</span>{{end}}</td>
<td>{{with .Objects}}{{index . "exported"}} exported{{with index . "missing"}}, <span class="down">{{.}} missing</span>{{end}}{{with index . "skipped"}}, <span class="partial">{{.}} skipped</span>{{end}}{{else}}-{{end}}</td>
<td>{{.Series}}</td>
<td title="{{rfc3339 .LastSuccess}}">{{ago $now .LastSuccess}}</td>
<td>{{if .Attempted}}{{.Duration}}{{end}}</td>
<td title="{{rfc3339 .NextRefresh}}">{{in $now .NextRefresh}}</td>
<td class="err">{{.LastError}}{{range .Findings}}<div class="finding">{{.Object}}: {{.Problem}}</div>{{end}}</td>
</tr>
{{- else}}
<tr><td colspan="9">No collectors configured.</td></tr>
{{- end}}
</tbody>
</table>
</body>
</html>
`))

func (p *StatusPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	collectors := p.Cache.Status()
	var gaps []gap
	for _, c := range collectors {
		for _, g := range c.Gaps {
			gaps = append(gaps, gap{ObjectStatus: g, Collector: c.Name})
		}
	}
	sort.SliceStable(gaps, func(i, j int) bool {
		a, b := gaps[i], gaps[j]
		if a.Campaign != b.Campaign {
			return a.Campaign < b.Campaign
		}
		return a.Creator < b.Creator
	})
	_ = statusTmpl.Execute(w, struct {
		Version, MetricsPath string
		Now                  time.Time
		Gaps                 []gap
		Collectors           []CollectorStatus
	}{p.Version, p.MetricsPath, now(), gaps, collectors})
}

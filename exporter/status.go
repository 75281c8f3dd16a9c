package exporter

import (
	"html/template"
	"net/http"
	"time"
)

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
.finding { color: #cf222e; }
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
<h2>Collectors</h2>
<table>
<thead><tr><th>collector</th><th>type</th><th>state</th><th>series</th><th>last success</th><th>last refresh took</th><th>next refresh</th><th>last error / findings</th></tr></thead>
<tbody>
{{- $now := .Now}}
{{- range .Collectors}}
<tr id="collector-{{.Name}}">
<td>{{.Name}}</td><td>{{.Type}}</td>
<td>{{if not .Attempted}}<span class="pending">pending</span>{{else if .Up}}<span class="up">up</span>{{else}}<span class="down">down</span>{{end}}</td>
<td>{{.Series}}</td>
<td title="{{rfc3339 .LastSuccess}}">{{ago $now .LastSuccess}}</td>
<td>{{if .Attempted}}{{.Duration}}{{end}}</td>
<td title="{{rfc3339 .NextRefresh}}">{{in $now .NextRefresh}}</td>
<td class="err">{{.LastError}}{{range .Findings}}<div class="finding">{{.Object}}: {{.Problem}}</div>{{end}}</td>
</tr>
{{- else}}
<tr><td colspan="8">No collectors configured.</td></tr>
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
	_ = statusTmpl.Execute(w, struct {
		Version, MetricsPath string
		Now                  time.Time
		Collectors           []CollectorStatus
	}{p.Version, p.MetricsPath, now(), p.Cache.Status()})
}

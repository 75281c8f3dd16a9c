package exporter

import (
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// gap is a missing or skipped object on the landing page, with the
// collector that was to export it.
type gap struct {
	ObjectStatus
	Collector string
}

// StatusPage serves the landing page. It opens with what needs attention
// (broken links, collectors down or partial, objects missing, a failed
// reload), then links to the endpoints and, for every collector, its
// state, last success, last error and next refresh. Errors shown here come
// from APIError and ConfigError, which never carry secrets.
type StatusPage struct {
	Cache       *Cache
	Version     string
	MetricsPath string
	Now         func() time.Time
	// Links returns every link the link probes watch (LinkInspector).
	// When nil, broken links are read from the probes' snapshots
	// (influencer_link_up 0) and their findings, which know no "since".
	Links func() []LinkDetail
	// Reload returns the outcome of the last configuration load. When
	// nil, the page says nothing of reloads.
	Reload func() ReloadStatus
	// PerCreator returns the campaigns whose post series are summed per
	// creator (post_series: per_creator), which the page names: their
	// per-post series are missing from /metrics by choice.
	PerCreator func() []string
	// Lifecycle shows the reload button (--web.enable-lifecycle); without
	// it the page says how to reload.
	Lifecycle bool
}

// attentionRows bounds each list of the attention section: on a bad night
// for an agency-sized config the first rows say what is wrong, the tables
// below (and the /links page) hold the rest.
const attentionRows = 20

// brokenLink is a broken link on the landing page.
type brokenLink struct {
	LinkDetail
	Anchor string
}

// attention is what the landing page opens with.
type attention struct {
	Broken      []brokenLink
	MoreBroken  int
	Down        []CollectorStatus
	Partial     []CollectorStatus
	Missing     []gap
	MoreMissing int
	// FailedReload is the last reload when it failed.
	FailedReload *ReloadStatus
	// For the all-clear line.
	LinksUp, CollectorsUp, Pending int
}

// Empty reports whether nothing needs attention.
func (a attention) Empty() bool {
	return len(a.Broken) == 0 && len(a.Down) == 0 && len(a.Partial) == 0 && len(a.Missing) == 0 && a.FailedReload == nil
}

var statusTmpl = template.Must(template.New("status").Funcs(template.FuncMap{
	"ago": HumanAgo,
	"in": func(now, t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		if !t.After(now) {
			return "due"
		}
		return HumanAgo(now, t)
	},
	"dur": HumanDuration,
	"rfc3339": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"join": strings.Join,
	"count": func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	},
	"total": func(m map[string]int) int {
		n := 0
		for _, v := range m {
			n += v
		}
		return n
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
.err { font-family: monospace; max-width: 50em; word-break: break-word; white-space: pre-wrap; }
#attention { border-left: 0.3em solid #cf222e; padding: 0.1em 1em 0.6em; margin: 1em 0 1.5em; }
#attention.clear { border-left-color: #1a7f37; }
#attention h3 { margin: 0.8em 0 0.3em; font-size: 1em; }
</style>
</head>
<body>
<h1>influencer_exporter</h1>
<p>Per-creator campaign metrics from link shorteners, shops and social platforms. Version {{.Version}}.</p>
{{- $now := .Now}}
{{- with .Attention}}
{{- if .Empty}}
<section id="attention" class="clear">
<p class="up">Nothing needs attention: {{count .LinksUp "link" "links"}} up, {{count .CollectorsUp "collector" "collectors"}} up{{with .Pending}}, {{count . "collector" "collectors"}} waiting for {{if eq . 1}}its{{else}}their{{end}} first refresh{{end}}.</p>
</section>
{{- else}}
<section id="attention">
<h2>Needs attention</h2>
{{- with .FailedReload}}
<h3 id="attention-reload">Configuration reload failed</h3>
<p><span class="down" title="{{rfc3339 .At}}">The last reload, {{ago $now .At}}, failed:</span></p>
<div class="err">{{.Err}}</div>
<p>{{if .LastSuccess.IsZero}}No configuration has loaded.{{else}}The exporter keeps running the configuration loaded <span title="{{rfc3339 .LastSuccess}}">{{ago $now .LastSuccess}}</span>: fix the file and reload.{{end}}</p>
{{- end}}
{{- with .Broken}}
<h3 id="attention-links">Broken links</h3>
<table>
<thead><tr><th>campaign</th><th>creator</th><th>provider</th><th>link</th><th>reason</th><th>broken since</th></tr></thead>
<tbody>
{{- range .}}
<tr><td>{{.Campaign}}</td><td>{{.Creator}}</td><td>{{.Provider}}</td><td><a href="links#{{.Anchor}}">{{.Link}}</a></td><td class="err">{{.Reason}}</td><td title="{{rfc3339 .Since}}">{{if .Since.IsZero}}-{{else}}{{ago $now .Since}}{{end}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- with .MoreBroken}}
<p>… and {{count . "more broken link" "more broken links"}}: see <a href="links">the links page</a>.</p>
{{- end}}
{{- if or .Down .Partial}}
<h3 id="attention-collectors">Collectors down or partial</h3>
<table>
<thead><tr><th>collector</th><th>type</th><th>state</th><th>what is wrong</th><th>last success (values as of)</th></tr></thead>
<tbody>
{{- range .Down}}
<tr><td><a href="#collector-{{.Name}}">{{.Name}}</a></td><td>{{.Type}}</td><td class="down">down</td><td class="err">{{.LastError}}</td><td title="{{rfc3339 .LastSuccess}}">{{ago $now .LastSuccess}}</td></tr>
{{- end}}
{{- range .Partial}}
<tr><td><a href="#collector-{{.Name}}">{{.Name}}</a></td><td>{{.Type}}</td><td class="partial">partial</td><td>{{with index .Objects "missing"}}{{.}} missing{{end}}{{if and (index .Objects "missing") (index .Objects "skipped")}}, {{end}}{{with index .Objects "skipped"}}{{.}} skipped (previous values kept){{end}} of {{count (total .Objects) "object" "objects"}}: <a href="#not-covered">which and why</a></td><td title="{{rfc3339 .LastSuccess}}">{{ago $now .LastSuccess}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- with .Missing}}
<h3 id="attention-missing">Objects missing</h3>
<table>
<thead><tr><th>campaign</th><th>creator</th><th>kind</th><th>object</th><th>collector</th><th>reason</th></tr></thead>
<tbody>
{{- range .}}
<tr><td>{{.Campaign}}</td><td>{{.Creator}}</td><td>{{.Kind}}</td><td>{{.ID}}</td><td><a href="#collector-{{.Collector}}">{{.Collector}}</a></td><td class="err">{{.Reason}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- with .MoreMissing}}
<p>… and {{count . "more missing object" "more missing objects"}}: see <a href="#not-covered">Not covered</a>.</p>
{{- end}}
</section>
{{- end}}
{{- end}}
<ul>
<li><a href="{{.MetricsPath}}">Metrics</a></li>
<li><a href="links">Tracking links</a></li>
<li><a href="-/healthy">Health</a> · <a href="-/ready">Readiness</a></li>
</ul>
{{if .Lifecycle}}<form action="-/reload" method="post"><button type="submit">Reload configuration</button>{{else}}<p>Reload the configuration with <code>SIGHUP</code> (<code>POST /-/reload</code> needs <code>--web.enable-lifecycle</code>).{{end}}
{{- with .Reload}}{{if not .At.IsZero}}
<span id="last-reload">Last reload: <span title="{{rfc3339 .At}}">{{ago $now .At}}</span>, {{if .Err}}<span class="down">failed</span>: <span class="err">{{.Err}}</span>{{if not .LastSuccess.IsZero}} (running the configuration loaded <span title="{{rfc3339 .LastSuccess}}">{{ago $now .LastSuccess}}</span>){{end}}{{else}}<span class="up">OK</span>{{end}}.</span>
{{- end}}{{end}}
{{if .Lifecycle}}</form>{{else}}</p>{{end}}
{{- with .PerCreator}}
<p id="per-creator">Post series summed per creator and platform (<code>post_series: per_creator</code>; no per-post series, early curve off) in {{count (len .) "campaign" "campaigns"}}: {{join . ", "}}.</p>
{{- end}}
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
<h2 id="collectors">Collectors</h2>
<table>
<thead><tr><th>collector</th><th>type</th><th>state</th><th>objects</th><th>series</th><th>last success</th><th>last refresh took</th><th>next refresh</th><th>last error / findings</th></tr></thead>
<tbody>
{{- $broken := .BrokenBy}}
{{- range .Collectors}}
<tr id="collector-{{.Name}}">
<td>{{.Name}}</td><td>{{.Type}}</td>
<td>{{if not .Attempted}}<span class="pending">pending</span>{{else if not .Up}}<span class="down">down</span>{{else if .Partial}}<span class="partial">partial</span>{{else}}<span class="up">up</span>{{end}}{{if .Attempted}}{{with index $broken .Name}}, <span class="down">{{count . "link broken" "links broken"}}</span>{{end}}{{end}}</td>
<td>{{with .Objects}}{{index . "exported"}} exported{{with index . "missing"}}, <span class="down">{{.}} missing</span>{{end}}{{with index . "skipped"}}, <span class="partial">{{.}} skipped</span>{{end}}{{else}}-{{end}}</td>
<td>{{.Series}}</td>
<td title="{{rfc3339 .LastSuccess}}">{{ago $now .LastSuccess}}</td>
<td>{{if .Attempted}}{{dur .Duration}}{{end}}</td>
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
	var reload *ReloadStatus
	if p.Reload != nil {
		rs := p.Reload()
		reload = &rs
	}
	probed := probedLinks(p.Cache, collectors)
	var perCreator []string
	if p.PerCreator != nil {
		perCreator = p.PerCreator()
	}
	_ = statusTmpl.Execute(w, struct {
		Version, MetricsPath string
		Now                  time.Time
		Attention            attention
		Reload               *ReloadStatus
		PerCreator           []string
		Lifecycle            bool
		Gaps                 []gap
		Collectors           []CollectorStatus
		BrokenBy             map[string]int
	}{p.Version, p.MetricsPath, now(), p.attention(collectors, gaps, reload, probed.links), reload, perCreator, p.Lifecycle, gaps, collectors, probed.brokenBy})
}

// attention gathers what the landing page opens with.
// probed are the links the snapshots hold, used when p.Links is nil.
func (p *StatusPage) attention(collectors []CollectorStatus, gaps []gap, reload *ReloadStatus, probed []LinkDetail) attention {
	var a attention
	if reload != nil && reload.Err != nil {
		a.FailedReload = reload
	}
	links := probed
	if p.Links != nil {
		links = p.Links()
	}
	var broken []brokenLink
	for _, l := range links {
		switch l.State {
		case LinkStateUp:
			a.LinksUp++
		case LinkStateBroken:
			broken = append(broken, brokenLink{LinkDetail: l, Anchor: LinkAnchor(l.Provider, l.Link)})
		}
	}
	slices.SortStableFunc(broken, func(x, y brokenLink) int { return compareLinks(x.LinkDetail, y.LinkDetail) })
	if len(broken) > attentionRows {
		a.MoreBroken = len(broken) - attentionRows
		broken = broken[:attentionRows]
	}
	a.Broken = broken

	for _, c := range collectors {
		switch {
		case !c.Attempted:
			a.Pending++
		case !c.Up:
			a.Down = append(a.Down, c)
		case c.Partial():
			a.Partial = append(a.Partial, c)
		default:
			a.CollectorsUp++
		}
	}
	for _, g := range gaps {
		if g.State != StateMissing {
			continue
		}
		if len(a.Missing) == attentionRows {
			a.MoreMissing++
			continue
		}
		a.Missing = append(a.Missing, g)
	}
	return a
}

// probed is what the collectors' snapshots say of probed links.
type probed struct {
	// links are the probed links, up or broken, with the reason of
	// their collector's findings.
	links []LinkDetail
	// brokenBy counts the broken links of each collector.
	brokenBy map[string]int
}

// probedLinks reads the links of every snapshot holding
// influencer_link_up: the link probes' view of their last round.
func probedLinks(cache *Cache, collectors []CollectorStatus) probed {
	out := probed{brokenBy: map[string]int{}}
	for _, c := range collectors {
		var findings map[string]string
		for _, s := range cache.samplesOf(c.Name) {
			if s.Metric != LinkUp {
				continue
			}
			l := LinkDetail{
				Campaign: s.Label(LabelCampaign),
				Creator:  s.Label(LabelCreator),
				Provider: s.Label(LabelProvider),
				Link:     s.Label("link"),
				State:    LinkStateUp,
			}
			if s.Value == 0 {
				if findings == nil {
					findings = make(map[string]string, len(c.Findings))
					for _, f := range c.Findings {
						findings[f.Object] = f.Problem
					}
				}
				l.State = LinkStateBroken
				l.Reason = findings[l.Provider+"/"+l.Link]
				out.brokenBy[c.Name]++
			}
			out.links = append(out.links, l)
		}
	}
	return out
}

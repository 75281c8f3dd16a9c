package exporter

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LinksPage serves /links, every tracking link the link probes watch with
// its state and its last probe's redirect chain, hop by hop, and
// /links/probe, which probes one link now. Mount it on both paths: the
// path's last element, "probe" or not, picks the page.
//
// An on-demand probe costs requests to the link's shortener and shop, so
// /links/probe runs one probe at a time, and refuses requests a browser
// marks as sent from another site, so that no page elsewhere can make the
// exporter probe.
type LinksPage struct {
	// Inspect returns the running link probes. It is called on every
	// request, so the probes of a reloaded configuration answer.
	Inspect func() []LinkInspector
	// Now is the clock of the "ago" columns; time.Now if nil.
	Now func() time.Time

	once sync.Once
	csrf *http.CrossOriginProtection
	busy chan struct{} // holds the on-demand probe running
}

// DefaultLinksPageRows is how many links the /links page shows unless
// asked for more (limit=N, limit=0 for all); the JSON form has no limit.
const DefaultLinksPageRows = 500

// LinkInspectors returns the collectors among instances that inspect
// links: LinksPage.Inspect of the running exporter.
func LinkInspectors(instances []*Instance) []LinkInspector {
	var out []LinkInspector
	for _, in := range instances {
		if li, ok := in.Collector.(LinkInspector); ok {
			out = append(out, li)
		}
	}
	return out
}

func (p *LinksPage) init() {
	p.once.Do(func() {
		p.csrf = http.NewCrossOriginProtection()
		p.busy = make(chan struct{}, 1)
	})
}

func (p *LinksPage) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *LinksPage) inspectors() []LinkInspector {
	if p.Inspect == nil {
		return nil
	}
	return p.Inspect()
}

func (p *LinksPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.init()
	if path.Base(r.URL.Path) == "probe" {
		p.serveProbe(w, r)
		return
	}
	p.serveList(w, r)
}

// linkFilter is the query of /links: exact values, "" for any.
type linkFilter struct {
	Campaign, Creator, State string
}

func (f linkFilter) match(d LinkDetail) bool {
	return (f.Campaign == "" || d.Campaign == f.Campaign) &&
		(f.Creator == "" || d.Creator == f.Creator) &&
		(f.State == "" || d.State == f.State)
}

// stateOrder puts what needs attention first.
var stateOrder = map[string]int{LinkStateBroken: 0, LinkStateMissing: 1, LinkStateSkipped: 2, LinkStatePending: 3, LinkStateUp: 4}

// sortDetails orders links broken first, then missing, skipped, pending
// and up, each by campaign, creator, provider and link.
func sortDetails(ds []LinkDetail) {
	slices.SortStableFunc(ds, func(a, b LinkDetail) int {
		return cmp.Or(cmp.Compare(stateOrder[a.State], stateOrder[b.State]), compareLinks(a, b))
	})
}

// compareLinks orders links by campaign, creator, provider and link: the
// order within a state on /links, and of the broken links the landing
// page opens with.
func compareLinks(a, b LinkDetail) int {
	return cmp.Or(cmp.Compare(a.Campaign, b.Campaign), cmp.Compare(a.Creator, b.Creator),
		cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Link, b.Link))
}

// format reads the format parameter: "json", or "" (HTML).
func format(r *http.Request) (string, error) {
	switch f := r.FormValue("format"); f {
	case "", "html":
		return "", nil
	case "json":
		return "json", nil
	default:
		return "", fmt.Errorf("unknown format %q: use format=json, or leave it out for HTML", f)
	}
}

func (p *LinksPage) serveList(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "This page answers GET only.", http.StatusMethodNotAllowed)
		return
	}
	f, err := format(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	filter := linkFilter{Campaign: q.Get("campaign"), Creator: q.Get("creator"), State: q.Get("state")}
	inspectors := p.inspectors()
	var all []LinkDetail
	for _, in := range inspectors {
		all = append(all, in.LinkDetails()...)
	}
	sortDetails(all)
	shown := make([]LinkDetail, 0, len(all))
	for _, d := range all {
		if filter.match(d) {
			shown = append(shown, d)
		}
	}
	if f == "json" {
		writeJSON(w, http.StatusOK, shown)
		return
	}
	// A browser page of 20,000 links is tens of megabytes: the HTML
	// shows the first rows (broken first) and says how many it left out.
	limit := DefaultLinksPageRows
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			http.Error(w, fmt.Sprintf("limit must be a number of rows, 0 for all, got %q", v), http.StatusBadRequest)
			return
		}
		limit = n
	}
	matching := len(shown)
	if limit > 0 && len(shown) > limit {
		shown = shown[:limit]
	}

	page := linksPageData{
		Title:      "Tracking links",
		Now:        p.now(),
		Probes:     len(inspectors),
		Filter:     filter,
		States:     []string{LinkStateBroken, LinkStateMissing, LinkStateSkipped, LinkStatePending, LinkStateUp},
		Total:      len(all),
		Matching:   matching,
		Links:      shown,
		Self:       path.Base(r.URL.Path),
		ProbePath:  path.Base(r.URL.Path) + "/probe",
		Home:       "./",
		OpenBroken: true,
	}
	page.JSON = page.Self + "?" + withFormat(q)
	if matching > len(shown) {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("limit", "0")
		page.All = page.Self + "?" + v.Encode()
	}
	campaigns, creators := map[string]bool{}, map[string]bool{}
	counts := map[string]int{}
	for _, d := range all {
		campaigns[d.Campaign], creators[d.Creator] = true, true
		if (filter.Campaign == "" || d.Campaign == filter.Campaign) && (filter.Creator == "" || d.Creator == filter.Creator) {
			counts[d.State]++
		}
	}
	page.Campaigns, page.Creators = sortedNames(campaigns), sortedNames(creators)
	for _, s := range page.States {
		if n := counts[s]; n > 0 {
			v := url.Values{"state": {s}}
			if filter.Campaign != "" {
				v.Set("campaign", filter.Campaign)
			}
			if filter.Creator != "" {
				v.Set("creator", filter.Creator)
			}
			page.Counts = append(page.Counts, stateCount{State: s, N: n, Href: page.Self + "?" + v.Encode()})
		}
	}
	writeLinksHTML(w, http.StatusOK, page)
}

// withFormat is q with format=json.
func withFormat(q url.Values) string {
	v := url.Values{}
	for k, vs := range q {
		v[k] = vs
	}
	v.Set("format", "json")
	return v.Encode()
}

func sortedNames(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// crossSite reports whether a browser says r comes from another site: the
// guard of the GET form of /links/probe, which CrossOriginProtection lets
// through as a safe method. A request without Sec-Fetch-Site or Origin is
// taken for a same-origin or non-browser one (curl), as
// CrossOriginProtection does.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		return err != nil || u.Host != r.Host
	}
	return false
}

func (p *LinksPage) serveProbe(w http.ResponseWriter, r *http.Request) {
	f, ferr := format(r)
	fail := func(code int, msg string) {
		if f == "json" {
			writeJSON(w, code, map[string]string{"error": msg})
			return
		}
		http.Error(w, msg, code)
	}
	switch r.Method {
	case http.MethodPost:
		if err := p.csrf.Check(r); err != nil {
			fail(http.StatusForbidden, "cross-origin request refused: probe from the exporter's own /links page, or without a browser")
			return
		}
	case http.MethodGet:
		if crossSite(r) {
			fail(http.StatusForbidden, "cross-site request refused: probe from the exporter's own /links page, or without a browser")
			return
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		fail(http.StatusMethodNotAllowed, "This endpoint answers GET and POST, with link=<link label or short URL>.")
		return
	}
	if ferr != nil {
		fail(http.StatusBadRequest, ferr.Error())
		return
	}
	link := strings.TrimSpace(r.FormValue("link"))
	if link == "" {
		fail(http.StatusBadRequest, "missing parameter link: the link's label (bit.ly/abc) or short URL")
		return
	}
	inspectors := p.inspectors()
	if len(inspectors) == 0 {
		fail(http.StatusNotFound, "no link probe is configured: add a collector of type linkprobe")
		return
	}
	select {
	case p.busy <- struct{}{}:
		defer func() { <-p.busy }()
	default:
		w.Header().Set("Retry-After", "1")
		fail(http.StatusTooManyRequests, "another on-demand probe is running: one at a time, so that this endpoint cannot flood a shortener or shop")
		return
	}

	d, err := probeLink(r.Context(), inspectors, link)
	switch {
	case errors.Is(err, ErrUnknownLink):
		fail(http.StatusNotFound, fmt.Sprintf("%v: %q (the links page lists those it watches)", ErrUnknownLink, link))
		return
	case errors.Is(err, context.DeadlineExceeded):
		fail(http.StatusGatewayTimeout, fmt.Sprintf("probe of %q did not finish in time", link))
		return
	case r.Context().Err() != nil:
		return // the client left
	case err != nil:
		fail(http.StatusInternalServerError, err.Error())
		return
	}
	if f == "json" {
		writeJSON(w, http.StatusOK, d)
		return
	}
	list := "../" + path.Base(path.Dir(r.URL.Path))
	writeLinksHTML(w, http.StatusOK, linksPageData{
		Title:     "Probe of " + d.Link,
		Now:       p.now(),
		Probes:    len(inspectors),
		Links:     []LinkDetail{d},
		Self:      list,
		ProbePath: path.Base(r.URL.Path),
		Home:      "../",
		Single:    true,
		Back:      list + "#" + LinkAnchor(d.Provider, d.Link),
	})
}

// probeLink asks each inspector in turn: the first that watches link
// probes it.
func probeLink(ctx context.Context, inspectors []LinkInspector, link string) (LinkDetail, error) {
	for _, in := range inspectors {
		d, err := in.ProbeLink(ctx, link)
		if errors.Is(err, ErrUnknownLink) {
			continue
		}
		return d, err
	}
	return LinkDetail{}, ErrUnknownLink
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeLinksHTML(w http.ResponseWriter, code int, data linksPageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_ = linksTmpl.Execute(w, data)
}

type stateCount struct {
	State string
	N     int
	Href  string
}

type linksPageData struct {
	Title  string
	Now    time.Time
	Probes int // link probes configured
	Filter linkFilter
	States []string
	// Campaigns and Creators are the values of all links, for the
	// filter form; Counts the links of each state under the campaign and
	// creator filters.
	Campaigns, Creators []string
	Counts              []stateCount
	// Total counts every link, Matching those the filter keeps; Links
	// are the rows shown, at most the limit; All is the page without
	// it, "" when nothing was left out.
	Total, Matching int
	Links           []LinkDetail
	All             string
	// Self is the list page relative to this one, JSON its JSON form,
	// ProbePath where the probe buttons post, Home the landing page.
	Self, JSON, ProbePath, Home string
	// Single is the page of one on-demand probe; Back its link to the
	// link's row on the list.
	Single     bool
	Back       string
	OpenBroken bool
}

var linksTmpl = template.Must(template.New("links").Funcs(template.FuncMap{
	"ago":    HumanAgo,
	"dur":    HumanDuration,
	"anchor": LinkAnchor,
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
<title>{{.Title}} · influencer_exporter</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
tr:target, tr:target + tr.chain { background: #fff8c5; }
tr.chain > td { border-top: none; padding-left: 2em; }
.up { color: #1a7f37; } .broken, .missing { color: #cf222e; font-weight: bold; } .skipped { color: #9a6700; font-weight: bold; } .pending { color: #777; }
.why { min-width: 16em; max-width: 32em; word-break: break-word; } .note { color: #555; }
.link { font-family: monospace; white-space: nowrap; }
.url { font-family: monospace; word-break: break-all; min-width: 18em; max-width: 40em; }
.hops td, .hops th { font-size: 0.9em; } .failed { color: #cf222e; font-weight: bold; }
form.filter label { margin-right: 1em; } form.probe { margin: 0; }
</style>
</head>
<body>
<p><a href="{{.Home}}">influencer_exporter</a>{{if .Single}} · <a href="{{.Back}}">all tracking links</a>{{end}}</p>
<h1>{{.Title}}</h1>
{{- if eq .Probes 0}}
<p>No link probe is configured: add a collector of type <code>linkprobe</code>.</p>
{{- end}}
{{- if not .Single}}
<p>Every tracking link the link probe watches, what needs attention first, as of <span title="{{rfc3339 .Now}}">{{.Now.UTC.Format "15:04:05 UTC"}}</span>.
{{- with .Counts}} {{range $i, $c := .}}{{if $i}}, {{end}}<a class="{{$c.State}}" href="{{$c.Href}}">{{$c.N}} {{$c.State}}</a>{{end}}.{{end}}
Open a row's chain for each request of its last probe; <em>Probe now</em> runs one probe at once without changing the exported series. <a href="{{.JSON}}">JSON</a></p>
<form class="filter" method="get">
<label>campaign <select name="campaign"><option value="">any</option>{{range .Campaigns}}<option{{if eq . $.Filter.Campaign}} selected{{end}}>{{.}}</option>{{end}}</select></label>
<label>creator <select name="creator"><option value="">any</option>{{range .Creators}}<option{{if eq . $.Filter.Creator}} selected{{end}}>{{.}}</option>{{end}}</select></label>
<label>state <select name="state"><option value="">any</option>{{range .States}}<option{{if eq . $.Filter.State}} selected{{end}}>{{.}}</option>{{end}}</select></label>
<button type="submit">Filter</button> <a href="{{.Self}}">clear</a>
</form>
<p>{{len .Links}} of {{.Total}} links shown.{{if .All}} <strong>{{len .Links}} of the {{.Matching}} matching links are shown, broken first</strong>: filter by campaign, creator or state, or <a href="{{.All}}">show all {{.Matching}}</a> (a large page).{{end}}</p>
{{- end}}
{{- $now := .Now}}{{$probe := .ProbePath}}{{$open := .OpenBroken}}
<table>
<thead><tr><th>campaign</th><th>creator</th><th>provider</th><th>link</th><th>state</th><th>reason / note</th><th>since</th><th>last probe</th><th>took</th><th>status</th><th></th></tr></thead>
<tbody>
{{- range .Links}}{{$row := .}}
<tr id="{{anchor .Provider .Link}}">
<td>{{.Campaign}}</td><td>{{.Creator}}</td><td>{{.Provider}}</td><td class="link">{{.Link}}</td>
<td class="{{.State}}">{{.State}}</td>
<td class="why">{{.Reason}}{{with .Note}}<div class="note">{{.}}</div>{{end}}</td>
<td title="{{rfc3339 .Since}}">{{if not .Since.IsZero}}{{ago $now .Since}}{{end}}</td>
<td title="{{rfc3339 .ProbedAt}}">{{ago $now .ProbedAt}}</td>
<td>{{if not .ProbedAt.IsZero}}{{dur .Duration}}{{end}}</td>
<td>{{with .Status}}{{.}}{{else}}{{if not .ProbedAt.IsZero}}none{{end}}{{end}}</td>
<td>{{if ne .State "missing"}}<form class="probe" method="post" action="{{$probe}}"><input type="hidden" name="link" value="{{.Link}}"><button type="submit">Probe now</button></form>{{end}}</td>
</tr>
{{- with .Hops}}
<tr class="chain"><td colspan="11"><details{{if or $.Single (and $open (eq $row.State "broken"))}} open{{end}}><summary>redirect chain: {{len .}} request{{if ne (len .) 1}}s{{end}}</summary>
<table class="hops"><thead><tr><th>#</th><th>method</th><th>URL</th><th>status</th><th>took</th><th>location</th><th>error</th><th>failed expect</th></tr></thead><tbody>
{{- range $i, $h := .}}
<tr><td>{{$i}}</td><td>{{$h.Method}}</td><td class="url">{{$h.URL}}{{if $h.Shared}} <span class="note" title="probed once for every link leading to this page; the utm_* values are another link's">(shared)</span>{{end}}</td><td>{{with $h.Status}}{{.}}{{else}}none{{end}}</td><td>{{dur $h.Took}}</td><td class="url">{{$h.Location}}</td><td class="why failed">{{$h.Error}}</td><td class="failed">{{$h.Expect}}</td></tr>
{{- end}}
</tbody></table></details></td></tr>
{{- end}}
{{- else}}
<tr><td colspan="11">No links{{if not .Single}} match{{end}}.</td></tr>
{{- end}}
</tbody>
</table>
</body>
</html>
`))

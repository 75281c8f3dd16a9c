package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
)

const (
	// keep is how many notifications the page lists.
	keep = 100
	// maxBody bounds a notification's body. Alertmanager sends every alert
	// of a group in one notification unless its webhook sets max_alerts;
	// 4 MiB holds a few thousand alerts of this project's rules.
	maxBody = 4 << 20
	// maxShown bounds the alerts of one notification the page keeps; the
	// log has them all.
	maxShown = 50
	// maxValue bounds a label or annotation value on the page.
	maxValue = 1000
)

// objectLabels are the labels naming what an alert is about, in the order
// a line shows them: the campaign and creator it concerns, then the link,
// code, post or collector.
var objectLabels = []string{"campaign", "creator", "provider", "link", "code", "post", "collector"}

// notification is Alertmanager's webhook payload, version 4: one group of
// alerts for one receiver. See webhook_config in Alertmanager's
// configuration documentation.
type notification struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   uint64            `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []alert           `json:"alerts"`
}

type alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// received is a notification as the page shows it.
type received struct {
	at   time.Time
	text string
}

// receiver logs every alert of the notifications Alertmanager posts, one
// line each, and keeps the last ones for its page.
type receiver struct {
	logger *slog.Logger
	now    func() time.Time

	mu     sync.Mutex
	recent []received // oldest first, at most keep
}

func newReceiver(logger *slog.Logger, now func() time.Time) *receiver {
	return &receiver{logger: logger, now: now}
}

// handler serves the webhook, the page and the health endpoint.
func (rc *receiver) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /alerts", rc.receive)
	mux.HandleFunc("GET /{$}", rc.page)
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "alertlog is Healthy.")
	})
	return mux
}

func (rc *receiver) receive(w http.ResponseWriter, r *http.Request) {
	var n notification
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(&n); err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			// Alertmanager does not retry a 4xx: say here what was lost.
			rc.logger.Warn("notification dropped: larger than the limit; set max_alerts on the webhook", "limit_bytes", maxBody)
			http.Error(w, fmt.Sprintf("notification larger than %d bytes", maxBody), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "not an Alertmanager notification: "+err.Error(), http.StatusBadRequest)
		return
	}
	if n.Status != "firing" && n.Status != "resolved" {
		http.Error(w, fmt.Sprintf("not an Alertmanager notification: status %q, want firing or resolved", n.Status), http.StatusBadRequest)
		return
	}
	if n.Version != "4" {
		rc.logger.Warn("unknown notification version, reading it as version 4", "version", n.Version, "receiver", n.Receiver)
	}
	// On the page first, then logged: whoever reads a notification's
	// log line finds it on the page too.
	at := rc.now()
	rc.mu.Lock()
	if len(rc.recent) == keep {
		copy(rc.recent, rc.recent[1:])
		rc.recent = rc.recent[:keep-1]
	}
	rc.recent = append(rc.recent, received{at: at, text: render(at, n)})
	rc.mu.Unlock()

	for _, a := range n.Alerts {
		rc.logger.Info("alert", logAttrs(n.Receiver, a)...)
	}
	if n.TruncatedAlerts > 0 {
		rc.logger.Warn("alertmanager left alerts out of the notification (max_alerts)", "receiver", n.Receiver, "truncated_alerts", n.TruncatedAlerts)
	}
	w.WriteHeader(http.StatusOK)
}

// logAttrs are an alert's fields on its log line: who got it, whether it
// fires, what it is and about which campaign, creator and object, its
// summary, and since or until when.
func logAttrs(receiver string, a alert) []any {
	attrs := []any{"receiver", receiver, "status", a.Status, "alertname", a.Labels["alertname"]}
	if s := a.Labels["severity"]; s != "" {
		attrs = append(attrs, "severity", s)
	}
	for _, l := range objectLabels {
		if v := a.Labels[l]; v != "" {
			attrs = append(attrs, l, v)
		}
	}
	if s := a.Annotations["summary"]; s != "" {
		attrs = append(attrs, "summary", s)
	}
	if a.Status == "resolved" {
		return append(attrs, "ended", a.EndsAt.UTC().Format(time.RFC3339))
	}
	return append(attrs, "since", a.StartsAt.UTC().Format(time.RFC3339))
}

// render is a notification as text for the page: a line for the group,
// then each alert with its summary, description and runbook.
func render(at time.Time, n notification) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s  %s  %d alert(s)  %s\n", at.UTC().Format(time.DateTime+" MST"), clean(n.Receiver),
		strings.ToUpper(clean(n.Status)), len(n.Alerts), labelList(n.GroupLabels, sortedKeys(n.GroupLabels)))
	for i, a := range n.Alerts {
		if i == maxShown {
			fmt.Fprintf(&b, "  ... and %d more alert(s), in the log\n", len(n.Alerts)-maxShown)
			break
		}
		when := "since " + a.StartsAt.UTC().Format(time.DateTime+" MST")
		if a.Status == "resolved" {
			when = "ended " + a.EndsAt.UTC().Format(time.DateTime+" MST")
		}
		fmt.Fprintf(&b, "  %-8s %-8s %s  %s  %s\n", strings.ToUpper(clean(a.Status)), clean(a.Labels["severity"]),
			clean(a.Labels["alertname"]), labelList(a.Labels, objectLabels), when)
		for _, an := range []string{"summary", "description", "runbook_url"} {
			if v := a.Annotations[an]; v != "" {
				fmt.Fprintf(&b, "      %s\n", clean(v))
			}
		}
	}
	if n.TruncatedAlerts > 0 {
		fmt.Fprintf(&b, "  ... and %d alert(s) Alertmanager left out (max_alerts)\n", n.TruncatedAlerts)
	}
	return b.String()
}

func (rc *receiver) page(w http.ResponseWriter, _ *http.Request) {
	rc.mu.Lock()
	recent := append([]received(nil), rc.recent...)
	rc.mu.Unlock()

	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if len(recent) == 0 {
		fmt.Fprintln(w, "alertlog: no notification from Alertmanager yet.")
		fmt.Fprintln(w, "Each one will be listed here, newest first, and logged one line per alert.")
		return
	}
	fmt.Fprintf(w, "alertlog: the last %d notifications from Alertmanager (at most %d), newest first.\n", len(recent), keep)
	fmt.Fprintln(w, "Each is also logged, one line per alert.")
	for i := len(recent) - 1; i >= 0; i-- {
		fmt.Fprintln(w)
		fmt.Fprint(w, recent[i].text)
	}
}

// labelList shows the named labels that are set, as name=value.
func labelList(labels map[string]string, names []string) string {
	var parts []string
	for _, l := range names {
		if v := labels[l]; v != "" {
			parts = append(parts, clean(l)+"="+clean(v))
		}
	}
	return strings.Join(parts, " ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// alertname first: it says what the group is.
	slices.SortFunc(keys, func(a, b string) int {
		switch {
		case a == "alertname":
			return -1
		case b == "alertname":
			return 1
		}
		return strings.Compare(a, b)
	})
	return keys
}

// clean keeps a value from the payload on one line of bounded length.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > maxValue {
		s = string(r[:maxValue]) + "..."
	}
	return s
}

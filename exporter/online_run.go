package exporter

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// onlineTimeout bounds one collector's online check, its retries
// included: long enough for a slow provider, short enough that an
// operator waiting at a terminal learns of a hanging one.
const onlineTimeout = 30 * time.Second

// expirySoon is how close an expiry must be for the check to say the
// token needs renewing now.
const expirySoon = 7 * 24 * time.Hour

// SelectOnline returns the instances an online check covers: every one
// when only is "", else the one named only. An unknown name is an error
// that lists the configured names.
func SelectOnline(instances []*Instance, only string) ([]*Instance, error) {
	if only == "" {
		return instances, nil
	}
	names := make([]string, 0, len(instances))
	for _, i := range instances {
		if i.Name == only {
			return []*Instance{i}, nil
		}
		names = append(names, i.Name)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("no collector named %q; the configured collectors are: %s", only, strings.Join(names, ", "))
}

// onlineResult is one collector's outcome.
type onlineResult struct {
	inst    *Instance
	report  OnlineReport
	checked bool // false: the collector has no online check
}

func (r *onlineResult) failed() bool {
	return r.checked && r.problem() != ""
}

// problem is why the check failed, "" if it passed. A checker is to set
// Err for every failure; a report that shows one without an Err still
// fails, with what it shows.
func (r *onlineResult) problem() string {
	rep := r.report
	switch {
	case rep.Err != nil:
		return rep.Err.Error()
	case !rep.Reachable:
		return "the provider did not answer"
	case !rep.Authenticated:
		return "the provider refused the credential"
	case len(rep.Missing) > 0:
		return "the credential lacks " + strings.Join(rep.Missing, ", ")
	case rep.NotFound != "":
		return "not found: " + rep.NotFound
	}
	return ""
}

// RunOnline checks the credentials of the instances (of the one named
// only, if not "") against their providers and writes, in config order,
// what each check found, then a summary line. Checks run a few at a time
// (global.max_concurrent_refreshes), each within 30 seconds. It returns
// false if any check failed; collectors without an online check (no
// credential, or none written for their provider yet) are listed and do
// not fail. The error is for an unknown collector name; then nothing was
// checked.
//
// Nothing written carries a secret: reports hold redacted text (see
// APIError), and each block is redacted again with its collector's token
// in case a checker quoted it.
func RunOnline(ctx context.Context, cfg *Config, instances []*Instance, only string, w io.Writer) (bool, error) {
	selected, err := SelectOnline(instances, only)
	if err != nil {
		return false, err
	}
	workers := 4
	if cfg != nil && cfg.Global.MaxConcurrentRefreshes > 0 {
		workers = cfg.Global.MaxConcurrentRefreshes
	}
	results := make([]onlineResult, len(selected))
	done := make([]chan struct{}, len(selected))
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i, inst := range selected {
		done[i] = make(chan struct{})
		results[i].inst = inst
		checker, ok := inst.Collector.(OnlineChecker)
		if !ok {
			close(done[i])
			continue
		}
		results[i].checked = true
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer close(done[i])
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i].report = checkOne(ctx, checker)
		}(i)
	}

	fmt.Fprintln(w, "Online check of each collector's credential:")
	// Blocks come out in config order, each as soon as it and those
	// before it are done.
	for i := range results {
		<-done[i]
		fmt.Fprintln(w)
		r := &results[i]
		io.WriteString(w, redactWith(r.inst.Config.tokenOrEmpty(), r.block(time.Now())))
	}
	wg.Wait()

	var okN, skipped int
	var failed []string
	for i := range results {
		r := &results[i]
		switch {
		case !r.checked:
			skipped++
		case r.failed():
			failed = append(failed, r.inst.Name)
		default:
			okN++
		}
	}
	fmt.Fprintln(w)
	noun := "collectors"
	if len(results) == 1 {
		noun = "collector"
	}
	summary := fmt.Sprintf("Online check: %d %s, %d OK, %d FAILED", len(results), noun, okN, len(failed))
	if len(failed) > 0 {
		summary += " (" + strings.Join(failed, ", ") + ")"
	}
	if skipped > 0 {
		summary += fmt.Sprintf(", %d not checked", skipped)
	}
	fmt.Fprintln(w, summary+".")
	return len(failed) == 0, nil
}

// checkOne runs one check within onlineTimeout. A checker that does not
// return in time (one ignoring its context) is reported as timed out and
// left behind; a panicking one is reported as failed.
func checkOne(ctx context.Context, c OnlineChecker) OnlineReport {
	ctx, cancel := context.WithTimeout(ctx, onlineTimeout)
	defer cancel()
	out := make(chan OnlineReport, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				out <- OnlineReport{Err: fmt.Errorf("the check failed: %v", p)}
			}
		}()
		out <- c.CheckOnline(ctx)
	}()
	select {
	case rep := <-out:
		return rep
	case <-ctx.Done():
		return OnlineReport{Err: fmt.Errorf("no answer within %s: %w", HumanDuration(onlineTimeout), ErrTimeout)}
	}
}

// block renders one collector's outcome.
func (r *onlineResult) block(now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s)\n", r.inst.Name, r.inst.Type)
	line := func(key, value string) {
		// Continuation lines (a joined error) stay under the value.
		value = strings.ReplaceAll(strings.TrimRight(value, "\n"), "\n", "\n"+strings.Repeat(" ", 18))
		fmt.Fprintf(&b, "  %-15s %s\n", key, value)
	}
	if !r.checked {
		if r.inst.Config == nil || r.inst.Config.Token == "" {
			line("result", "not checked: no credential to check")
		} else {
			line("result", fmt.Sprintf("not checked: no online check for %s collectors yet", r.inst.Type))
		}
		return b.String()
	}
	rep := r.report
	line("endpoint", orDash(rep.Endpoint))
	line("reachable", yesNo(rep.Reachable))
	line("authenticated", yesNo(rep.Authenticated))
	line("account", orDash(rep.Account))
	missing := "none"
	if len(rep.Missing) > 0 {
		missing = strings.Join(rep.Missing, ", ")
	}
	line("missing scopes", missing)
	line("token expiry", expiry(now, rep.Expires))
	notFound := "none"
	if rep.NotFound != "" {
		notFound = rep.NotFound
	}
	line("not found", notFound)
	for _, n := range rep.Notes {
		line("note", n)
	}
	if p := r.problem(); p != "" {
		line("result", "FAILED: "+p)
	} else {
		line("result", "OK")
	}
	return b.String()
}

// expiry says when a credential expires: its date and how far off it is.
func expiry(now, t time.Time) string {
	if t.IsZero() {
		return "not told by the provider"
	}
	date := t.UTC().Format("2006-01-02 15:04 UTC")
	switch {
	case !t.After(now):
		return date + " (expired " + HumanAgo(now, t) + ")"
	case t.Sub(now) < expirySoon:
		return date + " (" + HumanAgo(now, t) + ": renew it now)"
	}
	return date + " (" + HumanAgo(now, t) + ")"
}

// tokenOrEmpty returns the collector's token, "" for a nil block.
func (c *CollectorConfig) tokenOrEmpty() string {
	if c == nil {
		return ""
	}
	return string(c.Token)
}

// redactWith removes token, and each part of a key:secret token, from s,
// as the collector's client does with what it reports.
func redactWith(token, s string) string {
	if token == "" {
		return s
	}
	return (&Client{secrets: []string{token}}).redact(s)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

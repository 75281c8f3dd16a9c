package linkprobe

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// windowShare is the part of the interval a round spreads its requests
// over. The rest is for confirmations: a failed attempt is retried
// confirm_delay later, and that second attempt must end before the next
// round starts.
const windowShare = 0.8

// roundWindow is the time a round spreads its requests over.
func roundWindow(interval time.Duration) time.Duration {
	return time.Duration(float64(interval) * windowShare)
}

// hostNeed is what a round asks of one host: n requests at least spacing
// apart.
type hostNeed struct {
	host    string
	n       int
	spacing time.Duration
	// what counts n ("links", "destinations") and setting names the
	// option spacing comes from, for messages.
	what, setting string
}

// need is how long the host's requests take at their least spacing.
func (h hostNeed) need() time.Duration { return time.Duration(h.n) * h.spacing }

// fits returns how many of the host's requests fit in window.
func (h hostNeed) fits(window time.Duration) int {
	if h.spacing <= 0 {
		return h.n
	}
	return min(h.n, int(window/h.spacing))
}

// roundPlan is the shape of one round: every host's requests, spread over
// the window.
type roundPlan struct {
	interval, window time.Duration
	// short are the short link hosts (one HEAD per link), dest the
	// destination hosts (one probe per distinct destination), each sorted
	// by host.
	short, dest []hostNeed
}

// newRoundPlan plans a round of a probe with options o and interval from
// the count of links per short link host and of destinations per
// destination host.
func newRoundPlan(o options, interval time.Duration, shortHosts, destHosts map[string]int) roundPlan {
	pl := roundPlan{interval: interval, window: roundWindow(interval)}
	for _, h := range sortedHosts(shortHosts) {
		pl.short = append(pl.short, hostNeed{host: h, n: shortHosts[h], spacing: time.Duration(o.ShortLinkInterval),
			what: "links", setting: "short_link_interval"})
	}
	for _, h := range sortedHosts(destHosts) {
		pl.dest = append(pl.dest, hostNeed{host: h, n: destHosts[h], spacing: time.Duration(o.PerHostInterval),
			what: "destinations", setting: "per_host_interval"})
	}
	return pl
}

func sortedHosts(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for h, n := range m {
		if n > 0 {
			out = append(out, h)
		}
	}
	sort.Strings(out)
	return out
}

// over returns the hosts whose requests do not fit in the window.
func (pl roundPlan) over() []hostNeed {
	var out []hostNeed
	for _, h := range append(append([]hostNeed(nil), pl.short...), pl.dest...) {
		if h.need() > pl.window {
			out = append(out, h)
		}
	}
	return out
}

// problem says why h does not fit, with the numbers.
func (pl roundPlan) problem(h hostNeed) string {
	return fmt.Sprintf("round needs %s on host %s (%d %s × %s %s) but a %s interval leaves %s",
		fmtDuration(h.need()), h.host, h.n, h.what, fmtDuration(h.spacing), h.setting,
		fmtDuration(pl.interval), fmtDuration(pl.window))
}

// errors returns a config error for every host that does not fit, on the
// option to change.
func (pl roundPlan) errors(cc *exporter.CollectorConfig) []error {
	var errs []error
	for _, h := range pl.over() {
		remedy := "raise interval, lower short_link_interval, or split the links over several linkprobe collectors (option campaigns)"
		if h.setting == "per_host_interval" {
			remedy = "raise interval or lower per_host_interval"
		}
		errs = append(errs, cc.Config().Errorf(cc.Path()+".options."+h.setting, "%s: %s", pl.problem(h), remedy))
	}
	return errs
}

// slots spreads n requests evenly over the window, the j-th of hosts
// hosts staggered by j/hosts of a gap, and returns their offsets from the
// round's start. spacing is the least gap between two of them.
func spread(n int, window, spacing time.Duration, j, hosts int) []time.Duration {
	if n <= 0 {
		return nil
	}
	gap := max(window/time.Duration(n), spacing)
	offset := time.Duration(0)
	if hosts > 1 {
		offset = gap * time.Duration(j) / time.Duration(hosts)
	}
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = offset + time.Duration(i)*gap
	}
	return out
}

// fmtDuration prints d for people: 75s, 4.8s, 250ms.
func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		s := d.Round(100 * time.Millisecond).Seconds()
		return strings.TrimSuffix(strconv.FormatFloat(s, 'f', 1, 64), ".0") + "s"
	case d >= time.Millisecond:
		return strconv.FormatInt(d.Round(time.Millisecond).Milliseconds(), 10) + "ms"
	default:
		return d.String()
	}
}

// Plan tells --config.check what a round costs: no API calls, and the
// short link requests the configured links make.
func (p *Probe) Plan() exporter.Plan {
	pl := p.loadPlan()
	n, busiest := 0, hostNeed{}
	for _, h := range pl.short {
		n += h.n
		if h.need() > busiest.need() || busiest.host == "" {
			busiest = h
		}
	}
	note := "no API calls"
	if n > 0 {
		note += fmt.Sprintf("; a round sends %d short link requests to %d hosts, the busiest (%s) needing %s of the %s window; links found by tags and destinations add to it at run time",
			n, len(pl.short), busiest.host, fmtDuration(busiest.need()), fmtDuration(pl.window))
	}
	return exporter.Plan{Note: note}
}

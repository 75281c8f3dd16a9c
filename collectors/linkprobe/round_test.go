package linkprobe

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// link is a published link of campaign spring for the tests below.
func link(creator, id, url string) exporter.PublishedLink {
	return exporter.PublishedLink{Campaign: "spring", Creator: creator, Provider: "bitly", ID: id, URL: url}
}

// pollOutcomes polls the probe once and returns its outcomes by
// provider/link; a failed poll fails the test.
func pollOutcomes(t *testing.T, env *exportertest.Env) map[string]*outcome {
	t.Helper()
	samples, err := env.Poll(t, "linkprobe")
	if err != nil {
		t.Fatal(err)
	}
	return outcomes(samples)
}

func TestConfirmation(t *testing.T) {
	tests := []struct {
		name    string
		options string
		setup   func(s *sites)
		// wantUp is the link's influencer_link_up; wantReason its finding;
		// wantShop the methods the shop page received.
		wantUp     float64
		wantReason string
		wantShop   []string
	}{
		{
			name:     "one 503 then 200",
			options:  "method: GET",
			setup:    func(s *sites) { s.shop.FailNext("/p", 503, 1) },
			wantUp:   1,
			wantShop: []string{"GET", "GET"},
		},
		{
			name:     "one 503 to HEAD and GET then 200",
			setup:    func(s *sites) { s.shop.FailNext("/p", 503, 2) },
			wantUp:   1,
			wantShop: []string{"HEAD", "GET", "HEAD"},
		},
		{
			name:     "one timeout then 200",
			options:  "method: GET\ntimeout: 50ms",
			setup:    func(s *sites) { s.shop.FailNext("/p", 0, 1) },
			wantUp:   1,
			wantShop: []string{"GET", "GET"},
		},
		{
			name:     "one 503 from the shortener then its redirect",
			setup:    func(s *sites) { s.short.FailNext("/a", 503, 1) },
			wantUp:   1,
			wantShop: []string{"HEAD"},
		},
		{
			name:       "two 503s",
			options:    "method: GET",
			setup:      func(s *sites) { s.shop.FailNext("/p", 503, 2) },
			wantUp:     0,
			wantReason: "attempt 1: final status 503 at http://shop.test/p; attempt 2 (5s later): final status 503 at http://shop.test/p",
			wantShop:   []string{"GET", "GET"},
		},
		{
			name:       "a timeout then a 503",
			options:    "method: GET\ntimeout: 50ms",
			setup:      func(s *sites) { s.shop.FailNext("/p", 0, 1); s.shop.FailNext("/p", 503, 1) },
			wantUp:     0,
			wantReason: "attempt 1: timed out after 50ms; attempt 2 (5s later): final status 503 at http://shop.test/p",
			wantShop:   []string{"GET", "GET"},
		},
		{
			name:       "two 503s from the shortener",
			setup:      func(s *sites) { s.short.FailNext("/a", 503, 2) },
			wantUp:     0,
			wantReason: "attempt 1: final status 503 at http://short.test/a; attempt 2 (5s later): final status 503 at http://short.test/a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSites(t)
			s.short.SetRedirect("/a", "http://shop.test/p", 301)
			tt.setup(s)
			env, p := build(t, s.net, tt.options, "")
			env.Links.Publish("stub", []exporter.PublishedLink{link("alice", "bit.ly/a", "http://short.test/a")})
			if got := pollOutcomes(t, env)["bitly/bit.ly/a"].up; got != tt.wantUp {
				t.Errorf("up = %g, want %g", got, tt.wantUp)
			}
			if got := p.Findings()["bitly/bit.ly/a"]; got != tt.wantReason {
				t.Errorf("finding = %q, want %q", got, tt.wantReason)
			}
			var methods []string
			for _, r := range s.shop.Requests() {
				methods = append(methods, r.Method)
			}
			if !slices.Equal(methods, tt.wantShop) {
				t.Errorf("shop got %v, want %v", methods, tt.wantShop)
			}
		})
	}
}

func TestDestinationsDeduped(t *testing.T) {
	s := newSites(t)
	var links []exporter.PublishedLink
	for _, who := range []string{"alice", "bob", "carol", "dave", "erin", "frank"} {
		utm := who
		if who == "frank" {
			utm = "someone" // frank's short link carries another creator's value
		}
		s.short.SetRedirect("/"+who, "http://shop.test/p?utm_medium=influencer&utm_source="+utm, 301)
		l := link(who, "bit.ly/"+who, "http://short.test/"+who)
		l.Expect = &exporter.Expect{Host: "shop.test", UTM: map[string]string{"utm_source": who}}
		links = append(links, l)
	}
	env, p := build(t, s.net, "", "")
	env.Links.Publish("stub", links)
	for round := 1; round <= 2; round++ {
		for k, o := range pollOutcomes(t, env) {
			want := 1.0
			if k == "bitly/bit.ly/frank" {
				want = 0
			}
			if o.up != want || o.status != 200 || o.redirects != 1 || o.host != "shop.test" {
				t.Errorf("round %d: %s = %+v, want up %g, 200, 1 redirect, on shop.test", round, k, *o, want)
			}
		}
		// One request to the page per round, however many links lead there.
		if n := s.shop.Hits("/p"); n != round {
			t.Errorf("after round %d: %d requests to the destination, want %d", round, n, round)
		}
		if n := len(s.short.Requests()); n != 6*round {
			t.Errorf("after round %d: %d requests to short links, want %d", round, n, 6*round)
		}
	}
	if got, want := p.Findings()["bitly/bit.ly/frank"], `parameter "utm_source" is "someone", expected "frank"`; got != want {
		t.Errorf("frank's finding = %q, want %q", got, want)
	}
}

func TestLastProbeTimestamp(t *testing.T) {
	s := newSites(t)
	s.short.SetRedirect("/ok", "http://shop.test/p", 301)
	s.short.SetRedirect("/broken", "http://shop.test/gone", 301)
	s.shop.Break("/gone")
	for _, tt := range []struct {
		path string
		want time.Time
	}{
		{"/ok", clockStart},
		// Completed after its confirmation, confirm_delay later.
		{"/broken", clockStart.Add(5 * time.Second)},
	} {
		t.Run(tt.path, func(t *testing.T) {
			env, _ := build(t, s.net, "", "")
			env.Links.Publish("stub", []exporter.PublishedLink{link("alice", "bit.ly"+tt.path, "http://short.test"+tt.path)})
			samples, err := env.Poll(t, "linkprobe")
			if err != nil {
				t.Fatal(err)
			}
			exportertest.CompareText(t, samples, exportertest.MetricText(exporter.LinkLastProbe,
				fmt.Sprintf(`influencer_link_last_probe_timestamp_seconds{campaign="spring",creator="alice",link="bit.ly%s",provider="bitly"} %d`, tt.path, tt.want.Unix())),
				exporter.LinkLastProbe.Name)
		})
	}
}

// withInterval sets the probe's interval in baseConfig.
func withInterval(d string) string {
	return strings.Replace(baseConfig, "interval: 1m\n    options:", "interval: "+d+"\n    options:", 1)
}

func TestRoundTooShort(t *testing.T) {
	s := newSites(t)
	// A 10s interval leaves an 8s window: at 2s apart, 4 of short.test's
	// 6 links fit in a round.
	env, p := buildConfig(t, s.net, withInterval("10s"), "short_link_interval: 2s", "")
	var links []exporter.PublishedLink
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		links = append(links, link("alice", "bit.ly/"+n, "http://short.test/"+n))
	}
	env.Links.Publish("stub", links)

	var prevSkipped []string
	prevStamps := map[string]float64{}
	for round := 1; round <= 4; round++ {
		samples, err := env.Poll(t, "linkprobe")
		if err != nil {
			t.Fatal(err)
		}
		var skipped []string
		for _, st := range p.Coverage() {
			switch st.State {
			case exporter.StateSkipped:
				skipped = append(skipped, st.ID)
				if !strings.HasPrefix(st.Reason, "round too short: host short.test has 6 links but a round fits 4 (8s window at short_link_interval 2s)") {
					t.Errorf("round %d: %s skipped for %q", round, st.ID, st.Reason)
				}
				if wantEnd := ", never probed yet"; round > 1 && !strings.Contains(st.Reason, ", last probed ") || round == 1 && !strings.HasSuffix(st.Reason, wantEnd) {
					t.Errorf("round %d: %s skipped for %q, want it to say when it was last probed", round, st.ID, st.Reason)
				}
			case exporter.StateExported:
			default:
				t.Errorf("round %d: %s is %s", round, st.ID, st.State)
			}
		}
		sort.Strings(skipped)
		if len(skipped) != 2 {
			t.Fatalf("round %d skipped %v, want 2 links", round, skipped)
		}
		for _, id := range skipped {
			if slices.Contains(prevSkipped, id) {
				t.Errorf("round %d skipped %s again (skipped %v, then %v)", round, id, prevSkipped, skipped)
			}
		}
		// A skipped link keeps its previous series, timestamp included.
		stamps := map[string]float64{}
		for _, smp := range samples {
			if smp.Metric == exporter.LinkLastProbe {
				stamps[smp.Label("link")] = smp.Value
			}
		}
		for _, id := range skipped {
			prev, had := prevStamps[id]
			got, has := stamps[id]
			if had != has || got != prev {
				t.Errorf("round %d: skipped %s has timestamp %v (%v), want its previous %v (%v)", round, id, got, has, prev, had)
			}
		}
		prevSkipped, prevStamps = skipped, stamps
	}
}

func TestCoverage(t *testing.T) {
	const campaigns = `
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: stub, id: s.test/published}
          - {collector: stub, id: s.test/override, url: "http://short.test/o"}
          - {collector: stub, id: s.test/unpublished}
  - name: summer
    creators:
      - name: bob
        tags:
          - {collector: stub, tag: bob}
`
	for _, tt := range []struct {
		name, options string
		want          []string
		missing       float64
	}{
		{name: "all campaigns", missing: 1, want: []string{
			"spring/alice/s.test/override exported",
			"spring/alice/s.test/published exported",
			"spring/alice/s.test/unpublished missing: collector stub has not published this link yet (its refresh failed, or stub does not know the link; see that collector), and it has no url: to probe instead",
			"summer/bob/s.test/tagged exported",
		}},
		{name: "one campaign", options: "campaigns: [summer]", want: []string{
			"summer/bob/s.test/tagged exported",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSites(t)
			env, p := build(t, s.net, tt.options, campaigns)
			env.Links.Publish("stub", []exporter.PublishedLink{
				{Campaign: "spring", Creator: "alice", Provider: "stub", ID: "s.test/published", URL: "http://short.test/p"},
				{Campaign: "summer", Creator: "bob", Provider: "stub", ID: "s.test/tagged", URL: "http://short.test/t"},
			})
			// Through the scheduler, which exports the coverage.
			cache := exporter.NewCache()
			(&exporter.Scheduler{Cache: cache}).Refresh(context.Background(), env.Instance(t, "linkprobe"))
			var got []string
			for _, st := range p.Coverage() {
				if st.Kind != exporter.KindProbe {
					t.Errorf("%v has kind %q", st.Object, st.Kind)
				}
				line := fmt.Sprintf("%s/%s/%s %s", st.Campaign, st.Creator, st.ID, st.State)
				if st.Reason != "" {
					line += ": " + st.Reason
				}
				got = append(got, line)
			}
			sort.Strings(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("coverage:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			counts := map[string]float64{}
			for _, m := range gather(t, cache, "influencer_collector_objects") {
				counts[labelOf(m, "state")] = m.GetGauge().GetValue()
			}
			if counts["missing"] != tt.missing || counts["exported"] != float64(len(tt.want))-tt.missing || counts["skipped"] != 0 {
				t.Errorf("influencer_collector_objects = %v", counts)
			}
		})
	}
}

// lateAfterFirst returns the context of a round of p that runs late: its
// deadline passes once the first link's probe is over, while the round
// waits for the second link's slot. now is the round's clock.
func lateAfterFirst(t *testing.T, p *Probe, now func() time.Time) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	finished := make(chan string, 3)
	p.finished = func(key string) { finished <- key }
	p.setClock(now, func(ctx context.Context, d time.Duration) error {
		<-finished // the first link's probe is over
		cancel()
		return ctx.Err()
	})
	return ctx
}

func TestRoundRanLate(t *testing.T) {
	t.Run("links after the deadline are skipped", func(t *testing.T) {
		s := newSites(t)
		env, p := build(t, s.net, "", "")
		env.Links.Publish("stub", []exporter.PublishedLink{
			link("alice", "bit.ly/a", "http://short.test/a"),
			link("bob", "bit.ly/b", "http://short.test/b"),
			link("carol", "bit.ly/c", "http://short.test/c"),
		})
		clock := newFakeClock()
		samples, err := p.Poll(lateAfterFirst(t, p, clock.now))
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		if got := outcomes(samples); len(got) != 1 || got["bitly/bit.ly/a"] == nil || got["bitly/bit.ly/a"].up != 1 {
			t.Errorf("samples of %v, want bit.ly/a only", got)
		}
		want := map[string]string{
			"bit.ly/a": "exported",
			"bit.ly/b": "skipped: round ran late: not probed this round, never probed yet",
			"bit.ly/c": "skipped: round ran late: not probed this round, never probed yet",
		}
		for _, st := range p.Coverage() {
			got := st.State
			if st.Reason != "" {
				got += ": " + st.Reason
			}
			if got != want[st.ID] {
				t.Errorf("%s: %q, want %q", st.ID, got, want[st.ID])
			}
		}
	})
	t.Run("a failure confirmed first next round", func(t *testing.T) {
		s := newSites(t)
		s.short.Break("/a")
		env, p := build(t, s.net, "", "")
		env.Links.Publish("stub", []exporter.PublishedLink{link("alice", "bit.ly/a", "http://short.test/a")})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		clock := newFakeClock()
		// The deadline passes during the wait before the confirmation.
		p.setClock(clock.now, func(ctx context.Context, d time.Duration) error {
			cancel()
			return ctx.Err()
		})
		samples, err := p.Poll(ctx)
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		if len(samples) != 0 {
			t.Errorf("an unconfirmed failure exported %d samples", len(samples))
		}
		cov := p.Coverage()
		if len(cov) != 1 || cov[0].State != exporter.StateSkipped ||
			cov[0].Reason != "round ran late: a failed attempt could not be confirmed before the round ended, it is confirmed first next round, never probed yet" {
			t.Errorf("coverage = %+v", cov)
		}
		// Next round: one request, the confirmation.
		clock.sleep(context.Background(), 55*time.Second)
		p.setClock(clock.now, clock.sleep)
		samples, err = p.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := outcomes(samples)["bitly/bit.ly/a"]; got == nil || got.up != 0 || got.status != 404 {
			t.Errorf("after the confirmation: %+v, want down with 404", got)
		}
		if want := "attempt 1: final status 404 at http://short.test/a; attempt 2 (55s later): final status 404 at http://short.test/a"; p.Findings()["bitly/bit.ly/a"] != want {
			t.Errorf("finding = %q, want %q", p.Findings()["bitly/bit.ly/a"], want)
		}
		if n := s.short.Hits("/a"); n != 2 {
			t.Errorf("%d requests to the short link over both rounds, want 2", n)
		}
	})
}

type metricDTO = dto.Metric

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// gather returns the metrics of the named family that c collects.
func gather(t *testing.T, c prometheus.Collector, name string) []*metricDTO {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()
		}
	}
	return nil
}

func labelOf(m *metricDTO, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestProgress(t *testing.T) {
	s := newSites(t)
	s.short.Break("/a")
	env, p := build(t, s.net, "", "")
	env.Links.Publish("stub", []exporter.PublishedLink{
		link("alice", "bit.ly/a", "http://short.test/a"),
		link("bob", "bit.ly/b", "http://short.test/b"),
		link("carol", "bit.ly/c", "http://short.test/c"),
	})
	cache := exporter.NewCache()
	clock := newFakeClock()
	var (
		mu      sync.Mutex
		midway  []string // link_up series seen while the round waited for its second slot
		checked bool
	)
	p.setClock(clock.now, func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		first := !checked && d > 10*time.Second // the dispatcher's wait for slot 2, not a confirmation
		checked = checked || first
		mu.Unlock()
		if first {
			// Wait (a bounded while, on the wall clock) for alice's
			// confirmed failure to reach the cache before bob's slot.
			for i := 0; i < 5000; i++ {
				if ms := gather(t, cache, "influencer_link_up"); len(ms) > 0 {
					for _, m := range ms {
						midway = append(midway, fmt.Sprintf("%s=%g", labelOf(m, "link"), m.GetGauge().GetValue()))
					}
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
		return clock.sleep(ctx, d)
	})
	(&exporter.Scheduler{Cache: cache}).Refresh(context.Background(), env.Instance(t, "linkprobe"))
	if want := []string{"bit.ly/a=0"}; !slices.Equal(midway, want) {
		t.Errorf("while the round waited for its second link, the cache had %v, want %v", midway, want)
	}
	if n := len(gather(t, cache, "influencer_link_up")); n != 3 {
		t.Errorf("after the round, %d links in the cache, want 3", n)
	}
}

func TestRoundSchedule(t *testing.T) {
	s := newSites(t)
	env, p := build(t, s.net, "per_host_interval: 5s", "")
	var links []exporter.PublishedLink
	for _, n := range []string{"a", "b", "c", "d"} {
		links = append(links, link("alice", "bit.ly/"+n, "http://short.test/"+n))
	}
	links = append(links, link("bob", "bit.ly/x", "http://short2.test/x"), link("bob", "bit.ly/y", "http://short2.test/y"))
	env.Links.Publish("stub", links)
	p.destCount = map[string]int{"shop.test": 4, "other.test": 2, "big.test": 12}

	r := p.newRound(context.Background(), p.targets())
	got := map[string][]time.Duration{}
	for _, sl := range r.slots {
		h := canonicalHost(mustParse(t, r.targets[sl.idx].URL))
		got[h] = append(got[h], sl.at.Sub(r.start))
	}
	// A 48s window: short.test's 4 links 12s apart; short2.test's 2 links
	// 24s apart, staggered by half a gap.
	want := map[string][]time.Duration{
		"short.test":  {0, 12 * time.Second, 24 * time.Second, 36 * time.Second},
		"short2.test": {12 * time.Second, 36 * time.Second},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("short link slots = %v, want %v", got, want)
	}
	// Destinations: big.test's 12 would be 4s apart but per_host_interval
	// keeps them 5s apart (and the round cannot fit them); staggered by a
	// third of a gap per host, in host order.
	wantDest := map[string][]time.Duration{
		"big.test":   {0, 5 * time.Second, 10 * time.Second, 15 * time.Second, 20 * time.Second, 25 * time.Second, 30 * time.Second, 35 * time.Second, 40 * time.Second, 45 * time.Second, 50 * time.Second, 55 * time.Second},
		"other.test": {8 * time.Second, 32 * time.Second},
		"shop.test":  {8 * time.Second, 20 * time.Second, 32 * time.Second, 44 * time.Second},
	}
	gotDest := map[string][]time.Duration{}
	for h, d := range r.destPlan {
		gotDest[h] = d.offsets
	}
	if fmt.Sprint(gotDest) != fmt.Sprint(wantDest) {
		t.Errorf("destination slots = %v, want %v", gotDest, wantDest)
	}
}

func TestURLOverridePage(t *testing.T) {
	const campaigns = `
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: stub, id: s.test/a, url: "http://shop.test/p"}
          - {collector: stub, id: s.test/b, url: "http://shop.test/gone"}
`
	s := newSites(t)
	s.shop.RefuseHEAD(true)
	s.shop.Break("/gone")
	_, p := build(t, s.net, "", campaigns)
	samples, err := p.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := outcomes(samples)
	if o := got["stub/s.test/a"]; o == nil || o.up != 1 || o.status != 200 || o.redirects != 0 {
		t.Errorf("healthy page refusing HEAD: %+v", o)
	}
	if o := got["stub/s.test/b"]; o == nil || o.up != 0 || o.status != 404 {
		t.Errorf("broken page refusing HEAD: %+v", o)
	}
	if want := "attempt 1: final status 404 at http://shop.test/gone; attempt 2 (5s later): final status 404 at http://shop.test/gone"; p.Findings()["stub/s.test/b"] != want {
		t.Errorf("finding = %q, want %q", p.Findings()["stub/s.test/b"], want)
	}
	methods := map[string][]string{}
	for _, r := range s.shop.Requests() {
		methods[r.Path] = append(methods[r.Path], r.Method)
	}
	if want := map[string][]string{"/p": {"HEAD", "GET"}, "/gone": {"HEAD", "GET", "GET"}}; fmt.Sprint(methods) != fmt.Sprint(want) {
		t.Errorf("shop got %v, want %v", methods, want)
	}
}

func TestDefaults(t *testing.T) {
	env := exportertest.Build(t, "collectors:\n  - type: linkprobe\n")
	inst := env.Instance(t, "linkprobe")
	if inst.Interval != time.Minute {
		t.Errorf("interval = %s, want 1m", inst.Interval)
	}
	o := inst.Collector.(*Probe).opts
	if time.Duration(o.Timeout) != 10*time.Second || time.Duration(o.ConfirmDelay) != 5*time.Second ||
		time.Duration(o.PerHostInterval) != 250*time.Millisecond || time.Duration(o.ShortLinkInterval) != 10*time.Millisecond ||
		o.Method != http.MethodHead || o.MaxRedirects != 10 {
		t.Errorf("defaults = %+v", o)
	}
	if !strings.Contains(strings.ToLower(o.UserAgent), "bot") {
		t.Errorf("default User-Agent %q does not say bot: shorteners would count the probe as clicks", o.UserAgent)
	}
}

// linksConfig renders a linkprobe with options and a stub collector, and
// campaigns whose links are given per campaign as "id" or "id url".
func linksConfig(options string, campaigns map[string][]string) string {
	var b strings.Builder
	b.WriteString("collectors:\n  - type: linkprobe\n")
	if options != "" {
		b.WriteString("    options:\n" + indentOptions(options) + "\n")
	}
	b.WriteString("  - {name: stub, type: stub}\ncampaigns:\n")
	names := make([]string, 0, len(campaigns))
	for n := range campaigns {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  - name: %s\n    creators:\n      - name: alice\n        links:\n", n)
		for _, l := range campaigns[n] {
			id, u, _ := strings.Cut(l, " ")
			if u != "" {
				fmt.Fprintf(&b, "          - {collector: stub, id: %q, url: %q}\n", id, u)
			} else {
				fmt.Fprintf(&b, "          - {collector: stub, id: %q}\n", id)
			}
		}
	}
	return b.String()
}

func ids(n int, format string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, i)
	}
	return out
}

func TestPlanConfigErrors(t *testing.T) {
	tests := []struct {
		name      string
		options   string
		campaigns map[string][]string
		want      []string // "" when the config is accepted
	}{
		{
			name:      "one host over",
			options:   "short_link_interval: 10ms",
			campaigns: map[string][]string{"c1": ids(900, "bit.ly/l%d"), "c2": ids(100, "dub.sh/l%d")},
			want: []string{
				"test.yml:",
				"collectors[0].options.short_link_interval: round needs 9s on host bit.ly (900 links × 10ms short_link_interval) but a 10s interval leaves 8s: raise interval, lower short_link_interval, or split the links over several linkprobe collectors (option campaigns)",
			},
		},
		{
			name:      "url overrides count on their own host",
			options:   "short_link_interval: 3s",
			campaigns: map[string][]string{"c1": {"bit.ly/a http://shop.test/a", "bit.ly/b http://shop.test/b", "bit.ly/c http://shop.test/c"}},
			want:      []string{"round needs 9s on host shop.test (3 links × 3s short_link_interval) but a 10s interval leaves 8s"},
		},
		{
			name:      "fits",
			campaigns: map[string][]string{"c1": ids(800, "bit.ly/l%d")},
		},
		{
			name:      "split over two probes by campaign",
			options:   "campaigns: [c1]",
			campaigns: map[string][]string{"c1": ids(450, "bit.ly/a%d"), "c2": ids(450, "bit.ly/b%d")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := strings.Replace(linksConfig(tt.options, tt.campaigns), "  - type: linkprobe\n", "  - type: linkprobe\n    interval: 10s\n", 1)
			_, err := exportertest.TryBuild(cfg)
			switch {
			case len(tt.want) == 0 && err != nil:
				t.Fatalf("config refused: %v", err)
			case len(tt.want) == 0:
				return
			case err == nil:
				t.Fatal("config accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestAgencyScalePlan(t *testing.T) {
	// 20,000 links on 5 shortener hosts, 300 destinations on 3 shops,
	// default options and interval: the plan fits.
	short, dest := map[string]int{}, map[string]int{}
	for i := range 5 {
		short[fmt.Sprintf("short%d.test", i)] = 4000
	}
	for i := range 3 {
		dest[fmt.Sprintf("shop%d.test", i)] = 100
	}
	pl := newRoundPlan(defaultOptions(), DefaultInterval, short, dest)
	if over := pl.over(); len(over) > 0 || pl.window != 48*time.Second {
		t.Errorf("window %s, hosts over: %v", pl.window, over)
	}
	for _, h := range pl.short {
		if h.need() != 40*time.Second {
			t.Errorf("%s needs %s, want 40s", h.host, h.need())
		}
	}
	for _, h := range pl.dest {
		if h.need() != 25*time.Second {
			t.Errorf("%s needs %s, want 25s", h.host, h.need())
		}
	}

	// 25,000 configured links on 5 hosts: 50s a host, over the 48s window.
	camps := map[string][]string{}
	for i := range 5 {
		camps[fmt.Sprintf("c%d", i)] = ids(5000, fmt.Sprintf("short%d.test/l%%d", i))
	}
	_, err := exportertest.TryBuild(linksConfig("", camps))
	if err == nil {
		t.Fatal("25,000 links accepted")
	}
	for i := range 5 {
		want := fmt.Sprintf("round needs 50s on host short%d.test (5000 links × 10ms short_link_interval) but a 60s interval leaves 48s", i)
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q", want)
		}
	}
}

func TestFmtDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		75 * time.Second:        "75s",
		4800 * time.Millisecond: "4.8s",
		time.Minute:             "60s",
		250 * time.Millisecond:  "250ms",
		10 * time.Millisecond:   "10ms",
		500 * time.Microsecond:  "500µs",
	} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestLinksPublishedDuringTheRound(t *testing.T) {
	const campaigns = `
campaigns:
  - name: spring
    creators:
      - name: alice
        links:
          - {collector: stub, id: s.test/late}
`
	s := newSites(t)
	s.short.SetRedirect("/late", "http://shop.test/p", 301)
	env, p := build(t, s.net, "", campaigns)
	clock := newFakeClock()
	sleeps := 0
	p.setClock(clock.now, func(ctx context.Context, d time.Duration) error {
		// The shortener collector's first refresh ends a few seconds
		// into the probe's first round.
		if sleeps++; sleeps == 3 {
			env.Links.Publish("stub", []exporter.PublishedLink{
				{Campaign: "spring", Creator: "alice", Provider: "stub", ID: "s.test/late", URL: "http://short.test/late"},
			})
		}
		return clock.sleep(ctx, d)
	})
	samples, err := p.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if o := outcomes(samples)["stub/s.test/late"]; o == nil || o.up != 1 {
		t.Errorf("link published during the round: %+v, want probed and up", o)
	}
	if cov := p.Coverage(); len(cov) != 1 || cov[0].State != exporter.StateExported {
		t.Errorf("coverage = %+v", cov)
	}
	if got, want := clock.now(), clockStart.Add(3*time.Second); got != want {
		t.Errorf("round waited until %s, want %s: it stops looking once every configured link is in", got.Sub(clockStart), want.Sub(clockStart))
	}
}

func TestProgressHeldBackIsFlushed(t *testing.T) {
	s := newSites(t)
	env, p := build(t, s.net, "", "")
	env.Links.Publish("stub", []exporter.PublishedLink{
		link("alice", "bit.ly/a", "http://short.test/a"),
		link("bob", "bit.ly/b", "http://short.test/b"),
	})
	cache := exporter.NewCache()
	clock := newFakeClock()
	seen := false
	p.setClock(clock.now, func(ctx context.Context, d time.Duration) error {
		if d > 10*time.Second && !seen {
			// alice's result arrived at once, too soon after the round's
			// start to be exported then: it must still reach the cache
			// while the round waits for bob's slot.
			for i := 0; i < 10000 && !seen; i++ {
				seen = len(gather(t, cache, "influencer_link_up")) == 1
				time.Sleep(time.Millisecond)
			}
		}
		return clock.sleep(ctx, d)
	})
	(&exporter.Scheduler{Cache: cache}).Refresh(context.Background(), env.Instance(t, "linkprobe"))
	if !seen {
		t.Error("a result held back by the once-a-second limit was not exported before the round's end")
	}
}

package bitly_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/influencer-exporter/influencer_exporter/collectors/bitly"
	"github.com/influencer-exporter/influencer_exporter/collectors/bitly/bitlyfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

const token = "test-token-5ecret"

// sandbox is a fake Bitly on loopback with a clock ten minutes past its
// start, behind a cutoff that tests use to run a refresh out of time.
type sandbox struct {
	fake  *bitlyfake.Server
	cut   *exportertest.Cutoff
	clock *exportertest.ManualClock
	url   string
}

func newSandbox(t *testing.T, fakeToken string, links ...bitlyfake.Link) *sandbox {
	t.Helper()
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := exportertest.NewManualClock(start)
	fake := bitlyfake.New(fakeToken, clock.Now)
	clock.Advance(10 * time.Minute)
	for _, l := range links {
		fake.AddLink(l)
	}
	cut := exportertest.NewCutoff(fake)
	return &sandbox{fake: fake, cut: cut, clock: clock, url: exportertest.Serve(t, cut)}
}

// config renders a config with one bitly collector on the fake; options is
// a YAML flow map, creators the creators of campaign spring.
func (s *sandbox) config(options, creators string) string {
	return exportertest.OneCollectorConfig("bitly", s.url+"/v4", token, options, creators)
}

// build builds that config.
func (s *sandbox) build(t *testing.T, options, creators string) *exportertest.Env {
	t.Helper()
	return exportertest.Build(t, s.config(options, creators))
}

// buildSequential builds that config with one call at a time: a cut after
// n answered calls then leaves the same links unread on every run.
func (s *sandbox) buildSequential(t *testing.T, options, creators string) *exportertest.Env {
	t.Helper()
	config := strings.Replace(s.config(options, creators), "rate_limit: 1000}", "rate_limit: 1000, max_concurrent_requests: 1}", 1)
	if !strings.Contains(config, "max_concurrent_requests: 1") {
		t.Fatal("no http block to make sequential")
	}
	return exportertest.Build(t, config)
}

func link(id string, base int64, perMinute float64, tags ...string) bitlyfake.Link {
	_, hash, _ := strings.Cut(id, "/")
	return bitlyfake.Link{
		ID:          id,
		Destination: dest(hash),
		Tags:        tags,
		Clicks:      fakeapi.Growth{Base: base, PerMinute: perMinute},
	}
}

// dest is the destination of the link with the back-half hash.
func dest(hash string) string { return "https://shop.example/" + hash + "?utm_source=" + hash }

// alice renders creator alice with the links.
func alice(ids ...string) string { return exportertest.CreatorLinks("alice", "bitly", ids...) }

// clicks is the exposition of influencer_link_clicks_total for creator
// alice of campaign spring, one series a link=clicks pair.
func clicks(links ...string) string {
	return exportertest.LinkClicksText("spring", "alice", "bitly", links...)
}

func TestPoll(t *testing.T) {
	sb := newSandbox(t, token,
		link("bit.ly/alice1", 100, 3),         // 130
		link("bit.ly/alice2", 7, 0),           // 7
		link("bit.ly/bob1", 1, 0.5),           // 6
		link("bit.ly/carol1", 40, 0, "carol"), // discovered by tag
		link("bit.ly/carol2", 2, 1, "carol"),  // 12
		link("bit.ly/shared", 9, 0, "carol"),  // configured for alice and tagged carol: alice wins
		link("bit.ly/dave1", 50, 0, "dave"),   // tag nobody configured
	)
	env := sb.build(t, `{group_guid: `+bitlyfake.GroupGUID+`}`, `
      - name: alice
        links:
          - {collector: bitly, id: bit.ly/alice1, expect: {host: shop.example, utm: {utm_source: alice1}}}
          - {collector: bitly, id: bit.ly/alice2}
          - {collector: bitly, id: bit.ly/shared}
      - name: bob
        links:
          - {collector: bitly, id: bit.ly/bob1, url: "https://go.example/bob"}
      - name: carol
        tags:
          - {collector: bitly, tag: carol, expect: {host: shop.example}}
`)
	for i := range 2 {
		samples, err := env.Poll(t, "bitly")
		if err != nil {
			t.Fatalf("poll %d: %v", i, err)
		}
		exportertest.CompareGolden(t, samples, "poll.prom")
	}
	// Per refresh: one tag page and one most-clicked call, every link
	// being among the group's 50 most clicked.
	if got := sb.fake.Faults.Hits(); got != 4 {
		t.Errorf("API calls for two refreshes: %d, want 4", got)
	}
	env.ComparePublished(t, []exporter.PublishedLink{
		{Campaign: "spring", Creator: "alice", Provider: "bitly", ID: "bit.ly/alice1", URL: sb.url + "/alice1", Destination: dest("alice1"),
			Expect: &exporter.Expect{Host: "shop.example", UTM: map[string]string{"utm_source": "alice1"}}},
		{Campaign: "spring", Creator: "alice", Provider: "bitly", ID: "bit.ly/alice2", URL: sb.url + "/alice2", Destination: dest("alice2")},
		{Campaign: "spring", Creator: "bob", Provider: "bitly", ID: "bit.ly/bob1", URL: "https://go.example/bob", Destination: dest("bob1")},
		{Campaign: "spring", Creator: "carol", Provider: "bitly", ID: "bit.ly/carol1", URL: sb.url + "/carol1", Destination: dest("carol1"), Expect: &exporter.Expect{Host: "shop.example"}},
		{Campaign: "spring", Creator: "carol", Provider: "bitly", ID: "bit.ly/carol2", URL: sb.url + "/carol2", Destination: dest("carol2"), Expect: &exporter.Expect{Host: "shop.example"}},
		{Campaign: "spring", Creator: "alice", Provider: "bitly", ID: "bit.ly/shared", URL: sb.url + "/shared", Destination: dest("shared")},
	})
}

// TestCallsPerRefresh measures the quota one refresh of five configured
// links spends, on the first refresh and on the ones after it.
func TestCallsPerRefresh(t *testing.T) {
	tests := []struct {
		name          string
		options       string
		first, second int
	}{
		// Five summaries; the short URLs are learnt once, from one page
		// of the default group's listing (the group read once).
		{"per link", `{top_links: 0}`, 1 + 1 + 5, 5},
		// The default group is read once, then one call covers all.
		{"batch, default group", `{}`, 2, 1},
		// Three links outside the top two cost a summary each, and their
		// short URLs one group page once.
		{"batch smaller than links", `{group_guid: ` + bitlyfake.GroupGUID + `, top_links: 2}`, 1 + 1 + 3, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				links     []bitlyfake.Link
				ids, want []string
			)
			for i := range 5 {
				id := fmt.Sprintf("bit.ly/l%d", i)
				links = append(links, link(id, int64(10*(i+1)), 0))
				ids = append(ids, id)
				want = append(want, fmt.Sprintf("%s=%d", id, 10*(i+1)))
			}
			sb := newSandbox(t, token, links...)
			env := sb.build(t, tt.options, alice(ids...))
			for i, calls := range []int{tt.first, tt.second} {
				before := sb.fake.Faults.Hits()
				samples, err := env.Poll(t, "bitly")
				if err != nil {
					t.Fatal(err)
				}
				exportertest.CompareText(t, samples, clicks(want...))
				if got := sb.fake.Faults.Hits() - before; got != calls {
					t.Errorf("refresh %d: %d API calls, want %d", i+1, got, calls)
				}
			}
		})
	}
}

// TestURLsFromGroupListing: the short and long URLs no answer carried are
// read from the group's listing, page_size links a call, up to as many
// pages as there are links to find; the links it did not reach cost a
// GET /bitlinks/{bitlink} each, as every link does when the listing is
// refused. A listing cut short goes on where it stopped.
func TestURLsFromGroupListing(t *testing.T) {
	var (
		links []bitlyfake.Link
		ids   []string
		want  []string
	)
	// Newest last: the group listing shows l11 first.
	for i := range 12 {
		id := fmt.Sprintf("bit.ly/l%02d", i)
		links = append(links, link(id, int64(i), 0))
		ids = append(ids, id)
		want = append(want, fmt.Sprintf("%s=%d", id, i))
	}
	opts := `{group_guid: ` + bitlyfake.GroupGUID + `, top_links: 0, page_size: 5}`

	t.Run("bound", func(t *testing.T) {
		sb := newSandbox(t, token, links...)
		env := sb.build(t, opts, alice("bit.ly/l00", "bit.ly/l01"))
		if _, err := env.Poll(t, "bitly"); err != nil {
			t.Fatal(err)
		}
		// Two pages (l11 to l02), then each link's URLs and clicks.
		if got := sb.fake.Faults.Hits(); got != 2+2+2 {
			t.Errorf("%d API calls, want 6", got)
		}
	})

	t.Run("refused", func(t *testing.T) {
		sb := newSandbox(t, token, links...)
		sb.fake.RefuseListing(http.StatusForbidden)
		env := sb.build(t, opts, alice("bit.ly/l00", "bit.ly/l01"))
		samples, err := env.Poll(t, "bitly")
		if err != nil {
			t.Fatal(err)
		}
		exportertest.CompareText(t, samples, clicks("bit.ly/l00=0", "bit.ly/l01=1"))
		// The refused page, then each link's URLs and clicks.
		if got := sb.fake.Faults.Hits(); got != 1+2+2 {
			t.Errorf("%d API calls, want 5", got)
		}
	})

	t.Run("resumed", func(t *testing.T) {
		sb := newSandbox(t, token, links...)
		env := sb.build(t, opts, alice(ids...))
		// One page (l11 to l07) answered, then the time is up: every
		// summary is deferred.
		if _, err := env.PollWithin(t, "bitly", sb.cut, 1); !errors.Is(err, exporter.ErrOutOfTime) {
			t.Fatalf("cut refresh: %v, want out of time", err)
		}
		// The listing goes on with l06 to l00: two pages, then twelve
		// summaries and no GET /bitlinks/{bitlink}.
		before := sb.fake.Faults.Hits()
		samples, err := env.Poll(t, "bitly")
		if err != nil {
			t.Fatal(err)
		}
		exportertest.CompareText(t, samples, clicks(want...))
		if got := sb.fake.Faults.Hits() - before; got != 2+12 {
			t.Errorf("%d API calls, want 14", got)
		}
	})
}

func TestTagPagination(t *testing.T) {
	var links []bitlyfake.Link
	for i := range 5 {
		links = append(links, link(fmt.Sprintf("bit.ly/t%d", i), int64(i), 0, "tiktok"))
	}
	links = append(links, link("bit.ly/other", 3, 0, "other"))
	sb := newSandbox(t, token, links...)
	env := sb.build(t, `{group_guid: `+bitlyfake.GroupGUID+`, page_size: 2, top_links: 0}`, exportertest.CreatorTags("erin", "bitly", "tiktok"))
	samples, err := env.Poll(t, "bitly")
	if err != nil {
		t.Fatal(err)
	}
	exportertest.CompareGolden(t, samples, "pagination.prom")
	// Three pages of tag listing, five summaries and five short URLs
	// already known from the listing.
	if got := sb.fake.Faults.Hits(); got != 8 {
		t.Errorf("API calls: %d, want 8", got)
	}
}

func TestUnknownLinkIsPartial(t *testing.T) {
	sb := newSandbox(t, token, link("bit.ly/known", 5, 0))
	for _, opts := range []string{`{top_links: 0}`, `{}`} {
		t.Run(opts, func(t *testing.T) {
			env := sb.build(t, opts, alice("bit.ly/gone", "bit.ly/known"))
			samples, err := env.Poll(t, "bitly")
			exportertest.AssertPartial(t, err, exporter.ErrNotFound, `"bit.ly/gone"`, "campaigns[0].creators[0].links[0]", "NOT_FOUND")
			exportertest.AssertObjectKeys(t, err, "missing link spring/alice/bit.ly/gone")
			exportertest.CompareText(t, samples, clicks("bit.ly/known=5"))
			env.ComparePublished(t, []exporter.PublishedLink{
				{Campaign: "spring", Creator: "alice", Provider: "bitly", ID: "bit.ly/known", URL: sb.url + "/known", Destination: dest("known")},
			})

			// What an operator sees: the link missing with Bitly's answer
			// as the reason, the other one exported, the collector up.
			env.CheckMissing(t, "bitly", sb.cut, exporter.KindLink, 1, "HTTP 404: NOT_FOUND", "missing link spring/alice/bit.ly/gone")
		})
	}
}

// clicksAt is the fake's count of resume link i, minutes after its start.
func clicksAt(i, minutes int) float64 { return float64(100*i + (i+1)*minutes) }

// TestResumeOutOfTime is the case scaled down: links read one call
// each, more than a refresh's time allows. Each refresh exports what it
// read, the links it did not reach keep their values, and the next refresh
// reads those first, so over two refreshes every link's count advances.
// The calls go one at a time, so that a cut after n calls leaves the same
// links unread on every run; TestResumeConcurrently has them at once.
func TestResumeOutOfTime(t *testing.T) {
	var ids []string
	for i := range 12 {
		ids = append(ids, fmt.Sprintf("bit.ly/l%02d", i))
	}
	group := `group_guid: ` + bitlyfake.GroupGUID
	tests := []struct {
		name, options, creator, creators string
		// calls answered before the time runs out, in refreshes 1 and 2
		calls1, calls2 int
		// links (by index) each refresh leaves unread
		skipped1, skipped2 []int
	}{
		{
			name: "one call per link", options: `{top_links: 0}`, creator: "alice", creators: alice(ids...),
			calls1: 7, skipped1: []int{7, 8, 9, 10, 11},
			calls2: 5, skipped2: []int{0, 1, 2, 3, 4, 5, 6},
		},
		{
			// The batch reads the five most clicked (l07 to l11) in
			// one call; the others cost one call each.
			name: "batch then one call per link", options: `{` + group + `, top_links: 5}`, creator: "alice", creators: alice(ids...),
			calls1: 1 + 3, skipped1: []int{3, 4, 5, 6},
			calls2: 1 + 4, skipped2: []int{0, 1, 2},
		},
		{
			name: "links found by tag", options: `{` + group + `, top_links: 0}`, creator: "erin", creators: exportertest.CreatorTags("erin", "bitly", "bulk"),
			calls1: 1 + 7, skipped1: []int{7, 8, 9, 10, 11},
			calls2: 1 + 5, skipped2: []int{0, 1, 2, 3, 4, 5, 6},
		},
		{
			// Out of time while listing the tag: nothing is read, and
			// the links the last listing found keep their values.
			name: "cut in the tag listing", options: `{` + group + `, top_links: 0}`, creator: "erin", creators: exportertest.CreatorTags("erin", "bitly", "bulk"),
			calls1: 0, skipped1: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
			calls2: 1 + 12, skipped2: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var links []bitlyfake.Link
			for i, id := range ids {
				links = append(links, link(id, int64(100*i), float64(i+1), "bulk"))
			}
			sb := newSandbox(t, token, links...)
			env := sb.buildSequential(t, tt.options, tt.creators)
			env.CheckLinkResume(t, exportertest.LinkResume{
				Collector: "bitly", Cut: sb.cut, Clock: sb.clock, IDs: ids,
				Creator: func(int) string { return tt.creator },
				Clicks:  clicksAt, Reason: "bitly: link ",
				Calls1: tt.calls1, Calls2: tt.calls2, Skipped1: tt.skipped1, Skipped2: tt.skipped2,
			})
		})
	}
}

// TestResumeAtDeadline runs a refresh out of its real deadline, as the
// scheduler's interval does: every call is slow, so it cannot read all
// twelve links in time. It keeps what it read, and the next refresh reads
// the others first.
func TestResumeAtDeadline(t *testing.T) {
	var (
		links []bitlyfake.Link
		ids   []string
	)
	for i := range 12 {
		id := fmt.Sprintf("bit.ly/l%02d", i)
		links = append(links, link(id, int64(100*i), float64(i+1)))
		ids = append(ids, id)
	}
	sb := newSandbox(t, token, links...)
	env := sb.buildSequential(t, `{top_links: 0}`, alice(ids...))
	if _, err := env.Poll(t, "bitly"); err != nil {
		t.Fatal(err)
	}

	// Twelve calls of 50ms each, one at a time, cannot fit in 200ms.
	sb.clock.Advance(10 * time.Minute)
	sb.fake.Faults.SetDelay(50 * time.Millisecond)
	sb.fake.Faults.Set(fakeapi.Slow, -1)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	samples, err := env.Instance(t, "bitly").Collector.Poll(ctx)
	cancel()
	sb.fake.Faults.Set(fakeapi.None, 0)
	objs, rest := exportertest.ObjectErrors(t, err)
	if len(objs) == 0 || rest != nil {
		t.Fatalf("got %d object errors and %v, want links skipped", len(objs), rest)
	}
	var skipped []string
	for _, oe := range objs {
		if !oe.Skipped || !errors.Is(oe, exporter.ErrOutOfTime) {
			t.Errorf("%s: %v, want skipped out of time", oe.ID, oe)
		}
		skipped = append(skipped, oe.ID)
	}
	for _, s := range samples {
		i := slices.Index(ids, s.Label("link"))
		if s.Value != clicksAt(i, 20) || slices.Contains(skipped, ids[i]) {
			t.Errorf("%s = %g, want %g and not skipped", ids[i], s.Value, clicksAt(i, 20))
		}
	}
	if len(samples)+len(skipped) != len(ids) {
		t.Errorf("%d links read and %d skipped, want %d in all", len(samples), len(skipped), len(ids))
	}

	// The next refresh reads the skipped links first: given time for as
	// many calls, it reads exactly those.
	sb.clock.Advance(10 * time.Minute)
	samples, err = env.PollWithin(t, "bitly", sb.cut, len(skipped))
	var read []string
	for _, s := range samples {
		read = append(read, s.Label("link"))
		if i := slices.Index(ids, s.Label("link")); s.Value != clicksAt(i, 30) {
			t.Errorf("%s = %g, want %g", ids[i], s.Value, clicksAt(i, 30))
		}
	}
	slices.Sort(read)
	slices.Sort(skipped)
	if !slices.Equal(read, skipped) {
		t.Errorf("second refresh read %q, want the links the first skipped, %q", read, skipped)
	}
	if len(samples) < len(ids) && !exporter.IsPartial(err) {
		t.Errorf("second refresh: %v, want the rest skipped", err)
	}
}

// TestResumeConcurrently runs refreshes out of time with the clicks
// summaries max_concurrent_requests at a time: a refresh still exports
// every link it read, defers the others, and reads least recently read
// links first, so what it leaves unread is the end of that order but for
// the calls under way when its time ran out.
func TestResumeConcurrently(t *testing.T) {
	const (
		n     = 40
		limit = 8 // the default max_concurrent_requests
		calls = 10
	)
	var (
		links []bitlyfake.Link
		ids   []string
	)
	for i := range n {
		id := fmt.Sprintf("bit.ly/l%02d", i)
		links = append(links, link(id, int64(100*i), float64(i+1)))
		ids = append(ids, id)
	}
	sb := newSandbox(t, token, links...)
	env := sb.build(t, `{top_links: 0}`, alice(ids...))
	samples, err := env.Poll(t, "bitly")
	if err != nil || len(samples) != n {
		t.Fatalf("refresh 0: %d samples, %v", len(samples), err)
	}

	// Refresh 0 read the links in file order: refresh 1 reads them so,
	// and runs out of time after 10 answered calls.
	sb.clock.Advance(10 * time.Minute)
	samples, err = env.PollWithin(t, "bitly", sb.cut, calls)
	objs, rest := exportertest.ObjectErrors(t, err)
	if rest != nil {
		t.Fatalf("refresh 1: %v", rest)
	}
	var read, skipped []int
	for _, s := range samples {
		i := slices.Index(ids, s.Label("link"))
		read = append(read, i)
		if s.Value != clicksAt(i, 20) {
			t.Errorf("refresh 1: %s = %g, want %g", ids[i], s.Value, clicksAt(i, 20))
		}
	}
	for _, oe := range objs {
		if !oe.Skipped || !errors.Is(oe, exporter.ErrOutOfTime) {
			t.Errorf("%s: %v, want skipped out of time", oe.ID, oe)
		}
		skipped = append(skipped, slices.Index(ids, oe.ID))
	}
	if len(read)+len(skipped) != n || len(read) > calls+limit {
		t.Errorf("refresh 1 read %d links and skipped %d, want %d in all and at most %d read", len(read), len(skipped), n, calls+limit)
	}
	for _, i := range read {
		if i >= calls+limit {
			t.Errorf("refresh 1 read %s, beyond the first %d links of its order", ids[i], calls+limit)
		}
	}

	// Refresh 2, with time for all, reads every link.
	sb.clock.Advance(10 * time.Minute)
	samples, err = env.Poll(t, "bitly")
	if err != nil || len(samples) != n {
		t.Fatalf("refresh 2: %d samples, %v", len(samples), err)
	}
	for _, s := range samples {
		if i := slices.Index(ids, s.Label("link")); s.Value != clicksAt(i, 30) {
			t.Errorf("refresh 2: %s = %g, want %g", ids[i], s.Value, clicksAt(i, 30))
		}
	}
}

// TestPlan checks the calls --config.check plans for one refresh.
func TestPlan(t *testing.T) {
	sb := newSandbox(t, token)
	three := alice("bit.ly/a", "bit.ly/b", "bit.ly/c")
	tests := []struct {
		name, options, creators string
		calls                   int
		note                    []string
	}{
		{"nothing configured", `{}`, alice(), 0, nil},
		{"per link", `{top_links: 0}`, three, 3, []string{"3 clicks summaries, one per configured link"}},
		{"per link and a tag", `{top_links: 0}`, three + exportertest.CreatorTags("erin", "bitly", "bulk"), 4,
			[]string{"1 tag listing pages (assumed one per tag)", "plus one per link found by tag"}},
		{"batch covers all", `{}`, three, 1, []string{"1 batch call", "up to 4 calls"}},
		{"links beyond the batch", `{top_links: 2}`, three + exportertest.CreatorTags("erin", "bitly", "bulk"), 1 + 1 + 1,
			[]string{"1 clicks summaries for the configured links beyond top_links", "up to 5 calls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := sb.build(t, tt.options, tt.creators)
			env.AssertPlan(t, "bitly", tt.calls, tt.note...)
		})
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name      string
		fakeToken string
		fault     fakeapi.Kind
		want      error
		contains  []string
	}{
		{"bad token", "another-token", fakeapi.None, exporter.ErrUnauthorized, []string{"bitly", "HTTP 403", "HTTP 403: FORBIDDEN: access denied"}},
		{"server error", token, fakeapi.ServerError, exporter.ErrServer, []string{"bitly", "HTTP 500", "INTERNAL_ERROR"}},
		{"malformed body", token, fakeapi.Malformed, exporter.ErrBadResponse, []string{"bitly", "decode JSON"}},
	}
	for _, tt := range tests {
		for _, opts := range []string{`{top_links: 0}`, `{group_guid: ` + bitlyfake.GroupGUID + `}`} {
			t.Run(tt.name+" "+opts, func(t *testing.T) {
				sb := newSandbox(t, tt.fakeToken, link("bit.ly/a", 1, 0, "alice"))
				sb.fake.Faults.Set(tt.fault, -1)
				env := sb.build(t, opts, alice("bit.ly/a"))
				samples, err := env.Poll(t, "bitly")
				exportertest.AssertFailed(t, samples, err, tt.want, token, tt.contains...)
			})
		}
	}
}

func TestRateLimitedThenSuccess(t *testing.T) {
	sb := newSandbox(t, token, link("bit.ly/a", 4, 0))
	sb.fake.Faults.SetRetryAfter(0)
	sb.fake.Faults.Set(fakeapi.RateLimited, 1)
	env := sb.build(t, `{top_links: 0}`, alice("bit.ly/a"))
	samples, err := env.Poll(t, "bitly")
	if err != nil {
		t.Fatal(err)
	}
	exportertest.CompareText(t, samples, clicks("bit.ly/a=4"))
	if got := env.Retries("bitly"); got != 1 {
		t.Errorf("retries %g, want 1", got)
	}
}

func TestBadOptions(t *testing.T) {
	sb := newSandbox(t, token)
	tests := []struct {
		name, options, creators string
		want                    string
	}{
		{"page size zero", `{page_size: 0}`, alice(), "collectors[0].options.page_size: must be between 1 and 100, got 0"},
		{"page size too big", `{page_size: 500}`, alice(), "collectors[0].options.page_size: must be between 1 and 100, got 500"},
		{"negative top links", `{top_links: -1}`, alice(), "collectors[0].options.top_links: must be between 0 (off) and 1000, got -1"},
		{"unknown option", `{group: abc}`, alice(), "collectors[0].options.group"},
		{"wrong type", `{page_size: many}`, alice(), "collectors[0].options"},
		{"bad group", `{group_guid: "a/b"}`, alice(), "collectors[0].options.group_guid: invalid group guid"},
		{"link without back-half", `{}`, alice("bit.ly"), "campaigns[0].creators[0].links[0].id: bitly link id \"bit.ly\" must be domain/back-half"},
		{"tag used twice", `{}`, exportertest.CreatorTags("alice", "bitly", "spring") + exportertest.CreatorTags("bob", "bitly", "spring"),
			"campaigns[0].creators[1].tags[0].tag: tag \"spring\" is already used by creator \"alice\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exportertest.AssertConfigError(t, sb.config(tt.options, tt.creators), tt.want)
		})
	}

	// An unknown option no longer hides the checks of the others, nor
	// the links': one --config.check shows them all.
	t.Run("every option error at once", func(t *testing.T) {
		exportertest.AssertConfigError(t, sb.config(`{top_linkz: 1, page_size: 5000}`, alice("bit.ly")),
			"collectors[0].options.top_linkz",
			"collectors[0].options.page_size: must be between 1 and 100, got 5000",
			"campaigns[0].creators[0].links[0].id: bitly link id \"bit.ly\" must be domain/back-half")
	})

	t.Run("missing token", func(t *testing.T) {
		cfg := strings.Replace(sb.config(`{}`, alice()), "token: "+token, "", 1)
		exportertest.AssertConfigError(t, cfg, "collectors[0].token: bitly needs an API token")
	})
}

// TestArchivedLinksByTag is the case: archived links still
// redirect and count clicks, so a tag of 40 links, 4 of them archived,
// exports all 40. Bitly lists archived links only when asked.
func TestArchivedLinksByTag(t *testing.T) {
	var (
		links []bitlyfake.Link
		want  []string
	)
	for i := range 40 {
		id := fmt.Sprintf("bit.ly/t%02d", i)
		l := link(id, int64(i), 0, "tiktok")
		l.Archived = i%10 == 3
		links = append(links, l)
		want = append(want, fmt.Sprintf("%s=%d", id, i))
	}
	sb := newSandbox(t, token, links...)
	for _, opts := range []string{`{group_guid: ` + bitlyfake.GroupGUID + `, top_links: 0}`, `{group_guid: ` + bitlyfake.GroupGUID + `}`} {
		t.Run(opts, func(t *testing.T) {
			env := sb.build(t, opts, exportertest.CreatorTags("erin", "bitly", "tiktok"))
			samples, err := env.Poll(t, "bitly")
			if err != nil {
				t.Fatal(err)
			}
			exportertest.CompareText(t, samples, exportertest.LinkClicksText("spring", "erin", "bitly", want...))
		})
	}
}

// TestBatchRefused: a plan or API version without the sorted links batch
// call (403, 404, 501) reads every link one clicks summary each, keeps
// every series, and says so in a note on the landing page; a server error
// still fails the refresh.
func TestBatchRefused(t *testing.T) {
	tests := []struct {
		status int
		reason string
	}{
		{http.StatusNotFound, "HTTP 404: NOT_FOUND"},
		{http.StatusForbidden, "HTTP 403: FORBIDDEN"},
		{http.StatusNotImplemented, "HTTP 501: NOT_IMPLEMENTED"},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			sb := newSandbox(t, token, link("bit.ly/a", 4, 0), link("bit.ly/b", 9, 0), link("bit.ly/c", 2, 0, "erin"))
			sb.fake.RefuseSorted(tt.status)
			env := sb.build(t, `{group_guid: `+bitlyfake.GroupGUID+`}`, alice("bit.ly/a", "bit.ly/b")+exportertest.CreatorTags("erin", "bitly", "erin"))
			for i, calls := range []int{
				1 + 1 + 1 + 3, // tag page, refused batch, 1 group page for 2 short URLs (once), 3 summaries
				1 + 1 + 3,
			} {
				before := sb.fake.Faults.Hits()
				samples, err := env.Poll(t, "bitly")
				objs, rest := exportertest.ObjectErrors(t, err)
				if len(objs) != 0 || len(rest) != 1 || !strings.Contains(rest[0].Error(), "most clicked links") || !strings.Contains(rest[0].Error(), tt.reason) {
					t.Errorf("refresh %d: %d object errors and notes %v, want one note with %q", i+1, len(objs), rest, tt.reason)
				}
				exportertest.CompareText(t, samples, exportertest.MetricText(exporter.LinkClicks,
					`influencer_link_clicks_total{campaign="spring",creator="alice",link="bit.ly/a",provider="bitly"} 4`,
					`influencer_link_clicks_total{campaign="spring",creator="alice",link="bit.ly/b",provider="bitly"} 9`,
					`influencer_link_clicks_total{campaign="spring",creator="erin",link="bit.ly/c",provider="bitly"} 2`))
				if got := sb.fake.Faults.Hits() - before; got != calls {
					t.Errorf("refresh %d: %d API calls, want %d", i+1, got, calls)
				}
			}

			// Served again: one batch call covers the links, no note.
			sb.fake.RefuseSorted(0)
			if _, err := env.Poll(t, "bitly"); err != nil {
				t.Errorf("batch served again: %v", err)
			}
		})
	}

	t.Run("server error fails", func(t *testing.T) {
		sb := newSandbox(t, token, link("bit.ly/a", 4, 0))
		sb.fake.RefuseSorted(http.StatusInternalServerError)
		env := sb.build(t, `{group_guid: `+bitlyfake.GroupGUID+`}`, alice("bit.ly/a"))
		samples, err := env.Poll(t, "bitly")
		exportertest.AssertFailed(t, samples, err, exporter.ErrServer, token, "most clicked links", "HTTP 500")
	})
}

// TestClicksAsStrings: a click count sent as a numeric string is read; one
// that is not a number fails that link only (in the batch, the link falls
// back to its own summary first), counted missing with the reason.
func TestClicksAsStrings(t *testing.T) {
	str := link("bit.ly/str", 12, 0)
	str.ClicksJSON = `"12"`
	bad := link("bit.ly/bad", 3, 0)
	bad.ClicksJSON = `"n/a"`
	for _, tc := range []struct {
		options string
		calls   int
	}{
		// Three summaries, and the short URLs of the two read.
		{`{top_links: 0}`, 5},
		// The batch, then bad's summary.
		{`{group_guid: ` + bitlyfake.GroupGUID + `}`, 2},
	} {
		t.Run(tc.options, func(t *testing.T) {
			sb := newSandbox(t, token, link("bit.ly/ok", 5, 0), str, bad)
			env := sb.build(t, tc.options, alice("bit.ly/ok", "bit.ly/str", "bit.ly/bad"))
			samples, err := env.Poll(t, "bitly")
			exportertest.AssertPartial(t, err, exporter.ErrBadResponse, `"bit.ly/bad"`, `"n/a"`)
			exportertest.AssertObjectKeys(t, err, "missing link spring/alice/bit.ly/bad")
			exportertest.CompareText(t, samples, clicks("bit.ly/ok=5", "bit.ly/str=12"))
			if got := sb.fake.Faults.Hits(); got != tc.calls {
				t.Errorf("%d API calls, want %d", got, tc.calls)
			}
		})
	}
}

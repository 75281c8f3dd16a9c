package report

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/influencer-exporter/influencer_exporter/internal/jobcheck"
)

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func read(t *testing.T, req Request) *Report {
	t.Helper()
	r, err := NewReader(prometheus(t), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := r.Read(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func creator(t *testing.T, rep *Report, name string) Creator {
	t.Helper()
	for _, c := range rep.Creators {
		if c.Creator == name {
			return c
		}
	}
	t.Fatalf("no creator %s in the report", name)
	return Creator{}
}

func f(v float64) *float64 { return &v }
func i(v int) *int         { return &v }

// eq compares an optional figure with its expected value (nil: absent).
func eq(t *testing.T, what string, got, want *float64) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", what, deref(got), deref(want))
	case *got != *want:
		t.Errorf("%s = %v, want %v", what, *got, *want)
	}
}

func deref(v *float64) any {
	if v == nil {
		return "absent"
	}
	return *v
}

func eqInt(t *testing.T, what string, got, want *int) {
	t.Helper()
	str := func(v *int) string {
		if v == nil {
			return "absent"
		}
		return strconv.Itoa(*v)
	}
	if str(got) != str(want) {
		t.Errorf("%s = %s, want %s", what, str(got), str(want))
	}
}

// TestCheckpointRead reads the checkpoint of 2025-06-02 18:00 (the window
// 09:00 to 18:00, the previous read 06-01 18:00 to 09:00) and checks the
// figures the fixture was built to give.
func TestCheckpointRead(t *testing.T) {
	rep := read(t, Request{Campaign: "spring-launch", End: checkpointRead})

	if want := newWindow(time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC), checkpointRead); rep.Window != want {
		t.Errorf("window %+v, want %+v", rep.Window, want)
	}
	if want := newWindow(time.Date(2025, 6, 1, 18, 0, 0, 0, time.UTC), time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)); rep.Previous == nil || *rep.Previous != want {
		t.Errorf("previous window %+v, want %+v", rep.Previous, want)
	}
	if rep.Job != "influencer" {
		t.Errorf("job %q", rep.Job)
	}
	if want := time.Date(2025, 5, 31, 18, 0, 0, 0, time.UTC); !rep.Settling.From.Equal(want) || !strings.Contains(rep.Settling.Note, "48 h") {
		t.Errorf("settling %+v", rep.Settling)
	}
	var order []string
	for _, c := range rep.Creators {
		order = append(order, c.Creator)
	}
	// EUR by cost per redemption, then USD; then a fee without
	// redemptions; then no fee.
	if want := []string{"alice", "emma", "bruno", "dev", "chloe"}; !slices.Equal(order, want) {
		t.Errorf("creators ranked %v, want %v", order, want)
	}

	// The windows last 9 h and 15 h: changes compare paces, 5/3 times
	// the ratio of totals.
	alice := creator(t, rep, "alice")
	eq(t, "alice clicks", alice.Window.LinkClicks, f(1080))
	eq(t, "alice clicks before", alice.Previous.LinkClicks, f(900))
	eq(t, "alice clicks change", alice.Change.LinkClicks, f(1))
	eq(t, "alice redemptions", alice.Window.CodeRedemptions, f(20))
	if want := []Money{{"EUR", 1400}}; !slices.Equal(alice.Window.NetRevenue, want) {
		t.Errorf("alice net revenue %v, want %v (revenue 1500 - refunds 100)", alice.Window.NetRevenue, want)
	}
	// Plausible 800, GA4 780: the same visitors, never 1580.
	eq(t, "alice visitors", alice.Window.ReferralVisitors, f(800))
	eq(t, "alice visitors before", alice.Previous.ReferralVisitors, f(650))
	eq(t, "alice views", alice.Window.Views, f(30000))
	eq(t, "alice saves+shares", alice.Window.SavesShares, f(400)) // likes left out
	eq(t, "alice followers", alice.Window.Followers, f(1000))
	eq(t, "alice broken minutes", alice.Window.BrokenLinkMinutes, f(0))
	eq(t, "alice cost per click", alice.Cost.CostPerClick, f(0.5))
	eq(t, "alice cost per redemption", alice.Cost.CostPerRedemption, f(50))
	eq(t, "alice return on spend", alice.Cost.ReturnOnSpend, f(1900.0/1500))
	eq(t, "alice budget spent", alice.Cost.BudgetSpent, f(0.5))
	eqInt(t, "alice rank", alice.Cost.Rank, i(1))
	eqInt(t, "alice previous rank", alice.Cost.PreviousRank, i(2))

	emma := creator(t, rep, "emma")
	eq(t, "emma cost per redemption", emma.Cost.CostPerRedemption, f(80))
	eqInt(t, "emma rank", emma.Cost.Rank, i(2))
	eqInt(t, "emma previous rank", emma.Cost.PreviousRank, i(1))
	eq(t, "emma views", emma.Window.Views, nil)
	if !slices.Equal(emma.Window.Flags, []string{"InfluencerEngagementRateOutlier"}) {
		t.Errorf("emma flags %v", emma.Window.Flags)
	}

	// bruno: paid in USD; his EUR revenue is never divided by his fee.
	bruno := creator(t, rep, "bruno")
	if bruno.Cost.Currency != "USD" {
		t.Errorf("bruno fee currency %s", bruno.Cost.Currency)
	}
	if want := []Money{{"EUR", 80}, {"USD", 700}}; !slices.Equal(bruno.Window.NetRevenue, want) {
		t.Errorf("bruno net revenue %v, want %v", bruno.Window.NetRevenue, want)
	}
	eq(t, "bruno return on spend", bruno.Cost.ReturnOnSpend, f(1.5))
	eq(t, "bruno cost per redemption", bruno.Cost.CostPerRedemption, f(50))
	eqInt(t, "bruno rank", bruno.Cost.Rank, i(1))
	eq(t, "bruno broken minutes", bruno.Window.BrokenLinkMinutes, f(17))
	eq(t, "bruno broken minutes before", bruno.Previous.BrokenLinkMinutes, f(5))
	eq(t, "bruno views (a post published in the window counts whole)", bruno.Window.Views, f(9000))
	eq(t, "bruno views before", bruno.Previous.Views, nil)
	if !slices.Equal(bruno.Window.Flags, []string{"InfluencerPostStalledEarly"}) {
		t.Errorf("bruno flags %v", bruno.Window.Flags)
	}
	if want := []BrokenLink{{"bruno", "dub", "dub.sh/bruno-spring", 17}}; !slices.Equal(rep.BrokenLinks, want) {
		t.Errorf("broken links %v, want %v", rep.BrokenLinks, want)
	}

	chloe := creator(t, rep, "chloe")
	if chloe.Cost != nil {
		t.Errorf("chloe has no fee but a cost: %+v", chloe.Cost)
	}
	// Fired, not merely pending.
	if !slices.Equal(chloe.Window.Flags, []string{"InfluencerClicksWithoutVisits"}) {
		t.Errorf("chloe flags %v", chloe.Window.Flags)
	}

	dev := creator(t, rep, "dev")
	eq(t, "dev cost per redemption (no redemption)", dev.Cost.CostPerRedemption, nil)
	eqInt(t, "dev rank", dev.Cost.Rank, nil)
	eq(t, "dev budget spent", dev.Cost.BudgetSpent, f(0.9))
	if len(dev.Window.Flags) != 0 || !slices.Equal(dev.Previous.Flags, []string{"InfluencerFollowerSpike"}) {
		t.Errorf("dev flags %v, before %v", dev.Window.Flags, dev.Previous.Flags)
	}

	wantAges := []AgeQuartiles{{"1h", 6, 3.75, 8, 13}, {"3h", 5, 15, 25, 40}}
	if !slices.Equal(rep.EarlyCurve.Ages, wantAges) {
		t.Errorf("early-curve quartiles %v, want %v", rep.EarlyCurve.Ages, wantAges)
	}
	var standings []string
	for _, p := range rep.EarlyCurve.Posts {
		var s []string
		for _, a := range p.AtAge {
			s = append(s, a.Age+"="+formatCount(a.SavesShares)+":"+a.Standing)
		}
		standings = append(standings, p.Creator+" "+strings.Join(s, " "))
	}
	wantStandings := []string{
		"emma 1h=40:p75_and_above 3h=80:p75_and_above",
		"alice 1h=14:p75_and_above 3h=40:p75_and_above",
		"chloe 1h=10:p50_p75 3h=25:p50_p75",
		"dev 1h=6:p25_p50 3h=15:p25_p50",
		"bruno 1h=2:below_p25 3h=6:below_p25",
		"chloe 1h=3:below_p25",
	}
	if !slices.Equal(standings, wantStandings) {
		t.Errorf("early curve:\n%s\nwant:\n%s", strings.Join(standings, "\n"), strings.Join(wantStandings, "\n"))
	}

	md := rep.Markdown(time.UTC)
	for _, want := range []string{
		"Window: 2025-06-02 09:00 UTC to 2025-06-02 18:00 UTC (9h), since the last checkpoint; job influencer.",
		"Still settling: figures since 2025-05-31 18:00 UTC may change",
		"| alice   | 1080 (+100%) |",
		"| bruno   | dub dub.sh/bruno-spring | 17             |",
		"| chloe   | no fee      |",
		"| 1    | alice   | 1500.00 EUR | 0.50 EUR  | 50.00 EUR      | 1.27            | 50%          | up 1 ",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	golden(t, "checkpoint.md", md)
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	golden(t, "checkpoint.json", js.String())
}

// TestInterimRead reads mid-window: since the 18:00 checkpoint until 19:30,
// against the whole 09:00-18:00 read.
func TestInterimRead(t *testing.T) {
	rep := read(t, Request{Campaign: "spring-launch", End: interimRead})
	if rep.Window.Start != checkpointRead || rep.Previous == nil || rep.Previous.End != checkpointRead {
		t.Errorf("window %+v, previous %+v", rep.Window, rep.Previous)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	md := rep.Markdown(paris)
	if !strings.Contains(md, "Window: 2025-06-02 20:00 CEST to 2025-06-02 21:30 CEST (1h30m)") {
		t.Errorf("times not in the zone asked for:\n%s", md)
	}
	golden(t, "interim.md", md)
}

// TestSinceDuration: a 3h window and the 3h before it; bruno's outage of
// 13:00-13:17 lies in the previous one.
func TestSinceDuration(t *testing.T) {
	since, err := ParseSince("3h")
	if err != nil {
		t.Fatal(err)
	}
	rep := read(t, Request{Campaign: "spring-launch", Since: since, End: checkpointRead})
	if rep.Window.Seconds != 3*3600 || rep.Previous.End != rep.Window.Start || rep.Previous.Seconds != 3*3600 {
		t.Errorf("window %+v, previous %+v", rep.Window, rep.Previous)
	}
	bruno := creator(t, rep, "bruno")
	eq(t, "bruno broken minutes", bruno.Window.BrokenLinkMinutes, f(0))
	eq(t, "bruno broken minutes before", bruno.Previous.BrokenLinkMinutes, f(17))
	alice := creator(t, rep, "alice")
	eq(t, "alice clicks", alice.Window.LinkClicks, f(360))
	eq(t, "alice clicks change", alice.Change.LinkClicks, f(0))
	if !strings.Contains(rep.Markdown(time.UTC), "(3h), the last 3h; job influencer.") {
		t.Error("Markdown does not say the window is the last 3h")
	}
}

func TestReadErrors(t *testing.T) {
	url := prometheus(t)
	r, err := NewReader(url, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	noon := time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)
	twoHours, _ := ParseSince("2h")
	for _, tc := range []struct {
		name string
		req  Request
		is   error
		want []string
	}{
		{
			name: "unknown campaign",
			req:  Request{Campaign: "autumn", End: checkpointRead},
			is:   ErrUnknownCampaign,
			want: []string{`unknown campaign "autumn": Prometheus at ` + url + ` has no series with campaign="autumn"`, "campaigns it has: shared, spring-launch, summer-drop"},
		},
		{
			name: "campaign without checkpoints",
			req:  Request{Campaign: "summer-drop", End: noon},
			is:   ErrNoCheckpoint,
			want: []string{`no checkpoint for campaign "summer-drop"`, "the campaign needs checkpoints in the exporter's configuration", "--since=12h"},
		},
		{
			name: "no data in the window",
			req:  Request{Campaign: "summer-drop", Since: twoHours, End: noon},
			is:   ErrNoData,
			want: []string{`campaign "summer-drop" of job "influencer" has no action, attention or link-probe series with samples from 2025-06-02T10:00:00Z to 2025-06-02T12:00:00Z`},
		},
		{
			name: "several jobs",
			req:  Request{Campaign: "shared", Since: twoHours, End: noon},
			want: []string{`campaign "shared" is in several jobs (eu, us)`, "choose one with --job"},
		},
		{
			name: "wrong job",
			req:  Request{Campaign: "spring-launch", Job: "eu", End: checkpointRead},
			is:   ErrUnknownCampaign,
			want: []string{`in job "eu"`, "only in job influencer"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Read(context.Background(), tc.req)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
	t.Run("one job chosen", func(t *testing.T) {
		rep, err := r.Read(context.Background(), Request{Campaign: "shared", Job: "us", Since: twoHours, End: noon})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Job != "us" || len(rep.Creators) != 1 {
			t.Errorf("job %s, creators %+v", rep.Job, rep.Creators)
		}
	})
}

// TestUnreachable names the server without its credentials.
func TestUnreachable(t *testing.T) {
	addr, err := freeAddr() // closed again: nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader("http://admin:s3cret@"+addr+"/prom/?x=1", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Read(context.Background(), Request{Campaign: "spring-launch", End: checkpointRead})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("error %v is not %v", err, ErrUnreachable)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "cannot reach Prometheus at http://"+addr+"/prom/: ") || !strings.Contains(msg, "connection refused") {
		t.Errorf("error: %s", msg)
	}
	if strings.Contains(msg, "s3cret") || strings.Contains(msg, "admin") {
		t.Errorf("error names the credentials: %s", msg)
	}
}

// TestQueriesKeepJob holds every query to the rules' standard: no
// aggregation or match drops job.
func TestQueriesKeepJob(t *testing.T) {
	q := queries{job: "influencer", campaign: "spring-launch"}
	w := newWindow(checkpointRead.Add(-9*time.Hour), checkpointRead)
	all := q.window(w)
	for k, v := range q.earlyCurve(w) {
		all["early_curve_"+k] = v
	}
	all["checkpoint"] = `max by (job, campaign) (max_over_time((influencer_campaign_checkpoint_timestamp_seconds{job="j", campaign="c"} < 1)[7d:1m]))`
	for name, query := range all {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(query)
		if err != nil {
			t.Errorf("%s: %v\n%s", name, err, query)
			continue
		}
		for _, p := range jobcheck.Problems(e) {
			t.Errorf("%s: %s\n%s", name, p, query)
		}
	}
}

func TestParseSince(t *testing.T) {
	for in, want := range map[string]string{
		"last-checkpoint":      "last-checkpoint",
		"12h":                  "12h",
		"1d":                   "1d",
		"2025-06-02T09:00:00Z": "2025-06-02T09:00:00Z",
	} {
		s, err := ParseSince(in)
		if err != nil || s.String() != want {
			t.Errorf("ParseSince(%q) = %v, %v; want %s", in, s, err, want)
		}
	}
	for _, in := range []string{"", "yesterday", "-3h", "0s"} {
		if _, err := ParseSince(in); err == nil {
			t.Errorf("ParseSince(%q) accepted", in)
		}
	}
}

// runCLI parses args as the report command does and runs it.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := kingpin.New("influencer_exporter", "")
	cmd := app.Command("report", "")
	cfg := AddFlags(cmd)
	if _, err := app.Parse(append([]string{"report"}, args...)); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := Run(ctx, cfg, &out, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return out.String(), err
}

func TestCommand(t *testing.T) {
	url := prometheus(t)
	base := []string{"--prometheus.url=" + url, "--campaign=spring-launch", "--at=2025-06-02T18:00:00Z"}
	t.Run("markdown", func(t *testing.T) {
		out, err := runCLI(t, base...)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "checkpoint.md", out)
	})
	t.Run("json", func(t *testing.T) {
		out, err := runCLI(t, append(base, "--format=json")...)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "checkpoint.json", out)
	})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--since=yesterday"}, `--since="yesterday": want last-checkpoint, a duration`},
		{[]string{"--webhook.url=https://hooks.example.com/services/T0/B0/s3cret"}, "a webhook needs --state.file"},
		{[]string{"--schedule"}, "--at and --schedule exclude each other"},
		{[]string{"--time-zone=Mars/Olympus"}, "--time-zone=Mars/Olympus"},
		{[]string{"--campaign=autumn"}, `unknown campaign "autumn"`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			args := slices.Clone(base)
			if strings.HasPrefix(tc.args[0], "--campaign=") {
				args[1] = tc.args[0]
			} else {
				args = append(args, tc.args...)
			}
			_, err := runCLI(t, args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error names the webhook's secret: %v", err)
			}
		})
	}
	t.Run("schedule interval bounds", func(t *testing.T) {
		_, err := runCLI(t, "--prometheus.url="+url, "--campaign=spring-launch", "--schedule", "--schedule.interval=1s")
		if err == nil || !strings.Contains(err.Error(), "--schedule.interval=1s: want 10s to 1h0m0s") {
			t.Errorf("error %v", err)
		}
	})
}

// TestPrometheusAnswers: errors from a Prometheus that answers badly or not
// at all, and credentials sent but never named.
func TestPrometheusAnswers(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch user, pass, _ := r.BasicAuth(); {
		case user != "admin" || pass != "s3cret":
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
		case r.URL.Path == "/prom/api/v1/label/job/values":
			io.WriteString(w, `{"status":"success","data":[]}`)
		case r.URL.Path == "/prom/api/v1/label/campaign/values":
			io.WriteString(w, `{"status":"success","data":["spring-launch"]}`)
		case r.URL.Path == "/prom/api/v1/query" && r.FormValue("query") == "hang":
			<-release
		case r.URL.Path == "/prom/api/v1/query":
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"status":"error","errorType":"bad_data","error":"1:1: parse error"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	defer close(release) // before Close, which waits for the hanging handler
	host := strings.TrimPrefix(srv.URL, "http://")
	r, err := NewReader("http://admin:s3cret@"+host+"/prom", 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = r.Read(ctx, Request{Campaign: "autumn", End: checkpointRead})
	if !errors.Is(err, ErrUnknownCampaign) || !strings.Contains(err.Error(), "Prometheus at "+srv.URL+"/prom has no series") ||
		!strings.Contains(err.Error(), "campaigns it has: spring-launch") {
		t.Errorf("unknown campaign: %v", err)
	}
	_, err = r.query(ctx, "up{", checkpointRead)
	if err == nil || !strings.Contains(err.Error(), "bad_data: 1:1: parse error") {
		t.Errorf("bad query: %v", err)
	}
	_, err = r.query(ctx, "hang", checkpointRead)
	if err == nil || !strings.Contains(err.Error(), "no answer within 200ms (--prometheus.timeout)") {
		t.Errorf("hanging query: %v", err)
	}
	noAuth, _ := NewReader(srv.URL+"/prom", time.Minute)
	_, err = noAuth.query(ctx, "up", checkpointRead)
	if err == nil || !strings.Contains(err.Error(), "client error: 401 (Unauthorized)") {
		t.Errorf("unauthorized: %v", err)
	}
	for _, e := range []error{err} {
		if strings.Contains(e.Error(), "s3cret") {
			t.Errorf("credentials in %v", e)
		}
	}
	if _, err := NewReader("localhost:9090", time.Minute); err == nil || !strings.Contains(err.Error(), "want an http or https URL") {
		t.Errorf("URL without scheme: %v", err)
	}
}

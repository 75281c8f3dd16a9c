package tiktok

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/tiktok/tiktokfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// TestMissingObjects: a configured video deleted after it was exported,
// or another user's, is reported missing with the reason under its
// campaign, creator and id; a video found by hashtag and then deleted
// simply stops being watched.
func TestMissingObjects(t *testing.T) {
	tests := []struct {
		name    string
		ids     []string
		before  func(*tiktokfake.Server) // between the first and second refresh
		missing []string
		objects map[string]float64
		gone    string // the video no longer exported
	}{{
		name:    "deleted configured video",
		ids:     []string{"7601"},
		before:  func(f *tiktokfake.Server) { f.DeletePost("7601") },
		missing: []string{"missing post spring/alice/7601"},
		objects: map[string]float64{"post exported": 1, "post missing": 1, "account exported": 1},
		gone:    "7601",
	}, {
		name:    "another user's video",
		ids:     []string{"7601", "7603"},
		missing: []string{"missing post spring/alice/7603"},
		objects: map[string]float64{"post exported": 2, "post missing": 1, "account exported": 1},
		gone:    "7603",
	}, {
		name:    "deleted video found by hashtag",
		ids:     []string{"7601"},
		before:  func(f *tiktokfake.Server) { f.DeletePost("7602") },
		objects: map[string]float64{"post exported": 1, "post missing": 0, "account exported": 1},
		gone:    "7602",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, token,
				post("7601", time.Hour, "", "no tag", 1000),
				post("7602", time.Hour, "", "#spring haul", 2000))
			sb.fake.AddAccount(tiktokfake.Account{ID: "open-bob", Token: "act.bob"})
			sb.fake.AddPost(tiktokfake.Post{ID: "7603", Account: "open-bob", Published: now.Add(-time.Hour)})
			env := sb.build(t, sb.config(tokenLine(token), `{}`, alice("#spring", tt.ids...), ""))
			cache := exporter.NewCache()
			env.RefreshWithin(t, cache, "tiktok", sb.cut, -1)
			if tt.before != nil {
				tt.before(sb.fake)
			}
			sb.clock.Advance(time.Minute)

			samples, err := env.Poll(t, "tiktok")
			if tt.missing == nil {
				if err != nil {
					t.Fatalf("poll: %v", err)
				}
			} else {
				exportertest.AssertObjectKeys(t, err, tt.missing...)
				var oe *exporter.ObjectError
				if !errors.As(err, &oe) || oe.Skipped || !errors.Is(oe, exporter.ErrNotFound) ||
					!strings.Contains(oe.Error(), "not among the public videos of the token's user (deleted, private, or another user's)") {
					t.Errorf("object error %+v, want one missing, matching ErrNotFound", oe)
				}
			}
			for _, s := range samples {
				if s.Label("post") == tt.gone {
					t.Errorf("video %s still reported: %s %v", tt.gone, s.Metric.Name, s.LabelValues)
				}
			}

			env.RefreshWithin(t, cache, "tiktok", sb.cut, -1)
			gaps, reasons := exportertest.GapKeys(t, cache, "tiktok")
			if !reflect.DeepEqual(gaps, tt.missing) {
				t.Errorf("gaps %v, want %v", gaps, tt.missing)
			}
			for _, g := range gaps {
				if !strings.Contains(reasons[g], "tiktok: video") || !strings.Contains(reasons[g], "(campaigns[0].creators[0].posts[") {
					t.Errorf("gap %s: reason %q", g, reasons[g])
				}
			}
			exportertest.AssertObjects(t, cache, "tiktok", tt.objects)
			views := exportertest.CachedValues(t, cache, exporter.PostViews, "post")
			if _, ok := views[tt.gone]; ok || len(views) != int(tt.objects["post exported"]) {
				t.Errorf("views exported of %v, want %g videos, not %s", views, tt.objects["post exported"], tt.gone)
			}
		})
	}
}

// TestResumeWhenOutOfTime: refreshes whose time runs out after two of
// their three queries export the 40 videos they read, keep the last
// values of the other 5 (skipped), and query those first next time, so
// every video's value advances over two such refreshes.
func TestResumeWhenOutOfTime(t *testing.T) {
	var (
		posts []tiktokfake.Post
		ids   []string
		byID  = map[string]tiktokfake.Post{}
	)
	for i := range 45 {
		id := fmt.Sprint(7200 + i)
		p := post(id, time.Duration(i+1)*time.Minute, "", "", float64(1000+100*i))
		posts = append(posts, p)
		ids = append(ids, id)
		byID[id] = p
	}
	sb := newSandbox(t, token, posts...)
	env := sb.build(t, sb.config(tokenLine(token), `{}`, alice("-", ids...), ""))
	before := env.CheckPostResume(t, exportertest.PostResume{
		Collector: "tiktok", Cut: sb.cut, Clock: sb.clock, IDs: ids,
		Calls: 2, Skipped: 5,
		Views: func(id string) float64 { return float64(viewsAt(byID[id], sb.clock.Now())) },
	})

	// What Poll returns when cut: a Skipped object error per video not
	// read, under its campaign and creator.
	sb.clock.Advance(time.Minute)
	_, err := env.PollWithin(t, "tiktok", sb.cut, 2)
	exportertest.AssertSkippedPost(t, err, before)
}

// TestListingResumes: a listing the refresh's time cuts short applies the
// page it read, and the next refresh goes on from its cursor rather than
// from the top.
func TestListingResumes(t *testing.T) {
	sb := newSandbox(t, token, taggedPosts()...)
	env := sb.build(t, sb.config(tokenLine(token), `{}`, alice("#spring"), ""))
	published := func(samples []exporter.Sample) int {
		n := 0
		for _, s := range samples {
			if s.Metric == exporter.PostPublished {
				n++
			}
		}
		return n
	}

	// User info and the first page, then time is up.
	samples, err := env.PollWithin(t, "tiktok", sb.cut, 2)
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	if got := published(samples); got != 20 {
		t.Errorf("%d videos after the first page, want 20", got)
	}

	// A minute later: user info, pages 2 and 3 from the cursor, and one
	// query for the videos of page 1 under 6 hours old.
	sb.clock.Advance(time.Minute)
	hits := sb.fake.Faults.Hits()
	samples = poll(t, env)
	if got := published(samples); got != 50 {
		t.Errorf("%d videos once the listing went on, want 50", got)
	}
	if got := sb.fake.Faults.Hits() - hits; got != 4 {
		t.Errorf("%d calls, want 4", got)
	}
	// Video 7310 was on page 1 only, and not due: read once.
	if got := sb.fake.Served("7310"); got != 1 {
		t.Errorf("video 7310 served %d times: the listing started again from the top", got)
	}
}

func TestPlan(t *testing.T) {
	var ids []string
	for i := range 21 {
		ids = append(ids, fmt.Sprint(7000+i))
	}
	tests := []struct {
		name, creators string
		calls          int
	}{
		{"account with a match and 21 videos", alice("#spring", ids...), 1 + 1 + 2},
		{"one video", alice("-", "7101"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t, token)
			env := sb.build(t, sb.config(tokenLine(token), `{}`, tt.creators, ""))
			env.AssertPlan(t, "tiktok", tt.calls, "video queries")
		})
	}
}

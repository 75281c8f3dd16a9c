package instagram

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/instagram/instagramfake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// TestMissingObjects: a post deleted after it was exported, a wrong post
// id and an unknown account are reported missing with Graph's reason,
// each under its campaign, creator and id, and the rest is exported.
func TestMissingObjects(t *testing.T) {
	tests := []struct {
		name     string
		creators string
		before   func(*instagramfake.Server) // between the first and second refresh
		missing  []string
		exported map[string]float64 // "kind state" counts of the second refresh
		reason   string
	}{{
		name:     "deleted post",
		creators: creator("alice", []string{"2001", "2002"}, "1001"),
		before:   func(f *instagramfake.Server) { f.DeletePost("2002") },
		missing:  []string{"missing post spring/alice/2002"},
		exported: map[string]float64{"post exported": 1, "post missing": 1, "account exported": 1, "account missing": 0},
		reason:   `instagram: post "2002" (campaigns[0].creators[0].posts[1]): batch GET /2002`,
	}, {
		name:     "wrong post id",
		creators: creator("alice", []string{"2001", "9999"}, "1001"),
		missing:  []string{"missing post spring/alice/9999"},
		exported: map[string]float64{"post exported": 1, "post missing": 1, "account exported": 1, "account missing": 0},
		reason:   `instagram: post "9999" (campaigns[0].creators[0].posts[1])`,
	}, {
		name:     "unknown account",
		creators: creator("alice", []string{"2001"}, "1001", "8888") + creator("bob", nil, "8888"),
		missing:  []string{"missing account spring/alice/8888", "missing account spring/bob/8888"},
		exported: map[string]float64{"post exported": 1, "post missing": 0, "account exported": 1, "account missing": 2},
		reason:   `instagram: account "8888" (campaigns[0].creators[0].accounts[1])`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t)
			seed(sb.fake)
			env := sb.build(t, `{token_check_interval: 0}`, tt.creators)
			cache := exporter.NewCache()
			env.RefreshWithin(t, cache, "instagram", sb.cut, -1)
			if tt.before != nil {
				tt.before(sb.fake)
			}
			// Every post is due again.
			sb.clock.Advance(15 * time.Minute)

			samples, err := env.Poll(t, "instagram")
			exportertest.AssertObjectKeys(t, err, tt.missing...)
			var oe *exporter.ObjectError
			if !errors.As(err, &oe) || oe.Skipped || !errors.Is(oe, exporter.ErrNotFound) || !strings.HasPrefix(oe.Error(), tt.reason) ||
				!strings.Contains(oe.Error(), "Unsupported get request") {
				t.Errorf("object error %+v, want one missing, matching ErrNotFound, starting %q", oe, tt.reason)
			}
			if n := len(postIDs(samples)); n != 1 {
				t.Errorf("%d posts exported, want 1", n)
			}

			// What the scheduler shows: the gaps with their reasons, the
			// counts, and no value left of the deleted post.
			env.RefreshWithin(t, cache, "instagram", sb.cut, -1)
			gaps, reasons := exportertest.GapKeys(t, cache, "instagram")
			if !reflect.DeepEqual(gaps, tt.missing) || !strings.HasPrefix(reasons[gaps[0]], tt.reason) {
				t.Errorf("gaps %v (%q), want %v (%q)", gaps, reasons, tt.missing, tt.reason)
			}
			exportertest.AssertObjects(t, cache, "instagram", tt.exported)
			views := exportertest.CachedValues(t, cache, exporter.PostViews, "post")
			if _, ok := views["2002"]; ok {
				t.Error("the deleted post's views are still exported")
			}
			if st := cache.Status()[0]; !st.Up {
				t.Errorf("collector down after a refresh with missing objects: %+v", st)
			}
		})
	}
}

// TestPostsNotDueAreExported: a post the cadence does not poll on a
// refresh is exported with its last values, by design, not skipped.
func TestPostsNotDueAreExported(t *testing.T) {
	sb := newSandbox(t)
	seed(sb.fake)
	env := sb.build(t, `{token_check_interval: 0}`, creator("alice", []string{"2001", "2002"}, "1001"))
	cache := exporter.NewCache()
	env.RefreshWithin(t, cache, "instagram", sb.cut, -1)
	sb.clock.Advance(time.Minute)
	env.RefreshWithin(t, cache, "instagram", sb.cut, -1)
	// 2002 is 30 hours old: polled every 5 minutes, not now.
	if got := sb.fake.InsightsCalls("2002"); got != 1 {
		t.Fatalf("insights of 2002 read %d times, want once", got)
	}
	if gaps, _ := exportertest.GapKeys(t, cache, "instagram"); len(gaps) != 0 {
		t.Errorf("gaps %v, want none", gaps)
	}
	if got := exportertest.CollectorObjects(t, cache, "instagram")["post exported"]; got != 2 {
		t.Errorf("posts exported = %g, want 2", got)
	}
}

// TestResumeWhenOutOfTime: refreshes whose time runs out after one batch
// request export what that batch read, keep the last values of the posts
// they did not reach (skipped), and read those first next time, so every
// post's value advances over two such refreshes.
func TestResumeWhenOutOfTime(t *testing.T) {
	sb := newSandbox(t)
	sb.fake.AddAccount(instagramfake.Account{ID: "1001", Followers: 42})
	var ids []string
	views := map[string]fakeapi.Curve{}
	for i := range 60 {
		id := fmt.Sprint(7000 + i)
		ids = append(ids, id)
		views[id] = curve(float64(1000+10*i), time.Hour)
		sb.fake.AddPost(instagramfake.Post{ID: id, Account: "1001", Published: t0.Add(-time.Hour),
			Views: views[id], Reach: curve(500, time.Hour), Likes: curve(float64(i), time.Hour)})
	}
	env := sb.build(t, `{token_check_interval: 0}`, creator("alice", ids, "1001"))
	// 63 operations (followers, 2 multi-id reads of fields, 60 insights)
	// go in batches of 50 and 13; time runs out on the second request.
	before := env.CheckPostResume(t, exportertest.PostResume{
		Collector: "instagram", Cut: sb.cut, Clock: sb.clock, IDs: ids,
		Calls: 1, Skipped: 13, Objects: map[string]float64{"account exported": 1},
		Views: func(id string) float64 { return float64(views[id].At(sb.clock.Now().Sub(t0.Add(-time.Hour)))) },
	})

	// What Poll returns when cut: the samples of every post, read or
	// kept, and a Skipped object error for each post not read.
	sb.clock.Advance(time.Minute)
	samples, err := env.PollWithin(t, "instagram", sb.cut, 1)
	objs, rest := exportertest.ObjectErrors(t, err)
	if len(objs) != 13 || len(rest) != 0 {
		t.Fatalf("%d object errors and %v, want 13 skipped posts", len(objs), rest)
	}
	exportertest.AssertSkippedPost(t, err, before)
	if got := len(postIDs(samples)); got != 60 {
		t.Errorf("%d posts in the samples, want 60", got)
	}
}

// postIDs returns the posts of samples' publish times.
func postIDs(samples []exporter.Sample) []string {
	var out []string
	for _, s := range samples {
		if s.Metric == exporter.PostPublished {
			out = append(out, s.Label("post"))
		}
	}
	return out
}

// TestOutOfTimeWhileListing: a refresh whose time runs out on the media
// listing reads nothing else: every post, found by hashtag or configured,
// and every account is skipped and keeps its last values.
func TestOutOfTimeWhileListing(t *testing.T) {
	sb := newSandbox(t)
	seed(sb.fake)
	env := sb.build(t, `{token_check_interval: 0}`, creator("alice", []string{"2001"}, "1001")+creator("bob", nil, "1002 #spring"))
	cache := exporter.NewCache()
	env.RefreshWithin(t, cache, "instagram", sb.cut, -1)
	first := exportertest.CachedValues(t, cache, exporter.PostViews, "post")
	sb.clock.Advance(time.Minute)
	env.RefreshWithin(t, cache, "instagram", sb.cut, 0)
	gaps, _ := exportertest.GapKeys(t, cache, "instagram")
	want := []string{
		"skipped account spring/alice/1001", "skipped account spring/bob/1002",
		"skipped post spring/alice/2001", "skipped post spring/bob/3001",
	}
	if !reflect.DeepEqual(gaps, want) {
		t.Errorf("gaps %v, want %v", gaps, want)
	}
	if got := exportertest.CachedValues(t, cache, exporter.PostViews, "post"); !reflect.DeepEqual(got, first) {
		t.Errorf("views %v, want the last values %v", got, first)
	}
	if got := exportertest.CachedValues(t, cache, exporter.AccountFollowers, "account"); got["1001"] != 5000 || got["1002"] != 800 {
		t.Errorf("followers %v, want the last values", got)
	}
	// Next time, everything is read again.
	env.RefreshWithin(t, cache, "instagram", sb.cut, -1)
	if gaps, _ := exportertest.GapKeys(t, cache, "instagram"); len(gaps) != 0 {
		t.Errorf("gaps %v after a full refresh", gaps)
	}
}

func TestPlan(t *testing.T) {
	posts := []string{"2001", "2002", "2003"}
	tests := []struct {
		name, options string
		calls         int
	}{
		// 1 listing page; 1 batch of 5 operations: followers of both
		// accounts in one read, fields of the 3 posts in one, 3 insights.
		{"one batch", `{}`, 2},
		{"batches of 2", `{batch_size: 2}`, 1 + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := newSandbox(t)
			env := sb.build(t, tt.options, creator("alice", posts, "1001")+creator("bob", nil, "1002 #spring"))
			env.AssertPlan(t, "instagram", tt.calls, "5 operations", "1 media listing pages")
		})
	}
}

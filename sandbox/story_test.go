package sandbox

import (
	"math"
	"sort"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// The stories the package's comments tell, worked out from the scenario's
// numbers as the alerting rules in alerts/ work them out from the exported
// series: a change to a curve or a rate that would silence an alert on
// `go run .`, or set off another one, fails here. Times are minutes after
// the sandbox start.

var storyStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// attention is a post in platform-neutral terms: reach is views where the
// platform reports no reach, as the rules take it.
type attention struct {
	published   time.Time
	views       fakeapi.Curve
	reach       fakeapi.Curve
	engagements []fakeapi.Curve
}

func (a attention) at(c fakeapi.Curve, since time.Duration) float64 {
	return float64(c.At(storyStart.Add(since).Sub(a.published)))
}

func (a attention) engaged(since time.Duration) float64 {
	var n float64
	for _, c := range a.engagements {
		n += a.at(c, since)
	}
	return n
}

// campaignPosts returns the campaign posts of each creator, as config.yaml
// tracks them, by campaign.
func campaignPosts() map[string]map[string][]attention {
	byID := map[string]attention{}
	for _, p := range instagramPosts(storyStart) {
		byID[p.ID] = attention{p.Published, p.Views, p.Reach, []fakeapi.Curve{p.Likes, p.Comments, p.Saves, p.Shares}}
	}
	for _, p := range tiktokPosts(storyStart) {
		byID[p.ID] = attention{p.Published, p.Views, p.Views, []fakeapi.Curve{p.Likes, p.Comments, p.Shares}}
	}
	for _, p := range youtubePosts(storyStart) {
		byID[p.ID] = attention{p.Published, p.Views, p.Views, []fakeapi.Curve{p.Likes, p.Comments}}
	}
	ids := map[string]map[string][]string{
		"spring-launch": {
			"alice": {"17900000000000011", "17900000000000014", "17900000000000015"},
			"bruno": {"17900000000000021"},
			"dev":   {"17900000000000041", "17900000000000042"},
		},
		"summer-drop": {
			"emma":  {"emmaSUM0001"},
			"farid": {"7400000000000000001"},
			"gia":   {"17900000000000071"},
		},
		"back-to-school": {"hana": {"hanaBTS0001"}},
	}
	out := map[string]map[string][]attention{}
	for camp, creators := range ids {
		out[camp] = map[string][]attention{}
		for cr, posts := range creators {
			for _, id := range posts {
				a, ok := byID[id]
				if !ok {
					panic("no sandbox post " + id)
				}
				out[camp][cr] = append(out[camp][cr], a)
			}
		}
	}
	return out
}

// quantile is PromQL's quantile: linear interpolation between the closest
// ranks.
func quantile(q float64, values []float64) float64 {
	s := append([]float64(nil), values...)
	sort.Float64s(s)
	rank := q * float64(len(s)-1)
	lo := math.Floor(rank)
	hi := math.Min(lo+1, float64(len(s)-1))
	return s[int(lo)] + (s[int(hi)]-s[int(lo)])*(rank-lo)
}

func TestEarlyCurveStory(t *testing.T) {
	posts := map[string]attention{}
	for _, p := range instagramPosts(storyStart) {
		posts[p.ID] = attention{p.Published, p.Views, p.Reach, []fakeapi.Curve{p.Saves, p.Shares}}
	}
	// Four spring-launch posts reach 3h in the first two minutes: the
	// first poll, seconds after the start, sees each before 3h, and the
	// polls every minute leave one on each side of 3h.
	cohort := []string{"17900000000000014", "17900000000000015", "17900000000000021", "17900000000000042"}
	const stalled = "17900000000000021" // bruno's
	var values []float64
	for _, id := range cohort {
		age := storyStart.Sub(posts[id].published)
		if age < earlyCurveAge-2*m || age > earlyCurveAge-30*time.Second {
			t.Errorf("post %s is %s old at the start, want 2m to 30s under %s", id, age, earlyCurveAge)
		}
		values = append(values, posts[id].engaged(earlyCurveAge-age))
	}
	p25 := quantile(0.25, values)
	for i, id := range cohort {
		// The poll nearest 3h is up to a minute away: the stalled post
		// must be under the quartile at 3h+1m, the others over it at
		// 3h-1m.
		since := earlyCurveAge - storyStart.Sub(posts[id].published)
		if id == stalled {
			if v := posts[id].engaged(since + m); v >= p25 {
				t.Errorf("bruno's post: %g saves and shares at 3h, not under the lower quartile %g", v, p25)
			}
			continue
		}
		if v := posts[id].engaged(since - m); v < p25 {
			t.Errorf("post %s: %g saves and shares at 3h, under the lower quartile %g (%v)", id, v, p25, values[i])
		}
	}
}

func TestClicksWithoutVisitsStory(t *testing.T) {
	// Clicks and visitors per minute since the start: what increase()
	// over 6h sees in the sandbox's first hours.
	clicks := map[string]float64{}
	campaignOf := map[string]string{}
	for _, l := range scenario {
		clicks[l.creator] += l.clicks.PerMinute
		campaignOf[l.creator] = l.campaign
	}
	ratios := map[string]map[string]float64{}
	for _, r := range referralScenario {
		camp := campaignOf[r.creator]
		if ratios[camp] == nil {
			ratios[camp] = map[string]float64{}
		}
		ratios[camp][r.creator] = r.visitors.PerMinute / clicks[r.creator]
	}
	for camp, byCreator := range ratios {
		var all []float64
		for _, r := range byCreator {
			all = append(all, r)
		}
		median := quantile(0.5, all)
		for cr, r := range byCreator {
			if flagged := r < 0.2*median; flagged != (cr == "ivan") {
				t.Errorf("%s/%s: %.3f visitors per click against the median %.3f: flagged %t", camp, cr, r, median, flagged)
			}
		}
	}
	// ivan's 100th click comes early enough for the alert to fire about
	// 35 minutes after the start.
	if minutes := 100 / clicks["ivan"]; minutes > 5 {
		t.Errorf("ivan gets 100 clicks after %.1f minutes", minutes)
	}
	// His code sells before InfluencerDiscountCodeNotRedeeming, 30m after
	// his 200th click, could fire.
	for _, o := range shopScenario {
		if o.stream.Code == "ivan" {
			if first, fires := 1/o.stream.PerMinute, 200/clicks["ivan"]+30; first >= fires {
				t.Errorf("ivan's first order after %.0f minutes, the code alert fires after %.0f", first, fires)
			}
		}
	}
}

func TestFollowerSpikeStory(t *testing.T) {
	type account struct {
		name      string
		followers func(since time.Duration) float64
	}
	var accounts []account
	for _, a := range instagramAccounts {
		accounts = append(accounts, account{a.Username, func(since time.Duration) float64 {
			return float64(a.Followers + int64(a.FollowersPerHour*since.Hours()) + a.NewFollowers.At(since))
		}})
	}
	accounts = append(accounts, account{faridAccount.Username, func(since time.Duration) float64 {
		return float64(faridAccount.Followers + faridAccount.NewFollowers.At(since))
	}})
	// InfluencerFollowerSpike, on a sample a minute: the last hour's gain
	// against 5 times the slope (per hour) of everything before that
	// hour, 1% of the followers and 200.
	for _, a := range accounts {
		var firstMinute, lastMinute int
		for minute := 61; minute <= 6*60; minute++ {
			now := time.Duration(minute) * m
			gain := a.followers(now) - a.followers(now-h)
			var xs, ys []float64
			for b := 0; b <= minute-60; b++ {
				xs = append(xs, float64(b)/60)
				ys = append(ys, a.followers(time.Duration(b)*m))
			}
			baseline := math.Max(slope(xs, ys), 0)
			if gain >= 5*baseline && gain >= 0.01*a.followers(now) && gain >= 200 {
				if firstMinute == 0 {
					firstMinute = minute
				}
				lastMinute = minute
			}
		}
		switch {
		case a.name == "bruno.trains" && (firstMinute == 0 || lastMinute-firstMinute < 20):
			t.Errorf("%s: spike condition from minute %d to %d, want 20 minutes or more for the alert's 15m", a.name, firstMinute, lastMinute)
		case a.name != "bruno.trains" && firstMinute != 0:
			t.Errorf("%s: spike condition from minute %d to %d", a.name, firstMinute, lastMinute)
		}
	}
}

// slope is the least-squares slope of ys over xs, as deriv() computes it.
func slope(xs, ys []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	n := float64(len(xs))
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

func TestEngagementStories(t *testing.T) {
	camps := campaignPosts()
	for _, minute := range []int{0, 30, 60, 120, 180, 360} {
		since := time.Duration(minute) * m
		for camp, creators := range camps {
			// InfluencerEngagementWithoutReach: gains since the start,
			// what delta() over 6h sees in the first 6 hours.
			for cr, posts := range creators {
				for i, p := range posts {
					gained := p.engaged(since) - p.engaged(0)
					reached := p.at(p.reach, since) - p.at(p.reach, 0)
					flagged := gained >= 200 && reached < gained
					if want := cr == "gia" && minute >= 30; flagged != want {
						t.Errorf("minute %d: %s/%s post %d: %g engagements gained, %g reach: flagged %t", minute, camp, cr, i, gained, reached, flagged)
					}
				}
			}
			// InfluencerEngagementRateOutlier: engagements per view.
			rates := map[string]float64{}
			var all []float64
			for cr, posts := range creators {
				var e, v float64
				for _, p := range posts {
					e += p.engaged(since)
					v += p.at(p.views, since)
				}
				if v >= 1000 {
					rates[cr] = e / v
					all = append(all, e/v)
				}
			}
			if len(all) < 3 {
				continue
			}
			median := quantile(0.5, all)
			for cr, r := range rates {
				flagged := r > 3*median || r < median/3
				if want := cr == "gia"; flagged != want {
					t.Errorf("minute %d: %s/%s: %.3f engagements per view against the median %.3f: flagged %t", minute, camp, cr, r, median, flagged)
				}
			}
		}
	}
}

// TestAttentionWithoutActionStory keeps the story of the older
// InfluencerAttentionWithoutAction: dev gets attention without action, and
// no one else, now that summer-drop has three creators with views to
// compare.
func TestAttentionWithoutActionStory(t *testing.T) {
	camps := campaignPosts()
	for minute := 0; minute <= 6*60; minute += 10 {
		since := time.Duration(minute) * m
		for camp, creators := range camps {
			perViews := map[string]float64{}
			views := map[string]float64{}
			var ratios []float64
			for cr, posts := range creators {
				for _, p := range posts {
					views[cr] += p.at(p.views, since)
				}
				var clicks float64
				for _, l := range scenario {
					if l.creator == cr {
						clicks += float64(l.clicks.At(storyStart, storyStart.Add(since)))
					}
				}
				if views[cr] > 0 && clicks > 0 {
					perViews[cr] = 1000 * clicks / views[cr]
					ratios = append(ratios, perViews[cr])
				}
			}
			if len(ratios) < 3 {
				continue
			}
			median := quantile(0.5, ratios)
			var compared []float64
			for cr := range perViews {
				compared = append(compared, views[cr])
			}
			medianViews := quantile(0.5, compared)
			for cr, r := range perViews {
				flagged := r < 0.5*median && views[cr] >= 10000 && views[cr] >= medianViews
				if want := cr == "dev"; flagged != want {
					t.Errorf("minute %d: %s/%s: %.2f clicks per 1,000 views against the median %.2f, %g views: flagged %t", minute, camp, cr, r, median, views[cr], flagged)
				}
			}
		}
	}
}

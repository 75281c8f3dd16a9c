package youtube

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// Reasons Google gives for a key it knows but that may not call the API.
var (
	// disabledReasons: the key's project has not enabled the YouTube
	// Data API v3.
	disabledReasons = []string{"SERVICE_DISABLED", "accessNotConfigured"}
	// blockedReasons: the key's API restrictions leave the API out.
	blockedReasons = []string{"API_KEY_SERVICE_BLOCKED"}
	// hostReasons: the key's application restrictions (referrers, IP
	// addresses, apps) leave this host out.
	hostReasons = []string{"API_KEY_HTTP_REFERRER_BLOCKED", "API_KEY_IP_ADDRESS_BLOCKED", "API_KEY_ANDROID_APP_BLOCKED",
		"API_KEY_IOS_APP_BLOCKED", "ipRefererBlocked"}
)

// What the key lacks, for OnlineReport.Missing, by the reasons above.
const (
	missingAPI     = "the YouTube Data API v3 enabled in the key's Google Cloud project"
	missingAPIKey  = "the YouTube Data API v3 among the key's API restrictions"
	missingKeyHost = "this host allowed by the key's application restrictions"
)

// CheckOnline implements exporter.OnlineChecker with one or two calls,
// each one quota unit counted in the collector's daily quota as a
// refresh's calls are: channels.list of the first 50 configured channels
// (part=snippet, for their titles: a list call costs 1 unit whatever its
// parts), and videos.list of the first 50 configured videos (part=id).
// Each finds the configured objects YouTube does not return. With neither
// configured, i18nRegions.list (1 unit) checks the key alone.
//
// The key is checked before anything else: an unknown one is 400
// API_KEY_INVALID, and a known one whose project has not enabled the API,
// or whose restrictions leave it out, is a 403 whose reason says which;
// the report lists that in Missing. quotaExceeded means the key works and
// the day's units are spent.
func (c *collector) CheckOnline(ctx context.Context) exporter.OnlineReport {
	k := &check{c: c, now: c.now()}
	before := c.quota.remaining(k.now)
	k.do(ctx)
	r := &k.report
	r.Endpoint = strings.Join(k.endpoints, ", ")
	after := c.quota.remaining(k.now)
	if c.quota.refused(k.now) {
		r.Notes = append(r.Notes, fmt.Sprintf("YouTube answered quotaExceeded: the project's units are spent until %s (midnight Pacific time)",
			c.quota.reset(k.now).UTC().Format(time.RFC3339)))
	} else {
		units := "units"
		if before-after == 1 {
			units = "unit"
		}
		r.Notes = append(r.Notes, fmt.Sprintf("%d quota %s spent, counted against daily_quota: %d of %d left today by this collector's count",
			max(before-after, 0), units, after, c.opts.DailyQuota))
	}
	return *r
}

// check is one CheckOnline.
type check struct {
	c         *collector
	now       time.Time
	report    exporter.OnlineReport
	endpoints []string
}

func (k *check) do(ctx context.Context) {
	c := k.c
	channels := c.channelIDs()
	videos := k.videoIDs()
	if len(channels) == 0 && len(videos) == 0 {
		var regions struct{}
		k.call(ctx, "/i18nRegions", "i18nRegions.list", url.Values{"part": {"snippet"}, "hl": {"en_US"}}, &regions)
		return
	}
	if len(channels) > 0 {
		var l channelList
		if !k.list(ctx, "/channels", "snippet", channels, &l) {
			return
		}
		k.channels(channels, l)
	}
	if len(videos) > 0 {
		var l videoList
		if !k.list(ctx, "/videos", "id", videos, &l) {
			return
		}
		k.videos(videos, l)
	}
}

// list calls the list method of the resource at path ("/channels") for
// ids, reading part, into v (see call).
func (k *check) list(ctx context.Context, path, part string, ids []string, v any) bool {
	what := fmt.Sprintf("%s.list (%d ids)", strings.TrimPrefix(path, "/"), len(ids))
	return k.call(ctx, path, what, url.Values{"part": {part}, "id": {strings.Join(ids, ",")}}, v)
}

// videoIDs returns the first 50 configured videos, each once, noting how
// many more were not checked.
func (k *check) videoIDs() []string {
	var ids []string
	seen := map[string]bool{}
	for _, p := range k.c.posts {
		if !seen[p.ID] {
			seen[p.ID] = true
			ids = append(ids, p.ID)
		}
	}
	if len(ids) > maxIDs {
		k.report.Notes = append(k.report.Notes, fmt.Sprintf("looked up the first %d of %d configured videos; the other %d were not checked",
			maxIDs, len(ids), len(ids)-maxIDs))
		ids = ids[:maxIDs]
	}
	return ids
}

// call makes one call through the collector's quota accounting and
// records its outcome. It reports whether the call succeeded.
func (k *check) call(ctx context.Context, path, what string, q url.Values, v any) bool {
	c, r := k.c, &k.report
	k.endpoints = append(k.endpoints, exporter.OnlineEndpoint(c.api.API, http.MethodGet, path))
	var raw error
	err := c.call(k.now, what, func() error {
		_, raw = c.api.Get(ctx, path, q, v)
		return raw
	})
	if err == nil {
		r.Reachable, r.Authenticated = true, true
		return true
	}
	var ae *exporter.APIError
	if !errors.As(raw, &ae) || ae.StatusCode == 0 {
		// Not sent (the day's quota spent by this collector's count), or
		// no answer.
		r.Fail(err)
		return false
	}
	r.Reachable = true
	// Every answer below but an unknown key means Google knows the key.
	r.Authenticated = true
	lacks := func(missing, why string) {
		r.Missing = append(r.Missing, missing)
		err = fmt.Errorf("youtube: %s: %s: %w", what, why, raw)
	}
	switch {
	case hasReason(ae.Message, disabledReasons):
		lacks(missingAPI, "the key's Google Cloud project has not enabled the YouTube Data API v3 (APIs & Services > Library)")
	case hasReason(ae.Message, blockedReasons):
		lacks(missingAPIKey, "the key's API restrictions leave the YouTube Data API v3 out (APIs & Services > Credentials)")
	case hasReason(ae.Message, hostReasons):
		lacks(missingKeyHost, "the key's application restrictions leave this host out (APIs & Services > Credentials)")
	case hasReason(ae.Message, dayQuotaReasons), hasReason(ae.Message, rateReasons):
	case errors.Is(err, exporter.ErrUnauthorized):
		r.Authenticated = false
	}
	r.Fail(err)
	return false
}

// channels reads the channels' titles into the report's account and
// records the first configured channel YouTube does not return.
func (k *check) channels(ids []string, l channelList) {
	r := &k.report
	titles := map[string]string{}
	for _, ch := range l.Items {
		titles[ch.ID] = ch.Snippet.Title
	}
	var names []string
	for _, id := range ids {
		if title, ok := titles[id]; ok {
			names = append(names, fmt.Sprintf("channel %q (%s)", title, id))
		}
	}
	r.Account = strings.Join(names, ", ")
	for _, a := range k.c.accounts {
		if _, ok := titles[a.ID]; !ok {
			k.notFound(accountObject(a), "channels.list")
			return
		}
	}
}

// videos records the first configured video YouTube does not return.
func (k *check) videos(ids []string, l videoList) {
	got := map[string]bool{}
	for _, v := range l.Items {
		got[v.ID] = true
	}
	checked := map[string]bool{}
	for _, id := range ids {
		checked[id] = true
	}
	for _, p := range k.c.posts {
		if checked[p.ID] && !got[p.ID] {
			k.notFound(target{p.Campaign, p.Creator, p.Path()}.object(p.ID), "videos.list")
			return
		}
	}
}

func (k *check) notFound(o exporter.Object, method string) {
	r := &k.report
	if r.NotFound != "" {
		return
	}
	r.NotFound = o.String() + ": " + method + " does not return it (deleted, private or a wrong id)"
	r.Fail(fmt.Errorf("youtube: %s not found: %s does not return it: %w", o, method, exporter.ErrNotFound))
}

var _ exporter.OnlineChecker = (*collector)(nil)

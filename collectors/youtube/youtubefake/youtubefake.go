// Package youtubefake is a local stand-in for the YouTube Data API v3, for
// tests and the sandbox. It speaks the API's wire format under
// /youtube/v3: the API key as the key= query parameter, videos.list and
// channels.list with up to 50 comma-separated ids, playlistItems.list over
// a channel's uploads playlist (newest first, at most 50 a page, opaque
// pageToken), counts as JSON strings, Google's error envelope
// {"error":{"code","message","errors":[{"message","domain","reason"}],"status"}}
// and a daily quota in units that resets at midnight Pacific time, after
// which calls answer 403 quotaExceeded. i18nRegions.list, a call of one
// unit that reads no channel, is served too. The key can be revoked
// (deleted in the Cloud console: 400 API_KEY_INVALID), its project can
// lack the API (403 SERVICE_DISABLED), or the key's API restrictions can
// leave the API out (403 API_KEY_SERVICE_BLOCKED).
package youtubefake

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// Limits and messages of the API the fake reproduces.
const (
	// MaxIDs is how many ids videos.list and channels.list take in one
	// call.
	MaxIDs = 50
	// MaxResults is the largest playlistItems.list page; DefaultResults
	// is the page size without maxResults.
	MaxResults     = 50
	DefaultResults = 5
	// DefaultDailyQuota is a new Google Cloud project's daily quota.
	DefaultDailyQuota = 10000

	// InvalidKeyMessage is Google's answer to a key it does not know.
	InvalidKeyMessage = "API key not valid. Please pass a valid API key."
	// MissingKeyMessage is Google's answer to a call without a key.
	MissingKeyMessage = "The request is missing a valid API key."
	// QuotaMessage is the message of a quotaExceeded error; Google embeds
	// a link in it.
	QuotaMessage = `The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.`
	// Project is the number of the key's Google Cloud project, which
	// Google's errors about the project name.
	Project = "100000000001"
	// ServiceDisabledMessage is Google's answer to a key whose project
	// has not enabled the YouTube Data API v3.
	ServiceDisabledMessage = "YouTube Data API v3 has not been used in project " + Project + " before or it is disabled. " +
		"Enable it by visiting https://console.developers.google.com/apis/api/youtube.googleapis.com/overview?project=" + Project +
		" then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry."
)

// Account is a YouTube channel.
type Account struct {
	// ID is the channel id, UC followed by 22 characters.
	ID    string
	Title string
	// Followers is the subscriber count; the API rounds it down to three
	// significant figures.
	Followers int64
	// HiddenFollowers hides the subscriber count (hiddenSubscriberCount).
	HiddenFollowers bool
}

// Post is a video.
type Post struct {
	// ID is the 11-character video id.
	ID string
	// Account is the id of the channel that uploaded it.
	Account     string
	Title       string
	Description string
	// Published is when the video went public; before that the fake
	// does not show it.
	Published time.Time
	// Views, Likes and Comments grow with the video's age. YouTube has no
	// reach, saves or shares in this API.
	Views, Likes, Comments fakeapi.Curve
	// HideLikes and CommentsDisabled drop likeCount and commentCount from
	// the statistics, as the API does for such videos.
	HideLikes, CommentsDisabled bool
}

// Server is the fake YouTube Data API. Its zero value is not usable; call
// New.
type Server struct {
	// Faults switches the API between healthy and failing; Faults.Hits
	// counts requests.
	Faults fakeapi.Faults

	key   string
	clock fakeapi.Clock
	api   http.Handler

	mu       sync.Mutex
	accounts map[string]*Account
	posts    map[string]*Post
	// byAccount holds each channel's videos by id.
	byAccount fakeapi.Groups[*Post]
	quota     int
	day       string // Pacific date the spent units belong to
	spent     int
	calls     map[string]int
	polls     map[string]int
	keyState  keyState
}

// keyState is what Google makes of a key it knows.
type keyState int

const (
	keyGood keyState = iota
	keyRevoked
	apiDisabled
	apiBlocked
)

// New returns a fake accepting the API key key, on clock (nil: the wall
// clock).
func New(key string, clock fakeapi.Clock) *Server {
	s := &Server{
		key:       key,
		clock:     clock,
		accounts:  map[string]*Account{},
		posts:     map[string]*Post{},
		quota:     DefaultDailyQuota,
		byAccount: fakeapi.Groups[*Post]{},
		calls:     map[string]int{},
		polls:     map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/youtube/v3/videos", s.videos)
	mux.HandleFunc("/youtube/v3/channels", s.channels)
	mux.HandleFunc("/youtube/v3/playlistItems", s.playlistItems)
	mux.HandleFunc("/youtube/v3/i18nRegions", s.i18nRegions)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "notFound", "global", "Not Found")
	})
	s.api = s.Faults.Wrap(mux, errorWriter{})
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.api.ServeHTTP(w, r) }

// AddAccount adds or replaces a channel.
func (s *Server) AddAccount(a Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[a.ID] = &a
}

// AddPost adds or replaces a video. Its channel should be added too, or
// the video is in no uploads playlist.
func (s *Server) AddPost(p Post) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLocked(p.ID)
	s.posts[p.ID] = &p
	s.byAccount.Add(p.Account, p.ID, &p)
}

// deleteLocked forgets a video; call with s.mu held.
func (s *Server) deleteLocked(id string) {
	if old, ok := s.posts[id]; ok {
		s.byAccount.Remove(old.Account, id)
		delete(s.posts, id)
	}
}

// DeletePost deletes a video, as its owner would: from then on videos.list
// leaves it out without an error, as YouTube does, and its uploads
// playlist no longer lists it.
func (s *Server) DeletePost(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLocked(id)
}

// RevokeKey deletes the key, as in the Cloud console: from then on Google
// answers it as a key it does not know.
func (s *Server) RevokeKey() { s.setKeyState(keyRevoked) }

// DisableAPI makes the key's project lack the YouTube Data API v3 (never
// enabled, or disabled): calls answer 403 SERVICE_DISABLED.
func (s *Server) DisableAPI() { s.setKeyState(apiDisabled) }

// RestrictKey gives the key API restrictions that leave the YouTube Data
// API v3 out: calls answer 403 API_KEY_SERVICE_BLOCKED.
func (s *Server) RestrictKey() { s.setKeyState(apiBlocked) }

func (s *Server) setKeyState(k keyState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keyState = k
}

// SetDailyQuota sets the units a Pacific day allows (default 10,000).
func (s *Server) SetDailyQuota(units int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quota = units
}

// UnitsSpent returns the quota units spent on the clock's Pacific day.
func (s *Server) UnitsSpent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollDay(s.clock.Now())
	return s.spent
}

// Calls returns how many calls of one method were answered past the key
// check: "videos", "channels" or "playlistItems".
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Polls returns in how many answered videos.list calls the video was
// asked for.
func (s *Server) Polls(videoID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polls[videoID]
}

// UploadsPlaylist returns the id of a channel's uploads playlist, which
// YouTube derives from the channel id: UC… becomes UU….
func UploadsPlaylist(channelID string) string {
	if strings.HasPrefix(channelID, "UC") {
		return "UU" + channelID[2:]
	}
	return ""
}

// pacific is the zone YouTube's quota day follows. Without tzdata the
// fake falls back to standard time, like the collector.
var pacific = func() *time.Location {
	if loc, err := time.LoadLocation("America/Los_Angeles"); err == nil {
		return loc
	}
	return time.FixedZone("PST", -8*60*60)
}()

func (s *Server) rollDay(now time.Time) {
	if d := now.In(pacific).Format(time.DateOnly); d != s.day {
		s.day, s.spent = d, 0
	}
}

// begin checks the key and charges the call's unit. It writes the error
// and returns false when the call must stop.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "methodNotAllowed", "global", "Method Not Allowed")
		return false
	}
	key := r.URL.Query().Get("key")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case key == "":
		writeError(w, http.StatusForbidden, "forbidden", "global", MissingKeyMessage)
		return false
	case key != s.key || s.keyState == keyRevoked:
		writeKeyInvalid(w)
		return false
	case s.keyState == apiDisabled:
		writeServiceDisabled(w)
		return false
	case s.keyState == apiBlocked:
		writeServiceBlocked(w, method)
		return false
	}
	s.rollDay(s.clock.Now())
	if s.spent >= s.quota {
		writeError(w, http.StatusForbidden, "quotaExceeded", "youtube.quota", QuotaMessage)
		return false
	}
	// Every call costs at least one unit, invalid ones included; the
	// three list methods cost exactly one.
	s.spent++
	s.calls[method]++
	return true
}

// Wire shapes.
type (
	pageInfo struct {
		TotalResults   int `json:"totalResults"`
		ResultsPerPage int `json:"resultsPerPage"`
	}
	videoSnippet struct {
		PublishedAt          string `json:"publishedAt"`
		ChannelID            string `json:"channelId"`
		Title                string `json:"title"`
		Description          string `json:"description"`
		ChannelTitle         string `json:"channelTitle"`
		LiveBroadcastContent string `json:"liveBroadcastContent"`
	}
	videoStatistics struct {
		ViewCount     string  `json:"viewCount"`
		LikeCount     *string `json:"likeCount,omitempty"`
		FavoriteCount string  `json:"favoriteCount"`
		CommentCount  *string `json:"commentCount,omitempty"`
	}
	video struct {
		Kind       string           `json:"kind"`
		Etag       string           `json:"etag"`
		ID         string           `json:"id"`
		Snippet    *videoSnippet    `json:"snippet,omitempty"`
		Statistics *videoStatistics `json:"statistics,omitempty"`
	}
	channelStatistics struct {
		ViewCount             string  `json:"viewCount"`
		SubscriberCount       *string `json:"subscriberCount,omitempty"`
		HiddenSubscriberCount bool    `json:"hiddenSubscriberCount"`
		VideoCount            string  `json:"videoCount"`
	}
	channelContent struct {
		RelatedPlaylists struct {
			Likes   string `json:"likes"`
			Uploads string `json:"uploads"`
		} `json:"relatedPlaylists"`
	}
	channelSnippet struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		PublishedAt string `json:"publishedAt"`
	}
	channel struct {
		Kind           string             `json:"kind"`
		Etag           string             `json:"etag"`
		ID             string             `json:"id"`
		Snippet        *channelSnippet    `json:"snippet,omitempty"`
		ContentDetails *channelContent    `json:"contentDetails,omitempty"`
		Statistics     *channelStatistics `json:"statistics,omitempty"`
	}
	resourceID struct {
		Kind    string `json:"kind"`
		VideoID string `json:"videoId"`
	}
	itemSnippet struct {
		PublishedAt            string     `json:"publishedAt"`
		ChannelID              string     `json:"channelId"`
		Title                  string     `json:"title"`
		Description            string     `json:"description"`
		ChannelTitle           string     `json:"channelTitle"`
		PlaylistID             string     `json:"playlistId"`
		Position               int        `json:"position"`
		ResourceID             resourceID `json:"resourceId"`
		VideoOwnerChannelTitle string     `json:"videoOwnerChannelTitle"`
		VideoOwnerChannelID    string     `json:"videoOwnerChannelId"`
	}
	itemContent struct {
		VideoID          string `json:"videoId"`
		VideoPublishedAt string `json:"videoPublishedAt"`
	}
	playlistItem struct {
		Kind           string       `json:"kind"`
		Etag           string       `json:"etag"`
		ID             string       `json:"id"`
		Snippet        *itemSnippet `json:"snippet,omitempty"`
		ContentDetails *itemContent `json:"contentDetails,omitempty"`
	}
)

// parts parses part=…, answering 400 for a missing or unknown one.
func parts(w http.ResponseWriter, r *http.Request, known ...string) (map[string]bool, bool) {
	raw := r.URL.Query().Get("part")
	if raw == "" {
		writeError(w, http.StatusBadRequest, "required", "global", "Required parameter: part")
		return nil, false
	}
	out := map[string]bool{}
	for _, p := range strings.Split(raw, ",") {
		p = strings.TrimSpace(p)
		ok := false
		for _, k := range known {
			ok = ok || p == k
		}
		if !ok {
			writeError(w, http.StatusBadRequest, "unknownPart", "youtube.part", p)
			return nil, false
		}
		out[p] = true
	}
	return out, true
}

// ids parses id=A,B,…, answering 400 beyond MaxIDs.
func ids(w http.ResponseWriter, r *http.Request) ([]string, bool) {
	raw := r.URL.Query().Get("id")
	if raw == "" {
		// The real API wants exactly one filter; id is the only one the
		// fake serves.
		writeError(w, http.StatusBadRequest, "missingRequiredParameter", "youtube.parameter", "No filter selected. Expected one of: id")
		return nil, false
	}
	list := strings.Split(raw, ",")
	if len(list) > MaxIDs {
		// The exact reason Google sends for too many ids is not
		// documented; the limit itself is.
		writeError(w, http.StatusBadRequest, "badRequest", "youtube.parameter", fmt.Sprintf("The request specifies %d ids; at most %d are allowed.", len(list), MaxIDs))
		return nil, false
	}
	return list, true
}

func (s *Server) videos(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r, "videos") {
		return
	}
	want, ok := parts(w, r, "id", "snippet", "statistics", "contentDetails", "status")
	if !ok {
		return
	}
	list, ok := ids(w, r)
	if !ok {
		return
	}
	now := s.clock.Now()
	s.mu.Lock()
	items := []video{}
	for _, id := range list {
		s.polls[id]++
		p, ok := s.posts[id]
		if !ok || p.Published.After(now) {
			continue // unknown, deleted, private or not yet public: left out
		}
		v := video{Kind: "youtube#video", Etag: etag(id, now), ID: id}
		if want["snippet"] {
			v.Snippet = &videoSnippet{
				PublishedAt: p.Published.UTC().Format(time.RFC3339), ChannelID: p.Account,
				Title: p.Title, Description: p.Description, ChannelTitle: s.channelTitle(p.Account),
				LiveBroadcastContent: "none",
			}
		}
		if want["statistics"] {
			age := now.Sub(p.Published)
			st := &videoStatistics{ViewCount: count(p.Views.At(age)), FavoriteCount: "0"}
			if !p.HideLikes {
				st.LikeCount = ptr(count(p.Likes.At(age)))
			}
			if !p.CommentsDisabled {
				st.CommentCount = ptr(count(p.Comments.At(age)))
			}
			v.Statistics = st
		}
		items = append(items, v)
	}
	s.mu.Unlock()
	fakeapi.WriteJSON(w, http.StatusOK, map[string]any{
		"kind": "youtube#videoListResponse", "etag": etag("videos", now),
		"items": items, "pageInfo": pageInfo{len(items), len(items)},
	})
}

func (s *Server) channelTitle(id string) string {
	if a, ok := s.accounts[id]; ok {
		return a.Title
	}
	return ""
}

func (s *Server) channels(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r, "channels") {
		return
	}
	want, ok := parts(w, r, "id", "snippet", "statistics", "contentDetails")
	if !ok {
		return
	}
	list, ok := ids(w, r)
	if !ok {
		return
	}
	now := s.clock.Now()
	s.mu.Lock()
	var items []channel
	for _, id := range list {
		a, ok := s.accounts[id]
		if !ok {
			continue
		}
		c := channel{Kind: "youtube#channel", Etag: etag(id, now), ID: id}
		if want["snippet"] {
			c.Snippet = &channelSnippet{Title: a.Title, PublishedAt: "2015-01-01T00:00:00Z"}
		}
		if want["contentDetails"] {
			c.ContentDetails = &channelContent{}
			c.ContentDetails.RelatedPlaylists.Uploads = UploadsPlaylist(id)
		}
		if want["statistics"] {
			var views, n int64
			for _, p := range s.byAccount[id] {
				if !p.Published.After(now) {
					views += p.Views.At(now.Sub(p.Published))
					n++
				}
			}
			st := &channelStatistics{ViewCount: count(views), VideoCount: count(n), HiddenSubscriberCount: a.HiddenFollowers}
			if !a.HiddenFollowers {
				st.SubscriberCount = ptr(count(threeFigures(a.Followers)))
			}
			c.Statistics = st
		}
		items = append(items, c)
	}
	s.mu.Unlock()
	body := map[string]any{
		"kind": "youtube#channelListResponse", "etag": etag("channels", now),
		"pageInfo": pageInfo{len(items), len(items)},
	}
	if len(items) > 0 {
		// With no match the API leaves items out altogether.
		body["items"] = items
	}
	fakeapi.WriteJSON(w, http.StatusOK, body)
}

func (s *Server) playlistItems(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r, "playlistItems") {
		return
	}
	want, ok := parts(w, r, "id", "snippet", "contentDetails", "status")
	if !ok {
		return
	}
	q := r.URL.Query()
	playlist := q.Get("playlistId")
	size := DefaultResults
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > MaxResults {
			writeError(w, http.StatusBadRequest, "invalidValue", "youtube.parameter", fmt.Sprintf("Invalid value '%s'. Values must be within the range: [0, %d]", v, MaxResults))
			return
		}
		size = n
	}
	offset := 0
	if tok := q.Get("pageToken"); tok != "" {
		n, ok := parseToken(tok)
		if !ok {
			writeError(w, http.StatusBadRequest, "invalidPageToken", "youtube.parameter", "The request specifies an invalid page token.")
			return
		}
		offset = n
	}
	now := s.clock.Now()
	s.mu.Lock()
	// An uploads playlist is its channel's id with UU for UC.
	var owner *Account
	if rest, ok := strings.CutPrefix(playlist, "UU"); ok {
		owner = s.accounts["UC"+rest]
	}
	if owner == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "playlistNotFound", "youtube.playlistItem",
			"The playlist identified with the request's <code>playlistId</code> parameter cannot be found.")
		return
	}
	var uploads []*Post
	for _, p := range s.byAccount[owner.ID] {
		if !p.Published.After(now) {
			uploads = append(uploads, p)
		}
	}
	s.mu.Unlock()
	sort.Slice(uploads, func(i, j int) bool {
		if !uploads[i].Published.Equal(uploads[j].Published) {
			return uploads[i].Published.After(uploads[j].Published)
		}
		return uploads[i].ID < uploads[j].ID
	})
	items := []playlistItem{}
	for i := offset; i < len(uploads) && i < offset+size; i++ {
		p := uploads[i]
		published := p.Published.UTC().Format(time.RFC3339)
		it := playlistItem{Kind: "youtube#playlistItem", Etag: etag(p.ID, now), ID: base64.RawURLEncoding.EncodeToString([]byte(playlist + "." + p.ID))}
		if want["snippet"] {
			it.Snippet = &itemSnippet{
				PublishedAt: published, ChannelID: owner.ID, Title: p.Title, Description: p.Description,
				ChannelTitle: owner.Title, PlaylistID: playlist, Position: i,
				ResourceID:             resourceID{Kind: "youtube#video", VideoID: p.ID},
				VideoOwnerChannelTitle: owner.Title, VideoOwnerChannelID: owner.ID,
			}
		}
		if want["contentDetails"] {
			it.ContentDetails = &itemContent{VideoID: p.ID, VideoPublishedAt: published}
		}
		items = append(items, it)
	}
	body := map[string]any{
		"kind": "youtube#playlistItemListResponse", "etag": etag(playlist, now),
		"items": items, "pageInfo": pageInfo{len(uploads), size},
	}
	if next := offset + size; size > 0 && next < len(uploads) {
		body["nextPageToken"] = pageToken(next)
	}
	if offset > 0 {
		body["prevPageToken"] = pageToken(max(offset-size, 0))
	}
	fakeapi.WriteJSON(w, http.StatusOK, body)
}

// Page tokens are opaque to clients; the fake's encode an offset.
func pageToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("PT:" + strconv.Itoa(offset)))
}

func parseToken(tok string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(b), "PT:") {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "PT:"))
	return n, err == nil && n >= 0
}

// threeFigures rounds a subscriber count down to three significant
// figures, as the API has reported it since 2019.
func threeFigures(n int64) int64 {
	if n < 1000 {
		return n
	}
	p := int64(math.Pow10(int(math.Floor(math.Log10(float64(n)))) - 2))
	return n / p * p
}

func count(n int64) string { return strconv.FormatInt(n, 10) }

func ptr[T any](v T) *T { return &v }

func etag(id string, now time.Time) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%s@%d", id, now.Unix())))
}

// apiError is Google's error envelope.
type apiError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Errors  []struct {
			Message string `json:"message"`
			Domain  string `json:"domain"`
			Reason  string `json:"reason"`
		} `json:"errors"`
		Status  string `json:"status,omitempty"`
		Details []any  `json:"details,omitempty"`
	} `json:"error"`
}

var statuses = map[int]string{
	http.StatusBadRequest:          "INVALID_ARGUMENT",
	http.StatusForbidden:           "PERMISSION_DENIED",
	http.StatusNotFound:            "NOT_FOUND",
	http.StatusTooManyRequests:     "RESOURCE_EXHAUSTED",
	http.StatusInternalServerError: "INTERNAL",
	http.StatusServiceUnavailable:  "UNAVAILABLE",
}

func newError(status int, reason, domain, msg string) *apiError {
	var e apiError
	e.Error.Code = status
	e.Error.Message = msg
	e.Error.Errors = append(e.Error.Errors, struct {
		Message string `json:"message"`
		Domain  string `json:"domain"`
		Reason  string `json:"reason"`
	}{msg, domain, reason})
	e.Error.Status = statuses[status]
	return &e
}

func writeError(w http.ResponseWriter, status int, reason, domain, msg string) {
	fakeapi.WriteJSON(w, status, newError(status, reason, domain, msg))
}

// writeKeyInvalid answers a key Google does not know: today a generic
// badRequest with the specific reason in an ErrorInfo detail (older
// answers said keyInvalid in domain usageLimits).
func writeKeyInvalid(w http.ResponseWriter) {
	e := newError(http.StatusBadRequest, "badRequest", "global", InvalidKeyMessage)
	e.Error.Details = []any{map[string]any{
		"@type":    "type.googleapis.com/google.rpc.ErrorInfo",
		"reason":   "API_KEY_INVALID",
		"domain":   "googleapis.com",
		"metadata": map[string]string{"service": "youtube.googleapis.com"},
	}}
	fakeapi.WriteJSON(w, http.StatusBadRequest, e)
}

// errorInfo is the ErrorInfo detail Google adds to its errors.
func errorInfo(reason string, metadata map[string]string) map[string]any {
	return map[string]any{
		"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
		"domain": "googleapis.com", "metadata": metadata,
	}
}

// writeServiceDisabled answers a key whose project has not enabled the
// API: errors[] keeps the older accessNotConfigured reason, the ErrorInfo
// detail says SERVICE_DISABLED.
func writeServiceDisabled(w http.ResponseWriter) {
	e := newError(http.StatusForbidden, "accessNotConfigured", "usageLimits", ServiceDisabledMessage)
	e.Error.Details = []any{errorInfo("SERVICE_DISABLED", map[string]string{
		"consumer": "projects/" + Project, "service": "youtube.googleapis.com",
	})}
	fakeapi.WriteJSON(w, http.StatusForbidden, e)
}

// serviceMethods are the RPC names Google's errors give the list methods.
var serviceMethods = map[string]string{
	"videos": "V3DataVideoService", "channels": "V3DataChannelService",
	"playlistItems": "V3DataPlaylistItemService", "i18nRegions": "V3DataI18nRegionService",
}

// writeServiceBlocked answers a key whose API restrictions leave the API
// out, as captured answers show it (a generic forbidden reason, the
// specific one in ErrorInfo).
func writeServiceBlocked(w http.ResponseWriter, method string) {
	msg := "Requests to this API youtube.googleapis.com method youtube.api.v3." + serviceMethods[method] + ".List are blocked."
	e := newError(http.StatusForbidden, "forbidden", "global", msg)
	e.Error.Details = []any{errorInfo("API_KEY_SERVICE_BLOCKED", map[string]string{
		"service": "youtube.googleapis.com", "consumer": "projects/" + Project,
	})}
	fakeapi.WriteJSON(w, http.StatusForbidden, e)
}

// i18nRegions answers i18nRegions.list: the regions YouTube serves (two
// of them here), for one unit.
func (s *Server) i18nRegions(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r, "i18nRegions") {
		return
	}
	if _, ok := parts(w, r, "snippet"); !ok {
		return
	}
	now := s.clock.Now()
	type snippet struct {
		GL   string `json:"gl"`
		Name string `json:"name"`
	}
	var items []map[string]any
	for _, rg := range []snippet{{"US", "United States"}, {"DE", "Germany"}} {
		items = append(items, map[string]any{"kind": "youtube#i18nRegion", "etag": etag(rg.GL, now), "id": rg.GL, "snippet": rg})
	}
	fakeapi.WriteJSON(w, http.StatusOK, map[string]any{
		"kind": "youtube#i18nRegionListResponse", "etag": etag("i18nRegions", now), "items": items,
	})
}

type errorWriter struct{}

func (errorWriter) WriteError(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusTooManyRequests:
		writeError(w, status, "rateLimitExceeded", "global", "Resource has been exhausted (e.g. check quota).")
	case http.StatusServiceUnavailable:
		writeError(w, status, "backendError", "global", "The service is currently unavailable.")
	default:
		writeError(w, status, "backendError", "global", "Internal error encountered.")
	}
}

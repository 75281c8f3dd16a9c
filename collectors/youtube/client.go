package youtube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
)

// DefaultBaseURL is the YouTube Data API v3 root.
const DefaultBaseURL = "https://www.googleapis.com/youtube/v3"

// maxIDs is how many ids videos.list and channels.list take in one call,
// and how many items one playlistItems.list page holds.
const maxIDs = 50

// video is the part of a videos.list item the collector reads. Counts are
// decimal strings; likeCount and commentCount are left out when the owner
// hides likes or turns comments off, and the series are then absent.
type video struct {
	ID      string `json:"id"`
	Snippet struct {
		PublishedAt string `json:"publishedAt"`
		ChannelID   string `json:"channelId"`
	} `json:"snippet"`
	Statistics struct {
		ViewCount    *string `json:"viewCount"`
		LikeCount    *string `json:"likeCount"`
		CommentCount *string `json:"commentCount"`
	} `json:"statistics"`
}

// videoList is GET /videos. Ids YouTube does not return (deleted,
// private, mistyped) are simply missing from items.
type videoList struct {
	Items []video `json:"items"`
}

// channel is the part of a channels.list item the collector reads.
type channel struct {
	ID      string `json:"id"`
	Snippet struct {
		Title string `json:"title"`
	} `json:"snippet"`
	ContentDetails struct {
		RelatedPlaylists struct {
			Uploads string `json:"uploads"`
		} `json:"relatedPlaylists"`
	} `json:"contentDetails"`
	Statistics struct {
		// SubscriberCount is rounded down to three significant figures
		// by YouTube, and absent when the owner hides it.
		SubscriberCount       *string `json:"subscriberCount"`
		HiddenSubscriberCount bool    `json:"hiddenSubscriberCount"`
	} `json:"statistics"`
}

// channelList is GET /channels; items is left out when nothing matched.
type channelList struct {
	Items []channel `json:"items"`
}

// playlistItem is one upload of a channel.
type playlistItem struct {
	Snippet struct {
		// PublishedAt is when the video was added to the playlist: for
		// the uploads playlist, the order the list is sorted by.
		PublishedAt string `json:"publishedAt"`
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"snippet"`
	ContentDetails struct {
		VideoID string `json:"videoId"`
		// VideoPublishedAt is when the video went public; absent for
		// private and deleted videos.
		VideoPublishedAt string `json:"videoPublishedAt"`
	} `json:"contentDetails"`
}

// playlistItems is a page of GET /playlistItems.
type playlistItems struct {
	NextPageToken string         `json:"nextPageToken"`
	Items         []playlistItem `json:"items"`
}

// googleError is the error envelope of Google APIs.
type googleError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Errors  []struct {
			Message string `json:"message"`
			Domain  string `json:"domain"`
			Reason  string `json:"reason"`
		} `json:"errors"`
		Details []struct {
			Reason string `json:"reason"`
		} `json:"details"`
	} `json:"error"`
}

var tags = regexp.MustCompile(`<[^>]*>`)

// errorMessage extracts "reason: message" from a Google error body. The
// reason comes first so the collector can tell a spent quota from a bad
// key (both may be 403) by the message's prefix. An ErrorInfo detail's
// reason (API_KEY_INVALID) is more telling than the generic badRequest of
// errors[], so it wins. Google puts HTML links in some messages.
func errorMessage(_ int, body []byte) string {
	var e googleError
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	reason := ""
	if len(e.Error.Errors) > 0 {
		reason = e.Error.Errors[0].Reason
	}
	for _, d := range e.Error.Details {
		if d.Reason != "" {
			reason = d.Reason
			break
		}
	}
	msg := strings.TrimSpace(tags.ReplaceAllString(e.Error.Message, ""))
	switch {
	case reason == "":
		return msg
	case msg == "":
		return reason
	}
	return reason + ": " + msg
}

// authorize adds the API key as the key= query parameter, the only way
// the API takes one. The shared client strips query strings from errors
// and redacts the key wherever it appears.
func authorize(req *http.Request, key string) {
	q := req.URL.Query()
	q.Set("key", key)
	req.URL.RawQuery = q.Encode()
}

// Reasons Google gives in errors[].reason or an ErrorInfo detail.
var (
	// dayQuotaReasons mean the project's daily units are spent: nothing
	// works until midnight Pacific time.
	dayQuotaReasons = []string{"quotaExceeded", "dailyLimitExceeded", "dailyLimitExceededUnreg"}
	// rateReasons are short-term throttling, sent as 403 too.
	rateReasons = []string{"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"}
	// keyReasons mean the key is wrong, expired or not allowed to call
	// the API; keyInvalid is the older spelling of API_KEY_INVALID.
	keyReasons = []string{"keyInvalid", "keyExpired", "API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_SERVICE_BLOCKED", "accessNotConfigured", "SERVICE_DISABLED"}
)

func hasReason(msg string, reasons []string) bool {
	for _, r := range reasons {
		if strings.HasPrefix(msg, r+":") || msg == r {
			return true
		}
	}
	return false
}

// quotaError is a call YouTube refused, or the collector did not make,
// because the daily quota is spent. It matches exporter.ErrRateLimited,
// not ErrUnauthorized, although YouTube answers it with 403.
type quotaError struct {
	until time.Time
	cause string
}

func (e *quotaError) Error() string {
	return fmt.Sprintf("daily quota spent, no calls until %s (midnight Pacific time): %s", e.until.UTC().Format(time.RFC3339), e.cause)
}

func (e *quotaError) Unwrap() error { return exporter.ErrRateLimited }

// rateError is short-term throttling YouTube answers with 403.
type rateError struct{ cause string }

func (e *rateError) Error() string { return "throttled: " + e.cause }
func (e *rateError) Unwrap() error { return exporter.ErrRateLimited }

// keyError is a refused API key. YouTube answers an unknown key with 400,
// which the shared client takes for a bad request; this makes it match
// exporter.ErrUnauthorized.
type keyError struct{ cause string }

func (e *keyError) Error() string { return "API key refused: " + e.cause }
func (e *keyError) Unwrap() error { return exporter.ErrUnauthorized }

// classify turns a refused call into quota, throttling or key errors by
// Google's reason; other errors pass unchanged.
func classify(err error) error {
	var ae *exporter.APIError
	if !errors.As(err, &ae) || ae.StatusCode == 0 {
		return err
	}
	switch {
	case hasReason(ae.Message, dayQuotaReasons):
		return &quotaError{cause: ae.Error()}
	case hasReason(ae.Message, rateReasons):
		return &rateError{cause: ae.Error()}
	case hasReason(ae.Message, keyReasons), ae.StatusCode == http.StatusUnauthorized,
		strings.Contains(ae.Message, "API key"): // "The request is missing a valid API key."
		return &keyError{cause: ae.Error()}
	}
	return err
}

// api is the YouTube Data API on the shared client. Every method costs
// one quota unit per call.
type api struct{ *exporter.API }

// videos returns statistics and snippet of up to 50 videos in one call.
func (a *api) videos(ctx context.Context, ids []string) (*videoList, error) {
	q := url.Values{"part": {"statistics,snippet"}, "id": {strings.Join(ids, ",")}}
	var l videoList
	if _, err := a.Get(ctx, "/videos", q, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// channels returns subscriber counts and uploads playlists of up to 50
// channels in one call.
func (a *api) channels(ctx context.Context, ids []string) (*channelList, error) {
	q := url.Values{"part": {"statistics,contentDetails"}, "id": {strings.Join(ids, ",")}}
	var l channelList
	if _, err := a.Get(ctx, "/channels", q, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// uploads returns one page of a playlist, newest first for an uploads
// playlist. search.list would find a channel's videos too, at 100 units
// a call; this costs 1.
func (a *api) uploads(ctx context.Context, playlist, pageToken string) (*playlistItems, error) {
	q := url.Values{
		"part":       {"contentDetails,snippet"},
		"playlistId": {playlist},
		"maxResults": {strconv.Itoa(maxIDs)},
	}
	if pageToken != "" {
		q.Set("pageToken", pageToken)
	}
	var p playlistItems
	if _, err := a.Get(ctx, "/playlistItems", q, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// parseCount reads one of the API's string counts.
func parseCount(s string) (float64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: count %q is not a number", exporter.ErrBadResponse, s)
	}
	return float64(n), nil
}

// parseTime reads an RFC 3339 time; zero when empty or invalid.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

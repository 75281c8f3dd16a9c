package report

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Webhook errors, for errors.Is.
var (
	// ErrUnconfirmed: the webhook received the request but sent no answer
	// (a timeout, a connection cut after the request was written). The
	// post may have arrived, so it is never sent again.
	ErrUnconfirmed = errors.New("post unconfirmed")
	// ErrRejected: the webhook answered with a status that retrying
	// cannot change (4xx other than 429, 3xx).
	ErrRejected = errors.New("post rejected")
)

// Webhook posts Markdown to a Slack-compatible incoming webhook as
// {"text": ...}. Its URL is a secret (it alone authorizes posting): errors
// and logs name only its scheme and host.
type Webhook struct {
	url    *url.URL
	client *http.Client
	logger *slog.Logger
	// Attempts bounds the tries of one post.
	Attempts int
	// Backoff is the wait before the second try; it doubles after each,
	// up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After honoured; a longer one
	// fails the post, to be retried later.
	MaxRetryAfter time.Duration
}

// NewWebhook posts to rawURL, each attempt bounded by timeout.
func NewWebhook(rawURL string, timeout time.Duration, logger *slog.Logger) (*Webhook, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The parse error would quote the URL.
		return nil, errors.New("the webhook URL is not an http or https URL")
	}
	return &Webhook{
		url: u,
		client: &http.Client{
			Timeout: timeout,
			// A redirected POST turns into a GET; a webhook does not
			// redirect.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		logger:        logger,
		Attempts:      5,
		Backoff:       time.Second,
		MaxBackoff:    30 * time.Second,
		MaxRetryAfter: 5 * time.Minute,
	}, nil
}

// String names the webhook without its secret path.
func (w *Webhook) String() string { return w.url.Scheme + "://" + w.url.Host }

// Post posts text once: it retries connection errors that happened before
// the request was written, 429 (after its Retry-After) and 5xx answers;
// never a 2xx, never a request the webhook may have received without
// answering (ErrUnconfirmed).
func (w *Webhook) Post(ctx context.Context, text string) error {
	body, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		return err
	}
	wait := w.Backoff
	for attempt := 1; ; attempt++ {
		retryAfter, err := w.try(ctx, body)
		if err == nil {
			return nil
		}
		if errors.Is(err, ErrUnconfirmed) || errors.Is(err, ErrRejected) {
			return fmt.Errorf("webhook %s: %w", w, err)
		}
		if attempt >= w.Attempts {
			return fmt.Errorf("webhook %s: giving up after %d attempts: %w", w, attempt, err)
		}
		d := wait
		if retryAfter > 0 {
			if retryAfter > w.MaxRetryAfter {
				return fmt.Errorf("webhook %s: asked to retry after %s, longer than the %s a post waits: %w", w, retryAfter, w.MaxRetryAfter, err)
			}
			d = retryAfter
		}
		w.logger.Warn("webhook post failed, retrying", "webhook", w.String(), "attempt", attempt, "wait", d, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("webhook %s: %w (after: %w)", w, ctx.Err(), err)
		case <-time.After(d):
		}
		wait = min(wait*2, w.MaxBackoff)
	}
}

// try makes one attempt. A returned error without ErrUnconfirmed or
// ErrRejected may be retried, after retryAfter when the webhook says so.
// Its errors do not name the webhook; Post's do.
func (w *Webhook) try(ctx context.Context, body []byte) (retryAfter time.Duration, err error) {
	var mu sync.Mutex
	written := false
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		mu.Lock()
		defer mu.Unlock()
		written = written || i.Err == nil
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, w.url.String(), bytes.NewReader(body))
	if err != nil {
		return 0, redactErr(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		mu.Lock()
		sent := written
		mu.Unlock()
		if sent {
			return 0, fmt.Errorf("%w: the request was sent but no answer came: %w", ErrUnconfirmed, redactErr(err))
		}
		return 0, redactErr(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode/100 == 2:
		return 0, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
	case resp.StatusCode/100 == 5:
		return 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
	}
	return 0, fmt.Errorf("%w: HTTP %d: %s", ErrRejected, resp.StatusCode, bytes.TrimSpace(msg))
}

// redactErr drops the URL from an http.Client error, keeping its cause.
func redactErr(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// parseRetryAfter reads seconds or an HTTP date; 0 when absent or past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// State records, per job and campaign, the last checkpoint whose read was
// posted, so that no checkpoint is posted twice, across runs and restarts.
// One process at a time uses a state file.
type State struct {
	path string
}

// Post statuses in the state file.
const (
	// StatusPosted: the webhook answered 2xx.
	StatusPosted = "posted"
	// StatusUnconfirmed: the post was being sent and no answer came (or
	// the process stopped before one did). It may have arrived, so it is
	// not posted again.
	StatusUnconfirmed = "unconfirmed"
)

// Posted is one state-file entry.
type Posted struct {
	Job        string    `json:"job"`
	Campaign   string    `json:"campaign"`
	Checkpoint time.Time `json:"checkpoint"`
	Status     string    `json:"status"`
	At         time.Time `json:"at"`
}

type stateFile struct {
	Posted []Posted `json:"posted"`
}

// OpenState uses the state file at path; a missing file is an empty state.
func OpenState(path string) (*State, error) {
	s := &State{path: path}
	if _, err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *State) load() (stateFile, error) {
	var f stateFile
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("state file: %w", err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("state file %s: %w", s.path, err)
	}
	return f, nil
}

// Last returns the campaign's entry, if any.
func (s *State) Last(job, campaign string) (Posted, bool, error) {
	f, err := s.load()
	if err != nil {
		return Posted{}, false, err
	}
	for _, p := range f.Posted {
		if p.Job == job && p.Campaign == campaign {
			return p, true, nil
		}
	}
	return Posted{}, false, nil
}

// Done reports whether the checkpoint's read was posted, or may have been.
func (s *State) Done(job, campaign string, checkpoint time.Time) (bool, error) {
	p, ok, err := s.Last(job, campaign)
	return ok && !p.Checkpoint.Before(checkpoint), err
}

// Set replaces the campaign's entry; a zero Posted with the same job and
// campaign and no Status removes it.
func (s *State) Set(p Posted) error {
	f, err := s.load()
	if err != nil {
		return err
	}
	f.Posted = slices.DeleteFunc(f.Posted, func(o Posted) bool { return o.Job == p.Job && o.Campaign == p.Campaign })
	if p.Status != "" {
		f.Posted = append(f.Posted, p)
	}
	slices.SortFunc(f.Posted, func(a, b Posted) int {
		return cmp.Or(cmp.Compare(a.Job, b.Job), cmp.Compare(a.Campaign, b.Campaign))
	})
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s.path, append(b, '\n'))
}

// writeFileAtomic writes a file readable by its owner only, through a
// temporary file renamed over it, so a crash leaves the old or the new
// state, never half of one.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("state file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// PostOnce posts the read of a checkpoint unless the state says it was
// posted (or may have been). It records the post as unconfirmed before
// sending, so that a process stopped mid-post never posts it again; then
// as posted on a 2xx. A post that certainly did not arrive (refused, 5xx
// after the retries, rejected) restores the previous entry, so a later run
// tries again; one that may have arrived stays unconfirmed. posted is false
// when the checkpoint had already been posted.
func PostOnce(ctx context.Context, w *Webhook, s *State, job, campaign string, checkpoint time.Time, text string, now time.Time) (posted bool, err error) {
	done, err := s.Done(job, campaign, checkpoint)
	if err != nil || done {
		return false, err
	}
	old, hadOld, err := s.Last(job, campaign)
	if err != nil {
		return false, err
	}
	entry := Posted{Job: job, Campaign: campaign, Checkpoint: checkpoint.UTC(), Status: StatusUnconfirmed, At: now.UTC()}
	if err := s.Set(entry); err != nil {
		return false, err
	}
	perr := w.Post(ctx, text)
	switch {
	case perr == nil:
		entry.Status = StatusPosted
		return true, s.Set(entry)
	case errors.Is(perr, ErrUnconfirmed):
		return false, fmt.Errorf("%w; it is recorded as %s in %s and not posted again: check the channel, and remove the entry to post it anyway", perr, StatusUnconfirmed, s.path)
	}
	if !hadOld {
		old = Posted{Job: job, Campaign: campaign}
	}
	if err := s.Set(old); err != nil {
		return false, errors.Join(perr, err)
	}
	return false, perr
}

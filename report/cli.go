package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// Bounds of --schedule.interval: often enough to post within a minute or
// two of a checkpoint, never so often that it loads Prometheus.
const (
	MinScheduleInterval = 10 * time.Second
	MaxScheduleInterval = time.Hour
)

// Config is the report command's flags.
type Config struct {
	PrometheusURL     string
	PrometheusTimeout time.Duration
	Campaign          string
	Job               string
	Since             string
	At                string
	Format            string
	TimeZone          string
	WebhookURL        string
	WebhookURLFile    string
	WebhookTimeout    time.Duration
	StateFile         string
	Schedule          bool
	ScheduleInterval  time.Duration
}

// AddFlags adds the report command's flags to cmd.
func AddFlags(cmd *kingpin.CmdClause) *Config {
	c := &Config{}
	cmd.Flag("prometheus.url", "URL of the Prometheus server that scrapes the exporter; basic-auth credentials may be part of it (https://user:pass@host:9090).").
		Required().StringVar(&c.PrometheusURL)
	cmd.Flag("prometheus.timeout", "Timeout of each query.").Default("1m").DurationVar(&c.PrometheusTimeout)
	cmd.Flag("campaign", "Campaign to read, as named in the exporter's configuration.").Required().StringVar(&c.Campaign)
	cmd.Flag("job", "Job label of the exporter's series. Default: the only job with series of the campaign.").StringVar(&c.Job)
	cmd.Flag("since", "Start of the window: last-checkpoint, a duration before its end (12h, 1d), or an RFC 3339 time.").
		Default("last-checkpoint").StringVar(&c.Since)
	cmd.Flag("at", "End of the window, RFC 3339 (a past read, a backfill). Default: now. With --webhook.url: the checkpoint posted is the last one passed at this time.").
		StringVar(&c.At)
	cmd.Flag("format", "Output written to stdout: markdown or json.").Default("markdown").EnumVar(&c.Format, "markdown", "json")
	cmd.Flag("time-zone", "IANA time zone of the times in the Markdown (Europe/Paris).").Default("UTC").StringVar(&c.TimeZone)
	cmd.Flag("webhook.url", "Slack-compatible incoming webhook to post the Markdown read of the last checkpoint to, instead of writing it to stdout. A secret: prefer --webhook.url-file.").
		StringVar(&c.WebhookURL)
	cmd.Flag("webhook.url-file", "File holding the webhook URL.").StringVar(&c.WebhookURLFile)
	cmd.Flag("webhook.timeout", "Timeout of each attempt to post.").Default("30s").DurationVar(&c.WebhookTimeout)
	cmd.Flag("state.file", "File recording, per campaign, the last checkpoint posted, so that none is posted twice. Required with a webhook.").
		StringVar(&c.StateFile)
	cmd.Flag("schedule", "Keep running: write (or post) a read each time the campaign's checkpoint changes, until SIGINT or SIGTERM.").
		BoolVar(&c.Schedule)
	cmd.Flag("schedule.interval", fmt.Sprintf("How often --schedule asks Prometheus for the campaign's checkpoint (%s to %s).",
		MinScheduleInterval, MaxScheduleInterval)).Default("1m").DurationVar(&c.ScheduleInterval)
	return c
}

// Run runs the report command; the error says why it failed, never with a
// secret in it.
func Run(ctx context.Context, c *Config, stdout io.Writer, logger *slog.Logger) error {
	since, err := ParseSince(c.Since)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return fmt.Errorf("--time-zone=%s: %w", c.TimeZone, err)
	}
	var at time.Time
	if c.At != "" {
		if c.Schedule {
			return errors.New("--at and --schedule exclude each other: a schedule reads at each checkpoint")
		}
		if at, err = time.Parse(time.RFC3339, c.At); err != nil {
			return fmt.Errorf("--at=%q: want an RFC 3339 time such as 2025-06-02T18:00:00Z", c.At)
		}
	}
	if c.Schedule && (c.ScheduleInterval < MinScheduleInterval || c.ScheduleInterval > MaxScheduleInterval) {
		return fmt.Errorf("--schedule.interval=%s: want %s to %s", c.ScheduleInterval, MinScheduleInterval, MaxScheduleInterval)
	}
	if c.PrometheusTimeout <= 0 {
		return fmt.Errorf("--prometheus.timeout=%s: want a positive duration", c.PrometheusTimeout)
	}
	webhookURL, err := c.webhookURL()
	if err != nil {
		return err
	}
	var hook *Webhook
	var state *State
	if webhookURL != "" {
		if c.StateFile == "" {
			return errors.New("a webhook needs --state.file, which records the checkpoints already posted so that none is posted twice")
		}
		if c.Format != "markdown" {
			return errors.New("--format=json with a webhook: the webhook is posted Markdown, and nothing is written to stdout")
		}
		if hook, err = NewWebhook(webhookURL, c.WebhookTimeout, logger); err != nil {
			return err
		}
		if state, err = OpenState(c.StateFile); err != nil {
			return err
		}
	}
	reader, err := NewReader(c.PrometheusURL, c.PrometheusTimeout)
	if err != nil {
		return err
	}
	out := &Output{Writer: stdout, Format: c.Format, Location: loc, Webhook: hook, State: state, Logger: logger}

	if c.Schedule {
		s := &Scheduler{Reader: reader, Campaign: c.Campaign, Job: c.Job, Since: since, Interval: c.ScheduleInterval, Output: out, Logger: logger}
		return s.Run(ctx)
	}
	if at.IsZero() {
		at = time.Now().Truncate(time.Second)
	}
	if hook != nil {
		// A post is a checkpoint read: the window that closed at the
		// last checkpoint, posted once.
		job, err := reader.Job(ctx, c.Campaign, c.Job, at)
		if err != nil {
			return err
		}
		cp, err := reader.LastCheckpoint(ctx, job, c.Campaign, at)
		if err != nil {
			return err
		}
		return out.Checkpoint(ctx, reader, Request{Campaign: c.Campaign, Job: job, Since: since, End: cp})
	}
	rep, err := reader.Read(ctx, Request{Campaign: c.Campaign, Job: c.Job, Since: since, End: at})
	if err != nil {
		return err
	}
	return out.Write(rep)
}

// webhookURL reads the webhook URL from its flag or file.
func (c *Config) webhookURL() (string, error) {
	switch {
	case c.WebhookURL != "" && c.WebhookURLFile != "":
		return "", errors.New("--webhook.url and --webhook.url-file exclude each other")
	case c.WebhookURLFile != "":
		b, err := os.ReadFile(c.WebhookURLFile)
		if err != nil {
			return "", fmt.Errorf("--webhook.url-file: %w", err)
		}
		u := strings.TrimSpace(string(b))
		if u == "" {
			return "", fmt.Errorf("--webhook.url-file=%s is empty", c.WebhookURLFile)
		}
		return u, nil
	}
	return c.WebhookURL, nil
}

// Output is where reads go: stdout in a format, or a webhook.
type Output struct {
	Writer   io.Writer
	Format   string
	Location *time.Location
	// Webhook, when set, is posted the Markdown instead of writing to
	// Writer; State then records what was posted.
	Webhook *Webhook
	State   *State
	Logger  *slog.Logger
}

// Write writes a read to the Writer.
func (o *Output) Write(rep *Report) error {
	if o.Format == "json" {
		return rep.WriteJSON(o.Writer)
	}
	_, err := io.WriteString(o.Writer, rep.Markdown(o.Location))
	return err
}

// Checkpoint reads the window that ends at req.End, a checkpoint, and
// writes it, or posts it unless it was posted before.
func (o *Output) Checkpoint(ctx context.Context, r *Reader, req Request) error {
	if o.Webhook == nil {
		rep, err := r.Read(ctx, req)
		if err != nil {
			return err
		}
		return o.Write(rep)
	}
	log := o.Logger.With("campaign", req.Campaign, "job", req.Job, "checkpoint", formatTime(req.End))
	if done, err := o.State.Done(req.Job, req.Campaign, req.End); err != nil || done {
		if done {
			log.Info("checkpoint read already posted")
		}
		return err
	}
	rep, err := r.Read(ctx, req)
	if err != nil {
		return err
	}
	posted, err := PostOnce(ctx, o.Webhook, o.State, req.Job, req.Campaign, req.End, rep.Markdown(o.Location), time.Now())
	if err != nil {
		return err
	}
	if posted {
		log.Info("checkpoint read posted", "webhook", o.Webhook.String())
	}
	return nil
}

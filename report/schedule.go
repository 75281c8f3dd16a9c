package report

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Scheduler writes (or posts) a campaign's checkpoint read each time the
// exporter's checkpoint timestamp for the campaign moves. It asks
// Prometheus every Interval rather than computing the schedule itself: the
// exporter's configuration is the one place checkpoints are set.
type Scheduler struct {
	Reader   *Reader
	Campaign string
	// Job as in Request; resolved once, at the start.
	Job      string
	Since    Since
	Interval time.Duration
	Output   *Output
	Logger   *slog.Logger
	// now is the clock; tests set it.
	now func() time.Time
}

func (s *Scheduler) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// Run polls until ctx is done, then returns nil. Its first poll must
// succeed: an unknown campaign, a campaign without checkpoints or an
// unreachable Prometheus at the start is an error. Later failures are
// logged and retried at the next poll.
//
// Without a webhook, a read is written when the checkpoint moves after the
// start. With one, the state file decides: the last checkpoint's read is
// posted at the start if it never was (a scheduler that was down at the
// checkpoint catches up), then each new one.
func (s *Scheduler) Run(ctx context.Context) error {
	now := s.clock()
	job, err := s.Reader.Job(ctx, s.Campaign, s.Job, now)
	if err != nil {
		return err
	}
	log := s.Logger.With("campaign", s.Campaign, "job", job)
	current, err := s.Reader.LastCheckpoint(ctx, job, s.Campaign, now)
	if err != nil {
		return err
	}
	var handled time.Time
	if s.Output.Webhook == nil {
		handled = current
	}
	log.Info("waiting for checkpoints", "last_checkpoint", formatTime(current), "interval", s.Interval)
	ticker := time.NewTicker(s.Interval)
	defer ticker.Stop()
	for {
		if current.After(handled) {
			err := s.Output.Checkpoint(ctx, s.Reader, Request{Campaign: s.Campaign, Job: job, Since: s.Since, End: current})
			switch {
			case err == nil:
				handled = current
			case ctx.Err() != nil:
				return nil
			case errors.Is(err, ErrUnconfirmed), errors.Is(err, ErrRejected), errors.Is(err, ErrNoData):
				// Retrying cannot help, or could post twice.
				log.Error("checkpoint read not delivered; waiting for the next checkpoint", "checkpoint", formatTime(current), "err", err)
				handled = current
			default:
				log.Warn("checkpoint read failed; retrying at the next poll", "checkpoint", formatTime(current), "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		cp, err := s.Reader.LastCheckpoint(ctx, job, s.Campaign, s.clock())
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("cannot read the checkpoint; retrying at the next poll", "err", err)
			continue
		}
		current = cp
	}
}

package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"time"
)

// Scheduler refreshes each collector in the background on its own interval,
// with jitter, at most MaxConcurrent at a time, and stores the results in
// the Cache.
type Scheduler struct {
	Cache         *Cache
	Logger        *slog.Logger
	MaxConcurrent int
	Jitter        float64
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Observer, when set, is handed every successful refresh, on the
	// refresh's goroutine: the collector's name and the collector itself
	// (which may say when it read each post, see PollTimes), when the
	// refresh returned, the samples the collector returned (fresh) and its
	// snapshot after the samples of skipped objects were carried over
	// (current), both without the post series Posts sums.
	// EarlyCurve.Observe fits it.
	Observer func(name string, c Collector, at time.Time, fresh, current []Sample)
	// Posts, when set, shapes each snapshot before it is stored: the
	// posts of per_creator campaigns are stored as their sums per
	// creator. Coverage and the per-post fees still count every post.
	Posts *PostSeries
	// Priority is each refresh's scheduling priority (see
	// inBackground); the zero value leaves it at the process's.
	Priority RefreshPriority

	// priorityOnce logs the first failure to lower a refresh's priority.
	priorityOnce sync.Once
}

// Run refreshes the instances until ctx is done, then waits for in-flight
// refreshes to stop. A collector that refreshed before (a reload) keeps its
// schedule instead of refreshing at once.
func (s *Scheduler) Run(ctx context.Context, instances []*Instance) {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	n := s.MaxConcurrent
	if n <= 0 {
		n = 1
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, inst := range instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.loop(ctx, inst, sem)
		}()
	}
	wg.Wait()
}

func (s *Scheduler) loop(ctx context.Context, inst *Instance, sem chan struct{}) {
	next := s.Now()
	if prev := s.Cache.NextRefresh(inst.Name); prev.After(next) {
		next = prev
	}
	for {
		s.Cache.Scheduled(inst.Name, inst.Type, next)
		t := time.NewTimer(next.Sub(s.Now()))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		select {
		case <-ctx.Done():
			return
		case sem <- struct{}{}:
		}
		// Refreshes start an interval apart, however long each takes
		// (at most its interval): a collector whose refresh fills its
		// interval, like the link probe's paced round, is polled back to
		// back, not every two intervals.
		start := s.Now()
		if err := inBackground(s.Priority, func() { s.Refresh(ctx, inst) }); err != nil {
			s.priorityOnce.Do(func() {
				s.Logger.Warn("refreshes run at the exporter's scheduling priority: cannot lower it",
					"priority", s.Priority.String(), "err", err)
			})
		}
		<-sem
		next = start.Add(s.jittered(inst.Interval))
		if now := s.Now(); next.Before(now) {
			next = now
		}
	}
}

func (s *Scheduler) jittered(d time.Duration) time.Duration {
	if s.Jitter <= 0 {
		return d
	}
	f := 1 + s.Jitter*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}

// Refresh polls one collector once and stores the outcome. A refresh may take
// at most the collector's interval; one that runs out of time returns the
// objects it read, and its skipped objects keep their previous values (see
// Skipped).
func (s *Scheduler) Refresh(ctx context.Context, inst *Instance) {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	logger := s.Logger.With("collector", inst.Name)
	ctx, cancel := context.WithTimeout(ctx, inst.Interval)
	defer cancel()
	ctx = withProgress(ctx, func(samples []Sample) {
		samples = s.Posts.shape(inst.Name, inst.Type, samples)
		if err := s.Cache.store(inst.Name, inst.Type, samples); err != nil {
			logger.Error("collector returned invalid samples", "err", err)
		}
	})
	start := s.Now()
	samples, err := poll(ctx, inst)
	end := s.Now()
	took := end.Sub(start)
	var partial error
	if IsPartial(err) {
		partial, err = err, nil
	}
	if err != nil {
		err = inst.redactErr(err)
		logger.Warn("refresh failed, keeping last good values", "err", err, "duration_seconds", took.Seconds())
		s.Cache.Failure(inst.Name, inst.Type, err, start, took)
		return
	}
	objErrs, otherErrs := objectErrors(partial)
	fresh := samples
	samples = carryOver(s.Posts.previous(inst.Name, s.Cache.samplesOf(inst.Name)), samples, objErrs)
	exported := s.Posts.shape(inst.Name, inst.Type, samples)
	storeErr := s.Cache.Success(inst.Name, inst.Type, exported, start, took)
	if storeErr != nil {
		// Valid samples are still stored: one bad label must not hide
		// every other creator. The landing page says what was left
		// out (Note below).
		logger.Error("collector returned invalid samples", "err", storeErr)
	}
	coverage := coverageOf(inst, samples, objErrs, s.Cache.objectsOf(inst.Name))
	for i := range coverage.gaps {
		coverage.gaps[i].Reason = inst.redact(coverage.gaps[i].Reason)
	}
	s.Cache.setCoverage(inst.Name, inst.Type, coverage)
	if f, ok := inst.Collector.(Finder); ok {
		findings := f.Findings()
		if inst.Redact != nil {
			findings = maps.Clone(findings)
			for k, v := range findings {
				findings[k] = inst.Redact(v)
			}
		}
		s.Cache.SetFindings(inst.Name, findings)
	}
	if err := errors.Join(append(otherErrs, storeErr)...); err != nil {
		s.Cache.Note(inst.Name, inst.redactErr(err))
	}
	if s.Observer != nil {
		s.Observer(inst.Name, inst.Collector, end, s.Posts.perPost(fresh), s.Posts.perPost(samples))
	}
	if partial != nil {
		counts := coverage.states()
		logger.Warn("refresh did not export every object", "missing", counts[StateMissing], "skipped", counts[StateSkipped], "err", inst.redactErr(partial))
	}
	logger.Debug("refresh succeeded", "samples", len(samples), "duration_seconds", took.Seconds())
}

// coverageOf returns the state of every object the collector watches:
// its own account if it keeps one (CoverageReporter), else what the config
// and Coverer ask of it set against its samples and object errors.
func coverageOf(inst *Instance, samples []Sample, errs map[string]*ObjectError, hint int) coverage {
	if r, ok := inst.Collector.(CoverageReporter); ok {
		return coverageOfStatuses(r.Coverage())
	}
	var expected []Object
	if inst.Config != nil && inst.Config.Config() != nil {
		expected = inst.Config.Config().ObjectsFor(inst.Name)
	}
	if c, ok := inst.Collector.(Coverer); ok {
		expected = append(expected, c.Expected()...)
	}
	return inferCoverage(expected, samples, errs, hint)
}

// poll calls the collector and turns a panic into an error: a bug in one
// provider's mapping must not take the exporter down.
func poll(ctx context.Context, inst *Instance) (samples []Sample, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: panic during refresh: %v", inst.Type, r)
		}
	}()
	return inst.Collector.Poll(ctx)
}

// redact is inst.Redact, or s as it is without one. Every error, reason
// and finding a collector returns goes through it before the log, the
// landing page or /links show it, whatever the collector redacted itself:
// a provider can echo a secret in any field a collector quotes.
func (inst *Instance) redact(s string) string {
	if inst.Redact == nil {
		return s
	}
	return inst.Redact(s)
}

// redactErr is err with its text redacted (see redact); errors.Is and
// errors.As still see err.
func (inst *Instance) redactErr(err error) error {
	if err == nil || inst.Redact == nil {
		return err
	}
	return redactedError{err: err, msg: inst.Redact(err.Error())}
}

type redactedError struct {
	err error
	msg string
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

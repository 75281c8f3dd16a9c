package exporter

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/common/model"
)

// testCollector is the "fake" collector type the core's tests configure.
type testCollector struct {
	mu      sync.Mutex
	samples []Sample
	err     error
	block   chan struct{} // when set, Poll waits on it or on ctx
	polls   int
}

type testOptions struct {
	Size int            `yaml:"size"`
	Wait model.Duration `yaml:"wait"`
}

var (
	testMu         sync.Mutex
	testCollectors = map[string]*testCollector{}
)

func init() {
	Register("fake", func(s Settings) (Collector, error) {
		var o testOptions
		if err := s.Config.DecodeOptions(&o); err != nil {
			return nil, err
		}
		testMu.Lock()
		defer testMu.Unlock()
		c, ok := testCollectors[s.Config.Name]
		if !ok {
			c = &testCollector{}
			testCollectors[s.Config.Name] = c
		}
		return c, nil
	})
}

func (c *testCollector) set(samples []Sample, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.samples, c.err = samples, err
}

// waitPolls returns once Poll has been called n times.
func (c *testCollector) waitPolls(n int) {
	for {
		c.mu.Lock()
		polls := c.polls
		c.mu.Unlock()
		if polls >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func (c *testCollector) Poll(ctx context.Context) ([]Sample, error) {
	c.mu.Lock()
	c.polls++
	block, samples, err := c.block, c.samples, c.err
	c.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return samples, err
}

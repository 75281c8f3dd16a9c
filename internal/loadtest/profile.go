package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// profiler fetches the exporter's profiles from its net/http/pprof
// listener (see profileSource) into a directory.
type profiler struct {
	addr, dir string
	client    *http.Client

	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

func newProfiler(dir string) (*profiler, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return &profiler{addr: addr, dir: dir, client: &http.Client{Timeout: 10 * time.Minute}}, nil
}

// get fetches /debug/pprof/<path> into file, in the background.
func (p *profiler) get(path, file string) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := p.fetch(path, file); err != nil {
			p.mu.Lock()
			p.errs = append(p.errs, fmt.Errorf("profile %s: %w", path, err))
			p.mu.Unlock()
		}
	}()
}

// getAfter fetches /debug/pprof/<path> into file after d, in the
// background.
func (p *profiler) getAfter(d time.Duration, path, file string) {
	p.wg.Add(1)
	time.AfterFunc(d, func() {
		defer p.wg.Done()
		p.get(path, file)
	})
}

func (p *profiler) fetch(path, file string) error {
	resp, err := p.client.Get("http://" + p.addr + "/debug/pprof/" + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	f, err := os.Create(filepath.Join(p.dir, file))
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	return errors.Join(err, f.Close())
}

// wait waits for every fetch and returns their errors.
func (p *profiler) wait() error {
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	return errors.Join(p.errs...)
}

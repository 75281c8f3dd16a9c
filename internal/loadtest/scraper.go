package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// scraperArg, as the first argument, makes this program the scraper
// process instead of the load test.
const scraperArg = "-scraper-process"

// The scraper runs in a process of its own. In this one it shared a Go
// runtime with the fake provider, and while a refresh read 1,000 pages
// from it, the scraper's connection waited for that runtime to poll the
// network: up to 20 ms after the exporter had written the whole body, a
// delay of the load test that was counted as the exporter's.

// scraperRecord is one scrape, as the scraper process writes it: times
// in Unix nanoseconds, which both processes read from the same clock.
type scraperRecord struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	Bytes int64 `json:"bytes"`
	Err   bool  `json:"err,omitempty"`
}

// writeScrapes writes scrapes to file as the scraper process does.
func writeScrapes(file string, scrapes []scrape) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	return errors.Join(encodeScrapes(f, scrapes), f.Close())
}

// encodeScrapes writes scrapes to w, one JSON object a line.
func encodeScrapes(w io.Writer, scrapes []scrape) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, s := range scrapes {
		if err := enc.Encode(scraperRecord{Start: s.start.UnixNano(), End: s.end.UnixNano(), Bytes: s.bytes, Err: s.err}); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// runScraper is the scraper process: it scrapes url (see scrapeLoop) at
// rate until its input closes, then writes each scrape to out, one JSON
// object a line.
func runScraper(url string, rate float64, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, in)
		cancel()
	}()
	return encodeScrapes(out, scrapeLoop(ctx, url, rate))
}

// scraperMain runs the scraper process from its arguments: the URL and
// the rate.
func scraperMain(args []string) int {
	if len(args) != 2 {
		fmt.Fprintf(os.Stderr, "loadtest %s: want URL and rate, got %q\n", scraperArg, args)
		return 2
	}
	rate, err := strconv.ParseFloat(args[1], 64)
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadtest %s: rate: %v\n", scraperArg, err)
		return 2
	}
	if err := runScraper(args[0], rate, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "loadtest %s: %v\n", scraperArg, err)
		return 1
	}
	return 0
}

// scraperProc is a running scraper process.
type scraperProc struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	recs chan []scrape
	errc chan error
}

// startScraper starts this program as a scraper process of url at rate,
// dying with this process.
func startScraper(url string, rate float64) (*scraperProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, scraperArg, url, strconv.FormatFloat(rate, 'g', -1, 64))
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childAttr()
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the scraper process: %w", err)
	}
	p := &scraperProc{cmd: cmd, in: in, recs: make(chan []scrape, 1), errc: make(chan error, 1)}
	go func() {
		recs, err := readScrapes(out)
		p.recs <- recs
		p.errc <- err
	}()
	return p, nil
}

// readScrapes reads a scraper process's output.
func readScrapes(r io.Reader) ([]scrape, error) {
	var out []scrape
	dec := json.NewDecoder(r)
	for {
		var rec scraperRecord
		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("the scraper's output: %w", err)
		}
		out = append(out, scrape{start: time.Unix(0, rec.Start), end: time.Unix(0, rec.End), bytes: rec.Bytes, err: rec.Err})
	}
}

// stop ends the scraper's loop and returns its scrapes.
func (p *scraperProc) stop() ([]scrape, error) {
	_ = p.in.Close()
	recs, rerr := <-p.recs, <-p.errc
	werr := p.cmd.Wait()
	if werr != nil {
		werr = fmt.Errorf("the scraper process: %w", werr)
	}
	return recs, errors.Join(rerr, werr)
}

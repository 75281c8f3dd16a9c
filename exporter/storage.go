package exporter

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// Storage keeps what must survive a restart (--storage.path): a
// collector's shop orders and where its listings stand, so a restart
// continues from the last watermark instead of counting every order since
// the campaign start again; YouTube's quota units spent today, so a
// restart does not spend a day's quota twice; and the early curve's state
// unless early_curve.state_file says otherwise. Each is a JSON file of its
// own, <collector>.<what>.json, readable by its owner only, replaced
// atomically (a crash mid-write leaves the previous file), and written
// after each refresh. A file that does not decode, or was written by
// another format version, is ignored with a warning: the collector starts
// as without storage.
//
// Without --storage.path nothing is kept: after a restart each shop
// collector counts its orders from the campaign start again (the
// counters come back at the same values: they are built from the orders,
// not added to), and YouTube counts its quota from the full daily_quota,
// which can spend more than the project's quota on a day with a restart.
//
// A nil *Storage keeps nothing and loads nothing.
type Storage struct {
	dir    string
	logger *slog.Logger
}

// storageVersion is the format of the files: a file of another version is
// ignored.
const storageVersion = 1

// storageFile is what a file holds around a collector's state.
type storageFile struct {
	Version   int             `json:"version"`
	Collector string          `json:"collector"`
	What      string          `json:"what"`
	Saved     time.Time       `json:"saved"`
	State     json.RawMessage `json:"state"`
}

// OpenStorage returns the storage in dir, creating it (owner only) if
// needed, and checks it can be written. An empty dir is no storage: nil.
func OpenStorage(dir string, logger *slog.Logger) (*Storage, error) {
	if dir == "" {
		return nil, nil
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("storage path: %w", err)
	}
	probe, err := os.CreateTemp(dir, ".write-check*")
	if err != nil {
		return nil, fmt.Errorf("storage path %s is not writable: %w", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return &Storage{dir: dir, logger: logger}, nil
}

// Dir returns the storage's directory, "" for no storage.
func (s *Storage) Dir() string {
	if s == nil {
		return ""
	}
	return s.dir
}

// unsafeName matches what a file name may not hold of a collector's name.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// Path returns the file of a collector's state named what.
func (s *Storage) Path(collector, what string) string {
	if s == nil {
		return ""
	}
	return filepath.Join(s.dir, unsafeName.ReplaceAllString(collector, "_")+"."+what+".json")
}

// Load reads the collector's state named what into v and reports whether
// there was one. A missing file is no state; one that cannot be read or
// decoded is logged and ignored.
func (s *Storage) Load(collector, what string, v any) bool {
	if s == nil {
		return false
	}
	file := s.Path(collector, what)
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	var f storageFile
	if err == nil {
		err = json.Unmarshal(data, &f)
	}
	if err == nil && f.Version != storageVersion {
		err = fmt.Errorf("format version %d, this exporter reads %d", f.Version, storageVersion)
	}
	if err == nil {
		err = json.Unmarshal(f.State, v)
	}
	if err != nil {
		s.logger.Warn("ignoring stored state", "collector", collector, "state", what, "file", file, "err", err)
		return false
	}
	s.logger.Debug("stored state loaded", "collector", collector, "state", what, "file", file, "saved", f.Saved)
	return true
}

// Save replaces the collector's state named what with v. A failure is
// logged: the exporter runs on, as without storage.
func (s *Storage) Save(collector, what string, v any) {
	if s == nil {
		return
	}
	file := s.Path(collector, what)
	state, err := json.Marshal(v)
	var data []byte
	if err == nil {
		data, err = json.Marshal(storageFile{Version: storageVersion, Collector: collector, What: what, Saved: time.Now().UTC(), State: state})
	}
	if err == nil {
		err = writeFileAtomic(file, data)
	}
	if err != nil {
		s.logger.Warn("cannot save state", "collector", collector, "state", what, "file", file, "err", err)
	}
}

package exporter

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sync/atomic"

	"gopkg.in/yaml.v3"
)

// A config file is read on every reload, which POST /-/reload triggers at
// runtime: the time and memory a file may cost are bounded before any of
// it is decoded. The size of the file is capped, and aliases may not
// multiply the file's nodes beyond what yaml.v3 itself accepts.

// DefaultMaxConfigSize is the largest config file read unless
// SetMaxConfigSize says otherwise. An agency's config of 10,000 creators,
// each with two links, a code, four posts, an account and a fee, is about
// 6 MB; 10,000 creators with two links each, 1.4 MB.
const DefaultMaxConfigSize = 16 << 20

var maxConfigSize atomic.Int64

func init() { maxConfigSize.Store(DefaultMaxConfigSize) }

// SetMaxConfigSize sets the largest config file LoadConfig, Check and
// Runner.Reload read, in bytes (--config.max-size); 0 or less lifts the
// limit.
func SetMaxConfigSize(n int64) { maxConfigSize.Store(n) }

// MaxConfigSize returns the largest config file read, 0 for no limit.
func MaxConfigSize() int64 { return max(0, maxConfigSize.Load()) }

// readConfigFile reads file, and no more than limit+1 bytes of it: a
// regular file larger than limit is refused unread.
func readConfigFile(file string, limit int64) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	size := int64(bytes.MinRead)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if err := sizeError(file, st.Size(), limit); err != nil {
			return nil, err
		}
		size = st.Size() + 1 // +1: ReadAll's end of file
	}
	if limit <= 0 || limit >= math.MaxInt-1 {
		limit = math.MaxInt - 1
	}
	// Read to limit+1 bytes at most, growing the buffer as ReadAll does
	// if the file grew since Stat or has no size.
	end := int(min(limit+1, math.MaxInt))
	buf := make([]byte, 0, min(int(size), end))
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), end-cap(buf)))
		}
		n, err := f.Read(buf[len(buf):min(cap(buf), end)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, &ConfigError{File: file, Err: fmt.Errorf("the file is more than %d bytes, above the limit of %s (--config.max-size)", limit, formatBytes(limit))}
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
	}
}

// sizeError is the error for a file of n bytes, above limit; nil if it
// is not.
func sizeError(file string, n, limit int64) error {
	if limit <= 0 || n <= limit {
		return nil
	}
	return &ConfigError{File: file, Err: fmt.Errorf("the file is %d bytes (%s), above the limit of %s (--config.max-size)", n, formatBytes(n), formatBytes(limit))}
}

// formatBytes writes n in the largest binary unit that divides it, or
// rounded to a tenth of a MiB or KiB.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// Aliases are limited twice. yaml.v3 counts the nodes a decode visits
// (decode.go, allowedAliasRatio): every node decoded counts, and those
// decoded through an alias count as aliased too. Decoding fails with
// "document contains excessive aliasing" as soon as more than 100 aliased
// nodes make up more than a ratio of more than 1,000 decoded: 99% up to
// 400,000 nodes, falling to 10% at 4,000,000. But yaml.v3 judges only when
// decoding, after the strict walk (strict.go) has expanded every alias and
// kept a position for each path it reaches: an "alias bomb" of a kilobyte
// (anchors of lists of aliases of anchors...) cost minutes and gigabytes
// there. And 99% lets a file of a few kilobytes expand a hundredfold,
// which the walk, the decode and the validation of each copy (a few
// hundred bytes a node, and an error for each duplicate) make tens of
// megabytes. So the aliases of a file may also add at most
// aliasNodesPerNode nodes for each node written, plus aliasNodesFree:
// sharing one expect block among 20,000 links adds about one node per node
// written.
//
// The check counts the expanded size of each anchor once, so it costs one
// pass over the nodes as written, and refuses the file before the walk.
const (
	aliasRatioRangeLow  = 400_000
	aliasRatioRangeHigh = 4_000_000
	aliasNodesPerNode   = 10
	aliasNodesFree      = 10_000
	// maxCount keeps the counts of nested aliases from overflowing: it
	// is far above any count the limits allow.
	maxCount = 1 << 50
)

// allowedAliasRatio is yaml.v3's.
func allowedAliasRatio(decodeCount int) float64 {
	switch {
	case decodeCount <= aliasRatioRangeLow:
		return 0.99
	case decodeCount >= aliasRatioRangeHigh:
		return 0.10
	default:
		return 0.99 - 0.89*(float64(decodeCount-aliasRatioRangeLow)/float64(aliasRatioRangeHigh-aliasRatioRangeLow))
	}
}

type aliasCounter struct {
	// sizes are the expanded node counts of anchored nodes; busy are
	// the anchors being counted, to stop at one whose value holds an
	// alias of itself (the walk reports it).
	sizes map[*yaml.Node]int
	busy  map[*yaml.Node]bool

	decoded, aliased int
	// worst is the alias whose expansion is the largest so far.
	worst     *yaml.Node
	worstSize int
	excessive bool
}

// size is the number of nodes a decode of n visits, aliases expanded.
func (a *aliasCounter) size(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || a.busy[n.Alias] {
			return 1
		}
		return min(maxCount, 1+a.size(n.Alias))
	}
	if n.Anchor != "" {
		if s, ok := a.sizes[n]; ok {
			return s
		}
		a.busy[n] = true
		defer delete(a.busy, n)
	}
	s := 1
	for _, c := range n.Content {
		s = min(maxCount, s+a.size(c))
	}
	if n.Anchor != "" {
		a.sizes[n] = s
	}
	return s
}

// replay walks the nodes as written in document order, as a decode does,
// and stops at the first node after which yaml.v3 would refuse the
// document. The ratio rises through an alias's expansion while the
// allowed ratio falls, so judging once after each alias gives the same
// verdict as judging after each of its nodes.
func (a *aliasCounter) replay(n *yaml.Node) {
	if n == nil || a.excessive {
		return
	}
	a.decoded++
	if n.Kind == yaml.AliasNode {
		s := 0
		if n.Alias != nil && !a.busy[n.Alias] {
			s = a.size(n.Alias)
		}
		a.decoded = min(maxCount, a.decoded+s)
		a.aliased = min(maxCount, a.aliased+s)
		if s > a.worstSize {
			a.worst, a.worstSize = n, s
		}
	}
	if a.aliased > 100 && a.decoded > 1000 && float64(a.aliased)/float64(a.decoded) > allowedAliasRatio(a.decoded) {
		a.excessive = true
		return
	}
	if n.Kind != yaml.AliasNode {
		for _, c := range n.Content {
			a.replay(c)
		}
	}
}

// checkAliases returns an error naming the file, and the line, column,
// field path and anchor of the largest alias, when expanding the aliases
// of root makes more nodes than yaml.v3 decodes, or than the file's own
// nodes allow.
func checkAliases(file string, root *yaml.Node) error {
	a := &aliasCounter{sizes: map[*yaml.Node]int{}, busy: map[*yaml.Node]bool{}}
	a.replay(root)
	written := countWritten(root)
	limit := aliasNodesFree + aliasNodesPerNode*written
	why := ""
	switch {
	case a.excessive:
		why = "more than yaml.v3 accepts"
	case a.aliased > limit:
		why = fmt.Sprintf("aliases may add %d nodes at most (%d per node written, plus %d)", limit, aliasNodesPerNode, aliasNodesFree)
	default:
		return nil
	}
	e := &ConfigError{File: file, Err: fmt.Errorf(
		"excessive aliasing: the file's %d nodes would make %s once its aliases are expanded: %s", written, countString(a.size(root)), why)}
	if w := a.worst; w != nil {
		e.Line, e.Column = w.Line, w.Column
		e.Field = pathTo(root, w, "")
		e.Err = fmt.Errorf("alias *%s repeats anchor &%s (line %d) as %s: %w", w.Value, w.Value, w.Alias.Line, countString(a.worstSize), e.Err)
	}
	return e
}

func countString(n int) string {
	if n >= maxCount {
		return "too many nodes to count"
	}
	return fmt.Sprintf("%d nodes", n)
}

// countWritten counts the nodes as written, aliases unexpanded.
func countWritten(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	c := 1
	for _, ch := range n.Content {
		c += countWritten(ch)
	}
	return c
}

// pathTo returns the field path of target under n, in the walk's form
// (campaigns[0].creators[2]), without following aliases; "" if it is not
// found.
func pathTo(n, target *yaml.Node, path string) string {
	if n == target {
		return path
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p := pathTo(c, target, path); p != "" || c == target {
				return p
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if q := pathTo(c, target, p); q != "" {
				return q
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := joinPath(path, n.Content[i].Value)
			if q := pathTo(n.Content[i+1], target, p); q != "" {
				return q
			}
		}
	}
	return ""
}

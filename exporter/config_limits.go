package exporter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
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

// Limits of the strings a config gives. Label values come from config
// (campaign and creator names, link, code, post and account ids); any
// UTF-8 is valid in a Prometheus label value, but a control character in
// a name written in a config file is a mistake (a value pasted with its
// line break), and would reach every series, dashboard variable and
// alert of the campaign. Tokens, header values and user agents are sent
// in HTTP headers, where a CR or LF is refused (or worse, splits the
// header) when the request is made, long after the config was checked.
const (
	// maxLabelBytes bounds label values from config.
	maxLabelBytes = 1 << 10
	// maxValueBytes bounds every other string: tokens, header values,
	// user agents, URLs, paths.
	maxValueBytes = 8 << 10
	// maxTokenFileBytes bounds what is read of a token_file, leading
	// and trailing white space included.
	maxTokenFileBytes = 64 << 10
)

// pemText is a string of PEM blocks (tls_config's ca and cert, and key):
// lines are its syntax, and a CA bundle may be large. The file's size
// bounds it.
type pemText string

// labelProblem says why s, a label value from config, is refused, or ""
// if it is not. The walk already refused control characters.
func labelProblem(s string) string {
	if len(s) <= maxLabelBytes {
		return ""
	}
	return fmt.Sprintf("is %d bytes long, above the limit of %s for a label value", len(s), formatBytes(maxLabelBytes))
}

// tokenProblem says why tok, a collector's token, is refused, or "" if
// it is not. A token is sent in an HTTP header: one line of at most
// maxValueBytes. But a JSON document (a Google service account key, which
// ga4 exchanges for access tokens) is the token as it is written, lines
// and all: JSON escapes the control characters in its strings, what is
// left are line breaks and tabs between its values.
func tokenProblem(tok string) string {
	if strings.HasPrefix(tok, "{") && json.Valid([]byte(tok)) {
		if len(tok) > maxTokenFileBytes {
			return fmt.Sprintf("is a JSON document of %d bytes, above the limit of %s", len(tok), formatBytes(maxTokenFileBytes))
		}
		return ""
	}
	return textProblem(tok, maxValueBytes)
}

// pemProblem is textProblem for PEM text: line breaks and tabs are
// allowed, and its length is the file's.
func pemProblem(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return isControl(r) && r != '\n' && r != '\r' && r != '\t' })
	if i < 0 {
		return ""
	}
	return fmt.Sprintf("contains %s at byte %d: control characters other than line breaks and tabs are not allowed in PEM text", controlName(s[i]), i)
}

// textProblem says why s is refused in a config, or "" if it is not. The
// message never quotes s: it may be a secret.
func textProblem(s string, limit int) string {
	if len(s) > limit {
		return fmt.Sprintf("is %d bytes long, above the limit of %s", len(s), formatBytes(int64(limit)))
	}
	if i := strings.IndexFunc(s, isControl); i >= 0 {
		return fmt.Sprintf("contains %s at byte %d: control characters are not allowed", controlName(s[i]), i)
	}
	return ""
}

// isControl reports whether r is a C0 control character or DEL.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// escapeControls writes the control characters of s as Go escapes
// (\n, \x00).
func escapeControls(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// controlName names a control character for an error message.
func controlName(c byte) string {
	names := map[byte]string{0: "NUL", '\t': "a tab", '\n': "a line feed", '\r': "a carriage return", 0x7f: "DEL"}
	if n, ok := names[c]; ok {
		return fmt.Sprintf("%s (U+%04X)", n, c)
	}
	return fmt.Sprintf("the control character U+%04X", c)
}

// scalarProblem is textProblem for a YAML scalar, with a hint when the
// line break is the one a block scalar (| or >) keeps at its end.
func scalarProblem(n *yaml.Node, limit int) string {
	msg := textProblem(n.Value, limit)
	if msg != "" && n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 && strings.IndexAny(n.Value, "\r\n") == len(n.Value)-1 {
		msg += " (a block scalar keeps its last line break unless written |- or >-)"
	}
	return msg
}

// checkFileLimited returns why file, which the config names, is not to be
// read: it is not a regular file (a device or a pipe may never end, or
// never start), it is larger than limit (0: no limit), or it cannot be
// opened.
func checkFileLimited(file string, limit int64) error {
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", file)
	}
	if limit > 0 && st.Size() > limit {
		return fmt.Errorf("%s is %d bytes (%s), above the limit of %s", file, st.Size(), formatBytes(st.Size()), formatBytes(limit))
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	return f.Close()
}

// readFileLimited reads file, a regular file of at most limit bytes.
func readFileLimited(file string, limit int64) ([]byte, error) {
	if err := checkFileLimited(file, limit); err != nil {
		return nil, err
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is more than %s", file, formatBytes(limit))
	}
	return b, nil
}

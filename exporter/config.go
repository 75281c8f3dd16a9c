package exporter

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// DefaultUTMParameter tells creators apart in web analytics when a
// campaign does not say.
const DefaultUTMParameter = "utm_content"

// MinInterval is the shortest refresh interval a collector may have. Provider
// APIs are rate limited and their numbers move slowly; polling faster than
// this spends quota without sharpening any graph.
const MinInterval = 10 * time.Second

// Defaults applied where the config is silent.
var (
	DefaultGlobal = GlobalConfig{
		RefreshInterval:        model.Duration(5 * time.Minute),
		Timeout:                model.Duration(30 * time.Second),
		MaxConcurrentRefreshes: 4,
		Jitter:                 0.1,
	}
	DefaultHTTP = HTTPConfig{
		MaxRetries:       3,
		MinRetryWait:     model.Duration(500 * time.Millisecond),
		MaxRetryWait:     model.Duration(30 * time.Second),
		RateLimit:        5,
		Burst:            5,
		MaxResponseBytes: 10 << 20,
		// Eight calls at once read 20,000 Bitly links at 50 ms an
		// answer in about two minutes, within the default interval, on
		// at most eight connections.
		MaxConcurrentRequests: 8,
	}
)

// MaxConcurrentRequests is the most calls a collector may have under way
// at once (http.max_concurrent_requests): more would hold as many
// connections to one provider, which few allow, for little gain once the
// rate limit binds.
const MaxConcurrentRequests = 64

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// Config is the whole config file.
type Config struct {
	Global     GlobalConfig       `yaml:"global"`
	Collectors []*CollectorConfig `yaml:"collectors"`
	Campaigns  []*Campaign        `yaml:"campaigns"`
	// Sandbox, when set, starts the built-in fake provider APIs so the
	// exporter runs without credentials. See the sandbox package.
	Sandbox *SandboxConfig `yaml:"sandbox,omitempty"`

	file string
	dir  string
	pos  map[string]position
	// problems are the errors found loading the file; Build does not
	// build the collectors they leave undecoded.
	problems *configErrors
	// unsureNames: some collector's name is not known for sure (see
	// markUnsureNames).
	unsureNames bool
	// shard is the shard the config was loaded for (see ApplyShard);
	// whole, when sharded, is the file's config with every creator, and
	// wholeSources its DefaultSources.
	shard        Shard
	whole        *Config
	wholeSources []string
}

// GlobalConfig holds the defaults every collector inherits.
type GlobalConfig struct {
	RefreshInterval        model.Duration `yaml:"refresh_interval"`
	Timeout                model.Duration `yaml:"timeout"`
	MaxConcurrentRefreshes int            `yaml:"max_concurrent_refreshes"`
	// Jitter spreads refreshes: each wait is the interval times a random
	// factor in [1-jitter, 1+jitter], so collectors started together do not
	// hit their providers in lockstep.
	Jitter float64 `yaml:"jitter"`
	// EarlyCurve sets the ages at which each post's attention is
	// recorded (see EarlyCurveConfig).
	EarlyCurve EarlyCurveConfig `yaml:"early_curve"`
	// PostSeries is the post_series of every campaign that sets none:
	// PostSeriesPerPost (the default) or PostSeriesPerCreator.
	PostSeries string `yaml:"post_series"`
}

// CollectorConfig configures one collector instance: one provider account.
type CollectorConfig struct {
	// Name identifies the instance: the `collector` label and what links
	// and tags refer to. Defaults to Type.
	Name string `yaml:"name"`
	// Type is the provider: a name registered with Register.
	Type      string         `yaml:"type"`
	BaseURL   string         `yaml:"base_url"`
	Token     config.Secret  `yaml:"token"`
	TokenEnv  string         `yaml:"token_env"`
	TokenFile string         `yaml:"token_file"`
	Interval  model.Duration `yaml:"interval"`
	Timeout   model.Duration `yaml:"timeout"`
	HTTP      HTTPConfig     `yaml:"http"`
	// HTTPClient is the standard HTTP client block of Prometheus' scrape
	// configs (github.com/prometheus/common/config): tls_config, proxy_url,
	// no_proxy, proxy_from_environment, proxy_connect_header,
	// follow_redirects, enable_http2. Credentials are not set here: a
	// collector sends its provider credential from token, token_env or
	// token_file. Nil when the block is absent: Go's default transport
	// (HTTP_PROXY and HTTPS_PROXY from the environment, redirects
	// followed). Relative file paths resolve against the config file's
	// directory.
	HTTPClient *config.HTTPClientConfig `yaml:"http_config"`
	// Options are provider specific; the collector decodes them with
	// DecodeOptions, as strictly as the rest of the file.
	Options yaml.Node `yaml:"options"`

	path string
	cfg  *Config
	// nameUnsure: the name may not be the one the file means to give.
	nameUnsure bool
}

// HTTPConfig tunes the shared HTTP client for one collector.
type HTTPConfig struct {
	MaxRetries       int            `yaml:"max_retries"`
	MinRetryWait     model.Duration `yaml:"min_retry_wait"`
	MaxRetryWait     model.Duration `yaml:"max_retry_wait"`
	RateLimit        float64        `yaml:"rate_limit"` // requests per second
	Burst            int            `yaml:"burst"`
	MaxResponseBytes int64          `yaml:"max_response_bytes"`
	UserAgent        string         `yaml:"user_agent"`
	// MaxConcurrentRequests is how many calls of one refresh may be
	// under way at once, where a collector makes independent calls (see
	// Parallel); the rate limit still paces them all. It also bounds the
	// connections of the pool the collector's transport shares (see
	// Build).
	MaxConcurrentRequests int `yaml:"max_concurrent_requests"`
}

// Campaign groups the creators of one campaign.
type Campaign struct {
	Name string `yaml:"name"`
	// Start is when the campaign began: shop collectors count orders
	// created from then on. Empty: every order the shop lets us read.
	Start *time.Time `yaml:"start"`
	// End closes the window in which social collectors discover posts.
	// Empty: open.
	End *time.Time `yaml:"end"`
	// UTMParameter is the query parameter that tells this campaign's
	// creators apart in web analytics: utm_content (default),
	// utm_campaign, utm_source, utm_medium or utm_term.
	UTMParameter string `yaml:"utm_parameter"`
	// Checkpoints are when the campaign team reads the live view to move
	// budget between creators. Nil: no checkpoints.
	Checkpoints *Checkpoints `yaml:"checkpoints"`
	// PostSeries says what the campaign's posts export: a series per
	// post (PostSeriesPerPost), or their sums per creator and platform
	// (PostSeriesPerCreator), for campaigns too large for a series per
	// post. Empty: global.post_series.
	PostSeries string     `yaml:"post_series"`
	Creators   []*Creator `yaml:"creators"`
}

// Creator is one influencer in a campaign, with what identifies their
// traffic at each provider.
type Creator struct {
	Name  string  `yaml:"name"`
	Links []*Link `yaml:"links"`
	Tags  []*Tag  `yaml:"tags"`
	Codes []*Code `yaml:"codes"`
	// Posts are the creator's campaign posts, by the platform's id.
	Posts []*Post `yaml:"posts"`
	// Accounts are the creator's accounts: followers are exported for each,
	// and with Match set the collector discovers the account's posts
	// published in the campaign window that carry it.
	Accounts []*Account `yaml:"accounts"`
	// UTM is the value of the campaign's UTM parameter in this creator's
	// links, which analytics collectors attribute visitors by. Default:
	// the creator's name.
	UTM string `yaml:"utm"`
	// Fee is what the creator is paid for the campaign. Nil: no fee is
	// known, and the creator has no cost per action.
	Fee *Fee `yaml:"fee"`

	path string
}

// Post is one campaign post on a platform.
type Post struct {
	Collector string `yaml:"collector"`
	ID        string `yaml:"id"`

	path string
}

// Path returns the config path of the post, for error messages.
func (p *Post) Path() string { return p.path }

// Account is a creator's account on a platform.
type Account struct {
	Collector string `yaml:"collector"`
	ID        string `yaml:"id"`
	// Match is a hashtag (#spring) or keyword a post's caption, title or
	// description must carry to be discovered as a campaign post,
	// compared case-insensitively. Empty: no discovery.
	Match string `yaml:"match"`

	path string
}

// Path returns the config path of the account, for error messages.
func (a *Account) Path() string { return a.path }

// Code is a creator's discount code at one shop. Shops match codes
// case-insensitively, and so does the exporter; the `code` label is the
// code as configured.
type Code struct {
	Collector string `yaml:"collector"`
	Code      string `yaml:"code"`

	path string
}

// Path returns the config path of the code, for error messages.
func (c *Code) Path() string { return c.path }

// Link is one tracking link, named by its short link as the provider shows
// it without a scheme (bit.ly/abc, dub.sh/spring-alice).
type Link struct {
	Collector string `yaml:"collector"`
	ID        string `yaml:"id"`
	// URL overrides the URL the probe requests; by default it is the short
	// URL the provider reports.
	URL    string  `yaml:"url"`
	Expect *Expect `yaml:"expect"`

	path string
}

// Tag makes a collector discover the creator's links by a provider tag.
type Tag struct {
	Collector string  `yaml:"collector"`
	Tag       string  `yaml:"tag"`
	Expect    *Expect `yaml:"expect"`

	path string
}

// Expect is what a healthy tracking link lands on.
type Expect struct {
	// Host is the destination host (with port if not the default).
	Host string `yaml:"host"`
	// UTM lists query parameters the destination URL must carry; an empty
	// value only requires the parameter to be present.
	UTM map[string]string `yaml:"utm"`
	// Scheme is what the link may land on. Empty: a link starting on
	// https must stay on https (a redirect to http is a downgrade, the
	// link is broken); "https": the same, and the landing page must be
	// https even when the link starts on http; "http": a downgrade to http
	// is allowed.
	Scheme string `yaml:"scheme"`
}

// SandboxConfig starts the built-in fakes, each on its own loopback address.
type SandboxConfig struct {
	// Servers maps a fake's name (a provider type, or "destinations") to
	// the loopback host:port it listens on.
	Servers map[string]string `yaml:"servers"`
	// BreakAfter is how long after start the scripted broken link's
	// destination starts answering 404.
	BreakAfter model.Duration `yaml:"break_after"`
}

// Path returns the config path of the creator, for error messages.
func (c *Creator) Path() string { return c.path }

// Path returns the config path of the link, for error messages.
func (l *Link) Path() string { return l.path }

// Path returns the config path of the tag, for error messages.
func (t *Tag) Path() string { return t.path }

// Path returns the config path of the collector, for error messages.
func (c *CollectorConfig) Path() string { return c.path }

// File returns the path of the file the config was loaded from.
func (c *Config) File() string { return c.file }

// ConfigError is one problem in a config file, located by line, column and
// field path.
type ConfigError struct {
	File   string
	Line   int
	Column int
	Field  string
	Err    error
}

// Error is one line: control characters in the field or the message
// (yaml.v3 quotes a value that does not decode, line breaks and all) are
// escaped, so that a list of errors reads one a line.
func (e *ConfigError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Column)
	}
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", loc, escapeControls(e.Err.Error()))
	}
	return fmt.Sprintf("%s: %s: %s", loc, escapeControls(e.Field), escapeControls(e.Err.Error()))
}

func (e *ConfigError) Unwrap() error { return e.Err }

type position struct{ line, col int }

// Errorf returns a ConfigError for the field at path, located in the file.
// Collectors use it to report problems in their options, links and tags.
func (c *Config) Errorf(path, format string, args ...any) error {
	e := &ConfigError{File: c.file, Field: path, Err: fmt.Errorf(format, args...)}
	for p := path; p != ""; p = parentPath(p) {
		if pos, ok := c.pos[p]; ok {
			e.Line, e.Column = pos.line, pos.col
			break
		}
	}
	return e
}

// releasePositions lets go of where each field of the file is. They
// locate the errors of loading and building, which are over once the
// collectors are built: every collector checks its options, links and
// tags in its constructor. A position is kept for every field of every
// creator, link, code and post, with its path as the key: 38 MB of the
// 53 MB an agency's config of 10,000 creators holds (BenchmarkConfigHeap),
// pointers the garbage collector would scan at every cycle for as long as
// the config runs, and whose room on the heap the heap goal doubles.
// Errorf still names the file and the field afterwards, without a line.
// Load lets go once and Start's apply again: a config already let go is
// not written again, so the second call never writes a field that other
// goroutines may be reading by then (Errorf reads it).
func (c *Config) releasePositions() {
	if c.pos != nil {
		c.pos = nil
	}
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// LoadConfig reads, strictly decodes and validates the file. The returned
// error lists every problem found, each naming file, line and field, sorted
// by line; the config is nil if there is any.
func LoadConfig(file string) (*Config, error) {
	c, errs := loadConfig(file)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// ParseConfig is LoadConfig on bytes; file names the source in errors and
// relative token_file paths resolve against its directory.
func ParseConfig(file string, data []byte) (*Config, error) {
	c, errs := parseConfig(file, data)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return c, nil
}

func loadConfig(file string) (*Config, *configErrors) {
	data, err := readConfigFile(file, MaxConfigSize())
	if err != nil {
		errs := &configErrors{}
		errs.add(phaseDecode, err)
		return nil, errs
	}
	return parseConfig(file, data)
}

// parseConfig decodes and validates as much of the file as it can. An
// unknown field is left out and a value that does not decode is left at
// its default, and the rest is decoded and validated all the same, so that
// one run reports every problem. The config is nil only when nothing could
// be decoded; with errors, it is only fit for Build to report what the
// collectors refuse (see Check).
func parseConfig(file string, data []byte) (*Config, *configErrors) {
	errs := &configErrors{}
	if err := sizeError(file, int64(len(data)), MaxConfigSize()); err != nil {
		errs.add(phaseDecode, err)
		return nil, errs
	}
	c := &Config{file: file, dir: filepath.Dir(file), pos: map[string]position{}, problems: errs}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		errs.add(phaseDecode, syntaxError(file, data, err))
		return nil, errs
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		errs.add(phaseDecode, &ConfigError{File: file, Err: errors.New("config is empty")})
		return nil, errs
	}
	// Before the walk, which expands every alias.
	if err := checkAliases(file, &root); err != nil {
		errs.add(phaseDecode, err)
		return nil, errs
	}
	w := newWalker(c.pos)
	doc, ok := w.clean(root.Content[0], typeOfConfig, "")
	walkErrs, dropped := w.errors(file)
	errs.add(phaseDecode, errors.Join(walkErrs...))
	errs.drop(dropped...)
	if !ok {
		return nil, errs
	}
	if err := doc.Decode(c); err != nil {
		// The walk left out what does not decode: what remains are
		// problems it does not look for, such as a key given twice.
		errs.add(phaseDecode, decodeErrors(file, err, c.pos))
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, errs // the decode stopped half way
		}
	}
	c.markUnsureNames()
	c.applyDefaults()
	errs.add(phaseValidate, c.validate())
	if errs.len() > 0 {
		c.compact()
	}
	return c, errs
}

// markUnsureNames marks the collectors whose name the file may not give as
// decoded: a name or type that did not decode, or an unknown key that may
// be a misspelt name. References to collectors are not judged while a
// name is unsure: "unknown collector" would be a follow-on error.
func (c *Config) markUnsureNames() {
	p := c.problems
	if p.isDropped("collectors") || (c.Collectors == nil && p.unknownFieldIn("")) {
		c.unsureNames = true
	}
	for i, cc := range c.Collectors {
		path := fmt.Sprintf("collectors[%d]", i)
		switch {
		case cc == nil:
			if p.isDropped(path) {
				c.unsureNames = true
			}
		case p.isDropped(path+".name") || (cc.Name == "" && (p.isDropped(path+".type") || p.unknownFieldIn(path))):
			cc.nameUnsure = true
			c.unsureNames = true
		}
	}
}

// compact drops empty entries, which validation reported, so that the
// collectors Check builds walk the rest of a broken config safely. Every
// entry keeps the path it was validated under.
func (c *Config) compact() {
	c.Collectors = nonNil(c.Collectors)
	c.Campaigns = nonNil(c.Campaigns)
	for _, camp := range c.Campaigns {
		camp.Creators = nonNil(camp.Creators)
		for _, cr := range camp.Creators {
			cr.Links = nonNil(cr.Links)
			cr.Tags = nonNil(cr.Tags)
			cr.Codes = nonNil(cr.Codes)
			cr.Posts = nonNil(cr.Posts)
			cr.Accounts = nonNil(cr.Accounts)
		}
	}
}

func nonNil[T any](s []*T) []*T {
	return slices.DeleteFunc(s, func(e *T) bool { return e == nil })
}

// phase orders the checks of a config file. An error of a later phase
// about a field an earlier phase already reported is a follow-on of it,
// and is left out.
type phase int

const (
	// phaseDecode: syntax, unknown fields, values of the wrong type.
	phaseDecode phase = iota
	// phaseValidate: values the exporter refuses.
	phaseValidate
	// phaseBuild: what each collector refuses in its block, options and
	// entries.
	phaseBuild
)

// configErrors gathers the errors of every phase of loading one config
// file, without duplicates or follow-ons.
type configErrors struct {
	list []phasedError
	seen map[string]bool
	// dropped are the fields left out because they did not decode: the
	// config holds their zero value or default, which later phases do
	// not judge.
	dropped map[string]bool
}

type phasedError struct {
	err   error
	at    *ConfigError // nil: the error names no field
	phase phase
}

func (l *configErrors) len() int {
	if l == nil {
		return 0
	}
	return len(l.list)
}

// add adds every error err joins, except those already there and the
// follow-ons of an earlier phase's errors.
func (l *configErrors) add(ph phase, err error) {
	for _, e := range flattenErrors(err) {
		text := e.Error()
		if l.seen[text] {
			continue
		}
		var at *ConfigError
		if errors.As(e, &at) && ph > phaseDecode && l.followsOn(ph, at.Field) {
			continue
		}
		if l.seen == nil {
			l.seen = map[string]bool{}
		}
		l.seen[text] = true
		l.list = append(l.list, phasedError{err: e, at: at, phase: ph})
	}
}

func (l *configErrors) drop(paths ...string) {
	for _, p := range paths {
		if l.dropped == nil {
			l.dropped = map[string]bool{}
		}
		l.dropped[p] = true
	}
}

// isDropped reports whether the field at path, or one holding it, was left
// out because it did not decode.
func (l *configErrors) isDropped(path string) bool {
	if l == nil {
		return false
	}
	for d := range l.dropped {
		if path == d || underPath(path, d) {
			return true
		}
	}
	return false
}

// unknownFieldIn reports whether the mapping at path ("" for the top
// level) has a key decoding ignored: unknown, or refused.
func (l *configErrors) unknownFieldIn(path string) bool {
	for _, e := range l.list {
		if e.phase != phaseDecode || e.at == nil || l.dropped[e.at.Field] {
			continue
		}
		f := e.at.Field
		if path != "" {
			if !strings.HasPrefix(f, path+".") {
				continue
			}
			f = f[len(path)+1:]
		}
		if f != "" && !strings.ContainsAny(f, ".[") {
			return true
		}
	}
	return false
}

// followsOn reports whether an error of phase ph about field follows
// from an error of an earlier phase: one about the same field, a field it
// holds, or a field holding it. An error about a whole entry of a list
// (collectors[0]) is not taken for a follow-on of an error about one of its
// fields: a collector's own errors name its entry.
func (l *configErrors) followsOn(ph phase, field string) bool {
	related := func(g string) bool {
		return field == g || underPath(field, g) || (underPath(g, field) && !strings.HasSuffix(field, "]"))
	}
	for d := range l.dropped {
		if related(d) {
			return true
		}
	}
	for _, e := range l.list {
		if e.phase < ph && e.at != nil && e.at.Field != "" && related(e.at.Field) {
			return true
		}
	}
	return false
}

// unbuildable reports whether the collector at path is not to be built:
// its block did not decode, or what building it needs (its type, token and
// http_config) is invalid; building it would only repeat those errors.
func (l *configErrors) unbuildable(path string) bool {
	if l == nil {
		return false
	}
	if l.isDropped(path) {
		return true
	}
	for d := range l.dropped {
		if underPath(d, path) {
			return true
		}
	}
	for _, e := range l.list {
		if e.phase != phaseValidate || e.at == nil {
			continue
		}
		if e.at.Field == path {
			return true
		}
		for _, f := range []string{path + ".type", path + ".token", path + ".http_config"} {
			if e.at.Field == f || underPath(e.at.Field, f) {
				return true
			}
		}
	}
	return false
}

// err returns every error, one a line, sorted by line; errors that name
// no line come first.
func (l *configErrors) err() error {
	if l.len() == 0 {
		return nil
	}
	list := slices.Clone(l.list)
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i].at, list[j].at
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Line != b.Line:
			return a.Line < b.Line
		default:
			return a.Column < b.Column
		}
	})
	errs := make([]error, len(list))
	for i, e := range list {
		errs[i] = e.err
	}
	return errors.Join(errs...)
}

// underPath reports whether the field path p lies inside the field parent.
func underPath(p, parent string) bool {
	return parent != "" && len(p) > len(parent) && strings.HasPrefix(p, parent) &&
		(p[len(parent)] == '.' || p[len(parent)] == '[')
}

// flattenErrors returns the errors err joins (errors.Join, nested), or err
// itself.
func flattenErrors(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	// fmt.Errorf with several %w also unwraps to a list; only a join
	// reads as its parts one a line.
	parts := j.Unwrap()
	texts := make([]string, len(parts))
	for i, e := range parts {
		texts[i] = e.Error()
	}
	if err.Error() != strings.Join(texts, "\n") {
		return []error{err}
	}
	var out []error
	for _, e := range parts {
		out = append(out, flattenErrors(e)...)
	}
	return out
}

// (?s): a quoted value may hold line breaks.
var typeErrorLine = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)

// decodeErrors turns yaml.v3's type errors ("line 5: cannot unmarshal
// !!str `soon` into model.Duration") into one ConfigError each, naming the
// field found on that line.
func decodeErrors(file string, err error, pos map[string]position) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return &ConfigError{File: file, Err: yamlError(err)}
	}
	var errs []error
	for _, msg := range te.Errors {
		m := typeErrorLine.FindStringSubmatch(msg)
		if m == nil {
			errs = append(errs, &ConfigError{File: file, Err: errors.New(msg)})
			continue
		}
		line, _ := strconv.Atoi(m[1])
		field, col := fieldOnLine(pos, line)
		errs = append(errs, &ConfigError{File: file, Line: line, Column: col, Field: field, Err: errors.New(m[2])})
	}
	return errors.Join(errs...)
}

// fieldOnLine returns the deepest field path that starts on line, the one
// whose value a type error is about.
func fieldOnLine(pos map[string]position, line int) (string, int) {
	best, col := "", 0
	for p, at := range pos {
		if at.line == line && (best == "" || at.col > col || (at.col == col && len(p) > len(best))) {
			best, col = p, at.col
		}
	}
	return best, col
}

func yamlError(err error) error {
	// yaml.v3 prefixes "yaml: "; the file name already says what it is.
	return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
}

func (c *Config) applyDefaults() {
	g := &c.Global
	if g.RefreshInterval == 0 {
		g.RefreshInterval = DefaultGlobal.RefreshInterval
	}
	if g.Timeout == 0 {
		g.Timeout = DefaultGlobal.Timeout
	}
	if g.MaxConcurrentRefreshes == 0 {
		g.MaxConcurrentRefreshes = DefaultGlobal.MaxConcurrentRefreshes
	}
	if g.Jitter == 0 {
		g.Jitter = DefaultGlobal.Jitter
	}
	if len(g.EarlyCurve.Ages) == 0 {
		g.EarlyCurve.Ages = append([]model.Duration(nil), DefaultEarlyCurveAges...)
	}
	if g.PostSeries == "" {
		g.PostSeries = PostSeriesPerPost
	}
	for i, cc := range c.Collectors {
		if cc == nil {
			continue
		}
		cc.cfg = c
		cc.path = fmt.Sprintf("collectors[%d]", i)
		if cc.Name == "" {
			cc.Name = cc.Type
		}
		if cc.Interval == 0 {
			cc.Interval = g.RefreshInterval
			if d, ok := defaultInterval(cc.Type); ok {
				cc.Interval = model.Duration(d)
			}
		}
		if cc.Timeout == 0 {
			cc.Timeout = g.Timeout
		}
		h := &cc.HTTP
		d := DefaultHTTP
		if h.MaxRetries == 0 {
			h.MaxRetries = d.MaxRetries
		}
		if h.MinRetryWait == 0 {
			h.MinRetryWait = d.MinRetryWait
		}
		if h.MaxRetryWait == 0 {
			h.MaxRetryWait = d.MaxRetryWait
		}
		if h.RateLimit == 0 {
			h.RateLimit = d.RateLimit
		}
		if h.Burst == 0 {
			h.Burst = d.Burst
		}
		if h.MaxResponseBytes == 0 {
			h.MaxResponseBytes = d.MaxResponseBytes
		}
		if h.MaxConcurrentRequests == 0 {
			h.MaxConcurrentRequests = d.MaxConcurrentRequests
		}
	}
}

func (c *Config) validate() error {
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, c.Errorf(path, format, args...))
	}
	g := c.Global
	if g.MaxConcurrentRefreshes < 0 {
		add("global.max_concurrent_refreshes", "must be positive, got %d", g.MaxConcurrentRefreshes)
	}
	if g.Jitter < 0 || g.Jitter >= 1 {
		add("global.jitter", "must be in [0, 1), got %g", g.Jitter)
	}
	if time.Duration(g.RefreshInterval) < MinInterval {
		add("global.refresh_interval", "%s is below the minimum of %s", g.RefreshInterval, model.Duration(MinInterval))
	}
	c.validateEarlyCurve(&c.Global.EarlyCurve, "global.early_curve", add)
	validatePostSeries(g.PostSeries, "global.post_series", add)

	collectors := map[string]*CollectorConfig{}
	for i, cc := range c.Collectors {
		p := fmt.Sprintf("collectors[%d]", i)
		if cc == nil {
			add(p, "empty collector entry")
			continue
		}
		switch {
		case cc.Type == "":
			add(p+".type", "missing collector type (known: %s)", strings.Join(Providers(), ", "))
		case !IsRegistered(cc.Type):
			add(p+".type", "unknown collector type %q (known: %s)", cc.Type, strings.Join(Providers(), ", "))
		}
		if cc.Name != "" && !cc.nameUnsure {
			if msg := labelProblem(cc.Name); msg != "" {
				add(p+".name", "%s", msg)
			} else if !nameRE.MatchString(cc.Name) {
				add(p+".name", "invalid name %q: use letters, digits, '_', '.' and '-'", cc.Name)
			}
			if prev, dup := collectors[cc.Name]; dup {
				add(p+".name", "duplicate collector name %q (first at %s)", cc.Name, prev.path)
			} else {
				collectors[cc.Name] = cc
			}
		}
		if time.Duration(cc.Interval) < MinInterval {
			add(p+".interval", "%s is below the minimum of %s", cc.Interval, model.Duration(MinInterval))
		}
		if cc.Timeout <= 0 {
			add(p+".timeout", "must be positive")
		}
		if cc.BaseURL != "" {
			if err := CheckBaseURL(cc.BaseURL); err != nil {
				add(p+".base_url", "%v", err)
			}
		}
		if err := cc.resolveToken(c.dir); err != nil {
			add(p+".token", "%v", err)
		}
		if cc.HTTP.MaxRetries < 0 {
			add(p+".http.max_retries", "must not be negative")
		}
		if cc.HTTP.RateLimit < 0 {
			add(p+".http.rate_limit", "must not be negative")
		}
		if cc.HTTP.MinRetryWait > cc.HTTP.MaxRetryWait {
			add(p+".http.min_retry_wait", "is above max_retry_wait")
		}
		if n := cc.HTTP.MaxConcurrentRequests; n < 1 || n > MaxConcurrentRequests {
			add(p+".http.max_concurrent_requests", "must be between 1 and %d, got %d", MaxConcurrentRequests, n)
		}
		if cc.HTTPClient != nil {
			cc.HTTPClient.SetDirectory(c.dir)
			checkHTTPClient(cc.HTTPClient, p+".http_config", add)
		}
	}

	// checkCollector reports a link, tag, code, post or account naming a
	// collector the file does not configure. It says nothing while a
	// collector's name is unsure, or when the entry's collector key may
	// be the unknown one its mapping has: that would be a follow-on.
	checkCollector := func(path, name string) {
		if c.unsureNames || (name == "" && c.problems.unknownFieldIn(path)) {
			return
		}
		if _, ok := collectors[name]; !ok {
			add(path+".collector", "unknown collector %q (configured: %s)", name, strings.Join(sortedKeys(collectors), ", "))
		}
	}
	campaigns := map[string]bool{}
	links := map[string]string{}
	codes := map[string]string{}
	posts := map[string]string{}
	for i, camp := range c.Campaigns {
		p := fmt.Sprintf("campaigns[%d]", i)
		if camp == nil {
			add(p, "empty campaign entry")
			continue
		}
		switch {
		case strings.TrimSpace(camp.Name) == "":
			add(p+".name", "campaign name is empty")
		case labelProblem(camp.Name) != "":
			add(p+".name", "%s", labelProblem(camp.Name))
		case !nameRE.MatchString(camp.Name):
			add(p+".name", "invalid name %q: use letters, digits, '_', '.' and '-'", camp.Name)
		case campaigns[camp.Name]:
			add(p+".name", "duplicate campaign %q", camp.Name)
		}
		campaigns[camp.Name] = true
		switch camp.UTMParameter {
		case "":
			camp.UTMParameter = DefaultUTMParameter
		case "utm_content", "utm_campaign", "utm_source", "utm_medium", "utm_term":
		default:
			add(p+".utm_parameter", "must be one of utm_content, utm_campaign, utm_source, utm_medium, utm_term, got %q", camp.UTMParameter)
		}
		if camp.Start != nil && camp.End != nil && !camp.End.After(*camp.Start) {
			add(p+".end", "campaign ends (%s) before it starts (%s)", camp.End.Format(time.RFC3339), camp.Start.Format(time.RFC3339))
		}
		c.validateCheckpoints(camp.Checkpoints, p+".checkpoints", add)
		validatePostSeries(camp.PostSeries, p+".post_series", add)
		creators := map[string]bool{}
		for j, cr := range camp.Creators {
			cp := fmt.Sprintf("%s.creators[%d]", p, j)
			if cr == nil {
				add(cp, "empty creator entry")
				continue
			}
			cr.path = cp
			switch {
			case strings.TrimSpace(cr.Name) == "":
				add(cp+".name", "creator name is empty")
			case labelProblem(cr.Name) != "":
				add(cp+".name", "%s", labelProblem(cr.Name))
			case !nameRE.MatchString(cr.Name):
				add(cp+".name", "invalid name %q: use letters, digits, '_', '.' and '-'", cr.Name)
			case creators[cr.Name]:
				add(cp+".name", "duplicate creator %q in campaign %q", cr.Name, camp.Name)
			}
			creators[cr.Name] = true
			c.validateFee(cr.Fee, cp+".fee", add)
			for k, l := range cr.Links {
				lp := fmt.Sprintf("%s.links[%d]", cp, k)
				if l == nil {
					add(lp, "empty link entry")
					continue
				}
				l.path = lp
				checkCollector(lp, l.Collector)
				if strings.TrimSpace(l.ID) == "" {
					add(lp+".id", "link id is empty")
				} else if msg := labelProblem(l.ID); msg != "" {
					add(lp+".id", "%s", msg)
				} else if strings.Contains(l.ID, "://") {
					add(lp+".id", "link id %q must be the short link without a scheme, like bit.ly/abc", l.ID)
				}
				key := l.Collector + "\x00" + l.ID
				if prev, dup := links[key]; dup && strings.TrimSpace(l.ID) != "" && !c.problems.isDropped(lp+".collector") {
					add(lp+".id", "duplicate link %q (first at %s)", l.ID, prev)
				} else {
					links[key] = lp
				}
				if l.URL != "" {
					if u, err := url.Parse(l.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
						add(lp+".url", "must be an absolute http or https URL")
					}
				}
				c.validateExpect(l.Expect, lp+".expect", add)
			}
			for k, t := range cr.Tags {
				tp := fmt.Sprintf("%s.tags[%d]", cp, k)
				if t == nil {
					add(tp, "empty tag entry")
					continue
				}
				t.path = tp
				checkCollector(tp, t.Collector)
				if strings.TrimSpace(t.Tag) == "" {
					add(tp+".tag", "tag is empty")
				}
				c.validateExpect(t.Expect, tp+".expect", add)
			}
			for k, po := range cr.Posts {
				pp := fmt.Sprintf("%s.posts[%d]", cp, k)
				if po == nil {
					add(pp, "empty post entry")
					continue
				}
				po.path = pp
				checkCollector(pp, po.Collector)
				switch {
				case strings.TrimSpace(po.ID) == "":
					add(pp+".id", "post id is empty")
				case labelProblem(po.ID) != "":
					add(pp+".id", "%s", labelProblem(po.ID))
				case po.ID == AllPosts:
					add(pp+".id", "post id %q is reserved: it is the post label of a creator's summed posts (post_series: per_creator)", AllPosts)
				}
				key := po.Collector + "\x00" + po.ID
				if prev, dup := posts[key]; dup && po.ID != "" && !c.problems.isDropped(pp+".collector") {
					add(pp+".id", "duplicate post %q (first at %s)", po.ID, prev)
				} else {
					posts[key] = pp
				}
			}
			for k, ac := range cr.Accounts {
				ap := fmt.Sprintf("%s.accounts[%d]", cp, k)
				if ac == nil {
					add(ap, "empty account entry")
					continue
				}
				ac.path = ap
				checkCollector(ap, ac.Collector)
				if strings.TrimSpace(ac.ID) == "" {
					add(ap+".id", "account id is empty")
				} else if msg := labelProblem(ac.ID); msg != "" {
					add(ap+".id", "%s", msg)
				}
				if ac.Match != strings.TrimSpace(ac.Match) || (ac.Match != "" && strings.Trim(ac.Match, "#") == "") {
					add(ap+".match", "invalid match %q: a hashtag like #spring or a keyword", ac.Match)
				}
			}
			for k, cd := range cr.Codes {
				dp := fmt.Sprintf("%s.codes[%d]", cp, k)
				if cd == nil {
					add(dp, "empty code entry")
					continue
				}
				cd.path = dp
				checkCollector(dp, cd.Collector)
				code := strings.TrimSpace(cd.Code)
				switch {
				case code == "":
					add(dp+".code", "discount code is empty")
				case labelProblem(code) != "":
					add(dp+".code", "%s", labelProblem(code))
				case code != cd.Code || strings.ContainsAny(code, " \t\n"):
					add(dp+".code", "discount code %q must not contain spaces", cd.Code)
				}
				key := cd.Collector + "\x00" + strings.ToLower(code)
				if prev, dup := codes[key]; dup && code != "" && !c.problems.isDropped(dp+".collector") {
					add(dp+".code", "duplicate code %q (first at %s; shops match codes case-insensitively)", cd.Code, prev)
				} else {
					codes[key] = dp
				}
			}
		}
	}
	if s := c.Sandbox; s != nil {
		for name, addr := range s.Servers {
			if err := checkLoopback(addr); err != nil {
				add("sandbox.servers."+name, "%v", err)
			}
		}
	}
	return errors.Join(errs...)
}

func (c *Config) validateExpect(e *Expect, p string, add func(string, string, ...any)) {
	if e == nil {
		return
	}
	if strings.Contains(e.Host, "/") {
		add(p+".host", "must be a host name, got %q", e.Host)
	}
	for k := range e.UTM {
		if strings.TrimSpace(k) == "" {
			add(p+".utm", "empty parameter name")
		}
	}
	switch e.Scheme {
	case "", "https", "http":
	default:
		add(p+".scheme", "must be https or http, got %q", e.Scheme)
	}
}

// checkLoopback makes sure the sandbox never listens beyond this machine.
func checkLoopback(addr string) error {
	host, _, err := splitHostPort(addr)
	if err != nil {
		return err
	}
	if host != "localhost" && !isLoopbackIP(host) {
		return fmt.Errorf("sandbox servers listen on loopback only, got %q", addr)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// resolveToken fills Token from TokenEnv or TokenFile. Tokens are read when
// the config is loaded: rotate one by rewriting the file and reloading.
func (cc *CollectorConfig) resolveToken(dir string) error {
	set := 0
	for _, s := range []string{string(cc.Token), cc.TokenEnv, cc.TokenFile} {
		if s != "" {
			set++
		}
	}
	if set > 1 {
		return errors.New("set only one of token, token_env and token_file")
	}
	switch {
	case cc.TokenEnv != "":
		v, ok := os.LookupEnv(cc.TokenEnv)
		if !ok || strings.TrimSpace(v) == "" {
			return fmt.Errorf("environment variable %s (token_env) is not set", cc.TokenEnv)
		}
		tok := strings.TrimSpace(v)
		if msg := tokenProblem(tok); msg != "" {
			return fmt.Errorf("environment variable %s (token_env): the token %s", cc.TokenEnv, msg)
		}
		cc.Token = config.Secret(tok)
	case cc.TokenFile != "":
		f := cc.TokenFile
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		b, err := readFileLimited(f, maxTokenFileBytes)
		if err != nil {
			// The error names the file, never its content.
			return fmt.Errorf("read token_file: %w", err)
		}
		// The line break editors end a file with is not the token's.
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return fmt.Errorf("token_file %s is empty", cc.TokenFile)
		}
		if msg := tokenProblem(tok); msg != "" {
			return fmt.Errorf("token_file %s: the token %s", cc.TokenFile, msg)
		}
		cc.Token = config.Secret(tok)
	case cc.Token != "":
		tok := string(cc.Token)
		if msg := tokenProblem(tok); msg != "" {
			if tokenProblem(strings.TrimRight(tok, "\r\n")) == "" {
				msg += " (the token ends with a line break: a block scalar keeps its last one unless written |- or >-)"
			}
			return fmt.Errorf("the token %s", msg)
		}
	}
	return nil
}

// DecodeOptions strictly decodes the collector's provider-specific options
// into v; unknown fields are errors naming file, line and field. An absent
// options block leaves v as it is, so set defaults before calling. Every
// error is reported at once: an unknown field or a value that does not
// decode is left out, and the rest of v is decoded all the same.
func (cc *CollectorConfig) DecodeOptions(v any) error {
	if cc.Options.Kind == 0 {
		return nil
	}
	pos := cc.cfg.pos
	if pos == nil {
		// A running config has let go of its positions
		// (releasePositions); building it again (check --online does)
		// finds the options' own again in their node.
		pos = map[string]position{}
	}
	w := newWalker(pos)
	clean, ok := w.clean(&cc.Options, typeOf(v), cc.path+".options")
	errs, _ := w.errors(cc.cfg.file)
	if ok {
		if err := clean.Decode(v); err != nil {
			errs = append(errs, decodeErrors(cc.cfg.file, err, pos))
		}
	}
	return errors.Join(errs...)
}

// Config returns the whole config the collector belongs to.
func (cc *CollectorConfig) Config() *Config { return cc.cfg }

// LinkRef is a configured link with the campaign and creator it belongs to.
type LinkRef struct {
	Campaign, Creator string
	*Link
}

// TagRef is a configured tag with the campaign and creator it belongs to.
type TagRef struct {
	Campaign, Creator string
	*Tag
}

// CodeRef is a configured discount code with its campaign and creator.
type CodeRef struct {
	Campaign, Creator string
	// Start is the campaign's start, nil if not set.
	Start *time.Time
	*Code
}

// PostRef is a configured post with its campaign and creator.
type PostRef struct {
	Campaign, Creator string
	*Post
}

// AccountRef is a configured account with its campaign, creator and the
// campaign window posts are discovered in (nil ends: open).
type AccountRef struct {
	Campaign, Creator string
	Start, End        *time.Time
	*Account
}

// InWindow reports whether t falls in the account's campaign window.
func (a AccountRef) InWindow(t time.Time) bool {
	return (a.Start == nil || !t.Before(*a.Start)) && (a.End == nil || t.Before(*a.End))
}

// Matches reports whether text carries the account's match: a hashtag as a
// whole tag (#spring matches "#Spring!" but not "#springtime"), a keyword
// as a case-insensitive substring.
func (a AccountRef) Matches(text string) bool {
	m := strings.ToLower(a.Match)
	if m == "" {
		return false
	}
	text = strings.ToLower(text)
	if !strings.HasPrefix(m, "#") {
		return strings.Contains(text, m)
	}
	for i := 0; ; {
		j := strings.Index(text[i:], m)
		if j < 0 {
			return false
		}
		end := i + j + len(m)
		if end == len(text) || !isTagChar(rune(text[end])) {
			return true
		}
		i = end
	}
}

func isTagChar(r rune) bool {
	return r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r >= 0x80
}

// refsFor walks every creator's entries of one kind (links, tags, ...) in
// file order and keeps those of the named collector.
func refsFor[T interface{ collector() string }, R any](c *Config, name string, entries func(*Creator) []T, ref func(*Campaign, *Creator, T) R) []R {
	var out []R
	for _, camp := range c.Campaigns {
		for _, cr := range camp.Creators {
			for _, e := range entries(cr) {
				if e.collector() == name {
					out = append(out, ref(camp, cr, e))
				}
			}
		}
	}
	return out
}

func (l *Link) collector() string    { return l.Collector }
func (t *Tag) collector() string     { return t.Collector }
func (c *Code) collector() string    { return c.Collector }
func (p *Post) collector() string    { return p.Collector }
func (a *Account) collector() string { return a.Collector }

// LinksFor returns the links configured for the named collector, in file
// order.
func (c *Config) LinksFor(collector string) []LinkRef {
	return refsFor(c, collector, func(cr *Creator) []*Link { return cr.Links },
		func(camp *Campaign, cr *Creator, l *Link) LinkRef {
			return LinkRef{Campaign: camp.Name, Creator: cr.Name, Link: l}
		})
}

// TagsFor returns the tags configured for the named collector, in file
// order.
func (c *Config) TagsFor(collector string) []TagRef {
	return refsFor(c, collector, func(cr *Creator) []*Tag { return cr.Tags },
		func(camp *Campaign, cr *Creator, t *Tag) TagRef {
			return TagRef{Campaign: camp.Name, Creator: cr.Name, Tag: t}
		})
}

// CodesFor returns the codes configured for the named collector, in file
// order.
func (c *Config) CodesFor(collector string) []CodeRef {
	return refsFor(c, collector, func(cr *Creator) []*Code { return cr.Codes },
		func(camp *Campaign, cr *Creator, cd *Code) CodeRef {
			return CodeRef{Campaign: camp.Name, Creator: cr.Name, Start: camp.Start, Code: cd}
		})
}

// PostsFor returns the posts configured for the named collector, in file
// order.
func (c *Config) PostsFor(collector string) []PostRef {
	return refsFor(c, collector, func(cr *Creator) []*Post { return cr.Posts },
		func(camp *Campaign, cr *Creator, p *Post) PostRef {
			return PostRef{Campaign: camp.Name, Creator: cr.Name, Post: p}
		})
}

// AccountsFor returns the accounts configured for the named collector, in
// file order.
func (c *Config) AccountsFor(collector string) []AccountRef {
	return refsFor(c, collector, func(cr *Creator) []*Account { return cr.Accounts },
		func(camp *Campaign, cr *Creator, a *Account) AccountRef {
			return AccountRef{Campaign: camp.Name, Creator: cr.Name, Start: camp.Start, End: camp.End, Account: a}
		})
}

// CreatorRef is a creator with what analytics collectors attribute
// visitors by.
type CreatorRef struct {
	Campaign, Creator string
	Start             *time.Time
	// UTMParameter and UTMValue: a visit whose landing URL carried
	// UTMParameter=UTMValue is this creator's.
	UTMParameter, UTMValue string
}

// Creators returns every creator of every campaign, in file order; of a
// sharded config, those of its shard (see AllCreators).
func (c *Config) Creators() []CreatorRef {
	var out []CreatorRef
	for _, camp := range c.Campaigns {
		for _, cr := range camp.Creators {
			v := cr.UTM
			if v == "" {
				v = cr.Name
			}
			out = append(out, CreatorRef{Campaign: camp.Name, Creator: cr.Name, Start: camp.Start, UTMParameter: camp.UTMParameter, UTMValue: v})
		}
	}
	return out
}

// httpClientShape is the part of config.HTTPClientConfig a collector's
// http_config may set, for the strict walk: the library's own decoder
// ignores unknown keys.
type httpClientShape struct {
	TLSConfig          tlsConfigShape `yaml:"tls_config"`
	FollowRedirects    bool           `yaml:"follow_redirects"`
	EnableHTTP2        bool           `yaml:"enable_http2"`
	config.ProxyConfig `yaml:",inline"`
}

// tlsConfigShape is config.TLSConfig without the secret manager
// references (ca_ref, cert_ref, key_ref): there is no secret manager here.
// The inline certificates and key are PEM text, whose lines are its
// syntax: they are not held to the one-line rule of other strings.
type tlsConfigShape struct {
	CA                 pemText           `yaml:"ca"`
	Cert               pemText           `yaml:"cert"`
	Key                pemText           `yaml:"key"`
	CAFile             string            `yaml:"ca_file"`
	CertFile           string            `yaml:"cert_file"`
	KeyFile            string            `yaml:"key_file"`
	ServerName         string            `yaml:"server_name"`
	InsecureSkipVerify bool              `yaml:"insecure_skip_verify"`
	MinVersion         config.TLSVersion `yaml:"min_version"`
	MaxVersion         config.TLSVersion `yaml:"max_version"`
}

// credentialKeys are the http_config keys of Prometheus' scrape configs
// that set credentials: refused, a collector's credential is its token.
var credentialKeys = map[string]bool{
	"authorization": true, "basic_auth": true, "oauth2": true,
	"bearer_token": true, "bearer_token_file": true,
}

// checkHTTPClient checks what the library's own validation leaves to the
// first connection: that the TLS files can be read and parsed, and the
// proxy URL's scheme. File paths are already joined with the config
// file's directory; errors name the file. A TLS file is read only if it
// is a regular file no larger than the config file may be.
func checkHTTPClient(h *config.HTTPClientConfig, p string, add func(string, string, ...any)) {
	t := &h.TLSConfig
	bad := false
	for _, f := range []struct{ field, file string }{
		{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile},
	} {
		if f.file == "" {
			continue
		}
		if err := checkFileLimited(f.file, MaxConfigSize()); err != nil {
			add(p+".tls_config."+f.field, "%v", err)
			bad = true
		}
	}
	if !bad {
		// Reads and parses the CA and the client certificate and key.
		if _, err := config.NewTLSConfig(t); err != nil {
			field := ".tls_config"
			switch {
			case strings.Contains(err.Error(), "CA cert") && t.CAFile != "":
				field += ".ca_file"
			case strings.Contains(err.Error(), "CA cert") && t.CA != "":
				field += ".ca"
			case strings.Contains(err.Error(), "client cert") && t.CertFile != "":
				field += ".cert_file"
			case strings.Contains(err.Error(), "client cert") && t.Cert != "":
				field += ".cert"
			}
			add(p+field, "%v", err)
		}
	}
	if u := h.ProxyURL.URL; u != nil && u.String() != "" {
		switch {
		case u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5" && u.Scheme != "socks5h":
			add(p+".proxy_url", "scheme must be http, https, socks5 or socks5h, got %q", u.Scheme)
		case u.Host == "":
			add(p+".proxy_url", "must be an absolute URL with a host")
		}
	}
}

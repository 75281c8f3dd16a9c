package exporter

import (
	"slices"
	"strings"
)

// SourceOther is the source label of visitors whose source is not in a
// collector's sources list.
const SourceOther = "other"

// socialTypes are the collector types whose platforms the default sources
// list names: a campaign's creators post there.
var socialTypes = []string{"instagram", "tiktok", "youtube"}

// sourceHosts maps well-known referrer hosts (and their subdomains:
// l.instagram.com, m.youtube.com, vm.tiktok.com, www.…) to a platform.
var sourceHosts = map[string]string{
	"instagram.com": "instagram",
	"youtube.com":   "youtube",
	"youtu.be":      "youtube",
	"tiktok.com":    "tiktok",
	"t.co":          "twitter",
	"twitter.com":   "twitter",
	"x.com":         "twitter",
	"facebook.com":  "facebook",
	"fb.com":        "facebook",
	"fb.me":         "facebook",
	"threads.net":   "threads",
	"linkedin.com":  "linkedin",
	"lnkd.in":       "linkedin",
	"pinterest.com": "pinterest",
	"pin.it":        "pinterest",
	"reddit.com":    "reddit",
	"snapchat.com":  "snapchat",
	"twitch.tv":     "twitch",
}

// sourceAliases are short names campaigns put in utm_source.
var sourceAliases = map[string]string{
	"ig": "instagram",
	"yt": "youtube",
	"tt": "tiktok",
	"fb": "facebook",
	"x":  "twitter",
}

// Sources bounds the source label of influencer_referral_visitors_total:
// a raw source (a utm_source, a referrer host, an analytics tool's source
// name) becomes one of a configured list of platforms, or SourceOther.
// The label then takes at most len(list)+1 values, whatever visitors
// bring. Safe for concurrent use once built.
type Sources struct {
	list []string
}

// NewSources returns the bound for a configured list, lower-cased. An
// empty list puts every visitor in SourceOther.
func NewSources(list []string) *Sources {
	s := &Sources{}
	for _, v := range list {
		v = strings.ToLower(strings.TrimSpace(v))
		if v != "" && !slices.Contains(s.list, v) {
			s.list = append(s.list, v)
		}
	}
	return s
}

// List returns the configured platforms, lower-cased.
func (s *Sources) List() []string { return slices.Clone(s.list) }

// DefaultSources is the sources list of a collector that sets none: the
// types of the social collectors (instagram, tiktok, youtube) that the
// config's campaigns name in posts or accounts, in that order. A sharded
// config's are those of the whole file, so that every replica labels a
// referrer alike.
func DefaultSources(cfg *Config) []string {
	var out []string
	if cfg == nil {
		return nil
	}
	if cfg.whole != nil {
		return slices.Clone(cfg.wholeSources)
	}
	for _, typ := range socialTypes {
		for _, cc := range cfg.Collectors {
			if cc.Type == typ && (len(cfg.PostsFor(cc.Name)) > 0 || len(cfg.AccountsFor(cc.Name)) > 0) {
				out = append(out, typ)
				break
			}
		}
	}
	return out
}

// Map returns the label for a raw source: the raw value itself when it
// is in the list (case-insensitive), else the platform of a known host
// or alias when that platform is in the list (l.instagram.com and
// https://l.instagram.com/… are instagram, youtu.be youtube, t.co
// twitter), else SourceOther.
func (s *Sources) Map(raw string) string {
	v := strings.ToLower(strings.TrimSpace(raw))
	if slices.Contains(s.list, v) {
		return v
	}
	if p := platformOf(v); p != "" && slices.Contains(s.list, p) {
		return p
	}
	return SourceOther
}

// platformOf returns the platform a lower-cased raw source names, "" when
// none.
func platformOf(v string) string {
	if p, ok := sourceAliases[v]; ok {
		return p
	}
	host := v
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	if i := strings.IndexAny(host, "/?#:"); i >= 0 {
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ".")
	for host != "" {
		if p, ok := sourceHosts[host]; ok {
			return p
		}
		if slices.Contains(socialTypes, host) {
			return host
		}
		i := strings.IndexByte(host, '.')
		if i < 0 {
			break
		}
		host = host[i+1:]
	}
	return ""
}

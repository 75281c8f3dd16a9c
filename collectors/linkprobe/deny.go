package linkprobe

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The probe follows redirects it does not choose: a short link, or a shop's
// page, can send it anywhere, cloud metadata and this machine's own
// services included. The operator configures which links to watch, not
// where their redirects lead, so, unlike blackbox_exporter, whose targets
// are the operator's, the probe refuses by default every address that is
// not a public one (defaultDeny). allow_cidrs lifts parts of that list (an
// internal shop, the sandbox on loopback), deny_cidrs adds to it, and
// deny_defaults: false turns it off.

// denyRange is a range of the default deny list and why it is there.
type denyRange struct {
	prefix netip.Prefix
	why    string
}

// defaultDeny is what the probe never connects to unless allow_cidrs says
// so: every range of IANA's special-purpose registries that is not
// globally reachable and that a redirect could aim at (RFC 6890), and the
// addresses clouds serve instance metadata and credentials on. A cloud
// metadata address is more specific than the range it lies in, and an
// allow_cidrs entry lifts a range only if it is as narrow or narrower
// (matchRules): allowing 169.254.0.0/16 still refuses 169.254.169.254.
var defaultDeny = []denyRange{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified, RFC 1122"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private, RFC 1918"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (carrier-grade NAT), RFC 6598"},
	// Alibaba Cloud ECS instance metadata:
	// https://www.alibabacloud.com/help/en/ecs/user-guide/overview-of-ecs-instance-metadata
	// (cloud-init reads it there too:
	// https://github.com/canonical/cloud-init/blob/21.3/doc/rtd/topics/datasources/aliyun.rst).
	{netip.MustParsePrefix("100.100.100.200/32"), "cloud metadata, Alibaba Cloud"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback, RFC 1122"},
	// Azure's platform address (WireServer, its DNS and DHCP), a public
	// address every Azure VM reaches:
	// https://learn.microsoft.com/en-us/azure/virtual-network/what-is-ip-address-168-63-129-16
	{netip.MustParsePrefix("168.63.129.16/32"), "cloud platform endpoint, Azure WireServer"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local, RFC 3927"},
	// Instance metadata of AWS, Google Cloud, Azure, Oracle Cloud,
	// DigitalOcean, OpenStack and most others:
	// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html,
	// https://cloud.google.com/compute/docs/metadata/querying-metadata,
	// https://learn.microsoft.com/en-us/azure/virtual-machines/instance-metadata-service,
	// https://docs.oracle.com/en-us/iaas/Content/Compute/Tasks/gettingmetadata.htm.
	{netip.MustParsePrefix("169.254.169.254/32"), "cloud metadata, AWS, Google Cloud, Azure, Oracle Cloud and others"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private, RFC 1918"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments, RFC 6890"},
	// Oracle Cloud's instance metadata on Cloud@Customer and Classic:
	// https://docs.oracle.com/en/cloud/cloud-at-customer/occ-get-started/retrieve-predefined-instance-metadata.html
	{netip.MustParsePrefix("192.0.0.192/32"), "cloud metadata, Oracle Cloud"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private, RFC 1918"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast, RFC 5771"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved, RFC 1112"},
	{netip.MustParsePrefix("255.255.255.255/32"), "limited broadcast, RFC 919"},

	{netip.MustParsePrefix("::/128"), "unspecified, RFC 4291"},
	{netip.MustParsePrefix("::1/128"), "loopback, RFC 4291"},
	// IPv4-compatible addresses are deprecated and unused: the whole range
	// is refused rather than read as IPv4.
	{netip.MustParsePrefix("::/96"), "IPv4-compatible IPv6 (deprecated), RFC 4291"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use IPv4/IPv6 translation, RFC 8215"},
	{netip.MustParsePrefix("fc00::/7"), "unique local, RFC 4193"},
	// AWS instance metadata over IPv6, the same guide as 169.254.169.254.
	{netip.MustParsePrefix("fd00:ec2::254/128"), "cloud metadata, AWS"},
	// Google Cloud's metadata server for IPv6-only workloads, the address
	// its tools set as GCE_METADATA_HOST there:
	// https://github.com/GoogleCloudPlatform/k8s-config-connector/pull/5842
	{netip.MustParsePrefix("fd20:ce::254/128"), "cloud metadata, Google Cloud"},
	{netip.MustParsePrefix("fe80::/10"), "link-local, RFC 4291"},
	{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated), RFC 3879"},
	{netip.MustParsePrefix("ff00::/8"), "multicast, RFC 4291"},
}

// addrRules decides which addresses the probe connects to.
type addrRules struct {
	defaults bool           // the default deny list applies (deny_defaults)
	deny     []netip.Prefix // deny_cidrs: refused, whatever else says
	allow    []netip.Prefix // allow_cidrs: lift parts of the default list
}

// parseRules reads deny_defaults, allow_cidrs and deny_cidrs, and refuses
// entries that would not do what they say. errorf makes an error at a path
// under the options (allow_cidrs[1]).
func parseRules(o options, errorf func(path, format string, args ...any) error) (addrRules, []error) {
	var errs []error
	type entry struct {
		i int
		p netip.Prefix
	}
	parse := func(name string, list []string) []entry {
		var out []entry
		for i, c := range list {
			at := fmt.Sprintf("%s[%d]", name, i)
			pfx, err := netip.ParsePrefix(strings.TrimSpace(c))
			switch {
			case err != nil:
				errs = append(errs, errorf(at, "invalid CIDR %q (a range such as 10.0.0.0/8, or 192.0.2.7/32 for one address)", c))
				continue
			case pfx.Addr().Is4In6():
				errs = append(errs, errorf(at, "%s is an IPv4-mapped range: write it as IPv4 (the probe reads ::ffff:a.b.c.d as a.b.c.d)", c))
				continue
			}
			out = append(out, entry{i, pfx.Masked()})
		}
		return out
	}
	deny, allow := parse("deny_cidrs", o.DenyCIDRs), parse("allow_cidrs", o.AllowCIDRs)
	r := addrRules{defaults: o.DenyDefaults}
	for _, e := range deny {
		r.deny = append(r.deny, e.p)
	}
	if !o.DenyDefaults && len(o.AllowCIDRs) > 0 {
		errs = append(errs, errorf("allow_cidrs", "lifts ranges of the default deny list, which deny_defaults: false turns off: remove one or the other"))
		return r, errs
	}
	for _, a := range allow {
		at := fmt.Sprintf("allow_cidrs[%d]", a.i)
		if !insideDefault(a.p) {
			errs = append(errs, errorf(at, "%s lies in no range of the default deny list, so it allows nothing: the probe connects to addresses outside that list anyway, and lifts a default range only for an entry inside it (to turn the list off, set deny_defaults: false)", a.p))
			continue
		}
		for _, d := range deny {
			if d.p.Bits() <= a.p.Bits() && d.p.Contains(a.p.Addr()) {
				errs = append(errs, errorf(at, "%s lies inside deny_cidrs[%d] %s, which wins over allow_cidrs: it allows nothing", a.p, d.i, d.p))
				break
			}
		}
		r.allow = append(r.allow, a.p)
	}
	return r, errs
}

// insideDefault reports whether p lies inside a range of the default deny
// list.
func insideDefault(p netip.Prefix) bool {
	for _, d := range defaultDeny {
		if d.prefix.Bits() <= p.Bits() && d.prefix.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// allowsLoopback returns the allow_cidrs entries that lift loopback,
// joined, "" if none.
func (r *addrRules) allowsLoopback() string {
	var out []string
	for _, a := range r.allow {
		if a.Addr().IsLoopback() {
			out = append(out, a.String())
		}
	}
	return strings.Join(out, ", ")
}

// none reports whether every address is allowed.
func (r *addrRules) none() bool { return !r.defaults && len(r.deny) == 0 }

// refusal is why the probe did not connect to an address, naming the rule.
type refusal struct {
	addr netip.Addr
	// embedded is the IPv4 address addr carries (NAT64, 6to4, SIIT) when
	// the rule matched that one; invalid otherwise.
	embedded netip.Addr
	rule     string
}

func (r *refusal) Error() string {
	a := r.addr.String()
	if r.embedded.IsValid() {
		a += " (IPv4 " + r.embedded.String() + ")"
	}
	return "address " + a + " is " + r.rule
}

// check returns why the probe must not connect to ip, nil if it may. An
// IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 address it maps, and
// one that embeds an IPv4 address a translator or tunnel would reach
// (64:ff9b::/96, 2002::/16, ::ffff:0:0:0/96) is judged as both. An
// explicit deny_cidrs entry wins over everything; then the most specific
// of the default ranges and the allow_cidrs entries that contain the
// address decides, an allow entry winning a tie.
func (r *addrRules) check(ip netip.Addr) *refusal {
	ip = ip.WithZone("").Unmap()
	cands := [2]netip.Addr{ip}
	n := 1
	if v4, ok := embeddedIPv4(ip); ok {
		cands[1], n = v4, 2
	}
	refuse := func(a netip.Addr, rule string) *refusal {
		rf := &refusal{addr: ip, rule: rule}
		if a != ip {
			rf.embedded = a
		}
		return rf
	}
	for _, a := range cands[:n] {
		for _, p := range r.deny {
			if p.Contains(a) {
				return refuse(a, "in deny_cidrs "+p.String())
			}
		}
	}
	if !r.defaults {
		return nil
	}
	for _, a := range cands[:n] {
		d, ok := matchDefault(a)
		if !ok {
			continue
		}
		allowed := false
		for _, p := range r.allow {
			if p.Contains(a) && p.Bits() >= d.prefix.Bits() {
				allowed = true
				break
			}
		}
		if !allowed {
			return refuse(a, "in the default deny list ("+d.why+")")
		}
	}
	return nil
}

// matchDefault returns the most specific range of the default deny list
// that contains a.
func matchDefault(a netip.Addr) (denyRange, bool) {
	var best denyRange
	found := false
	for _, d := range defaultDeny {
		if d.prefix.Contains(a) && (!found || d.prefix.Bits() > best.prefix.Bits()) {
			best, found = d, true
		}
	}
	return best, found
}

var (
	nat64Prefix      = netip.MustParsePrefix("64:ff9b::/96")    // RFC 6052
	sixToFourPrefix  = netip.MustParsePrefix("2002::/16")       // RFC 3056
	translatedPrefix = netip.MustParsePrefix("::ffff:0:0:0/96") // RFC 2765 (SIIT)
)

// embeddedIPv4 returns the IPv4 address an IPv6 address stands for on its
// way through a NAT64 translator, a 6to4 relay or SIIT, which would
// connect there on the probe's behalf.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	if !ip.Is6() {
		return netip.Addr{}, false
	}
	b := ip.As16()
	switch {
	case nat64Prefix.Contains(ip), translatedPrefix.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFourPrefix.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// checkAddress is the dialer's Control: it refuses to connect to an
// address the rules deny. It runs after name resolution, for every
// address the dialer tries, so a name resolving to a denied address, now
// or after a DNS change between two probes, is refused as the address is.
func (p *Probe) checkAddress(_, address string, _ syscall.RawConn) error {
	if p.rules.none() {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return err
	}
	if rf := p.rules.check(ap.Addr()); rf != nil {
		return rf
	}
	return nil
}

// proxyAddrKey marks a request's context with the address of the proxy it
// goes through (host:port), for dialGuarded.
type proxyAddrKey struct{}

// dialGuarded opens the probe's connections: through the rules, except the
// connection to the proxy the operator configured, which is not the page:
// checkProxied judged the page's address before the request was handed to
// the proxy.
func (p *Probe) dialGuarded(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout, KeepAlive: dialTimeout, Resolver: p.resolver, Control: p.checkAddress}
	if proxy, _ := ctx.Value(proxyAddrKey{}).(string); proxy != "" && proxy == addr {
		d.Control = nil
	}
	return d.DialContext(ctx, network, addr)
}

// dialTimeout bounds a connection attempt, as in Go's default transport;
// the probe's timeout bounds it first.
const dialTimeout = 30 * time.Second

// proxyFor returns the proxy req goes through, nil if none: the same
// function as the transport's.
func (p *Probe) proxyFor(req *http.Request) (*url.URL, error) {
	if p.proxy == nil {
		return nil, nil
	}
	return p.proxy(req)
}

// checkProxied judges the address of a page requested through a proxy:
// the proxy, not the probe, connects to it, so the dial sees only the
// proxy. The probe resolves the page's name itself and refuses the
// request if any of its addresses is denied; the proxy resolves it again,
// and giving the proxy its own egress rules is what closes the gap between
// the two answers.
func (p *Probe) checkProxied(ctx context.Context, host string) error {
	if p.rules.none() {
		return nil
	}
	if ip, ok := hostAddr(host); ok {
		if rf := p.rules.check(ip); rf != nil {
			return fmt.Errorf("not handed to the proxy: %w", rf)
		}
		return nil
	}
	r := p.resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if rf := p.rules.check(a); rf != nil {
			return fmt.Errorf("not handed to the proxy: %s resolves to %s: %w", host, a, rf)
		}
	}
	return nil
}

// proxyDialAddr is the address the transport dials for proxy u: its host
// and port, the scheme's default port if it names none.
func proxyDialAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443", "socks5": "1080", "socks5h": "1080"}[u.Scheme]
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// hostAddr parses a URL's host as an IP address, in the forms a browser
// reads as one (the WHATWG URL standard, https://url.spec.whatwg.org/#concept-ipv4-parser):
// besides dotted decimal, an IPv4 address in fewer than four parts, or
// with hexadecimal (0x7f) or octal (0177) parts, as 2130706433 or
// 0x7f.1. A proxy handed such a host may resolve it the same way
// (inet_aton), so the probe reads it as the address it is.
func hostAddr(host string) (netip.Addr, bool) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, true
	}
	return legacyIPv4(host)
}

// legacyIPv4 parses the IPv4 forms of inet_aton: one to four parts, each
// decimal, 0x hexadecimal or 0 octal, the last filling the bytes left.
func legacyIPv4(host string) (netip.Addr, bool) {
	host = strings.TrimSuffix(host, ".")
	parts := strings.Split(host, ".")
	if host == "" || len(parts) > 4 {
		return netip.Addr{}, false
	}
	var nums []uint64
	for _, part := range parts {
		base := 10
		digits := part
		switch {
		case len(part) > 1 && (strings.HasPrefix(part, "0x") || strings.HasPrefix(part, "0X")):
			base, digits = 16, part[2:]
			if digits == "" {
				digits = "0"
			}
		case len(part) > 1 && part[0] == '0':
			base, digits = 8, part[1:]
		}
		n, err := strconv.ParseUint(digits, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		nums = append(nums, n)
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return netip.Addr{}, false
	}
	v := uint32(last)
	for i, n := range nums[:len(nums)-1] {
		if n > 255 {
			return netip.Addr{}, false
		}
		v |= uint32(n) << (8 * (3 - i))
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b), true
}

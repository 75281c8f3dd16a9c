package linkprobe

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/influencer-exporter/influencer_exporter/collectors/linkprobe/sitefake"
	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
)

// TestAddrRulesMatch checks the matcher alone, on addresses the tests
// never send anything to.
func TestAddrRulesMatch(t *testing.T) {
	defaults := addrRules{defaults: true}
	// Addresses inside the private ranges, built from the ranges: the
	// matcher is given them, nothing is sent to them.
	var (
		priv10  = inRange("10.0.0.0/8", 0x010203)
		priv172 = inRange("172.16.0.0/12", 0x0fffff)
		priv192 = inRange("192.168.0.0/16", 0x0101)
		allowed = inRange("10.20.0.0/16", 0x0101)
		beside  = inRange("10.21.0.0/16", 0x0101)
	)
	const rfc1918 = " is in the default deny list (private, RFC 1918)"
	tests := []struct {
		rules addrRules
		addr  string
		want  string // the refusal, "" if allowed
	}{
		// The default list.
		{defaults, priv10, "address " + priv10 + rfc1918},
		{defaults, priv172, "address " + priv172 + rfc1918},
		{defaults, "172.32.0.1", ""},
		{defaults, priv192, "address " + priv192 + rfc1918},
		{defaults, "127.0.0.1", "address 127.0.0.1 is in the default deny list (loopback, RFC 1122)"},
		{defaults, "169.254.1.1", "address 169.254.1.1 is in the default deny list (link-local, RFC 3927)"},
		{defaults, "169.254.169.254", "address 169.254.169.254 is in the default deny list (cloud metadata, AWS, Google Cloud, Azure, Oracle Cloud and others)"},
		{defaults, "100.100.100.200", "address 100.100.100.200 is in the default deny list (cloud metadata, Alibaba Cloud)"},
		{defaults, "192.0.0.192", "address 192.0.0.192 is in the default deny list (cloud metadata, Oracle Cloud)"},
		{defaults, "168.63.129.16", "address 168.63.129.16 is in the default deny list (cloud platform endpoint, Azure WireServer)"},
		{defaults, "168.63.129.17", ""},
		{defaults, "100.64.0.1", "address 100.64.0.1 is in the default deny list (shared address space (carrier-grade NAT), RFC 6598)"},
		{defaults, "0.0.0.0", "address 0.0.0.0 is in the default deny list (unspecified, RFC 1122)"},
		{defaults, "224.0.0.1", "address 224.0.0.1 is in the default deny list (multicast, RFC 5771)"},
		{defaults, "255.255.255.255", "address 255.255.255.255 is in the default deny list (limited broadcast, RFC 919)"},
		{defaults, "240.0.0.1", "address 240.0.0.1 is in the default deny list (reserved, RFC 1112)"},
		{defaults, "8.8.8.8", ""},
		{defaults, "::", "address :: is in the default deny list (unspecified, RFC 4291)"},
		{defaults, "::1", "address ::1 is in the default deny list (loopback, RFC 4291)"},
		{defaults, "fd00:ec2::254", "address fd00:ec2::254 is in the default deny list (cloud metadata, AWS)"},
		{defaults, "fd20:ce::254", "address fd20:ce::254 is in the default deny list (cloud metadata, Google Cloud)"},
		{defaults, "fd12:3456::1", "address fd12:3456::1 is in the default deny list (unique local, RFC 4193)"},
		{defaults, "fe80::1%eth0", "address fe80::1 is in the default deny list (link-local, RFC 4291)"},
		{defaults, "ff02::1", "address ff02::1 is in the default deny list (multicast, RFC 4291)"},
		{defaults, "2606:4700::1111", ""},
		// IPv4 in IPv6: mapped is read as IPv4; translated, NAT64 and
		// 6to4 are judged as the IPv4 address they reach too;
		// IPv4-compatible is refused whole.
		{defaults, "::ffff:" + priv10, "address " + priv10 + rfc1918},
		{defaults, "::ffff:169.254.169.254", "address 169.254.169.254 is in the default deny list (cloud metadata, AWS, Google Cloud, Azure, Oracle Cloud and others)"},
		{defaults, "::ffff:8.8.8.8", ""},
		{defaults, "::ffff:0:a9fe:a9fe", "address ::ffff:0:a9fe:a9fe (IPv4 169.254.169.254) is in the default deny list (cloud metadata, AWS, Google Cloud, Azure, Oracle Cloud and others)"},
		{defaults, "64:ff9b::a00:1", "address 64:ff9b::a00:1 (IPv4 " + inRange("10.0.0.0/8", 1) + ")" + rfc1918},
		{defaults, "64:ff9b::808:808", ""},
		{defaults, "2002:7f00:1::1", "address 2002:7f00:1::1 (IPv4 127.0.0.1) is in the default deny list (loopback, RFC 1122)"},
		{defaults, "::7f00:1", "address ::7f00:1 is in the default deny list (IPv4-compatible IPv6 (deprecated), RFC 4291)"},
		{defaults, "64:ff9b:1::1", "address 64:ff9b:1::1 is in the default deny list (local-use IPv4/IPv6 translation, RFC 8215)"},

		// allow_cidrs lifts a default range it lies in, the most specific
		// range deciding: a metadata address stays refused under a wider
		// allow.
		{rules("", "10.20.0.0/16"), allowed, ""},
		{rules("", "10.20.0.0/16"), beside, "address " + beside + rfc1918},
		{rules("", "10.20.0.0/16"), "::ffff:" + allowed, ""},
		{rules("", "10.20.0.0/16"), "64:ff9b::a14:101", ""},
		{rules("", "127.0.0.0/8", "::1/128"), "127.0.0.2", ""},
		{rules("", "127.0.0.0/8", "::1/128"), "::1", ""},
		{rules("", "169.254.0.0/16"), "169.254.1.1", ""},
		{rules("", "169.254.0.0/16"), "169.254.169.254", "address 169.254.169.254 is in the default deny list (cloud metadata, AWS, Google Cloud, Azure, Oracle Cloud and others)"},
		{rules("", "169.254.169.254/32"), "169.254.169.254", ""},
		{rules("", "100.64.0.0/10"), "100.100.100.200", "address 100.100.100.200 is in the default deny list (cloud metadata, Alibaba Cloud)"},
		// deny_cidrs wins over allow_cidrs, and applies to public
		// addresses and embedded ones too.
		{rules("127.0.0.2/32", "127.0.0.0/8"), "127.0.0.2", "address 127.0.0.2 is in deny_cidrs 127.0.0.2/32"},
		{rules("127.0.0.2/32", "127.0.0.0/8"), "127.0.0.3", ""},
		{rules("203.0.113.0/24"), "203.0.113.9", "address 203.0.113.9 is in deny_cidrs 203.0.113.0/24"},
		{rules("203.0.113.0/24"), "64:ff9b::cb00:7109", "address 64:ff9b::cb00:7109 (IPv4 203.0.113.9) is in deny_cidrs 203.0.113.0/24"},
		// deny_defaults: false leaves deny_cidrs alone.
		{addrRules{}, "169.254.169.254", ""},
		{addrRules{deny: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, priv10, "address " + priv10 + " is in deny_cidrs 10.0.0.0/8"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			got := ""
			if rf := tt.rules.check(netip.MustParseAddr(tt.addr)); rf != nil {
				got = rf.Error()
			}
			if got != tt.want {
				t.Errorf("check(%s) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

// rules builds addrRules with the default list, deny_cidrs deny (a
// comma-separated list, "" for none) and allow_cidrs allow.
func rules(deny string, allow ...string) addrRules {
	r := addrRules{defaults: true}
	for _, d := range strings.Split(deny, ",") {
		if d != "" {
			r.deny = append(r.deny, netip.MustParsePrefix(d))
		}
	}
	for _, a := range allow {
		r.allow = append(r.allow, netip.MustParsePrefix(a))
	}
	return r
}

func TestHostAddr(t *testing.T) {
	for _, tt := range []struct{ host, want string }{
		{"127.0.0.2", "127.0.0.2"},
		{"2130706434", "127.0.0.2"},
		{"0x7f000002", "127.0.0.2"},
		{"0x7f.2", "127.0.0.2"},
		{"127.2", "127.0.0.2"},
		{"0177.0.0.02", "127.0.0.2"},
		{"127.0.0.2.", "127.0.0.2"},
		{"169.254.43518", "169.254.169.254"},
		{"[::1]", "::1"},
		{"::ffff:a9fe:a9fe", "::ffff:169.254.169.254"},
		{"shop.example", ""},
		{"cafe.be", ""},
		{"1.2.3.4.5", ""},
		{"256.0.0.1", ""},
		{"1.2.3.256", ""},
		{"08.1.1.1", ""},
		{"4294967296", ""},
		{"", ""},
	} {
		got := ""
		if a, ok := hostAddr(tt.host); ok {
			got = a.String()
		}
		if got != tt.want {
			t.Errorf("hostAddr(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

// fakeDNS answers A queries for the names in its map, over a pipe: a
// resolver that gives a test's names the addresses it wants, through the
// probe's real dialer. Other names do not exist; AAAA queries get no
// answer.
func fakeDNS(t *testing.T, names map[string]string) *net.Resolver {
	t.Helper()
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		client, server := net.Pipe()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer server.Close()
			// Not a PacketConn: the resolver speaks DNS over TCP,
			// each message behind its length.
			var n [2]byte
			if _, err := io.ReadFull(server, n[:]); err != nil {
				return
			}
			q := make([]byte, binary.BigEndian.Uint16(n[:]))
			if _, err := io.ReadFull(server, q); err != nil {
				return
			}
			resp := answerDNS(q, names)
			binary.BigEndian.PutUint16(n[:], uint16(len(resp)))
			_, _ = server.Write(append(n[:], resp...))
		}()
		return client, nil
	}}
}

// answerDNS answers the one question of query q (RFC 1035, section 4).
func answerDNS(q []byte, names map[string]string) []byte {
	// The question: labels from offset 12, then type and class.
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	end := i + 5
	qtype := binary.BigEndian.Uint16(q[i+1:])
	name := strings.ToLower(strings.Join(labels, "."))
	addr, known := names[name]
	// ID, then QR, AA, RD as asked, RA; NXDOMAIN for an unknown name.
	resp := append([]byte{}, q[:2]...)
	flags := uint16(0x8400) | binary.BigEndian.Uint16(q[2:])&0x0100 | 0x0080
	if !known {
		flags |= 3
	}
	resp = binary.BigEndian.AppendUint16(resp, flags)
	ans := uint16(0)
	if known && qtype == 1 {
		ans = 1
	}
	resp = binary.BigEndian.AppendUint16(resp, 1)
	resp = binary.BigEndian.AppendUint16(resp, ans)
	resp = append(resp, 0, 0, 0, 0)
	resp = append(resp, q[12:end]...)
	if ans == 1 {
		ip := netip.MustParseAddr(addr).As4()
		resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
		resp = append(resp, ip[:]...)
	}
	return resp
}

// TestResolvedAddressChecked: a name is judged by the address it resolves
// to, at dial time, through the probe's own dialer: shop.test resolves to
// the site on 127.0.0.1, which is allowed, and evil.test to 127.0.0.2,
// which is not, and whose listener must see no connection.
func TestResolvedAddressChecked(t *testing.T) {
	site := sitefake.New()
	siteAddr := strings.TrimPrefix(exportertest.Serve(t, site), "http://")
	deniedAddr, conns := listenCounting(t, "127.0.0.2", false)
	_, sitePort, _ := net.SplitHostPort(siteAddr)
	_, deniedPort, _ := net.SplitHostPort(deniedAddr)

	env, p := build(t, nil, `allow_cidrs: ["127.0.0.1/32"]`, "")
	p.resolver = fakeDNS(t, map[string]string{"shop.test": "127.0.0.1", "evil.test": "127.0.0.2"})
	env.Links.Publish("stub", []exporter.PublishedLink{
		{Campaign: "c", Creator: "a", Provider: "bitly", ID: "bit.ly/a", URL: "http://shop.test:" + sitePort + "/p"},
		{Campaign: "c", Creator: "b", Provider: "bitly", ID: "bit.ly/b", URL: "http://evil.test:" + deniedPort + "/p"},
	})
	samples, err := env.Poll(t, "linkprobe")
	if err != nil {
		t.Fatal(err)
	}
	got := outcomes(samples)
	if got["bitly/bit.ly/a"].up != 1 || site.Hits("/p") != 1 {
		t.Errorf("shop.test: up %g, %d hits; want up, 1 hit (the fake DNS must answer)", got["bitly/bit.ly/a"].up, site.Hits("/p"))
	}
	if got["bitly/bit.ly/b"].up != 0 {
		t.Error("evil.test is up")
	}
	const want = "address 127.0.0.2 is in the default deny list (loopback, RFC 1122)"
	if r := p.Findings()["bitly/bit.ly/b"]; !strings.Contains(r, "dial tcp 127.0.0.2:"+deniedPort+": "+want) {
		t.Errorf("reason = %q, want it to name the address and the rule", r)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("%d connections reached 127.0.0.2", n)
	}
}

// proxyConfig is baseConfig with a proxy in the probe's http_config.
const proxyConfig = `
collectors:
  - type: linkprobe
    interval: 1m
    http_config: {proxy_url: "http://%p"}
    options:
%s
  - name: stub
    type: stub
    interval: 1m
`

// TestProxyChecksThePage: through a proxy, the probe connects to the proxy
// only, so it judges the page's own address before handing the request
// over: a name by what it resolves to, an address in any form a proxy
// may read as one. The proxy, on an address the rules refuse (127.0.0.3),
// is the operator's and is reached; the pages refused never reach it.
func TestProxyChecksThePage(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	proxyLn, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Fatalf("cannot listen on 127.0.0.3: %v", err)
	}
	proxy := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.String())
		mu.Unlock()
	}))
	proxy.Listener.Close()
	proxy.Listener = proxyLn
	proxy.Start()
	t.Cleanup(proxy.Close)
	deniedAddr, conns := listenCounting(t, "127.0.0.2", false)
	_, deniedPort, _ := net.SplitHostPort(deniedAddr)

	config := strings.Replace(proxyConfig, "%p", proxyLn.Addr().String(), 1)
	env, p := buildConfig(t, nil, config, `allow_cidrs: ["127.0.0.1/32"]`, "")
	p.resolver = fakeDNS(t, map[string]string{"shop.test": "127.0.0.1", "evil.test": "127.0.0.2"})
	links := map[string]string{
		"bit.ly/ok":       "http://shop.test/p",
		"bit.ly/ip":       "http://" + deniedAddr + "/p",
		"bit.ly/name":     "http://evil.test:" + deniedPort + "/p",
		"bit.ly/decimal":  "http://2130706434:" + deniedPort + "/p",
		"bit.ly/nxdomain": "http://gone.test/p",
	}
	var published []exporter.PublishedLink
	for id, u := range links {
		published = append(published, exporter.PublishedLink{Campaign: "c", Creator: "a", Provider: "bitly", ID: id, URL: u})
	}
	env.Links.Publish("stub", published)
	samples, err := env.Poll(t, "linkprobe")
	if err != nil {
		t.Fatal(err)
	}
	got := outcomes(samples)
	if got["bitly/bit.ly/ok"].up != 1 {
		t.Errorf("shop.test through the proxy: %s", p.Findings()["bitly/bit.ly/ok"])
	}
	for id, want := range map[string]string{
		"bit.ly/ip":       "not handed to the proxy: address 127.0.0.2 is in the default deny list (loopback, RFC 1122)",
		"bit.ly/name":     "not handed to the proxy: evil.test resolves to 127.0.0.2: address 127.0.0.2 is in the default deny list (loopback, RFC 1122)",
		"bit.ly/decimal":  "not handed to the proxy: address 127.0.0.2 is in the default deny list (loopback, RFC 1122)",
		"bit.ly/nxdomain": "dns: lookup gone.test",
	} {
		if got["bitly/"+id].up != 0 || !strings.Contains(p.Findings()["bitly/"+id], want) {
			t.Errorf("%s: up %g, reason %q; want down, %q", id, got["bitly/"+id].up, p.Findings()["bitly/"+id], want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"HEAD http://shop.test/p"}; strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("the proxy saw %q, want %q", seen, want)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("%d connections reached 127.0.0.2", n)
	}
}

// TestLoopbackAllowWarns: a config that allows loopback without running
// the sandbox, as one copied from config.yaml without its sandbox block
// would, logs a warning; the sandbox's own config does not.
func TestLoopbackAllowWarns(t *testing.T) {
	const probe = "collectors:\n  - type: linkprobe\n    options:\n      %s\n"
	const sandbox = "sandbox:\n  servers:\n    destinations: 127.0.0.1:19405\n"
	for _, tt := range []struct {
		name, config string
		warn         bool
	}{
		{"loopback without the sandbox", strings.Replace(probe, "%s", allowLoopback, 1), true},
		{"loopback for the sandbox", sandbox + strings.Replace(probe, "%s", allowLoopback, 1), false},
		{"an internal shop", strings.Replace(probe, "%s", `allow_cidrs: ["10.20.0.0/16"]`, 1), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := exporter.ParseConfig("test.yml", []byte(tt.config))
			if err != nil {
				t.Fatal(err)
			}
			var logs exportertest.SyncBuffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			if _, err := exporter.Build(cfg, exporter.Deps{Logger: logger, Metrics: exporter.NewAPIMetrics(), Links: exporter.NewLinkSet()}); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(logs.String(), "allow_cidrs lets redirects reach this machine's own services"); got != tt.warn {
				t.Errorf("warned: %v, want %v:\n%s", got, tt.warn, logs.String())
			}
		})
	}
}

// BenchmarkAddrRulesCheck measures the check every dial makes, on a public
// address (the common case: every range is tried) and on embedded IPv4.
func BenchmarkAddrRulesCheck(b *testing.B) {
	r := rules("203.0.113.0/24", "10.20.0.0/16", "127.0.0.0/8")
	for _, addr := range []string{"93.184.216.34", "2606:4700::1111", "64:ff9b::a14:101"} {
		ip := netip.MustParseAddr(addr)
		b.Run(addr, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if rf := r.check(ip); rf != nil {
					b.Fatal(rf)
				}
			}
		})
	}
}

// inRange returns the address n after the first of the IPv4 prefix.
func inRange(prefix string, n uint32) string {
	first := netip.MustParsePrefix(prefix).Addr().As4()
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], binary.BigEndian.Uint32(first[:])+n)
	return netip.AddrFrom4(b).String()
}

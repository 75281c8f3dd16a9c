package linkprobe

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/internal/fuzzci"
)

// fuzzSecret is the value of a credential query parameter in the fuzzed
// Locations: findings and the /links page must never show it.
const fuzzSecret = "s3cr3tV4lue"

// hops answers a probe with what the fuzz input says: the short link
// /a with status first and Location loc1, every other path of either
// host with status then and Location loc2.
type hops struct {
	mu          sync.Mutex
	first, then int
	loc1, loc2  string
}

func (h *hops) set(first, then uint16, loc1, loc2 string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	// WriteHeader takes three-digit codes only.
	h.first, h.then = 100+int(first)%900, 100+int(then)%900
	h.loc1, h.loc2 = loc1, loc2
}

func (h *hops) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	code, loc := h.then, h.loc2
	if r.Host == "short.test" && r.URL.Path == "/a" {
		code, loc = h.first, h.loc1
	}
	h.mu.Unlock()
	if loc != "" {
		w.Header().Set("Location", loc)
	}
	w.WriteHeader(code)
}

// FuzzProbe follows a redirect chain whose statuses and Location headers
// are the fuzz input, for a link whose shortener's API reports the
// destination dest: a round must end, with samples a scrape can export,
// and never show the value of a credential parameter of a Location.
func FuzzProbe(f *testing.F) {
	h := &hops{}
	n := &testNet{hosts: map[string]string{}}
	for _, host := range []string{"short.test", "shop.test"} {
		srv := httptest.NewServer(h)
		f.Cleanup(srv.Close)
		n.hosts[host] = srv.Listener.Addr().String()
	}
	cred := "?access_token=" + fuzzSecret + "&utm_source=alice"
	for _, s := range []struct {
		first, then uint16
		loc1, loc2  string
		dest        string
	}{
		{301, 200, "http://shop.test/p?utm_source=alice", "", "http://shop.test/p?utm_source=alice"},
		{302, 302, "/b", "http://shop.test/p" + cred, ""},
		{302, 301, "http://shop.test/c", "../p?utm_source=alice#frag", ""},
		{307, 307, "http://shop.test/loop", "http://shop.test/loop", ""},
		{301, 301, "http://shop.test/1", "/2" + cred, ""},
		{302, 200, "itms-apps://apps.example/app", "", ""},
		{302, 200, "http://[::1]:namedport/x", "", ""},
		{302, 200, "https://shop.test/p", "", ""},
		{302, 200, "http://user:" + fuzzSecret + "@shop.test/p" + cred, "", ""},
		{405, 404, "", "", "http://shop.test/dest" + cred},
		{200, 200, "", "", "http://shop.test/other"},
		{429, 200, "", "", ""},
		{302, 404, "http://elsewhere.example/p", "", ""},
		{303, 200, "http://shop.test/%zz", "", "%zz"},
		{302, 200, "http://short.test/a", "", ""},
	} {
		f.Add(s.first, s.then, s.loc1, s.loc2, s.dest)
	}
	f.Fuzz(func(t *testing.T, first, then uint16, loc1, loc2, dest string) {
		h.set(first, then, loc1, loc2)
		env, p := build(t, n, "timeout: 2s\nmax_redirects: 5", "")
		env.Links.Publish("stub", []exporter.PublishedLink{{
			Campaign: "spring", Creator: "alice", Provider: "bitly", ID: "bit.ly/a", URL: "http://short.test/a",
			Destination: dest, Expect: &exporter.Expect{Host: "shop.test", UTM: map[string]string{"utm_source": "alice"}},
		}})
		type result struct {
			samples []exporter.Sample
			err     error
		}
		done := make(chan result, 1)
		go func() {
			s, err := env.Poll(t, "linkprobe")
			done <- result{s, err}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(time.Minute):
			t.Fatal("probe round still running after a minute")
		}
		if r.err != nil && !exporter.IsPartial(r.err) {
			t.Fatalf("poll: %v", r.err)
		}
		if msg := fuzzci.CheckSamples(r.samples); msg != "" {
			t.Fatal(msg)
		}
		if !onlyAsCredential(fuzzSecret, loc1, loc2, dest) {
			return
		}
		shown := fmt.Sprintf("%v %+v", p.Findings(), p.LinkDetails())
		if r.err != nil {
			shown += r.err.Error()
		}
		if strings.Contains(shown, fuzzSecret) {
			t.Fatalf("a credential parameter's value is shown: %s", shown)
		}
	})
}

// onlyAsCredential reports whether secret occurs in the inputs, if at
// all, only as the value of an access_token query parameter or as the
// password of user info.
func onlyAsCredential(secret string, inputs ...string) bool {
	for _, in := range inputs {
		for _, sep := range []string{"?", "&"} {
			in = strings.ReplaceAll(in, sep+"access_token="+secret, sep+"access_token=")
		}
		in = strings.ReplaceAll(in, ":"+secret+"@", ":@")
		if strings.Contains(in, secret) {
			return false
		}
	}
	return true
}

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/influencer-exporter/influencer_exporter/exporter"
	"github.com/influencer-exporter/influencer_exporter/internal/browser"
)

// TestLandingPageInBrowser looks at the landing page as a person does: the
// sandbox runs until the link probe finds chloe's link broken, headless
// Chromium loads "/", and the page it shows opens with the broken link,
// naming its campaign and creator and linking to the link's row on the
// links page, before the collectors table.
func TestLandingPageInBrowser(t *testing.T) {
	// The browser first: without one there is nothing to start the
	// sandbox for.
	chromium := browser.Path(t)
	p := startExporter(t, sandboxConfig(t))

	const campaign, creator, provider, link = "spring-launch", "chloe", "shortio", "short.gy/chloe-spring"
	chloe := linkUpKey(campaign, creator, provider, link)
	waitFor(t, "the link probe to find chloe's link broken", func() bool {
		_, s := p.scrape(t)
		v, ok := s[chloe]
		return ok && v == 0
	})

	url := "http://" + p.addr + "/"
	dom, err := browser.DumpDOM(context.Background(), chromium, url)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := browser.Parse(dom)
	if err != nil {
		t.Fatal(err)
	}
	att, collectors := doc.ByID("attention"), doc.ByID("collectors")
	if att == nil || collectors == nil {
		t.Fatalf("the page has no attention section (%t) or collectors table (%t):\n%s", att != nil, collectors != nil, dom)
	}
	if att.Pos > collectors.Pos {
		t.Error("the attention section comes after the collectors table")
	}
	href := "links#" + exporter.LinkAnchor(provider, link)
	var row *browser.Node
	for _, tr := range att.All("tr") {
		for _, a := range tr.All("a") {
			if a.Attr("href") == href {
				row = tr
			}
		}
	}
	if row == nil {
		t.Fatalf("the attention section has no link to %s: %q", href, att.Text())
	}
	text := row.Text()
	// The sandbox's shop page answers 404: the row says why.
	for _, want := range []string{campaign, creator, provider, link, "404"} {
		if !strings.Contains(text, want) {
			t.Errorf("the broken link's row does not name %s: %q", want, text)
		}
	}
	if strings.Contains(att.Text(), "Nothing needs attention") {
		t.Errorf("the attention section says all is well beside a broken link: %q", att.Text())
	}

	if !strings.Contains(text, "ago") {
		t.Errorf("the broken link's row does not say since when: %q", text)
	}

	// The link leads to the link's row on /links, with its chain.
	dom, err = browser.DumpDOM(context.Background(), chromium, "http://"+p.addr+"/"+href)
	if err != nil {
		t.Fatal(err)
	}
	if doc, err = browser.Parse(dom); err != nil {
		t.Fatal(err)
	}
	linkRow := doc.ByID(exporter.LinkAnchor(provider, link))
	if linkRow == nil {
		t.Fatalf("/links has no row with id %s", exporter.LinkAnchor(provider, link))
	}
	for _, want := range []string{campaign, creator, "broken", "404"} {
		if !strings.Contains(linkRow.Text(), want) {
			t.Errorf("chloe's row on /links does not say %s: %q", want, linkRow.Text())
		}
	}
	if !strings.Contains(doc.Text(), "HEAD") {
		t.Error("/links shows no hop of chloe's chain")
	}
}

// TestLinksEndpoints reads the sandbox's links as a script does: the JSON
// list filtered to the broken ones, and one probe on demand.
func TestLinksEndpoints(t *testing.T) {
	p := startExporter(t, sandboxConfig(t))
	const link = "short.gy/chloe-spring"
	waitFor(t, "the link probe to find chloe's link broken", func() bool {
		_, s := p.scrape(t)
		v, ok := s[linkUpKey("spring-launch", "chloe", "shortio", link)]
		return ok && v == 0
	})

	code, body := p.get(t, "/links?state=broken&format=json")
	if code != http.StatusOK {
		t.Fatalf("/links?format=json: HTTP %d: %s", code, body)
	}
	var broken []exporter.LinkDetail
	if err := json.Unmarshal([]byte(body), &broken); err != nil {
		t.Fatal(err)
	}
	if len(broken) != 1 || broken[0].Link != link || broken[0].Creator != "chloe" {
		t.Fatalf("broken links = %+v, want chloe's alone", broken)
	}
	if d := broken[0]; len(d.Hops) < 2 || d.Since.IsZero() || d.ProbedAt.IsZero() || d.Status != http.StatusNotFound {
		t.Errorf("chloe's link: %d hops, since %v, probed %v, status %d; want its chain to the 404", len(d.Hops), d.Since, d.ProbedAt, d.Status)
	}
	code, body = p.get(t, "/links?format=json")
	var all []exporter.LinkDetail
	if err := json.Unmarshal([]byte(body), &all); code != http.StatusOK || err != nil {
		t.Fatalf("/links?format=json: HTTP %d, %v", code, err)
	}
	if len(all) != len(sandboxLinks) {
		t.Errorf("/links lists %d links, want the sandbox's %d", len(all), len(sandboxLinks))
	}

	resp, err := http.Post("http://"+p.addr+"/links/probe?format=json&link="+url.QueryEscape(link), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d exporter.LinkDetail
	if err := json.NewDecoder(resp.Body).Decode(&d); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("POST /links/probe: HTTP %d, %v", resp.StatusCode, err)
	}
	if d.Link != link || d.State != exporter.LinkStateBroken || d.Status != http.StatusNotFound {
		t.Errorf("probe now: %s %s %d, want chloe's link broken with 404", d.Link, d.State, d.Status)
	}
}

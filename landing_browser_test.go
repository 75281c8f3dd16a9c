package main

import (
	"context"
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
}

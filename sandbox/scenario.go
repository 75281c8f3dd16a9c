package sandbox

import (
	"github.com/influencer-exporter/influencer_exporter/collectors/bitly/bitlyfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/dub/dubfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/rebrandly/rebrandlyfake"
	"github.com/influencer-exporter/influencer_exporter/collectors/shortio/shortiofake"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// The scripted campaign. config.yaml names the same links; a test checks
// the two agree. Rates differ per creator so the dashboards have something
// to rank: alice drives most of the real clicks; gia's links are barely
// clicked (her likes are bought, see social.go); ivan's get the most
// clicks of all, from bots: web analytics see almost none of them as
// visits (see referrals.go).

// scenarioLink is one tracking link of the sandbox campaign.
type scenarioLink struct {
	provider string // fake that serves it
	id       string // short link without scheme
	campaign string
	creator  string
	product  string   // destination path /p/<product>
	tags     []string // provider tags, for creators configured by tag
	clicks   fakeapi.Growth
}

// brokenProduct is the destination that starts answering 404 after
// SandboxConfig.BreakAfter: chloe's link breaks mid-campaign.
const brokenProduct = "night-serum"

var scenario = []scenarioLink{
	// spring-launch: one creator per shortener.
	{provider: "bitly", id: "bit.ly/alice-spring", campaign: "spring-launch", creator: "alice", product: "spring-kit", clicks: fakeapi.Growth{Base: 1200, PerMinute: 12}},
	{provider: "dub", id: "dub.sh/bruno-spring", campaign: "spring-launch", creator: "bruno", product: "spring-kit", clicks: fakeapi.Growth{Base: 640, PerMinute: 7}},
	{provider: "shortio", id: "short.gy/chloe-spring", campaign: "spring-launch", creator: "chloe", product: brokenProduct, clicks: fakeapi.Growth{Base: 410, PerMinute: 5}},
	{provider: "rebrandly", id: "rebrand.ly/dev-spring", campaign: "spring-launch", creator: "dev", product: "spring-kit", clicks: fakeapi.Growth{Base: 95, PerMinute: 2}},

	// summer-drop: emma and farid are configured by tag, not link by link.
	{provider: "bitly", id: "bit.ly/emma-reel", campaign: "summer-drop", creator: "emma", product: "sun-cap", tags: []string{"emma-summer"}, clicks: fakeapi.Growth{Base: 300, PerMinute: 9}},
	{provider: "bitly", id: "bit.ly/emma-story", campaign: "summer-drop", creator: "emma", product: "sun-cap", tags: []string{"emma-summer"}, clicks: fakeapi.Growth{Base: 80, PerMinute: 3}},
	// gia's bought likes bring almost no clicks. Her views are flat, so
	// her clicks per 1,000 views only grow: faster clicks for her, or
	// slower ones for farid, whose views climb, would put farid under
	// half the campaign's median within two hours and set off
	// InfluencerAttentionWithoutAction for him (story_test.go checks).
	{provider: "dub", id: "dub.sh/farid-tiktok", campaign: "summer-drop", creator: "farid", product: "beach-bag", tags: []string{"farid-summer"}, clicks: fakeapi.Growth{Base: 400, PerMinute: 12}},
	{provider: "rebrandly", id: "rebrand.ly/gia-summer", campaign: "summer-drop", creator: "gia", product: "beach-bag", clicks: fakeapi.Growth{Base: 60, PerMinute: 0.15}},
	{provider: "shortio", id: "short.gy/gia-summer", campaign: "summer-drop", creator: "gia", product: "beach-bag", clicks: fakeapi.Growth{Base: 20, PerMinute: 0.05}},

	// back-to-school: slow starters, and ivan's bots.
	{provider: "bitly", id: "bit.ly/hana-bts", campaign: "back-to-school", creator: "hana", product: "backpack", clicks: fakeapi.Growth{Base: 40, PerMinute: 1.5}},
	{provider: "dub", id: "dub.sh/ivan-bts", campaign: "back-to-school", creator: "ivan", product: "backpack", clicks: fakeapi.Growth{Base: 340, PerMinute: 30}},
	{provider: "shortio", id: "short.gy/jade-bts", campaign: "back-to-school", creator: "jade", product: "pencil-case", clicks: fakeapi.Growth{Base: 75, PerMinute: 3}},
}

// linksOf calls add with every scenario link of a shortener and where it
// leads.
func linksOf(provider string, seed Seed, add func(l scenarioLink, destination string)) {
	for _, l := range scenario {
		if l.provider == provider {
			add(l, seed.Destination(l.product, l.campaign, l.creator))
		}
	}
}

func init() {
	register("bitly", func(seed Seed) (Fake, error) {
		f := bitlyfake.New(BitlyToken, nil)
		linksOf("bitly", seed, func(l scenarioLink, dest string) {
			f.AddLink(bitlyfake.Link{ID: l.id, Destination: dest, Tags: l.tags, Clicks: l.clicks})
		})
		return Fake{Handler: f, Faults: &f.Faults}, nil
	})
	register("dub", func(seed Seed) (Fake, error) {
		f := dubfake.New(DubToken, nil)
		linksOf("dub", seed, func(l scenarioLink, dest string) {
			f.AddLink(dubfake.Link{ID: l.id, Destination: dest, Tags: l.tags, Clicks: l.clicks})
		})
		return Fake{Handler: f, Faults: &f.Faults}, nil
	})
	register("shortio", func(seed Seed) (Fake, error) {
		f := shortiofake.New(ShortioToken, nil)
		linksOf("shortio", seed, func(l scenarioLink, dest string) {
			f.AddLink(shortiofake.Link{ID: l.id, Destination: dest, Tags: l.tags, Clicks: l.clicks})
		})
		return Fake{Handler: f, Faults: &f.Faults}, nil
	})
	register("rebrandly", func(seed Seed) (Fake, error) {
		f := rebrandlyfake.New(RebrandlyToken, nil)
		linksOf("rebrandly", seed, func(l scenarioLink, dest string) {
			f.AddLink(rebrandlyfake.Link{ID: l.id, Destination: dest, Tags: l.tags, Clicks: l.clicks})
		})
		return Fake{Handler: f, Faults: &f.Faults}, nil
	})
}

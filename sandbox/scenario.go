package sandbox

import "github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"

// The scripted campaign. config.yaml names the same links; a test checks
// the two agree. Rates differ per creator so the dashboards have something
// to rank: alice drives most clicks, ivan almost none.

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
	{provider: "dub", id: "dub.sh/farid-tiktok", campaign: "summer-drop", creator: "farid", product: "beach-bag", tags: []string{"farid-summer"}, clicks: fakeapi.Growth{Base: 150, PerMinute: 6}},
	{provider: "rebrandly", id: "rebrand.ly/gia-summer", campaign: "summer-drop", creator: "gia", product: "beach-bag", clicks: fakeapi.Growth{Base: 60, PerMinute: 4}},
	{provider: "shortio", id: "short.gy/gia-summer", campaign: "summer-drop", creator: "gia", product: "beach-bag", clicks: fakeapi.Growth{Base: 20, PerMinute: 1}},

	// back-to-school: slow starters.
	{provider: "bitly", id: "bit.ly/hana-bts", campaign: "back-to-school", creator: "hana", product: "backpack", clicks: fakeapi.Growth{Base: 40, PerMinute: 1.5}},
	{provider: "dub", id: "dub.sh/ivan-bts", campaign: "back-to-school", creator: "ivan", product: "backpack", clicks: fakeapi.Growth{Base: 12, PerMinute: 0.5}},
	{provider: "shortio", id: "short.gy/jade-bts", campaign: "back-to-school", creator: "jade", product: "pencil-case", clicks: fakeapi.Growth{Base: 75, PerMinute: 3}},
}

package sandbox

import (
	_ "embed"

	"github.com/influencer-exporter/influencer_exporter/collectors/ga4/ga4fake"
	"github.com/influencer-exporter/influencer_exporter/collectors/plausible/plausiblefake"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
)

// ga4Key is the sandbox's GA4 service-account key, the same file
// config.yaml gives the ga4 collector: the fake trusts its signature.
//
//go:embed tokens/ga4.json
var ga4Key []byte

// Each creator's links carry utm_content=<creator>; visitors from those
// links arrive at its own rate per platform. Plausible and GA4 see the
// same shop, each through its own eyes.
//
// Most creators bring 0.4 to 0.8 visitors per click (see scenario.go for
// the clicks). ivan's clicks are bots: they follow the link but never run
// the analytics script. InfluencerClicksWithoutVisits compares, over 6h,
// each creator's visitors per click with the campaign's median, taking the
// larger of Plausible's and GA4's counts (here Plausible's):
//
//	hana  1 visitor a minute   / 1.5 clicks = 0.67
//	jade  2 visitors a minute  / 3 clicks   = 0.67
//	ivan  0.5 visitor a minute / 30 clicks  = 0.017
//
// The median is 0.67, a fifth of it 0.13, and ivan is far under it. His
// 100th click since the start comes after 100 / 30 = 3m20s, so the
// condition holds from about the fourth minute, and the alert fires after
// its 30m, about 35 minutes after the start. hana and jade, at the median,
// never do.
var referralScenario = []struct {
	creator, source string
	visitors        fakeapi.Growth
}{
	{"alice", "instagram", fakeapi.Growth{Base: 900, PerMinute: 9}},
	{"bruno", "instagram", fakeapi.Growth{Base: 420, PerMinute: 5}},
	{"chloe", "instagram", fakeapi.Growth{Base: 300, PerMinute: 4}},
	{"dev", "instagram", fakeapi.Growth{Base: 150, PerMinute: 1.5}},
	{"emma", "youtube", fakeapi.Growth{Base: 260, PerMinute: 6}},
	{"farid", "tiktok", fakeapi.Growth{Base: 210, PerMinute: 5}},
	{"gia", "instagram", fakeapi.Growth{Base: 60, PerMinute: 0.15}},
	{"hana", "youtube", fakeapi.Growth{Base: 40, PerMinute: 1}},
	{"ivan", "tiktok", fakeapi.Growth{Base: 20, PerMinute: 0.5}},
	{"jade", "instagram", fakeapi.Growth{Base: 60, PerMinute: 2}},
}

func init() {
	register("plausible", func(Seed) (Fake, error) {
		f := plausiblefake.New(PlausibleToken, nil)
		for _, r := range referralScenario {
			f.AddTraffic("utm_content", r.creator, r.source, r.visitors)
		}
		return Fake{Handler: f, Faults: &f.Faults}, nil
	})
	register("ga4", func(Seed) (Fake, error) {
		f := ga4fake.New(GA4Property, nil)
		if err := f.TrustServiceAccount(ga4Key); err != nil {
			return Fake{}, err
		}
		for _, r := range referralScenario {
			// GA4 counts active users, a little below Plausible's visitors.
			f.AddTraffic("utm_content", r.creator, r.source, fakeapi.Growth{Base: r.visitors.Base * 9 / 10, PerMinute: r.visitors.PerMinute * 0.9})
		}
		return Fake{Handler: f, Faults: &f.Faults}, nil
	})
}

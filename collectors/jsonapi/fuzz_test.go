package jsonapi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/influencer-exporter/influencer_exporter/collectors/jsonapi/jsonfake"
	"github.com/influencer-exporter/influencer_exporter/exporter/exportertest"
	"github.com/influencer-exporter/influencer_exporter/fakes/fakeapi"
	"github.com/influencer-exporter/influencer_exporter/internal/fuzzci"
)

// FuzzPoll answers one page of the affiliate network's statistics with the
// fuzz input, read by the items, creator, cursor and values paths of the
// usual config: see fuzzci.FuzzPoll.
func FuzzPoll(f *testing.F) {
	clock := exportertest.NewManualClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	fake := jsonfake.New(token, clock.Now)
	fake.SetAuth(jsonfake.Auth{Type: "bearer"})
	for _, p := range []jsonfake.Partner{
		{Campaign: "spring", Handle: "alice_ig", ShortURL: "aff.example/alice", Coupon: "ALICE10", Clicks: fakeapi.Growth{Base: 100, PerMinute: 2}, Orders: fakeapi.Growth{Base: 4}, RevenueCents: fakeapi.Growth{Base: 12345}},
		{Campaign: "spring", Handle: "bob", ShortURL: "aff.example/bob", Coupon: "BOB5", Clicks: fakeapi.Growth{Base: 50, PerMinute: 0.5}, Orders: fakeapi.Growth{Base: 1, PerMinute: 0.1}, RevenueCents: fakeapi.Growth{Base: 1999}},
		{Campaign: "spring", Handle: "zed", ShortURL: "aff.example/zed", Coupon: "ZED", Clicks: fakeapi.Growth{Base: 999}, Orders: fakeapi.Growth{Base: 9}},
		{Campaign: "summer", Handle: "carol", ShortURL: "aff.example/carol", Coupon: "CAROL", Clicks: fakeapi.Growth{Base: 30}, Orders: fakeapi.Growth{Base: 2}, RevenueCents: fakeapi.Growth{Base: 500}},
	} {
		fake.AddPartner(p)
	}
	clock.Advance(30 * time.Minute)
	fuzzci.FuzzPoll(f, fuzzci.Provider{
		Collector: "aff",
		Fake:      fake,
		Config: func(url string) string {
			return config(url, token, perCampaign("{type: cursor, cursor_path: meta.next, param: cursor}", "{type: bearer}"))
		},
		Secrets: []string{token},
	})
}

// FuzzPath parses a path as the config gives it and reads it from a JSON
// document: a path that parses prints back as itself, and reading never
// panics.
func FuzzPath(f *testing.F) {
	doc := `{"a":{"b":[{"c":1.5},{"c":"2"}],"s":"x","n":null},"top":[[7]],"big":1e308}`
	for _, p := range []string{"a.b[0].c", "a.b[1].c", "a.s", "top[0][0]", "a.b[2].c", "a.n", "a.b", "", "big", "a.b[-1]", "a..b", "a[99999999999999999999]"} {
		f.Add(p, []byte(doc))
	}
	f.Add("data", []byte(`[1,"x",null,{"data":[]}]`))
	f.Fuzz(func(t *testing.T, text string, body []byte) {
		p, err := parsePath(text)
		if err != nil {
			return
		}
		if q, err := parsePath(p.String()); err != nil || q.String() != p.String() {
			t.Fatalf("path %q prints as %q, which parses as %v, %v", text, p.String(), q, err)
		}
		var v any
		if json.Unmarshal(body, &v) != nil {
			return
		}
		p.get(v)
		p.scalar(v)
		p.number(v)
	})
}

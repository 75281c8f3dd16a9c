// Package soak holds a bounded soak test of the whole exporter, run in
// process against the sandbox: short refresh intervals, random provider
// faults and concurrent scrapes for a set time, then checks that
// goroutines and heap came back to their level after warm-up, that every
// scrape succeeded and parsed, that influencer_collector_up told the truth
// while a provider failed, and that no last good value was erased.
//
// It runs under CI=true (two minutes), or with -soak.duration:
//
//	go test ./internal/soak -run TestSoak -v -timeout 40m -soak.duration=30m
//
// -soak.seed replays the fault schedule of an earlier run.
package soak

//go:build race

package agency

const raceEnabled = true

//go:build !race

package agency

const raceEnabled = false

//go:build race

package storetest

// raceEnabled reports whether the race detector is on: it slows the pure-Go SQLite driver down many times over,
// so the concurrency tests use fewer writers to stay inside SQLite's busy timeout.
const raceEnabled = true

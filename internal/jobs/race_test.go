//go:build race

package jobs_test

// raceEnabled reports whether the race detector is on: it slows the pure-Go SQLite driver and the roster's 5,000
// members down many times over, so the longest concurrency tests run fewer rounds under it (they ran all of
// theirs, without it, in the same CI run).
const raceEnabled = true

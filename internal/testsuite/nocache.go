package testsuite

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// EnvSkip lists the parts a person chose to run the tests without, comma-separated: postgres, chromium, oauthjs.
const EnvSkip = "LTIPUB_TEST_SKIP"

// NoCache keeps go test from caching this run of t's package. go test replays a passing (or skipping) result while
// the files and environment variables the test read stay the same, and whether PostgreSQL answers or Chromium was
// found is neither: a cached skip would hide that the suite could run now, a cached summary that it cannot. go test
// refuses to cache a run that read a file of the module written less than two seconds before the run ended, so
// NoCache writes and reads one (internal/testsuite/.not-cached, ignored by git).
func NoCache(t testing.TB) {
	t.Helper()
	_, here, _, ok := runtime.Caller(0)
	if !ok {
		t.Log("cannot keep go test from caching this result: no source path")
		return
	}
	path := filepath.Join(filepath.Dir(here), ".not-cached")
	if err := os.WriteFile(path, []byte(time.Now().UTC().Format(time.RFC3339Nano)+"\n"), 0o644); err != nil {
		t.Logf("cannot keep go test from caching this result: %v", err)
		return
	}
	if f, err := os.Open(path); err == nil {
		f.Close()
	}
}

package testsuite_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/testsuite"
)

// runHidden runs this package's summary test as the README's command would, in a child `go test`, with
// PostgreSQL pointed at a closed port and a PATH that holds only the go command (so no Chromium, no node).
func runHidden(t *testing.T, extra ...string) (string, error) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on the PATH: %v", err)
	}
	bin := t.TempDir()
	if err := os.Symlink(goBin, filepath.Join(bin, "go")); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "CI", "LTIPUB_CHROMIUM", testsuite.EnvSkip, "LTIPUB_TEST_POSTGRES_DSN":
			continue
		}
		env = append(env, kv)
	}
	// No C compiler on that PATH: say so rather than let the go command find out.
	env = append(env, "PATH="+bin, "CGO_ENABLED=0", "LTIPUB_TEST_POSTGRES_DSN=postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2")
	cmd := exec.Command(goBin, "test", "-count=1", "-run", "^TestWhatThisRunCovers$", ".")
	cmd.Env = append(env, extra...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestSummaryNamesWhatWasSkipped: with PostgreSQL unreachable and Chromium hidden, plain `go test` output names
// both, says why and how to fix it; acknowledging them passes, except under CI.
func TestSummaryNamesWhatWasSkipped(t *testing.T) {
	out, err := runHidden(t)
	if err == nil {
		t.Fatalf("the run passed with PostgreSQL and Chromium missing:\n%s", out)
	}
	for _, want := range []string{
		"FAIL", "SKIPPED  the PostgreSQL half", "not reachable at postgres://postgres@127.0.0.1:1/",
		"SKIPPED  the browser tests (e2e/): no Chromium found", "apt-get install chromium",
		"LTIPUB_TEST_SKIP=postgres,chromium,oauthjs go test ./...",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}

	out, err = runHidden(t, testsuite.EnvSkip+"=postgres,chromium,oauthjs")
	if err != nil {
		t.Fatalf("with every missing part acknowledged the run failed: %v\n%s", err, out)
	}

	out, err = runHidden(t, testsuite.EnvSkip+"=postgres,chromium,oauthjs", "CI=true")
	if err == nil || !strings.Contains(out, "Under CI nothing may be skipped") {
		t.Fatalf("under CI an acknowledged skip passed: %v\n%s", err, out)
	}
}

package testsuite_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/browsertest"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
	"github.com/ltipub/ltipub/internal/testsuite"
)

// part is something some suites need.
type part struct {
	Name    string // as written in LTIPUB_TEST_SKIP
	Suites  string // what skips without it
	Missing string // why it is missing; "" when present
	Fix     string
	Have    string // what was found
}

func parts() []part {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pg := part{Name: "postgres", Suites: "the PostgreSQL half of the store suite and of the HTTP and sync tests (internal/store/sqlstore, internal/web, internal/jobs)",
		Fix: "start PostgreSQL (apt-get install postgresql; .ci/run shows the commands) or point " + sqltest.EnvPostgres + " at one"}
	dsn, err := sqltest.Reachable(ctx)
	if err != nil {
		pg.Missing = fmt.Sprintf("PostgreSQL is not reachable at %s (%v)", dsn, err)
	} else {
		pg.Have = "PostgreSQL at " + dsn
	}

	ch := part{Name: "chromium", Suites: "the browser tests (e2e/)",
		Fix: "apt-get install chromium, or set LTIPUB_CHROMIUM to a Chromium or Chrome binary"}
	if p := browsertest.ChromiumPath(); p == "" {
		ch.Missing = "no Chromium found (LTIPUB_CHROMIUM unset; no chromium, chromium-browser or google-chrome on the PATH)"
	} else {
		ch.Have = "Chromium at " + p
	}

	js := part{Name: "oauthjs", Suites: "the comparison of LTI 1.1 signatures with the oauth-1.0a npm package (lti/lti11; the stored answers are still checked)",
		Fix: "install node and npm, then npm ci --prefix lti/lti11/testdata/oauthjs"}
	node, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join("..", "..", "lti", "lti11", "testdata", "oauthjs", "node_modules", "oauth-1.0a"))
	switch {
	case nodeErr != nil:
		js.Missing = "node is not on the PATH"
	case modErr != nil:
		js.Missing = "the oauth-1.0a npm package is not installed in lti/lti11/testdata/oauthjs"
	default:
		js.Have = "node at " + node + " with oauth-1.0a"
	}
	parts := []part{pg, ch, js}
	if ch.Missing == "" { // without Chromium the audit skips with the browser tests
		ax := part{Name: "axe", Suites: "the accessibility audit of every page (e2e, TestEveryPageFitsAndPassesAxe)",
			Fix: "install npm, then npm ci --prefix e2e/testdata/axe"}
		if _, err := os.Stat(filepath.Join("..", "..", "e2e", "testdata", "axe", "node_modules", "axe-core", "axe.min.js")); err != nil {
			ax.Missing = "the axe-core npm package is not installed in e2e/testdata/axe"
		} else {
			ax.Have = "axe-core in e2e/testdata/axe"
		}
		parts = append(parts, ax)
	}
	return parts
}

// TestWhatThisRunCovers fails when a suite of this run will skip for a missing part that nobody acknowledged.
func TestWhatThisRunCovers(t *testing.T) {
	testsuite.NoCache(t)
	ci := os.Getenv("CI") != ""
	acked := strings.FieldsFunc(os.Getenv(testsuite.EnvSkip), func(r rune) bool { return r == ',' || r == ' ' })
	var report, unacked []string
	for _, p := range parts() {
		switch {
		case p.Missing == "":
			report = append(report, fmt.Sprintf("  ran      %s (%s)", p.Suites, p.Have))
		case slices.Contains(acked, p.Name) && !ci:
			report = append(report, fmt.Sprintf("  SKIPPED  %s: %s (acknowledged in %s)", p.Suites, p.Missing, testsuite.EnvSkip))
		default:
			report = append(report, fmt.Sprintf("  SKIPPED  %s: %s.\n           To run it: %s.", p.Suites, p.Missing, p.Fix))
			unacked = append(unacked, p.Name)
		}
	}
	summary := "What this test run covers (unit, HTTP and SQLite tests always run):\n" + strings.Join(report, "\n")
	if len(unacked) == 0 {
		t.Log(summary)
		return
	}
	if ci {
		t.Fatalf("%s\nUnder CI nothing may be skipped: install what is missing (.ci/run does).", summary)
	}
	t.Fatalf("%s\nThis run left suites out. Install what is missing, or run without it on purpose:\n  %s=%s go test ./...",
		summary, testsuite.EnvSkip, strings.Join(unacked, ","))
}

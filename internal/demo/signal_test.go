package demo_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/demo/demotest"
)

// TestDemoStopsOnSIGINT: the real command, stopped as Ctrl-C stops it, exits 0 and leaves no temporary folder; with
// --dir it keeps its database there.
func TestDemoStopsOnSIGINT(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	bin := demotest.Binary(t)
	c := demotest.Start(t, bin, []string{"TMPDIR=" + tmp})
	resp, err := http.Get(c.URL + "/")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the demo LMS does not answer: %v %v", resp, err)
	}
	resp.Body.Close()
	if left, _ := os.ReadDir(tmp); len(left) != 1 {
		t.Fatalf("while running, the temporary folder holds %v, want the demo's folder", left)
	}
	if err := c.Interrupt(context.Background(), 30*time.Second); err != nil {
		t.Fatalf("after SIGINT: %v\n%s", err, c.Output())
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("the demo left %v in the temporary folder:\n%s", left, c.Output())
	}

	dir := filepath.Join(t.TempDir(), "kept")
	c = demotest.Start(t, bin, []string{"TMPDIR=" + tmp}, "--dir", dir)
	if err := c.Interrupt(context.Background(), 30*time.Second); err != nil {
		t.Fatalf("after SIGINT with --dir: %v\n%s", err, c.Output())
	}
	if _, err := os.Stat(filepath.Join(dir, "ltipub.db")); err != nil {
		t.Fatalf("--dir %s lost its database: %v", dir, err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("with --dir, the demo left %v in the temporary folder", left)
	}
}

package main

import (
	"context"
	"database/sql"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
)

// TestSmoke builds ltipub, and drives a few seconds of launches through it on each engine: every launch must
// land. It asserts no timing (the machine is shared); docs/performance.md has the figures.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ltipub; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "ltipub")
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..")
	build := exec.Command("go", "build", "-o", bin, "./cmd/ltipub")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build ltipub: %v\n%s", err, out)
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			o := Options{Ltipub: bin, Course: filepath.Join(root, "examples", "course.json"), Concurrency: 2,
				Duration: 2 * time.Second, MaxLaunches: 200, Warmup: 2}
			if engine == "postgres" {
				o.DB = postgresServer(t)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			rep, err := Run(ctx, o, testLog{t})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d launches, %.1f/s, p99 %.1f ms, ltipub %.2f ms CPU/launch, PostgreSQL %.2f, peak RSS %.1f MB",
				rep.Launches, rep.PerSecond, rep.P99, rep.LtipubCPU, rep.PostgresCPU, rep.PeakRSSMB)
			if rep.Failed > 0 || rep.Launches == 0 {
				t.Fatalf("%d launches landed, %d failed (first: %s)", rep.Launches, rep.Failed, rep.FirstFailure)
			}
			if rep.LtipubCPU <= 0 || rep.PeakRSSMB <= 0 {
				t.Fatalf("nothing read from /proc for ltipub: %+v", rep)
			}
		})
	}
}

// postgresServer is the test PostgreSQL server, or a skip (a failure under CI) when none answers.
func postgresServer(t *testing.T) string {
	dsn := os.Getenv(sqltest.EnvPostgres)
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	db, err := sql.Open("pgx", dsn)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = db.PingContext(ctx)
		cancel()
		db.Close()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s: %v", dsn, err)
		}
		t.Skipf("%s not reachable (%v); set %s", dsn, err, sqltest.EnvPostgres)
	}
	return dsn
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) { l.t.Log(string(p)); return len(p), nil }

var _ io.Writer = testLog{}

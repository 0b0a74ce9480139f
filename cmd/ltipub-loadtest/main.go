// Command ltipub-loadtest measures complete LTI 1.3 launches against a real `ltipub serve` process: it runs the
// reference platform (lti/ltitest) and the virtual browsers in its own process, starts ltipub as a child process
// on a fresh database (SQLite, or a new database on a PostgreSQL server), drives first launches of new users
// over loopback, and reports launches per second, latency percentiles, and the CPU and peak RSS of the ltipub
// process (and the CPU of its PostgreSQL backends), read from /proc. See docs/performance.md.
//
//	go build -o /tmp/ltipub ./cmd/ltipub
//	go run ./cmd/ltipub-loadtest -ltipub /tmp/ltipub -concurrency 8 -duration 20s
//	go run ./cmd/ltipub-loadtest -ltipub /tmp/ltipub -db postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ltipub-loadtest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ltipub-loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	fs.StringVar(&o.Ltipub, "ltipub", "ltipub", "the ltipub `binary` to run (build it with go build ./cmd/ltipub)")
	fs.StringVar(&o.DB, "db", "", "a PostgreSQL server `URL` (a fresh database is made on it and dropped after); empty: a fresh SQLite file")
	fs.StringVar(&o.Course, "course", "examples/course.json", "the course `file` to publish (its quiz is launched)")
	fs.IntVar(&o.Concurrency, "concurrency", 8, "launches at once")
	fs.DurationVar(&o.Duration, "duration", 20*e9, "how long to measure (after the warm-up)")
	fs.IntVar(&o.MaxLaunches, "max", 100000, "stop after this many measured launches")
	fs.IntVar(&o.Warmup, "warmup", 50, "launches before measuring (caches, connections, key sets)")
	fs.StringVar(&o.MemLimit, "gomemlimit", "", "GOMEMLIMIT for the ltipub process only (for example 64MiB, or off); empty: inherit (ltipub serve's own default is 32MiB)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Concurrency < 1 || o.Duration <= 0 || o.MaxLaunches < 1 {
		return errors.New("-concurrency, -duration and -max must be positive")
	}
	rep, err := Run(ctx, o, stderr)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.Print(stdout)
	if rep.Failed > 0 {
		return fmt.Errorf("%d of %d launches failed (first: %s)", rep.Failed, rep.Launches+rep.Failed, rep.FirstFailure)
	}
	return nil
}

// e9 is a second in time.Duration units, so that the flag default reads as 20 s.
const e9 = 1_000_000_000

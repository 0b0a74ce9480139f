// Command ltipub publishes courses and activities to learning platforms as an LTI 1.3 tool.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ltipub/ltipub/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Locale: cli.Locale(os.Getenv)}, os.Args[1:])
	stop()
	os.Exit(code)
}

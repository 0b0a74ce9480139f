package cli

import (
	"context"

	"github.com/ltipub/ltipub/internal/demo"
	"github.com/ltipub/ltipub/internal/logging"
)

// demoCmd is `ltipub demo`; everything else lives in internal/demo.
func demoCmd() *Command {
	c := &Command{Name: "demo", Summary: "try ltipub without an LMS: ltipub and a demo LMS on loopback, example course published"}
	c.Run = func(ctx context.Context, env Env, args []string) error {
		var o demo.Options
		fs := newFlags(env, "ltipub demo", c.Summary, "")
		fs.StringVar(&o.Dir, "dir", "", "keep the demo's database in `DIR` (default: a temporary folder, removed at the end)")
		fs.StringVar(&o.Addr, "addr", "", "where the demo LMS listens, `HOST:PORT` (default: a free port on 127.0.0.1)")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		o.Log = logging.New(env.Stderr, "warn", "text")
		return demo.Run(ctx, o, env.Stdout)
	}
	return c
}

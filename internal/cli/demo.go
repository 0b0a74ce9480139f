package cli

import (
	"github.com/spf13/cobra"

	"github.com/ltipub/ltipub/internal/demo"
	"github.com/ltipub/ltipub/internal/logging"
)

// demoCmd is `ltipub demo`; everything else lives in internal/demo.
func demoCmd(env Env) *cobra.Command {
	var o demo.Options
	c := &cobra.Command{Use: "demo", Short: "try ltipub without an LMS: ltipub and a demo LMS on loopback, example course published", Args: noArgs}
	c.Flags().StringVar(&o.Dir, "dir", "", "keep the demo's database in `DIR` (default: a temporary folder, removed at the end)")
	c.Flags().StringVar(&o.Addr, "addr", "", "where the demo LMS listens, `HOST:PORT` (default: a free port on 127.0.0.1)")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		o.Log = logging.New(env.Stderr, "warn", "text")
		o.Words = env.t
		return demo.Run(cmd.Context(), o, env.Stdout)
	}
	return c
}

package cli

import (
	"fmt"
	"math"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/ltipub/ltipub/internal/app"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/logging"
)

func serveCmd(env Env) *cobra.Command {
	var cfg config.Config
	c := &cobra.Command{Use: "serve", Short: "run the web server (migrates the database first)", Args: noArgs}
	cfg.AddServeFlags(c.Flags())
	c.RunE = func(cmd *cobra.Command, args []string) error {
		log := logging.New(env.Stderr, cfg.LogLevel, cfg.LogFormat)
		if err := cfg.Validate(); err != nil {
			return err
		}
		// The process's own setting, so serve applies it rather than app.Run (tests run servers in one process).
		if cfg.MemoryLimitBytes > 0 {
			debug.SetMemoryLimit(cfg.MemoryLimitBytes)
		} else {
			debug.SetMemoryLimit(math.MaxInt64)
		}
		return app.Run(cmd.Context(), cfg, log, env.Stdout)
	}
	return c
}

func migrateCmd(env Env) *cobra.Command {
	var dsn string
	c := &cobra.Command{Use: "migrate", Short: "apply database migrations and exit", Args: noArgs}
	config.AddDBFlag(c.Flags(), &dsn)
	c.RunE = func(cmd *cobra.Command, args []string) error {
		st, err := app.CreateStore(cmd.Context(), dsn, secretsKeyFile(cmd), logging.New(env.Stderr, "info", "text"))
		if err != nil {
			return err
		}
		defer st.Close()
		fmt.Fprintln(env.Stdout, env.t("cli.migrate.done", "Engine", st.Engine()))
		return nil
	}
	return c
}

// versionLine is what `ltipub version` and `ltipub --version` print: the module version and the VCS revision
// from the binary's build information.
func versionLine() string { return app.BuildInfo().String() }

func versionCmd(env Env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{Use: "version", Short: "print the version and the commit the binary was built from", Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				return writeJSON(env.Stdout, app.BuildInfo())
			}
			fmt.Fprintln(env.Stdout, versionLine())
			return nil
		}}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"version", "revision", "time", "modified", "go_version"}`)
	return c
}

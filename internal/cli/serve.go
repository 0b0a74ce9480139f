package cli

import (
	"context"
	"fmt"

	"github.com/ltipub/ltipub/internal/app"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/logging"
)

func serveCmd() *Command {
	c := &Command{Name: "serve", Summary: "run the web server (migrates the database first)"}
	c.Run = func(ctx context.Context, env Env, args []string) error {
		var cfg config.Config
		fs := newFlags(env, "ltipub serve", c.Summary, "")
		cfg.AddServeFlags(fs)
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		log := logging.New(env.Stderr, cfg.LogLevel, cfg.LogFormat)
		return app.Run(ctx, cfg, log, env.Stdout)
	}
	return c
}

func migrateCmd() *Command {
	c := &Command{Name: "migrate", Summary: "apply database migrations and exit"}
	c.Run = func(ctx context.Context, env Env, args []string) error {
		var dsn string
		fs := newFlags(env, "ltipub migrate", c.Summary, "")
		config.AddDBFlag(fs, &dsn)
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		st, err := app.OpenStore(ctx, dsn, logging.New(env.Stderr, "info", "text"))
		if err != nil {
			return err
		}
		defer st.Close()
		fmt.Fprintf(env.Stdout, "database is up to date (%s)\n", st.Engine())
		return nil
	}
	return c
}

func versionCmd() *Command {
	c := &Command{Name: "version", Summary: "print the version"}
	c.Run = func(ctx context.Context, env Env, args []string) error {
		fs := newFlags(env, "ltipub version", c.Summary, "")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, "ltipub", app.Version)
		return nil
	}
	return c
}

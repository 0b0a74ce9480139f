package cli

import (
	"context"
	"errors"

	"github.com/ltipub/ltipub/internal/app"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/logging"
)

func secretsCmd() *Command {
	return &Command{Name: "secrets", Summary: "the key that encrypts secrets in the database", Sub: []*Command{secretsNewKeyCmd(), secretsRotateKeyCmd()}}
}

func secretsNewKeyCmd() *Command {
	c := &Command{Name: "new-key", Summary: "write a new secrets key file (for PostgreSQL, before the first start)"}
	c.Run = func(ctx context.Context, env Env, args []string) error {
		var file string
		fs := newFlags(env, "ltipub secrets new-key", c.Summary, "")
		fs.StringVar(&file, "file", "", "`path` of the key file to write; it must not exist")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		if file == "" {
			return errors.New("--file is required: where to write the key, for example /etc/ltipub/secrets.key")
		}
		return app.NewSecretsKeyFile(file, env.Stdout)
	}
	return c
}

func secretsRotateKeyCmd() *Command {
	c := &Command{Name: "rotate-key", Summary: "re-encrypt every secret with a new key, which replaces the key file (stop the servers first)"}
	c.Run = func(ctx context.Context, env Env, args []string) error {
		var opts app.RotateSecretsKeyOptions
		fs := newFlags(env, "ltipub secrets rotate-key", c.Summary, "")
		config.AddDBFlag(fs, &opts.DSN)
		config.AddSecretsKeyFileFlag(fs, &opts.KeyFile)
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		opts.Log = logging.New(env.Stderr, "info", "text")
		return app.RotateSecretsKey(ctx, opts, env.Stdout)
	}
	return c
}

package cli

import (
	"github.com/spf13/cobra"

	"github.com/ltipub/ltipub/internal/app"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/logging"
)

func secretsCmd(env Env) *cobra.Command {
	return group("secrets", "the key that encrypts secrets in the database", secretsNewKeyCmd(env), secretsRotateKeyCmd(env))
}

func secretsNewKeyCmd(env Env) *cobra.Command {
	var file string
	c := &cobra.Command{Use: "new-key", Short: "write a new secrets key file (for PostgreSQL, before the first start)", Args: noArgs}
	c.Flags().StringVar(&file, "file", "", "`path` of the key file to write; it must not exist")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if file == "" {
			return usageMsg("cli.secrets.file_required")
		}
		return app.NewSecretsKeyFile(file, env.Stdout)
	}
	return c
}

func secretsRotateKeyCmd(env Env) *cobra.Command {
	var opts app.RotateSecretsKeyOptions
	c := &cobra.Command{Use: "rotate-key", Short: "re-encrypt every secret with a new key, which replaces the key file (stop the servers first)", Args: noArgs}
	config.AddDBFlag(c.Flags(), &opts.DSN)
	config.AddSecretsKeyFileFlag(c.Flags(), &opts.KeyFile)
	c.RunE = func(cmd *cobra.Command, args []string) error {
		opts.Log = logging.New(env.Stderr, "info", "text")
		return app.RotateSecretsKey(cmd.Context(), opts, env.Stdout)
	}
	return c
}

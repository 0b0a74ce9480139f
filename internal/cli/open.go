package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ltipub/ltipub/internal/app"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/logging"
)

// appOptions tune the App a command opens.
type appOptions struct {
	allowPrivate bool
	log          *slog.Logger
	configure    func(*config.Config)
	// keyFile is the secrets key (empty: --secrets-key-file, LTIPUB_SECRETS_KEY_FILE, or beside a SQLite file).
	keyFile string
}

// openApp is how every command but serve and migrate reaches ltipub: the database must exist (a typo in --db is
// refused rather than creating a new one), and the services are built by app.New, exactly as serve builds them.
// The base URL is --base-url or LTIPUB_BASE_URL when given, else the one the server recorded, else the default.
// Call the returned function when done.
func openApp(cmd *cobra.Command, dsn string, o appOptions) (*app.App, func(), error) {
	baseURL, baseGiven := config.DefaultBaseURL, false
	if f := cmd.Flags().Lookup("base-url"); f != nil {
		baseURL = f.Value.String()
		baseGiven = f.Changed || os.Getenv("LTIPUB_BASE_URL") != ""
	}
	if o.keyFile == "" {
		o.keyFile = secretsKeyFile(cmd)
	}
	return openAppAt(cmd.Context(), dsn, baseURL, baseGiven, o)
}

// secretsKeyFile is --secrets-key-file (or LTIPUB_SECRETS_KEY_FILE); empty means the key beside a SQLite file.
func secretsKeyFile(cmd *cobra.Command) string {
	if f := cmd.Flag("secrets-key-file"); f != nil {
		return f.Value.String()
	}
	return os.Getenv("LTIPUB_SECRETS_KEY_FILE")
}

// openAppAt is openApp for callers without a command line (the sync session that tests drive): baseGiven says
// whether baseURL was chosen by the user rather than defaulted.
func openAppAt(ctx context.Context, dsn, baseURL string, baseGiven bool, o appOptions) (*app.App, func(), error) {
	if o.log == nil {
		o.log = logging.Discard()
	}
	cfg := config.Config{DB: dsn, Addr: config.DefaultAddr, BaseURL: baseURL, AllowPrivateURLs: o.allowPrivate,
		LogLevel: "info", LogFormat: "text", ClockSkew: 60 * time.Second, KeyOverlap: 72 * time.Hour}
	if o.configure != nil {
		o.configure(&cfg)
	}
	// Every flag is checked before the database is opened, so nothing is written on a bad command line.
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	// Secrets in the database are sealed: commands open them with the server's key (LTIPUB_SECRETS_KEY_FILE, or
	// the key beside a SQLite file).
	if o.keyFile == "" {
		o.keyFile = os.Getenv("LTIPUB_SECRETS_KEY_FILE")
	}
	st, err := app.OpenExisting(ctx, dsn, o.keyFile, o.log)
	if err != nil {
		return nil, nil, err
	}
	if !baseGiven {
		recorded, err := app.RecordedBaseURL(ctx, st)
		if err != nil {
			st.Close()
			return nil, nil, errText(err, "cli.open.base_url")
		}
		if recorded != "" {
			cfg.BaseURL = recorded
		}
	}
	a, err := app.New(cfg, st, o.log)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return a, func() { a.Close(); st.Close() }, nil
}

// confirm asks before a destructive step. --yes answers for scripts; without it the question goes to a terminal,
// and without a terminal the command refuses, saying to add --yes, rather than guess.
func confirm(env Env, yes bool, question string) error {
	if yes {
		return nil
	}
	if !isTerminal(env.Stdin) {
		// The question as a statement: without its question marks (Spanish opens one too).
		stated := strings.TrimSuffix(strings.ReplaceAll(question, "¿", ""), "?")
		return &usageError{msg: fmt.Sprintf("%s: standard input is not a terminal, so nobody can confirm; add --yes", stated),
			id: "cli.usage.no_terminal", args: []any{"Question", stated}}
	}
	choices, yesWords := "[y/N]", "y yes"
	if env.tr != nil {
		choices, yesWords = env.t("cli.confirm.choices"), env.t("cli.confirm.yes")
	}
	fmt.Fprintf(env.Stderr, "%s %s ", question, choices)
	line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	// The catalog lists the words that mean yes in the operator's language (Spanish: s, sí, si, and y, yes,
	// which a Spanish-speaking operator used to English prompts also types).
	for _, w := range strings.Fields(yesWords) {
		if answer == w {
			return nil
		}
	}
	return errors.New(env.t("cli.not_confirmed"))
}

// isTerminal reports whether r is an interactive terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

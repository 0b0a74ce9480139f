// Package cli is ltipub's command line, on spf13/cobra (the library of gh, kubectl and hugo): flags before or after
// the arguments, `ltipub help <command>`, shell completion, --version. One file per command group; every command that
// touches the database takes --db / LTIPUB_DB and calls the same domain services the web server uses.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/i18n"
)

// Env is what a command runs with: where it reads and writes.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Locale is the operator's locale (see Locale: LC_ALL, LC_MESSAGES, LANG), the language of the human output;
	// "" and "C" are English. --json output is the same in every language.
	Locale string

	tr *i18n.Printer // the language of Locale, set by Root
}

// usageError means the command line was wrong (exit status 2); the message says what to type instead.
type usageError struct {
	msg string
	// id and args, when set, word msg in the CLI's catalog, for operators of other languages.
	id   string
	args []any
}

func (e *usageError) Error() string { return e.msg }

// usageMsg (lang.go) makes a usage error: a wrong command line, not a failure of what it asked for.

// runError marks an error returned by a command's own work (exit status 1), as opposed to one cobra found while
// reading the command line (exit status 2).
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// Root is the ltipub command tree.
func Root(env Env) *cobra.Command {
	if env.tr == nil {
		env.tr = printer(env.Locale)
	}
	root := &cobra.Command{
		Use:           "ltipub",
		Short:         "publish courses and activities to learning platforms over LTI 1.3",
		Version:       versionLine(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	// Every command that opens the database needs the key its secrets are sealed with (serve and rotate-key
	// declare their own).
	var keyFile string
	config.AddSecretsKeyFileFlag(root.PersistentFlags(), &keyFile)
	root.AddCommand(
		serveCmd(env),
		migrateCmd(env),
		userCmd(env),
		platformCmd(env),
		deploymentCmd(env),
		courseCmd(env),
		publishCmd(env),
		publishedCmd(env),
		syncCmd(env),
		keysCmd(env),
		versionCmd(env),
		demoCmd(env),
		quizCmd(env),
		secretsCmd(env),
	)
	// Cobra would add these when it runs; adding them now makes the tree complete for whoever walks it (tests).
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	localizeHelp(root, env.tr) // help.go: the help in the operator's language, known before the tree is built
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{msg: err.Error() + suggestFlag(c, err)} })
	markRunErrors(root)
	return root
}

// markRunErrors wraps every command's RunE so that Main can tell its errors from command-line mistakes.
func markRunErrors(c *cobra.Command) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			err := run(cmd, args)
			var ue *usageError
			if err == nil || errors.As(err, &ue) {
				return err
			}
			return &runError{err}
		}
	}
	for _, sub := range c.Commands() {
		markRunErrors(sub)
	}
}

// Main runs the command line and returns the process exit code: 0 done, 1 failed, 2 wrong command line.
func Main(ctx context.Context, env Env, args []string) int {
	env.tr = printer(env.Locale)
	root := Root(env)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var re *runError
	if errors.As(err, &re) {
		fmt.Fprintf(env.Stderr, "ltipub: %s\n", env.errorText(re.err))
		return 1
	}
	if cmd == nil {
		cmd = root
	}
	fmt.Fprintf(env.Stderr, "%s: %s\n%s\n", cmd.CommandPath(), env.usageText(err), env.t("cli.usage.help", "Command", cmd.CommandPath()))
	return 2
}

// group is a command that only holds subcommands: alone it prints its help, with an unknown word it says so.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: cobra.ArbitraryArgs}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		var names []string
		for _, s := range cmd.Commands() {
			if s.IsAvailableCommand() {
				names = append(names, s.Name())
			}
		}
		ue := &usageError{msg: fmt.Sprintf("unknown command %q; %s has: %s", args[0], cmd.CommandPath(), strings.Join(names, ", ")),
			id: "cli.usage.unknown_command", args: []any{"Name", q(args[0]), "Command", cmd.CommandPath(), "Names", strings.Join(names, ", ")}}
		if sugg := cmd.SuggestionsFor(args[0]); len(sugg) > 0 {
			ue = &usageError{msg: fmt.Sprintf("unknown command %q; did you mean %s %s?", args[0], cmd.CommandPath(), sugg[0]),
				id: "cli.usage.did_you_mean", args: []any{"Name", q(args[0]), "Command", cmd.CommandPath() + " " + sugg[0]}}
		}
		return ue
	}
	c.AddCommand(subs...)
	return c
}

// exactArgs requires n positional arguments, named by what, and shows an example when they are missing.
func exactArgs(n int, what, example string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		if len(args) > n {
			extra := strings.Join(args[n:], " ")
			return &usageError{msg: fmt.Sprintf("unexpected argument %q (expected %s), e.g. %s", extra, what, example),
				id: "cli.usage.unexpected_expected", args: []any{"Arg", q(extra), "What", what, "Example", example}}
		}
		return &usageError{msg: fmt.Sprintf("expected %s, e.g. %s", what, example),
			id: "cli.usage.expected", args: []any{"What", what, "Example", example}}
	}
}

// noArgs refuses positional arguments, naming the stray one.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		extra := strings.Join(args, " ")
		return &usageError{msg: fmt.Sprintf("unexpected argument %q: %s takes only flags", extra, cmd.CommandPath()),
			id: "cli.usage.only_flags", args: []any{"Arg", q(extra), "Command", cmd.CommandPath()}}
	}
	return nil
}

// suggestFlag names the command's flag closest to an unknown one ("did you mean --json?"), as cobra does for
// commands but not for flags.
func suggestFlag(c *cobra.Command, err error) string {
	_, name, ok := strings.Cut(err.Error(), "unknown flag: --")
	if !ok {
		return ""
	}
	best, bestDist := "", 3 // farther than two edits is no longer a typo
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if d := editDistance(name, f.Name); d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	if best == "" {
		return ""
	}
	return "; did you mean --" + best + "?"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// Package cli is ltipub's command line: a small tree of subcommands on the standard flag package. Each command
// parses its own flags (every one that touches the database takes --db / LTIPUB_DB) and calls the same domain
// services the web server uses.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Env is what a command runs with: its arguments and where it writes.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Command is one subcommand.
type Command struct {
	Name    string
	Summary string
	Usage   string // arguments after the name, for the help line
	Run     func(ctx context.Context, env Env, args []string) error
	Sub     []*Command
}

// errUsage means the command line was wrong; the command already printed why.
var errUsage = errors.New("usage")

// Root is the ltipub command tree.
func Root() *Command {
	return &Command{Name: "ltipub", Summary: "publish courses and activities to learning platforms over LTI 1.3", Sub: []*Command{
		serveCmd(),
		migrateCmd(),
		{Name: "user", Summary: "manage local accounts", Sub: []*Command{userCreateCmd()}},
		platformCmd(),
		deploymentCmd(),
		courseCmd(),
		publishCmd(),
		publishedCmd(),
		syncCmd(),
		keysCmd(),
		secretsCmd(),
		versionCmd(),
	}}
}

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, env Env, args []string) int {
	err := Root().dispatch(ctx, env, args, "ltipub")
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(env.Stderr, "ltipub: %v\n", err)
		return 1
	}
}

func (c *Command) dispatch(ctx context.Context, env Env, args []string, path string) error {
	if len(c.Sub) == 0 {
		return c.Run(ctx, env, args)
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		c.help(env.Stdout, path)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, sub := range c.Sub {
		if sub.Name == args[0] {
			return sub.dispatch(ctx, env, args[1:], path+" "+sub.Name)
		}
	}
	fmt.Fprintf(env.Stderr, "%s: unknown command %q\n\n", path, args[0])
	c.help(env.Stderr, path)
	return errUsage
}

func (c *Command) help(w io.Writer, path string) {
	fmt.Fprintf(w, "%s: %s\n\nUsage:\n  %s <command> [flags]\n\nCommands:\n", path, c.Summary, path)
	subs := append([]*Command(nil), c.Sub...)
	sort.Slice(subs, func(i, j int) bool { return subs[i].Name < subs[j].Name })
	for _, s := range subs {
		fmt.Fprintf(w, "  %-12s %s\n", s.Name, s.Summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags.\n", path)
}

// newFlags makes a FlagSet whose --help output names the command and its purpose.
func newFlags(env Env, path, summary, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "%s: %s\n\nUsage:\n  %s [flags] %s\n\nFlags:\n", path, summary, path, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and refuses stray positional arguments unless allowed.
func parse(fs *flag.FlagSet, args []string, positional int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if positional >= 0 && fs.NArg() > positional {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), strings.Join(fs.Args()[positional:], " "))
		return errUsage
	}
	return nil
}

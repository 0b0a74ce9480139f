package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/config"
)

func userCmd(env Env) *cobra.Command {
	return group("user", "manage local accounts", userCreateCmd(env))
}

func userCreateCmd(env Env) *cobra.Command {
	var dsn, username, email, fullName, passwordFile string
	var admin, creator, asJSON bool
	c := &cobra.Command{Use: "create --username U", Short: "create a local account (password from --password-file or standard input)", Args: noArgs}
	fs := c.Flags()
	config.AddDBFlag(fs, &dsn)
	fs.StringVar(&username, "username", "", "the account's `username` (required)")
	fs.StringVar(&email, "email", "", "the account's email `address`")
	fs.StringVar(&fullName, "name", "", "the account's full `name`")
	fs.StringVar(&passwordFile, "password-file", "", "read the password from the first line of `file` (otherwise from standard input)")
	fs.BoolVar(&admin, "admin", false, "make the account a site administrator")
	fs.BoolVar(&creator, "course-creator", false, "let the account create courses")
	fs.BoolVar(&asJSON, "json", false, "print the new account as JSON")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if username == "" {
			return usagef("--username is required, e.g. ltipub user create --username alice --admin < password.txt")
		}
		a, done, err := openApp(cmd, dsn, appOptions{})
		if err != nil {
			return err
		}
		defer done()
		pw, err := readPassword(env, passwordFile)
		if err != nil {
			return err
		}
		u, err := a.Accounts.Create(ctx, account.NewUser{Username: username, Email: email, FullName: fullName, Password: pw,
			IsAdmin: admin, IsCourseCreator: creator})
		if errors.Is(err, account.ErrUsernameTaken) {
			return fmt.Errorf("username %q is already taken: choose another", username)
		}
		if err != nil {
			return err
		}
		if asJSON {
			return json.NewEncoder(env.Stdout).Encode(map[string]any{"id": u.ID, "username": u.Username, "admin": u.IsAdmin})
		}
		fmt.Fprintf(env.Stdout, "created user %s (id %d)%s\n", u.Username, u.ID, map[bool]string{true: ", site administrator"}[u.IsAdmin])
		return nil
	}
	return c
}

// readPassword reads one line from a file or standard input, so passwords never appear in the process list.
func readPassword(env Env, file string) (string, error) {
	r := env.Stdin
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("read password file: %w", err)
		}
		defer f.Close()
		r = f
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password given: pass --password-file FILE or write the password to standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

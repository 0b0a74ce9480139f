package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app"
	"github.com/ltipub/ltipub/internal/config"
)

func userCmd(env Env) *cobra.Command {
	return group("user", "manage accounts: create, list, show, set a password, suspend, unlock, delete, merge",
		userCreateCmd(env), userListCmd(env), userShowCmd(env), userSetPasswordCmd(env), userSuspendCmd(env, true),
		userSuspendCmd(env, false), userUnlockCmd(env), userDeleteCmd(env), userMergeCmd(env))
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
			return &usageError{msg: "--username is required, e.g. ltipub user create --username alice --admin < password.txt", id: "cli.user.username_required"}
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
			return errors.New(env.t("cli.user.username_taken", "Name", q(username)))
		}
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(env.Stdout, toUserJSON(u))
		}
		if u.IsAdmin {
			fmt.Fprintln(env.Stdout, env.t("cli.user.created_admin", "Name", u.Username, "ID", u.ID))
		} else {
			fmt.Fprintln(env.Stdout, env.t("cli.user.created", "Name", u.Username, "ID", u.ID))
		}
		return nil
	}
	return c
}

// readPassword reads a password from the first line of a file, or on a terminal by asking twice without echo, or
// else from the first line of standard input (scripts), so that passwords never appear in the process list.
func readPassword(env Env, file string) (string, error) {
	r := env.Stdin
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", errText(err, "cli.user.read_password_file")
		}
		defer f.Close()
		r = f
	} else if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return promptPassword(env, int(f.Fd()))
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New(env.t("cli.user.no_password"))
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// promptPassword asks for a password twice on the terminal fd, without echo.
func promptPassword(env Env, fd int) (string, error) {
	fmt.Fprint(env.Stderr, env.t("cli.user.prompt_password")+" ")
	pw, err := term.ReadPassword(fd)
	fmt.Fprintln(env.Stderr)
	if err != nil {
		return "", errText(err, "cli.user.read_password")
	}
	if err := account.ValidatePassword(string(pw)); err != nil {
		return "", errors.New(env.passwordError(err.(*account.ValidationError)))
	}
	fmt.Fprint(env.Stderr, env.t("cli.user.prompt_again")+" ")
	again, err := term.ReadPassword(fd)
	fmt.Fprintln(env.Stderr)
	if err != nil {
		return "", errText(err, "cli.user.read_password")
	}
	if string(pw) != string(again) {
		return "", errors.New(env.t("cli.user.passwords_differ"))
	}
	return string(pw), nil
}

// userFlags are the flags of the user commands that work on one account.
type userFlags struct {
	dsn    string
	asJSON bool
}

func (f *userFlags) add(c *cobra.Command) {
	config.AddDBFlag(c.Flags(), &f.dsn)
	c.Flags().BoolVar(&f.asJSON, "json", false, "print the account as JSON (docs/cli-json.md)")
}

// open opens the database and finds the account named by the first argument (an ID or a username).
func (f *userFlags) open(cmd *cobra.Command, ref string) (a *app.App, u account.User, done func(), err error) {
	a, done, err = openApp(cmd, f.dsn, appOptions{})
	if err != nil {
		return nil, account.User{}, nil, err
	}
	u, err = a.Users.Find(cmd.Context(), ref)
	if err != nil {
		done()
		if errors.Is(err, account.ErrNotFound) {
			return nil, account.User{}, nil, errText(err, "cli.user.not_found")
		}
		return nil, account.User{}, nil, err
	}
	return a, u, done, nil
}

// userErr says what to do about the refusals of user administration.
func userErr(err error) error {
	var ve *account.ValidationError
	switch {
	case errors.Is(err, account.ErrLastAdmin):
		return errText(err, "cli.user.last_admin")
	case errors.Is(err, account.ErrMergeSame):
		return &textError{text: err.Error(), id: "cli.user.merge_same", err: err}
	case errors.As(err, &ve):
		return &passwordErr{ve} // worded for the operator by errorText
	}
	return err
}

func userListCmd(env Env) *cobra.Command {
	var f userFlags
	var filter account.UserFilter
	c := &cobra.Command{Use: "list", Short: "list accounts by username, a page at a time", Args: noArgs}
	f.add(c)
	c.Flags().StringVarP(&filter.Query, "query", "q", "", "only accounts whose username, name or email contains `text`")
	c.Flags().StringVar(&filter.After, "after", "", "start after this `username` (the next page)")
	c.Flags().IntVar(&filter.Limit, "limit", account.DefaultPageSize, "at most `n` accounts (up to 1000)")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if filter.Limit < 1 || filter.Limit > 1000 {
			return &usageError{msg: "--limit must be from 1 to 1000", id: "cli.usage.limit"}
		}
		a, done, err := openApp(cmd, f.dsn, appOptions{})
		if err != nil {
			return err
		}
		defer done()
		users, more, err := a.Users.List(cmd.Context(), filter)
		if err != nil {
			return err
		}
		if f.asJSON {
			out := []userJSON{}
			for _, u := range users {
				out = append(out, toUserJSON(u))
			}
			return writeJSON(env.Stdout, out)
		}
		if len(users) == 0 {
			fmt.Fprintln(env.Stdout, env.t("cli.user.none_match"))
			return nil
		}
		fmt.Fprintf(env.Stdout, "%-6s %-24s %-28s %-10s %s\n", "ID", env.t("cli.user.col.username"), env.t("cli.user.col.name"),
			env.t("cli.user.col.status"), env.t("cli.user.col.kind"))
		for _, u := range users {
			fmt.Fprintf(env.Stdout, "%-6d %-24s %-28s %-10s %s\n", u.ID, u.Username, u.FullName, env.t("cli.user.status."+userStatus(u)),
				env.t("cli.user.kind."+strings.ReplaceAll(userKind(u), " ", "_")))
		}
		if more {
			fmt.Fprintln(env.Stdout, env.t("cli.user.more", "Command", "ltipub user list --after "+users[len(users)-1].Username+
				map[bool]string{true: " --query " + filter.Query}[filter.Query != ""]))
		}
		return nil
	}
	return c
}

func userStatus(u account.User) string {
	if u.Suspended() {
		return "suspended"
	}
	return "active"
}

func userKind(u account.User) string {
	switch {
	case u.IsAdmin:
		return "administrator"
	case u.Auth == account.AuthLTI:
		return "from a platform"
	}
	return "local"
}

func userShowCmd(env Env) *cobra.Command {
	var f userFlags
	c := &cobra.Command{Use: "show ID|USERNAME", Short: "show an account with its platform accounts, enrolments and last launch",
		Args: exactArgs(1, "the account's ID or username", "ltipub user show alice")}
	f.add(c)
	c.RunE = func(cmd *cobra.Command, args []string) error {
		a, u, done, err := f.open(cmd, args[0])
		if err != nil {
			return err
		}
		defer done()
		d, err := a.Users.Detail(cmd.Context(), u.ID)
		if err != nil {
			return err
		}
		if f.asJSON {
			return writeJSON(env.Stdout, toUserDetailJSON(d))
		}
		w := env.Stdout
		fmt.Fprintf(w, "%d  %s  (%s, %s)\n", u.ID, u.Username, env.t("cli.user.status."+userStatus(u)), env.t("cli.user.kind."+strings.ReplaceAll(userKind(u), " ", "_")))
		rows := &table{width: 16}
		row := func(k, v string) { rows.add(env.t("cli.user.row."+k), v) }
		row("name", u.FullName)
		row("email", u.Email)
		row("last_sign_in", env.when(u.LastLoginAt))
		row("last_launch", env.when(d.LastLaunchAt))
		if d.Locked {
			row("sign_in", env.t("cli.user.locked", "Name", u.Username))
		}
		if u.MustChangePassword {
			row("password", env.t("cli.user.must_change"))
		}
		for _, p := range d.PlatformAccounts {
			row("platform_account", env.t("cli.user.platform_account", "Issuer", p.Issuer, "Subject", p.Subject, "Platform", p.Platform,
				"When", env.when(p.LastLaunchAt)))
		}
		for _, e := range d.Enrolments {
			row("enrolment", env.t("cli.user.enrolment", "ID", e.CourseID, "Name", q(e.CourseName), "Role", env.word("cli.role.", string(e.Role)),
				"Status", env.word("cli.enrolment_status.", string(e.Status)), "Method", env.word("cli.method.", string(e.Method))))
		}
		rows.print(w)
		return nil
	}
	return c
}

func (e Env) when(t time.Time) string {
	if t.IsZero() {
		return e.t("cli.never")
	}
	return t.UTC().Format(time.RFC3339)
}

func userSetPasswordCmd(env Env) *cobra.Command {
	var f userFlags
	var passwordFile string
	var keep bool
	c := &cobra.Command{Use: "set-password ID|USERNAME", Short: "give an account a new password (asked on the terminal, or from --password-file or standard input)",
		Args: exactArgs(1, "the account's ID or username", "ltipub user set-password alice")}
	f.add(c)
	c.Flags().StringVar(&passwordFile, "password-file", "", "read the password from the first line of `file`")
	c.Flags().BoolVar(&keep, "no-change-required", false, "do not make the account choose its own password at the next sign-in")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		a, u, done, err := f.open(cmd, args[0])
		if err != nil {
			return err
		}
		defer done()
		pw, err := readPassword(env, passwordFile)
		if err != nil {
			return err
		}
		if err := a.Users.SetPassword(cmd.Context(), u.ID, pw, !keep); err != nil {
			return userErr(err)
		}
		if u, err = a.Store.UserByID(cmd.Context(), u.ID); err != nil {
			return err
		}
		if f.asJSON {
			return writeJSON(env.Stdout, toUserJSON(u))
		}
		if keep {
			fmt.Fprintln(env.Stdout, env.t("cli.user.password_set", "Name", u.Username, "ID", u.ID))
		} else {
			fmt.Fprintln(env.Stdout, env.t("cli.user.password_set_change", "Name", u.Username, "ID", u.ID))
		}
		return nil
	}
	return c
}

func userSuspendCmd(env Env, suspend bool) *cobra.Command {
	var f userFlags
	use, short := "suspend", "stop an account from signing in and launching (its work stays)"
	if !suspend {
		use, short = "unsuspend", "let a suspended account sign in and launch again"
	}
	c := &cobra.Command{Use: use + " ID|USERNAME", Short: short,
		Args: exactArgs(1, "the account's ID or username", "ltipub user "+use+" alice")}
	f.add(c)
	c.RunE = func(cmd *cobra.Command, args []string) error {
		a, u, done, err := f.open(cmd, args[0])
		if err != nil {
			return err
		}
		defer done()
		if suspend {
			u, err = a.Users.Suspend(cmd.Context(), u.ID)
		} else {
			u, err = a.Users.Unsuspend(cmd.Context(), u.ID)
		}
		if err != nil {
			return userErr(err)
		}
		if f.asJSON {
			return writeJSON(env.Stdout, toUserJSON(u))
		}
		fmt.Fprintln(env.Stdout, env.t("cli.user.now_"+userStatus(u), "Name", u.Username, "ID", u.ID))
		return nil
	}
	return c
}

func userUnlockCmd(env Env) *cobra.Command {
	var f userFlags
	c := &cobra.Command{Use: "unlock ID|USERNAME", Short: "lift the sign-in lock that too many failed passwords put on an account",
		Args: exactArgs(1, "the account's ID or username", "ltipub user unlock alice")}
	f.add(c)
	c.RunE = func(cmd *cobra.Command, args []string) error {
		a, u, done, err := f.open(cmd, args[0])
		if err != nil {
			return err
		}
		defer done()
		if err := a.Accounts.UnlockSignIn(cmd.Context(), u.Username); err != nil {
			return err
		}
		if f.asJSON {
			return writeJSON(env.Stdout, toUserJSON(u))
		}
		fmt.Fprintln(env.Stdout, env.t("cli.user.unlocked", "Name", u.Username, "ID", u.ID))
		return nil
	}
	return c
}

func userDeleteCmd(env Env) *cobra.Command {
	var f userFlags
	var yes bool
	c := &cobra.Command{Use: "delete ID|USERNAME", Short: "delete an account with its enrolments, grades and platform links (says which first)",
		Args: exactArgs(1, "the account's ID or username", "ltipub user delete alice --yes")}
	f.add(c)
	c.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		a, u, done, err := f.open(cmd, args[0])
		if err != nil {
			return err
		}
		defer done()
		deps, err := a.Users.Store.UserDependents(cmd.Context(), u.ID)
		if err != nil {
			return err
		}
		q := env.t("cli.user.delete_summary", "Name", u.Username, "ID", u.ID, "Accounts", deps.PlatformAccounts, "Enrolments", deps.Enrolments,
			"Grades", deps.Grades, "Submissions", deps.Submissions, "Attempts", deps.QuizAttempts, "Courses", deps.CoursesCreated)
		if !yes && !f.asJSON {
			fmt.Fprintln(env.Stderr, q)
		}
		if err := confirm(env, yes, env.t("cli.user.delete_confirm", "Name", u.Username)); err != nil {
			return err
		}
		if err := a.Users.Delete(cmd.Context(), u.ID); err != nil {
			return userErr(err)
		}
		if f.asJSON {
			return writeJSON(env.Stdout, struct {
				ID         int64              `json:"id"`
				Username   string             `json:"username"`
				Deleted    bool               `json:"deleted"`
				Dependents account.Dependents `json:"deleted_with_it"`
			}{u.ID, u.Username, true, deps})
		}
		fmt.Fprintln(env.Stdout, env.t("cli.user.deleted", "Name", u.Username, "ID", u.ID, "Accounts", deps.PlatformAccounts,
			"Enrolments", deps.Enrolments, "Grades", deps.Grades))
		return nil
	}
	return c
}

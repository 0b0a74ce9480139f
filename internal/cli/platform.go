package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/internal/tool"
)

func platformCmd(env Env) *cobra.Command {
	return group("platform", "register LTI platforms (the manual way; dynamic registration needs the server)",
		platformAddCmd(env), platformSetCmd(env), platformListCmd(env), platformShowCmd(env), platformDeleteCmd(env),
		platformCheckCmd(env))
}

func deploymentCmd(env Env) *cobra.Command {
	return group("deployment", "manage a platform registration's deployment IDs", deploymentAddCmd(env), deploymentRemoveCmd(env))
}

// platformFlags are the flags every platform and deployment command shares.
type platformFlags struct {
	dsn, baseURL string
	allowPrivate bool
	asJSON       bool
}

func (f *platformFlags) add(fs *pflag.FlagSet) {
	config.AddDBFlag(fs, &f.dsn)
	config.AddBaseURLFlag(fs, &f.baseURL)
	allow, _ := strconv.ParseBool(os.Getenv("LTIPUB_ALLOW_PRIVATE_URLS"))
	fs.BoolVar(&f.allowPrivate, "allow-private-urls", allow,
		"accept http and loopback or private platform URLs; for development only (env LTIPUB_ALLOW_PRIVATE_URLS=1)")
	fs.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
}

// open opens the database and gives the registration service built as serve builds it; call done when done.
func (f *platformFlags) open(cmd *cobra.Command) (done func(), svc *tool.Service, err error) {
	a, done, err := openApp(cmd, f.dsn, appOptions{allowPrivate: f.allowPrivate})
	if err != nil {
		return nil, nil, err
	}
	return done, a.Platforms, nil
}

// openRegistration reads the registration ID, the first positional argument, and opens the database. The caller
// calls done.
func (f *platformFlags) openRegistration(cmd *cobra.Command, args []string) (id int64, done func(), svc *tool.Service, err error) {
	if id, err = parseID(args[0]); err != nil {
		return 0, nil, nil, err
	}
	done, svc, err = f.open(cmd)
	return id, done, svc, err
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageMsg("cli.platform.bad_id", "Arg", q(s))
	}
	return id, nil
}

// cliError turns the service's errors into a line that says what to fix.
func cliError(err error, id int64) error {
	var ve *tool.ValidationError
	var rf *tool.Refusal
	switch {
	case errors.As(err, &ve):
		return &worded{ve.Error(), ve}
	case errors.As(err, &rf):
		return &worded{fmt.Sprintf("%s %s", rf.Description, rf.Fix), rf}
	case errors.Is(err, store.ErrNotFound):
		return errText(nil, "cli.platform.not_found", "ID", id)
	}
	return err
}

func printRegistration(env Env, w io.Writer, r tool.Registration, urls *tool.ToolURLs) {
	fmt.Fprintf(w, "%d  %s  (%s)\n", r.ID, r.Name, env.t("cli.status."+r.Status()))
	rows := &table{width: 20}
	row := func(k, v string) {
		if v == "" {
			v = "-"
		}
		rows.add(env.t("cli.platform.row."+k), v)
	}
	row("issuer", r.Issuer)
	row("client_id", r.ClientID)
	row("keyset_url", r.JWKSURL)
	row("token_url", r.TokenURL)
	row("auth_url", r.AuthURL)
	if r.PlatformName != "" {
		row("platform", r.PlatformName)
	}
	var deps []string
	for _, d := range r.Deployments {
		deps = append(deps, d.DeploymentID)
	}
	row("deployments", strings.Join(deps, ", "))
	if urls != nil {
		urlRows(env, rows, *urls)
	}
	rows.print(w)
}

func printURLs(env Env, w io.Writer, u tool.ToolURLs) {
	rows := &table{width: 20}
	urlRows(env, rows, u)
	rows.print(w)
}

func urlRows(env Env, rows *table, u tool.ToolURLs) {
	if u.Registration != "" {
		rows.add(env.t("cli.platform.row.registration_url"), u.Registration)
	}
	rows.add(env.t("cli.platform.row.tool_url"), u.Tool)
	rows.add(env.t("cli.platform.row.login_url"), u.Login)
	rows.add("JWKS URL", u.JWKS)
	rows.add(env.t("cli.platform.row.deep_linking_url"), u.DeepLinking)
}

func platformAddCmd(env Env) *cobra.Command {
	var f platformFlags
	var name string
	c := &cobra.Command{Use: "add --name N", Short: "create a pending registration and print the tool's URLs (with a registration URL)", Args: noArgs}
	f.add(c.Flags())
	c.Flags().StringVar(&name, "name", "", "the platform's `name`, such as \"Moodle (production)\" (required)")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		done, svc, err := f.open(cmd)
		if err != nil {
			return err
		}
		defer done()
		reg, tok, err := svc.Create(ctx, name)
		if err != nil {
			return cliError(err, 0)
		}
		urls := svc.URLs(tok)
		if f.asJSON {
			return writeJSON(env.Stdout, toJSON(reg, urls))
		}
		fmt.Fprintln(env.Stdout, env.t("cli.platform.created", "ID", reg.ID, "Name", reg.Name))
		printURLs(env, env.Stdout, urls)
		fmt.Fprintln(env.Stdout, env.t("cli.platform.created_next", "ID", reg.ID))
		return nil
	}
	return c
}

func platformSetCmd(env Env) *cobra.Command {
	var f platformFlags
	var d tool.PlatformDetails
	c := &cobra.Command{Use: "set ID", Short: "set a registration's platform details (issuer, client ID, keyset, token and auth URLs)",
		Args: exactArgs(1, "the registration ID", "ltipub platform set 1 --issuer https://moodle.example.edu")}
	fs := c.Flags()
	f.add(fs)
	fs.StringVar(&d.Issuer, "issuer", "", "the platform's issuer (Platform ID) `URL`")
	fs.StringVar(&d.ClientID, "client-id", "", "the client `ID` the platform gave the tool")
	fs.StringVar(&d.JWKSURL, "jwks-url", "", "the platform's public keyset `URL`")
	fs.StringVar(&d.TokenURL, "token-url", "", "the platform's access token `URL`")
	fs.StringVar(&d.AuthURL, "auth-url", "", "the platform's authentication request `URL`")
	fs.StringVar(&d.TokenAudience, "token-audience", "", "the aud the platform's token endpoint demands, when it names one (Brightspace)")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		id, done, svc, err := f.openRegistration(cmd, args)
		if err != nil {
			return err
		}
		defer done()
		cur, err := svc.Get(ctx, id)
		if err != nil {
			return cliError(err, id)
		}
		// Flags left out keep their current value.
		keep := func(name string, v *string, current string) {
			if !fs.Changed(name) {
				*v = current
			}
		}
		keep("issuer", &d.Issuer, cur.Issuer)
		keep("client-id", &d.ClientID, cur.ClientID)
		keep("jwks-url", &d.JWKSURL, cur.JWKSURL)
		keep("token-url", &d.TokenURL, cur.TokenURL)
		keep("auth-url", &d.AuthURL, cur.AuthURL)
		keep("token-audience", &d.TokenAudience, cur.TokenAudience)
		reg, err := svc.SetPlatformDetails(ctx, id, d)
		if err != nil {
			return cliError(err, id)
		}
		if f.asJSON {
			return writeJSON(env.Stdout, toJSON(reg, svc.URLs("")))
		}
		printRegistration(env, env.Stdout, reg, nil)
		return nil
	}
	return c
}

func platformListCmd(env Env) *cobra.Command {
	var f platformFlags
	c := &cobra.Command{Use: "list", Short: "list platform registrations", Args: noArgs}
	f.add(c.Flags())
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		done, svc, err := f.open(cmd)
		if err != nil {
			return err
		}
		defer done()
		regs, err := svc.List(ctx)
		if err != nil {
			return err
		}
		if f.asJSON {
			out := []registrationJSON{}
			for _, r := range regs {
				out = append(out, toJSON(r, svc.URLs("")))
			}
			return writeJSON(env.Stdout, out)
		}
		if len(regs) == 0 {
			fmt.Fprintln(env.Stdout, env.t("cli.platform.none"))
			return nil
		}
		// The status column is as wide as its longest word in the operator's language (8 in English).
		sw := max(8, utf8.RuneCountInString(env.t("cli.platform.col.status")))
		for _, r := range regs {
			sw = max(sw, utf8.RuneCountInString(env.t("cli.status."+r.Status())))
		}
		pad := func(s string, n int) string { return s + strings.Repeat(" ", max(0, n-utf8.RuneCountInString(s))) }
		fmt.Fprintf(env.Stdout, "%-5s %s %s %s %s\n", "ID", pad(env.t("cli.platform.col.status"), sw), pad(env.t("cli.user.col.name"), 28),
			pad(env.t("cli.platform.col.issuer"), 36), env.t("cli.platform.col.client_id"))
		for _, r := range regs {
			fmt.Fprintf(env.Stdout, "%-5d %s %-28s %-36s %s\n", r.ID, pad(env.t("cli.status."+r.Status()), sw), r.Name, r.Issuer, r.ClientID)
		}
		return nil
	}
	return c
}

func platformShowCmd(env Env) *cobra.Command {
	var f platformFlags
	c := &cobra.Command{Use: "show ID", Short: "show one registration with its deployments and the tool's URLs",
		Args: exactArgs(1, "the registration ID", "ltipub platform show 1")}
	f.add(c.Flags())
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		id, done, svc, err := f.openRegistration(cmd, args)
		if err != nil {
			return err
		}
		defer done()
		reg, err := svc.Get(ctx, id)
		if err != nil {
			return cliError(err, id)
		}
		urls := svc.URLs("")
		if f.asJSON {
			return writeJSON(env.Stdout, toJSON(reg, urls))
		}
		printRegistration(env, env.Stdout, reg, &urls)
		return nil
	}
	return c
}

func platformDeleteCmd(env Env) *cobra.Command {
	var f platformFlags
	var yes bool
	c := &cobra.Command{Use: "delete ID", Short: "delete a registration with its deployments (its launch log lines are kept)",
		Args: exactArgs(1, "the registration ID", "ltipub platform delete 1 --yes")}
	f.add(c.Flags())
	c.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		id, done, svc, err := f.openRegistration(cmd, args)
		if err != nil {
			return err
		}
		defer done()
		reg, deps, err := svc.Dependents(ctx, id)
		if err != nil {
			return cliError(err, id)
		}
		if err := confirm(env, yes, env.t("cli.platform.delete_confirm", "ID", id, "Name", reg.Name, "Deployments", deps.Deployments)); err != nil {
			return err
		}
		if err := svc.Delete(ctx, id); err != nil {
			return cliError(err, id)
		}
		if f.asJSON {
			return writeJSON(env.Stdout, map[string]any{"id": id, "deleted": true, "deployments_deleted": deps.Deployments,
				"launch_log_lines_kept": deps.LaunchLogLines})
		}
		fmt.Fprintln(env.Stdout, env.t("cli.platform.deleted", "ID", id, "Name", reg.Name, "Deployments", deps.Deployments,
			"Lines", deps.LaunchLogLines))
		return nil
	}
	return c
}

func deploymentAddCmd(env Env) *cobra.Command {
	var f platformFlags
	var depID, name string
	c := &cobra.Command{Use: "add ID --deployment-id D", Short: "add a deployment ID to a registration",
		Args: exactArgs(1, "the registration ID", "ltipub deployment add 1 --deployment-id 2")}
	f.add(c.Flags())
	c.Flags().StringVar(&depID, "deployment-id", "", "the deployment `ID` the platform shows (required)")
	c.Flags().StringVar(&name, "name", "", "a `name` for the deployment")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		id, done, svc, err := f.openRegistration(cmd, args)
		if err != nil {
			return err
		}
		defer done()
		reg, err := svc.AddDeployment(ctx, id, depID, name)
		if err != nil {
			return cliError(err, id)
		}
		if f.asJSON {
			return writeJSON(env.Stdout, toJSON(reg, svc.URLs("")))
		}
		fmt.Fprintln(env.Stdout, env.t("cli.deployment.added", "Deployment", depID, "ID", id, "Name", reg.Name, "Status", env.t("cli.status."+reg.Status())))
		return nil
	}
	return c
}

func deploymentRemoveCmd(env Env) *cobra.Command {
	var f platformFlags
	var force, yes bool
	c := &cobra.Command{Use: "remove ID DEPLOYMENT_ID", Short: "remove a deployment ID from a registration",
		Args: exactArgs(2, "the registration ID and the deployment ID", "ltipub deployment remove 1 2")}
	f.add(c.Flags())
	c.Flags().BoolVar(&force, "force", false, "remove the last deployment even though the registration has launched (asks first; --yes does not ask)")
	c.Flags().BoolVarP(&yes, "yes", "y", false, "with --force: remove without asking")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		pos := args
		id, done, svc, err := f.openRegistration(cmd, args)
		if err != nil {
			return err
		}
		defer done()
		// Try without force first: only removing the last deployment of a registration in use needs it, and only
		// that asks for confirmation.
		err = svc.RemoveDeployment(ctx, id, pos[1], false)
		if errors.Is(err, tool.ErrLastDeploymentInUse) {
			if !force {
				return errText(cliError(err, id), "cli.deployment.force_hint")
			}
			q := env.t("cli.deployment.remove_confirm", "Deployment", pos[1], "ID", id)
			if err := confirm(env, yes, q); err != nil {
				return err
			}
			err = svc.RemoveDeployment(ctx, id, pos[1], true)
		}
		if err != nil {
			return cliError(err, id)
		}
		reg, err := svc.Get(ctx, id)
		if err != nil {
			return err
		}
		if f.asJSON {
			return writeJSON(env.Stdout, toJSON(reg, svc.URLs("")))
		}
		fmt.Fprintln(env.Stdout, env.t("cli.deployment.removed", "Deployment", pos[1], "ID", id, "Name", reg.Name, "Status", env.t("cli.status."+reg.Status())))
		return nil
	}
	return c
}

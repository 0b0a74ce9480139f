package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/keys"
)

func keysCmd(env Env) *cobra.Command {
	return group("keys", "the tool's signing keys (published at /lti/jwks)", keysListCmd(env), keysRotateCmd(env))
}

type keyJSON struct {
	KID       string    `json:"kid"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	RetireAt  time.Time `json:"retire_at,omitzero"`
}

func keysListCmd(env Env) *cobra.Command {
	var dsn string
	var asJSON bool
	c := &cobra.Command{Use: "list", Short: "list the published keys (active first)", Args: noArgs}
	config.AddDBFlag(c.Flags(), &dsn)
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		a, done, err := openApp(cmd, dsn, appOptions{})
		if err != nil {
			return err
		}
		defer done()
		m := a.Keys
		if err := m.Ensure(ctx); err != nil {
			return err
		}
		ks, err := m.Keys(ctx)
		if err != nil {
			return err
		}
		return printKeys(env, ks, asJSON)
	}
	return c
}

func keysRotateCmd(env Env) *cobra.Command {
	var dsn string
	var overlap time.Duration
	var asJSON bool
	c := &cobra.Command{Use: "rotate", Short: "make a new active key; the previous one stays published for the overlap, then retires", Args: noArgs}
	config.AddDBFlag(c.Flags(), &dsn)
	c.Flags().DurationVar(&overlap, "overlap", 72*time.Hour, "how long the previous key stays in the JWKS, so platforms that cached it keep verifying")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if overlap < 0 {
			return usageMsg("cli.keys.overlap")
		}
		a, done, err := openApp(cmd, dsn, appOptions{configure: func(c *config.Config) { c.KeyOverlap = overlap }})
		if err != nil {
			return err
		}
		defer done()
		m := a.Keys
		if err := m.Ensure(ctx); err != nil {
			return err
		}
		if _, err := m.Rotate(ctx); err != nil {
			return err
		}
		ks, err := m.Keys(ctx)
		if err != nil {
			return err
		}
		if !asJSON {
			fmt.Fprintln(env.Stdout, env.t("cli.keys.rotated", "KID", ks[0].Signing.KID))
		}
		return printKeys(env, ks, asJSON)
	}
	return c
}

func printKeys(env Env, ks []keys.Key, asJSON bool) error {
	out := make([]keyJSON, 0, len(ks))
	for _, k := range ks {
		out = append(out, keyJSON{KID: k.Signing.KID, Status: k.Status, CreatedAt: k.CreatedAt, RetireAt: k.RetireAt})
	}
	if asJSON {
		return json.NewEncoder(env.Stdout).Encode(out)
	}
	statusWidth := 8 // the English layout; wider when a language's status words are longer
	for _, k := range out {
		statusWidth = max(statusWidth, utf8.RuneCountInString(env.t("cli.keys.status."+k.Status)))
	}
	for _, k := range out {
		status := env.t("cli.keys.status." + k.Status)
		line := fmt.Sprintf("%-44s %s%s %s", k.KID, status, strings.Repeat(" ", max(0, statusWidth-utf8.RuneCountInString(status))),
			env.t("cli.keys.created", "When", k.CreatedAt.Format(time.RFC3339)))
		if !k.RetireAt.IsZero() {
			line += env.t("cli.keys.until", "When", k.RetireAt.Format(time.RFC3339))
		}
		fmt.Fprintln(env.Stdout, line)
	}
	return nil
}

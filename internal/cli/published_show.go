package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/store"
)

// publishedShowCmd is `ltipub published show UUID`: one resource with its LTI 1.3 and legacy LTI 1.1 details.
func publishedShowCmd(env Env) *cobra.Command {
	var dsn, baseURL string
	var asJSON bool
	c := &cobra.Command{Use: "show UUID", Short: "show one published resource, with its LTI 1.1 (legacy) launch URL, cartridge URL and secret, and its LTI 2.0 registration URL",
		Args: exactArgs(1, "the resource's UUID", "ltipub published show 5f0c… (ltipub published list shows them)")}
	fs := c.Flags()
	config.AddDBFlag(fs, &dsn)
	config.AddBaseURLFlag(fs, &baseURL)
	fs.BoolVar(&asJSON, "json", false, "print the resource as JSON")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		pos := args
		a, done, err := openApp(cmd, dsn, appOptions{})
		if err != nil {
			return err
		}
		defer done()
		r, err := a.Store.ResourceByUUID(ctx, pos[0])
		if errors.Is(err, store.ErrNotFound) {
			return errText(nil, "cli.published.not_found", "UUID", q(pos[0]))
		}
		if err != nil {
			return err
		}
		base := a.Config.BaseURL
		out := toResourceJSON(r, base)
		if asJSON {
			return json.NewEncoder(env.Stdout).Encode(out)
		}
		fmt.Fprintf(env.Stdout, "%s (id %d, uuid %s)\n", r.Name, r.ID, r.UUID)
		// Labels align past the longest (10 columns in English); the consumer key and the LTI 2.0 line are set apart.
		launch, custom, cartridge, secret := env.t("cli.published.row.launch_url"), env.t("cli.published.row.custom"),
			env.t("cli.published.row.cartridge"), env.t("cli.published.row.secret")
		width := 10
		for _, l := range []string{launch, custom, cartridge, secret} {
			width = max(width, utf8.RuneCountInString(l))
		}
		pad := func(l string) string { return l + strings.Repeat(" ", width-utf8.RuneCountInString(l)) }
		const indent = "          "
		fmt.Fprintf(env.Stdout, "LTI 1.3   %s %s\n%s%s %s\n", pad(launch), out.LaunchURL, indent, pad(custom), out.Custom)
		fmt.Fprintf(env.Stdout, "LTI 1.1   %s %s\n%s%s %s\n%s%s %s\n%s%s: %s\n", pad(launch), out.Legacy.LaunchURL,
			indent, pad(cartridge), out.Legacy.CartridgeURL, indent, pad(secret), out.Legacy.Secret,
			indent, env.t("cli.published.row.consumer_key"), env.t("cli.published.any_consumer_key"))
		if out.Legacy.RegistrationURL != "" {
			fmt.Fprintf(env.Stdout, "LTI 2.0   %s %s\n", env.t("cli.published.row.registration_url"), out.Legacy.RegistrationURL)
		}
		return nil
	}
	return c
}

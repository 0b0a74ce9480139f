package cli

import (
	"encoding/json"
	"errors"
	"fmt"

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
			return fmt.Errorf("no published resource has uuid %q (ltipub published list shows them)", pos[0])
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
		fmt.Fprintf(env.Stdout, "LTI 1.3   launch URL %s\n          custom     %s\n", out.LaunchURL, out.Custom)
		fmt.Fprintf(env.Stdout, "LTI 1.1   launch URL %s\n          cartridge  %s\n          secret     %s\n          consumer key: %s\n",
			out.Legacy.LaunchURL, out.Legacy.CartridgeURL, out.Legacy.Secret, out.Legacy.ConsumerKey)
		if out.Legacy.RegistrationURL != "" {
			fmt.Fprintf(env.Stdout, "LTI 2.0   registration URL %s\n", out.Legacy.RegistrationURL)
		}
		return nil
	}
	return c
}

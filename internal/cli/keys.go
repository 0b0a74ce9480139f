package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ltipub/ltipub/internal/app"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/keys"
	"github.com/ltipub/ltipub/internal/logging"
)

func keysCmd() *Command {
	return &Command{Name: "keys", Summary: "the tool's signing keys (published at /lti/jwks)", Sub: []*Command{keysListCmd(), keysRotateCmd()}}
}

type keyJSON struct {
	KID       string    `json:"kid"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	RetireAt  time.Time `json:"retire_at,omitzero"`
}

func keysListCmd() *Command {
	c := &Command{Name: "list", Summary: "list the published keys (active first)"}
	c.Run = func(ctx context.Context, env Env, args []string) error {
		var dsn string
		var asJSON bool
		fs := newFlags(env, "ltipub keys list", c.Summary, "")
		config.AddDBFlag(fs, &dsn)
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		st, err := app.OpenStore(ctx, dsn, logging.Discard())
		if err != nil {
			return err
		}
		defer st.Close()
		m := keys.NewManager(st, 0, nil)
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

func keysRotateCmd() *Command {
	c := &Command{Name: "rotate", Summary: "make a new active key; the previous one stays published for the overlap, then retires"}
	c.Run = func(ctx context.Context, env Env, args []string) error {
		var dsn string
		var overlap time.Duration
		var asJSON bool
		fs := newFlags(env, "ltipub keys rotate", c.Summary, "")
		config.AddDBFlag(fs, &dsn)
		fs.DurationVar(&overlap, "overlap", 72*time.Hour, "how long the previous key stays in the JWKS, so platforms that cached it keep verifying")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		if overlap < 0 {
			return fmt.Errorf("--overlap must not be negative")
		}
		st, err := app.OpenStore(ctx, dsn, logging.Discard())
		if err != nil {
			return err
		}
		defer st.Close()
		m := keys.NewManager(st, overlap, nil)
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
			fmt.Fprintf(env.Stdout, "rotated: %s is now active; running servers pick it up within 30 seconds\n", ks[0].Signing.KID)
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
	for _, k := range out {
		line := fmt.Sprintf("%-44s %-8s created %s", k.KID, k.Status, k.CreatedAt.Format(time.RFC3339))
		if !k.RetireAt.IsZero() {
			line += ", published until " + k.RetireAt.Format(time.RFC3339)
		}
		fmt.Fprintln(env.Stdout, line)
	}
	return nil
}

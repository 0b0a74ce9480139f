package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/ltipub/ltipub/internal/account"
)

// UnlockOptions are the inputs of UnlockSignIn.
type UnlockOptions struct {
	DSN      string
	Username string
	Log      *slog.Logger
}

// UnlockSignIn forgets every failed sign-in of a username (from every address), so that its owner can sign in at
// once; it is the logic of `ltipub user unlock USERNAME` and tells w what it did.
func UnlockSignIn(ctx context.Context, opts UnlockOptions, w io.Writer) error {
	if opts.Username == "" {
		return fmt.Errorf("unlock: a username is required")
	}
	st, err := OpenStore(ctx, opts.DSN, opts.Log)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := (&account.Service{Store: st, Failures: st}).Unlock(ctx, opts.Username)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "sign-in for %q unlocked: %d failed sign-ins forgotten\n", opts.Username, n)
	return nil
}

package app_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/app"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
)

func TestUnlockSignIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := sqltest.DSN(t, sqlstore.SQLite)
	st, err := app.OpenStore(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		if err := st.RecordLoginFailure(ctx, "admin", c, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	var out bytes.Buffer
	if err := app.UnlockSignIn(ctx, app.UnlockOptions{DSN: dsn, Username: "Admin"}, &out); err != nil || !strings.Contains(out.String(), "3 failed sign-ins forgotten") {
		t.Fatalf("unlock: %v %q", err, out.String())
	}
	st, _ = app.OpenStore(ctx, dsn, nil)
	defer st.Close()
	if fc, _ := st.LoginFailures(ctx, "admin", "192.0.2.1", time.Time{}, time.Time{}); fc.Account.N != 0 {
		t.Fatalf("failures left after unlock: %+v", fc)
	}
}

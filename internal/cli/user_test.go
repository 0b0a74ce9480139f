package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/app"
)

func runIn(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}, args)
	return out.String(), errb.String(), code
}

func TestUserCommands(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	for _, name := range []string{"alice", "bob", "carol"} {
		if _, errOut, code := runIn(t, "a long enough password\n", "user", "create", "--username", name, "--name", strings.ToUpper(name[:1])+name[1:]+" Example", "--db", db, "--admin"); code != 0 {
			t.Fatalf("user create %s: %d %s", name, code, errOut)
		}
	}
	var list []userJSON
	out, errOut, code := run(t, "user", "list", "--db", db, "--json", "--limit", "2")
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 || list[0].Username != "alice" || !list[0].Admin {
		t.Fatalf("user list: %d %s %s", code, out, errOut)
	}
	if out, _, _ := run(t, "user", "list", "--db", db, "--limit", "2"); !strings.Contains(out, "more: ltipub user list --after bob") {
		t.Fatalf("user list says how to get the next page: %s", out)
	}
	if out, _, _ := run(t, "user", "list", "--after", "bob", "--db", db, "--json"); !strings.Contains(out, `"username":"carol"`) || strings.Contains(out, "bob") {
		t.Fatalf("second page: %s", out)
	}
	if out, _, _ := run(t, "user", "list", "-q", "CAROL ex", "--db", db, "--json"); json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 {
		t.Fatalf("search: %s", out)
	}

	// Suspend by username, show by id; the shape is the same.
	var u userJSON
	out, errOut, code = run(t, "user", "suspend", "bob", "--db", db, "--json")
	if code != 0 || json.Unmarshal([]byte(out), &u) != nil || !u.Suspended || u.SuspendedAt.IsZero() {
		t.Fatalf("suspend: %d %s %s", code, out, errOut)
	}
	out, _, code = run(t, "user", "show", "--json", "--db", db, itoa(u.ID))
	var shown userJSON
	if code != 0 || json.Unmarshal([]byte(out), &shown) != nil || !shown.Suspended || shown.Username != "bob" || shown.Locked == nil || *shown.Locked {
		t.Fatalf("show: %d %s", code, out)
	}
	if out, _, code := run(t, "user", "unsuspend", "bob", "--db", db); code != 0 || !strings.Contains(out, "is now active") {
		t.Fatalf("unsuspend: %d %s", code, out)
	}

	// Passwords: from a file or standard input; a short one is refused by its rule.
	pwFile := filepath.Join(t.TempDir(), "pw")
	_ = os.WriteFile(pwFile, []byte("another good password\n"), 0o600)
	out, errOut, code = run(t, "user", "set-password", "carol", "--password-file", pwFile, "--db", db, "--json")
	if code != 0 || json.Unmarshal([]byte(out), &u) != nil || !u.MustChangePassword {
		t.Fatalf("set-password: %d %s %s", code, out, errOut)
	}
	if _, errOut, code := runIn(t, "short\n", "user", "set-password", "carol", "--db", db); code != 1 || !strings.Contains(errOut, "at least 10") {
		t.Fatalf("short password: %d %s", code, errOut)
	}
	if out, _, code := runIn(t, "a third good password\n", "user", "set-password", "carol", "--no-change-required", "--db", db, "--json"); code != 0 ||
		!strings.Contains(out, `"must_change_password":false`) {
		t.Fatalf("set-password --no-change-required: %d %s", code, out)
	}
	// Unlock forgets the username's failed sign-ins from every address.
	st, err := app.OpenStore(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		if err := st.RecordLoginFailure(context.Background(), "carol", c, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	if out, errOut, code := run(t, "user", "unlock", "carol", "--db", db); code != 0 || !strings.Contains(out, "unlocked") {
		t.Fatalf("unlock: %d %s %s", code, out, errOut)
	}
	st, err = app.OpenStore(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := st.LoginFailures(context.Background(), "carol", "192.0.2.1", time.Time{}, time.Time{})
	st.Close()
	if err != nil || fc.Account.N != 0 {
		t.Fatalf("failures left after unlock: %+v %v", fc, err)
	}

	// Delete asks (refuses without a terminal or --yes), shows what goes with the account, and keeps the last admin.
	if _, errOut, code := run(t, "user", "delete", "bob", "--db", db); code != 2 || !strings.Contains(errOut, "add --yes") ||
		!strings.Contains(errOut, "0 enrolment(s)") {
		t.Fatalf("delete without --yes: %d %s", code, errOut)
	}
	if out, errOut, code := run(t, "user", "delete", "bob", "--yes", "--db", db, "--json"); code != 0 || !strings.Contains(out, `"deleted":true`) {
		t.Fatalf("delete: %d %s %s", code, out, errOut)
	}
	run(t, "user", "delete", "carol", "--yes", "--db", db)
	if _, errOut, code := run(t, "user", "delete", "alice", "--yes", "--db", db); code != 1 || !strings.Contains(errOut, "only site administrator") {
		t.Fatalf("deleting the last admin: %d %s", code, errOut)
	}
	if _, errOut, code := run(t, "user", "show", "nobody", "--db", db); code != 1 || !strings.Contains(errOut, "ltipub user list") {
		t.Fatalf("unknown user: %d %s", code, errOut)
	}
}

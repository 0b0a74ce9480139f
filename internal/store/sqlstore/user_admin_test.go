package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
)

// User administration's queries on both engines: search in any case with LIKE's wildcards taken literally,
// keyset pages, suspension, the last admin, dependents, deletion.
func TestUserAdmin(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		svc := &account.Service{Store: s, Failures: s}
		adm := &account.Admin{Store: s, Accounts: svc}
		var ids []int64
		for i, n := range []string{"Ada Lovelace", "Alan Turing", "Grace 100% Hopper", "Edsger Dijkstra"} {
			u, err := svc.Create(ctx, account.NewUser{Username: fmt.Sprintf("user%d", i), FullName: n, Email: fmt.Sprintf("u%d@Example.edu", i),
				Password: "a long enough password", IsAdmin: i == 0})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		for q, want := range map[string]int{"": 4, "al": 1, "LOVE": 1, "a": 4, "example.EDU": 4, "100%": 1, "0%": 1, "_": 0, "%": 1} {
			if n, err := adm.Count(ctx, q); err != nil || n != want {
				t.Errorf("count %q = %d %v, want %d", q, n, err, want)
			}
		}
		page, more, err := adm.List(ctx, account.UserFilter{Limit: 3})
		if err != nil || len(page) != 3 || !more || page[0].Username != "user0" {
			t.Fatalf("first page: %v %v %v", page, more, err)
		}
		page, more, _ = adm.List(ctx, account.UserFilter{Limit: 3, After: page[2].Username})
		if len(page) != 1 || more || page[0].Username != "user3" {
			t.Fatalf("second page: %v %v", page, more)
		}
		if _, err := adm.Suspend(ctx, ids[0]); err != account.ErrLastAdmin {
			t.Fatalf("suspending the only admin: %v", err)
		}
		u, err := adm.Suspend(ctx, ids[1])
		if err != nil || !u.Suspended() {
			t.Fatalf("suspend: %+v %v", u, err)
		}
		if got, _ := s.UserByID(ctx, ids[1]); got.SuspendedAt.Sub(u.SuspendedAt).Abs() > time.Millisecond {
			t.Fatalf("suspended at %v, stored %v", u.SuspendedAt, got.SuspendedAt)
		}
		if _, err := svc.Authenticate(ctx, "user1", "a long enough password"); err != account.ErrSuspended {
			t.Fatalf("a suspended account signed in: %v", err)
		}
		if u, _ = adm.Unsuspend(ctx, ids[1]); u.Suspended() {
			t.Fatal("still suspended")
		}
		if err := adm.SetPassword(ctx, ids[2], "a temporary password", true); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.UserByID(ctx, ids[2]); !got.MustChangePassword {
			t.Fatal("must change not recorded")
		}
		if err := svc.SetPassword(ctx, ids[2], "my own password now"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.UserByID(ctx, ids[2]); got.MustChangePassword {
			t.Fatal("choosing a password did not end the must-change")
		}
		if d, err := s.UserDependents(ctx, ids[3]); err != nil || d != (account.Dependents{}) {
			t.Fatalf("dependents: %+v %v", d, err)
		}
		if err := adm.Delete(ctx, ids[3]); err != nil {
			t.Fatal(err)
		}
		if err := adm.Delete(ctx, ids[0]); err != account.ErrLastAdmin {
			t.Fatalf("deleting the only admin: %v", err)
		}
		if n, _ := adm.Count(ctx, ""); n != 3 {
			t.Fatalf("%d accounts after a delete", n)
		}
	})
}

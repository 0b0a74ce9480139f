package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/site"
	"github.com/ltipub/ltipub/internal/store"
)

func testUsers(t *testing.T, s Stores) {
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 10, 0, 0, 123456000, time.UTC)
	u := account.User{Username: "ada", Email: "ada@example.org", FullName: "Ada Lovelace", PasswordHash: "h",
		Auth: account.AuthManual, IsAdmin: true, IsCourseCreator: true, Timezone: "Europe/London", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(ctx, &u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if u.ID == 0 {
		t.Fatal("CreateUser did not set the ID")
	}
	dup := u
	if err := s.CreateUser(ctx, &dup); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate username: got %v, want ErrAlreadyExists", err)
	}
	got, err := s.UserByUsername(ctx, "ada")
	if err != nil {
		t.Fatalf("UserByUsername: %v", err)
	}
	if got.ID != u.ID || got.Email != u.Email || got.FullName != u.FullName || !got.IsAdmin || got.Auth != account.AuthManual ||
		!got.CreatedAt.Equal(now) || got.Timezone != "Europe/London" || !got.LastLoginAt.IsZero() {
		t.Fatalf("UserByUsername = %+v, want the stored user", got)
	}
	if _, err := s.UserByID(ctx, u.ID+1000); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UserByID(unknown): got %v, want ErrNotFound", err)
	}
	login := now.Add(time.Hour)
	if err := s.TouchLogin(ctx, u.ID, login); err != nil {
		t.Fatal(err)
	}
	got.FullName, got.Auth = "Augusta Ada King", account.AuthLTI
	if err := s.UpdateUser(ctx, got); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if err := s.SetPasswordHash(ctx, u.ID, "h2"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.UserByID(ctx, u.ID)
	if got.FullName != "Augusta Ada King" || got.Auth != account.AuthLTI || got.PasswordHash != "h2" || !got.LastLoginAt.Equal(login) {
		t.Fatalf("after updates: %+v", got)
	}
	if err := s.UpdateUser(ctx, account.User{ID: u.ID + 1000, Username: "ghost"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateUser(unknown): got %v, want ErrNotFound", err)
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 1 {
		t.Fatalf("CountUsers = %d, %v; want 1", n, err)
	}
}

func testSettings(t *testing.T, s Stores) {
	ctx := context.Background()
	svc := site.NewService(s, 0, nil)
	v, err := svc.Get(ctx)
	if err != nil || v != site.Defaults {
		t.Fatalf("defaults: %+v, %v", v, err)
	}
	want := site.Settings{PublishingEnabled: false, AllowFrameEmbedding: true, DefaultLanguage: "es"}
	if err := svc.Put(ctx, want); err != nil {
		t.Fatal(err)
	}
	// A second service (another instance) reads what the first wrote.
	if v, err := site.NewService(s, 0, nil).Get(ctx); err != nil || v != want {
		t.Fatalf("other instance sees %+v, %v; want %+v", v, err, want)
	}
}

// testConcurrentWrites writes from many goroutines at once; none may fail or be lost.
func testConcurrentWrites(t *testing.T, s Stores) {
	ctx := context.Background()
	n := 40
	if raceEnabled {
		// Still several writers at once (what the test is about), but few enough that the queue on SQLite's
		// write lock stays inside the busy timeout while the race detector slows every statement down.
		n = 12
	}
	var wg sync.WaitGroup
	errs := make(chan error, n*2)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			now := time.Now()
			u := account.User{Username: fmt.Sprintf("user%02d", i), Auth: account.AuthManual, CreatedAt: now, UpdatedAt: now}
			if err := s.CreateUser(ctx, &u); err != nil {
				errs <- err
				return
			}
			if err := s.PutSettings(ctx, map[string]string{"k": fmt.Sprint(i), fmt.Sprint("k", i): "v"}, now); err != nil {
				errs <- err
			}
			if err := s.TouchLogin(ctx, u.ID, now); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write failed: %v", err)
	}
	if c, _ := s.CountUsers(ctx); c != n {
		t.Fatalf("%d users stored, want %d", c, n)
	}
	all, _ := s.Settings(ctx)
	if len(all) != n+1 {
		t.Fatalf("%d settings stored, want %d", len(all), n+1)
	}
}

func testLoginFailures(t *testing.T, s Stores) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		if err := s.RecordLoginFailure(ctx, "ada", "192.0.2.1", t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.RecordLoginFailure(ctx, "ada", "192.0.2.2", t0)
	_ = s.RecordLoginFailure(ctx, "bob", "192.0.2.1", t0)
	fc, err := s.LoginFailures(ctx, "ada", "192.0.2.1", t0.Add(time.Minute), t0.Add(time.Minute))
	want := account.FailureCounts{
		Account: account.FailureCount{N: 2, Last: t0.Add(2 * time.Minute)},
		Pair:    account.FailureCount{N: 2, Last: t0.Add(2 * time.Minute)},
		Client:  account.FailureCount{N: 2, Last: t0.Add(2 * time.Minute)},
	}
	if err != nil || !failureCountsEqual(fc, want) {
		t.Fatalf("failures since t0+1m = %+v, %v; want %+v", fc, err, want)
	}
	// The account's window and the client's differ.
	if fc, _ := s.LoginFailures(ctx, "ada", "192.0.2.1", t0.Add(90*time.Second), t0.Add(-time.Hour)); fc.Account.N != 1 || fc.Pair.N != 3 {
		t.Fatalf("account since t0+90s, client since t0-1h: %+v; want account 1, pair 3", fc)
	}
	fc, _ = s.LoginFailures(ctx, "ada", "192.0.2.1", t0.Add(-time.Hour), t0.Add(-time.Hour))
	if fc.Account.N != 4 || fc.Pair.N != 3 || fc.Client.N != 4 {
		t.Fatalf("all failures: %+v; want account 4, pair 3, client 4", fc)
	}
	if fc, _ := s.LoginFailures(ctx, "nobody", "198.51.100.1", t0.Add(-time.Hour), t0.Add(-time.Hour)); fc != (account.FailureCounts{}) {
		t.Fatalf("no failures: %+v", fc)
	}
	// Clearing ada's from one client leaves her others, and drops everyone's older than the cut-off.
	if err := s.ClearLoginFailures(ctx, "ada", "192.0.2.1", t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	fc, _ = s.LoginFailures(ctx, "ada", "192.0.2.1", t0.Add(-time.Hour), t0.Add(-time.Hour))
	if fc.Account.N != 0 || fc.Client.N != 0 {
		t.Fatalf("after clearing: %+v; want nothing left (bob's and ada's other client's were older)", fc)
	}
	_ = s.RecordLoginFailure(ctx, "ada", "192.0.2.3", t0.Add(time.Hour))
	_ = s.RecordLoginFailure(ctx, "ada", "192.0.2.4", t0.Add(time.Hour))
	if n, err := s.UnlockLogin(ctx, "ada"); err != nil || n != 2 {
		t.Fatalf("unlock: %d, %v; want 2", n, err)
	}
	if fc, _ := s.LoginFailures(ctx, "ada", "192.0.2.3", t0, t0); fc.Account.N != 0 {
		t.Fatalf("after unlock: %+v", fc)
	}
}

func failureCountsEqual(a, b account.FailureCounts) bool {
	eq := func(x, y account.FailureCount) bool { return x.N == y.N && x.Last.Equal(y.Last) }
	return eq(a.Account, b.Account) && eq(a.Pair, b.Pair) && eq(a.Client, b.Client)
}

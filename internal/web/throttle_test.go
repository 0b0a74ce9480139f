package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
)

// testClock is a clock the test moves by hand, shared by instances.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now().UTC()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func signIn(t *testing.T, inst *apptest.Instance, c *http.Client, username, password string) apptest.Response {
	t.Helper()
	return inst.PostForm(t, c, "/login", url.Values{"username": {username}, "password": {password}})
}

func retryAfter(t *testing.T, r apptest.Response) time.Duration {
	t.Helper()
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs <= 0 {
		t.Fatalf("429 without a usable Retry-After: %q", r.Header.Get("Retry-After"))
	}
	return time.Duration(secs) * time.Second
}

// ownerSignsIn signs the owner in from c, waiting (on the test clock) whenever told to, and returns how long that
// took; it fails the test beyond limit.
func ownerSignsIn(t *testing.T, inst *apptest.Instance, clock *testClock, c *http.Client, limit time.Duration) time.Duration {
	t.Helper()
	start := clock.Now()
	for {
		r := signIn(t, inst, c, "admin", apptest.AdminPassword)
		if r.StatusCode == http.StatusSeeOther {
			return clock.Now().Sub(start)
		}
		if r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("the owner's right password: %d %s", r.StatusCode, r.Body)
		}
		clock.Advance(retryAfter(t, r))
		if waited := clock.Now().Sub(start); waited > limit {
			t.Fatalf("the owner still waits after %s", waited)
		}
	}
}

// TestThrottleStrangerCannotLockOutOwner: a stranger's 1,000 wrong guesses for admin (one a second) are slowed to a
// handful of real checks, with ever longer waits; the owner, from another address, still signs in within a minute.
func TestThrottleStrangerCannotLockOutOwner(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	clock := newTestClock()
	inst.App.Accounts.Now = clock.Now
	stranger := inst.ClientFrom(t, "127.0.0.2")
	checked, refused := 0, 0
	var lastWait time.Duration
	for i := range 1000 {
		clock.Advance(time.Second)
		r := signIn(t, inst, stranger, "admin", fmt.Sprint("guess ", i))
		switch r.StatusCode {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
			refused++
			lastWait = max(lastWait, retryAfter(t, r))
			if !strings.Contains(r.Body, "from your network") {
				t.Fatalf("guess %d: the stranger's wait should be the stranger's own: %s", i, r.Body)
			}
		default:
			t.Fatalf("guess %d: %d", i, r.StatusCode)
		}
	}
	t.Logf("1000 guesses: %d checked, %d refused, longest wait %s", checked, refused, lastWait)
	if checked > 20 || lastWait < 4*time.Minute {
		t.Fatalf("the guessing client is not slowed: %d of 1000 guesses checked, longest wait %s", checked, lastWait)
	}
	// The right password from the guessing client is still refused: the lock is the client's.
	if r := signIn(t, inst, stranger, "admin", apptest.AdminPassword); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the guessing client's right password: %d, want 429", r.StatusCode)
	}
	took := ownerSignsIn(t, inst, clock, inst.ClientFrom(t, "127.0.0.3"), time.Minute)
	t.Logf("the owner signed in after %s", took)
}

// TestThrottleDistributedGuessing: guesses spread over many addresses slow the username itself down, to one check
// per account.AccountMaxDelay, and the owner still gets in within a minute.
func TestThrottleDistributedGuessing(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	clock := newTestClock()
	inst.App.Accounts.Now = clock.Now
	checked, accountWaits := 0, 0
	const guesses = 150
	for i := range guesses {
		clock.Advance(time.Second)
		r := signIn(t, inst, inst.ClientFrom(t, fmt.Sprintf("127.0.%d.%d", 10+i/200, 1+i%200)), "admin", "guess")
		switch r.StatusCode {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
			accountWaits++
			if w := retryAfter(t, r); w > account.AccountMaxDelay {
				t.Fatalf("a username's wait %s is longer than %s", w, account.AccountMaxDelay)
			}
		default:
			t.Fatalf("guess %d: %d", i, r.StatusCode)
		}
	}
	if max := account.AccountFreeFailures + guesses/int(account.AccountMaxDelay/time.Second) + 5; checked > max {
		t.Fatalf("%d of %d distributed guesses checked, want at most %d", checked, guesses, max)
	}
	ownerSignsIn(t, inst, clock, inst.ClientFrom(t, "127.0.1.250"), time.Minute)
}

// TestThrottleSharedAcrossInstances: two instances on one PostgreSQL database count the same failures.
func TestThrottleSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	first := apptest.Start(t, apptest.Options{Engine: sqlstore.Postgres})
	second := apptest.Start(t, apptest.Options{DSN: first.DSN, NoAdmin: true})
	clock := newTestClock()
	first.App.Accounts.Now, second.App.Accounts.Now = clock.Now, clock.Now
	for i := range account.PairFreeFailures {
		clock.Advance(time.Second)
		inst := []*apptest.Instance{first, second}[i%2]
		if r := signIn(t, inst, inst.ClientFrom(t, "127.0.0.2"), "admin", "guess"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, r.StatusCode)
		}
	}
	for _, inst := range []*apptest.Instance{first, second} {
		if r := signIn(t, inst, inst.ClientFrom(t, "127.0.0.2"), "admin", "guess"); r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s: after %d failures shared between instances the guesser must wait: %d", inst.URL, account.PairFreeFailures, r.StatusCode)
		}
	}
	if r := signIn(t, second, second.ClientFrom(t, "127.0.0.3"), "admin", apptest.AdminPassword); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the owner from another address: %d", r.StatusCode)
	}
}

// TestThrottleAdminUnlock: an admin's unlock lets a locked-out client try again at once.
func TestThrottleAdminUnlock(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	inst.EnsureUser(t, account.NewUser{Username: "ada", Password: "ada-password-1"})
	c := inst.ClientFrom(t, "127.0.0.2")
	for range account.PairFreeFailures {
		signIn(t, inst, c, "Ada", "wrong")
	}
	if r := signIn(t, inst, c, "ada", "ada-password-1"); r.StatusCode != http.StatusTooManyRequests || !strings.Contains(r.Body, "unlock") {
		t.Fatalf("locked: %d %s", r.StatusCode, r.Body)
	}
	admin := inst.ClientFrom(t, "127.0.0.3")
	inst.Login(t, admin, "admin", apptest.AdminPassword)
	if r := inst.Get(t, admin, "/admin/settings"); !strings.Contains(r.Body, `action="/admin/unlock"`) {
		t.Fatal("the settings page has no unlock form")
	}
	if r := inst.PostForm(t, admin, "/admin/unlock", url.Values{"username": {"ada"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("unlock: %d %s", r.StatusCode, r.Body)
	}
	if r := signIn(t, inst, c, "ada", "ada-password-1"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("after unlock: %d %s", r.StatusCode, r.Body)
	}
	// Only admins unlock.
	if r := inst.PostForm(t, c, "/admin/unlock", url.Values{"username": {"admin"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("unlock by a non-admin: %d", r.StatusCode)
	}
}

package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
)

// An admin finds an account made by a launch, sees where it comes from, suspends it (its next launch is refused
// with a clear page and a launch log line), lifts the suspension, sets its password and deletes it.
func TestUserAdministration(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	inst := w.inst
	if resp := w.browser(t).launch(spec("student-7", false, w.quizR)); resp.StatusCode != http.StatusOK {
		t.Fatalf("first launch: %d %s", resp.StatusCode, resp.Body)
	}
	student, ok := w.linkedUser(t, "student-7")
	if !ok {
		t.Fatal("the launch made no account")
	}
	admin := inst.Client(t)
	inst.Login(t, admin, "admin", "correct horse battery")
	id := strconv.FormatInt(student.ID, 10)

	// The list finds the account by part of its name, and its page shows the platform, the enrolment, the launch.
	if resp := inst.Get(t, admin, "/admin/users?q="+url.QueryEscape("person STUDENT-7")); resp.StatusCode != 200 ||
		!strings.Contains(resp.Body, `href="/admin/users/`+id+`"`) || !strings.Contains(resp.Body, "Showing 1–1 of 1 accounts that match.") {
		t.Fatalf("search: %d %s", resp.StatusCode, resp.Body)
	}
	resp := inst.Get(t, admin, "/admin/users/"+id)
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, w.p.Issuer()) || !strings.Contains(resp.Body, "student-7") ||
		!strings.Contains(resp.Body, w.course.FullName) || strings.Contains(resp.Body, `id="last-launch">—`) {
		t.Fatalf("user page: %d %s", resp.StatusCode, resp.Body)
	}

	// Suspended: the launch is refused with a page that says why, and the launch log has the line.
	if resp := inst.PostForm(t, admin, "/admin/users/"+id+"/suspend", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("suspend: %d %s", resp.StatusCode, resp.Body)
	}
	resp = w.browser(t).launch(spec("student-7", false, w.quizR))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Body, "is suspended") || !strings.Contains(resp.Body, "site administrator") {
		t.Fatalf("a suspended account's launch: %d %s", resp.StatusCode, resp.Body)
	}
	entries, err := inst.Store.LaunchLog(ctx, launch.LogFilter{Outcome: launch.Refused, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 || entries[0].Code != publish.CodeAccountSuspended || entries[0].Subject != "student-7" {
		t.Fatalf("launch log after the refused launch: %+v", entries)
	}
	// A suspended account cannot sign in with a password either, and the last admin cannot be suspended.
	if err := inst.App.Users.SetPassword(ctx, student.ID, "a long enough password", false); err != nil {
		t.Fatal(err)
	}
	if resp := inst.PostForm(t, inst.Client(t), "/login", url.Values{"username": {student.Username}, "password": {"a long enough password"}}); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(resp.Body, "suspended") {
		t.Fatalf("a suspended account's sign-in: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := inst.PostForm(t, admin, fmt.Sprintf("/admin/users/%d/suspend", inst.Admin.ID), nil); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(resp.Body, "only site administrator") {
		t.Fatalf("suspending the only admin: %d %s", resp.StatusCode, resp.Body)
	}

	inst.PostForm(t, admin, "/admin/users/"+id+"/unsuspend", nil)
	if resp := w.browser(t).launch(spec("student-7", false, w.quizR)); resp.StatusCode != http.StatusOK {
		t.Fatalf("launch after the suspension was lifted: %d %s", resp.StatusCode, resp.Body)
	}

	// A password set by the admin must be changed at the next sign-in; a mismatched confirmation is refused.
	if resp := inst.PostForm(t, admin, "/admin/users/"+id+"/password", url.Values{"password": {"temporary password 1"}, "confirm": {"other"}}); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(resp.Body, "confirmation differ") {
		t.Fatalf("mismatched confirmation: %d %s", resp.StatusCode, resp.Body)
	}
	inst.PostForm(t, admin, "/admin/users/"+id+"/password", url.Values{"password": {"temporary password 1"}, "confirm": {"temporary password 1"}, "must_change": {"on"}})
	c := inst.Client(t)
	inst.Login(t, c, student.Username, "temporary password 1")
	if resp := inst.Get(t, c, "/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/password" {
		t.Fatalf("a must-change account went elsewhere than the password page: %d %v", resp.StatusCode, resp.Header)
	}
	inst.PostForm(t, c, "/account/password", url.Values{"current": {"temporary password 1"}, "new": {"my own password 2"}, "confirm": {"my own password 2"}})
	if resp := inst.Get(t, c, "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after choosing a password: %d", resp.StatusCode)
	}

	// Unlock: ten failures make the username wait; the admin's unlock lifts it.
	for range account.AccountFreeFailures {
		inst.PostForm(t, inst.Client(t), "/login", url.Values{"username": {student.Username}, "password": {"wrong password"}})
	}
	if resp := inst.PostForm(t, inst.Client(t), "/login", url.Values{"username": {student.Username}, "password": {"my own password 2"}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("not locked after %d failures: %d", account.AccountFreeFailures, resp.StatusCode)
	}
	if resp := inst.Get(t, admin, "/admin/users/"+id); !strings.Contains(resp.Body, "sign-in locked") {
		t.Fatalf("the user page does not show the lock: %s", resp.Body)
	}
	inst.PostForm(t, admin, "/admin/users/"+id+"/unlock", nil)
	inst.Login(t, inst.Client(t), student.Username, "my own password 2")

	// Delete: the confirmation page lists what goes with the account.
	resp = inst.Get(t, admin, "/admin/users/"+id+"/delete")
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, "1 linked platform account(s)") || !strings.Contains(resp.Body, "1 enrolment(s)") {
		t.Fatalf("delete confirmation: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := inst.PostForm(t, admin, "/admin/users/"+id+"/delete", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", resp.StatusCode, resp.Body)
	}
	if _, ok := w.linkedUser(t, "student-7"); ok {
		t.Fatal("the platform link outlived the account")
	}
	if resp := inst.Get(t, admin, "/admin/users/"+id); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("deleted account's page: %d", resp.StatusCode)
	}
	// Non-admins see no user administration.
	if resp := inst.Get(t, c, "/admin/users"); resp.StatusCode == http.StatusOK {
		t.Fatal("a deleted account's session still reached the users list")
	}
}

// The users list pages by username and stays fast with 50,000 accounts, on both engines.
func TestUserListAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 50,000 accounts")
	}
	t.Parallel()
	for _, e := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(e), func(t *testing.T) { userListAtScale(t, e) })
	}
}

func userListAtScale(t *testing.T, engine sqlstore.Engine) {
	inst := apptest.Start(t, apptest.Options{Engine: engine})
	ctx := context.Background()
	now := time.Now().UnixMicro()
	// Bulk insert: account.Create hashes a password per account, which is not what this test measures.
	db := inst.Store.DB()
	const n = 50000
	for i := 0; i < n; i += 1000 {
		var sb strings.Builder
		sb.WriteString("INSERT INTO users (username, full_name, email, auth, created_at, updated_at) VALUES ")
		for j := i; j < i+1000; j++ {
			if j > i {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, "('u%05d', 'Learner %d', 'u%05d@school.example', 'lti', %d, %d)", j, j, j, now, now)
		}
		if _, err := db.ExecContext(ctx, sb.String()); err != nil {
			t.Fatal(err)
		}
	}
	admin := inst.Client(t)
	inst.Login(t, admin, "admin", "correct horse battery")
	for _, path := range []string{"/admin/users", "/admin/users?page=801", "/admin/users?q=learner+4999", "/admin/users?q=nobody-matches"} {
		start := time.Now()
		resp := inst.Get(t, admin, path)
		took := time.Since(start)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		// The time is a figure for the notes (it depends on the machine and the race detector), not an assertion.
		t.Logf("%s with %d accounts: %v", path, n, took)
	}
	resp := inst.Get(t, admin, "/admin/users?page=801")
	if !strings.Contains(resp.Body, ">u39999<") || strings.Contains(resp.Body, ">u39998<") || !strings.Contains(resp.Body, "page=802") ||
		!strings.Contains(resp.Body, "Showing 40,001–40,050 of 50,001 accounts.") {
		t.Fatalf("page 801: %s", resp.Body)
	}
	if resp := inst.Get(t, admin, "/admin/users?q=learner+4999"); !strings.Contains(resp.Body, "of 11 accounts that match.") {
		t.Fatalf("search: %s", resp.Body)
	}
}

package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
)

// ltipub user merge shows what each account holds, asks (or takes --yes), and merges in one go: both were
// enrolled in the course and both attempted its quiz, so the merge resolves both and says how.
func TestUserMergeCommand(t *testing.T) {
	t.Parallel()
	for _, e := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			userMergeCommand(t, e)
		})
	}
}

func userMergeCommand(t *testing.T, e sqlstore.Engine) {
	ctx := context.Background()
	var db, key string
	if e == sqlstore.SQLite {
		db = newDB(t)
	} else {
		db = sqltest.DSN(t, e)
		key = filepath.Join(t.TempDir(), "secrets.key")
		if _, errOut, code := run(t, "secrets", "new-key", "--file", key); code != 0 {
			t.Fatalf("secrets new-key: %s", errOut)
		}
	}
	cmd := func(stdin string, args ...string) (string, string, int) {
		t.Helper()
		args = append(args, "--db", db)
		if key != "" {
			args = append(args, "--secrets-key-file", key)
		}
		return runIn(t, stdin, args...)
	}
	for _, name := range []string{"boss", "alice", "alice2"} {
		if _, errOut, code := cmd("a long enough password\n", "user", "create", "--username", name, "--admin"); code != 0 {
			t.Fatalf("user create %s: %s", name, errOut)
		}
	}
	example, _ := filepath.Abs("../../examples/course.json")
	out, errOut, code := cmd("", "course", "import", example, "--teacher", "boss", "--json")
	var c courseJSON
	if code != 0 || json.Unmarshal([]byte(out), &c) != nil {
		t.Fatalf("course import: %s", errOut)
	}
	var quiz int64
	for _, a := range c.Activities {
		if a.Type == "quiz" {
			quiz = a.ID
		}
	}
	// Both accounts are the same student: enrolled, and each has an attempt at the quiz.
	a, done, err := openAppAt(ctx, db, config.DefaultBaseURL, false, appOptions{keyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i, name := range []string{"alice", "alice2"} {
		u, err := a.Users.Find(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
		at := time.Now().Add(time.Duration(i) * time.Minute)
		if err := a.Store.CreateEnrolment(ctx, &course.Enrolment{CourseID: c.ID, UserID: u.ID, Role: course.RoleStudent,
			Status: course.StatusActive, Method: course.MethodManual, CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Courses.SubmitQuiz(ctx, &u, quiz, course.Answers{}); err != nil {
			t.Fatal(err)
		}
	}
	done()

	// Without --yes and without a terminal: what each holds is shown, nothing changes.
	out, errOut, code = cmd("", "user", "merge", "alice", "alice2")
	if strings.Contains(out, "merged") {
		t.Fatalf("an unconfirmed merge says it merged: %s", out)
	}
	for _, want := range []string{"Keep: alice (id", "Merge into it, then delete: alice2", "quiz attempts: 1", "add --yes", "renumbered"} {
		if code == 0 || !strings.Contains(errOut, want) {
			t.Fatalf("merge without --yes: %d, %q missing from %s", code, want, errOut)
		}
	}
	if _, _, code := cmd("", "user", "show", "alice2"); code != 0 {
		t.Fatal("a merge nobody confirmed deleted the account")
	}
	if _, errOut, code := cmd("", "user", "merge", "alice", "alice", "--yes"); code == 0 || !strings.Contains(errOut, "same account") {
		t.Fatalf("merge into itself: %d %s", code, errOut)
	}
	if _, errOut, code := cmd("", "user", "merge", "alice", "nobody", "--yes"); code == 0 || !strings.Contains(errOut, "ltipub user list") {
		t.Fatalf("merge of an unknown account: %d %s", code, errOut)
	}

	out, errOut, code = cmd("", "user", "merge", "alice", "alice2", "--yes")
	if code != 0 || !strings.Contains(out, "merged alice2") || !strings.Contains(out, "both were enrolled") || !strings.Contains(out, "renumbered") {
		t.Fatalf("merge: %d %s %s", code, out, errOut)
	}
	if _, _, code := cmd("", "user", "show", "alice2"); code == 0 {
		t.Fatal("the merged account still exists")
	}
	a, done, err = openAppAt(ctx, db, config.DefaultBaseURL, false, appOptions{keyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	atts, err := a.Store.Attempts(ctx, quiz, ids[0])
	if err != nil || len(atts) != 2 || atts[0].Number+atts[1].Number != 3 {
		t.Fatalf("attempts after the merge: %+v %v", atts, err)
	}
	es, err := a.Store.EnrolmentsOf(ctx, c.ID, ids[0])
	if err != nil || len(es) != 1 {
		t.Fatalf("enrolments after the merge: %+v %v", es, err)
	}
	var n int
	var summary string
	if err := a.Store.DB().QueryRowContext(ctx, `SELECT COUNT(*), MAX(summary) FROM account_merges WHERE dropped_username = 'alice2'`).Scan(&n, &summary); err != nil || n != 1 {
		t.Fatalf("merge record: %d %v", n, err)
	}
	if !strings.Contains(summary, "1 quiz attempt(s)") {
		t.Fatalf("merge record summary: %s", summary)
	}
}

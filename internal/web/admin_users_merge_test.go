package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
)

// The Moodle case of issue 22 before the migration claim: one student launched over LTI 1.3 (no lti1p1 claim)
// and over LTI 1.1, and has two accounts, both enrolled in the course, both with a quiz attempt. An admin merges
// them on the users pages: what each holds is shown first with what the merge will resolve, then one account
// holds both platform identities, both attempts and one enrolment, and both kinds of launch land in it.
func TestAccountMergePage(t *testing.T) {
	t.Parallel()
	for _, e := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			accountMergePage(t, e)
		})
	}
}

func accountMergePage(t *testing.T, e sqlstore.Engine) {
	w := newMigrationWorld(t, apptest.Options{Engine: e})
	ctx := context.Background()
	const uid, sub = "moodle-user-3", "sub-3"
	if res := w.launch13(t, sub, "rl-13", nil, true); res.Response.StatusCode != http.StatusOK {
		t.Fatalf("1.3 launch: %d", res.Response.StatusCode)
	}
	if resp := w.browser(t).launch(w.quizR, w.c.LaunchParams("rl-quiz", uid, rolesLearner), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("1.1 launch: %d", resp.StatusCode)
	}
	keepID := w.account13(t, sub)
	dropU, ok := w.linked(t, uid)
	if !ok || keepID == 0 || keepID == dropU.ID {
		t.Fatalf("want two accounts, got %d and %d", keepID, dropU.ID)
	}
	keepU, err := w.inst.Store.UserByID(ctx, keepID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.inst.App.Courses.SubmitQuiz(ctx, &keepU, w.quiz.ID, course.Answers{}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.inst.App.Courses.SubmitQuiz(ctx, &dropU, w.quiz.ID, course.Answers{}); err != nil {
		t.Fatal(err)
	}

	admin := w.inst.Client(t)
	w.inst.Login(t, admin, "admin", "correct horse battery")
	keep, drop := strconv.FormatInt(keepID, 10), dropU.Username
	// The account page leads to the merge with this account kept.
	if resp := w.inst.Get(t, admin, "/admin/users/"+keep); !strings.Contains(resp.Body, `href="/admin/users/merge?keep=`+keep+`"`) {
		t.Fatalf("account page: no merge link: %s", resp.Body)
	}
	resp := w.inst.Get(t, admin, "/admin/users/merge?"+url.Values{"keep": {keep}, "drop": {drop}}.Encode())
	for _, want := range []string{`id="merge-keep"`, `id="merge-drop"`, w.p.Issuer(), "lti11:moodle-site-key", "1 quiz attempt(s)",
		"1 launch(es)", "both were enrolled", "renumbered after", "Merge " + drop + " into "} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, want) {
			t.Fatalf("merge page: %d, %q missing: %s", resp.StatusCode, want, resp.Body)
		}
	}
	if _, err := w.inst.Store.UserByID(ctx, dropU.ID); err != nil {
		t.Fatal("showing the merge changed something: the account is gone")
	}
	// Mistakes get the page back with what is wrong.
	for _, bad := range []url.Values{{"keep": {keep}, "drop": {keep}}, {"keep": {keep}, "drop": {"no-such-user"}}, {"keep": {keep}, "drop": {"admin"}}} {
		if r := w.inst.Get(t, admin, "/admin/users/merge?"+bad.Encode()); r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `id="merge-error"`) {
			t.Fatalf("merge %v: %d %s", bad, r.StatusCode, r.Body)
		}
	}

	resp = w.inst.PostForm(t, admin, "/admin/users/merge", url.Values{"keep": {keep}, "drop": {strconv.FormatInt(dropU.ID, 10)}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/users/"+keep {
		t.Fatalf("merge: %d %s", resp.StatusCode, resp.Body)
	}
	if page := w.inst.Get(t, admin, "/admin/users/"+keep); !strings.Contains(page.Body, "Merged "+drop) || !strings.Contains(page.Body, "lti11:moodle-site-key") {
		t.Fatalf("account page after the merge: %s", page.Body)
	}
	if _, err := w.inst.Store.UserByID(ctx, dropU.ID); err == nil {
		t.Fatal("the merged account still exists")
	}
	atts, err := w.inst.Store.Attempts(ctx, w.quiz.ID, keepID)
	if err != nil || len(atts) != 2 {
		t.Fatalf("attempts: %d %v", len(atts), err)
	}
	if es, err := w.inst.Store.EnrolmentsOf(ctx, w.course.ID, keepID); err != nil || len(es) != 1 {
		t.Fatalf("enrolments: %+v %v", es, err)
	}
	// Both identities now land in the kept account.
	if u, ok := w.linked(t, uid); !ok || u.ID != keepID {
		t.Fatalf("the 1.1 identity is linked to %d", u.ID)
	}
	if resp := w.browser(t).launch(w.quizR, w.c.LaunchParams("rl-quiz", uid, rolesLearner), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("1.1 launch after the merge: %d", resp.StatusCode)
	}
	if res := w.launch13(t, sub, "rl-13", nil, true); res.Response.StatusCode != http.StatusOK || w.account13(t, sub) != keepID {
		t.Fatalf("1.3 launch after the merge: %d", res.Response.StatusCode)
	}
}

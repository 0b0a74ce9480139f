package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/browsertest"
	"github.com/ltipub/ltipub/internal/course"
)

// TestAdminMergesTwoAccounts: from the users list, an admin names the two accounts of one person, reads what each
// holds and what the merge will do, confirms, and lands on the kept account, which now holds the other's
// enrolment; the other account is gone.
func TestAdminMergesTwoAccounts(t *testing.T) {
	inst := apptest.Start(t, apptest.Options{})
	ctx := context.Background()
	keep := inst.EnsureUser(t, account.NewUser{Username: "alice", FullName: "Alice Example", Password: "a long enough password"})
	drop := inst.EnsureUser(t, account.NewUser{Username: "alice-lti", FullName: "Alice (from Moodle)", Password: "a long enough password"})
	c := inst.ExampleCourse(t, "")
	if err := inst.Store.CreateEnrolment(ctx, &course.Enrolment{CourseID: c.Course.ID, UserID: drop.ID, Role: course.RoleStudent,
		Status: course.StatusActive, Method: course.MethodManual}); err != nil {
		t.Fatal(err)
	}
	bctx := browsertest.New(t, browsertest.Options{})
	d := pageDriver{t: t, ctx: bctx, base: inst.URL, name: "merge", password: apptest.AdminPassword}
	d.signIn("admin")
	d.step("open the merge page from the users list",
		chromedp.Navigate(inst.URL+"/admin/users"),
		chromedp.WaitVisible(chromedp.ID("merge-accounts")),
		chromedp.Click(chromedp.ID("merge-accounts")),
		chromedp.WaitVisible(chromedp.ID("merge-choose")),
		chromedp.SendKeys(chromedp.ID("keep"), "alice"),
		chromedp.SendKeys(chromedp.ID("drop"), "alice-lti"),
		chromedp.Click(chromedp.ID("merge-show")),
		chromedp.WaitVisible(chromedp.ID("merge-plan")),
	)
	browsertest.Screenshot(t, bctx, "merge-plan")
	if k, dr := d.text("#merge-keep"), d.text("#merge-drop"); !strings.Contains(k, "0 enrolment(s)") || !strings.Contains(dr, "1 enrolment(s)") ||
		!strings.Contains(dr, c.Course.FullName) {
		t.Fatalf("what each holds: keep %q, drop %q", k, dr)
	}
	if moves := d.text("#merge-moves"); !strings.Contains(moves, "1 enrolment(s)") {
		t.Fatalf("what the merge does: %q", moves)
	}
	d.step("confirm", chromedp.Click(chromedp.ID("confirm-merge")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if flash := d.text(".flash"); !strings.Contains(flash, "Merged alice-lti into alice") {
		t.Fatalf("flash %q", flash)
	}
	if enr := d.text("#enrolments"); !strings.Contains(enr, c.Course.FullName) {
		t.Fatalf("the kept account's enrolments: %q", enr)
	}
	if _, err := inst.Store.UserByID(ctx, drop.ID); err == nil {
		t.Fatal("the merged account still exists")
	}
	if es, err := inst.Store.EnrolmentsOf(ctx, c.Course.ID, keep.ID); err != nil || len(es) != 1 {
		t.Fatalf("enrolments of the kept account: %+v %v", es, err)
	}
}

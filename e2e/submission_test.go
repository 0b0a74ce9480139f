package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/browsertest"
	"github.com/ltipub/ltipub/internal/course"
)

// TestAssignmentFileUploadInBrowser: the teacher turns on file uploads in the assignment's editor; the student
// chooses a file in the browser's file field and submits it with text; the teacher sees the file in the
// submissions table and grades with feedback; the student sees the feedback beside the submission.
func TestAssignmentFileUploadInBrowser(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	const pw = "a long enough password"
	teacher := inst.EnsureUser(t, account.NewUser{Username: "teacher", FullName: "Tess Teacher", Password: pw, IsCourseCreator: true})
	student := inst.EnsureUser(t, account.NewUser{Username: "student", FullName: "Sam Student", Password: pw})
	bg := context.Background()
	data, err := os.ReadFile("../examples/course.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := inst.App.Courses.Import(bg, &teacher, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inst.App.Courses.Enrol(bg, &teacher, res.Course.ID, course.EnrolInput{Username: "student", Role: course.RoleStudent}); err != nil {
		t.Fatal(err)
	}
	asg := apptest.Activity(res, course.TypeAssignment)
	upload := filepath.Join(t.TempDir(), "moon-sketches.csv")
	if err := os.WriteFile(upload, []byte("day,phase\nMon,crescent\nThu,half\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t, browsertest.Options{Timeout: 90 * time.Second})
	d := pageDriver{t: t, ctx: ctx, base: inst.URL, name: "submission", password: pw}
	step, text, signIn, signOut := d.step, d.text, d.signIn, d.signOut
	activity := fmt.Sprintf("%s/activities/%d", inst.URL, asg.ID)

	signIn("teacher")
	step("turn on file uploads",
		chromedp.Navigate(activity+"/edit"),
		chromedp.WaitVisible(chromedp.ID("submit-file")),
		chromedp.Click(chromedp.ID("submit-file")),
		chromedp.SendKeys(chromedp.ID("max_files"), "2"),
		chromedp.Click(chromedp.ID("save-activity")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if a, err := inst.Store.ActivityByID(bg, asg.ID); err != nil || !a.Assignment.Files() || !a.Assignment.Text() || a.Assignment.FileLimit() != 2 {
		t.Fatalf("after the editor: %+v %v", a.Assignment, err)
	}
	signOut()

	signIn("student")
	step("submit text and a file",
		chromedp.Navigate(activity),
		chromedp.WaitVisible(chromedp.ID("files")),
		chromedp.SendKeys(chromedp.ID("text"), "Sketches attached."),
		chromedp.SetUploadFiles(chromedp.ID("files"), []string{upload}),
		chromedp.Click(chromedp.ID("submit-assignment")),
		chromedp.WaitVisible(chromedp.ID("my-files")),
	)
	if got := text("#my-files"); !strings.Contains(got, "moon-sketches.csv") {
		t.Fatalf("the student's files: %q", got)
	}
	browsertest.Screenshot(t, ctx, "submission-student-files")
	signOut()

	signIn("teacher")
	sid := fmt.Sprint(student.ID)
	step("grade with feedback",
		chromedp.Navigate(activity),
		chromedp.WaitVisible(chromedp.CSS(".submission-files")),
		chromedp.SendKeys(chromedp.ID("grade-"+sid), "18"),
		chromedp.SendKeys(chromedp.ID("feedback-"+sid), "Clear sketches; label the axes."),
		chromedp.Click(chromedp.ID("save-grade-"+sid)),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if got := text(".submission-files"); !strings.Contains(got, "moon-sketches.csv") {
		t.Fatalf("the teacher's table: %q", got)
	}
	signOut()

	signIn("student")
	step("read the feedback", chromedp.Navigate(activity), chromedp.WaitVisible(chromedp.ID("submission-feedback")))
	if got := text("#submission-feedback"); !strings.Contains(got, "18 / 20") || !strings.Contains(got, "Clear sketches; label the axes.") {
		t.Fatalf("the feedback shown: %q", got)
	}
}

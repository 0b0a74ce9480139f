package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/browsertest"
)

// TestCourseImportQuizAssignmentAndGrades: a teacher imports examples/course.json through the web form and enrols
// a student; the student takes the quiz and submits the assignment; the teacher grades it; the student's
// My grades shows both grades and the course total.
func TestCourseImportQuizAssignmentAndGrades(t *testing.T) {
	t.Parallel()
	start := time.Now()
	inst := apptest.Start(t, apptest.Options{})
	const pw = "a long enough password"
	inst.EnsureUser(t, account.NewUser{Username: "teacher", FullName: "Tess Teacher", Password: pw, IsCourseCreator: true})
	student := inst.EnsureUser(t, account.NewUser{Username: "student", FullName: "Sam Student", Password: pw})
	file, err := filepath.Abs("../examples/course.json")
	if err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t, browsertest.Options{Timeout: 90 * time.Second})

	d := pageDriver{t: t, ctx: ctx, base: inst.URL, name: "course", password: pw}
	step, text, signIn, signOut := d.step, d.text, d.signIn, d.signOut
	openCourse := func() {
		t.Helper()
		step("open the course", chromedp.Navigate(inst.URL+"/"), chromedp.Click(chromedp.CSS(`#course-list a`)),
			chromedp.WaitVisible(chromedp.ID("activities")))
	}

	// The teacher imports the example course and enrols the student.
	signIn("teacher")
	step("import",
		chromedp.Click(chromedp.ID("import-course")),
		chromedp.WaitVisible(chromedp.ID("file")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}),
		chromedp.Click(chromedp.ID("import")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if flash := text(".flash"); !strings.Contains(flash, "with 3 activities") {
		t.Fatalf("after import: %q", flash)
	}
	step("enrol the student",
		chromedp.Click(chromedp.ID("enrolments")),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "student"),
		chromedp.Click(chromedp.ID("enrol")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if flash := text(".flash"); !strings.Contains(flash, "Enrolled Sam Student as student") {
		t.Fatalf("after enrolling: %q", flash)
	}
	signOut()

	// The student takes the quiz (all right) and submits the assignment.
	signIn("student")
	openCourse()
	step("take the quiz",
		chromedp.Click(chromedp.CSS(`a[data-type="quiz"]`)),
		chromedp.WaitVisible(chromedp.ID("quiz-form")),
		chromedp.Click(chromedp.ID("q_closest_1")),
		chromedp.Click(chromedp.ID("q_giants_0")),
		chromedp.Click(chromedp.ID("q_giants_2")),
		chromedp.SendKeys(chromedp.ID("q_star"), "the sun"),
		chromedp.Click(chromedp.ID("submit-quiz")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if flash := text(".flash"); !strings.Contains(flash, "Attempt 1 submitted: 10 / 10") {
		t.Fatalf("after the quiz: %q", flash)
	}
	browsertest.Screenshot(t, ctx, "course-quiz-result")
	openCourse()
	step("submit the assignment",
		chromedp.Click(chromedp.CSS(`a[data-type="assignment"]`)),
		chromedp.WaitVisible(chromedp.ID("text")),
		chromedp.SendKeys(chromedp.ID("text"), "On Monday the Moon was a thin crescent; by Thursday it was half full."),
		chromedp.Click(chromedp.ID("submit-assignment")),
		chromedp.WaitVisible(chromedp.ID("my-submission")),
	)
	signOut()

	// The teacher grades the submission.
	signIn("teacher")
	openCourse()
	sid := fmt.Sprint(student.ID)
	step("grade the submission",
		chromedp.Click(chromedp.CSS(`a[data-type="assignment"]`)),
		chromedp.WaitVisible(chromedp.ID("grade-"+sid)),
		chromedp.SendKeys(chromedp.ID("grade-"+sid), "15"),
		chromedp.SendKeys(chromedp.ID("feedback-"+sid), "Careful observations."),
		chromedp.Click(chromedp.ID("save-grade-"+sid)),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if flash := text(".flash"); !strings.Contains(flash, "Grade saved") {
		t.Fatalf("after grading: %q", flash)
	}
	signOut()

	// The student's My grades: quiz 10/10, assignment 15/20, total (100 + 75) / 2 = 87.5.
	signIn("student")
	openCourse()
	step("open My grades", chromedp.Click(chromedp.ID("my-grades")), chromedp.WaitVisible(chromedp.ID("course-total")))
	browsertest.Screenshot(t, ctx, "course-my-grades")
	table := text("#my-grades-table")
	for _, want := range []string{"Solar System quiz", "10 / 10", "Observation report", "15 / 20", "Careful observations."} {
		if !strings.Contains(table, want) {
			t.Errorf("My grades lacks %q:\n%s", want, table)
		}
	}
	if total := text("#course-total"); total != "87.5 / 100" {
		t.Errorf("course total %q, want 87.5 / 100", total)
	}
	t.Logf("browser flow took %s", time.Since(start).Round(time.Millisecond))
}

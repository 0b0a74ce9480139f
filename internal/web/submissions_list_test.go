package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
)

var submissionRowRe = regexp.MustCompile(`<tr data-username="([^"]+)">`)

// seedSubmissions hands in work for the people whose index submitted picks, at t0, and grades those graded picks
// an hour later; all through the store, in one transaction.
func seedSubmissions(t testing.TB, st *sqlstore.Store, a course.Activity, people []account.User, t0 time.Time, submitted, graded func(int) bool) {
	t.Helper()
	ctx := context.Background()
	err := st.Tx(ctx, func(tx *sqlstore.Store) error {
		for i, p := range people {
			if submitted(i) {
				sub := course.Submission{ActivityID: a.ID, UserID: p.ID, Text: fmt.Sprintf("Work of %s", p.Username), SubmittedAt: t0}
				if err := tx.SaveSubmission(ctx, &sub); err != nil {
					return err
				}
			}
			if graded(i) {
				if _, err := tx.PutGrade(ctx, course.GradeChange{ActivityID: a.ID, UserID: p.ID, Grade: float64(i % 21),
					MaxGrade: a.MaxGrade, At: t0.Add(time.Hour)}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The assignment page's submissions list with 5,000 students: one page of rows, every student once in name
// order through the pager, search and the state filters finding the right people, and a grade saved from a
// filtered page coming back to it.
// On both engines: the list's conditions are SQL.
func TestSubmissionsPaging5000(t *testing.T) {
	t.Parallel()
	for _, e := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			submissionsPaging(t, e)
		})
	}
}

func submissionsPaging(t *testing.T, engine sqlstore.Engine) {
	const n = 5000
	inst := apptest.Start(t, apptest.Options{Engine: engine})
	teacher := inst.EnsureUser(t, account.NewUser{Username: "teacher", FullName: "Tess Teacher", Password: pw, IsCourseCreator: true})
	res, err := inst.App.Courses.Import(context.Background(), &teacher, exampleCourse(t))
	if err != nil {
		t.Fatal(err)
	}
	f := &listFixture{inst: inst, course: res, teacher: inst.Client(t), people: seedPeople(t, inst.Store, n)}
	seedEnrolments(t, inst.Store, res.Course.ID, f.people, func(int) (course.Role, course.Status, course.Method) {
		return course.RoleStudent, course.StatusActive, course.MethodManual
	})
	inst.Login(t, f.teacher, "teacher", pw)
	c := f.teacher
	asg := apptest.Activity(f.course, course.TypeAssignment)
	t0 := time.Now().Add(-48 * time.Hour)
	// Every 3rd submitted; every 6th graded after submitting (the rest of those submitted need grading).
	seedSubmissions(t, inst.Store, asg, f.people, t0, func(i int) bool { return i%3 == 0 }, func(i int) bool { return i%6 == 0 })
	// Person 00000 handed in again after the grade: it needs grading again.
	if err := inst.Store.SaveSubmission(context.Background(), &course.Submission{ActivityID: asg.ID, UserID: f.people[0].ID,
		Text: "Work of p00000, again", SubmittedAt: t0.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("/activities/%d", asg.ID)

	start := time.Now()
	first := inst.Get(t, c, base)
	took := time.Since(start)
	rows := submissionRowRe.FindAllStringSubmatch(first.Body, -1)
	if first.StatusCode != http.StatusOK || len(rows) != 50 || rows[0][1] != "p00000" || !strings.Contains(first.Body, "Showing 1–50 of 5,000 students.") {
		t.Fatalf("first page: %d, %d rows", first.StatusCode, len(rows))
	}
	if strings.Count(first.Body, `<form method="post" action="`+base+`/grades/`) != 50 {
		t.Fatal("the first page has not one grade form per row")
	}
	if !strings.Contains(first.Body, `aria-label="Next page of students"`) || linkOf(nextRe, first.Body) != base+"?page=2" {
		t.Fatal("no link to the next page of students")
	}
	t.Logf("%s: first page of 5,000 students: %d bytes in %v", engine, len(first.Body), took)
	if len(first.Body) > 200<<10 {
		t.Fatalf("the first page is %d bytes: it grows with the course", len(first.Body))
	}

	want := func(pick func(int) bool) []string {
		var out []string
		for i, p := range f.people {
			if pick(i) {
				out = append(out, p.Username)
			}
		}
		return out
	}
	all := func(int) bool { return true }
	assertOnceInOrder(t, walk(t, inst, c, base+"?size=200", submissionRowRe, "size=200"), want(all))
	tests := []struct {
		state string
		pick  func(int) bool
	}{
		{"submitted", func(i int) bool { return i%3 == 0 }},
		{"not_submitted", func(i int) bool { return i%3 != 0 }},
		{"needs_grading", func(i int) bool { return i%6 == 3 || i == 0 }},
		{"graded", func(i int) bool { return i%6 == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			got := walk(t, inst, c, base+"?size=200&state="+tt.state, submissionRowRe, "state="+tt.state, "size=200")
			assertOnceInOrder(t, got, want(tt.pick))
		})
	}
	// Search and state together, through small pages: Person 04320…04329, of which 04320, 04323, 04326, 04329 submitted.
	if got := walk(t, inst, c, base+"?q=person+0432&state=submitted&size=3", submissionRowRe, "q=person+0432", "state=submitted", "size=3"); strings.Join(got, " ") != "p04320 p04323 p04326 p04329" {
		t.Fatalf("search among the submitted: %v", got)
	}
	one := inst.Get(t, c, base+"?q=p04323")
	if !strings.Contains(one.Body, "Showing 1–1 of 1 students that match.") || !strings.Contains(one.Body, "Work of p04323") {
		t.Fatalf("one student: %s", one.Body)
	}
	if none := inst.Get(t, c, base+"?q=nobody&state=graded"); !strings.Contains(none.Body, "No students match these filters.") || submissionRowRe.MatchString(none.Body) {
		t.Fatal("no match")
	}
	if bad := inst.Get(t, c, base+"?state=lost"); bad.StatusCode != http.StatusBadRequest || !strings.Contains(bad.Body, "lost") {
		t.Fatalf("an unknown state: %d", bad.StatusCode)
	}

	// Grading Person 04323 from the second page of those needing grading comes back to that page, where they are
	// no longer listed.
	back := "state=needs_grading&page=2&size=3&evil=1"
	resp := inst.PostForm(t, c, fmt.Sprintf("%s/grades/%d", base, f.people[4323].ID), url.Values{"grade": {"17"}, "feedback": {"Clear."}, "back": {back}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != base+"?page=2&size=3&state=needs_grading" {
		t.Fatalf("grade: %d, to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	assertOnceInOrder(t, walk(t, inst, c, base+"?size=200&state=needs_grading", submissionRowRe), want(func(i int) bool { return (i%6 == 3 || i == 0) && i != 4323 }))
	if g := inst.Get(t, c, base+"?q=p04323&state=graded"); !strings.Contains(g.Body, `value="17"`) || !strings.Contains(g.Body, "Clear.") {
		t.Fatal("the grade saved does not show on the graded list")
	}
}

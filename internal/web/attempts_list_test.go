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

var attemptRowRe = regexp.MustCompile(`<section class="learner" data-username="([^"]+)">`)

// essayQuiz is a quiz of two questions, one of them an essay a teacher marks by hand.
func essayQuiz(t testing.TB, inst *apptest.Instance, teacher *account.User, courseID int64) course.Activity {
	t.Helper()
	quiz, err := inst.App.Courses.CreateActivity(context.Background(), teacher, courseID, course.ActivityInput{Type: course.TypeQuiz,
		Name: "Forces", Visible: true, MaxGrade: 10, Quiz: course.QuizSettings{GradingMethod: course.GradeHighest, Questions: []course.Question{
			{ID: "unit", Type: course.MultiChoice, Text: "Unit of force?", Points: 2, Choices: []course.Choice{{Text: "newton", Correct: true}, {Text: "joule"}}},
			{ID: "essay", Type: course.Essay, Text: "Explain the third law", Points: 3},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	return quiz
}

// seedAttempts records, through the store in one transaction, one attempt at the quiz for each person attempted
// picks (at t0, the essay answered), its essay marked where marked picks; the grade follows the attempts.
func seedAttempts(t testing.TB, st *sqlstore.Store, quiz course.Activity, people []account.User, t0 time.Time, attempted, marked func(int) bool) {
	t.Helper()
	ctx := context.Background()
	err := st.Tx(ctx, func(tx *sqlstore.Store) error {
		for i, p := range people {
			if !attempted(i) {
				continue
			}
			if err := recordAttempt(ctx, tx, quiz, p, t0, marked(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func recordAttempt(ctx context.Context, st *sqlstore.Store, quiz course.Activity, p account.User, at time.Time, marked bool) error {
	_, err := st.RecordAttempt(ctx, quiz.ID, p.ID, func(prev []course.Attempt) (course.Attempt, *course.GradeChange, error) {
		a := course.Attempt{Answers: course.Answers{"unit": {"0"}, "essay": {"Essay of " + p.Username}}, MaxGrade: quiz.MaxGrade, SubmittedAt: at}
		if marked {
			a.Marks = map[string]float64{"essay": 2}
		}
		a.Score, a.Pending = quiz.Quiz.Score(a.Answers, a.Marks, quiz.MaxGrade)
		all := append(append([]course.Attempt(nil), prev...), a)
		return a, &course.GradeChange{ActivityID: quiz.ID, UserID: p.ID, Grade: course.QuizGrade(quiz.Quiz.GradingMethod, all),
			Pending: course.QuizGradePending(quiz.Quiz.GradingMethod, all), MaxGrade: quiz.MaxGrade, At: at}, nil
	})
	return err
}

// The quiz's attempts page with 5,000 students: one page of learners, every student once in name order through
// the pager, search and the state filters finding the right people, a mark or an override saved from a filtered
// page coming back to it, and one learner's review. On both engines: the list's conditions are SQL.
func TestAttemptsPaging5000(t *testing.T) {
	t.Parallel()
	for _, e := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			attemptsPaging(t, e)
		})
	}
}

func attemptsPaging(t *testing.T, engine sqlstore.Engine) {
	const n = 5000
	ctx := context.Background()
	inst := apptest.Start(t, apptest.Options{Engine: engine})
	teacher := inst.EnsureUser(t, account.NewUser{Username: "teacher", FullName: "Tess Teacher", Password: pw, IsCourseCreator: true})
	res, err := inst.App.Courses.Import(ctx, &teacher, exampleCourse(t))
	if err != nil {
		t.Fatal(err)
	}
	people := seedPeople(t, inst.Store, n)
	seedEnrolments(t, inst.Store, res.Course.ID, people, func(int) (course.Role, course.Status, course.Method) {
		return course.RoleStudent, course.StatusActive, course.MethodManual
	})
	c := inst.Client(t)
	inst.Login(t, c, "teacher", pw)
	quiz := essayQuiz(t, inst, &teacher, res.Course.ID)
	t0 := time.Now().Add(-48 * time.Hour)
	// Every 3rd attempted; every 6th had the essay marked (the other attempts wait for a mark).
	seedAttempts(t, inst.Store, quiz, people, t0, func(i int) bool { return i%3 == 0 }, func(i int) bool { return i%6 == 0 })
	// Person 00000 tried again, the new essay unmarked: they need marking again.
	if err := recordAttempt(ctx, inst.Store, quiz, people[0], t0.Add(time.Hour), false); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("/activities/%d/attempts", quiz.ID)

	start := time.Now()
	first := inst.Get(t, c, base)
	took := time.Since(start)
	rows := attemptRowRe.FindAllStringSubmatch(first.Body, -1)
	if first.StatusCode != http.StatusOK || len(rows) != 50 || rows[0][1] != "p00000" || !strings.Contains(first.Body, "Showing 1–50 of 5,000 students.") {
		t.Fatalf("first page: %d, %d rows", first.StatusCode, len(rows))
	}
	if strings.Count(first.Body, `<form method="post" action="/activities/`+fmt.Sprint(quiz.ID)+`/grades/`) != 50 {
		t.Fatal("the first page has not one override form per learner")
	}
	// 17 learners of the first 50 attempted (00000 twice): one marking form per attempt.
	if got := strings.Count(first.Body, `/marks">`); got != 18 {
		t.Fatalf("the first page has %d marking forms, want 18", got)
	}
	if !strings.Contains(first.Body, `aria-label="Next page of students"`) || linkOf(nextRe, first.Body) != base+"?page=2" {
		t.Fatal("no link to the next page of students")
	}
	t.Logf("%s: first page of 5,000 students' attempts: %d bytes in %v", engine, len(first.Body), took)
	if len(first.Body) > 200<<10 {
		t.Fatalf("the first page is %d bytes: it grows with the course", len(first.Body))
	}

	want := func(pick func(int) bool) []string {
		var out []string
		for i, p := range people {
			if pick(i) {
				out = append(out, p.Username)
			}
		}
		return out
	}
	assertOnceInOrder(t, walk(t, inst, c, base+"?size=200", attemptRowRe, "size=200"), want(func(int) bool { return true }))
	tests := []struct {
		state string
		pick  func(int) bool
	}{
		{"attempted", func(i int) bool { return i%3 == 0 }},
		{"not_attempted", func(i int) bool { return i%3 != 0 }},
		{"needs_marking", func(i int) bool { return i%6 == 3 || i == 0 }},
		{"finished", func(i int) bool { return i%6 == 0 && i != 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			got := walk(t, inst, c, base+"?size=200&state="+tt.state, attemptRowRe, "state="+tt.state, "size=200")
			assertOnceInOrder(t, got, want(tt.pick))
		})
	}
	// Search and state together, through small pages: Person 04320…04329, of which 04320, 04323, 04326, 04329 attempted.
	if got := walk(t, inst, c, base+"?q=person+0432&state=attempted&size=3", attemptRowRe, "q=person+0432", "state=attempted", "size=3"); strings.Join(got, " ") != "p04320 p04323 p04326 p04329" {
		t.Fatalf("search among those who attempted: %v", got)
	}
	for _, q := range []string{"p04323", "P04323@SCHOOL", "person 04323"} { // username, email, name
		one := inst.Get(t, c, base+"?q="+url.QueryEscape(q))
		if !strings.Contains(one.Body, "Showing 1–1 of 1 students that match.") || !strings.Contains(one.Body, "Essay of p04323") ||
			strings.Join(attemptRows(one.Body), " ") != "p04323" {
			t.Fatalf("search %q: %v", q, attemptRows(one.Body))
		}
	}
	if none := inst.Get(t, c, base+"?q=nobody&state=finished"); !strings.Contains(none.Body, "No students match these filters.") || attemptRowRe.MatchString(none.Body) {
		t.Fatal("no match")
	}
	for _, bad := range []string{"lost", "submitted"} { // an assignment's state is no quiz's
		if r := inst.Get(t, c, base+"?state="+bad); r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, bad) {
			t.Fatalf("the state %q: %d", bad, r.StatusCode)
		}
	}

	// Marking Person 00021's essay on the second page of those needing marking comes back to that page, where
	// they are no longer listed; the forms of that page carry it.
	back := "state=needs_marking&page=2&size=3&evil=1"
	page2 := inst.Get(t, c, base+"?"+back)
	if !strings.Contains(page2.Body, `name="back" value="page=2&amp;size=3&amp;state=needs_marking"`) || strings.Join(attemptRows(page2.Body), " ") != "p00015 p00021 p00027" {
		t.Fatalf("the second page of those needing marking: %v", attemptRows(page2.Body))
	}
	filtered := base + "?page=2&size=3&state=needs_marking"
	resp := inst.PostForm(t, c, fmt.Sprintf("%s/%d/1/marks", base, people[21].ID), url.Values{"mark_essay": {"3"}, "back": {back}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != filtered {
		t.Fatalf("mark: %d, to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	assertOnceInOrder(t, walk(t, inst, c, base+"?size=200&state=needs_marking", attemptRowRe), want(func(i int) bool { return (i%6 == 3 || i == 0) && i != 21 }))
	if g := inst.Get(t, c, base+"?q=p00021&state=finished"); !strings.Contains(g.Body, `name="mark_essay" type="number" min="0" max="3" step="any" value="3"`) {
		t.Fatal("the mark saved does not show on the finished list")
	}
	if after := inst.Get(t, c, filtered); strings.Join(attemptRows(after.Body), " ") != "p00015 p00027 p00033" {
		t.Fatalf("the page come back to: %v", attemptRows(after.Body))
	}
	// The review of one learner (as the platform's gradebook opens it) shows their attempts alone.
	review := inst.Get(t, c, fmt.Sprintf("/review/%d/%d", quiz.ID, people[3].ID))
	if review.StatusCode != http.StatusOK || !strings.Contains(review.Body, `id="review" data-username="p00003"`) || !strings.Contains(review.Body, "Essay of p00003") ||
		strings.Count(review.Body, "Essay of ") != 1 {
		t.Fatalf("the review of one learner: %d\n%s", review.StatusCode, review.Body)
	}
	// The override of a grade comes back the same way.
	resp = inst.PostForm(t, c, fmt.Sprintf("/activities/%d/grades/%d", quiz.ID, people[9].ID), url.Values{"grade": {"7"}, "feedback": {"Seen."},
		"return": {"attempts"}, "back": {back}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != filtered {
		t.Fatalf("override: %d, to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if g, err := inst.Store.GradeOf(ctx, quiz.ID, people[9].ID); err != nil || g.Grade != 7 || g.Feedback != "Seen." {
		t.Fatalf("the override: %+v %v", g, err)
	}
}

func attemptRows(body string) []string {
	var out []string
	for _, m := range attemptRowRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// The attempts page's filter in a small course: the regrade form keeps the filter, the page is in Spanish with
// Moodle's terms, and a student is refused.
func TestAttemptsFilterRegradeAndSpanish(t *testing.T) {
	t.Parallel()
	f := newCourseFixture(t)
	ctx := context.Background()
	teacher, _ := f.inst.Store.UserByUsername(ctx, "teacher")
	quiz := essayQuiz(t, f.inst, &teacher, f.res.Course.ID)
	student, err := f.inst.Store.UserByID(ctx, f.studentID)
	if err != nil {
		t.Fatal(err)
	}
	if err := recordAttempt(ctx, f.inst.Store, quiz, student, time.Now().Add(-time.Hour), false); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("/activities/%d/attempts", quiz.ID)
	page := f.inst.Get(t, f.teacher, base+"?state=needs_marking&q=sam")
	if strings.Join(attemptRows(page.Body), " ") != student.Username || !strings.Contains(page.Body, `<option value="needs_marking" selected>Needs marking</option>`) ||
		!strings.Contains(page.Body, `id="attempts-q" name="q" type="search" value="sam"`) || !strings.Contains(page.Body, `id="show-all"`) {
		t.Fatalf("the filtered page:\n%s", page.Body)
	}
	if r := f.inst.Get(t, f.teacher, base+"?state=finished"); !strings.Contains(r.Body, "No students match these filters.") {
		t.Fatal("finished lists an attempt that waits for a mark")
	}
	r := f.inst.PostForm(t, f.teacher, fmt.Sprintf("/activities/%d/regrade", quiz.ID), url.Values{"back": {"q=sam&state=needs_marking"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != base+"?q=sam&state=needs_marking" {
		t.Fatalf("regrade: %d, to %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := f.inst.PostForm(t, f.teacher, fmt.Sprintf("/activities/%d/regrade", quiz.ID), url.Values{"back": {"%zz"}}); r.Header.Get("Location") != base {
		t.Fatalf("regrade with a broken back: to %q", r.Header.Get("Location"))
	}
	if r := f.inst.Get(t, f.student, base+"?state=attempted"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a student opened the attempts page: %d", r.StatusCode)
	}
	if r := f.inst.Get(t, f.teacher, base+"?page=x"); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("page=x: %d", r.StatusCode)
	}
	es := f.inst.Client(t)
	es.Jar = f.teacher.Jar
	req, _ := http.NewRequest(http.MethodGet, f.inst.URL+base+"?state=needs_marking", nil)
	req.Header.Set("Accept-Language", "es")
	body := f.inst.Do(t, es, req).Body
	for _, want := range []string{`<option value="needs_marking" selected>Requiere calificación</option>`, ">Sin intentos</option>", ">Finalizado</option>",
		`<label for="attempts-state">Intentos</label>`, `aria-label="Buscar intentos de estudiantes"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("the Spanish page lacks %q", want)
		}
	}
}

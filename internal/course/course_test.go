package course_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

type fixture struct {
	svc   *course.Service
	st    *sqlstore.Store
	clock *time.Time
}

func newFixture(t *testing.T, s *sqlstore.Store) *fixture {
	now := t0
	f := &fixture{st: s, clock: &now}
	f.svc = &course.Service{Store: s, Users: s, Now: func() time.Time { return *f.clock }}
	return f
}

func (f *fixture) user(t *testing.T, name string, creator bool) *account.User {
	t.Helper()
	u := account.User{Username: name, FullName: strings.ToUpper(name[:1]) + name[1:], Auth: account.AuthManual,
		IsCourseCreator: creator, CreatedAt: t0, UpdatedAt: t0}
	if err := f.st.CreateUser(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	return &u
}

func (f *fixture) importExample(t *testing.T, teacher *account.User) course.ImportResult {
	t.Helper()
	data, err := os.ReadFile("../../examples/course.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.Import(context.Background(), teacher, data)
	if err != nil {
		t.Fatalf("import examples/course.json: %v", err)
	}
	return res
}

func (f *fixture) enrol(t *testing.T, teacher *account.User, courseID int64, who *account.User, role course.Role) course.Enrolment {
	t.Helper()
	e, err := f.svc.Enrol(context.Background(), teacher, courseID, course.EnrolInput{Username: who.Username, Role: role})
	if err != nil {
		t.Fatalf("enrol %s: %v", who.Username, err)
	}
	return e
}

func TestEnrolmentRules(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		f := newFixture(t, s)
		teacher, student, outsider, plain := f.user(t, "teacher", true), f.user(t, "student", false), f.user(t, "outsider", false), f.user(t, "plain", false)
		admin := f.user(t, "root", false)
		admin.IsAdmin = true

		if _, err := f.svc.CreateCourse(ctx, plain, course.CourseInput{FullName: "X", ShortName: "X"}); !errors.Is(err, course.ErrCannotCreate) {
			t.Fatalf("a plain user created a course: %v", err)
		}
		c, err := f.svc.CreateCourse(ctx, teacher, course.CourseInput{FullName: "Biology", ShortName: "BIO", Visible: true})
		if err != nil {
			t.Fatal(err)
		}
		if !f.svc.CanEdit(ctx, teacher, c) {
			t.Fatal("the creator is not the course's teacher")
		}
		if _, err := f.svc.CreateCourse(ctx, teacher, course.CourseInput{FullName: "Again", ShortName: "BIO"}); !errors.Is(err, course.ErrShortNameTaken) {
			t.Fatalf("duplicate short name: %v", err)
		}
		if _, err := f.svc.Enrol(ctx, student, c.ID, course.EnrolInput{Username: "outsider", Role: course.RoleStudent}); !errors.Is(err, course.ErrNotEnrolled) {
			t.Fatalf("a non-member enrolled someone: %v", err)
		}
		e := f.enrol(t, teacher, c.ID, student, course.RoleStudent)
		if _, err := f.svc.Enrol(ctx, teacher, c.ID, course.EnrolInput{Username: "student", Role: course.RoleStudent}); !errors.Is(err, course.ErrAlreadyEnrolled) {
			t.Fatalf("double enrolment: %v", err)
		}
		if _, err := f.svc.Enrol(ctx, student, c.ID, course.EnrolInput{Username: "outsider", Role: course.RoleStudent}); !errors.Is(err, course.ErrForbidden) {
			t.Fatalf("a student enrolled someone: %v", err)
		}
		var verr *course.ValidationError
		if _, err := f.svc.Enrol(ctx, teacher, c.ID, course.EnrolInput{Username: "nobody", Role: course.RoleStudent}); !errors.As(err, &verr) || verr.Field != "username" {
			t.Fatalf("unknown username: %v", err)
		}
		if _, err := f.svc.Enrol(ctx, teacher, c.ID, course.EnrolInput{Username: "outsider", Role: "owner"}); !errors.As(err, &verr) || verr.Field != "role" {
			t.Fatalf("bad role: %v", err)
		}

		tests := []struct {
			name     string
			in       course.EnrolInput
			wantView bool
			wantEdit bool
		}{
			{"active student", course.EnrolInput{Role: course.RoleStudent}, true, false},
			{"suspended", course.EnrolInput{Role: course.RoleStudent, Status: course.StatusSuspended}, false, false},
			{"not started", course.EnrolInput{Role: course.RoleStudent, Start: t0.Add(time.Hour)}, false, false},
			{"ended", course.EnrolInput{Role: course.RoleStudent, End: t0.Add(-time.Second)}, false, false},
			{"inside the window", course.EnrolInput{Role: course.RoleStudent, Start: t0.Add(-time.Hour), End: t0.Add(time.Hour)}, true, false},
			{"teacher", course.EnrolInput{Role: course.RoleTeacher}, true, true},
		}
		for _, tt := range tests {
			if _, err := f.svc.UpdateEnrolment(ctx, teacher, c.ID, e.ID, tt.in); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if got := f.svc.CanView(ctx, student, c); got != tt.wantView {
				t.Errorf("%s: CanView = %v, want %v", tt.name, got, tt.wantView)
			}
			if got := f.svc.CanEdit(ctx, student, c); got != tt.wantEdit {
				t.Errorf("%s: CanEdit = %v, want %v", tt.name, got, tt.wantEdit)
			}
		}
		if _, err := f.svc.UpdateEnrolment(ctx, teacher, c.ID, e.ID, course.EnrolInput{Role: course.RoleStudent}); err != nil {
			t.Fatal(err)
		}
		if f.svc.CanView(ctx, outsider, c) || !f.svc.CanView(ctx, admin, c) || !f.svc.CanEdit(ctx, admin, c) {
			t.Fatal("outsiders must not see the course; admins see and edit every course")
		}
		if _, _, err := f.svc.Course(ctx, outsider, c.ID); !errors.Is(err, course.ErrNotEnrolled) {
			t.Fatalf("outsider opening the course: %v", err)
		}

		// A hidden course is for its teachers only.
		if _, err := f.svc.UpdateCourse(ctx, teacher, c.ID, course.CourseInput{FullName: "Biology", ShortName: "BIO", Visible: false}); err != nil {
			t.Fatal(err)
		}
		c, _ = s.CourseByID(ctx, c.ID)
		if f.svc.CanView(ctx, student, c) || !f.svc.CanView(ctx, teacher, c) {
			t.Fatal("a hidden course must be hidden from students only")
		}
		if list, _ := f.svc.Courses(ctx, student); len(list) != 0 {
			t.Fatalf("student's course list shows a hidden course: %+v", list)
		}
		if list, _ := f.svc.Courses(ctx, teacher); len(list) != 1 || list[0].Role != course.RoleTeacher {
			t.Fatalf("teacher's course list: %+v", list)
		}

		// Hidden activities are hidden from students, in lists and when opened directly.
		c, _ = f.svc.UpdateCourse(ctx, teacher, c.ID, course.CourseInput{FullName: "Biology", ShortName: "BIO", Visible: true})
		hidden, err := f.svc.CreateActivity(ctx, teacher, c.ID, course.ActivityInput{Type: course.TypePage, Name: "Answers", Visible: false})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateActivity(ctx, student, c.ID, course.ActivityInput{Type: course.TypePage, Name: "Mine", Visible: true}); !errors.Is(err, course.ErrForbidden) {
			t.Fatalf("a student added an activity: %v", err)
		}
		if acts, _ := f.svc.Activities(ctx, student, c.ID); len(acts) != 0 {
			t.Fatalf("student sees %+v", acts)
		}
		if _, _, _, err := f.svc.Activity(ctx, student, hidden.ID); !errors.Is(err, course.ErrNotFound) {
			t.Fatalf("student opening a hidden activity: %v", err)
		}
		if acts, _ := f.svc.Activities(ctx, teacher, c.ID); len(acts) != 1 {
			t.Fatalf("teacher sees %+v", acts)
		}

		if err := f.svc.Unenrol(ctx, teacher, c.ID, e.ID); err != nil {
			t.Fatal(err)
		}
		if f.svc.CanView(ctx, student, c) {
			t.Fatal("unenrolled student still sees the course")
		}
	})
}

func TestQuestionFraction(t *testing.T) {
	t.Parallel()
	one := course.Question{Type: course.MultiChoice, Choices: []course.Choice{{Text: "a"}, {Text: "b", Correct: true}, {Text: "c"}}}
	many := course.Question{Type: course.MultiChoice, Choices: []course.Choice{{Text: "a", Correct: true}, {Text: "b"}, {Text: "c", Correct: true}, {Text: "d"}}}
	short := course.Question{Type: course.ShortAnswer, Answers: []course.Answer{{Text: "the Sun"}, {Text: "Sol"}}}
	tests := []struct {
		name  string
		q     course.Question
		given []string
		want  float64
	}{
		{"single right", one, []string{"1"}, 1},
		{"single wrong", one, []string{"0"}, 0},
		{"single nothing", one, nil, 0},
		{"single two ticked", one, []string{"1", "2"}, 0},
		{"single out of range", one, []string{"7"}, 0},
		{"several all right", many, []string{"0", "2"}, 1},
		{"several half", many, []string{"0"}, 0.5},
		{"several one right one wrong", many, []string{"0", "1"}, 0},
		{"several everything ticked", many, []string{"0", "1", "2", "3"}, 0},
		{"short exact", short, []string{"the Sun"}, 1},
		{"short case and spaces", short, []string{"  THE   sun "}, 1},
		{"short other accepted", short, []string{"sol"}, 1},
		{"short wrong", short, []string{"Moon"}, 0},
		{"short empty", short, []string{""}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.Fraction(tt.given); got != tt.want {
				t.Fatalf("Fraction(%q) = %v, want %v", tt.given, got, tt.want)
			}
		})
	}
}

func TestQuizAttempts(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		f := newFixture(t, s)
		teacher, student := f.user(t, "teacher", true), f.user(t, "student", false)
		res := f.importExample(t, teacher)
		f.enrol(t, teacher, res.Course.ID, student, course.RoleStudent)
		quiz := res.Activities[1]
		perfect := course.Answers{"closest": {"1"}, "giants": {"0", "2"}, "star": {"Sun"}}
		half := course.Answers{"closest": {"1"}, "giants": {"0"}, "star": {"Moon"}} // 1 + 1 of 4 points
		poor := course.Answers{"closest": {"0"}}

		if _, err := f.svc.SubmitQuiz(ctx, teacher, quiz.ID, perfect); !errors.Is(err, course.ErrForbidden) {
			t.Fatalf("a teacher's attempt: %v", err)
		}
		a1, err := f.svc.SubmitQuiz(ctx, student, quiz.ID, half)
		if err != nil || a1.Number != 1 || a1.Score != 5 {
			t.Fatalf("first attempt: %v %+v, want score 5/10", err, a1)
		}
		a2, err := f.svc.SubmitQuiz(ctx, student, quiz.ID, poor)
		if err != nil || a2.Number != 2 || a2.Score != 0 {
			t.Fatalf("second attempt: %v %+v", err, a2)
		}
		g, _ := s.GradeOf(ctx, quiz.ID, student.ID)
		if g.Grade != 5 || g.MaxGrade != 10 || g.Revision != 2 {
			t.Fatalf("highest grading: grade %+v, want 5/10 at revision 2", g)
		}
		if _, err := f.svc.SubmitQuiz(ctx, student, quiz.ID, perfect); !errors.Is(err, course.ErrNoAttemptsLeft) {
			t.Fatalf("third attempt of two: %v", err)
		}
		if atts, _ := f.svc.Attempts(ctx, student, quiz.ID); len(atts) != 2 {
			t.Fatalf("a refused attempt was stored: %d attempts", len(atts))
		}

		// The teachers' attempts page and one learner's row (the review).
		if _, rows, n, err := f.svc.AttemptsPage(ctx, teacher, quiz.ID, course.StudentFilter{State: course.StateAttempted, Query: "STUDENT", Limit: 50}); err != nil ||
			n != 1 || len(rows) != 1 || len(rows[0].Attempts) != 2 || rows[0].Attempts[1].Number != 2 || rows[0].Grade == nil || rows[0].Grade.Grade != 5 {
			t.Fatalf("the attempts page: %v %d %+v", err, n, rows)
		}
		if _, rows, n, err := f.svc.AttemptsPage(ctx, teacher, quiz.ID, course.StudentFilter{State: course.StateNotAttempted, Limit: 50}); err != nil || n != 0 || len(rows) != 0 {
			t.Fatalf("not attempted: %v %d %+v", err, n, rows)
		}
		var verr *course.ValidationError
		for _, st := range []course.SubmissionState{"lost", course.StateSubmitted} { // an assignment's state is no quiz's
			if _, _, _, err := f.svc.AttemptsPage(ctx, teacher, quiz.ID, course.StudentFilter{State: st}); !errors.As(err, &verr) || verr.Field != "state" {
				t.Fatalf("the state %q: %v", st, err)
			}
		}
		if _, _, _, err := f.svc.AttemptsPage(ctx, student, quiz.ID, course.StudentFilter{}); !errors.Is(err, course.ErrForbidden) {
			t.Fatalf("a student listed the attempts: %v", err)
		}
		for _, a := range res.Activities {
			if a.Type != course.TypeQuiz {
				if _, _, _, err := f.svc.AttemptsPage(ctx, teacher, a.ID, course.StudentFilter{}); !errors.Is(err, course.ErrWrongType) {
					t.Fatalf("the attempts of a %s: %v", a.Type, err)
				}
				if _, err := f.svc.AttemptRowOf(ctx, teacher, a.ID, student.ID); !errors.Is(err, course.ErrWrongType) {
					t.Fatalf("one row of a %s: %v", a.Type, err)
				}
			}
		}
		if row, err := f.svc.AttemptRowOf(ctx, teacher, quiz.ID, student.ID); err != nil || row.Student.UserID != student.ID || len(row.Attempts) != 2 || row.Grade == nil {
			t.Fatalf("one student's attempts: %v %+v", err, row)
		}
		if _, err := f.svc.AttemptRowOf(ctx, student, quiz.ID, student.ID); !errors.Is(err, course.ErrForbidden) {
			t.Fatalf("a student read a row: %v", err)
		}
		other := f.user(t, "other", false)
		for _, uid := range []int64{teacher.ID, other.ID, 0} { // a teacher, a non-member, a learner without an account
			if _, err := f.svc.AttemptRowOf(ctx, teacher, quiz.ID, uid); !errors.Is(err, course.ErrNotFound) {
				t.Fatalf("the row of user %d: %v", uid, err)
			}
		}

		// The same attempts under "last" grading give the last score.
		in := course.ActivityInput{Name: quiz.Name, Visible: true, MaxGrade: 10, Quiz: quiz.Quiz}
		in.Quiz.GradingMethod, in.Quiz.AttemptsAllowed = course.GradeLast, 0
		if _, err := f.svc.UpdateActivity(ctx, teacher, quiz.ID, in); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SubmitQuiz(ctx, student, quiz.ID, perfect); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SubmitQuiz(ctx, student, quiz.ID, poor); err != nil {
			t.Fatal(err)
		}
		g, _ = s.GradeOf(ctx, quiz.ID, student.ID)
		if g.Grade != 0 {
			t.Fatalf("last grading after a perfect then a poor attempt: %v, want 0", g.Grade)
		}
		if done, _ := f.svc.Completions(ctx, student, res.Course.ID); done[quiz.ID].IsZero() {
			t.Fatal("submitting the quiz did not complete it")
		}
	})
}

func TestQuizAttemptLimitUnderConcurrency(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		f := newFixture(t, s)
		teacher, student := f.user(t, "teacher", true), f.user(t, "student", false)
		res := f.importExample(t, teacher)
		f.enrol(t, teacher, res.Course.ID, student, course.RoleStudent)
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = f.svc.SubmitQuiz(ctx, student, res.Activities[1].ID, course.Answers{"closest": {"1"}})
			}()
		}
		wg.Wait()
		if atts, _ := s.Attempts(ctx, res.Activities[1].ID, student.ID); len(atts) > 2 {
			t.Fatalf("%d attempts stored against a limit of 2", len(atts))
		}
	})
}

func TestAssignmentGrading(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		f := newFixture(t, s)
		teacher, student, other := f.user(t, "teacher", true), f.user(t, "student", false), f.user(t, "other", false)
		res := f.importExample(t, teacher)
		f.enrol(t, teacher, res.Course.ID, student, course.RoleStudent)
		asg := res.Activities[2]

		var verr *course.ValidationError
		if _, err := f.svc.SubmitAssignment(ctx, student, asg.ID, "   "); !errors.As(err, &verr) {
			t.Fatalf("empty submission: %v", err)
		}
		if _, err := f.svc.SubmitAssignment(ctx, other, asg.ID, "hi"); !errors.Is(err, course.ErrNotEnrolled) {
			t.Fatalf("non-member submission: %v", err)
		}
		if _, err := f.svc.SubmitAssignment(ctx, student, asg.ID, "First draft"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SubmitAssignment(ctx, student, asg.ID, "The Moon waxed."); err != nil {
			t.Fatal(err)
		}
		if sub, _ := f.svc.SubmissionOf(ctx, student, asg.ID); sub.Text != "The Moon waxed." {
			t.Fatalf("resubmission not kept: %+v", sub)
		}
		if _, err := f.svc.GradeSubmission(ctx, student, asg.ID, student.ID, 20, ""); !errors.Is(err, course.ErrForbidden) {
			t.Fatalf("a student graded: %v", err)
		}
		for _, bad := range []float64{-1, 20.5} {
			if _, err := f.svc.GradeSubmission(ctx, teacher, asg.ID, student.ID, bad, ""); !errors.As(err, &verr) || verr.Field != "grade" {
				t.Fatalf("grade %v: %v", bad, err)
			}
		}
		if _, err := f.svc.GradeSubmission(ctx, teacher, asg.ID, other.ID, 5, ""); !errors.As(err, &verr) {
			t.Fatalf("grading a non-member: %v", err)
		}
		g, err := f.svc.GradeSubmission(ctx, teacher, asg.ID, student.ID, 15, "Good observations.")
		if err != nil || g.Grade != 15 || g.GradedBy != teacher.ID || g.Feedback != "Good observations." {
			t.Fatalf("grade: %v %+v", err, g)
		}
		rows, _, err := f.svc.SubmissionsPage(ctx, teacher, asg.ID, course.StudentFilter{Limit: 50})
		if err != nil || len(rows) != 1 || rows[0].Submission == nil || rows[0].Grade == nil || rows[0].Grade.Grade != 15 {
			t.Fatalf("submissions list: %v %+v", err, rows)
		}
		if rows, n, err := f.svc.SubmissionsPage(ctx, teacher, asg.ID, course.StudentFilter{State: course.StateNeedsGrading, Limit: 50}); err != nil || n != 0 || len(rows) != 0 {
			t.Fatalf("needs grading after the grade: %v %d %+v", err, n, rows)
		}
		if _, _, err := f.svc.SubmissionsPage(ctx, teacher, asg.ID, course.StudentFilter{State: "lost"}); !errors.As(err, &verr) || verr.Field != "state" {
			t.Fatalf("an unknown state: %v", err)
		}
		if _, _, err := f.svc.SubmissionsPage(ctx, student, asg.ID, course.StudentFilter{}); !errors.Is(err, course.ErrForbidden) {
			t.Fatalf("a student listed the submissions: %v", err)
		}
		if _, _, err := f.svc.SubmissionsPage(ctx, teacher, res.Activities[1].ID, course.StudentFilter{}); !errors.Is(err, course.ErrWrongType) {
			t.Fatalf("the submissions of a quiz: %v", err)
		}
		if row, err := f.svc.SubmissionRowOf(ctx, teacher, asg.ID, student.ID); err != nil || row.Submission == nil || row.Submission.Text != "The Moon waxed." || row.Grade == nil {
			t.Fatalf("one student's row: %v %+v", err, row)
		}
		for _, uid := range []int64{teacher.ID, other.ID, 0} { // a teacher, a non-member, a learner without an account
			if _, err := f.svc.SubmissionRowOf(ctx, teacher, asg.ID, uid); !errors.Is(err, course.ErrNotFound) {
				t.Fatalf("the row of user %d: %v", uid, err)
			}
		}

		*f.clock = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC) // after the due date
		if _, err := f.svc.SubmitAssignment(ctx, student, asg.ID, "Late"); !errors.Is(err, course.ErrPastDue) {
			t.Fatalf("late submission: %v", err)
		}
	})
}

func TestCourseTotal(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		f := newFixture(t, s)
		teacher, ann, bob := f.user(t, "teacher", true), f.user(t, "ann", false), f.user(t, "bob", false)
		res := f.importExample(t, teacher)
		f.enrol(t, teacher, res.Course.ID, ann, course.RoleStudent)
		f.enrol(t, teacher, res.Course.ID, bob, course.RoleStudent)
		quiz, asg := res.Activities[1], res.Activities[2]
		// Ann: quiz 5/10 (50%), assignment 18/20 (90%) → 70. Bob: quiz only, 10/10 → 100.
		if _, err := f.svc.SubmitQuiz(ctx, ann, quiz.ID, course.Answers{"closest": {"1"}, "giants": {"0"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.GradeSubmission(ctx, teacher, asg.ID, ann.ID, 18, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SubmitQuiz(ctx, bob, quiz.ID, course.Answers{"closest": {"1"}, "giants": {"0", "2"}, "star": {"sol"}}); err != nil {
			t.Fatal(err)
		}
		rep, err := f.svc.GraderReport(ctx, teacher, res.Course.ID)
		if err != nil || len(rep.Activities) != 2 || len(rep.Rows) != 2 {
			t.Fatalf("report: %v %+v", err, rep)
		}
		want := map[string]float64{"ann": 70, "bob": 100}
		for _, row := range rep.Rows {
			if !row.HasTotal || row.Total != want[row.Student.Username] {
				t.Errorf("%s: total %v (has %v), want %v", row.Student.Username, row.Total, row.HasTotal, want[row.Student.Username])
			}
		}
		if _, err := f.svc.GraderReport(ctx, ann, res.Course.ID); !errors.Is(err, course.ErrForbidden) {
			t.Fatalf("a student opened the grader report: %v", err)
		}
		_, mine, err := f.svc.MyGrades(ctx, ann, res.Course.ID)
		if err != nil || mine.Total != 70 || mine.Grades[1].Grade != 18 {
			t.Fatalf("ann's grades: %v %+v", err, mine)
		}
		// MyGrade (the landing page's one grade) is MyGrades' column of that activity; nil where it has none.
		for i, a := range []course.Activity{quiz, asg} {
			g, err := f.svc.MyGrade(ctx, ann, a)
			if err != nil || g == nil || *g != *mine.Grades[i] {
				t.Errorf("ann's grade in %s: %v %+v, MyGrades has %+v", a.Name, err, g, mine.Grades[i])
			}
		}
		if g, err := f.svc.MyGrade(ctx, bob, asg); err != nil || g != nil {
			t.Errorf("bob's assignment grade, which he has not got: %v %+v", err, g)
		}
		if g, err := f.svc.MyGrade(ctx, ann, res.Activities[0]); err != nil || g != nil {
			t.Errorf("a grade in %s, which is not graded: %v %+v", res.Activities[0].Name, err, g)
		}
		if _, err := f.svc.MyGrade(ctx, f.user(t, "stranger", false), quiz); err == nil {
			t.Error("MyGrade answered a user not enrolled in the course")
		}
		var csv strings.Builder
		if err := rep.WriteCSV(&csv); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(csv.String(), "ann,Ann,5,18,70") || !strings.Contains(csv.String(), "bob,Bob,10,,100") {
			t.Fatalf("CSV:\n%s", csv.String())
		}
		if total, ok := course.CourseTotal(nil); ok || total != 0 {
			t.Fatal("no grades must give no total")
		}
		// A counted grade waiting for a teacher makes the total pending; one the total does not count (no
		// maximum) does not.
		pending := &course.Grade{Grade: 2, MaxGrade: 10, Pending: true}
		marked := &course.Grade{Grade: 5, MaxGrade: 10}
		if course.CourseTotalPending([]*course.Grade{marked, nil}) || !course.CourseTotalPending([]*course.Grade{marked, nil, pending}) ||
			course.CourseTotalPending([]*course.Grade{marked, {Pending: true}}) {
			t.Fatal("CourseTotalPending")
		}
	})
}

// TestGradesChangedUnderConcurrentWrites has many writers change grades while a sync loop keeps asking which
// grades changed and marking what it read as sent. When the writers stop and the loop has drained, the loop must
// have seen the final revision of every grade: no change is lost, however the commits interleave.
func TestGradesChangedUnderConcurrentWrites(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		f := newFixture(t, s)
		teacher := f.user(t, "teacher", true)
		res := f.importExample(t, teacher)
		var students []*account.User
		for i := range 6 {
			st := f.user(t, fmt.Sprintf("s%d", i), false)
			f.enrol(t, teacher, res.Course.ID, st, course.RoleStudent)
			students = append(students, st)
		}
		asg := res.Activities[2]
		const writers, changes = 6, 15
		const target = "lineitem:test"
		sent := map[int64]course.Grade{} // what the sync loop last read, by grade id
		stop := make(chan struct{})
		syncErr := make(chan error, 1)
		sync1 := func() (int, error) {
			pending, err := f.svc.GradesToSync(ctx, target, res.Course.ID, 1000)
			if err != nil {
				return 0, err
			}
			for _, g := range pending {
				sent[g.ID] = g
				if err := f.svc.MarkGradeSynced(ctx, target, g.ID, g.Revision); err != nil {
					return 0, err
				}
			}
			return len(pending), nil
		}
		go func() {
			defer close(syncErr)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := sync1(); err != nil {
					syncErr <- err
					return
				}
			}
		}()
		var wg sync.WaitGroup
		errs := make(chan error, writers*changes)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range changes {
					// Every writer touches every student's grade, so changes of one grade race each other.
					st := students[(w+i)%len(students)]
					if _, err := f.svc.GradeSubmission(ctx, teacher, asg.ID, st.ID, float64((w*changes+i)%21), fmt.Sprintf("w%d-%d", w, i)); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(stop)
		if err := <-syncErr; err != nil {
			t.Fatalf("sync loop: %v", err)
		}
		close(errs)
		for err := range errs {
			t.Fatalf("writer: %v", err)
		}
		if _, err := sync1(); err != nil { // the final catch-up pass
			t.Fatal(err)
		}
		if n, _ := sync1(); n != 0 {
			t.Fatalf("%d grades still pending after catching up", n)
		}
		final, err := s.CourseGrades(ctx, res.Course.ID)
		if err != nil || len(final) != len(students) {
			t.Fatalf("final grades: %v %d", err, len(final))
		}
		total := int64(0)
		for _, g := range final {
			total += g.Revision
			got, ok := sent[g.ID]
			if !ok || got.Revision != g.Revision || got.Grade != g.Grade || got.Feedback != g.Feedback {
				t.Errorf("grade %d: final revision %d (%v %q) but sync last saw %+v", g.ID, g.Revision, g.Grade, g.Feedback, got)
			}
			if hist, _ := s.GradeHistory(ctx, g.ID); int64(len(hist)) != g.Revision {
				t.Errorf("grade %d: %d history rows for revision %d", g.ID, len(hist), g.Revision)
			}
		}
		if total != writers*changes {
			t.Fatalf("revisions add up to %d, want one per change (%d)", total, writers*changes)
		}
	})
}

func TestImportExport(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		f := newFixture(t, s)
		teacher := f.user(t, "teacher", true)
		res := f.importExample(t, teacher)
		if len(res.Activities) != 3 || res.Activities[0].Type != course.TypePage || res.Activities[1].Type != course.TypeQuiz ||
			res.Activities[2].Type != course.TypeAssignment || len(res.Activities[1].Quiz.Questions) != 3 {
			t.Fatalf("imported %+v", res.Activities)
		}
		if !f.svc.CanEdit(ctx, teacher, res.Course) {
			t.Fatal("the importer is not the teacher")
		}
		exp, err := f.svc.Export(ctx, teacher, res.Course.ID)
		if err != nil {
			t.Fatal(err)
		}
		exp.Course.ShortName = "ASTRO101-copy"
		data, _ := jsonMarshal(exp)
		again, err := f.svc.Import(ctx, teacher, data)
		if err != nil {
			t.Fatalf("re-import of the export: %v", err)
		}
		if again.Activities[2].DueAt != res.Activities[2].DueAt || again.Activities[1].Quiz.Questions[1].Choices[2].Text != "Saturn" {
			t.Fatalf("round trip lost fields: %+v", again.Activities)
		}
		if _, err := f.svc.Import(ctx, teacher, data); !errors.Is(err, course.ErrShortNameTaken) {
			t.Fatalf("same short name twice: %v", err)
		}
		before, _ := s.ListCourses(ctx)

		good, _ := os.ReadFile("../../examples/course.json")
		tests := []struct {
			name      string
			data      string
			wantField string
		}{
			{"syntax", strings.Replace(string(good), `"ASTRO101",`, `"ASTRO101"`, 1), "line 6, column 5"},
			{"type", strings.Replace(string(good), `"max_grade": 10,`, `"max_grade": "ten",`, 1), "activities.max_grade"},
			{"unknown field", strings.Replace(string(good), `"show_answers"`, `"show_answer"`, 1), "show_answer"},
			{"bad format", strings.Replace(string(good), `ltipub-course/1`, `moodle`, 1), "format"},
			{"no correct choice", strings.Replace(string(good), `{"text": "Mercury", "correct": true}`, `{"text": "Mercury", "correct": false}`, 1), "activities[1].questions[0].choices"},
			{"bad type", strings.Replace(string(good), `"type": "assignment"`, `"type": "forum"`, 1), "activities[2].type"},
			{"bad due", strings.Replace(string(good), `2099-12-31T23:00:00Z`, `next week`, 1), "activities[2].due"},
			{"no max grade", strings.Replace(string(good), `"max_grade": 20,`, ``, 1), "activities[2].max_grade"},
			{"empty", "", "file"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				data := strings.Replace(tt.data, `"ASTRO101"`, `"OTHER"`, 1)
				_, err := f.svc.Import(ctx, teacher, []byte(data))
				var verr *course.ValidationError
				if !errors.As(err, &verr) || verr.Field != tt.wantField {
					t.Fatalf("got %v, want a ValidationError on %q", err, tt.wantField)
				}
			})
		}
		if after, _ := s.ListCourses(ctx); len(after) != len(before) {
			t.Fatalf("refused imports left %d courses behind", len(after)-len(before))
		}
	})
}

func TestRenderMarkdownIsSafe(t *testing.T) {
	t.Parallel()
	out := string(course.RenderMarkdown("# Title\n\n<script>alert(1)</script>\n\n[click](javascript:alert(1)) " +
		"<img src=x onerror=alert(1)> [ok](https://example.org)\n\n![i](vbscript:x)"))
	for _, bad := range []string{"<script", "javascript:", "onerror", "vbscript:"} {
		if strings.Contains(out, bad) {
			t.Errorf("rendered Markdown contains %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, "<h1>Title</h1>") || !strings.Contains(out, `<a href="https://example.org">ok</a>`) {
		t.Errorf("safe Markdown was not rendered:\n%s", out)
	}
}

package course_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
)

func TestAssignmentCutoff(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		f := newFixture(t, s)
		teacher, student := f.user(t, "teacher", true), f.user(t, "student", false)
		c, err := f.svc.CreateCourse(ctx, teacher, course.CourseInput{FullName: "Physics", ShortName: "PHY", Visible: true})
		if err != nil {
			t.Fatal(err)
		}
		f.enrol(t, teacher, c.ID, student, course.RoleStudent)
		due, cutoff := t0.Add(time.Hour), t0.Add(3*time.Hour)
		var verr *course.ValidationError
		if _, err := f.svc.CreateActivity(ctx, teacher, c.ID, course.ActivityInput{Type: course.TypeAssignment, Name: "Report",
			MaxGrade: 20, DueAt: due, CutoffAt: t0}); !errors.As(err, &verr) || verr.Field != "cutoff" {
			t.Fatalf("a cut-off before the due date: %v", err)
		}
		a, err := f.svc.CreateActivity(ctx, teacher, c.ID, course.ActivityInput{Type: course.TypeAssignment, Name: "Report",
			Visible: true, MaxGrade: 20, DueAt: due, CutoffAt: cutoff})
		if err != nil {
			t.Fatal(err)
		}
		if stored, _ := s.ActivityByID(ctx, a.ID); !stored.CutoffAt.Equal(cutoff) {
			t.Fatalf("cut-off not stored: %v", stored.CutoffAt)
		}
		*f.clock = due.Add(time.Minute) // late, before the cut-off: taken
		sub, err := f.svc.SubmitAssignment(ctx, student, a.ID, "late but here")
		if err != nil || !a.Late(sub.SubmittedAt) {
			t.Fatalf("a late submission before the cut-off: %v (late %v)", err, a.Late(sub.SubmittedAt))
		}
		*f.clock = cutoff.Add(time.Second)
		if _, err := f.svc.SubmitAssignment(ctx, student, a.ID, "too late"); !errors.Is(err, course.ErrPastDue) || !strings.Contains(err.Error(), "late submissions closed") {
			t.Fatalf("after the cut-off: %v", err)
		}
		file, err := f.svc.Export(ctx, teacher, c.ID)
		if err != nil || file.Format != course.FormatVersion2 || file.Activities[0].Cutoff != cutoff.Format(time.RFC3339) {
			t.Fatalf("export: %+v %v", file, err)
		}
	})
}

func TestQuizTimeLimit(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		f := newFixture(t, s)
		teacher, student := f.user(t, "teacher", true), f.user(t, "student", false)
		c, err := f.svc.CreateCourse(ctx, teacher, course.CourseInput{FullName: "Physics", ShortName: "PHY", Visible: true})
		if err != nil {
			t.Fatal(err)
		}
		f.enrol(t, teacher, c.ID, student, course.RoleStudent)
		var verr *course.ValidationError
		bad := course.ActivityInput{Type: course.TypeQuiz, Name: "Q", MaxGrade: 1, Quiz: course.QuizSettings{TimeLimitMinutes: -1,
			Questions: []course.Question{{Type: course.ShortAnswer, Text: "x", Answers: []course.Answer{{Text: "x"}}}}}}
		if err := bad.Validate(); !errors.As(err, &verr) || verr.Field != "time_limit_minutes" {
			t.Fatalf("a negative time limit: %v", err)
		}
		quiz, err := f.svc.CreateActivity(ctx, teacher, c.ID, course.ActivityInput{Type: course.TypeQuiz, Name: "Timed", Visible: true,
			MaxGrade: 1, Quiz: course.QuizSettings{TimeLimitMinutes: 10,
				Questions: []course.Question{{ID: "a", Type: course.ShortAnswer, Text: "2+2", Answers: []course.Answer{{Text: "4"}}}}}})
		if err != nil {
			t.Fatal(err)
		}
		deadline, err := f.svc.StartQuiz(ctx, student, quiz, 0)
		if err != nil || !deadline.Equal(t0.Add(10*time.Minute)) {
			t.Fatalf("deadline %v %v", deadline, err)
		}
		*f.clock = t0.Add(5 * time.Minute) // a reload keeps the first start
		if again, _ := f.svc.StartQuiz(ctx, student, quiz, 0); !again.Equal(deadline) {
			t.Fatalf("a reload moved the deadline to %v", again)
		}
		at, err := f.svc.SubmitQuiz(ctx, student, quiz.ID, course.Answers{"a": {"4"}})
		if err != nil || at.TimedOut || at.Score != 1 {
			t.Fatalf("in time: %+v %v", at, err)
		}
		*f.clock = t0.Add(20 * time.Minute)
		if _, err := f.svc.StartQuiz(ctx, student, quiz, 1); err != nil {
			t.Fatal(err)
		}
		*f.clock = t0.Add(31*time.Minute + time.Second) // 10 minutes and the grace minute after the start, and a second
		at, err = f.svc.SubmitQuiz(ctx, student, quiz.ID, course.Answers{"a": {"4"}})
		if err != nil || !at.TimedOut || at.Score != 0 || len(at.Answers) != 0 {
			t.Fatalf("too late: %+v %v", at, err)
		}
		if g, _ := s.GradeOf(ctx, quiz.ID, student.ID); g.Grade != 1 { // the highest attempt still counts
			t.Fatalf("grade %+v", g)
		}
		// Sent without the form shown: it starts, and is sent, now.
		at, err = f.svc.SubmitQuiz(ctx, student, quiz.ID, course.Answers{"a": {"4"}})
		if err != nil || at.TimedOut || at.Score != 1 {
			t.Fatalf("without a start: %+v %v", at, err)
		}
	})
}

package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/store"
)

func storeUser(t *testing.T, s Stores, name string) account.User {
	t.Helper()
	now := time.Now()
	u := account.User{Username: name, FullName: name, Auth: account.AuthManual, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	return u
}

// testCourses checks courses, ordered activities and enrolments.
func testCourses(t *testing.T, s Stores) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	teacher, student := storeUser(t, s, "teacher"), storeUser(t, s, "student")
	c := course.Course{FullName: "Physics 101", ShortName: "PHY101", Visible: true, CreatedBy: teacher.ID, CreatedAt: now, UpdatedAt: now}
	te := course.Enrolment{UserID: teacher.ID, Role: course.RoleTeacher, Status: course.StatusActive, Method: course.MethodManual, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateCourse(ctx, &c, &te); err != nil || c.ID == 0 || te.CourseID != c.ID {
		t.Fatalf("CreateCourse: %v (%+v, %+v)", err, c, te)
	}
	dup := course.Course{FullName: "Again", ShortName: "PHY101", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateCourse(ctx, &dup, nil); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate short name: %v", err)
	}
	due := now.Add(48 * time.Hour)
	acts := []*course.Activity{
		{CourseID: c.ID, Type: course.TypePage, Name: "Intro", Body: "# Hi", Visible: true},
		{CourseID: c.ID, Type: course.TypeQuiz, Name: "Quiz", MaxGrade: 10, Quiz: course.QuizSettings{AttemptsAllowed: 2,
			GradingMethod: course.GradeLast, Questions: []course.Question{{ID: "q1", Type: course.ShortAnswer, Text: "2+2", Points: 1, Answers: []course.Answer{{Text: "4"}}}}}},
		{CourseID: c.ID, Type: course.TypeAssignment, Name: "Essay", MaxGrade: 100, DueAt: due},
	}
	for _, a := range acts {
		if err := s.CreateActivity(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MoveActivity(ctx, acts[2].ID, -1); err != nil {
		t.Fatal(err)
	}
	if err := s.MoveActivity(ctx, acts[0].ID, -1); err != nil { // already first: nothing happens
		t.Fatal(err)
	}
	list, err := s.ListActivities(ctx, c.ID)
	if err != nil || len(list) != 3 || list[0].Name != "Intro" || list[1].Name != "Essay" || list[2].Name != "Quiz" {
		t.Fatalf("ListActivities after move: %v %+v", err, list)
	}
	if !list[1].DueAt.Equal(due) || list[2].Quiz.Questions[0].Answers[0].Text != "4" || list[2].Quiz.GradingMethod != course.GradeLast {
		t.Fatalf("activity fields not kept: %+v", list)
	}
	if _, err := s.ActivityByID(ctx, 99999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown activity: %v", err)
	}

	// One enrolment per method and source: a manual and an LTI enrolment may coexist, duplicates may not.
	manual := course.Enrolment{CourseID: c.ID, UserID: student.ID, Role: course.RoleStudent, Status: course.StatusActive,
		Method: course.MethodManual, End: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
	if err := s.CreateEnrolment(ctx, &manual); err != nil {
		t.Fatal(err)
	}
	again := manual
	if err := s.CreateEnrolment(ctx, &again); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate manual enrolment: %v", err)
	}
	lti := manual
	lti.Method, lti.PublishedResourceID, lti.End = course.MethodLTI, 42, time.Time{}
	if err := s.CreateEnrolment(ctx, &lti); err != nil {
		t.Fatalf("LTI enrolment beside the manual one: %v", err)
	}
	lti2 := lti
	lti2.PublishedResourceID = 43
	if err := s.CreateEnrolment(ctx, &lti2); err != nil {
		t.Fatalf("second LTI source: %v", err)
	}
	es, err := s.EnrolmentsOf(ctx, c.ID, student.ID)
	if err != nil || len(es) != 3 || es[0].Username != "student" {
		t.Fatalf("EnrolmentsOf: %v %+v", err, es)
	}
	got, _ := s.EnrolmentByID(ctx, lti.ID)
	if got.Method != course.MethodLTI || got.PublishedResourceID != 42 || !got.End.IsZero() {
		t.Fatalf("LTI enrolment read back as %+v", got)
	}
	got.Status = course.StatusSuspended
	if err := s.UpdateEnrolment(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteEnrolment(ctx, lti2.ID); err != nil {
		t.Fatal(err)
	}
	cs, es, err := s.CoursesOfUser(ctx, student.ID)
	if err != nil || len(cs) != 1 || len(es) != 2 {
		t.Fatalf("CoursesOfUser: %v %d courses %d enrolments", err, len(cs), len(es))
	}
	if err := s.MarkComplete(ctx, acts[0].ID, student.ID, now); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkComplete(ctx, acts[0].ID, student.ID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	done, err := s.Completions(ctx, c.ID, student.ID)
	if err != nil || len(done) != 1 || !done[acts[0].ID].Equal(now) {
		t.Fatalf("Completions: %v %v", err, done)
	}
}

// testGradeRevisions checks that every change of a grade bumps its revision, is kept in the history, and stays
// pending for a sync target until that revision is marked sent.
func testGradeRevisions(t *testing.T, s Stores) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	u := storeUser(t, s, "student")
	c := course.Course{FullName: "C", ShortName: "C", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateCourse(ctx, &c, nil); err != nil {
		t.Fatal(err)
	}
	a := course.Activity{CourseID: c.ID, Type: course.TypeAssignment, Name: "A", MaxGrade: 10}
	if err := s.CreateActivity(ctx, &a); err != nil {
		t.Fatal(err)
	}
	g1, err := s.PutGrade(ctx, course.GradeChange{ActivityID: a.ID, UserID: u.ID, Grade: 5, MaxGrade: 10, At: now})
	if err != nil || g1.Revision != 1 || g1.GradedBy != 0 {
		t.Fatalf("first grade: %v %+v", err, g1)
	}
	if pending, _ := s.GradesToSync(ctx, "t1", 0, 10); len(pending) != 1 {
		t.Fatalf("pending before any sync: %+v", pending)
	}
	if err := s.MarkGradeSynced(ctx, "t1", g1.ID, 1); err != nil {
		t.Fatal(err)
	}
	if pending, _ := s.GradesToSync(ctx, "t1", c.ID, 10); len(pending) != 0 {
		t.Fatalf("pending after sync: %+v", pending)
	}
	g2, err := s.PutGrade(ctx, course.GradeChange{ActivityID: a.ID, UserID: u.ID, Grade: 7, MaxGrade: 10, Feedback: "Better", GradedBy: u.ID, At: now})
	if err != nil || g2.Revision != 2 || g2.ID != g1.ID || g2.Feedback != "Better" {
		t.Fatalf("second grade: %v %+v", err, g2)
	}
	pending, _ := s.GradesToSync(ctx, "t1", c.ID, 10)
	if len(pending) != 1 || pending[0].Revision != 2 || pending[0].Grade != 7 {
		t.Fatalf("pending after change: %+v", pending)
	}
	if other, _ := s.GradesToSync(ctx, "t2", 0, 10); len(other) != 1 {
		t.Fatalf("another target sees %+v", other)
	}
	if err := s.MarkGradeSynced(ctx, "t1", g1.ID, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkGradeSynced(ctx, "t1", g1.ID, 1); err != nil { // a late, stale mark
		t.Fatal(err)
	}
	if pending, _ := s.GradesToSync(ctx, "t1", 0, 10); len(pending) != 0 {
		t.Fatalf("a stale mark lowered the sent revision: %+v", pending)
	}
	hist, err := s.GradeHistory(ctx, g1.ID)
	if err != nil || len(hist) != 2 || hist[0].Grade != 5 || hist[1].Grade != 7 || hist[1].Revision != 2 {
		t.Fatalf("history: %v %+v", err, hist)
	}
	if g, err := s.GradeOf(ctx, a.ID, u.ID); err != nil || g.Grade != 7 {
		t.Fatalf("GradeOf: %v %+v", err, g)
	}
}

// testRequestMemo: within one request (store.WithMemo) a row is read once, and the request's own write is seen by
// its next read.
func testRequestMemo(t *testing.T, s Stores) {
	ctx := store.WithMemo(context.Background())
	now := time.Now().UTC()
	teacher := storeUser(t, s, "memo-teacher")
	c := course.Course{FullName: "Memo 101", ShortName: "MEMO101", Visible: true, CreatedBy: teacher.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateCourse(ctx, &c, nil); err != nil {
		t.Fatal(err)
	}
	first, err := s.CourseByID(ctx, c.ID)
	if err != nil || first.FullName != "Memo 101" {
		t.Fatalf("first read: %+v %v", first, err)
	}
	first.FullName = "Renamed"
	if err := s.UpdateCourse(ctx, first); err != nil {
		t.Fatal(err)
	}
	if again, err := s.CourseByID(ctx, c.ID); err != nil || again.FullName != "Renamed" {
		t.Fatalf("a read after the request's write: %+v %v", again, err)
	}
	e := course.Enrolment{CourseID: c.ID, UserID: teacher.ID, Role: course.RoleTeacher, Status: course.StatusActive,
		Method: course.MethodManual, CreatedAt: now, UpdatedAt: now}
	if es, err := s.EnrolmentsOf(ctx, c.ID, teacher.ID); err != nil || len(es) != 0 {
		t.Fatalf("no enrolment yet: %+v %v", es, err)
	}
	if err := s.CreateEnrolment(ctx, &e); err != nil {
		t.Fatal(err)
	}
	es, err := s.EnrolmentsOf(ctx, c.ID, teacher.ID)
	if err != nil || len(es) != 1 {
		t.Fatalf("after enrolling in the same request: %+v %v", es, err)
	}
	es[0].Role = course.RoleStudent // a caller changing its copy changes nothing remembered
	if es, _ := s.EnrolmentsOf(ctx, c.ID, teacher.ID); es[0].Role != course.RoleTeacher {
		t.Errorf("the memo handed out its own slice: %+v", es)
	}
}

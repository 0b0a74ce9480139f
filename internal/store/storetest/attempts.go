package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
)

// testAttemptsList checks the students page of a quiz's attempts page (StudentsPage with Activity and one of
// course.AttemptStates) and AttemptsOfUsers: each state keeps the right people, in the page order, with counts
// that agree; another quiz's attempts, a begun attempt never submitted, and another course's people stay out.
func testAttemptsList(t *testing.T, s Stores) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	c := course.Course{FullName: "Attempts", ShortName: "ATTS", Visible: true, CreatedAt: now, UpdatedAt: now}
	other := course.Course{FullName: "Other", ShortName: "OTHER", Visible: true, CreatedAt: now, UpdatedAt: now}
	for _, co := range []*course.Course{&c, &other} {
		if err := s.CreateCourse(ctx, co, nil); err != nil {
			t.Fatal(err)
		}
	}
	quiz := course.Activity{CourseID: c.ID, Type: course.TypeQuiz, Name: "Quiz", MaxGrade: 10, Visible: true}
	second := course.Activity{CourseID: c.ID, Type: course.TypeQuiz, Name: "Second", MaxGrade: 10, Visible: true}
	for _, a := range []*course.Activity{&quiz, &second} {
		if err := s.CreateActivity(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	attempt := func(a course.Activity, u account.User, pending bool) {
		t.Helper()
		if _, err := s.RecordAttempt(ctx, a.ID, u.ID, func(prev []course.Attempt) (course.Attempt, *course.GradeChange, error) {
			return course.Attempt{Answers: course.Answers{"q": {fmt.Sprint(len(prev))}}, Score: 5, MaxGrade: 10, SubmittedAt: now.Add(time.Duration(len(prev)) * time.Minute),
				Pending: pending}, &course.GradeChange{ActivityID: a.ID, UserID: u.ID, Grade: 5, MaxGrade: 10, Pending: pending, At: now}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// 12 people "Ann 00"… (every 4th from 2 a teacher, who is not listed). User 00 made two attempts, both marked
	// (finished); 03 one waiting for a mark; 09 one marked then one waiting; 06 (a teacher) one. User 01 tried only
	// the second quiz; 04 began an attempt at the first and never submitted it.
	const n = 12
	var people []account.User
	for i := range n {
		u := account.User{Username: fmt.Sprintf("att%02d", i), FullName: fmt.Sprintf("Ann %02d", i), Email: fmt.Sprintf("t%02d@mail.example", i),
			Auth: account.AuthManual, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		people = append(people, u)
		role := course.RoleStudent
		if i%4 == 2 {
			role = course.RoleTeacher
		}
		e := course.Enrolment{CourseID: c.ID, UserID: u.ID, Role: role, Status: course.StatusActive, Method: course.MethodManual, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateEnrolment(ctx, &e); err != nil {
			t.Fatal(err)
		}
		switch i {
		case 0:
			attempt(quiz, u, false)
			attempt(quiz, u, false)
		case 3, 6:
			attempt(quiz, u, true)
		case 9:
			attempt(quiz, u, false)
			attempt(quiz, u, true)
		case 1:
			attempt(second, u, true)
		case 4:
			if _, err := s.StartAttempt(ctx, quiz.ID, u.ID, 1, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Someone of another course with attempts at nothing here.
	stranger := account.User{Username: "stranger", FullName: "Ann 99", Auth: account.AuthManual, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(ctx, &stranger); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEnrolment(ctx, &course.Enrolment{CourseID: other.ID, UserID: stranger.ID, Role: course.RoleStudent,
		Status: course.StatusActive, Method: course.MethodManual, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}

	// Students: 0 1 3 4 5 7 8 9 11 (2, 6, 10 teach).
	tests := []struct {
		state course.SubmissionState
		query string
		want  []int
	}{
		{course.SubmissionAny, "", []int{0, 1, 3, 4, 5, 7, 8, 9, 11}},
		{course.StateAttempted, "", []int{0, 3, 9}},
		{course.StateNotAttempted, "", []int{1, 4, 5, 7, 8, 11}},
		{course.StateNeedsMarking, "", []int{3, 9}},
		{course.StateFinished, "", []int{0}},
		{course.StateNotAttempted, "ANN 0", []int{1, 4, 5, 7, 8}},
		{course.StateNeedsMarking, "t09@MAIL", []int{9}},
		{course.StateFinished, "nobody", nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.state)+"/"+tt.query, func(t *testing.T) {
			wantStudents(t, s, c.ID, course.StudentFilter{Activity: quiz.ID, State: tt.state, Query: tt.query}, people, tt.want)
		})
	}

	atts, err := s.AttemptsOfUsers(ctx, quiz.ID, []int64{people[9].ID, people[0].ID, people[1].ID, people[3].ID, people[4].ID, stranger.ID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range atts {
		if a.ActivityID != quiz.ID || a.Score != 5 || a.MaxGrade != 10 || len(a.Answers["q"]) != 1 {
			t.Fatalf("AttemptsOfUsers gave %+v", a)
		}
		got = append(got, fmt.Sprintf("%d/%d/%v", a.UserID, a.Number, a.Pending))
	}
	want := []string{fmt.Sprintf("%d/1/false", people[0].ID), fmt.Sprintf("%d/2/false", people[0].ID), fmt.Sprintf("%d/1/true", people[3].ID),
		fmt.Sprintf("%d/1/false", people[9].ID), fmt.Sprintf("%d/2/true", people[9].ID)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("AttemptsOfUsers: %v, want %v (by user, then number)", got, want)
	}
	if none, err := s.AttemptsOfUsers(ctx, quiz.ID, []int64{}); err != nil || len(none) != 0 {
		t.Fatalf("AttemptsOfUsers of nobody: %v %v", err, none)
	}
}

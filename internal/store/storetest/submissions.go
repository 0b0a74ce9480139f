package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
)

// testSubmissionsList checks the students page of an assignment's submissions list (StudentsPage with Activity
// and State) and SubmissionsOfUsers: each state keeps the right people, in the page order, with counts that agree;
// another assignment's submissions and grades, and another course's people, stay out.
func testSubmissionsList(t *testing.T, s Stores) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	c := course.Course{FullName: "Submissions", ShortName: "SUBS", Visible: true, CreatedAt: now, UpdatedAt: now}
	other := course.Course{FullName: "Other", ShortName: "OTHER", Visible: true, CreatedAt: now, UpdatedAt: now}
	for _, co := range []*course.Course{&c, &other} {
		if err := s.CreateCourse(ctx, co, nil); err != nil {
			t.Fatal(err)
		}
	}
	asg := course.Activity{CourseID: c.ID, Type: course.TypeAssignment, Name: "Essay", MaxGrade: 20, Visible: true}
	second := course.Activity{CourseID: c.ID, Type: course.TypeAssignment, Name: "Second", MaxGrade: 20, Visible: true}
	for _, a := range []*course.Activity{&asg, &second} {
		if err := s.CreateActivity(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	// 12 students "Bea 00"… (every 4th a teacher, who is not listed); i%3 == 0 submitted; i%6 == 0 graded after
	// submitting; user03 graded before handing in (needs grading), user01 graded without submitting.
	const n = 12
	var people []account.User
	for i := range n {
		u := account.User{Username: fmt.Sprintf("sub%02d", i), FullName: fmt.Sprintf("Bea %02d", i), Email: fmt.Sprintf("s%02d@mail.example", i),
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
		grade := func(a course.Activity, at time.Time) {
			if _, err := s.PutGrade(ctx, course.GradeChange{ActivityID: a.ID, UserID: u.ID, Grade: 10, MaxGrade: 20, At: at}); err != nil {
				t.Fatal(err)
			}
		}
		if i == 3 {
			grade(asg, now.Add(-time.Hour))
		}
		if i%3 == 0 {
			if err := s.SaveSubmission(ctx, &course.Submission{ActivityID: asg.ID, UserID: u.ID, Text: u.Username, SubmittedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		if i%6 == 0 || i == 1 {
			grade(asg, now.Add(time.Hour))
		}
		// The second assignment: everyone submitted and graded, which must not leak into the first's list.
		if err := s.SaveSubmission(ctx, &course.Submission{ActivityID: second.ID, UserID: u.ID, Text: "x", SubmittedAt: now}); err != nil {
			t.Fatal(err)
		}
		grade(second, now.Add(time.Hour))
	}
	// Someone of another course who submitted to nothing here.
	stranger := account.User{Username: "stranger", FullName: "Bea 99", Auth: account.AuthManual, CreatedAt: now, UpdatedAt: now}
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
		{course.StateSubmitted, "", []int{0, 3, 9}},
		{course.StateNotSubmitted, "", []int{1, 4, 5, 7, 8, 11}},
		{course.StateNeedsGrading, "", []int{3, 9}},
		{course.StateGraded, "", []int{0, 1, 3}},
		{course.StateNotSubmitted, "BEA 0", []int{1, 4, 5, 7, 8}},
		{course.StateSubmitted, "s09@MAIL", []int{9}},
		{course.StateGraded, "nobody", nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.state)+"/"+tt.query, func(t *testing.T) {
			wantStudents(t, s, c.ID, course.StudentFilter{Activity: asg.ID, State: tt.state, Query: tt.query}, people, tt.want)
		})
	}

	subs, err := s.SubmissionsOfUsers(ctx, asg.ID, []int64{people[0].ID, people[1].ID, people[9].ID, stranger.ID})
	if err != nil || len(subs) != 2 {
		t.Fatalf("SubmissionsOfUsers: %v %+v", err, subs)
	}
	for _, sub := range subs {
		if sub.ActivityID != asg.ID || (sub.UserID != people[0].ID && sub.UserID != people[9].ID) || sub.Text == "" || !sub.SubmittedAt.Equal(now) {
			t.Fatalf("SubmissionsOfUsers gave %+v", sub)
		}
	}
	if none, err := s.SubmissionsOfUsers(ctx, asg.ID, []int64{}); err != nil || len(none) != 0 {
		t.Fatalf("SubmissionsOfUsers of nobody: %v %v", err, none)
	}
}

// wantStudents walks StudentsPage two rows at a time under filter f and checks that every page counts len(want)
// and that the rows are people[want[0]], people[want[1]]…, in that order.
func wantStudents(t *testing.T, s Stores, courseID int64, f course.StudentFilter, people []account.User, want []int) {
	t.Helper()
	var got []int64
	for f.Offset, f.Limit = 0, 2; ; f.Offset += 2 {
		page, cnt, err := s.StudentsPage(context.Background(), courseID, f)
		if err != nil {
			t.Fatal(err)
		}
		if cnt != len(want) {
			t.Fatalf("counted %d, want %d", cnt, len(want))
		}
		for _, e := range page {
			got = append(got, e.UserID)
		}
		if len(page) < 2 {
			break
		}
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d, want %v", len(got), want)
	}
	for i, w := range want {
		if got[i] != people[w].ID {
			t.Fatalf("row %d is user %d, want %s", i, got[i], people[w].Username)
		}
	}
}

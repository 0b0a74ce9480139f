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
		if err != nil || file.Format != course.FormatVersion || file.Activities[0].Cutoff != cutoff.Format(time.RFC3339) {
			t.Fatalf("export: %+v %v", file, err)
		}
	})
}

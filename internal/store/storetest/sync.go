package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/publish"
)

// storeLink makes a course, a published resource and one resource link of a registered platform.
func storeLink(t *testing.T, s Stores) publish.ResourceLink {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	reg := storeRegistration(t, s)
	teacher := storeUser(t, s, "sync-teacher")
	c := course.Course{FullName: "Sync 101", ShortName: "SYNC101", Visible: true, CreatedBy: teacher.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateCourse(ctx, &c, nil); err != nil {
		t.Fatal(err)
	}
	r := publish.Resource{UUID: uuid.NewString(), CourseID: c.ID, Name: "Sync 101", Enabled: true, StudentMode: publish.ModeAuto,
		TeacherMode: publish.ModeAuto, MemberSyncMode: publish.SyncEnrolAndUnenrol, LearnerRole: course.RoleStudent,
		InstructorRole: course.RoleTeacher, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateResource(ctx, &r); err != nil {
		t.Fatal(err)
	}
	l := publish.ResourceLink{RegistrationID: reg.ID, DeploymentID: "dep-1", LinkID: "rl-1", PublishedResourceID: r.ID,
		CreatedAt: now, UpdatedAt: now}
	if err := s.SaveResourceLink(ctx, &l); err != nil || l.ID == 0 {
		t.Fatalf("save resource link: %v (id %d)", err, l.ID)
	}
	return l
}

// testSyncMarks: the per-link marks grade and member sync keep — the line item found or created, the last
// complete roster listing — written by any instance, in any order, without losing each other.
func testSyncMarks(t *testing.T, s Stores) {
	ctx := context.Background()
	l := storeLink(t, s)
	if st, err := s.SyncLink(ctx, l.ID); err != nil || st != (jobs.LinkState{}) {
		t.Fatalf("a link never synced: %+v %v", st, err)
	}
	at := time.Now().UTC().Truncate(time.Microsecond)
	// Grade sync and member sync of two instances mark the same link at once.
	errs := concurrently(2, func(i int) error {
		if i == 0 {
			return s.SetSyncLineItem(ctx, l.ID, "https://lms.example.edu/lineitems/7", true, at)
		}
		return s.FinishMemberRun(ctx, l.ID, 42, at)
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.SyncLink(ctx, l.ID)
	if err != nil || st.LineItemURL != "https://lms.example.edu/lineitems/7" || !st.LineItemCreated || st.MembersRunID != 42 ||
		!st.MembersSyncedAt.Equal(at) {
		t.Fatalf("both marks: %+v %v", st, err)
	}
	// A later roster listing moves its mark; the line item stays.
	if err := s.FinishMemberRun(ctx, l.ID, 43, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.SyncLink(ctx, l.ID); st.MembersRunID != 43 || st.LineItemURL == "" {
		t.Errorf("after the next run: %+v", st)
	}
}

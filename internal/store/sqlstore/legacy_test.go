package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
	"github.com/ltipub/ltipub/lti"
)

// TestLegacyLinks covers migration 00007 on both engines: 1.1 resource links without a registration, upserted
// by (platform identity, link ID), listed with the 1.3 ones, their legacy details and Basic Outcomes targets, and
// foreign keys still enforced after SQLite's table rebuild.
func TestLegacyLinks(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		c := course.Course{FullName: "Legacy course", ShortName: "LC", Visible: true, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateCourse(ctx, &c, nil); err != nil {
			t.Fatal(err)
		}
		r := publish.Resource{UUID: "11111111-2222-3333-4444-555555555555", CourseID: c.ID, Name: "R", Enabled: true,
			MemberSyncMode: publish.SyncEnrolAndUnenrol, StudentMode: publish.ModeAuto, TeacherMode: publish.ModePrompt,
			LearnerRole: course.RoleStudent, InstructorRole: course.RoleTeacher, LegacySecret: "sec", CreatedAt: now, UpdatedAt: now}
		if err := s.CreateResource(ctx, &r); err != nil {
			t.Fatal(err)
		}
		u := account.User{Username: "lti_x", FullName: "X", Auth: account.AuthLTI, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		lu, err := s.LinkLTIUser(ctx, publish.LTIUser{Issuer: "lti11:key:guid", Subject: "42", UserID: u.ID, CreatedAt: now, LastLaunchAt: now})
		if err != nil || lu.RegistrationID != 0 {
			t.Fatalf("link user: %+v %v", lu, err)
		}

		link := publish.ResourceLink{DeploymentID: "lti11:key:guid", LinkID: "rl-1", PublishedResourceID: r.ID, ContextID: "c1",
			Title: "first", CreatedAt: now, UpdatedAt: now}
		if err := s.SaveLegacyLink(ctx, &link, publish.LegacyLink{ConsumerKey: "key", InstanceGUID: "guid",
			MembershipsURL: "https://lms/m", MembershipsID: "m1", UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if link.ID == 0 || !link.IsLegacy() {
			t.Fatalf("saved %+v", link)
		}
		again := publish.ResourceLink{DeploymentID: "lti11:key:guid", LinkID: "rl-1", PublishedResourceID: r.ID, Title: "renamed",
			CreatedAt: now, UpdatedAt: now.Add(time.Second)}
		if err := s.SaveLegacyLink(ctx, &again, publish.LegacyLink{ConsumerKey: "key", InstanceGUID: "guid", UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if again.ID != link.ID || again.Title != "renamed" {
			t.Fatalf("the same link was not updated: %+v", again)
		}
		ll, err := s.LegacyLink(ctx, link.ID)
		if err != nil || ll.MembershipsURL != "https://lms/m" || ll.MembershipsID != "m1" || ll.ConsumerKey != "key" {
			t.Fatalf("legacy link %+v %v (a launch without memberships must not erase them)", ll, err)
		}
		other := publish.ResourceLink{DeploymentID: "lti11:other", LinkID: "rl-1", PublishedResourceID: r.ID, CreatedAt: now, UpdatedAt: now}
		if err := s.SaveLegacyLink(ctx, &other, publish.LegacyLink{ConsumerKey: "other", UpdatedAt: now}); err != nil || other.ID == link.ID {
			t.Fatalf("another platform's link: %+v %v", other, err)
		}
		links, err := s.ResourceLinks(ctx, r.ID)
		if err != nil || len(links) != 2 {
			t.Fatalf("links %+v %v", links, err)
		}

		if err := s.LinkUserToResourceLink(ctx, lu.ID, link.ID, now); err != nil {
			t.Fatal(err)
		}
		if err := s.LinkUserToResourceLink(ctx, lu.ID, 999999, now); err == nil {
			t.Error("a user link to no resource link was stored: foreign keys are off")
		}
		if _, err := s.LegacyOutcome(ctx, link.ID, u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("outcome before any: %v", err)
		}
		for _, src := range []string{"src-1", "src-2"} {
			if err := s.SaveLegacyOutcome(ctx, publish.LegacyOutcome{ResourceLinkID: link.ID, LTIUserID: lu.ID, ServiceURL: "https://lms/o",
				SourcedID: src}, now); err != nil {
				t.Fatal(err)
			}
		}
		o, err := s.LegacyOutcome(ctx, link.ID, u.ID)
		if err != nil || o.SourcedID != "src-2" || o.ServiceURL != "https://lms/o" || o.LTIUserID != lu.ID {
			t.Fatalf("outcome %+v %v", o, err)
		}

		if err := s.UseNonce(ctx, "lti11:key", "n1", now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.UseNonce(ctx, "lti11:key", "n1", now.Add(time.Minute)); !errors.Is(err, lti.ErrNonceReused) {
			t.Fatalf("reused nonce: %v", err)
		}

		if err := s.DeleteResource(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LegacyLink(ctx, link.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("legacy details outlived their link: %v", err)
		}
	})
}

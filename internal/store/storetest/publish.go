package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/internal/tool"
)

// testRegistrations: platform registrations and their deployments.
func testRegistrations(t *testing.T, s Stores) {
	ctx := context.Background()
	r := storeRegistration(t, s)
	for _, d := range []string{"dep-1", "dep-2"} {
		if err := s.AddDeployment(ctx, &tool.Deployment{RegistrationID: r.ID, DeploymentID: d}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddDeployment(ctx, &tool.Deployment{RegistrationID: r.ID, DeploymentID: "dep-1"}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("a deployment ID twice: %v", err)
	}
	got, err := s.Registration(ctx, r.ID)
	if err != nil || got.Issuer != r.Issuer || got.ClientID != r.ClientID || len(got.Deployments) != 2 || !got.HasDeployment("dep-2") {
		t.Fatalf("registration: %+v %v", got, err)
	}
	other := tool.Registration{Name: "Second client", Issuer: r.Issuer, ClientID: "client-2"}
	if err := s.CreateRegistration(ctx, &other); err != nil {
		t.Fatal(err)
	}
	byIssuer, err := s.RegistrationsByIssuer(ctx, r.Issuer)
	if err != nil || len(byIssuer) != 2 {
		t.Fatalf("by issuer: %+v %v", byIssuer, err)
	}
	got.PlatformName = "Moodle"
	if err := s.UpdateRegistration(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveDeployment(ctx, r.ID, "dep-1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Registration(ctx, r.ID); got.PlatformName != "Moodle" || len(got.Deployments) != 1 || got.HasDeployment("dep-1") {
		t.Errorf("after update and removal: %+v", got)
	}
	if err := s.DeleteRegistration(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Registration(ctx, other.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a deleted registration: %v", err)
	}
}

// testPublishLinks: what launches write — platform users and their accounts, resource links, the links between
// them — with the upserts two launches of one person may race on.
func testPublishLinks(t *testing.T, s Stores) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	l := storeLink(t, s)
	res, err := s.ResourceByID(ctx, l.PublishedResourceID)
	if err != nil {
		t.Fatal(err)
	}
	if byUUID, err := s.ResourceByUUID(ctx, res.UUID); err != nil || byUUID.ID != res.ID {
		t.Fatalf("resource by UUID: %+v %v", byUUID, err)
	}
	u1, u2 := storeUser(t, s, "person-1"), storeUser(t, s, "person-2")

	if _, _, _, err := s.LinkedUser(ctx, "https://lms.example.edu", "sub-1", res.CourseID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unlinked person: %v", err)
	}
	// Two launches of the same person link two accounts at once: one link holds, both see it.
	var held [2]publish.LTIUser
	errs := concurrently(2, func(i int) error {
		var err error
		held[i], err = s.LinkLTIUser(ctx, publish.LTIUser{Issuer: "https://lms.example.edu", Subject: "sub-1",
			RegistrationID: l.RegistrationID, UserID: []int64{u1.ID, u2.ID}[i], CreatedAt: now, LastLaunchAt: now})
		return err
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if held[0].ID == 0 || held[0] != held[1] {
		t.Fatalf("two links of one person: %+v", held)
	}
	// The link, its account and the account's enrolments in the course, in one read.
	e := course.Enrolment{CourseID: res.CourseID, UserID: held[0].UserID, Role: course.RoleStudent, Status: course.StatusActive,
		Method: course.MethodLTI, PublishedResourceID: res.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateEnrolment(ctx, &e); err != nil {
		t.Fatal(err)
	}
	lu, u, es, err := s.LinkedUser(ctx, "https://lms.example.edu", "sub-1", res.CourseID)
	if err != nil || lu.ID != held[0].ID || u.ID != held[0].UserID || len(es) != 1 || es[0].ID != e.ID || es[0].Method != course.MethodLTI ||
		es[0].PublishedResourceID != res.ID {
		t.Fatalf("linked user: %+v %+v %+v %v", lu, u, es, err)
	}
	if _, _, es, err := s.LinkedUser(ctx, "https://lms.example.edu", "sub-1", res.CourseID+1000); err != nil || len(es) != 0 {
		t.Errorf("enrolments in another course: %+v %v", es, err)
	}
	// A resource link saved again (the next launch) keeps its ID and takes the new endpoints.
	again := l
	again.ID, again.LineItemsURL, again.AGSScopes, again.UpdatedAt = 0, "https://lms.example.edu/lineitems", []string{"scope-a"}, now.Add(time.Minute)
	if err := s.SaveResourceLink(ctx, &again); err != nil || again.ID != l.ID {
		t.Fatalf("resource link again: %v (id %d, want %d)", err, again.ID, l.ID)
	}
	got, err := s.ResourceLink(ctx, l.RegistrationID, l.DeploymentID, l.LinkID)
	if err != nil || got.LineItemsURL != "https://lms.example.edu/lineitems" || len(got.AGSScopes) != 1 {
		t.Errorf("resource link: %+v %v", got, err)
	}
	for range 2 { // the second launch through the same link only moves its time
		if err := s.LinkUserToResourceLink(ctx, lu.ID, l.ID, now); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.CountResourceEnrolments(ctx, res.ID); err != nil || n != 1 {
		t.Errorf("enrolments made by the resource: %d %v", n, err)
	}
}

package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/lti"
)

// SyncMembers follows the rosters of one published resource (0: all with member sync on) and records the run.
func (s *Service) SyncMembers(ctx context.Context, cause Cause, resourceID, jobID int64) (Run, error) {
	run := Run{Kind: KindMembers, Cause: cause, ResourceID: resourceID, JobID: jobID, Status: StatusRunning, StartedAt: s.cfg.Now()}
	if err := s.cfg.Store.StartRun(ctx, &run); err != nil {
		return Run{}, fmt.Errorf("record sync run: %w", err)
	}
	resources, err := s.resources(ctx, resourceID)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for _, r := range resources {
		// Member sync off: nothing happens at sync time (launches still provision).
		if !r.MemberSync {
			continue
		}
		c, err := s.cfg.Courses.CourseByID(ctx, r.CourseID)
		if err != nil {
			errs = append(errs, fmt.Errorf("load course %d: %w", r.CourseID, err))
			continue
		}
		links, err := s.cfg.Publish.ResourceLinks(ctx, r.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, l := range links {
			if l.IsLegacy() { // LTI 1.1: the memberships extension (legacy.go)
				if err := s.syncLegacyMembers(ctx, &run, r, c, l); err != nil {
					errs = append(errs, linkErr(l, err))
				}
				continue
			}
			if l.MembershipsURL == "" {
				continue
			}
			run.Links++
			if err := s.syncLinkMembers(ctx, &run, r, c, l); err != nil {
				errs = append(errs, linkErr(l, err))
			}
		}
	}
	return s.finish(ctx, &run, errs)
}

// syncLinkMembers pages through one link's roster. Members are provisioned and enrolled batch by batch as they
// stream in; only after the whole roster was read do those who left (or are Inactive or Deleted) lose the
// enrolments this resource made.
func (s *Service) syncLinkMembers(ctx context.Context, run *Run, r publish.Resource, c course.Course, l publish.ResourceLink) error {
	reg, err := s.cfg.Registrations.Registration(ctx, l.RegistrationID)
	if errors.Is(err, store.ErrNotFound) {
		return &permanent{"the link's platform registration was deleted"}
	}
	if err != nil {
		return err
	}
	client := s.serviceClient(reg, []string{lti.ScopeMembership})
	enrol := r.MemberSyncMode != publish.SyncUnenrolOnly
	unenrol := r.MemberSyncMode != publish.SyncEnrolOnly
	var mu sync.Mutex
	handle := func(ms []lti.Member) error {
		seen := make([]int64, 0, len(ms))
		for _, m := range ms {
			if !m.IsActive() {
				continue // Inactive and Deleted members count as gone
			}
			pm := publish.Member{Subject: m.UserID, Name: m.Name, GivenName: m.GivenName, FamilyName: m.FamilyName,
				Email: m.Email, Teacher: m.Roles.IsTeacherLike()}
			if !enrol {
				// Unenrol only: just note who is still there.
				lu, err := s.cfg.Publish.LTIUser(ctx, reg.Issuer, m.UserID)
				if err == nil {
					seen = append(seen, lu.ID)
				} else if !errors.Is(err, store.ErrNotFound) {
					return err
				}
				continue
			}
			ma, ok, err := s.cfg.Provision.ProvisionMember(ctx, r, reg, pm)
			if err != nil {
				return fmt.Errorf("provision platform user %q: %w", m.UserID, err)
			}
			mu.Lock()
			if !ok {
				run.Skipped++
				mu.Unlock()
				continue
			}
			if ma.Created {
				run.Created++
			}
			if ma.Updated {
				run.Updated++
			}
			mu.Unlock()
			seen = append(seen, ma.LTIUserID)
			enrolled, refused, err := s.cfg.Provision.EnrolMember(ctx, r, c, ma.User, pm.Teacher)
			if err != nil {
				return fmt.Errorf("enrol platform user %q: %w", m.UserID, err)
			}
			mu.Lock()
			if enrolled {
				run.Enrolled++
			}
			if refused {
				run.Skipped++
			}
			mu.Unlock()
		}
		return s.cfg.Store.SeeMembers(ctx, l.ID, run.ID, seen)
	}
	var res lti.MembershipsResult
	err = s.retry(ctx, func() error {
		var err error
		// A retry starts the listing again; members already handled are handled again, harmlessly.
		res, err = client.Memberships(ctx, l.MembershipsURL, lti.MembershipsQuery{RLID: l.LinkID, Limit: s.cfg.MemberPageSize}, handle)
		return err
	})
	if err != nil {
		return err // an incomplete roster never unenrols anyone
	}
	s.log.DebugContext(ctx, "roster read", "link_id", l.ID, "members", res.Members, "pages", res.Pages)
	return s.finishRoster(ctx, run, r, l, unenrol)
}

// finishRoster closes a complete listing of link l and, when the mode unenrols, removes the enrolments that r made
// for users the listing no longer holds — never a manual enrolment or another resource's. Both the LTI 1.3
// (NRPS) and the LTI 1.1 (memberships extension) rosters end here.
func (s *Service) finishRoster(ctx context.Context, run *Run, r publish.Resource, l publish.ResourceLink, unenrol bool) error {
	if err := s.cfg.Store.FinishMemberRun(ctx, l.ID, run.ID, s.cfg.Now()); err != nil {
		return err
	}
	if !unenrol {
		return nil
	}
	stale, err := s.cfg.Store.StaleEnrolments(ctx, l.ID, r.ID, r.CourseID, run.ID)
	if err != nil {
		return err
	}
	for _, se := range stale {
		if err := s.cfg.Courses.DeleteEnrolment(ctx, se.EnrolmentID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("unenrol user %d: %w", se.UserID, err)
		}
		run.Unenrolled++
	}
	return nil
}

package jobs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti"
)

// MemberSyncOptions says which rosters a member sync reads and how it behaves beside other runs.
type MemberSyncOptions struct {
	Cause      Cause
	ResourceID int64 // 0: every resource with member sync on
	LinkID     int64 // 0: every link of the resources
	JobID      int64
	// Wait makes a link that another run is listing wait for that run, whose counts the result then carries
	// (Run.Waited), instead of noting "already running" (the CLI's --wait).
	Wait bool
	// Force applies unenrolments beyond the safety valve's share (an admin's confirmation).
	Force bool
	// Progress, when set, is called with the run's counts as roster pages go by and when a wait starts.
	Progress func(Run)
}

// memberRun is a member sync under way: its record, guarded for the roster pages that update it, saved as it
// goes so that the Sync page and the CLI show live counts.
type memberRun struct {
	s  *Service
	o  MemberSyncOptions
	mu sync.Mutex
	Run
	saved time.Time
	dirty bool // counts changed since saved
}

func (m *memberRun) update(fn func(r *Run)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(&m.Run)
}

func (m *memberRun) note(msg string) {
	m.update(func(r *Run) {
		if r.Note != "" {
			r.Note += "\n"
		}
		r.Note += msg
	})
}

// progress saves the counts (at most every 200 ms, so a fast run does not write more than it reads; flush saves
// what is left while a page takes long) and tells the caller.
func (m *memberRun) progress(ctx context.Context, force bool) {
	m.mu.Lock()
	now := m.s.cfg.Now()
	if !force && now.Sub(m.saved) < 200*time.Millisecond {
		m.dirty = true
		m.mu.Unlock()
		return
	}
	m.saved, m.dirty = now, false
	m.UpdatedAt = now
	snap := m.Run
	m.mu.Unlock()
	if err := m.s.cfg.Store.SaveRunProgress(context.WithoutCancel(ctx), snap); err != nil {
		m.s.log.WarnContext(ctx, "save sync progress", "run_id", snap.ID, "error", err)
	}
	if m.o.Progress != nil {
		m.o.Progress(snap)
	}
}

// flush saves unsaved counts every quarter second until stop closes.
func (m *memberRun) flush(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			m.mu.Lock()
			// The heartbeat: saved even when nothing changed, so that the run counts as alive (runs.go).
			dirty := m.dirty || m.s.cfg.Now().Sub(m.saved) >= m.s.cfg.RunHeartbeat
			m.mu.Unlock()
			if dirty {
				m.progress(ctx, true)
			}
		}
	}
}

// SyncMembers follows the rosters of one published resource (0: all with member sync on) and records the run.
func (s *Service) SyncMembers(ctx context.Context, cause Cause, resourceID, jobID int64) (Run, error) {
	return s.SyncMembersWith(ctx, MemberSyncOptions{Cause: cause, ResourceID: resourceID, JobID: jobID})
}

// SyncMembersWith runs a member sync as o says and records the run.
func (s *Service) SyncMembersWith(ctx context.Context, o MemberSyncOptions) (Run, error) {
	m := &memberRun{s: s, o: o, Run: Run{Kind: KindMembers, Cause: o.Cause, ResourceID: o.ResourceID, JobID: o.JobID,
		Status: StatusRunning, StartedAt: s.cfg.Now()}}
	if err := s.cfg.Store.StartRun(ctx, &m.Run); err != nil {
		return Run{}, fmt.Errorf("record sync run: %w", err)
	}
	stop, flushed := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(flushed)
		m.flush(ctx, stop)
	}()
	errs := s.memberLinks(ctx, m)
	close(stop)
	<-flushed
	run, err := s.finish(ctx, &m.Run, errs)
	if run.Held > 0 && run.Status == StatusOK {
		// Not a failure, but not done either: the Sync page asks an admin.
		run.Status = StatusHeld
		if err := s.cfg.Store.FinishRun(context.WithoutCancel(ctx), run); err != nil {
			s.log.ErrorContext(ctx, "record sync run", "error", err)
		}
	}
	return run, err
}

// memberLinks lists every link the run covers, each under its claim.
func (s *Service) memberLinks(ctx context.Context, m *memberRun) []error {
	o := m.o
	resources, err := s.resources(ctx, o.ResourceID)
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
			errs = append(errs, fmt.Errorf("published resource %q: load its course (id %d): %w", r.Name, r.CourseID, err))
			continue
		}
		links, err := s.cfg.Publish.ResourceLinks(ctx, r.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, l := range links {
			if o.LinkID != 0 && l.ID != o.LinkID {
				continue
			}
			var list func(ctx context.Context, cl *claim) error
			if l.IsLegacy() { // LTI 1.1: the memberships extension (legacy.go)
				ll, ok, err := s.legacyRoster(ctx, l)
				if err != nil {
					errs = append(errs, linkErr(l, err))
					continue
				}
				if !ok {
					continue
				}
				list = func(ctx context.Context, cl *claim) error { return s.syncLegacyMembers(ctx, m, cl, r, c, l, ll) }
			} else {
				if l.MembershipsURL == "" {
					continue
				}
				list = func(ctx context.Context, cl *claim) error { return s.syncLinkMembers(ctx, m, cl, r, c, l) }
			}
			if err := s.withClaim(ctx, m, l, list); err != nil {
				errs = append(errs, linkErr(l, err))
			}
		}
	}
	return errs
}

// StatusHeld is a member sync that listed everything but held back unenrolments for an admin's confirmation.
const StatusHeld = "held"

// withClaim lists link l under this run's claim on it. A link another run holds is left to that run (noted), or
// with Wait waited for; a claim whose run died (expired lease) is taken over.
func (s *Service) withClaim(ctx context.Context, m *memberRun, l publish.ResourceLink, list func(ctx context.Context, cl *claim) error) error {
	for {
		cl, held, ok, err := s.claimLink(ctx, &m.Run, l.ID)
		if err != nil {
			return fmt.Errorf("claim the link for member sync: %w", err)
		}
		if ok {
			m.update(func(r *Run) { r.Links++ })
			m.progress(ctx, true) // the Sync page shows the link under way before its first page
			defer cl.release(ctx)
			lctx, cancel := context.WithCancelCause(ctx)
			defer cancel(nil)
			go func() {
				select {
				case <-cl.lost:
					cancel(errClaimLost)
				case <-lctx.Done():
				}
			}()
			err := list(lctx, cl)
			if errors.Is(context.Cause(lctx), errClaimLost) {
				return errClaimLost
			}
			return err
		}
		if !m.o.Wait {
			m.note(busyNote(l, held))
			return nil
		}
		m.note(fmt.Sprintf("%s: waiting for run %d, already running since %s", linkName(l), held.RunID,
			held.StartedAt.Local().Format("2006-01-02 15:04:05")))
		m.progress(ctx, true)
		other, err := s.waitForClaim(ctx, l.ID, held)
		if err != nil {
			return fmt.Errorf("wait for run %d: %w", held.RunID, err)
		}
		if other.Status == StatusRunning {
			continue // its process died and its lease ran out: list the link here
		}
		m.update(func(r *Run) {
			r.Waited = append(r.Waited, other)
			r.Note = strings.Replace(r.Note, fmt.Sprintf("waiting for run %d,", held.RunID), fmt.Sprintf("waited for run %d (%s),", held.RunID, other.Status), 1)
		})
		return nil
	}
}

// syncLinkMembers pages through one link's roster. Members are provisioned and enrolled batch by batch as they
// stream in; only after the whole roster was read do those who left (or are Inactive or Deleted) lose the
// enrolments this resource made.
func (s *Service) syncLinkMembers(ctx context.Context, m *memberRun, cl *claim, r publish.Resource, c course.Course, l publish.ResourceLink) error {
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
	active := 0 // the roster's size, for the roster chart
	handle := func(ms []lti.Member) error {
		page := make([]publish.Member, 0, len(ms))
		for _, mm := range ms {
			if !mm.IsActive() {
				continue // Inactive and Deleted members count as gone
			}
			page = append(page, publish.Member{Subject: mm.UserID, Name: mm.Name, GivenName: mm.GivenName, FamilyName: mm.FamilyName,
				Email: mm.Email, Teacher: mm.Roles.IsTeacherLike()})
		}
		active += len(page)
		return s.rosterPage(ctx, m, r, c, reg, l, page, enrol)
	}
	var res lti.MembershipsResult
	err = s.retry(ctx, func() error {
		var err error
		active = 0
		// A retry starts the listing again; members already handled are handled again, harmlessly.
		res, err = client.Memberships(ctx, l.MembershipsURL, lti.MembershipsQuery{RLID: l.LinkID, Limit: s.cfg.MemberPageSize}, handle)
		return err
	})
	if err != nil {
		return err // an incomplete roster never unenrols anyone
	}
	s.log.DebugContext(ctx, "roster read", "link_id", l.ID, "members", res.Members, "pages", res.Pages)
	return s.finishRoster(ctx, m, cl, r, l, unenrol, active)
}

// rosterPage provisions and enrols one page of active members (or, when the mode does not enrol, only notes
// those already linked) and records that the run saw them.
func (s *Service) rosterPage(ctx context.Context, m *memberRun, r publish.Resource, c course.Course, reg tool.Registration,
	l publish.ResourceLink, page []publish.Member, enrol bool) error {
	res, err := s.cfg.Provision.SyncRosterPage(ctx, s.cfg.Store, publish.RosterPage{Resource: r, Course: c, Registration: reg, LinkID: l.ID,
		RunID: m.ID, Members: page, Enrol: enrol})
	if err != nil {
		return err
	}
	m.update(func(run *Run) {
		run.Created += res.Created
		run.Updated += res.Updated
		run.Enrolled += res.Enrolled
		run.Skipped += res.Skipped
	})
	m.progress(ctx, false)
	return nil
}

// finishRoster closes a complete listing of link l and, when the mode unenrols, removes the enrolments that r made
// for users the listing no longer holds — never a manual enrolment or another resource's, never one made after
// the run started, and only while the run still holds the link. More than MaxUnenrolShare of the link's members
// at once is held back for an admin (unless forced). Both the LTI 1.3 (NRPS) and the LTI 1.1 (memberships
// extension) rosters end here; members is how many active members the listing held (the roster chart's sample).
func (s *Service) finishRoster(ctx context.Context, m *memberRun, cl *claim, r publish.Resource, l publish.ResourceLink, unenrol bool, members int) error {
	now := s.cfg.Now()
	if err := s.cfg.Store.FinishMemberRun(ctx, l.ID, m.ID, now); err != nil {
		return err
	}
	if err := s.cfg.Store.RecordRosterSize(ctx, l.ID, m.ID, members, now); err != nil {
		return fmt.Errorf("record the roster's size: %w", err)
	}
	if !unenrol {
		return nil
	}
	stale, err := s.cfg.Store.StaleEnrolments(ctx, l.ID, r.ID, r.CourseID, m.ID, m.StartedAt)
	if err != nil {
		return err
	}
	if len(stale) > 0 && !m.o.Force && s.cfg.MaxUnenrolShare < 1 {
		members, err := s.cfg.Store.LinkMemberCount(ctx, l.ID, r.ID, r.CourseID, m.StartedAt)
		if err != nil {
			return err
		}
		if float64(len(stale)) > s.cfg.MaxUnenrolShare*float64(members) {
			return s.hold(ctx, m, r, l, stale, members)
		}
	}
	if err := cl.check(ctx); err != nil {
		return err
	}
	for _, se := range stale {
		if err := s.cfg.Courses.DeleteEnrolment(ctx, se.EnrolmentID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("unenrol %s: %w", s.personName(ctx, se.UserID), err)
		}
		m.update(func(r *Run) { r.Unenrolled++ })
	}
	return s.cfg.Store.ClearMemberHold(ctx, l.ID)
}

// hold records unenrolments the safety valve keeps back, and why.
func (s *Service) hold(ctx context.Context, m *memberRun, r publish.Resource, l publish.ResourceLink, staleList []StaleEnrolment, members int) error {
	stale := len(staleList)
	pct := int(math.Round(100 * float64(stale) / float64(max(members, 1))))
	limit := int(math.Round(100 * s.cfg.MaxUnenrolShare))
	reason := fmt.Sprintf("%d of the %d members enrolled through this link (%d%%) are missing from the roster the platform "+
		"returned%s, more than the %d%% one sync may unenrol (--member-sync-max-unenrol); nothing was unenrolled. Platforms "+
		"return empty or truncated rosters during outages: check the course's participants on the platform, then confirm on "+
		"the Sync page or run `ltipub sync members --resource %s --force`.", stale, members, pct, s.someNames(ctx, staleList), limit, r.UUID)
	h := MemberHold{LinkID: l.ID, ResourceID: r.ID, RunID: m.ID, WouldUnenrol: stale, Members: members, Reason: reason, CreatedAt: s.cfg.Now()}
	if err := s.cfg.Store.PutMemberHold(ctx, h); err != nil {
		return fmt.Errorf("record held unenrolments: %w", err)
	}
	m.update(func(r *Run) { r.Held += stale })
	m.note(linkName(l) + ": " + reason)
	s.log.WarnContext(ctx, "member sync held unenrolments", "link_id", l.ID, "would_unenrol", stale, "members", members)
	return nil
}

// QueueMemberSync queues a member sync with a, as Run now does (an identical one still queued is not doubled).
func (s *Service) QueueMemberSync(ctx context.Context, a MemberSyncArgs) (int64, error) {
	res, err := s.queue.Insert(ctx, a, &river.InsertOpts{UniqueOpts: queuedOnly})
	if err != nil {
		return 0, fmt.Errorf("queue the member sync: %w", err)
	}
	return res.Job.ID, nil
}

// ConfirmMemberHold applies the unenrolments held for a link: a forced member sync of that link, queued. It
// lists the roster again rather than replaying the held one, so members who came back meanwhile stay.
func (s *Service) ConfirmMemberHold(ctx context.Context, linkID int64) (int64, error) {
	holds, err := s.cfg.Store.MemberHolds(ctx)
	if err != nil {
		return 0, err
	}
	for _, h := range holds {
		if h.LinkID == linkID {
			return s.QueueMemberSync(ctx, MemberSyncArgs{ResourceID: h.ResourceID, LinkID: linkID, Force: true, Cause: CauseManual})
		}
	}
	return 0, fmt.Errorf("%w: no held unenrolments for resource link %d (confirmed already, or a later run found the roster whole)", store.ErrNotFound, linkID)
}

// heldNames is how many of the people a hold would unenrol its reason names: enough for an admin to look them up
// on the platform's participants page.
const heldNames = 5

// someNames names the first few people of stale (", among them Ada Lovelace (ada), …"), "" when none can be read.
func (s *Service) someNames(ctx context.Context, stale []StaleEnrolment) string {
	var names []string
	for _, se := range stale[:min(len(stale), heldNames)] {
		names = append(names, s.personName(ctx, se.UserID))
	}
	if len(names) == 0 {
		return ""
	}
	more := ""
	if len(stale) > len(names) {
		more = fmt.Sprintf(" and %d more", len(stale)-len(names))
	}
	return ", among them " + strings.Join(names, ", ") + more
}

// personName names an account for an admin: "Full Name (username)", else its username, else its id.
func (s *Service) personName(ctx context.Context, userID int64) string {
	users, ok := s.cfg.Courses.(course.Users) // the database store is both
	if !ok {
		return fmt.Sprintf("user %d", userID)
	}
	u, err := users.UserByID(ctx, userID)
	switch {
	case err != nil:
		return fmt.Sprintf("user %d", userID)
	case u.FullName != "" && u.FullName != u.Username:
		return fmt.Sprintf("%s (%s)", u.FullName, u.Username)
	}
	return u.Username
}

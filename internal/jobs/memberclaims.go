package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ltipub/ltipub/internal/publish"
)

// Member sync safety (issue 23). Two overlapping listings of one roster each take the members they did not see
// themselves for gone, and unenrol each other's people. So:
//
//   - A run claims each resource link before listing it: a row in the database with an expiry that the run
//     renews while it works (a lease). The same row works on SQLite and PostgreSQL, across the CLI, Run now, the
//     periodic job and every instance, and a claim left by a process that died expires after the lease. An
//     advisory lock would tie the claim to one PostgreSQL connection (and does not exist on SQLite); a River
//     unique job would not cover `ltipub sync members --wait`, which runs outside the queue.
//   - A second request for a claimed link does not list it: with Wait (the CLI) it waits for the running one
//     and reports that run's counts; otherwise (Run now, the periodic job) it notes "already running since …".
//   - Unenrolment judges only enrolments made before the run started, of members who have not launched since.
//   - A run that would unenrol more than MaxUnenrolShare of a link's members holds back (MemberHold) until an
//     admin confirms (a forced run of that link).

// MemberClaim is a run's claim on a resource link.
type MemberClaim struct {
	LinkID    int64
	RunID     int64
	StartedAt time.Time
	ExpiresAt time.Time
}

// MemberHold is a link whose unenrolments the safety valve held back.
type MemberHold struct {
	LinkID       int64
	ResourceID   int64
	RunID        int64
	WouldUnenrol int
	Members      int
	Reason       string
	CreatedAt    time.Time
	// Filled in for display.
	ResourceName string
	LinkTitle    string
}

// MemberSyncStore keeps claims and holds.
type MemberSyncStore interface {
	// ClaimMemberLink claims a link for run until now+lease, unless another run holds an unexpired claim: then ok
	// is false and held is that claim.
	ClaimMemberLink(ctx context.Context, linkID, runID int64, now time.Time, lease time.Duration) (held MemberClaim, ok bool, err error)
	// RenewMemberClaim extends run's claim; ok is false when the run no longer holds it (it expired and another
	// run took it).
	RenewMemberClaim(ctx context.Context, linkID, runID int64, now time.Time, lease time.Duration) (ok bool, err error)
	ReleaseMemberClaim(ctx context.Context, linkID, runID int64) error
	// MemberClaimOf reads the claim on a link (ok false: none).
	MemberClaimOf(ctx context.Context, linkID int64) (MemberClaim, bool, error)
	// LinkMemberCount counts the enrolments resourceID made in courseID before startedAt for users of the link
	// (the base the safety valve's share is taken of).
	LinkMemberCount(ctx context.Context, linkID, resourceID, courseID int64, startedAt time.Time) (int, error)
	PutMemberHold(ctx context.Context, h MemberHold) error
	ClearMemberHold(ctx context.Context, linkID int64) error
	MemberHolds(ctx context.Context) ([]MemberHold, error)
}

// DefaultMaxUnenrolShare is the share of a link's members one run may unenrol without an admin's confirmation.
const DefaultMaxUnenrolShare = 0.5

// errClaimLost ends a listing whose claim another run took over (this run stalled past its lease).
var errClaimLost = errors.New("this run lost its claim on the resource link (it stalled longer than the lease, and another run took over): nothing was unenrolled")

// claim is a held claim on one link, renewed in the background until release.
type claim struct {
	s      *Service
	linkID int64
	runID  int64
	stop   chan struct{}
	done   chan struct{}
	lost   chan struct{}
}

// claimLink claims link l for run. When another run holds it, ok is false and held says which.
func (s *Service) claimLink(ctx context.Context, run *Run, linkID int64) (c *claim, held MemberClaim, ok bool, err error) {
	held, ok, err = s.cfg.Store.ClaimMemberLink(ctx, linkID, run.ID, s.cfg.Now(), s.cfg.MemberClaimLease)
	if err != nil || !ok {
		return nil, held, false, err
	}
	c = &claim{s: s, linkID: linkID, runID: run.ID, stop: make(chan struct{}), done: make(chan struct{}), lost: make(chan struct{})}
	go c.heartbeat(context.WithoutCancel(ctx))
	return c, MemberClaim{}, true, nil
}

// heartbeat renews the claim every quarter lease; a renewal refused (another run took the link) closes lost.
func (c *claim) heartbeat(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(c.s.cfg.MemberClaimLease / 4)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			ok, err := c.s.cfg.Store.RenewMemberClaim(ctx, c.linkID, c.runID, c.s.cfg.Now(), c.s.cfg.MemberClaimLease)
			if err != nil {
				c.s.log.WarnContext(ctx, "renew member sync claim", "link_id", c.linkID, "error", err)
				continue // the database may answer next time; the lease has three more quarters
			}
			if !ok {
				close(c.lost)
				return
			}
		}
	}
}

// check renews the claim now, before unenrolling: a run unenrols only while it holds the link.
func (c *claim) check(ctx context.Context) error {
	select {
	case <-c.lost:
		return errClaimLost
	default:
	}
	ok, err := c.s.cfg.Store.RenewMemberClaim(ctx, c.linkID, c.runID, c.s.cfg.Now(), c.s.cfg.MemberClaimLease)
	if err != nil {
		return fmt.Errorf("renew the claim on the link: %w", err)
	}
	if !ok {
		return errClaimLost
	}
	return nil
}

func (c *claim) release(ctx context.Context) {
	close(c.stop)
	<-c.done
	if err := c.s.cfg.Store.ReleaseMemberClaim(context.WithoutCancel(ctx), c.linkID, c.runID); err != nil {
		c.s.log.WarnContext(ctx, "release member sync claim", "link_id", c.linkID, "error", err)
	}
}

// waitForClaim waits until the claim held on a link ends and gives the run that held it. A released claim means
// the run is finishing (it releases each link before it records its outcome): wait for its record, up to a
// lease. An expired claim, or one another run took over, means it died: return at once, still "running", for
// the caller to claim the link itself or wait for the new holder.
func (s *Service) waitForClaim(ctx context.Context, linkID int64, held MemberClaim) (Run, error) {
	var releasedAt time.Time
	for {
		cur, ok, err := s.cfg.Store.MemberClaimOf(ctx, linkID)
		if err != nil {
			return Run{}, err
		}
		now := s.cfg.Now()
		switch {
		case ok && cur.RunID == held.RunID && cur.ExpiresAt.After(now):
			// still working
		case ok:
			return s.cfg.Store.Run(ctx, held.RunID) // expired, or taken over: its run died
		default:
			if releasedAt.IsZero() {
				releasedAt = now
			}
			r, err := s.cfg.Store.Run(ctx, held.RunID)
			if err != nil || r.Status != StatusRunning || now.Sub(releasedAt) > s.cfg.MemberClaimLease {
				return r, err
			}
		}
		select {
		case <-ctx.Done():
			return Run{}, ctx.Err()
		case <-time.After(100 * time.Millisecond): // a cheap primary-key read
		}
	}
}

// busyNote is what a run records for a link it left to the run already under way.
func busyNote(l publish.ResourceLink, held MemberClaim) string {
	return fmt.Sprintf("%s: a member sync of this link is already running since %s (run %d); left to it",
		linkName(l), held.StartedAt.Local().Format("2006-01-02 15:04:05"), held.RunID)
}

func linkName(l publish.ResourceLink) string {
	where := l.ContextTitle
	if where == "" {
		where = l.ContextID
	}
	return fmt.Sprintf("resource link %q (%s)", l.LinkID, where)
}

// MemberHolds lists the links whose unenrolments wait for an admin's confirmation.
func (s *Service) MemberHolds(ctx context.Context) ([]MemberHold, error) {
	return s.cfg.Store.MemberHolds(ctx)
}

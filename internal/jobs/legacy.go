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
	"github.com/ltipub/ltipub/lti/lti11"
)

// LTI 1.1 resource links (publish.ResourceLink.IsLegacy) sync through Basic Outcomes and the memberships
// extension, with the same pending-grade queries, grade revision marks, sent-score record, roster memberships and
// unenrolment rules as AGS and NRPS. Requests are signed with the link's consumer key and the resource's secret.

// LegacyStore is what the syncs read of LTI 1.1 links.
type LegacyStore interface {
	LegacyLink(ctx context.Context, resourceLinkID int64) (publish.LegacyLink, error)
	LegacyOutcome(ctx context.Context, resourceLinkID, userID int64) (publish.LegacyOutcome, error)
	// HasLegacyOutcome reports whether any launch through the link gave an outcome URL (grade sync warnings).
	HasLegacyOutcome(ctx context.Context, resourceLinkID int64) (bool, error)
}

// legacyPlatform keys the request limiter of every 1.1 platform (they have no registration ID).
const legacyPlatform = -1

// toolProxies is the optional part of LegacyStore that knows LTI 2.0 tool proxies (publish.ToolProxyStore).
type toolProxies interface {
	ToolProxy(ctx context.Context, resourceID int64, guid string) (publish.ToolProxy, error)
}

// legacySigner signs as the link's consumer key with the resource's LTI 1.1 secret, or, when the consumer key is
// the GUID of a tool proxy of the resource (a platform registered over LTI 2.0), with the tool proxy's secret.
func (s *Service) legacySigner(ctx context.Context, r publish.Resource, ll publish.LegacyLink) (*lti11.Signer, error) {
	secret := r.LegacySecret
	if tps, ok := s.cfg.Legacy.(toolProxies); ok {
		tp, err := tps.ToolProxy(ctx, r.ID, ll.ConsumerKey)
		switch {
		case err == nil:
			secret = tp.Secret
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("load tool proxy: %w", err)
		}
	}
	return &lti11.Signer{ConsumerKey: ll.ConsumerKey, Secret: secret, Now: s.cfg.Now}, nil
}

// syncLegacyGrades sends the changed grades of a 1.1 link (of one user when userID is set) with Basic Outcomes:
// the grade as a fraction of its maximum (the course total out of 100), to each user's lis_result_sourcedid.
func (s *Service) syncLegacyGrades(ctx context.Context, run *Run, r publish.Resource, l publish.ResourceLink, userID int64) error {
	if s.cfg.Legacy == nil {
		return &permanent{"LTI 1.1 grade sync is not wired (jobs.Config.Legacy)"}
	}
	ll, err := s.cfg.Legacy.LegacyLink(ctx, l.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	signer, err := s.legacySigner(ctx, r, ll)
	if err != nil {
		return err
	}
	client := &lti11.OutcomeClient{HTTP: s.platformClient(legacyPlatform), Signer: signer}
	var act course.Activity
	if !r.IsCourse() {
		if act, err = s.cfg.Courses.ActivityByID(ctx, r.ActivityID); err != nil {
			return fmt.Errorf("load activity %d: %w", r.ActivityID, err)
		}
	}
	target := fmt.Sprintf("lis:%d", l.ID)
	var after int64
	for {
		var pend []PendingGrade
		if r.IsCourse() {
			pend, err = s.cfg.Store.PendingCourseGrades(ctx, l.ID, r.CourseID, target, userID, after, gradeBatch)
		} else {
			pend, err = s.cfg.Store.PendingActivityGrades(ctx, l.ID, r.ActivityID, target, userID, after, gradeBatch)
		}
		if err != nil || len(pend) == 0 {
			return err
		}
		var out []outgoing
		if r.IsCourse() {
			after = pend[len(pend)-1].UserID
			if len(pend) == gradeBatch {
				last, cut := pend[len(pend)-1].UserID, len(pend)
				for cut > 0 && pend[cut-1].UserID == last {
					cut--
				}
				if cut > 0 {
					pend, after = pend[:cut], pend[cut-1].UserID
				}
			}
			if out, err = s.courseScores(ctx, r, pend); err != nil {
				return err
			}
		} else {
			after = pend[len(pend)-1].ID
			out = activityScores(act, pend)
		}
		if err := s.sendLegacy(ctx, run, client, l, target, out); err != nil {
			return err
		}
		if len(pend) < gradeBatch {
			return nil
		}
	}
}

// sendLegacy posts replaceResultRequest for each score and records each answer as it comes (delivery.go). A
// score equal to the one last confirmed for the same sourcedid is only marked. A user with no sourcedid (the
// platform sent none at launch) is left pending: a later launch may bring one.
func (s *Service) sendLegacy(ctx context.Context, run *Run, c *lti11.OutcomeClient, l publish.ResourceLink, target string, out []outgoing) error {
	var mu sync.Mutex
	rec := s.newRecorder(ctx)
	var stop error
	for _, o := range out {
		if err := rec.failed(); err != nil {
			break
		}
		if o.score.UserID == "" || o.score.ActivityProgress == "" || o.score.ScoreGiven == nil || !(o.score.ScoreMaximum > 0) {
			rec.confirm(Confirmed{Target: target, Marks: o.marks, Sent: SentScore{LinkID: -1}})
			continue
		}
		dest, err := s.cfg.Legacy.LegacyOutcome(ctx, l.ID, o.userID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			stop = err
			break
		}
		key := dest.ServiceURL + "\n" + dest.SourcedID
		prev, ok := o.prev, o.hasPrev
		if o.lookup {
			if prev, ok, err = s.cfg.Store.SentScore(ctx, l.ID, o.userID); err != nil {
				stop = err
				break
			}
		}
		if ok && prev.LineItemURL == key && sameScore(prev.Score, o.score) {
			run.Unchanged++
			noteProgress(ctx, run, &mu)
			rec.confirm(Confirmed{Target: target, Marks: o.marks, Sent: SentScore{LinkID: -1}})
			continue
		}
		frac := *o.score.ScoreGiven / o.score.ScoreMaximum
		frac = min(max(frac, 0), 1)
		now := s.cfg.Now()
		err = s.retry(ctx, func() error { return c.ReplaceResult(ctx, dest.ServiceURL, dest.SourcedID, frac) })
		switch {
		case err == nil:
			run.Sent++
			noteProgress(ctx, run, &mu)
			rec.confirm(Confirmed{Target: target, Marks: o.marks,
				Sent: SentScore{LinkID: l.ID, UserID: o.userID, LineItemURL: key, Score: o.score, SentAt: now}})
			continue
		case errors.Is(err, lti.ErrServiceRefused):
			// The platform's imsx_codeMajor failure (with its description): this score fails, the others go on.
			msg := platformAnswer(err)
			noteFailure(run, &mu, fmt.Sprintf("score for %s: %s", who(o), msg))
			noteProgress(ctx, run, &mu)
			rec.fail(Failure{LinkID: l.ID, UserID: o.userID, Error: msg, At: now})
			continue
		}
		stop = err
		break
	}
	if err := rec.close(); err != nil {
		return err
	}
	return stop
}

// legacyRoster reads what a 1.1 link needs for member sync; ok is false when the platform offered no
// memberships extension (or 1.1 sync is not wired).
func (s *Service) legacyRoster(ctx context.Context, l publish.ResourceLink) (publish.LegacyLink, bool, error) {
	if s.cfg.Legacy == nil {
		return publish.LegacyLink{}, false, nil
	}
	ll, err := s.cfg.Legacy.LegacyLink(ctx, l.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && ll.MembershipsURL == "") {
		return publish.LegacyLink{}, false, nil
	}
	return ll, err == nil, err
}

// syncLegacyMembers reads a 1.1 link's roster through the memberships extension (one request: the extension
// has no paging) and enrols and unenrols as NRPS member sync does, under the same claim and safety valve.
func (s *Service) syncLegacyMembers(ctx context.Context, m *memberRun, cl *claim, r publish.Resource, c course.Course, l publish.ResourceLink,
	ll publish.LegacyLink) error {
	signer, err := s.legacySigner(ctx, r, ll)
	if err != nil {
		return err
	}
	client := &lti11.MembershipsClient{HTTP: s.platformClient(legacyPlatform), Signer: signer, MaxBytes: s.cfg.MaxPageBytes}
	var members []lti11.Member
	err = s.retry(ctx, func() error {
		var err error
		members, err = client.ReadMemberships(ctx, ll.MembershipsURL, ll.MembershipsID)
		return err
	})
	if err != nil {
		return err // no roster, no unenrolment
	}
	reg := publish.LegacyRegistration(l.DeploymentID, ll.PlatformName)
	enrol := r.MemberSyncMode != publish.SyncUnenrolOnly
	unenrol := r.MemberSyncMode != publish.SyncEnrolOnly
	page := make([]publish.Member, 0, min(len(members), s.cfg.MemberPageSize))
	listed := 0
	for i, mm := range members {
		if mm.UserID != "" {
			listed++
			page = append(page, publish.Member{Subject: mm.UserID, Name: mm.FullName, GivenName: mm.GivenName, FamilyName: mm.FamilyName,
				Email: mm.Email, Teacher: mm.RoleList().IsTeacherLike()})
		}
		if len(page) == s.cfg.MemberPageSize || (i == len(members)-1 && len(page) > 0) {
			if err := s.rosterPage(ctx, m, r, c, reg, l, page, enrol); err != nil {
				return err
			}
			page = page[:0]
		}
	}
	return s.finishRoster(ctx, m, cl, r, l, unenrol, listed)
}

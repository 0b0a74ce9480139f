package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/lti"
)

// gradeBatch is how many pending grades one step reads, sends and confirms.
const gradeBatch = 500

// permanent is a failure that retrying will not fix (a deleted registration, a missing scope).
type permanent struct{ msg string }

func (e *permanent) Error() string { return e.msg }

// SyncGrades sends every changed grade of one published resource (0: all with grade sync on) and records the run.
// The error is the first failure worth retrying, for the queue; the run holds every failure.
func (s *Service) SyncGrades(ctx context.Context, cause Cause, resourceID, jobID int64) (Run, error) {
	return s.syncGrades(ctx, cause, resourceID, 0, jobID)
}

// syncGrades is SyncGrades, for one user when userID is set (a Retry of one delivery).
func (s *Service) syncGrades(ctx context.Context, cause Cause, resourceID, userID, jobID int64) (Run, error) {
	run := Run{Kind: KindGrades, Cause: cause, ResourceID: resourceID, JobID: jobID, Status: StatusRunning, StartedAt: s.cfg.Now()}
	if err := s.cfg.Store.StartRun(ctx, &run); err != nil {
		return Run{}, fmt.Errorf("record sync run: %w", err)
	}
	ctx, stopProgress := s.trackGradeProgress(ctx, &run) // live counts and heartbeat (runs.go)
	resources, err := s.resources(ctx, resourceID)
	var errs []error
	var busy error // a link another job holds: this job comes back for it (claim.go)
	if err != nil {
		errs = append(errs, err)
	}
	for _, r := range resources {
		if !r.GradeSync {
			continue
		}
		links, err := s.cfg.Publish.ResourceLinks(ctx, r.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, l := range links {
			run.Links++
			if err := s.syncLinkGrades(ctx, &run, r, l, userID); errors.As(err, new(*linkBusy)) {
				busy = err
			} else if err != nil {
				errs = append(errs, linkErr(l, err))
			}
		}
	}
	stopProgress()
	run, err = s.finish(ctx, &run, errs)
	if err == nil {
		err = busy
	}
	return run, err
}

// SyncUserGrades sends one user's changed grades for an activity: to the activity's own resources, and as the
// course total to the resources that publish its course. It records a run only when it sent or failed something.
func (s *Service) SyncUserGrades(ctx context.Context, activityID, userID, jobID int64) (Run, error) {
	run := Run{Kind: KindGrades, Cause: CauseChange, JobID: jobID, Status: StatusRunning, StartedAt: s.cfg.Now()}
	act, err := s.cfg.Courses.ActivityByID(ctx, activityID)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, course.ErrNotFound) {
		return run, nil // deleted since: nothing to send
	}
	if err != nil {
		return run, err
	}
	resources, err := s.cfg.Publish.Resources(ctx, act.CourseID)
	if err != nil {
		return run, err
	}
	var errs []error
	var busy error // a link another job holds: this job comes back for it (claim.go)
	for _, r := range resources {
		if !r.GradeSync || (!r.IsCourse() && r.ActivityID != activityID) {
			continue
		}
		links, err := s.cfg.Publish.ResourceLinks(ctx, r.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, l := range links {
			run.Links++
			if err := s.syncLinkGrades(ctx, &run, r, l, userID); errors.As(err, new(*linkBusy)) {
				busy = err
			} else if err != nil {
				errs = append(errs, linkErr(l, err))
			}
		}
	}
	if run.Sent == 0 && run.Failed == 0 && len(errs) == 0 {
		return run, busy
	}
	if err := s.cfg.Store.StartRun(ctx, &run); err != nil {
		return Run{}, err
	}
	run, err = s.finish(ctx, &run, errs)
	if err == nil {
		err = busy
	}
	return run, err
}

func (s *Service) resources(ctx context.Context, resourceID int64) ([]publish.Resource, error) {
	if resourceID == 0 {
		return s.cfg.Publish.Resources(ctx, 0)
	}
	r, err := s.cfg.Publish.ResourceByID(ctx, resourceID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &permanent{fmt.Sprintf("published resource %d no longer exists", resourceID)}
	}
	if err != nil {
		return nil, err
	}
	return []publish.Resource{r}, nil
}

func linkErr(l publish.ResourceLink, err error) error {
	where := l.ContextTitle
	if where == "" {
		where = l.ContextID
	}
	return fmt.Errorf("resource link %q (%s): %w", l.LinkID, where, err)
}

// finish records the run's outcome; the returned error is for the queue (see jobOutcome).
func (s *Service) finish(ctx context.Context, run *Run, errs []error) (Run, error) {
	run.FinishedAt = s.cfg.Now()
	run.Status = StatusOK
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	if len(errs) > 0 || run.Failed > 0 {
		run.Status = StatusPartial
		if run.Sent == 0 && run.Enrolled == 0 && run.Unenrolled == 0 && run.Created == 0 {
			run.Status = StatusFailed
		}
	}
	if run.Error != "" {
		msgs = append(msgs, run.Error)
	}
	run.Error = strings.Join(msgs, "\n")
	if len(run.Error) > 4000 {
		run.Error = run.Error[:4000] + "…"
	}
	// The run must be recorded even when the job's context was cancelled (shutdown).
	if err := s.cfg.Store.FinishRun(context.WithoutCancel(ctx), *run); err != nil {
		s.log.ErrorContext(ctx, "record sync run", "error", err)
	}
	if len(errs) > 0 {
		s.log.WarnContext(ctx, "sync run had failures", "kind", run.Kind, "run_id", run.ID, "error", run.Error)
	}
	return *run, errors.Join(errs...)
}

// noteFailure adds a per-score failure to the run (the first few messages only).
func noteFailure(run *Run, mu *sync.Mutex, msg string) {
	mu.Lock()
	defer mu.Unlock()
	run.Failed++
	if strings.Count(run.Error, "\n") < 10 {
		if run.Error != "" {
			run.Error += "\n"
		}
		run.Error += msg
	}
}

func hasScope(scopes []string, s string) bool { return slices.Contains(scopes, s) }

// syncLinkGrades sends the changed grades of one resource link (of one user when userID is set), holding the
// link's claim: one sender per link at a time across instances (claim.go).
func (s *Service) syncLinkGrades(ctx context.Context, run *Run, r publish.Resource, l publish.ResourceLink, userID int64) error {
	if !l.IsLegacy() && l.LineItemURL == "" && l.LineItemsURL == "" {
		return nil // the platform offers no grade service for this link
	}
	ctx, release, err := s.holdLink(ctx, l.ID)
	if err != nil {
		return err
	}
	defer release()
	if l.IsLegacy() { // LTI 1.1: Basic Outcomes (legacy.go)
		return s.syncLegacyGrades(ctx, run, r, l, userID)
	}
	if !hasScope(l.AGSScopes, lti.ScopeScore) {
		return &permanent{"the platform did not grant the score scope, so grades cannot be sent; allow the tool to send grades in the platform"}
	}
	reg, err := s.cfg.Registrations.Registration(ctx, l.RegistrationID)
	if errors.Is(err, store.ErrNotFound) {
		return &permanent{"the link's platform registration was deleted"}
	}
	if err != nil {
		return err
	}
	scopes := []string{lti.ScopeScore}
	switch {
	case hasScope(l.AGSScopes, lti.ScopeLineItem):
		scopes = append(scopes, lti.ScopeLineItem)
	case hasScope(l.AGSScopes, lti.ScopeLineItemReadOnly):
		scopes = append(scopes, lti.ScopeLineItemReadOnly)
	}
	client := s.serviceClient(reg, scopes)
	var act course.Activity
	if !r.IsCourse() {
		if act, err = s.cfg.Courses.ActivityByID(ctx, r.ActivityID); err != nil {
			return fmt.Errorf("load activity %d: %w", r.ActivityID, err)
		}
	}
	for attempt := 0; ; attempt++ {
		liURL, err := s.resolveLineItem(ctx, client, r, act, l)
		if err != nil {
			return err
		}
		err = s.sendPending(ctx, run, client, r, act, l, liURL, userID)
		if errors.Is(err, lti.ErrServiceNotFound) && attempt == 0 {
			// The line item is gone (deleted in the gradebook): find or create it again, and re-send everything to it.
			if err := s.cfg.Store.SetSyncLineItem(ctx, l.ID, "", false, s.cfg.Now()); err != nil {
				return err
			}
			l.LineItemURL = ""
			continue
		}
		return err
	}
}

// resolveLineItem returns the line item a link's scores go to: the coupled one of the launch, the one found or
// created before, or one found by resourceId in the container, or created there.
func (s *Service) resolveLineItem(ctx context.Context, c *lti.ServiceClient, r publish.Resource, act course.Activity, l publish.ResourceLink) (string, error) {
	if l.LineItemURL != "" {
		return l.LineItemURL, nil
	}
	st, err := s.cfg.Store.SyncLink(ctx, l.ID)
	if err != nil {
		return "", err
	}
	if st.LineItemURL != "" {
		return st.LineItemURL, nil
	}
	if l.LineItemsURL == "" {
		return "", &permanent{"the platform gave neither a line item nor a line items container"}
	}
	if !hasScope(c.Scopes, lti.ScopeLineItem) && !hasScope(c.Scopes, lti.ScopeLineItemReadOnly) {
		return "", &permanent{"the platform gave no coupled line item and did not grant the line item scope to find or create one"}
	}
	var items []lti.AGSLineItem
	err = s.retry(ctx, func() error {
		var err error
		items, err = c.LineItems(ctx, l.LineItemsURL, lti.LineItemQuery{ResourceID: r.UUID})
		return err
	})
	if err != nil {
		return "", err
	}
	var found string
	for _, it := range items {
		if it.ResourceID != r.UUID {
			continue
		}
		if it.ResourceLinkID == l.LinkID {
			found = it.ID
			break
		}
		if it.ResourceLinkID == "" && found == "" {
			found = it.ID
		}
	}
	if found == "" {
		// A platform that does not keep resourceId still keeps the link and the tag the tool gave its line item.
		err = s.retry(ctx, func() error {
			var err error
			items, err = c.LineItems(ctx, l.LineItemsURL, lti.LineItemQuery{ResourceLinkID: l.LinkID, Tag: lineItemTag})
			return err
		})
		if err != nil {
			return "", err
		}
		for _, it := range items {
			if it.ResourceLinkID == l.LinkID && it.Tag == lineItemTag && (it.ResourceID == "" || it.ResourceID == r.UUID) {
				found = it.ID
				break
			}
		}
	}
	created := false
	if found == "" {
		if !hasScope(c.Scopes, lti.ScopeLineItem) {
			return "", &permanent{"no line item for this resource in the platform, and no permission to create one (line item scope)"}
		}
		li := lti.AGSLineItem{Label: r.Name, ScoreMaximum: 100, ResourceID: r.UUID, ResourceLinkID: l.LinkID, Tag: lineItemTag}
		if !r.IsCourse() && act.MaxGrade > 0 {
			li.ScoreMaximum = act.MaxGrade
		}
		li.SubmissionReview = publish.SubmissionReview(r, act)
		err = s.retry(ctx, func() error {
			got, err := c.CreateLineItem(ctx, l.LineItemsURL, li)
			found = got.ID
			return err
		})
		if err != nil {
			return "", err
		}
		created = true
	}
	if err := s.cfg.Store.SetSyncLineItem(ctx, l.ID, found, created, s.cfg.Now()); err != nil {
		return "", err
	}
	return found, nil
}

// lineItemTag is the tag of the line items the tool creates (and adopts).
const lineItemTag = "grade"

// outgoing is a score to send and the grade revisions it covers.
type outgoing struct {
	userID int64
	name   string // the person's name, for messages
	score  lti.Score
	marks  []Mark
	// prev is the score last confirmed for the user on the link, when known (hasPrev); lookup says it was not
	// read with the grades and must be read before sending.
	prev    SentScore
	hasPrev bool
	lookup  bool
}

// sendPending sends the link's pending grades (and ungraded submissions) to liURL in batches.
func (s *Service) sendPending(ctx context.Context, run *Run, c *lti.ServiceClient, r publish.Resource, act course.Activity,
	l publish.ResourceLink, liURL string, userID int64) error {
	target := "ags:" + liURL
	fetch := func(after int64) ([]PendingGrade, error) {
		if r.IsCourse() {
			return s.cfg.Store.PendingCourseGrades(ctx, l.ID, r.CourseID, target, userID, after, gradeBatch)
		}
		return s.cfg.Store.PendingActivityGrades(ctx, l.ID, r.ActivityID, target, userID, after, gradeBatch)
	}
	type fetched struct {
		pend []PendingGrade
		err  error
	}
	pend, err := fetch(0)
	for err == nil && len(pend) > 0 {
		full := len(pend) == gradeBatch
		var out []outgoing
		var after int64
		if r.IsCourse() {
			after = pend[len(pend)-1].UserID
			if full {
				// The last user's grades may go on in the next batch: leave that user to it.
				last := pend[len(pend)-1].UserID
				cut := len(pend)
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
		// Read the next batch while this one is sent: it covers other grades and other users (the cursor is
		// past this batch), so what this batch records does not change it.
		var next chan fetched
		if full || r.IsCourse() {
			next = make(chan fetched, 1)
			go func() {
				p, err := fetch(after)
				next <- fetched{p, err}
			}()
		}
		if err := s.send(ctx, run, c, l, liURL, target, out); err != nil {
			if next != nil {
				<-next
			}
			return err
		}
		if next == nil {
			break
		}
		f := <-next
		pend, err = f.pend, f.err
	}
	if err != nil {
		return err
	}
	if r.IsCourse() || act.Type != course.TypeAssignment {
		return nil
	}
	subs, err := s.cfg.Store.PendingSubmissions(ctx, l.ID, r.ActivityID, userID, gradeBatch)
	if err != nil {
		return err
	}
	var out []outgoing
	for _, sub := range subs {
		out = append(out, outgoing{userID: sub.UserID, lookup: true, score: lti.Score{UserID: sub.Subject, Timestamp: sub.SubmittedAt,
			ActivityProgress: lti.ActivitySubmitted, GradingProgress: lti.GradingPending}})
	}
	return s.send(ctx, run, c, l, liURL, target, out)
}

func activityScores(act course.Activity, pend []PendingGrade) []outgoing {
	out := make([]outgoing, 0, len(pend))
	for _, g := range pend {
		v := g.Grade.Grade
		max := g.MaxGrade
		if !(max > 0) {
			max = act.MaxGrade
		}
		sc := lti.Score{UserID: g.Subject, ScoreGiven: &v, ScoreMaximum: max, Comment: g.Feedback, Timestamp: g.ModifiedAt,
			ActivityProgress: lti.ActivityCompleted, GradingProgress: lti.GradingFullyGraded}
		if g.Pending {
			// A quiz whose essay answers wait for the teacher: submitted, final grade to come (as an ungraded
			// assignment submission). The partial score is not the grade, so it is not sent; the marking that
			// clears Pending is a new revision and sends FullyGraded with the final score.
			sc.ScoreGiven, sc.ScoreMaximum = nil, 0
			sc.ActivityProgress, sc.GradingProgress = lti.ActivitySubmitted, lti.GradingPending
		}
		out = append(out, outgoing{userID: g.UserID, name: g.Name, prev: g.Sent, hasPrev: g.HasSent, marks: []Mark{{g.ID, g.Revision}}, score: sc})
	}
	return out
}

// courseScores turns pending grades (in user order) into one course-total score per user, out of 100.
func (s *Service) courseScores(ctx context.Context, r publish.Resource, pend []PendingGrade) ([]outgoing, error) {
	var out []outgoing
	for i := 0; i < len(pend); {
		j := i
		for j < len(pend) && pend[j].UserID == pend[i].UserID {
			j++
		}
		o := outgoing{userID: pend[i].UserID, name: pend[i].Name, prev: pend[i].Sent, hasPrev: pend[i].HasSent,
			score: lti.Score{UserID: pend[i].Subject}}
		for _, g := range pend[i:j] {
			o.marks = append(o.marks, Mark{g.ID, g.Revision})
		}
		grades, n, err := s.cfg.Store.UserCourseGrades(ctx, r.CourseID, pend[i].UserID)
		if err != nil {
			return nil, err
		}
		ptrs := make([]*course.Grade, len(grades))
		for k := range grades {
			g := &grades[k]
			ptrs[k] = g
			o.marks = append(o.marks, Mark{g.ID, g.Revision})
			if g.ModifiedAt.After(o.score.Timestamp) {
				o.score.Timestamp = g.ModifiedAt
			}
		}
		for _, g := range pend[i:j] {
			if g.ModifiedAt.After(o.score.Timestamp) {
				o.score.Timestamp = g.ModifiedAt
			}
		}
		total, ok := course.CourseTotal(ptrs)
		switch {
		case !ok:
			// Only grades of hidden activities: nothing the platform should show; mark them seen.
			o.score = lti.Score{}
		case course.CourseTotalPending(ptrs):
			// A grade the total counts waits for a teacher (an essay not marked yet): the total is not the
			// grade yet, so no score is sent, as for the activity itself (activityScores). Submitted once every
			// visible graded activity has a grade, else still InProgress. The marking that clears Pending is a
			// new revision of that grade, which brings the user back here and sends the final total.
			o.score.ActivityProgress, o.score.GradingProgress = lti.ActivityInProgress, lti.GradingPending
			if len(grades) >= n {
				o.score.ActivityProgress = lti.ActivitySubmitted
			}
		default:
			o.score.ScoreGiven, o.score.ScoreMaximum = &total, 100
			o.score.ActivityProgress, o.score.GradingProgress = lti.ActivityInProgress, lti.GradingFullyGraded
			if len(grades) >= n {
				o.score.ActivityProgress = lti.ActivityCompleted
			}
		}
		out = append(out, o)
		i = j
	}
	return out, nil
}

func sameScore(a, b lti.Score) bool {
	if (a.ScoreGiven == nil) != (b.ScoreGiven == nil) || (a.ScoreGiven != nil && *a.ScoreGiven != *b.ScoreGiven) {
		return false
	}
	return a.ScoreMaximum == b.ScoreMaximum && a.Comment == b.Comment && a.ActivityProgress == b.ActivityProgress &&
		a.GradingProgress == b.GradingProgress
}

// send posts the scores (PlatformConcurrency at a time) and records each answer as it comes (delivery.go). A
// score equal to the one last confirmed is not sent again, only marked. Scores keep increasing timestamps per
// user and line item at one-second resolution, as Moodle requires.
func (s *Service) send(ctx context.Context, run *Run, c *lti.ServiceClient, l publish.ResourceLink, liURL, target string, out []outgoing) error {
	if len(out) == 0 {
		return nil
	}
	rec := s.newRecorder(ctx)
	var mu sync.Mutex
	var stop error
	work := make(chan outgoing)
	var wg sync.WaitGroup
	for range s.cfg.PlatformConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				if err := s.sendOne(ctx, run, &mu, rec, c, l, liURL, target, o); err != nil {
					mu.Lock()
					if stop == nil {
						stop = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, o := range out {
		mu.Lock()
		stopped := stop != nil
		mu.Unlock()
		if stopped {
			break
		}
		if err := rec.failed(); err != nil {
			break
		}
		work <- o
	}
	close(work)
	wg.Wait()
	// Accepted scores are recorded even when the batch stopped: they are on the platform.
	if err := rec.close(); err != nil {
		return err
	}
	return stop
}

// sendOne sends one score and hands its outcome to the recorder. It returns an error that stops the link (the
// line item is gone, the platform is down, the token is refused). A score the platform refuses on its own is
// recorded as failed, with the platform's answer, and the others go on.
func (s *Service) sendOne(ctx context.Context, run *Run, mu *sync.Mutex, rec *recorder, c *lti.ServiceClient,
	l publish.ResourceLink, liURL, target string, o outgoing) error {
	now := s.cfg.Now()
	sent := SentScore{LinkID: l.ID, UserID: o.userID, LineItemURL: liURL, Score: o.score, SentAt: now}
	if o.score.UserID == "" || o.score.ActivityProgress == "" { // nothing to send: just mark
		rec.confirm(Confirmed{Target: target, Marks: o.marks, Sent: SentScore{LinkID: -1}})
		return nil
	}
	prev, ok := o.prev, o.hasPrev
	if o.lookup {
		var err error
		if prev, ok, err = s.cfg.Store.SentScore(ctx, l.ID, o.userID); err != nil {
			return err
		}
	}
	if ok && prev.LineItemURL == liURL && sameScore(prev.Score, o.score) {
		mu.Lock()
		run.Unchanged++
		mu.Unlock()
		noteProgress(ctx, run, mu)
		rec.confirm(Confirmed{Target: target, Marks: o.marks, Sent: SentScore{LinkID: -1}})
		return nil
	}
	if ok && prev.LineItemURL == liURL {
		last := prev.Score.Timestamp.Truncate(time.Second)
		if !o.score.Timestamp.Truncate(time.Second).After(last) {
			o.score.Timestamp = last.Add(time.Second)
		}
	}
	sent.Score = o.score
	err := s.retry(ctx, func() error { return c.PostScore(ctx, liURL, o.score) })
	switch {
	case err == nil || errors.Is(err, lti.ErrStaleScore):
		mu.Lock()
		run.Sent++
		mu.Unlock()
		noteProgress(ctx, run, mu)
		rec.confirm(Confirmed{Sent: sent, Target: target, Marks: o.marks})
		return nil
	case errors.Is(err, lti.ErrServiceRefused):
		msg := platformAnswer(err)
		noteFailure(run, mu, fmt.Sprintf("score for %s: %s", who(o), msg))
		noteProgress(ctx, run, mu)
		rec.fail(Failure{LinkID: l.ID, UserID: o.userID, Error: msg, At: now})
		return nil
	}
	return err
}

// who names the person a score is for: their name, else the platform's id for them.
func who(o outgoing) string {
	if o.name != "" {
		return o.name
	}
	return fmt.Sprintf("platform user %q", o.score.UserID)
}

// platformAnswer is the platform's refusal in plain words: its status and message, without the request line,
// and cut at the first line break (a platform's stack trace follows its message) and at 500 characters.
func platformAnswer(err error) string {
	var se *lti.ServiceError
	if !errors.As(err, &se) {
		return err.Error()
	}
	msg := strings.TrimSpace(se.Message)
	if i := strings.IndexAny(msg, "\r\n"); i >= 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	out := fmt.Sprintf("the platform refused it (HTTP %d)", se.Status)
	if msg != "" {
		out += ": " + msg
	}
	return out
}

// Deliveries lists the delivery state of a published resource's grades (paged and searched in the database).
func (s *Service) Deliveries(ctx context.Context, resourceID int64, q DeliveryQuery) ([]Delivery, int, error) {
	r, err := s.cfg.Publish.ResourceByID(ctx, resourceID)
	if err != nil {
		return nil, 0, err
	}
	return s.cfg.Store.GradeDeliveries(ctx, r.ID, r.ActivityID, r.CourseID, q)
}

// NextGradeSync is when the periodic grade sync will next send what is pending or failed (zero when periodic
// sync is off): the last periodic run's start plus the interval, or now plus the interval before the first one.
func (s *Service) NextGradeSync(ctx context.Context) (time.Time, error) {
	if s.cfg.GradeInterval <= 0 {
		return time.Time{}, nil
	}
	runs, err := s.cfg.Store.Runs(ctx, KindGrades, 100)
	if err != nil {
		return time.Time{}, err
	}
	now := s.cfg.Now()
	for _, r := range runs {
		if r.Cause == CausePeriodic {
			next := r.StartedAt.Add(s.cfg.GradeInterval)
			if next.Before(now) {
				next = now
			}
			return next, nil
		}
	}
	return now.Add(s.cfg.GradeInterval), nil
}

// SentNotes lists where and when each learner's grades of a course last reached a platform.
// Of the given learners only, unless userIDs is nil.
func (s *Service) SentNotes(ctx context.Context, courseID int64, userIDs []int64) ([]SentNote, error) {
	return s.cfg.Store.SentNotes(ctx, courseID, userIDs)
}

// RetryDeliveries sends a resource's pending and failed grades again now (of one learner when userID is set):
// their refusals are forgotten, so they show as pending until the platform answers, and a sync is queued.
func (s *Service) RetryDeliveries(ctx context.Context, resourceID, userID int64) (int64, error) {
	if err := s.cfg.Store.ClearFailures(ctx, resourceID, userID); err != nil {
		return 0, err
	}
	res, err := s.queue.Insert(ctx, GradeSyncArgs{ResourceID: resourceID, UserID: userID, Cause: CauseManual},
		&river.InsertOpts{UniqueOpts: queuedOnly})
	if err != nil {
		return 0, fmt.Errorf("queue the grade sync: %w", err)
	}
	return res.Job.ID, nil
}

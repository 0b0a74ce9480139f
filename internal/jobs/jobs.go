// Package jobs runs ltipub's background work on a durable queue in the database (River, on SQLite or
// PostgreSQL): grade sync to the platforms' gradebooks (AGS) and member sync from their rosters (NRPS), each as
// a periodic job scheduled once across all instances by River's leader, as a "run now" job from the admin page
// or the CLI, and — for grades — as a short-delay job enqueued whenever a grade changes.
//
// Durability does not rest on the queue alone. A grade change bumps the grade's revision in the same transaction
// that writes it; a sync target (one line item) marks the revision the platform confirmed (course.GradesToSync's
// contract), only after the platform answered 2xx. Whatever is not marked is sent by the next run, so a lost
// "soon" job, a crash (kill -9) mid-sync or a platform outage delays grades but never loses them.
package jobs

import (
	"context"
	"time"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti"
)

// Kind names a sync.
type Kind string

const (
	KindGrades  Kind = "grades"
	KindMembers Kind = "members"
)

// Kinds lists the syncs in the order the admin page shows them.
var Kinds = []Kind{KindGrades, KindMembers}

// Cause says why a run happened.
type Cause string

const (
	CausePeriodic Cause = "periodic"
	CauseManual   Cause = "manual"
	CauseChange   Cause = "change"
	CauseStartup  Cause = "startup" // the catch-up every start queues (crash recovery)
)

// Run statuses.
const (
	StatusRunning = "running"
	StatusOK      = "ok"
	StatusPartial = "partial" // some links or users failed; the rest went through
	StatusFailed  = "failed"
)

// RunFilter selects a page of the run history: a kind, a status, a cause ("" for any), Offset and Limit.
type RunFilter struct {
	Kind   Kind
	Status string
	Cause  Cause
	Offset int
	Limit  int
}

// Statuses lists the run statuses, for the history's filter.
var Statuses = []string{StatusRunning, StatusOK, StatusPartial, StatusFailed, StatusHeld, StatusInterrupted}

// Causes lists why runs happen, for the history's filter.
var Causes = []Cause{CausePeriodic, CauseManual, CauseChange, CauseStartup}

// Run is one execution of a sync, as the admin page shows it.
type Run struct {
	ID         int64
	Kind       Kind
	Cause      Cause
	ResourceID int64 // 0: every published resource
	JobID      int64
	Status     string
	StartedAt  time.Time
	FinishedAt time.Time
	Links      int // resource links visited
	Sent       int // scores confirmed by the platform
	Unchanged  int // grades whose score was already on the platform
	Failed     int // scores or links that failed
	Created    int // accounts created
	Enrolled   int
	Unenrolled int
	Updated    int // accounts whose name or email changed
	Skipped    int // members left out (prompting provisioning mode, full resource, suspended enrolment)
	Held       int // unenrolments held back by the safety valve, waiting for an admin (member sync)
	Error      string
	// Note says what the run did that is not an error: links left to a run already under way, unenrolments held.
	Note string
	// UpdatedAt is when the counts were last saved while the run went on (live progress).
	UpdatedAt time.Time
	// Waited lists the runs of other requests that this one waited for instead of listing their links again
	// (member sync with Wait); not stored.
	Waited []Run `json:"-"`
}

// Duration is how long the run took (so far).
func (r Run) Duration() time.Duration {
	if r.FinishedAt.IsZero() {
		return time.Since(r.StartedAt).Round(time.Millisecond)
	}
	return r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond)
}

// PendingGrade is a grade changed since it was last confirmed for a sync target, with the platform user it
// belongs to.
type PendingGrade struct {
	course.Grade
	Subject string
	Name    string // the person's name, for messages an admin reads
	// Sent is the score last confirmed for this user on the link (valid when HasSent), read with the grade so
	// that a batch needs no query per score.
	Sent    SentScore
	HasSent bool
}

// PendingSubmission is a submission without a grade that the platform has not been told about.
type PendingSubmission struct {
	UserID      int64
	Subject     string
	SubmittedAt time.Time
}

// SentScore is the score last confirmed by the platform for one user of one resource link.
type SentScore struct {
	LinkID      int64
	UserID      int64
	LineItemURL string
	Score       lti.Score
	SentAt      time.Time
}

// Mark is a grade revision a target now holds.
type Mark struct {
	GradeID  int64
	Revision int64
}

// Confirmed is a score the platform accepted, and the grade revisions it covers.
type Confirmed struct {
	Sent   SentScore
	Target string
	Marks  []Mark
}

// Failure is a score the platform refused on its own (not an outage): its answer, kept until a score for the
// user is confirmed.
type Failure struct {
	LinkID int64
	UserID int64
	Error  string
	At     time.Time
}

// LinkState is the sync's own memory of a resource link.
type LinkState struct {
	LineItemURL     string // found or created by the tool ("" when none yet)
	LineItemCreated bool
	MembersRunID    int64 // the last run that listed the whole roster
	MembersSyncedAt time.Time
}

// StaleEnrolment is an enrolment a resource made for a member who left the roster.
type StaleEnrolment struct {
	EnrolmentID int64
	UserID      int64
}

// Store is what the sync jobs keep in the database.
type Store interface {
	ServiceToken(ctx context.Context, key string) (lti.ServiceToken, bool, error)
	PutServiceToken(ctx context.Context, registrationID int64, key string, t lti.ServiceToken) error
	DeleteServiceToken(ctx context.Context, key string) error

	SyncLink(ctx context.Context, linkID int64) (LinkState, error)
	SetSyncLineItem(ctx context.Context, linkID int64, url string, created bool, at time.Time) error
	FinishMemberRun(ctx context.Context, linkID, runID int64, at time.Time) error
	// RecordRosterSize keeps how many active members a complete listing of the link found (the roster chart).
	RecordRosterSize(ctx context.Context, linkID, runID int64, members int, at time.Time) error

	// PendingActivityGrades lists grades of one activity, of users who reached the link, changed since target
	// last confirmed them (userID 0: every user).
	// Grades come in id order, after afterGradeID.
	PendingActivityGrades(ctx context.Context, linkID, activityID int64, target string, userID, afterGradeID int64, limit int) ([]PendingGrade, error)
	// PendingCourseGrades is the same for every activity of a course, in user order, for users after afterUserID.
	PendingCourseGrades(ctx context.Context, linkID, courseID int64, target string, userID, afterUserID int64, limit int) ([]PendingGrade, error)
	// UserCourseGrades lists a user's grades in the visible graded activities of a course, and how many such
	// activities there are.
	UserCourseGrades(ctx context.Context, courseID, userID int64) ([]course.Grade, int, error)
	// PendingSubmissions lists ungraded submissions of users who reached the link, newer than the score sent.
	PendingSubmissions(ctx context.Context, linkID, activityID, userID int64, limit int) ([]PendingSubmission, error)
	SentScore(ctx context.Context, linkID, userID int64) (SentScore, bool, error)
	// RecordConfirmed stores what the platform accepted and marks the grade revisions, in one transaction.
	RecordConfirmed(ctx context.Context, cs []Confirmed) error
	// RecordDeliveries is RecordConfirmed plus refusals, in one transaction: a confirmed score clears the user's
	// failure on the link.
	RecordDeliveries(ctx context.Context, cs []Confirmed, fs []Failure) error

	// ClaimLink makes holder the link's only grade sender until `until`, unless another holder's claim is still
	// valid at now; it reports whether holder has the claim. RenewLink extends a claim holder has (false: lost).
	ClaimLink(ctx context.Context, linkID int64, holder string, until, now time.Time) (bool, error)
	RenewLink(ctx context.Context, linkID int64, holder string, until time.Time) (bool, error)
	ReleaseLink(ctx context.Context, linkID int64, holder string) error

	// SeeMembers records that run saw these platform users active in the link's roster.
	SeeMembers(ctx context.Context, linkID, runID int64, ltiUserIDs []int64) error
	// StaleEnrolments lists the enrolments resourceID made in courseID before the run started for users of the
	// link (launched through it, or seen in its roster before) whom run did not see active, unless another link
	// of the resource still lists them or they launched through the link since the run started.
	StaleEnrolments(ctx context.Context, linkID, resourceID, courseID, runID int64, startedAt time.Time) ([]StaleEnrolment, error)
	MemberSyncStore
	// RosterStore writes roster pages in a few statements each (publish.SyncRosterPage).
	publish.RosterStore

	DeliveryStore

	StartRun(ctx context.Context, r *Run) error
	FinishRun(ctx context.Context, r Run) error
	// SaveRunProgress saves a running run's counts (not its status), for the Sync page and the CLI.
	SaveRunProgress(ctx context.Context, r Run) error
	// InterruptRuns marks the kind's running runs of job jobID (0: those whose heartbeat, updated_at else
	// started_at, is before heartbeatBefore) interrupted at `at`, adding note, and returns them.
	InterruptRuns(ctx context.Context, kind Kind, jobID int64, heartbeatBefore, at time.Time, note string) ([]Run, error)
	Runs(ctx context.Context, kind Kind, limit int) ([]Run, error)
	// RunsPage lists one page of the runs matching f, newest first, and counts them all.
	RunsPage(ctx context.Context, f RunFilter) ([]Run, int, error)
	Run(ctx context.Context, id int64) (Run, error)
}

// Delivery states of a grade on a resource link (DESIGN.md: pending → sent or failed).
const (
	DeliveryPending = "pending" // changed since the platform last confirmed it
	DeliverySent    = "sent"    // the platform holds the latest score
	DeliveryFailed  = "failed"  // the platform refused the latest score; Error says why
)

// Delivery is the fate of one learner's grade (an activity's, or a course total) on one resource link.
type Delivery struct {
	LinkID    int64
	LinkTitle string // where the link lives on the platform (its course), else its id
	Platform  string // the registration's name (LTI 1.1: the consumer key)
	UserID    int64
	Name      string
	Username  string
	Subject   string // the platform's id for the learner
	State     string

	SentAt       time.Time // the last confirmed score, when there is one
	SentScore    *float64
	SentMaximum  float64
	PendingSince time.Time // the oldest change not yet confirmed
	Error        string    // the platform's last refusal
	FailedAt     time.Time
	Attempts     int
}

// DeliveryQuery pages and filters the deliveries of a published resource.
type DeliveryQuery struct {
	Search     string // part of a name, username or platform id
	FailedOnly bool
	Offset     int
	Limit      int
}

// DeliveryStore reads and resets delivery state (the admin and teacher pages).
type DeliveryStore interface {
	// GradeDeliveries lists the deliveries of a published resource (activityID 0: a course total over courseID),
	// learners with nothing to deliver left out, ordered by name; total counts all that match.
	GradeDeliveries(ctx context.Context, resourceID, activityID, courseID int64, q DeliveryQuery) (rows []Delivery, total int, err error)
	// ClearFailures forgets the refusals of a resource's links (of one user when userID is set), so that their
	// grades show as pending until the retry answers.
	ClearFailures(ctx context.Context, resourceID, userID int64) error
	// SentNotes lists, per learner and activity of a course (0: the course total), the latest score a platform
	// confirmed; of the given learners only, unless userIDs is nil (a page of the grader report reads its own).
	SentNotes(ctx context.Context, courseID int64, userIDs []int64) ([]SentNote, error)
}

// SentNote is where and when a learner's grade (of an activity; ActivityID 0: the course total) last reached a
// platform, for the teacher's grade pages.
type SentNote struct {
	UserID     int64
	ActivityID int64
	Platform   string
	At         time.Time
}

// Text is the note as the grade pages show it.
func (n SentNote) Text() string {
	return "sent to " + n.Platform + " at " + n.At.UTC().Format("2 Jan 2006 15:04 UTC")
}

// Package course holds what ltipub publishes: courses, their ordered activities (pages, quizzes, assignments),
// enrolments, completion and the gradebook. Every permission question goes through Service.Access, so that later
// rules (such as an LTI launch contained to one activity) are added in one place.
package course

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ltipub/ltipub/internal/account"
)

// Course is a course.
type Course struct {
	ID        int64
	FullName  string
	ShortName string
	Summary   string
	Visible   bool
	// Language is the language the course's content is written in (a BCP 47 tag; "" when not said). Content is
	// never translated: pages mark it with this language, whatever language they speak.
	Language  string
	CreatedBy int64 // 0 when made by the command line
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Type is the kind of an activity.
type Type string

const (
	TypePage       Type = "page"
	TypeQuiz       Type = "quiz"
	TypeAssignment Type = "assignment"
)

// Types lists the activity types in the order the forms offer them.
var Types = []Type{TypePage, TypeQuiz, TypeAssignment}

// Valid reports whether t is a known type.
func (t Type) Valid() bool { return t == TypePage || t == TypeQuiz || t == TypeAssignment }

// Activity is one item of a course.
type Activity struct {
	ID          int64
	CourseID    int64
	Position    int
	Type        Type
	Name        string
	Description string
	Visible     bool
	// MaxGrade is the highest grade of a quiz or an assignment; pages are not graded.
	MaxGrade float64
	// Body is a page's Markdown.
	Body string
	// Quiz holds a quiz's settings and questions.
	Quiz QuizSettings
	// DueAt is an assignment's due date; zero means none.
	DueAt time.Time
	// CutoffAt is an assignment's cut-off date: submissions after DueAt are taken, as late, until it. Zero means
	// none: then nothing is taken after the due date.
	CutoffAt time.Time
	// Assignment holds an assignment's submission settings (types, file limits).
	Assignment AssignmentSettings
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ClosesAt is when an assignment stops taking submissions: its cut-off date, or else its due date (zero: never).
func (a Activity) ClosesAt() time.Time {
	if !a.CutoffAt.IsZero() {
		return a.CutoffAt
	}
	return a.DueAt
}

// Late reports whether a submission at t is after the due date.
func (a Activity) Late(t time.Time) bool { return !a.DueAt.IsZero() && t.After(a.DueAt) }

// Graded reports whether the activity takes grades.
func (a Activity) Graded() bool { return a.Type == TypeQuiz || a.Type == TypeAssignment }

// Role is what an enrolment lets a user do in a course.
type Role string

const (
	RoleTeacher Role = "teacher"
	RoleStudent Role = "student"
)

// Status says whether an enrolment counts.
type Status string

const (
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
)

// Method records how an enrolment was made, so that sync code removes only the enrolments it made.
type Method string

const (
	MethodManual Method = "manual"
	MethodLTI    Method = "lti"
)

// Enrolment puts a user in a course with a role.
type Enrolment struct {
	ID       int64
	CourseID int64
	UserID   int64
	Role     Role
	Status   Status
	Start    time.Time // zero: from the start
	End      time.Time // zero: no end
	Method   Method
	// PublishedResourceID names the published LTI resource that made an "lti" enrolment; 0 otherwise.
	PublishedResourceID int64
	CreatedAt           time.Time
	UpdatedAt           time.Time

	// Username, FullName and Email are filled in by listings.
	Username string
	FullName string
	Email    string
}

// ActiveAt reports whether the enrolment counts at t.
func (e Enrolment) ActiveAt(t time.Time) bool {
	return e.Status == StatusActive && (e.Start.IsZero() || !t.Before(e.Start)) && (e.End.IsZero() || t.Before(e.End))
}

// DisplayName is the enrolled user's full name or username.
func (e Enrolment) DisplayName() string {
	if e.FullName != "" {
		return e.FullName
	}
	return e.Username
}

// Attempt is one submitted quiz attempt.
type Attempt struct {
	ID          int64
	ActivityID  int64
	UserID      int64
	Number      int
	Answers     Answers
	Score       float64 // out of MaxGrade
	MaxGrade    float64
	SubmittedAt time.Time
	// Marks are the points teachers gave the attempt's essay answers, by question id.
	Marks map[string]float64
	// Pending is true while an essay answer of the attempt has no mark: Score holds what is marked so far.
	Pending bool
	// TimedOut is set by SubmitQuiz (not stored) when the attempt came after the time limit and counted no answer.
	TimedOut bool
}

// Answers maps a question id to the answer given: the indexes of the chosen choices, or the text typed.
type Answers map[string][]string

// Submission is a student's work on an assignment: online text, files or both.
type Submission struct {
	ID          int64
	ActivityID  int64
	UserID      int64
	Text        string
	SubmittedAt time.Time
	// Files lists the submission's files (without their content), when the reader asked for them.
	Files []SubmissionFile
}

// Grade is one user's grade in one graded activity.
type Grade struct {
	ID         int64
	ActivityID int64
	UserID     int64
	Grade      float64
	MaxGrade   float64
	Feedback   string
	GradedBy   int64 // 0: graded automatically
	ModifiedAt time.Time
	// Revision grows by one on every change of this grade; see GradesToSync.
	Revision int64
	// Pending is true while the grade waits for a teacher (a quiz's essay answers not marked yet): Grade holds
	// what is marked so far. Grade sync sends such a grade as Submitted / Pending, and as Completed /
	// FullyGraded once the change that clears Pending (a new revision) comes.
	Pending bool
}

// Percent is the grade as a percentage of its maximum.
func (g Grade) Percent() float64 {
	if g.MaxGrade <= 0 {
		return 0
	}
	return g.Grade / g.MaxGrade * 100
}

// GradeChange is a new value for a grade.
type GradeChange struct {
	ActivityID int64
	UserID     int64
	Grade      float64
	MaxGrade   float64
	Feedback   string
	GradedBy   int64
	At         time.Time
	// Pending: see Grade.Pending.
	Pending bool
}

// Store is what the course service needs from storage.
type Store interface {
	CreateCourse(ctx context.Context, c *Course, teacher *Enrolment) error
	UpdateCourse(ctx context.Context, c Course) error
	CourseByID(ctx context.Context, id int64) (Course, error)
	ListCourses(ctx context.Context) ([]Course, error)
	// CoursesOfUser lists the courses the user holds an enrolment in, with those enrolments.
	CoursesOfUser(ctx context.Context, userID int64) ([]Course, []Enrolment, error)
	// ImportCourse stores a course, its activities and the teacher's enrolment in one transaction.
	ImportCourse(ctx context.Context, c *Course, acts []*Activity, teacher *Enrolment) error

	CreateActivity(ctx context.Context, a *Activity) error
	UpdateActivity(ctx context.Context, a Activity) error
	ActivityByID(ctx context.Context, id int64) (Activity, error)
	ListActivities(ctx context.Context, courseID int64) ([]Activity, error)
	// MoveActivity swaps an activity with its neighbour above (delta < 0) or below (delta > 0).
	MoveActivity(ctx context.Context, id int64, delta int) error
	// ActivityDependents counts what depends on an activity.
	ActivityDependents(ctx context.Context, id int64) (Dependents, error)
	// DeleteActivity deletes an activity with its grades, attempts, submissions and completions, in one
	// transaction that refuses (ErrPublished) while a published resource points at it.
	DeleteActivity(ctx context.Context, id int64) error

	CreateEnrolment(ctx context.Context, e *Enrolment) error
	UpdateEnrolment(ctx context.Context, e Enrolment) error
	DeleteEnrolment(ctx context.Context, id int64) error
	EnrolmentByID(ctx context.Context, id int64) (Enrolment, error)
	EnrolmentsOf(ctx context.Context, courseID, userID int64) ([]Enrolment, error)
	ListEnrolments(ctx context.Context, courseID int64) ([]Enrolment, error)
	// EnrolmentsPage lists one page of a course's enrolments that match f, by name then id, and counts them all.
	EnrolmentsPage(ctx context.Context, courseID int64, f EnrolmentFilter) ([]Enrolment, int, error)
	// BulkUpdateEnrolments applies ch to the enrolments ids of the course, in one transaction; ids of another
	// course are left alone. It returns the enrolments changed (as they were before).
	BulkUpdateEnrolments(ctx context.Context, courseID int64, ids []int64, ch BulkChange) ([]Enrolment, error)
	// StudentsPage lists one page of a course's students (one line per person, whatever their enrolments), by
	// display name then user id, and counts them all; Limit 0 lists them all. With f.Activity set, f.State keeps
	// those whose submission and grade there stand so (StateNeedsGrading: submitted, and no grade or a grade
	// older than the submission), or, at a quiz, whose attempts stand so (AttemptStates).
	StudentsPage(ctx context.Context, courseID int64, f StudentFilter) ([]Enrolment, int, error)
	// EachStudent reads every student of the course, by display name then user id, and hands them to fn in
	// batches of up to size (fn may query the store; the rows are read as fn goes, not held in memory).
	EachStudent(ctx context.Context, courseID int64, size int, fn func([]Enrolment) error) error
	// GradesOfUsers lists the grades of the course's activities held by the given users.
	GradesOfUsers(ctx context.Context, courseID int64, userIDs []int64) ([]Grade, error)

	MarkComplete(ctx context.Context, activityID, userID int64, at time.Time) error
	Completions(ctx context.Context, courseID, userID int64) (map[int64]time.Time, error)

	// RecordAttempt runs decide on the user's earlier attempts inside a transaction, stores the attempt it returns
	// (with the next number) and, when it returns one, the grade change, so that the attempts limit and the grade
	// cannot race.
	RecordAttempt(ctx context.Context, activityID, userID int64,
		decide func(prev []Attempt) (Attempt, *GradeChange, error)) (Attempt, error)
	Attempts(ctx context.Context, activityID, userID int64) ([]Attempt, error)
	// StartAttempt records when attempt number of a user began, unless it already has a start, and gives the
	// start it keeps.
	StartAttempt(ctx context.Context, activityID, userID int64, number int, at time.Time) (time.Time, error)
	// ActivityAttempts lists every attempt at a quiz, by user then number.
	ActivityAttempts(ctx context.Context, activityID int64) ([]Attempt, error)
	// AttemptsOfUsers lists the attempts of the given users at a quiz, by user then number.
	AttemptsOfUsers(ctx context.Context, activityID int64, userIDs []int64) ([]Attempt, error)
	// UpdateAttempts runs decide on one user's attempts inside a transaction and stores the scores, marks and
	// pending flags of the attempts it returns, and the grade change, so that marking and regrading cannot race
	// a new attempt.
	UpdateAttempts(ctx context.Context, activityID, userID int64,
		decide func(all []Attempt) ([]Attempt, *GradeChange, error)) error

	SaveSubmission(ctx context.Context, s *Submission) error
	SubmissionOf(ctx context.Context, activityID, userID int64) (Submission, error)
	// SubmissionsOfUsers lists the submissions of the given users to an assignment.
	SubmissionsOfUsers(ctx context.Context, activityID int64, userIDs []int64) ([]Submission, error)
	// SaveSubmissionFiles stores or replaces a user's submission text and, in the same transaction, adds the
	// files (replacing one of the same name) and removes those of the ids given (of this submission only); check
	// sees the files the submission would then hold, and its error rolls everything back.
	SaveSubmissionFiles(ctx context.Context, s *Submission, add []SubmissionFile, remove []int64,
		check func(files []SubmissionFile) error) error
	// SubmissionFiles lists the files of submissions (without content), by submission id.
	SubmissionFiles(ctx context.Context, submissionIDs []int64) (map[int64][]SubmissionFile, error)
	// SubmissionFileData loads one file with its content and its submission's activity and user.
	SubmissionFileData(ctx context.Context, fileID int64) (SubmissionFile, error)

	PutGrade(ctx context.Context, g GradeChange) (Grade, error)
	GradeOf(ctx context.Context, activityID, userID int64) (Grade, error)
	CourseGrades(ctx context.Context, courseID int64) ([]Grade, error)
	GradeHistory(ctx context.Context, gradeID int64) ([]Grade, error)
	GradesToSync(ctx context.Context, target string, courseID int64, limit int) ([]Grade, error)
	MarkGradeSynced(ctx context.Context, target string, gradeID, revision int64) error
}

// Users is how the service finds accounts.
type Users interface {
	UserByID(ctx context.Context, id int64) (account.User, error)
	UserByUsername(ctx context.Context, username string) (account.User, error)
}

var (
	// ErrNotFound means the course, activity or enrolment does not exist (or is hidden from the user).
	ErrNotFound = errors.New("not found")
	// ErrNotEnrolled means the user may not see the course because they hold no active enrolment in it.
	ErrNotEnrolled = errors.New("you are not enrolled in this course")
	// ErrForbidden means the user sees the course but may not do this in it.
	ErrForbidden = errors.New("only the course's teachers and site administrators may do this")
	// ErrCannotCreate means the user is neither a site admin nor a course creator.
	ErrCannotCreate = errors.New("only site administrators and course creators may create courses")
	// ErrShortNameTaken means another course has the short name.
	ErrShortNameTaken = errors.New("another course already has that short name")
	// ErrAlreadyEnrolled means the user already holds a manual enrolment in the course.
	ErrAlreadyEnrolled = errors.New("that user is already enrolled in this course")
	// ErrNoAttemptsLeft means the quiz's attempts limit is reached.
	ErrNoAttemptsLeft = errors.New("no attempts left")
	// ErrPastDue means the assignment's due date has passed.
	ErrPastDue = errors.New("the due date has passed")
	// ErrWrongType means the action does not apply to this type of activity.
	ErrWrongType = errors.New("this action does not apply to this type of activity")
	// ErrConcurrentAttempt means another attempt was stored at the same moment.
	ErrConcurrentAttempt = errors.New("another attempt was submitted at the same moment")
)

// ErrPublished means the activity is published as an LTI resource and must be unpublished first.
var ErrPublished = errors.New("this activity is published as an LTI tool: delete its published resource first (platforms link to it)")

// Dependents counts what depends on an activity, shown before it is deleted.
type Dependents struct {
	Published   int // published LTI resources of the activity itself
	Grades      int
	Attempts    int
	Submissions int
	Completions int
}

// ValidationError names the field that is wrong and why.
type ValidationError struct {
	Field   string
	Message string
	// Line and Column, when set, place a mistake in a file or JSON text (1-based); Field then names the position
	// or the field found there.
	Line, Column int
	// Code names the mistake for the message catalogs ("validation.<code>"), and Args are the details its
	// message names ("Value", "Max"): a page shows the mistake in the reader's language from them. Message stays
	// the English, for logs, the CLI and JSON clients. The domain keeps no wording of other languages and no
	// catalog: the words belong to the page (internal/web), as they do for refusals.
	Code string
	Args map[string]any
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// invalid makes a ValidationError: code names it in the catalogs, format is its English, and args are name,
// value pairs, whose values fill format's verbs in order ("Value", v for %q) and whose names are the catalog
// message's placeholders ({{.Value}}).
func invalid(field, code, format string, args ...any) error {
	named := make(map[string]any, len(args)/2)
	vals := make([]any, 0, len(args)/2)
	for i := 0; i+1 < len(args); i += 2 {
		k, _ := args[i].(string)
		named[k] = args[i+1]
		vals = append(vals, args[i+1])
	}
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, vals...), Code: code, Args: named}
}

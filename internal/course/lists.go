package course

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/account"
)

// Lists that grow with the number of people (enrolments, the grader report) are paged in the store: a page
// costs the same with 50 members as with 50,000.

// EnrolmentFilter selects a page of a course's enrolments: Query is a part of the member's username, name or
// email (any case); Role, Status and Method, when set, must match. Offset and Limit pick the page.
type EnrolmentFilter struct {
	Query  string
	Role   Role
	Status Status
	Method Method
	Offset int
	Limit  int
}

// Filtered reports whether any filter is set (so that an empty page means "nothing matches", not "no one yet").
func (f EnrolmentFilter) Filtered() bool {
	return f.Query != "" || f.Role != "" || f.Status != "" || f.Method != ""
}

// StudentFilter selects a page of a course's students: Query is a part of the username, name or email. With
// Activity set (an assignment or a quiz of the course), State keeps only the students whose work there stands so.
type StudentFilter struct {
	Query    string
	Activity int64
	State    SubmissionState
	Offset   int
	Limit    int
}

// Filtered reports whether a search or a state is set.
func (f StudentFilter) Filtered() bool { return f.Query != "" || f.State != "" }

// SubmissionState is where a student's work on an assignment stands, as the submissions list filters it
// (Moodle's "Submitted", "Not submitted", "Requires grading").
type SubmissionState string

const (
	SubmissionAny     SubmissionState = ""
	StateSubmitted    SubmissionState = "submitted"
	StateNotSubmitted SubmissionState = "not_submitted"
	StateNeedsGrading SubmissionState = "needs_grading" // submitted, and not graded since
	StateGraded       SubmissionState = "graded"
)

// SubmissionStates are the states the submissions list filters by, in the order its menu offers them.
var SubmissionStates = []SubmissionState{StateSubmitted, StateNotSubmitted, StateNeedsGrading, StateGraded}

// Valid reports whether s is one of SubmissionStates or empty.
func (s SubmissionState) Valid() bool {
	if s == SubmissionAny {
		return true
	}
	for _, x := range SubmissionStates {
		if s == x {
			return true
		}
	}
	return false
}

// BulkAction is what a teacher does to the enrolments selected on the enrolments page.
type BulkAction string

const (
	BulkSuspend    BulkAction = "suspend"
	BulkReactivate BulkAction = "reactivate"
	BulkUnenrol    BulkAction = "unenrol"
	BulkRole       BulkAction = "role" // with BulkChange.Role
)

// BulkChange is one change applied to many enrolments at once: a status, a role, or removal.
type BulkChange struct {
	Action BulkAction
	Role   Role // for BulkRole
	At     time.Time
}

// MaxBulk bounds how many enrolments one bulk action changes: the selection of one page at its largest.
const MaxBulk = 200

// Label says what the change does, for the confirmation and the message after it.
func (c BulkChange) Label() string {
	switch c.Action {
	case BulkSuspend:
		return "suspend"
	case BulkReactivate:
		return "reactivate"
	case BulkUnenrol:
		return "unenrol"
	case BulkRole:
		return "make " + string(c.Role)
	}
	return string(c.Action)
}

// ParseBulk reads a bulk action from the form's value: suspend, reactivate, unenrol, role:student, role:teacher.
func ParseBulk(v string) (BulkChange, error) {
	switch a := BulkAction(v); a {
	case BulkSuspend, BulkReactivate, BulkUnenrol:
		return BulkChange{Action: a}, nil
	}
	if r, ok := strings.CutPrefix(v, "role:"); ok && (Role(r) == RoleStudent || Role(r) == RoleTeacher) {
		return BulkChange{Action: BulkRole, Role: Role(r)}, nil
	}
	if v == "" {
		return BulkChange{}, invalid("action", "bulk.action_empty", "is empty: choose what to do with the selected enrolments")
	}
	return BulkChange{}, invalid("action", "bulk.action", "%q is not one of suspend, reactivate, unenrol, role:student, role:teacher", "Value", v)
}

func (f *EnrolmentFilter) validate() error {
	f.Query = strings.TrimSpace(f.Query)
	switch f.Role {
	case "", RoleStudent, RoleTeacher:
	default:
		return invalid("role", "filter.role", "%q is not a role: choose student or teacher", "Value", f.Role)
	}
	switch f.Status {
	case "", StatusActive, StatusSuspended:
	default:
		return invalid("status", "filter.status", "%q is not a status: choose active or suspended", "Value", f.Status)
	}
	switch f.Method {
	case "", MethodManual, MethodLTI:
	default:
		return invalid("method", "filter.method", "%q is not a way of enrolling: choose manual or lti", "Value", f.Method)
	}
	return nil
}

// EnrolmentsPage lists one page of a course's enrolments for its teachers, with the number that match.
func (s *Service) EnrolmentsPage(ctx context.Context, u *account.User, courseID int64, f EnrolmentFilter) ([]Enrolment, int, error) {
	if _, _, err := s.courseForEdit(ctx, u, courseID); err != nil {
		return nil, 0, err
	}
	if err := f.validate(); err != nil {
		return nil, 0, err
	}
	es, n, err := s.Store.EnrolmentsPage(ctx, courseID, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list enrolments: %w", err)
	}
	return es, n, nil
}

// Enrolment loads one enrolment of the course for its teachers.
func (s *Service) Enrolment(ctx context.Context, u *account.User, courseID, id int64) (Enrolment, error) {
	return s.enrolmentForEdit(ctx, u, courseID, id)
}

// BulkEnrolments applies ch to the selected enrolments of a course in one transaction and returns those changed.
// A teacher's own enrolment is refused from a change that would take their teaching away (suspend, unenrol,
// make student): they would lock themselves out of the course halfway through a page of work.
func (s *Service) BulkEnrolments(ctx context.Context, u *account.User, courseID int64, ids []int64, ch BulkChange) ([]Enrolment, error) {
	if _, _, err := s.courseForEdit(ctx, u, courseID); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, invalid("selection", "bulk.selection_empty", "is empty: tick the enrolments to change first")
	}
	if len(ids) > MaxBulk {
		return nil, invalid("selection", "bulk.selection_too_many", "holds %d enrolments, more than the %d one action changes", "Count", len(ids), "Max", MaxBulk)
	}
	if ch.Action == BulkRole && ch.Role != RoleStudent && ch.Role != RoleTeacher {
		return nil, invalid("role", "bulk.role", "%q is neither student nor teacher", "Value", ch.Role)
	}
	if !u.IsAdmin && (ch.Action == BulkSuspend || ch.Action == BulkUnenrol || (ch.Action == BulkRole && ch.Role != RoleTeacher)) {
		mine, err := s.Store.EnrolmentsOf(ctx, courseID, u.ID)
		if err != nil {
			return nil, err
		}
		for _, e := range mine {
			for _, id := range ids {
				if e.ID == id && e.Role == RoleTeacher {
					return nil, invalid("selection", "bulk.own_teacher", "includes your own teacher enrolment: you would lose access to this course; untick it")
				}
			}
		}
	}
	ch.At = s.now()
	changed, err := s.Store.BulkUpdateEnrolments(ctx, courseID, ids, ch)
	if err != nil {
		return nil, fmt.Errorf("bulk %s: %w", ch.Action, err)
	}
	return changed, nil
}

// GraderReportPage is one page of the gradebook (students by name), with the number of students that match.
func (s *Service) GraderReportPage(ctx context.Context, u *account.User, courseID int64, f StudentFilter) (Report, int, error) {
	c, _, err := s.courseForEdit(ctx, u, courseID)
	if err != nil {
		return Report{}, 0, err
	}
	f.Query = strings.TrimSpace(f.Query)
	students, n, err := s.Store.StudentsPage(ctx, c.ID, f)
	if err != nil {
		return Report{}, 0, fmt.Errorf("list students: %w", err)
	}
	r, err := s.reportFor(ctx, c, students)
	return r, n, err
}

// reportFor builds the gradebook rows of the given students, reading only their grades.
func (s *Service) reportFor(ctx context.Context, c Course, students []Enrolment) (Report, error) {
	acts, err := s.Store.ListActivities(ctx, c.ID)
	if err != nil {
		return Report{}, err
	}
	r := Report{Course: c}
	for _, a := range acts {
		if a.Graded() && a.Visible {
			r.Activities = append(r.Activities, a)
		}
	}
	return r, s.fillRows(ctx, &r, students)
}

func (s *Service) fillRows(ctx context.Context, r *Report, students []Enrolment) error {
	col := map[int64]int{}
	for i, a := range r.Activities {
		col[a.ID] = i
	}
	ids := make([]int64, len(students))
	for i, st := range students {
		ids[i] = st.UserID
	}
	byUser := map[int64][]*Grade{}
	if len(students) > 0 && len(r.Activities) > 0 {
		grades, err := s.Store.GradesOfUsers(ctx, r.Course.ID, ids)
		if err != nil {
			return err
		}
		for i := range grades {
			g := &grades[i]
			j, ok := col[g.ActivityID]
			if !ok {
				continue
			}
			if byUser[g.UserID] == nil {
				byUser[g.UserID] = make([]*Grade, len(r.Activities))
			}
			byUser[g.UserID][j] = g
		}
	}
	r.Rows = r.Rows[:0]
	for _, st := range students {
		row := GradeRow{Student: st, Grades: byUser[st.UserID]}
		if row.Grades == nil {
			row.Grades = make([]*Grade, len(r.Activities))
		}
		row.Total, row.HasTotal = CourseTotal(row.Grades)
		row.Pending = CourseTotalPending(row.Grades)
		r.Rows = append(r.Rows, row)
	}
	return nil
}

// csvBatch is how many students the CSV reads grades for at once.
const csvBatch = 500

// WriteGraderCSV writes the whole gradebook as CSV (see Report.WriteCSV), streaming: it reads students and their
// grades a batch at a time and writes each batch before reading the next, so that 50,000 students need no more
// memory than 500. Errors after the first line has gone out can only end the download early.
func (s *Service) WriteGraderCSV(ctx context.Context, u *account.User, courseID int64, w io.Writer) error {
	c, _, err := s.courseForEdit(ctx, u, courseID)
	if err != nil {
		return err
	}
	r, err := s.reportFor(ctx, c, nil)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(r.csvHead()); err != nil {
		return err
	}
	err = s.Store.EachStudent(ctx, c.ID, csvBatch, func(batch []Enrolment) error {
		if err := s.fillRows(ctx, &r, batch); err != nil {
			return err
		}
		for _, row := range r.Rows {
			if err := cw.Write(row.csvLine()); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// SubmissionsPage is one page of an assignment's grading list for its teachers: the students that match f (by
// name), each with their submission (files listed, not loaded) and grade, and the number that match. It reads
// only the page's submissions, files and grades, so that a course of 50,000 costs what 50 do.
func (s *Service) SubmissionsPage(ctx context.Context, u *account.User, activityID int64, f StudentFilter) ([]SubmissionRow, int, error) {
	act, err := s.assignmentForEdit(ctx, u, activityID)
	if err != nil {
		return nil, 0, err
	}
	f.Query = strings.TrimSpace(f.Query)
	if !f.State.Valid() {
		return nil, 0, invalid("state", "list.submission_state", "%q is not a state: choose submitted, not_submitted, needs_grading or graded", "State", string(f.State))
	}
	f.Activity = act.ID
	students, n, err := s.Store.StudentsPage(ctx, act.CourseID, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list students: %w", err)
	}
	rows, err := s.submissionRows(ctx, act, students)
	return rows, n, err
}

// SubmissionRowOf is one student's line of an assignment's grading list (for the review of one submission), or
// ErrNotFound when userID is not a student of the course.
func (s *Service) SubmissionRowOf(ctx context.Context, u *account.User, activityID, userID int64) (SubmissionRow, error) {
	act, err := s.assignmentForEdit(ctx, u, activityID)
	if err != nil {
		return SubmissionRow{}, err
	}
	es, err := s.Store.EnrolmentsOf(ctx, act.CourseID, userID)
	if err != nil {
		return SubmissionRow{}, err
	}
	for _, e := range es {
		if e.Role == RoleStudent {
			rows, err := s.submissionRows(ctx, act, []Enrolment{e})
			if err != nil {
				return SubmissionRow{}, err
			}
			return rows[0], nil
		}
	}
	return SubmissionRow{}, ErrNotFound
}

func (s *Service) assignmentForEdit(ctx context.Context, u *account.User, activityID int64) (Activity, error) {
	act, _, acc, err := s.Activity(ctx, u, activityID)
	if err != nil {
		return Activity{}, err
	}
	if !acc.Edit {
		return Activity{}, ErrForbidden
	}
	if act.Type != TypeAssignment {
		return Activity{}, ErrWrongType
	}
	return act, nil
}

// submissionRows joins the given students with their submissions, files and grades in act.
func (s *Service) submissionRows(ctx context.Context, act Activity, students []Enrolment) ([]SubmissionRow, error) {
	rows := make([]SubmissionRow, len(students))
	if len(students) == 0 {
		return rows, nil
	}
	ids := make([]int64, len(students))
	for i, st := range students {
		ids[i] = st.UserID
	}
	subs, err := s.Store.SubmissionsOfUsers(ctx, act.ID, ids)
	if err != nil {
		return nil, fmt.Errorf("list submissions: %w", err)
	}
	subIDs := make([]int64, len(subs))
	for i := range subs {
		subIDs[i] = subs[i].ID
	}
	files, err := s.Store.SubmissionFiles(ctx, subIDs)
	if err != nil {
		return nil, fmt.Errorf("list submission files: %w", err)
	}
	grades, err := s.Store.GradesOfUsers(ctx, act.CourseID, ids)
	if err != nil {
		return nil, fmt.Errorf("list grades: %w", err)
	}
	subOf := map[int64]*Submission{}
	for i := range subs {
		subs[i].Files = files[subs[i].ID]
		subOf[subs[i].UserID] = &subs[i]
	}
	gradeOf := map[int64]*Grade{}
	for i := range grades {
		if grades[i].ActivityID == act.ID {
			gradeOf[grades[i].UserID] = &grades[i]
		}
	}
	for i, st := range students {
		rows[i] = SubmissionRow{Student: st, Submission: subOf[st.UserID], Grade: gradeOf[st.UserID]}
	}
	return rows, nil
}

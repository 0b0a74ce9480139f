package course

import (
	"context"
	"fmt"
	"strings"

	"github.com/ltipub/ltipub/internal/account"
)

// The attempts page of a quiz, for its teachers: one page of students at a time, found by name and by where their
// attempts stand, each with their attempts and grade. Like the submissions list of an assignment (lists.go), it
// reads only the page's attempts and grades, so that a course of 50,000 costs what 50 do.

// The states the attempts page filters by (Moodle's quiz report: "Attempted", "Not attempted", "Requires
// grading", "Finished"). They share SubmissionState so that StudentFilter carries either kind to the store.
const (
	StateAttempted    SubmissionState = "attempted"     // at least one attempt submitted
	StateNotAttempted SubmissionState = "not_attempted" // no attempt submitted (one begun and left open counts as none)
	StateNeedsMarking SubmissionState = "needs_marking" // an attempt with an essay answer that waits for a mark
	StateFinished     SubmissionState = "finished"      // attempted, and no attempt waits for a mark
)

// AttemptStates are the states the attempts page filters by, in the order its menu offers them.
var AttemptStates = []SubmissionState{StateAttempted, StateNotAttempted, StateNeedsMarking, StateFinished}

// ValidAttemptState reports whether s is one of AttemptStates or empty.
func (s SubmissionState) ValidAttemptState() bool {
	if s == SubmissionAny {
		return true
	}
	for _, x := range AttemptStates {
		if s == x {
			return true
		}
	}
	return false
}

// AttemptsPage is one page of a quiz's attempts for its teachers: the students that match f (by name), each with
// their attempts (oldest first) and grade, and the number that match.
func (s *Service) AttemptsPage(ctx context.Context, u *account.User, activityID int64, f StudentFilter) (Activity, []AttemptRow, int, error) {
	act, err := s.quizForEdit(ctx, u, activityID)
	if err != nil {
		return Activity{}, nil, 0, err
	}
	f.Query = strings.TrimSpace(f.Query)
	if !f.State.ValidAttemptState() {
		return act, nil, 0, invalid("state", "list.attempt_state", "%q is not a state: choose attempted, not_attempted, needs_marking or finished", "State", string(f.State))
	}
	f.Activity = act.ID
	students, n, err := s.Store.StudentsPage(ctx, act.CourseID, f)
	if err != nil {
		return act, nil, 0, fmt.Errorf("list students: %w", err)
	}
	rows, err := s.attemptRows(ctx, act, students)
	return act, rows, n, err
}

// AttemptRowOf is one student's attempts at a quiz and grade (for the review of one learner), or ErrNotFound when
// userID is not a student of the course.
func (s *Service) AttemptRowOf(ctx context.Context, u *account.User, activityID, userID int64) (AttemptRow, error) {
	act, err := s.quizForEdit(ctx, u, activityID)
	if err != nil {
		return AttemptRow{}, err
	}
	es, err := s.Store.EnrolmentsOf(ctx, act.CourseID, userID)
	if err != nil {
		return AttemptRow{}, err
	}
	for _, e := range es {
		if e.Role == RoleStudent {
			rows, err := s.attemptRows(ctx, act, []Enrolment{e})
			if err != nil {
				return AttemptRow{}, err
			}
			return rows[0], nil
		}
	}
	return AttemptRow{}, ErrNotFound
}

// attemptRows joins the given students with their attempts and grades in the quiz act.
func (s *Service) attemptRows(ctx context.Context, act Activity, students []Enrolment) ([]AttemptRow, error) {
	rows := make([]AttemptRow, len(students))
	if len(students) == 0 {
		return rows, nil
	}
	ids := make([]int64, len(students))
	for i, st := range students {
		ids[i] = st.UserID
	}
	atts, err := s.Store.AttemptsOfUsers(ctx, act.ID, ids)
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	grades, err := s.Store.GradesOfUsers(ctx, act.CourseID, ids)
	if err != nil {
		return nil, fmt.Errorf("list grades: %w", err)
	}
	byUser := map[int64][]Attempt{}
	for _, a := range atts {
		byUser[a.UserID] = append(byUser[a.UserID], a)
	}
	gradeOf := map[int64]*Grade{}
	for i := range grades {
		if grades[i].ActivityID == act.ID {
			gradeOf[grades[i].UserID] = &grades[i]
		}
	}
	for i, st := range students {
		rows[i] = AttemptRow{Student: st, Attempts: byUser[st.UserID], Grade: gradeOf[st.UserID]}
	}
	return rows, nil
}

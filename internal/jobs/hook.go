package jobs

import (
	"context"

	"github.com/ltipub/ltipub/internal/course"
)

// GradeHook wraps the course store so that every committed grade change calls Notify (Service.GradeChanged):
// a teacher's grading and a quiz attempt's grade reach the platform within seconds. The notification is sent
// after the commit, so it never announces a grade that rolled back; if it is lost (a crash in between), the
// periodic sync still sends the grade, whose revision is not marked as sent.
type GradeHook struct {
	course.Store
	Notify func(ctx context.Context, g course.Grade)
}

// PutGrade stores a grade, then notifies.
func (h *GradeHook) PutGrade(ctx context.Context, ch course.GradeChange) (course.Grade, error) {
	g, err := h.Store.PutGrade(ctx, ch)
	if err == nil && h.Notify != nil {
		h.Notify(ctx, g)
	}
	return g, err
}

// RecordAttempt stores an attempt and its grade change, then notifies.
func (h *GradeHook) RecordAttempt(ctx context.Context, activityID, userID int64,
	decide func(prev []course.Attempt) (course.Attempt, *course.GradeChange, error)) (course.Attempt, error) {
	var change *course.GradeChange
	a, err := h.Store.RecordAttempt(ctx, activityID, userID, func(prev []course.Attempt) (course.Attempt, *course.GradeChange, error) {
		a, ch, err := decide(prev)
		change = ch
		return a, ch, err
	})
	if err == nil && change != nil && h.Notify != nil {
		h.Notify(ctx, course.Grade{ActivityID: change.ActivityID, UserID: change.UserID})
	}
	return a, err
}

// UpdateAttempts stores the new scores and grade of a user's attempts (a teacher's essay marks, a regrade), then
// notifies, so that those grade changes reach platforms within seconds as attempts and teachers' grades do.
func (h *GradeHook) UpdateAttempts(ctx context.Context, activityID, userID int64,
	decide func(all []course.Attempt) ([]course.Attempt, *course.GradeChange, error)) error {
	var change *course.GradeChange
	err := h.Store.UpdateAttempts(ctx, activityID, userID, func(all []course.Attempt) ([]course.Attempt, *course.GradeChange, error) {
		changed, ch, err := decide(all)
		change = ch
		return changed, ch, err
	})
	if err == nil && change != nil && h.Notify != nil {
		h.Notify(ctx, course.Grade{ActivityID: change.ActivityID, UserID: change.UserID})
	}
	return err
}

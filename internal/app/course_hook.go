package app

import (
	"context"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
)

// attemptsHook adds to jobs.GradeHook the grade changes of UpdateAttempts (essay marks and regrades), so that
// they reach platforms within seconds as attempts and teachers' grades do. It belongs in jobs.GradeHook itself;
// it lives here until internal/jobs takes it (it only needs the hook's Notify).
type attemptsHook struct {
	*jobs.GradeHook
}

// UpdateAttempts stores the new scores and grade, then notifies.
func (h attemptsHook) UpdateAttempts(ctx context.Context, activityID, userID int64,
	decide func(all []course.Attempt) ([]course.Attempt, *course.GradeChange, error)) error {
	var change *course.GradeChange
	err := h.GradeHook.UpdateAttempts(ctx, activityID, userID, func(all []course.Attempt) ([]course.Attempt, *course.GradeChange, error) {
		changed, ch, err := decide(all)
		change = ch
		return changed, ch, err
	})
	if err == nil && change != nil && h.Notify != nil {
		h.Notify(ctx, course.Grade{ActivityID: change.ActivityID, UserID: change.UserID})
	}
	return err
}

package course

import (
	"context"
	"fmt"

	"github.com/ltipub/ltipub/internal/account"
)

// The question editor changes one question at a time; each change saves the whole quiz through UpdateActivity,
// so the same rules apply as to the quiz form, and the activity (and so its published UUID) stays the same.

func (s *Service) saveQuestions(ctx context.Context, u *account.User, act Activity, qs []Question) (Activity, error) {
	quiz := act.Quiz
	quiz.Questions = qs
	return s.UpdateActivity(ctx, u, act.ID, ActivityInput{Name: act.Name, Description: act.Description, Visible: act.Visible,
		MaxGrade: act.MaxGrade, Quiz: quiz})
}

func questionIndex(qs []Question, id string) int {
	for i, q := range qs {
		if q.ID == id {
			return i
		}
	}
	return -1
}

// SaveQuestion replaces the quiz's question oldID with q, or adds q at the end when oldID is empty. A mistake is
// reported with the question's fields (questions[2].choices…).
func (s *Service) SaveQuestion(ctx context.Context, u *account.User, activityID int64, oldID string, q Question) (Activity, error) {
	act, err := s.quizForEdit(ctx, u, activityID)
	if err != nil {
		return Activity{}, err
	}
	qs := append([]Question(nil), act.Quiz.Questions...)
	if oldID == "" {
		if q.ID == "" {
			for n := len(qs) + 1; ; n++ {
				if id := fmt.Sprintf("q%d", n); questionIndex(qs, id) < 0 {
					q.ID = id
					break
				}
			}
		}
		qs = append(qs, q)
	} else {
		i := questionIndex(qs, oldID)
		if i < 0 {
			return Activity{}, fmt.Errorf("question %q: %w", oldID, ErrNotFound)
		}
		if q.ID == "" {
			q.ID = oldID
		}
		qs[i] = q
	}
	return s.saveQuestions(ctx, u, act, qs)
}

// DeleteQuestion removes a question; a quiz keeps at least one. Attempts keep their scores until a regrade.
func (s *Service) DeleteQuestion(ctx context.Context, u *account.User, activityID int64, id string) (Activity, error) {
	act, err := s.quizForEdit(ctx, u, activityID)
	if err != nil {
		return Activity{}, err
	}
	i := questionIndex(act.Quiz.Questions, id)
	if i < 0 {
		return Activity{}, fmt.Errorf("question %q: %w", id, ErrNotFound)
	}
	if len(act.Quiz.Questions) == 1 {
		return Activity{}, invalid("questions", "quiz.last_question", "a quiz needs at least one question: add another before deleting this one")
	}
	qs := append(append([]Question(nil), act.Quiz.Questions[:i]...), act.Quiz.Questions[i+1:]...)
	return s.saveQuestions(ctx, u, act, qs)
}

// MoveQuestion moves a question one place up (delta < 0) or down.
func (s *Service) MoveQuestion(ctx context.Context, u *account.User, activityID int64, id string, delta int) (Activity, error) {
	act, err := s.quizForEdit(ctx, u, activityID)
	if err != nil {
		return Activity{}, err
	}
	qs := append([]Question(nil), act.Quiz.Questions...)
	i := questionIndex(qs, id)
	if i < 0 {
		return Activity{}, fmt.Errorf("question %q: %w", id, ErrNotFound)
	}
	j := i + 1
	if delta < 0 {
		j = i - 1
	}
	if j < 0 || j >= len(qs) {
		return act, nil
	}
	qs[i], qs[j] = qs[j], qs[i]
	return s.saveQuestions(ctx, u, act, qs)
}

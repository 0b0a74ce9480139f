package course

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/ltipub/ltipub/internal/account"
)

// AttemptRow is one learner's attempts at a quiz, for the teachers.
type AttemptRow struct {
	Student  Enrolment
	Attempts []Attempt
	Grade    *Grade
}

func (s *Service) quizForEdit(ctx context.Context, u *account.User, activityID int64) (Activity, error) {
	act, _, acc, err := s.Activity(ctx, u, activityID)
	if err != nil {
		return Activity{}, err
	}
	if !acc.Edit {
		return Activity{}, ErrForbidden
	}
	if act.Type != TypeQuiz {
		return Activity{}, ErrWrongType
	}
	return act, nil
}

// MarkAttempt records the points a teacher gives the essay answers of one attempt (by question id, from 0 to
// the question's points), then scores the attempt again and sets the quiz grade, which stops being pending
// once no attempt it depends on waits for a mark.
func (s *Service) MarkAttempt(ctx context.Context, u *account.User, activityID, userID int64, number int, marks map[string]float64) (Grade, error) {
	act, err := s.quizForEdit(ctx, u, activityID)
	if err != nil {
		return Grade{}, err
	}
	byID := map[string]Question{}
	for _, q := range act.Quiz.Questions {
		byID[q.ID] = q
	}
	for id, m := range marks {
		q, ok := byID[id]
		switch {
		case !ok:
			return Grade{}, invalid("marks", "marks.no_question", "the quiz has no question %q", "Value", id)
		case !q.ManuallyGraded():
			return Grade{}, invalid("marks."+id, "marks.not_essay", "only essay questions are marked by hand; the others grade themselves")
		case math.IsNaN(m) || m < 0 || m > q.Points:
			return Grade{}, invalid("marks."+id, "number.between_0", "must be between 0 and %s", "Max", FormatNumber(q.Points))
		}
	}
	now := s.now()
	var out Grade
	err = s.Store.UpdateAttempts(ctx, act.ID, userID, func(all []Attempt) ([]Attempt, *GradeChange, error) {
		i := sort.Search(len(all), func(i int) bool { return all[i].Number >= number })
		if i == len(all) || all[i].Number != number {
			return nil, nil, fmt.Errorf("attempt %d of that user: %w", number, ErrNotFound)
		}
		a := &all[i]
		if a.Marks == nil {
			a.Marks = map[string]float64{}
		}
		for id, m := range marks {
			a.Marks[id] = m
		}
		a.Score, a.Pending = act.Quiz.Score(a.Answers, a.Marks, act.MaxGrade)
		change := &GradeChange{ActivityID: act.ID, UserID: userID, Grade: QuizGrade(act.Quiz.GradingMethod, all),
			Pending: QuizGradePending(act.Quiz.GradingMethod, all), MaxGrade: act.MaxGrade, GradedBy: u.ID, At: now}
		out = Grade{ActivityID: act.ID, UserID: userID, Grade: change.Grade, MaxGrade: change.MaxGrade, Pending: change.Pending}
		return []Attempt{*a}, change, nil
	})
	if err != nil {
		return Grade{}, err
	}
	return out, nil
}

// RegradeResult counts what a regrade changed.
type RegradeResult struct {
	Attempts int // attempts whose score changed
	Grades   int // students whose quiz grade changed
}

// Regrade scores every attempt at a quiz again with its current questions (after a teacher fixed one) and
// updates the grades that change, which grade sync then sends. Essay marks are kept; a teacher's override of a
// quiz grade is replaced only where the attempts now give a different grade.
func (s *Service) Regrade(ctx context.Context, u *account.User, activityID int64) (RegradeResult, error) {
	act, err := s.quizForEdit(ctx, u, activityID)
	if err != nil {
		return RegradeResult{}, err
	}
	all, err := s.Store.ActivityAttempts(ctx, act.ID)
	if err != nil {
		return RegradeResult{}, err
	}
	users := []int64{}
	seen := map[int64]bool{}
	for _, a := range all {
		if !seen[a.UserID] {
			seen[a.UserID] = true
			users = append(users, a.UserID)
		}
	}
	var res RegradeResult
	now := s.now()
	for _, uid := range users {
		old, _ := s.Store.GradeOf(ctx, act.ID, uid)
		err := s.Store.UpdateAttempts(ctx, act.ID, uid, func(all []Attempt) ([]Attempt, *GradeChange, error) {
			var changed []Attempt
			before := QuizGrade(act.Quiz.GradingMethod, all)
			for i := range all {
				a := &all[i]
				score, pending := act.Quiz.Score(a.Answers, a.Marks, act.MaxGrade)
				if score != a.Score || pending != a.Pending || a.MaxGrade != act.MaxGrade {
					a.Score, a.Pending, a.MaxGrade = score, pending, act.MaxGrade
					changed = append(changed, *a)
				}
			}
			res.Attempts += len(changed)
			grade, pending := QuizGrade(act.Quiz.GradingMethod, all), QuizGradePending(act.Quiz.GradingMethod, all)
			if len(changed) == 0 && grade == before {
				return nil, nil, nil
			}
			if old.ID != 0 && old.Grade == grade && old.Pending == pending && old.MaxGrade == act.MaxGrade {
				return changed, nil, nil
			}
			res.Grades++
			return changed, &GradeChange{ActivityID: act.ID, UserID: uid, Grade: grade, Pending: pending,
				MaxGrade: act.MaxGrade, GradedBy: u.ID, At: now}, nil
		})
		if err != nil {
			return res, fmt.Errorf("regrade the attempts of user %d: %w", uid, err)
		}
	}
	return res, nil
}

// ImportQuestions adds questions to a quiz of a course: to the quiz quizID, after its questions, or to a new quiz
// named name (at the end of the course, worth the questions' points) when quizID is 0. Question ids that clash
// with the quiz's get a suffix. Nothing is stored unless every question is valid.
func (s *Service) ImportQuestions(ctx context.Context, u *account.User, courseID, quizID int64, name string, qs []Question) (Activity, error) {
	if len(qs) == 0 {
		return Activity{}, invalid("questions", "questions.file_empty", "the file holds no questions")
	}
	if quizID == 0 {
		total := 0.0
		for _, q := range qs {
			p := q.Points
			if p == 0 {
				p = 1
			}
			total += p
		}
		if total > 100000 {
			total = 100000
		}
		return s.CreateActivity(ctx, u, courseID, ActivityInput{Type: TypeQuiz, Name: name, Visible: true, MaxGrade: total,
			Quiz: QuizSettings{GradingMethod: GradeHighest, Questions: qs}})
	}
	act, err := s.quizForEdit(ctx, u, quizID)
	if err != nil {
		return Activity{}, err
	}
	if act.CourseID != courseID {
		return Activity{}, fmt.Errorf("quiz %d in course %d: %w", quizID, courseID, ErrNotFound)
	}
	used := map[string]bool{}
	for _, q := range act.Quiz.Questions {
		used[q.ID] = true
	}
	n := len(act.Quiz.Questions)
	for i := range qs {
		id := qs[i].ID
		if id == "" {
			id = fmt.Sprintf("q%d", n+i+1)
		}
		for base, k := id, 2; used[id]; k++ {
			id = fmt.Sprintf("%s-%d", base, k)
		}
		used[id] = true
		qs[i].ID = id
	}
	quiz := act.Quiz
	quiz.Questions = append(append([]Question(nil), act.Quiz.Questions...), qs...)
	return s.UpdateActivity(ctx, u, act.ID, ActivityInput{Name: act.Name, Description: act.Description, Visible: act.Visible,
		MaxGrade: act.MaxGrade, Quiz: quiz})
}

package course

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/store"
)

// GradingMethod says which attempt sets a quiz's grade.
type GradingMethod string

const (
	GradeHighest GradingMethod = "highest"
	GradeLast    GradingMethod = "last"
)

// QuizSettings are a quiz's rules and questions. They are stored as one JSON document with the activity.
type QuizSettings struct {
	// AttemptsAllowed is the most attempts a student may submit; 0 means no limit.
	AttemptsAllowed int           `json:"attempts_allowed"`
	GradingMethod   GradingMethod `json:"grading_method"`
	// ShowAnswers lets students see the right answers after an attempt.
	ShowAnswers bool `json:"show_answers"`
	// ShuffleAnswers shows choices (and matching answers) in an order of their own to each student and attempt.
	ShuffleAnswers bool `json:"shuffle_answers,omitempty"`
	// TimeLimitMinutes is how long an attempt may take from when its questions are first shown; 0 means no limit.
	TimeLimitMinutes int `json:"time_limit_minutes,omitempty"`
	// HideFeedback keeps the feedback (per answer and general) from students after an attempt.
	HideFeedback bool       `json:"hide_feedback,omitempty"`
	Questions    []Question `json:"questions"`
}

func (qs *QuizSettings) validate(prefix string) error {
	if qs.GradingMethod == "" {
		qs.GradingMethod = GradeHighest
	}
	if qs.GradingMethod != GradeHighest && qs.GradingMethod != GradeLast {
		return invalid(prefix+"grading_method", "quiz.grading_method", "must be highest or last, not %q", "Value", qs.GradingMethod)
	}
	if qs.TimeLimitMinutes < 0 || qs.TimeLimitMinutes > 10080 {
		return invalid(prefix+"time_limit_minutes", "quiz.time_limit", "must be 0 (no limit) to 10080 (a week)")
	}
	if qs.AttemptsAllowed < 0 || qs.AttemptsAllowed > 1000 {
		return invalid(prefix+"attempts_allowed", "quiz.attempts", "must be 0 (no limit) to 1000")
	}
	if len(qs.Questions) == 0 {
		return invalid(prefix+"questions", "quiz.no_questions", "a quiz needs at least one question")
	}
	if len(qs.Questions) > MaxQuestions {
		return invalid(prefix+"questions", "quiz.max_questions", "at most %d questions per quiz", "Max", MaxQuestions)
	}
	seen := map[string]bool{}
	for i := range qs.Questions {
		q := &qs.Questions[i]
		field := fmt.Sprintf("%squestions[%d]", prefix, i)
		q.ID = strings.TrimSpace(q.ID)
		if q.ID == "" {
			q.ID = "q" + strconv.Itoa(i+1)
		}
		if len(q.ID) > MaxQuestionIDBytes {
			return invalid(field+".id", "max_chars", "must be at most %d characters long", "Max", MaxQuestionIDBytes)
		}
		if len(q.Text) > MaxQuestionTextBytes {
			return invalid(field+".text", "max_kib", "must be at most %d KiB", "Max", MaxQuestionTextBytes>>10)
		}
		if len(q.Choices) > MaxChoices || len(q.Answers) > MaxChoices {
			return invalid(field, "quiz.max_choices", "at most %d choices and %d accepted answers", "Choices", MaxChoices, "Answers", MaxChoices)
		}
		for j, c := range q.Choices {
			if len(c.Text) > MaxChoiceBytes {
				return invalid(fmt.Sprintf("%s.choices[%d].text", field, j), "max_kib", "must be at most %d KiB", "Max", MaxChoiceBytes>>10)
			}
		}
		for j, a := range q.Answers {
			if len(a.Text) > MaxChoiceBytes || len(a.Feedback) > MaxQuestionTextBytes {
				return invalid(fmt.Sprintf("%s.answers[%d]", field, j), "quiz.max_answer", "must be at most %d KiB (its feedback %d KiB)", "Max", MaxChoiceBytes>>10, "Feedback", MaxQuestionTextBytes>>10)
			}
		}
		if seen[q.ID] {
			return invalid(field+".id", "quiz.duplicate_id", "%q is used by two questions", "Value", q.ID)
		}
		seen[q.ID] = true
		if err := q.validate(field); err != nil {
			return err
		}
	}
	return nil
}

// Score grades answers against the quiz, out of maxGrade. Essay questions count with the points a teacher gave
// them in marks (by question id); pending is true while an essay answered in the attempt has no mark yet, and
// the score then holds what is marked so far.
func (qs QuizSettings) Score(answers Answers, marks map[string]float64, maxGrade float64) (score float64, pending bool) {
	var got, total float64
	for _, q := range qs.Questions {
		total += q.Points
		if q.Type == Essay {
			if m, ok := marks[q.ID]; ok {
				got += math.Min(math.Max(m, 0), q.Points)
			} else {
				pending = true
			}
			continue
		}
		got += q.Points * q.Fraction(answers[q.ID])
	}
	if total == 0 {
		return 0, pending
	}
	return round(got / total * maxGrade), pending
}

func round(v float64) float64 { return math.Round(v*100000) / 100000 }

// QuizGrade is the grade the attempts give under the grading method.
func QuizGrade(method GradingMethod, attempts []Attempt) float64 {
	if len(attempts) == 0 {
		return 0
	}
	if method == GradeLast {
		last := attempts[0]
		for _, a := range attempts {
			if a.Number > last.Number {
				last = a
			}
		}
		return last.Score
	}
	best := attempts[0].Score
	for _, a := range attempts {
		best = math.Max(best, a.Score)
	}
	return best
}

// QuizGradePending reports whether the quiz grade waits for a teacher: with the highest grade counting, while
// any attempt has an essay not marked yet (it may turn out highest); with the last, while the last one has.
func QuizGradePending(method GradingMethod, attempts []Attempt) bool {
	if len(attempts) == 0 {
		return false
	}
	if method == GradeLast {
		last := attempts[0]
		for _, a := range attempts {
			if a.Number > last.Number {
				last = a
			}
		}
		return last.Pending
	}
	for _, a := range attempts {
		if a.Pending {
			return true
		}
	}
	return false
}

// SubmitQuiz grades and stores an attempt and updates the user's grade, refusing it when no attempts are left.
func (s *Service) SubmitQuiz(ctx context.Context, u *account.User, activityID int64, answers Answers) (Attempt, error) {
	act, _, acc, err := s.Activity(ctx, u, activityID)
	if err != nil {
		return Attempt{}, err
	}
	if act.Type != TypeQuiz {
		return Attempt{}, ErrWrongType
	}
	if !acc.IsStudent() {
		return Attempt{}, fmt.Errorf("%w: only enrolled students submit attempts (teachers can preview the questions)", ErrForbidden)
	}
	now := s.now()
	timedOut, number := false, 0
	if act.Quiz.TimeLimitMinutes > 0 {
		prev, err := s.Store.Attempts(ctx, act.ID, u.ID)
		if err != nil {
			return Attempt{}, err
		}
		number = len(prev) + 1
		// An attempt sent without its form shown (no start recorded) starts, and is sent, now.
		started, err := s.Store.StartAttempt(ctx, act.ID, u.ID, number, now)
		if err != nil {
			return Attempt{}, err
		}
		timedOut = now.After(started.Add(time.Duration(act.Quiz.TimeLimitMinutes)*time.Minute + TimeLimitGrace))
	}
	at, err := s.Store.RecordAttempt(ctx, act.ID, u.ID, func(prev []Attempt) (Attempt, *GradeChange, error) {
		if act.Quiz.AttemptsAllowed > 0 && len(prev) >= act.Quiz.AttemptsAllowed {
			return Attempt{}, nil, fmt.Errorf("%w: this quiz allows %d attempt(s) and you have used them all", ErrNoAttemptsLeft, act.Quiz.AttemptsAllowed)
		}
		if number != 0 && len(prev)+1 != number {
			return Attempt{}, nil, ErrConcurrentAttempt
		}
		if timedOut { // nothing is saved before the submission, so nothing given after the time counts
			answers = Answers{}
		}
		a := Attempt{ActivityID: act.ID, UserID: u.ID, Number: len(prev) + 1, Answers: answers, MaxGrade: act.MaxGrade, SubmittedAt: now}
		a.Score, a.Pending = act.Quiz.Score(answers, nil, act.MaxGrade)
		all := append(prev, a)
		return a, &GradeChange{ActivityID: act.ID, UserID: u.ID, Grade: QuizGrade(act.Quiz.GradingMethod, all),
			Pending: QuizGradePending(act.Quiz.GradingMethod, all), MaxGrade: act.MaxGrade, At: now}, nil
	})
	if errors.Is(err, store.ErrAlreadyExists) {
		return Attempt{}, fmt.Errorf("%w: send it again", ErrConcurrentAttempt)
	}
	if err != nil {
		return Attempt{}, err
	}
	if err := s.Store.MarkComplete(ctx, act.ID, u.ID, now); err != nil {
		return at, fmt.Errorf("record completion: %w", err)
	}
	at.TimedOut = timedOut
	return at, nil
}

// TimeLimitGrace is how late after a quiz's time limit a submission still counts (the network, a slow click).
const TimeLimitGrace = time.Minute

// StartQuiz records that u's next attempt at a timed quiz has begun (its questions are shown), once: a reload
// keeps the first start. It gives when the attempt must be sent; zero for a quiz without a time limit.
func (s *Service) StartQuiz(ctx context.Context, u *account.User, act Activity, attemptsSoFar int) (time.Time, error) {
	if act.Type != TypeQuiz || act.Quiz.TimeLimitMinutes == 0 || u == nil {
		return time.Time{}, nil
	}
	started, err := s.Store.StartAttempt(ctx, act.ID, u.ID, attemptsSoFar+1, s.now())
	if err != nil {
		return time.Time{}, err
	}
	return started.Add(time.Duration(act.Quiz.TimeLimitMinutes) * time.Minute), nil
}

// Attempts lists u's own attempts at a quiz.
func (s *Service) Attempts(ctx context.Context, u *account.User, activityID int64) ([]Attempt, error) {
	if _, _, _, err := s.Activity(ctx, u, activityID); err != nil {
		return nil, err
	}
	return s.Store.Attempts(ctx, activityID, u.ID)
}

// SubmitAssignment saves u's online text, replacing an earlier one, until the due date (SubmitWork with text).
func (s *Service) SubmitAssignment(ctx context.Context, u *account.User, activityID int64, text string) (Submission, error) {
	return s.SubmitWork(ctx, u, activityID, SubmissionInput{Text: text})
}

// SubmissionOf gives u's own submission, or ErrNotFound.
func (s *Service) SubmissionOf(ctx context.Context, u *account.User, activityID int64) (Submission, error) {
	sub, err := s.Store.SubmissionOf(ctx, activityID, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return Submission{}, ErrNotFound
	}
	if err != nil {
		return Submission{}, err
	}
	files, err := s.Store.SubmissionFiles(ctx, []int64{sub.ID})
	sub.Files = files[sub.ID]
	return sub, err
}

// SubmissionRow is one student's line on an assignment's grading list.
type SubmissionRow struct {
	Student    Enrolment
	Submission *Submission
	Grade      *Grade
}

// GradeSubmission sets a student's grade and feedback in an assignment (or overrides a quiz grade).
func (s *Service) GradeSubmission(ctx context.Context, u *account.User, activityID, userID int64, grade float64, feedback string) (Grade, error) {
	act, _, acc, err := s.Activity(ctx, u, activityID)
	if err != nil {
		return Grade{}, err
	}
	if !acc.Edit {
		return Grade{}, ErrForbidden
	}
	if !act.Graded() {
		return Grade{}, ErrWrongType
	}
	if math.IsNaN(grade) || grade < 0 || grade > act.MaxGrade {
		return Grade{}, invalid("grade", "number.between_0", "must be between 0 and %s", "Max", FormatNumber(act.MaxGrade))
	}
	es, err := s.Store.EnrolmentsOf(ctx, act.CourseID, userID)
	if err != nil {
		return Grade{}, err
	}
	if len(es) == 0 {
		return Grade{}, invalid("user", "grade.not_enrolled", "that user is not enrolled in this course")
	}
	return s.Store.PutGrade(ctx, GradeChange{ActivityID: act.ID, UserID: userID, Grade: grade, MaxGrade: act.MaxGrade,
		Feedback: strings.TrimSpace(feedback), GradedBy: u.ID, At: s.now()})
}

// FormatNumber prints a grade without trailing zeros.
func FormatNumber(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

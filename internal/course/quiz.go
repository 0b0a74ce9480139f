package course

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/store"
)

// GradingMethod says which attempt sets a quiz's grade.
type GradingMethod string

const (
	GradeHighest GradingMethod = "highest"
	GradeLast    GradingMethod = "last"
)

// QuestionType is the kind of a quiz question.
type QuestionType string

const (
	// MultiChoice has choices of which one or several are right.
	MultiChoice QuestionType = "multichoice"
	// ShortAnswer takes typed text compared with the accepted answers.
	ShortAnswer QuestionType = "shortanswer"
)

// QuizSettings are a quiz's rules and questions. They are stored as one JSON document with the activity.
type QuizSettings struct {
	// AttemptsAllowed is the most attempts a student may submit; 0 means no limit.
	AttemptsAllowed int           `json:"attempts_allowed"`
	GradingMethod   GradingMethod `json:"grading_method"`
	// ShowAnswers lets students see the right answers after an attempt.
	ShowAnswers bool       `json:"show_answers"`
	Questions   []Question `json:"questions"`
}

// Question is one quiz question.
type Question struct {
	ID      string       `json:"id"`
	Type    QuestionType `json:"type"`
	Text    string       `json:"text"`
	Points  float64      `json:"points"`
	Choices []Choice     `json:"choices,omitempty"`
	// Answers are a short-answer question's accepted answers, compared ignoring case and extra spaces.
	Answers []string `json:"answers,omitempty"`
}

// Choice is one option of a multiple-choice question.
type Choice struct {
	Text    string `json:"text"`
	Correct bool   `json:"correct"`
}

// Multiple reports whether a multiple-choice question has several right answers (check boxes, not radio buttons).
func (q Question) Multiple() bool {
	n := 0
	for _, c := range q.Choices {
		if c.Correct {
			n++
		}
	}
	return n > 1
}

// RightAnswer describes the right answer for people.
func (q Question) RightAnswer() string {
	if q.Type == ShortAnswer {
		return strings.Join(q.Answers, " / ")
	}
	var right []string
	for _, c := range q.Choices {
		if c.Correct {
			right = append(right, c.Text)
		}
	}
	return strings.Join(right, "; ")
}

func (qs *QuizSettings) validate(prefix string) error {
	if qs.GradingMethod == "" {
		qs.GradingMethod = GradeHighest
	}
	if qs.GradingMethod != GradeHighest && qs.GradingMethod != GradeLast {
		return invalid(prefix+"grading_method", "must be highest or last, not %q", qs.GradingMethod)
	}
	if qs.AttemptsAllowed < 0 || qs.AttemptsAllowed > 1000 {
		return invalid(prefix+"attempts_allowed", "must be 0 (no limit) to 1000")
	}
	if len(qs.Questions) == 0 {
		return invalid(prefix+"questions", "a quiz needs at least one question")
	}
	if len(qs.Questions) > MaxQuestions {
		return invalid(prefix+"questions", "at most %d questions per quiz", MaxQuestions)
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
			return invalid(field+".id", "must be at most %d characters long", MaxQuestionIDBytes)
		}
		if len(q.Text) > MaxQuestionTextBytes {
			return invalid(field+".text", "must be at most %d KiB", MaxQuestionTextBytes>>10)
		}
		if len(q.Choices) > MaxChoices || len(q.Answers) > MaxChoices {
			return invalid(field, "at most %d choices and %d accepted answers", MaxChoices, MaxChoices)
		}
		for j, c := range q.Choices {
			if len(c.Text) > MaxChoiceBytes {
				return invalid(fmt.Sprintf("%s.choices[%d].text", field, j), "must be at most %d KiB", MaxChoiceBytes>>10)
			}
		}
		for j, a := range q.Answers {
			if len(a) > MaxChoiceBytes {
				return invalid(fmt.Sprintf("%s.answers[%d]", field, j), "must be at most %d KiB", MaxChoiceBytes>>10)
			}
		}
		if seen[q.ID] {
			return invalid(field+".id", "%q is used by two questions", q.ID)
		}
		seen[q.ID] = true
		if strings.TrimSpace(q.Text) == "" {
			return invalid(field+".text", "is required")
		}
		if q.Points == 0 {
			q.Points = 1
		}
		if q.Points < 0 || math.IsNaN(q.Points) || math.IsInf(q.Points, 0) {
			return invalid(field+".points", "must be above 0")
		}
		switch q.Type {
		case MultiChoice:
			if len(q.Choices) < 2 {
				return invalid(field+".choices", "a multiple-choice question needs at least two choices")
			}
			right := 0
			for j, c := range q.Choices {
				if strings.TrimSpace(c.Text) == "" {
					return invalid(fmt.Sprintf("%s.choices[%d].text", field, j), "is required")
				}
				if c.Correct {
					right++
				}
			}
			if right == 0 {
				return invalid(field+".choices", "at least one choice must be marked correct")
			}
			q.Answers = nil
		case ShortAnswer:
			var ok []string
			for _, a := range q.Answers {
				if strings.TrimSpace(a) != "" {
					ok = append(ok, strings.TrimSpace(a))
				}
			}
			if len(ok) == 0 {
				return invalid(field+".answers", "a short-answer question needs at least one accepted answer")
			}
			q.Answers, q.Choices = ok, nil
		default:
			return invalid(field+".type", "must be multichoice or shortanswer, not %q", q.Type)
		}
	}
	return nil
}

// Fraction is how right an answer to q is, from 0 to 1. A single-answer question is right or wrong. A question
// with several right choices gives each right choice an equal share and takes one share off for each wrong
// choice ticked, never below 0, so that ticking everything earns nothing. A short answer is right when it matches
// an accepted answer, ignoring case and runs of spaces.
func (q Question) Fraction(given []string) float64 {
	switch q.Type {
	case ShortAnswer:
		if len(given) == 0 {
			return 0
		}
		g := normalise(given[0])
		for _, a := range q.Answers {
			if g != "" && g == normalise(a) {
				return 1
			}
		}
		return 0
	case MultiChoice:
		chosen := map[int]bool{}
		for _, v := range given {
			if i, err := strconv.Atoi(v); err == nil && i >= 0 && i < len(q.Choices) {
				chosen[i] = true
			}
		}
		right, hits, misses := 0, 0, 0
		for i, c := range q.Choices {
			if c.Correct {
				right++
				if chosen[i] {
					hits++
				}
			} else if chosen[i] {
				misses++
			}
		}
		if right == 0 {
			return 0
		}
		if !q.Multiple() {
			if hits == 1 && misses == 0 {
				return 1
			}
			return 0
		}
		return math.Max(0, float64(hits-misses)/float64(right))
	}
	return 0
}

func normalise(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// Score grades answers against the quiz, out of maxGrade.
func (qs QuizSettings) Score(answers Answers, maxGrade float64) float64 {
	var got, total float64
	for _, q := range qs.Questions {
		total += q.Points
		got += q.Points * q.Fraction(answers[q.ID])
	}
	if total == 0 {
		return 0
	}
	return round(got / total * maxGrade)
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
	at, err := s.Store.RecordAttempt(ctx, act.ID, u.ID, func(prev []Attempt) (Attempt, *GradeChange, error) {
		if act.Quiz.AttemptsAllowed > 0 && len(prev) >= act.Quiz.AttemptsAllowed {
			return Attempt{}, nil, fmt.Errorf("%w: this quiz allows %d attempt(s) and you have used them all", ErrNoAttemptsLeft, act.Quiz.AttemptsAllowed)
		}
		a := Attempt{ActivityID: act.ID, UserID: u.ID, Number: len(prev) + 1, Answers: answers,
			Score: act.Quiz.Score(answers, act.MaxGrade), MaxGrade: act.MaxGrade, SubmittedAt: now}
		grade := QuizGrade(act.Quiz.GradingMethod, append(prev, a))
		return a, &GradeChange{ActivityID: act.ID, UserID: u.ID, Grade: grade, MaxGrade: act.MaxGrade, At: now}, nil
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
	return at, nil
}

// Attempts lists u's own attempts at a quiz.
func (s *Service) Attempts(ctx context.Context, u *account.User, activityID int64) ([]Attempt, error) {
	if _, _, _, err := s.Activity(ctx, u, activityID); err != nil {
		return nil, err
	}
	return s.Store.Attempts(ctx, activityID, u.ID)
}

// SubmitAssignment saves u's online text, replacing an earlier one, until the due date.
func (s *Service) SubmitAssignment(ctx context.Context, u *account.User, activityID int64, text string) (Submission, error) {
	act, _, acc, err := s.Activity(ctx, u, activityID)
	if err != nil {
		return Submission{}, err
	}
	if act.Type != TypeAssignment {
		return Submission{}, ErrWrongType
	}
	if !acc.IsStudent() {
		return Submission{}, fmt.Errorf("%w: only enrolled students submit", ErrForbidden)
	}
	now := s.now()
	if !act.DueAt.IsZero() && now.After(act.DueAt) {
		return Submission{}, fmt.Errorf("%w: it was due %s", ErrPastDue, act.DueAt.Format("2006-01-02 15:04 MST"))
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return Submission{}, invalid("text", "write your answer before submitting")
	}
	if len(text) > 200000 {
		return Submission{}, invalid("text", "must be at most 200000 characters long")
	}
	sub := Submission{ActivityID: act.ID, UserID: u.ID, Text: text, SubmittedAt: now}
	if err := s.Store.SaveSubmission(ctx, &sub); err != nil {
		return Submission{}, fmt.Errorf("save submission: %w", err)
	}
	if err := s.Store.MarkComplete(ctx, act.ID, u.ID, now); err != nil {
		return sub, fmt.Errorf("record completion: %w", err)
	}
	return sub, nil
}

// SubmissionOf gives u's own submission, or ErrNotFound.
func (s *Service) SubmissionOf(ctx context.Context, u *account.User, activityID int64) (Submission, error) {
	sub, err := s.Store.SubmissionOf(ctx, activityID, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return Submission{}, ErrNotFound
	}
	return sub, err
}

// SubmissionRow is one student's line on an assignment's grading list.
type SubmissionRow struct {
	Student    Enrolment
	Submission *Submission
	Grade      *Grade
}

// Submissions lists every student of the course with their submission and grade, for the teachers.
func (s *Service) Submissions(ctx context.Context, u *account.User, activityID int64) ([]SubmissionRow, error) {
	act, _, acc, err := s.Activity(ctx, u, activityID)
	if err != nil {
		return nil, err
	}
	if !acc.Edit {
		return nil, ErrForbidden
	}
	students, err := s.students(ctx, act.CourseID)
	if err != nil {
		return nil, err
	}
	subs, err := s.Store.ListSubmissions(ctx, act.ID)
	if err != nil {
		return nil, err
	}
	grades, err := s.Store.CourseGrades(ctx, act.CourseID)
	if err != nil {
		return nil, err
	}
	byUser := map[int64]*Submission{}
	for i := range subs {
		byUser[subs[i].UserID] = &subs[i]
	}
	gradeOf := map[int64]*Grade{}
	for i := range grades {
		if grades[i].ActivityID == act.ID {
			gradeOf[grades[i].UserID] = &grades[i]
		}
	}
	rows := make([]SubmissionRow, 0, len(students))
	for _, st := range students {
		rows = append(rows, SubmissionRow{Student: st, Submission: byUser[st.UserID], Grade: gradeOf[st.UserID]})
	}
	return rows, nil
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
		return Grade{}, invalid("grade", "must be between 0 and %s", FormatNumber(act.MaxGrade))
	}
	es, err := s.Store.EnrolmentsOf(ctx, act.CourseID, userID)
	if err != nil {
		return Grade{}, err
	}
	if len(es) == 0 {
		return Grade{}, invalid("user", "that user is not enrolled in this course")
	}
	return s.Store.PutGrade(ctx, GradeChange{ActivityID: act.ID, UserID: userID, Grade: grade, MaxGrade: act.MaxGrade,
		Feedback: strings.TrimSpace(feedback), GradedBy: u.ID, At: s.now()})
}

// FormatNumber prints a grade without trailing zeros.
func FormatNumber(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/course"
)

// questionFormPage is the question editor: one question of one type, with blank rows to add choices, answers,
// pairs and units.
type questionFormPage struct {
	Page
	fmtHelpers
	Activity course.Activity
	Q        course.Question
	OldID    string // empty for a new question
	Rows     []questionRow
	Units    []course.Unit
	Error    string
	// ErrorField names the field Error is about ("" when none).
	ErrorField string
}

// questionRow is one choice, answer or pair of the form; Percent is a fraction in percent.
type questionRow struct {
	Text, Percent, Feedback, Tolerance, Item string
}

const blankRows = 3

func pct(f float64) string { return strconv.FormatFloat(f*100, 'f', -1, 64) }

func newQuestionForm(title string, a course.Activity, q course.Question, oldID string) *questionFormPage {
	p := &questionFormPage{Page: Page{Title: title}, Activity: a, Q: q, OldID: oldID, Units: q.Units}
	switch q.Type {
	case course.MultiChoice:
		for i, c := range q.Choices {
			p.Rows = append(p.Rows, questionRow{Text: c.Text, Percent: pct(q.ChoiceFraction(i)), Feedback: c.Feedback})
		}
	case course.ShortAnswer, course.Numerical:
		for _, an := range q.Answers {
			r := questionRow{Text: an.Text, Percent: pct(an.Frac()), Feedback: an.Feedback}
			if q.Type == course.Numerical {
				r.Tolerance = strconv.FormatFloat(an.Tolerance, 'f', -1, 64)
			}
			p.Rows = append(p.Rows, r)
		}
	case course.Matching:
		for _, pr := range q.Pairs {
			p.Rows = append(p.Rows, questionRow{Item: pr.Item, Text: pr.Answer})
		}
	}
	for i := 0; i < blankRows; i++ {
		p.Rows = append(p.Rows, questionRow{})
		p.Units = append(p.Units, course.Unit{})
	}
	return p
}

// TrueIsCorrect tells the form which true/false radio to tick.
func (p *questionFormPage) TrueIsCorrect() bool {
	return p.Q.CorrectAnswer == nil || *p.Q.CorrectAnswer
}

func (s *Server) quizForTeacher(w http.ResponseWriter, r *http.Request) (course.Activity, bool) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return course.Activity{}, false
	}
	a, _, acc, err := s.cfg.Courses.Activity(r.Context(), currentUser(r), id)
	switch {
	case err != nil:
	case !acc.Edit:
		err = course.ErrForbidden
	case a.Type != course.TypeQuiz:
		err = course.ErrWrongType
	}
	if err != nil {
		s.courseFail(w, r, err)
		return course.Activity{}, false
	}
	return a, true
}

func (s *Server) questionNewForm(w http.ResponseWriter, r *http.Request) {
	a, ok := s.quizForTeacher(w, r)
	if !ok {
		return
	}
	typ := course.QuestionType(r.URL.Query().Get("type"))
	known := false
	for _, t := range course.QuestionTypes {
		known = known || t == typ
	}
	if !known {
		s.courseFail(w, r, &course.ValidationError{Field: "type", Message: "must be one of multichoice, truefalse, shortanswer, numerical, matching or essay",
			Code: "question.type_form"})
		return
	}
	yes := true
	q := course.Question{Type: typ, Points: 1, Format: course.FormatPlain}
	if typ == course.TrueFalse {
		q.CorrectAnswer = &yes
	}
	s.render(w, r, http.StatusOK, "course_question_form", newQuestionForm(s.t(r, "question_form.page_title", "Name", a.Name), a, q, ""))
}

func (s *Server) questionEditForm(w http.ResponseWriter, r *http.Request) {
	a, ok := s.quizForTeacher(w, r)
	if !ok {
		return
	}
	qid := r.PathValue("qid")
	for _, q := range a.Quiz.Questions {
		if q.ID == qid {
			s.render(w, r, http.StatusOK, "course_question_form", newQuestionForm(s.t(r, "question_form.page_title", "Name", a.Name), a, q, qid))
			return
		}
	}
	s.courseFail(w, r, fmt.Errorf("question %q: %w", qid, course.ErrNotFound))
}

func number(field, v string, def float64) (float64, error) {
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "%"))
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, &course.ValidationError{Field: field, Message: fmt.Sprintf("%q is not a number", v), Code: "not_number", Args: map[string]any{"Value": v}}
	}
	return f, nil
}

// questionFromForm reads the editor's fields; fractions are typed in percent.
func questionFromForm(r *http.Request) (course.Question, error) {
	q := course.Question{ID: strings.TrimSpace(r.PostFormValue("id")), Type: course.QuestionType(r.PostFormValue("type")),
		Name: r.PostFormValue("name"), Text: r.PostFormValue("text"), Format: course.TextFormat(r.PostFormValue("format")),
		GeneralFeedback: strings.TrimSpace(r.PostFormValue("general_feedback"))}
	var err error
	if q.Points, err = number("points", r.PostFormValue("points"), 1); err != nil {
		return q, err
	}
	texts, percents, feedbacks := r.PostForm["row_text"], r.PostForm["row_percent"], r.PostForm["row_feedback"]
	tolerances, items := r.PostForm["row_tolerance"], r.PostForm["row_item"]
	at := func(l []string, i int) string {
		if i < len(l) {
			return l[i]
		}
		return ""
	}
	for i := range texts {
		text := strings.TrimSpace(texts[i])
		field := fmt.Sprintf("row %d", i+1)
		switch q.Type {
		case course.MultiChoice:
			if text == "" {
				continue
			}
			f, err := number(field+" grade", at(percents, i), 0)
			if err != nil {
				return q, err
			}
			f /= 100
			q.Choices = append(q.Choices, course.Choice{Text: text, Fraction: &f, Feedback: strings.TrimSpace(at(feedbacks, i))})
		case course.ShortAnswer, course.Numerical:
			if text == "" {
				continue
			}
			f, err := number(field+" grade", at(percents, i), 100)
			if err != nil {
				return q, err
			}
			f /= 100
			an := course.Answer{Text: text, Fraction: &f, Feedback: strings.TrimSpace(at(feedbacks, i))}
			if q.Type == course.Numerical {
				if an.Tolerance, err = number(field+" tolerance", at(tolerances, i), 0); err != nil {
					return q, err
				}
			}
			q.Answers = append(q.Answers, an)
		case course.Matching:
			item := strings.TrimSpace(at(items, i))
			if text == "" && item == "" {
				continue
			}
			q.Pairs = append(q.Pairs, course.Pair{Item: item, Answer: text})
		}
	}
	switch q.Type {
	case course.MultiChoice:
		multiple := r.PostFormValue("multiple") == "on"
		q.Multiple = &multiple
	case course.TrueFalse:
		right := r.PostFormValue("correct_answer") != "false"
		q.CorrectAnswer = &right
		q.TrueFeedback, q.FalseFeedback = strings.TrimSpace(r.PostFormValue("true_feedback")), strings.TrimSpace(r.PostFormValue("false_feedback"))
	case course.ShortAnswer:
		q.CaseSensitive = r.PostFormValue("case_sensitive") == "on"
	case course.Numerical:
		names, mults := r.PostForm["unit_name"], r.PostForm["unit_multiplier"]
		for i, n := range names {
			if strings.TrimSpace(n) == "" {
				continue
			}
			m, err := number(fmt.Sprintf("unit %d multiplier", i+1), at(mults, i), 1)
			if err != nil {
				return q, err
			}
			q.Units = append(q.Units, course.Unit{Unit: n, Multiplier: m})
		}
	case course.Essay:
		q.GraderInfo = strings.TrimSpace(r.PostFormValue("grader_info"))
	}
	return q, nil
}

func (s *Server) questionSave(w http.ResponseWriter, r *http.Request) {
	a, ok := s.quizForTeacher(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, &Problem{Title: s.t(r, "form.unreadable.title"), Cause: err.Error(), Fix: s.t(r, "form.unreadable.fix"), Err: err})
		return
	}
	oldID := r.PostFormValue("old_id")
	q, err := questionFromForm(r)
	if err == nil {
		_, err = s.cfg.Courses.SaveQuestion(r.Context(), currentUser(r), a.ID, oldID, q)
	}
	var verr *course.ValidationError
	if errors.As(err, &verr) {
		p := newQuestionForm(s.t(r, "question_form.page_title", "Name", a.Name), a, q, oldID)
		p.Error, p.ErrorField = verr.Error(), errorField(verr)
		s.render(w, r, http.StatusBadRequest, "course_question_form", p)
		return
	}
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	s.flash(r, s.t(r, "question_form.flash.saved"))
	http.Redirect(w, r, fmt.Sprintf("/activities/%d/questions", a.ID), http.StatusSeeOther)
}

func (s *Server) questionDelete(w http.ResponseWriter, r *http.Request) {
	a, ok := s.quizForTeacher(w, r)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != "yes" { // not confirmed: the list, with this question's confirmation open
		s.renderQuestionList(w, r, a, r.PathValue("qid"))
		return
	}
	if _, err := s.cfg.Courses.DeleteQuestion(r.Context(), currentUser(r), a.ID, r.PathValue("qid")); err != nil {
		s.courseFail(w, r, err)
		return
	}
	s.flash(r, s.t(r, "questions.flash.deleted"))
	http.Redirect(w, r, fmt.Sprintf("/activities/%d/questions", a.ID), http.StatusSeeOther)
}

func (s *Server) questionMove(w http.ResponseWriter, r *http.Request) {
	a, ok := s.quizForTeacher(w, r)
	if !ok {
		return
	}
	delta := 1
	if r.PostFormValue("direction") == "up" {
		delta = -1
	}
	if _, err := s.cfg.Courses.MoveQuestion(r.Context(), currentUser(r), a.ID, r.PathValue("qid"), delta); err != nil {
		s.courseFail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/activities/%d/questions", a.ID), http.StatusSeeOther)
}

type questionListPage struct {
	Page
	fmtHelpers
	Activity  course.Activity
	Questions []questionView
	Types     []course.QuestionType
	Preview   bool
	// ConfirmDelete is the question whose Delete waits for its confirmation (a deletion posted without
	// confirm=yes comes back to it), "" for none.
	ConfirmDelete string
}

// questionList is the editor's list of a quiz's questions, or, with ?preview=1, the quiz as a student sees it.
func (s *Server) questionList(w http.ResponseWriter, r *http.Request) {
	a, ok := s.quizForTeacher(w, r)
	if !ok {
		return
	}
	s.renderQuestionList(w, r, a, "")
}

// renderQuestionList shows the quiz's questions; confirmDelete names the question whose deletion waits for its
// confirmation ("" for none).
func (s *Server) renderQuestionList(w http.ResponseWriter, r *http.Request, a course.Activity, confirmDelete string) {
	s.render(w, r, http.StatusOK, "course_questions", &questionListPage{Page: Page{Title: s.t(r, "questions.title", "Name", a.Name), Embedded: isEmbedded(r)},
		Activity: a, Questions: questionViews(a.Quiz, nil, nil), Types: course.QuestionTypes, Preview: r.URL.Query().Get("preview") == "1",
		ConfirmDelete: confirmDelete})
}

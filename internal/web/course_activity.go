package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"html/template"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/course"
)

type activityFormPage struct {
	Page
	fmtHelpers
	Course    course.Course
	Activity  course.Activity // ID 0 while new
	Questions string          // the quiz questions as JSON, in the course file format
	Error     string
	// ErrorField names the field Error is about ("" when none).
	ErrorField string
	// Preview is a page's body rendered as students will see it (the Preview button, or live with JavaScript).
	Preview template.HTML
}

func (s *Server) activityNewForm(w http.ResponseWriter, r *http.Request) {
	c, ok := s.editableCourse(w, r)
	if !ok {
		return
	}
	typ := course.Type(r.URL.Query().Get("type"))
	if !typ.Valid() {
		s.courseFail(w, r, &course.ValidationError{Field: "type", Message: "must be page, quiz or assignment", Code: "activity.type_form"})
		return
	}
	a := course.Activity{CourseID: c.ID, Type: typ, Visible: true}
	questions := ""
	switch typ {
	case course.TypeQuiz:
		a.MaxGrade, a.Quiz.GradingMethod = 10, course.GradeHighest
		questions = exampleQuestions
	case course.TypeAssignment:
		a.MaxGrade = 100
	}
	s.render(w, r, http.StatusOK, "course_activity_form", &activityFormPage{Page: Page{Title: s.t(r, "activity_form.new."+string(typ)), Embedded: isEmbedded(r)},
		Course: c, Activity: a, Questions: questions})
}

const exampleQuestions = `[
  {"id": "q1", "type": "multichoice", "text": "Which planet is closest to the Sun?", "points": 1,
   "choices": [{"text": "Venus", "correct": false}, {"text": "Mercury", "correct": true}]},
  {"id": "q2", "type": "shortanswer", "text": "Name the star at the centre of the Solar System.", "points": 1,
   "answers": ["Sun", "the Sun"]}
]`

// activityInput reads the activity form; the questions come as JSON in the course file format.
func activityInput(r *http.Request, typ course.Type) (course.ActivityInput, string, error) {
	in := course.ActivityInput{Type: typ, Name: r.PostFormValue("name"), Description: r.PostFormValue("description"),
		Visible: r.PostFormValue("visible") == "on", Body: r.PostFormValue("body")}
	questions := r.PostFormValue("questions")
	if typ == course.TypePage {
		return in, questions, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("max_grade")), 64)
	if err != nil {
		return in, questions, &course.ValidationError{Field: "max_grade", Message: "must be a number", Code: "number"}
	}
	in.MaxGrade = v
	switch typ {
	case course.TypeQuiz:
		if n := strings.TrimSpace(r.PostFormValue("attempts_allowed")); n != "" {
			if in.Quiz.AttemptsAllowed, err = strconv.Atoi(n); err != nil {
				return in, questions, &course.ValidationError{Field: "attempts_allowed", Message: "must be a whole number (0 for no limit)", Code: "whole_number_no_limit"}
			}
		}
		in.Quiz.GradingMethod = course.GradingMethod(r.PostFormValue("grading_method"))
		in.Quiz.ShowAnswers = r.PostFormValue("show_answers") == "on"
		in.Quiz.ShuffleAnswers = r.PostFormValue("shuffle_answers") == "on"
		in.Quiz.HideFeedback = r.PostFormValue("hide_feedback") == "on"
		if n := strings.TrimSpace(r.PostFormValue("time_limit_minutes")); n != "" {
			if in.Quiz.TimeLimitMinutes, err = strconv.Atoi(n); err != nil {
				return in, questions, &course.ValidationError{Field: "time_limit_minutes", Message: "must be a whole number of minutes (0 for no limit)", Code: "minutes_no_limit"}
			}
		}
		dec := json.NewDecoder(strings.NewReader(questions))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in.Quiz.Questions); err != nil {
			verr := course.DescribeJSONError([]byte(questions), err, "questions")
			if verr.Code != "" {
				verr.Code, verr.Args = "questions_json", map[string]any{"Message": course.Phrase{English: verr.Message, Code: verr.Code, Args: verr.Args}}
			}
			verr.Message += " (the questions are a JSON list as in docs/course-format.md)"
			return in, questions, verr
		}
	case course.TypeAssignment:
		if in.DueAt, err = parseLocalTime("due", r.PostFormValue("due")); err != nil {
			return in, questions, err
		}
		if in.CutoffAt, err = parseLocalTime("cutoff", r.PostFormValue("cutoff")); err != nil {
			return in, questions, err
		}
		if in.Assignment, err = assignmentSettings(r); err != nil {
			return in, questions, err
		}
	}
	return in, questions, nil
}

func (s *Server) activityNewSubmit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	typ := course.Type(r.PostFormValue("type"))
	in, questions, err := activityInput(r, typ)
	if s.previewPage(w, r, id, course.Activity{CourseID: id, Type: typ}, in) {
		return
	}
	var a course.Activity
	if err == nil {
		a, err = s.cfg.Courses.CreateActivity(r.Context(), currentUser(r), id, in)
	}
	if err != nil {
		s.activityFormError(w, r, id, course.Activity{CourseID: id, Type: typ}, in, questions, err)
		return
	}
	s.flash(r, s.t(r, "activity.flash.added", "Name", a.Name))
	http.Redirect(w, r, fmt.Sprintf("/courses/%d", id), http.StatusSeeOther)
}

func (s *Server) activityFormError(w http.ResponseWriter, r *http.Request, courseID int64, a course.Activity, in course.ActivityInput, questions string, err error) {
	msg := s.formError(r, err)
	if msg == "" {
		s.courseFail(w, r, err)
		return
	}
	c, _, cerr := s.cfg.Courses.Course(r.Context(), currentUser(r), courseID)
	if cerr != nil {
		s.courseFail(w, r, cerr)
		return
	}
	id, typ := a.ID, a.Type
	a.Name, a.Description, a.Visible, a.MaxGrade, a.Body, a.Quiz, a.DueAt = in.Name, in.Description, in.Visible, in.MaxGrade, in.Body, in.Quiz, in.DueAt
	a.CutoffAt, a.Assignment = in.CutoffAt, in.Assignment
	a.ID, a.Type = id, typ
	s.render(w, r, http.StatusBadRequest, "course_activity_form", &activityFormPage{Page: Page{Title: s.t(r, "activity.page_title"), Embedded: isEmbedded(r)},
		Course: c, Activity: a, Questions: questions, Error: msg, ErrorField: errorField(err)})
}

// previewPage answers the page form's Preview button: the form again, unsaved, with the body rendered below it.
func (s *Server) previewPage(w http.ResponseWriter, r *http.Request, courseID int64, a course.Activity, in course.ActivityInput) bool {
	if r.PostFormValue("preview") == "" || a.Type != course.TypePage {
		return false
	}
	c, acc, err := s.cfg.Courses.Course(r.Context(), currentUser(r), courseID)
	if err == nil && !acc.Edit {
		err = course.ErrForbidden
	}
	if err != nil {
		s.courseFail(w, r, err)
		return true
	}
	a.Name, a.Description, a.Visible, a.Body = in.Name, in.Description, in.Visible, in.Body
	s.render(w, r, http.StatusOK, "course_activity_form", &activityFormPage{Page: Page{Title: s.t(r, "activity_form.preview"), Embedded: isEmbedded(r)},
		Course: c, Activity: a, Preview: course.RenderMarkdown(in.Body)})
	return true
}

// markdownPreview renders Markdown for the page editor's live preview, for signed-in users (it reads nothing
// but the request, and renders as pages are rendered: raw HTML and unsafe links dropped).
func (s *Server) markdownPreview(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the page is over 1 MiB", http.StatusRequestEntityTooLarge)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(course.RenderMarkdown(r.PostFormValue("body"))))
}

func (s *Server) activityEditForm(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	a, c, acc, err := s.cfg.Courses.Activity(r.Context(), currentUser(r), id)
	if err == nil && !acc.Edit {
		err = course.ErrForbidden
	}
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	var questions string
	if a.Type == course.TypeQuiz {
		b, _ := json.MarshalIndent(a.Quiz.Questions, "", "  ")
		questions = string(b)
	}
	s.render(w, r, http.StatusOK, "course_activity_form", &activityFormPage{Page: Page{Title: s.t(r, "activity_form.edit_name", "Name", a.Name), Embedded: isEmbedded(r)},
		Course: c, Activity: a, Questions: questions})
}

func (s *Server) activityEditSubmit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	old, _, acc, err := s.cfg.Courses.Activity(r.Context(), currentUser(r), id)
	if err == nil && !acc.Edit {
		err = course.ErrForbidden
	}
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	in, questions, err := activityInput(r, old.Type)
	if s.previewPage(w, r, old.CourseID, old, in) {
		return
	}
	if err == nil {
		_, err = s.cfg.Courses.UpdateActivity(r.Context(), currentUser(r), id, in)
	}
	if err != nil {
		s.activityFormError(w, r, old.CourseID, old, in, questions, err)
		return
	}
	s.flash(r, s.t(r, "activity.flash.saved"))
	http.Redirect(w, r, fmt.Sprintf("/activities/%d", id), http.StatusSeeOther)
}

func (s *Server) activityMove(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	delta := 1
	if r.PostFormValue("direction") == "up" {
		delta = -1
	}
	a, err := s.cfg.Courses.MoveActivity(r.Context(), currentUser(r), id, delta)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/courses/%d", a.CourseID), http.StatusSeeOther)
}

// choiceView is one choice as the quiz form or result shows it.
type choiceView struct {
	Index   int
	Text    string
	Checked bool
	Correct bool
}

// questionView is one question with the answer given (for results).
type questionView struct {
	course.Question
	// ID, Type, Name, Text, Points and GeneralFeedback are the question's own (set by questionViews), repeated at
	// the top so that the templates find them there: html/template looks a field up by name on every use, and
	// one promoted from an embedded struct costs an allocating search (reflect's FieldByNameFunc) each time.
	ID              string
	Type            course.QuestionType
	Name            string
	Text            string
	Points          float64
	GeneralFeedback string
	Number          int
	Multiple        bool
	Choices         []choiceView
	Given           string
	Fraction        float64
	// Matching: the items with the answer chosen for each, and the answers to choose from.
	Items   []matchView
	Options []string
	// Feedback for the answer given, shown with the result.
	Feedback []template.HTML
	// Mark is the teacher's mark of an essay; HasMark is false while it waits for one.
	Mark    float64
	HasMark bool
}

// Outcome is the question's mark the way Moodle's review shows it: "right", "partial" or "wrong" (a CSS class
// that adds colour and an icon to the words of message review.outcome.<outcome>), or "pending" for an essay
// waiting for its teacher.
func (v questionView) Outcome() string {
	switch {
	case v.ManuallyGraded() && !v.HasMark:
		return "pending"
	case v.Fraction >= 1:
		return "right"
	case v.Fraction <= 0:
		return "wrong"
	}
	return "partial"
}

// Earned is the points the answer got: the teacher's mark of an essay, else the question's points times the
// fraction of the answer.
func (v questionView) Earned() float64 {
	if v.ManuallyGraded() {
		return v.Mark
	}
	return v.Fraction * v.Points
}

// matchView is one item of a matching question.
type matchView struct {
	Index  int
	Item   string
	Chosen string
	Right  string
}

// Rich renders one of the question's texts in its format: Markdown for imported questions, plain text otherwise.
func (v questionView) Rich(s string) template.HTML {
	if v.Format == course.FormatMarkdown {
		return course.RenderMarkdown(s)
	}
	return template.HTML(template.HTMLEscapeString(s)) //nolint:gosec // escaped just above
}

func questionViews(qs course.QuizSettings, answers course.Answers, marks map[string]float64) []questionView {
	out := make([]questionView, len(qs.Questions))
	for i, q := range qs.Questions {
		given := answers[q.ID]
		v := questionView{Question: q, ID: q.ID, Type: q.Type, Name: q.Name, Text: q.Text, Points: q.Points,
			GeneralFeedback: q.GeneralFeedback, Number: i + 1, Multiple: q.IsMultiple(), Fraction: q.Fraction(given), Options: q.AnswerOptions()}
		chosen := map[string]bool{}
		for _, g := range given {
			chosen[g] = true
		}
		for j, c := range q.Choices {
			v.Choices = append(v.Choices, choiceView{Index: j, Text: c.Text, Checked: chosen[strconv.Itoa(j)], Correct: q.ChoiceFraction(j) > 0})
		}
		for j, p := range q.Items() {
			m := matchView{Index: j, Item: p.Item, Right: p.Answer}
			if j < len(given) {
				m.Chosen = given[j]
			}
			v.Items = append(v.Items, m)
		}
		if len(given) > 0 {
			v.Given = given[0]
		}
		if answers != nil {
			for _, f := range q.Feedback(given) {
				v.Feedback = append(v.Feedback, v.Rich(f))
			}
		}
		if q.ManuallyGraded() {
			v.Mark, v.HasMark = marks[q.ID]
			if v.HasMark && q.Points > 0 {
				v.Fraction = v.Mark / q.Points
			}
		}
		out[i] = v
	}
	return out
}

// shuffleViews puts each question's choices and matching answers in an order of their own for this student and
// attempt number: the same on every reload of the form (so a reload does not reshuffle), another for the next
// attempt. The choices keep their indexes, so grading does not change.
func shuffleViews(vs []questionView, userID int64, attempt int) {
	for i := range vs {
		h := fnv.New64a()
		fmt.Fprintf(h, "%d/%d/%s", userID, attempt, vs[i].ID)
		rng := rand.New(rand.NewPCG(h.Sum64(), uint64(attempt)))
		rng.Shuffle(len(vs[i].Choices), func(a, b int) { vs[i].Choices[a], vs[i].Choices[b] = vs[i].Choices[b], vs[i].Choices[a] })
		vs[i].Options = append([]string(nil), vs[i].Options...)
		rng.Shuffle(len(vs[i].Options), func(a, b int) { vs[i].Options[a], vs[i].Options[b] = vs[i].Options[b], vs[i].Options[a] })
	}
}

type activityPage struct {
	Page
	fmtHelpers
	Course   course.Course
	Activity course.Activity
	Access   course.Access
	Body     template.HTML
	// Quiz
	Questions    []questionView // the form, or the teacher's preview
	Attempts     []course.Attempt
	LastResult   []questionView
	AttemptsLeft int       // -1: no limit
	Deadline     time.Time // when a timed attempt must be sent; zero without a time limit
	// Assignment and grades
	Submission  *course.Submission
	Grade       *course.Grade
	PastDue     bool
	Late        bool // past the due date, before the cut-off
	Submissions []course.SubmissionRow
	sentNotes   // "sent to <platform> at <time>" beside each grade (grade_delivery.go)
	// The teachers' submissions list, one page of students (course_submissions_list.go).
	SubFilter course.StudentFilter
	SubPager  pager
	SubBack   string // the list's query string, carried by the grade forms back to this page
}

// CanAttempt reports whether the student may submit another attempt.
func (p *activityPage) CanAttempt() bool { return p.Access.IsStudent() && p.AttemptsLeft != 0 }

func (s *Server) activityView(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	u := currentUser(r)
	ctx := r.Context()
	a, c, acc, err := s.cfg.Courses.Activity(ctx, u, id)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	p := &activityPage{Page: Page{Title: a.Name, Embedded: isEmbedded(r)}, Course: c, Activity: a, Access: acc, AttemptsLeft: -1}
	switch a.Type {
	case course.TypePage:
		p.Body = course.RenderMarkdown(a.Body)
		if err := s.cfg.Courses.ViewPage(ctx, u, a, acc); err != nil {
			s.fail(w, r, err)
			return
		}
	case course.TypeQuiz:
		p.Questions = questionViews(a.Quiz, nil, nil)
		if acc.IsStudent() {
			if p.Attempts, err = s.cfg.Courses.Attempts(ctx, u, a.ID); err != nil {
				s.fail(w, r, err)
				return
			}
			if n := len(p.Attempts); n > 0 {
				p.LastResult = questionViews(a.Quiz, p.Attempts[n-1].Answers, p.Attempts[n-1].Marks)
			}
			if a.Quiz.AttemptsAllowed > 0 {
				p.AttemptsLeft = max(0, a.Quiz.AttemptsAllowed-len(p.Attempts))
			}
			if a.Quiz.ShuffleAnswers {
				shuffleViews(p.Questions, u.ID, len(p.Attempts)+1)
			}
			if p.CanAttempt() {
				if p.Deadline, err = s.cfg.Courses.StartQuiz(ctx, u, a, len(p.Attempts)); err != nil {
					s.fail(w, r, err)
					return
				}
			}
		}
	case course.TypeAssignment:
		closes := a.ClosesAt()
		p.PastDue = !closes.IsZero() && s.now().After(closes)
		p.Late = a.Late(s.now()) && !p.PastDue
		if acc.IsStudent() {
			if sub, err := s.cfg.Courses.SubmissionOf(ctx, u, a.ID); err == nil {
				p.Submission = &sub
			} else if !errors.Is(err, course.ErrNotFound) {
				s.fail(w, r, err)
				return
			}
		}
		if acc.Edit && !s.submissionsList(w, r, p) {
			return
		}
	}
	if a.Graded() && acc.IsStudent() {
		if p.Grade, err = s.cfg.Courses.MyGrade(ctx, u, a); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "course_activity", p)
}

func (s *Server) quizSubmit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, &Problem{Title: s.t(r, "form.unreadable.title"), Cause: err.Error(), Fix: s.t(r, "form.unreadable.fix"), Err: err})
		return
	}
	answers := course.Answers{}
	for k, v := range r.PostForm {
		if qid, ok := strings.CutPrefix(k, "q_"); ok {
			answers[qid] = v
		}
	}
	at, err := s.cfg.Courses.SubmitQuiz(r.Context(), currentUser(r), id, answers)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	if at.TimedOut {
		s.flash(r, s.t(r, "quiz.flash.late", "Number", at.Number, "Score", course.FormatNumber(at.Score), "Max", course.FormatNumber(at.MaxGrade)))
	} else {
		s.flash(r, s.t(r, "quiz.flash.submitted", "Number", at.Number, "Score", course.FormatNumber(at.Score), "Max", course.FormatNumber(at.MaxGrade)))
	}
	http.Redirect(w, r, fmt.Sprintf("/activities/%d", id), http.StatusSeeOther)
}

func (s *Server) assignmentSubmit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	in, problem := readSubmission(w, r)
	if problem != nil {
		s.courseFail(w, r, problem)
		return
	}
	if _, err := s.cfg.Courses.SubmitWork(r.Context(), currentUser(r), id, in); err != nil {
		s.courseFail(w, r, err)
		return
	}
	s.flash(r, s.t(r, "assignment.flash.saved"))
	http.Redirect(w, r, fmt.Sprintf("/activities/%d", id), http.StatusSeeOther)
}

func (s *Server) gradeSubmit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	uid, ok := s.pathID(w, r, "uid")
	if !ok {
		return
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("grade")), 64)
	if err != nil {
		s.courseFail(w, r, &course.ValidationError{Field: "grade", Message: "must be a number", Code: "number"})
		return
	}
	if _, err := s.cfg.Courses.GradeSubmission(r.Context(), currentUser(r), id, uid, v, r.PostFormValue("feedback")); err != nil {
		s.courseFail(w, r, err)
		return
	}
	s.flash(r, s.t(r, "activity.flash.grade_saved"))
	if r.PostFormValue("return") == "attempts" { // the override form of the attempts page
		http.Redirect(w, r, attemptsBack(id, r.PostFormValue("back")), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, submissionsBack(id, r.PostFormValue("back")), http.StatusSeeOther)
}

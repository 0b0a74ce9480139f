package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/course"
)

// attemptsPage is the teachers' view of every learner's attempts at a quiz.
type attemptsPage struct {
	Page
	fmtHelpers
	Activity course.Activity
	Rows     []attemptsRow
}

type attemptsRow struct {
	course.AttemptRow
	Attempts []attemptView
}

type attemptView struct {
	course.Attempt
	Questions []questionView
}

func (s *Server) quizAttempts(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	act, rows, err := s.cfg.Courses.QuizAttempts(r.Context(), currentUser(r), id)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	p := &attemptsPage{Page: Page{Title: s.t(r, "attempts.page_title", "Name", act.Name), Embedded: isEmbedded(r)}, Activity: act}
	for _, row := range rows {
		v := attemptsRow{AttemptRow: row}
		for _, a := range row.Attempts {
			v.Attempts = append(v.Attempts, attemptView{Attempt: a, Questions: questionViews(act.Quiz, a.Answers, a.Marks)})
		}
		p.Rows = append(p.Rows, v)
	}
	s.render(w, r, http.StatusOK, "course_attempts", p)
}

// attemptMark saves a teacher's marks of an attempt's essay answers (fields mark_QUESTIONID).
func (s *Server) attemptMark(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	uid, ok := s.pathID(w, r, "uid")
	if !ok {
		return
	}
	n, ok := s.pathID(w, r, "n")
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, &Problem{Title: "The form could not be read", Cause: err.Error(), Fix: "Send it again.", Err: err})
		return
	}
	marks := map[string]float64{}
	for k := range r.PostForm {
		qid, ok := strings.CutPrefix(k, "mark_")
		if !ok || strings.TrimSpace(r.PostFormValue(k)) == "" {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue(k)), 64)
		if err != nil {
			s.courseFail(w, r, &course.ValidationError{Field: "marks." + qid, Message: "must be a number", Code: "number"})
			return
		}
		marks[qid] = v
	}
	g, err := s.cfg.Courses.MarkAttempt(r.Context(), currentUser(r), id, uid, int(n), marks)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	key := "attempts.flash.marked"
	if g.Pending {
		key = "attempts.flash.marked_pending"
	}
	num := fmtHelpers{tr: s.printer(r)}.Num
	s.flash(r, s.t(r, key, "Grade", num(g.Grade), "Max", num(g.MaxGrade)))
	http.Redirect(w, r, fmt.Sprintf("/activities/%d/attempts", id), http.StatusSeeOther)
}

func (s *Server) quizRegrade(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	res, err := s.cfg.Courses.Regrade(r.Context(), currentUser(r), id)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	s.flash(r, s.t(r, "attempts.flash.regraded", "Attempts", s.t(r, "attempts.count.attempts", "Count", res.Attempts),
		"Grades", s.t(r, "attempts.count.grades", "Count", res.Grades)))
	http.Redirect(w, r, fmt.Sprintf("/activities/%d/attempts", id), http.StatusSeeOther)
}

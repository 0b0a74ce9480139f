package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/course"
)

// attemptsPage is the teachers' view of the learners' attempts at a quiz: one page of students at a time, found
// by name and by where their attempts stand (as the submissions list of an assignment is), so that a course of
// 50,000 answers with one page of them.
type attemptsPage struct {
	Page
	fmtHelpers
	Activity course.Activity
	Rows     []attemptsRow
	Filter   course.StudentFilter
	Pager    pager
	Back     string // the list's query string, carried by the mark, override and regrade forms back to this page
}

type attemptsRow struct {
	course.AttemptRow
	Attempts []attemptView
}

type attemptView struct {
	course.Attempt
	Questions []questionView
}

// States are the states the list's menu offers.
func (*attemptsPage) States() []course.SubmissionState { return course.AttemptStates }

func (s *Server) quizAttempts(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	q := r.URL.Query()
	req, err := readPage(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	state := course.SubmissionState(strings.TrimSpace(q.Get("state")))
	if !state.ValidAttemptState() {
		s.fail(w, r, badFilter("state", string(state), "one of attempted, not_attempted, needs_marking or finished"))
		return
	}
	f := course.StudentFilter{Query: strings.TrimSpace(q.Get("q")), State: state, Offset: req.Offset(), Limit: req.Size}
	act, rows, total, err := s.cfg.Courses.AttemptsPage(r.Context(), currentUser(r), id, f)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	path := fmt.Sprintf("/activities/%d/attempts", id)
	p := &attemptsPage{Page: Page{Title: s.t(r, "attempts.page_title", "Name", act.Name), Embedded: isEmbedded(r)}, Activity: act,
		Filter: f, Back: attemptsQuery(r.URL.RawQuery).Encode(),
		Pager: newPager(path, q, req, total, len(rows), s.t(r, "attempts.list.noun"), f.Filtered())}
	for _, row := range rows {
		v := attemptsRow{AttemptRow: row}
		for _, a := range row.Attempts {
			v.Attempts = append(v.Attempts, attemptView{Attempt: a, Questions: questionViews(act.Quiz, a.Answers, a.Marks)})
		}
		p.Rows = append(p.Rows, v)
	}
	s.render(w, r, http.StatusOK, "course_attempts", p)
}

// attemptsQuery keeps, of a query string, the attempts list's own filters and page (re-encoded, so that nothing
// else comes through them).
func attemptsQuery(raw string) url.Values { return listQuery(raw, "q", "state", "page", "size") }

// attemptsBack is the attempts page to return to after a mark, an override or a regrade: with the list's filters
// and page that the form carried in back.
func attemptsBack(activityID int64, back string) string {
	return listBack(fmt.Sprintf("/activities/%d/attempts", activityID), back, "q", "state", "page", "size")
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
		s.fail(w, r, &Problem{Title: s.t(r, "form.unreadable.title"), Cause: err.Error(), Fix: s.t(r, "form.unreadable.fix"), Err: err})
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
	http.Redirect(w, r, attemptsBack(id, r.PostFormValue("back")), http.StatusSeeOther)
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
	http.Redirect(w, r, attemptsBack(id, r.PostFormValue("back")), http.StatusSeeOther)
}

package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/course"
)

// The page of a submission review (LtiSubmissionReviewRequest): one learner's attempts at a quiz, or their
// submission to an assignment, for the teacher who opened it from the platform's gradebook. A session a review
// launched reaches this page only (and the learner's files); the launch flow is internal/launch.

func (s *Server) reviewRoutes(app *http.ServeMux) {
	app.Handle("GET /review/{aid}/{uid}", s.requireUser(http.HandlerFunc(s.reviewPage)))
}

// reviewPath reads /review/<activity>/<learner>.
func reviewPath(p string) (aid, uid int64, ok bool) {
	parts := strings.Split(strings.TrimPrefix(p, "/review/"), "/")
	if len(parts) != 2 {
		return 0, 0, false
	}
	a, err1 := strconv.ParseInt(parts[0], 10, 64)
	u, err2 := strconv.ParseInt(parts[1], 10, 64)
	return a, u, err1 == nil && err2 == nil
}

type reviewPage struct {
	Page
	fmtHelpers
	Activity course.Activity
	// Known is false when the learner has no account here (never launched the activity): nothing to review.
	Known      bool
	Student    course.Enrolment
	Grade      *course.Grade
	Attempts   []attemptView
	Submission *course.Submission
}

func (s *Server) reviewPage(w http.ResponseWriter, r *http.Request) {
	aid, uid, ok := reviewPath(r.URL.Path)
	if !ok || aid <= 0 || uid < 0 {
		s.notFound(w, r)
		return
	}
	u := currentUser(r)
	act, _, _, err := s.cfg.Courses.Activity(r.Context(), u, aid)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	tr := s.printer(r)
	p := &reviewPage{Page: Page{Title: tr.T("people.review.page_title", "Name", act.Name), Embedded: isEmbedded(r), tr: tr}, Activity: act}
	switch act.Type {
	case course.TypeQuiz:
		// One learner's attempts, read alone: the review costs the same in a course of 50,000.
		row, err := s.cfg.Courses.AttemptRowOf(r.Context(), u, aid, uid)
		switch {
		case err == nil && uid != 0:
			p.Known, p.Student, p.Grade = true, row.Student, row.Grade
			for _, a := range row.Attempts {
				p.Attempts = append(p.Attempts, attemptView{Attempt: a, Questions: questionViews(act.Quiz, a.Answers, a.Marks)})
			}
		case err != nil && !errors.Is(err, course.ErrNotFound):
			s.courseFail(w, r, err)
			return
		}
	case course.TypeAssignment:
		// One learner's row, read alone: the review costs the same in a course of 50,000.
		row, err := s.cfg.Courses.SubmissionRowOf(r.Context(), u, aid, uid)
		switch {
		case err == nil && uid != 0:
			p.Known, p.Student, p.Grade, p.Submission = true, row.Student, row.Grade, row.Submission
		case err != nil && !errors.Is(err, course.ErrNotFound):
			s.courseFail(w, r, err)
			return
		}
	default:
		s.fail(w, r, &Problem{Status: http.StatusBadRequest, Code: "review_not_graded", Title: tr.T("people.problem.review_not_graded.title"),
			Cause: tr.T("people.problem.review_not_graded.cause", "Name", act.Name),
			Fix:   tr.T("people.problem.review_not_graded.fix")})
		return
	}
	s.render(w, r, http.StatusOK, "lti_review", p)
}

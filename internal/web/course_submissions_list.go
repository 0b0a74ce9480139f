package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/ltipub/ltipub/internal/course"
)

// The submissions list of an assignment's page, for its teachers: one page of students at a time (paging.go),
// found by name and by where their work stands, each with their submission and a grade form. A course of 50,000
// students answers with one page of them, as the grader report does.

// SubStates are the states the list's menu offers.
func (*activityPage) SubStates() []course.SubmissionState { return course.SubmissionStates }

// submissionsList fills p's submissions list from the request's query; false when it has answered with an error.
func (s *Server) submissionsList(w http.ResponseWriter, r *http.Request, p *activityPage) bool {
	q := r.URL.Query()
	req, err := readPage(q)
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	state := course.SubmissionState(strings.TrimSpace(q.Get("state")))
	if !state.Valid() {
		s.fail(w, r, badFilter("state", string(state), "one of submitted, not_submitted, needs_grading or graded"))
		return false
	}
	f := course.StudentFilter{Query: strings.TrimSpace(q.Get("q")), State: state, Offset: req.Offset(), Limit: req.Size}
	rows, total, err := s.cfg.Courses.SubmissionsPage(r.Context(), currentUser(r), p.Activity.ID, f)
	if err != nil {
		s.courseFail(w, r, err)
		return false
	}
	users := make([]int64, len(rows))
	for i, row := range rows {
		users[i] = row.Student.UserID
	}
	if p.sentNotes, err = s.sentNotes(r.Context(), p.Course.ID, users); err != nil {
		s.fail(w, r, err)
		return false
	}
	p.Submissions, p.SubFilter, p.SubBack = rows, f, r.URL.RawQuery
	p.SubPager = newPager(fmt.Sprintf("/activities/%d", p.Activity.ID), q, req, total, len(rows), s.t(r, "submissions.noun"), f.Filtered())
	return true
}

// submissionsBack is the assignment's page to return to after a grade is saved: with the list's own filters and
// page back (re-encoded, so that nothing else comes through them).
func submissionsBack(activityID int64, back string) string {
	return listBack(fmt.Sprintf("/activities/%d", activityID), back, "q", "state", "page", "size")
}

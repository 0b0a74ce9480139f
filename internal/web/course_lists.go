package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/course"
)

// The course's enrolments and grader report, paged in the database (paging.go): a course of 50,000 members
// answers with one page of them.

type enrolmentsPage struct {
	Page
	fmtHelpers
	Course     course.Course
	Enrolments []course.Enrolment
	Filter     course.EnrolmentFilter
	Pager      pager
	// Back is the list's query string, carried by the edit and bulk forms so that they come back to this page.
	Back string
}

// BulkActions are the choices of the enrolments page's bulk menu, as ParseBulk reads them, with their message.
func (enrolmentsPage) BulkActions() []struct{ Value, Key string } {
	return []struct{ Value, Key string }{{"suspend", "people.bulk.action.suspend"}, {"reactivate", "people.bulk.action.reactivate"},
		{"role:student", "people.bulk.action.role_student"}, {"role:teacher", "people.bulk.action.role_teacher"}, {"unenrol", "people.bulk.action.unenrol"}}
}

func enrolmentFilter(q url.Values, req pageReq) course.EnrolmentFilter {
	return course.EnrolmentFilter{Query: strings.TrimSpace(q.Get("q")), Role: course.Role(q.Get("role")),
		Status: course.Status(q.Get("status")), Method: course.Method(q.Get("method")), Offset: req.Offset(), Limit: req.Size}
}

func (s *Server) enrolmentsPage(w http.ResponseWriter, r *http.Request) {
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
	u := currentUser(r)
	f := enrolmentFilter(q, req)
	es, total, err := s.cfg.Courses.EnrolmentsPage(r.Context(), u, id, f)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	c, _, _ := s.cfg.Courses.Course(r.Context(), u, id)
	path := fmt.Sprintf("/courses/%d/enrolments", id)
	s.render(w, r, http.StatusOK, "course_enrolments", &enrolmentsPage{Page: Page{Title: s.t(r, "course.enrolments") + " · " + c.FullName, Embedded: isEmbedded(r)},
		Course: c, Enrolments: es, Filter: f, Pager: newPager(path, q, req, total, len(es), s.t(r, "people.pager.enrolments"), f.Filtered()),
		Back: r.URL.RawQuery})
}

// enrolmentsBack is the enrolments list to return to: the list with the query string back (re-encoded, so that
// nothing but the list's own parameters can come through it).
func enrolmentsBack(courseID int64, back string) string {
	return listBack(fmt.Sprintf("/courses/%d/enrolments", courseID), back, "q", "role", "status", "method", "page", "size")
}

type enrolmentEditPage struct {
	Page
	fmtHelpers
	Course    course.Course
	Enrolment course.Enrolment
	Back      string
	BackURL   string
	// ConfirmRemove opens the removal's confirmation (a removal posted without confirm=yes comes back to it).
	ConfirmRemove bool
}

// enrolmentEditForm is one enrolment's own page: its role, status and window, and removing it.
func (s *Server) enrolmentEditForm(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	eid, ok := s.pathID(w, r, "eid")
	if !ok {
		return
	}
	s.enrolmentPage(w, r, id, eid, r.URL.Query().Get("back"), false)
}

func (s *Server) enrolmentPage(w http.ResponseWriter, r *http.Request, id, eid int64, back string, confirm bool) {
	u := currentUser(r)
	e, err := s.cfg.Courses.Enrolment(r.Context(), u, id, eid)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	c, _, _ := s.cfg.Courses.Course(r.Context(), u, id)
	s.render(w, r, http.StatusOK, "course_enrolment", &enrolmentEditPage{Page: Page{Title: s.t(r, "people.enrolment.title", "Name", e.DisplayName()), Embedded: isEmbedded(r)},
		Course: c, Enrolment: e, Back: back, BackURL: enrolmentsBack(id, back), ConfirmRemove: confirm})
}

type enrolmentsBulkPage struct {
	Page
	Course course.Course
	Change course.BulkChange
	// ChangeLabel says what Change does, in the page's language ("suspend").
	ChangeLabel string
	Action      string
	Selected    []course.Enrolment
	Back        string
	BackURL     string
	Error       string
}

// enrolmentsBulk applies one action to the enrolments ticked on the list: the first POST shows what would change
// and asks to confirm; the second (confirm=yes) changes them all in one transaction and goes back to the list.
func (s *Server) enrolmentsBulk(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, &Problem{Status: http.StatusBadRequest, Title: s.t(r, "people.problem.form.title"), Cause: err.Error(),
			Fix: s.t(r, "people.problem.form.fix"), Err: err})
		return
	}
	u := currentUser(r)
	back := r.PostFormValue("back")
	backURL := enrolmentsBack(id, back)
	var ids []int64
	for _, v := range r.PostForm["id"] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			s.courseFail(w, r, &course.ValidationError{Field: "selection", Message: fmt.Sprintf("holds %q, which is not an enrolment", v), Code: "bulk.selection_bad", Args: map[string]any{"Value": v}})
			return
		}
		ids = append(ids, n)
	}
	ch, err := course.ParseBulk(r.PostFormValue("action"))
	if err == nil && len(ids) == 0 {
		err = &course.ValidationError{Field: "selection", Message: "is empty: tick the enrolments to change first", Code: "bulk.selection_empty"}
	}
	if err == nil && len(ids) > course.MaxBulk {
		err = &course.ValidationError{Field: "selection", Message: fmt.Sprintf("holds %d enrolments, more than the %d one action changes", len(ids), course.MaxBulk),
			Code: "bulk.selection_too_many", Args: map[string]any{"Count": len(ids), "Max": course.MaxBulk}}
	}
	c, _, cerr := s.cfg.Courses.Course(r.Context(), u, id)
	if cerr != nil {
		s.courseFail(w, r, cerr)
		return
	}
	tr := s.printer(r)
	page := &enrolmentsBulkPage{Page: Page{Title: tr.T("people.bulk.page_title") + " · " + c.FullName, Embedded: isEmbedded(r), tr: tr}, Course: c,
		Change: ch, ChangeLabel: bulkChangeLabel(tr, ch), Action: r.PostFormValue("action"), Back: back, BackURL: backURL}
	if err != nil {
		page.Error = s.formError(r, err)
		s.render(w, r, http.StatusBadRequest, "course_enrolments_bulk", page)
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		// What would change: the selected enrolments of this course, read through the teacher's own view.
		for _, eid := range ids {
			e, err := s.cfg.Courses.Enrolment(r.Context(), u, id, eid)
			if err != nil {
				s.courseFail(w, r, err)
				return
			}
			page.Selected = append(page.Selected, e)
		}
		s.render(w, r, http.StatusOK, "course_enrolments_bulk", page)
		return
	}
	changed, err := s.cfg.Courses.BulkEnrolments(r.Context(), u, id, ids, ch)
	if msg := s.formError(r, err); msg != "" {
		page.Error = msg
		s.render(w, r, http.StatusBadRequest, "course_enrolments_bulk", page)
		return
	}
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "enrolments changed in bulk", slog.Int64("course_id", id), slog.String("action", page.Action),
		slog.Int("enrolments", len(changed)), slog.Int64("user_id", u.ID))
	s.flash(r, tr.T("people.bulk.flash.done", "Action", page.ChangeLabel, "Count", len(changed)))
	http.Redirect(w, r, backURL, http.StatusSeeOther)
}

type graderPage struct {
	Page
	fmtHelpers
	sentNotes // "sent to <platform> at <time>" beside each grade (grade_delivery.go)
	Report    course.Report
	Query     string
	Pager     pager
	// Charts are the grade distributions (charts.go).
	Charts *chartPanel
}

// graderReport is the gradebook, one page of students at a time.
func (s *Server) graderReport(w http.ResponseWriter, r *http.Request) {
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
	f := course.StudentFilter{Query: strings.TrimSpace(q.Get("q")), Offset: req.Offset(), Limit: req.Size}
	rep, total, err := s.cfg.Courses.GraderReportPage(r.Context(), currentUser(r), id, f)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	users := make([]int64, len(rep.Rows))
	for i, row := range rep.Rows {
		users[i] = row.Student.UserID
	}
	notes, err := s.sentNotes(r.Context(), rep.Course.ID, users)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	charts, err := s.gradeCharts(r.Context(), s.printer(r), rep)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "course_grades", &graderPage{Page: Page{Title: s.t(r, "course.grader_report") + " · " + rep.Course.FullName,
		Embedded: isEmbedded(r)}, Report: rep, sentNotes: notes, Query: f.Query, Charts: charts,
		Pager: newPager(fmt.Sprintf("/courses/%d/grades", id), q, req, total, len(rep.Rows), s.t(r, "people.pager.students"), f.Query != "")})
}

// graderReportCSV streams the whole gradebook: rows go out as they are read.
func (s *Server) graderReportCSV(w http.ResponseWriter, r *http.Request) {
	c, ok := s.editableCourse(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="grades-%s.csv"`, safeFileName(c.ShortName)))
	if err := s.cfg.Courses.WriteGraderCSV(r.Context(), currentUser(r), c.ID, w); err != nil {
		// The status line has gone: the download ends early, and the log says why.
		s.log.ErrorContext(r.Context(), "write grades CSV", slog.Int64("course_id", c.ID), slog.Any("error", err))
	}
}

package web

import (
	"net/http"

	"github.com/ltipub/ltipub/internal/course"
)

type homePage struct {
	Page
	Courses   []course.CourseEntry
	CanCreate bool
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if currentUser(r) == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	courses, err := s.cfg.Courses.Courses(r.Context(), currentUser(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "home", &homePage{Page: Page{Title: s.t(r, "layout.dashboard")}, Courses: courses,
		CanCreate: course.CanCreate(currentUser(r))})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.renderProblem(w, r, &Problem{Status: http.StatusNotFound, Code: "not_found", Title: "Page not found",
		Cause: "There is no page at " + r.URL.Path + ".", Fix: "Check the address, or go back to the dashboard."})
}

func (s *Server) ltiNotFound(w http.ResponseWriter, r *http.Request) {
	s.renderProblem(w, r, &Problem{Status: http.StatusNotFound, Code: "not_found", Title: "Unknown LTI endpoint",
		Cause: "There is no LTI endpoint at " + r.URL.Path + ".",
		Fix:   "Copy the URLs again from the registration's Tool details page; they may have changed."})
}

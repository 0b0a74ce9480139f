package web

import (
	"fmt"
	"net/http"

	"github.com/ltipub/ltipub/internal/course"
)

type activityDeletePage struct {
	Page
	Activity   course.Activity
	Dependents course.Dependents
}

// activityDeleteForm shows what depends on an activity before it is deleted, and refuses while it is published.
func (s *Server) activityDeleteForm(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	a, d, err := s.cfg.Courses.ActivityDependents(r.Context(), currentUser(r), id)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "course_activity_delete", &activityDeletePage{
		Page: Page{Title: s.t(r, "activity_delete.confirm", "Name", a.Name), Embedded: isEmbedded(r)}, Activity: a, Dependents: d})
}

func (s *Server) activityDeleteSubmit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		http.Redirect(w, r, fmt.Sprintf("/activities/%d/delete", id), http.StatusSeeOther)
		return
	}
	a, err := s.cfg.Courses.DeleteActivity(r.Context(), currentUser(r), id)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	s.flash(r, s.t(r, "activity_delete.flash.deleted", "Name", a.Name))
	http.Redirect(w, r, fmt.Sprintf("/courses/%d", a.CourseID), http.StatusSeeOther)
}

func (s *Server) activityVisibility(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	a, err := s.cfg.Courses.SetActivityVisible(r.Context(), currentUser(r), id, r.PostFormValue("visible") == "true")
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	if a.Visible {
		s.flash(r, s.t(r, "course.flash.shown", "Name", a.Name))
	} else {
		s.flash(r, s.t(r, "course.flash.hidden", "Name", a.Name))
	}
	http.Redirect(w, r, fmt.Sprintf("/courses/%d", a.CourseID), http.StatusSeeOther)
}

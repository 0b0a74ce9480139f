package web

import (
	"fmt"
	"net/http"
	"regexp"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/course/moodle"
)

var unsafeFileName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// questionsExport sends a quiz's questions as GIFT or Moodle XML, for the quiz's teachers.
func (s *Server) questionsExport(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.pathID(w, r, "id")
		if !ok {
			return
		}
		a, _, acc, err := s.cfg.Courses.Activity(r.Context(), currentUser(r), id)
		if err != nil {
			s.courseFail(w, r, err)
			return
		}
		if !acc.Edit {
			s.courseFail(w, r, course.ErrForbidden)
			return
		}
		if a.Type != course.TypeQuiz {
			s.courseFail(w, r, course.ErrWrongType)
			return
		}
		name := unsafeFileName.ReplaceAllString(a.Name, "-")
		var body []byte
		if format == "gift" {
			body = moodle.WriteGIFT(a.Name, a.Quiz.Questions)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			name += ".gift.txt"
		} else {
			if body, err = moodle.WriteXML(a.Name, a.Quiz.Questions); err != nil {
				s.fail(w, r, err)
				return
			}
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			name += ".xml"
		}
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
		_, _ = w.Write(body)
	}
}

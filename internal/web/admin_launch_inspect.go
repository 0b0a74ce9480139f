package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/store"
)

// inspectorRoutes registers the launch inspector: one launch log row explained. Admins only: it shows the
// personal data the launch carried.
func (s *Server) inspectorRoutes(app *http.ServeMux) {
	app.Handle("GET /admin/launches/{id}", s.requireAdmin(http.HandlerFunc(s.launchInspect)))
}

type launchInspectPage struct {
	Page
	fmtHelpers
	launch.Inspection
	Registration string
	Headers      [][2]string
	Claims       [][2]string
}

var errNoLaunch = &Problem{Status: http.StatusNotFound, Code: "launch_not_found", Title: "No such launch",
	Cause: "There is no launch log row at this address.", Fix: "Go back to the launch log and pick one from the list."}

func (s *Server) launchInspect(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.renderProblem(w, r, errNoLaunch)
		return
	}
	e, err := s.cfg.Launches.LaunchEntry(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.renderProblem(w, r, errNoLaunch)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := &launchInspectPage{Page: Page{Title: "Launch " + strconv.FormatInt(id, 10), Embedded: isEmbedded(r)}, Inspection: launch.Inspect(e),
		Headers: e.Detail.HeaderRows(), Claims: e.Detail.ClaimRows()}
	if e.RegistrationID != 0 {
		if reg, err := s.cfg.Platforms.Get(r.Context(), e.RegistrationID); err == nil {
			p.Registration = reg.Name
		} else {
			p.Registration = "deleted registration " + strconv.FormatInt(e.RegistrationID, 10)
		}
	}
	s.render(w, r, http.StatusOK, "admin_launch", p)
}

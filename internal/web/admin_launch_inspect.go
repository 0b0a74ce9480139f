package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/i18n"
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
	// RefusalFix is what the refused person was told to do (problem.<code>.fix), when the catalog says it.
	RefusalFix string
}

// Step names a validation step in the page's language.
func (p *launchInspectPage) Step(name string) string {
	if k, ok := inspectStepKeys[name]; ok {
		return p.Page.T(k)
	}
	return name
}

var errNoLaunch = &Problem{Status: http.StatusNotFound, Code: "launch_not_found", Title: "No such launch",
	Cause: "There is no launch log row at this address.", Fix: "Go back to the launch log and pick one from the list.",
	Localize: func(tr *i18n.Printer) (string, string, string) {
		return tr.T("ops.inspect.not_found.title"), tr.T("ops.inspect.not_found.cause"), tr.T("ops.inspect.not_found.fix")
	}}

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
	tr := s.printer(r)
	p := &launchInspectPage{Page: Page{Title: tr.T("ops.inspect.crumb", "ID", id), Embedded: isEmbedded(r)},
		Inspection: localizeInspection(tr, launch.Inspect(e)), Headers: e.Detail.HeaderRows(), Claims: e.Detail.ClaimRows()}
	if e.Outcome == launch.Refused && e.Code != "" && tr.Has("problem."+e.Code+".fix") {
		if fix := tr.T("problem." + e.Code + ".fix"); !strings.Contains(fix, "<no value>") {
			p.RefusalFix = fix
		}
	}
	if e.RegistrationID != 0 {
		if reg, err := s.cfg.Platforms.Get(r.Context(), e.RegistrationID); err == nil {
			p.Registration = reg.Name
		} else {
			p.Registration = tr.T("ops.launches.deleted_registration", "ID", e.RegistrationID)
		}
	}
	s.render(w, r, http.StatusOK, "admin_launch", p)
}

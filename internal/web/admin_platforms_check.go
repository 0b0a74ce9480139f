package web

import (
	"errors"
	"net/http"

	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/internal/tool"
)

// checkRoutes registers "Check this registration": the page with the last check, and the button that runs one.
func (s *Server) checkRoutes(app *http.ServeMux) {
	app.Handle("GET /admin/platforms/{id}/check", s.requireAdmin(http.HandlerFunc(s.platformCheckPage)))
	app.Handle("POST /admin/platforms/{id}/check", s.requireAdmin(http.HandlerFunc(s.platformCheckRun)))
}

type checkPage struct {
	platformPage
	Report *tool.CheckReport
}

func (s *Server) platformCheckPage(w http.ResponseWriter, r *http.Request) {
	reg, ok := s.loadPlatform(w, r)
	if !ok {
		return
	}
	p := &checkPage{platformPage: platformPage{Page: Page{Title: s.t(r, "platforms.page_title.check", "Name", reg.Name)}, Reg: reg, Tab: "check"}}
	rep, err := s.cfg.Platforms.LatestCheck(r.Context(), reg.ID)
	switch {
	case err == nil:
		p.Report = &rep
	case !errors.Is(err, store.ErrNotFound):
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_platform_check", p)
}

// platformCheckRun runs the check (a few seconds at most: each request has its own timeout) and shows it.
func (s *Server) platformCheckRun(w http.ResponseWriter, r *http.Request) {
	reg, ok := s.loadPlatform(w, r)
	if !ok {
		return
	}
	by := ""
	if u := currentUser(r); u != nil {
		by = u.Username
	}
	rep, err := s.cfg.Platforms.Check(r.Context(), reg.ID, by)
	if err != nil {
		s.platformFail(w, r, err)
		return
	}
	if rep.Passed() {
		s.flash(r, s.t(r, "platforms.flash.check_passed"))
	} else {
		s.flash(r, s.t(r, "platforms.flash.check_failed"))
	}
	http.Redirect(w, r, platformPath(reg.ID, "check"), http.StatusSeeOther)
}

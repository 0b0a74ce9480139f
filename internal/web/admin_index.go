package web

import (
	"net/http"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/keys"
)

// adminIndexRoutes registers Site administration: the one page from which an admin reaches everything, the way
// Moodle's Site administration does.
func (s *Server) adminIndexRoutes(app *http.ServeMux) {
	app.Handle("GET /admin", s.requireAdmin(http.HandlerFunc(s.adminIndex)))
}

// adminIndexCourses is how many courses the Published resources section lists; the Dashboard lists them all.
const adminIndexCourses = 10

type adminIndexPage struct {
	Page
	fmtHelpers
	Platforms, Pending int
	Courses            []course.CourseEntry
	MoreCourses        int
	Keys               []keys.Key
	// MetricsServed: GET /metrics answers on this address (a metrics token is configured).
	MetricsServed bool
	JWKSURL       string
}

func (s *Server) adminIndex(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	regs, err := s.cfg.Platforms.List(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := &adminIndexPage{Page: Page{Title: s.t(r, "layout.site_admin")}, Platforms: len(regs),
		MetricsServed: s.cfg.Metrics != nil && s.cfg.MetricsToken != "", JWKSURL: s.cfg.BaseURL + "/lti/jwks"}
	for _, reg := range regs {
		if !reg.Active() {
			p.Pending++
		}
	}
	cs, err := s.cfg.Courses.Courses(ctx, currentUser(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(cs) > adminIndexCourses {
		p.MoreCourses = len(cs) - adminIndexCourses
		cs = cs[:adminIndexCourses]
	}
	p.Courses = cs
	if p.Keys, err = s.cfg.Keys.Keys(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_index", p)
}

// Tally prints a count the page's way (5,000; 5000 and 12.345 in Spanish).
func (f fmtHelpers) Tally(n int) string {
	if f.tr != nil && f.tr.Tag() != i18n.Source {
		return f.tr.N(n)
	}
	return thousands(n)
}

// KeyStatus names a key's status (active, previous, retired) in the page's language.
func (p *adminIndexPage) KeyStatus(status string) string {
	if k := "ops.index.key_status." + status; p.Page.tr.Has(k) {
		return p.Page.tr.T(k)
	}
	return status
}

// crumb is one step of a breadcrumb trail; the last has no URL (the page itself).
type crumb struct{ Label, URL string }

// trail is what the breadcrumb partial draws: the steps, and the name of the navigation landmark, both in the
// page's language when the trail comes from Page.AdminCrumbs.
type trail struct {
	Label  string // the landmark's accessible name ("Breadcrumb")
	Crumbs []crumb
}

// adminCrumbs is the template function for an admin page's breadcrumb trail in English: label, URL pairs after
// Site administration, the page itself last with an empty URL ({{template "breadcrumb" (admincrumbs "Users"
// "/admin/users" .Account.Username "")}}). Translated pages use {{template "breadcrumb" (.AdminCrumbs …)}}.
func adminCrumbs(pairs ...string) trail {
	return adminTrail("Breadcrumb", "Site administration", pairs)
}

// AdminCrumbs is adminCrumbs in the page's language: the trail's first step and its landmark name come from the
// catalog, the labels the template gives are its own ({{template "breadcrumb" (.AdminCrumbs (.T "ops.sync.title"))}}).
func (p *Page) AdminCrumbs(pairs ...string) trail {
	return adminTrail(p.T("layout.breadcrumb"), p.T("layout.site_admin"), pairs)
}

func adminTrail(label, root string, pairs []string) trail {
	out := []crumb{{root, "/admin"}}
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, crumb{pairs[i], pairs[i+1]})
	}
	if len(pairs)%2 == 1 {
		out = append(out, crumb{Label: pairs[len(pairs)-1]})
	}
	return trail{Label: label, Crumbs: out}
}

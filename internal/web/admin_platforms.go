package web

import (
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/docs/platforms"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/internal/tool"
)

// sessionRegistrationURL carries a freshly made registration URL from the POST that made it to the one page view
// that shows it: only its hash is stored, so it cannot be shown again later.
const sessionRegistrationURL = "platform_registration_url"

// platformRoutes registers the admin pages for platform registrations on app, and the dynamic registration URL on
// the lti mux (cross-site, switched off with publishing).
func (s *Server) platformRoutes(app, lti *http.ServeMux) {
	admin := func(pattern string, h http.HandlerFunc) { app.Handle(pattern, s.requireAdmin(h)) }
	admin("GET /admin/platforms", s.platformList)
	admin("GET /admin/platforms/new", s.platformNewForm)
	admin("POST /admin/platforms", s.platformCreate)
	admin("GET /admin/platforms/{id}", s.platformToolDetails)
	admin("POST /admin/platforms/{id}/registration-url", s.platformNewRegistrationURL)
	admin("GET /admin/platforms/{id}/platform", s.platformDetailsForm)
	admin("POST /admin/platforms/{id}/platform", s.platformDetailsSubmit)
	admin("GET /admin/platforms/{id}/deployments", s.platformDeployments)
	admin("POST /admin/platforms/{id}/deployments", s.platformDeploymentAdd)
	admin("POST /admin/platforms/{id}/deployments/remove", s.platformDeploymentRemove)
	admin("GET /admin/platforms/{id}/delete", s.platformDeleteConfirm)
	admin("POST /admin/platforms/{id}/delete", s.platformDelete)
	lti.HandleFunc("GET /lti/register/{token}", s.ltiRegister)
	s.checkRoutes(app)
	lti.HandleFunc("GET /lti/config/canvas.json", s.canvasConfig)
}

// canvasConfig serves Canvas's JSON configuration for a developer key ("Enter URL"). It is public, like the JWKS:
// it holds only ltipub's own public URLs, and Canvas fetches it without credentials.
func (s *Server) canvasConfig(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, s.cfg.Platforms.CanvasConfiguration())
}

type platformListPage struct {
	Page
	Registrations []tool.Registration
	Filter        tool.RegistrationFilter
	Pager         pager
}

func (s *Server) platformList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, err := readPage(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := tool.RegistrationFilter{Query: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Offset: req.Offset(), Limit: req.Size}
	if f.Status != "" && f.Status != "Active" && f.Status != "Pending" {
		s.fail(w, r, badFilter("status", f.Status, "Active or Pending"))
		return
	}
	regs, total, err := s.cfg.Platforms.ListPage(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_platforms", &platformListPage{Page: Page{Title: s.t(r, "platforms.title")}, Registrations: regs, Filter: f,
		Pager: newPager("/admin/platforms", q, req, total, len(regs), s.t(r, "platforms.pager.registrations"), f.Query != "" || f.Status != "")})
}

type platformNewPage struct {
	Page
	Name  string
	Error string
}

func (s *Server) platformNewForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "admin_platform_new", &platformNewPage{Page: Page{Title: s.t(r, "platforms.new.title")}})
}

func (s *Server) platformCreate(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("name")
	reg, tok, err := s.cfg.Platforms.Create(r.Context(), name)
	var ve *tool.ValidationError
	if errors.As(err, &ve) {
		s.render(w, r, http.StatusUnprocessableEntity, "admin_platform_new", &platformNewPage{Page: Page{Title: s.t(r, "platforms.new.title")},
			Name: name, Error: s.toolFieldErrors(r, ve)["name"]})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sessions.Put(r.Context(), sessionRegistrationURL, s.cfg.Platforms.RegistrationURL(tok))
	s.flash(r, s.t(r, "platforms.flash.created", "Name", reg.Name))
	http.Redirect(w, r, platformPath(reg.ID, ""), http.StatusSeeOther)
}

func platformPath(id int64, tab string) string {
	p := "/admin/platforms/" + strconv.FormatInt(id, 10)
	if tab != "" {
		p += "/" + tab
	}
	return p
}

// platformPage is what every tab of one registration shows.
type platformPage struct {
	Page
	Reg tool.Registration
	Tab string
}

// loadPlatform reads the {id} of the path and loads the registration, answering 404 itself when there is none.
func (s *Server) loadPlatform(w http.ResponseWriter, r *http.Request) (tool.Registration, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.renderProblem(w, r, s.noRegistration(r))
		return tool.Registration{}, false
	}
	reg, err := s.cfg.Platforms.Get(r.Context(), id)
	if err != nil {
		s.platformFail(w, r, err)
		return tool.Registration{}, false
	}
	return reg, true
}

// noRegistration is the answer to an address that names no registration.
func (s *Server) noRegistration(r *http.Request) *Problem {
	return &Problem{Status: http.StatusNotFound, Code: "registration_not_found", Title: s.t(r, "platforms.not_found.title"),
		Cause: s.t(r, "platforms.not_found.cause"), Fix: s.t(r, "platforms.not_found.fix")}
}

// platformFail shows a refusal of the registration rules as a page, and anything else as fail does.
func (s *Server) platformFail(w http.ResponseWriter, r *http.Request, err error) {
	var rf *tool.Refusal
	switch {
	case errors.As(err, &rf):
		if rf.Title == "" {
			copied := *rf
			copied.Title = s.t(r, "platforms.refused")
			rf = &copied
		}
		s.fail(w, r, rf)
	case errors.Is(err, store.ErrNotFound):
		s.renderProblem(w, r, s.noRegistration(r))
	default:
		s.fail(w, r, err)
	}
}

type toolDetailsPage struct {
	platformPage
	URLs           tool.ToolURLs
	CanvasConfig   string
	PlatformGuides []platformGuide
}

// platformGuide is one platform's setup guide (docs/platforms), rendered for the tool details page.
type platformGuide struct {
	Slug, Title string
	HTML        template.HTML
	Open        bool // the guide for the platform this registration was made by, when known
}

func platformGuides(family string) []platformGuide {
	var out []platformGuide
	for _, g := range platforms.Guides() {
		out = append(out, platformGuide{Slug: g.Slug, Title: g.Title, HTML: course.RenderMarkdown(g.Markdown),
			Open: g.Slug == family || (family == "" && g.Slug == "moodle")})
	}
	return out
}

func (s *Server) platformToolDetails(w http.ResponseWriter, r *http.Request) {
	reg, ok := s.loadPlatform(w, r)
	if !ok {
		return
	}
	p := &toolDetailsPage{platformPage: platformPage{Page: Page{Title: s.t(r, "platforms.page_title.tool", "Name", reg.Name)}, Reg: reg, Tab: "tool"},
		URLs: s.cfg.Platforms.URLs(""), CanvasConfig: s.cfg.Platforms.BaseURL + "/lti/config/canvas.json",
		PlatformGuides: platformGuides(reg.ProductFamily)}
	p.URLs.Registration = s.sessions.PopString(r.Context(), sessionRegistrationURL)
	s.render(w, r, http.StatusOK, "admin_platform", p)
}

func (s *Server) platformNewRegistrationURL(w http.ResponseWriter, r *http.Request) {
	reg, ok := s.loadPlatform(w, r)
	if !ok {
		return
	}
	tok, err := s.cfg.Platforms.NewRegistrationToken(r.Context(), reg.ID)
	if err != nil {
		s.platformFail(w, r, err)
		return
	}
	s.sessions.Put(r.Context(), sessionRegistrationURL, s.cfg.Platforms.RegistrationURL(tok))
	s.flash(r, s.t(r, "platforms.flash.new_registration_url"))
	http.Redirect(w, r, platformPath(reg.ID, ""), http.StatusSeeOther)
}

type platformDetailsPage struct {
	platformPage
	Form          tool.PlatformDetails
	Errors        map[string]string
	AllowInsecure bool
}

func (s *Server) platformDetailsForm(w http.ResponseWriter, r *http.Request) {
	reg, ok := s.loadPlatform(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "admin_platform_details", &platformDetailsPage{
		platformPage: platformPage{Page: Page{Title: s.t(r, "platforms.page_title.platform", "Name", reg.Name)}, Reg: reg, Tab: "platform"},
		Form: tool.PlatformDetails{Issuer: reg.Issuer, ClientID: reg.ClientID, JWKSURL: reg.JWKSURL, TokenURL: reg.TokenURL, AuthURL: reg.AuthURL,
			TokenAudience: reg.TokenAudience},
		AllowInsecure: s.cfg.Platforms.AllowPrivateURLs})
}

func (s *Server) platformDetailsSubmit(w http.ResponseWriter, r *http.Request) {
	reg, ok := s.loadPlatform(w, r)
	if !ok {
		return
	}
	d := tool.PlatformDetails{Issuer: r.PostFormValue("issuer"), ClientID: r.PostFormValue("client_id"),
		JWKSURL: r.PostFormValue("jwks_url"), TokenURL: r.PostFormValue("token_url"), AuthURL: r.PostFormValue("auth_url"),
		TokenAudience: r.PostFormValue("token_audience")}
	_, err := s.cfg.Platforms.SetPlatformDetails(r.Context(), reg.ID, d)
	var ve *tool.ValidationError
	if errors.As(err, &ve) {
		s.render(w, r, http.StatusUnprocessableEntity, "admin_platform_details", &platformDetailsPage{
			platformPage: platformPage{Page: Page{Title: s.t(r, "platforms.page_title.platform", "Name", reg.Name)}, Reg: reg, Tab: "platform"},
			Form:         d, Errors: s.toolFieldErrors(r, ve), AllowInsecure: s.cfg.Platforms.AllowPrivateURLs})
		return
	}
	if err != nil {
		s.platformFail(w, r, err)
		return
	}
	next := platformPath(reg.ID, "deployments")
	msg := s.t(r, "platforms.flash.details_saved")
	if len(reg.Deployments) == 0 {
		msg += " " + s.t(r, "platforms.flash.details_saved_next")
	}
	s.flash(r, msg)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

type deploymentsPage struct {
	platformPage
	DeploymentID string
	Name         string
	Errors       map[string]string
}

func (s *Server) platformDeployments(w http.ResponseWriter, r *http.Request) {
	reg, ok := s.loadPlatform(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "admin_platform_deployments", &deploymentsPage{
		platformPage: platformPage{Page: Page{Title: s.t(r, "platforms.page_title.deployments", "Name", reg.Name)}, Reg: reg, Tab: "deployments"}})
}

func (s *Server) platformDeploymentAdd(w http.ResponseWriter, r *http.Request) {
	reg, ok := s.loadPlatform(w, r)
	if !ok {
		return
	}
	depID, name := r.PostFormValue("deployment_id"), r.PostFormValue("name")
	_, err := s.cfg.Platforms.AddDeployment(r.Context(), reg.ID, depID, name)
	var ve *tool.ValidationError
	if errors.As(err, &ve) {
		s.render(w, r, http.StatusUnprocessableEntity, "admin_platform_deployments", &deploymentsPage{
			platformPage: platformPage{Page: Page{Title: s.t(r, "platforms.page_title.deployments", "Name", reg.Name)}, Reg: reg, Tab: "deployments"},
			DeploymentID: depID, Name: name, Errors: s.toolFieldErrors(r, ve)})
		return
	}
	if err != nil {
		s.platformFail(w, r, err)
		return
	}
	s.flash(r, s.t(r, "platforms.flash.deployment_added", "ID", depID))
	http.Redirect(w, r, platformPath(reg.ID, "deployments"), http.StatusSeeOther)
}

type removeDeploymentPage struct {
	platformPage
	DeploymentID string
	Reason       string
}

func (s *Server) platformDeploymentRemove(w http.ResponseWriter, r *http.Request) {
	reg, ok := s.loadPlatform(w, r)
	if !ok {
		return
	}
	depID := r.PostFormValue("deployment_id")
	err := s.cfg.Platforms.RemoveDeployment(r.Context(), reg.ID, depID, r.PostFormValue("confirm") == "yes")
	if errors.Is(err, tool.ErrLastDeploymentInUse) {
		var rf *tool.Refusal
		errors.As(err, &rf)
		s.render(w, r, http.StatusConflict, "admin_platform_remove_deployment", &removeDeploymentPage{
			platformPage: platformPage{Page: Page{Title: s.t(r, "platforms.remove.title")}, Reg: reg, Tab: "deployments"},
			DeploymentID: depID, Reason: s.lastDeploymentReason(r, reg, depID, rf)})
		return
	}
	if err != nil {
		s.platformFail(w, r, err)
		return
	}
	s.flash(r, s.t(r, "platforms.flash.deployment_removed", "ID", depID))
	http.Redirect(w, r, platformPath(reg.ID, "deployments"), http.StatusSeeOther)
}

type deletePlatformPage struct {
	platformPage
	Dependents tool.Dependents
}

func (s *Server) platformDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	reg, ok := s.loadPlatform(w, r)
	if !ok {
		return
	}
	reg, deps, err := s.cfg.Platforms.Dependents(r.Context(), reg.ID)
	if err != nil {
		s.platformFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_platform_delete", &deletePlatformPage{
		platformPage: platformPage{Page: Page{Title: s.t(r, "platforms.delete.title", "Name", reg.Name)}, Reg: reg, Tab: "delete"}, Dependents: deps})
}

func (s *Server) platformDelete(w http.ResponseWriter, r *http.Request) {
	reg, ok := s.loadPlatform(w, r)
	if !ok {
		return
	}
	if err := s.cfg.Platforms.Delete(r.Context(), reg.ID); err != nil {
		s.platformFail(w, r, err)
		return
	}
	s.flash(r, s.t(r, "platforms.flash.deleted", "Name", reg.Name))
	http.Redirect(w, r, "/admin/platforms", http.StatusSeeOther)
}

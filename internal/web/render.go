package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"text/template/parse"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/logging"
	"github.com/ltipub/ltipub/internal/refusal"
	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/lti11"
)

//go:embed templates
var templateFS embed.FS

// templates holds one parsed template set per page: the layouts plus the page's own file.
type templates struct {
	pages map[string]*template.Template
}

func parseTemplates() (*templates, error) {
	funcs := template.FuncMap{
		"static":      staticURL,
		"admincrumbs": adminCrumbs,
	}
	layouts, err := fs.Glob(templateFS, "templates/layout/*.html")
	if err != nil {
		return nil, err
	}
	// Which layout file defines each shared template, and which templates each one calls.
	definedIn := map[string]string{}
	defines := map[string][]string{} // layout file -> the templates it defines
	calls := map[string][]string{}
	for _, f := range layouts {
		lt, err := template.New("").Funcs(funcs).ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("parse layout %s: %w", f, err)
		}
		for _, d := range lt.Templates() {
			if d.Tree == nil || d.Name() == "" {
				continue
			}
			definedIn[d.Name()] = f
			defines[f] = append(defines[f], d.Name())
			calls[d.Name()] = templateCalls(d.Tree.Root, calls[d.Name()])
		}
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, f := range files {
		own, err := template.New("").Funcs(funcs).ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		// A page's set holds the layout files it can reach from "layout" and "embedded" (render runs one of them)
		// and from its own templates, not all of them: html/template copies every template of the set for each
		// page, and the copies of partials a page never calls were most of the server's heap.
		need := []string{"layout", "embedded"}
		for _, d := range own.Templates() {
			if d.Tree != nil {
				need = templateCalls(d.Tree.Root, need)
			}
		}
		seen := map[string]bool{}
		var use []string
		for len(need) > 0 {
			name := need[len(need)-1]
			need = need[:len(need)-1]
			if seen[name] {
				continue
			}
			seen[name] = true
			need = append(need, calls[name]...)
			if lf, ok := definedIn[name]; ok && !slices.Contains(use, lf) {
				use = append(use, lf)
				// The file's other templates come with it: what they call must be in the set too.
				need = append(need, defines[lf]...)
			}
		}
		// In the order of the glob, as when every layout was in every set; the page's own file last, so that its
		// definitions replace the layouts' blocks.
		slices.SortFunc(use, func(a, b string) int { return slices.Index(layouts, a) - slices.Index(layouts, b) })
		page, err := template.New("").Funcs(funcs).ParseFS(templateFS, append(use, f)...)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		t.pages[strings.TrimSuffix(path.Base(f), ".html")] = page
	}
	return t, nil
}

// templateCalls appends to names the templates that the tree under n calls by name ({{template "x"}}).
func templateCalls(n parse.Node, names []string) []string {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				names = templateCalls(c, names)
			}
		}
	case *parse.TemplateNode:
		names = append(names, n.Name)
	case *parse.IfNode:
		names = templateCalls(n.List, names)
		names = templateCalls(n.ElseList, names)
	case *parse.RangeNode:
		names = templateCalls(n.List, names)
		names = templateCalls(n.ElseList, names)
	case *parse.WithNode:
		names = templateCalls(n.List, names)
		names = templateCalls(n.ElseList, names)
	}
	return names
}

// Page is what every page's data carries: the layout reads it.
type Page struct {
	Title    string
	User     *account.User
	Embedded bool
	Nonce    string
	Flash    string
	Path     string
	// Contained is set for sessions that came from an LTI launch: navigation to the rest of the site is hidden.
	Contained bool
	// Return is the way back to the platform, when the launch gave one.
	Return returnLink

	scope *launchScope
	tr    *i18n.Printer
}

// ReachesCourse reports whether the session may open course id's page: always, unless it is contained to
// something else. Templates use it to hide links that would only lead to a refusal.
func (p *Page) ReachesCourse(id int64) bool { return p.scope == nil || p.scope.courses[id] }

func (p *Page) page() *Page { return p }

// pageData is implemented by every page's typed data struct through its embedded Page.
type pageData interface{ page() *Page }

// render writes the named page. A page name that has no template is a programming error: it panics, which the
// recovery middleware turns into a 500, and which the page tests catch first.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data pageData) {
	t, ok := s.tmpl.pages[name]
	if !ok {
		panic("web: no template for page " + name)
	}
	p := data.page()
	p.User = currentUser(r)
	rv := vals(r.Context())
	p.Nonce = rv.nonce
	p.Path = r.URL.Path
	p.Embedded = p.Embedded || isEmbedded(r)
	p.scope = rv.scope
	p.Contained = p.scope != nil
	p.Return = rv.ret
	if p.tr == nil {
		p.tr = s.printer(r)
	}
	if n, ok := data.(interface{ localizeNotes(*i18n.Printer) }); ok {
		n.localizeNotes(p.tr)
	}
	if f, ok := data.(interface{ setPrinter(*i18n.Printer) }); ok {
		f.setPrinter(p.tr)
	}
	givePagerPrinter(data, p.tr)
	if flash := s.sessions.PopString(r.Context(), "flash"); flash != "" && p.Flash == "" {
		p.Flash = flash
	}
	layout := "layout"
	if p.Embedded {
		layout = "embedded"
	}
	buf := renderBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer putRenderBuffer(buf)
	if err := t.ExecuteTemplate(buf, layout, data); err != nil {
		s.log.ErrorContext(r.Context(), "render page", slog.String("page", name), slog.Any("error", err))
		http.Error(w, "The page could not be shown. Request id: "+logging.RequestID(r.Context()), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderBuffers keeps the buffers pages are rendered into, so that a page view does not grow a new one from
// nothing to the page's size (a tenth of the bytes a launch allocated).
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putRenderBuffer(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 { // an exceptionally large page's buffer goes to the collector
		renderBuffers.Put(b)
	}
}

// Problem is an error that a person reads: what went wrong (Cause) and what to do about it (Fix).
type Problem struct {
	Status int
	Code   string // a short machine-readable code for JSON clients
	Title  string
	Cause  string
	Fix    string
	// AdminFix, when set, is the fix for an administrator, shown as a note under Fix (see forViewer).
	AdminFix    string
	AdminFixFor string // whom the note is for: "the site's administrator"…
	// Args are the details the words name, for the translations of Code (see localizeProblem).
	Args map[string]any
	// Localize, when set, gives the words in another language than the source (see localizeProblem): for problems
	// whose words live in an area's catalog rather than under problem.<Code>.
	Localize func(tr *i18n.Printer) (title, cause, fix string)
	Err      error // the internal cause, logged and never shown
}

func (p *Problem) Error() string {
	if p.Err != nil {
		return p.Title + ": " + p.Err.Error()
	}
	return p.Title
}

func (p *Problem) Unwrap() error { return p.Err }

var errSignInRequired = &Problem{Status: http.StatusUnauthorized, Code: "sign_in_required", Title: "Please sign in",
	Cause: "This action needs a signed-in account.", Fix: "Sign in and try again."}

type problemPage struct {
	Page
	Problem   *Problem
	RequestID string
}

// fail is the one place where an error becomes a response: a Problem is shown as it is; a domain refusal and a
// protocol failure become a Problem (problemOf); anything else is an internal error, logged with its whole chain
// and shown as a generic page with the request id.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := problemOf(err)
	if p == nil && r.Context().Err() != nil {
		// The request's own context ended: the client went away (or its connection was cut) while the server was
		// working for it. Whatever failed, failed for that reason; it is not the server's fault.
		s.clientGone(w, r, err)
		return
	}
	if p == nil {
		s.log.ErrorContext(r.Context(), "request failed", slog.String("path", logPath(r)), slog.Any("error", err))
		p = &Problem{Status: http.StatusInternalServerError, Code: "internal_error", Title: "Something went wrong on our side",
			Cause: "The server could not finish this request.",
			Fix:   "Try again in a moment. If it keeps happening, give the site admin the request id below."}
	} else if aud := problemAudience(err); aud != "" {
		q := *p // problemOf may return the caller's own Problem: rewrite a copy
		forViewer(&q, aud, viewerOf(r))
		p = &q
	}
	s.renderProblem(w, r, p)
}

// problemOf maps the errors a person can act on to what they read; nil for an internal error.
func problemOf(err error) *Problem {
	var p *Problem
	var rf *refusal.Refusal
	var le *lti.Error
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &rf):
		title := rf.Title
		if title == "" {
			title = "This request was refused"
		}
		return &Problem{Status: statusOf(rf.Kind), Code: rf.Code, Title: title, Cause: sentence(capitalize(rf.Description)),
			Fix: sentence(capitalize(rf.Fix)), Args: rf.Args, Err: err}
	case errors.As(err, &le):
		status := le.Status()
		if errors.Is(err, lti11.ErrBadSignature) || errors.Is(err, lti11.ErrTimestampExpired) || errors.Is(err, lti11.ErrNonceReused) {
			status = http.StatusUnauthorized
		}
		return &Problem{Status: status, Code: string(le.Code), Title: "This launch was refused",
			Cause: sentence(capitalize(le.Description)), Fix: sentence(capitalize(le.Fix)), Err: err,
			Args: map[string]any{"Detail": le.Description}}
	}
	return nil
}

// statusOf is the response status of a kind of refusal.
func statusOf(k refusal.Kind) int {
	switch k {
	case refusal.Unauthorized:
		return http.StatusUnauthorized
	case refusal.Forbidden:
		return http.StatusForbidden
	case refusal.NotFound:
		return http.StatusNotFound
	case refusal.Conflict:
		return http.StatusConflict
	case refusal.Gone:
		return http.StatusGone
	case refusal.Upstream:
		return http.StatusBadGateway
	}
	return http.StatusBadRequest
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func sentence(s string) string {
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// renderProblem shows p as a page, or as JSON to API clients, and logs client mistakes at Warn.
func (s *Server) renderProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	if p.Status == 0 {
		p.Status = http.StatusBadRequest
	}
	if p.Status < 500 {
		attrs := []any{slog.String("path", logPath(r)), slog.Int("status", p.Status), slog.String("problem", p.Title)}
		if p.Err != nil {
			attrs = append(attrs, slog.Any("error", p.Err))
		}
		s.log.WarnContext(r.Context(), "request refused", attrs...)
	}
	tr := s.printer(r)
	p = localizeProblem(tr, p)
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(p.Status)
		code := p.Code
		if code == "" {
			code = strings.ReplaceAll(strings.ToLower(http.StatusText(p.Status)), " ", "_")
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
			"code": code, "title": p.Title, "cause": p.Cause, "fix": p.Fix, "request_id": logging.RequestID(r.Context())}})
		return
	}
	s.render(w, r, p.Status, "problem", &problemPage{Page: Page{Title: p.Title, Embedded: isEmbedded(r), tr: tr}, Problem: p,
		RequestID: logging.RequestID(r.Context())})
}

func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/lti/notices/") || strings.Contains(r.Header.Get("Accept"), "application/json") &&
		!strings.Contains(r.Header.Get("Accept"), "text/html")
}

// isEmbedded reports whether the request should get the embedded layout (no navigation), for pages inside a
// platform's iframe: a launch asked for it (iframe document target or force_embed=1), or ?embed=1.
func isEmbedded(r *http.Request) bool {
	if vals(r.Context()).embedded {
		return true
	}
	return r.URL.Query().Get("embed") == "1"
}

// returnLink is the platform's way back (launch_presentation.return_url).
type returnLink struct{ URL, Name string }

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

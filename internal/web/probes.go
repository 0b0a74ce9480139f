package web

import (
	"context"
	"log/slog"
	"net/http"
)

// Probes are requests that are no fault of anyone's: a platform checking a tool URL with GET (Moodle does on every
// activity save, looking for a cartridge), a person pasting a launch URL into a browser, a browser asking for
// /favicon.ico. They get a useful answer and a debug line, never a WARN: a WARN is for something an admin must fix.

// probeRoutes registers the GET answers of the POST-only LTI endpoints on the lti mux.
func (s *Server) probeRoutes(lti *http.ServeMux) {
	lti.HandleFunc("GET /lti/launch", s.postOnlyEndpoint("platforms.endpoint.launch"))
	lti.HandleFunc("GET /lti/deeplink", s.postOnlyEndpoint("platforms.endpoint.deeplink"))
}

// endpointPage says what an address is for.
type endpointPage struct {
	Page
	What, Fix string
	Allow     string
}

// postOnlyEndpoint answers GET (and HEAD) with 405, Allow: POST and a short page saying what the URL is for: the
// catalog's key+".title", ".what" and ".fix".
func (s *Server) postOnlyEndpoint(key string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.endpointInfo(w, r, http.StatusMethodNotAllowed, key)
	}
}

// endpointInfo renders the page of the catalog's key (key+".title", ".what", ".fix", with args); status 405 adds
// Allow: POST.
func (s *Server) endpointInfo(w http.ResponseWriter, r *http.Request, status int, key string, args ...any) {
	tr := s.printer(r)
	title, what, fix := tr.T(key+".title", args...), tr.T(key+".what", args...), tr.T(key+".fix", args...)
	quiet(r.Context())
	s.log.DebugContext(r.Context(), "GET of an LTI endpoint answered with its description", slog.String("path", r.URL.Path),
		slog.Int("status", status), slog.String("user_agent", r.UserAgent()))
	p := &endpointPage{Page: Page{Title: title, Embedded: isEmbedded(r), tr: tr}, What: what, Fix: fix}
	if status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", "POST")
		p.Allow = "POST"
	}
	w.Header().Set("Cache-Control", "no-cache")
	s.render(w, r, status, "endpoint_info", p)
}

// favicon serves the logo as /favicon.ico: browsers ask for it on every page opened in a new window, whatever
// the page's <link rel="icon"> says.
func (s *Server) favicon(w http.ResponseWriter, r *http.Request) {
	b, err := staticFS.ReadFile("static/logo.png")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png") // PNG content under .ico is accepted by every current browser
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(b)
}

// quiet lowers the request's access-log line to debug (see requestContext).
func quiet(ctx context.Context) {
	vals(ctx).quiet = true
}

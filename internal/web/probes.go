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
	lti.HandleFunc("GET /lti/launch", s.postOnlyEndpoint("LTI 1.3 launch URL (tool URL)",
		"This address is where a learning platform posts LTI 1.3 launches (a signed id_token, after the login at /lti/login). "+
			"Opening it in a browser, or a platform checking it with GET, does nothing.",
		"Give it to the platform as the tool's Tool URL / redirect URI (Site administration → Platforms → a registration → Tool details), "+
			"then launch from a link in the platform."))
	lti.HandleFunc("GET /lti/deeplink", s.postOnlyEndpoint("LTI 1.3 deep linking URL (content selection)",
		"This address is where a learning platform posts content selection requests (LtiDeepLinkingRequest). "+
			"Opening it in a browser does nothing.",
		"Give it to the platform as the tool's deep linking / content selection URL and as a redirect URI, "+
			"then choose Select content in the platform."))
}

// endpointPage says what an address is for.
type endpointPage struct {
	Page
	What, Fix string
	Allow     string
}

// postOnlyEndpoint answers GET (and HEAD) with 405, Allow: POST and a short page saying what the URL is for.
func (s *Server) postOnlyEndpoint(title, what, fix string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.endpointInfo(w, r, http.StatusMethodNotAllowed, title, what, fix)
	}
}

// endpointInfo renders the page; status 405 adds Allow: POST.
func (s *Server) endpointInfo(w http.ResponseWriter, r *http.Request, status int, title, what, fix string) {
	quiet(r.Context())
	s.log.DebugContext(r.Context(), "GET of an LTI endpoint answered with its description", slog.String("path", r.URL.Path),
		slog.Int("status", status), slog.String("user_agent", r.UserAgent()))
	p := &endpointPage{Page: Page{Title: title, Embedded: isEmbedded(r)}, What: what, Fix: fix}
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

// quietKey marks a request whose access-log line is written at debug level.
type quietKey struct{}

// quiet lowers the request's access-log line to debug (see requestContext).
func quiet(ctx context.Context) {
	if q, ok := ctx.Value(quietKey{}).(*bool); ok {
		*q = true
	}
}

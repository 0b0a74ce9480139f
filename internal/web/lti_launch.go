package web

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/logging"
	"github.com/ltipub/ltipub/lti"
)

// stateCookiePrefix names the cookies that bind a login's state to the browser. The state is in the name, so
// that several launches in several frames or tabs at once do not overwrite each other's cookie.
const stateCookiePrefix = "ltipub_state_"

func (s *Server) ltiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /lti/launch", s.ltiLaunch)
	mux.HandleFunc("POST /lti/deeplink", s.ltiLaunch)
	s.ltiStorageRoutes(mux)
	mux.HandleFunc("GET /lti/jwks", s.ltiJWKS)
}

// noSession gives next an empty session that is never loaded or saved: the login initiation binds the state to
// the browser with its own cookie, and reading and re-saving a session there would cost two statements a launch.
func (s *Server) noSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, err := s.sessions.Load(r.Context(), "")
		if err != nil {
			s.log.ErrorContext(r.Context(), "empty session", "error", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		withSession(next).ServeHTTP(w, r.WithContext(ctx))
	})
}

// ltiLogin is the OIDC initiate-login URL.
func (s *Server) ltiLogin(w http.ResponseWriter, r *http.Request) {
	li, err := lti.ParseLoginInitiation(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// ltipub_window=1 is ltipub's own marker: the login started again in a new top-level window by the
	// fallback page (see lti_storage.go).
	newWindow := r.FormValue(newWindowParam) == "1"
	res, err := s.cfg.Launches.Login(r.Context(), li, launch.LoginOptions{NewWindow: newWindow}, logging.RequestID(r.Context()))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, s.stateCookie(res.State, 10*time.Minute))
	// A top-level login keeps first-party cookies: a bare redirect is enough. In a frame (or when the platform
	// offers its storage) the login page checks what works first: cookie, platform storage, or a new window.
	if !framed(r) && li.StorageTarget == "" {
		http.Redirect(w, r, res.RedirectURL, http.StatusFound)
		return
	}
	s.loginPage(w, r, li, res, newWindow)
}

// framed reports whether the browser says the request loads a frame's document. Browsers without Fetch
// Metadata send no Sec-Fetch-Dest; they are treated as top-level (the cookie path, as before).
func framed(r *http.Request) bool {
	d := r.Header.Get("Sec-Fetch-Dest")
	return d == "iframe" || d == "frame"
}

// stateCookie binds a login to this browser. On https it is SameSite=None; Secure; Partitioned, since the
// platform posts the launch from its own site, often inside an iframe, where browsers that block third-party
// cookies still keep a partitioned (CHIPS) cookie for that platform's page. On plain http (development) it carries no SameSite
// attribute: browsers then still send a fresh cookie with a cross-site top-level POST, and a SameSite=None cookie
// without Secure would be dropped.
func (s *Server) stateCookie(state string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: stateCookiePrefix + state, Value: state, Path: "/lti/", HttpOnly: true, MaxAge: int(maxAge.Seconds())}
	if maxAge < 0 {
		c.MaxAge = -1
	}
	if strings.HasPrefix(s.cfg.BaseURL, "https://") {
		c.Secure, c.SameSite, c.Partitioned = true, http.SameSiteNoneMode, true
	}
	return c
}

// ltiLaunch is the redirect URI: the platform form-posts the id_token and state here.
func (s *Server) ltiLaunch(w http.ResponseWriter, r *http.Request) {
	resp, err := lti.ParseAuthResponse(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var browser launch.BrowserCheck
	if resp.State != "" {
		if c, err := r.Cookie(stateCookiePrefix + resp.State); err == nil {
			browser.CookieState = c.Value
		}
		// The state is single-use whatever happens next: drop its cookie.
		http.SetCookie(w, s.stateCookie(resp.State, -1))
	}
	if browser.CookieState == "" {
		// No cookie came back: if the login kept the state in the platform's storage, a small page looks it up
		// there and posts the response again, with its finding, to /lti/launch/storage.
		if sl, ok, err := s.cfg.Launches.PendingStorageLaunch(r.Context(), resp.State); err != nil {
			s.fail(w, r, err)
			return
		} else if ok {
			s.storageLaunchPage(w, r, resp, sl)
			return
		}
	}
	s.launch(w, r, resp, browser)
}

// launch runs a launch and renders its outcome.
func (s *Server) launch(w http.ResponseWriter, r *http.Request, resp lti.AuthResponse, browser launch.BrowserCheck) {
	out, err := s.cfg.Launches.Launch(r.Context(), launch.Request{Response: resp, Browser: browser, Prev: s.prevSession(r),
		RequestID: logging.RequestID(r.Context())})
	s.outcome(w, r, out, err)
}

// ltiJWKS publishes the tool's public keys.
func (s *Server) ltiJWKS(w http.ResponseWriter, r *http.Request) {
	jwks, err := s.cfg.Keys.JWKS(r.Context())
	if err != nil {
		s.log.ErrorContext(r.Context(), "build JWKS", slog.Any("error", err))
		http.Error(w, `{"error":"the key set is unavailable"}`, http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(jwks)
}

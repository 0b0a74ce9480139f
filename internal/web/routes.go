package web

import (
	"net/http"
)

// routes is the one list of every route ltipub serves.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	// Probes and assets: no session, no CSRF.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /static/", staticHandler())
	mux.HandleFunc("GET /favicon.ico", s.favicon)
	if s.cfg.Metrics != nil && s.cfg.MetricsToken != "" {
		mux.HandleFunc("GET /metrics", s.metricsEndpoint) // else --metrics-addr, or not at all
	}

	// Pages.
	app := http.NewServeMux()
	app.HandleFunc("GET /{$}", s.home)
	app.HandleFunc("GET /login", s.loginForm)
	app.HandleFunc("POST /login", s.loginSubmit)
	app.HandleFunc("POST /logout", s.logout)
	app.Handle("GET /account/password", s.requireUser(http.HandlerFunc(s.passwordForm)))
	app.Handle("POST /account/password", s.requireUser(http.HandlerFunc(s.passwordSubmit)))
	app.Handle("POST /account/language", s.requireUser(http.HandlerFunc(s.languageSubmit)))
	app.Handle("GET /admin/settings", s.requireAdmin(http.HandlerFunc(s.settingsForm)))
	app.Handle("POST /admin/settings", s.requireAdmin(http.HandlerFunc(s.settingsSubmit)))
	s.userRoutes(app)
	s.adminIndexRoutes(app)
	app.Handle("POST /admin/unlock", s.requireAdmin(http.HandlerFunc(s.unlockSubmit)))
	s.courseRoutes(app)
	s.syncRoutes(app)
	s.publishRoutes(app)
	s.deliveryRoutes(app)
	s.inspectorRoutes(app)
	s.reviewRoutes(app)
	s.accountRoutes(app, "/launch/account", sessionPending)
	app.Handle("GET /launch/select", http.HandlerFunc(s.selectionForm))
	app.Handle("POST /launch/select", http.HandlerFunc(s.selectionSubmit))
	app.Handle("POST /launch/select/signin", http.HandlerFunc(s.selectionSignIn))

	// LTI endpoints: the platform posts to them cross-site, so they bypass the cross-origin check (they carry
	// their own proofs: state, nonce, signatures), and the site switch can turn them all off.
	lti := http.NewServeMux()
	s.ltiRoutes(lti)
	s.platformRoutes(app, lti)
	s.legacyRoutes(app, lti)
	s.probeRoutes(lti)
	lti.HandleFunc("/lti/", s.ltiNotFound)
	app.Handle("/lti/", s.requirePublishing(notePattern(lti)))

	app.HandleFunc("/", s.notFound)

	csrf := http.NewCrossOriginProtection()
	csrf.AddInsecureBypassPattern("/lti/")
	csrf.SetDenyHandler(http.HandlerFunc(s.csrfDenied))

	// The login initiation needs no session: it gets an empty one, read from and written to nowhere.
	mux.Handle("GET /lti/login", s.readForm(s.noSession(s.requirePublishing(http.HandlerFunc(s.ltiLogin)))))
	mux.Handle("POST /lti/login", s.readForm(s.noSession(s.requirePublishing(http.HandlerFunc(s.ltiLogin)))))
	s.noticeRoutes(mux, app)
	mux.Handle("/", s.sessions.LoadAndSave(withSession(s.readForm(s.loadUser(s.requireNewPassword(s.contain(s.sameScheme(csrf.Handler(notePattern(app))))))))))
	return s.observe(s.requestContext(s.securityHeaders(notePattern(mux))))
}

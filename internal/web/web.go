// Package web is ltipub's HTTP face: routes, middleware, typed pages and the one place where errors become
// responses. Handlers stay thin: they decode the request, call a domain service, and render.
package web

import (
	"context"
	"errors"
	"github.com/ltipub/ltipub/internal/i18n"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/keys"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/metrics"
	"github.com/ltipub/ltipub/internal/notice"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/site"
	"github.com/ltipub/ltipub/internal/stats"
	"github.com/ltipub/ltipub/internal/tool"
)

// Store is the storage the web layer reads directly (the rest goes through domain services).
type Store interface {
	account.Store
	Ping(ctx context.Context) error
}

// Config wires the web server's dependencies.
type Config struct {
	Store    Store
	Accounts *account.Service
	Site     *site.Service
	Courses  *course.Service
	Publish  *publish.Service
	Sessions *scs.SessionManager
	Launches *launch.Service
	Keys     *keys.Manager
	// Platforms is the registration service (platform registrations, deployments, framing origins).
	Platforms *tool.Service
	// Sync runs grade and member sync (the admin Sync page); nil when the job queue is not running.
	Sync SyncJobs
	// Stats reads the figures the launch log, grader report and Sync page chart (charts.go).
	Stats  *stats.Service
	Logger *slog.Logger
	// BaseURL is the public URL (no trailing slash) every absolute link is built from.
	BaseURL string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Version is shown on the health endpoint and in the footer.
	Version string

	// Users is the site administrator's user administration.
	Users *account.Admin
	// Metrics, when set, measures every request; MetricsToken, when set too, serves GET /metrics to requests
	// that bear it.
	Metrics      *metrics.Metrics
	MetricsToken string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the client (sign-in throttling).
	TrustedProxies []netip.Prefix
	// Notices receives Platform Notification Service notices (POST /lti/notices/{id}); nil: none are accepted.
	Notices *notice.Service
}

// Server serves ltipub's pages and endpoints.
type Server struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	tmpl     *templates
	catalog  *i18n.Catalog
	sessions *scs.SessionManager
	handler  http.Handler
}

// New checks cfg and builds the server; it fails at start-up rather than at the first request.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("web: Config.Store is required")
	case cfg.Accounts == nil:
		return nil, errors.New("web: Config.Accounts is required")
	case cfg.Site == nil:
		return nil, errors.New("web: Config.Site is required")
	case cfg.Publish == nil:
		return nil, errors.New("web: Config.Publish is required")
	case cfg.Courses == nil:
		return nil, errors.New("web: Config.Courses is required")
	case cfg.Sessions == nil:
		return nil, errors.New("web: Config.Sessions is required")
	case cfg.Launches == nil:
		return nil, errors.New("web: Config.Launches is required")
	case cfg.Keys == nil:
		return nil, errors.New("web: Config.Keys is required")
	case cfg.Platforms == nil:
		return nil, errors.New("web: Config.Platforms is required")
	case cfg.Stats == nil:
		return nil, errors.New("web: Config.Stats is required")
	case cfg.Logger == nil:
		return nil, errors.New("web: Config.Logger is required")
	case cfg.BaseURL == "":
		return nil, errors.New("web: Config.BaseURL is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	catalog, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now, tmpl: tmpl, catalog: catalog, sessions: cfg.Sessions}
	s.handler = s.routes()
	return s, nil
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Package app wires ltipub together: it opens the store, builds the domain services and the web server, and runs
// them until the context ends. It holds no logic of its own.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/v2"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/keys"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/metrics"
	"github.com/ltipub/ltipub/internal/notice"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/safehttp"
	"github.com/ltipub/ltipub/internal/site"
	"github.com/ltipub/ltipub/internal/stats"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/internal/web"
	"github.com/ltipub/ltipub/lti"
)

// Version is set at build time with -ldflags "-X github.com/ltipub/ltipub/internal/app.Version=…".
var Version = "dev"

// OpenStore opens and migrates the database named by dsn, with the secrets key from LTIPUB_SECRETS_KEY_FILE or
// its default place (OpenStoreWith).
func OpenStore(ctx context.Context, dsn string, log *slog.Logger) (*sqlstore.Store, error) {
	return OpenStoreWith(ctx, dsn, os.Getenv("LTIPUB_SECRETS_KEY_FILE"), log)
}

// OpenStoreWith opens and migrates the database named by dsn, and sets up the encryption of its secrets with the
// key in keyFile (see SecretsKeyPath for the default): plaintext secrets left from before are encrypted, and a key
// that is not the database's stops it here.
func OpenStoreWith(ctx context.Context, dsn, keyFile string, log *slog.Logger) (*sqlstore.Store, error) {
	return OpenStoreWithOptions(ctx, dsn, keyFile, sqlstore.Options{}, log)
}

// OpenStoreWithOptions is OpenStoreWith with the store's own options (tests wrap the driver to count statements).
func OpenStoreWithOptions(ctx context.Context, dsn, keyFile string, o sqlstore.Options, log *slog.Logger) (*sqlstore.Store, error) {
	s, err := sqlstore.OpenWith(ctx, dsn, o)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx, log); err != nil {
		s.Close()
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := openSecrets(ctx, s, keyFile, log); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// App is a wired instance of ltipub.
type App struct {
	Config   config.Config
	Store    *sqlstore.Store
	Accounts *account.Service
	Site     *site.Service
	Courses  *course.Service
	Publish  *publish.Service
	Keys     *keys.Manager
	Launches *launch.Service
	// Platforms registers platforms: manual and dynamic registration, deployments, framing origins.
	Platforms *tool.Service
	// HTTP is the one client for URLs that registrations supply, guarded against internal addresses.
	HTTP *http.Client
	Web  *web.Server
	Log  *slog.Logger
	// Jobs runs grade and member sync on the database's job queue.
	Jobs        *jobs.Service
	jobsStarted bool
	// Notices registers notice handlers and receives platform notifications (PNS).
	Notices *notice.Service

	stopSessions func()

	// Users is user administration (admin pages, ltipub user …).
	Users *account.Admin
	// Metrics counts what Prometheus scrapes (see config's metrics settings for where it is served).
	Metrics *metrics.Metrics
	// Stats reads the figures the pages chart.
	Stats *stats.Service
}

// New builds an App on an open store.
// cacheTTL is how long registrations and published resources stay cached (config.Config.CacheTTL).
func cacheTTL(cfg config.Config) time.Duration {
	if cfg.CacheTTL > 0 {
		return cfg.CacheTTL
	}
	return 3 * time.Second
}

func New(cfg config.Config, st *sqlstore.Store, log *slog.Logger) (*App, error) {
	a := &App{Config: cfg, Store: st, Log: log}
	a.Accounts = &account.Service{Store: st, Failures: st}
	a.Users = &account.Admin{Store: st, Accounts: a.Accounts}
	// The settings follow the caches' TTL when one is set (the statement-budget test's long one keeps a refresh
	// of the settings out of the launches it counts); otherwise their own 2 s.
	a.Site = site.NewService(st, cfg.CacheTTL, nil)
	gradeHook := &jobs.GradeHook{Store: st} // grade changes queue a sync (wireJobs)
	a.Courses = &course.Service{Store: gradeHook, Users: st}
	pub, err := publish.New(publish.Config{Store: st, Legacy: st, ToolProxies: st, Courses: a.Courses, Accounts: a.Accounts, Tx: st,
		Cache: publish.NewResourceCache(cacheTTL(cfg))})
	if err != nil {
		return nil, err
	}
	a.Publish = pub
	a.Keys = keys.NewManager(st, cfg.KeyOverlap, nil)
	a.HTTP = safehttp.New(safehttp.Options{AllowPrivate: cfg.AllowPrivateURLs})
	a.Metrics = metrics.New()
	a.Metrics.WatchDB(st.DB())
	a.HTTP.Transport = a.Metrics.Transport(a.HTTP.Transport)
	launches, err := launch.New(launch.Config{
		Registrations: st,
		CacheTTL:      cacheTTL(cfg),
		Store:         a.Metrics.LaunchStore(st),
		Validator: &lti.Validator{
			Keys:   lti.NewRemoteKeySets(a.HTTP, lti.RemoteKeySetsOptions{MinRefetchInterval: cfg.JWKSMinRefetch}),
			Nonces: st,
			Leeway: cfg.ClockSkew,
			MaxAge: cfg.MaxTokenAge,
		},
		Publish:  a.Publish,
		Keys:     a.Keys,
		BaseURL:  cfg.BaseURL,
		Log:      log,
		Warnings: jobs.LaunchWarning,
		// Zero (configs not built by config.Load, such as tests') takes the launch package's default.
		DetailRetention: cfg.LaunchDetailRetention,
		HTTP:            a.HTTP, // LTI 2.0 registration: tool consumer profiles and tool proxies
	})
	if err != nil {
		return nil, err
	}
	a.Launches = launches
	// Notices are verified like id_tokens, with the launches' validator (the same platform key sets; their nonces
	// go to the nonce table).
	if a.Notices, err = notice.New(notice.Config{Store: st, Registrations: st, Validator: launches.Validator(),
		BaseURL: cfg.BaseURL, Log: log.With(slog.String("component", "notices"))}); err != nil {
		return nil, err
	}
	launches.SetNotices(a.Notices)

	if err := a.wireJobs(gradeHook); err != nil {
		return nil, err
	}

	a.Platforms = &tool.Service{Store: st, HTTP: a.HTTP, BaseURL: cfg.BaseURL, AllowPrivateURLs: cfg.AllowPrivateURLs, Log: log,
		Checks: st, SigningKey: a.Keys.Active}

	if a.Stats, err = stats.New(stats.Config{Store: st}); err != nil {
		return nil, err
	}

	sessions := scs.New()
	switch st.Engine() {
	case sqlstore.Postgres:
		ps := postgresstore.NewWithCleanupInterval(st.DB(), 10*time.Minute)
		sessions.Store, a.stopSessions = ps, ps.StopCleanup
	default:
		// The store's own: prepared statements, loads on the reader pool, saves on the one writer.
		ss, err := sqlstore.NewSessions(st, 10*time.Minute, log)
		if err != nil {
			return nil, err
		}
		sessions.Store, a.stopSessions = ss, ss.StopCleanup
	}
	sessions.Lifetime = 12 * time.Hour
	// No scs IdleTimeout: it re-saves the session on every request. web enforces web.SessionIdleTimeout itself.
	sessions.Codec = web.SessionCodec{} // gob's per-read decoder setup was most of a session load's CPU
	sessions.Cookie.Name = "ltipub_session"
	sessions.Cookie.HttpOnly = true
	sessions.Cookie.Path = "/"
	if cfg.Development() {
		// Plain http: a Secure cookie would never come back, and SameSite=None requires Secure.
		sessions.Cookie.Secure = false
		sessions.Cookie.SameSite = http.SameSiteLaxMode
	} else {
		// Platforms show ltipub in an iframe on their own site, where only SameSite=None cookies are sent, and
		// browsers that block third-party cookies still keep a partitioned (CHIPS) one for that platform's page.
		// Whether it came back is checked after each framed launch (web/lti_storage.go).
		sessions.Cookie.Secure = true
		sessions.Cookie.SameSite = http.SameSiteNoneMode
		sessions.Cookie.Partitioned = true
	}
	sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		if r.Context().Err() != nil {
			// The client went away while its session was loaded or saved: nothing to answer, nothing to fix.
			log.WarnContext(r.Context(), "session not loaded or saved: the client went away", slog.Any("error", err))
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		log.ErrorContext(r.Context(), "session store failed", slog.Any("error", err))
		http.Error(w, "The session store is not answering; try again in a moment.", http.StatusInternalServerError)
	}

	w, err := web.New(web.Config{Store: st, Accounts: a.Accounts, Users: a.Users, Site: a.Site, Courses: a.Courses, Publish: a.Publish, Sessions: sessions, Logger: log,
		Launches: a.Launches, Keys: a.Keys, Platforms: a.Platforms, Sync: a.Jobs, Notices: a.Notices, Stats: a.Stats,
		BaseURL: cfg.BaseURL, Version: Version, Metrics: a.Metrics, MetricsToken: cfg.MetricsToken, TrustedProxies: cfg.Proxies})
	if err != nil {
		return nil, err
	}
	a.Web = w
	return a, nil
}

// Prepare does what must happen before the first request: the tool's signing key exists.
func (a *App) Prepare(ctx context.Context) error {
	return a.Keys.Ensure(ctx)
}

// RunJanitor deletes expired login states and nonces and retires keys past their overlap, every interval, until
// ctx ends. Every instance may run it: the deletes are idempotent.
func (a *App) RunJanitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.Launches.CleanUp(ctx); err != nil {
				a.Log.ErrorContext(ctx, "clean up launch state", slog.Any("error", err))
			}
			if _, err := a.Store.RetireKeys(ctx, time.Now()); err != nil {
				a.Log.ErrorContext(ctx, "retire tool keys", slog.Any("error", err))
			}
		}
	}
}

// Close stops background work; it does not close the store, which the caller opened.
func (a *App) Close() {
	a.stopJobs()
	if a.stopSessions != nil {
		a.stopSessions()
		a.stopSessions = nil
	}
}

// BootstrapAdmin creates the first admin on an empty database and prints its password once to out.
func (a *App) BootstrapAdmin(ctx context.Context, out io.Writer) error {
	n, err := a.Store.CountUsers(ctx)
	if err != nil {
		return fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return nil
	}
	pw := account.RandomPassword()
	// The generated password has been on a terminal and in logs that collect it: the first sign-in replaces it.
	u, err := a.Accounts.Create(ctx, account.NewUser{Username: "admin", FullName: "Site administrator", Password: pw, IsAdmin: true,
		MustChangePassword: true})
	if errors.Is(err, account.ErrUsernameTaken) {
		return nil // another instance made it first
	}
	if err != nil {
		return fmt.Errorf("create first admin: %w", err)
	}
	fmt.Fprintf(out, "\n  First start: created the site administrator.\n    username: %s\n    password: %s\n"+
		"  This password is shown only once. Sign in with it and choose your own password.\n\n", u.Username, pw)
	a.Log.InfoContext(ctx, "created the first site administrator", slog.String("username", u.Username))
	return nil
}

// Serve runs the HTTP server on ln until ctx ends, then shuts down gracefully.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Web,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	a.Log.Info("shutting down")
	return srv.Shutdown(shutdownCtx)
}

// Run is `ltipub serve`: open and migrate the store, bootstrap, listen, serve until ctx ends.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger, out io.Writer) error {
	start := time.Now()
	if err := cfg.Validate(); err != nil {
		return err
	}
	// Listen before anything is written: a port in use must not leave a new database and admin behind.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another server using the port? choose another with --addr)", cfg.Addr, err)
	}
	defer ln.Close()
	var metricsLn net.Listener
	if cfg.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return fmt.Errorf("listen on --metrics-addr %s: %w (choose another port)", cfg.MetricsAddr, err)
		}
		defer metricsLn.Close()
	}
	st, err := CreateStore(ctx, cfg.DB, cfg.SecretsKeyFile, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := RecordBaseURL(ctx, st, cfg.BaseURL); err != nil {
		return err
	}
	a, err := New(cfg, st, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if cfg.Development() {
		log.Warn("development mode: the base URL is plain http, so cookies cannot be Secure and platforms embedding " +
			"ltipub in an iframe will not keep its session; use an https base URL in production")
	}
	if cfg.AllowPrivateURLs {
		log.Warn("outgoing requests to loopback and private addresses are allowed (--allow-private-urls); never in production")
	}
	if err := a.Prepare(ctx); err != nil {
		return err
	}
	if err := a.BootstrapAdmin(ctx, out); err != nil {
		return err
	}
	go a.RunJanitor(ctx, 10*time.Minute)
	if err := a.StartJobs(ctx); err != nil {
		return err
	}
	if metricsLn != nil {
		go a.ServeMetrics(ctx, metricsLn)
		log.Info("metrics and profiling", slog.String("addr", metricsLn.Addr().String()))
	}
	log.Info("ltipub serving", slog.String("addr", ln.Addr().String()), slog.String("base_url", cfg.BaseURL),
		slog.String("db_engine", string(st.Engine())), slog.String("version", Version),
		slog.Duration("startup", time.Since(start)))
	if !strings.HasPrefix(cfg.BaseURL, "http://"+ln.Addr().String()) && cfg.Development() {
		log.Info("open the site at " + cfg.BaseURL)
	}
	return a.Serve(ctx, ln)
}

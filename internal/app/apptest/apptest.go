// Package apptest starts whole ltipub instances for tests: the real wiring, a real HTTP server, a real database
// on either engine. Browser tests, HTTP tests and the LTI flows all start from here.
package apptest

import (
	"context"
	"database/sql/driver"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/logging"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// AdminPassword is the password of the admin every Start creates.
const AdminPassword = "correct horse battery"

// Options tune an instance.
type Options struct {
	// DSN is the database; a fresh SQLite file when empty.
	DSN string
	// Engine picks a fresh database of that engine when DSN is empty.
	Engine sqlstore.Engine
	// Listener, when set, is used instead of a new loopback one (to restart on the same address).
	Listener net.Listener
	// Host replaces 127.0.0.1 in the base URL (for example "localhost", to be another site than the platform).
	Host string
	// NoAdmin skips creating the admin account.
	NoAdmin bool
	// Configure may change the configuration before the app is built.
	Configure func(*config.Config)
	// Logs, when set, receives the server's log at debug level, as text, instead of the test log (for tests that
	// assert on what is logged and at which level).
	Logs io.Writer
	// Jobs starts the job queue's workers (grade and member sync; periodic runs when Configure sets intervals).
	Jobs bool
	// WrapConnector wraps the database driver (sqltest.Counter counts statements with it).
	WrapConnector func(driver.Connector) driver.Connector
	// SecretsKeyFile is the secrets key; empty: beside a SQLite file, or one key file per PostgreSQL database,
	// shared by every instance started on it.
	SecretsKeyFile string
	// LogOutput, when set, also receives the server's log at info level (access log included), for tests that
	// assert on what is logged.
	LogOutput io.Writer
}

// Instance is a running ltipub.
type Instance struct {
	URL    string
	App    *app.App
	Store  *sqlstore.Store
	DSN    string
	Admin  account.User
	server *httptest.Server
}

// Start runs an instance until t ends.
func Start(t testing.TB, opts Options) *Instance {
	t.Helper()
	dsn := opts.DSN
	if dsn == "" {
		e := opts.Engine
		if e == "" {
			e = sqlstore.SQLite
		}
		dsn = sqltest.DSN(t, e)
	}
	ln := opts.Listener
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
	}
	host := opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	base := "http://" + host + ":" + port
	cfg := config.Config{Addr: ln.Addr().String(), BaseURL: base, DB: dsn, AllowPrivateURLs: true,
		LogLevel: "info", LogFormat: "text", ClockSkew: 60 * time.Second, KeyOverlap: 72 * time.Hour}
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	keyFile := opts.SecretsKeyFile
	if keyFile == "" && sqlstore.IsPostgresDSN(dsn) {
		keyFile = testKeyFile(t, dsn)
	}
	cfg.SecretsKeyFile = keyFile
	st, err := app.OpenStoreWithOptions(ctx, dsn, keyFile, sqlstore.Options{WrapConnector: opts.WrapConnector}, logging.Discard())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	if err := st.Migrate(ctx, logging.Discard()); err != nil {
		t.Fatalf("migrate store: %v", err)
	}
	log := logging.New(testWriter{t}, "warn", "text")
	if opts.LogOutput != nil {
		log = logging.New(io.MultiWriter(testWriter{t}, opts.LogOutput), "info", "text")
	}
	if opts.Logs != nil {
		log = logging.New(opts.Logs, "debug", "text")
	}
	a, err := app.New(cfg, st, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if opts.Jobs {
		if err := a.StartJobs(ctx); err != nil {
			t.Fatalf("start jobs: %v", err)
		}
	}
	inst := &Instance{URL: base, App: a, Store: st, DSN: dsn}
	if !opts.NoAdmin {
		inst.Admin = inst.EnsureUser(t, account.NewUser{Username: "admin", FullName: "Site Admin", Password: AdminPassword, IsAdmin: true})
	}
	srv := httptest.NewUnstartedServer(a.Web)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	inst.server = srv
	t.Cleanup(inst.Close)
	return inst
}

// testKeys maps a PostgreSQL DSN to its secrets key file, so that every instance on one database shares the key.
var testKeys sync.Map

func testKeyFile(t testing.TB, dsn string) string {
	if p, ok := testKeys.Load(dsn); ok {
		return p.(string)
	}
	path := filepath.Join(t.TempDir(), "secrets.key")
	if err := app.NewSecretsKeyFile(path, io.Discard); err != nil {
		t.Fatal(err)
	}
	p, _ := testKeys.LoadOrStore(dsn, path)
	return p.(string)
}

// Close stops the server and closes the store; safe to call twice.
func (i *Instance) Close() {
	if i.server == nil {
		return
	}
	i.server.Close()
	i.App.Close()
	i.Store.Close()
	i.server = nil
}

// EnsureUser creates an account unless its username exists, and returns it.
func (i *Instance) EnsureUser(t testing.TB, n account.NewUser) account.User {
	t.Helper()
	if u, err := i.Store.UserByUsername(context.Background(), n.Username); err == nil {
		return u
	}
	u, err := i.App.Accounts.Create(context.Background(), n)
	if err != nil {
		t.Fatalf("create user %s: %v", n.Username, err)
	}
	return u
}

// Client is an HTTP client with its own cookie jar that does not follow redirects, so tests see every hop.
func (i *Instance) Client(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// ClientFrom is Client with connections from the loopback address ip (any of 127.0.0.0/8 on Linux), so that a
// test can be several clients at once.
func (i *Instance) ClientFrom(t testing.TB, ip string) *http.Client {
	c := i.Client(t)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c.Transport = &http.Transport{DialContext: d.DialContext}
	return c
}

// Login signs c in as username; it fails the test on anything but a redirect.
func (i *Instance) Login(t testing.TB, c *http.Client, username, password string) {
	t.Helper()
	resp := i.PostForm(t, c, "/login", url.Values{"username": {username}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login as %s: status %d: %s", username, resp.StatusCode, resp.Body)
	}
}

// Response is a read response.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       string
}

// Get fetches path with c.
func (i *Instance) Get(t testing.TB, c *http.Client, path string) Response {
	t.Helper()
	return i.Do(t, c, mustRequest(t, http.MethodGet, i.URL+path, nil))
}

// PostForm posts a form to path as a same-origin browser would.
func (i *Instance) PostForm(t testing.TB, c *http.Client, path string, form url.Values) Response {
	t.Helper()
	req := mustRequest(t, http.MethodPost, i.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", i.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return i.Do(t, c, req)
}

// Do sends req with c and reads the whole response.
func (i *Instance) Do(t testing.TB, c *http.Client, req *http.Request) Response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

func mustRequest(t testing.TB, method, u string, body io.Reader) *http.Request {
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// testWriter sends server logs to the test log, so a failing test shows what the server said.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Platform registers the reference platform p on the instance (manual registration: platform details and the
// deployments) and the instance as a tool on p. It returns the registration.
func (i *Instance) Platform(t testing.TB, p *ltitest.Platform, clientID string, deploymentIDs ...string) tool.Registration {
	t.Helper()
	if len(deploymentIDs) == 0 {
		deploymentIDs = []string{"deployment-1"}
	}
	ctx := context.Background()
	reg := tool.Registration{Name: "Reference platform " + clientID, Issuer: p.Issuer(), ClientID: clientID,
		JWKSURL: p.JWKSURL(), TokenURL: p.TokenURL(), AuthURL: p.AuthURL()}
	if err := i.Store.CreateRegistration(ctx, &reg); err != nil {
		t.Fatalf("create registration: %v", err)
	}
	for _, d := range deploymentIDs {
		dep := tool.Deployment{RegistrationID: reg.ID, DeploymentID: d}
		if err := i.Store.AddDeployment(ctx, &dep); err != nil {
			t.Fatal(err)
		}
		reg.Deployments = append(reg.Deployments, dep)
	}
	err := p.RegisterTool(ltitest.ToolConfig{ClientID: clientID, DeploymentIDs: deploymentIDs,
		LoginURL: i.URL + "/lti/login", RedirectURIs: []string{i.URL + "/lti/launch"}, JWKSURL: i.URL + "/lti/jwks",
		TargetLinkURI: i.URL + "/lti/launch", DeepLinkURL: i.URL + "/lti/deeplink", Name: "ltipub"})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// SessionCount counts stored sessions: a refused launch must not add one.
func (i *Instance) SessionCount(t testing.TB) int {
	t.Helper()
	var n int
	if err := i.Store.DB().QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// ExampleCourse imports examples/course.json as the admin. A non-empty shortName replaces the file's, so that
// one instance can hold the example twice (short names are unique).
func (i *Instance) ExampleCourse(t testing.TB, shortName string) course.ImportResult {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	data, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "..", "..", "examples", "course.json"))
	if err != nil {
		t.Fatal(err)
	}
	if shortName != "" {
		data = []byte(strings.Replace(string(data), `"short_name": "ASTRO101"`, `"short_name": "`+shortName+`"`, 1))
	}
	admin := i.Admin
	res, err := i.App.Courses.Import(context.Background(), &admin, data)
	if err != nil {
		t.Fatalf("import the example course: %v", err)
	}
	return res
}

// Publish publishes with the command line's authority (no permission check).
func (i *Instance) Publish(t testing.TB, in publish.Input) publish.Resource {
	t.Helper()
	r, err := i.App.Publish.Publish(context.Background(), nil, in)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return r
}

// Activity returns the first activity of type typ in an import.
func Activity(res course.ImportResult, typ course.Type) course.Activity {
	for _, a := range res.Activities {
		if a.Type == typ {
			return a
		}
	}
	return course.Activity{}
}

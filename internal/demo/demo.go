// Package demo is `ltipub demo`: ltipub and a small demo learning platform in one process on loopback, so that a
// newcomer sees the whole LTI loop (launch, quiz, grade passback, content selection, roster sync, and the ways a
// launch fails) without installing an LMS.
//
// The platform is the reference platform lti/ltitest, dressed as an LMS: the demo adds pages around it (a course
// page, a gradebook, a roster) and uses only its public API, so it stays exactly as strict as in the tests and
// checks every message ltipub sends.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ltipub/ltipub/examples"
	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// Options tune the demo. The zero value is a complete demo on a fresh temporary folder and free loopback ports.
type Options struct {
	// Dir holds the database; it is kept when the demo stops. Empty: a temporary folder, removed at the end.
	Dir string
	// Addr is where the demo LMS listens (HOST:PORT); empty: a free port on 127.0.0.1. ltipub listens on another
	// free port of the same host.
	Addr string
	// Log receives ltipub's and the platform's log lines (nil: discarded).
	Log *slog.Logger
	// Words, when set, words what the demo prints for the operator (the CLI's catalog, in the operator's
	// language); nil: English.
	Words func(id string, args ...any) string
}

// The demo's people and course at the platform.
const (
	contextID   = "demo-course"
	teacherSub  = "demo-teacher"
	teacherName = "Tess Teacher"
)

// Run starts the demo, writes its URL (a line of its own starting with http://) and the admin's password to out,
// and serves until ctx ends. Then it stops everything and removes its temporary folder.
func Run(ctx context.Context, opts Options, out io.Writer) error {
	d, err := start(ctx, opts)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting: not a failure
		}
		return err
	}
	defer d.close()
	d.printWelcome(out, opts.Words)
	<-ctx.Done()
	if opts.Words != nil {
		fmt.Fprintln(out, opts.Words("cli.demo.stopping"))
	} else {
		fmt.Fprintln(out, "ltipub demo: stopping")
	}
	return d.wait()
}

// Demo is a running demo.
type Demo struct {
	URL      string // the demo LMS
	ToolURL  string // ltipub
	Dir      string
	Password string // the demo admin's

	app      *app.App
	platform *ltitest.Platform
	reg      tool.Registration
	clientID string
	deploy   string
	// alt is a second platform on the LMS's other loopback name (nil when there is none): another site than
	// ltipub, registered like the first, so ltipub lets it frame ltipub and the browser blocks ltipub's cookies
	// in that frame.
	alt                    *ltitest.Platform
	altClientID, altDeploy string
	log                    *slog.Logger
	tempDir                bool
	course                 course.ImportResult
	// resources are the published resources, the course first.
	resources []publish.Resource
	lms       *lms

	cancel context.CancelFunc
	done   chan error
	closed bool
}

func start(ctx context.Context, opts Options) (_ *Demo, err error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Demo{Dir: opts.Dir, log: log, done: make(chan error, 2)}
	if d.Dir == "" {
		if d.Dir, err = os.MkdirTemp("", "ltipub-demo-"); err != nil {
			return nil, fmt.Errorf("make the demo's temporary folder: %w", err)
		}
		d.tempDir = true
	} else {
		// The demo LMS keeps its state in memory, so a database of an earlier run names a platform that is gone.
		if _, err := os.Stat(filepath.Join(d.Dir, "ltipub.db")); err == nil {
			return nil, fmt.Errorf("%s already holds the database of an earlier demo; the demo LMS starts afresh each time, so give an empty or new folder (or delete %s)",
				d.Dir, filepath.Join(d.Dir, "ltipub.db"))
		}
		if err := os.MkdirAll(d.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("make the demo folder: %w", err)
		}
	}
	defer func() {
		if err != nil {
			d.close()
		}
	}()

	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--addr %q: %w (give HOST:PORT, such as 127.0.0.1:8081)", addr, err)
	}
	// The demo prints an admin password and lets ltipub reach loopback addresses: it is for this machine only.
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("--addr %q: the demo listens on loopback only (127.0.0.1, ::1 or localhost); use ltipub serve to serve a network", addr)
	}
	lmsLn, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another program using the port? choose another with --addr, or leave it out for a free one)", addr, err)
	}
	toolLn, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		lmsLn.Close()
		return nil, fmt.Errorf("listen for ltipub on %s: %w", host, err)
	}
	urlHost := host
	if strings.Contains(urlHost, ":") {
		urlHost = "[" + urlHost + "]"
	}
	_, lmsPort, _ := net.SplitHostPort(lmsLn.Addr().String())
	_, toolPort, _ := net.SplitHostPort(toolLn.Addr().String())
	d.URL = "http://" + urlHost + ":" + lmsPort
	d.ToolURL = "http://" + urlHost + ":" + toolPort

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.cancel = cancel
	if err := d.startTool(runCtx, toolLn); err != nil {
		lmsLn.Close()
		return nil, err
	}
	// Moodle's ways on top of the reference platform's checks: service URLs that carry a query (?type_id=) and 409
	// for a score not newer than the stored one. The demo is as strict as the strictest LMS ltipub meets.
	d.platform = ltitest.New(ltitest.Config{BaseURL: d.URL, Logger: log.With(slog.String("component", "demo-lms")),
		ProductFamilyCode: "ltipub-demo", ServiceQuery: "type_id=1", RejectStaleScores: true})
	if alt := d.altURL(""); alt != "" {
		d.alt = ltitest.New(ltitest.Config{BaseURL: alt, Logger: log.With(slog.String("component", "demo-lms-other-site")),
			ProductFamilyCode: "ltipub-demo", ServiceQuery: "type_id=1", RejectStaleScores: true})
	}
	d.lms = newLMS(d)
	go func() { d.done <- serve(runCtx, lmsLn, d.lms) }()

	if err := d.setUp(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// startTool opens ltipub on a fresh SQLite database in the demo folder and serves it on ln.
func (d *Demo) startTool(ctx context.Context, ln net.Listener) error {
	cfg := config.Config{Addr: ln.Addr().String(), BaseURL: d.ToolURL, DB: filepath.Join(d.Dir, "ltipub.db"),
		// The demo platform is on loopback: ltipub refuses such URLs unless told, as it should in production.
		AllowPrivateURLs: true, LogLevel: "warn", LogFormat: "text", ClockSkew: 60 * time.Second, KeyOverlap: 72 * time.Hour,
		GradeSyncInterval: 30 * time.Minute, MemberSyncInterval: 0, JobPollInterval: 200 * time.Millisecond}
	if err := cfg.Validate(); err != nil {
		ln.Close()
		return err
	}
	st, err := app.OpenStore(ctx, cfg.DB, d.log)
	if err != nil {
		ln.Close()
		return err
	}
	a, err := app.New(cfg, st, d.log)
	if err != nil {
		ln.Close()
		st.Close()
		return err
	}
	d.app = a
	if err := a.Prepare(ctx); err != nil {
		ln.Close()
		return err
	}
	if err := a.StartJobs(ctx); err != nil {
		ln.Close()
		return err
	}
	go a.RunJanitor(ctx, 10*time.Minute)
	go func() { d.done <- a.Serve(ctx, ln) }()
	return nil
}

func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// setUp makes what a newcomer would otherwise make by hand: the admin, the teacher, the example course published
// as a whole and activity by activity, and the platform registered by dynamic registration.
func (d *Demo) setUp(ctx context.Context) error {
	a := d.app
	d.Password = account.RandomPassword()
	if _, err := a.Accounts.Create(ctx, account.NewUser{Username: "admin", FullName: "Demo administrator", Password: d.Password, IsAdmin: true}); err != nil {
		return fmt.Errorf("create the demo admin: %w (is --dir an old demo's folder? use an empty one)", err)
	}
	// The teacher at the platform owns the course at ltipub: an LTI account, linked below, so that content
	// selection (which never creates accounts) finds the teacher's courses without a sign-in.
	teacher, err := a.Accounts.Create(ctx, account.NewUser{Username: "tess", FullName: teacherName, Auth: account.AuthLTI,
		Email: "tess@demo-lms.example", IsCourseCreator: true})
	if err != nil {
		return fmt.Errorf("create the demo teacher: %w", err)
	}
	if d.course, err = a.Courses.Import(ctx, &teacher, examples.Course); err != nil {
		return fmt.Errorf("import the example course: %w", err)
	}
	in := publish.NewInput(d.course.Course.ID)
	in.MemberSync, in.TeacherMode = true, publish.ModeAuto
	r, err := a.Publish.Publish(ctx, nil, in)
	if err != nil {
		return fmt.Errorf("publish the example course: %w", err)
	}
	d.resources = append(d.resources, r)
	for _, act := range d.course.Activities {
		in.ActivityID = act.ID
		if r, err = a.Publish.Publish(ctx, nil, in); err != nil {
			return fmt.Errorf("publish %q: %w", act.Name, err)
		}
		d.resources = append(d.resources, r)
	}

	var err2 error
	if d.reg, d.clientID, d.deploy, err2 = d.register(ctx, "Demo LMS", d.platform); err2 != nil {
		return err2
	}
	if d.alt != nil {
		if _, d.altClientID, d.altDeploy, err2 = d.register(ctx, "Demo LMS on another site", d.alt); err2 != nil {
			return err2
		}
	}
	if _, err := a.Store.LinkLTIUser(ctx, publish.LTIUser{Issuer: d.platform.Issuer(), Subject: teacherSub,
		RegistrationID: d.reg.ID, UserID: teacher.ID, CreatedAt: time.Now()}); err != nil {
		return fmt.Errorf("link the demo teacher: %w", err)
	}
	d.lms.setUp()
	return nil
}

// register runs LTI Dynamic Registration as an admin would: a pending registration in ltipub, its registration
// URL opened by the platform (here over HTTP rather than in the admin's browser), ltipub registering itself. It
// returns ltipub's registration and the platform's client and deployment IDs.
func (d *Demo) register(ctx context.Context, name string, p *ltitest.Platform) (tool.Registration, string, string, error) {
	a := d.app
	reg, tok, err := a.Platforms.Create(ctx, name)
	if err != nil {
		return reg, "", "", fmt.Errorf("create the platform registration: %w", err)
	}
	u, err := p.StartRegistration(a.Platforms.RegistrationURL(tok))
	if err != nil {
		return reg, "", "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return reg, "", "", err
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return reg, "", "", fmt.Errorf("dynamic registration of %s: %w", name, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return reg, "", "", fmt.Errorf("dynamic registration of %s: ltipub answered %s: %s", name, resp.Status, body)
	}
	if reg, err = a.Platforms.Get(ctx, reg.ID); err != nil {
		return reg, "", "", err
	}
	recs := p.Registrations()
	if !reg.Active() || len(recs) == 0 || recs[len(recs)-1].ClientID == "" {
		return reg, "", "", fmt.Errorf("dynamic registration of %s did not complete: ltipub's registration is %s", name, reg.Status())
	}
	last := recs[len(recs)-1]
	return reg, last.ClientID, last.DeploymentID, nil
}

func (d *Demo) printWelcome(out io.Writer, words func(string, ...any) string) {
	if words != nil {
		where := words("cli.demo.removed", "Dir", d.Dir)
		if !d.tempDir {
			where = words("cli.demo.kept", "Dir", d.Dir)
		}
		fmt.Fprint(out, words("cli.demo.welcome", "URL", d.URL+"/", "ToolURL", d.ToolURL, "Password", d.Password, "Where", where))
		return
	}
	where := d.Dir + " (removed when the demo stops)"
	if !d.tempDir {
		where = d.Dir + " (kept)"
	}
	fmt.Fprintf(out, `ltipub demo: ltipub and a demo LMS are running. Open the demo LMS in your browser:

%s

  ltipub itself:       %s
  ltipub's admin side: username admin, password %s
                       (shown only this once)
  data:                %s
Stop with Ctrl-C.
`, d.URL+"/", d.ToolURL, d.Password, where)
}

// wait stops the servers and the app and reports the first serving error.
func (d *Demo) wait() error {
	d.cancel()
	var first error
	for range 2 {
		if err := <-d.done; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// close releases everything start made; safe after a partial start.
func (d *Demo) close() {
	if d.closed {
		return
	}
	d.closed = true
	if d.cancel != nil {
		d.cancel()
	}
	if d.app != nil {
		d.app.Close()
		d.app.Store.Close()
	}
	if d.tempDir {
		if err := os.RemoveAll(d.Dir); err != nil {
			d.log.Warn("remove the demo folder", slog.String("dir", d.Dir), slog.Any("error", err))
		}
	}
}

// altURL is path on the other loopback name of the demo LMS, where the second platform lives: a page there is
// another site than ltipub, as a real LMS is, so a browser treats ltipub's cookies in its iframe as third-party
// cookies. Empty when there is no other name.
func (d *Demo) altURL(path string) string {
	u, err := url.Parse(d.URL)
	if err != nil {
		return ""
	}
	switch u.Hostname() {
	case "127.0.0.1":
		u.Host = "localhost:" + u.Port()
	case "localhost":
		u.Host = "127.0.0.1:" + u.Port()
	default:
		return ""
	}
	return u.String() + path
}

package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti/lti11/lti11test"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// Statement budgets of a launch (issue 19), counted at the database driver: every statement, BEGIN and COMMIT
// that the launch's requests to ltipub issue — the login initiation and the id_token post for LTI 1.3, the signed
// post for LTI 1.1 — up to the redirect to the landing page. The landing page is a page view like any other and
// is reported apart.
const (
	budgetFirstLaunch     = 12
	budgetReturningLaunch = 8
)

// perRequest records the statements of each request to ltipub, in order.
type perRequest struct {
	inner   http.RoundTripper
	counter *sqltest.Counter
	host    string
	mu      sync.Mutex
	got     []requestStatements
}

type requestStatements struct {
	name  string
	stmts []string
}

func (p *perRequest) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != p.host {
		return p.inner.RoundTrip(r)
	}
	p.counter.Start()
	resp, err := p.inner.RoundTrip(r)
	// The handler has finished once the response headers are back, except for a streamed body, which ltipub's
	// launch responses are not (pages are rendered to a buffer first).
	stmts := p.counter.Stop()
	p.mu.Lock()
	p.got = append(p.got, requestStatements{r.Method + " " + r.URL.Path, stmts})
	p.mu.Unlock()
	return resp, err
}

func (p *perRequest) take() []requestStatements {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.got
	p.got = nil
	return out
}

// launchCost sums the statements of the launch requests and describes every request, for the failure message.
func launchCost(reqs []requestStatements) (int, string) {
	n := 0
	var b strings.Builder
	for _, r := range reqs {
		launchReq := strings.Contains(r.name, " /lti/")
		if launchReq {
			n += len(r.stmts)
		}
		fmt.Fprintf(&b, "\n  %s: %d statements (in budget: %v)", r.name, len(r.stmts), launchReq)
		for _, s := range r.stmts {
			if len(s) > 140 {
				s = s[:140] + "…"
			}
			fmt.Fprintf(&b, "\n      %s", s)
		}
	}
	return n, b.String()
}

// landingReadsOnly fails when the landing page (every request after the launch's own) writes: a page view reads,
// and the session is written by the launch that changed it, not again by the page (scs's IdleTimeout did).
func landingReadsOnly(t *testing.T, reqs []requestStatements) {
	t.Helper()
	for _, r := range reqs {
		if strings.Contains(r.name, " /lti/") {
			continue
		}
		for _, s := range r.stmts {
			verb, _, _ := strings.Cut(strings.TrimSpace(s), " ")
			switch strings.ToUpper(verb) {
			case "INSERT", "UPDATE", "REPLACE", "DELETE", "BEGIN":
				t.Errorf("the landing page %s writes: %s", r.name, s)
			}
		}
	}
}

// logRowInTransaction fails unless the launch log row of a first launch is written once, inside the
// provisioning transaction (between its BEGIN and COMMIT), so that the launch commits once for both.
func logRowInTransaction(t *testing.T, what string, reqs []requestStatements) {
	t.Helper()
	writes, inside := 0, 0
	for _, r := range reqs {
		if strings.Contains(r.name, "/lti/login") { // the login's own row, which the launch finishes
			continue
		}
		inTx := false
		for _, s := range r.stmts {
			verb, _, _ := strings.Cut(strings.TrimSpace(s), " ")
			switch strings.ToUpper(verb) {
			case "BEGIN":
				inTx = true
			case "COMMIT", "ROLLBACK":
				inTx = false
			case "INSERT", "UPDATE":
				if strings.Contains(s, "launch_log") {
					writes++
					if inTx {
						inside++
					}
				}
			}
		}
	}
	if writes != 1 || inside != 1 {
		t.Errorf("%s: the launch log row was written %d times, %d of them in the provisioning transaction; want once, inside", what, writes, inside)
	}
}

func TestLaunchStatementBudget(t *testing.T) {
	t.Parallel()
	for _, engine := range sqltest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			counter := &sqltest.Counter{}
			// Long cache lifetimes: on a busy machine a launch can take longer than the default 3 s, and a cache
			// that expires between the warm-up and the counted launch would add its reads to the count.
			inst := apptest.Start(t, apptest.Options{Engine: engine, WrapConnector: counter.Wrap,
				Configure: func(c *config.Config) { c.CacheTTL = 10 * time.Minute }})
			imported := inst.ExampleCourse(t, "")
			in := publish.NewInput(imported.Course.ID)
			in.ActivityID = apptest.Activity(imported, course.TypeQuiz).ID
			r := inst.Publish(t, in)
			host := strings.TrimPrefix(inst.URL, "http://")

			t.Run("lti13", func(t *testing.T) {
				p := ltitest.NewServer(t, ltitest.Config{})
				inst.Platform(t, p, "client-budget")
				spec := func(sub string) ltitest.LaunchSpec {
					return ltitest.LaunchSpec{
						User:         &ltitest.User{Sub: sub, Name: "Budget User", Email: sub + "@example.edu"},
						Roles:        []string{ltitest.RoleLearner},
						Context:      &ltitest.Context{ID: "ctx-budget"},
						ResourceLink: &ltitest.ResourceLink{ID: "rl-budget"},
						Custom:       map[string]string{"id": r.UUID},
						AGS:          &ltitest.AGS{}, NRPS: true,
					}
				}
				launchOnce := func(sub string, jar http.CookieJar) []requestStatements {
					t.Helper()
					tr := &perRequest{inner: http.DefaultTransport, counter: counter, host: host}
					res, err := p.Launch(context.Background(), &http.Client{Jar: jar, Transport: tr}, spec(sub))
					if err != nil || res.Response.StatusCode != http.StatusOK || !strings.Contains(string(res.Body), "Solar System quiz") {
						t.Fatalf("launch %s: %v %d", sub, err, res.Response.StatusCode)
					}
					reqs := tr.take()
					landingReadsOnly(t, reqs)
					return reqs
				}
				// A first launch warms what every instance caches after its first launch (the platform's key set,
				// the tool's keys); it is not counted.
				jar0, _ := cookiejar.New(nil)
				launchOnce("warm-up", jar0)

				jar, _ := cookiejar.New(nil)
				first := launchOnce("budget-new", jar)
				n, detail := launchCost(first)
				t.Logf("first launch: %d statements%s", n, detail)
				logRowInTransaction(t, "a first launch", first)
				if n > budgetFirstLaunch {
					t.Errorf("a first launch costs %d statements, over the budget of %d:%s", n, budgetFirstLaunch, detail)
				}
				// The same person again, in a new browser (a new session), and in the same browser.
				for _, again := range []string{"new browser", "same browser"} {
					j := jar
					if again == "new browser" {
						j, _ = cookiejar.New(nil)
					}
					n, detail := launchCost(launchOnce("budget-new", j))
					t.Logf("returning launch (%s): %d statements%s", again, n, detail)
					if n > budgetReturningLaunch {
						t.Errorf("a returning launch (%s) costs %d statements, over the budget of %d:%s", again, n, budgetReturningLaunch, detail)
					}
				}
			})

			t.Run("lti11", func(t *testing.T) {
				c := lti11test.New(t, "budget-key", "")
				c.Secret = r.LegacySecret
				u := publish.LegacyLaunchURL(inst.URL, r.UUID)
				launchOnce := func(uid string, jar http.CookieJar) []requestStatements {
					t.Helper()
					form, err := c.Sign(u, c.LaunchParams("rl-budget-11", uid, "Learner"))
					if err != nil {
						t.Fatal(err)
					}
					tr := &perRequest{inner: http.DefaultTransport, counter: counter, host: host}
					resp, err := (&http.Client{Jar: jar, Transport: tr}).PostForm(u, form)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("LTI 1.1 launch %s: %d", uid, resp.StatusCode)
					}
					reqs := tr.take()
					landingReadsOnly(t, reqs)
					return reqs
				}
				jar0, _ := cookiejar.New(nil)
				launchOnce("warm-up", jar0)
				jar, _ := cookiejar.New(nil)
				first := launchOnce("budget-11", jar)
				n, detail := launchCost(first)
				t.Logf("first LTI 1.1 launch: %d statements%s", n, detail)
				logRowInTransaction(t, "a first LTI 1.1 launch", first)
				if n > budgetFirstLaunch {
					t.Errorf("a first LTI 1.1 launch costs %d statements, over the budget of %d:%s", n, budgetFirstLaunch, detail)
				}
				for _, again := range []string{"new browser", "same browser"} {
					j := jar
					if again == "new browser" {
						j, _ = cookiejar.New(nil)
					}
					n, detail := launchCost(launchOnce("budget-11", j))
					t.Logf("returning LTI 1.1 launch (%s): %d statements%s", again, n, detail)
					if n > budgetReturningLaunch {
						t.Errorf("a returning LTI 1.1 launch (%s) costs %d statements, over the budget of %d:%s", again, n, budgetReturningLaunch, detail)
					}
				}
			})
		})
	}
}

// TestCachesFollowOtherInstances: registrations and published resources are cached per instance; a change made
// on another instance (or by the CLI, straight in the database) applies on this one within 5 seconds.
func TestCachesFollowOtherInstances(t *testing.T) {
	t.Parallel()
	a := apptest.Start(t, apptest.Options{Engine: sqlstore.Postgres})
	b := apptest.Start(t, apptest.Options{DSN: a.DSN})
	p := ltitest.NewServer(t, ltitest.Config{})
	reg := tool.Registration{Name: "Shared platform", Issuer: p.Issuer(), ClientID: "client-shared",
		JWKSURL: p.JWKSURL(), TokenURL: p.TokenURL(), AuthURL: p.AuthURL()}
	ctx := context.Background()
	if err := a.Store.CreateRegistration(ctx, &reg); err != nil {
		t.Fatal(err)
	}
	if err := a.Store.AddDeployment(ctx, &tool.Deployment{RegistrationID: reg.ID, DeploymentID: "deployment-1"}); err != nil {
		t.Fatal(err)
	}
	// The platform knows the tool by instance b's URLs: every launch goes to b.
	if err := p.RegisterTool(ltitest.ToolConfig{ClientID: reg.ClientID, DeploymentIDs: []string{"deployment-1"},
		LoginURL: b.URL + "/lti/login", RedirectURIs: []string{b.URL + "/lti/launch"}, JWKSURL: b.URL + "/lti/jwks",
		TargetLinkURI: b.URL + "/lti/launch", Name: "ltipub"}); err != nil {
		t.Fatal(err)
	}
	imported := a.ExampleCourse(t, "")
	r := a.Publish(t, publish.NewInput(imported.Course.ID))
	spec := ltitest.LaunchSpec{User: &ltitest.User{Sub: "shared-1", Name: "Shared User"}, Roles: []string{ltitest.RoleLearner},
		ResourceLink: &ltitest.ResourceLink{ID: "rl-shared"}, Custom: map[string]string{"id": r.UUID}}
	launchStatus := func() (int, string) {
		res, err := p.Launch(ctx, newLaunchClient(), spec)
		if err != nil {
			t.Fatal(err)
		}
		return res.Response.StatusCode, string(res.Body)
	}
	if status, body := launchStatus(); status != http.StatusOK {
		t.Fatalf("launch through b: %d %s", status, body)
	}
	within := func(what string, refused func(status int, body string) bool) {
		t.Helper()
		start := time.Now()
		for {
			status, body := launchStatus()
			if refused(status, body) {
				t.Logf("%s applied on the other instance after %s", what, time.Since(start).Round(time.Millisecond))
				return
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("%s on instance a still not applied on instance b after 5 s: %d", what, status)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// A teacher disables the resource on instance a.
	if _, err := a.App.Publish.SetEnabled(ctx, nil, r.ID, false); err != nil {
		t.Fatal(err)
	}
	within("disabling the resource", func(status int, body string) bool {
		return status == http.StatusForbidden && strings.Contains(body, "disabled")
	})
	if _, err := a.App.Publish.SetEnabled(ctx, nil, r.ID, true); err != nil {
		t.Fatal(err)
	}
	within("enabling the resource", func(status int, _ string) bool { return status == http.StatusOK })
	// The CLI (another process: straight in the database) removes the registration's only deployment.
	if err := a.Store.RemoveDeployment(ctx, reg.ID, "deployment-1"); err != nil {
		t.Fatal(err)
	}
	within("removing the deployment", func(status int, body string) bool {
		return status == http.StatusBadRequest && strings.Contains(body, "pending")
	})
}

// TestLaunchLogOneRowPerLaunch: a launch that stops for the account choice and lands afterwards, and one that is
// refused while landing, each leave one launch log row, finished with the outcome.
func TestLaunchLogOneRowPerLaunch(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	in := publish.NewInput(w.course.ID)
	in.StudentMode = publish.ModePrompt
	r := w.publish(t, in)
	rows := func(sub string) []launch.LogEntry {
		all, err := w.inst.Store.LaunchLog(context.Background(), launch.LogFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var out []launch.LogEntry
		for _, e := range all {
			if e.Subject == sub {
				out = append(out, e)
			}
		}
		return out
	}
	b := w.browser(t)
	if resp := b.launch(spec("log-choice", false, r)); !strings.Contains(resp.Body, "Create a new account for me") {
		t.Fatalf("no account choice: %d", resp.StatusCode)
	}
	if got := rows("log-choice"); len(got) != 1 || got[0].Outcome != launch.Accepted || got[0].Stage != launch.StageLaunch {
		t.Fatalf("launch log while choosing: %+v", got)
	}
	if resp := b.post("/launch/account/new", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the choice: %d", resp.StatusCode)
	}
	if got := rows("log-choice"); len(got) != 1 || got[0].Outcome != launch.Accepted || got[0].Subject != "log-choice" {
		t.Fatalf("launch log after the choice: %+v", got)
	}
	// Disabled: the launch is valid, landing refuses; its row says why.
	if _, err := w.inst.App.Publish.SetEnabled(context.Background(), nil, r.ID, false); err != nil {
		t.Fatal(err)
	}
	if resp := w.browser(t).launch(spec("log-refused", false, r)); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("disabled resource: %d", resp.StatusCode)
	}
	if got := rows("log-refused"); len(got) != 1 || got[0].Outcome != launch.Refused || got[0].Code != "resource_disabled" {
		t.Fatalf("launch log of a refused landing: %+v", got)
	}
}

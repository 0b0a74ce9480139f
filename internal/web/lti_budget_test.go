package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
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

func TestLaunchStatementBudget(t *testing.T) {
	t.Parallel()
	for _, engine := range sqltest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			counter := &sqltest.Counter{}
			inst := apptest.Start(t, apptest.Options{Engine: engine, WrapConnector: counter.Wrap})
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
					return tr.take()
				}
				// A first launch warms what every instance caches after its first launch (the platform's key set,
				// the tool's keys); it is not counted.
				jar0, _ := cookiejar.New(nil)
				launchOnce("warm-up", jar0)

				jar, _ := cookiejar.New(nil)
				n, detail := launchCost(launchOnce("budget-new", jar))
				t.Logf("first launch: %d statements%s", n, detail)
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
					return tr.take()
				}
				jar0, _ := cookiejar.New(nil)
				launchOnce("warm-up", jar0)
				jar, _ := cookiejar.New(nil)
				n, detail := launchCost(launchOnce("budget-11", jar))
				t.Logf("first LTI 1.1 launch: %d statements%s", n, detail)
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

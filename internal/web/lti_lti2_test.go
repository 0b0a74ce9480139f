package web_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/secrets"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/lti/lti11"
	"github.com/ltipub/ltipub/lti/lti11/lti11test"
)

// postNoFollow posts a form and returns the tool's own answer (a redirect back to the platform is not followed:
// the platform's return page is not part of the test).
func postNoFollow(t *testing.T, u string, form url.Values) apptest.Response {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return apptest.Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// A platform registers the quiz over LTI 2.0 with the strict reference consumer (shared secret, then split
// secret), launches it with the tool proxy's credentials, and receives the grade by Basic Outcomes.
func TestLTI2RegistrationLaunchAndOutcome(t *testing.T) {
	t.Parallel()
	// A shared secret on SQLite, a split one on PostgreSQL.
	for _, tt := range []struct {
		split  bool
		engine sqlstore.Engine
	}{{false, sqlstore.SQLite}, {true, sqlstore.Postgres}} {
		split := tt.split
		t.Run(fmt.Sprintf("split=%v/%s", split, tt.engine), func(t *testing.T) {
			t.Parallel()
			w := newLegacyWorld(t, apptest.Options{Engine: tt.engine})
			w.c.SetLTI2(lti11test.LTI2Accept, split)
			regURL := publish.RegistrationURL(w.inst.URL, w.quizR)

			// The teacher finds the registration URL in the quiz's Legacy details.
			tc := w.inst.Client(t)
			w.inst.Login(t, tc, "admin", apptest.AdminPassword)
			if page := w.inst.Get(t, tc, fmt.Sprintf("/courses/%d/published", w.course.ID)); !strings.Contains(page.Body, html.EscapeString(regURL)) ||
				!strings.Contains(page.Body, "Registration URL (LTI 2.0)") {
				t.Fatalf("the published page does not show the registration URL %s", regURL)
			}

			form, _, err := w.c.RegistrationForm(regURL)
			if err != nil {
				t.Fatal(err)
			}
			resp := postNoFollow(t, regURL, form)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("registration: %d %s (consumer refused: %v)", resp.StatusCode, resp.Body, w.c.Rejected())
			}
			back, err := url.Parse(resp.Header.Get("Location"))
			if err != nil || !strings.HasPrefix(back.String(), strings.Split(w.c.ReturnURL(), "?")[0]) || back.Query().Get("id") != "7" ||
				back.Query().Get("status") != "success" || back.Query().Get("lti_msg") == "" {
				t.Fatalf("the browser goes back to %s", resp.Header.Get("Location"))
			}
			guid := back.Query().Get("tool_proxy_guid")
			rec, ok := w.c.ToolProxy(guid)
			if !ok || rec.Split != split {
				t.Fatalf("the platform has no tool proxy %q (split %v): %+v", guid, split, w.c.ToolProxies())
			}
			// The tool keeps the agreed secret, sealed at rest.
			tp, err := w.inst.Store.ToolProxy(context.Background(), w.quizR.ID, guid)
			if err != nil || tp.Secret != rec.Secret || tp.SplitSecret != split || tp.ConsumerName != w.c.InstanceName ||
				strings.Contains(tp.Proxy, rec.Secret[len(rec.Secret)-20:]) {
				t.Fatalf("stored tool proxy %+v %v", tp, err)
			}
			var raw string
			if err := w.inst.Store.DB().QueryRow(`SELECT secret FROM lti2_tool_proxies WHERE guid = '` + guid + `'`).Scan(&raw); err != nil || !secrets.IsSealed(raw) {
				t.Fatalf("the secret is not sealed at rest: %q %v", raw, err)
			}

			// The platform launches the quiz through its tool proxy: the learner lands in it, contained.
			launchURL := publish.LegacyLaunchURL(w.inst.URL, w.quizR.UUID)
			signed, err := w.c.SignLTI2(guid, launchURL, w.c.WithService(w.c.LaunchParams("rl-lti2", "s20", rolesLearner), "src-s20"))
			if err != nil {
				t.Fatal(err)
			}
			b := w.browser(t)
			land := b.post(launchURL, signed, nil)
			if land.StatusCode != http.StatusOK || !strings.Contains(land.Body, w.quiz.Name) {
				t.Fatalf("launch: %d %s", land.StatusCode, land.Body)
			}
			if r := b.get(fmt.Sprintf("/courses/%d", w.other.ID)); r.StatusCode != http.StatusForbidden {
				t.Errorf("another course from an LTI 2.0 launch: %d", r.StatusCode)
			}
			lu, err := w.inst.Store.LTIUser(context.Background(), lti11.PlatformID(guid, w.c.InstanceGUID), "s20")
			if err != nil {
				t.Fatalf("the learner is not linked to the tool proxy's platform: %v", err)
			}
			if role := w.role(t, lu.UserID); role != course.RoleStudent {
				t.Errorf("enrolled as %q", role)
			}

			// The grade goes back by Basic Outcomes, signed with the tool proxy's credentials.
			if _, err := w.inst.Store.PutGrade(context.Background(), course.GradeChange{ActivityID: w.quiz.ID, UserID: lu.UserID,
				Grade: w.quiz.MaxGrade * 0.75, MaxGrade: w.quiz.MaxGrade, At: time.Now()}); err != nil {
				t.Fatal(err)
			}
			run, err := w.inst.App.Jobs.SyncGrades(context.Background(), jobs.CauseManual, w.quizR.ID, 0)
			if err != nil || run.Sent != 1 {
				t.Fatalf("grade sync %+v %v (consumer refused: %v)", run, err, w.c.Rejected())
			}
			if s, _ := w.c.Score("src-s20"); s != "0.75" {
				t.Fatalf("the platform's gradebook has %q, want 0.75", s)
			}
			if len(w.c.Rejected()) != 0 {
				t.Fatalf("the consumer refused requests: %v", w.c.Rejected())
			}

			// The teacher sees the registration, and removes it: the platform's launches stop.
			page := w.inst.Get(t, tc, fmt.Sprintf("/courses/%d/published", w.course.ID))
			if !strings.Contains(page.Body, fmt.Sprintf(`id="tool-proxy-%d"`, tp.ID)) || !strings.Contains(page.Body, guid) {
				t.Fatalf("the published page does not list tool proxy %s", guid)
			}
			defer func() {
				rm := w.inst.PostForm(t, tc, fmt.Sprintf("/courses/%d/published/%d/legacy/toolproxies/%d/delete", w.course.ID, w.quizR.ID, tp.ID), nil)
				if rm.StatusCode != http.StatusSeeOther {
					t.Fatalf("remove: %d %s", rm.StatusCode, rm.Body)
				}
				again, _ := w.c.SignLTI2(guid, launchURL, w.c.LaunchParams("rl-lti2", "s20", rolesLearner))
				if r := w.browser(t).post(launchURL, again, nil); r.StatusCode != http.StatusUnauthorized {
					t.Errorf("a launch through a removed tool proxy: %d", r.StatusCode)
				}
			}()

			// The tool proxy's GUID signed with the resource's LTI 1.1 secret is refused: its secret is the agreed one.
			w.c.Key, w.c.Secret = guid, w.quizR.LegacySecret
			forged, _ := w.c.Sign(launchURL, w.c.LaunchParams("rl-lti2", "s21", rolesLearner))
			if r := w.browser(t).post(launchURL, forged, nil); r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, "registration agreed") {
				t.Errorf("a launch as the tool proxy with the 1.1 secret: %d", r.StatusCode)
			}
		})
	}
}

// Each way a registration fails has its own page (with the way back to the platform, status=failure), launch
// log row and log line; nothing is registered.
func TestLTI2RegistrationFailures(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	w := newLegacyWorld(t, apptest.Options{LogOutput: logs})
	regURL := publish.RegistrationURL(w.inst.URL, w.quizR)
	tamper := func(f url.Values) url.Values {
		f.Set("launch_presentation_return_url", "https://attacker.example/return")
		return f
	}
	tests := []struct {
		name    string
		mode    lti11test.LTI2Mode
		change  func(url.Values) url.Values
		url     string
		status  int
		code    string
		cause   string
		returns bool
	}{
		{"profile unreachable", lti11test.LTI2ProfileDown, nil, regURL, http.StatusBadGateway, "lti2_profile_unreachable",
			"tool consumer profile at " + w.c.ProfileURL() + " could not be fetched: it answered HTTP 503", true},
		{"profile lacks the ToolProxy service", lti11test.LTI2NoToolProxyService, nil, regURL, http.StatusBadRequest, "lti2_service_missing",
			"offers no ToolProxy service", true},
		{"registration signature rejected", lti11test.LTI2Accept, tamper, regURL, http.StatusUnauthorized, "lti11_bad_signature",
			"The registration request&#39;s OAuth signature is not valid", true},
		{"platform refuses the tool proxy", lti11test.LTI2RefuseToolProxy, nil, regURL, http.StatusBadGateway, "lti2_tool_proxy_refused",
			"The platform refused the tool proxy: its ToolProxy service answered HTTP 400 (Tool proxy rejected)", true},
		{"registration URL of a regenerated secret", lti11test.LTI2Accept, nil, regURL[:len(regURL)-4] + "AAAA", http.StatusNotFound,
			"lti2_registration_url_unknown", "its secret was regenerated since it was copied", false},
	}
	for _, tt := range tests {
		w.c.SetLTI2(tt.mode, false)
		form, _, err := w.c.RegistrationForm(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if tt.change != nil {
			form = tt.change(form)
		}
		resp := postNoFollow(t, tt.url, form)
		if resp.StatusCode != tt.status || !strings.Contains(resp.Body, "The LTI 2.0 registration failed") || !strings.Contains(resp.Body, tt.cause) {
			t.Errorf("%s: %d, want %d with %q:\n%s", tt.name, resp.StatusCode, tt.status, tt.cause, resp.Body)
			continue
		}
		if !strings.Contains(resp.Body, `id="problem-fix"`) {
			t.Errorf("%s: the page names no fix", tt.name)
		}
		if tt.returns && (!strings.Contains(resp.Body, `id="lti2-return"`) || !strings.Contains(resp.Body, "status=failure") ||
			!strings.Contains(resp.Body, "lti_errormsg=")) {
			t.Errorf("%s: no way back to the platform with status=failure:\n%s", tt.name, resp.Body)
		}
		if !tt.returns && strings.Contains(resp.Body, `id="lti2-return"`) {
			t.Errorf("%s: a way back to a return URL nobody vouched for", tt.name)
		}
		if !strings.Contains(logs.String(), "code="+tt.code) {
			t.Errorf("%s: no log line with code=%s", tt.name, tt.code)
		}
	}
	if n := len(w.c.ToolProxies()); n != 0 {
		t.Errorf("the platform accepted %d tool proxies", n)
	}
	if tps, err := w.inst.Store.ToolProxies(context.Background(), w.quizR.ID); err != nil || len(tps) != 0 {
		t.Errorf("the tool recorded tool proxies: %+v %v", tps, err)
	}
	rows, err := w.inst.App.Launches.LaunchLog(context.Background(), launch.LogFilter{Outcome: launch.Refused})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		if r.Stage == launch.StageRegistration {
			seen[r.Code] = true
		}
	}
	for _, tt := range tests {
		if !seen[tt.code] {
			t.Errorf("no refused registration with code %s in the launch log: %+v", tt.code, seen)
		}
	}
	// A registration sent to the launch URL says which URL to use.
	form, _, _ := w.c.RegistrationForm(publish.LegacyLaunchURL(w.inst.URL, w.quizR.UUID))
	if r := postNoFollow(t, publish.LegacyLaunchURL(w.inst.URL, w.quizR.UUID), form); r.StatusCode != http.StatusBadRequest ||
		!strings.Contains(r.Body, "Registration URL (LTI 2.0)") {
		t.Errorf("a registration at the launch URL: %d %s", r.StatusCode, r.Body)
	}
	// A GET of the registration URL explains it.
	if r := w.inst.Get(t, w.inst.Client(t), strings.TrimPrefix(regURL, w.inst.URL)); r.StatusCode != http.StatusMethodNotAllowed ||
		!strings.Contains(r.Body, "LTI 2.0 registration URL") {
		t.Errorf("GET of the registration URL: %d", r.StatusCode)
	}
}

package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// world is an instance with the example course imported, published as a whole and as its quiz, and the
// reference platform registered.
type world struct {
	inst     *apptest.Instance
	p        *ltitest.Platform
	course   course.Course
	quiz     course.Activity
	page     course.Activity
	courseR  publish.Resource
	quizR    publish.Resource
	other    course.Course
	otherAct course.Activity
}

func newWorld(t *testing.T) *world {
	t.Helper()
	inst := apptest.Start(t, apptest.Options{})
	p := ltitest.NewServer(t, ltitest.Config{})
	inst.Platform(t, p, "client-1")
	imported := inst.ExampleCourse(t, "")
	other := inst.ExampleCourse(t, "ASTRO102")
	w := &world{inst: inst, p: p, course: imported.Course, other: other.Course, otherAct: other.Activities[0],
		quiz: apptest.Activity(imported, course.TypeQuiz), page: apptest.Activity(imported, course.TypePage)}
	w.courseR = w.publish(t, publish.NewInput(w.course.ID))
	in := publish.NewInput(w.course.ID)
	in.ActivityID = w.quiz.ID
	w.quizR = w.publish(t, in)
	return w
}

func (w *world) publish(t *testing.T, in publish.Input) publish.Resource {
	t.Helper()
	return w.inst.Publish(t, in)
}

// browser is a launched person: a cookie jar that does not follow redirects, so each hop is visible.
type browser struct {
	t      *testing.T
	w      *world
	client *http.Client
}

func (w *world) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, w: w, client: &http.Client{Jar: jar}}
}

func spec(sub string, teacher bool, r publish.Resource) ltitest.LaunchSpec {
	role := ltitest.RoleLearner
	if teacher {
		role = ltitest.RoleInstructor
	}
	return ltitest.LaunchSpec{
		User:         &ltitest.User{Sub: sub, Name: "Person " + sub, Email: sub + "@school.example"},
		Roles:        []string{role},
		Context:      &ltitest.Context{ID: "platform-course-1", Title: "Platform course"},
		ResourceLink: &ltitest.ResourceLink{ID: "link-" + r.UUID[:8]},
		Custom:       map[string]string{"id": r.UUID},
		AGS:          &ltitest.AGS{}, NRPS: true,
	}
}

// launch runs a launch and follows the tool's redirects inside the tool; it returns the final response.
func (b *browser) launch(s ltitest.LaunchSpec) apptest.Response {
	b.t.Helper()
	b.client.CheckRedirect = nil
	res, err := b.w.p.Launch(context.Background(), b.client, s)
	if err != nil {
		b.t.Fatal(err)
	}
	return apptest.Response{StatusCode: res.Response.StatusCode, Header: res.Response.Header, Body: string(res.Body)}
}

func (b *browser) get(path string) apptest.Response {
	b.t.Helper()
	return b.w.inst.Get(b.t, b.client, path)
}

func (b *browser) post(path string, form url.Values) apptest.Response {
	b.t.Helper()
	noFollow := *b.client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return b.w.inst.PostForm(b.t, &noFollow, path, form)
}

func (w *world) linkedUser(t *testing.T, sub string) (account.User, bool) {
	t.Helper()
	lu, err := w.inst.Store.LTIUser(context.Background(), w.p.Issuer(), sub)
	if err != nil {
		return account.User{}, false
	}
	u, err := w.inst.Store.UserByID(context.Background(), lu.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return u, true
}

func (w *world) enrolment(t *testing.T, userID int64) (course.Enrolment, bool) {
	t.Helper()
	es, err := w.inst.Store.EnrolmentsOf(context.Background(), w.course.ID, userID)
	if err != nil || len(es) == 0 {
		return course.Enrolment{}, false
	}
	return es[0], true
}

func TestProvisioningModes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	existing := w.inst.EnsureUser(t, account.NewUser{Username: "existing", FullName: "Eve Existing", Password: "existing-password"})
	existing2 := w.inst.EnsureUser(t, account.NewUser{Username: "existing2", FullName: "Ed Existing", Password: "existing-password"})
	_ = existing2

	for _, mode := range publish.Modes {
		for _, teacher := range []bool{false, true} {
			name := fmt.Sprintf("%s/teacher=%v", mode, teacher)
			t.Run(name, func(t *testing.T) {
				in := publish.NewInput(w.course.ID)
				in.StudentMode, in.TeacherMode = mode, mode
				r := w.publish(t, in)
				sub := fmt.Sprintf("sub-%s-%v", mode, teacher)
				b := w.browser(t)
				resp := b.launch(spec(sub, teacher, r))
				wantRole := course.RoleStudent
				if teacher {
					wantRole = course.RoleTeacher
				}
				switch mode {
				case publish.ModeAuto:
					if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, w.course.FullName) {
						t.Fatalf("auto mode should land in the course: %d %s", resp.StatusCode, resp.Body)
					}
					u, ok := w.linkedUser(t, sub)
					if !ok || u.Auth != account.AuthLTI || u.FullName != "Person "+sub || u.Email != sub+"@school.example" {
						t.Fatalf("auto mode made no proper account: %+v %v", u, ok)
					}
				case publish.ModePrompt:
					if !strings.Contains(resp.Body, "Create a new account for me") || !strings.Contains(resp.Body, "Sign in with my existing account") {
						t.Fatalf("prompt mode should offer both choices: %s", resp.Body)
					}
					if _, ok := w.linkedUser(t, sub); ok {
						t.Fatal("prompt mode linked an account before the person chose")
					}
					if teacher {
						// Choose the existing account.
						resp = b.post("/launch/account/signin", url.Values{"username": {"existing"}, "password": {"wrong"}})
						if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Body, "wrong") {
							t.Fatalf("a wrong password should be refused on the choice page: %d", resp.StatusCode)
						}
						resp = b.post("/launch/account/signin", url.Values{"username": {"existing"}, "password": {"existing-password"}})
					} else {
						resp = b.post("/launch/account/new", nil)
					}
					if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != fmt.Sprintf("/courses/%d", w.course.ID) {
						t.Fatalf("after the choice: %d → %q %s", resp.StatusCode, resp.Header.Get("Location"), resp.Body)
					}
					u, ok := w.linkedUser(t, sub)
					if !ok {
						t.Fatal("no account linked after the choice")
					}
					if teacher && u.ID != existing.ID {
						t.Fatalf("linked to %s, want the existing account", u.Username)
					}
					if !teacher && u.Auth != account.AuthLTI {
						t.Fatalf("'create new' made a %s account", u.Auth)
					}
				case publish.ModeExisting:
					if !strings.Contains(resp.Body, "There is no other way in") || strings.Contains(resp.Body, "Create a new account") {
						t.Fatalf("existing-only mode: %s", resp.Body)
					}
					// Asking for a new account anyway gets the choice page again, and nothing is created.
					users, _ := w.inst.Store.CountUsers(context.Background())
					resp = b.post("/launch/account/new", nil)
					if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/launch/account" {
						t.Fatalf("existing-only must not create accounts: %d %q", resp.StatusCode, resp.Header.Get("Location"))
					}
					if after, _ := w.inst.Store.CountUsers(context.Background()); after != users {
						t.Fatal("an account was created in existing-only mode")
					}
					who := "existing2"
					if teacher {
						who = "existing"
					}
					resp = b.post("/launch/account/signin", url.Values{"username": {who}, "password": {"existing-password"}})
					if resp.StatusCode != http.StatusSeeOther {
						t.Fatalf("sign in: %d %s", resp.StatusCode, resp.Body)
					}
				}
				u, _ := w.linkedUser(t, sub)
				if e, ok := w.enrolment(t, u.ID); !ok || (e.Method == course.MethodLTI && e.Role != wantRole) {
					t.Fatalf("enrolment %+v (ok=%v), want role %s", e, ok, wantRole)
				}

				// A second launch of the now linked user lands directly, whatever the mode.
				again := w.browser(t).launch(spec(sub, teacher, r))
				if again.StatusCode != http.StatusOK || !strings.Contains(again.Body, w.course.FullName) {
					t.Fatalf("linked user's second launch: %d %s", again.StatusCode, again.Body)
				}
			})
		}
	}
}

func TestProvisioningPrecedence(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	auto := w.courseR // student mode auto
	in := publish.NewInput(w.course.ID)
	in.StudentMode = publish.ModePrompt
	prompting := w.publish(t, in)
	in.StudentMode = publish.ModeExisting
	existingOnly := w.publish(t, in)

	// An account created automatically first is reused later, even by a prompting resource.
	w.browser(t).launch(spec("first-auto", false, auto))
	u1, _ := w.linkedUser(t, "first-auto")
	resp := w.browser(t).launch(spec("first-auto", false, prompting))
	if resp.StatusCode != http.StatusOK || strings.Contains(resp.Body, "Create a new account") {
		t.Fatalf("a prompting resource asked an already linked user: %d", resp.StatusCode)
	}
	if u, _ := w.linkedUser(t, "first-auto"); u.ID != u1.ID {
		t.Fatal("the link changed")
	}

	// An existing account linked first is reused later, even by an automatic resource.
	mine := w.inst.EnsureUser(t, account.NewUser{Username: "mine", Password: "mine-password-1"})
	b := w.browser(t)
	b.launch(spec("first-existing", false, existingOnly))
	b.post("/launch/account/signin", url.Values{"username": {"mine"}, "password": {"mine-password-1"}})
	users, _ := w.inst.Store.CountUsers(context.Background())
	resp = w.browser(t).launch(spec("first-existing", false, auto))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("auto launch of a linked user: %d", resp.StatusCode)
	}
	if u, _ := w.linkedUser(t, "first-existing"); u.ID != mine.ID {
		t.Fatalf("linked to %d, want %d", u.ID, mine.ID)
	}
	if after, _ := w.inst.Store.CountUsers(context.Background()); after != users {
		t.Fatal("an automatic resource created an account for a linked user")
	}

	// Names and emails of accounts the tool made follow later launches; accounts people made stay theirs.
	s := spec("first-auto", false, auto)
	s.User.Name, s.User.Email = "Renamed Person", "renamed@school.example"
	w.browser(t).launch(s)
	if u, _ := w.linkedUser(t, "first-auto"); u.FullName != "Renamed Person" || u.Email != "renamed@school.example" {
		t.Fatalf("LTI account not updated: %+v", u)
	}
	s = spec("first-existing", false, auto)
	s.User.Name = "Someone Else"
	w.browser(t).launch(s)
	if u, _ := w.linkedUser(t, "first-existing"); u.FullName == "Someone Else" {
		t.Fatal("a manual account's name was overwritten by the platform")
	}
}

func TestContainment(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	b := w.browser(t)
	resp := b.launch(spec("contained-learner", false, w.quizR))
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, w.quiz.Name) {
		t.Fatalf("quiz launch: %d %s", resp.StatusCode, resp.Body)
	}
	if strings.Contains(resp.Body, `href="/"`) || strings.Contains(resp.Body, "Dashboard") {
		t.Fatal("a contained page links to the dashboard")
	}
	if strings.Contains(resp.Body, fmt.Sprintf(`href="/courses/%d"`, w.course.ID)) {
		t.Fatal("an activity-contained page links to its course, which the session cannot open")
	}
	for _, path := range []string{"/", "/admin/settings", "/account/password", fmt.Sprintf("/courses/%d", w.other.ID),
		fmt.Sprintf("/activities/%d", w.otherAct.ID), fmt.Sprintf("/activities/%d", w.page.ID), fmt.Sprintf("/courses/%d", w.course.ID),
		fmt.Sprintf("/courses/%d/mygrades", w.course.ID)} {
		if r := b.get(path); r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "limited to the course or activity you opened") {
			t.Errorf("%s: %d, want 403 with the containment message", path, r.StatusCode)
		}
	}
	if r := b.get(fmt.Sprintf("/activities/%d", w.quiz.ID)); r.StatusCode != http.StatusOK {
		t.Fatalf("the launched quiz itself: %d", r.StatusCode)
	}
	// A new launch of another resource widens the session to it too.
	b.launch(spec("contained-learner", false, w.courseR))
	for _, path := range []string{fmt.Sprintf("/courses/%d", w.course.ID), fmt.Sprintf("/activities/%d", w.page.ID), fmt.Sprintf("/activities/%d", w.quiz.ID)} {
		if r := b.get(path); r.StatusCode != http.StatusOK {
			t.Errorf("after launching the course, %s: %d", path, r.StatusCode)
		}
	}
	if r := b.get(fmt.Sprintf("/courses/%d", w.other.ID)); r.StatusCode != http.StatusForbidden {
		t.Errorf("another course is still out of reach: %d", r.StatusCode)
	}
}

func TestLaunchRefusalsCreateNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	closed := publish.NewInput(w.course.ID)
	closed.EnrolEnd = time.Now().Add(-time.Hour)
	closedR := w.publish(t, closed)
	future := publish.NewInput(w.course.ID)
	future.EnrolStart = time.Now().Add(24 * time.Hour)
	futureR := w.publish(t, future)
	full := publish.NewInput(w.course.ID)
	full.MaxEnrolled = 1
	fullR := w.publish(t, full)
	w.browser(t).launch(spec("fills-the-seat", false, fullR))
	disabledR := w.publish(t, publish.NewInput(w.course.ID))
	if _, err := w.inst.App.Publish.SetEnabled(ctx, nil, disabledR.ID, false); err != nil {
		t.Fatal(err)
	}
	unknown := publish.Resource{UUID: "00000000-0000-4000-8000-000000000000"}

	tests := []struct {
		name string
		r    publish.Resource
		want string
	}{
		{"enrolment closed", closedR, "Enrolment in"},
		{"enrolment not open yet", futureR, "opens on"},
		{"enrolment limit", fullR, "maximum of 1 enrolled"},
		{"disabled", disabledR, "is disabled on this tool"},
		{"unknown id", unknown, "does not exist on this tool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, _ := w.inst.Store.CountUsers(ctx)
			sub := "refused-" + strings.ReplaceAll(tt.name, " ", "-")
			resp := w.browser(t).launch(spec(sub, false, tt.r))
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Body, tt.want) {
				t.Fatalf("status %d, want 403 with %q: %s", resp.StatusCode, tt.want, resp.Body)
			}
			if after, _ := w.inst.Store.CountUsers(ctx); after != users {
				t.Fatal("a refused launch created an account")
			}
			if _, ok := w.linkedUser(t, sub); ok {
				t.Fatal("a refused launch linked a platform user")
			}
		})
	}
	// Missing custom id and no deep-linked resource link.
	s := spec("no-id", false, w.courseR)
	s.Custom = nil
	if resp := w.browser(t).launch(s); resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Body, "custom parameter id") {
		t.Fatalf("no custom id: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestEmbedding(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	plain := w.browser(t).launch(spec("plain", false, w.courseR))
	if strings.Contains(plain.Body, `class="embedded"`) {
		t.Fatal("a window launch should use the full layout")
	}
	forced := spec("forced", false, w.courseR)
	forced.Custom["force_embed"] = "1"
	iframe := spec("iframe", false, w.courseR)
	iframe.Presentation = &ltitest.Presentation{DocumentTarget: "iframe", ReturnURL: w.p.BaseURL() + "/return"}
	for name, s := range map[string]ltitest.LaunchSpec{"force_embed=1": forced, "iframe target": iframe} {
		b := w.browser(t)
		resp := b.launch(s)
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `<body class="embedded">`) {
			t.Fatalf("%s: want the embedded layout: %s", name, resp.Body)
		}
		// The whole session stays embedded, not just the landing page.
		if r := b.get(fmt.Sprintf("/activities/%d", w.quiz.ID)); !strings.Contains(r.Body, `<body class="embedded">`) {
			t.Fatalf("%s: later pages lost the embedded layout", name)
		}
		if name == "iframe target" && !strings.Contains(resp.Body, `id="return-link" href="`+w.p.BaseURL()+`/return"`) {
			t.Fatalf("no return link: %s", resp.Body)
		}
		if resp.Header.Get("X-Frame-Options") != "" {
			t.Fatalf("framing is allowed by default, yet X-Frame-Options is %q", resp.Header.Get("X-Frame-Options"))
		}
	}
}

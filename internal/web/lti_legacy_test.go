package web_test

import (
	"context"
	"fmt"
	"io"
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
	"github.com/ltipub/ltipub/lti/lti11"
	"github.com/ltipub/ltipub/lti/lti11/lti11test"
)

// legacyWorld is an instance with the example course published as a whole and as its quiz, and an LTI 1.1
// consumer (a Moodle-like platform) that links them with a consumer key of its admin's choice.
type legacyWorld struct {
	inst    *apptest.Instance
	c       *lti11test.Consumer
	course  course.Course
	quiz    course.Activity
	other   course.Course
	courseR publish.Resource
	quizR   publish.Resource
}

func newLegacyWorld(t *testing.T, opts apptest.Options) *legacyWorld {
	t.Helper()
	inst := apptest.Start(t, opts)
	imported := inst.ExampleCourse(t, "")
	other := inst.ExampleCourse(t, "ASTRO102")
	w := &legacyWorld{inst: inst, c: lti11test.New(t, "moodle-site-key", ""), course: imported.Course, other: other.Course,
		quiz: apptest.Activity(imported, course.TypeQuiz)}
	w.courseR = inst.Publish(t, publish.NewInput(w.course.ID))
	in := publish.NewInput(w.course.ID)
	in.ActivityID = w.quiz.ID
	w.quizR = inst.Publish(t, in)
	return w
}

type legacyBrowser struct {
	t      *testing.T
	w      *legacyWorld
	client *http.Client
}

func (w *legacyWorld) browser(t *testing.T) *legacyBrowser {
	jar, _ := cookiejar.New(nil)
	return &legacyBrowser{t: t, w: w, client: &http.Client{Jar: jar}}
}

// launch signs ps for r's launch URL with r's secret, posts it as the browser, and follows the tool's redirects.
func (b *legacyBrowser) launch(r publish.Resource, ps lti11.Params, header http.Header) apptest.Response {
	b.t.Helper()
	u := publish.LegacyLaunchURL(b.w.inst.URL, r.UUID)
	b.w.c.Secret = r.LegacySecret
	form, err := b.w.c.Sign(u, ps)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.post(u, form, header)
}

func (b *legacyBrowser) post(u string, form url.Values, header http.Header) apptest.Response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return apptest.Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

func (b *legacyBrowser) get(path string) apptest.Response {
	b.t.Helper()
	return b.w.inst.Get(b.t, b.client, path)
}

func (b *legacyBrowser) postForm(path string, form url.Values) apptest.Response {
	b.t.Helper()
	return b.w.inst.PostForm(b.t, b.client, path, form)
}

func (w *legacyWorld) linked(t *testing.T, userID string) (account.User, bool) {
	t.Helper()
	lu, err := w.inst.Store.LTIUser(context.Background(), lti11.PlatformID(w.c.Key, w.c.InstanceGUID), userID)
	if err != nil {
		return account.User{}, false
	}
	u, err := w.inst.Store.UserByID(context.Background(), lu.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return u, true
}

func (w *legacyWorld) role(t *testing.T, userID int64) course.Role {
	t.Helper()
	es, err := w.inst.Store.EnrolmentsOf(context.Background(), w.course.ID, userID)
	if err != nil || len(es) == 0 {
		return ""
	}
	return es[0].Role
}

func (w *legacyWorld) counts(t *testing.T) string {
	t.Helper()
	var out []string
	for _, table := range []string{"users", "lti_users", "lti_resource_links", "lti_user_links", "enrolments", "legacy_links", "legacy_outcomes"} {
		var n int
		if err := w.inst.Store.DB().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s=%d", table, n))
	}
	return strings.Join(out, " ")
}

const (
	rolesLearner    = "Learner"
	rolesInstructor = "Instructor,urn:lti:instrole:ims/lis/Administrator"
)

func TestLegacyLaunchProvisioning(t *testing.T) {
	t.Parallel()
	w := newLegacyWorld(t, apptest.Options{})
	w.inst.EnsureUser(t, account.NewUser{Username: "existing", FullName: "Eve Existing", Password: "existing-password"})
	for _, mode := range publish.Modes {
		for _, teacher := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/teacher=%v", mode, teacher), func(t *testing.T) {
				in := publish.NewInput(w.course.ID)
				in.StudentMode, in.TeacherMode = mode, mode
				r := w.inst.Publish(t, in)
				uid := fmt.Sprintf("u-%s-%v", mode, teacher)
				roles, wantRole := rolesLearner, course.RoleStudent
				if teacher {
					roles, wantRole = rolesInstructor, course.RoleTeacher
				}
				b := w.browser(t)
				resp := b.launch(r, w.c.LaunchParams("rl-"+uid, uid, roles), nil)
				switch mode {
				case publish.ModeAuto:
					if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, w.course.FullName) {
						t.Fatalf("auto mode should land in the course: %d %s", resp.StatusCode, resp.Body)
					}
					u, ok := w.linked(t, uid)
					if !ok || u.Auth != account.AuthLTI || u.FullName != "User "+uid || u.Email != "user"+uid+"@lms.example.com" {
						t.Fatalf("no proper account: %+v %v", u, ok)
					}
					if got := w.role(t, u.ID); got != wantRole {
						t.Fatalf("role %q, want %q", got, wantRole)
					}
				default:
					if !strings.Contains(resp.Body, "Sign in with my existing account") || strings.Contains(resp.Body, "Create a new account") != (mode == publish.ModePrompt) {
						t.Fatalf("%s mode: wrong account choice page: %s", mode, resp.Body)
					}
					if _, ok := w.linked(t, uid); ok {
						t.Fatal("an account was linked before the person chose")
					}
					if bad := b.postForm("/launch/legacy/account/signin", url.Values{"username": {"existing"}, "password": {"nope"}}); bad.StatusCode != http.StatusUnauthorized {
						t.Fatalf("a wrong password: %d", bad.StatusCode)
					}
					if mode == publish.ModePrompt && !teacher {
						resp = b.postForm("/launch/legacy/account/new", nil)
						u, ok := w.linked(t, uid)
						if !ok || u.Auth != account.AuthLTI || resp.StatusCode != http.StatusOK || w.role(t, u.ID) != wantRole {
							t.Fatalf("create new: %d %+v", resp.StatusCode, u)
						}
						break
					}
					if mode == publish.ModeExisting {
						if r := b.postForm("/launch/legacy/account/new", nil); r.StatusCode == http.StatusOK && strings.Contains(r.Body, w.course.FullName) {
							if _, ok := w.linked(t, uid); ok {
								t.Fatal("existing-only mode created an account")
							}
						}
					}
					resp = b.postForm("/launch/legacy/account/signin", url.Values{"username": {"existing"}, "password": {"existing-password"}})
					u, ok := w.linked(t, uid)
					if !ok || u.Username != "existing" || resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, w.course.FullName) {
						t.Fatalf("sign in and link: %d %+v", resp.StatusCode, u)
					}
				}
				// A second launch goes straight in, as the same account.
				before, _ := w.linked(t, uid)
				again := w.browser(t).launch(r, w.c.LaunchParams("rl-"+uid, uid, roles), nil)
				after, _ := w.linked(t, uid)
				if again.StatusCode != http.StatusOK || !strings.Contains(again.Body, w.course.FullName) || after.ID != before.ID {
					t.Fatalf("second launch: %d", again.StatusCode)
				}
			})
		}
	}
}

func TestLegacyLaunchContainmentAndEmbedding(t *testing.T) {
	t.Parallel()
	w := newLegacyWorld(t, apptest.Options{})
	b := w.browser(t)
	resp := b.launch(w.quizR, w.c.WithService(w.c.LaunchParams("rl-quiz", "s1", rolesLearner), "src-s1"), nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, w.quiz.Name) {
		t.Fatalf("land in the quiz: %d %s", resp.StatusCode, resp.Body)
	}
	if strings.Contains(resp.Body, `<body class="embedded">`) {
		t.Error("a window launch got the embedded layout")
	}
	if r := b.get(fmt.Sprintf("/courses/%d", w.other.ID)); r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "Not part of what you launched") {
		t.Errorf("another course: %d", r.StatusCode)
	}
	if r := b.get("/"); r.StatusCode != http.StatusForbidden {
		t.Errorf("the dashboard: %d", r.StatusCode)
	}
	// The link, the user's Basic Outcomes target and the platform are recorded.
	links, err := w.inst.Store.ResourceLinks(context.Background(), w.quizR.ID)
	if err != nil || len(links) != 1 || !links[0].IsLegacy() || links[0].LinkID != "rl-quiz" || links[0].ContextID != "course-1" {
		t.Fatalf("links %+v %v", links, err)
	}
	u, _ := w.linked(t, "s1")
	o, err := w.inst.Store.LegacyOutcome(context.Background(), links[0].ID, u.ID)
	if err != nil || o.SourcedID != "src-s1" || o.ServiceURL != w.c.OutcomeServiceURL() {
		t.Fatalf("outcome target %+v %v", o, err)
	}

	for name, ps := range map[string]lti11.Params{
		"custom_force_embed=1": append(w.c.LaunchParams("rl-e1", "s2", rolesLearner), lti11.Pairs("custom_force_embed", "1")...),
		"iframe target": append(w.c.LaunchParams("rl-e2", "s3", rolesLearner)[:0:0],
			replace(w.c.LaunchParams("rl-e2", "s3", rolesLearner), "launch_presentation_document_target", "iframe")...),
	} {
		b := w.browser(t)
		resp := b.launch(w.quizR, ps, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `<body class="embedded">`) {
			t.Fatalf("%s: want the embedded layout: %d", name, resp.StatusCode)
		}
		if r := b.get(fmt.Sprintf("/activities/%d", w.quiz.ID)); !strings.Contains(r.Body, `<body class="embedded">`) {
			t.Fatalf("%s: later pages lost the embedded layout", name)
		}
	}
}

func replace(ps lti11.Params, name, value string) lti11.Params {
	out := append(lti11.Params(nil), ps...)
	for i := range out {
		if out[i].Name == name {
			out[i].Value = value
		}
	}
	return out
}

func TestLegacyLaunchBadInput(t *testing.T) {
	t.Parallel()
	w := newLegacyWorld(t, apptest.Options{})
	launchURL := publish.LegacyLaunchURL(w.inst.URL, w.courseR.UUID)
	sign := func(ps lti11.Params) url.Values {
		w.c.Secret = w.courseR.LegacySecret
		form, err := w.c.Sign(launchURL, ps)
		if err != nil {
			t.Fatal(err)
		}
		return form
	}
	base := func() lti11.Params { return w.c.LaunchParams("rl-bad", "bad-user", rolesLearner) }
	without := func(name string) lti11.Params {
		var out lti11.Params
		for _, p := range base() {
			if p.Name != name {
				out = append(out, p)
			}
		}
		return out
	}
	del := func(name string) func(url.Values) url.Values {
		return func(v url.Values) url.Values { v.Del(name); return v }
	}
	before := w.counts(t)
	var replay url.Values
	tests := []struct {
		name   string
		url    string
		form   func() url.Values
		status int
		want   []string
	}{
		{"no consumer key", "", func() url.Values { return del("oauth_consumer_key")(sign(base())) }, 400, []string{"A required parameter (oauth_consumer_key) was missing"}},
		{"no signature", "", func() url.Values { return del("oauth_signature")(sign(base())) }, 400, []string{"A required parameter (oauth_signature) was missing"}},
		{"no nonce", "", func() url.Values { return del("oauth_nonce")(sign(base())) }, 400, []string{"A required parameter (oauth_nonce) was missing"}},
		{"no timestamp", "", func() url.Values { return del("oauth_timestamp")(sign(base())) }, 400, []string{"A required parameter (oauth_timestamp) was missing"}},
		{"no signature method", "", func() url.Values { return del("oauth_signature_method")(sign(base())) }, 400, []string{"A required parameter (oauth_signature_method) was missing"}},
		{"no message type", "", func() url.Values { return sign(without("lti_message_type")) }, 400, []string{"A required parameter (lti_message_type) was missing"}},
		{"no version", "", func() url.Values { return sign(without("lti_version")) }, 400, []string{"A required parameter (lti_version) was missing"}},
		{"no resource link", "", func() url.Values { return sign(without("resource_link_id")) }, 400, []string{"A required parameter (resource_link_id) was missing"}},
		{"content item", "", func() url.Values { return sign(replace(base(), "lti_message_type", "ContentItemSelectionRequest")) }, 400,
			[]string{"Invalid request", "Content-Item", "LTI 1.3"}},
		{"wrong secret", "", func() url.Values {
			w.c.Secret = "not-the-secret"
			form, _ := w.c.Sign(launchURL, base())
			return form
		}, 401, []string{"Invalid signature", "the secret is wrong", launchURL}},
		{"signed for another URL (proxy)", "", func() url.Values {
			w.c.Secret = w.courseR.LegacySecret
			form, _ := w.c.Sign(strings.Replace(launchURL, "127.0.0.1", "10.1.2.3", 1), base())
			return form
		}, 401, []string{"Invalid signature", launchURL}},
		{"tampered", "", func() url.Values { v := sign(base()); v.Set("roles", "Instructor"); return v }, 401, []string{"Invalid signature"}},
		{"clock skew", "", func() url.Values {
			w.c.Now = func() time.Time { return time.Now().Add(-20 * time.Minute) }
			defer func() { w.c.Now = nil }()
			return sign(base())
		}, 401, []string{"Expired timestamp, yours", "clocks"}},
		{"reused nonce", "", func() url.Values { return replay }, 401, []string{"Nonce already used"}},
		{"unknown resource", publish.LegacyLaunchURL(w.inst.URL, "00000000-0000-0000-0000-000000000000"), func() url.Values { return sign(base()) }, 404,
			[]string{"does not exist"}},
		{"anonymous", "", func() url.Values { return sign(without("user_id")) }, 403, []string{"anonymous"}},
	}
	// A valid launch whose form is then posted again.
	replay = sign(w.c.LaunchParams("rl-replay", "replayer", rolesLearner))
	if r := w.browser(t).post(launchURL, replay, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("the first post of the replayed form: %d %s", r.StatusCode, r.Body)
	}
	before = w.counts(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := launchURL
			if tt.url != "" {
				u = tt.url
			}
			resp := w.browser(t).post(u, tt.form(), nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			for _, want := range tt.want {
				if !strings.Contains(resp.Body, want) && !strings.Contains(resp.Body, template(want)) {
					t.Errorf("the page lacks %q:\n%s", want, resp.Body)
				}
			}
			if got := w.counts(t); got != before {
				t.Errorf("a refused launch created something:\nbefore %s\nafter  %s", before, got)
			}
		})
	}
	// Refusals are in the admin's launch log.
	var n int
	if err := w.inst.Store.DB().QueryRow(`SELECT COUNT(*) FROM launch_log WHERE outcome = 'refused' AND code = 'lti11_bad_signature'`).Scan(&n); err != nil || n < 2 {
		t.Errorf("launch log has %d bad signatures (%v)", n, err)
	}
	// A disabled resource refuses, naming it.
	if _, err := w.inst.App.Publish.SetEnabled(context.Background(), nil, w.courseR.ID, false); err != nil {
		t.Fatal(err)
	}
	if r := w.browser(t).post(launchURL, sign(base()), nil); r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "disabled") {
		t.Errorf("disabled resource: %d", r.StatusCode)
	}
}

// template is how html/template writes s in a page.
func template(s string) string {
	r := strings.NewReplacer("&", "&amp;", "'", "&#39;", `"`, "&#34;", "<", "&lt;", ">", "&gt;", "+", "&#43;")
	return r.Replace(s)
}

func TestLegacyMixedProtocolAndGET(t *testing.T) {
	t.Parallel()
	w := newLegacyWorld(t, apptest.Options{})
	b := w.browser(t)
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp := b.launch(w.courseR, w.c.LaunchParams("rl-m", "m1", rolesLearner), http.Header{"Origin": {"https://lms.example.com"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, "mixed content") || !strings.Contains(resp.Body, `id="continue"`) {
		t.Fatalf("an https platform and an http tool: %d %s", resp.StatusCode, resp.Body)
	}
	plain := w.browser(t)
	plain.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if r := plain.launch(w.courseR, w.c.LaunchParams("rl-m", "m2", rolesLearner), http.Header{"Origin": {w.inst.URL}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("same scheme: %d, want a redirect", r.StatusCode)
	}

	// A plain GET of the launch URL is a page, not an error or XML.
	r := w.inst.Get(t, w.inst.Client(t), "/lti/legacy/"+w.courseR.UUID)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "LTI 1.1 launch URL") || strings.Contains(r.Body, "<?xml") {
		t.Errorf("GET launch URL: %d %s", r.StatusCode, r.Body)
	}
	// The cartridge.
	r = w.inst.Get(t, w.inst.Client(t), "/lti/legacy/"+w.courseR.UUID+"/cartridge.xml")
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/xml") ||
		!strings.Contains(r.Body, "<blti:launch_url>"+publish.LegacyLaunchURL(w.inst.URL, w.courseR.UUID)+"</blti:launch_url>") ||
		!strings.Contains(r.Body, "<blti:title>"+w.courseR.Name+"</blti:title>") || !strings.Contains(r.Body, "<lticp:code>ltipub</lticp:code>") ||
		!strings.Contains(r.Body, "<blti:icon>") {
		t.Errorf("cartridge: %d %s", r.StatusCode, r.Body)
	}
	if r := w.inst.Get(t, w.inst.Client(t), "/lti/legacy/00000000-0000-0000-0000-000000000000/cartridge.xml"); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown cartridge: %d", r.StatusCode)
	}
}

func TestLegacyTab(t *testing.T) {
	t.Parallel()
	w := newLegacyWorld(t, apptest.Options{})
	teacher := w.inst.EnsureUser(t, account.NewUser{Username: "teach", FullName: "T", Password: "teacher-password"})
	if err := w.inst.Store.CreateEnrolment(context.Background(), &course.Enrolment{CourseID: w.course.ID, UserID: teacher.ID, Role: course.RoleTeacher,
		Status: course.StatusActive, Method: course.MethodManual, CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	c := w.inst.Client(t)
	w.inst.Login(t, c, "teach", "teacher-password")
	page := w.inst.Get(t, c, fmt.Sprintf("/courses/%d/published", w.course.ID))
	for _, want := range []string{"Legacy (LTI 1.1)", publish.LegacyLaunchURL(w.inst.URL, w.courseR.UUID), publish.CartridgeURL(w.inst.URL, w.courseR.UUID),
		w.courseR.LegacySecret, "Consumer key", "Regenerate secret"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	student := w.inst.EnsureUser(t, account.NewUser{Username: "stud", FullName: "S", Password: "student-password"})
	_ = w.inst.Store.CreateEnrolment(context.Background(), &course.Enrolment{CourseID: w.course.ID, UserID: student.ID, Role: course.RoleStudent,
		Status: course.StatusActive, Method: course.MethodManual, CreatedAt: time.Now(), UpdatedAt: time.Now()})
	sc := w.inst.Client(t)
	w.inst.Login(t, sc, "stud", "student-password")
	if r := w.inst.Get(t, sc, fmt.Sprintf("/courses/%d/published", w.course.ID)); strings.Contains(r.Body, w.courseR.LegacySecret) || r.StatusCode != http.StatusForbidden {
		t.Errorf("a student sees the published page: %d", r.StatusCode)
	}
	if r := w.inst.PostForm(t, sc, fmt.Sprintf("/courses/%d/published/%d/legacy/secret", w.course.ID, w.courseR.ID), nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("a student regenerated the secret: %d", r.StatusCode)
	}

	old := w.courseR
	r := w.inst.PostForm(t, c, fmt.Sprintf("/courses/%d/published/%d/legacy/secret", w.course.ID, w.courseR.ID), nil)
	if r.StatusCode == http.StatusSeeOther {
		r = w.inst.Get(t, c, r.Header.Get("Location"))
	}
	if r.StatusCode != http.StatusOK {
		t.Fatalf("regenerate: %d", r.StatusCode)
	}
	now, err := w.inst.Store.ResourceByID(context.Background(), w.courseR.ID)
	if err != nil || now.LegacySecret == old.LegacySecret || now.LegacySecret == "" || !strings.Contains(r.Body, now.LegacySecret) {
		t.Fatalf("the secret did not change: %v", err)
	}
	if resp := w.browser(t).launch(old, w.c.LaunchParams("rl-old", "o1", rolesLearner), nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old secret still launches: %d", resp.StatusCode)
	}
	if resp := w.browser(t).launch(now, w.c.LaunchParams("rl-new", "o2", rolesLearner), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the new secret does not launch: %d", resp.StatusCode)
	}
}

package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// newestLaunch is the instance's newest launch log row (the subtests launch one after the other).
func newestLaunch(t *testing.T, inst *apptest.Instance) launch.LogEntry {
	t.Helper()
	entries, err := inst.Store.LaunchLog(context.Background(), launch.LogFilter{Limit: 1})
	if err != nil || len(entries) != 1 {
		t.Fatalf("launch log: %v %v", entries, err)
	}
	return entries[0]
}

// TestLaunchInspector opens the inspector for an accepted launch, one without services, a refused one (bad
// signature) and an LTI 1.1 one: each shows what came in and what it means.
func TestLaunchInspector(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	inst.Platform(t, p, "client-1")
	admin := adminClient(t, inst)
	inspect := func(t *testing.T, res *ltitest.LaunchResult) string {
		t.Helper()
		e := newestLaunch(t, inst)
		page := inst.Get(t, admin, "/admin/launches/"+strconv.FormatInt(e.ID, 10))
		if page.StatusCode != http.StatusOK {
			t.Fatalf("inspector: %d %s", page.StatusCode, page.Body)
		}
		if list := inst.Get(t, admin, "/admin/launches"); !strings.Contains(list.Body, `href="/admin/launches/`+strconv.FormatInt(e.ID, 10)+`"`) {
			t.Error("the launch log does not link the row to its inspector")
		}
		return page.Body
	}
	must := func(t *testing.T, body string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("inspector lacks %q", w)
			}
		}
	}

	t.Run("accepted", func(t *testing.T) {
		res, err := p.Launch(context.Background(), newLaunchClient(), learnerSpec(t))
		if err != nil || res.Response.StatusCode != http.StatusOK {
			t.Fatalf("launch: %v %v", err, res)
		}
		body := inspect(t, res)
		must(t, body, "Launch ", ": accepted", `id="launch-claims"`, "Stu Dent", "stu@example.edu", "Biology 101",
			"Assignment and Grade Services: scopes", "Names and Role Provisioning: ", `id="launch-header"`, "RS256",
			`<td class="status">passed</td>`, "client-1")
		if strings.Contains(body, "No grade service") || strings.Contains(body, `<td class="status">failed</td>`) {
			t.Errorf("an accepted launch with services shows a warning or a failure:\n%s", body)
		}
		// What ltipub did: the account it made, the enrolment, the resource link and the page.
		lu, err := inst.Store.LTIUser(context.Background(), p.Issuer(), "student-1")
		if err != nil {
			t.Fatalf("the launch linked no account: %v", err)
		}
		u, err := inst.Store.UserByID(context.Background(), lu.UserID)
		if err != nil {
			t.Fatal(err)
		}
		must(t, body, `id="launch-did"`, "new account: <a href=\"/admin/users/"+strconv.FormatInt(u.ID, 10)+"\">"+u.Username+"</a>",
			"new enrolment, role student", "Astronomy", "platform link <code>"+"rl-1"+"</code> in Biology 101",
			"Landed on</th><td><a href=\"/courses/")
		// Again: the account is the linked one now, the enrolment an existing one.
		if res, err := p.Launch(context.Background(), newLaunchClient(), learnerSpec(t)); err != nil || res.Response.StatusCode != http.StatusOK {
			t.Fatalf("second launch: %v %v", err, res)
		}
		must(t, inspect(t, nil), "existing linked account: <a href=\"/admin/users/"+strconv.FormatInt(u.ID, 10)+"\">",
			"existing enrolment, role student")
	})
	t.Run("without services", func(t *testing.T) {
		spec := learnerSpec(t)
		spec.AGS, spec.NRPS, spec.User = nil, false, &ltitest.User{Sub: "student-9"}
		res, err := p.Launch(context.Background(), newLaunchClient(), spec)
		if err != nil {
			t.Fatal(err)
		}
		must(t, inspect(t, res), "No grade service in this launch: grades for this link will stay in ltipub",
			"No roster service in this launch", "did not share the person&#39;s name and email")
	})
	t.Run("content selection", func(t *testing.T) {
		res, err := p.Launch(context.Background(), newLaunchClient(), dlSpec("selecting-teacher", &ltitest.DeepLinking{}))
		if err != nil || res.Response.StatusCode != http.StatusOK {
			t.Fatalf("deep linking launch: %v %v", err, res)
		}
		must(t, inspect(t, res), `id="launch-did"`, "Sent to the content selection (<code>/launch/select</code>), not signed in")
	})
	t.Run("refused: bad signature", func(t *testing.T) {
		spec := learnerSpec(t)
		spec.Tamper = ltitest.TamperBadSignature
		res, err := p.Launch(context.Background(), newLaunchClient(), spec)
		if err != nil {
			t.Fatal(err)
		}
		body := inspect(t, res)
		if strings.Contains(body, `id="launch-did"`) {
			t.Error("a launch refused for its signature says what ltipub did with it")
		}
		must(t, body, ": refused", `id="launch-refusal"`, "bad_signature", `<th scope="row">kid</th>`, `<th scope="row">signature</th>
    <td class="status">failed</td>`, `<td class="status">not reached</td>`, `id="launch-expected"`, p.Issuer())
	})
	t.Run("LTI 1.1", func(t *testing.T) {
		w := newLegacyWorld(t, apptest.Options{})
		w.c.InstanceName = "moodle43"
		r := w.browser(t).launch(w.courseR, w.c.LaunchParams("link-1", "student-1", "Learner"), nil)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("legacy launch: %d", r.StatusCode)
		}
		entries, _ := w.inst.Store.LaunchLog(context.Background(), launch.LogFilter{Limit: 1})
		page := w.inst.Get(t, adminClient(t, w.inst), "/admin/launches/"+strconv.FormatInt(entries[0].ID, 10))
		must(t, page.Body, `<th scope="row">Platform</th><td>Moodle
    (LTI 1.1, consumer key <code>`+w.c.Key+"</code>)", "LTI 1.1 fields", "lis_person_name_full",
			"No grade service in this launch (no lis_outcome_service_url)", `id="launch-did"`, "new enrolment, role student")
		if strings.Contains(page.Body, "oauth_signature<") || strings.Contains(page.Body, "oauth_nonce<") {
			t.Errorf("the inspector shows the OAuth signature or nonce:\n%s", page.Body)
		}
		// Refused for its signature (the wrong secret): still named by its platform and consumer key, and
		// nothing done.
		launchURL := publish.LegacyLaunchURL(w.inst.URL, w.courseR.UUID)
		w.c.Secret = "not-the-secret"
		form, err := w.c.Sign(launchURL, w.c.LaunchParams("link-1", "student-2", "Learner"))
		if err != nil {
			t.Fatal(err)
		}
		if r := w.browser(t).post(launchURL, form, nil); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a launch signed with the wrong secret: %d", r.StatusCode)
		}
		entries, _ = w.inst.Store.LaunchLog(context.Background(), launch.LogFilter{Limit: 1})
		page = w.inst.Get(t, adminClient(t, w.inst), "/admin/launches/"+strconv.FormatInt(entries[0].ID, 10))
		must(t, page.Body, ": refused", `<th scope="row">Platform</th><td>Moodle
    (LTI 1.1, consumer key <code>`+w.c.Key+"</code>)", `id="launch-refusal"`)
		if strings.Contains(page.Body, `id="launch-did"`) {
			t.Error("an LTI 1.1 launch refused for its signature says what ltipub did with it")
		}
	})
	t.Run("account choice", func(t *testing.T) {
		// A resource that asks the person first: the launch row says the person was sent to the account
		// choice; once they chose, the same row says which account, and still shows what came in.
		w := newWorld(t)
		in := publish.NewInput(w.course.ID)
		in.StudentMode = publish.ModePrompt
		prompting := w.publish(t, in)
		mine := w.inst.EnsureUser(t, account.NewUser{Username: "chooser", Password: "chooser-password-1"})
		b := w.browser(t)
		if r := b.launch(spec("choosing-student", false, prompting)); !strings.Contains(r.Body, "Sign in with my existing account") {
			t.Fatalf("no account choice: %d %s", r.StatusCode, r.Body)
		}
		admin := adminClient(t, w.inst)
		e := newestLaunch(t, w.inst)
		page := w.inst.Get(t, admin, "/admin/launches/"+strconv.FormatInt(e.ID, 10)).Body
		must(t, page, `id="launch-did"`, "Sent to the account choice (<code>/launch/account</code>)", "nothing was created yet")
		if r := b.post("/launch/account/signin", url.Values{"username": {"chooser"}, "password": {"chooser-password-1"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("account choice: %d %s", r.StatusCode, r.Body)
		}
		if again := newestLaunch(t, w.inst); again.ID != e.ID {
			t.Fatalf("the resumed launch wrote row %d, want its own row %d", again.ID, e.ID)
		}
		page = w.inst.Get(t, admin, "/admin/launches/"+strconv.FormatInt(e.ID, 10)).Body
		must(t, page, "existing account chosen by the person: <a href=\"/admin/users/"+strconv.FormatInt(mine.ID, 10)+"\">chooser</a>",
			"new enrolment, role student", `id="launch-claims"`, "choosing-student@school.example")
		if strings.Contains(page, "Sent to the account choice") {
			t.Error("the resumed launch still shows the account choice")
		}
	})
	t.Run("admins only", func(t *testing.T) {
		entries, _ := inst.Store.LaunchLog(context.Background(), launch.LogFilter{Limit: 1})
		r := inst.Get(t, inst.Client(t), "/admin/launches/"+strconv.FormatInt(entries[0].ID, 10))
		if r.StatusCode == http.StatusOK && strings.Contains(r.Body, `id="launch-claims"`) {
			t.Error("an anonymous visitor sees a launch's claims")
		}
		if r := inst.Get(t, admin, "/admin/launches/999999"); r.StatusCode != http.StatusNotFound {
			t.Errorf("unknown launch: %d", r.StatusCode)
		}
	})
}

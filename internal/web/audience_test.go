package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// TestRefusalAudience: a launch refused for an unknown deployment tells a learner and a teacher whom to ask, with
// the fix as a note labelled for the person they ask, and an administrator (by the launch's role) the fix itself.
func TestRefusalAudience(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	inst.Platform(t, p, "client-1")
	const adminFix = "Deployments tab"
	tests := []struct {
		name            string
		roles           []string
		wantFix         string
		wantNote, leaks bool
	}{
		{name: "learner", roles: []string{ltitest.RoleLearner}, wantFix: "Ask your teacher or the site&#39;s administrator", wantNote: true},
		{name: "teacher", roles: []string{ltitest.RoleInstructor}, wantFix: "Ask the site&#39;s administrator", wantNote: true},
		{name: "administrator", roles: []string{ltitest.RoleInstructor, ltitest.RoleSystemAdmin}, wantFix: adminFix},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := learnerSpec(t)
			spec.Roles = tt.roles
			spec.Tamper = ltitest.TamperDeploymentUnknown
			res, err := p.Launch(context.Background(), newLaunchClient(), spec)
			if err != nil {
				t.Fatal(err)
			}
			body := string(res.Body)
			if res.Response.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d: %s", res.Response.StatusCode, body)
			}
			fix := between(body, `id="problem-fix"`, "</p>")
			if !strings.Contains(fix, tt.wantFix) {
				t.Errorf("What to do: %q, want %q", fix, tt.wantFix)
			}
			note := between(body, `id="problem-admin-fix"`, "</p>")
			if tt.wantNote != (note != "") || (tt.wantNote && !strings.Contains(note, adminFix)) {
				t.Errorf("note for the administrator: %q (want one: %v)", note, tt.wantNote)
			}
			if tt.wantNote && strings.Contains(fix, adminFix) {
				t.Errorf("a %s is told the admin's fix: %s", tt.name, fix)
			}
			if tt.name == "learner" && !strings.Contains(body, "For your teacher or the site&#39;s administrator:") {
				t.Errorf("the learner's note is not labelled for whom to ask: %s", body)
			}
		})
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

// TestLegacyLaunchLogNamesPlatform: LTI 1.1 launches, accepted or refused, show in the launch log with their
// consumer key and the platform's product name, not as "unknown platform".
func TestLegacyLaunchLogNamesPlatform(t *testing.T) {
	t.Parallel()
	w := newLegacyWorld(t, apptest.Options{})
	w.c.InstanceName = "moodle43"
	if r := w.browser(t).launch(w.courseR, w.c.LaunchParams("link-1", "student-1", "Learner"), nil); r.StatusCode != http.StatusOK {
		t.Fatalf("legacy launch: %d %s", r.StatusCode, r.Body)
	}
	u := publish.LegacyLaunchURL(w.inst.URL, w.courseR.UUID)
	w.c.Secret = "not-the-secret"
	form, err := w.c.Sign(u, w.c.LaunchParams("link-1", "student-2", "Learner"))
	if err != nil {
		t.Fatal(err)
	}
	if r := w.browser(t).post(u, form, nil); r.StatusCode < 400 {
		t.Fatalf("wrongly signed legacy launch: %d", r.StatusCode)
	}
	page := w.inst.Get(t, adminClient(t, w.inst), "/admin/launches")
	if strings.Contains(page.Body, "unknown platform") {
		t.Errorf("the launch log still shows an unknown platform:\n%s", page.Body)
	}
	if n := strings.Count(page.Body, "LTI 1.1 · consumer key <code>"+w.c.Key+"</code>"); n != 2 {
		t.Errorf("%d rows name the consumer key, want 2:\n%s", n, page.Body)
	}
	if n := strings.Count(page.Body, "<td>Moodle\n"); n != 2 {
		t.Errorf("%d rows name Moodle, want 2:\n%s", n, page.Body)
	}
}

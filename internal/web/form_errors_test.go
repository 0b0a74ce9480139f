package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
)

// TestFormErrorsAreTiedToTheirFields: a refused form marks the field at fault invalid and points it at the
// message (aria-describedby), so a screen reader reads the message with the field.
func TestFormErrorsAreTiedToTheirFields(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	imported := inst.ExampleCourse(t, "")
	tied := func(body, id, msgID string) bool {
		re := regexp.MustCompile(`<(input|textarea|select) id="` + id + `"[^>]* aria-invalid="true" aria-describedby="[^"]*\b` + msgID + `\b`)
		return re.MatchString(body) && regexp.MustCompile(`id="`+msgID+`"`).MatchString(body)
	}

	anon := inst.Client(t)
	r := inst.PostForm(t, anon, "/login", url.Values{"username": {"admin"}, "password": {"not the password"}})
	if !tied(r.Body, "username", "login-error") || !tied(r.Body, "password", "login-error") {
		t.Errorf("a refused sign-in does not tie its message to the fields: %d\n%s", r.StatusCode, r.Body)
	}

	admin := inst.Client(t)
	inst.Login(t, admin, "admin", apptest.AdminPassword)
	r = inst.PostForm(t, admin, "/courses/new", url.Values{"full_name": {"Astronomy again"}, "short_name": {"ASTRO101"}})
	if r.StatusCode != http.StatusBadRequest || !tied(r.Body, "short_name", "form-error") {
		t.Errorf("a taken short name is not tied to its field: %d\n%s", r.StatusCode, r.Body)
	}
	r = inst.PostForm(t, admin, "/courses/new", url.Values{"full_name": {""}, "short_name": {"NEW1"}})
	if !tied(r.Body, "full_name", "form-error") {
		t.Errorf("a missing full name is not tied to its field: %d\n%s", r.StatusCode, r.Body)
	}

	// A quiz's questions with a JSON mistake: the message says where and what was expected, on the questions field.
	r = inst.PostForm(t, admin, fmt.Sprintf("/courses/%d/activities/new", imported.Course.ID), url.Values{
		"type": {"quiz"}, "name": {"Quick check"}, "max_grade": {"10"}, "visible": {"on"},
		"questions": {"[\n  {\"type\": \"shortanswer\" \"text\": \"2+2?\"}\n]"}})
	if !tied(r.Body, "questions", "form-error") ||
		!strings.Contains(r.Body, "Questions, line 2, column 26: expected a comma or a closing brace } after the field&#39;s value") {
		t.Errorf("a JSON mistake in the questions is not placed and tied to its field: %d\n%s", r.StatusCode, r.Body)
	}
}

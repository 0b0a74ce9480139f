package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/site"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// headerTransport adds headers to every request, as a browser configured for a language sends Accept-Language.
type headerTransport struct{ h http.Header }

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range t.h {
		r.Header[k] = v
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestLaunchLanguage launches as learners whose platforms and browsers name different languages: the launch's
// locale wins (es-ES and es-419 are Spanish), an unknown one (fr) falls to the browser's Accept-Language, and with
// neither, the site default. The language holds for the whole launched session, <html lang> says it, and a
// refusal is worded in it.
func TestLaunchLanguage(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	inst.Platform(t, p, "client-1")
	ctx := context.Background()

	launchAs := func(t *testing.T, sub, locale, acceptLanguage string) (*http.Client, string) {
		t.Helper()
		c := newLaunchClient()
		if acceptLanguage != "" {
			c.Transport = headerTransport{http.Header{"Accept-Language": {acceptLanguage}}}
		}
		spec := learnerSpec(t)
		spec.User = &ltitest.User{Sub: sub, Name: "Learner " + sub}
		spec.Presentation = &ltitest.Presentation{DocumentTarget: "window", Locale: locale}
		res, err := p.Launch(ctx, c, spec)
		if err != nil {
			t.Fatal(err)
		}
		if res.Response.StatusCode != http.StatusOK {
			t.Fatalf("launch: status %d: %s", res.Response.StatusCode, res.Body)
		}
		return c, string(res.Body)
	}
	spanish := func(t *testing.T, body string) {
		t.Helper()
		if !strings.Contains(body, `<html lang="es">`) || !strings.Contains(body, "Volver a") {
			t.Fatalf("want the page in Spanish (lang es, “Volver a …”): %s", body)
		}
	}
	english := func(t *testing.T, body string) {
		t.Helper()
		if !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, "Return to") {
			t.Fatalf("want the page in English: %s", body)
		}
	}

	t.Run("launch locale es-ES", func(t *testing.T) {
		c, body := launchAs(t, "es-learner", "es-ES", "en-US,en;q=0.9")
		spanish(t, body)
		// The next page of the launched session keeps the launch's language, whatever the browser says.
		m := regexp.MustCompile(`href="(/activities/\d+)" data-type="quiz"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no quiz on the landing page: %s", body)
		}
		res := inst.Get(t, c, m[1])
		for _, want := range []string{`<html lang="es">`, "Preguntas", "Enviar respuestas", "Calificación máxima"} {
			if !strings.Contains(res.Body, want) {
				t.Fatalf("the quiz page of the launched session lacks %q (%d): %s", want, res.StatusCode, res.Body)
			}
		}
	})
	t.Run("launch locale es-419", func(t *testing.T) {
		_, body := launchAs(t, "latam-learner", "es-419", "")
		spanish(t, body)
	})
	t.Run("unknown locale falls to Accept-Language", func(t *testing.T) {
		_, body := launchAs(t, "fr-learner", "fr", "es-MX,es;q=0.9")
		spanish(t, body)
	})
	t.Run("nothing: the site default", func(t *testing.T) {
		_, body := launchAs(t, "plain-learner", "", "")
		english(t, body)
		v := site.Defaults
		v.DefaultLanguage = "es"
		if err := inst.App.Site.Put(ctx, v); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = inst.App.Site.Put(ctx, site.Defaults) })
		_, body = launchAs(t, "plain-learner-2", "", "")
		spanish(t, body)
	})
}

// TestRefusalInLaunchLanguage: a launch refused before any session exists (the course is hidden from students)
// is explained in the language the launch names, with the course's name in the sentence; the same refusal in
// English keeps its English words.
func TestRefusalInLaunchLanguage(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	p := ltitest.NewServer(t, ltitest.Config{})
	inst.Platform(t, p, "client-1")
	imp := inst.ExampleCourse(t, "")
	c := imp.Course
	if _, err := inst.App.Courses.UpdateCourse(context.Background(), &inst.Admin, c.ID,
		course.CourseInput{FullName: c.FullName, ShortName: c.ShortName, Visible: false}); err != nil {
		t.Fatal(err)
	}
	in := publish.NewInput(c.ID)
	in.Name = "Hidden"
	res := inst.Publish(t, in)
	launch := func(locale string) string {
		spec := ltitest.LaunchSpec{User: &ltitest.User{Sub: "s-" + locale}, Roles: []string{ltitest.RoleLearner},
			Context: &ltitest.Context{ID: "course-1"}, Custom: map[string]string{"id": res.UUID},
			Presentation: &ltitest.Presentation{Locale: locale}}
		out, err := p.Launch(context.Background(), newLaunchClient(), spec)
		if err != nil {
			t.Fatal(err)
		}
		if out.Response.StatusCode != http.StatusForbidden {
			t.Fatalf("hidden course: status %d, want 403: %s", out.Response.StatusCode, out.Body)
		}
		return string(out.Body)
	}
	es := launch("es-ES")
	for _, want := range []string{`<html lang="es">`, "Este acceso se ha rechazado", "Qué ha pasado:",
		"El curso «" + c.FullName + "» está oculto para los estudiantes", "Qué hacer:", "Identificador de la petición"} {
		if !strings.Contains(es, want) {
			t.Errorf("Spanish refusal lacks %q: %s", want, es)
		}
	}
	en := launch("en-GB")
	for _, want := range []string{`<html lang="en">`, "What happened:", "is hidden from students"} {
		if !strings.Contains(en, want) {
			t.Errorf("English refusal lacks %q: %s", want, en)
		}
	}
}

// TestAccountLanguage: a signed-in user picks Spanish on their account page; pages follow it over the browser's
// Accept-Language, and an unknown language is refused with a page that says what to do.
func TestAccountLanguage(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	c := inst.Client(t)
	c.Transport = headerTransport{http.Header{"Accept-Language": {"en-US"}}}
	inst.Login(t, c, inst.Admin.Username, apptest.AdminPassword)
	if res := inst.Get(t, c, "/account/password"); !strings.Contains(res.Body, `<html lang="en">`) ||
		!strings.Contains(res.Body, `<option value="es" lang="es">Español</option>`) {
		t.Fatalf("account page: %s", res.Body)
	}
	if res := inst.PostForm(t, c, "/account/language", url.Values{"language": {"es"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("choosing Spanish: %d %s", res.StatusCode, res.Body)
	}
	res := inst.Get(t, c, "/account/password")
	if !strings.Contains(res.Body, `<html lang="es">`) || !strings.Contains(res.Body, "Se ha guardado su idioma.") {
		t.Fatalf("after choosing Spanish: %d %s", res.StatusCode, res.Body)
	}
	if res := inst.Get(t, c, "/"); !strings.Contains(res.Body, "Área personal") {
		t.Fatalf("dashboard not in Spanish: %s", res.Body)
	}
	res = inst.PostForm(t, c, "/account/language", url.Values{"language": {"tlh"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Elija uno de los idiomas de la lista.") {
		t.Fatalf("unknown language: %d %s", res.StatusCode, res.Body)
	}
	// Back to the browser's language.
	inst.PostForm(t, c, "/account/language", url.Values{"language": {""}})
	if res := inst.Get(t, c, "/"); !strings.Contains(res.Body, `<html lang="en">`) {
		t.Fatalf("following the browser again: %s", res.Body)
	}
}

// TestCourseContentLanguage: a teacher says a course is written in Portuguese (pt-br, written canonically as
// pt-BR); its content keeps its words and carries lang="pt-BR" on pages that speak the learner's language, a
// course export carries the language, and a code that is not a language is refused naming the field.
func TestCourseContentLanguage(t *testing.T) {
	t.Parallel()
	f := newCourseFixture(t)
	c := f.res.Course
	edit := fmt.Sprintf("/courses/%d/edit", c.ID)
	form := url.Values{"full_name": {c.FullName}, "short_name": {c.ShortName}, "summary": {"Uma introdução."}, "visible": {"on"}}
	form.Set("language", "pt-br")
	if r := f.inst.PostForm(t, f.teacher, edit, form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save with a language: %d %s", r.StatusCode, r.Body)
	}
	page := f.inst.Get(t, f.student, fmt.Sprintf("/courses/%d", c.ID)).Body
	if !strings.Contains(page, `<h1 lang="pt-BR">`+c.FullName+`</h1>`) || !strings.Contains(page, `<p lang="pt-BR">Uma introdução.</p>`) ||
		!strings.Contains(page, `<html lang="en">`) {
		t.Fatalf("course page does not mark its content as pt-BR inside an English page:\n%s", page)
	}
	export := f.inst.Get(t, f.teacher, fmt.Sprintf("/courses/%d/export", c.ID)).Body
	if !strings.Contains(export, `"language": "pt-BR"`) && !strings.Contains(export, `"language":"pt-BR"`) {
		t.Fatalf("export lacks the language: %s", export)
	}
	form.Set("language", "not a language!")
	r := f.inst.PostForm(t, f.teacher, edit, form)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "language") || !strings.Contains(r.Body, "pt-BR") {
		t.Fatalf("bad language code: %d %s", r.StatusCode, r.Body)
	}
}

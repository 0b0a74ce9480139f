package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/account"
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

// TestTeacherPagesInSpanish: a teacher whose account language is Spanish edits a quiz, a question and a published
// resource in Spanish, with Moodle's Spanish words; a content selection launch whose platform says locale es shows
// its sign-in and then its list of resources in Spanish.
func TestTeacherPagesInSpanish(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.inst.EnsureUser(t, account.NewUser{Username: "tina", FullName: "Tina Teacher", Password: "tina-password-1", Language: "es"})
	if _, err := w.inst.App.Courses.Enrol(ctx, &w.inst.Admin, w.course.ID, course.EnrolInput{Username: "tina", Role: course.RoleTeacher, Status: course.StatusActive}); err != nil {
		t.Fatal(err)
	}
	c := w.inst.Client(t)
	c.Transport = headerTransport{http.Header{"Accept-Language": {"en-US,en;q=0.9"}}}
	w.inst.Login(t, c, "tina", "tina-password-1")

	inSpanish := func(t *testing.T, what, path string, want, notWant []string) {
		t.Helper()
		res := w.inst.Get(t, c, path)
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `<html lang="es">`) {
			t.Fatalf("%s: status %d, want a page in Spanish: %s", what, res.StatusCode, res.Body)
		}
		for _, s := range want {
			if !strings.Contains(res.Body, s) {
				t.Errorf("%s lacks %q", what, s)
			}
		}
		for _, s := range notWant {
			if strings.Contains(res.Body, s) {
				t.Errorf("%s still says %q in English", what, s)
			}
		}
	}
	inSpanish(t, "quiz editing page", fmt.Sprintf("/activities/%d/questions", w.quiz.ID),
		[]string{"Preguntas: " + w.quiz.Name, "Vista previa como estudiante", "Ajustes del cuestionario", "Intentos y recalificación",
			"Añadir una pregunta:", ">opción múltiple<", ">verdadero/falso<", "Respuesta correcta:"},
		[]string{"Quiz settings", "Add a question", "Right answer:", "Preview as a student"})
	inSpanish(t, "quiz preview", fmt.Sprintf("/activities/%d/questions?preview=1", w.quiz.ID),
		[]string{"Así ven el cuestionario los estudiantes", "Volver a la edición", "Enviar respuestas (solo estudiantes)"},
		[]string{"point(s)", "students only"})
	inSpanish(t, "question form", fmt.Sprintf("/activities/%d/questions/new?type=multichoice", w.quiz.ID),
		[]string{"Nueva pregunta", "Enunciado de la pregunta", "Formato del texto", "texto plano", "Varias respuestas", "Opción 0",
			"Calificación de la opción 0 en porcentaje", "Retroalimentación general", "Guardar pregunta"},
		[]string{"Question text", "Save question", "General feedback"})
	inSpanish(t, "publish form", fmt.Sprintf("/courses/%d/published/new", w.course.ID),
		[]string{"Publicar como herramienta LTI", "Publicado como herramientas LTI", "Herramienta que se publica", "Curso completo: " + w.course.FullName,
			"Actividad: " + w.quiz.Name + " (cuestionario)", "Sincronización de calificaciones", "Modo de sincronización de miembros",
			"Modo de aprovisionamiento en el primer acceso de estudiantes", "Solo cuentas nuevas (automático)", "Cuentas existentes y nuevas (preguntar)",
			">estudiante<", "Matriculación", "Máximo de usuarios matriculados", ">Publicar<", ">Cancelar<"},
		[]string{"provisioning mode", "Grade synchronisation", "Whole course", "Cancel<"})
	inSpanish(t, "published resource's form", fmt.Sprintf("/courses/%d/published/%d/edit", w.course.ID, w.quizR.ID),
		[]string{`data-copy="URL de lanzamiento de ` + w.quizR.Name + `"`, `data-copy-label="Copiar URL de lanzamiento de ` + w.quizR.Name + `"`, `data-copy-button="Copiar"`, "Propiedades personalizadas", "Guardar cambios"},
		[]string{"Custom properties<", "Save changes"})

	// Content selection: the platform names Spanish; the teacher has no link yet, so the page asks them to sign in.
	b := w.browser(t)
	spec := dlSpec("tina-at-platform", &ltitest.DeepLinking{})
	spec.Presentation = &ltitest.Presentation{DocumentTarget: "iframe", Locale: "es"}
	resp := b.launch(spec)
	for _, want := range []string{`<html lang="es">`, "Elegir contenido de ltipub", "su cuenta existente en este sitio", "Nombre de usuario", "Iniciar sesión"} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, want) {
			t.Fatalf("content selection sign-in lacks %q: %d %s", want, resp.StatusCode, resp.Body)
		}
	}
	if r := b.post("/launch/select/signin", url.Values{"username": {"tina"}, "password": {"tina-password-1"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d %s", r.StatusCode, r.Body)
	}
	page := b.get("/launch/select")
	for _, want := range []string{`<html lang="es">`, "Seleccionar " + w.quizR.Name, ">cuestionario<", ">curso<", "Sí, sobre 10",
		"Añadir al libro de calificaciones", "Añadir a la plataforma", "Cancelar"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("content selection list lacks %q", want)
		}
	}
	for _, english := range []string{"Add to the platform", "Add to gradebook", "Graded<", "Yes, out of"} {
		if strings.Contains(page.Body, english) {
			t.Errorf("content selection list still says %q", english)
		}
	}
	if t.Failed() {
		t.Logf("selection page: %s", page.Body)
	}
	resp = b.post("/launch/select", url.Values{"action": {"add"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, "Seleccione al menos un recurso, o pulse Cancelar.") {
		t.Fatalf("an empty selection: %d %s", resp.StatusCode, resp.Body)
	}
	// The answer: the return page and the message the platform shows speak Spanish too.
	resp = b.post("/launch/select", url.Values{"action": {"add"}, "resource": {fmt.Sprint(w.quizR.ID)}})
	added := "Se ha añadido “" + w.quizR.Name + "” desde ltipub."
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, "Enviando su selección a la plataforma…") ||
		!strings.Contains(resp.Body, added) || !strings.Contains(resp.Body, "Volver a la plataforma") {
		t.Fatalf("selection answer: %d %s", resp.StatusCode, resp.Body)
	}
	b.postReturn(resp.Body)
	if returns := w.p.DeepLinkReturns(); len(returns) != 1 || returns[0].Err != "" || returns[0].Msg != added {
		t.Fatalf("the platform's record of the answer: %+v", returns)
	}
}

// TestWebProblemsInSpanish: the problems web itself gives (an unknown address, a continuation page opened without
// the launch or content selection it continues) are in the reader's language, in English unchanged otherwise.
func TestWebProblemsInSpanish(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	es := w.inst.Client(t)
	es.Transport = headerTransport{http.Header{"Accept-Language": {"es-ES,es;q=0.9"}}}
	en := w.inst.Client(t)
	for _, tc := range []struct {
		path       string
		status     int
		es, en     string
		notSpanish string
	}{
		{"/no-such-page", http.StatusNotFound, "Página no encontrada", "Page not found", "There is no page at"},
		{"/launch/select", http.StatusBadRequest, "No hay ninguna selección de contenido en curso", "No content selection in progress", "Start again from your platform"},
		{"/launch/account", http.StatusBadRequest, "No hay ningún acceso en curso", "No launch in progress", "Go back to your platform and open the resource again"},
	} {
		res := w.inst.Get(t, es, tc.path)
		if res.StatusCode != tc.status || !strings.Contains(res.Body, `<html lang="es">`) || !strings.Contains(res.Body, tc.es) || strings.Contains(res.Body, tc.notSpanish) {
			t.Errorf("%s in Spanish: status %d, want %d and %q without %q:\n%s", tc.path, res.StatusCode, tc.status, tc.es, tc.notSpanish, res.Body)
		}
		res = w.inst.Get(t, en, tc.path)
		if res.StatusCode != tc.status || !strings.Contains(res.Body, tc.en) || !strings.Contains(res.Body, tc.notSpanish) {
			t.Errorf("%s in English: status %d, want %d and %q, %q:\n%s", tc.path, res.StatusCode, tc.status, tc.en, tc.notSpanish, res.Body)
		}
	}
	// A course import with nothing chosen says what to choose, in the reader's language.
	w.inst.Login(t, es, "admin", apptest.AdminPassword)
	res := w.inst.PostForm(t, es, "/courses/import", url.Values{})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Body, "Elija un archivo de curso o una copia de seguridad de Moodle") {
		t.Errorf("empty course import in Spanish: status %d:\n%s", res.StatusCode, res.Body)
	}
	// Exporting the questions of a page, which has none, is not possible there, in the reader's language.
	res = w.inst.Get(t, es, fmt.Sprintf("/activities/%d/questions.gift", w.page.ID))
	if !strings.Contains(res.Body, "No es posible aquí") || strings.Contains(res.Body, "Not possible here") {
		t.Errorf("a page's question export in Spanish: status %d:\n%s", res.StatusCode, res.Body)
	}
}

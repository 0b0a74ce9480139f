package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
)

// TestValidationErrorsInSpanish: the mistakes the domain finds in a form (a course, a published resource, a new
// password, a question type) read in the person's language, naming the field and the value; an English reader
// gets the words the domain wrote, exactly as before.
func TestValidationErrorsInSpanish(t *testing.T) {
	t.Parallel()
	f := newCourseFixture(t)
	c := f.res.Course
	es, en := f.inst.Client(t), f.inst.Client(t)
	es.Transport = headerTransport{http.Header{"Accept-Language": {"es-ES,es;q=0.9"}}}
	en.Transport = headerTransport{http.Header{"Accept-Language": {"en-GB"}}}
	f.inst.Login(t, es, "teacher", pw)
	f.inst.Login(t, en, "teacher", pw)

	post := func(t *testing.T, cl *http.Client, path string, form url.Values, status int, want, notWant []string) {
		t.Helper()
		r := f.inst.PostForm(t, cl, path, form)
		if r.StatusCode != status {
			t.Fatalf("%s: status %d, want %d: %s", path, r.StatusCode, status, r.Body)
		}
		for _, s := range want {
			if !strings.Contains(r.Body, s) {
				t.Errorf("%s lacks %q", path, s)
			}
		}
		for _, s := range notWant {
			if strings.Contains(r.Body, s) {
				t.Errorf("%s says %q", path, s)
			}
		}
		if t.Failed() {
			t.Logf("page: %s", r.Body)
		}
	}
	edit := fmt.Sprintf("/courses/%d/edit", c.ID)
	form := url.Values{"full_name": {""}, "short_name": {c.ShortName}, "visible": {"on"}}
	post(t, es, edit, form, http.StatusBadRequest, []string{"Campo full_name: es obligatorio."}, []string{"is required"})
	post(t, en, edit, form, http.StatusBadRequest, []string{"The field full_name is required."}, nil)
	form = url.Values{"full_name": {c.FullName}, "short_name": {c.ShortName}, "language": {"xx yy"}}
	post(t, es, edit, form, http.StatusBadRequest, []string{"Campo language: ", "xx yy", "no es un código de idioma como en, es o pt-BR."}, []string{"is not a language code"})

	pub := fmt.Sprintf("/courses/%d/published/new", c.ID)
	form = url.Values{"name": {"Quiz"}, "student_mode": {"auto"}, "teacher_mode": {"auto"}, "member_sync_mode": {"enrol_unenrol"},
		"learner_role": {"student"}, "instructor_role": {"teacher"}, "country": {"España"}}
	post(t, es, pub, form, http.StatusBadRequest, []string{"País: ", "no es un código de país de dos letras como ES."}, []string{"two-letter"})
	post(t, en, pub, form, http.StatusBadRequest, []string{"Country: ", "is not a two-letter country code like FR."}, nil)
	form.Set("country", "")
	form.Set("max_enrolled", "muchos")
	post(t, es, pub, form, http.StatusBadRequest, []string{"Máximo de usuarios matriculados: ", "no es un número entero (0 significa sin límite)."}, nil)

	// A mistake in JSON text names its place and what it found, in Spanish.
	form = url.Values{"type": {"quiz"}, "name": {"Quiz"}, "max_grade": {"10"}, "questions": {`[{"type": "truefalse" "text": "x"}]`}}
	newAct := fmt.Sprintf("/courses/%d/activities/new", c.ID)
	post(t, es, newAct, form, http.StatusBadRequest, []string{"Campo questions, línea 1, columna 23: se esperaba una coma o una llave de cierre } después del valor del campo y hay unas comillas dobles &#34; (la línea hasta ahí: ",
		"(las preguntas son una lista JSON como en docs/course-format.md)."},
		[]string{"expected a comma"})
	post(t, en, newAct, form, http.StatusBadRequest, []string{"Questions, line 1, column 23: expected a comma or a closing brace } after the field&#39;s value, found a double quote"}, nil)

	// A question type that does not exist is a problem page, worded in Spanish too.
	quiz := f.res.Activities[1].ID
	r := f.inst.Get(t, es, fmt.Sprintf("/activities/%d/questions/new?type=riddle", quiz))
	for _, s := range []string{"No se ha aceptado", "Campo type: debe ser multichoice, truefalse, shortanswer, numerical, matching o essay.",
		"Vuelva atrás, corríjalo y envíelo de nuevo."} {
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, s) {
			t.Errorf("question of an unknown type: %d, lacks %q", r.StatusCode, s)
		}
	}
	if r := f.inst.Get(t, en, fmt.Sprintf("/activities/%d/questions/new?type=riddle", quiz)); !strings.Contains(r.Body, "That was not accepted") ||
		!strings.Contains(r.Body, "The field type must be one of multichoice") {
		t.Errorf("in English: %s", r.Body)
	}

	// A new password too short for the account rules.
	post(t, es, "/account/password", url.Values{"current": {pw}, "new": {"short"}, "confirm": {"short"}}, http.StatusBadRequest,
		[]string{"La nueva contraseña: debe tener al menos"}, []string{"characters long"})
	post(t, en, "/account/password", url.Values{"current": {pw}, "new": {"short"}, "confirm": {"short"}}, http.StatusBadRequest,
		[]string{"The new password must be at least"}, nil)
}

// TestAdminRefusalsInSpanish: an administrator reading Spanish gets the platform form's mistakes, a refusal of the
// registration rules and a course's refusal in Spanish, with the details (the registration's name, the
// deployment ID) in their place.
func TestAdminRefusalsInSpanish(t *testing.T) {
	t.Parallel()
	f := newCourseFixture(t)
	inst := f.inst
	c := inst.Client(t)
	c.Transport = headerTransport{http.Header{"Accept-Language": {"es"}}}
	inst.Login(t, c, "admin", apptest.AdminPassword)
	id, _ := createPlatform(t, inst, c, "Manual")
	base := "/admin/platforms/" + strconv.FormatInt(id, 10)

	bad := url.Values{"issuer": {"lms.example.edu"}, "client_id": {"has space"}, "jwks_url": {"ftp://x/jwks"},
		"token_url": {""}, "auth_url": {"https://lms.example.edu/auth#frag"}}
	r := inst.PostForm(t, c, base+"/platform", bad)
	body := html.UnescapeString(r.Body)
	for _, want := range []string{"ID de la plataforma (emisor): debe ser una URL absoluta como https://lms.example.edu.",
		"El ID de cliente debe tener como máximo 255 caracteres ASCII imprimibles", "URL del conjunto de claves públicas: debe ser una URL https.",
		"URL del token de acceso: es obligatorio.", "URL de solicitud de autenticación: no debe tener fragmento."} {
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, want) {
			t.Errorf("platform details: %d, missing %q", r.StatusCode, want)
		}
	}
	if strings.Contains(body, "must be an https URL") {
		t.Errorf("platform details still in English: %s", body)
	}

	r = inst.PostForm(t, c, base+"/deployments/remove", url.Values{"deployment_id": {"nope"}})
	body = html.UnescapeString(r.Body)
	for _, want := range []string{"No existe ese despliegue", "El registro “Manual” no tiene el ID de despliegue “nope”.",
		"Compruebe el ID de despliegue en la pestaña Despliegues."} {
		if r.StatusCode != http.StatusNotFound || !strings.Contains(body, want) {
			t.Errorf("unknown deployment: %d, missing %q", r.StatusCode, want)
		}
	}

	// The outsider, enrolled nowhere, reading Spanish.
	o := inst.Client(t)
	o.Transport = headerTransport{http.Header{"Accept-Language": {"es"}}}
	inst.Login(t, o, "outsider", pw)
	r = inst.Get(t, o, fmt.Sprintf("/courses/%d", f.res.Course.ID))
	if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "No está matriculado en este curso") {
		t.Errorf("not enrolled: %d %s", r.StatusCode, r.Body)
	}
}

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
	"github.com/ltipub/ltipub/lti/ltitest"
)

// TestPeoplePagesInSpanish walks the people and grades pages in Spanish: a site administrator whose browser asks
// for Spanish goes through the users list, a user's page (suspending, a password refused), the merge form with an
// error and with a plan, and the delete confirmation; a teacher whose account language is Spanish goes through
// the enrolments (one, and a bulk change with its confirmation), the grader report and the published list; a
// learner launched with locale es reads their quiz review, and a teacher reviewing from the gradebook the
// submission review. Each page uses Moodle's Spanish words, and the English sentences are gone.
func TestPeoplePagesInSpanish(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	inst := w.inst
	inst.EnsureUser(t, account.NewUser{Username: "tina", FullName: "Tina Teacher", Password: "tina-password-1", Language: "es"})
	sam := inst.EnsureUser(t, account.NewUser{Username: "sam", FullName: "Sam Student", Password: "sam-password-1"})
	inst.EnsureUser(t, account.NewUser{Username: "sam2", FullName: "Sam Again", Password: "sam-password-2"})
	for _, e := range []course.EnrolInput{{Username: "tina", Role: course.RoleTeacher}, {Username: "sam", Role: course.RoleStudent}} {
		e.Status = course.StatusActive
		if _, err := inst.App.Courses.Enrol(ctx, &inst.Admin, w.course.ID, e); err != nil {
			t.Fatal(err)
		}
	}
	admin := inst.Client(t)
	admin.Transport = headerTransport{http.Header{"Accept-Language": {"es-ES,es;q=0.9"}}}
	inst.Login(t, admin, inst.Admin.Username, apptest.AdminPassword)
	teacher := inst.Client(t)
	teacher.Transport = headerTransport{http.Header{"Accept-Language": {"en-US,en;q=0.9"}}}
	inst.Login(t, teacher, "tina", "tina-password-1")

	// check asserts a page in Spanish: its status, <html lang="es">, the Spanish words and none of the English.
	check := func(t *testing.T, what string, res apptest.Response, status int, want, notWant []string) {
		t.Helper()
		if res.StatusCode != status || !strings.Contains(res.Body, `<html lang="es">`) {
			t.Fatalf("%s: status %d (want %d), want a page in Spanish: %s", what, res.StatusCode, status, res.Body)
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
	get := func(c *http.Client, path string) apptest.Response { return inst.Get(t, c, path) }
	uid := fmt.Sprint(sam.ID)

	// The site administrator's pages.
	check(t, "users list", get(admin, "/admin/users"), http.StatusOK,
		[]string{"Administración del sitio", "<h1>Usuarios</h1>", "Buscar por nombre de usuario, nombre o correo electrónico", "¿Una persona con dos cuentas?",
			"Fusiónelas", "Nombre de usuario", "Correo electrónico", "Último acceso", ">administrador<", ">activa<", ">Buscar<"},
		[]string{"Find by username", "Merge them", "Last sign-in", ">administrator<", ">active<"})
	check(t, "user page", get(admin, "/admin/users/"+uid), http.StatusOK,
		[]string{"Nombre de usuario", "cuenta local", "Cuentas de plataforma", "Ninguna cuenta de plataforma está vinculada a esta cuenta.",
			"<h2>Matriculaciones</h2>", ">estudiante<", ">activa<", ">manual<", "Gestionar", ">Suspender<", "Fusionar otra cuenta con esta…",
			"Establecer una contraseña nueva", "(al menos 10 caracteres)", "Zona de peligro", "Eliminar esta cuenta…"},
		[]string{"Platform accounts", "Danger zone", "Set a new password", "Lift the suspension", "local account", ">student<"})
	if r := inst.PostForm(t, admin, "/admin/users/"+uid+"/suspend", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("suspend: %d %s", r.StatusCode, r.Body)
	}
	check(t, "user page after suspending", get(admin, "/admin/users/"+uid), http.StatusOK,
		[]string{"Se ha suspendido a sam: ya no puede iniciar sesión ni lanzar.", "suspendida desde el ", "Levantar la suspensión"},
		[]string{"is suspended", "suspended since"})
	check(t, "suspending the only admin", inst.PostForm(t, admin, fmt.Sprintf("/admin/users/%d/suspend", inst.Admin.ID), nil),
		http.StatusBadRequest, []string{"Este es el único administrador del sitio que puede iniciar sesión"}, []string{"only site administrator"})

	check(t, "merge form with an unknown account", get(admin, "/admin/users/merge?keep=sam&drop=nobody"), http.StatusBadRequest,
		[]string{"Fusionar cuentas", "Fusionar dos cuentas", "Cuenta que se conserva", "(ID o nombre de usuario)",
			`No existe esa cuenta: &#34;nobody&#34; no es ni un ID de cuenta ni un nombre de usuario.`, "Mostrar lo que tiene cada una"},
		[]string{"Merge two accounts", "neither an account ID", "Show what each holds"})
	check(t, "merge form with the same account twice", get(admin, "/admin/users/merge?keep=sam&drop=sam"), http.StatusBadRequest,
		[]string{"Los dos nombres son la misma cuenta"}, []string{"same account"})
	check(t, "merge plan", get(admin, "/admin/users/merge?keep=sam&drop=sam2"), http.StatusOK,
		[]string{"Se conserva: Sam Student", "Se fusiona y se elimina: Sam Again", "1 matriculación", "0 cuentas de plataforma", "0 lanzamientos",
			"Qué hace la fusión", "Mueve 0 cuentas de plataforma, 0 matriculaciones, 0 calificaciones, 0 envíos y 0 intentos de cuestionario de sam2 a sam, en un solo paso.",
			"Las dos cuentas no tienen nada en común", "Fusionar sam2 con sam", ">Cancelar<"},
		[]string{"What the merge does", "enrolment(s)", "Merge, then delete", "Cancel<"})

	check(t, "delete confirmation", get(admin, "/admin/users/"+uid+"/delete"), http.StatusOK,
		[]string{"¿Eliminar sam?", "Al eliminar la cuenta se elimina con ella", "0 cuentas de plataforma vinculadas", "1 matriculación",
			"Las calificaciones ya enviadas a una plataforma se quedan allí.", "suspenda</a> la cuenta en su lugar.", "Eliminar cuenta", ">Eliminar<"},
		[]string{"Deleting the account deletes", "enrolment(s)", "Delete account", "Cancel<"})
	check(t, "deleting oneself", inst.PostForm(t, admin, fmt.Sprintf("/admin/users/%d/delete", inst.Admin.ID), nil), http.StatusBadRequest,
		[]string{"No puede eliminar la cuenta con la que ha iniciado sesión."}, []string{"You cannot delete"})
	if r := inst.PostForm(t, admin, "/admin/users/merge", url.Values{"keep": {"sam"}, "drop": {"sam2"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("merge: %d %s", r.StatusCode, r.Body)
	}
	check(t, "after the merge", get(admin, "/admin/users/"+uid), http.StatusOK,
		[]string{"Se ha fusionado sam2 con sam: se han movido 0 cuentas de plataforma, 0 matriculaciones, 0 calificaciones, 0 envíos y 0 intentos de cuestionario."},
		[]string{"Merged", "moved"})
	inst.PostForm(t, admin, "/admin/users/"+uid+"/unsuspend", nil)

	// The teacher's pages: enrolments, one enrolment, a bulk change.
	cid := w.course.ID
	list := get(teacher, fmt.Sprintf("/courses/%d/enrolments", cid))
	check(t, "enrolments", list, http.StatusOK,
		[]string{"<h1>Matriculaciones</h1>", "Matricular a un usuario", "(opcional, UTC)", ">Matricular<", "Cualquier rol", "Cualquier estado",
			"Cualquier método", "Con las matriculaciones seleccionadas", ">Dar de baja<", ">Convertir en profesor<", "Revisar el cambio…",
			`<td class="role">estudiante</td>`, `<td class="status">activa</td>`, "Periodo (UTC)", ">siempre<", "Editar la matriculación de Sam Student"},
		[]string{"Enrol a user", "Any role", "Review the change", "With the selected", ">always<", `<td class="role">student</td>`})
	m := regexp.MustCompile(`<tr data-id="(\d+)" data-user="sam">`).FindStringSubmatch(list.Body)
	if m == nil {
		t.Fatalf("no enrolment of sam on the list: %s", list.Body)
	}
	check(t, "one enrolment", get(teacher, fmt.Sprintf("/courses/%d/enrolments/%s", cid, m[1])), http.StatusOK,
		[]string{"<h1>Matriculación de Sam Student</h1>", "método: manual", ">Guardar<", `<option value="suspended">suspendida</option>`},
		[]string{"<h1>Enrolment of", "made manual"})
	bulk := fmt.Sprintf("/courses/%d/enrolments/bulk", cid)
	check(t, "bulk confirmation", inst.PostForm(t, teacher, bulk, url.Values{"action": {"suspend"}, "id": {m[1]}}), http.StatusOK,
		[]string{"¿Cambiar 1 matriculación?", "Cambiar varias", "Acción: <strong>suspender</strong> para la matriculación de abajo (1).",
			"Sam Student <span class=\"muted\">sam · estudiante, activa, manual</span>", "Sí, suspender 1"},
		[]string{"Change 1 enrolment(s)?", "This will", "Yes, suspend"})
	check(t, "an empty bulk selection", inst.PostForm(t, teacher, bulk, url.Values{"action": {"suspend"}}), http.StatusBadRequest,
		[]string{"¿Cambiar 0 matriculaciones?", "Volver a las matriculaciones"}, []string{"Back to the enrolments"})
	done := inst.PostForm(t, teacher, bulk, url.Values{"action": {"reactivate"}, "id": {m[1]}, "confirm": {"yes"}})
	if done.StatusCode != http.StatusSeeOther {
		t.Fatalf("bulk change: %d %s", done.StatusCode, done.Body)
	}
	check(t, "after a bulk change", get(teacher, done.Header.Get("Location")), http.StatusOK,
		[]string{"Hecho: reactivar, 1 matriculación."}, []string{"Done:"})

	// A learner launched in Spanish takes the quiz and reads the review of their attempt.
	learner := w.browser(t)
	ls := spec("learner-es", false, w.quizR)
	ls.Presentation = &ltitest.Presentation{DocumentTarget: "iframe", Locale: "es"}
	if land := learner.launch(ls); land.StatusCode != http.StatusOK {
		t.Fatalf("learner launch: %d %s", land.StatusCode, land.Body)
	}
	if r := learner.post(fmt.Sprintf("/activities/%d/attempts", w.quiz.ID), url.Values{"q_closest": {"1"}, "q_giants": {"0", "2"}, "q_star": {"Sol"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit the attempt: %d %s", r.StatusCode, r.Body)
	}
	check(t, "learner's quiz review", learner.get(fmt.Sprintf("/activities/%d", w.quiz.ID)), http.StatusOK,
		[]string{"Su respuesta: “Sol”"}, []string{"Your answer", "(right answer)", "(right:"})

	// The grader report and the published list.
	check(t, "grader report", get(teacher, fmt.Sprintf("/courses/%d/grades", cid)), http.StatusOK,
		[]string{"<h1>Informe del calificador</h1>", "Descargar todos los estudiantes en CSV", "Buscar estudiantes", "Nombre, nombre de usuario o correo electrónico",
			">Estudiante<", "Total del curso", ">Mostrar<"},
		[]string{"Grader report", "Download every student", "Course total", ">Student<"})
	check(t, "published list", get(teacher, fmt.Sprintf("/courses/%d/published", cid)), http.StatusOK,
		[]string{"<h1>Publicado como herramientas LTI</h1>", "Añadir un recurso publicado", "Habilitados y deshabilitados", ">Habilitado<",
			"Sincronización de calificaciones", "Aprovisionamiento", "Estudiantes:", "Envío de calificaciones", ">Deshabilitar<",
			"Heredado (LTI 1.1)", "URL del cartucho", "Clave de consumidor", "Generar un secreto nuevo", `data-copy="URL de lanzamiento LTI 1.1 de ` + w.quizR.Name + `"`},
		[]string{"Add a published resource", "Grade delivery", "Legacy (LTI 1.1)", "Regenerate secret", "Provisioning", "Students:"})

	// The submission review a teacher opens from the platform's gradebook, in the launch's language.
	in := publish.NewInput(w.course.ID)
	in.ActivityID, in.TeacherMode, in.Name = w.quiz.ID, publish.ModeAuto, "Quiz for review"
	r := w.publish(t, in)
	sr := publish.SubmissionReview(r, w.quiz)
	lineItem := w.p.AddLineItem("client-1", "platform-course-1", ltitest.LineItem{Label: r.Name, ScoreMaximum: w.quiz.MaxGrade,
		ResourceID: r.UUID, Tag: "grade", SubmissionReview: &ltitest.SubmissionReview{Label: sr.Label}})
	review := ltitest.ReviewSpec(spec("teacher-es", true, r), ltitest.User{Sub: "nobody-yet", Name: "Nobody Yet"}, lineItem)
	review.Presentation = &ltitest.Presentation{DocumentTarget: "iframe", Locale: "es"}
	check(t, "submission review", w.browser(t).launch(review), http.StatusOK,
		[]string{"Revisión: " + w.quiz.Name, "Todavía no hay intentos", "todavía no ha abierto " + w.quiz.Name + " desde la plataforma"},
		[]string{"No attempt yet", "has not opened"})
}

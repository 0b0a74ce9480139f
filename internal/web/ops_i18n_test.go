package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// TestOperationsPagesInSpanish walks the operations admin pages as an admin whose account speaks Spanish (the
// browser asks for English): Site administration, the launch log with its charts and pager, a refusal in the
// inspector, Sync with its charts, a held unenrolment and a flash, the run history, the settings and the
// dashboard's admin cards, and a filter refused. Each is in Spanish and no longer says its English sentences;
// the same pages stay in English for an English admin.
func TestOperationsPagesInSpanish(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	ctx := context.Background()
	inst.EnsureUser(t, account.NewUser{Username: "ana", FullName: "Ana Admin", Password: "ana-password-12", IsAdmin: true, Language: "es"})
	c := inst.Client(t)
	c.Transport = headerTransport{http.Header{"Accept-Language": {"en-US,en;q=0.9"}}}
	inst.Login(t, c, "ana", "ana-password-12")

	// The launch log: 30 accepted launches, a refusal the catalog explains, one it does not know by code.
	moodle := createRegistration(t, inst, "Moodle", "https://moodle.example")
	at := time.Now().UTC().Add(-2 * time.Hour)
	record := func(e launch.LogEntry) int64 {
		t.Helper()
		e.At, e.RegistrationID, e.Issuer, e.RequestID = at, moodle.ID, moodle.Issuer, "req-"+strconv.Itoa(int(at.UnixNano()%1e6))
		if err := inst.Store.RecordLaunch(ctx, &e); err != nil {
			t.Fatal(err)
		}
		return e.ID
	}
	for range 30 {
		record(launch.LogEntry{Stage: launch.StageLaunch, Outcome: launch.Accepted, Path: launch.PathCookie})
	}
	record(launch.LogEntry{Stage: launch.StageLaunch, Outcome: launch.Refused, Code: "iss_mismatch", Reason: "the token's issuer is not the registration's"})
	refused := record(launch.LogEntry{Stage: launch.StageLaunch, Outcome: launch.Refused, Code: "state_expired", Reason: "the launch state expired",
		Path: launch.PathCookie})
	if refused == 0 {
		entries, _ := inst.Store.LaunchLog(ctx, launch.LogFilter{Limit: 1})
		refused = entries[0].ID
	}

	// Sync: a resource with both syncs, a link, scores sent and a roster listed, a finished run and a held
	// unenrolment.
	ex := inst.ExampleCourse(t, "")
	res := inst.Publish(t, publish.Input{CourseID: ex.Course.ID, Name: "Astronomía", Enabled: true, GradeSync: true, MemberSync: true,
		MemberSyncMode: publish.SyncEnrolAndUnenrol, StudentMode: publish.ModeAuto, TeacherMode: publish.ModeAuto,
		LearnerRole: course.RoleStudent, InstructorRole: course.RoleTeacher})
	l := publish.ResourceLink{RegistrationID: moodle.ID, DeploymentID: "d1", LinkID: "rl-1", PublishedResourceID: res.ID,
		ContextID: "ctx-1", ContextTitle: "Año 1", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := inst.Store.SaveResourceLink(ctx, &l); err != nil {
		t.Fatal(err)
	}
	u := inst.EnsureUser(t, account.NewUser{Username: "sofia", Password: "a long password 1"})
	if err := inst.Store.RecordDeliveries(ctx, []jobs.Confirmed{{Target: "t", Sent: jobs.SentScore{LinkID: l.ID, UserID: u.ID,
		LineItemURL: "https://moodle.example/li", SentAt: at}}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := inst.Store.RecordRosterSize(ctx, l.ID, 1, 12, at); err != nil {
		t.Fatal(err)
	}
	if err := inst.Store.Tx(ctx, func(tx *sqlstore.Store) error {
		r := jobs.Run{Kind: jobs.KindGrades, Cause: jobs.CausePeriodic, Status: jobs.StatusRunning, StartedAt: at}
		if err := tx.StartRun(ctx, &r); err != nil {
			return err
		}
		r.Status, r.FinishedAt, r.Sent = jobs.StatusOK, at.Add(time.Second), 1
		return tx.FinishRun(ctx, r)
	}); err != nil {
		t.Fatal(err)
	}
	if err := inst.Store.PutMemberHold(ctx, jobs.MemberHold{LinkID: l.ID, ResourceID: res.ID, WouldUnenrol: 9, Members: 12,
		Reason: "9 of the 12 members enrolled through this link (75%) are missing from the roster the platform returned, among them " +
			"Ana (ana), Bo (bo) and 7 more, more than the 50% one sync may unenrol (--member-sync-max-unenrol); nothing was unenrolled. " +
			"Platforms return empty or truncated rosters during outages: check the course's participants on the platform, then confirm on " +
			"the Sync page or run `ltipub sync members --resource " + res.UUID + " --force`.", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}

	get := func(t *testing.T, client *http.Client, what, path string, status int, lang string, want, notWant []string) string {
		t.Helper()
		r := inst.Get(t, client, path)
		if r.StatusCode != status || !strings.Contains(r.Body, `<html lang="`+lang+`">`) {
			t.Fatalf("%s: status %d, want %d in %s: %s", what, r.StatusCode, status, lang, r.Body)
		}
		for _, s := range want {
			if !strings.Contains(r.Body, s) {
				t.Errorf("%s lacks %q", what, s)
			}
		}
		for _, s := range notWant {
			if strings.Contains(r.Body, s) {
				t.Errorf("%s still says %q", what, s)
			}
		}
		return r.Body
	}
	inSpanish := func(t *testing.T, what, path string, want, english []string) string {
		t.Helper()
		return get(t, c, what, path, http.StatusOK, "es", want, english)
	}

	inSpanish(t, "site administration", "/admin",
		[]string{"<h1>Administración del sitio</h1>", "1 plataforma registrada", "Registrar una plataforma", "Recursos publicados",
			"Registro de accesos", "Accesos rechazados", "Sincronización de calificaciones y miembros", "Claves", ": activa, creada el",
			"Configuración del sitio", "Métricas"},
		[]string{"Published resources", "Launch log", "Refused launches", "The tool's signing keys", "Site settings", "Prometheus metrics are"})

	log := inSpanish(t, "launch log", "/admin/launches?size=25",
		[]string{"<h1>Registro de accesos</h1>", `aria-label="Ruta de navegación"`, ">Administración del sitio</a>",
			"Mostrando 1–25 de 32 accesos.", "Página 1 de 2", "Siguiente ›", `aria-label="Página siguiente de accesos"`, "Última »",
			"Por página", "Aceptados y rechazados", "Todas las plataformas", ">Mostrar<",
			"Accesos a lo largo del tiempo", "<figcaption>Accesos por hora, últimas 48 horas</figcaption>",
			"Barras apiladas de accesos aceptados y rechazados por hora (UTC). 48 horas, del ", "Aceptados: 30 accesos en total",
			"Rechazados: 2 accesos en total", "Mostrar las cifras", "<th scope=\"col\">Hora (UTC)</th>", "<th scope=\"col\">Total</th>",
			"Rechazos más frecuentes, últimos 30 días", "<strong>rechazado</strong>", ">aceptado<", ">acceso<", ">cookie<",
			"El acceso tardó demasiado y caducó.", "El emisor del id_token no es el del registro."},
		[]string{"Showing", "Next ›", "Page 1 of", "Per page", "Launches per hour", "Show the numbers", "launches in all",
			"Accepted and refused", "All registrations", "the launch state expired", "Every LTI login and launch"})
	if !strings.Contains(log, `href="/admin/launches/`+strconv.FormatInt(refused, 10)+`"`) {
		t.Fatalf("the refusal %d is not on the first page", refused)
	}
	inSpanish(t, "launch log's second page", "/admin/launches?size=25&page=2",
		[]string{"Mostrando 26–32 de 32 accesos.", "Página 2 de 2", "« Primera", "‹ Anterior", `aria-label="Página anterior de accesos"`},
		[]string{"Previous", "First"})
	inSpanish(t, "launch log filtered to nothing", "/admin/launches?user=nadie",
		[]string{"No hay accesos que coincidan con estos filtros.", "Quitar los filtros", "Mostrar todo"},
		[]string{"No launches match", "Clear the filters", "Show all"})
	inSpanish(t, "launch inspector", "/admin/launches/"+strconv.FormatInt(refused, 10),
		[]string{"<h1>Acceso " + strconv.FormatInt(refused, 10) + ": rechazado</h1>", ">Registro de accesos</a>", "Cuándo", "Plataforma",
			"Etapa · vía</th><td>acceso · cookie", "Rechazo", "<code>state_expired</code>: El acceso tardó demasiado y caducó.",
			"Qué se indicó a la persona", "Vuelva al curso y abra la actividad de nuevo.", "Qué llegó", "ya no se guarda"},
		[]string{"Refusal<", "What came in", "no longer kept", "the launch state expired", "When<"})
	get(t, c, "a launch that is not there", "/admin/launches/999999", http.StatusNotFound, "es",
		[]string{"No existe ese acceso", "Vuelva al registro de accesos"}, []string{"No such launch"})
	get(t, c, "a filter refused", "/admin/launches?outcome=quizas", http.StatusBadRequest, "es",
		[]string{"No se entendió ese filtro", "El filtro outcome &#34;quizas&#34; no es accepted (aceptado) o refused (rechazado)."},
		[]string{"That filter was not understood"})

	inSpanish(t, "sync", "/admin/sync",
		[]string{"<h1>Sincronización</h1>", "Desmatriculaciones que esperan su confirmación",
			"en Año 1: se desmatricularía a 9 de 12 miembros.",
			"Faltan 9 de los 12 miembros matriculados por este enlace (75 %) en la lista de participantes que devolvió la plataforma, entre ellos Ana (ana), Bo (bo) y 7 más, más del 50 %", "Confirmar y desmatricular", "Sincronización de calificaciones",
			"Sincronización de miembros", "Ejecutar ahora", "Última ejecución: ", `data-last-run="Última ejecución: "`, "Notas y errores",
			"Sincronización a lo largo del tiempo", "<figcaption>Puntuaciones enviadas a Moodle, últimos 30 días</figcaption>",
			"Enviadas: 1 puntuación en total", "<figcaption>Tamaño de la lista de participantes por enlace de recurso, últimos 30 días</figcaption>",
			"12 miembros (mínimo 12, máximo 12)", "Mostrar las cifras", "Todas las ejecuciones de la Sincronización de calificaciones, con filtros"},
		[]string{"Run now", "Last run", "Grade sync", "Scores sent to", "Show the numbers", "in all", "would be unenrolled", "are missing from the roster"})
	inSpanish(t, "sync run history", "/admin/sync/runs?kind=grades&status=ok",
		[]string{"<h1>Historial de ejecuciones de sincronización</h1>", ">Sincronización</a>", "Historial de ejecuciones</span>",
			"Mostrando 1–1 de 1 ejecuciones de sincronización que coinciden.", "Cualquier estado", ">correcta<", ">periódica<", ">calificaciones<"},
		[]string{"Sync run history", "Any status", "Showing", "Grades and members"})
	inSpanish(t, "settings", "/admin/settings",
		[]string{"<h1>Configuración del sitio</h1>", "Publicación LTI activada", "Permitir la inserción en marcos", "Guardar la configuración",
			"Bloqueos de inicio de sesión", "Desbloquear el inicio de sesión"},
		[]string{"Save settings", "Sign-in locks", "LTI publishing enabled", "Allow frame embedding"})
	// Flash messages are in Spanish too.
	if r := inst.PostForm(t, c, "/admin/settings", url.Values{"publishing_enabled": {"on"}, "default_language": {"en"}}); r.StatusCode != http.StatusOK && r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save settings: %d", r.StatusCode)
	}
	inSpanish(t, "settings saved", "/admin/settings", []string{"Configuración guardada."}, []string{"Settings saved."})
	if r := inst.PostForm(t, c, "/admin/unlock", url.Values{"username": {"sofia"}}); r.StatusCode != http.StatusOK && r.StatusCode != http.StatusSeeOther {
		t.Fatalf("unlock: %d", r.StatusCode)
	}
	inSpanish(t, "settings after an unlock", "/admin/settings", []string{`Inicio de sesión de &#34;sofia&#34; desbloqueado (0 intentos fallidos olvidados).`}, []string{"unlocked"})
	inSpanish(t, "dashboard", "/",
		[]string{"Registrar plataformas LMS", "Registro de accesos", "Todo lo demás"},
		[]string{"Everything else", "Register LMS platforms"})

	// An English admin reads the same pages in English, as before.
	en := adminClient(t, inst)
	get(t, en, "launch log in English", "/admin/launches?size=25", http.StatusOK, "en",
		[]string{"<h1>Launch log</h1>", "Showing 1–25 of 32 launches.", "Page 1 of 2", "Next ›", `aria-label="Next page of launches"`,
			"Accepted: 30 launches in all", "Show the numbers", "the launch state expired", `aria-label="Breadcrumb"`},
		[]string{"Registro", "Mostrando", "ops.", "layout."})
	get(t, en, "sync in English", "/admin/sync", http.StatusOK, "en",
		[]string{"<h1>Sync</h1>", "in Año 1: 9 of 12 members would be unenrolled.", "Scores sent to Moodle, last 30 days",
			"Sent: 1 score in all", "Run now"},
		[]string{"Sincronización", "ops.", "layout."})
}

// TestLaunchInspectorInSpanish: an accepted launch and one without services, inspected by a Spanish admin: what
// ltipub did, the validation steps, the services and the warnings are in Spanish.
func TestLaunchInspectorInSpanish(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	inst.Platform(t, p, "client-1")
	inst.EnsureUser(t, account.NewUser{Username: "ana", FullName: "Ana Admin", Password: "ana-password-12", IsAdmin: true, Language: "es"})
	c := inst.Client(t)
	inst.Login(t, c, "ana", "ana-password-12")
	inspect := func(t *testing.T, want, english []string) {
		t.Helper()
		e := newestLaunch(t, inst)
		page := inst.Get(t, c, "/admin/launches/"+strconv.FormatInt(e.ID, 10))
		if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `<html lang="es">`) {
			t.Fatalf("inspector: %d %s", page.StatusCode, page.Body)
		}
		for _, w := range want {
			if !strings.Contains(page.Body, w) {
				t.Errorf("inspector lacks %q", w)
			}
		}
		for _, w := range english {
			if strings.Contains(page.Body, w) {
				t.Errorf("inspector still says %q", w)
			}
		}
	}
	if res, err := p.Launch(context.Background(), newLaunchClient(), learnerSpec(t)); err != nil || res.Response.StatusCode != http.StatusOK {
		t.Fatalf("launch: %v %v", err, res)
	}
	inspect(t, []string{": aceptado</h1>", "Qué hizo ltipub", "cuenta nueva: <a href=", "matriculación nueva, rol estudiante",
		"enlace de la plataforma <code>rl-1</code> en Biology 101", "Llegó a", "Validación", "<th scope=\"row\">firma</th>",
		`<td class="status">correcto</td>`, "llegada (recurso, cuenta, matriculación)", "Servicios ofrecidos",
		"Servicios de tareas y calificaciones (AGS): ámbitos ", "Servicio de nombres y roles (NRPS): ", "Qué llegó", "Decodificado del id_token",
		"Qué espera el registro", "Cabecera"},
		[]string{"What ltipub did", "new enrolment", "Services offered", "Assignment and Grade Services: scopes", "What came in", ">passed<"})
	spec := learnerSpec(t)
	spec.AGS, spec.NRPS, spec.User = nil, false, &ltitest.User{Sub: "student-9"}
	if _, err := p.Launch(context.Background(), newLaunchClient(), spec); err != nil {
		t.Fatal(err)
	}
	inspect(t, []string{"Advertencias", "Este acceso no trae servicio de calificaciones", "Este acceso no trae servicio de lista de participantes",
		"La plataforma no compartió el nombre ni el correo"},
		[]string{"No grade service", "No roster service", "did not share"})
}

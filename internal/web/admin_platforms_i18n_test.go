package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// platformCatalog reads the English and Spanish platform catalogs: message id → text ("other" form of a plural).
func platformCatalog(t *testing.T, tag string) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../i18n/locales/platforms." + tag + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for id, v := range raw {
		var s string
		if json.Unmarshal(v, &s) != nil {
			var forms map[string]string
			if err := json.Unmarshal(v, &forms); err != nil {
				t.Fatal(err)
			}
			s = forms["other"]
		}
		out[id] = s
	}
	return out
}

var (
	tagRe         = regexp.MustCompile(`<[^>]*>`)
	placeholderRe = regexp.MustCompile(`\{\{[^}]*\}\}`)
	spaceRe       = regexp.MustCompile(`\s+`)
)

// pageText is what a person reads on a page: its text without tags, entities decoded, spaces collapsed. Left out:
// the platform setup guides (the documentation of docs/platforms, written in English), and the mistakes beside a
// form's fields, which are the registration rules' words (translated by their codes in the domain's catalogs).
func pageText(body string) string {
	body = regexp.MustCompile(`(?s)<script.*?</script>|<div class="guide">.*?</div>\s*</details>|<p class="error" id="[a-z_]+-error">.*?</p>`).
		ReplaceAllString(body, " ")
	return spaceRe.ReplaceAllString(html.UnescapeString(tagRe.ReplaceAllString(body, " ")), " ")
}

// englishLeft lists the English sentences of the platform catalog that a page still shows: each message's pieces
// between its placeholders and tags, those of three words or more that the Spanish catalog does not share.
func englishLeft(t *testing.T, body string) []string {
	t.Helper()
	en, es := platformCatalog(t, "en"), platformCatalog(t, "es")
	text := pageText(body)
	var left []string
	for id, msg := range en {
		if es[id] == msg {
			continue
		}
		for _, piece := range placeholderRe.Split(tagRe.ReplaceAllString(msg, " "), -1) {
			piece = strings.TrimSpace(spaceRe.ReplaceAllString(piece, " "))
			if len(strings.Fields(piece)) < 3 || strings.Contains(es[id], piece) {
				continue
			}
			if strings.Contains(text, piece) {
				left = append(left, id+": "+piece)
			}
		}
	}
	return left
}

// TestPlatformPagesInSpanish: an admin whose account language is Spanish (and whose browser asks for English)
// registers a platform, makes mistakes in its forms, adds a deployment, checks the registration and opens the
// delete confirmation: every page, message and check result is in Spanish, with Moodle's Spanish words, and no
// sentence of the English catalog remains. An English admin sees the same pages in English.
func TestPlatformPagesInSpanish(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	inst.EnsureUser(t, account.NewUser{Username: "ana", FullName: "Ana Admin", Password: "ana-password-1", IsAdmin: true, Language: "es"})
	c := inst.Client(t)
	c.Transport = headerTransport{http.Header{"Accept-Language": {"en-US,en;q=0.9"}}}
	inst.Login(t, c, "ana", "ana-password-1")

	check := func(t *testing.T, what string, res apptest.Response, status int, want []string) {
		t.Helper()
		if res.StatusCode != status || !strings.Contains(res.Body, `<html lang="es">`) {
			t.Fatalf("%s: status %d, want %d and a page in Spanish: %s", what, res.StatusCode, status, res.Body)
		}
		for _, s := range want {
			if !strings.Contains(res.Body, s) {
				t.Errorf("%s lacks %q", what, s)
			}
		}
		for _, s := range englishLeft(t, res.Body) {
			t.Errorf("%s still says in English %s", what, s)
		}
		if t.Failed() && testing.Verbose() {
			t.Logf("%s: %s", what, pageText(res.Body))
		}
	}
	get := func(path string) apptest.Response { return inst.Get(t, c, path) }

	// The new platform form, sent without a name.
	check(t, "new platform form", get("/admin/platforms/new"), http.StatusOK,
		[]string{"Registrar una plataforma", ">Administración del sitio<", ">Plataformas<", `placeholder="Moodle (producción)"`, ">Continuar<"})
	check(t, "new platform form with an error", inst.PostForm(t, c, "/admin/platforms", url.Values{"name": {" "}}), http.StatusUnprocessableEntity,
		[]string{`aria-invalid="true" aria-describedby="name-error"`, `id="name-error"`})

	r := inst.PostForm(t, c, "/admin/platforms", url.Values{"name": {"Moodle del campus"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", r.StatusCode, r.Body)
	}
	base := r.Header.Get("Location")
	id, err := strconv.ParseInt(strings.TrimPrefix(base, "/admin/platforms/"), 10, 64)
	if err != nil {
		t.Fatalf("create redirected to %q", base)
	}
	details := get(base)
	check(t, "tool details", details, http.StatusOK, []string{
		"Se ha creado el registro «Moodle del campus».", "Detalles de la herramienta", "URL de registro (registro dinámico)",
		"URL de inicio de sesión", "URL JWKS (conjunto de claves públicas)", `aria-label="Copiar URL de la herramienta"`,
		`data-copied="Copiado"`, `data-copied-status="URL de inicio de sesión copiada"`, ">Copiar<", "Estado:", ">Pendiente<",
		"Despliegues (0)", "Lanzamientos sin cookies de terceros", "Zona de peligro", "Eliminar este registro…", "Comprobar este registro"})

	// The registration URL opened by hand, and a made-up one: the platform's dialog answers in the browser's language
	// (the refusals' own words are the domain's, translated by their codes).
	m := regURLRe.FindStringSubmatch(details.Body)
	if m == nil {
		t.Fatalf("no registration URL on the tool details page")
	}
	// The dialog has no session of ltipub's (it is the platform's page): the browser's language speaks.
	dialog := inst.Client(t)
	dialog.Transport = headerTransport{http.Header{"Accept-Language": {"es-419"}}}
	regURL, _ := url.Parse(html.UnescapeString(m[1]))
	check(t, "registration URL without a configuration", inst.Get(t, dialog, regURL.Path), http.StatusBadRequest, []string{"Qué hacer:"})
	check(t, "unknown registration URL", inst.Get(t, dialog, "/lti/register/not-a-token"), http.StatusNotFound, []string{"Qué hacer:"})

	// Platform details: every field wrong. (The mistakes' own words are the domain's, translated by their codes.)
	check(t, "platform details form", get(base+"/platform"), http.StatusOK, []string{"Detalles de la plataforma", "ID de la plataforma (issuer)",
		"ID de cliente", "URL del conjunto de claves públicas", "URL del token de acceso", "URL de solicitud de autenticación", "Ver detalles de configuración"})
	check(t, "platform details with errors", inst.PostForm(t, c, base+"/platform", url.Values{"issuer": {"lms.example.edu"},
		"jwks_url": {"ftp://lms.example.edu/certs"}, "token_url": {"https://lms.example.edu/token#x"}, "auth_url": {""}, "client_id": {"a b"}}),
		http.StatusUnprocessableEntity, []string{"Corrija los campos marcados a continuación.", `id="issuer-error"`, `id="jwks_url-error"`,
			`id="token_url-error"`, `id="auth_url-error"`, `id="client_id-error"`, "Audiencia del token (opcional)"})

	// Deployments: one without an ID, then one added and listed.
	check(t, "deployment without an ID", inst.PostForm(t, c, base+"/deployments", url.Values{"deployment_id": {""}}), http.StatusUnprocessableEntity,
		[]string{"Añadir un despliegue", `id="deployment_id-error"`, `placeholder="Todo el sitio"`})
	if r := inst.PostForm(t, c, base+"/deployments", url.Values{"deployment_id": {"dep-1"}, "name": {"Todo el sitio"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add deployment: %d %s", r.StatusCode, r.Body)
	}
	check(t, "deployment listed twice", inst.PostForm(t, c, base+"/deployments", url.Values{"deployment_id": {"dep-1"}}), http.StatusUnprocessableEntity,
		[]string{`id="deployment_id-error"`, ">Nombre (opcional)<"})
	check(t, "deployments", get(base+"/deployments"), http.StatusOK, []string{"ID de despliegue", ">Quitar<", "Despliegues (1)"})

	check(t, "notices", get(base+"/notices"), http.StatusOK, []string{"Notificaciones de la plataforma", "Platform Notification Service"})
	check(t, "list", get("/admin/platforms?q=campus"), http.StatusOK, []string{"Plataformas", "Nombre, emisor (issuer) o ID de cliente",
		"Activos y pendientes", ">Pendiente<", "Moodle del campus", "Detalles de la plataforma", ">Eliminar<", "Despliegues (1)"})

	// A registration the reference platform knows, checked: flash, step names, outcomes and what was found.
	reg := inst.Platform(t, p, "es-client")
	regBase := "/admin/platforms/" + strconv.FormatInt(reg.ID, 10)
	check(t, "check before any", get(regBase+"/check"), http.StatusOK, []string{"Este registro todavía no se ha comprobado."})
	if r := inst.PostForm(t, c, regBase+"/check", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("check: %d %s", r.StatusCode, r.Body)
	}
	check(t, "check results", get(regBase+"/check"), http.StatusOK, []string{"Algunas comprobaciones han fallado: cada una indica qué corregir.",
		"Detalles de la plataforma y despliegues", "Conjunto de claves de la plataforma: accesible", "Token de servicio: puntuaciones (calificaciones: envío)",
		"Las URL de ltipub usan https", ">superado<", ">fallido<", "Claves utilizables:", "El endpoint de token aceptó la aserción firmada de ltipub",
		"Sirva ltipub por https", "por ana", ">Activo<"})

	// After a launch, removing the registration's last deployment asks for confirmation, in Spanish.
	spec := learnerSpec(t)
	spec.ClientID, spec.DeploymentID = "es-client", reg.Deployments[0].DeploymentID
	if res, err := p.Launch(context.Background(), newLaunchClient(), spec); err != nil || res.Response.StatusCode != http.StatusOK {
		t.Fatalf("launch: %v %+v", err, res)
	}
	check(t, "removing the last deployment", inst.PostForm(t, c, regBase+"/deployments/remove", url.Values{"deployment_id": {spec.DeploymentID}}),
		http.StatusConflict, []string{"¿Quitar el último despliegue?", "que tiene 1 lanzamiento aceptado en el registro de lanzamientos",
			"Quitar el despliegue " + spec.DeploymentID, ">Conservarlo<"})

	check(t, "delete confirmation", get(regBase+"/delete"), http.StatusOK, []string{"¿Eliminar " + reg.Name + "?", "1 despliegue</strong>: se elimina con él.",
		"1 línea del registro de lanzamientos", "1 lanzamiento aceptado", "Inicios de sesión en curso", ">Eliminar el registro<", ">Cancelar<"})
	if r := inst.PostForm(t, c, "/admin/platforms/"+strconv.FormatInt(id, 10)+"/delete", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
	}
	check(t, "list after deleting", get("/admin/platforms"), http.StatusOK, []string{"Se ha eliminado el registro «Moodle del campus»."})
	missing := get("/admin/platforms/99999")
	if missing.StatusCode != http.StatusNotFound || !strings.Contains(missing.Body, "No existe ese registro de plataforma") {
		t.Errorf("no such registration: %d %s", missing.StatusCode, missing.Body)
	}

	// Dynamic registration: the platform's dialog says it is done in the browser's language, and the registration's
	// page then explains, in Spanish, what the platform may still hold back.
	dynID, dynURL := createPlatform(t, inst, c, "Dinámica")
	start, err := p.StartRegistration(dynURL)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "registration done", inst.Get(t, dialog, strings.TrimPrefix(start, inst.URL)), http.StatusOK,
		[]string{"Listo: ltipub está registrado", "ha registrado ltipub como <strong>Dinámica</strong>, con el ID de cliente", "El registro está Activo.",
			"Puede cerrar esta ventana"})
	check(t, "dynamically registered", get("/admin/platforms/"+strconv.FormatInt(dynID, 10)+"/platform"), http.StatusOK,
		[]string{"Activo aquí significa que ltipub está listo", "Rellenados por el registro dinámico desde"})

	// The same pages for an English admin keep their English words.
	en := adminClient(t, inst)
	for path, want := range map[string][]string{
		"/admin/platforms":    {"Each registration connects ltipub to one platform", ">Register a platform<", ">Pending<", ">Site administration<"},
		regBase:               {"Initiate login URL", `aria-label="Copy Tool URL"`, `data-copied="Copied"`, "Deployments (1)", "Danger zone"},
		regBase + "/check":    {"Some checks failed", "Platform details and deployments", ">passed<", "Usable keys:", "by ana"},
		regBase + "/delete":   {"1 deployment(s)</strong>: deleted with it.", "launch log line(s)"},
		regBase + "/platform": {"Platform ID (issuer)", "Public keyset URL"},
	} {
		page := inst.Get(t, en, path)
		if !strings.Contains(page.Body, `<html lang="en">`) {
			t.Errorf("%s for an English admin: not English", path)
		}
		for _, s := range want {
			if !strings.Contains(page.Body, s) {
				t.Errorf("%s for an English admin lacks %q", path, s)
			}
		}
	}
}

// TestGradeDeliveryAndEndpointsInSpanish: the grade delivery page of a browser that asks for Spanish shows a sent,
// a failed and a pending grade in Spanish, and so does its Retry; the LTI endpoints opened in a browser say in
// Spanish what they are for.
func TestGradeDeliveryAndEndpointsInSpanish(t *testing.T) {
	t.Parallel()
	e := newDeliveryEnv(t)
	ids := e.learners(t, 3)
	e.grade(t, ids[0], 7)
	e.sync(t, 0)
	e.grade(t, ids[1], 5)
	e.p.InjectFault(ltitest.Fault{Service: ltitest.ServiceAGS, Kind: ltitest.FaultStatus, Status: 400,
		Body: `{"error":"invalid_request","error_description":"User is not enrolled in this course."}`})
	e.sync(t, ids[1])
	e.grade(t, ids[2], 9)

	c := e.inst.Client(t)
	c.Transport = headerTransport{http.Header{"Accept-Language": {"es-ES,es;q=0.9"}}}
	e.inst.Login(t, c, "admin", apptest.AdminPassword)
	body := e.page(t, c, "")
	for _, want := range []string{`<html lang="es">`, "Envío de calificaciones: ", "Publicado como herramientas LTI", "Reintentar todas las fallidas",
		`aria-label="Buscar estudiantes"`, "Solo fallidas", "1–3 de 3", ">Estudiante<", ">enviada<", ">fallida<", ">pendiente<",
		"enviada a " + e.regName + " el ", "fallida el ", "pendiente desde el ", "próximo intento: "} {
		if !strings.Contains(body, want) {
			t.Errorf("delivery page lacks %q", want)
		}
	}
	for _, s := range englishLeft(t, body) {
		t.Errorf("delivery page still says in English %s", s)
	}
	r := e.inst.PostForm(t, c, fmt.Sprintf("/courses/%d/published/%d/grades/retry", e.res.CourseID, e.res.ID), url.Values{"user_id": {strconv.FormatInt(ids[1], 10)}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry: %d %s", r.StatusCode, r.Body)
	}
	if body := e.page(t, c, "?failed=1"); !strings.Contains(body, "Se está volviendo a enviar la calificación de este estudiante") {
		t.Errorf("retry flash not in Spanish")
	}
	if r := e.inst.PostForm(t, c, fmt.Sprintf("/courses/%d/published/%d/grades/retry", e.res.CourseID, e.res.ID), url.Values{"user_id": {"x"}}); r.StatusCode != http.StatusBadRequest ||
		!strings.Contains(r.Body, "No es un estudiante") || !strings.Contains(r.Body, `&#34;x&#34; no es un id de usuario.`) {
		t.Errorf("a bad user id: %d %s", r.StatusCode, r.Body)
	}

	anon := e.inst.Client(t)
	anon.Transport = headerTransport{http.Header{"Accept-Language": {"es"}}}
	for path, want := range map[string]string{"/lti/launch": "URL de lanzamiento LTI 1.3 (URL de la herramienta)",
		"/lti/deeplink": "URL de Deep Linking LTI 1.3 (selección de contenido)"} {
		page := e.inst.Get(t, anon, path)
		if page.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(page.Body, want) || !strings.Contains(page.Body, "Esta dirección solo acepta solicitudes POST.") {
			t.Errorf("GET %s in Spanish: %d %s", path, page.StatusCode, page.Body)
		}
		for _, s := range englishLeft(t, page.Body) {
			t.Errorf("GET %s still says in English %s", path, s)
		}
	}
}
